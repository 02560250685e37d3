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
        assert gated.reason == "cooldown" and 0.0 < gated.wait <= 1.0


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


def test_the_repr_hides_a_password_with_an_at_sign_or_without_a_user() -> None:
    odd = dc.RedisLimiterBackend("redis://user:p@ss@localhost:6379/0")
    assert "url='redis://user:***@localhost:6379/0'" in repr(odd)
    assert "ss@" not in repr(odd)
    bare = dc.RedisLimiterBackend("redis://:s3cret@localhost:6379/0")
    assert "url='redis://:***@localhost:6379/0'" in repr(bare)


async def test_a_slot_counts_from_when_its_request_is_over_in_redis_and_in_the_fallback(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
) -> None:
    factory = dc.RedisLimiterBackend(redis_url, key_prefix=prefix, fallback_fraction=0.5)
    limit = dc.RateLimit(windows=[(2, 0.4)], safety_margin=0.0, backend=factory)
    limiter = factory.for_key(api_key_hash(API_KEY), limit)
    try:
        for shared in (True, False):
            if not shared:
                _drop(limiter)  # the fallback: 1 per 0.4 s, this process alone
            slots = [await limiter.reserve() for _ in range(2 if shared else 1)]
            assert all(s.wait == 0.0 for s in slots)
            await asyncio.sleep(0.3)  # the requests take a while
            for slot in slots:
                await limiter.release(slot)
            # the window is full from now on, not from when the slots were taken
            waiting = await limiter.reserve()
            # (counted from when taken, 0.1 s would be left)
            assert waiting.reason == "window" and waiting.wait > 0.15
            assert limiter.available is shared
            await asyncio.sleep(waiting.wait + 0.05)  # and a little: clocks differ
    finally:
        await limiter.aclose()


async def test_a_success_as_redis_goes_away_ends_the_streak_locally(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
) -> None:
    async with bound(redis_url, prefix, 0.1, fallback_fraction=1.0) as limiter:
        first = await limiter.reserve()
        assert await limiter.throttled(first.epoch, retry_after=None, jitter=0.99) > 0.0
        await asyncio.sleep(0.15)
        second = await limiter.reserve()  # after the cool-down, in a streak
        assert second.wait == 0.0
        _drop(limiter)
        await limiter.succeeded(second.epoch)  # the streak is over
        third = await limiter.reserve()
        assert not limiter.available and third.wait == 0.0
        # a fresh 429 starts again from the floor, not from a streak of two
        assert await limiter.throttled(third.epoch, retry_after=None, jitter=0.99) == 0.1


async def test_redis_is_asked_again_only_by_the_probe_and_not_before_its_interval(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
) -> None:
    async with bound(redis_url, prefix, 1.0, on_unavailable="fail") as limiter:
        original = _drop(limiter)
        with pytest.raises(dc.LimiterUnavailableError, match=r"\(ConnectionRefusedError\)"):
            await limiter.reserve()
        limiter._run = original  # type: ignore[method-assign]  # Redis answers again
        with pytest.raises(dc.LimiterUnavailableError, match=r"\(ConnectionRefusedError\)"):
            await limiter.reserve()
        await asyncio.sleep(0.05)
        assert not limiter.available  # the next probe is a second away


def test_the_fallback_keeps_at_least_one_request_per_window() -> None:
    factory = dc.RedisLimiterBackend("redis://localhost:6379/0", fallback_fraction=0.25)
    limit = dc.RateLimit(windows=[(2, 5.0), (1000, 180.0)], backend=factory)
    limiter = factory.for_key(api_key_hash(API_KEY), limit)
    assert limiter.fallback_windows == ((1, 5.0), (250, 180.0))
