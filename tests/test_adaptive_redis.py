"""Adaptive pacing on Redis: the Lua scripts make the transitions of ``Pacing`` on the
shared state, every client of the key paces to the rate one of them learned, and with
Redis gone each process adapts alone."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest

import digicert_async as dc
from digicert_async._ratelimit import (
    InMemoryLimiterBackend,
    RedisKeyLimiter,
    api_key_hash,
    scale_windows,
)
from digicert_async._ratelimit._adaptive import CUT, level

from .test_redis import _closed_port_url, prefix, raw, redis_url  # noqa: F401  (fixtures)

# Windows long enough that the climb (2 x 60 s) does not move the rate during a test.
WINDOWS = [(100, 1.0), (500, 60.0)]

# (sends, then a 429 for the last of them with its usage; fresh: a new epoch)
STEPS: list[tuple[int, bool]] = [
    (55, True),  # refused at 55%: cut below it
    (0, False),  # one of the same burst, sent earlier at 30%: the level falls, to 50% at most
    (0, True),  # a fresh 429 in the streak: cut from the rate in force
]


def _limit(backend: Any = None) -> dc.RateLimit:
    return dc.RateLimit(
        windows=WINDOWS, safety_margin=0.0, cooldown_initial=0.05, cooldown_max=0.05,
        backend=backend,
    )  # fmt: skip


async def _drive(backend: Any) -> list[tuple[tuple[tuple[int, float], ...], int]]:
    """The table through one backend; the windows in force and the cuts after each step."""
    seen = []
    reservation = None
    usages: list[float] = []
    for sends, fresh in STEPS:
        for _ in range(sends):
            reservation = await backend.reserve()
            assert reservation.wait == 0.0
            usages.append(reservation.usage)
            await backend.release(reservation)
        assert reservation is not None
        epoch = reservation.epoch if fresh else reservation.epoch - 1
        usage = usages[-1] if sends else 0.30
        await backend.throttled(epoch, retry_after=0.0, jitter=0.0, usage=usage)
        if fresh:
            reservation = await backend.reserve()  # the next epoch, and the state read back
            await backend.release(reservation)
        seen.append((backend.pace().windows, backend.pace().lowered))
    return seen


async def test_redis_and_memory_make_the_same_pacing_transitions(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
    raw: Any,  # noqa: F811
) -> None:
    memory = InMemoryLimiterBackend.from_rate_limit(_limit(), lambda: 100.0)
    factory = dc.RedisLimiterBackend(redis_url, key_prefix=prefix)
    shared = factory.for_key("k", _limit(factory))
    try:
        on_memory = await _drive(memory)
        on_redis = await _drive(shared)
    finally:
        await shared.aclose()
    assert on_memory == on_redis
    assert [windows[0][0] for windows, _ in on_memory] == [
        math.floor(100 * CUT * 0.55),
        math.floor(100 * CUT * 0.5),
        math.floor(100 * CUT * CUT * 0.5),
    ]
    assert [cuts for _, cuts in on_memory] == [1, 1, 2]
    assert shared.pace().shared
    stored = await raw.hgetall(shared.state_key)
    assert int(stored[b"lowered"]) == 2
    assert float(stored[b"peak"]) == pytest.approx(CUT * 0.5, abs=1e-3)


async def test_every_client_of_the_key_paces_to_the_rate_one_learned(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
) -> None:
    factory = dc.RedisLimiterBackend(redis_url, key_prefix=prefix)
    first = factory.for_key(api_key_hash("key"), _limit(factory))
    second = factory.for_key(api_key_hash("key"), _limit(factory))
    other = factory.for_key(api_key_hash("another key"), _limit(factory))
    try:
        for _ in range(50):
            await first.release(await first.reserve())
        taken = await first.reserve()
        await first.throttled(taken.epoch, retry_after=0.0, jitter=0.0, usage=taken.usage)
        for limiter in (second, other):
            await limiter.release(await limiter.reserve())
        assert first.pace().windows == second.pace().windows == scale_windows(WINDOWS, CUT * 0.51)
        assert second.pace().lowered == 1 and second.pace().shared
        assert other.pace().windows == tuple(WINDOWS) and other.pace().lowered == 0
    finally:
        for limiter in (first, second, other):
            await limiter.aclose()


@pytest.mark.slow
async def test_the_shared_rate_climbs_back_for_every_client_of_the_key(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
) -> None:
    """One client learns a cut; another, which never met a 429, paces to it at first and
    climbs back with it, on Redis's clock, to the configured windows: its pace says so,
    and Redis lets it send a whole window's count again."""
    windows = [(20, 0.5), (40, 1.0)]  # the climb: 2 s back to the refused level, 3 s in all
    factory = dc.RedisLimiterBackend(redis_url, key_prefix=prefix)
    limit = dc.RateLimit(windows=windows, safety_margin=0.0, cooldown_initial=0.05,
                         cooldown_max=0.05, backend=factory)  # fmt: skip
    learner = factory.for_key(api_key_hash("key"), limit)
    other = factory.for_key(api_key_hash("key"), limit)
    try:
        for _ in range(9):
            await learner.release(await learner.reserve())
        taken = await learner.reserve()  # the 10th of 20: refused at half the rate
        before_cut = time.monotonic()
        await learner.throttled(taken.epoch, retry_after=0.0, jitter=0.0, usage=taken.usage)
        after_cut = time.monotonic()
        await learner.release(taken, refused=True)
        await asyncio.sleep(0.6)  # the learner's sends have left both windows
        sent = []
        while (reservation := await other.reserve()).wait == 0.0:
            sent.append(reservation)
        assert len(sent) <= 10  # at most the refused level's 10 of 20
        # The other client's rate is the learner's, as far into the climb as the cut is
        # old: it reads the cut's age off Redis's clock as it takes (or is refused) a slot.
        asked = time.monotonic()
        if (reservation := await other.reserve()).wait == 0.0:
            sent.append(reservation)
        answered = time.monotonic()
        looked, pace, looked_after = time.monotonic(), other.pace(), time.monotonic()
        round_trip = answered - asked
        assert pace.lowered == 1
        assert level(0.5, looked - after_cut - round_trip, 2.0) - 1e-9 <= pace.scale
        assert pace.scale <= level(0.5, looked_after - before_cut + round_trip, 2.0) + 1e-9
        assert pace.scale < 0.5
        for reservation in sent:
            await other.release(reservation)
        await asyncio.sleep(3.2)  # past the climb: the configured windows again
        sent = []
        while (reservation := await other.reserve()).wait == 0.0:
            sent.append(reservation)
        assert len(sent) == 20
        assert other.pace().windows == tuple(windows) and other.pace().scale == 1.0
        assert other.pace().lowered == 1
        for reservation in sent:
            await other.release(reservation)
    finally:
        await learner.aclose()
        await other.aclose()


async def test_redis_spreads_sends_near_the_learned_limit(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
) -> None:
    """As the in-process limiter does (test_adaptive.py): while a cut is in force and a
    learned window is half full, one send per the fastest learned window's pace."""
    factory = dc.RedisLimiterBackend(redis_url, key_prefix=prefix)
    limit = dc.RateLimit(windows=[(20, 1.0), (100, 10.0)], safety_margin=0.0,
                         cooldown_initial=0.01, cooldown_max=0.01, backend=factory)  # fmt: skip
    limiter = factory.for_key("k", limit)
    try:
        taken = await limiter.reserve()
        await limiter.throttled(taken.epoch, retry_after=0.0, jitter=0.0, usage=0.5)
        await limiter.release(taken, refused=True)  # its slot leaves the log
        await asyncio.sleep(0.05)  # the gate reopens
        assert limiter.pace().windows == ((9, 1.0), (45, 10.0))
        sent = []
        while (reservation := await limiter.reserve()).wait == 0.0:
            sent.append(reservation)
        # 5 at once (one more if the machine paused this loop for a ninth of a second)
        assert 5 <= len(sent) < 9
        assert reservation.reason == "window" and 0.0 < reservation.wait <= 1.0 / 9 + 1e-3
        for reservation in sent:
            await limiter.release(reservation)
    finally:
        await limiter.aclose()


async def test_with_redis_gone_each_process_adapts_alone(prefix: str) -> None:  # noqa: F811
    factory = dc.RedisLimiterBackend(_closed_port_url(), key_prefix=prefix, timeout=0.2)
    limiter = RedisKeyLimiter(factory, "k", _limit(factory), clock=lambda: 10.0)
    try:
        taken = await limiter.reserve()  # meets Redis gone: the fallback's 25%
        assert not limiter.available
        assert taken.usage == pytest.approx(1 / 25)
        for _ in range(14):
            taken = await limiter.reserve()
        assert taken.usage == pytest.approx(15 / 25)
        await limiter.throttled(taken.epoch, retry_after=0.0, jitter=0.0, usage=taken.usage)
        state = limiter.pace()
        assert not state.shared and state.lowered == 1
        assert state.windows == scale_windows(((25, 1.0), (125, 60.0)), CUT * 0.6)  # the fallback's
    finally:
        await limiter.aclose()


async def test_adaptive_off_on_redis_stores_no_learned_rate(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
    raw: Any,  # noqa: F811
) -> None:
    factory = dc.RedisLimiterBackend(redis_url, key_prefix=prefix)
    limit = dc.RateLimit(windows=WINDOWS, adaptive=False, backend=factory)
    limiter = factory.for_key("k", limit)
    try:
        taken = await limiter.reserve()
        assert taken.usage is None
        await limiter.throttled(taken.epoch, retry_after=0.0, jitter=0.0, usage=None)
        assert limiter.pace().windows == tuple(WINDOWS)
        assert b"peak" not in await raw.hgetall(limiter.state_key)
    finally:
        await limiter.aclose()


@pytest.mark.parametrize("adaptive", [True, False])
async def test_a_refused_requests_slot_leaves_the_shared_log_only_when_adaptive(
    redis_url: str,  # noqa: F811
    prefix: str,  # noqa: F811
    raw: Any,  # noqa: F811
    adaptive: bool,
) -> None:
    factory = dc.RedisLimiterBackend(redis_url, key_prefix=prefix)
    limit = dc.RateLimit(windows=[(3, 30.0)], adaptive=adaptive, backend=factory)
    limiter = factory.for_key("k", limit)
    try:
        taken = [await limiter.reserve() for _ in range(3)]
        await limiter.release(taken[0], refused=True)
        for reservation in taken[1:]:
            await limiter.release(reservation)
        assert await raw.zcard(limiter.log_key) == (2 if adaptive else 3)
        after = await limiter.reserve()
        assert (after.wait == 0.0) is adaptive
    finally:
        await limiter.aclose()
