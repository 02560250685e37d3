"""The learned rate's details that mutation testing found unchecked (``_adaptive.py``).

A client never cut counts no step when it reads its windows at the ceiling; rule 4's
bounds hold for a state adopted from a shared store, whatever level that store holds;
the climb meets the refused level and the ceiling where rule 2 says, from either side.
"""

from __future__ import annotations

import pytest

from digicert_async._ratelimit import Pacing
from digicert_async._ratelimit._adaptive import CUT, FLOOR, level

CONFIGURED = ((100, 5.0), (1000, 180.0))


def test_reading_the_windows_at_the_ceiling_is_no_step() -> None:
    pacing = Pacing(climb=10.0)
    for now in (0.0, 5.0, 50.0):
        assert pacing.windows(CONFIGURED, now) == CONFIGURED
    assert pacing.step == 0 and pacing.at_ceiling
    # nor after a climb back: the return was the one step, reading on is none
    pacing.throttled(100.0, fresh=True, streak=False, usage=0.5)
    pacing.windows(CONFIGURED, 200.0)
    step = pacing.step
    pacing.windows(CONFIGURED, 201.0)
    pacing.adopt(1.0, since_cut=None, lowered=pacing.lowered, now=202.0)
    assert pacing.step == step


@pytest.mark.parametrize("peak", [1.2, 40.0])
def test_an_adopted_level_above_the_ceiling_allows_no_more_than_the_ceiling(
    peak: float,
) -> None:
    # rule 4: a shared store's state is read from outside; its level is not trusted
    pacing = Pacing(climb=10.0)
    pacing.adopt(peak, since_cut=0.0, lowered=1, now=0.0)
    for now in (0.0, 5.0, 10.0, 12.0):
        assert pacing.scale(now) <= 1.0
    assert pacing.windows(CONFIGURED, 0.0) == CONFIGURED
    assert level(peak, 0.0, 10.0) == 1.0


def test_a_level_just_above_the_ceiling_never_climbs_past_it() -> None:
    pacing = Pacing(climb=10.0)
    pacing.adopt(1.01, since_cut=0.0, lowered=1, now=0.0)
    scales = [pacing.scale(t / 10) for t in range(0, 160)]
    assert max(scales) == 1.0 and scales[0] < 1.0


@pytest.mark.parametrize("peak", [0.0, 0.001, -3.0])
def test_an_adopted_level_below_the_floor_allows_the_floor(peak: float) -> None:
    pacing = Pacing(climb=10.0)
    pacing.adopt(peak, since_cut=0.0, lowered=1, now=0.0)
    assert pacing.scale(0.0) == FLOOR
    assert pacing.windows(CONFIGURED, 0.0) == ((5, 5.0), (50, 180.0))


def test_the_climb_meets_the_refused_level_and_the_ceiling_on_time() -> None:
    # from both sides of the two joins of rule 2
    peak, climb = 0.6, 10.0
    assert level(peak, 0.0, climb) == pytest.approx(CUT * peak)
    assert level(peak, 9.999, climb) < peak < level(peak, 10.001, climb)
    assert level(peak, 10.0, climb) == pytest.approx(peak)
    assert level(peak, 14.999, climb) < 1.0
    assert level(peak, 15.0, climb) == 1.0 and level(peak, 20.0, climb) == 1.0
    # a time before the cut (a clock read early) is the cut's own level
    assert level(peak, -5.0, climb) == pytest.approx(CUT * peak)
