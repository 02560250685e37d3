"""The limiter's details that mutation testing found unchecked.

On the fake clock of ``test_ratelimit``: the ``CooldownStarted`` event (once per
gate actually closed, with its fields), ``Retry-After`` dates read against the
injected wall clock and as GMT whatever the local zone, the gate not reported as
moved when it did not move, the fast path honouring the safety margin, the
cool-down cap handed to the in-memory backend, and what a deadline refusal names.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time as _time
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any, cast

import pytest

import digicert_async as dc
from digicert_async._hooks import CooldownStarted, Hooks, RateLimitWait
from digicert_async._pipeline import DeadlineRefused, Request
from digicert_async._ratelimit import (
    Cooldown,
    InMemoryLimiterBackend,
    RateLimit,
    RateLimitMiddleware,
    _FifoTurn,
    parse_retry_after,
    window_wait,
)
from digicert_async._ratelimit._backend import LimiterBackend

from .test_ratelimit import START, FakeTime, Recorder

URL_ROOT = "https://example.test/services/v2"


@pytest.fixture
def denver_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone set away from UTC for the test."""
    monkeypatch.setenv("TZ", "America/Denver")
    _time.tzset()
    yield
    monkeypatch.undo()
    _time.tzset()


def _request(path: str = "/order/certificate/1", deadline: float | None = None) -> Request:
    return Request(
        method="GET",
        path=path,
        route="/order/certificate/{order_id}",
        root=URL_ROOT,
        call=9,
        deadline=deadline,
    )


def _middleware(
    time: FakeTime,
    rate_limit: RateLimit,
    started: list[CooldownStarted],
    wall_clock: float = 1_700_000_000.0,
) -> RateLimitMiddleware:
    return RateLimitMiddleware(
        rate_limit,
        Hooks(on_cooldown=(started.append,)),
        clock=time.clock,
        sleep=time.sleep,
        rng=random.Random(1),
        wall_clock=lambda: wall_clock,
    )


# --------------------------------------------------------------------------- Retry-After


@pytest.mark.usefixtures("denver_local_time")
def test_a_retry_after_date_without_zone_is_gmt() -> None:
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:00 -0000", now=0.0) == 60.0


def test_a_retry_after_date_is_read_against_the_real_clock_by_default() -> None:
    later = formatdate(_time.time() + 120, usegmt=True)
    seconds = parse_retry_after(later)
    assert seconds is not None and 100.0 < seconds <= 121.0


async def test_a_retry_after_date_is_read_against_the_injected_wall_clock() -> None:
    time = FakeTime()
    started: list[CooldownStarted] = []
    # the wall clock says it is 00:00:00 on 1 Jan 1970: the date is 30 s ahead
    middleware = _middleware(time, RateLimit(windows=[]), started, wall_clock=0.0)
    send = Recorder(time, statuses=[429], headers={"Retry-After": "Thu, 01 Jan 1970 00:00:30 GMT"})
    await time.run(middleware(_request(), send))
    [event] = started
    assert event.delay == 30.0 and event.retry_after is True


# --------------------------------------------------------------------------- the cool-down event


async def test_one_cooldown_event_per_gate_closed_with_its_fields() -> None:
    time = FakeTime()
    started: list[CooldownStarted] = []
    limit = RateLimit(windows=[], cooldown_initial=1.0, cooldown_max=60.0)
    middleware = _middleware(time, limit, started)
    # three requests in flight together, all refused: one burst, one cool-down of 1 s
    send = Recorder(time, latency=0.1, statuses=[429, 429, 429])
    answers = await time.run(*(middleware(_request(), send) for _ in range(3)))
    assert [a.status for a in answers] == [429] * 3
    [event] = started
    assert event == CooldownStarted(
        method="GET",
        url=URL_ROOT + "/order/certificate/1",
        delay=1.0,
        retry_after=False,
        call=9,
        route="/order/certificate/{order_id}",
    )


def test_a_gate_held_to_the_same_moment_has_not_moved() -> None:
    gate = Cooldown(initial=1.0, maximum=60.0)
    assert gate.throttled(0, now=10.0, retry_after=5.0, jitter=0.5) == 5.0
    # a late 429 of the same burst asking for the very same end changes nothing
    assert gate.throttled(0, now=10.0, retry_after=5.0, jitter=0.5) == 0.0
    assert gate.hold(15.0) is False
    assert gate.gate_until == 15.0


async def test_the_in_memory_backend_gets_the_cooldown_cap() -> None:
    now = [0.0]
    limit = RateLimit(windows=[], cooldown_initial=1.0, cooldown_max=2.0)
    backend = InMemoryLimiterBackend.from_rate_limit(limit, lambda: now[0])
    delays = []
    for _ in range(8):
        epoch = backend.epoch
        delays.append(await backend.throttled(epoch, retry_after=None, jitter=0.99))
        now[0] += 100.0
    assert max(delays) == pytest.approx(0.99 * 2.0)


# --------------------------------------------------------------------------- the fast path


def test_the_free_slot_fast_path_keeps_the_safety_margin() -> None:
    now = [0.0]
    backend = InMemoryLimiterBackend([(1, 1.0)], safety_margin=0.5, clock=lambda: now[0])
    assert backend.take_if_free() == 0.0
    backend.move(0.0)  # its request is over at once
    now[0] = 1.2  # past the period, not past the padded period
    assert backend.take_if_free() is None
    now[0] = 1.5
    assert backend.take_if_free() == 1.5


def test_the_fast_path_is_closed_by_the_gate_only_while_it_is_closed() -> None:
    now = [10.0]
    backend = InMemoryLimiterBackend(windows=(), clock=lambda: now[0])
    assert backend.take_if_free() == 10.0
    backend.cooldown.hold(11.0)
    assert backend.take_if_free() is None
    now[0] = 11.0
    assert backend.take_if_free() == 11.0


# ------------------------------------------------------------------ refusals and the turn


async def test_a_deadline_refusal_names_the_request() -> None:
    time = FakeTime()
    middleware = _middleware(time, RateLimit(windows=[(1, 10.0)], safety_margin=0.0), [])
    send = Recorder(time)
    await middleware(_request(), send)
    [error] = await time.run(middleware(_request(deadline=START + 5.0), send))
    assert isinstance(error, DeadlineRefused)
    assert (error.method, error.url) == ("GET", URL_ROOT + "/order/certificate/1")


async def test_a_waiter_whose_time_ran_out_as_the_turn_was_freed_just_gives_up() -> None:
    turn = _FifoTurn()
    assert await turn.acquire(None, asyncio.sleep)
    timer: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def sleep(_: float) -> asyncio.Future[None]:
        return timer

    waiting = asyncio.ensure_future(turn.acquire(5.0, sleep))
    await asyncio.sleep(0)
    timer.set_result(None)  # its time runs out...
    await asyncio.sleep(0)
    turn.release()  # ...and the holder lets go before it wakes up
    assert await waiting is False
    assert turn.free


async def test_a_backend_without_aclose_is_bound_to_the_keys_hash_and_closes() -> None:
    bound: list[tuple[str, RateLimit]] = []

    class Factory:
        def for_key(self, key_hash: str, rate_limit: RateLimit) -> InMemoryLimiterBackend:
            bound.append((key_hash, rate_limit))
            return InMemoryLimiterBackend.from_rate_limit(rate_limit)

    limit = RateLimit(backend=Factory())
    async with dc.CertCentralClient(api_key="k-123", rate_limit=limit):
        pass
    assert bound == [(hashlib.sha256(b"k-123").hexdigest(), limit)]


# ------------------------------------------------------------------ windows and the slow path


def test_every_window_counts_even_after_one_with_room() -> None:
    # the first window has room; the second is full for 9 s more
    assert window_wait(1.0, [(5, 1.0), (1, 10.0)], [[0.0], [0.0]]) == 9.0


def test_a_wait_below_rounding_noise_is_no_wait() -> None:
    assert window_wait(5.0 - 1e-12, [(1, 5.0)], [[0.0]]) == 0.0


class _Shared:
    """A backend that is not this process's own (as a shared store is): every request
    takes the queue and asks it. It answers as the in-memory backend it wraps."""

    def __init__(self, inner: InMemoryLimiterBackend) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_through_a_shared_backend_a_deadline_now_is_passed_and_one_ahead_is_kept() -> None:
    time = FakeTime()
    waits: list[RateLimitWait] = []
    limit = RateLimit(windows=[(1, 2.0)], safety_margin=0.0)
    middleware = RateLimitMiddleware(
        limit,
        Hooks(on_rate_limit_wait=(waits.append,)),
        backend=cast(
            LimiterBackend, _Shared(InMemoryLimiterBackend.from_rate_limit(limit, time.clock))
        ),
        clock=time.clock,
        sleep=time.sleep,
    )
    send = Recorder(time)
    [passed] = await time.run(middleware(_request(deadline=START), send))
    assert isinstance(passed, DeadlineRefused)
    assert "the call's deadline had passed" in str(passed)
    assert send.sent == []
    # half a second ahead is time enough when a slot is free
    [answer] = await time.run(middleware(_request(deadline=START + 0.5), send))
    assert answer.status == 200 and send.sent == [START]
    # the next one waits for the window, and says so
    [answer] = await time.run(middleware(_request(), send))
    assert answer.status == 200 and send.sent == [START, START + 2.0]
    [wait] = waits
    assert (wait.delay, wait.reason, wait.call, wait.route) == (
        2.0,
        "window",
        9,
        "/order/certificate/{order_id}",
    )


class _Top(random.Random):
    """Draws 0.99 every time: a jitter that shows the cool-down's cap."""

    def random(self) -> float:
        return 0.99


async def test_the_streak_grows_with_the_given_jitter_and_a_success_ends_it() -> None:
    time = FakeTime()
    started: list[CooldownStarted] = []
    middleware = RateLimitMiddleware(
        RateLimit(windows=[], cooldown_initial=1.0, cooldown_max=60.0),
        Hooks(on_cooldown=(started.append,)),
        clock=time.clock,
        sleep=time.sleep,
        rng=_Top(),
    )
    for status in (429, 429, 200, 429):
        await time.run_until(time.now + 5.0)  # the gate is open again: no queue, no wait
        [answer] = await time.run(middleware(_request(), Recorder(time, statuses=[status])))
        assert answer.status == status
    # 1 s (the floor), 0.99 x 2 s (a streak of two), and after the success the floor again
    assert [e.delay for e in started] == [1.0, pytest.approx(1.98), 1.0]


async def test_a_deadline_now_is_passed_on_the_free_slot_path_too() -> None:
    time = FakeTime()
    middleware = _middleware(time, RateLimit(windows=[(5, 1.0)]), [])
    send = Recorder(time)
    [passed] = await time.run(middleware(_request(deadline=START), send))
    assert isinstance(passed, DeadlineRefused) and send.sent == []
