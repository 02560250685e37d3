"""Running a job command (:class:`._job.JobCommand`) from the shell: the key from the
environment, the client the options ask for, then the job, with one JSON line per order
on stdout (and the progress bar on a terminal), then the summary, the resume file and
the exit status."""

from __future__ import annotations

import argparse
import os
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from .. import CertCentralClient, ValidationError
from .._escape import visible
from ._atomic_write import write_file_atomically, write_resume_file
from ._budget import budget_summary, shared_budget
from ._job import Ending, JobCommand
from ._signals import Interrupts, run_command
from ._terminal import (
    API_KEY_ENV,
    EXIT_INCOMPLETE,
    EXIT_OK,
    PROG,
    JsonLines,
    Progress,
    UsageError,
    pace_summary,
    say,
)

__all__ = ["api_key_from_env", "make_client", "run_job", "run_job_command"]


def run_job_command(make_job: Callable[[], JobCommand[Any]]) -> int:
    """A job command's run: the key, then ``make_job()``, which reads the command's input
    (nothing is sent when either is wrong), then the job; returns the exit status."""
    api_key = api_key_from_env()
    job = make_job()
    return run_command(lambda interrupts: run_job(job, api_key, interrupts))


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
            # not only the library's exceptions (whose messages are escaped already)
            say(f"{PROG} {job.name}: error: {type(failure).__name__}: {visible(str(failure))}")
        head = _head(interrupts.describe(), failure, ending, args.deadline)
        for text in ending.summary(time.monotonic() - started, head):
            say(text)
        for text in [*pace_summary(client.pacer, job.name), *budget_summary(client, job.name)]:
            say(text)
        written = _write_resume_file(job, ending)
        status = EXIT_OK if ending.complete and failure is None and written else EXIT_INCOMPLETE
        return interrupts.exit_status if interrupts.interrupted else status
    finally:
        await client.close()


def _write_resume_file(job: JobCommand[Any], ending: Ending) -> bool:
    """Write what is left to ``--resume-file`` when one is asked for; False when it
    cannot be written (the exit status is 1 then)."""
    path = job.args.resume_file
    if not path:
        return True
    try:
        if ending.resume_text is not None:
            write_file_atomically(path, ending.resume_text)
        else:
            write_resume_file(path, ending.left)
    except OSError as exc:
        say(f"{PROG} {job.name}: cannot write {path}: {exc}")
        return False
    return True


def _head(how: str, failure: BaseException | None, ending: Ending, deadline: float | None) -> str:
    """How the job ended, for the summary's first line: the signal or closed stdout that
    cut it short, else the error that ended it, else the deadline when orders were left."""
    if how != "done":
        return how
    if failure is not None:
        return "stopped by an error"
    if ending.stopped:
        return "stopped early"
    if deadline is not None and ending.unfinished:
        return f"deadline of {deadline:g} s reached"
    return how
