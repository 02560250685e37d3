"""Cancel many orders concurrently, on the job runner, and account for every one."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import attrs

from .._checks import check_count, check_text
from .._client import CertCentralClient
from .._errors import AuthenticationError, DigiCertError, NotFoundError, PermissionDeniedError
from .._send import CallRecord
from ..models import OrderStatus
from ._common import check_deadline, check_order_ids, never_connected, stops_a_job
from ._outcomes import (
    OutcomeCounts,
    OutcomeReport,
    ReadBackFailed,
    ReportingJob,
    describe_counts,
    read_back,
)
from ._runner import Cut, JobRunner

__all__ = [
    "CANCELABLE_STATUSES",
    "CancelJob",
    "CancelOutcome",
    "CancelReport",
    "CancelResult",
    "OutcomeCounts",
    "cancel_orders",
]

CANCELABLE_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.WAITING_PICKUP})
_INTERRUPTED_IN_FLIGHT = "interrupted while the cancel request was in flight (it may have landed)"
_DEADLINE_IN_FLIGHT = (
    "the job's deadline passed while the cancel request was in flight (it may have landed)"
)


class CancelOutcome(str, enum.Enum):
    """What happened to one order in a bulk cancellation."""

    CANCELED = "canceled"
    ALREADY_CANCELED = "already_canceled"
    NOT_CANCELABLE = "not_cancelable"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class CancelResult:
    """One order's outcome. ``status`` is the status read back (when one was);
    ``error`` the exception behind a ``failed`` outcome: the cancel request's own (the
    ``PUT``), also when reading the order back after it failed too.

    ``uncertain`` is True for a ``canceled`` order whose cancel request may or may not
    be what canceled it: an attempt was lost (no answer, or a gateway's 502/504) before
    DigiCert refused a later one, so it may have been canceled by this run or before.
    """

    order_id: int
    outcome: CancelOutcome
    status: str | None = None
    error: BaseException | None = attrs.field(default=None, eq=False)
    uncertain: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the command line prints one per order)."""
        line: dict[str, Any] = {"order_id": self.order_id, "outcome": self.outcome.value}
        if self.status is not None:
            line["status"] = self.status
        if self.uncertain:
            line["uncertain"] = True
        if self.error is not None:
            line["error"] = f"{type(self.error).__name__}: {self.error}"
        return line


@attrs.frozen
class CancelReport(OutcomeReport[CancelOutcome]):
    """Every input id exactly once, in input order, with its outcome.

    ``duplicates`` maps an id given more than once to how many extra times it
    appeared (it was still sent once). ``resume_ids()`` is what a later run should
    be given to finish the job. ``stopped_by`` is the error that stopped the job
    early, failing every order alike (a refused key, a wrong base URL, a closed
    client), or None.
    """

    results: list[CancelResult]
    duplicates: Mapping[int, int] = attrs.field(factory=dict)
    stopped_by: DigiCertError | None = attrs.field(default=None, eq=False)

    _OUTCOMES: ClassVar[type[enum.Enum]] = CancelOutcome
    # Not attempted, or failed for any reason.
    _RETRIED: ClassVar[frozenset[enum.Enum]] = frozenset(
        {CancelOutcome.NOT_ATTEMPTED, CancelOutcome.FAILED}
    )

    @property
    def counts(self) -> OutcomeCounts[CancelOutcome]:
        """Outcome -> number of orders, every outcome present (zero included); it prints
        as ``{'canceled': 812, 'already_canceled': 3, ...}``."""
        return super().counts

    def resume_ids(self) -> list[int]:
        """Ids a later run should retry: not attempted, or failed for any reason."""
        return super().resume_ids()


class CancelJob(ReportingJob[CancelResult, CancelReport]):
    """A running bulk cancellation: ``await`` it for the report, or ``async for`` it
    to receive each :class:`CancelResult` as it completes.

    :attr:`report` is valid at any time, including after the awaiting task was
    cancelled: orders never started are ``not_attempted``; orders whose request was
    in flight are ``failed`` with the interruption as ``error`` (their request may
    have reached DigiCert, so a resumed run reads them back).
    """

    def __init__(
        self,
        client: CertCentralClient,
        order_ids: Iterable[int],
        *,
        note: str,
        concurrency: int,
        deadline: float | None,
    ) -> None:
        check_text("note", note)
        check_count("concurrency", concurrency)
        check_deadline(deadline)
        self._client = client
        self._note = note
        self._runner = JobRunner(
            check_order_ids(order_ids),
            attempt=self._cancel_one,
            not_attempted=_not_attempted,
            cut_short=_cut_short,
            concurrency=concurrency,
            deadline=deadline,
            name="cancel",
            hooks=client.hooks,
            summary=lambda: describe_counts(self.report.counts),
        )

    def _make_report(
        self,
        results: list[CancelResult],
        duplicates: Mapping[int, int],
        stopped_by: DigiCertError | None,
    ) -> CancelReport:
        return CancelReport(results, duplicates, stopped_by)

    async def _cancel_one(self, order_id: int, sends: CallRecord) -> CancelResult:
        try:
            await self._client.orders.cancel(order_id, note=self._note)
        except DigiCertError as exc:
            stops = stops_a_job(exc)
            if stops:
                self._runner.stop(exc)
            if never_connected(exc) and sends.sends == 0:
                # The PUT never reached DigiCert: nothing to settle by reading back.
                return CancelResult(order_id, CancelOutcome.FAILED, error=exc)
            if stops:
                return _not_sent_or_failed(order_id, sends, exc)
            if isinstance(exc, NotFoundError):
                return CancelResult(order_id, CancelOutcome.NOT_FOUND)
            if isinstance(exc, (AuthenticationError, PermissionDeniedError)):
                return CancelResult(order_id, CancelOutcome.FAILED, error=exc)  # reads would be too
            # A refusal (or a failure after which we cannot know whether the PUT
            # landed) is settled by reading the order back.
            return await self._settle(order_id, exc, lost=sends.maybe_applied_unseen)
        return CancelResult(order_id, CancelOutcome.CANCELED, status=OrderStatus.CANCELED)

    async def _settle(
        self, order_id: int, cancel_error: DigiCertError, *, lost: bool
    ) -> CancelResult:
        try:
            order = await read_back(
                lambda: self._client.orders.get(order_id), what=f"order {order_id}: cancel failed"
            )
        except NotFoundError:
            return CancelResult(order_id, CancelOutcome.NOT_FOUND)
        except ReadBackFailed as failed:
            # The cancel's own error says what failed; the read-back's is only logged.
            if failed.stops:
                self._runner.stop(failed.error)
            return CancelResult(order_id, CancelOutcome.FAILED, error=cancel_error)
        status = order.status
        if status == OrderStatus.CANCELED:
            # When no attempt of this run may have been applied unseen (each was
            # answered, refused with a 429 or 503, or never sent), the order was
            # canceled before this run. Otherwise no one can tell which did it.
            if not lost:
                return CancelResult(order_id, CancelOutcome.ALREADY_CANCELED, status=status)
            return CancelResult(order_id, CancelOutcome.CANCELED, status=status, uncertain=True)
        if status in CANCELABLE_STATUSES or status is None:
            return CancelResult(order_id, CancelOutcome.FAILED, status=status, error=cancel_error)
        return CancelResult(order_id, CancelOutcome.NOT_CANCELABLE, status=status)


def _not_attempted(order_id: int) -> CancelResult:
    return CancelResult(order_id, CancelOutcome.NOT_ATTEMPTED)


def _not_sent_or_failed(order_id: int, sends: CallRecord, error: DigiCertError) -> CancelResult:
    """The outcome of a cancellation that did not complete: ``not_attempted`` when its
    request certainly never reached DigiCert, else ``failed`` (it may have landed)."""
    if sends.sends == 0:
        return _not_attempted(order_id)
    return CancelResult(order_id, CancelOutcome.FAILED, error=error)


def _cut_short(order_id: int, cut: Cut) -> CancelResult:
    """An order whose cancel request was in flight when the job was cut short: it may
    have landed, so it is ``failed`` and a resumed run reads it back."""
    error: BaseException = (
        TimeoutError(_DEADLINE_IN_FLIGHT)
        if cut is Cut.DEADLINE
        else asyncio.CancelledError(_INTERRUPTED_IN_FLIGHT)
    )
    return CancelResult(order_id, CancelOutcome.FAILED, error=error)


def cancel_orders(
    client: CertCentralClient,
    order_ids: Iterable[int],
    *,
    note: str,
    concurrency: int = 20,
    deadline: float | None = None,
) -> CancelJob:
    """Cancel many orders concurrently and account for every one of them.

    ``report = await cancel_orders(client, ids, note="decommissioned")`` returns a
    :class:`CancelReport`; ``async for result in cancel_orders(...)`` streams each
    :class:`CancelResult` as it completes. Duplicate ids are sent once. A refusal is
    settled by reading the order back, so an order canceled by an earlier run is
    ``already_canceled`` and an issued one ``not_cancelable``, not ``failed``. Every id is
    checked first: one that is not a positive integer (a float or bool included) fails the
    call with one ``ValidationError`` naming the bad ones, before anything is sent.

    :param concurrency: how many cancellations run at once; the client's rate limit
        paces them whatever this is.
    :param deadline: seconds after which the job stops: no new cancellation starts (the
        rest are ``not_attempted``) and those in flight are cut short (``failed``, since
        they may have landed); ``report.resume_ids()`` lists both for a later run.
    """
    return CancelJob(client, order_ids, note=note, concurrency=concurrency, deadline=deadline)
