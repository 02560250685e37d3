"""The limiter state of one process: a sliding log of send times per window, the 429
cool-down (:class:`~._cooldown.Cooldown`) and the learned rate (:class:`~._adaptive.Pacing`).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence
from typing import overload

from ._adaptive import Pacing, climb_seconds, scale_windows, spacing
from ._backend import PaceState, Reservation
from ._cooldown import Cooldown
from ._policy import Clock, RateLimit, convert_windows, window_wait

__all__ = ["InMemoryLimiterBackend", "SlotLog"]


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

    def count_after(self, start: float) -> int:
        """How many slots count from a time after ``start``."""
        return len(self._times) - bisect.bisect_right(self._times, start)

    def move(self, taken_at: float, now: float) -> None:
        """The slot taken at ``taken_at`` counts from ``now`` on."""
        index = bisect.bisect_left(self._times, taken_at)
        if index < len(self._times) and self._times[index] == taken_at:
            del self._times[index]
        # else: trimmed away by newer slots already; counting it again from now is right
        self._times.append(now)
        self._trim()

    def drop(self, taken_at: float) -> None:
        """The slot taken at ``taken_at`` no longer counts (if it still did)."""
        index = bisect.bisect_left(self._times, taken_at)
        if index < len(self._times) and self._times[index] == taken_at:
            del self._times[index]

    def load(self, times: Sequence[float]) -> None:
        """Count slots from ``times`` (ascending, none before the newest here): state kept
        elsewhere, a shared store's."""
        self._times.extend(times)
        self._trim()

    def _trim(self) -> None:
        excess = len(self._times) - self._capacity
        if excess > 0:
            del self._times[:excess]


class InMemoryLimiterBackend:
    """The limiter state of one process: a sliding log of send times per window.

    Memory is bounded by the sum of the windows' counts (each log keeps only the
    last ``count`` slot times) and the requests in flight. ``clock`` is any monotonic
    clock in seconds. The Redis backend keeps one of these, on a fraction of the
    windows, for when Redis is unavailable.

    With ``adaptive`` (and windows to adapt), the windows are a ceiling: 429s lower
    the counts in force and calm lets them climb back (:class:`~._adaptive.Pacing`).
    """

    def __init__(
        self,
        windows: Sequence[tuple[int, float]] = ((100, 5.0), (1000, 180.0)),
        safety_margin: float = 0.01,
        clock: Clock = time.monotonic,
        *,
        cooldown_initial: float = 1.0,
        cooldown_max: float = 60.0,
        adaptive: bool = False,
    ) -> None:
        self._windows = convert_windows(windows)
        self._margin = safety_margin
        self._clock = clock
        self._logs = tuple(SlotLog(count) for count, _ in self._windows)
        self._spans = tuple(
            (log, period * (1.0 + safety_margin), float(count))
            for log, (count, period) in zip(self._logs, self._windows, strict=True)
        )
        self._shortest = min((span for _, span, _ in self._spans), default=0.0)
        # The times the slots of requests still in flight were taken, oldest first.
        self._in_flight: list[float] = []
        self.cooldown = Cooldown(cooldown_initial, cooldown_max)
        # Without windows (RateLimit.disabled()) only the cool-down gate is kept.
        self.paced = bool(self._windows)
        self.pacing: Pacing | None = (
            Pacing(climb_seconds(self._windows)) if adaptive and self.paced else None
        )
        # The usage of the last slot taken (see _usage), read by the middleware at once.
        self.usage: float | None = None

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
            adaptive=rate_limit.adaptive,
        )

    @property
    def strikes(self) -> int:
        """429s in a row, counting one per cool-down."""
        return self.cooldown.strikes

    @property
    def epoch(self) -> int:
        return self.cooldown.epoch

    @property
    def configured(self) -> tuple[tuple[int, float], ...]:
        """The windows as configured: the ceiling of the learned ones."""
        return self._windows

    def gate_remaining(self) -> float:
        """Seconds until the cool-down gate reopens (0.0 when open)."""
        return self.cooldown.remaining(self._clock())

    @property
    def pace_step(self) -> int:
        pacing = self.pacing
        return 0 if pacing is None else pacing.step

    def pace(self, *, shared: bool = False) -> PaceState:
        """The learned rate now."""
        pacing = self.pacing
        if pacing is None or pacing.at_ceiling:
            return PaceState(self._windows, 1.0, 0 if pacing is None else pacing.lowered, shared)
        scale = pacing.scale(self._clock())
        return PaceState(scale_windows(self._windows, scale), scale, pacing.lowered, shared)

    def _histories(self, now: float) -> Sequence[Sequence[float]]:
        """The logs as :func:`window_wait` reads them. A slot whose request is still in
        flight counts as taken now, however long ago it was taken: DigiCert counts the
        request when it arrives, later still, so letting its slot leave the window first
        would let a whole window's count more reach DigiCert beside it."""
        in_flight = self._in_flight
        if not in_flight or in_flight[0] > now - self._shortest:
            return self._logs
        return tuple(
            [*log, *[now] * bisect.bisect_right(in_flight, now - span)]
            for log, span, _ in self._spans
        )

    def _window_wait(self, now: float) -> float:
        pacing = self.pacing
        histories = self._histories(now)
        if pacing is None or pacing.at_ceiling:
            return window_wait(now, self._windows, histories, self._margin)
        windows = pacing.windows(self._windows, now)
        wait = window_wait(now, windows, histories, self._margin)
        if wait > 0.0 or pacing.at_ceiling or not self._crowded(now, windows):
            return wait
        # Every log holds every slot, so any one has the last send for the spacing.
        return window_wait(now, (spacing(windows),), (self._logs[0],), self._margin)

    def _crowded(self, now: float, windows: tuple[tuple[int, float], ...]) -> bool:
        """Some window in force is at least half full: sends are spread (see spacing)."""
        return any(
            2 * log.count_after(now - span) >= count
            for (log, span, _), (count, _) in zip(self._spans, windows, strict=True)
        )

    def reserve_now(self) -> Reservation:
        """:meth:`reserve`, synchronously."""
        now = self._clock()
        epoch = self.cooldown.epoch
        gate = self.cooldown.remaining(now)
        if gate > 0.0:
            return Reservation(gate, "cooldown", epoch)
        wait = self._window_wait(now)
        if wait > 0.0:
            return Reservation(wait, "window", epoch)
        token = self.take(now)
        return Reservation(0.0, None, epoch, token, self.usage)

    def take_if_free(self) -> float | None:
        """A slot now, if the gate is open and every window has room (its token for
        :meth:`move`), else None: :meth:`reserve_now` without the reservation."""
        now = self._clock()
        if self.cooldown.remaining(now) > 0.0:
            return None
        if not self.paced:
            return now
        if self._window_wait(now) > 0.0:
            return None
        return self.take(now)

    def take(self, now: float) -> float:
        """Count a send at ``now`` in every window, room or not (a slot granted
        elsewhere: by the shared store); its token for :meth:`move`."""
        for log in self._logs:
            log.take(now)
        self._in_flight.append(now)
        if self.pacing is not None:
            self.usage = self._usage(now)
        return now

    def _usage(self, now: float) -> float:
        """The fullest window's share of its configured count, this slot included: the
        level a 429 for this slot's request would say is too much."""
        # On every slot taken while adaptive: a plain loop, no generator.
        most = 0.0
        for log, span, count in self._spans:
            share = log.count_after(now - span) / count
            if share > most:
                most = share
        return most

    def load(self, times: Sequence[float], in_flight: Sequence[float] = ()) -> None:
        """Count slots from ``times`` (ascending) in every window, those taken at
        ``in_flight`` (ascending) as in flight: the state of a shared store, loaded to
        decide one step by the rules of this class."""
        for log in self._logs:
            log.load(times)
        self._in_flight.extend(in_flight)

    def move(self, taken_at: float) -> None:
        """The request of the slot taken at ``taken_at`` is over: it counts from now on."""
        now = self._clock()
        self._landed(taken_at)
        for log in self._logs:
            log.move(taken_at, now)

    async def reserve(self) -> Reservation:
        return self.reserve_now()

    def drop(self, taken_at: float) -> None:
        """The request of the slot taken at ``taken_at`` was refused: it no longer counts."""
        self._landed(taken_at)
        for log in self._logs:
            log.drop(taken_at)

    def _landed(self, taken_at: float) -> None:
        """The request of the slot taken at ``taken_at`` is no longer in flight."""
        in_flight = self._in_flight
        index = bisect.bisect_left(in_flight, taken_at)
        if index < len(in_flight) and in_flight[index] == taken_at:
            del in_flight[index]

    def finish(self, taken_at: float, refused: bool) -> None:
        """The request of the slot taken at ``taken_at`` is over: :meth:`move` it, or
        with adaptive pacing :meth:`drop` it if it was refused (HTTP 429)."""
        if refused and self.pacing is not None:
            self.drop(taken_at)
        else:
            self.move(taken_at)

    async def release(self, reservation: Reservation, *, refused: bool = False) -> None:
        if isinstance(reservation.token, float):
            self.finish(reservation.token, refused)

    async def throttled(
        self,
        epoch: int,
        *,
        retry_after: float | None,
        jitter: float,
        usage: float | None = None,
    ) -> float:
        return self.throttled_now(epoch, retry_after=retry_after, jitter=jitter, usage=usage)

    def throttled_now(
        self, epoch: int, *, retry_after: float | None, jitter: float, usage: float | None
    ) -> float:
        """:meth:`throttled`, synchronously."""
        now = self._clock()
        cooldown = self.cooldown
        if self.pacing is not None:
            self.pacing.throttled(
                now, fresh=epoch == cooldown.epoch, streak=cooldown.strikes > 0, usage=usage
            )
        return cooldown.throttled(epoch, now, retry_after=retry_after, jitter=jitter)

    async def succeeded(self, epoch: int) -> None:
        self.cooldown.succeeded(epoch)
