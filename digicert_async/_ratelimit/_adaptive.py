"""Adaptive pacing: the rate a key allows itself, learned from 429s alone.

The configured windows are a ceiling. DigiCert has changed its limits before, and the
same key is often shared with another tool, so the real budget may be lower than
configured and the client cannot know by how much. Each 429 that begins a cool-down
is one signal: the client lowers the rate it allows itself below the usage that was
refused. When no 429 comes, it climbs back, slowly near the level that was refused
(in case the limit is still there) and faster past it (the limit has gone), until it
is at the ceiling again.

The rate is a *scale* of the configured windows: at 0.5, ``(100, 5 s)`` becomes
``(50, 5 s)``. Scaling every window's count (never its period) keeps each window's
shape: a longer period at the full count would still let a whole burst through. While a
cut is in force the backends also spread sends near the limit (:func:`spacing`) and
forget the slot of a refused request (the server did not serve it).

:class:`Pacing` is pure, like :class:`~._cooldown.Cooldown`: every transition is told
what time it is. The in-memory backend and the Redis backend's local fallback keep
their state in this class; the Redis backend's Lua scripts (``lua/reserve.lua``,
``lua/throttled.lua``, with the shared part in ``lua/prelude.lua``) make the same
transitions on the same fields, and the tests drive both through one table of cases.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs

__all__ = [
    "CLIMB_WINDOWS",
    "CUT",
    "DEEPEST",
    "FLOOR",
    "Pacing",
    "climb_seconds",
    "scale_windows",
    "spacing",
]

# After a 429 the rate is 90% of the usage that was refused: the usage is measured, so the
# limit is just below it, and a deeper cut would cost throughput for the whole climb back;
# a limit further down still is found by the next signal (sends near the limit are spread
# while a cut is in force, so one more signal costs one refusal, see spacing).
CUT = 0.9
# One signal lowers the refused level to half the rate in force at most: a 429 met while
# using little of the rate says another consumer (or a new limit) took the key's budget,
# not by how much; halving per signal still reaches any share in a few signals.
DEEPEST = 0.5
# The learned rate never goes below 5% of the configured windows: one 429 too many is
# better than a client that has talked itself down to nothing.
FLOOR = 0.05
# The climb back to the refused level lasts two of the longest window's periods: a
# higher rate shows in a window only once the window has rolled, so probing any faster
# would overshoot the longest window before DigiCert could say so.
CLIMB_WINDOWS = 2.0


def climb_seconds(windows: Sequence[tuple[int, float]]) -> float:
    """How long the climb from a cut back to the refused level lasts, for ``windows``.

    >>> climb_seconds([(100, 5.0), (1000, 180.0)])
    360.0
    """
    return CLIMB_WINDOWS * max((period for _, period in windows), default=0.0)


def scale_windows(
    windows: Sequence[tuple[int, float]], scale: float
) -> tuple[tuple[int, float], ...]:
    """``windows`` with every count scaled (rounded down, at least 1), periods unchanged.

    >>> scale_windows([(100, 5.0), (1000, 180.0)], 0.42)
    ((42, 5.0), (420, 180.0))
    """
    # The epsilon keeps 200 * 0.505 at 101 whatever the float rounding gave.
    return tuple((max(1, math.floor(count * scale + 1e-9)), period) for count, period in windows)


def spacing(windows: Sequence[tuple[int, float]]) -> tuple[int, float]:
    """The window of one request that spreads sends at the pace of the fastest of
    ``windows`` (learned ones): enforced beside them while a cut is in force and one
    of them is at least half full.

    Rolling windows send in bursts: slots taken together free up together, one period
    later. A burst that a lowered limit refuses is refused whole (every request sent
    before the first 429 came back), so while the client probes for the limit near
    it, its sends are spread instead, and a probe past the limit costs one refusal,
    not a burst. The windows' counts stay the same, so does the rate; a client far
    below its learned windows still sends at once.

    >>> spacing([(14, 1.0), (72, 10.0)])
    (1, 0.07142857142857142)
    """
    return (1, min(period / count for count, period in windows))


def _band(scale: float) -> int:
    """The tenth of the ceiling ``scale`` is in (10 at the ceiling): climbing across
    one is a step worth telling."""
    return 10 if scale >= 1.0 else math.floor(scale * 10.0)


@attrs.define
class Pacing:
    """One API key's learned rate. Pure: every transition is told what time it is (any
    monotonic clock, in seconds).

    The rules. The scale is 1.0 (the configured windows) until the first cut.

    1. A 429 that begins a cool-down (a fresh one, see :class:`~._cooldown.Cooldown`)
       is one signal and cuts the rate once. If no streak of 429s was on, the refused
       level (``peak``) is the lower of the scale then and the request's *usage*: the
       fullest window's share of its configured count when the request took its slot,
       so a client that was not using its whole rate is cut below what it used; but
       never below ``least``, ``DEEPEST`` times the scale then. A
       fresh 429 during a streak (the server still refusing right after a cool-down,
       a block longer than the cool-down) says nothing about the rate; it lowers
       ``peak`` (and ``least``) to the scale then, without looking at usage.
    2. After a cut the scale is ``CUT * peak`` and climbs back to ``peak`` over
       ``climb`` seconds along a cubic that flattens as it nears ``peak``; then it
       climbs on, ever faster, to the ceiling ``climb / 2`` seconds later.
    3. A 429 of the burst that caused a calm-spell cut (a request sent before that
       cool-down began) does not cut again, but its usage may lower ``peak`` (not
       below ``least``): the burst's least refused usage is the best estimate of the
       limit.
    4. The scale never goes below ``FLOOR`` nor above 1.0.

    ``step`` counts the changes worth telling (each cut, each tenth of the ceiling the
    climb crosses, and the return to the ceiling); ``lowered`` counts the cuts.

    >>> pacing = Pacing(climb=20.0)
    >>> pacing.throttled(100.0, fresh=True, streak=False, usage=0.5)
    >>> round(pacing.scale(100.0), 3), round(pacing.scale(120.0), 3), pacing.scale(130.0)
    (0.45, 0.5, 1.0)
    """

    climb: float
    peak: float = 1.0
    cut_at: float = -math.inf
    least: float = 1.0
    lowered: int = 0
    step: int = 0
    band: int = 10

    @property
    def at_ceiling(self) -> bool:
        """No cut is in force: the configured windows apply as they are."""
        return self.cut_at == -math.inf

    def scale(self, now: float) -> float:
        """The share of the configured windows allowed at ``now``."""
        if self.cut_at == -math.inf:
            return 1.0
        return level(self.peak, now - self.cut_at, self.climb)

    def windows(
        self, configured: Sequence[tuple[int, float]], now: float
    ) -> tuple[tuple[int, float], ...]:
        """The windows in force at ``now``; notes a tenth crossed (``step``), and the
        return to the ceiling, after which the configured windows apply as they are."""
        scale = self.scale(now)
        self.note(scale)
        if scale >= 1.0:
            self.cut_at = -math.inf
            return tuple(configured)
        return scale_windows(configured, scale)

    def note(self, scale: float) -> None:
        """Count a step if ``scale`` is in another tenth of the ceiling than last seen."""
        band = _band(scale)
        if band != self.band:
            self.band = band
            self.step += 1

    def throttled(self, now: float, *, fresh: bool, streak: bool, usage: float | None) -> None:
        """A 429 came at ``now`` for a request whose usage was ``usage`` (None: unknown).
        ``fresh``: it begins a cool-down; ``streak``: a streak of 429s was on before it."""
        if fresh:
            scale = self.scale(now)
            if streak or usage is None:
                self.least = self.peak = max(FLOOR, scale)
            else:
                self.least = max(FLOOR, DEEPEST * scale)
                self.peak = max(self.least, min(scale, usage))
            self.cut_at = now
            self.lowered += 1
            self.band = _band(self.scale(now))
            self.step += 1
        elif usage is not None and max(self.least, usage) < self.peak:
            self.peak = max(self.least, usage)
            self.band = _band(self.scale(now))

    def adopt(self, peak: float, since_cut: float | None, lowered: int, now: float) -> None:
        """Take the state kept elsewhere (a shared store): ``since_cut`` seconds since the
        last cut (None: none in force). A change of ``lowered`` is a step."""
        if since_cut is None:
            self.cut_at = -math.inf
        else:
            self.peak = peak
            self.cut_at = now - since_cut
        if lowered != self.lowered:
            self.lowered = lowered
            self.band = _band(self.scale(now))
            self.step += 1
        else:
            self.note(self.scale(now))


def level(peak: float, since_cut: float, climb: float) -> float:
    """The scale ``since_cut`` seconds after a cut below ``peak`` (rule 2).

    >>> [round(level(0.5, t, 10.0), 4) for t in (0.0, 5.0, 10.0, 12.5, 15.0)]
    [0.45, 0.4938, 0.5, 0.5625, 1.0]
    """
    x = max(0.0, since_cut) / climb if climb > 0.0 else math.inf
    if x < 1.0:
        scale = peak * (1.0 - (1.0 - CUT) * (1.0 - x) ** 3)
    elif x >= 1.5:
        return 1.0
    else:
        scale = peak + (1.0 - peak) * (2.0 * (x - 1.0)) ** 3
    return min(1.0, max(FLOOR, scale))
