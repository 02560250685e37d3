"""Bulk cancel under DigiCert's rate limit: ``cancel_orders`` of 1,000 pending orders.

DigiCert's default windows (100 per 5 s, 1000 per 3 min) scaled in time x0.1 to
``[(100, 0.5 s), (1000, 18.0 s)]``, the same on the client (``RateLimit(windows=...)``)
and on the fake (which blocks the key 0.5 s, DigiCert's unknown block scaled alike,
after an excess). For several ``concurrency`` values, each on a fresh fake holding 1,000
pending orders: elapsed versus the least possible time (computed from the windows;
target <= 1.05x), the 429s the server sent (target 0), and whether the report accounts
for all 1,000 ids with 1,000 canceled (checked against the fake's state too). Without
``--quick`` a last run repeats concurrency 20 at DigiCert's real time scale (x1, about
46 s), for reference: the client's safety margin is a fraction of each window, so the
time scale changes how much send-to-arrival skew it absorbs.

    python benchmarks/bench_bulk_cancel.py [--quick]
"""

from __future__ import annotations

import asyncio
import time

import attrs
from _common import header, least_possible, parse_args, table, verdict
from _fake_process import FakeProcess

import digicert_async as dc
from digicert_async.bulk import CancelOutcome, cancel_orders

TIME_SCALE = 0.1
DIGICERT_WINDOWS: tuple[tuple[int, float], ...] = ((100, 5.0), (1000, 180.0))
DIGICERT_BLOCK = 5.0  # the fake's default; DigiCert documents none
WINDOWS = tuple((count, period * TIME_SCALE) for count, period in DIGICERT_WINDOWS)
BLOCK_SECONDS = DIGICERT_BLOCK * TIME_SCALE
ORDERS = 1000
TARGET_RATIO = 1.05
SAFETY_MARGIN = dc.RateLimit().safety_margin  # the default


@attrs.define
class Run:
    scale: float
    concurrency: int
    elapsed: float
    sent: int
    server_429: int
    reported: int
    canceled: int
    other_outcomes: dict[str, int]
    canceled_on_server: int
    complete: bool


async def run(concurrency: int, scale: float = TIME_SCALE) -> Run:
    windows = tuple((count, period * scale) for count, period in DIGICERT_WINDOWS)
    async with FakeProcess(
        pending=ORDERS, rate_limits=windows, block_seconds=DIGICERT_BLOCK * scale
    ) as fake:
        ids = await fake.ids()
        assert len(ids) == ORDERS
        client = dc.CertCentralClient(
            fake.api_key,
            base_url=fake.base_url,
            rate_limit=dc.RateLimit(windows=windows, safety_margin=SAFETY_MARGIN),
        )
        async with client:
            started = time.perf_counter()
            report = await cancel_orders(
                client, ids, note="benchmark: decommissioned", concurrency=concurrency
            )
            elapsed = time.perf_counter() - started
        stats = await fake.stats()
        canceled_on_server = len(await fake.ids("canceled"))
    counts = report.counts
    return Run(
        scale,
        concurrency,
        elapsed,
        stats["requests"],
        stats["rate_limited"],
        len(report.results),
        counts[CancelOutcome.CANCELED],
        {str(k): v for k, v in counts.items() if v and k is not CancelOutcome.CANCELED},
        canceled_on_server,
        report.complete and sorted(r.order_id for r in report.results) == sorted(ids),
    )


async def main(quick: bool) -> None:
    levels = (50,) if quick else (20, 50, 100)
    header("bench_bulk_cancel: cancel_orders of 1,000 pending orders", quick)
    best = least_possible(ORDERS, WINDOWS)
    floor = least_possible(ORDERS, [(c, p * (1 + SAFETY_MARGIN)) for c, p in WINDOWS])
    print(
        f"   {ORDERS} pending orders, one PUT .../status each; windows {list(WINDOWS)}"
        f" (DigiCert's x{TIME_SCALE:g} in time) on fake and client, fake block"
        f" {BLOCK_SECONDS:g} s; client safety_margin {SAFETY_MARGIN}, other RateLimit and"
        " RetryPolicy settings default (cool-down 1 s, not scaled); fresh fake per run"
    )
    print(
        f"   least possible: {best:.3f} s (greedy schedule); with the client's safety"
        f" margin the schedule itself takes {floor:.3f} s ({floor / best:.3f}x)"
    )
    if not quick:
        print(
            "   last row: the same at DigiCert's real time scale (x1), for reference"
            f" (least possible {least_possible(ORDERS, DIGICERT_WINDOWS):.3f} s)"
        )
    print()
    runs = [await run(level) for level in levels]
    reference = [] if quick else [await run(20, scale=1.0)]
    rows = []
    for r in [*runs, *reference]:
        windows = [(count, period * r.scale) for count, period in DIGICERT_WINDOWS]
        least = least_possible(ORDERS, windows)
        rows.append(
            [
                f"x{r.scale:g}",
                r.concurrency,
                f"{r.elapsed:.3f} s",
                f"{r.elapsed / least:.3f}x",
                r.sent,
                r.server_429,
                r.reported,
                r.canceled,
                r.other_outcomes or "-",
                r.canceled_on_server,
                r.complete,
            ]
        )
    table(
        [
            "time scale",
            "concurrency",
            "elapsed",
            "/ least",
            "requests sent",
            "429s (server)",
            "ids in report",
            "canceled (report)",
            "other outcomes",
            "canceled (fake)",
            "complete",
        ],
        rows,
    )
    worst = max(r.elapsed / best for r in runs)
    no_429 = all(r.server_429 == 0 for r in runs)
    accounted = all(
        r.reported == ORDERS and r.canceled == ORDERS and r.canceled_on_server == ORDERS
        for r in [*runs, *reference]
    )
    print()
    print(
        f"target elapsed <= {TARGET_RATIO}x least (x{TIME_SCALE:g} runs): worst {worst:.3f}x"
        f" -> {verdict(worst <= TARGET_RATIO)}"
    )
    print(f"target 0 x 429 (x{TIME_SCALE:g} runs): {verdict(no_429)}")
    print(f"every id reported once, {ORDERS} canceled (all runs): {verdict(accounted)}")


if __name__ == "__main__":
    asyncio.run(main(parse_args(__doc__ or "").quick))
