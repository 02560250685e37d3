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
from collections.abc import AsyncIterator, Collection, Generator, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs

from ._client import CertCentralClient
from ._errors import (
    APIError,
    AuthenticationError,
    DigiCertError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
)
from .models import ORDER_STATUSES, TERMINAL_STATUSES, Order, OrderStatus
from .models._common import check_ids, check_number, check_statuses, check_text, validate_id

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

CANCELABLE_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.WAITING_PICKUP})
_READ_BACK_TRIES = 3
_READ_BACK_PAUSE = 0.25  # seconds, times the try number
_INTERRUPTED_IN_FLIGHT = "interrupted while the cancel request was in flight (it may have landed)"


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
    ``error`` the exception behind a ``failed`` outcome."""

    order_id: int
    outcome: CancelOutcome
    status: str | None = None
    error: BaseException | None = attrs.field(default=None, eq=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the command line prints one per order)."""
        line: dict[str, Any] = {"order_id": self.order_id, "outcome": self.outcome.value}
        if self.status is not None:
            line["status"] = self.status
        if self.error is not None:
            line["error"] = f"{type(self.error).__name__}: {self.error}"
        return line


@attrs.frozen
class CancelReport:
    """Every input id exactly once, in input order, with its outcome.

    ``duplicates`` maps an id given more than once to how many extra times it
    appeared (it was still sent once). ``resume_ids()`` is what a later run should
    be given to finish the job.
    """

    results: list[CancelResult]
    duplicates: Mapping[int, int] = attrs.field(factory=dict)

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
        validate_id("concurrency", concurrency)
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
        in_flight: set[int] = set()
        loop = asyncio.get_running_loop()
        stop_at = None if self._deadline is None else loop.time() + self._deadline

        async def worker() -> None:
            for order_id in pending:
                if self._abort is not None or (stop_at is not None and loop.time() >= stop_at):
                    return
                in_flight.add(order_id)
                try:
                    result = await self._cancel_one(order_id)
                except asyncio.CancelledError:
                    interrupted = asyncio.CancelledError(_INTERRUPTED_IN_FLIGHT)
                    self._record(CancelResult(order_id, CancelOutcome.FAILED, error=interrupted))
                    raise
                finally:
                    in_flight.discard(order_id)
                self._record(result)

        workers = [asyncio.ensure_future(worker()) for _ in range(self._concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        if self._abort is not None:
            logger.error("bulk cancel stopped: the API key was refused (%s)", self._abort)
        logger.info("bulk cancel finished: %s", _describe_counts(self.report.counts))

    def _record(self, result: CancelResult) -> None:
        self._results[result.order_id] = result
        if self._queue is not None:
            self._queue.put_nowait(result)

    async def _cancel_one(self, order_id: int) -> CancelResult:
        try:
            await self._client.orders.cancel(order_id, note=self._note)
        except NotFoundError:
            return CancelResult(order_id, CancelOutcome.NOT_FOUND)
        except (AuthenticationError, PermissionDeniedError) as exc:
            # Reading back would be refused as well. A key DigiCert does not accept
            # at all fails every order alike: stop rather than spend the budget.
            if isinstance(exc, AuthenticationError) or any(
                e.qualifier == "access_denied_invalid_key" for e in exc.errors
            ):
                self._abort = exc
            return CancelResult(order_id, CancelOutcome.FAILED, error=exc)
        except DigiCertError as exc:
            # A refusal (or a failure after which we cannot know whether the PUT
            # landed) is settled by reading the order back.
            return await self._settle(order_id, exc)
        return CancelResult(order_id, CancelOutcome.CANCELED, status=OrderStatus.CANCELED)

    async def _settle(self, order_id: int, cancel_error: DigiCertError) -> CancelResult:
        # The read-back decides what the report says, so it gets a few more tries
        # than one call's retry policy gives (which never retries a 500, say).
        for read in range(1, _READ_BACK_TRIES + 1):
            try:
                order = await self._client.orders.get(order_id)
            except NotFoundError:
                return CancelResult(order_id, CancelOutcome.NOT_FOUND)
            except (AuthenticationError, PermissionDeniedError) as exc:
                return CancelResult(order_id, CancelOutcome.FAILED, error=exc)
            except DigiCertError as exc:
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
            # Refused at the first attempt: it was canceled before this run. After
            # more attempts, an earlier one whose answer was lost did it.
            refused_at_once = (
                isinstance(cancel_error, APIError)
                and 400 <= cancel_error.status < 500
                and cancel_error.attempts == 1
            )
            outcome = CancelOutcome.ALREADY_CANCELED if refused_at_once else CancelOutcome.CANCELED
            return CancelResult(order_id, outcome, status=status)
        if status in CANCELABLE_STATUSES or status is None:
            return CancelResult(order_id, CancelOutcome.FAILED, status=status, error=cancel_error)
        return CancelResult(order_id, CancelOutcome.NOT_CANCELABLE, status=status)


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
    :param deadline: seconds after which no new cancellation starts; the rest are
        ``not_attempted`` and ``report.resume_ids()`` lists them for a later run.
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
    validate_id("concurrency", concurrency)
    statuses: dict[int, str | None] = dict.fromkeys(check_ids("order_ids", order_ids))
    loop = asyncio.get_running_loop()
    stop_at = None if deadline is None else loop.time() + deadline
    semaphore = asyncio.Semaphore(concurrency)

    def past_deadline() -> bool:
        return stop_at is not None and loop.time() >= stop_at

    failed_looks: dict[int, int] = {}  # id -> looks in a row whose read failed
    given_up: set[int] = set()

    def finished(order_id: int) -> bool:
        status = statuses[order_id]
        return (
            status == NOT_FOUND_STATUS
            or (status is not None and status in wanted)
            or order_id in given_up
        )

    def unfinished() -> list[int]:
        return [i for i in statuses if not finished(i)]

    def update(order_id: int, status: str, order: Order | None) -> OrderUpdate | None:
        previous = statuses[order_id]
        if previous == status:
            return None
        statuses[order_id] = status
        return OrderUpdate(order_id, status, previous, order)

    unread: set[int] = set()  # reads that failed: tried again at the next look

    async def read(order_id: int) -> OrderUpdate | None:
        async with semaphore:
            try:
                order = await client.orders.get(order_id)
            except NotFoundError:
                unread.discard(order_id)
                return update(order_id, NOT_FOUND_STATUS, None)
            except DigiCertError as exc:
                unread.add(order_id)
                if _passing(exc):
                    logger.warning(
                        "poll_orders: reading order %s failed (%s); will retry", order_id, exc
                    )
                    return None
                return unreadable(order_id, exc)
        unread.discard(order_id)
        failed_looks.pop(order_id, None)
        return update(order_id, order.status or "unknown", order)

    def unreadable(order_id: int, exc: DigiCertError) -> OrderUpdate:
        looks = failed_looks[order_id] = failed_looks.get(order_id, 0) + 1
        if looks >= UNREADABLE_LOOKS:
            given_up.add(order_id)
            unread.discard(order_id)
            logger.warning(
                "poll_orders: giving up on order %s after %d failed reads: %s", order_id, looks, exc
            )
        else:
            logger.warning(
                "poll_orders: order %s could not be read (%s); will retry", order_id, exc
            )
        status = statuses[order_id]
        return OrderUpdate(order_id, status, status, None, error=exc)

    async def read_all(ids: Iterable[int]) -> AsyncIterator[OrderUpdate]:
        batch = list(ids)
        # Bounded batches keep the number of live tasks flat however many ids there are.
        for start in range(0, len(batch), 1000):
            if past_deadline():
                return
            tasks = [asyncio.ensure_future(read(i)) for i in batch[start : start + 1000]]
            try:
                for next_done in asyncio.as_completed(tasks):
                    seen = await next_done
                    if seen is not None:
                        yield seen
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    last_look = datetime.now(timezone.utc)
    # The first look lists the account, unless its first page shows that listing it
    # all would take more requests than reading each id (a few ids, a big account).
    # Whatever the listing does not show (a page or an order that did not decode, a
    # listing that failed) is read one by one afterwards.
    listing = client.orders.list(page_size=_FIRST_LOOK_PAGE_SIZE)
    pages = listing.pages(past_bad_pages=True)
    try:
        async for page in pages:
            if page.error is not None:
                logger.warning(
                    "poll_orders: a page of the order listing could not be read (%s);"
                    " its orders are read one by one",
                    page.error,
                )
            for order in page.items:
                if order.id in statuses:
                    listed = update(order.id, order.status or "unknown", order)
                    if listed is not None:
                        yield listed
            if past_deadline() or _listing_costs_more(listing.total, len(statuses)):
                break
    except DigiCertError as exc:
        logger.warning("poll_orders: listing the orders failed (%s); reading them one by one", exc)
    finally:
        await pages.aclose()
    async for seen in read_all([i for i, s in statuses.items() if s is None]):
        yield seen

    changes_available = True
    while True:
        remaining = unfinished()
        if not remaining:
            return
        if past_deadline():
            logger.info("poll_orders: deadline reached with %d orders unfinished", len(remaining))
            return
        wait = interval if stop_at is None else min(interval, stop_at - loop.time())
        await asyncio.sleep(wait)
        look = datetime.now(timezone.utc)
        to_read: set[int] | None = None
        if changes_available:
            try:
                changes = await client.orders.status_changes(last_look - _CHANGES_OVERLAP, look)
            except DigiCertError as exc:
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
                    if c.order_id in statuses
                    and not finished(c.order_id)
                    and c.status != statuses[c.order_id]
                }
                last_look = look
        async for seen in read_all(sorted(unread | to_read) if to_read is not None else remaining):
            yield seen
