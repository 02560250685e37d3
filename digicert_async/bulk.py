"""Bulk jobs: cancel many orders concurrently, poll many orders cheaply.

Both account for every order they are given: a cancellation report lists each
input id exactly once, even when the job is cancelled or runs out of time, and
the poller tracks each id until it reaches a wanted status or the deadline.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import Counter
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Collection,
    Coroutine,
    Generator,
    Iterable,
    Mapping,
)
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs

from ._checks import check_count, check_ids, check_number, check_statuses, check_text
from ._client import CertCentralClient
from ._errors import (
    APIError,
    AuthenticationError,
    ClientClosedError,
    ConfigurationError,
    DigiCertError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._pipeline import CallRecord, record_call
from .models import ORDER_STATUSES, TERMINAL_STATUSES, Order, OrderStatus

__all__ = [
    "CANCELABLE_STATUSES",
    "CancelJob",
    "CancelOutcome",
    "CancelReport",
    "CancelResult",
    "OrderUpdate",
    "OutcomeCounts",
    "cancel_orders",
    "poll_orders",
]

logger = logging.getLogger("digicert_async.bulk")
_T = TypeVar("_T")

CANCELABLE_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.WAITING_PICKUP})
_READ_BACK_TRIES = 3
_READ_BACK_PAUSE = 0.25  # seconds, times the try number
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


class OutcomeCounts(dict[CancelOutcome, int]):
    """Outcome -> number of orders. A plain dict that prints its outcomes by value; it
    can be indexed by the outcome or its string (``counts["canceled"]``)."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{outcome.value!r}: {n}" for outcome, n in self.items()) + "}"

    __str__ = __repr__


@attrs.frozen
class CancelResult:
    """One order's outcome. ``status`` is the status read back (when one was);
    ``error`` the exception behind a ``failed`` outcome.

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
class CancelReport:
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

    @property
    def counts(self) -> OutcomeCounts:
        """Outcome -> number of orders, every outcome present (zero included); it prints
        as ``{'canceled': 812, 'already_canceled': 3, ...}``."""
        tally = Counter(result.outcome for result in self.results)
        return OutcomeCounts({outcome: tally.get(outcome, 0) for outcome in CancelOutcome})

    @property
    def complete(self) -> bool:
        """True when every order has a final outcome (none failed or left out)."""
        return not self.resume_ids()

    def ids(self, outcome: CancelOutcome) -> list[int]:
        return [r.order_id for r in self.results if r.outcome is outcome]

    def resume_ids(self) -> list[int]:
        """Ids a later run should retry: not attempted, or failed for any reason."""
        return [
            r.order_id
            for r in self.results
            if r.outcome in (CancelOutcome.NOT_ATTEMPTED, CancelOutcome.FAILED)
        ]


def _unique_ids(order_ids: Iterable[int]) -> tuple[list[int], dict[int, int]]:
    unique: dict[int, None] = {}
    duplicates: Counter[int] = Counter()
    for order_id in order_ids:
        if order_id in unique:
            duplicates[order_id] += 1
        else:
            unique[order_id] = None
    return list(unique), dict(duplicates)


class CancelJob:
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
        if deadline is not None:
            check_number("deadline", deadline, allow_zero=False, allow_inf=True)
        self._client = client
        self._note = note
        self._concurrency = concurrency
        self._deadline = deadline
        self._ids, self._duplicates = _unique_ids(check_ids("order_ids", order_ids))
        self._results: dict[int, CancelResult] = {}
        self._started = False
        self._abort: DigiCertError | None = None
        self._queue: asyncio.Queue[CancelResult] | None = None

    @property
    def report(self) -> CancelReport:
        """The report as of now: every id, those not finished as not_attempted."""
        return CancelReport(
            [
                self._results.get(order_id) or CancelResult(order_id, CancelOutcome.NOT_ATTEMPTED)
                for order_id in self._ids
            ],
            dict(self._duplicates),
            self._abort,
        )

    def __await__(self) -> Generator[Any, None, CancelReport]:
        return self._run_to_report().__await__()

    async def _run_to_report(self) -> CancelReport:
        await self._run()
        return self.report

    def __aiter__(self) -> AsyncIterator[CancelResult]:
        return self._stream()

    async def _stream(self) -> AsyncIterator[CancelResult]:
        queue: asyncio.Queue[CancelResult] = asyncio.Queue()
        self._queue = queue
        runner = asyncio.ensure_future(self._run())
        getter: asyncio.Future[CancelResult] | None = None
        try:
            while not (runner.done() and queue.empty()):
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait({getter, runner}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield getter.result()
                getter.cancel()
            runner.result()
        finally:
            if getter is not None:
                getter.cancel()
            if not runner.done():
                runner.cancel()
                await asyncio.gather(runner, return_exceptions=True)

    async def _run(self) -> None:
        if self._started:
            raise RuntimeError("a CancelJob runs once; start a new one with report.resume_ids()")
        self._started = True
        pending = iter(self._ids)
        loop = asyncio.get_running_loop()
        stop_at = None if self._deadline is None else loop.time() + self._deadline
        deadline_hit = False

        async def worker() -> None:
            for order_id in pending:
                if self._abort is not None or (stop_at is not None and loop.time() >= stop_at):
                    return
                with record_call() as sends:
                    try:
                        result = await self._cancel_one(order_id, sends)
                    except asyncio.CancelledError:
                        self._record(_cut_short(order_id, sends, by_deadline=deadline_hit))
                        raise
                self._record(result)

        workers = [asyncio.ensure_future(worker()) for _ in range(self._concurrency)]
        try:
            # The deadline cuts the requests in flight short too, not only the queue.
            timeout = None if stop_at is None else max(0.0, stop_at - loop.time())
            done, cut_short = await asyncio.wait(
                workers, timeout=timeout, return_when=asyncio.FIRST_EXCEPTION
            )
            failed = any(not t.cancelled() and t.exception() is not None for t in done)
            deadline_hit = bool(cut_short) and not failed
            for task in done:
                task.result()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        if deadline_hit:
            logger.warning("bulk cancel: the deadline cut %d request(s) short", len(cut_short))
        if self._abort is not None:
            logger.error("bulk cancel stopped early: %s", self._abort)
        logger.info("bulk cancel finished: %s", _describe_counts(self.report.counts))

    def _record(self, result: CancelResult) -> None:
        self._results[result.order_id] = result
        if self._queue is not None:
            self._queue.put_nowait(result)

    async def _cancel_one(self, order_id: int, sends: CallRecord) -> CancelResult:
        try:
            await self._client.orders.cancel(order_id, note=self._note)
        except DigiCertError as exc:
            if stops_a_job(exc):
                self._abort = exc
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
        # The read-back decides what the report says, so it gets a few more tries
        # than one call's retry policy gives (which never retries a 500, say).
        for read in range(1, _READ_BACK_TRIES + 1):
            try:
                order = await self._client.orders.get(order_id)
            except DigiCertError as exc:
                if stops_a_job(exc):
                    self._abort = exc
                    return CancelResult(order_id, CancelOutcome.FAILED, error=cancel_error)
                if isinstance(exc, NotFoundError):
                    return CancelResult(order_id, CancelOutcome.NOT_FOUND)
                if isinstance(exc, (AuthenticationError, PermissionDeniedError)):
                    return CancelResult(order_id, CancelOutcome.FAILED, error=exc)
                if read == _READ_BACK_TRIES:
                    logger.warning(
                        "order %s: cancel failed and reading it back failed too", order_id
                    )
                    return CancelResult(order_id, CancelOutcome.FAILED, error=exc)
                await asyncio.sleep(_READ_BACK_PAUSE * read)
            else:
                break
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


def _not_sent_or_failed(order_id: int, sends: CallRecord, error: DigiCertError) -> CancelResult:
    """The outcome of a cancellation that did not complete: ``not_attempted`` when its
    request certainly never reached DigiCert, else ``failed`` (it may have landed)."""
    if sends.sends == 0:
        return CancelResult(order_id, CancelOutcome.NOT_ATTEMPTED)
    return CancelResult(order_id, CancelOutcome.FAILED, error=error)


def _cut_short(order_id: int, sends: CallRecord, *, by_deadline: bool) -> CancelResult:
    if sends.sends == 0:  # still waiting for a rate-limit slot: nothing was sent
        return CancelResult(order_id, CancelOutcome.NOT_ATTEMPTED)
    cut: BaseException = (
        TimeoutError(_DEADLINE_IN_FLIGHT)
        if by_deadline
        else asyncio.CancelledError(_INTERRUPTED_IN_FLIGHT)
    )
    return CancelResult(order_id, CancelOutcome.FAILED, error=cut)


def _describe_counts(counts: Mapping[CancelOutcome, int]) -> str:
    return ", ".join(f"{outcome.value}={n}" for outcome, n in counts.items() if n)


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


# --- polling -------------------------------------------------------------------------


@attrs.frozen
class OrderUpdate:
    """An order seen in a new status. ``previous_status`` is None the first time it
    is seen; ``order`` is the order as read (None when it was not found).

    When an order cannot be read (DigiCert's answer for it does not decode, or is
    refused), the update carries the exception as ``error``, ``status`` stays what
    was last seen and ``order`` is None; the other orders go on.
    """

    order_id: int
    status: str | None
    previous_status: str | None
    order: Order | None = attrs.field(default=None, eq=False, repr=False)
    error: BaseException | None = attrs.field(default=None, eq=False)


_FIRST_LOOK_PAGE_SIZE = 1000


def _listing_costs_more(total: int | None, ids: int) -> bool:
    """Whether listing ``total`` orders takes more requests than reading ``ids`` orders."""
    return total is not None and -(-total // _FIRST_LOOK_PAGE_SIZE) > ids


# Changes are asked for from a little before the last look so none falls in a gap.
_CHANGES_OVERLAP = timedelta(seconds=60)
NOT_FOUND_STATUS = "not_found"
# An order whose reads fail this many looks in a row (for a reason waiting cannot
# fix: a body that does not decode, a refusal) is given up on and counts as finished.
UNREADABLE_LOOKS = 3


def stops_a_job(exc: DigiCertError) -> bool:
    """Whether ``exc`` would fail every order alike, so a bulk job stops rather than
    spend the rate budget on the rest: the base URL is wrong, DigiCert does not accept
    the key at all, or the client was closed."""
    if isinstance(exc, (AuthenticationError, ConfigurationError, ClientClosedError)):
        return True
    return isinstance(exc, PermissionDeniedError) and any(
        detail.qualifier == "access_denied_invalid_key" for detail in exc.errors
    )


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
) -> AsyncIterator[OrderUpdate]:
    """Yield an :class:`OrderUpdate` each time one of ``order_ids`` is seen in a new
    status, until every order is in an ``until`` status or ``deadline`` seconds pass.

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

    :param until: one status or several, each one DigiCert documents
        (:data:`~digicert_async.models.ORDER_STATUSES`); the terminal ones by default.
    """
    wanted = check_statuses("until", until, ORDER_STATUSES)
    check_number("interval", interval, allow_zero=False)
    if deadline is not None:
        check_number("deadline", deadline, allow_zero=False, allow_inf=True)
    check_count("concurrency", concurrency)
    poller = _Poller(
        client,
        check_ids("order_ids", order_ids),
        wanted=wanted,
        interval=interval,
        deadline=deadline,
        concurrency=concurrency,
    )
    async for update in poller.updates():
        yield update


class _DeadlineReached(Exception):
    """The poll's deadline passed while it waited for something."""


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
    ) -> None:
        self._client = client
        self._wanted = wanted
        self._interval = interval
        self._loop = asyncio.get_running_loop()
        self._stop_at = None if deadline is None else self._loop.time() + deadline
        self._semaphore = asyncio.Semaphore(concurrency)
        self.statuses: dict[int, str | None] = dict.fromkeys(order_ids)
        self._unread: set[int] = set()  # reads that failed: tried again at the next look
        self._failed_looks: dict[int, int] = {}  # id -> looks in a row whose read failed
        self._given_up: set[int] = set()

    # ------------------------------------------------------------------ state

    def _finished(self, order_id: int) -> bool:
        status = self.statuses[order_id]
        return (
            status == NOT_FOUND_STATUS
            or (status is not None and status in self._wanted)
            or order_id in self._given_up
        )

    def _unfinished(self) -> list[int]:
        return [i for i in self.statuses if not self._finished(i)]

    def _seen(self, order_id: int, status: str, order: Order | None) -> OrderUpdate | None:
        previous = self.statuses[order_id]
        if previous == status:
            return None
        self.statuses[order_id] = status
        return OrderUpdate(order_id, status, previous, order)

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

    # ------------------------------------------------------------------ time

    def _remaining(self) -> float | None:
        return None if self._stop_at is None else self._stop_at - self._loop.time()

    async def _within_deadline(self, step: Awaitable[_T]) -> _T:
        """``step``, cut short (its request in flight included) when the deadline passes."""
        remaining = self._remaining()
        if remaining is None:
            return await step
        if remaining <= 0:
            if isinstance(step, Coroutine):
                step.close()
            raise _DeadlineReached
        try:
            return await asyncio.wait_for(step, remaining)
        except asyncio.TimeoutError:
            raise _DeadlineReached from None

    # ------------------------------------------------------------------ reading

    async def _read(self, order_id: int) -> OrderUpdate | None:
        async with self._semaphore:
            try:
                order = await self._client.orders.get(order_id)
            except NotFoundError:
                self._unread.discard(order_id)
                return self._seen(order_id, NOT_FOUND_STATUS, None)
            except DigiCertError as exc:
                if stops_a_job(exc):
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
        batch = list(ids)
        # Bounded batches keep the number of live tasks flat however many ids there are.
        for start in range(0, len(batch), 1000):
            tasks = [asyncio.ensure_future(self._read(i)) for i in batch[start : start + 1000]]
            try:
                for next_done in asyncio.as_completed(tasks, timeout=self._remaining()):
                    try:
                        seen = await next_done
                    except asyncio.TimeoutError:
                        raise _DeadlineReached from None
                    if seen is not None:
                        yield seen
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

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
                    page = await self._within_deadline(pages.__anext__())
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
            if stops_a_job(exc):
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
        except _DeadlineReached:
            logger.info(
                "poll_orders: deadline reached with %d orders unfinished", len(self._unfinished())
            )

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
            await self._within_deadline(asyncio.sleep(self._interval))
            look = datetime.now(timezone.utc)
            to_read: set[int] | None = None
            if changes_available:
                try:
                    changes = await self._within_deadline(
                        self._client.orders.status_changes(last_look - _CHANGES_OVERLAP, look)
                    )
                except DigiCertError as exc:
                    if stops_a_job(exc):
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
