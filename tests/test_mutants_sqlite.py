"""The shared store's fallback rules and the SQLite backend, as mutation testing found them
unchecked.

On a file in ``tmp_path`` with an injected clock (the fallback's and the shared state's):
the file "goes away" by making the steps of its :class:`SqliteState` raise as a locked
file does. What is written back after an outage (the sends of the longest window, at
their times, the last ``count`` of them), when the probe runs, which epoch a request
belongs to across an outage, the streak and the gate carried into the fallback, the
learned rate as ``pace()`` tells it, and the file's own bookkeeping (trimming, refused
slots, stale rows, its folder).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import digicert_async as dc
from digicert_async._ratelimit import PaceState, SqliteKeyLimiter, api_key_hash, cooldown_delay
from digicert_async._ratelimit._adaptive import CUT
from digicert_async._ratelimit._shared import SharedOptions, shown

from .test_redis import _ours
from .test_sqlite import API_KEY, Clock

STEPS = ("reserve", "throttled", "succeeded", "release", "ping")


@contextlib.asynccontextmanager
async def bound(
    path: Path, windows: Any, clock: Clock, *, backend: Any = None, **limit: Any
) -> AsyncIterator[SqliteKeyLimiter]:
    factory = dc.SqliteLimiterBackend(path, **(backend or {}))
    limit.setdefault("safety_margin", 0.0)
    rate_limit = dc.RateLimit(windows=windows, backend=factory, **limit)
    limiter = SqliteKeyLimiter(
        factory, api_key_hash(API_KEY), rate_limit, clock=clock, wall_clock=clock
    )
    try:
        yield limiter
    finally:
        await limiter.aclose()


def _down(limiter: SqliteKeyLimiter) -> Callable[[], None]:
    """Make every step of the file fail as a locked file does; returns what restores it."""
    state = limiter.state
    originals = {name: getattr(state, name) for name in STEPS}

    def locked(*args: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    for name in STEPS:
        setattr(state, name, locked)

    def restore() -> None:
        for name, step in originals.items():
            setattr(state, name, step)

    return restore


async def _back(limiter: SqliteKeyLimiter, clock: Clock) -> None:
    """Let a probe find the file again (the clock moved past the next probe)."""
    clock.now += 1.0
    if not limiter.available:
        await limiter.reserve()  # paced locally; starts the probe
    for _ in range(200):
        if limiter.available:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the probe did not find the file")


@contextlib.contextmanager
def _db(path: Path) -> Iterator[sqlite3.Connection]:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        yield db


def _slot_times(path: Path) -> list[float]:
    with _db(path) as db:
        return [at for (at,) in db.execute("SELECT at FROM limiter_slots ORDER BY at")]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "two" / "levels" / "ratelimit.sqlite3"


# -- the options -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("fallback_fraction", 0, "more than zero"),
        ("fallback_fraction", -0.5, "more than zero"),
        ("fallback_fraction", 1.5, "must be at most 1.0, not 1.5"),
        ("probe_interval", 0, "more than zero"),
        ("timeout", 0.0, "more than zero"),
        ("on_unavailable", "ignore", "must be 'fallback' or 'fail', not 'ignore'"),
    ],
)
def test_each_option_is_refused_by_its_own_name(option: str, value: Any, says: str) -> None:
    with pytest.raises(dc.ValidationError, match=says) as info:
        dc.SqliteLimiterBackend("x.sqlite3", **{option: value})
    assert info.value.field == f"rate_limit.backend.{option}"


def test_the_defaults() -> None:
    assert dc.SqliteLimiterBackend("x.sqlite3").options == SharedOptions(
        timeout=1.0, on_unavailable="fallback", fallback_fraction=0.25, probe_interval=1.0
    )


def test_shown_escapes_and_cuts_what_it_is_given() -> None:
    assert shown("plain text") == "plain text"
    assert shown("a\nb\x1b[2J\u202ec\u00e9") == "a\\nb\\x1b[2J\\u202ec\u00e9"
    assert shown("x" * 200) == "x" * 200
    assert shown("x" * 201) == "x" * 197 + "..."


# -- what an outage writes back ------------------------------------------------------------------


async def test_the_sends_of_an_outage_are_written_back_at_their_times(path: Path) -> None:
    """Those still in the longest window (with its margin), at the times they were sent;
    and the fallback remembers no more of them than a window's count."""
    clock = Clock()
    options = {"fallback_fraction": 1.0}
    async with bound(path, [(3, 10.0)], clock, backend=options, safety_margin=0.5) as limiter:
        _down(limiter)
        start = clock.now
        for offset in (0.0, 20.0, 40.0, 41.0, 42.0):
            clock.now = start + offset
            taken = await limiter.reserve()
            assert taken.wait == 0.0 and taken.epoch < 0
            await limiter.release(taken)  # its request is over at once
        assert limiter.fallback_sends == 5 and len(limiter._unshared) == 3
        limiter.state = type(limiter.state)(
            path, api_key_hash(API_KEY), limiter._rate_limit, clock, busy_timeout=1.0
        )
        clock.now = start + 55.0  # +40 is 15 s old (10 s x 1.5): out; +41 and +42 in
        await limiter._ping()
        assert limiter.available
        assert (await limiter.reserve()).wait == 0.0
        assert _slot_times(path) == [start + 41.0, start + 42.0, start + 55.0]


async def test_no_probe_runs_before_its_interval_and_one_runs_at_it(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(10, 1.0)], clock, backend={"probe_interval": 5.0}) as limiter:
        await limiter.reserve()
        restore = _down(limiter)
        pings = 0

        def ping() -> None:
            nonlocal pings
            pings += 1

        await limiter.reserve()  # goes down: the next probe is due 5 s on
        went_down = clock.now
        clock.now = went_down + 5.0
        await limiter.reserve()  # a probe, which fails: the next is due 5 s on again
        await asyncio.sleep(0.01)
        clock.now = went_down + 9.999
        restore()
        limiter.state.ping = ping  # type: ignore[method-assign]
        await limiter.reserve()
        await asyncio.sleep(0.01)
        assert pings == 0 and not limiter.available
        went_down += 5.0
        clock.now = went_down + 4.999
        await limiter.reserve()
        await asyncio.sleep(0.01)
        assert pings == 0 and not limiter.available
        clock.now = went_down + 5.0
        await limiter.reserve()
        for _ in range(100):
            if pings:
                break
            await asyncio.sleep(0.005)
        assert pings == 1 and limiter.available
        await limiter.reserve()
        await asyncio.sleep(0.01)
        assert pings == 1  # once back, no more probes


# -- epochs across an outage ---------------------------------------------------------------------


async def test_a_429_of_a_local_send_begins_a_shared_cool_down_when_the_file_is_back(
    path: Path,
) -> None:
    """The file never answered before: its epoch is taken as 0."""
    clock = Clock()
    async with bound(path, [(10, 1.0)], clock) as limiter:
        restore = _down(limiter)
        local = await limiter.reserve()
        assert local.epoch < 0
        restore()
        await _back(limiter, clock)
        assert await limiter.throttled(local.epoch, retry_after=None, jitter=0.0) == 1.0
        with _db(path) as db:
            assert db.execute("SELECT epoch, strikes FROM limiter_state").fetchone() == (1, 1)


async def test_the_epoch_a_429_moved_the_file_to_is_the_one_a_later_local_send_is_of(
    path: Path,
) -> None:
    clock = Clock()
    async with bound(path, [(10, 1.0)], clock, cooldown_initial=0.5) as limiter:
        sent = await limiter.reserve()
        assert await limiter.throttled(sent.epoch, retry_after=None, jitter=0.0) == 0.5
        restore = _down(limiter)
        clock.now += 1.0
        local = await limiter.reserve()
        assert local.wait == 0.0 and local.epoch < 0
        restore()
        await _back(limiter, clock)
        # in the file's epoch 1, so it begins a cool-down there: the second of a streak
        closed = await limiter.throttled(local.epoch, retry_after=None, jitter=0.99)
        assert closed == pytest.approx(cooldown_delay(2, 0.5, 60.0, 0.99))


async def test_a_late_429_from_before_a_local_cool_down_does_not_cool_down_again(
    path: Path,
) -> None:
    clock = Clock()
    async with bound(path, [(10, 1.0)], clock, backend={"fallback_fraction": 1.0}) as limiter:
        shared = await limiter.reserve()
        assert shared.epoch == 0
        _down(limiter)
        local = await limiter.reserve()
        assert await limiter.throttled(local.epoch, retry_after=None, jitter=0.0) == 1.0
        # the shared request's 429 arrives now: it was sent before that local cool-down
        assert await limiter.throttled(shared.epoch, retry_after=None, jitter=0.99) == 0.0


@pytest.mark.parametrize("via", ["reserve", "throttled"])
async def test_the_streak_in_the_file_goes_on_in_the_fallback(path: Path, via: str) -> None:
    clock = Clock()
    async with bound(path, [(10, 1.0)], clock, cooldown_initial=0.5) as limiter:
        sent = await limiter.reserve()
        await limiter.throttled(sent.epoch, retry_after=None, jitter=0.0)  # streak 1
        clock.now += 0.5
        if via == "reserve":  # the streak as a reservation tells it
            async with bound(path, [(10, 1.0)], clock, cooldown_initial=0.5) as other:
                limiter = other
                await limiter.reserve()
                await self_check_streak(limiter, clock)
            return
        await self_check_streak(limiter, clock)


async def self_check_streak(limiter: SqliteKeyLimiter, clock: Clock) -> None:
    _down(limiter)
    local = await limiter.reserve()
    assert local.wait == 0.0 and local.epoch < 0
    closed = await limiter.throttled(local.epoch, retry_after=None, jitter=0.99)
    assert closed == pytest.approx(cooldown_delay(2, 0.5, 60.0, 0.99))


async def test_a_gate_a_reservation_was_told_of_holds_in_the_fallback(path: Path) -> None:
    clock = Clock()
    async with (
        bound(path, [(10, 1.0)], clock) as one,
        bound(path, [(10, 1.0)], clock) as two,
    ):
        sent = await one.reserve()
        await one.throttled(sent.epoch, retry_after=30.0, jitter=0.0)
        gated = await two.reserve()
        assert (gated.reason, gated.wait) == ("cooldown", 30.0)
        _down(two)
        clock.now += 10.0
        local = await two.reserve()
        assert not two.available
        assert (local.reason, local.wait) == ("cooldown", pytest.approx(20.0))


@pytest.mark.parametrize("step", ["throttled", "succeeded", "release"])
async def test_an_outage_met_after_sending_is_named_by_its_cause(path: Path, step: str) -> None:
    clock = Clock()
    options = {"on_unavailable": "fail"}
    async with bound(path, [(10, 1.0)], clock, backend=options, cooldown_initial=0.5) as limiter:
        first = await limiter.reserve()
        await limiter.throttled(first.epoch, retry_after=None, jitter=0.0)
        clock.now += 1.0
        sent = await limiter.reserve()  # in a streak: its success is asked of the file
        _down(limiter)
        if step == "throttled":
            await limiter.throttled(sent.epoch, retry_after=None, jitter=0.0)
        elif step == "succeeded":
            await limiter.succeeded(sent.epoch)
        else:
            await limiter.release(sent)
        assert not limiter.available
        with pytest.raises(dc.LimiterUnavailableError, match=r"\(OperationalError\); not sent"):
            await limiter.reserve()


async def test_a_shared_requests_usage_is_not_the_fallbacks(path: Path) -> None:
    """A 429 for a request sent under the file, met while the file is gone, cuts the
    fallback's rate without its usage (a share of the other windows)."""
    clock = Clock()
    async with bound(path, [(100, 60.0)], clock) as limiter:
        sent = await limiter.reserve()
        _down(limiter)
        await limiter.throttled(sent.epoch, retry_after=0.0, jitter=0.0, usage=0.2)
        state = limiter.pace()
        assert not state.shared and state.lowered == 1
        assert state.scale == pytest.approx(CUT)  # from the rate in force, not 0.2


async def test_a_refused_slot_leaves_the_fallbacks_log_too(path: Path) -> None:
    clock = Clock()
    options = {"fallback_fraction": 0.5}
    async with bound(path, [(4, 60.0)], clock, backend=options) as limiter:
        first, second = await limiter.reserve(), await limiter.reserve()
        await limiter.release(first, refused=True)
        await limiter.release(second)
        _down(limiter)
        assert (await limiter.reserve()).wait == 0.0  # 1 of the fallback's 2 was taken


async def test_closing_cancels_a_probe_under_way(path: Path) -> None:
    clock = Clock()
    limiter_cm = bound(path, [(10, 1.0)], clock)
    limiter = await limiter_cm.__aenter__()
    _down(limiter)
    await limiter.reserve()
    never = asyncio.Event()

    async def hung() -> None:
        await never.wait()

    limiter._store_ping = hung  # type: ignore[method-assign]
    clock.now += 2.0
    await limiter.reserve()
    probe = limiter._probe
    assert probe is not None and not probe.done()
    await limiter_cm.__aexit__(None, None, None)
    assert probe.cancelled()


# -- the learned rate as pace() tells it ---------------------------------------------------------


async def test_pace_tells_the_windows_as_configured_when_nothing_is_learned(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(100, 60.0)], clock, adaptive=False) as limiter:
        await limiter.reserve()
        assert limiter.pace() == PaceState(((100, 60.0),), 1.0, 0, True)


async def test_pace_tells_the_ceiling_once_the_climb_is_over(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(100, 60.0)], clock) as limiter:
        sent = await limiter.reserve()
        await limiter.throttled(sent.epoch, retry_after=0.0, jitter=0.0, usage=0.5)
        assert limiter.pace().scale == pytest.approx(CUT * 0.5)
        clock.now += 3 * 60.0  # the climb (120 s) and on to the ceiling (60 s), no request
        assert limiter.pace() == PaceState(((100, 60.0),), 1.0, 1, True)


# -- the file's bookkeeping ----------------------------------------------------------------------


async def test_slots_leave_the_file_with_the_longest_window_and_its_margin(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(5, 10.0)], clock, safety_margin=0.5) as limiter:
        await limiter.release(await limiter.reserve())
        clock.now += 14.9
        await limiter.reserve()
        assert len(_slot_times(path)) == 2
        clock.now += 0.1  # the first is 15 s old: 10 s x 1.5
        await limiter.reserve()
        assert len(_slot_times(path)) == 2


async def test_a_refused_reservation_takes_no_slot_in_the_file(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(1, 0.5)], clock) as limiter:
        await limiter.reserve()
        assert (await limiter.reserve()).wait == 0.5
        assert len(_slot_times(path)) == 1


async def test_without_windows_no_slot_is_kept_even_once_released(path: Path) -> None:
    clock = Clock()
    async with bound(path, [], clock) as limiter:
        await limiter.release(await limiter.reserve())
        assert limiter.available and _slot_times(path) == []


async def test_a_slot_whose_request_outlived_the_window_comes_back_in_the_file(
    path: Path,
) -> None:
    clock = Clock()
    async with bound(path, [(2, 10.0)], clock) as limiter:
        long = await limiter.reserve()
        clock.now += 30.0
        await limiter.reserve()
        await limiter.release(long)
        assert limiter.available
        assert _slot_times(path) == [clock.now, clock.now]


async def test_a_key_idle_exactly_a_day_starts_afresh(path: Path) -> None:
    clock = Clock()
    async with bound(path, [], clock) as limiter:
        sent = await limiter.reserve()
        await limiter.throttled(sent.epoch, retry_after=0.0, jitter=0.0)
        clock.now += 24 * 3600.0 - 1.0
        assert (await limiter.reserve()).epoch == 1  # touched by that reservation
        clock.now += 24 * 3600.0
        assert (await limiter.reserve()).epoch == 0


async def test_opening_the_file_clears_what_keys_idle_for_a_day_left(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(5, 10.0)], clock) as limiter:
        await limiter.reserve()
    clock.now += 24 * 3600.0 + 1.0
    with _db(path) as db:
        db.execute(
            "INSERT INTO limiter_state (key, epoch, strikes, touched) VALUES ('fresh', 0, 0, ?)",
            (clock.now,),
        )
    async with bound(path, [(5, 10.0)], clock) as limiter:
        await limiter._step(limiter._store_ping)  # opens the file, touches nothing
    with _db(path) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM limiter_state")]
        slots = db.execute("SELECT count(*) FROM limiter_slots").fetchone()[0]
    assert keys == ["fresh"] and slots == 0


async def test_a_row_written_without_a_learned_rate_is_read_as_the_ceiling(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(100, 60.0)], clock, adaptive=False) as fixed:
        await fixed.reserve()
    async with bound(path, [(100, 60.0)], clock) as adapting:
        await adapting.reserve()
        assert adapting.pace() == PaceState(((100, 60.0),), 1.0, 0, True)


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [
        ("peak", "0", "a learned level that is not in (0, 1]"),
        ("least", "1.5", "a learned level that is not in (0, 1]"),
        ("lowered", "-1", "a count that is not a whole number of 0 or more"),
        ("cut_at", "'then'", "a time that is not a number"),
    ],
)
async def test_what_in_the_file_cannot_be_read_is_said(
    path: Path, column: str, value: str, says: str, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="digicert_async")
    clock = Clock()
    async with bound(path, [(100, 60.0)], clock) as limiter:
        sent = await limiter.reserve()
        await limiter.throttled(sent.epoch, retry_after=0.0, jitter=0.0, usage=0.5)
    with _db(path) as db:
        db.execute(f"UPDATE limiter_state SET {column} = {value}")
    async with bound(path, [(100, 60.0)], clock) as limiter:
        await limiter.reserve()
        assert not limiter.available
    assert any(f"UnreadableAnswer: the file holds {says}" in t for t in _ours(caplog, 30))


async def test_a_file_of_another_version_is_said(path: Path, caplog: Any) -> None:
    clock = Clock()
    async with bound(path, [(5, 1.0)], clock) as limiter:
        await limiter.reserve()
    with _db(path) as db:
        db.execute("PRAGMA user_version = 7")
    async with bound(path, [(5, 1.0)], clock) as limiter:
        await limiter.reserve()
    assert any("tables are of version 7, not 1" in t for t in _ours(caplog, logging.WARNING))


async def test_the_steps_run_in_the_limiters_own_thread(path: Path) -> None:
    import threading

    seen: list[str] = []
    clock = Clock()
    async with bound(path, [(5, 1.0)], clock) as limiter:
        original = limiter.state.reserve

        def reserve(ages: Any) -> Any:
            seen.append(threading.current_thread().name)
            return original(ages)

        limiter.state.reserve = reserve  # type: ignore[method-assign]
        await limiter.reserve()
    assert seen and seen[0].startswith("digicert-async-sqlite")
    assert seen[0] != threading.current_thread().name
