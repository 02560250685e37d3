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
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from .. import (
    CancelJob,
    CancelOutcome,
    CancelReport,
    CancelResult,
    CertCentralClient,
    OrderUpdate,
    ValidationError,
    cancel_orders,
    poll_orders,
)
from ..bulk import NOT_FOUND_STATUS
from ._files import read_ids, write_resume_file
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
    poll_summary,
    run_command,
    say,
)

__all__ = ["CancelCommand", "JobCommand", "PollCommand", "make_client", "run_job_command"]

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


class JobCommand(abc.ABC, Generic[Item]):
    """What one job command adds to :func:`run_job`: the job, and what its items mean."""

    name: str  # the command's name, in its messages

    def __init__(self, args: argparse.Namespace, ids: list[int]) -> None:
        self.args = args
        self.ids = ids

    @abc.abstractmethod
    def start(self, client: CertCentralClient) -> AsyncIterator[Item]:
        """The job's items as they come (a ``ValidationError`` here is bad usage)."""

    @property
    @abc.abstractmethod
    def total(self) -> int:
        """How many orders the progress bar counts to."""

    @abc.abstractmethod
    def take(self, item: Item) -> tuple[Mapping[str, Any], bool]:
        """The JSON line for ``item``, and whether an order got to the end with it."""

    @abc.abstractmethod
    def counts(self) -> Mapping[str, int]:
        """The counts beside the progress bar, the one to keep in sight first."""

    def end(self) -> Iterable[Mapping[str, Any]]:
        """Called once the job is over: the JSON lines of the orders it never gave."""
        return ()

    @abc.abstractmethod
    def unfinished(self) -> bool:
        """Whether some order is not done (with a deadline: the deadline ended it)."""

    @abc.abstractmethod
    def summary(self, *, elapsed: float, head: str) -> list[str]:
        """The summary lines for stderr."""

    @abc.abstractmethod
    def complete(self) -> bool:
        """Whether every order ended well (exit status 0)."""

    @abc.abstractmethod
    def left(self) -> Sequence[int]:
        """The ids for the resume file."""


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
                if progress.active:  # counting costs a pass over the orders, for poll
                    progress.show(job.counts())
                if finished:
                    progress.advance()

        try:
            await interrupts.run(consume())
        except Exception as exc:  # reported below; every id is still written out
            failure = exc
        progress.close()
        for line in job.end():  # what was cut short: in flight or never started
            output.emit(line)
        if failure is not None:
            say(f"{PROG} {job.name}: error: {type(failure).__name__}: {failure}")
        head = interrupts.describe()
        if head == "done" and args.deadline is not None and job.unfinished():
            head = f"deadline of {args.deadline:g} s reached"
        for text in job.summary(elapsed=time.monotonic() - started, head=head):
            say(text)
        status = EXIT_OK if job.complete() and failure is None else EXIT_INCOMPLETE
        if args.resume_file:
            try:
                write_resume_file(args.resume_file, job.left())
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

    def __init__(self, args: argparse.Namespace, ids: list[int]) -> None:
        super().__init__(args, ids)
        self._job: CancelJob | None = None
        self._report: CancelReport | None = None
        self._printed: set[int] = set()
        self._tally: Counter[CancelOutcome] = Counter()

    @property
    def job(self) -> CancelJob:
        assert self._job is not None, "start() first"
        return self._job

    @property
    def report(self) -> CancelReport:
        """The report as the job left it (taken once it is over)."""
        if self._report is None:
            self._report = self.job.report
        return self._report

    def start(self, client: CertCentralClient) -> AsyncIterator[CancelResult]:
        args = self.args
        self._job = cancel_orders(
            client, self.ids, note=args.note, concurrency=args.concurrency, deadline=args.deadline
        )
        return aiter(self._job)

    @property
    def total(self) -> int:
        return len(self.job.report.results)

    def take(self, item: CancelResult) -> tuple[Mapping[str, Any], bool]:
        self._printed.add(item.order_id)
        self._tally[item.outcome] += 1
        return item.to_json(), True

    # failures first: on a narrow terminal they are the count to keep in sight
    _SHOWN_ORDER = sorted(CancelOutcome, key=lambda o: o is not CancelOutcome.FAILED)

    def counts(self) -> Mapping[str, int]:
        return {outcome.value: self._tally[outcome] for outcome in self._SHOWN_ORDER}

    def end(self) -> Iterable[Mapping[str, Any]]:
        return [r.to_json() for r in self.report.results if r.order_id not in self._printed]

    def unfinished(self) -> bool:
        return bool(self.report.counts[CancelOutcome.NOT_ATTEMPTED])

    def summary(self, *, elapsed: float, head: str) -> list[str]:
        return cancel_summary(
            self.report, elapsed=elapsed, head=head, resume_file=self.args.resume_file
        )

    def complete(self) -> bool:
        return self.report.complete

    def left(self) -> Sequence[int]:
        return self.report.resume_ids()


# --------------------------------------------------------------------------- poll


class PollCommand(JobCommand[OrderUpdate]):
    """``poll``: one line per status seen; an order is done in an --until status or
    not found."""

    name = "poll"

    def __init__(self, args: argparse.Namespace, ids: list[int]) -> None:
        super().__init__(args, ids)
        self._until: frozenset[str] = args.until
        self._statuses: dict[int, str | None] = dict.fromkeys(ids)

    def _done(self, status: str | None) -> bool:
        return status is not None and (status in self._until or status == NOT_FOUND_STATUS)

    def start(self, client: CertCentralClient) -> AsyncIterator[OrderUpdate]:
        return poll_orders(
            client,
            list(self._statuses),
            until=self._until,
            interval=self.args.interval,
            deadline=self.args.deadline,
        )

    @property
    def total(self) -> int:
        return len(self._statuses)

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

    def unfinished(self) -> bool:
        return not all(map(self._done, self._statuses.values()))

    def summary(self, *, elapsed: float, head: str) -> list[str]:
        return poll_summary(
            self._statuses,
            self._until,
            elapsed=elapsed,
            head=head,
            resume_file=self.args.resume_file,
        )

    def complete(self) -> bool:
        return all(s is not None and s in self._until for s in self._statuses.values())

    def left(self) -> Sequence[int]:
        return [i for i, s in self._statuses.items() if not self._done(s)]


_JOBS: dict[str, type[JobCommand[Any]]] = {"cancel": CancelCommand, "poll": PollCommand}


def run_job_command(args: argparse.Namespace) -> int:
    """``cancel`` or ``poll``: the key, then the ids (nothing is sent when either is
    wrong), then the job."""
    api_key = api_key_from_env()
    job = _JOBS[args.command](args, read_ids(args.ids_file))
    return run_command(lambda interrupts: run_job(job, api_key, interrupts))
