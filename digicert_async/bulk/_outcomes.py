"""What the jobs that account for an outcome per order share: the counts, the report's
questions (which ids had an outcome, which a later run should be given), the job's
faces (awaited for the report, iterated for the results), and reading an order back to
settle an answer that did not say what happened."""

from __future__ import annotations

import asyncio
import enum
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from .._errors import AuthenticationError, DigiCertError, NotFoundError, PermissionDeniedError
from ._common import logger, stops_a_job
from ._runner import JobRunner

__all__ = [
    "OutcomeCounts",
    "OutcomeReport",
    "ReadBackFailed",
    "ReportingJob",
    "describe_counts",
    "read_back",
]

Outcome = TypeVar("Outcome", bound=enum.Enum)
Outcome_co = TypeVar("Outcome_co", bound=enum.Enum, covariant=True)
T = TypeVar("T")
Result = TypeVar("Result")
Report = TypeVar("Report")

_READ_BACK_TRIES = 3
_READ_BACK_PAUSE = 0.25  # seconds, times the try number


class OutcomeCounts(dict[Outcome, int], Generic[Outcome]):
    """Outcome -> number of orders. A plain dict that prints its outcomes by value; it
    can be indexed by the outcome or its string (``counts["canceled"]``)."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{outcome.value!r}: {n}" for outcome, n in self.items()) + "}"

    __str__ = __repr__


class _HasOutcome(Protocol[Outcome_co]):
    @property
    def order_id(self) -> int: ...

    @property
    def outcome(self) -> Outcome_co: ...


class OutcomeReport(Generic[Outcome]):
    """The questions every report answers from its ``results`` (one per input id, in
    input order). A report class names its outcome enum and the outcomes a later run
    should retry."""

    __slots__ = ()
    _OUTCOMES: ClassVar[type[enum.Enum]]
    _RETRIED: ClassVar[frozenset[enum.Enum]]

    @property
    def _outcome_results(self) -> Sequence[_HasOutcome[Outcome]]:
        return self.results  # type: ignore[attr-defined,no-any-return]

    @property
    def counts(self) -> OutcomeCounts[Outcome]:
        """Outcome -> number of orders, every outcome present (zero included)."""
        tally = Counter(result.outcome for result in self._outcome_results)
        outcomes: list[Outcome] = list(self._OUTCOMES)
        return OutcomeCounts({outcome: tally.get(outcome, 0) for outcome in outcomes})

    @property
    def complete(self) -> bool:
        """True when every order has a final outcome (none to retry)."""
        return not self.resume_ids()

    def ids(self, outcome: Outcome) -> list[int]:
        """The ids with ``outcome``, in input order."""
        return [r.order_id for r in self._outcome_results if r.outcome is outcome]

    def resume_ids(self) -> list[int]:
        """Ids a later run should retry (see the report's class)."""
        retried = self._RETRIED
        return [r.order_id for r in self._outcome_results if r.outcome in retried]


class ReportingJob(Generic[Result, Report]):
    """A running job with a report: ``await`` it for the report, or ``async for`` it to
    receive each result as it completes. The job class sets ``_runner`` and says how a
    report is made of the runner's account (:meth:`_make_report`)."""

    _runner: JobRunner[Result]

    def _make_report(
        self,
        results: list[Result],
        duplicates: Mapping[int, int],
        stopped_by: DigiCertError | None,
    ) -> Report:
        raise NotImplementedError

    @property
    def report(self) -> Report:
        """The report as of now: every id, those not finished as not_attempted."""
        runner = self._runner
        return self._make_report(runner.results(), dict(runner.duplicates), runner.stopped_by)

    def __await__(self) -> Generator[Any, None, Report]:
        return self._run_to_report().__await__()

    async def _run_to_report(self) -> Report:
        await self._runner.run()
        return self.report

    def __aiter__(self) -> AsyncIterator[Result]:
        return self._runner.stream()


def describe_counts(counts: OutcomeCounts[Outcome]) -> str:
    """``canceled=3, failed=1``: the outcomes that happened, for the job's log line."""
    return ", ".join(f"{outcome.value}={n}" for outcome, n in counts.items() if n)


class ReadBackFailed(Exception):
    """Reading an order back failed for good; ``error`` is why. ``stops`` is True when
    the error would fail every order alike (the job should stop)."""

    def __init__(self, error: DigiCertError, *, stops: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.stops = stops


async def read_back(read: Callable[[], Awaitable[T]], *, what: str) -> T:
    """``read()``, tried a few times: a read-back decides what a report says, so it
    gets more tries than one call's retry policy gives (which never retries a 500, say).

    A ``NotFoundError`` is raised as it is (the order is gone: an outcome of its own).
    Any other failure that stays raises :class:`ReadBackFailed` with it; one that more
    tries would not mend (a refused key, a wrong base URL) does so at once.
    """
    for attempt in range(1, _READ_BACK_TRIES + 1):
        try:
            return await read()
        except DigiCertError as exc:
            if stops_a_job(exc):  # a wrong API root answers 404 too: this test first
                raise ReadBackFailed(exc, stops=True) from None
            if isinstance(exc, NotFoundError):
                raise
            if isinstance(exc, (AuthenticationError, PermissionDeniedError)):
                raise ReadBackFailed(exc, stops=False) from None
            if attempt == _READ_BACK_TRIES:
                logger.warning("%s: reading it back failed too (%s)", what, exc)
                raise ReadBackFailed(exc, stops=False) from None
            await asyncio.sleep(_READ_BACK_PAUSE * attempt)
    raise AssertionError("unreachable")  # pragma: no cover
