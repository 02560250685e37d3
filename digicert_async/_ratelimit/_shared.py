"""One API key's limiter state in a shared store, and what happens when the store fails.

The stores (:mod:`._redis`, :mod:`._sqlite`) differ in where the state lives and how
one step is made atomic there; what they share lives here, once:

- :class:`SharedOptions`, the settings every shared backend takes (``timeout``,
  ``on_unavailable``, ``fallback_fraction``, ``probe_interval``) and their checks;
- :class:`SharedKeyLimiter`, the :class:`~._backend.LimiterBackend` of one key on a
  store: each step (take a slot, a 429, a success, a slot's end) is one call of the
  store's, bounded by ``timeout``; a store that fails, hangs or answers what cannot be
  read is *unavailable*, and then ``on_unavailable`` decides:

  - ``"fallback"``: this process paces itself alone at ``fallback_fraction`` of every
    window's count, counting its own recent sends, keeps the last cool-down it saw, logs
    one WARNING for the outage and, probing the store in the background every
    ``probe_interval`` seconds, one INFO when it answers again; the sends made meanwhile
    are then written into the shared log;
  - ``"fail"``: taking a slot raises :class:`LimiterUnavailableError` (nothing is
    sent), at once for every call until a probe gets an answer.

  Either way a request already sent is never resent or lost because of the store:
  recording its answer never raises, and falls back to the local state.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar, cast

import attrs

from .._checks import check_number
from .._errors import DigiCertError, ValidationError
from .._escape import visible
from .._hooks import logger
from ._adaptive import Pacing, climb_seconds, scale_windows
from ._backend import PaceState, Reservation, WaitReason
from ._memory import InMemoryLimiterBackend
from ._policy import RateLimit

__all__ = [
    "IN_FLIGHT_SECONDS",
    "LimiterUnavailableError",
    "OnUnavailable",
    "ReserveAnswer",
    "SharedKeyLimiter",
    "SharedOptions",
    "ThrottleAnswer",
    "UnreadableAnswer",
    "shown",
]

OnUnavailable = Literal["fallback", "fail"]
_T = TypeVar("_T")

IN_FLIGHT_SECONDS = 60.0
"""The longest a shared store holds a slot as in flight. Its request ends by then (the
client's per-attempt ``timeout`` is 30 s unless set higher); a slot held longer belongs
to a process that died or lost the store before releasing it, and must not hold the
key's budget forever. A request in flight longer (a ``timeout`` set above this) counts
from when its slot was taken once this has passed, as before the in-flight rule."""


if sys.version_info >= (3, 11):

    async def within(awaitable: Awaitable[_T], seconds: float) -> _T:
        async with asyncio.timeout(seconds):  # no extra task, unlike wait_for before 3.12
            return await awaitable

else:  # pragma: no cover - Python 3.10

    async def within(awaitable: Awaitable[_T], seconds: float) -> _T:
        return await asyncio.wait_for(awaitable, seconds)


class LimiterUnavailableError(DigiCertError):
    """The shared rate limiter (Redis, SQLite) did not answer in time, and
    ``on_unavailable="fail"`` says not to send without it. Nothing was sent."""


class UnreadableAnswer(Exception):
    """A shared store answered something that is not what the step returns (a reply of
    the wrong shape, a value of the wrong type): the store counts as unavailable. The
    message describes the shape, never quotes what was received."""


def shown(text: str, limit: int = 200) -> str:
    """``text`` from outside (a store's error message) fit for one log line: control
    and bidi characters escaped (:func:`~digicert_async._escape.visible`), at most
    ``limit`` characters."""
    escaped = visible(text)
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


def _check_on_unavailable(instance: object, attribute: object, value: object) -> None:
    if value not in ("fallback", "fail"):
        raise ValidationError(
            "rate_limit.backend.on_unavailable", f"must be 'fallback' or 'fail', not {value!r}"
        )


def _timeout(value: object) -> float:
    return check_number("rate_limit.backend.timeout", value, allow_zero=False)


def _probe_interval(value: object) -> float:
    return check_number("rate_limit.backend.probe_interval", value, allow_zero=False)


def _fraction(value: object) -> float:
    share = check_number("rate_limit.backend.fallback_fraction", value, allow_zero=False)
    if share > 1.0:
        raise ValidationError(
            "rate_limit.backend.fallback_fraction", f"must be at most 1.0, not {value!r}"
        )
    return share


@attrs.frozen(kw_only=True)
class SharedOptions:
    """What every shared backend takes besides where its store is (see the module)."""

    timeout: float = attrs.field(converter=_timeout)
    on_unavailable: OnUnavailable = attrs.field(validator=_check_on_unavailable)
    fallback_fraction: float = attrs.field(converter=_fraction)
    probe_interval: float = attrs.field(converter=_probe_interval)

    def fallback_windows(self, rate_limit: RateLimit) -> tuple[tuple[int, float], ...]:
        """``rate_limit``'s windows at ``fallback_fraction`` of their counts, one at least."""
        return tuple(
            (max(1, math.floor(count * self.fallback_fraction)), period)
            for count, period in rate_limit.windows
        )


@attrs.frozen
class ReserveAnswer:
    """What a store said to a request for a slot: ``wait`` (seconds; 0.0: a slot was
    taken, named ``member`` in the store's log, at ``usage`` of the fullest window) and
    why (``reason``), the cool-down's ``epoch`` and ``strikes``, and the learned rate:
    the refused level ``peak``, the seconds ``since`` the cut in force (None: none) and
    the cuts so far (``lowered``)."""

    wait: float
    reason: WaitReason | None
    epoch: int
    strikes: int
    member: object
    peak: float
    since: float | None
    lowered: int
    usage: float | None


@attrs.frozen
class ThrottleAnswer:
    """What a store did with a 429: the seconds the gate was newly ``closed`` for, the
    seconds until it reopens (``gate``), and the state after it (as :class:`ReserveAnswer`)."""

    closed: float
    gate: float
    epoch: int
    strikes: int
    peak: float
    since: float | None
    lowered: int


class SharedKeyLimiter:
    """The :class:`~._backend.LimiterBackend` of one API key in a shared store, with its
    local fallback (see the module). ``available`` tells whether the shared state is in
    use right now.

    A store subclasses it with the steps, each one atomic in the store: ``_store_reserve``,
    ``_store_throttled``, ``_store_succeeded``, ``_store_release``, ``_store_ping`` (an
    answer, or an error), ``_store_close``; ``_store_errors`` (what its client raises
    when the store cannot answer) and ``where`` (the store, for messages, never a secret).
    ``clock`` is any monotonic clock in seconds, for the local fallback only.
    """

    def __init__(
        self,
        options: SharedOptions,
        rate_limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._options = options
        self._clock = clock
        self._rate_limit = rate_limit
        margin = rate_limit.safety_margin
        self._windows = tuple(rate_limit.windows)
        self._longest = max((p * (1.0 + margin) for _, p in self._windows), default=0.0)
        self._adaptive = rate_limit.adaptive and bool(self._windows)
        # The shared learned rate as the store's last answer told it.
        self._shared = Pacing(climb_seconds(self._windows))
        self.fallback_windows = options.fallback_windows(rate_limit)
        # This process's own recent sends (shared or not) on the fallback's windows, and
        # the last gate seen in the store: what paces it when the store is unavailable.
        self._local = InMemoryLimiterBackend(
            self.fallback_windows,
            margin,
            clock,
            cooldown_initial=rate_limit.cooldown_initial,
            cooldown_max=rate_limit.cooldown_max,
            adaptive=rate_limit.adaptive,
        )
        self._unshared: deque[float] = deque(
            maxlen=max((count for count, _ in self._windows), default=1)
        )
        self._outage_epoch = 0  # the local epoch when the store went away
        self._remote_epoch = 0
        self._remote_strikes = 0
        self._calm_epoch: int | None = None  # an epoch seen with no streak: succeeded() is moot
        self.available = True
        self._outage_reason = ""
        self._next_probe = -math.inf
        self._probe: asyncio.Task[None] | None = None
        self._closed = False
        self.fallback_sends = 0  # sends paced locally, over the object's life

    # -- the store's part --------------------------------------------------------------------

    @property
    def where(self) -> str:
        """The store, as messages name it (``Redis redis://host:6379/0``)."""
        raise NotImplementedError

    def _store_errors(self) -> tuple[type[BaseException], ...]:
        return ()

    async def _store_reserve(self, ages: list[float]) -> ReserveAnswer:
        """Take a slot (writing in first the sends made ``ages`` seconds ago while the
        store was unavailable)."""
        raise NotImplementedError

    async def _store_throttled(
        self, epoch: int, retry_after: float | None, jitter: float, usage: float | None
    ) -> ThrottleAnswer:
        raise NotImplementedError

    async def _store_succeeded(self, epoch: int) -> None:
        raise NotImplementedError

    async def _store_release(self, member: object, drop: bool) -> None:
        raise NotImplementedError

    async def _store_ping(self) -> None:
        raise NotImplementedError

    async def _store_close(self) -> None:
        raise NotImplementedError

    # -- availability ------------------------------------------------------------------------

    def _unavailable_errors(self) -> tuple[type[BaseException], ...]:
        return (UnreadableAnswer, OSError, asyncio.TimeoutError, *self._store_errors())

    async def _step(self, step: Callable[..., Awaitable[_T]], *args: Any) -> _T:
        """``step(*args)`` of the store's, within ``timeout``."""
        if self._closed:
            raise RuntimeError("this limiter is closed")
        return await within(step(*args), self._options.timeout)

    @property
    def _fails(self) -> bool:
        return self._options.on_unavailable == "fail"

    def _went_down(self, exc: BaseException) -> None:
        self._next_probe = self._clock() + self._options.probe_interval
        if not self.available:
            return
        self.available = False
        self._outage_reason = type(exc).__name__
        self._outage_epoch = self._local.epoch
        self._local.cooldown.strikes = self._remote_strikes  # the streak goes on locally
        detail = shown(str(exc))
        reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        if self._fails:
            then = (
                "requests fail with LimiterUnavailableError until it answers a probe"
                f" (every {self._options.probe_interval:g} s)"
            )
        else:
            share = self._options.fallback_fraction
            then = (
                f"this process paces itself alone at {share:.0%} of the windows"
                f" {list(self.fallback_windows)} until it answers"
            )
        logger.warning(
            "shared rate limiter unavailable (%s: %s): %s", self.where, self._scrub(reason), then
        )

    def _scrub(self, text: str) -> str:
        """``text`` without any secret of the store's (a password in an error message)."""
        return text

    def _came_back(self) -> None:
        if self.available:
            return
        self.available = True
        logger.info("shared rate limiter available again (%s): shared pacing resumes", self.where)

    def _start_probe(self) -> None:
        now = self._clock()
        if now < self._next_probe or (self._probe is not None and not self._probe.done()):
            return
        self._next_probe = now + self._options.probe_interval
        self._probe = asyncio.get_running_loop().create_task(self._ping())

    async def _ping(self) -> None:
        if self._closed:
            return
        try:
            await self._step(self._store_ping)
        except self._unavailable_errors():
            return
        self._came_back()

    def _unavailable(self) -> LimiterUnavailableError:
        return LimiterUnavailableError(
            f"the shared rate limiter ({self.where}) did not answer"
            f" within {self._options.timeout:g} s ({self._outage_reason}); not sent"
        )

    # -- LimiterBackend ----------------------------------------------------------------------

    async def reserve(self) -> Reservation:
        if self.available:
            now = self._clock()
            ages = [now - sent for sent in self._unshared if now - sent < self._longest]
            try:
                answer = await self._step(self._store_reserve, ages)
            except self._unavailable_errors() as exc:
                self._went_down(exc)
            else:
                return self._reserved(answer)
        else:
            # Whichever the mode, the store is asked again only by the probe: a caller
            # never waits out a timeout for a store known to be gone.
            self._start_probe()
        if self._fails:
            # raised outside the handler: nothing of the store's client is chained to it
            raise self._unavailable()
        return self._reserve_locally()

    def _reserved(self, answer: ReserveAnswer) -> Reservation:
        self._unshared.clear()  # written into the shared log by that call
        self._came_back()
        self._note_remote(answer.epoch, answer.strikes)
        self._adopt(answer.peak, answer.since, answer.lowered)
        now = self._clock()
        if answer.wait <= 0.0:
            token = (self._local.take(now), answer.member)
            return Reservation(0.0, None, answer.epoch, token, answer.usage)
        if answer.reason == "cooldown":
            self._local.cooldown.hold(now + answer.wait)
            return Reservation(answer.wait, "cooldown", answer.epoch)
        return Reservation(answer.wait, "window", answer.epoch)

    async def throttled(
        self,
        epoch: int,
        *,
        retry_after: float | None,
        jitter: float,
        usage: float | None = None,
    ) -> float:
        if self.available:
            remote_epoch = epoch if epoch >= 0 else self._remote_epoch
            try:
                answer = await self._step(
                    self._store_throttled, remote_epoch, retry_after, jitter, usage
                )
            except self._unavailable_errors() as exc:
                self._went_down(exc)  # never raises: the request was sent already
            else:
                self._came_back()
                self._note_remote(answer.epoch, answer.strikes)
                self._adopt(answer.peak, answer.since, answer.lowered)
                self._local.cooldown.hold(self._clock() + answer.gate)
                return answer.closed
        return await self._local.throttled(
            self._local_epoch_of(epoch),
            retry_after=retry_after,
            jitter=jitter,
            # a usage is a share of the windows it was taken under: the shared ones or
            # the fallback's
            usage=usage if epoch < 0 else None,
        )

    async def succeeded(self, epoch: int) -> None:
        if epoch < 0:
            await self._local.succeeded(self._local_epoch_of(epoch))
            return
        if epoch == self._calm_epoch:
            return  # no streak when it was sent; any 429 since has moved the epoch on
        if self.available:
            try:
                await self._step(self._store_succeeded, epoch)
            except self._unavailable_errors() as exc:
                self._went_down(exc)
            else:
                self._came_back()
                return
        await self._local.succeeded(self._local_epoch_of(epoch))

    async def release(self, reservation: Reservation, *, refused: bool = False) -> None:
        token = reservation.token
        if not isinstance(token, tuple):
            return
        taken_at, member = token
        self._local.finish(taken_at, refused)
        if member is None or not self.available:
            return
        try:
            await self._step(self._store_release, member, refused and self._adaptive)
        except self._unavailable_errors() as exc:
            self._went_down(exc)  # never raises: the request is over already

    async def aclose(self) -> None:
        """Stop the background probe and let go of the store (what this limiter opened)."""
        self._closed = True
        probe, self._probe = self._probe, None
        if probe is not None and not probe.done():
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe
        await self._store_close()

    # -- the learned rate --------------------------------------------------------------------

    def _adopt(self, peak: float, since: float | None, lowered: int) -> None:
        if self._adaptive:
            self._shared.adopt(peak, since, lowered, self._clock())

    @property
    def pace_step(self) -> int:
        return self._shared.step + self._local.pace_step

    def pace(self) -> PaceState:
        if not self.available:
            return self._local.pace()
        shared = self._shared
        if not self._adaptive or shared.at_ceiling:
            return PaceState(self._windows, 1.0, shared.lowered, True)
        scale = shared.scale(self._clock())
        if scale >= 1.0:
            return PaceState(self._windows, 1.0, shared.lowered, True)
        return PaceState(scale_windows(self._windows, scale), scale, shared.lowered, True)

    # -- the local fallback ------------------------------------------------------------------

    def _note_remote(self, epoch: int, strikes: int) -> None:
        self._remote_epoch = epoch
        self._remote_strikes = strikes
        if strikes == 0:
            self._calm_epoch = epoch

    def _reserve_locally(self) -> Reservation:
        local = self._local.reserve_now()
        tag = -1 - local.epoch  # local epochs are negative, the store's are not
        if local.wait > 0.0:
            return Reservation(local.wait, local.reason, tag)
        taken_at = cast(float, local.token)
        self._unshared.append(taken_at)
        self.fallback_sends += 1
        return Reservation(0.0, None, tag, (taken_at, None), local.usage)

    def _local_epoch_of(self, epoch: int) -> int:
        """The local cool-down's epoch of a request sent in ``epoch``.

        A request paced locally carries ``-1 - epoch``. One sent under the store is of
        the current local epoch only if it was sent in the last epoch the store told
        and no local cool-down began since the store went away; else of an earlier one.
        """
        if epoch < 0:
            return -1 - epoch
        if epoch == self._remote_epoch and self._local.epoch == self._outage_epoch:
            return self._local.epoch
        return -1

    @property
    def _local_strikes(self) -> int:
        """The streak of 429s as this process counts it while the store is unavailable."""
        return self._local.strikes
