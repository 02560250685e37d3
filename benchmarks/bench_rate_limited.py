"""Rate-limit-aware retry: many concurrent reads against rolling windows, versus naive ways.

300 order reads (``client.orders.get``) from 100 concurrent tasks against a fake whose
windows are DigiCert's shape scaled down, ``[(20, 1.0 s), (100, 10.0 s)]``: time x0.2
for the burst window. DigiCert does not say how long it blocks a key after an excess,
so every way runs against two blocks, each scaled the same way: 5 s (the length of the
burst window; x0.2 -> 1 s) and 10 s (-> 2 s). The client is given the same windows.
Reported: elapsed time, the least possible time (computed from the windows), their
ratio (target <= 1.15), the 429s the server sent and the errors. Side by side, on the
same workload and each on a fresh fake: raw aiohttp with ``asyncio.gather`` of every
request, and the "sleep a fixed 5 s on a 429, then retry" loop some peers use (x0.2 ->
1 s), which is close to the least time when its sleep matches the block and loses when
the block is longer.

    python benchmarks/bench_rate_limited.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import aiohttp
import attrs
from _common import header, least_possible, parse_args, table, verdict
from _fake_process import FakeProcess

import digicert_async as dc

WINDOWS: tuple[tuple[int, float], ...] = ((20, 1.0), (100, 10.0))
# The burst window is DigiCert's 100 per 5 s scaled to 20 per 1 s: time x0.2.
TIME_SCALE = 0.2
# How long DigiCert blocks a key after an excess is not documented: two guesses.
BLOCKS = (5.0 * TIME_SCALE, 10.0 * TIME_SCALE)
FIXED_SLEEP = 5.0 * TIME_SCALE
FIXED_SLEEP_MAX_TRIES = 200
TARGET_RATIO = 1.15


@attrs.define
class Outcome:
    name: str
    elapsed: float
    ok: int
    errors: int
    sent: int  # requests the server received
    server_429: int  # 429s the server sent for the windows
    note: str = ""


def _next_ids(ids: list[int]) -> Iterator[int]:
    return iter(ids)


async def run_client(count: int, tasks: int, block: float) -> Outcome:
    async with FakeProcess(orders=count, rate_limits=WINDOWS, block_seconds=block) as fake:
        ids = await fake.ids()
        seen_429 = 0
        retries = 0

        def on_response(event: dc.ResponseReceived) -> None:
            nonlocal seen_429
            seen_429 += event.status == 429

        def on_retry(event: dc.RetryScheduled) -> None:
            nonlocal retries
            retries += 1

        hooks = dc.Hooks(on_response=[on_response], on_retry=[on_retry])
        client = dc.CertCentralClient(
            fake.api_key,
            base_url=fake.base_url,
            rate_limit=dc.RateLimit(windows=WINDOWS),
            hooks=hooks,
        )
        ok = errors = 0
        pending = _next_ids(ids)

        async def worker() -> None:
            nonlocal ok, errors
            for order_id in pending:
                try:
                    await client.orders.get(order_id)
                except dc.DigiCertError:
                    errors += 1
                else:
                    ok += 1

        async with client:
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(tasks)))
            elapsed = time.perf_counter() - started
        stats = await fake.stats()
    return Outcome(
        "digicert-async (RateLimit = the windows)",
        elapsed,
        ok,
        errors,
        stats["requests"],
        stats["rate_limited"],
        f"client saw {seen_429} x 429, {retries} retries",
    )


async def run_raw_gather(count: int, block: float) -> Outcome:
    async with FakeProcess(orders=count, rate_limits=WINDOWS, block_seconds=block) as fake:
        ids = await fake.ids()
        headers = {"X-DC-DEVKEY": fake.api_key, "Accept": "application/json"}
        async with aiohttp.ClientSession() as session:

            async def read(order_id: int) -> bool:
                try:
                    async with session.get(
                        f"{fake.base_url}/order/certificate/{order_id}", headers=headers
                    ) as answer:
                        body = await answer.read()
                        if answer.status != 200:
                            return False
                        json.loads(body)
                        return True
                except aiohttp.ClientError:
                    return False

            started = time.perf_counter()
            results = await asyncio.gather(*(read(i) for i in ids))
            elapsed = time.perf_counter() - started
        stats = await fake.stats()
    ok = sum(results)
    return Outcome(
        "raw aiohttp, gather of all",
        elapsed,
        ok,
        len(results) - ok,
        stats["requests"],
        stats["rate_limited"],
        "no retry",
    )


async def run_fixed_sleep(count: int, tasks: int, block: float) -> Outcome:
    async with FakeProcess(orders=count, rate_limits=WINDOWS, block_seconds=block) as fake:
        ids = await fake.ids()
        headers = {"X-DC-DEVKEY": fake.api_key, "Accept": "application/json"}
        ok = errors = 0
        pending = _next_ids(ids)
        async with aiohttp.ClientSession() as session:

            async def worker() -> None:
                nonlocal ok, errors
                for order_id in pending:
                    for _ in range(FIXED_SLEEP_MAX_TRIES):
                        async with session.get(
                            f"{fake.base_url}/order/certificate/{order_id}", headers=headers
                        ) as answer:
                            body = await answer.read()
                            status = answer.status
                        if status == 429:
                            await asyncio.sleep(FIXED_SLEEP)
                            continue
                        if status == 200:
                            json.loads(body)
                            ok += 1
                        else:
                            errors += 1
                        break
                    else:
                        errors += 1

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(tasks)))
            elapsed = time.perf_counter() - started
        stats = await fake.stats()
    return Outcome(
        f"raw aiohttp, sleep {FIXED_SLEEP:g} s on 429 then retry",
        elapsed,
        ok,
        errors,
        stats["requests"],
        stats["rate_limited"],
        f"5 s x{TIME_SCALE:g}; up to {FIXED_SLEEP_MAX_TRIES} tries",
    )


async def main(quick: bool) -> None:
    count, tasks = (100, 50) if quick else (300, 100)
    header("bench_rate_limited: concurrent reads under rolling windows", quick)
    best = least_possible(count, WINDOWS)
    print(
        f"   {count} GETs /order/certificate/{{id}} from {tasks} tasks; fake and client"
        f" windows {list(WINDOWS)}, fake blocks {' or '.join(f'{b:g} s' for b in BLOCKS)}"
        f" after an excess (no Retry-After); client RateLimit safety_margin"
        f" {dc.RateLimit().safety_margin}, default RetryPolicy"
    )
    print(f"   least possible (greedy schedule of {count} sends): {best:.3f} s")
    print()
    outcomes: list[tuple[float, Outcome]] = []
    for block in BLOCKS:
        outcomes += [
            (block, await run_client(count, tasks, block)),
            (block, await run_raw_gather(count, block)),
            (block, await run_fixed_sleep(count, tasks, block)),
        ]
    rows = [
        [
            f"{block:g} s",
            o.name,
            f"{o.elapsed:.2f} s",
            f"{o.elapsed / best:.3f}x" + ("" if o.errors == 0 else " (incomplete)"),
            o.ok,
            o.errors,
            o.sent,
            o.server_429,
            o.note,
        ]
        for block, o in outcomes
    ]
    table(
        ["block", "way", "elapsed", "/ least", "ok", "errors", "sent", "429s (server)", "note"],
        rows,
    )
    print()
    for block, mine in outcomes[:: len(outcomes) // len(BLOCKS)]:
        ratio = mine.elapsed / best
        print(
            f"target (block {block:g} s): digicert-async elapsed <= {TARGET_RATIO}x least"
            f" possible: {ratio:.3f}x -> {verdict(ratio <= TARGET_RATIO)};"
            f" errors {mine.errors}, server 429s {mine.server_429}"
        )


if __name__ == "__main__":
    asyncio.run(main(parse_args(__doc__ or "").quick))
