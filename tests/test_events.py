"""One event per fact: a call's start and end tie its attempts together, and the log is
one more subscriber of the same events the hooks see."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import digicert_async as dc
from digicert_async._hooks import (
    CallEnded,
    CallStarted,
    CooldownStarted,
    Events,
    RetryDeclined,
)
from digicert_async.testing import FakeCertCentral, Fault


class Seen:
    """Every event a client tells, in order."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        record = self.events.append
        self.hooks = dc.Hooks(
            on_call_start=[record],
            on_call_end=[record],
            on_request=[record],
            on_response=[record],
            on_retry=[record],
            on_retry_declined=[record],
            on_rate_limit_wait=[record],
            on_cooldown=[record],
        )

    def of(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


def client_for(fake: FakeCertCentral, seen: Seen, **options: Any) -> dc.CertCentralClient:
    options.setdefault("rate_limit", dc.RateLimit.disabled())
    options.setdefault("retry", dc.RetryPolicy(max_attempts=3, backoff_initial=0.01))
    return dc.CertCentralClient(
        api_key=fake.api_key, base_url=fake.base_url, hooks=seen.hooks, **options
    )


async def test_the_events_of_one_call_share_its_number_and_route() -> None:
    seen = Seen()
    async with FakeCertCentral(rate_limits=None, orders=3) as fake:
        order_id = fake.order_ids[0]
        fake.inject(Fault.SERVICE_UNAVAILABLE_HTML, times=1)
        async with client_for(fake, seen) as client:
            await client.orders.get(order_id)
            await client.orders.list_notes(order_id)
    kinds = [type(event).__name__ for event in seen.events]
    assert kinds == [
        "CallStarted",
        "RequestSent",
        "ResponseReceived",  # the 503
        "RetryScheduled",
        "RequestSent",
        "ResponseReceived",
        "CallEnded",
        "CallStarted",
        "RequestSent",
        "ResponseReceived",
        "CallEnded",
    ]
    first, second = seen.of(CallStarted)
    assert first.call != second.call
    assert {e.call for e in seen.events[:7]} == {first.call}
    assert {e.route for e in seen.events[:7]} == {"/order/certificate/{order_id}"}
    assert first.url == fake.base_url + f"/order/certificate/{order_id}"
    assert second.route == "/order/certificate/{order_id}/note"
    ended = seen.of(CallEnded)
    assert (ended[0].attempts, ended[0].error) == (2, None)
    assert ended[0].elapsed >= sum(
        e.elapsed for e in seen.events[:7] if type(e).__name__ == "ResponseReceived"
    )


async def test_a_failed_call_ends_with_its_error_and_why_it_was_not_retried() -> None:
    seen = Seen()
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        fake.inject(Fault.SERVICE_UNAVAILABLE_HTML, times=5)
        async with client_for(fake, seen, retry=dc.RetryPolicy(max_attempts=2)) as client:
            with pytest.raises(dc.ServerError) as caught:
                await client.orders.get(fake.order_ids[0])
    (declined,) = seen.of(RetryDeclined)
    assert declined.reason == "max_attempts reached" and declined.cause.status == 503
    (ended,) = seen.of(CallEnded)
    assert ended.error is caught.value and ended.attempts == 2


async def test_a_429_tells_of_the_cool_down_it_started() -> None:
    seen = Seen()
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        fake.inject(Fault.RATE_LIMITED, times=1)
        limit = dc.RateLimit(windows=(), cooldown_initial=0.05, cooldown_max=0.05)
        async with client_for(fake, seen, rate_limit=limit) as client:
            await client.orders.get(fake.order_ids[0])
    (cooldown,) = seen.of(CooldownStarted)
    assert cooldown.delay == pytest.approx(0.05) and cooldown.retry_after is False
    assert cooldown.call == seen.of(CallStarted)[0].call


async def test_the_log_writes_what_the_events_tell(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="digicert_async")
    seen = Seen()
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        fake.inject(Fault.SERVICE_UNAVAILABLE_HTML, times=1)
        async with client_for(fake, seen) as client:
            await client.orders.get(fake.order_ids[0])
    lines = [r.getMessage() for r in caplog.records if r.name == "digicert_async"]
    answered = [e for e in seen.events if type(e).__name__ == "ResponseReceived"]
    assert [line for line in lines if " -> 503 in " in line or " -> 200 in " in line] == [
        f"GET {e.url} -> {e.status} in {e.elapsed:.3f} s" for e in answered
    ]
    assert any(line.endswith(f"retry 1 of 2 in {seen.events[3].delay:.2f} s") for line in lines)


def test_per_attempt_events_are_built_only_for_someone_listening() -> None:
    logging.getLogger("digicert_async").setLevel(logging.INFO)
    try:
        assert not Events(dc.Hooks()).listens_response()
        assert Events(dc.Hooks(on_response=[print])).listens_response()
        logging.getLogger("digicert_async").setLevel(logging.DEBUG)
        assert Events(dc.Hooks()).listens_response()  # the log wants it now
    finally:
        logging.getLogger("digicert_async").setLevel(logging.NOTSET)
