"""Poll many orders cheaply until each reaches a wanted status.

The poll loops by itself (a first look, then one look per interval); each look's reads
of single orders run on the job runner, which bounds how many run at once and cuts
them short at the deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Iterable
from datetime import datetime, timedelta, timezone

import attrs

from .._checks import check_count, check_number, check_statuses, describe
from .._client import CertCentralClient
from .._dcv import order_names
from .._dcv_driver import DcvDriver, DcvOutcome
from .._errors import (
    APIError,
    DigiCertError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from .._send import CallRecord
from ..models import ORDER_STATUSES, TERMINAL_STATUSES, Order
from ..webhooks import WebhookReceiver
from ._common import Reach, call_in_job, check_deadline, check_order_ids, logger, stops_a_job
from ._lifecycle import never_reaches
from ._push import IntervalWait
from ._runner import Cut, Deadline, DeadlineReached, JobRunner

__all__ = ["NOT_FOUND_STATUS", "UNREADABLE_LOOKS", "OrderUpdate", "poll_orders"]


@attrs.frozen
class OrderUpdate:
    """An order seen in a new status. ``previous_status`` is None the first time it
    is seen; ``order`` is the order as read (None when it was not found).

    ``never_reaches`` is True when the order's status is not one the poll waits for
    (``until``) and the order can never get to one from it: canceled, rejected, revoked,
    or expired when waiting for ``issued``, say (see :func:`poll_orders` for which
    statuses lead where). The poll stops watching it there: this is its last update.

    When an order cannot be read (DigiCert's answer for it does not decode, or is
    refused), the update carries the exception as ``error``, ``status`` stays what
    was last seen and ``order`` is None; the other orders go on.
    """

    order_id: int
    status: str | None
    previous_status: str | None
    order: Order | None = attrs.field(default=None, eq=False, repr=False)
    error: BaseException | None = attrs.field(default=None, eq=False)
    never_reaches: bool = False


_WAITS_FOR_DCV = frozenset({"pending", "reissue_pending"})
_FIRST_LOOK_PAGE_SIZE = 1000
_READ_BATCH = 1000


def _listing_costs_more(total: int | None, ids: int) -> bool:
    """Whether listing ``total`` orders takes more requests than reading ``ids`` orders."""
    return total is not None and -(-total // _FIRST_LOOK_PAGE_SIZE) > ids


# Changes are asked for from a little before the last look so none falls in a gap.
_CHANGES_OVERLAP = timedelta(seconds=60)
NOT_FOUND_STATUS = "not_found"
# An order whose reads fail this many looks in a row (for a reason waiting cannot
# fix: a body that does not decode, a refusal) is given up on and counts as finished.
UNREADABLE_LOOKS = 3


def _passing(exc: DigiCertError) -> bool:
    """Whether a failed read may well succeed later without anything changing."""
    return isinstance(exc, (ServerError, RateLimitError, TransportError))


async def poll_orders(
    client: CertCentralClient,
    order_ids: Iterable[int],
    *,
    until: str | Collection[str] = TERMINAL_STATUSES,
    interval: float = 60.0,
    deadline: float | None = None,
    concurrency: int = 10,
    events: WebhookReceiver | None = None,
    dcv: DcvDriver | None = None,
) -> AsyncIterator[OrderUpdate]:
    """Yield an :class:`OrderUpdate` each time one of ``order_ids`` is seen in a new
    status, until every order is in an ``until`` status, or in a status from which it
    can never reach one (its update says ``never_reaches``), or ``deadline`` seconds pass.

    The first look lists the account's orders, or reads each id when the listing's
    first page shows that would take fewer requests (a few ids in a big account);
    after that, one status-changes request per ``interval`` tells which orders moved,
    and only those are read. If the status-changes listing is unavailable, every
    unfinished order is read each interval instead. An id that does not exist is
    reported once with status ``"not_found"`` and counts as finished.

    One odd order never stops the rest: a listing page that does not decode leaves
    its orders to be read one by one (never the whole account), and an order that
    cannot be read is reported in an update with its ``error`` at each look; after
    ``UNREADABLE_LOOKS`` (3) failed looks in a row it counts as finished. A read that
    fails for a passing reason (a 5xx, a 429, the network) is only logged and tried
    again at the next look.

    Which statuses an order can still leave follows DigiCert's pages: ``issued`` may
    become ``reissue_pending``, ``revoked``, ``expired`` or ``renewed``;
    ``reissue_pending`` goes back to ``issued``; ``expired`` may be marked ``renewed``,
    and ``renewed`` and ``not_renewed`` into each other; ``rejected``, ``canceled``,
    ``revoked`` and ``denied`` go nowhere. Every other status is still in progress and may
    become any. An order ends, ``never_reaches``, when no ``until`` status is reachable
    from its own by these moves.

    A poll whose first calls cannot connect at all (two of them, each after the client's
    retries, with no request of the poll ever reaching the server) raises that
    :class:`~digicert_async.TransportError`, as it raises an error that would fail every
    order alike (a refused key, a wrong base URL).

    With ``events`` (a :class:`~digicert_async.WebhookReceiver`), a pushed event about an
    order still watched wakes the poll at once and that order is read. Pushes only make it
    faster: the interval's looks go on as without them (some statuses, ``canceled`` or
    ``needs_approval``, have no event), so every order still ends as above even if every
    push is lost, and a repeated push costs at most one more read of its order.

    :param until: one status or several, each one DigiCert documents
        (:data:`~digicert_async.models.ORDER_STATUSES`); the terminal ones by default.
    :param dcv: a :class:`~digicert_async.DcvDriver`: an order first seen ``pending`` or
        ``reissue_pending`` has its DCV checked once, and one not passed is validated by
        the driver (publish, check, unpublish) beside the poll, so that it can reach
        ``issued``. What each run did is logged; runs still going when the poll ends are
        cut short (their records removed).
    """
    if dcv is not None and not isinstance(dcv, DcvDriver):
        raise ValidationError("dcv", f"must be a DcvDriver, not {describe(dcv)}")
    wanted = check_statuses("until", until, ORDER_STATUSES)
    check_number("interval", interval, allow_zero=False)
    check_deadline(deadline)
    check_count("concurrency", concurrency)
    poller = _Poller(
        client,
        check_order_ids(order_ids),
        wanted=wanted,
        interval=interval,
        deadline=deadline,
        concurrency=concurrency,
        events=_check_receiver(events),
        dcv=dcv,
    )
    async for update in poller.updates():
        yield update


def _check_receiver(events: object) -> WebhookReceiver | None:
    if events is None:
        return None
    if not isinstance(events, WebhookReceiver):
        raise ValidationError(
            "events", f"must be a WebhookReceiver or None, not {describe(events)}"
        )
    return events


def _nothing_to_report(order_id: int, cut: Cut | None = None) -> None:
    """A read never started or cut short: the poll's own state says what is left."""


class _Poller:
    """The state of one ``poll_orders`` run: what each order was last seen as, which
    reads failed, and when to stop."""

    def __init__(
        self,
        client: CertCentralClient,
        order_ids: list[int],
        *,
        wanted: frozenset[str],
        interval: float,
        deadline: float | None,
        concurrency: int,
        events: WebhookReceiver | None = None,
        dcv: DcvDriver | None = None,
    ) -> None:
        self._client = client
        self._wait = IntervalWait(interval, events)
        self._dcv = dcv
        self._dcv_runs: dict[int, asyncio.Task[None]] = {}  # one DCV run per order, at most
        self._wanted = wanted
        self._interval = interval
        self._deadline = Deadline(deadline)
        self._concurrency = concurrency
        self.statuses: dict[int, str | None] = dict.fromkeys(order_ids)
        self._unread: set[int] = set()  # reads that failed: tried again at the next look
        self._failed_looks: dict[int, int] = {}  # id -> looks in a row whose read failed
        self._given_up: set[int] = set()
        self._reach = Reach()  # one for the whole poll: its looks are one job

    # ------------------------------------------------------------------ state

    def _finished(self, order_id: int) -> bool:
        status = self.statuses[order_id]
        return (
            status == NOT_FOUND_STATUS
            or (status is not None and status in self._wanted)
            or never_reaches(status, self._wanted)
            or order_id in self._given_up
        )

    def _watched(self, order_id: int) -> bool:
        return order_id in self.statuses and not self._finished(order_id)

    def _unfinished(self) -> list[int]:
        return [i for i in self.statuses if not self._finished(i)]

    def _seen(self, order_id: int, status: str, order: Order | None) -> OrderUpdate | None:
        previous = self.statuses[order_id]
        if previous == status:
            return None
        self.statuses[order_id] = status
        if status in _WAITS_FOR_DCV and self._dcv is not None and order_id not in self._dcv_runs:
            self._dcv_runs[order_id] = asyncio.ensure_future(self._validate(order_id, order))
        ended = never_reaches(status, self._wanted)
        return OrderUpdate(order_id, status, previous, order, never_reaches=ended)

    async def _validate(self, order_id: int, order: Order | None) -> None:
        assert self._dcv is not None
        names = None if order is None else order_names(order) or None
        run = await self._dcv.validate_order_if_pending(self._client, order_id, names=names)
        if run is None:
            return
        log = logger.info if run.outcome is DcvOutcome.VALIDATED else logger.warning
        log("poll_orders: DCV of order %s: %s after %d check(s)", order_id, run.outcome, run.checks)

    async def _end_dcv_runs(self) -> None:
        for task in self._dcv_runs.values():
            task.cancel()
        await asyncio.gather(*self._dcv_runs.values(), return_exceptions=True)

    def _unreadable(self, order_id: int, exc: DigiCertError) -> OrderUpdate:
        looks = self._failed_looks[order_id] = self._failed_looks.get(order_id, 0) + 1
        if looks >= UNREADABLE_LOOKS:
            self._given_up.add(order_id)
            self._unread.discard(order_id)
            logger.warning(
                "poll_orders: giving up on order %s after %d failed reads: %s", order_id, looks, exc
            )
        else:
            logger.warning(
                "poll_orders: order %s could not be read (%s); will retry", order_id, exc
            )
        status = self.statuses[order_id]
        return OrderUpdate(order_id, status, status, None, error=exc)

    def _stops(self, exc: DigiCertError) -> bool:
        """Whether ``exc`` ends the poll: it would fail every order alike, or it is one
        more sign that the server cannot be reached at all (see ``Reach``)."""
        return stops_a_job(exc) or self._reach.cannot_connect(exc)

    # ------------------------------------------------------------------ reading

    async def _read(self, order_id: int, sends: CallRecord) -> OrderUpdate | None:
        try:
            order = await self._client.orders.get(order_id)
        except NotFoundError:
            self._unread.discard(order_id)
            return self._seen(order_id, NOT_FOUND_STATUS, None)
        except DigiCertError as exc:
            if self._stops(exc):
                raise
            self._unread.add(order_id)
            if _passing(exc):
                logger.warning(
                    "poll_orders: reading order %s failed (%s); will retry", order_id, exc
                )
                return None
            return self._unreadable(order_id, exc)
        self._unread.discard(order_id)
        self._failed_looks.pop(order_id, None)
        return self._seen(order_id, order.status or "unknown", order)

    async def _read_all(self, ids: Iterable[int]) -> AsyncIterator[OrderUpdate]:
        """Read each of ``ids``, ``concurrency`` at a time, yielding what changed as it
        comes; :class:`DeadlineReached` when the deadline cut the reads short."""
        batch = list(ids)
        # Bounded batches keep the updates waiting for a slow consumer flat, however
        # many ids there are.
        for start in range(0, len(batch), _READ_BATCH):
            reads = JobRunner(
                batch[start : start + _READ_BATCH],
                attempt=self._read,
                not_attempted=_nothing_to_report,
                cut_short=_nothing_to_report,
                concurrency=self._concurrency,
                deadline=self._deadline.remaining(),
                keep_results=False,  # the poll keeps its own account; an Order per id is big
                reach=self._reach,
                hooks=self._client.hooks,
                job="poll",
            )
            async for seen in reads.stream():
                if seen is not None:
                    yield seen
            if reads.timed_out:
                raise DeadlineReached

    async def _first_look(self) -> AsyncIterator[OrderUpdate]:
        """List the account, unless its first page shows that listing it all would take
        more requests than reading each id (a few ids, a big account). Whatever the
        listing does not show (a page or an order that did not decode, a listing that
        failed) is read one by one afterwards."""
        listing = self._client.orders.list(page_size=_FIRST_LOOK_PAGE_SIZE)
        pages = listing.pages(past_bad_pages=True)
        try:
            while True:
                try:
                    with call_in_job(self._reach):
                        page = await self._deadline.bound(pages.__anext__())
                except StopAsyncIteration:
                    break
                if page.error is not None:
                    logger.warning(
                        "poll_orders: a page of the order listing could not be read (%s);"
                        " its orders are read one by one",
                        page.error,
                    )
                for order in page.items:
                    if order.id in self.statuses:
                        listed = self._seen(order.id, order.status or "unknown", order)
                        if listed is not None:
                            yield listed
                if _listing_costs_more(listing.total, len(self.statuses)):
                    break
        except DigiCertError as exc:
            if self._stops(exc):
                raise
            logger.warning(
                "poll_orders: listing the orders failed (%s); reading them one by one", exc
            )
        finally:
            await pages.aclose()
        async for seen in self._read_all([i for i, s in self.statuses.items() if s is None]):
            yield seen

    async def updates(self) -> AsyncIterator[OrderUpdate]:
        """Every update until each order is finished or the deadline passes."""
        try:
            async for update in self._first_look():
                yield update
            async for update in self._later_looks():
                yield update
        except DeadlineReached:
            logger.info(
                "poll_orders: deadline reached with %d orders unfinished", len(self._unfinished())
            )
        finally:
            self._wait.close()
            await self._end_dcv_runs()

    async def _later_looks(self) -> AsyncIterator[OrderUpdate]:
        """One status-changes request per interval says which orders moved; only those
        (and earlier failed reads) are read. Without that listing, every unfinished
        order is read."""
        last_look = datetime.now(timezone.utc)
        changes_available = True
        while True:
            remaining = self._unfinished()
            if not remaining:
                return
            pushed = await self._deadline.bound(self._wait.wait(self._watched))
            if pushed:
                async for update in self._read_all(sorted(pushed)):
                    yield update
                continue
            self._wait.looked()
            look = datetime.now(timezone.utc)
            to_read: set[int] | None = None
            if changes_available:
                try:
                    with call_in_job(self._reach):
                        changes = await self._deadline.bound(
                            self._client.orders.status_changes(last_look - _CHANGES_OVERLAP, look)
                        )
                except DigiCertError as exc:
                    if self._stops(exc):
                        raise
                    # A refusal (4xx) means this key or account cannot use the listing:
                    # stop asking. Anything else is passing: read one by one this time.
                    changes_available = not (
                        isinstance(exc, APIError) and 400 <= exc.status < 500 and exc.status != 429
                    )
                    logger.warning(
                        "poll_orders: status-changes failed (%s); reading %d orders one by one",
                        exc,
                        len(remaining),
                    )
                else:
                    to_read = {
                        c.order_id
                        for c in changes
                        if c.order_id in self.statuses
                        and not self._finished(c.order_id)
                        and c.status != self.statuses[c.order_id]
                    }
                    last_look = look
            ids = sorted(self._unread | to_read) if to_read is not None else remaining
            async for update in self._read_all(ids):
                yield update
