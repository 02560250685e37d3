"""The rate-limit step of the request chain: queue, wait, send, and feed back 429s.

Requests are served in arrival order; the head of the queue asks the backend for a
slot and sleeps while the gate is closed or every window is full. The answer goes
back to the backend: a 429 closes the shared gate (and lowers the learned rate), any
other answer may end the streak.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping

from .._clock import loop_time
from .._hooks import CooldownStarted, Events, Hooks, PaceChanged, RateLimitWait
from .._pipeline import DeadlineRefused, Handler, Request, Response
from ._backend import LimiterBackend, Reservation, WaitReason
from ._memory import InMemoryLimiterBackend
from ._policy import Clock, RateLimit, parse_retry_after

__all__ = ["RateLimitMiddleware"]

Sleep = Callable[[float], Awaitable[object]]


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
    def free(self) -> bool:
        """Nobody holds the turn or waits for it."""
        return not self._held and not self._waiters

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

    A ``RateLimitWait`` event is told each time the head of the queue goes to sleep,
    a ``CooldownStarted`` each time a 429 closes the gate, and a ``PaceChanged`` when
    the learned rate has moved by a step (told with the first slot taken after it).

    ``clock`` must be on the scale of ``Request.deadline`` (the event loop's
    monotonic time by default). Hooks and logs name the request by its ``url``.
    """

    def __init__(
        self,
        rate_limit: RateLimit,
        hooks: Hooks | Events | None = None,
        *,
        backend: LimiterBackend | None = None,
        clock: Clock = loop_time,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        wall_clock: Clock = time.time,
    ) -> None:
        self.rate_limit = rate_limit
        self._events = Events.of(hooks)
        self.backend: LimiterBackend = (
            backend
            if backend is not None
            else InMemoryLimiterBackend.from_rate_limit(rate_limit, clock)
        )
        self._clock = clock
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._wall_clock = wall_clock
        self._turn = _FifoTurn()
        # This process's own limiter state can be asked without awaiting anything.
        self._local = self.backend if isinstance(self.backend, InMemoryLimiterBackend) else None
        self.throttled_count = 0  # 429 answers seen
        self._told_step = self.backend.pace_step
        self._told_lowered = 0

    async def __call__(self, request: Request, call_next: Handler) -> Response:
        local = self._local
        deadline = request.deadline
        if local is not None and self._turn.free and (deadline is None or deadline > self._clock()):
            # Nobody queued, and a slot free now: no wait, so no turn to take.
            token = local.take_if_free()
            if token is not None:
                cooldown = local.cooldown
                epoch = cooldown.epoch
                pacing = local.pacing
                usage = None
                if pacing is not None:
                    usage = local.usage
                    if pacing.step != self._told_step:
                        self._tell_pace()
                try:
                    response = await call_next(request)
                except BaseException:
                    if local.paced:
                        local.move(token)
                    raise
                if local.paced:
                    local.finish(token, response.status == 429)
                if response.status == 429:
                    await self._throttled(request, response, epoch, usage)
                else:
                    cooldown.succeeded(epoch)
                return response
        reservation = await self._take_slot(request)
        if self.backend.pace_step != self._told_step:
            self._tell_pace()
        try:
            response = await call_next(request)
        except BaseException:
            await self.backend.release(reservation)
            raise
        await self.backend.release(reservation, refused=response.status == 429)
        if response.status == 429:
            await self._throttled(request, response, reservation.epoch, reservation.usage)
        else:
            await self.backend.succeeded(reservation.epoch)
        return response

    def _tell_pace(self) -> None:
        """Tell the learned rate as it is now, once per step it moved."""
        self._told_step = self.backend.pace_step
        state = self.backend.pace()
        lowered = state.lowered != self._told_lowered
        self._told_lowered = state.lowered
        self._events.pace_changed(
            PaceChanged(
                windows=state.windows,
                configured=tuple(self.rate_limit.windows),
                scale=state.scale,
                lowered=lowered,
                shared=state.shared,
            )
        )

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
                self._events.rate_limit_wait(
                    RateLimitWait(
                        method=request.method,
                        url=request.url,
                        delay=reservation.wait,
                        reason=reason,
                        call=request.call,
                        route=request.route,
                    )
                )
                await self._sleep(reservation.wait)
        finally:
            self._turn.release()

    async def _throttled(
        self, request: Request, response: Response, epoch: int, usage: float | None
    ) -> None:
        self.throttled_count += 1
        retry_after = parse_retry_after(
            _header(response.headers, "Retry-After"),
            now=self._wall_clock(),
            cap=self.rate_limit.retry_after_max,
        )
        closed_for = await self.backend.throttled(
            epoch, retry_after=retry_after, jitter=self._rng.random(), usage=usage
        )
        if closed_for > 0.0:
            self._events.cooldown_started(
                CooldownStarted(
                    method=response.method,
                    url=response.url,
                    delay=closed_for,
                    retry_after=retry_after is not None,
                    call=request.call,
                    route=request.route,
                )
            )

    def _deadline_error(self, request: Request, why: str) -> DeadlineRefused:
        return DeadlineRefused(why, method=request.method, url=request.url)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None
