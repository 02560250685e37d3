"""The shared limiter on a real Redis: the Lua arithmetic, processes sharing one budget,
the shared 429 gate, and what happens when Redis is slow or gone. The table of cool-down
cases runs on every backend (memory, Redis, Redis's fallback, SQLite).

Redis comes from ``DIGICERT_ASYNC_TEST_REDIS_URL`` (``.ci/run`` starts one), else from a
``redis-server`` this module starts on a free loopback port. Without either the tests
skip, except under ``CI=true``, where they fail. Every test uses its own key prefix.

This file is also the worker program of the multi-process test (``python test_redis.py
worker CONFIG``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import json
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

import digicert_async as dc
from digicert_async._ratelimit import (
    InMemoryLimiterBackend,
    RedisKeyLimiter,
    SqliteKeyLimiter,
    _redis,
    api_key_hash,
    cooldown_delay,
)
from digicert_async._ratelimit._shared import IN_FLIGHT_SECONDS
from digicert_async.testing import FakeCertCentral, Fault

REDIS_URL_ENV = "DIGICERT_ASYNC_TEST_REDIS_URL"
THIS_FILE = os.path.abspath(__file__)
API_KEY = "test-api-key-0123456789abcdef"


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a Redis is required)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))  # up, with a password
    except OSError:
        return False


class RedisProcess:
    """A private ``redis-server`` on loopback, in the foreground (so it can be killed)."""

    def __init__(self, port: int | None = None, *options: str) -> None:
        self.port = port if port is not None else _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.options = options  # more of redis-server's, e.g. ("--requirepass", "pw")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            _unavailable("redis-server is not installed (Debian: apt-get install redis-server)")
        self._proc = subprocess.Popen(
            [
                *(exe, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--protected-mode", "no"),
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10.0
        while not _pings(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                _unavailable(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    try:
        import redis  # noqa: F401
    except ImportError:
        _unavailable("redis-py is not installed (pip install 'digicert-async[redis]')")
    url = os.environ.get(REDIS_URL_ENV)
    if url:
        yield url
        return
    server = RedisProcess()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def prefix() -> str:
    return f"dc-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Any]:
    """A plain redis-py client on the test Redis, to look at the keys."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def bound(
    url: str, prefix: str, windows: Any, api_key: str = API_KEY, **options: Any
) -> AsyncIterator[RedisKeyLimiter]:
    factory = dc.RedisLimiterBackend(url, key_prefix=prefix, **options)
    limit = dc.RateLimit(windows=windows, safety_margin=0.0, backend=factory)
    limiter = factory.for_key(api_key_hash(api_key), limit)
    try:
        yield limiter
    finally:
        await limiter.aclose()


# -- the Lua scripts on a real Redis -------------------------------------------------------


async def test_the_count_plus_first_acquire_in_a_window_waits(redis_url: str, prefix: str) -> None:
    async with bound(redis_url, prefix, [(3, 0.5)]) as limiter:
        started = time.monotonic()
        for _ in range(3):
            reservation = await limiter.reserve()
            assert reservation.wait == 0.0
            await limiter.release(reservation)  # its request is over at once
        refused = await limiter.reserve()
        assert refused.reason == "window"
        assert 0.5 - (time.monotonic() - started) - 0.01 <= refused.wait <= 0.5
        assert (await limiter.reserve()).wait > 0.0  # refusing took no slot
        await asyncio.sleep(refused.wait)
        assert (await limiter.reserve()).wait == 0.0


@pytest.fixture
def server_clock(monkeypatch: pytest.MonkeyPatch, prefix: str) -> str:
    """The scripts read the Redis server's time from the key this returns (microseconds,
    set by the test) instead of TIME: Redis's clock, faked."""
    key = f"{prefix}:fake-clock"
    real = _redis._lua

    def faked(name: str) -> str:
        text = real(name)
        assert "redis.call('TIME')" in text
        return text.replace("redis.call('TIME')", f"{{'0', redis.call('GET', '{key}')}}")

    monkeypatch.setattr(_redis, "_lua", faked)
    return key


async def test_a_slot_counts_while_its_request_is_in_flight_however_long(
    redis_url: str, prefix: str, raw: Any, server_clock: str
) -> None:
    """As in every backend (test_ratelimit.py): a request still on its way a whole period
    after its slot was taken arrives beside the next period's sends, so its slot counts
    as taken now until its request is over, then from then on."""

    async def at(seconds: float) -> None:
        await raw.set(server_clock, round((1_000 + seconds) * 1_000_000))

    async with bound(redis_url, prefix, [(10, 0.5)]) as limiter:
        await at(0.0)
        taken = [await limiter.reserve() for _ in range(10)]
        await at(0.01)
        for reservation in taken[1:]:  # nine are over; the first is still in flight
            await limiter.release(reservation)
        await at(0.52)
        more = []
        while (reservation := await limiter.reserve()).wait == 0.0:
            more.append(reservation)
        assert len(more) == 9  # not 10: the one in flight still holds its slot
        assert reservation.reason == "window" and reservation.wait == pytest.approx(0.5)
        for reservation in more:
            await limiter.release(reservation)
        await at(0.6)
        await limiter.release(taken[0])
        await at(1.05)  # the other nine have left the window; it has not
        assert [(await limiter.reserve()).wait for _ in range(10)][-1] == pytest.approx(0.05)


async def test_a_slot_in_flight_counts_as_taken_now_from_the_instant_it_would_leave(
    redis_url: str, prefix: str, raw: Any, server_clock: str
) -> None:
    async with bound(redis_url, prefix, [(1, 0.5)]) as limiter:
        await raw.set(server_clock, 1_000_000_000)
        await limiter.reserve()
        await raw.set(server_clock, 1_000_500_000)  # out of the window by its time alone
        assert (await limiter.reserve()).wait == pytest.approx(0.5)


async def test_a_slot_in_flight_counts_another_bindings_too(
    redis_url: str, prefix: str, raw: Any, server_clock: str
) -> None:
    """The slots in flight are in Redis: a binding of another process counts them; a
    request over, served or refused, is in flight no more."""
    async with (
        bound(redis_url, prefix, [(2, 1.0)]) as first,
        bound(redis_url, prefix, [(2, 1.0)]) as other,
    ):
        await raw.set(server_clock, 1_000_000_000)
        slow, refused = await first.reserve(), await first.reserve()
        await raw.set(server_clock, 1_005_000_000)
        assert (await other.reserve()).wait == pytest.approx(1.0)  # both still in flight
        await first.release(refused, refused=True)
        assert await raw.zcard(other.flight_key) == 1
        assert (await other.reserve()).wait == 0.0
        assert (await other.reserve()).wait == pytest.approx(1.0)
        await first.release(slow)
        assert await raw.zcard(other.flight_key) == 1  # the one other took, not released


def test_a_slot_is_held_in_flight_longer_than_a_default_attempt_can_last() -> None:
    """IN_FLIGHT_SECONDS promises room over the client's default per-attempt timeout."""
    default = inspect.signature(dc.CertCentralClient).parameters["timeout"].default
    assert 2 * default <= IN_FLIGHT_SECONDS


async def test_a_slot_in_flight_longer_than_any_request_can_be_is_let_go(
    redis_url: str, prefix: str, raw: Any, server_clock: str
) -> None:
    """A process that died with a request in flight does not hold its slot forever: no
    request is in flight longer than IN_FLIGHT_SECONDS, so a slot older than that is not
    in flight any more."""
    start = 1_000_000_000
    async with (
        bound(redis_url, prefix, [(1, 0.5)]) as dead,
        bound(redis_url, prefix, [(1, 0.5)]) as alive,
    ):
        await raw.set(server_clock, start)
        await dead.reserve()  # never released
        await raw.set(server_clock, start + round(IN_FLIGHT_SECONDS * 1_000_000))
        assert (await alive.reserve()).wait == pytest.approx(0.5)  # still in flight
        await raw.set(server_clock, start + round(IN_FLIGHT_SECONDS * 1_000_000) + 1_000)
        assert (await alive.reserve()).wait == 0.0
        assert await raw.zcard(alive.flight_key) == 1  # the dead one's entry went
        assert 0 < await raw.pttl(alive.flight_key) <= (IN_FLIGHT_SECONDS + 1) * 1000


async def test_both_windows_are_enforced_at_once(redis_url: str, prefix: str) -> None:
    async with bound(redis_url, prefix, [(2, 0.2), (3, 2.0)]) as limiter:
        # bounds from the time measured here, so that a slow machine cannot fail them
        started = time.monotonic()
        for _ in range(2):
            reservation = await limiter.reserve()
            assert reservation.wait == 0.0
            await limiter.release(reservation)  # its request is over at once
        short = await limiter.reserve()
        assert short.reason == "window"  # the short window is full
        assert 0.2 - (time.monotonic() - started) - 0.01 <= short.wait <= 0.2
        await asyncio.sleep(short.wait)
        reservation = await limiter.reserve()
        assert reservation.wait == 0.0
        await limiter.release(reservation)
        long = await limiter.reserve()  # the short window has room, the long one not
        assert long.reason == "window"
        assert 2.0 - (time.monotonic() - started) - 0.01 <= long.wait <= 2.0 - short.wait


async def test_the_safety_margin_lengthens_the_shared_windows(redis_url: str, prefix: str) -> None:
    factory = dc.RedisLimiterBackend(redis_url, key_prefix=prefix)
    limiter = factory.for_key(
        "k", dc.RateLimit(windows=[(1, 1.0)], safety_margin=0.5, backend=factory)
    )
    try:
        started = time.monotonic()
        assert (await limiter.reserve()).wait == 0.0
        wait = (await limiter.reserve()).wait
        assert 1.5 - (time.monotonic() - started) - 0.01 <= wait <= 1.5
    finally:
        await limiter.aclose()


async def test_two_bindings_of_one_key_share_the_budget_and_other_keys_do_not(
    redis_url: str, prefix: str
) -> None:
    async with (
        bound(redis_url, prefix, [(3, 5.0)]) as first,
        bound(redis_url, prefix, [(3, 5.0)]) as second,
        bound(redis_url, prefix, [(3, 5.0)], api_key="another-key") as other,
    ):
        assert [(await first.reserve()).wait for _ in range(2)] == [0.0, 0.0]
        assert (await second.reserve()).wait == 0.0
        assert (await second.reserve()).wait > 4.0
        assert (await first.reserve()).wait > 4.0
        assert (await other.reserve()).wait == 0.0


async def test_keys_are_named_by_the_sha256_of_the_api_key_never_the_key(
    redis_url: str, prefix: str, raw: Any
) -> None:
    async with bound(redis_url, prefix, [(5, 5.0)]) as limiter:
        for _ in range(3):
            await limiter.reserve()
        epoch = (await limiter.reserve()).epoch
        await limiter.throttled(epoch, retry_after=None, jitter=0.5)
    keys = sorted([key async for key in raw.scan_iter(match=f"{prefix}:*")])
    digest = api_key_hash(API_KEY).encode()
    assert keys == [
        f"{prefix}:{{{digest.decode()}}}:flight".encode(),  # four slots never released
        f"{prefix}:{{{digest.decode()}}}:log".encode(),
        f"{prefix}:{{{digest.decode()}}}:state".encode(),
    ]
    stored = b" ".join(keys)
    stored += b" ".join(await raw.zrange(keys[0], 0, -1))
    stored += b" ".join(await raw.zrange(keys[1], 0, -1))
    for field, value in (await raw.hgetall(keys[2])).items():
        stored += b" " + field + b" " + value
    assert API_KEY.encode() not in stored
    assert await raw.zrange(keys[0], 0, -1) == await raw.zrange(keys[1], 0, -1)
    assert await raw.zcard(keys[1]) == 4
    assert 0 < await raw.pttl(keys[1]) <= 6000  # the log expires with its longest window
    # the slots in flight expire when no request can be in flight any more
    assert 6000 < await raw.pttl(keys[0]) <= (IN_FLIGHT_SECONDS + 1) * 1000
    assert await raw.pttl(keys[2]) > 0


async def test_the_shared_cool_down_follows_cooldown_delay(redis_url: str, prefix: str) -> None:
    factory = dc.RedisLimiterBackend(redis_url, key_prefix=prefix)
    limit = dc.RateLimit(
        windows=[(100, 5.0)], cooldown_initial=2.0, cooldown_max=10.0, backend=factory
    )
    limiter = factory.for_key("k", limit)
    other = factory.for_key("k", limit)
    try:
        epoch = (await limiter.reserve()).epoch
        assert epoch == 0
        started = time.monotonic()
        # seconds, not tenths: the gate must still be closed when a loaded machine gets
        # to the next line
        assert await limiter.throttled(epoch, retry_after=None, jitter=0.3) == pytest.approx(2.0)
        gated = await other.reserve()  # another binding sees the gate and the new epoch
        assert gated.reason == "cooldown"
        assert 2.0 - (time.monotonic() - started) - 0.01 <= gated.wait <= 2.0
        assert gated.epoch == 1
        # a 429 of the same burst (old epoch) does not count again
        assert await other.throttled(0, retry_after=None, jitter=0.99) == 0.0
        expected = [cooldown_delay(n, 2.0, 10.0, 0.99) for n in (2, 3, 4, 5)]
        got = []
        for n in range(2, 6):
            got.append(await limiter.throttled(n - 1, retry_after=None, jitter=0.99))
        assert got == pytest.approx(expected, abs=1e-5)
        # Retry-After wins, and the gate is never shortened
        assert await other.throttled(3, retry_after=30.0, jitter=0.0) == pytest.approx(30.0)
        assert await other.throttled(3, retry_after=5.0, jitter=0.0) == 0.0
        # a success of the current epoch ends the streak: the next 429 starts from the floor
        await limiter.succeeded(5)
        assert await limiter.throttled(5, retry_after=None, jitter=0.99) == 0.0  # gate is 30 s
        assert limiter._remote_strikes == 1
    finally:
        await limiter.aclose()
        await other.aclose()


async def test_success_skips_the_round_trip_when_there_was_no_streak(
    redis_url: str, prefix: str
) -> None:
    async with bound(redis_url, prefix, [(5, 5.0)]) as limiter:
        epoch = (await limiter.reserve()).epoch
        calls = 0
        original = limiter._run

        async def counting(*args: Any) -> Any:
            nonlocal calls
            calls += 1
            return await original(*args)

        limiter._run = counting  # type: ignore[method-assign]
        await limiter.succeeded(epoch)
        assert calls == 0


# -- one cool-down, every backend: a shared table of cases -----------------------------------
#
# The in-memory backend and the Redis fallback keep the cool-down in ``Cooldown``; on Redis
# the Lua scripts make the same transitions. Each case is a sequence of events, run against
# the three; every backend must close the gate for the same delays and reach the same
# epochs and streaks. Cool-downs are short (0.1 s, capped at 0.8 s): Redis keeps real time.

INITIAL, MAXIMUM = 0.1, 0.8


@dataclasses.dataclass(frozen=True)
class Send:
    """A request takes a slot; ``name`` remembers the epoch it was sent in."""

    name: str


@dataclasses.dataclass(frozen=True)
class Refused:
    """A 429 for ``of`` (a named request, or one sent in that epoch): the gate is newly
    closed for ``closed`` seconds (0.0: not moved)."""

    of: str | int
    closed: float
    retry_after: float | None = None
    jitter: float = 0.0


@dataclasses.dataclass(frozen=True)
class Answered:
    """Another answer than 429 for ``of``."""

    of: str | int


@dataclasses.dataclass(frozen=True)
class Gated:
    """A request finds the gate closed for ``left`` seconds (counted from the case's
    start or its last reopening; Redis's clock moves on meanwhile)."""

    left: float


@dataclasses.dataclass(frozen=True)
class Reopen:
    """Time passes until the gate is open again."""


@dataclasses.dataclass(frozen=True)
class State:
    epoch: int
    strikes: int


Event = Send | Refused | Answered | Gated | Reopen | State

COOLDOWN_CASES: dict[str, list[Event]] = {
    "one burst counts once": [
        *(Send("a"), Send("b"), Send("c")),
        Refused("a", closed=INITIAL, jitter=0.5),  # begins a cool-down: the floor, 0.1 s
        Refused("b", closed=0.0, jitter=0.99),  # in flight with it: the same burst
        Answered("c"),  # sent before the 429 was known: the streak goes on
        State(epoch=1, strikes=1),
        Gated(INITIAL),
        Reopen(),
        Send("d"),
        Answered("d"),  # after it: the streak is over
        State(epoch=1, strikes=0),
        Send("e"),
        Refused("e", closed=INITIAL, jitter=0.99),  # starts from the floor again
        State(epoch=2, strikes=1),
    ],
    "the streak grows the cool-down until a success": [
        Send("a"),
        Refused("a", closed=0.1, jitter=0.99),  # the cap is the floor: 0.1 s
        Reopen(),
        Send("b"),
        Refused("b", closed=0.198, jitter=0.99),  # 0.99 x 0.2 s
        Reopen(),
        Send("c"),
        Refused("c", closed=0.396, jitter=0.99),  # 0.99 x 0.4 s
        State(epoch=3, strikes=3),
        Reopen(),
        Send("d"),
        Answered("d"),
        State(epoch=3, strikes=0),
    ],
    "a success sent before the last cool-down began keeps the streak": [
        Send("a"),
        Refused("a", closed=0.1),
        Reopen(),
        *(Send("b"), Send("c")),  # sent during a streak
        Refused("b", closed=0.198, jitter=0.99),
        Answered("c"),  # in flight with b: says nothing
        State(epoch=2, strikes=2),
        Reopen(),
        Send("d"),
        Answered("d"),
        State(epoch=2, strikes=0),
    ],
    "the cool-down is capped, and never shortened": [
        Refused(0, closed=0.1, jitter=0.99),
        Refused(1, closed=0.198, jitter=0.99),
        Refused(2, closed=0.396, jitter=0.99),
        Refused(3, closed=0.792, jitter=0.99),
        Refused(4, closed=0.0, jitter=0.5),  # 0.4 s: the gate stays at 0.792
        State(epoch=5, strikes=5),
        Refused(5, closed=0.8, jitter=0.999999),  # up to 3.2 s, but capped at 0.8 s
        Gated(0.8),
    ],
    "Retry-After wins, and only ever extends the gate": [
        Send("a"),
        Refused("a", closed=0.5, retry_after=0.5, jitter=0.99),  # not the 0.1 s floor
        Refused("a", closed=0.0, retry_after=0.2),  # the same burst, shorter: nothing
        Refused("a", closed=0.0, jitter=0.99),  # the same burst, no Retry-After: nothing
        Refused("a", closed=0.7, retry_after=0.7),  # the same burst, longer: extends
        State(epoch=1, strikes=1),
        Refused(1, closed=0.0, jitter=0.99),  # a new cool-down, 0.198 s, inside 0.7 s
        State(epoch=2, strikes=2),
        Gated(0.7),
    ],
    "Retry-After: 0 counts the 429 but closes nothing": [
        Send("a"),
        Refused("a", closed=0.0, retry_after=0.0),
        State(epoch=1, strikes=1),
        Send("b"),  # the gate is open
        Answered("b"),
        State(epoch=1, strikes=0),
    ],
}


class CooldownRig:
    """One backend under the table: the events through the ``LimiterBackend`` interface,
    its time and its stored state."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.epochs: dict[str, int] = {}
        self.since = 0.0

    def tag(self, epoch: int) -> int:
        """How this backend's reservations carry ``epoch``."""
        return epoch

    def elapsed(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError

    async def state(self) -> tuple[int, int]:
        raise NotImplementedError

    async def run(self, events: list[Event]) -> None:
        self.since = time.monotonic()
        for step, event in enumerate(events):
            where = f"step {step}: {event}"
            if isinstance(event, Send):
                reservation = await self.backend.reserve()
                assert reservation.wait == 0.0, where
                self.epochs[event.name] = reservation.epoch
                await self.backend.release(reservation)
            elif isinstance(event, Refused):
                closed = await self.backend.throttled(
                    self._epoch(event.of), retry_after=event.retry_after, jitter=event.jitter
                )
                assert closed == pytest.approx(event.closed, abs=2e-6), where
            elif isinstance(event, Answered):
                await self.backend.succeeded(self._epoch(event.of))
            elif isinstance(event, Gated):
                reservation = await self.backend.reserve()
                assert reservation.reason == "cooldown", where
                assert event.left - self.elapsed() - 2e-6 <= reservation.wait, where
                assert reservation.wait <= event.left + 2e-6, where
            elif isinstance(event, Reopen):
                while (reservation := await self.backend.reserve()).wait > 0.0:
                    assert reservation.reason == "cooldown", where
                    await self.sleep(reservation.wait)
                self.since = time.monotonic()
            else:
                assert await self.state() == (event.epoch, event.strikes), where

    def _epoch(self, of: str | int) -> int:
        return self.epochs[of] if isinstance(of, str) else self.tag(of)


class MemoryRig(CooldownRig):
    def __init__(self) -> None:
        self.now = 50.0
        super().__init__(
            InMemoryLimiterBackend(
                [], clock=lambda: self.now, cooldown_initial=INITIAL, cooldown_max=MAXIMUM
            )
        )

    async def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def state(self) -> tuple[int, int]:
        return self.backend.epoch, self.backend.strikes


class FallbackRig(MemoryRig):
    """The Redis backend with Redis gone: paced by its local fallback (its own clock)."""

    def __init__(self, prefix: str) -> None:
        self.now = 50.0
        factory = dc.RedisLimiterBackend(_closed_port_url(), key_prefix=prefix, timeout=0.2)
        limit = dc.RateLimit(
            windows=[], cooldown_initial=INITIAL, cooldown_max=MAXIMUM, backend=factory
        )
        CooldownRig.__init__(self, RedisKeyLimiter(factory, "k", limit, clock=lambda: self.now))

    def tag(self, epoch: int) -> int:
        return -1 - epoch  # local epochs are negative

    async def state(self) -> tuple[int, int]:
        assert not self.backend.available
        return self.backend._local.epoch, self.backend._local_strikes


class RedisRig(CooldownRig):
    def __init__(self, redis_url: str, prefix: str) -> None:
        import redis.asyncio

        factory = dc.RedisLimiterBackend(redis_url, key_prefix=prefix)
        limit = dc.RateLimit(
            windows=[], cooldown_initial=INITIAL, cooldown_max=MAXIMUM, backend=factory
        )
        super().__init__(factory.for_key("k", limit))
        self.raw = redis.asyncio.Redis.from_url(redis_url)  # to read the stored state

    def elapsed(self) -> float:
        return time.monotonic() - self.since

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def state(self) -> tuple[int, int]:
        assert self.backend.available
        epoch, strikes = await self.raw.hmget(self.backend.state_key, "epoch", "strikes")
        return int(epoch or 0), int(strikes or 0)


class SqliteRig(MemoryRig):
    """The SQLite backend on a file of its own, its wall clock the rig's."""

    def __init__(self, path: Path) -> None:
        self.now = 50.0
        factory = dc.SqliteLimiterBackend(path)
        limit = dc.RateLimit(
            windows=[], cooldown_initial=INITIAL, cooldown_max=MAXIMUM, backend=factory
        )
        limiter = SqliteKeyLimiter(
            factory, "k", limit, clock=lambda: self.now, wall_clock=lambda: self.now
        )
        CooldownRig.__init__(self, limiter)

    async def state(self) -> tuple[int, int]:
        assert self.backend.available
        with contextlib.closing(sqlite3.connect(self.backend.state.path)) as db:
            row = db.execute("SELECT epoch, strikes FROM limiter_state WHERE key = 'k'").fetchone()
        return (0, 0) if row is None else (row[0], row[1])


@pytest.mark.parametrize("case", sorted(COOLDOWN_CASES))
@pytest.mark.parametrize("where", ["memory", "redis", "redis-fallback", "sqlite"])
async def test_every_backend_makes_the_same_cool_down_transitions(
    where: str, case: str, prefix: str, request: pytest.FixtureRequest
) -> None:
    rig: CooldownRig
    if where == "memory":
        rig = MemoryRig()
    elif where == "redis":
        rig = RedisRig(request.getfixturevalue("redis_url"), prefix)
    elif where == "sqlite":
        rig = SqliteRig(request.getfixturevalue("tmp_path") / "limiter.sqlite3")
    else:
        rig = FallbackRig(prefix)
        await rig.backend.reserve()  # meets Redis gone: paced locally from now on
        assert not rig.backend.available
    try:
        await rig.run(COOLDOWN_CASES[case])
    finally:
        if isinstance(rig, RedisRig):
            await rig.raw.aclose()
        if where != "memory":
            await rig.backend.aclose()


# -- clients sharing one key ---------------------------------------------------------------


def _client(fake: FakeCertCentral, limit: dc.RateLimit, **kwargs: Any) -> dc.CertCentralClient:
    return dc.CertCentralClient(
        api_key=fake.api_key, base_url=fake.base_url, rate_limit=limit, timeout=5.0, **kwargs
    )


async def test_a_429_seen_by_one_client_makes_another_wait(redis_url: str, prefix: str) -> None:
    async with FakeCertCentral(rate_limits=None, orders=2, seed=1) as fake:
        limit = dc.RateLimit(
            windows=[(100, 5.0)],
            cooldown_initial=0.5,
            cooldown_max=0.5,
            backend=dc.RedisLimiterBackend(redis_url, key_prefix=prefix),
        )
        waits: list[dc.RateLimitWait] = []
        first = _client(fake, limit, retry=dc.RetryPolicy.disabled())
        second = _client(fake, limit, hooks=dc.Hooks(on_rate_limit_wait=[waits.append]))
        async with first, second:
            order_id = fake.order_ids[0]
            fake.inject(Fault.RATE_LIMITED)
            with pytest.raises(dc.RateLimitError):
                await first.orders.get(order_id)
            started = time.monotonic()
            await second.orders.get(order_id)
            elapsed = time.monotonic() - started
        assert [w.reason for w in waits] == ["cooldown"]
        assert 0.4 < waits[0].delay <= 0.5
        assert elapsed >= 0.4
        assert [r.answered_status for r in fake.requests] == [429, 200]


async def test_client_close_closes_the_redis_connections(redis_url: str, prefix: str) -> None:
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        factory = dc.RedisLimiterBackend(redis_url, key_prefix=prefix)
        client = _client(fake, dc.RateLimit(backend=factory))
        limiter = client._ratelimit_middleware.backend
        assert isinstance(limiter, RedisKeyLimiter)
        assert limiter.state_key == f"{prefix}:{{{api_key_hash(fake.api_key)}}}:state"
        async with client:
            await client.orders.get(fake.order_ids[0])
            assert limiter._client is not None
        assert limiter._client is None


async def test_a_given_redis_client_is_used_and_left_open(
    redis_url: str, prefix: str, raw: Any
) -> None:
    factory = dc.RedisLimiterBackend(client=raw, key_prefix=prefix)
    limiter = factory.for_key("k", dc.RateLimit(windows=[(1, 5.0)], backend=factory))
    assert (await limiter.reserve()).wait == 0.0
    await limiter.aclose()
    assert await raw.ping()
    assert await raw.zcard(f"{prefix}:{{k}}:log") == 1


# -- several processes, one key ------------------------------------------------------------

WORKERS = 4
TASKS = 100
# Scaled windows: 25 per 0.5 s and 100 per 2.5 s, both binding for 400 requests.
SCALED_WINDOWS = [(25, 0.5), (100, 2.5)]
# The default margin: slots count from when their request is over, so a burst that
# spreads out on its way to the server cannot crowd the next one into its window.
MARGIN = 0.01


async def _worker(config: dict[str, Any]) -> dict[str, Any]:
    backend: Any = None
    if config["redis_url"]:
        backend = dc.RedisLimiterBackend(config["redis_url"], key_prefix=config["prefix"])
    elif config.get("sqlite_path"):
        backend = dc.SqliteLimiterBackend(config["sqlite_path"])
    limit = dc.RateLimit(windows=config["windows"], safety_margin=config["margin"], backend=backend)
    retry = dc.RetryPolicy(max_attempts=config.get("attempts", 5))
    async with dc.CertCentralClient(
        api_key=config["api_key"],
        base_url=config["base_url"],
        rate_limit=limit,
        retry=retry,
        timeout=30.0,
    ) as client:
        await client.orders.get(config["order_ids"][0])  # warm up: connections, scripts
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started = time.monotonic()

        async def one(index: int) -> str | None:
            order_id = config["order_ids"][index % len(config["order_ids"])]
            try:
                await client.orders.add_note(order_id, f"{config['name']}-{index}")
            except dc.DigiCertError as exc:
                return f"{type(exc).__name__}: {exc}"
            return None

        outcomes = await asyncio.gather(*(one(i) for i in range(config["tasks"])))
        elapsed = time.monotonic() - started
    errors = [outcome for outcome in outcomes if outcome is not None]
    return {"ok": len(outcomes) - len(errors), "errors": errors[:5], "elapsed": elapsed}


async def run_workers(
    fake: FakeCertCentral,
    *,
    redis_url: str | None,
    prefix: str,
    windows: list[tuple[int, float]],
    margin: float,
    workers: int = WORKERS,
    tasks: int = TASKS,
    attempts: int = 5,
    sqlite_path: str | None = None,
) -> tuple[list[dict[str, Any]], float]:
    """Start ``workers`` processes that each send ``tasks`` notes at once (sharing the
    budget in Redis, in the SQLite file at ``sqlite_path``, or not at all); return their
    reports and the wall time from the go signal to the last report."""
    procs = []
    for number in range(workers):
        config = {
            "name": f"w{number}",
            "api_key": fake.api_key,
            "base_url": fake.base_url,
            "redis_url": redis_url,
            "sqlite_path": sqlite_path,
            "prefix": prefix,
            "windows": windows,
            "margin": margin,
            "tasks": tasks,
            "attempts": attempts,
            "order_ids": fake.order_ids,
        }
        procs.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                THIS_FILE,
                "worker",
                json.dumps(config),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        )
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line.strip() == b"ready", line
        fake.clear_requests()
        started = time.monotonic()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        reports = []
        for proc in procs:
            out, _ = await asyncio.wait_for(proc.communicate(), 120)
            assert proc.returncode == 0
            reports.append(json.loads(out.decode().strip().splitlines()[-1]))
        return reports, time.monotonic() - started
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


@pytest.mark.slow
async def test_four_worker_processes_on_one_key_never_see_a_429(
    redis_url: str, prefix: str
) -> None:
    async with FakeCertCentral(rate_limits=SCALED_WINDOWS, orders=10, seed=3) as fake:
        reports, elapsed = await run_workers(
            fake, redis_url=redis_url, prefix=prefix, windows=SCALED_WINDOWS, margin=MARGIN
        )
        assert [report["errors"] for report in reports] == [[]] * WORKERS
        assert sum(report["ok"] for report in reports) == WORKERS * TASKS
        assert fake.rate_limited_count == 0
        assert len(fake.requests) == WORKERS * TASKS
        notes = [n["text"] for order_id in fake.order_ids for n in fake.notes(order_id)]
        expected = {f"w{w}-{i}" for w in range(WORKERS) for i in range(TASKS)}
        assert sorted(notes) == sorted(expected)  # each exactly once
        # 400 requests at 100 per 2.5 s: the last hundred cannot start before 7.5 s
        assert elapsed > 7.5


# -- Redis slow or gone ----------------------------------------------------------------------


async def _black_hole() -> tuple[asyncio.Server, str]:
    """A TCP server that accepts connections and never answers: a hung Redis."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.read()
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"redis://127.0.0.1:{port}/0"


def _ours(caplog: Any, level: int) -> list[str]:
    """The library's log messages at exactly ``level``."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("digicert_async") and r.levelno == level
    ]


def _closed_port_url() -> str:
    return f"redis://127.0.0.1:{_free_port()}/0"


async def test_fail_mode_raises_before_sending(prefix: str, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async")
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        backend = dc.RedisLimiterBackend(
            _closed_port_url(), key_prefix=prefix, on_unavailable="fail", timeout=0.2
        )
        async with _client(fake, dc.RateLimit(backend=backend)) as client:
            for _ in range(2):
                with pytest.raises(dc.LimiterUnavailableError, match="did not answer"):
                    await client.orders.get(fake.order_ids[0])
        assert fake.requests == []
    warnings = _ours(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert "LimiterUnavailableError" in warnings[0]


async def test_fail_mode_fails_every_waiting_call_at_once_on_a_hung_redis(
    prefix: str, caplog: Any
) -> None:
    """40 calls queued for a slot when Redis (accepting TCP, never answering) hangs: the
    first waits out the 0.5 s timeout, the rest fail with it instead of 0.5 s each."""
    caplog.set_level(logging.INFO, logger="digicert_async")
    server, url = await _black_hole()
    try:
        async with FakeCertCentral(rate_limits=None, orders=1) as fake:
            backend = dc.RedisLimiterBackend(url, key_prefix=prefix, on_unavailable="fail")
            assert backend.timeout == 0.5  # the default, as in the report of the problem
            async with _client(fake, dc.RateLimit(backend=backend)) as client:
                started = time.monotonic()
                outcomes = await asyncio.gather(
                    *(client.orders.get(fake.order_ids[0]) for _ in range(40)),
                    return_exceptions=True,
                )
                elapsed = time.monotonic() - started
            assert fake.requests == []  # nothing sent without the shared limiter
        assert all(isinstance(o, dc.LimiterUnavailableError) for o in outcomes), outcomes
        assert all("did not answer" in str(o) for o in outcomes)
        assert elapsed < 10.0  # was 40 x 0.5 s = 20 s
    finally:
        server.close()
        await server.wait_closed()
    warnings = _ours(caplog, logging.WARNING)
    assert len(warnings) == 1 and "LimiterUnavailableError" in warnings[0]


async def test_fail_mode_sends_again_once_a_probe_finds_redis_back(
    prefix: str, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async")
    server = RedisProcess()
    server.start()
    try:
        async with FakeCertCentral(rate_limits=None, orders=1) as fake:
            backend = dc.RedisLimiterBackend(
                server.url, key_prefix=prefix, on_unavailable="fail", timeout=0.3,
                probe_interval=0.1,
            )  # fmt: skip
            async with _client(fake, dc.RateLimit(backend=backend)) as client:
                order_id = fake.order_ids[0]
                await client.orders.get(order_id)
                server.stop()
                with pytest.raises(dc.LimiterUnavailableError):
                    await client.orders.get(order_id)
                with pytest.raises(dc.LimiterUnavailableError):
                    await client.orders.get(order_id)  # at once, and it starts a probe
                server.start()  # a fresh Redis on the same port
                answered = False
                for _ in range(100):
                    try:
                        await client.orders.get(order_id)
                    except dc.LimiterUnavailableError:
                        await asyncio.sleep(0.05)
                    else:
                        answered = True
                        break
                assert answered, "a probe should have found Redis back"
            assert len(fake.requests) == 2  # the first call and the one after the return
    finally:
        server.stop()
    assert len(_ours(caplog, logging.WARNING)) == 1
    assert sum("available again" in text for text in _ours(caplog, logging.INFO)) == 1


async def test_a_hung_redis_times_out_and_falls_back(prefix: str, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async")
    server, url = await _black_hole()
    try:
        async with FakeCertCentral(rate_limits=None, orders=1) as fake:
            backend = dc.RedisLimiterBackend(url, key_prefix=prefix, timeout=0.2)
            limit = dc.RateLimit(windows=[(12, 1.0)], backend=backend)
            async with _client(fake, limit) as client:
                started = time.monotonic()
                await asyncio.gather(*(client.orders.get(fake.order_ids[0]) for _ in range(3)))
                elapsed = time.monotonic() - started
            assert len(fake.requests) == 3
        # one 0.2 s wait for Redis, then 3 per s locally: not a wait per call (0.6 s and
        # more), with room for a slow machine
        assert 0.2 < elapsed < 3.0
    finally:
        server.close()
        await server.wait_closed()
    warnings = _ours(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert "TimeoutError" in warnings[0] and "25%" in warnings[0]


async def test_fallback_pacing_uses_the_fraction_of_each_window(prefix: str) -> None:
    now = [100.0]
    factory = dc.RedisLimiterBackend(
        _closed_port_url(), key_prefix=prefix, timeout=0.2, fallback_fraction=0.25
    )
    limit = dc.RateLimit(windows=[(10, 1.0), (30, 60.0)], safety_margin=0.0, backend=factory)
    limiter = RedisKeyLimiter(factory, "k", limit, clock=lambda: now[0])
    try:
        assert limiter.fallback_windows == ((2, 1.0), (7, 60.0))
        assert (await limiter.reserve()).wait == 0.0  # Redis refused: paced locally
        assert not limiter.available
        assert (await limiter.reserve()).wait == 0.0
        refused = await limiter.reserve()
        assert (refused.reason, refused.wait) == ("window", 1.0)
        assert refused.epoch < 0  # a local epoch
        # a 429 during the outage closes the local gate, with the streak arithmetic
        assert await limiter.throttled(refused.epoch, retry_after=None, jitter=0.0) == 1.0
        gated = await limiter.reserve()
        assert (gated.reason, gated.wait) == ("cooldown", 1.0)
        assert await limiter.throttled(refused.epoch, retry_after=None, jitter=0.9) == 0.0
        await limiter.succeeded(gated.epoch)
        assert limiter._local_strikes == 0
    finally:
        await limiter.aclose()


async def test_sends_during_an_outage_are_written_to_redis_when_it_returns(
    prefix: str, raw: Any, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async")
    server = RedisProcess()
    server.start()
    try:
        async with bound(
            server.url, prefix, [(100, 30.0)], timeout=0.3, probe_interval=0.1
        ) as limiter:
            assert (await limiter.reserve()).wait == 0.0
            server.stop()
            for _ in range(3):
                assert (await limiter.reserve()).wait == 0.0
            assert not limiter.available
            assert limiter.fallback_sends == 3
            server.start()  # a fresh, empty Redis on the same port
            for _ in range(100):
                if limiter.available:
                    break
                await limiter.reserve()  # paced locally; probes in the background
                await asyncio.sleep(0.05)
            assert limiter.available
            before = limiter.fallback_sends
            assert (await limiter.reserve()).wait == 0.0  # shared again, backfilled
            import redis.asyncio

            check = redis.asyncio.Redis.from_url(server.url)
            try:
                assert await check.zcard(limiter.log_key) == before + 1
            finally:
                await check.aclose()
    finally:
        server.stop()
    assert len(_ours(caplog, logging.WARNING)) == 1
    assert sum("available again" in text for text in _ours(caplog, logging.INFO)) == 1


@pytest.mark.slow
async def test_redis_killed_mid_run_falls_back_and_loses_nothing(prefix: str, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async")
    calls = 60
    windows = [(10, 0.5)]
    server = RedisProcess()
    server.start()
    try:
        async with FakeCertCentral(rate_limits=windows, orders=3, seed=5) as fake:
            backend = dc.RedisLimiterBackend(
                server.url, key_prefix=prefix, timeout=0.3, fallback_fraction=0.5
            )
            limit = dc.RateLimit(windows=windows, safety_margin=0.05, backend=backend)
            sent = 0
            twenty_sent = asyncio.Event()

            def count(event: dc.RequestSent) -> None:
                nonlocal sent
                sent += 1
                if sent == 20:
                    twenty_sent.set()

            async with _client(fake, limit, hooks=dc.Hooks(on_request=[count])) as client:

                async def one(index: int) -> str | None:
                    order_id = fake.order_ids[index % 3]
                    try:
                        await client.orders.add_note(order_id, f"note-{index}")
                    except dc.DigiCertError as exc:  # any documented exception
                        return type(exc).__name__
                    return None

                tasks = [asyncio.ensure_future(one(i)) for i in range(calls)]
                await twenty_sent.wait()
                server.stop()
                killed_at = time.monotonic()
                outcomes = await asyncio.gather(*tasks)
                limiter = client._ratelimit_middleware.backend
                assert isinstance(limiter, RedisKeyLimiter)
                assert not limiter.available
                assert limiter.fallback_sends > 0
            assert outcomes == [None] * calls
            assert fake.rate_limited_count == 0
            texts = [n["text"] for order_id in fake.order_ids for n in fake.notes(order_id)]
            assert sorted(texts) == sorted(f"note-{i}" for i in range(calls))  # once each
            assert len(fake.requests) == calls
            after = [r.time for r in fake.requests if r.time > killed_at + 0.01]
            assert after, "some requests were paced locally"
            # locally: 5 per 0.5 s (half the budget), never more in any 0.5 s span
            assert _max_in_span(after, 0.5) <= 5
    finally:
        server.stop()
    warnings = _ours(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert "unavailable" in warnings[0]


def _max_in_span(times: list[float], span: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - span:
            start += 1
        best = max(best, end - start + 1)
    return best


# -- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ((), {}, "rate_limit.backend"),
        (("http://localhost",), {}, "rate_limit.backend.url"),
        (("redis://localhost",), {"key_prefix": ""}, "rate_limit.backend.key_prefix"),
        (("redis://localhost",), {"key_prefix": "a{b}"}, "rate_limit.backend.key_prefix"),
        (("redis://localhost",), {"timeout": 0}, "rate_limit.backend.timeout"),
        (
            ("redis://localhost",),
            {"fallback_fraction": 1.5},
            "rate_limit.backend.fallback_fraction",
        ),
        (("redis://localhost",), {"on_unavailable": "ignore"}, "rate_limit.backend.on_unavailable"),
    ],
)
def test_bad_configuration_is_rejected(args: Any, kwargs: Any, field: str) -> None:
    with pytest.raises(dc.ValidationError) as info:
        dc.RedisLimiterBackend(*args, **kwargs)
    assert info.value.field == field


def test_rate_limit_backend_must_be_a_factory() -> None:
    with pytest.raises(dc.ValidationError, match="for_key"):
        dc.RateLimit(backend=object())  # type: ignore[arg-type]


def test_repr_hides_the_redis_password() -> None:
    backend = dc.RedisLimiterBackend("redis://user:s3cret@localhost:6379/0")
    assert "s3cret" not in repr(backend)
    assert "user:***@localhost" in repr(backend)


def test_importing_the_package_does_not_need_redis_py() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import digicert_async as dc\n"
        "try:\n"
        "    dc.RedisLimiterBackend('redis://localhost')\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'digicert-async[redis]'" in out.stdout


def _main(argv: list[str]) -> None:
    if argv[:1] != ["worker"]:
        raise SystemExit("usage: test_redis.py worker CONFIG_JSON")
    report = asyncio.run(_worker(json.loads(argv[1])))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
