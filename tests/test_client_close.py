"""close() with calls in flight, called any number of times at once, against a slow
FakeCertCentral over loopback.

Each test lets close() wait as long as it likes for the calls it ended to leave
(``DRAIN_GRACE`` of an hour): a close() that waited for the grace instead of the drain
would never return, and the guard around it fails the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import digicert_async as dc
from digicert_async import _client
from digicert_async.testing import FakeCertCentral, Fault

from .test_resilience import wait_until

CALLS = 12
GUARD = 30.0  # against a hang only: the closes return within milliseconds


@pytest.fixture(autouse=True)
def _patient_close(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_client, "DRAIN_GRACE", 3600.0)


@pytest.fixture
async def slow_fake() -> AsyncIterator[FakeCertCentral]:
    """A fake that holds every answer back for an hour."""
    async with FakeCertCentral(rate_limits=None, orders=0, slow_seconds=3600.0) as fake:
        fake.inject(Fault.SLOW, times=1000)
        yield fake


def client_for(fake: FakeCertCentral, **options: Any) -> dc.CertCentralClient:
    options.setdefault("rate_limit", dc.RateLimit.disabled())
    return dc.CertCentralClient(
        api_key=fake.api_key, base_url=fake.base_url, timeout=3600.0, **options
    )


async def calls_in_flight(
    fake: FakeCertCentral, client: dc.CertCentralClient, *, sent: int = CALLS
) -> list[asyncio.Future[Any]]:
    order_ids = [fake.add_order("pending") for _ in range(CALLS)]
    calls = [asyncio.ensure_future(client.orders.get(order_id)) for order_id in order_ids]
    await wait_until(lambda: len(fake.requests) == sent)
    return calls


async def outcomes_of(calls: list[asyncio.Future[Any]]) -> list[str]:
    results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), GUARD)
    return [type(result).__name__ for result in results]


@pytest.mark.parametrize("closes", [2, 3, 10])
async def test_concurrent_closes_end_every_call_with_client_closed_error(
    slow_fake: FakeCertCentral, closes: int
) -> None:
    client = client_for(slow_fake)
    calls = await calls_in_flight(slow_fake, client)
    await asyncio.wait_for(asyncio.gather(*(client.close() for _ in range(closes))), GUARD)
    assert await outcomes_of(calls) == ["ClientClosedError"] * CALLS
    assert client.closed
    with pytest.raises(dc.ClientClosedError):
        await client.orders.get(1)


async def test_closes_from_separate_tasks_all_return_once_the_calls_are_over(
    slow_fake: FakeCertCentral,
) -> None:
    client = client_for(slow_fake)
    calls = await calls_in_flight(slow_fake, client)
    first = asyncio.ensure_future(client.close())
    await asyncio.sleep(0)  # the first has begun ending the calls
    second = asyncio.ensure_future(client.close())
    await asyncio.wait_for(asyncio.gather(first, second), GUARD)
    # Every call was over by the time either close() returned.
    assert all(call.done() for call in calls)
    assert await outcomes_of(calls) == ["ClientClosedError"] * CALLS
    await asyncio.wait_for(client.close(), GUARD)  # and once more, after it is all over


async def test_a_cancelled_close_leaves_the_shutdown_to_the_others(
    slow_fake: FakeCertCentral,
) -> None:
    client = client_for(slow_fake)
    calls = await calls_in_flight(slow_fake, client)
    impatient = asyncio.ensure_future(client.close())
    patient = asyncio.ensure_future(client.close())
    await asyncio.sleep(0)
    impatient.cancel()
    await asyncio.wait_for(patient, GUARD)
    assert impatient.cancelled()
    assert await outcomes_of(calls) == ["ClientClosedError"] * CALLS
    assert client._session is None  # the session it opened was closed


async def test_concurrent_closes_end_calls_queued_for_the_rate_limit(
    slow_fake: FakeCertCentral,
) -> None:
    waits: list[dc.RateLimitWait] = []
    client = client_for(
        slow_fake,
        rate_limit=dc.RateLimit(windows=[(4, 60.0)]),
        hooks=dc.Hooks(on_rate_limit_wait=[waits.append]),
    )
    calls = await calls_in_flight(slow_fake, client, sent=4)
    await wait_until(lambda: bool(waits))
    await asyncio.wait_for(asyncio.gather(client.close(), client.close()), GUARD)
    assert await outcomes_of(calls) == ["ClientClosedError"] * CALLS
    assert len(slow_fake.requests) == 4  # the queued ones never went out


async def test_concurrent_closes_keep_a_borrowed_session_open(
    slow_fake: FakeCertCentral,
) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        client = client_for(slow_fake, session=session)
        calls = await calls_in_flight(slow_fake, client)
        await asyncio.wait_for(asyncio.gather(client.close(), client.close()), GUARD)
        assert not session.closed
        assert await outcomes_of(calls) == ["ClientClosedError"] * CALLS
