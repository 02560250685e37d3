"""The job commands, ``cancel`` and ``poll``: one way to run a bulk job from the shell.

:func:`run_job_command` reads the key and the ids, runs the job, writes one JSON line per
order on stdout (and the progress bar on a terminal), then the summary, the resume file
and the exit status. What differs between the jobs (how the job starts, what a line
says, what is left to do) is a :class:`JobCommand`: :class:`CancelCommand` and
:class:`PollCommand`.
"""

from __future__ import annotations

import abc
import argparse
import os
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from .. import (
    CancelOutcome,
    CancelResult,
    CertCentralClient,
    OrderUpdate,
    ValidationError,
    cancel_orders,
    poll_orders,
)
from ..bulk import NOT_FOUND_STATUS
from ._budget import budget_summary, shared_budget
from ._files import read_ids, write_file_atomically, write_resume_file
from ._terminal import (
    API_KEY_ENV,
    EXIT_INCOMPLETE,
    EXIT_OK,
    PROG,
    Interrupts,
    JsonLines,
    Progress,
    UsageError,
    cancel_summary,
    pace_summary,
    poll_summary,
    run_command,
    say,
)

__all__ = ["CancelCommand", "Ending", "JobCommand", "PollCommand", "run_job", "run_job_command"]

Item = TypeVar("Item")


def api_key_from_env() -> str:
    """The key from ``DIGICERT_API_KEY``; a :class:`UsageError` when it is unset or blank."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise UsageError(
            f"{API_KEY_ENV} is not set: export your CertCentral API key in it"
            " (the key is taken from the environment only)"
        )
    return key


def make_client(args: argparse.Namespace, api_key: str) -> CertCentralClient:
    """The client the options ask for; a bad ``--base-url`` is a :class:`UsageError`."""
    try:
        client = CertCentralClient(
            api_key=api_key,
            region=args.region,
            base_url=args.base_url,
            trust_env=args.trust_env,
            rate_limit=shared_budget(args),
        )
    except ValidationError as exc:
        raise UsageError(str(exc)) from None
    if not args.trust_env:
        _warn_unused_proxy(client.api_root)
    return client


def _warn_unused_proxy(api_root: str) -> None:
    """Say so when the environment names a proxy for ``api_root`` that will not be used."""
    parts = urllib.parse.urlsplit(api_root)
    proxies = urllib.request.getproxies()
    if parts.scheme in proxies and not urllib.request.proxy_bypass(parts.hostname or ""):
        variable = f"{parts.scheme.upper()}_PROXY"
        say(f"{PROG}: {variable} is set but not used; add --trust-env to go through it")


# --------------------------------------------------------------------------- one job


@attrs.frozen
class Ending:
    """How a job command's run ended: what the summary, exit status and resume file say."""

    summary: Callable[[float, str], list[str]]  # (elapsed, head) -> the lines for stderr
    complete: bool  # every order ended well: exit status 0
    left: Sequence[int]  # the ids for the resume file
    unfinished: bool  # some order never got its turn (with a deadline: the deadline's doing)
    lines: Sequence[Mapping[str, Any]] = ()  # JSON lines of the orders the job never gave
    resume_text: str | None = None  # the resume file's text, when it is not the ids in `left`


class JobCommand(abc.ABC, Generic[Item]):
    """What a job command adds to :func:`run_job`: the job, and what its items mean."""

    name: str  # the command's name, in its messages
    total: int  # the orders the progress bar counts to (set by start() at the latest)

    def __init__(self, args: argparse.Namespace, ids: list[int]) -> None:
        self.args = args
        self.ids = ids

    @abc.abstractmethod
    def start(self, client: CertCentralClient) -> AsyncIterator[Item]:
        """The job's items as they come (a ``ValidationError`` here is bad usage)."""

    @abc.abstractmethod
    def take(self, item: Item) -> tuple[Mapping[str, Any], bool]:
        """The JSON line for ``item``, and whether an order got to its end with it."""

    @abc.abstractmethod
    def counts(self) -> Mapping[str, int]:
        """The counts beside the progress bar, the one to keep in sight first."""

    @abc.abstractmethod
    def end(self) -> Ending:
        """How the job ended; called once it is over (done, cut short or failed)."""


async def run_job(job: JobCommand[Any], api_key: str, interrupts: Interrupts) -> int:
    """Run ``job`` to its end (or Ctrl-C, SIGTERM, the deadline): every order gets its
    JSON line, then the summary and the resume file; returns the exit status."""
    args = job.args
    client = make_client(args, api_key)
    try:
        try:
            items = job.start(client)
        except ValidationError as exc:
            raise UsageError(str(exc)) from None
        progress = Progress(
            total=job.total, description=job.name, unit="order", enabled=args.progress
        )
        output = JsonLines(progress, interrupts.stop)
        started = time.monotonic()
        failure: BaseException | None = None

        async def consume() -> None:
            async for item in items:
                line, finished = job.take(item)
                output.emit(line)
                if progress.active:  # poll counts by a pass over every order
                    progress.show(job.counts())
                if finished:
                    progress.advance()

        try:
            await interrupts.run(consume())
        except Exception as exc:  # reported below; every id is still written out
            failure = exc
        progress.close()
        ending = job.end()
        for line in ending.lines:  # what was cut short: in flight or never started
            output.emit(line)
        if failure is not None:
            say(f"{PROG} {job.name}: error: {type(failure).__name__}: {failure}")
        head = interrupts.describe()
        if head == "done" and args.deadline is not None and ending.unfinished:
            head = f"deadline of {args.deadline:g} s reached"
        for text in ending.summary(time.monotonic() - started, head):
            say(text)
        for text in [*pace_summary(client.pacer, job.name), *budget_summary(client, job.name)]:
            say(text)
        status = EXIT_OK if ending.complete and failure is None else EXIT_INCOMPLETE
        if args.resume_file:
            try:
                if ending.resume_text is not None:
                    write_file_atomically(args.resume_file, ending.resume_text)
                else:
                    write_resume_file(args.resume_file, ending.left)
            except OSError as exc:
                say(f"{PROG} {job.name}: cannot write {args.resume_file}: {exc}")
                status = EXIT_INCOMPLETE
        return interrupts.exit_status if interrupts.interrupted else status
    finally:
        await client.close()


# --------------------------------------------------------------------------- cancel


class CancelCommand(JobCommand[CancelResult]):
    """``cancel``: one line per id, each outcome once; the ids cut short come at the end."""

    name = "cancel"
    # failures first: on a narrow terminal they are the count to keep in sight
    _SHOWN = sorted(CancelOutcome, key=lambda o: o is not CancelOutcome.FAILED)

    def __init__(self, args: argparse.Namespace, ids: list[int]) -> None:
        super().__init__(args, ids)
        self._printed: set[int] = set()
        self._tally: Counter[CancelOutcome] = Counter()

    def start(self, client: CertCentralClient) -> AsyncIterator[CancelResult]:
        args = self.args
        self._job = cancel_orders(
            client, self.ids, note=args.note, concurrency=args.concurrency, deadline=args.deadline
        )
        self.total = len(self._job.report.results)
        return aiter(self._job)

    def take(self, item: CancelResult) -> tuple[Mapping[str, Any], bool]:
        self._printed.add(item.order_id)
        self._tally[item.outcome] += 1
        return item.to_json(), True

    def counts(self) -> Mapping[str, int]:
        return {outcome.value: self._tally[outcome] for outcome in self._SHOWN}

    def end(self) -> Ending:
        report = self._job.report
        return Ending(
            lambda elapsed, head: cancel_summary(
                report, elapsed=elapsed, head=head, resume_file=self.args.resume_file
            ),
            complete=report.complete,
            left=report.resume_ids(),
            unfinished=bool(report.counts[CancelOutcome.NOT_ATTEMPTED]),
            lines=[r.to_json() for r in report.results if r.order_id not in self._printed],
        )


# --------------------------------------------------------------------------- poll


class PollCommand(JobCommand[OrderUpdate]):
    """``poll``: one line per status seen; an order is done in an --until status or
    not found."""

    name = "poll"

    def __init__(self, args: argparse.Namespace, ids: list[int]) -> None:
        super().__init__(args, ids)
        self._until: frozenset[str] = args.until
        self._statuses: dict[int, str | None] = dict.fromkeys(ids)
        self.total = len(self._statuses)

    def _done(self, status: str | None) -> bool:
        return status is not None and (status in self._until or status == NOT_FOUND_STATUS)

    def start(self, client: CertCentralClient) -> AsyncIterator[OrderUpdate]:
        args = self.args
        return poll_orders(
            client,
            list(self._statuses),
            until=self._until,
            interval=args.interval,
            deadline=args.deadline,
        )

    def take(self, item: OrderUpdate) -> tuple[Mapping[str, Any], bool]:
        was_done = self._done(self._statuses[item.order_id])
        self._statuses[item.order_id] = item.status
        line = {
            "order_id": item.order_id,
            "status": item.status,
            "previous_status": item.previous_status,
        }
        return line, self._done(item.status) and not was_done

    def counts(self) -> Mapping[str, int]:
        return Counter(s for s in self._statuses.values() if s is not None)

    def end(self) -> Ending:
        statuses, until = self._statuses, self._until
        left = [i for i, s in statuses.items() if not self._done(s)]
        return Ending(
            lambda elapsed, head: poll_summary(
                statuses, until, elapsed=elapsed, head=head, resume_file=self.args.resume_file
            ),
            complete=all(s is not None and s in until for s in statuses.values()),
            left=left,
            unfinished=bool(left),
        )


_JOBS: dict[str, type[JobCommand[Any]]] = {"cancel": CancelCommand, "poll": PollCommand}


def run_job_command(args: argparse.Namespace) -> int:
    """``cancel`` or ``poll``: the key, then the ids (nothing is sent when either is
    wrong), then the job."""
    api_key = api_key_from_env()
    job = _JOBS[args.command](args, read_ids(args.ids_file))
    return run_command(lambda interrupts: run_job(job, api_key, interrupts))
