"""A job command: what ``cancel``, ``poll``, ``reissue`` and ``download`` each add to the
one way a bulk job runs from the shell (:func:`._run_job.run_job`).

A command's module subclasses :class:`JobCommand` (how its job starts, what a line says,
what is left to do, how it ended) and gives it to :func:`._run_job.run_job_command` from
its ``run``. This module imports neither the client nor the jobs, so that the command
modules, which the parser imports for their arguments, can build on it.
"""

from __future__ import annotations

import abc
import argparse
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ._terminal import PROG, counts_text, plural

if TYPE_CHECKING:
    from .. import CertCentralClient

__all__ = ["Ending", "JobCommand", "job_summary", "summary_line"]

Item = TypeVar("Item")


@attrs.frozen
class Ending:
    """How a job command's run ended: what the summary, exit status and resume file say."""

    summary: Callable[[float, str], list[str]]  # (elapsed, head) -> the lines for stderr
    complete: bool  # every order ended well: exit status 0
    left: Sequence[int]  # the ids for the resume file
    unfinished: bool  # some order never got its turn (with a deadline: the deadline's doing)
    lines: Sequence[Mapping[str, Any]] = ()  # JSON lines of the orders the job never gave
    resume_text: str | None = None  # the resume file's text, when it is not the ids in `left`
    stopped: bool = False  # an error that would fail every order stopped the job early


class JobCommand(abc.ABC, Generic[Item]):
    """What a job command adds to :func:`._run_job.run_job`: the job, and what its items
    mean."""

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


def summary_line(name: str, head: str, elapsed: float, total: int, what: str) -> str:
    """The first line of a job's summary: how it ended (``head``), after how long, and
    ``what`` became of its ``total`` orders."""
    after = "in" if head == "done" else "after"
    return f"{PROG} {name}: {head} {after} {elapsed:.1f} s: {plural(total, 'order')}: {what}"


def job_summary(
    name: str,
    *,
    total: int,
    counts: Mapping[str, int],
    elapsed: float,
    head: str,
    stopped_by: BaseException | None,
) -> list[str]:
    """The summary of a job with an outcome per order: how it ended, the counts, and
    the error that stopped it early, if one did."""
    lines = [summary_line(name, head, elapsed, total, counts_text(counts))]
    if stopped_by is not None:
        lines.append(f"{PROG} {name}: stopped early, every order would fail: {stopped_by}")
    return lines
