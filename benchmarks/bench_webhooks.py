"""Pushes against interval polling: 10,000 orders issuing over time.

A fake in its own process holds 10,000 pending orders (their last change backdated a
day). After ``poll_orders``' first look, the benchmark plays DigiCert: every 0.5 s it
issues the next 1/40 of the orders on the fake, and, in the push run, POSTs a
``certificate_issued`` event for each of them to a ``WebhookReceiver`` on loopback (with
the secret, 20 at a time). The same poll (``until="issued"``, interval 5 s, concurrency
10, no client-side rate limit) runs once with ``events=receiver`` and once without.

Reported per run: the requests the poll sent after its first look (from the fake's log:
status-changes listings and order reads), the time from each order's issuance (the
moment the fake confirmed it) to the poll's update for it (median, 95th percentile,
maximum), and the least time DigiCert's windows (100 per 5 s, 1000 per 3 min) would need
for those requests.

    python benchmarks/bench_webhooks.py [--quick]

``--quick``: 1,000 orders.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp
from _common import header, least_possible, parse_args, table
from _fake_process import FakeProcess
from aiohttp import web

import digicert_async as dc

ORDERS = 10_000
QUICK_ORDERS = 1_000
GROUPS = 40
EVERY = 0.5  # seconds between two groups issued
INTERVAL = 5.0
CONCURRENCY = 10
PUSHES_AT_ONCE = 20
SECRET = "benchmark-webhook-secret-0123456789abcdef"
DIGICERT_WINDOWS = ((100, 5.0), (1000, 180.0))


async def _serve(receiver: dc.WebhookReceiver) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/digicert", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/digicert"


async def _push(session: aiohttp.ClientSession, url: str, ids: list[int]) -> None:
    gate = asyncio.Semaphore(PUSHES_AT_ONCE)

    async def one(order_id: int) -> None:
        event = {"event": "certificate_issued", "data": {"order_id": order_id}}
        async with gate, session.post(url, json=event, headers={"X-WEBHOOK-KEY": SECRET}) as r:
            assert r.status == 200, r.status

    await asyncio.gather(*(one(i) for i in ids))


async def run(count: int, pushed: bool) -> dict[str, object]:
    receiver = dc.WebhookReceiver(secret=SECRET, queue_size=count) if pushed else None
    runner, url = await _serve(receiver) if receiver is not None else (None, "")
    async with (
        FakeProcess(pending=count, pending_age=86400.0) as fake,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=PUSHES_AT_ONCE)) as session,
    ):
        ids = await fake.ids()
        groups = [ids[g::GROUPS] for g in range(GROUPS)]
        issued_at: dict[int, float] = {}
        reported_at: dict[int, float] = {}
        first_look_done = asyncio.Event()
        client = dc.CertCentralClient(
            fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
        )

        async def consume() -> None:
            seen = 0
            async for update in dc.poll_orders(
                client, ids, until="issued", interval=INTERVAL, concurrency=CONCURRENCY,
                events=receiver,
            ):  # fmt: skip
                if update.previous_status is None:
                    seen += 1
                    if seen == count:
                        first_look_done.set()
                elif update.status == "issued":
                    reported_at[update.order_id] = time.monotonic()

        async with client:
            started = time.monotonic()
            poll = asyncio.ensure_future(consume())
            await first_look_done.wait()
            await fake.clear()
            for group in groups:
                await fake.set_status(group, "issued")
                now = time.monotonic()
                issued_at.update(dict.fromkeys(group, now))
                if pushed:
                    await _push(session, url, group)
                await asyncio.sleep(EVERY)
            await poll
            elapsed = time.monotonic() - started
        log = await fake.log()
    if runner is not None:
        await runner.cleanup()
    latencies = sorted(reported_at[i] - issued_at[i] for i in ids)
    changes = sum(path.endswith("/status-changes") for _, path, _, _ in log)
    return {
        "mode": "pushes + interval" if pushed else "interval only",
        "requests": len(log),
        "status_changes": changes,
        "reads": len(log) - changes,
        "median_s": statistics.median(latencies),
        "p95_s": latencies[int(len(latencies) * 0.95) - 1],
        "max_s": latencies[-1],
        "digicert_min_s": least_possible(len(log), DIGICERT_WINDOWS),
        "wall_s": elapsed,
        "dropped": 0 if receiver is None else receiver.counts["dropped"],
    }


async def main() -> None:
    args = parse_args(__doc__ or "")
    count = QUICK_ORDERS if args.quick else ORDERS
    header(f"pushes vs interval polling, {count:,} orders issuing over time", args.quick)
    print(
        f"{count:,} pending orders, issued in {GROUPS} groups every {EVERY:g} s;"
        f" poll interval {INTERVAL:g} s, concurrency {CONCURRENCY}\n"
    )
    rows = []
    for pushed in (False, True):
        result = await run(count, pushed)
        rows.append(
            [
                result["mode"],
                result["requests"],
                result["status_changes"],
                result["reads"],
                f"{result['median_s']:.3f}",
                f"{result['p95_s']:.3f}",
                f"{result['max_s']:.3f}",
                f"{result['digicert_min_s']:.0f}",
                f"{result['wall_s']:.1f}",
                result["dropped"],
            ]
        )
    table(
        ["run", "requests after first look", "status-changes", "order reads",
         "issued→reported median s", "p95 s", "max s", "least s at DigiCert's windows",
         "wall s", "pushes dropped"],
        rows,
    )  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
