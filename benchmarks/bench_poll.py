"""Polling many orders: requests per interval, and the memory of polling 100,000 ids.

Part 1 - requests. 10,000 pending orders are watched for 3 intervals of 1 s; before each
interval 1% of them (100) turn ``issued`` on the fake. ``poll_orders`` (one listing to
start, then one status-changes request per interval plus a read of each order that
moved) is compared with per-order polling (read every unfinished order each interval),
both through the client, concurrency 10, on a fresh fake each with no rate limit. The
requests are counted from the fake's log. The pending orders' last status change is
backdated a day, so a status-changes listing holds only the orders that moved. For each
count the least time it needs under DigiCert's real windows (100 per 5 s, 1000 per
3 min) is computed from an empty window.

Part 2 - memory. A fake seeded with 100,000 orders (its mixed statuses: a third stay
unfinished); a fresh client process polls all 100,000 ids: the first look, then one
interval in which 1,000 orders turn ``issued``. Updates are counted and dropped. Reported:
the client process's peak RSS growth over its RSS just before polling (``ru_maxrss``), and
in a second fresh process the ``tracemalloc`` peak (target: well under 200 MB). The fake's
own seeding time and RSS are printed too.

    python benchmarks/bench_poll.py [--quick] [--memory-only]

``--memory-only`` runs part 2 alone (what comparing two versions of the library needs).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import time
import tracemalloc
from typing import Any

import attrs
from _common import header, least_possible, table, verdict
from _fake_process import FakeControl, FakeProcess, max_rss_mb, rss_mb

import digicert_async as dc
from digicert_async.bulk import poll_orders

INTERVAL = 1.0
INTERVALS = 3
FLIP_FRACTION = 0.01
CONCURRENCY = 10
DIGICERT_WINDOWS = ((100, 5.0), (1000, 180.0))
MEMORY_TARGET_MB = 200.0
STATUS_CHANGES = "/status-changes"


@attrs.define
class Phase:
    name: str
    requests: int
    status_changes: int
    seconds: float


def _flip_groups(ids: list[int], count: int) -> list[list[int]]:
    chosen = random.Random(7).sample(ids, count * INTERVALS)
    return [chosen[i * count : (i + 1) * count] for i in range(INTERVALS)]


async def _wait_for(condition: asyncio.Condition, check: Any, timeout: float) -> None:
    async with condition:
        await asyncio.wait_for(condition.wait_for(check), timeout)


async def with_poll_orders(count: int) -> list[Phase]:
    async with FakeProcess(pending=count, pending_age=86400.0) as fake:
        ids = await fake.ids()
        groups = _flip_groups(ids, int(count * FLIP_FRACTION))
        client = dc.CertCentralClient(
            fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
        )
        seen = issued = 0
        changed = asyncio.Condition()
        marks: list[float] = []

        async def consume() -> None:
            nonlocal seen, issued
            async for update in poll_orders(
                client, ids, interval=INTERVAL, concurrency=CONCURRENCY
            ):
                async with changed:
                    seen += 1
                    issued += update.status == "issued"
                    changed.notify_all()

        async with client:
            await fake.clear()
            marks.append(time.monotonic())
            consumer = asyncio.ensure_future(consume())
            await _wait_for(changed, lambda: seen >= count, 300.0)
            marks.append(time.monotonic())
            flipped = 0
            for group in groups:
                await fake.set_status(group, "issued")
                flipped += len(group)
                await _wait_for(changed, lambda goal=flipped: issued >= goal, 300.0)
                marks.append(time.monotonic())
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)
        log = await fake.log()

    # An interval runs from one status-changes request to the next; the first look is
    # everything before the first one.
    starts = [i for i, (_, path, _, _) in enumerate(log) if path.endswith(STATUS_CHANGES)]
    bounds = [0, *starts, len(log)]
    phases = []
    for index in range(len(bounds) - 1):
        rows = log[bounds[index] : bounds[index + 1]]
        if not rows:
            continue
        name = "first look" if index == 0 else f"interval {index}"
        seconds = (marks[index + 1] - marks[index]) if index + 1 < len(marks) else 0.0
        phases.append(
            Phase(
                name,
                len(rows),
                sum(path.endswith(STATUS_CHANGES) for _, path, _, _ in rows),
                seconds,
            )
        )
    return phases


async def with_per_order_reads(count: int) -> list[Phase]:
    async with FakeProcess(pending=count, pending_age=86400.0) as fake:
        ids = await fake.ids()
        groups = _flip_groups(ids, int(count * FLIP_FRACTION))
        client = dc.CertCentralClient(
            fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
        )
        unfinished = list(ids)
        phases = []

        async def read_all(name: str, started: float) -> None:
            nonlocal unfinished
            await fake.clear()
            pending = iter(list(unfinished))
            done: set[int] = set()

            async def worker() -> None:
                for order_id in pending:
                    order = await client.orders.get(order_id)
                    if order.status in dc.TERMINAL_STATUSES:
                        done.add(order_id)

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            unfinished = [i for i in unfinished if i not in done]
            requests = (await fake.stats())["requests"]
            phases.append(Phase(name, requests, 0, time.monotonic() - started))

        async with client:
            await read_all("first look", time.monotonic())
            for number, group in enumerate(groups, 1):
                started = time.monotonic()
                await fake.set_status(group, "issued")
                await asyncio.sleep(INTERVAL)
                await read_all(f"interval {number}", started)
        assert len(unfinished) == count - sum(len(g) for g in groups)
    return phases


# --------------------------------------------------------------------------- memory


def memory_child(base_url: str, api_key: str, control_url: str, trace: bool) -> dict[str, Any]:
    """Runs in a fresh process: poll every order of the fake, measure this process."""
    return asyncio.run(_memory_poll(base_url, api_key, control_url, trace))


async def _memory_poll(
    base_url: str, api_key: str, control_url: str, trace: bool
) -> dict[str, Any]:
    async with FakeControl(control_url) as control:
        ids = await control.ids()
        client = dc.CertCentralClient(
            api_key, base_url=base_url, rate_limit=dc.RateLimit.disabled()
        )
        to_flip: list[int] = []
        flip_count = len(ids) // 100
        seen = issued = 0
        changed = asyncio.Condition()

        async def consume() -> None:
            nonlocal seen, issued
            async for update in poll_orders(
                client, ids, interval=INTERVAL, concurrency=CONCURRENCY
            ):
                async with changed:
                    seen += 1
                    if update.status == "pending" and len(to_flip) < flip_count:
                        to_flip.append(update.order_id)
                    issued += update.previous_status is not None and update.status == "issued"
                    changed.notify_all()

        async with client:
            rss_before = rss_mb()
            peak_before = max_rss_mb()
            if trace:
                tracemalloc.start()
            started = time.perf_counter()
            consumer = asyncio.ensure_future(consume())
            await _wait_for(changed, lambda: seen >= len(ids), 600.0)
            first_look = time.perf_counter() - started
            await control.set_status(to_flip, "issued")
            await _wait_for(changed, lambda: issued >= len(to_flip), 600.0)
            elapsed = time.perf_counter() - started
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)
            traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
            if trace:
                tracemalloc.stop()
            peak_after = max_rss_mb()
    return {
        "ids": len(ids),
        "flipped": len(to_flip),
        "updates": seen,
        "first_look_s": first_look,
        "elapsed_s": elapsed,
        "rss_before_mb": rss_before,
        "peak_growth_mb": peak_after - max(rss_before, 0.0),
        "peak_before_mb": peak_before,
        "traced_peak_mb": traced_peak,
    }


async def measure_memory(count: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    started = time.perf_counter()
    async with FakeProcess(orders=count) as fake:
        fake_ready = time.perf_counter() - started
        fake_info = {
            "orders": count,
            "seed_s": fake.startup["seed_seconds"],
            "ready_s": fake_ready,
            "rss_mb": fake.startup["rss_mb"],
        }
        context = multiprocessing.get_context("spawn")
        results = []
        loop = asyncio.get_running_loop()
        for trace in (False, True):
            with context.Pool(1) as pool:
                results.append(
                    await loop.run_in_executor(
                        None,
                        pool.apply,
                        memory_child,
                        (fake.base_url, fake.api_key, fake.control_url, trace),
                    )
                )
        fake_info["rss_after_mb"] = (await fake.stats())["max_rss_mb"]
    return fake_info, results


# --------------------------------------------------------------------------- report


async def main(quick: bool, memory_only: bool = False) -> None:
    count, memory_count = (1000, 10_000) if quick else (10_000, 100_000)
    header("bench_poll: polling many orders", quick)
    if not memory_only:
        await report_requests(count)
    await report_memory(memory_count)


async def report_requests(count: int) -> None:
    flips = int(count * FLIP_FRACTION)
    print(
        f"   part 1: {count:,} pending orders, {INTERVALS} intervals of {INTERVAL:g} s,"
        f" {flips} orders turn issued before each; concurrency {CONCURRENCY}; fake without"
        " rate limit, client RateLimit.disabled(); requests counted from the fake's log"
    )
    print()
    ours = await with_poll_orders(count)
    naive = await with_per_order_reads(count)
    rows = []
    for phase in ours:
        rows.append(
            [
                "poll_orders",
                phase.name,
                phase.requests,
                f"{phase.status_changes} status-changes + {phase.requests - phase.status_changes}",
                f"{phase.seconds:.2f} s" if phase.seconds else "-",
                f"{least_possible(phase.requests, DIGICERT_WINDOWS):,.1f} s",
            ]
        )
    for phase in naive:
        rows.append(
            [
                "per-order reads",
                phase.name,
                phase.requests,
                f"{phase.requests} order reads",
                f"{phase.seconds:.2f} s",
                f"{least_possible(phase.requests, DIGICERT_WINDOWS):,.1f} s",
            ]
        )
    table(
        [
            "way",
            "phase",
            "requests",
            "of which",
            "wall time here",
            "least at DigiCert's limits",
        ],
        rows,
    )
    ours_per = [p.requests for p in ours if p.name != "first look"]
    naive_per = [p.requests for p in naive if p.name != "first look"]
    print()
    print(
        f"requests per interval: poll_orders {ours_per}, per-order reads {naive_per}"
        f" ({sum(naive_per) / max(1, sum(ours_per)):.0f}x fewer with poll_orders)"
    )


async def report_memory(memory_count: int) -> None:
    print()
    print(
        f"   part 2: memory of polling {memory_count:,} ids (fake seeded with"
        f" orders={memory_count:,}); first look + 1 interval with 1% flipped; each"
        " measurement in a fresh client process (spawn)"
    )
    print()
    fake_info, results = await measure_memory(memory_count)
    table(
        [
            "measurement",
            "ids",
            "updates",
            "first look",
            "total",
            "client RSS before",
            "peak RSS growth",
            "tracemalloc peak",
        ],
        [
            [
                "tracemalloc on" if r["traced_peak_mb"] is not None else "RSS only",
                r["ids"],
                r["updates"],
                f"{r['first_look_s']:.1f} s",
                f"{r['elapsed_s']:.1f} s",
                f"{r['rss_before_mb']:.1f} MB",
                f"{r['peak_growth_mb']:.1f} MB"
                + ("" if r["traced_peak_mb"] is None else " (tracemalloc's own included)"),
                "-" if r["traced_peak_mb"] is None else f"{r['traced_peak_mb']:.1f} MB",
            ]
            for r in results
        ],
    )
    print()
    print(
        f"fake process: {fake_info['orders']:,} orders seeded in {fake_info['seed_s']:.1f} s"
        f" (ready in {fake_info['ready_s']:.1f} s), RSS {fake_info['rss_mb']:.0f} MB after"
        f" seeding, peak {fake_info['rss_after_mb']:.0f} MB"
    )
    untraced, traced = results
    worst = max(untraced["peak_growth_mb"], traced["traced_peak_mb"])
    print(
        f"target: polling {memory_count:,} ids well under {MEMORY_TARGET_MB:g} MB:"
        f" RSS growth {untraced['peak_growth_mb']:.1f} MB, tracemalloc peak"
        f" {traced['traced_peak_mb']:.1f} MB -> {verdict(worst < MEMORY_TARGET_MB / 2)}"
        ' ("well under" read as under half)'
    )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run (a smoke test)")
    parser.add_argument("--memory-only", action="store_true", help="part 2 alone")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    asyncio.run(main(arguments.quick, arguments.memory_only))
