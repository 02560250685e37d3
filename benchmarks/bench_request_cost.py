"""Per-request cost: order reads through the client versus raw aiohttp + json.loads.

N order reads with C concurrent workers, against one fake in a separate process with no
rate limit (``rate_limits=None``), the client with ``RateLimit.disabled()``. The raw way
does what a hand-written caller would: ``session.get`` with the key header, read the
body, ``json.loads``; a third way adds only what the client asks of aiohttp on every
call (its User-Agent, a per-attempt timeout, redirects off). The client also structures
the answer into an ``Order`` and runs its middleware (retry, rate limit, hooks). The
ways run alternately for a few rounds (the order flips every round); the medians are
reported: throughput, and the CPU time of the client process per request
(``time.process_time`` delta / N), judged by the median of the per-round ratios of the
client's CPU time to raw aiohttp's (target <= 1.15). The fake's CPU per request and the
share of CPU time the hypervisor stole from the VM during the measurements are printed
too: on a shared virtual machine they explain most of the spread between rounds.

A fourth way is the client with ``digicert_async.telemetry.opentelemetry_hooks()`` and no
OpenTelemetry SDK configured (the API's default providers, which are no-ops): every call
then builds its events and opens and ends no-op spans. Its CPU per request is compared
with the client's without hooks, per round (the telemetry's own cost), and with raw
aiohttp. It needs the ``otel`` extra; without it the way is left out.

    python benchmarks/bench_request_cost.py [--quick]

``--loop WAY N`` (``client`` or ``raw``) makes only N sequential reads that way after a
warm-up of 200, and prints nothing: a run to count instructions in, unaffected by the
machine's load. The instructions of one read are the difference of two such runs under
valgrind (``--tool=callgrind``; the fake is another process, not counted), divided by
the difference of their N.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import attrs
from _common import cpu_steal_seconds, header, table, verdict
from _fake_process import FakeProcess

import digicert_async as dc
from digicert_async._client import USER_AGENT

TARGET_CPU_RATIO = 1.15
ORDERS = 1000
CLIENT = "digicert-async"
RAW = "raw aiohttp + json.loads"
RAW_WITH_OPTIONS = "raw aiohttp + json.loads, the client's request options"
TELEMETRY = "digicert-async, OpenTelemetry hooks, no SDK (no-op providers)"


@attrs.define
class Measure:
    elapsed: float
    cpu: float  # client process CPU seconds
    server_cpu: float  # fake process CPU seconds
    steal: float  # CPU seconds the hypervisor took from the VM meanwhile (both cores)
    errors: int


async def measure(
    fake: FakeProcess, count: int, concurrency: int, read: Callable[[int], Awaitable[bool]]
) -> Measure:
    ids = itertools.cycle(range(100001, 100001 + ORDERS))
    budget = iter(range(count))
    errors = 0

    async def worker() -> None:
        nonlocal errors
        for _ in budget:
            if not await read(next(ids)):
                errors += 1

    await fake.clear()
    server_before = (await fake.stats())["cpu_s"]
    steal_before = cpu_steal_seconds()
    cpu_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    steal = cpu_steal_seconds() - steal_before
    server_cpu = (await fake.stats())["cpu_s"] - server_before
    return Measure(elapsed, cpu, server_cpu, steal, errors)


async def main(quick: bool, loop: tuple[str, int] | None = None) -> None:
    count, concurrency, rounds = (1000, 50, 3) if quick else (3000, 50, 15)
    if loop is None:
        header("bench_request_cost: order reads, client vs raw aiohttp", quick)
        print(
            f"   {count} GET /order/certificate/{{id}} per measurement, {concurrency}"
            f" concurrent workers, {rounds} rounds of each (alternating, order flipped every"
            f" round), medians; fake: {ORDERS} seeded orders, rate_limits=None;"
            f" client: RateLimit.disabled(), default RetryPolicy, no hooks"
        )
        print()
    async with FakeProcess(orders=ORDERS, rate_limits=None) as fake:
        client = dc.CertCentralClient(
            fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
        )
        traced = traced_client(fake)
        headers = {"X-DC-DEVKEY": fake.api_key, "Accept": "application/json"}
        order_url = fake.base_url + "/order/certificate/"
        async with client, aiohttp.ClientSession() as session:

            def client_reader(client: dc.CertCentralClient) -> Callable[[int], Awaitable[bool]]:
                async def via_client(order_id: int) -> bool:
                    try:
                        order = await client.orders.get(order_id)
                    except dc.DigiCertError:
                        return False
                    return order.id == order_id

                return via_client

            via_client = client_reader(client)

            def raw_reader(**options: Any) -> Callable[[int], Awaitable[bool]]:
                async def via_raw(order_id: int) -> bool:
                    try:
                        async with session.request(
                            "GET", order_url + str(order_id), **options
                        ) as answer:
                            body = await answer.read()
                            if answer.status != 200:
                                return False
                    except aiohttp.ClientError:
                        return False
                    return bool(json.loads(body)["id"] == order_id)

                return via_raw

            via_raw = raw_reader(headers=headers)
            # What the client asks of aiohttp on every call, with nothing of its own: a
            # User-Agent naming it, a per-attempt timeout, redirects off.
            via_raw_with_options = raw_reader(
                headers={**headers, "User-Agent": USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=client.timeout),
                allow_redirects=False,
            )

            ways = {
                CLIENT: via_client,
                RAW: via_raw,
                RAW_WITH_OPTIONS: via_raw_with_options,
            }
            if loop is not None:
                way, reads = loop
                read_one = ways[CLIENT if way == "client" else RAW]
                for number in range(200 + reads):  # sequential: the same work under any load
                    assert await read_one(100001 + number % ORDERS)
                return
            if traced is not None:
                await traced.__aenter__()
                ways[TELEMETRY] = client_reader(traced)
            for read in ways.values():  # warm-up: connections, caches, converter hooks
                await measure(fake, min(500, count), concurrency, read)
            results: dict[str, list[Measure]] = {name: [] for name in ways}
            for round_number in range(rounds):
                order = list(ways) if round_number % 2 == 0 else list(reversed(ways))
                for name in order:
                    results[name].append(await measure(fake, count, concurrency, ways[name]))
            if traced is not None:
                await traced.close()

    rows = []
    medians: dict[str, tuple[float, float]] = {}
    for name, measures in results.items():
        rate = statistics.median(count / m.elapsed for m in measures)
        cpu_us = statistics.median(m.cpu / count * 1e6 for m in measures)
        server_us = statistics.median(m.server_cpu / count * 1e6 for m in measures)
        busy = statistics.median(m.cpu / m.elapsed for m in measures)
        errors = sum(m.errors for m in measures)
        steal = sum(m.steal for m in measures) / sum(m.elapsed for m in measures) / 2
        medians[name] = (rate, cpu_us)
        rows.append(
            [
                name,
                f"{rate:,.0f}/s",
                f"{min(count / m.elapsed for m in measures):,.0f}"
                f"-{max(count / m.elapsed for m in measures):,.0f}",
                f"{cpu_us:.0f} µs",
                f"{busy:.0%}",
                f"{server_us:.0f} µs",
                f"{steal:.0%}",
                errors,
            ]
        )
    table(
        [
            "way",
            "throughput (median)",
            "range",
            "client CPU / request",
            "client CPU busy",
            "fake CPU / request",
            "CPU steal",
            "errors",
        ],
        rows,
    )
    client_rate, client_cpu = medians[CLIENT]
    raw_rate, raw_cpu = medians[RAW]
    options_cpu = medians[RAW_WITH_OPTIONS][1]
    mine, raw = results[CLIENT], results[RAW]
    # Judged within rounds: each round's client and raw measurements ran back to back,
    # so their ratio holds when the machine's speed drifts between rounds.
    per_round = [m.cpu / r.cpu for m, r in zip(mine, raw, strict=True)]
    cpu_ratio = statistics.median(per_round)
    rate_ratio = statistics.median(r.elapsed / m.elapsed for m, r in zip(mine, raw, strict=True))
    print()
    print(
        f"client CPU per request / raw, median of the per-round ratios: {cpu_ratio:.3f}"
        f" (target <= {TARGET_CPU_RATIO}) -> {verdict(cpu_ratio <= TARGET_CPU_RATIO)};"
        f" medians {client_cpu:.0f} µs vs {raw_cpu:.0f} µs raw (+{client_cpu - raw_cpu:.0f} µs),"
        f" of which the client's request options alone (raw aiohttp with them:"
        f" {options_cpu:.0f} µs) account for {options_cpu - raw_cpu:+.0f} µs;"
        f" throughput client/raw, per-round median {rate_ratio:.3f}"
        f" (medians {client_rate:,.0f}/s vs {raw_rate:,.0f}/s); per-round CPU ratios:"
        f" {', '.join(f'{ratio:.2f}' for ratio in per_round)}"
    )
    if TELEMETRY in results:
        report_telemetry(results[TELEMETRY], mine, raw)


def traced_client(fake: FakeProcess) -> dc.CertCentralClient | None:
    """The client with the OpenTelemetry hooks on the API's default (no-op) providers;
    None without the otel extra."""
    try:
        from opentelemetry import metrics, trace

        from digicert_async.telemetry import opentelemetry_hooks
    except ImportError:
        print(f"(no opentelemetry-api installed: the way {TELEMETRY!r} is left out)")
        return None
    tracer_provider = trace.get_tracer_provider()
    meter_provider = metrics.get_meter_provider()
    print(
        f"   OpenTelemetry: tracer provider {type(tracer_provider).__name__}, meter provider"
        f" {type(meter_provider).__name__} (no SDK configured)"
    )
    return dc.CertCentralClient(
        fake.api_key,
        base_url=fake.base_url,
        rate_limit=dc.RateLimit.disabled(),
        hooks=opentelemetry_hooks(),
    )


def report_telemetry(traced: list[Measure], plain: list[Measure], raw: list[Measure]) -> None:
    against_plain = [t.cpu / p.cpu for t, p in zip(traced, plain, strict=True)]
    against_raw = [t.cpu / r.cpu for t, r in zip(traced, raw, strict=True)]
    plain_raw = [p.cpu / r.cpu for p, r in zip(plain, raw, strict=True)]
    print(
        f"OpenTelemetry hooks, no SDK: client CPU per request / raw, median of the per-round"
        f" ratios: {statistics.median(against_raw):.3f} (without hooks:"
        f" {statistics.median(plain_raw):.3f}); / the client without hooks:"
        f" {statistics.median(against_plain):.3f} (per round:"
        f" {', '.join(f'{ratio:.2f}' for ratio in against_plain)})"
    )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a smaller run (a smoke test, under ~20 s)"
    )
    parser.add_argument(
        "--loop",
        nargs=2,
        metavar=("WAY", "N"),
        help="only N sequential reads by WAY (client or raw), for valgrind to count",
    )
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    loop = arguments.loop
    if loop is not None and loop[0] not in ("client", "raw"):
        raise SystemExit(f"--loop: the way is client or raw, not {loop[0]!r}")
    asyncio.run(main(arguments.quick, None if loop is None else (loop[0], int(loop[1]))))
