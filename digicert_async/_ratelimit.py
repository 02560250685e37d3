"""Client-side pacing to DigiCert's rolling windows, and the shared 429 cool-down gate.

DigiCert counts requests per API key in rolling windows (today 100 per 5 s and
1000 per 3 min), sends no ``Retry-After`` and keeps a key blocked for a while
after a 429. So the client paces itself, and when a 429 comes anyway every task
of the client waits out one shared cool-down instead of colliding again.

Three layers, from pure to I/O:

- pure arithmetic: :func:`window_wait`, :func:`cooldown_delay`,
  :func:`parse_retry_after` (no clock of their own, no state);
- a :class:`LimiterBackend` holding the state (send times, the gate, the 429
  streak). :class:`InMemoryLimiterBackend` keeps it in this process (the
  default); ``RateLimit(backend=...)`` takes a :class:`LimiterBackendFactory`
  that the client binds to the sha256 of its API key, such as
  ``RedisLimiterBackend`` (``_redis.py``), which shares one key's budget and
  cool-down between processes;
- :class:`RateLimitMiddleware`, which queues requests in arrival order, sleeps,
  and feeds 429s back into the backend.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import hashlib
import math
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol, overload

import attrs

from ._checks import check_count, check_number
from ._errors import ValidationError
from ._hooks import Hooks, RateLimitWait, logger
from ._pipeline import DeadlineRefused, Handler, Request, Response

__all__ = [
    "InMemoryLimiterBackend",
    "LimiterBackend",
    "LimiterBackendFactory",
    "RateLimit",
    "RateLimitMiddleware",
    "Reservation",
    "api_key_hash",
    "bind_backend",
    "close_backend",
    "cooldown_delay",
    "parse_retry_after",
    "window_wait",
]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]
WaitReason = Literal["window", "cooldown"]

# Waits shorter than this are rounding noise (a sleep that ends a hair early).
_EPSILON = 1e-9


# -- configuration -------------------------------------------------------------------------


def _convert_windows(value: Iterable[tuple[int, float]]) -> tuple[tuple[int, float], ...]:
    field = "rate_limit.windows"
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(field, "must be a sequence of (requests, seconds) pairs")
    windows: list[tuple[int, float]] = []
    for index, pair in enumerate(value):
        where = f"{field}[{index}]"
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValidationError(where, f"must be a (requests, seconds) pair, not {pair!r}")
        count, period = pair
        windows.append((check_count(where, count), check_number(where, period, allow_zero=False)))
    return tuple(windows)


def _convert_margin(value: float) -> float:
    return check_number("rate_limit.safety_margin", value, allow_zero=True)


def _convert_cooldown_initial(value: float) -> float:
    return check_number("rate_limit.cooldown_initial", value, allow_zero=False)


def _convert_cooldown_max(value: float) -> float:
    return check_number("rate_limit.cooldown_max", value, allow_zero=False)


def _convert_retry_after_max(value: float) -> float:
    return check_number("rate_limit.retry_after_max", value, allow_zero=True)


def _check_backend(
    instance: object, attribute: object, value: LimiterBackendFactory | None
) -> None:
    if value is not None and not callable(getattr(value, "for_key", None)):
        raise ValidationError(
            "rate_limit.backend",
            "must be a limiter backend factory (with a for_key method), such as"
            f" RedisLimiterBackend(...), not {type(value).__name__}",
        )


@attrs.frozen(kw_only=True)
class RateLimit:
    """How the client paces itself, and how it cools down after a 429.

    :param windows: ``(requests, seconds)`` pairs, all enforced at once as rolling
        windows. The default is DigiCert's documented limit per API key: 100 per 5 s
        and 1000 per 3 min. An empty sequence turns pacing off.
    :param safety_margin: the fraction by which each window's period is lengthened on
        the client side (0.01 makes 5 s into 5.05 s). A slot already counts from when
        its request is over, which is never earlier than DigiCert saw it arrive; the
        margin covers what is left: how the server rounds its window's edges.
    :param cooldown_initial: seconds of the first cool-down after a 429; also the
        floor of every cool-down (the gate never reopens sooner).
    :param cooldown_max: the cap of the exponential cool-down.
    :param retry_after_max: the cap applied to a server-sent ``Retry-After``.
    :param backend: where the limiter state lives. ``None`` (the default): in this
        client only. A :class:`LimiterBackendFactory` such as
        ``RedisLimiterBackend(url)`` shares the windows and the cool-down of one API
        key between every client (and process) that uses the same store; each client
        binds it to the sha256 of its key (:meth:`LimiterBackendFactory.for_key`).

    A 429 closes a gate shared by every request of the client: without
    ``Retry-After`` the gate stays closed ``max(cooldown_initial, uniform(0, cap))``
    seconds with ``cap = min(cooldown_max, cooldown_initial * 2 ** (n - 1))`` for the
    n-th 429 in a row (full jitter with a floor); with ``Retry-After`` its value,
    capped by ``retry_after_max``.

    >>> RateLimit().windows  # DigiCert's limits today
    ((100, 5.0), (1000, 180.0))
    >>> older = RateLimit(windows=[(100, 10.0), (1300, 3600.0)])
    >>> RateLimit(windows=[(0, 5.0)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    digicert_async._errors.ValidationError: rate_limit.windows[0]: must be a positive integer, got 0
    """

    windows: Sequence[tuple[int, float]] = attrs.field(
        default=((100, 5.0), (1000, 180.0)), converter=_convert_windows
    )
    safety_margin: float = attrs.field(default=0.01, converter=_convert_margin)
    cooldown_initial: float = attrs.field(default=1.0, converter=_convert_cooldown_initial)
    cooldown_max: float = attrs.field(default=60.0, converter=_convert_cooldown_max)
    retry_after_max: float = attrs.field(default=300.0, converter=_convert_retry_after_max)
    backend: LimiterBackendFactory | None = attrs.field(default=None, validator=_check_backend)

    def __attrs_post_init__(self) -> None:
        if self.safety_margin > 1.0:
            raise ValidationError(
                "rate_limit.safety_margin", f"must be at most 1.0, not {self.safety_margin!r}"
            )
        if self.cooldown_max < self.cooldown_initial:
            raise ValidationError(
                "rate_limit.cooldown_max",
                f"must be at least cooldown_initial ({self.cooldown_initial}),"
                f" not {self.cooldown_max!r}",
            )

    @classmethod
    def disabled(cls) -> RateLimit:
        """No client-side pacing; a 429 still closes the shared cool-down gate.

        >>> RateLimit.disabled().windows
        ()
        """
        return cls(windows=())


# -- pure arithmetic -------------------------------------------------------------------------


def window_wait(
    now: float,
    windows: Sequence[tuple[int, float]],
    histories: Sequence[Sequence[float]],
    safety_margin: float = 0.0,
) -> float:
    """Seconds until one more request fits every rolling window (0.0: it fits now).

    ``histories[i]`` holds the send times of window ``i`` in ascending order; only
    its last ``count`` entries matter. A window of ``count`` requests per ``period``
    admits a request at ``now`` when fewer than ``count`` were sent in the last
    ``period * (1 + safety_margin)`` seconds.

    >>> window_wait(3.0, [(2, 5.0)], [[0.0, 1.0]])
    2.0
    """
    wait = 0.0
    for (count, period), history in zip(windows, histories, strict=True):
        if len(history) < count:
            continue
        oldest_that_counts = history[len(history) - count]
        free_at = oldest_that_counts + period * (1.0 + safety_margin)
        wait = max(wait, free_at - now)
    return wait if wait > _EPSILON else 0.0


def cooldown_delay(strikes: int, initial: float, maximum: float, jitter: float) -> float:
    """The cool-down after the ``strikes``-th 429 in a row, full jitter with a floor.

    ``jitter`` is a uniform draw from [0, 1): the result is
    ``max(initial, jitter * min(maximum, initial * 2 ** (strikes - 1)))``.

    >>> cooldown_delay(3, 1.0, 60.0, 0.5)
    2.0
    >>> cooldown_delay(3, 1.0, 60.0, 0.1)
    1.0
    """
    exponent = min(max(strikes, 1) - 1, 64)  # 2**64 s is past any cap
    cap = min(maximum, initial * 2.0**exponent)
    return max(initial, jitter * cap)


def cooldown_after_429(
    *,
    fresh: bool,
    strikes: int,
    retry_after: float | None,
    jitter: float,
    initial: float,
    maximum: float,
) -> float:
    """How long one 429 closes the gate: ``Retry-After`` when the server sent one;
    else :func:`cooldown_delay` if the 429 starts a new cool-down (``fresh``); else 0
    (a later 429 of a burst already being waited out).
    """
    if retry_after is not None:
        return retry_after
    if fresh:
        return cooldown_delay(strikes, initial, maximum, jitter)
    return 0.0


def extend_gate(gate_until: float, now: float, delay: float) -> tuple[float, float]:
    """The gate after closing it for ``delay`` from ``now``: (reopening time, seconds
    newly closed). The gate is never shortened.
    """
    until = now + delay
    if delay <= 0.0 or until <= gate_until:
        return gate_until, 0.0
    return until, delay


_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def parse_retry_after(
    value: str | None, *, now: float | None = None, cap: float = math.inf
) -> float | None:
    """A ``Retry-After`` header as seconds from ``now``, capped; None if absent or garbage.

    Both forms are read: delta-seconds (``"120"``) and an HTTP-date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``), the latter against ``now`` (wall-clock
    seconds since the epoch, ``time.time()`` by default). A date in the past means 0.
    Negative or non-numeric values are garbage.

    >>> parse_retry_after("30")
    30.0
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=0.0)
    60.0
    >>> parse_retry_after("soon") is None
    True
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # "-0000": HTTP dates are GMT anyway
            when = when.replace(tzinfo=timezone.utc)
        stamp = when.timestamp()
        seconds = max(0.0, stamp - (time.time() if now is None else now))
    return min(seconds, cap)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


# -- the state behind an interface ----------------------------------------------------------


@attrs.frozen
class Reservation:
    """What :meth:`LimiterBackend.reserve` decided.

    ``wait == 0.0``: a slot was taken, send now. Otherwise nothing was taken; try
    again after ``wait`` seconds, ``reason`` says what is in the way. ``epoch``
    counts the 429 cool-downs so far: a request carries the epoch it was sent in
    back to :meth:`~LimiterBackend.throttled` and :meth:`~LimiterBackend.succeeded`.
    ``token`` identifies the slot to :meth:`~LimiterBackend.release` (backend-specific).
    """

    wait: float
    reason: WaitReason | None
    epoch: int
    token: object = None


class LimiterBackend(Protocol):
    """Where one API key's limiter state lives: this process, or a shared store.

    Every method is one atomic step (a Lua script in Redis), and only durations
    cross the interface, so a backend may use its own clock (Redis: its server
    time) while the middleware compares against its own monotonic clock.

    A Redis sketch: per window a sorted set of send times (``ZREMRANGEBYSCORE``
    the expired, ``ZCARD``, ``ZRANGE 0 0`` for the oldest, ``ZADD`` when a slot is
    taken: the arithmetic of :func:`window_wait`); the gate as a key holding its
    reopening time; the epoch and the streak of 429s as two counters.
    """

    async def reserve(self) -> Reservation:
        """Take a slot now if the gate is open and every window has room, else say how
        long to wait (and take nothing)."""
        ...

    async def throttled(self, epoch: int, *, retry_after: float | None, jitter: float) -> float:
        """Record a 429 for a request sent in ``epoch`` and close the gate.

        If no cool-down began since that request was sent (``epoch`` is current),
        the 429 starts a new one: the streak grows, the epoch advances and the gate
        closes for ``retry_after`` if given, else :func:`cooldown_delay` of the streak
        with ``jitter`` (a uniform draw from [0, 1)). A 429 from a request sent
        before the current cool-down began belongs to the same burst: it only
        extends the gate to its ``retry_after``, if it has one. The gate is never
        shortened. Returns the seconds the gate was newly closed for (0.0 if this
        call did not move it).
        """
        ...

    async def succeeded(self, epoch: int) -> None:
        """A request sent in ``epoch`` got an answer other than 429: if no cool-down
        began since, the streak of 429s is over."""
        ...

    async def release(self, reservation: Reservation) -> None:
        """The request of this slot is over (answered, failed or cancelled).

        From now on the slot counts from this moment rather than from when it was
        taken: DigiCert counts a request when it arrives, which is somewhere between
        the two, and only the later bound is safe whatever the connection set-up,
        the network or a busy event loop delayed.
        """
        ...


class LimiterBackendFactory(Protocol):
    """Makes the :class:`LimiterBackend` of one API key (``RateLimit(backend=...)``).

    A client calls :meth:`for_key` once, with the hex sha256 of its API key (never
    the key itself), when it is created. If the backend it returns has an
    ``async aclose()`` method, the client awaits it in ``close()``.
    """

    def for_key(self, key_hash: str, rate_limit: RateLimit) -> LimiterBackend:
        """The backend holding the state of the key whose sha256 is ``key_hash``,
        paced per ``rate_limit`` (windows, margin, cool-down bounds)."""
        ...


def api_key_hash(api_key: str) -> str:
    """The name under which a shared backend stores an API key's state: its hex sha256.

    >>> api_key_hash("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def bind_backend(rate_limit: RateLimit, api_key: str) -> LimiterBackend | None:
    """The backend ``rate_limit.backend`` makes for ``api_key`` (None: in-memory)."""
    if rate_limit.backend is None:
        return None
    return rate_limit.backend.for_key(api_key_hash(api_key), rate_limit)


async def close_backend(backend: LimiterBackend) -> None:
    """Await ``backend.aclose()`` if it has one (connections it owns)."""
    aclose = getattr(backend, "aclose", None)
    if aclose is not None:
        await aclose()


class SlotLog(Sequence[float]):
    """The times from which one window's slots count, oldest first, newest ``capacity`` kept.

    A slot counts from when it was taken until its request is over, then from that
    moment: :meth:`take` and :meth:`move` only ever add the current time of a
    monotonic clock, so plain appends keep the log sorted.
    """

    __slots__ = ("_capacity", "_times")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._times: list[float] = []

    def __len__(self) -> int:
        return len(self._times)

    @overload
    def __getitem__(self, index: int) -> float: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[float]: ...

    def __getitem__(self, index: int | slice) -> float | Sequence[float]:
        return self._times[index]

    def take(self, now: float) -> None:
        self._times.append(now)
        self._trim()

    def move(self, taken_at: float, now: float) -> None:
        """The slot taken at ``taken_at`` counts from ``now`` on."""
        index = bisect.bisect_left(self._times, taken_at)
        if index < len(self._times) and self._times[index] == taken_at:
            del self._times[index]
        # else: trimmed away by newer slots already; counting it again from now is right
        self._times.append(now)
        self._trim()

    def _trim(self) -> None:
        excess = len(self._times) - self._capacity
        if excess > 0:
            del self._times[:excess]


class InMemoryLimiterBackend:
    """The limiter state of one process: a sliding log of send times per window.

    Memory is bounded by the sum of the windows' counts (each log keeps only the
    last ``count`` slot times). ``clock`` is any monotonic clock in seconds.
    """

    def __init__(
        self,
        windows: Sequence[tuple[int, float]] = ((100, 5.0), (1000, 180.0)),
        safety_margin: float = 0.01,
        clock: Clock = time.monotonic,
        *,
        cooldown_initial: float = 1.0,
        cooldown_max: float = 60.0,
    ) -> None:
        self._windows = _convert_windows(windows)
        self._margin = safety_margin
        self._clock = clock
        self._cooldown_initial = cooldown_initial
        self._cooldown_max = cooldown_max
        self._logs = tuple(SlotLog(count) for count, _ in self._windows)
        self._gate_until = -math.inf
        self._epoch = 0
        self._strikes = 0

    @classmethod
    def from_rate_limit(
        cls, rate_limit: RateLimit, clock: Clock = time.monotonic
    ) -> InMemoryLimiterBackend:
        return cls(
            rate_limit.windows,
            rate_limit.safety_margin,
            clock,
            cooldown_initial=rate_limit.cooldown_initial,
            cooldown_max=rate_limit.cooldown_max,
        )

    @property
    def strikes(self) -> int:
        """429s in a row, counting one per cool-down."""
        return self._strikes

    @property
    def epoch(self) -> int:
        return self._epoch

    def gate_remaining(self) -> float:
        """Seconds until the cool-down gate reopens (0.0 when open)."""
        return max(0.0, self._gate_until - self._clock())

    def reserve_now(self) -> Reservation:
        """:meth:`reserve`, synchronously."""
        now = self._clock()
        gate = self._gate_until - now
        if gate > _EPSILON:
            return Reservation(gate, "cooldown", self._epoch)
        wait = window_wait(now, self._windows, self._logs, self._margin)
        if wait > 0.0:
            return Reservation(wait, "window", self._epoch)
        for log in self._logs:
            log.take(now)
        return Reservation(0.0, None, self._epoch, now)

    async def reserve(self) -> Reservation:
        return self.reserve_now()

    async def release(self, reservation: Reservation) -> None:
        if not isinstance(reservation.token, float):
            return
        now = self._clock()
        for log in self._logs:
            log.move(reservation.token, now)

    async def throttled(self, epoch: int, *, retry_after: float | None, jitter: float) -> float:
        now = self._clock()
        fresh = epoch == self._epoch
        if fresh:
            self._strikes += 1
            self._epoch += 1
        delay = cooldown_after_429(
            fresh=fresh,
            strikes=self._strikes,
            retry_after=retry_after,
            jitter=jitter,
            initial=self._cooldown_initial,
            maximum=self._cooldown_max,
        )
        self._gate_until, closed_for = extend_gate(self._gate_until, now, delay)
        return closed_for

    async def succeeded(self, epoch: int) -> None:
        if epoch == self._epoch:
            self._strikes = 0


# -- waiting ----------------------------------------------------------------------------------


class _FifoTurn:
    """A mutex that hands itself to waiters strictly in arrival order.

    Unlike ``asyncio.wait_for(lock.acquire(), t)`` on Python 3.10/3.11, a waiter
    that gives up (deadline or cancellation) can never leave the lock held, and
    the deadline timer runs on the injected ``sleep`` (so fake clocks work).
    """

    def __init__(self) -> None:
        self._held = False
        self._waiters: deque[asyncio.Future[bool]] = deque()

    @property
    def queued(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def acquire(self, timeout: float | None, sleep: Sleep) -> bool:
        """Wait for the turn; False when ``timeout`` seconds passed first."""
        if not self._held and not self._waiters:
            self._held = True
            return True
        if timeout is not None and timeout <= 0:
            return False
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(waiter)
        timer: asyncio.Future[object] | None = None
        if timeout is not None:
            timer = asyncio.ensure_future(sleep(timeout))

            def expire(done: asyncio.Future[object]) -> None:
                if not done.cancelled() and not waiter.done():
                    waiter.set_result(False)

            timer.add_done_callback(expire)
        try:
            granted = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self.release()  # handed to us as we were cancelled: pass it on
            else:
                self._forget(waiter)
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if not granted:
            self._forget(waiter)
        return granted

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return
        self._held = False

    def _forget(self, waiter: asyncio.Future[bool]) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)


def _loop_time() -> float:
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


def _path_only(request: Request) -> str:
    return request.path


class RateLimitMiddleware:
    """Paces every attempt through the limiter and turns 429s into a shared cool-down.

    Requests are served in arrival order: the head of the queue waits (for the gate,
    then for a window slot) while the others queue behind it. A request never waits
    past its ``deadline``: if the wait needed would pass it, or it passes while the
    request is queued, the request fails at once with ``DeadlineRefused`` (a
    ``TransportError`` with ``request_sent=False, timeout=True``); the retry
    middleware then reports the previous attempt's answer instead, if there was one
    (so a run of 429s ends as a ``RateLimitError``). A task cancelled while waiting
    takes no slot and leaves the queue; a slot taken for a request then cancelled
    stays spent (it may have been sent).

    ``RateLimitWait`` hooks fire (and a log line is written: INFO for a cool-down,
    DEBUG for a window) each time the head of the queue goes to sleep.

    ``clock`` must be on the scale of ``Request.deadline`` (the event loop's
    monotonic time by default). ``url_for`` turns a request into the URL reported to
    hooks and logs (its path by default).
    """

    def __init__(
        self,
        rate_limit: RateLimit,
        hooks: Hooks | None = None,
        *,
        backend: LimiterBackend | None = None,
        clock: Clock = _loop_time,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        wall_clock: Clock = time.time,
        url_for: Callable[[Request], str] = _path_only,
    ) -> None:
        self.rate_limit = rate_limit
        self._hooks = hooks if hooks is not None else Hooks()
        self.backend: LimiterBackend = (
            backend
            if backend is not None
            else InMemoryLimiterBackend.from_rate_limit(rate_limit, clock)
        )
        self._clock = clock
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._wall_clock = wall_clock
        self._url_for = url_for
        self._turn = _FifoTurn()

    async def __call__(self, request: Request, call_next: Handler) -> Response:
        reservation = await self._take_slot(request)
        try:
            response = await call_next(request)
        finally:
            await self.backend.release(reservation)
        if response.status == 429:
            await self._throttled(request, response, reservation.epoch)
        else:
            await self.backend.succeeded(reservation.epoch)
        return response

    async def _take_slot(self, request: Request) -> Reservation:
        deadline = request.deadline
        timeout = None if deadline is None else deadline - self._clock()
        if timeout is not None and timeout <= 0:
            raise self._deadline_error(request, "the call's deadline had passed")
        if not await self._turn.acquire(timeout, self._sleep):
            raise self._deadline_error(
                request, "the call's deadline passed while queued for a rate-limit slot"
            )
        try:
            while True:
                reservation = await self.backend.reserve()
                if reservation.wait <= 0.0:
                    return reservation
                reason: WaitReason = reservation.reason or "window"
                if deadline is not None and self._clock() + reservation.wait > deadline:
                    raise self._deadline_error(
                        request,
                        f"the call's deadline would pass during a {reservation.wait:.1f} s"
                        f" wait for a rate-limit slot ({reason})",
                    )
                url = self._url_for(request)
                if reason == "cooldown":
                    logger.info(
                        "%s %s waits %.2f s: cool-down after HTTP 429",
                        request.method,
                        url,
                        reservation.wait,
                    )
                else:
                    logger.debug(
                        "%s %s waits %.3f s for a rate-limit window slot",
                        request.method,
                        url,
                        reservation.wait,
                    )
                self._hooks.rate_limit_wait(
                    RateLimitWait(
                        method=request.method, url=url, delay=reservation.wait, reason=reason
                    )
                )
                await self._sleep(reservation.wait)
        finally:
            self._turn.release()

    async def _throttled(self, request: Request, response: Response, epoch: int) -> None:
        retry_after = parse_retry_after(
            _header(response.headers, "Retry-After"),
            now=self._wall_clock(),
            cap=self.rate_limit.retry_after_max,
        )
        closed_for = await self.backend.throttled(
            epoch, retry_after=retry_after, jitter=self._rng.random()
        )
        if closed_for > 0.0:
            logger.warning(
                "%s %s -> HTTP 429: every request of this client pauses %.2f s%s",
                response.method,
                response.url,
                closed_for,
                " (Retry-After)" if retry_after is not None else "",
            )

    def _deadline_error(self, request: Request, why: str) -> DeadlineRefused:
        return DeadlineRefused(why, method=request.method, url=self._url_for(request))
