"""Replace a fleet under DigiCert's rate limit: ``reissue_orders`` of 1,000 issued orders,
then ``download_certificates`` of the 1,000.

DigiCert's default windows (100 per 5 s, 1000 per 3 min) scaled in time x0.1 to
``[(100, 0.5 s), (1000, 18.0 s)]``, the same on the client (``RateLimit(windows=...)``)
and on the fake (which blocks the key 0.5 s, DigiCert's unknown block scaled alike, after
an excess). The jobs make 3 requests per order: the reissue job reads the order (its
status, and the names and hash the reissue keeps) and POSTs the reissue; the download is
one GET. So 3,000 requests, against the least time the windows allow for 3,000.

The fake's lifecycle clock is stopped, so the reissued orders stay ``reissue_pending``
and the download gets each order's current certificate: the wait for DigiCert to issue
(minutes, on DigiCert's side) is not the client's cost and is left out; the requests the
client makes are the same. For several ``concurrency`` values, each on a fresh fake
holding 1,000 issued orders: elapsed versus the least possible time (target <= 1.05x),
the 429s the server sent (target 0), and whether every id was reported once, reissued
once (checked against the fake's state) and downloaded. ``--quick`` runs 300 orders
(900 requests, within the first 1000-request window) at one concurrency.

    python benchmarks/bench_fleet.py [--quick]
"""

from __future__ import annotations

import asyncio
import time

import attrs
from _common import header, least_possible, parse_args, table, verdict
from _fake_process import FakeProcess

import digicert_async as dc
from digicert_async.bulk import ReissueOutcome, download_certificates, reissue_orders

TIME_SCALE = 0.1
DIGICERT_WINDOWS: tuple[tuple[int, float], ...] = ((100, 5.0), (1000, 180.0))
DIGICERT_BLOCK = 5.0  # the fake's default; DigiCert documents none
WINDOWS = tuple((count, period * TIME_SCALE) for count, period in DIGICERT_WINDOWS)
BLOCK_SECONDS = DIGICERT_BLOCK * TIME_SCALE
ORDERS = 1000
QUICK_ORDERS = 300
REQUESTS_PER_ORDER = 3  # the reissue job's read and POST, the download's GET
TARGET_RATIO = 1.05
SAFETY_MARGIN = dc.RateLimit().safety_margin  # the default

# A CSR the client's check takes (a PEM block of one DER SEQUENCE): the fake reads no
# more of it, and a real one would add nothing to what is measured.
CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n"


@attrs.define
class Run:
    concurrency: int
    elapsed: float
    reissue_elapsed: float
    sent: int
    server_429: int
    reported: int
    reissued: int
    other_outcomes: dict[str, int]
    pending_on_server: int
    downloaded: int
    complete: bool


async def run(concurrency: int, orders: int) -> Run:
    async with FakeProcess(
        pending=orders, rate_limits=WINDOWS, block_seconds=BLOCK_SECONDS
    ) as fake:
        ids = await fake.ids()
        assert len(ids) == orders
        await fake.set_status(ids, "issued")  # each gets its certificate (untimed)
        await fake.clear()
        client = dc.CertCentralClient(
            fake.api_key,
            base_url=fake.base_url,
            rate_limit=dc.RateLimit(windows=WINDOWS, safety_margin=SAFETY_MARGIN),
        )
        async with client:
            started = time.perf_counter()
            report = await reissue_orders(client, dict.fromkeys(ids, CSR), concurrency=concurrency)
            reissue_elapsed = time.perf_counter() - started
            reissued = report.ids(ReissueOutcome.REISSUED)
            downloaded = 0
            async for item in download_certificates(client, reissued, concurrency=concurrency):
                if item.data is not None and item.data.startswith(b"-----BEGIN CERTIFICATE"):
                    downloaded += 1
            elapsed = time.perf_counter() - started
        stats = await fake.stats()
        pending_on_server = len(await fake.ids("reissue_pending"))
    counts = report.counts
    return Run(
        concurrency,
        elapsed,
        reissue_elapsed,
        stats["requests"],
        stats["rate_limited"],
        len(report.results),
        counts[ReissueOutcome.REISSUED],
        {str(k): v for k, v in counts.items() if v and k is not ReissueOutcome.REISSUED},
        pending_on_server,
        downloaded,
        report.complete and [r.order_id for r in report.results] == ids,
    )


async def main(quick: bool) -> None:
    levels = (50,) if quick else (20, 50, 100)
    orders = QUICK_ORDERS if quick else ORDERS
    header(
        f"bench_fleet: reissue_orders + download_certificates of {orders:,} issued orders", quick
    )
    total = orders * REQUESTS_PER_ORDER
    best = least_possible(total, WINDOWS)
    floor = least_possible(total, [(c, p * (1 + SAFETY_MARGIN)) for c, p in WINDOWS])
    print(
        f"   {orders} issued orders, {REQUESTS_PER_ORDER} requests each (GET the order, POST"
        f" .../reissue, GET .../download/order/...: {total} in all); windows {list(WINDOWS)}"
        f" (DigiCert's x{TIME_SCALE:g} in time) on fake and client, fake block"
        f" {BLOCK_SECONDS:g} s; client safety_margin {SAFETY_MARGIN}, other RateLimit and"
        " RetryPolicy settings default; fresh fake per run"
    )
    print(
        f"   least possible: {best:.3f} s (greedy schedule); with the client's safety"
        f" margin the schedule itself takes {floor:.3f} s ({floor / best:.3f}x)"
    )
    print()
    runs = [await run(level, orders) for level in levels]
    rows = [
        [
            r.concurrency,
            f"{r.elapsed:.3f} s",
            f"{r.elapsed / best:.3f}x",
            f"{r.reissue_elapsed:.3f} s",
            r.sent,
            r.server_429,
            r.reported,
            r.reissued,
            r.other_outcomes or "-",
            r.pending_on_server,
            r.downloaded,
            r.complete,
        ]
        for r in runs
    ]
    table(
        [
            "concurrency",
            "elapsed",
            "/ least",
            "of it reissue",
            "requests sent",
            "429s (server)",
            "ids in report",
            "reissued (report)",
            "other outcomes",
            "reissue_pending (fake)",
            "downloaded",
            "complete",
        ],
        rows,
    )
    worst = max(r.elapsed / best for r in runs)
    no_429 = all(r.server_429 == 0 for r in runs)
    accounted = all(
        r.reported == r.reissued == r.pending_on_server == r.downloaded == orders
        and r.sent == total
        and r.complete
        for r in runs
    )
    print()
    print(
        f"target elapsed <= {TARGET_RATIO}x least: worst {worst:.3f}x"
        f" -> {verdict(worst <= TARGET_RATIO)}"
    )
    print(f"target 0 x 429: {verdict(no_429)}")
    print(
        f"every id reported once, {orders} reissued once (fake), {orders} downloaded,"
        f" {total} requests: {verdict(accounted)}"
    )


if __name__ == "__main__":
    asyncio.run(main(parse_args(__doc__ or "").quick))
