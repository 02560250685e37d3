"""Adaptive pacing: the pure controller on a fake clock, the in-process backend and the
middleware around it, and clients against ``FakeCertCentral`` enforcing lower windows
than they were given."""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from typing import Any

import pytest

import digicert_async as dc
from digicert_async._ratelimit import (
    InMemoryLimiterBackend,
    Pacing,
    RateLimitMiddleware,
    climb_seconds,
    scale_windows,
)
from digicert_async._ratelimit._adaptive import CUT, DEEPEST, FLOOR, level
from digicert_async.testing import FakeCertCentral

# -- the controller, pure ------------------------------------------------------------------


def test_a_fresh_429_cuts_below_the_refused_usage_and_climbs_back() -> None:
    pacing = Pacing(climb=20.0)
    assert pacing.at_ceiling and pacing.scale(0.0) == 1.0
    pacing.throttled(100.0, fresh=True, streak=False, usage=0.6)
    assert pacing.scale(100.0) == pytest.approx(CUT * 0.6)
    # climbing: never down, at the refused level after `climb`, at the ceiling by 1.5 x
    scales = [pacing.scale(100.0 + t / 10) for t in range(0, 301)]
    assert all(b >= a for a, b in itertools.pairwise(scales))
    assert pacing.scale(120.0) == pytest.approx(0.6)
    assert pacing.scale(129.99) < 1.0 and pacing.scale(130.0) == 1.0
    assert pacing.lowered == 1


def test_one_burst_counts_once_and_its_least_usage_refines_the_level() -> None:
    pacing = Pacing(climb=20.0)
    pacing.throttled(10.0, fresh=True, streak=False, usage=0.9)
    # the rest of the burst: requests sent before the cool-down began
    for usage in (0.95, 0.7, 1.0):
        pacing.throttled(10.1, fresh=False, streak=True, usage=usage)
    assert pacing.lowered == 1
    assert pacing.peak == pytest.approx(0.7)
    assert pacing.scale(10.1) == pytest.approx(level(0.7, 0.1, 20.0))
    assert level(0.7, 0.0, 20.0) == pytest.approx(CUT * 0.7)


def test_one_signal_lowers_the_level_to_half_the_rate_at_most() -> None:
    pacing = Pacing(climb=20.0)
    pacing.throttled(0.0, fresh=True, streak=False, usage=0.01)  # someone else spent it
    assert pacing.peak == pytest.approx(DEEPEST)
    pacing.throttled(0.1, fresh=False, streak=True, usage=0.02)  # nor does the burst
    assert pacing.peak == pytest.approx(DEEPEST)


def test_a_429_during_a_streak_cuts_from_the_rate_in_force_not_the_usage() -> None:
    pacing = Pacing(climb=20.0)
    pacing.throttled(0.0, fresh=True, streak=False, usage=0.8)
    pacing.throttled(2.0, fresh=True, streak=True, usage=0.1)
    assert pacing.lowered == 2
    in_force_then = level(0.8, 2.0, 20.0)
    assert pacing.peak == pytest.approx(in_force_then)
    assert pacing.scale(2.0) == pytest.approx(CUT * in_force_then)


def test_the_rate_never_goes_below_the_floor() -> None:
    pacing = Pacing(climb=20.0)
    for k in range(40):
        pacing.throttled(float(k), fresh=True, streak=True, usage=None)
    assert pacing.scale(40.0) >= FLOOR
    assert scale_windows([(100, 5.0), (1000, 180.0)], pacing.scale(40.0))[0][0] >= 5


def test_steps_are_counted_per_cut_and_per_tenth_climbed() -> None:
    pacing = Pacing(climb=10.0)
    configured = ((100, 5.0),)
    pacing.throttled(0.0, fresh=True, streak=False, usage=0.5)  # to 0.4
    assert pacing.step == 1
    seen = [pacing.windows(configured, t / 10)[0][0] for t in range(0, 200)]
    assert seen[0] == math.floor(100 * CUT * 0.5) and seen[-1] == 100
    # 0.4 -> 0.5 (one tenth), then 0.6 ... 0.9 and the ceiling: one step each
    assert pacing.step == 1 + 1 + 4 + 1
    assert pacing.at_ceiling  # the cut is over: the configured windows as they are
    assert pacing.windows(configured, 30.0) == configured


def test_a_step_is_counted_where_the_climb_crosses_a_tenth_and_nowhere_else() -> None:
    pacing = Pacing(climb=10.0)
    pacing.throttled(0.0, fresh=True, streak=False, usage=0.5)
    crossed = []
    step = pacing.step
    for t in range(1, 200):
        scale = pacing.scale(t / 10)
        pacing.windows(((100, 5.0),), t / 10)
        if pacing.step != step:
            step = pacing.step
            crossed.append(scale)
    # the first scale seen in each tenth from 0.5 up, and the ceiling
    assert [math.floor(scale * 10) for scale in crossed] == [5, 6, 7, 8, 9, 10]
    assert all(
        scale < (tenth + 1) / 10 for scale, tenth in zip(crossed, range(5, 10), strict=False)
    )


def test_every_cut_is_a_step_and_a_later_lower_estimate_is_not() -> None:
    pacing = Pacing(climb=10.0)
    pacing.throttled(0.0, fresh=True, streak=False, usage=0.9)
    pacing.windows(((100, 5.0),), 0.0)
    pacing.throttled(1.0, fresh=True, streak=False, usage=0.8)
    assert (pacing.step, pacing.lowered) == (2, 2)
    # one of that burst, sent earlier at a lower usage: the level falls within the tenth it
    # is in, silently (no step now, nor when the windows are next read)
    pacing.throttled(1.0, fresh=False, streak=True, usage=0.78)
    pacing.windows(((100, 5.0),), 1.0)
    assert pacing.step == 2 and pacing.peak == pytest.approx(0.78)


def test_a_burst_at_the_level_already_found_changes_nothing() -> None:
    pacing = Pacing(climb=10.0)
    pacing.throttled(0.0, fresh=True, streak=False, usage=0.5)  # 0.45: in the 4th tenth
    pacing.throttled(11.0, fresh=False, streak=True, usage=0.5)  # at the level: nothing
    pacing.windows(((100, 5.0),), 11.0)  # climbed into the 5th tenth since: a step
    assert pacing.step == 2


def test_a_shared_state_adopted_counts_a_step_per_change_of_the_cuts() -> None:
    pacing = Pacing(climb=10.0)
    pacing.throttled(0.0, fresh=True, streak=False, usage=0.5)
    pacing.throttled(1.0, fresh=True, streak=True, usage=None)
    assert pacing.step == 2
    pacing.adopt(0.6, since_cut=2.0, lowered=3, now=5.0)  # another process cut once more
    assert pacing.step == 3 and pacing.lowered == 3 and pacing.cut_at == 3.0
    assert pacing.scale(5.0) == pytest.approx(level(0.6, 2.0, 10.0))
    pacing.windows(((100, 5.0),), 5.0)  # the tenth it is in was noted with the change
    pacing.adopt(0.6, since_cut=2.0, lowered=3, now=5.0)
    assert pacing.step == 3
    pacing.adopt(0.6, since_cut=None, lowered=3, now=20.0)  # back at the ceiling
    assert pacing.at_ceiling and pacing.step == 4


def test_the_climb_shape_and_its_edges() -> None:
    # a cubic that flattens at the refused level, then a cubic away from it
    assert level(0.5, 5.0, 10.0) == pytest.approx(0.5 * (1 - (1 - CUT) * 0.5**3))
    assert level(0.5, 12.5, 10.0) == pytest.approx(0.5 + 0.5 * 0.5**3)
    assert level(0.5, 14.9, 10.0) < 1.0 and level(0.5, 15.0, 10.0) == 1.0
    assert level(0.5, 0.5, 1.0) == pytest.approx(0.5 * (1 - (1 - CUT) * 0.5**3))
    # no climb (no window to wait out): straight back to the ceiling
    assert level(0.5, 0.0, 0.0) == 1.0 and climb_seconds([]) == 0.0
    assert Pacing(climb=0.0).scale(0.0) == 1.0


def test_windows_are_scaled_by_count_never_by_period() -> None:
    assert scale_windows([(100, 5.0), (1000, 180.0)], 0.5) == ((50, 5.0), (500, 180.0))
    assert scale_windows([(3, 1.0)], 0.1) == ((1, 1.0),)  # at least one
    assert climb_seconds([(100, 5.0), (1000, 180.0)]) == 360.0


def _simulate(pacing: Pacing, limit_at: Any, until: float, dt: float = 0.05) -> list[float]:
    """A key whose real limit (a share of the configured rate) is ``limit_at(t)``, and a
    client that always has work: whenever the rate it allows itself is above the limit,
    the server refuses, once per cool-down of 1 s (the burst counts once). Returns the
    times of the 429s."""
    refused: list[float] = []
    gate = -math.inf
    t = 0.0
    while t < until:
        if t >= gate:
            scale = pacing.scale(t)
            if scale > limit_at(t) + 1e-9:
                # the request that crossed the limit used a little more than it
                pacing.throttled(t, fresh=True, streak=False, usage=scale)
                refused.append(t)
                gate = t + 1.0
        t += dt
    return refused


def test_a_step_change_of_the_real_limit_down_and_back_up() -> None:
    climb = 20.0  # twice a 10 s window

    def limit(t: float) -> float:
        return 0.5 if 100.0 <= t < 300.0 else 1.0

    pacing = Pacing(climb=climb)
    refused = _simulate(pacing, limit, 500.0)
    assert not [t for t in refused if t < 100.0]  # right windows: never refused
    down = [t for t in refused if 100.0 <= t < 300.0]
    # the halving is met at once and learned within the cool-downs it takes (xCUT each)...
    assert down[0] == pytest.approx(100.0, abs=0.1)
    needed = next(k for k in range(1, len(down) + 1) if pacing_scale_after(down[:k]) <= 0.5)
    assert needed <= math.ceil(math.log(0.5) / math.log(CUT)) + 3
    assert down[needed - 1] - down[0] <= 1.5 * needed  # one per cool-down of 1 s
    # ...then probed again no more often than every three quarters of a climb
    settled = down[needed:]
    gaps = [b - a for a, b in itertools.pairwise(settled)]
    assert settled and min(gaps, default=climb) >= 0.75 * climb
    late = [t for t in refused if t >= 300.0]
    assert not late  # after the restore nothing is refused
    # and the rate is back at the configuration within 1.5 climbs of the last cut
    assert pacing.scale(down[-1] + 1.5 * climb) == 1.0
    assert pacing.scale(300.0 + 1.5 * climb) == 1.0


def pacing_scale_after(cuts: list[float]) -> float:
    """The scale right after cuts at ``cuts``, each at the rate then (usage = scale)."""
    pacing = Pacing(climb=20.0)
    for t in cuts:
        pacing.throttled(t, fresh=True, streak=False, usage=pacing.scale(t))
    return pacing.scale(cuts[-1])


def _scales(limit: Any, until: float) -> list[float]:
    pacing = Pacing(climb=20.0)
    scales = []
    gate = -math.inf
    t = 0.0
    while t < until:
        scale = pacing.scale(t)
        scales.append(scale)
        if t >= gate and scale > limit(t) + 1e-9:
            pacing.throttled(t, fresh=True, streak=False, usage=scale)
            gate = t + 1.0
        t += 0.1
    return scales


def test_under_a_lowered_limit_the_rate_spends_most_of_its_time_near_it() -> None:
    def limit(t: float) -> float:
        return 0.5 if t >= 10.0 else 1.0

    scales = _scales(limit, 210.0)[300:]  # from t = 30 s: after the first cut's climb
    assert min(scales) >= CUT * 0.5 - 1e-9  # a cut goes to 80% of the limit at worst
    near = sum(1 for s in scales if 0.45 <= s <= 0.5 + 1e-9)
    assert near / len(scales) >= 0.6


# -- the in-process backend ----------------------------------------------------------------


async def test_a_429_lowers_the_windows_the_backend_paces_to() -> None:
    now = [0.0]
    backend = InMemoryLimiterBackend([(10, 1.0), (50, 10.0)], 0.0, lambda: now[0], adaptive=True)
    reservations = [await backend.reserve() for _ in range(6)]
    assert [r.usage for r in reservations] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    for r in reservations:
        await backend.release(r)
    epoch = reservations[-1].epoch
    await backend.throttled(epoch, retry_after=0.0, jitter=0.0, usage=reservations[-1].usage)
    state = backend.pace()
    assert state.scale == pytest.approx(CUT * 0.6)
    assert state.windows == scale_windows(((10, 1.0), (50, 10.0)), CUT * 0.6)
    assert state.lowered == 1
    assert not state.shared
    # six slots in the last second: the 4 per second in force make the next one wait
    waiting = await backend.reserve()
    assert waiting.reason == "window" and waiting.wait == pytest.approx(1.0)


async def test_near_a_lowered_limit_sends_are_spread_not_sent_in_a_burst() -> None:
    """While a cut is in force and a learned window is at least half full, sends go one
    per the fastest learned window's pace (``spacing``): a probe past the limit then costs
    one refusal, not a burst. Below half full, and at the ceiling, they go at once."""
    now = [0.0]
    backend = InMemoryLimiterBackend(
        [(20, 1.0), (100, 10.0)], 0.0, lambda: now[0], cooldown_initial=0.01, adaptive=True
    )
    await backend.throttled(backend.epoch, retry_after=0.0, jitter=0.0, usage=0.5)
    now[0] = 0.01  # the gate has reopened; the climb (20 s) has barely begun
    assert backend.pace().windows == ((9, 1.0), (45, 10.0))
    sent = []
    while (reservation := await backend.reserve()).wait == 0.0:
        sent.append(now[0])
        await backend.release(reservation)
    assert len(sent) == 5  # at once, until the window is half full
    gap = 1.0 / 9
    assert reservation.reason == "window" and reservation.wait == pytest.approx(gap)
    while len(sent) < 12:
        now[0] += reservation.wait
        reservation = await backend.reserve()
        if reservation.wait == 0.0:
            sent.append(now[0])
            await backend.release(reservation)
    # then one per ninth of a second, and never more than 9 in a second
    assert [b - a for a, b in itertools.pairwise(sent[4:9])] == pytest.approx([gap] * 4)
    assert sent[9] == pytest.approx(sent[0] + 1.0)
    assert max(sum(1 for t in sent if s <= t < s + 1.0 - 1e-9) for s in sent) == 9

    at_ceiling = InMemoryLimiterBackend([(20, 1.0)], 0.0, lambda: 0.0, adaptive=True)
    for _ in range(20):  # no cut in force: the whole window at once
        assert (await at_ceiling.reserve()).wait == 0.0


async def test_with_adaptive_off_a_429_changes_no_window() -> None:
    backend = InMemoryLimiterBackend.from_rate_limit(
        dc.RateLimit(windows=[(10, 1.0)], adaptive=False), lambda: 0.0
    )
    reservation = await backend.reserve()
    assert reservation.usage is None
    await backend.throttled(reservation.epoch, retry_after=0.0, jitter=0.0, usage=1.0)
    assert backend.pace().windows == ((10, 1.0),) and backend.pace().lowered == 0


def test_adaptive_is_on_by_default_and_must_be_a_bool() -> None:
    assert dc.RateLimit().adaptive is True
    assert dc.RateLimit.disabled().adaptive is True  # nothing to adapt: no windows
    with pytest.raises(dc.ValidationError, match=r"rate_limit\.adaptive"):
        dc.RateLimit(adaptive="yes")  # type: ignore[arg-type]


async def test_the_pacer_of_a_client_without_windows_has_nothing_to_adapt() -> None:
    async with dc.CertCentralClient("k" * 32, rate_limit=dc.RateLimit.disabled()) as client:
        pacer = client.pacer
        assert pacer.windows == () == pacer.configured
        assert pacer.scale == 1.0 and not pacer.adaptive and pacer.throttled == 0
        assert "k" * 32 not in repr(pacer)


# -- the middleware: events and the log line --------------------------------------------------


class LimitedServer:
    """A send step that admits ``count`` requests per rolling ``period`` (virtual time) and
    answers 429 to the rest, and knows nothing of the client's windows."""

    def __init__(self, time: Any, count: int, period: float) -> None:
        self.time, self.count, self.period = time, count, period
        self.admitted: list[float] = []
        self.statuses: list[int] = []

    async def __call__(self, request: Any) -> Any:
        from .test_ratelimit import ok

        now = self.time.now
        recent = [t for t in self.admitted if t > now - self.period]
        status = 429 if len(recent) >= self.count else 200
        if status == 200:
            self.admitted.append(now)
        self.statuses.append(status)
        await self.time.sleep(0.01)
        return ok(request, status)


async def _paced_run(adaptive: bool, hooks: dc.Hooks | None = None) -> tuple[list[int], Any]:
    from .test_ratelimit import FakeTime, get

    time = FakeTime()
    limit = dc.RateLimit(
        windows=[(20, 1.0), (100, 10.0)],
        safety_margin=0.0,
        cooldown_initial=0.5,
        cooldown_max=0.5,
        adaptive=adaptive,
    )
    middleware = RateLimitMiddleware(
        limit, hooks, clock=time.clock, sleep=time.sleep, wall_clock=lambda: 0.0
    )
    server = LimitedServer(time, 10, 1.0)  # half the client's burst window

    async def worker(n: int) -> None:
        for _ in range(n):
            await middleware(get(), server)

    await time.run(*(worker(30) for _ in range(10)))
    return server.statuses, middleware


async def test_adaptive_pacing_learns_a_lower_limit_the_fixed_pacer_keeps_hitting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async")
    changes: list[dc.PaceChanged] = []
    statuses, middleware = await _paced_run(True, dc.Hooks(on_pace_change=[changes.append]))
    fixed, _ = await _paced_run(False)
    adaptive_429 = statuses.count(429)
    assert adaptive_429 >= 1  # it had to learn
    assert adaptive_429 * 4 <= fixed.count(429)
    # the second half: learned
    assert statuses[len(statuses) // 2 :].count(429) <= 2
    pacer = dc.Pacer(middleware)
    assert pacer.throttled == adaptive_429
    assert 0.0 < pacer.scale < 1.0 and pacer.lowered >= 1
    # told per step, never per request
    assert changes and changes[0].lowered and changes[0].configured == ((20, 1.0), (100, 10.0))
    assert changes[0].windows == scale_windows(changes[0].configured, changes[0].scale)
    assert len(changes) <= pacer.lowered + 10 < len(statuses) // 10
    lines = [r for r in caplog.records if "pacing" in r.getMessage()]
    assert len(lines) == len(changes)
    assert all(r.levelno == logging.INFO for r in lines)
    assert "lowered to" in lines[0].getMessage() and "after HTTP 429" in lines[0].getMessage()


# -- against FakeCertCentral, over loopback ---------------------------------------------------


async def _read_all(fake: FakeCertCentral, adaptive: bool, count: int) -> dc.Pacer:
    limit = dc.RateLimit(
        windows=[(20, 1.0)], cooldown_initial=0.3, cooldown_max=0.3, adaptive=adaptive
    )
    client = dc.CertCentralClient(  # enough attempts that no call runs out of them
        fake.api_key,
        base_url=fake.base_url,
        rate_limit=limit,
        retry=dc.RetryPolicy(max_attempts=50),
        timeout=10.0,
    )
    ids = list(fake.order_ids)[:count]
    async with client:

        async def worker(part: list[int]) -> None:
            for order_id in part:
                await client.orders.get(order_id)

        await asyncio.gather(*(worker(ids[k::10]) for k in range(10)))
        return client.pacer


@pytest.mark.slow
async def test_against_a_fake_enforcing_half_the_windows_few_requests_are_refused() -> None:
    # In real time, how many requests a probe past the limit costs depends on how the
    # machine runs this process: the fake refuses all that arrive during its 0.3 s block,
    # and a loop the machine stalled sends what was due meanwhile together (13 of 80 on
    # an idle machine, 23 on a loaded one). So the two pacers are compared in the same
    # run here; the count itself is held on the virtual clock (_paced_run, above).
    refused = {}
    for adaptive in (True, False):
        async with FakeCertCentral(orders=80, rate_limits=[(10, 1.0)], block_seconds=0.3) as fake:
            pacer = await _read_all(fake, adaptive, 80)
            refused[adaptive] = fake.rate_limited_count
            assert pacer.throttled == fake.rate_limited_count
            if adaptive:
                assert pacer.lowered >= 1
    assert refused[True] * 2 <= refused[False]  # 13 and 70 on an idle machine


@pytest.mark.slow
async def test_against_a_fake_with_the_right_windows_nothing_is_refused() -> None:
    async with FakeCertCentral(orders=60, rate_limits=[(20, 1.0)], block_seconds=0.3) as fake:
        pacer = await _read_all(fake, True, 60)
        assert fake.rate_limited_count == 0
        assert pacer.windows == pacer.configured and pacer.lowered == 0


# -- a refused request's slot ------------------------------------------------------------------


@pytest.mark.parametrize("adaptive", [True, False])
async def test_a_refused_requests_slot_is_freed_only_by_adaptive_pacing(adaptive: bool) -> None:
    backend = InMemoryLimiterBackend.from_rate_limit(
        dc.RateLimit(windows=[(3, 1.0)], safety_margin=0.0, adaptive=adaptive), lambda: 5.0
    )
    taken = [await backend.reserve() for _ in range(3)]
    await backend.release(taken[0], refused=True)
    for reservation in taken[1:]:
        await backend.release(reservation)
    after = await backend.reserve()
    if adaptive:  # the server did not serve it: its slot is free again
        assert after.wait == 0.0
    else:  # today's pacer counts every send
        assert after.reason == "window" and after.wait == pytest.approx(1.0)


# -- the command line's summary ----------------------------------------------------------------


async def test_the_cli_summary_names_the_learned_rate_only_when_it_differs() -> None:
    from digicert_async.cli._terminal import pace_summary

    _, middleware = await _paced_run(True)
    pacer = dc.Pacer(middleware)
    [line] = pace_summary(pacer, "cancel")
    assert line.startswith("digicert-async cancel: pacing learned from ")
    assert f"{pacer.throttled} HTTP 429s" in line
    count, period = pacer.windows[0]
    assert f"{count}/{period:g} s" in line and "of the configured 20/1 s, 100/10 s" in line
    fresh = RateLimitMiddleware(dc.RateLimit(windows=[(20, 1.0)]))
    assert pace_summary(dc.Pacer(fresh), "poll") == []
