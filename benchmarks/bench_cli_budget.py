"""Command-line runs on one key, back to back and in parallel: the shared budget file.

Each run is the command as a user types it, ``digicert-async cancel IDS --note ...
--base-url URL`` (``python -m digicert_async``, a process of its own), with the key in
``DIGICERT_API_KEY`` and a fresh ``XDG_STATE_HOME`` per case. The server is the fake that
``digicert-async fake-server`` serves, ``FakeCertCentral`` with its defaults: DigiCert's
windows (100 per 5 s, 1000 per 3 min) and a 5 s block after an excess, in a process of
its own (``_fake_process``) so that its request log and 429 count can be read. Each case
runs on a fresh fake holding 2 x N pending orders; each run cancels N of them (one PUT
each).

Cases: two runs back to back (the second starts as the first exits) and two in parallel,
each with the shared budget (the default) and with ``--no-shared-budget`` (each process
alone, as before). Figures per run: wall time (process start to exit, Python's start-up
included), its 429s and outcomes, and its span at the server against the least the windows
allow. Back to back, the span runs from the run's first arrival to its last and the least
is the greedy schedule of its N sends from that first arrival, counting every request the
fake had seen before; in parallel both run from the pair's first arrival, and the least is
the greedy schedule of both runs' 2 x N sends, which the run that ends last is held to.

Part 2: the cost of one shared step, ``reserve()`` then ``release()`` on the SQLite
backend (DigiCert's windows, a clock moving 0.2 s per step so ~900 slots stay in the
3-minute window) against the in-process backend.

    python benchmarks/bench_cli_budget.py [--quick]
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import attrs
from _common import header, parse_args, table, verdict
from _fake_process import FakeProcess

import digicert_async as dc
from digicert_async._ratelimit import InMemoryLimiterBackend, SqliteKeyLimiter

WINDOWS = ((100, 5.0), (1000, 180.0))  # DigiCert's, the fake's default
BLOCK_SECONDS = 5.0  # the fake's default
TARGET_RATIO = 1.15
_ORDER_ID = re.compile(r"/order/certificate/(\d+)/")


@attrs.frozen
class RunResult:
    case: str
    budget: str
    run: int
    wall: float
    span: float
    least: float
    refused: int
    canceled: int
    code: int


def least_after(history: list[float], start: float, count: int) -> float:
    """The least span of ``count`` sends from ``start`` on, given the sends the server
    saw before (``history``, ascending): each goes at the earliest time at which every
    window holds fewer than its count."""
    times = list(history)
    for _ in range(count):
        t = max(start, times[-1]) if times else start
        for limit, period in WINDOWS:
            if len(times) >= limit:
                t = max(t, times[-limit] + period)
        times.append(t)
    return times[-1] - start if count else 0.0


async def cancel_run(
    ids: list[int], fake: FakeProcess, state_home: str, shared: bool, folder: Path, name: str
) -> tuple[float, float, float, int, str]:
    ids_file = folder / f"{name}.txt"
    ids_file.write_text("".join(f"{i}\n" for i in ids))
    env = {**os.environ, "DIGICERT_API_KEY": fake.api_key, "XDG_STATE_HOME": state_home}
    args = ["cancel", str(ids_file), "--note", "benchmark", "--base-url", fake.base_url]
    if not shared:
        args.append("--no-shared-budget")
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "digicert_async", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await process.communicate()
    ended = time.monotonic()
    canceled = out.decode().count('"outcome": "canceled"')
    assert process.returncode is not None
    return started, ended, float(canceled), process.returncode, err.decode()


async def run_case(case: str, shared: bool, per_run: int) -> list[RunResult]:
    async with FakeProcess(
        pending=2 * per_run, rate_limits=WINDOWS, block_seconds=BLOCK_SECONDS
    ) as fake:
        ids = sorted(await fake.ids("pending"))
        batches = [ids[:per_run], ids[per_run:]]
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            home = str(folder / "state")

            def go(index: int) -> asyncio.Future[tuple[float, float, float, int, str]]:
                return asyncio.ensure_future(
                    cancel_run(batches[index], fake, home, shared, folder, f"run{index + 1}")
                )

            if case == "back to back":
                outcomes = [await go(0), await go(1)]
            else:
                outcomes = list(await asyncio.gather(go(0), go(1)))
        log = await fake.log()
    budget = "shared (default)" if shared else "--no-shared-budget"
    seen = sorted(t for _, _, t, _ in log)
    together = case == "in parallel"
    results = []
    for index, (started, ended, canceled, code, err) in enumerate(outcomes):
        mine = {str(i) for i in batches[index]}
        rows = [(t, s) for _, path, t, s in log if _run_of(path) in mine]
        arrivals = sorted(t for t, _ in rows)
        # Back to back: from this run's first arrival, after what the fake saw before.
        # In parallel: from the pair's first arrival, both runs' requests to place.
        first = seen[0] if together else arrivals[0]
        earlier = [t for t in seen if t < first]
        least = least_after(earlier, first, 2 * per_run if together else per_run)
        if code != 0:
            print(f"   {case}, {budget}, run {index + 1} exited {code}: {err.strip()[-300:]}")
        refused = sum(1 for _, status in rows if status == 429)
        span = arrivals[-1] - first
        wall = ended - started
        results.append(
            RunResult(case, budget, index + 1, wall, span, least, refused, int(canceled), code)
        )
    if together:  # the least is the pair's: only the run that ended last is held to it
        last = max(results, key=lambda r: r.span)
        results = [r if r is last else attrs.evolve(r, least=0.0) for r in results]
    return results


def _row(r: RunResult, per_run: int) -> list[object]:
    ratio = f"{r.span / r.least:.3f}x" if r.least else "-"
    return [
        r.case, r.budget, r.run, f"{r.wall:.2f} s", f"{r.span:.2f} s", f"{r.least:.2f} s",
        ratio, r.refused, f"{r.canceled}/{per_run}", r.code,
    ]  # fmt: skip


def _run_of(path: str) -> str | None:
    found = _ORDER_ID.search(path)
    return found.group(1) if found else None


async def step_cost(steps: int) -> tuple[float, float]:
    """Median µs of reserve()+release() on the SQLite backend and in process."""
    clock = [1_700_000_000.0]

    def now() -> float:
        return clock[0]

    limit = dc.RateLimit(windows=WINDOWS)
    memory = InMemoryLimiterBackend.from_rate_limit(limit, now)
    with tempfile.TemporaryDirectory() as scratch:
        factory = dc.SqliteLimiterBackend(Path(scratch) / "budget.sqlite3")
        shared = SqliteKeyLimiter(factory, "k", limit, clock=now, wall_clock=now)
        timings: dict[str, list[float]] = {"sqlite": [], "memory": []}
        try:
            for backend, name in ((shared, "sqlite"), (memory, "memory")):
                clock[0] = 1_700_000_000.0
                for _ in range(steps):
                    clock[0] += 0.2
                    started = time.perf_counter()
                    taken = await backend.reserve()
                    assert taken.wait == 0.0
                    await backend.release(taken)
                    timings[name].append(time.perf_counter() - started)
        finally:
            await shared.aclose()
    return (
        statistics.median(timings["sqlite"]) * 1e6,
        statistics.median(timings["memory"]) * 1e6,
    )


async def main(quick: bool) -> None:
    per_run = 60 if quick else 150
    header("bench_cli_budget: two CLI runs on one key, the shared budget file", quick)
    print(
        f"   each run: digicert-async cancel of {per_run} pending orders (one PUT each),"
        f" default options; fake: DigiCert's windows {list(WINDOWS)}, block {BLOCK_SECONDS:g} s,"
        " fresh per case; least: the greedy schedule (see the module's doc)"
    )
    print()
    results: list[RunResult] = []
    for case in ("back to back", "in parallel"):
        for shared in (True, False):
            results += await run_case(case, shared, per_run)
    rows = [_row(r, per_run) for r in results]
    table(
        ["case", "budget", "run", "wall", "span at server", "least span", "/ least",
         "429s", "canceled", "exit"],
        rows,
    )  # fmt: skip
    for case in ("back to back", "in parallel"):
        for budget in ("shared (default)", "--no-shared-budget"):
            pair = [r for r in results if r.case == case and r.budget == budget]
            both = max(r.wall for r in pair) if case == "in parallel" else sum(r.wall for r in pair)
            print(f"   {case}, {budget}: both runs done in {both:.2f} s (wall)")
    shared_runs = [r for r in results if r.budget == "shared (default)"]
    no_429 = all(r.refused == 0 for r in shared_runs)
    worst = max(r.span / r.least for r in shared_runs if r.least)
    done = all(r.canceled == per_run and r.code == 0 for r in results)
    print()
    print(f"target 0 x 429 with the shared budget: {verdict(no_429)}")
    print(
        f"target span <= {TARGET_RATIO}x the least the windows allow (shared runs whose"
        f" least is not 0): worst {worst:.3f}x -> {verdict(worst <= TARGET_RATIO)}"
    )
    print(f"every order canceled, every run exit 0: {verdict(done)}")

    steps = 500 if quick else 3000
    sqlite_us, memory_us = await step_cost(steps)
    print()
    table(
        ["measurement", "figure"],
        [
            [f"reserve + release, SQLite backend (median of {steps})", f"{sqlite_us:.0f} µs"],
            [f"reserve + release, in-process backend (median of {steps})", f"{memory_us:.1f} µs"],
        ],
    )


if __name__ == "__main__":
    asyncio.run(main(parse_args(__doc__ or "").quick))
