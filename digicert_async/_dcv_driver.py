"""The DCV driver: get the token, publish, ask DigiCert to check on a schedule until the
names pass or the driver's time is up, and remove what it published, whatever happened.

The schedule is policy without I/O (:class:`CheckSchedule`): the first check waits for
DNS to propagate, the later ones back off to a cap, and none comes sooner than the
floor, so a check that comes too early is an answer to wait on, never a tight loop on
the rate budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import attrs

from ._checks import check_id, describe
from ._client import CertCentralClient
from ._dcv import (
    DCV_TOKEN_METHODS,
    DcvRecord,
    domain_instructions,
    order_names,
    records_for,
)
from ._errors import (
    BadRequestError,
    DigiCertError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)

__all__ = ["CheckSchedule", "DcvDriver", "DcvOutcome", "DcvRun", "Publisher", "WakeFor"]

logger = logging.getLogger("digicert_async")

Publisher = Callable[[DcvRecord], Awaitable[Any]]
"""The user's ``async`` callable that puts one record in place (or removes it)."""

WakeFor = Callable[[int | None, Sequence[str]], AbstractContextManager[asyncio.Event]]
"""Given a run's domain id (None for an order) and names: a context holding the flag that
a pushed event about them sets (see ``validate_domains(events=...)``)."""

MIN_CHECK_INTERVAL = 5.0
"""No two checks of one name come closer than this (seconds), whatever is configured."""

# A check that failed this way is asked again at its next time: DigiCert not finding the
# record yet (a 400), or a failure that passes (a 5xx, a 429, the network).
_NOT_YET = (BadRequestError, ServerError, RateLimitError, TransportError)

# What a domain check answers once DigiCert found the token (the docs list no closed set).
_DOMAIN_PASSED = frozenset({"active", "approved", "complete", "valid", "validated"})


class DcvOutcome(str, enum.Enum):
    """How one DCV run ended."""

    VALIDATED = "validated"
    TIMED_OUT = "timed_out"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


@attrs.frozen(kw_only=True)
class CheckSchedule:
    """When to check: ``first`` seconds after publishing (DNS propagation), then
    ``interval`` growing by ``factor`` up to ``cap``; never closer than
    :data:`MIN_CHECK_INTERVAL`."""

    first: float = 30.0
    interval: float = 30.0
    factor: float = 2.0
    cap: float = 300.0

    def __attrs_post_init__(self) -> None:
        for name in ("first", "interval", "cap"):
            value = getattr(self, name)
            if type(value) not in (int, float) or not value >= 0:
                raise ValidationError(name, f"must be a number of seconds >= 0, got {value!r}")
        if type(self.factor) not in (int, float) or not self.factor >= 1:
            raise ValidationError("factor", f"must be a number >= 1, got {self.factor!r}")

    def delay(self, check_number: int) -> float:
        """Seconds to wait before check ``check_number`` (1 for the first)."""
        if check_number <= 1:
            wait = self.first
        else:
            wait = min(self.cap, self.interval * self.factor ** (check_number - 2))
        return max(MIN_CHECK_INTERVAL, wait)


@attrs.frozen(kw_only=True)
class DcvRun:
    """What one DCV run did: its ``outcome``, the ``records`` it published (and then
    removed), how many ``checks`` it asked for, and the ``error`` behind a failure."""

    outcome: DcvOutcome
    records: tuple[DcvRecord, ...] = ()
    checks: int = 0
    error: BaseException | None = attrs.field(default=None, eq=False)


def _callable(name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not callable(value):
        raise ValidationError(
            name, f"must be an async callable taking a DcvRecord, not {describe(value)}"
        )


class DcvDriver:
    """Drives DCV for orders and domains with the user's ``publish`` (and ``unpublish``).

    ``publish(record)`` puts one :class:`~digicert_async.DcvRecord` in place (a DNS
    record, or a file on a web server); ``unpublish(record)`` removes it, and is called
    for every record published, whether the run passed, timed out or failed. ``method``
    is ``dns-txt-token`` (the default), ``http-token`` or, for domains,
    ``dns-cname-token``. ``schedule`` says when DigiCert is asked to check (see
    :class:`CheckSchedule`; the first check waits for DNS to propagate), and
    ``timeout`` how long (seconds) one run keeps checking before it ends ``timed_out``.
    A check that does not find the record yet, or fails for a passing reason (a 400, a
    5xx, a 429 after the client's retries, the network), is asked again at its next time.
    ``sleep`` is how it waits (``asyncio.sleep``; a test passes its own clock).
    """

    def __init__(
        self,
        *,
        publish: Publisher,
        unpublish: Publisher | None = None,
        method: str = "dns-txt-token",
        schedule: CheckSchedule | None = None,
        timeout: float = 3600.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        _callable("publish", publish)
        _callable("unpublish", unpublish, optional=True)
        if method not in DCV_TOKEN_METHODS:
            listing = ", ".join(sorted(DCV_TOKEN_METHODS))
            raise ValidationError("method", f"must be one of {listing}, got {method!r}")
        if type(timeout) not in (int, float) or not timeout > 0:
            raise ValidationError("timeout", f"must be a number of seconds > 0, got {timeout!r}")
        self.publish = publish
        self.unpublish = unpublish
        self.method = method
        self.schedule = schedule if schedule is not None else CheckSchedule()
        self.timeout = float(timeout)
        self._sleep = sleep

    async def validate_order(
        self,
        client: CertCentralClient,
        order_id: int,
        *,
        names: Sequence[str] | None = None,
        wake: WakeFor | None = None,
    ) -> DcvRun:
        """Pass DCV for one pending order: change its method to ``method`` (which
        gives the token: one request), publish a record per name (``names``, else the
        order's, read once), check on the schedule, unpublish. With ``wake``, a pushed
        event about one of the names brings a check forward (see :meth:`validate_domain`)."""
        check_id("order_id", order_id)
        if self.method == "dns-cname-token":
            raise ValidationError("method", "an order's DCV takes dns-txt-token or http-token")
        value = await client.orders.change_dcv_method(order_id, self.method)
        token = value.dcv_random_value if value is not None else None
        if token is None:
            token = (await client.orders.dcv_random_value(order_id)).dcv_random_value
        if names is None:
            names = order_names(await client.orders.get(order_id))
        records = records_for(self.method, token, names)

        async def check() -> bool:
            try:
                answer = await client.orders.check_dcv(order_id)
            except _NOT_YET:  # not found yet, or a passing failure: the schedule goes on
                return False
            return answer.dcv_status == "valid" and not answer.pending_names()

        with _watching(wake, None, names) as flag:
            return await self._publish_and_check(records, check, flag)

    async def validate_order_if_pending(
        self, client: CertCentralClient, order_id: int, *, names: Sequence[str] | None = None
    ) -> DcvRun | None:
        """:meth:`validate_order` when the order's DCV is not passed yet; None (after one
        check) when it is. A failure is a ``failed`` run with its ``error``, never raised:
        what a fleet job does next does not hang on one order's DCV."""
        try:
            answer = await client.orders.check_dcv(order_id)
            if answer.dcv_status == "valid" and not answer.pending_names():
                return None
        except BadRequestError:
            pass  # no DCV state to report yet: the run below finds out
        except DigiCertError as exc:
            return DcvRun(outcome=DcvOutcome.FAILED, error=exc)
        try:
            return await self.validate_order(client, order_id, names=names)
        except DigiCertError as exc:
            return DcvRun(outcome=DcvOutcome.FAILED, error=exc)

    async def validate_domain(
        self, client: CertCentralClient, domain_id: int, *, wake: WakeFor | None = None
    ) -> DcvRun:
        """Pass DCV for one domain: its token (the one it has when it is already on
        ``method``, else a new one by changing the method), publish, check, unpublish.

        With ``wake``, a pushed event about the domain (its flag set) brings one check
        forward, at most one between two of the schedule's, whose checks stay as they
        were: pushes only make a run end sooner, and a lost one costs nothing."""
        check_id("domain_id", domain_id)
        domain = await client.domains.get(domain_id, include_dcv=True)
        records = (await domain_instructions(client, domain, self.method)).records

        async def check() -> bool:
            try:
                answer = await client.domains.check_dcv(domain_id)
            except _NOT_YET:
                return False
            return (answer.status or answer.dcv_status or "") in _DOMAIN_PASSED

        with _watching(wake, domain_id, (domain.name or "",)) as flag:
            return await self._publish_and_check(records, check, flag)

    async def _publish_and_check(
        self,
        records: tuple[DcvRecord, ...],
        check: Callable[[], Awaitable[bool]],
        flag: asyncio.Event | None = None,
    ) -> DcvRun:
        published: list[DcvRecord] = []
        checks = scheduled = 0
        try:
            for record in records:
                await self.publish(record)
                published.append(record)
            waited = 0.0
            while True:
                delay = self.schedule.delay(scheduled + 1)
                if waited + delay > self.timeout and scheduled:
                    return DcvRun(outcome=DcvOutcome.TIMED_OUT, records=records, checks=checks)
                waited += delay
                scheduled += 1
                made, passed = await self._checks_until_due(delay, check, flag)
                checks += made
                if passed:
                    return DcvRun(outcome=DcvOutcome.VALIDATED, records=records, checks=checks)
        finally:
            await self._remove(published)

    async def _checks_until_due(
        self, delay: float, check: Callable[[], Awaitable[bool]], flag: asyncio.Event | None
    ) -> tuple[int, bool]:
        """The schedule's check after ``delay``, and before it, if ``flag`` is set during
        the wait, one pushed check: (checks made, passed)."""
        if flag is None:
            await self._sleep(delay)
            return 1, await check()
        made = 0
        due = asyncio.ensure_future(self._sleep(delay))
        pushed = asyncio.ensure_future(flag.wait())
        try:
            await asyncio.wait({due, pushed}, return_when=asyncio.FIRST_COMPLETED)
            if not due.done():
                # Cleared before the check: a push that comes during it is not answered
                # by it, and a repeat of one already answered costs one check at most.
                flag.clear()
                made = 1
                if await check():
                    return made, True
            await due
        finally:
            for task in (due, pushed):
                task.cancel()
            await asyncio.gather(due, pushed, return_exceptions=True)
        flag.clear()
        return made + 1, await check()

    async def _remove(self, published: list[DcvRecord]) -> None:
        if self.unpublish is None:
            return
        for record in published:
            try:
                await asyncio.shield(self.unpublish(record))
            except Exception as exc:  # one record left behind must not hide the outcome
                logger.warning("DCV: removing %s %s failed: %r", record.type, record.name, exc)


def _watching(
    wake: WakeFor | None, domain_id: int | None, names: Sequence[str]
) -> AbstractContextManager[asyncio.Event | None]:
    return contextlib.nullcontext() if wake is None else wake(domain_id, tuple(names))
