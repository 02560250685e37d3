"""The shared limiter in an SQLite file: one key's budget for the processes of one machine.

Most tests drive :class:`SqliteKeyLimiter` on a file in ``tmp_path`` with an injected
clock (the same one for its local fallback and for the shared state's wall clock), so
the windows, the cool-down and the learned rate are checked to the microsecond. The
table of cool-down cases runs on it in ``test_redis``; here: the windows, sharing
between bindings and processes, the file itself, a clock set back, and what happens
when the file is locked, unreadable or not ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import digicert_async as dc
from digicert_async._ratelimit import InMemoryLimiterBackend, SqliteKeyLimiter, api_key_hash
from digicert_async._ratelimit._adaptive import CUT
from digicert_async._ratelimit._shared import IN_FLIGHT_SECONDS
from digicert_async._ratelimit._sqlite_file import _into_wal
from digicert_async.testing import FakeCertCentral

from .test_adaptive_redis import WINDOWS, _drive, _limit
from .test_hardening_servers import failure_of, secret_sightings
from .test_redis import SCALED_WINDOWS, TASKS, WORKERS, _ours, run_workers

API_KEY = "test-api-key-sqlite-0123456789"


class Clock:
    """A clock that moves only when told: seconds since the epoch, as the file keeps them."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _bind(
    path: Path,
    windows: Any = ((3, 10.0),),
    clock: Clock | None = None,
    key: str = API_KEY,
    *,
    backend: dict[str, Any] | None = None,
    **limit: Any,
) -> SqliteKeyLimiter:
    factory = dc.SqliteLimiterBackend(path, **(backend or {}))
    limit.setdefault("safety_margin", 0.0)
    rate_limit = dc.RateLimit(windows=windows, backend=factory, **limit)
    if clock is None:
        return factory.for_key(api_key_hash(key), rate_limit)
    return SqliteKeyLimiter(factory, api_key_hash(key), rate_limit, clock=clock, wall_clock=clock)


@contextlib.asynccontextmanager
async def bound(*args: Any, **kwargs: Any) -> AsyncIterator[SqliteKeyLimiter]:
    limiter = _bind(*args, **kwargs)
    try:
        yield limiter
    finally:
        await limiter.aclose()


@contextlib.contextmanager
def _db(path: Path) -> Iterator[sqlite3.Connection]:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        yield db


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _others_may(path: Path) -> int:
    """The permission bits ``path`` gives its group and others."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "ratelimit.sqlite3"


# -- the windows -------------------------------------------------------------------------------


async def test_the_count_plus_first_slot_waits_for_the_oldest_to_leave(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(3, 10.0)], clock) as limiter:
        for _ in range(3):
            reservation = await limiter.reserve()
            assert reservation.wait == 0.0
            await limiter.release(reservation)  # its request is over at once
            clock.now += 1.0
        refused = await limiter.reserve()
        assert (refused.reason, refused.wait) == ("window", pytest.approx(7.0))
        assert (await limiter.reserve()).wait == pytest.approx(7.0)  # refusing took nothing
        clock.now += 7.0
        assert (await limiter.reserve()).wait == 0.0


async def test_both_windows_and_the_safety_margin_apply(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(2, 1.0), (3, 10.0)], clock, safety_margin=0.5) as limiter:
        for _ in range(2):
            reservation = await limiter.reserve()
            assert reservation.wait == 0.0
            await limiter.release(reservation)  # its request is over at once
        assert (await limiter.reserve()).wait == pytest.approx(1.5)  # 1 s x 1.5
        clock.now += 1.5
        reservation = await limiter.reserve()
        assert reservation.wait == 0.0
        await limiter.release(reservation)
        assert (await limiter.reserve()).wait == pytest.approx(15.0 - 1.5)


async def test_a_slot_counts_from_when_its_request_is_over(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(2, 10.0)], clock) as limiter:
        first = await limiter.reserve()
        second = await limiter.reserve()
        clock.now += 4.0  # the requests took a while
        await limiter.release(first)
        await limiter.release(second)
        assert (await limiter.reserve()).wait == pytest.approx(10.0)  # not 6.0


async def test_a_slot_whose_request_outlived_every_window_counts_again(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(2, 10.0)], clock) as limiter:
        long = await limiter.reserve()
        clock.now += 30.0
        assert (await limiter.reserve()).wait == 0.0  # and the 30-s-old slot is trimmed
        await limiter.release(long)  # its request ends only now: it counts from now
        assert (await limiter.reserve()).wait == pytest.approx(10.0)


async def test_a_slot_counts_while_its_request_is_in_flight_however_long(path: Path) -> None:
    """As in every backend (test_ratelimit.py): a request still on its way a whole period
    after its slot was taken arrives beside the next period's sends, so its slot counts
    as taken now until its request is over, then from then on."""
    clock = Clock()
    start = clock.now
    async with bound(path, [(10, 0.5)], clock) as limiter:
        taken = [await limiter.reserve() for _ in range(10)]
        clock.now = start + 0.01
        for reservation in taken[1:]:  # nine are over; the first is still in flight
            await limiter.release(reservation)
        clock.now = start + 0.52
        more = []
        while (reservation := await limiter.reserve()).wait == 0.0:
            more.append(reservation)
        assert len(more) == 9  # not 10: the one in flight still holds its slot
        assert reservation.reason == "window" and reservation.wait == pytest.approx(0.5)
        for reservation in more:
            await limiter.release(reservation)
        clock.now = start + 0.6
        await limiter.release(taken[0])
        clock.now = start + 1.05  # the other nine have left the window; it has not
        assert [(await limiter.reserve()).wait for _ in range(10)][-1] == pytest.approx(0.05)


async def test_a_slot_in_flight_counts_as_taken_now_from_the_instant_it_would_leave(
    path: Path,
) -> None:
    clock = Clock()
    async with bound(path, [(1, 0.5)], clock) as limiter:
        await limiter.reserve()
        clock.now += 0.5  # out of the window by its time, not by its request
        assert (await limiter.reserve()).wait == pytest.approx(0.5)


async def test_a_slot_in_flight_counts_another_bindings_too(path: Path) -> None:
    """The slots in flight are in the file: a binding of another process counts them; a
    request over, served or refused, is in flight no more."""
    clock = Clock()
    async with bound(path, [(2, 1.0)], clock) as first, bound(path, [(2, 1.0)], clock) as other:
        slow, refused = await first.reserve(), await first.reserve()
        clock.now += 5.0
        assert (await other.reserve()).wait == pytest.approx(1.0)  # both still in flight
        await first.release(refused, refused=True)
        assert (await other.reserve()).wait == 0.0
        assert (await other.reserve()).wait == pytest.approx(1.0)
        await first.release(slow)
        with _db(path) as db:  # the one other took, not released
            assert db.execute("SELECT count(*) FROM limiter_flight").fetchone() == (1,)


async def test_a_slot_in_flight_longer_than_any_request_can_be_is_let_go(path: Path) -> None:
    """A process that died with a request in flight does not hold its slot forever: no
    request is in flight longer than IN_FLIGHT_SECONDS, so a slot older than that is not
    in flight any more, and its row goes."""
    clock = Clock()
    start = clock.now
    async with bound(path, [(1, 0.5)], clock) as dead, bound(path, [(1, 0.5)], clock) as alive:
        await dead.reserve()  # never released
        clock.now = start + IN_FLIGHT_SECONDS
        assert (await alive.reserve()).wait == pytest.approx(0.5)  # still in flight
        clock.now = start + IN_FLIGHT_SECONDS + 0.001
        assert (await alive.reserve()).wait == 0.0
        with _db(path) as db:
            assert db.execute("SELECT count(*) FROM limiter_flight").fetchone() == (1,)


@pytest.mark.parametrize("adaptive", [True, False])
async def test_a_refused_requests_slot_leaves_the_log_only_when_adaptive(
    path: Path, adaptive: bool
) -> None:
    clock = Clock()
    async with bound(path, [(3, 30.0)], clock, adaptive=adaptive) as limiter:
        taken = [await limiter.reserve() for _ in range(3)]
        await limiter.release(taken[0], refused=True)
        for reservation in taken[1:]:
            await limiter.release(reservation)
        with _db(path) as db:
            (count,) = db.execute("SELECT count(*) FROM limiter_slots").fetchone()
        assert count == (2 if adaptive else 3)
        assert ((await limiter.reserve()).wait == 0.0) is adaptive


async def test_no_windows_shares_only_the_gate(path: Path) -> None:
    clock = Clock()
    async with bound(path, [], clock) as first, bound(path, [], clock) as second:
        for _ in range(50):
            assert (await first.reserve()).wait == 0.0
        epoch = (await first.reserve()).epoch
        assert await first.throttled(epoch, retry_after=3.0, jitter=0.0) == 3.0
        gated = await second.reserve()
        assert (gated.reason, gated.wait) == ("cooldown", 3.0)
        with _db(path) as db:
            assert db.execute("SELECT count(*) FROM limiter_slots").fetchone() == (0,)


# -- one budget, many bindings ----------------------------------------------------------------


async def test_two_bindings_of_one_key_share_the_budget_and_other_keys_do_not(
    path: Path,
) -> None:
    clock = Clock()
    async with (
        bound(path, [(3, 5.0)], clock) as first,
        bound(path, [(3, 5.0)], clock) as second,
        bound(path, [(3, 5.0)], clock, key="another key") as other,
    ):
        assert [(await first.reserve()).wait for _ in range(2)] == [0.0, 0.0]
        assert (await second.reserve()).wait == 0.0
        assert (await second.reserve()).wait == 5.0
        assert (await first.reserve()).wait == 5.0
        assert (await other.reserve()).wait == 0.0
        # a run that starts later still sees what was spent: its first look waits
        async with bound(path, [(3, 5.0)], clock) as later:
            clock.now += 2.0
            assert (await later.reserve()).wait == pytest.approx(3.0)


async def test_the_file_holds_the_keys_hash_never_the_key(path: Path) -> None:
    async with bound(path, [(5, 5.0)], Clock()) as limiter:
        epoch = (await limiter.reserve()).epoch
        await limiter.throttled(epoch, retry_after=None, jitter=0.5)
    assert API_KEY.encode() not in b"".join(_read(p) for p in path.parent.iterdir())
    with _db(path) as db:
        keys = {
            k
            for (k,) in db.execute(
                "SELECT key FROM limiter_state UNION SELECT key FROM limiter_slots"
            )
        }
    assert keys == {api_key_hash(API_KEY)}
    assert API_KEY not in repr(limiter) and api_key_hash(API_KEY) in repr(limiter)


async def test_a_429_seen_by_one_binding_closes_the_gate_for_the_other(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(100, 5.0)], clock) as one, bound(path, [(100, 5.0)], clock) as two:
        sent = await one.reserve()
        closed = await one.throttled(sent.epoch, retry_after=None, jitter=0.0)
        assert closed == 1.0  # the cool-down's floor
        gated = await two.reserve()
        assert (gated.reason, gated.wait, gated.epoch) == ("cooldown", 1.0, 1)
        # a 429 of the same burst, seen by the other binding, does not count again
        assert await two.throttled(sent.epoch, retry_after=None, jitter=0.99) == 0.0


async def test_sqlite_and_memory_make_the_same_pacing_transitions(path: Path) -> None:
    memory = InMemoryLimiterBackend.from_rate_limit(_limit(), lambda: 100.0)
    factory = dc.SqliteLimiterBackend(path)
    clock = Clock(100.0)
    shared = SqliteKeyLimiter(factory, "k", _limit(factory), clock=clock, wall_clock=clock)
    try:
        on_memory = await _drive(memory)
        on_sqlite = await _drive(shared)
    finally:
        await shared.aclose()
    assert on_memory == on_sqlite
    assert [cuts for _, cuts in on_sqlite] == [1, 1, 2]
    assert shared.pace().shared
    with _db(path) as db:
        lowered, peak = db.execute("SELECT lowered, peak FROM limiter_state").fetchone()
    assert lowered == 2 and peak == pytest.approx(CUT * 0.5, abs=1e-3)


async def test_every_binding_paces_to_the_rate_one_learned_and_climbs_back(path: Path) -> None:
    clock = Clock()
    async with bound(path, WINDOWS, clock) as first, bound(path, WINDOWS, clock) as second:
        for _ in range(50):
            await first.release(await first.reserve())
        taken = await first.reserve()
        await first.throttled(taken.epoch, retry_after=0.0, jitter=0.0, usage=taken.usage)
        await second.release(await second.reserve())
        assert second.pace().windows == first.pace().windows
        assert second.pace().scale == pytest.approx(CUT * 0.51) and second.pace().lowered == 1
        clock.now += 3 * 60.0 + 1.0  # the climb (2 x 60 s) and the run to the ceiling (30 s)
        await second.release(await second.reserve())
        assert second.pace().windows == tuple(WINDOWS) and second.pace().scale == 1.0
    with _db(path) as db:
        assert db.execute("SELECT cut_at FROM limiter_state").fetchone() == (None,)


async def test_a_binding_that_does_not_adapt_keeps_what_the_others_learned(path: Path) -> None:
    clock = Clock()
    async with (
        bound(path, WINDOWS, clock) as adapting,
        bound(path, WINDOWS, clock, adaptive=False) as fixed,
    ):
        taken = await adapting.reserve()
        await adapting.throttled(taken.epoch, retry_after=0.0, jitter=0.0, usage=0.5)
        await fixed.release(await fixed.reserve())
        assert fixed.pace().windows == tuple(WINDOWS)
        await adapting.release(await adapting.reserve())
        assert adapting.pace().lowered == 1 and adapting.pace().scale < 1.0


# -- time -------------------------------------------------------------------------------------


async def test_a_clock_set_back_makes_no_slot_or_gate_last_longer_than_it_can(
    path: Path,
) -> None:
    clock = Clock()
    async with bound(path, [(1, 10.0)], clock, cooldown_max=60.0, retry_after_max=300.0) as early:
        await early.reserve()
        epoch = (await early.reserve()).epoch
        await early.throttled(epoch, retry_after=250.0, jitter=0.0)
    clock.now -= 3600.0  # an hour back: the slot and the gate now look far ahead
    async with bound(path, [(1, 10.0)], clock, cooldown_max=60.0, retry_after_max=300.0) as late:
        gated = await late.reserve()
        assert (gated.reason, gated.wait) == ("cooldown", 300.0)  # not 3850 s
        clock.now += 300.0
        assert (await late.reserve()).wait == 0.0  # the slot counted from "now", long gone


async def test_a_key_idle_for_a_day_starts_afresh(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(1, 10.0)], clock, cooldown_initial=5.0, cooldown_max=5.0) as limiter:
        for _ in range(3):
            epoch = (await limiter.reserve()).epoch
            await limiter.throttled(epoch, retry_after=None, jitter=0.0)
            clock.now += 10.0
    clock.now += 24 * 3600.0
    async with bound(path, [(1, 10.0)], clock) as limiter:
        assert (await limiter.reserve()).epoch == 0  # the streak and its epochs are gone
    with _db(path) as db:
        assert db.execute("SELECT count(*) FROM limiter_slots").fetchone() == (1,)


# -- the file ---------------------------------------------------------------------------------


async def test_the_file_and_its_folder_are_made_for_their_owner_only(path: Path) -> None:
    assert not path.parent.exists()
    async with bound(path, [(5, 5.0)]) as limiter:
        await limiter.reserve()
    if os.name == "posix":
        assert _others_may(path) == _others_may(path.parent) == 0
    with _db(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_the_constructor_checks_its_arguments() -> None:
    for bad, says in [
        (None, "must be a file path, not NoneType"),
        (b"x.sqlite3", "must be a file path, not bytes"),
        ("", "non-empty"),
        ("a\0b", "without NUL"),
        (":memory:", "shared by nothing"),
    ]:
        with pytest.raises(dc.ValidationError, match=says) as info:
            dc.SqliteLimiterBackend(bad)  # type: ignore[arg-type]
        assert info.value.field == "rate_limit.backend.path"
    for option, value in [
        ("timeout", 0),
        ("timeout", math.inf),
        ("fallback_fraction", 1.5),
        ("probe_interval", -1),
        ("on_unavailable", "ignore"),
    ]:
        with pytest.raises(dc.ValidationError) as info:
            dc.SqliteLimiterBackend("x.sqlite3", **{option: value})
        assert info.value.field == f"rate_limit.backend.{option}"


def test_repr_and_where_name_the_file(tmp_path: Path) -> None:
    backend = dc.SqliteLimiterBackend(tmp_path / "a.sqlite3", on_unavailable="fail")
    assert backend.where == str(tmp_path / "a.sqlite3")
    assert repr(backend) == (
        f"SqliteLimiterBackend({str(tmp_path / 'a.sqlite3')!r}, timeout=1.0,"
        " on_unavailable='fail', fallback_fraction=0.25)"
    )
    relative = dc.SqliteLimiterBackend("b.sqlite3")
    assert relative.path.is_absolute() and relative.path.name == "b.sqlite3"


@pytest.mark.parametrize(
    "content",
    [b"not a database at all" * 100, "someone else's"],
    ids=["not sqlite", "another app's database"],
)
async def test_a_file_that_is_not_ours_is_never_written_and_counts_as_unavailable(
    path: Path, content: bytes | str, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async")
    if isinstance(content, bytes):
        _write(path, content)
    else:
        path.parent.mkdir(parents=True)
        with _db(path) as db:
            db.execute("CREATE TABLE notes (text TEXT)")
    before = _read(path)
    async with bound(path, [(8, 1.0)], Clock()) as limiter:
        taken = await limiter.reserve()
        assert taken.wait == 0.0 and taken.epoch < 0  # paced alone, at 2 of 8
        assert not limiter.available
    async with bound(path, [(8, 1.0)], Clock(), backend={"on_unavailable": "fail"}) as limiter:
        with pytest.raises(dc.LimiterUnavailableError, match="did not answer") as info:
            await limiter.reserve()
    assert _read(path) == before
    assert info.value.__cause__ is None and info.value.__context__ is None
    warnings = _ours(caplog, logging.WARNING)
    assert len(warnings) == 2 and all(f"SQLite {path}" in text for text in warnings)


async def test_a_file_of_another_version_counts_as_unavailable(path: Path) -> None:
    async with bound(path, [(8, 1.0)], Clock()) as limiter:
        await limiter.reserve()
    with _db(path) as db:
        db.execute("PRAGMA user_version = 2")
    async with bound(path, [(8, 1.0)], Clock()) as limiter:
        await limiter.reserve()
        assert not limiter.available


async def test_a_folder_that_cannot_be_made_counts_as_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    _write(blocker, b"")
    async with bound(blocker / "state.sqlite3", [(8, 1.0)], Clock()) as limiter:
        assert (await limiter.reserve()).wait == 0.0
        assert not limiter.available


@pytest.mark.parametrize(
    ("column", "value"),
    [("epoch", "'many'"), ("strikes", "-3"), ("gate", "'soon'"), ("peak", "7.5")],
)
async def test_garbage_in_the_file_counts_as_unavailable(
    path: Path, column: str, value: str
) -> None:
    async with bound(path, WINDOWS, Clock()) as limiter:
        taken = await limiter.reserve()
        await limiter.throttled(taken.epoch, retry_after=0.0, jitter=0.0, usage=0.5)
    with _db(path) as db:
        db.execute(f"UPDATE limiter_state SET {column} = {value}")
    async with bound(path, WINDOWS, Clock()) as limiter:
        assert (await limiter.reserve()).wait == 0.0
        assert not limiter.available


@pytest.mark.parametrize("value", ["'soon'", "x'00ff'", "9e999"], ids=["text", "blob", "inf"])
async def test_a_slot_row_that_is_not_a_time_counts_from_now(path: Path, value: str) -> None:
    clock = Clock()
    async with bound(path, [(2, 10.0)], clock) as limiter:
        await limiter.release(await limiter.reserve())  # its request is over at once
        with _db(path) as db:
            key = api_key_hash(API_KEY)
            db.execute(f"INSERT INTO limiter_slots (key, at) VALUES (?, {value})", (key,))
        clock.now += 4.0
        assert (await limiter.reserve()).wait == 10.0 - 4.0  # the window is full
        assert limiter.available
        clock.now += 6.0  # the first slot has left the window, the odd row not
        assert (await limiter.reserve()).wait == 0.0
        assert (await limiter.reserve()).wait == 4.0  # the odd row counted from 4 s in


@pytest.mark.parametrize("value", ["'soon'", "x'00ff'", "9e999", "-9e999"])
async def test_a_row_in_flight_that_is_not_a_time_is_let_go_in_time(path: Path, value: str) -> None:
    clock = Clock()
    start = clock.now
    async with bound(path, [(1, 10.0)], clock) as limiter:
        await limiter.release(await limiter.reserve())
        with _db(path) as db:
            key = api_key_hash(API_KEY)
            db.execute(f"INSERT INTO limiter_flight (id, key, at) VALUES (99, ?, {value})", (key,))
        clock.now = start + 10.0
        assert (await limiter.reserve()).wait in (0.0, 10.0)  # as taken now, or earlier
        assert limiter.available
        clock.now = start + 10.0 + IN_FLIGHT_SECONDS + 0.001
        assert (await limiter.reserve()).wait == 0.0
        with _db(path) as db:
            left = db.execute("SELECT count(*) FROM limiter_flight WHERE id = 99").fetchone()
        assert left == (0,)


async def test_a_file_of_the_release_before_gets_the_table_of_slots_in_flight(path: Path) -> None:
    clock = Clock()
    async with bound(path, [(1, 1.0)], clock) as limiter:
        await limiter.release(await limiter.reserve())
    with _db(path) as db:
        db.execute("DROP TABLE limiter_flight")  # as a file of the release before holds
    clock.now += 1.0
    async with bound(path, [(1, 1.0)], clock) as limiter:
        slow = await limiter.reserve()
        assert slow.wait == 0.0 and limiter.available
        clock.now += 5.0
        assert (await limiter.reserve()).wait == pytest.approx(1.0)
        await limiter.release(slow)


async def test_a_locked_file_falls_back_then_shares_again_with_what_was_sent(
    path: Path, caplog: Any
) -> None:
    """Another process holds the file's write lock for longer than ``timeout``: this one
    paces itself alone meanwhile, and once the lock is let go, the probe finds the file
    and the sends made meanwhile are written into the shared log."""
    caplog.set_level(logging.INFO, logger="digicert_async")
    options = {"timeout": 0.2, "probe_interval": 0.05}
    async with bound(path, [(100, 60.0)], backend=options) as limiter:
        await limiter.reserve()
        with _db(path) as other:
            other.execute("BEGIN IMMEDIATE")
            for _ in range(3):
                assert (await limiter.reserve()).wait == 0.0
            assert not limiter.available and limiter.fallback_sends == 3
            await asyncio.sleep(0.5)  # past the busy timeout: the step in the thread gave up
            other.execute("ROLLBACK")
        for _ in range(200):
            await asyncio.sleep(0.02)
            if limiter.available:
                break
            await limiter.reserve()  # paced alone; starts the probe when one is due
        assert limiter.available
        assert (await limiter.reserve()).wait == 0.0
        with _db(path) as db:
            (count,) = db.execute("SELECT count(*) FROM limiter_slots").fetchone()
        assert count == 1 + limiter.fallback_sends + 1
    warnings = _ours(caplog, logging.WARNING)
    # Two clocks of one length race to say "locked longer than timeout": the loop's wait
    # for the step (TimeoutError) or SQLite's own busy timeout in the step's thread (a
    # loaded machine runs the loop's timer late). Either is the same outage.
    assert len(warnings) == 1
    assert (
        f"(SQLite {path}: TimeoutError): " in warnings[0]
        or f"(SQLite {path}: OperationalError: database is locked): " in warnings[0]
    )
    assert _ours(caplog, logging.INFO) == [
        f"shared rate limiter available again (SQLite {path}): shared pacing resumes"
    ]


async def test_the_event_loop_runs_on_while_the_file_is_locked(path: Path) -> None:
    """sqlite3 blocks: the step waits for the lock in the limiter's thread, not on the
    loop, whose other tasks go on meanwhile."""
    async with bound(path, [(100, 60.0)], backend={"timeout": 30.0}) as limiter:
        await limiter.reserve()  # the file is made, the thread started
        with _db(path) as other:
            other.execute("BEGIN IMMEDIATE")
            waiting = asyncio.ensure_future(limiter.reserve())
            ticks = 0
            for _ in range(20):
                await asyncio.sleep(0.01)
                ticks += 1
            assert ticks == 20 and not waiting.done()
            other.execute("COMMIT")
        assert (await waiting).wait == 0.0
        assert limiter.available


async def test_a_closed_limiter_refuses_to_step_and_closes_its_file(path: Path) -> None:
    limiter = _bind(path, [(5, 5.0)])
    await limiter.reserve()
    await limiter.aclose()
    assert limiter.state._connection is None
    with pytest.raises(RuntimeError, match="closed"):
        await limiter.reserve()
    await limiter.aclose()  # twice is fine


# -- clients and processes ------------------------------------------------------------------


async def test_a_failed_step_shows_no_key(path: Path) -> None:
    _write(path, b"garbage" * 200)
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        limit = dc.RateLimit(backend=dc.SqliteLimiterBackend(path, on_unavailable="fail"))
        async with dc.CertCentralClient(
            api_key=fake.api_key, base_url=fake.base_url, rate_limit=limit
        ) as client:
            error = await failure_of(lambda: client.orders.get(fake.order_ids[0]))
        assert fake.requests == []
    assert isinstance(error, dc.LimiterUnavailableError)
    assert secret_sightings(error, fake.api_key) == []


async def test_two_clients_one_after_the_other_share_the_budget(path: Path) -> None:
    """The second client starts where the first left off: with DigiCert's windows
    scaled to 4 per 60 s, the second finds the window full instead of sending."""
    windows = [(4, 60.0)]
    async with FakeCertCentral(rate_limits=windows, orders=1) as fake:
        limit = dc.RateLimit(windows=windows, backend=dc.SqliteLimiterBackend(path))
        order_id = fake.order_ids[0]
        for _ in range(2):
            async with dc.CertCentralClient(
                api_key=fake.api_key, base_url=fake.base_url, rate_limit=limit
            ) as client:
                for _ in range(2):
                    await client.orders.get(order_id)
            assert fake.rate_limited_count == 0
        async with dc.CertCentralClient(
            api_key=fake.api_key,
            base_url=fake.base_url,
            rate_limit=limit,
            retry=dc.RetryPolicy(deadline=1.0),
        ) as client:
            with pytest.raises(dc.TransportError, match="deadline would pass"):
                await client.orders.get(order_id)
        assert fake.rate_limited_count == 0 and len(fake.requests) == 4


@pytest.mark.slow
async def test_four_worker_processes_on_one_key_never_see_a_429(path: Path) -> None:
    async with FakeCertCentral(rate_limits=SCALED_WINDOWS, orders=10, seed=3) as fake:
        reports, elapsed = await run_workers(
            fake, redis_url=None, prefix="", windows=SCALED_WINDOWS, margin=0.01,
            sqlite_path=str(path),
        )  # fmt: skip
        assert [report["errors"] for report in reports] == [[]] * WORKERS
        assert fake.rate_limited_count == 0
        assert len(fake.requests) == WORKERS * TASKS
        notes = [n["text"] for order_id in fake.order_ids for n in fake.notes(order_id)]
        assert sorted(notes) == sorted(f"w{w}-{i}" for w in range(WORKERS) for i in range(TASKS))
        assert elapsed > 7.5  # 400 requests at 100 per 2.5 s


def test_the_readme_example_runs_as_the_fragment_it_says_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Several workers, one key") :]
    block = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    assert "SqliteLimiterBackend" in block
    source = "async def main(key):\n" + textwrap.indent(block, "    ")
    namespace: dict[str, Any] = {"dc": dc}
    exec(compile(source, "README.md", "exec"), namespace)
    monkeypatch.chdir(tmp_path)
    asyncio.run(namespace["main"]("a-key"))


# Each line read is a new file to open: every process reads it at the same moment.
_OPEN_EACH_FILE_GIVEN = """
import sys, time
from pathlib import Path
from digicert_async._ratelimit._sqlite_file import open_file
for line in sys.stdin:
    try:
        open_file(Path(line.strip()), 1.0, time.time).close()
        print("opened", flush=True)
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", flush=True)
"""


@pytest.mark.slow
def test_processes_making_the_same_new_file_at_once_all_open_it(tmp_path: Path) -> None:
    """Two CLI runs started together on a new machine both share the budget: neither sees
    the other's half-made file as not a limiter file, nor the switch to WAL as a lock."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_EACH_FILE_GIVEN],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    answers = []
    try:
        for trial in range(60):
            path = tmp_path / str(trial) / "ratelimit.sqlite3"
            for process in processes:  # each one waits for its line: they start together
                assert process.stdin is not None
                process.stdin.write(f"{path}\n")
                process.stdin.flush()
            for process in processes:
                assert process.stdout is not None
                answers.append(f"trial {trial}: {process.stdout.readline().strip()}")
    finally:
        for process in processes:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.close()
            process.wait(30)
            process.stdout.close()
    assert [answer for answer in answers if not answer.endswith(": opened")] == []
    assert len(answers) == 4 * 60
    for trial in range(60):
        with contextlib.closing(sqlite3.connect(tmp_path / str(trial) / "ratelimit.sqlite3")) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def _locked_file(path: Path) -> sqlite3.Connection:
    """A file another connection holds locked (an exclusive transaction): commit to free it."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_the_switch_to_wal_is_asked_again_until_the_lock_is_freed(tmp_path: Path) -> None:
    path = tmp_path / "ratelimit.sqlite3"
    holder = _locked_file(path)
    freed = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    freed.start()
    with contextlib.closing(sqlite3.connect(path, timeout=0.01, isolation_level=None)) as db:
        started = time.monotonic()
        _into_wal(db, 5.0)
        assert 0.25 < time.monotonic() - started < 1.0  # asked again every 10 ms or so
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    freed.join()
    holder.close()


def test_a_lock_held_past_the_timeout_is_the_error(tmp_path: Path) -> None:
    path = tmp_path / "ratelimit.sqlite3"
    with (
        contextlib.closing(_locked_file(path)),
        contextlib.closing(sqlite3.connect(path, timeout=0.01, isolation_level=None)) as db,
    ):
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            _into_wal(db, 0.3)
        assert 0.3 <= time.monotonic() - started < 3.0
