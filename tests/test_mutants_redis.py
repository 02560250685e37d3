"""The Redis limiter's hand-over to its local fallback, as mutation testing found it unchecked.

On the test Redis of ``test_redis`` (its fixtures): Redis "goes away" by making the
limiter's script calls fail with a connection error, the way a dropped connection
does. A 429 that arrives just then still begins the cool-down locally, a gate
closed in Redis still holds in the fallback, and a request paced locally while
Redis was away is of the current epoch once Redis is back. The ``repr`` of a
limiter names where its state lives and never more of the key than its hash.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

import digicert_async as dc
from digicert_async._ratelimit import RedisKeyLimiter, api_key_hash

from .test_redis import API_KEY, prefix, redis_url  # noqa: F401 (fixtures)

COOLDOWN = 0.3


@contextlib.asynccontextmanager
async def bound(
    url: str, key_prefix: str, cooldown_initial: float, **options: Any
) -> AsyncIterator[RedisKeyLimiter]:
    factory = dc.RedisLimiterBackend(url, key_prefix=key_prefix, **options)
    limit = dc.RateLimit(windows=[], cooldown_initial=cooldown_initial, backend=factory)
    limiter = factory.for_key(api_key_hash(API_KEY), limit)
    try:
        yield limiter
    finally:
        await limiter.aclose()


def _drop(limiter: RedisKeyLimiter) -> Any:
    """Make every script call fail as a dropped connection does; the original, to restore."""
    original = limiter._run

    async def refused(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError("connection refused")

    limiter._run = refused  # type: ignore[method-assign]
    return original


async def test_a_429_when_redis_goes_away_begins_the_cool_down_locally(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
) -> None:
    async with bound(redis_url, prefix, COOLDOWN) as limiter:
        sent = await limiter.reserve()
        assert (sent.wait, sent.epoch) == (0.0, 0)
        _drop(limiter)
        closed = await limiter.throttled(sent.epoch, retry_after=None, jitter=0.5)
        assert not limiter.available
        assert closed == pytest.approx(COOLDOWN)
        gated = await limiter.reserve()
        assert gated.reason == "cooldown" and 0.0 < gated.wait <= COOLDOWN


async def test_a_late_429_of_a_burst_counted_in_redis_counts_no_more_locally(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
) -> None:
    async with bound(redis_url, prefix, COOLDOWN) as limiter:
        first, second = await limiter.reserve(), await limiter.reserve()
        assert await limiter.throttled(first.epoch, retry_after=None, jitter=0.5) > 0.0
        _drop(limiter)
        # in flight with the first: the same burst, already counted
        assert await limiter.throttled(second.epoch, retry_after=None, jitter=0.5) == 0.0
        assert not limiter.available


async def test_a_gate_closed_in_redis_holds_in_the_fallback(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
) -> None:
    async with bound(redis_url, prefix, 1.0) as limiter:
        sent = await limiter.reserve()
        assert await limiter.throttled(sent.epoch, retry_after=None, jitter=0.5) == 1.0
        _drop(limiter)
        gated = await limiter.reserve()
        assert not limiter.available
        assert gated.reason == "cooldown" and 0.5 < gated.wait <= 1.0


async def test_a_request_paced_locally_is_of_the_current_epoch_once_redis_is_back(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
) -> None:
    async with bound(redis_url, prefix, COOLDOWN, probe_interval=0.01) as limiter:
        await limiter.reserve()  # Redis seen at epoch 0
        original = _drop(limiter)
        await limiter.reserve()  # Redis went away
        limiter._run = original  # type: ignore[method-assign]
        await asyncio.sleep(0.02)
        local = await limiter.reserve()  # paced locally; starts the probe that finds Redis
        assert local.epoch < 0
        for _ in range(100):
            if limiter.available:
                break
            await asyncio.sleep(0.01)
        assert limiter.available
        closed = await limiter.throttled(local.epoch, retry_after=None, jitter=0.5)
        assert closed == pytest.approx(COOLDOWN)


def test_reprs_name_where_the_state_lives_and_only_the_keys_hash() -> None:
    given = dc.RedisLimiterBackend(client=object())  # type: ignore[arg-type]
    assert repr(given).startswith("RedisLimiterBackend(client=<given>, key_prefix=")
    factory = dc.RedisLimiterBackend("redis://localhost:6379/0", key_prefix="pfx")
    limiter = factory.for_key(api_key_hash(API_KEY), dc.RateLimit(backend=factory))
    assert repr(limiter) == (
        f"RedisKeyLimiter('redis://localhost:6379/0', key='pfx:{{{api_key_hash(API_KEY)}}}',"
        " available=True)"
    )
    assert API_KEY not in repr(limiter)
