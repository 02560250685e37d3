"""Reissue many orders concurrently, each with its own CSR, on the job runner, and
account for every one: the first job of replacing a fleet (poll until issued, then
download, are the next two).

Each order costs one read (its status, and the names and hash the reissue keeps) and
one POST. The POST is never sent twice: when its answer is lost, the order is read
back, and what that cannot settle is reported ``unknown``, not retried.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from .._checks import check_count, describe
from .._client import CertCentralClient
from .._dcv import order_names
from .._dcv_driver import DcvDriver, DcvOutcome, DcvRun
from .._errors import (
    AuthenticationError,
    DigiCertError,
    NotFoundError,
    PermissionDeniedError,
    ResponseError,
    ValidationError,
)
from .._send import CallRecord, record_call
from ..models import Order, OrderCertificate, OrderStatus
from ..models._csr import check_csr
from ._common import check_deadline, check_order_ids, stops_a_job
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
    "REISSUABLE_STATUSES",
    "ReissueJob",
    "ReissueOutcome",
    "ReissueReport",
    "ReissueResult",
    "reissue_orders",
]

REISSUABLE_STATUSES = frozenset({OrderStatus.ISSUED})
"""The statuses an order can be reissued from (DigiCert reissues an issued certificate)."""

_PENDING = "pending"  # a reissue's status in the listing until DigiCert issues it
_POST_IN_FLIGHT = "the reissue request was in flight when the job was {} (it may have landed)"
_READ_IN_FLIGHT = "the job was {} while the order was being read (no reissue was sent)"


class ReissueOutcome(str, enum.Enum):
    """What happened to one order in a bulk reissue."""

    REISSUED = "reissued"
    NOT_REISSUABLE = "not_reissuable"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class ReissueResult:
    """One order's outcome.

    - ``reissued``: ``request_id`` is the approval request DigiCert opened for it (None
      when the reissue was found by reading the order back: see ``uncertain``);
    - ``not_reissuable``: ``status`` is the status the order was found in (only
      ``issued`` orders can be reissued);
    - ``failed``: nothing was applied (``error`` says why): a later run may send it;
    - ``unknown``: the reissue request may have reached DigiCert but its answer was
      lost, and reading the order back did not tell (``error`` is the request's).

    ``uncertain`` is True for a ``reissued`` order settled by reading it back (its
    answer was lost, or a rerun found a reissue pending): the pending reissue found may
    be this run's or an earlier one's.

    ``replaced`` is the certificate the order showed when it was read, before its
    reissue was sent (``reissued`` and ``unknown`` orders): once the order is ``issued``
    again, a certificate other than this one is the reissued one, and this one means the
    reissue did not happen (DigiCert rejected it, say).

    ``dcv`` is what the job's :class:`~digicert_async.DcvDriver` did for a ``reissued``
    order whose DCV was not passed (``validated``, ``timed_out`` or ``failed``); None
    without a driver, or when the order's DCV was already passed.
    """

    order_id: int
    outcome: ReissueOutcome
    request_id: int | None = None
    status: str | None = None
    error: BaseException | None = attrs.field(default=None, eq=False)
    uncertain: bool = False
    replaced: OrderCertificate | None = attrs.field(default=None, eq=False, repr=False)
    dcv: DcvRun | None = attrs.field(default=None, eq=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the command line prints one per order)."""
        line: dict[str, Any] = {"order_id": self.order_id, "outcome": self.outcome.value}
        if self.request_id is not None:
            line["request_id"] = self.request_id
        if self.status is not None:
            line["status"] = self.status
        if self.uncertain:
            line["uncertain"] = True
        if self.error is not None:
            line["error"] = f"{type(self.error).__name__}: {self.error}"
        replaced = certificate_identity(self.replaced)
        if replaced:
            line["replaced_certificate"] = replaced
        if self.dcv is not None:
            line["dcv"] = self.dcv.outcome.value
            if self.dcv.error is not None:
                line["dcv_error"] = f"{type(self.dcv.error).__name__}: {self.dcv.error}"
        return line


def certificate_identity(certificate: OrderCertificate | None) -> dict[str, Any]:
    """What tells one certificate from another: its id, serial number and thumbprint
    (those the order shows)."""
    if certificate is None:
        return {}
    shown = {
        "id": certificate.id,
        "serial_number": certificate.serial_number,
        "thumbprint": certificate.thumbprint,
    }
    return {key: value for key, value in shown.items() if value is not None}


@attrs.frozen
class ReissueReport(OutcomeReport[ReissueOutcome]):
    """Every input id exactly once, in input order, with its outcome (the shape of
    :class:`~digicert_async.CancelReport`).

    ``resume_ids()`` lists the ids a later run can simply be given again (failed, not
    attempted): no reissue of theirs reached DigiCert. ``unknown`` ids are not among
    them: give those to a run with ``check_pending=True``, which sends a reissue only
    where none is pending. ``stopped_by`` is the error that stopped the job early.
    """

    results: list[ReissueResult]
    duplicates: Mapping[int, int] = attrs.field(factory=dict)
    stopped_by: DigiCertError | None = attrs.field(default=None, eq=False)

    _OUTCOMES: ClassVar[type[enum.Enum]] = ReissueOutcome
    _RETRIED: ClassVar[frozenset[enum.Enum]] = frozenset(
        {ReissueOutcome.NOT_ATTEMPTED, ReissueOutcome.FAILED}
    )

    @property
    def counts(self) -> OutcomeCounts[ReissueOutcome]:
        """Outcome -> number of orders, every outcome present (zero included)."""
        return super().counts

    @property
    def complete(self) -> bool:
        """True when every order has a final outcome: none to resume, none unknown."""
        return super().complete and not self.ids(ReissueOutcome.UNKNOWN)

    def resume_ids(self) -> list[int]:
        """Ids a later run can be given as they are: failed or not attempted (never
        ``unknown`` ones, whose reissue may have landed)."""
        return super().resume_ids()


def check_csrs(csrs: object) -> dict[int, str]:
    """The job's input, checked before anything is sent: a mapping of order ids to PEM
    CSRs; one ``ValidationError`` naming the bad ids and CSRs (the first few)."""
    if not isinstance(csrs, Mapping):
        raise ValidationError(
            "csrs", f"expected a mapping of order ids to CSRs, got {describe(csrs)}"
        )
    ids = check_order_ids(csrs.keys())
    bad: list[str] = []
    for order_id in ids:
        try:
            check_csr(f"csrs[{order_id}]", csrs[order_id])
        except ValidationError as exc:
            bad.append(str(exc))
    if bad:
        shown = "; ".join(bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise ValidationError("csrs", f"{len(bad)} bad CSR(s), nothing was sent: {shown}{more}")
    return {order_id: csrs[order_id] for order_id in ids}


class ReissueJob(ReportingJob[ReissueResult, ReissueReport]):
    """A running bulk reissue: ``await`` it for the :class:`ReissueReport`, or
    ``async for`` it to receive each :class:`ReissueResult` as it completes.

    :attr:`report` is valid at any time, including after the awaiting task was
    cancelled: orders never started are ``not_attempted``; an order whose reissue
    request was in flight is ``unknown`` (it may have landed), one cut short while it
    was being read is ``failed`` (nothing was sent).
    """

    def __init__(
        self,
        client: CertCentralClient,
        csrs: Mapping[int, str],
        *,
        concurrency: int,
        deadline: float | None,
        check_pending: bool,
        dcv: DcvDriver | None = None,
    ) -> None:
        self._csrs = check_csrs(csrs)
        if dcv is not None and not isinstance(dcv, DcvDriver):
            raise ValidationError("dcv", f"must be a DcvDriver, not {describe(dcv)}")
        self._dcv = dcv
        check_count("concurrency", concurrency)
        check_deadline(deadline)
        self._client = client
        self._check_pending = bool(check_pending)
        self._posts: dict[int, CallRecord] = {}  # what each order's POST did on the wire
        self._read: dict[int, OrderCertificate | None] = {}  # each certificate before
        self._validating: dict[int, ReissueResult] = {}  # reissued, its DCV under way
        self._runner = JobRunner(
            list(self._csrs),
            attempt=self._reissue_one,
            not_attempted=_not_attempted,
            cut_short=self._cut_short,
            concurrency=concurrency,
            deadline=deadline,
            name="reissue",
            hooks=client.hooks,
            summary=lambda: describe_counts(self.report.counts),
        )

    def _make_report(
        self,
        results: list[ReissueResult],
        duplicates: Mapping[int, int],
        stopped_by: DigiCertError | None,
    ) -> ReissueReport:
        return ReissueReport(results, duplicates, stopped_by)

    async def _reissue_one(self, order_id: int, sends: CallRecord) -> ReissueResult:
        result = await self._read_and_reissue(order_id, sends)
        if result.outcome is ReissueOutcome.REISSUED and self._dcv is not None:
            self._validating[order_id] = result
            names = order_names(Order(id=order_id, certificate=self._read.get(order_id)))
            run = await self._dcv.validate_order_if_pending(
                self._client, order_id, names=names or None
            )
            result = attrs.evolve(result, dcv=run)
        if result.outcome in (ReissueOutcome.REISSUED, ReissueOutcome.UNKNOWN):
            return attrs.evolve(result, replaced=self._read.get(order_id))
        return result

    async def _read_and_reissue(self, order_id: int, sends: CallRecord) -> ReissueResult:
        what = f"order {order_id}: reissue"
        try:
            order = await read_back(lambda: self._client.orders.get(order_id), what=what)
        except NotFoundError:
            return ReissueResult(order_id, ReissueOutcome.NOT_FOUND)
        except ReadBackFailed as failed:
            if failed.stops:
                self._runner.stop(failed.error)
                if sends.sends == 0:
                    return _not_attempted(order_id)
            return ReissueResult(order_id, ReissueOutcome.FAILED, error=failed.error)
        self._read[order_id] = order.certificate
        status = order.status
        if self._check_pending:
            found = await self._pending_reissue(order_id, status)
            if found is not None:
                return found
        if status not in REISSUABLE_STATUSES:
            return ReissueResult(order_id, ReissueOutcome.NOT_REISSUABLE, status=status)
        with record_call() as post:
            self._posts[order_id] = post
            try:
                # the order read above gives the names and hash the reissue keeps: no
                # second read, whatever the order shows
                created = await self._client.orders.reissue(
                    order_id, self._csrs[order_id], order=order
                )
            except DigiCertError as exc:
                return await self._after_refusal(order_id, exc, post)
        request_id = created.requests[0].id if created.requests else None
        return ReissueResult(
            order_id,
            ReissueOutcome.REISSUED,
            request_id=request_id,
            status=OrderStatus.REISSUE_PENDING,
        )

    async def _pending_reissue(self, order_id: int, status: str | None) -> ReissueResult | None:
        """For a rerun of ``unknown`` orders: the order's reissue, if one is pending
        already (then none is sent); None when there is none."""
        if status == OrderStatus.REISSUE_PENDING:
            return ReissueResult(order_id, ReissueOutcome.REISSUED, status=status, uncertain=True)
        if status not in REISSUABLE_STATUSES:
            return None  # not_reissuable follows, nothing to list
        try:
            reissues = await read_back(
                lambda: self._client.orders.list_reissues(order_id),
                what=f"order {order_id}: listing its reissues",
            )
        except NotFoundError:
            return ReissueResult(order_id, ReissueOutcome.NOT_FOUND)
        except ReadBackFailed as failed:
            if failed.stops:
                self._runner.stop(failed.error)
            # Not knowing whether one is pending, sending another could reissue twice.
            return ReissueResult(
                order_id, ReissueOutcome.UNKNOWN, status=status, error=failed.error
            )
        if any(item.status == _PENDING for item in reissues):
            return ReissueResult(order_id, ReissueOutcome.REISSUED, status=status, uncertain=True)
        return None

    async def _after_refusal(
        self, order_id: int, error: DigiCertError, post: CallRecord
    ) -> ReissueResult:
        # A 2xx whose body could not be read was applied; an answer lost (a reset, a
        # timeout, a gateway's 502/504) may have been.
        lost = post.maybe_applied_unseen or (
            isinstance(error, ResponseError) and error.method == "POST"
        )
        if stops_a_job(error):
            self._runner.stop(error)
            outcome = ReissueOutcome.UNKNOWN if lost else ReissueOutcome.FAILED
            return ReissueResult(order_id, outcome, error=error)
        if isinstance(error, NotFoundError):
            return ReissueResult(order_id, ReissueOutcome.NOT_FOUND)
        if isinstance(error, (ValidationError, AuthenticationError, PermissionDeniedError)):
            return ReissueResult(order_id, ReissueOutcome.FAILED, error=error)
        return await self._settle(order_id, error, lost=lost)

    async def _settle(self, order_id: int, error: DigiCertError, *, lost: bool) -> ReissueResult:
        """What a failed reissue request did, from the order read back: never by sending
        it again."""
        unsettled = ReissueOutcome.UNKNOWN if lost else ReissueOutcome.FAILED
        what = f"order {order_id}: reissue failed"
        try:
            order = await read_back(lambda: self._client.orders.get(order_id), what=what)
        except NotFoundError:
            return ReissueResult(order_id, ReissueOutcome.NOT_FOUND)
        except ReadBackFailed as failed:
            if failed.stops:
                self._runner.stop(failed.error)
            return ReissueResult(order_id, unsettled, error=error)
        status = order.status
        if status == OrderStatus.REISSUE_PENDING:
            if lost:  # it was issued when read before the POST: the POST made it pending
                return ReissueResult(
                    order_id, ReissueOutcome.REISSUED, status=status, uncertain=True
                )
            return ReissueResult(order_id, ReissueOutcome.NOT_REISSUABLE, status=status)
        if status not in REISSUABLE_STATUSES:
            return ReissueResult(order_id, ReissueOutcome.NOT_REISSUABLE, status=status)
        if not lost:  # refused, and nothing applied: a later run may send it
            return ReissueResult(order_id, ReissueOutcome.FAILED, status=status, error=error)
        # Still issued: the reissue may not have landed, or landed and is pending in
        # the listing before the order shows it.
        try:
            reissues = await read_back(
                lambda: self._client.orders.list_reissues(order_id),
                what=f"order {order_id}: listing its reissues",
            )
        except (NotFoundError, ReadBackFailed):
            return ReissueResult(order_id, ReissueOutcome.UNKNOWN, status=status, error=error)
        if any(item.status == _PENDING for item in reissues):
            return ReissueResult(order_id, ReissueOutcome.REISSUED, status=status, uncertain=True)
        return ReissueResult(order_id, ReissueOutcome.UNKNOWN, status=status, error=error)

    def _cut_short(self, order_id: int, cut: Cut) -> ReissueResult:
        """An order cut short with a request in flight: ``unknown`` when that may have
        been its reissue, else ``failed`` (only reads were sent: a later run may send)."""
        how = "cut short by its deadline" if cut is Cut.DEADLINE else "interrupted"
        reissued = self._validating.get(order_id)
        if reissued is not None:  # the reissue landed; its DCV run was cut short
            stop: BaseException = (
                TimeoutError(f"DCV {how}") if cut is Cut.DEADLINE else asyncio.CancelledError(how)
            )
            run = DcvRun(outcome=DcvOutcome.FAILED, error=stop)
            return attrs.evolve(reissued, dcv=run, replaced=self._read.get(order_id))
        post = self._posts.get(order_id)
        if post is not None and (post.sends or post.in_flight):
            message = _POST_IN_FLIGHT.format(how)
            outcome = ReissueOutcome.UNKNOWN
        else:
            message = _READ_IN_FLIGHT.format(how)
            outcome = ReissueOutcome.FAILED
        error: BaseException = (
            TimeoutError(message) if cut is Cut.DEADLINE else asyncio.CancelledError(message)
        )
        return ReissueResult(order_id, outcome, error=error, replaced=self._read.get(order_id))


def _not_attempted(order_id: int) -> ReissueResult:
    return ReissueResult(order_id, ReissueOutcome.NOT_ATTEMPTED)


def reissue_orders(
    client: CertCentralClient,
    csrs: Mapping[int, str],
    *,
    concurrency: int = 20,
    deadline: float | None = None,
    check_pending: bool = False,
    dcv: DcvDriver | None = None,
) -> ReissueJob:
    """Reissue many orders concurrently, each with its new CSR, and account for every one.

    ``report = await reissue_orders(client, {order_id: csr_pem, ...})`` returns a
    :class:`ReissueReport`; ``async for result in reissue_orders(...)`` streams each
    :class:`ReissueResult` as it completes. Each order is read first (its status, and the
    names and signature hash its certificate keeps), and only an ``issued`` one is sent a
    reissue (one POST, never repeated). An order already ``reissue_pending``, revoked or
    not issued yet is ``not_reissuable`` with its status.

    A reissue whose answer was lost is settled by reading the order back: now
    ``reissue_pending``, or a pending reissue in its listing, means ``reissued``
    (``uncertain``); still ``issued`` with none pending stays ``unknown``, with the
    error. ``report.resume_ids()`` (failed, not attempted) can be given to a new run as
    they are; ``unknown`` ones go to a run with ``check_pending=True``, which lists each
    order's reissues first (one more request per order) and sends only where none is
    pending.

    The ids and CSRs are checked first: an id that is not a positive integer, or a CSR
    that is not a PEM certificate request, fails the call with one ``ValidationError``
    naming them, before anything is sent.

    :param concurrency: how many orders are worked on at once; the client's rate limit
        paces the requests whatever this is.
    :param deadline: seconds after which no order starts (the rest are
        ``not_attempted``) and those in flight are cut short (``unknown`` when their
        reissue was in flight, else ``failed``).
    :param dcv: a :class:`~digicert_async.DcvDriver`: each reissued order's DCV is
        checked once, and one not passed (a domain whose validation went stale) is
        validated by the driver (publish, check, unpublish) before the order's result is
        given, in ``result.dcv``; so the fleet job finishes by itself.
    """
    return ReissueJob(
        client,
        csrs,
        concurrency=concurrency,
        deadline=deadline,
        check_pending=check_pending,
        dcv=dcv,
    )
