"""The limiter: window arithmetic, FIFO waiting, the shared 429 gate, deadlines.

Everything runs on a fake clock: ``FakeTime.sleep`` parks a task on a timer and
``FakeTime.run`` advances the clock to the next timer only when every task is blocked.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import random
from collections.abc import Awaitable, Iterable
from typing import Any

import pytest

from digicert_async._errors import TransportError, ValidationError
from digicert_async._hooks import Hooks, RateLimitWait
from digicert_async._pipeline import DeadlineRefused, Request, Response
from digicert_async._ratelimit import (
    Cooldown,
    InMemoryLimiterBackend,
    RateLimit,
    RateLimitMiddleware,
    _FifoTurn,
    cooldown_delay,
    parse_retry_after,
    window_wait,
)
from digicert_async._retry import RetryDecision, classify

START = 1000.0


class FakeTime:
    """A virtual clock: time moves only when every task is waiting on it."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(0.0, delay), self._seq, future))
        self._seq += 1
        await future

    async def settle(self) -> None:
        """Yield until no other callback is ready to run."""
        loop = asyncio.get_running_loop()
        for _ in range(100_000):
            await asyncio.sleep(0)
            if not loop._ready:  # type: ignore[attr-defined]
                return
        raise AssertionError("the tasks never settle")

    async def run(self, *aws: Awaitable[Any]) -> list[Any]:
        """Run ``aws`` concurrently to completion; results or exceptions, in order."""
        tasks = [asyncio.ensure_future(aw) for aw in aws]
        while True:
            await self.settle()
            if all(task.done() for task in tasks):
                break
            if not self.fire_next():
                raise AssertionError("deadlock: tasks blocked and no timer pending")
        return [task.exception() or task.result() for task in tasks]

    def fire_next(self) -> bool:
        while self._timers:
            when, _, future = heapq.heappop(self._timers)
            if future.done():  # a cancelled sleep
                continue
            self.now = max(self.now, when)
            future.set_result(None)
            return True
        return False

    async def run_until(self, moment: float) -> None:
        """Advance the clock to ``moment``, firing timers on the way."""
        while True:
            await self.settle()
            live = [t for t in self._timers if not t[2].done()]
            if not live or min(live)[0] > moment:
                break
            self.fire_next()
        self.now = max(self.now, moment)
        await self.settle()


def ok(request: Request, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status=status,
        headers=headers or {},
        body=b'{"errors":[{"code":"request_limit_exceeded","message":"slow down"}]}'
        if status == 429
        else b"{}",
        method=request.method,
        url="https://example.test/services/v2" + request.path,
    )


class Recorder:
    """A fake send step: records send times, answers with a scripted status."""

    def __init__(
        self,
        time: FakeTime,
        *,
        latency: float = 0.0,
        statuses: Iterable[int] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        self.time = time
        self.latency = latency
        self.statuses = list(statuses)
        self.headers = headers
        self.sent: list[float] = []
        self.paths: list[str] = []

    async def __call__(self, request: Request) -> Response:
        self.sent.append(self.time.now)
        self.paths.append(request.path)
        status = self.statuses.pop(0) if self.statuses else 200
        if self.latency:
            await self.time.sleep(self.latency)
        return ok(request, status, self.headers)


def make(
    time: FakeTime,
    rate_limit: RateLimit | None = None,
    *,
    events: list[RateLimitWait] | None = None,
    seed: int = 0,
) -> RateLimitMiddleware:
    hooks = Hooks(on_rate_limit_wait=() if events is None else (events.append,))
    return RateLimitMiddleware(
        rate_limit if rate_limit is not None else RateLimit(),
        hooks,
        clock=time.clock,
        sleep=time.sleep,
        rng=random.Random(seed),
        wall_clock=lambda: 1_700_000_000.0,
    )


def get(path: str = "/order/certificate/1", deadline: float | None = None) -> Request:
    return Request(method="GET", path=path, deadline=deadline)


def assert_within_windows(
    times: list[float], windows: Iterable[tuple[int, float]], margin: float
) -> None:
    """Every run of ``count + 1`` consecutive sends spans at least the padded period."""
    ordered = sorted(times)
    for count, period in windows:
        padded = period * (1 + margin)
        for first, last in zip(ordered[:-count], ordered[count:], strict=True):
            assert last - first >= padded - 1e-9, (count, period, first, last)


def least_possible_end(n: int, windows: Iterable[tuple[int, float]]) -> float:
    """When the n-th request could go out at the earliest without breaking a window."""
    windows = list(windows)
    times: list[float] = []
    for i in range(n):
        earliest = 0.0
        for count, period in windows:
            if i >= count:
                earliest = max(earliest, times[i - count] + period)
        times.append(earliest)
    return times[-1]


# -- configuration --------------------------------------------------------------------------


def test_defaults_are_digicerts_windows() -> None:
    limit = RateLimit()
    assert limit.windows == ((100, 5.0), (1000, 180.0))
    assert 0 < limit.safety_margin <= 0.05
    assert RateLimit.disabled().windows == ()
    assert RateLimit(windows=[[10, 1]]).windows == ((10, 1.0),)  # type: ignore[list-item]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"windows": [(0, 5.0)]},
        {"windows": [(-1, 5.0)]},
        {"windows": [(True, 5.0)]},
        {"windows": [(1.5, 5.0)]},
        {"windows": [(100, 0)]},
        {"windows": [(100, -5.0)]},
        {"windows": [(100, math.nan)]},
        {"windows": [(100, math.inf)]},
        {"windows": [(100,)]},
        {"windows": [(100, "5")]},
        {"windows": "100/5s"},
        {"windows": 100},
        {"safety_margin": -0.1},
        {"safety_margin": 2.0},
        {"cooldown_initial": 0},
        {"cooldown_max": 0.5},
        {"retry_after_max": -1},
        {"cooldown_initial": "1"},
    ],
)
def test_bad_configuration_is_a_validation_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        RateLimit(**kwargs)
    assert caught.value.field.startswith("rate_limit.")


# -- pure arithmetic -------------------------------------------------------------------------


def test_window_wait_at_the_boundaries() -> None:
    windows = [(100, 5.0)]
    full = [[float(i) * 0.01 for i in range(100)]]  # 100 sends in 0.00 .. 0.99
    assert window_wait(1.0, windows, [full[0][:99]]) == 0.0  # 99 sent: room for one
    assert window_wait(1.0, windows, full) == pytest.approx(4.0)  # first leaves at 5.0
    assert window_wait(5.0, windows, full) == 0.0  # exactly when it leaves
    assert window_wait(4.999, windows, full) == pytest.approx(0.001)
    # the margin lengthens the period: 5.0 * 1.02 = 5.1
    assert window_wait(1.0, windows, full, 0.02) == pytest.approx(4.1)
    assert window_wait(5.1, windows, full, 0.02) == 0.0


def test_window_wait_takes_the_longest_of_both_windows() -> None:
    windows = [(2, 5.0), (3, 180.0)]
    histories = [[10.0, 11.0], [0.0, 10.0, 11.0]]
    # the short window frees at 15, the long one only at 180
    assert window_wait(12.0, windows, histories) == pytest.approx(168.0)
    assert window_wait(12.0, windows[:1], histories[:1]) == pytest.approx(3.0)
    assert window_wait(12.0, [], []) == 0.0


@pytest.mark.parametrize(
    ("strikes", "cap"), [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (500, 60.0)]
)
def test_cooldown_is_full_jitter_with_a_floor(strikes: int, cap: float) -> None:
    rng = random.Random(strikes)
    draws = [cooldown_delay(strikes, 1.0, 60.0, rng.random()) for _ in range(2000)]
    assert min(draws) == 1.0  # the floor: never sooner than cooldown_initial
    assert max(draws) <= cap
    if cap > 1.0:
        assert max(draws) > 0.9 * cap  # jitter reaches up to the cap
    assert cooldown_delay(strikes, 1.0, 60.0, 0.0) == 1.0
    assert cooldown_delay(strikes, 1.0, 60.0, 0.999999) == pytest.approx(cap, rel=1e-5)


HTTP_NOW = 1_445_412_480.0  # Wed, 21 Oct 2015 07:28:00 GMT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:29:00 -0000", 60.0),
        ("Wednesday, 21-Oct-15 07:28:10 GMT", 10.0),  # RFC 850
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # in the past
        ("Wed, 21 Oct 2015 09:28:00 +0200", 0.0),  # same instant, another zone
        ("-5", None),
        ("soon", None),
        ("", None),
        ("1e3", None),
        ("inf", None),
        ("nan", None),
        ("Wed, 99 Foo 2015 07:28:00 GMT", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    got = parse_retry_after(value, now=HTTP_NOW)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_parse_retry_after_is_capped() -> None:
    assert parse_retry_after("86400", now=HTTP_NOW, cap=300.0) == 300.0
    assert parse_retry_after("Thu, 22 Oct 2015 07:28:00 GMT", now=HTTP_NOW, cap=300.0) == 300.0
    assert parse_retry_after("9" * 400, now=HTTP_NOW, cap=300.0) == 300.0


# -- the cool-down state machine (the table all backends share is in test_redis.py) ------


def test_the_gate_is_held_never_shortened_and_reopens_on_the_clock_given() -> None:
    gate = Cooldown(initial=1.0, maximum=8.0)
    assert gate.remaining(0.0) == 0.0
    assert gate.hold(5.0)
    assert gate.remaining(2.0) == 3.0
    assert not gate.hold(4.0)  # shorter: not moved
    assert gate.gate_until == 5.0
    assert gate.remaining(5.0) == 0.0
    # a 429 whose cool-down ends before the gate does counts, and moves nothing
    assert gate.throttled(0, 2.0, retry_after=None, jitter=0.5) == 0.0
    assert (gate.epoch, gate.strikes, gate.gate_until) == (1, 1, 5.0)


# -- the in-memory backend ----------------------------------------------------------------


async def test_backend_101st_request_waits_for_the_first_to_leave_plus_margin() -> None:
    time = FakeTime()
    backend = InMemoryLimiterBackend([(100, 5.0)], 0.02, time.clock)
    for i in range(100):
        time.now = START + i * 0.01
        reservation = await backend.reserve()
        assert reservation.wait == 0.0
        await backend.release(reservation)  # its request is over at once
    time.now = START + 2.0
    refused = await backend.reserve()
    assert refused.reason == "window"
    assert refused.wait == pytest.approx(5.1 - 2.0)
    time.now = START + 5.1 - 1e-6
    assert (await backend.reserve()).wait > 0  # a hair early: still refused, nothing taken
    time.now = START + 5.1
    assert (await backend.reserve()).wait == 0.0
    # now the second send (at +0.01) is the one in the way
    assert (await backend.reserve()).wait == pytest.approx(0.01)


async def test_a_slot_counts_while_its_request_is_in_flight_however_long() -> None:
    """DigiCert counts a request when it arrives. One still on its way a whole period after
    its slot was taken (a slow connection, a process the machine did not run) arrives
    beside the next period's sends: its slot counts until its request is over, then from
    then on, never leaving the window while the request is in flight."""
    time = FakeTime()
    backend = InMemoryLimiterBackend([(10, 0.5)], 0.0, time.clock)
    taken = [await backend.reserve() for _ in range(10)]
    time.now = START + 0.01
    for reservation in taken[1:]:  # nine are over; the first is still in flight
        await backend.release(reservation)
    time.now = START + 0.52
    more = []
    while (reservation := await backend.reserve()).wait == 0.0:
        more.append(reservation)
    assert len(more) == 9  # not 10: the one in flight still holds its slot
    # it will count from when it is over, a period at least from now
    assert reservation.reason == "window" and reservation.wait == pytest.approx(0.5)
    for reservation in more:
        await backend.release(reservation)
    time.now = START + 0.6
    await backend.release(taken[0])
    time.now = START + 1.05  # the other nine have left the window; it has not
    assert [(await backend.reserve()).wait for _ in range(10)][-1] == pytest.approx(0.05)


async def test_backend_memory_is_bounded_by_the_window_counts() -> None:
    time = FakeTime()
    backend = InMemoryLimiterBackend([(3, 1.0), (5, 10.0)], 0.0, time.clock)
    for _ in range(50):
        reservation = await backend.reserve()
        await backend.release(reservation)
        time.now += reservation.wait or 0.001
    assert [len(log) for log in backend._logs] == [3, 5]
    assert backend._in_flight == []


async def test_backend_streak_counts_one_per_burst_and_resets_on_success() -> None:
    time = FakeTime()
    backend = InMemoryLimiterBackend([], clock=time.clock, cooldown_initial=1.0, cooldown_max=8.0)
    epoch = (await backend.reserve()).epoch
    stale = epoch
    assert await backend.throttled(epoch, retry_after=None, jitter=0.0) == 1.0
    assert backend.strikes == 1
    # more 429s from requests sent before the gate closed: same burst
    assert await backend.throttled(stale, retry_after=None, jitter=0.99) == 0.0
    assert backend.strikes == 1
    assert backend.gate_remaining() == pytest.approx(1.0)
    # an old success does not end the streak either
    await backend.succeeded(stale)
    assert backend.strikes == 1

    time.now += 1.0
    epoch = (await backend.reserve()).epoch
    assert await backend.throttled(epoch, retry_after=None, jitter=0.99) == pytest.approx(1.98)
    assert backend.strikes == 2
    time.now += 2.0
    epoch = (await backend.reserve()).epoch
    assert await backend.throttled(epoch, retry_after=None, jitter=0.99) == pytest.approx(3.96)
    assert backend.strikes == 3
    time.now += 4.0
    epoch = (await backend.reserve()).epoch
    await backend.succeeded(epoch)
    assert backend.strikes == 0
    assert await backend.throttled(epoch, retry_after=None, jitter=0.99) == 1.0


async def test_backend_retry_after_wins_and_only_extends() -> None:
    time = FakeTime()
    backend = InMemoryLimiterBackend([], clock=time.clock)
    epoch = (await backend.reserve()).epoch
    assert await backend.throttled(epoch, retry_after=30.0, jitter=0.0) == 30.0
    # a stale 429 with a shorter Retry-After does not shorten the gate
    assert await backend.throttled(epoch, retry_after=5.0, jitter=0.0) == 0.0
    assert await backend.throttled(epoch, retry_after=45.0, jitter=0.0) == 45.0
    assert backend.gate_remaining() == pytest.approx(45.0)
    assert backend.strikes == 1
    refused = await backend.reserve()
    assert refused.reason == "cooldown"
    assert refused.wait == pytest.approx(45.0)


# -- the middleware: pacing -------------------------------------------------------------------


async def test_101st_request_waits_exactly_until_the_first_leaves_the_window() -> None:
    time = FakeTime()
    events: list[RateLimitWait] = []
    middleware = make(time, RateLimit(windows=[(100, 5.0)]), events=events)
    send = Recorder(time)
    for _ in range(100):
        await middleware(get(), send)
    assert send.sent == [START] * 100
    assert events == []
    await time.run(middleware(get(), send))
    with_margin = 5.0 * (1 + RateLimit().safety_margin)  # 5.05 s
    assert send.sent[-1] == pytest.approx(START + with_margin)
    [event] = events
    assert (event.method, event.url, event.reason) == ("GET", "/order/certificate/1", "window")
    assert event.delay == pytest.approx(with_margin)


async def test_both_windows_at_once() -> None:
    time = FakeTime()
    limit = RateLimit(windows=[(2, 1.0), (3, 10.0)], safety_margin=0.0)
    middleware = make(time, limit)
    send = Recorder(time)
    await time.run(*(middleware(get(), send) for _ in range(7)))
    relative = [round(t - START, 6) for t in send.sent]
    # 2 per second, but only 3 per 10 seconds
    assert relative == [0.0, 0.0, 1.0, 10.0, 10.0, 11.0, 20.0]


@pytest.mark.parametrize("workers", [1, 7, 40])
async def test_long_runs_never_exceed_a_window_and_lose_little_time(workers: int) -> None:
    time = FakeTime(start=0.0)
    limit = RateLimit()  # DigiCert's: 100 / 5 s and 1000 / 180 s
    middleware = make(time, limit)
    send = Recorder(time, latency=0.2 if workers > 1 else 0.0)
    total = 2500
    queue = list(range(total))

    async def worker() -> None:
        while queue:
            queue.pop()
            await middleware(get(), send)

    await time.run(*(worker() for _ in range(workers)))
    assert len(send.sent) == total
    assert_within_windows(send.sent, limit.windows, limit.safety_margin)
    least = least_possible_end(total, limit.windows)
    assert least == pytest.approx(380.0)
    assert send.sent[-1] <= 1.05 * least


# -- the middleware: order of service and cancellation ---------------------------------------


async def test_waiters_are_served_in_arrival_order() -> None:
    time = FakeTime()
    middleware = make(time, RateLimit(windows=[(1, 1.0)], safety_margin=0.0))
    send = Recorder(time)

    async def arrive(name: str, after: float) -> None:
        await time.sleep(after)
        await middleware(get(f"/{name}"), send)

    names = [f"r{i}" for i in range(12)]
    # arrivals interleave with the head's sleeps, and several arrive at one instant
    # (at 1.0 s, three newcomers arrive just as the slot frees: they must not overtake)
    await time.run(*(arrive(name, 0.5 * (i // 3)) for i, name in enumerate(names)))
    assert send.paths == [f"/{name}" for name in names]
    assert [round(t - START, 6) for t in send.sent] == [float(i) for i in range(12)]


async def test_fifo_turn_hands_over_in_order_and_is_not_overtaken() -> None:
    turn = _FifoTurn()
    time = FakeTime()
    order: list[str] = []

    async def user(name: str) -> None:
        assert await turn.acquire(None, time.sleep)
        order.append(name)
        await asyncio.sleep(0)
        turn.release()

    assert await turn.acquire(None, time.sleep)
    tasks = [asyncio.ensure_future(user(f"u{i}")) for i in range(5)]
    await time.settle()
    turn.release()
    # a newcomer arriving while the queue drains goes to the back
    tasks.append(asyncio.ensure_future(user("late")))
    await asyncio.gather(*tasks)
    assert order == ["u0", "u1", "u2", "u3", "u4", "late"]
    assert not turn._held and not turn._waiters


async def test_a_waiter_handed_the_turn_as_it_is_cancelled_passes_it_on() -> None:
    turn = _FifoTurn()
    time = FakeTime()
    assert await turn.acquire(None, time.sleep)
    second = asyncio.ensure_future(turn.acquire(None, time.sleep))
    third = asyncio.ensure_future(turn.acquire(None, time.sleep))
    await time.settle()
    turn.release()  # hands the turn to `second`...
    second.cancel()  # ...which is cancelled before it runs
    await time.settle()
    assert second.cancelled()
    assert third.done() and third.result() is True
    turn.release()
    assert not turn._held and not turn._waiters


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    time = FakeTime()
    limit = RateLimit(windows=[(1, 1.0)], safety_margin=0.0)
    middleware = make(time, limit)
    backend = middleware.backend
    assert isinstance(backend, InMemoryLimiterBackend)
    send = Recorder(time)
    await middleware(get("/first"), send)  # the window is now full for 1 s

    head = asyncio.ensure_future(middleware(get("/head"), send))  # sleeps in the turn
    queued = [asyncio.ensure_future(middleware(get(f"/q{i}"), send)) for i in range(3)]
    await time.settle()
    assert middleware._turn.queued == 3
    queued[1].cancel()
    head.cancel()
    await time.settle()
    assert head.cancelled() and queued[1].cancelled()
    assert middleware._turn.queued == 1  # q0 holds the turn now, q2 waits
    await time.run(queued[0], queued[2])
    assert send.paths == ["/first", "/q0", "/q2"]
    # nobody took a slot for the cancelled ones: q0 went out as soon as the window allowed
    assert [round(t - START, 6) for t in send.sent] == [0.0, 1.0, 2.0]
    assert not middleware._turn._held and not middleware._turn._waiters
    assert len(backend._logs[0]) == 1


# -- the middleware: the shared 429 gate -----------------------------------------------------


async def test_a_429_closes_the_gate_for_every_task(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="digicert_async")
    time = FakeTime()
    events: list[RateLimitWait] = []
    limit = RateLimit(windows=[(100, 5.0)], cooldown_initial=2.0, cooldown_max=60.0)
    middleware = make(time, limit, events=events)
    send = Recorder(time, latency=0.1, statuses=[429])

    first = await time.run(middleware(get("/first"), send))
    assert first[0].status == 429
    closed_at = time.now
    answers = await time.run(*(middleware(get(f"/r{i}"), send) for i in range(5)))
    assert [answer.status for answer in answers] == [200] * 5
    # the first cool-down is exactly cooldown_initial (cap == floor)
    assert all(t >= closed_at + 2.0 - 1e-9 for t in send.sent[1:])
    assert send.sent[1] == pytest.approx(closed_at + 2.0)
    assert [e.reason for e in events] == ["cooldown"]
    assert events[0].delay == pytest.approx(2.0)
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert (
        logging.WARNING,
        "GET https://example.test/services/v2/first -> HTTP 429: every request of this client"
        " pauses 2.00 s",
    ) in messages
    assert any(
        level == logging.INFO and "cool-down after HTTP 429" in message
        for level, message in messages
    )


async def test_window_waits_log_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="digicert_async")
    time = FakeTime()
    middleware = make(time, RateLimit(windows=[(1, 1.0)]))
    send = Recorder(time)
    await time.run(middleware(get(), send), middleware(get(), send))
    waits = [r for r in caplog.records if "rate-limit window slot" in r.getMessage()]
    assert len(waits) == 1 and waits[0].levelno == logging.DEBUG


async def test_one_cool_down_per_burst_of_in_flight_429s() -> None:
    time = FakeTime()
    limit = RateLimit.disabled()
    middleware = make(time, limit, seed=3)
    backend = middleware.backend
    assert isinstance(backend, InMemoryLimiterBackend)
    send = Recorder(time, latency=0.5, statuses=[429] * 8)
    answers = await time.run(*(middleware(get(), send) for _ in range(8)))
    assert [a.status for a in answers] == [429] * 8
    assert backend.strikes == 1
    assert backend.gate_remaining() == pytest.approx(1.0)


async def test_consecutive_429s_grow_the_cool_down_and_a_success_resets_it() -> None:
    time = FakeTime()
    limit = RateLimit.disabled()
    middleware = make(time, limit)
    backend = middleware.backend
    assert isinstance(backend, InMemoryLimiterBackend)
    send = Recorder(time, statuses=[429, 429, 429, 200, 429])
    gates = []
    for _ in range(5):
        await time.run(middleware(get(), send))
        gates.append(backend.gate_remaining())
    assert backend.strikes == 1
    # full jitter with a floor: 1, [1, 2], [1, 4], then reset, then 1 again
    assert gates[0] == pytest.approx(1.0)
    assert 1.0 <= gates[1] <= 2.0
    assert 1.0 <= gates[2] <= 4.0
    assert gates[4] == pytest.approx(1.0)
    gaps = [b - a for a, b in zip(send.sent[:-1], send.sent[1:], strict=True)]
    assert gaps[:3] == pytest.approx(gates[:3])


async def test_disabled_still_gates_on_429() -> None:
    time = FakeTime()
    middleware = make(time, RateLimit.disabled())
    send = Recorder(time, statuses=[429])
    await time.run(middleware(get(), send))
    await time.run(*(middleware(get(), send) for _ in range(3)))
    assert [round(t - START, 6) for t in send.sent] == [0.0, 1.0, 1.0, 1.0]
    # and without a 429, nothing ever waits
    await time.run(*(middleware(get(), send) for _ in range(500)))
    assert time.sleeps == [pytest.approx(1.0)]


async def test_retry_after_header_sets_the_gate_capped() -> None:
    time = FakeTime()
    middleware = make(time, RateLimit(windows=[], retry_after_max=20.0))
    send = Recorder(time, statuses=[429, 429], headers={"retry-after": "7"})
    await time.run(middleware(get(), send))
    await time.run(middleware(get(), send))
    assert send.sent[1] - send.sent[0] == pytest.approx(7.0)
    send.headers = {"Retry-After": "3600"}
    send.statuses = [429]
    await time.run(middleware(get(), send), middleware(get(), send))
    assert send.sent[3] - send.sent[2] == pytest.approx(20.0)


# -- the middleware: deadlines ---------------------------------------------------------------


async def test_a_wait_that_would_pass_the_deadline_fails_at_once() -> None:
    time = FakeTime()
    middleware = make(time, RateLimit(windows=[(1, 10.0)], safety_margin=0.0))
    send = Recorder(time)
    await middleware(get(), send)
    [error] = await time.run(middleware(get(deadline=START + 5.0), send))
    assert isinstance(error, TransportError)
    assert error.request_sent is False and error.timeout is True
    assert "deadline" in str(error) and "rate-limit slot" in str(error)
    assert time.now == START  # it did not sleep first
    assert len(send.sent) == 1
    # the slot was not taken: a request without deadline goes at +10 s
    await time.run(middleware(get(), send))
    assert send.sent[-1] == pytest.approx(START + 10.0)


async def test_the_deadline_refusal_is_a_named_signal_the_retry_layer_never_resends() -> None:
    time = FakeTime()
    middleware = make(time, RateLimit(windows=[(1, 10.0)], safety_margin=0.0))
    send = Recorder(time)
    await middleware(get(), send)
    [error] = await time.run(middleware(get(deadline=START + 5.0), send))
    assert type(error) is DeadlineRefused
    assert isinstance(error, TransportError)  # what users catch
    assert error.request_sent is False and error.timeout is True
    assert classify(get(), error) is None
    # the class tells it apart, not the flags: the same flags on another error are retried
    same_flags = TransportError(
        "connect timeout", method="GET", url="/x", request_sent=False, timeout=True
    )
    assert classify(get(), same_flags) == RetryDecision("connect")
    assert classify(get(), DeadlineRefused("queued", method="GET", url="/x")) is None


async def test_a_deadline_that_passes_in_the_queue_fails_then() -> None:
    time = FakeTime()
    middleware = make(time, RateLimit(windows=[(1, 10.0)], safety_margin=0.0))
    send = Recorder(time)
    await middleware(get(), send)
    head = middleware(get("/head"), send)  # waits 10 s holding the turn
    impatient = middleware(get("/impatient", deadline=START + 3.0), send)
    patient = middleware(get("/patient", deadline=START + 30.0), send)
    results = await time.run(head, impatient, patient)
    assert isinstance(results[1], TransportError)
    assert results[1].request_sent is False and results[1].timeout is True
    assert "queued" in str(results[1])
    assert send.paths == ["/order/certificate/1", "/head", "/patient"]
    assert [round(t - START, 6) for t in send.sent] == [0.0, 10.0, 20.0]
    assert not middleware._turn._waiters


async def test_a_passed_deadline_fails_without_queueing() -> None:
    time = FakeTime()
    middleware = make(time)
    send = Recorder(time)
    with pytest.raises(TransportError):
        await middleware(get(deadline=START - 1.0), send)
    assert send.sent == []


async def test_a_cool_down_longer_than_the_deadline_fails_at_once() -> None:
    time = FakeTime()
    middleware = make(time, RateLimit.disabled())
    send = Recorder(time, statuses=[429], headers={"Retry-After": "60"})
    await middleware(get(), send)
    [error] = await time.run(middleware(get(deadline=START + 30.0), send))
    assert isinstance(error, TransportError)
    assert "cooldown" in str(error)
    assert time.now == START


# -- helpers used above stay honest ----------------------------------------------------------


def test_least_possible_end() -> None:
    assert least_possible_end(101, [(100, 5.0)]) == 5.0
    assert least_possible_end(2500, [(100, 5.0), (1000, 180.0)]) == 380.0
