"""One API key, many workers: the Redis limiter backend against the in-process one.

1. Per-acquire cost: ``reserve()`` on the in-process backend versus one Redis round trip
   (the Lua script), sequentially, with windows too large to ever wait.
2. 4 worker processes x 100 concurrent tasks (``orders.add_note``), one API key, against
   one ``FakeCertCentral`` (in a process of its own, ``_fake_process``) whose windows
   are DigiCert's shape scaled down. With ``RedisLimiterBackend`` every worker shares
   one budget: elapsed time from the first to the last arrival at the server versus
   the least the windows allow (the greedy schedule, simulated; target <= 1.15), and
   the 429s (target 0). Then the same run with only the in-process limiter in each
   worker (each paces itself to the whole budget, single attempt): the overrun shows
   as 429s.

Redis: ``--redis-url`` or ``DIGICERT_ASYNC_TEST_REDIS_URL``, else a ``redis-server`` this
script starts on a free loopback port (and stops).

    python benchmarks/bench_redis.py [--quick] [--redis-url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from _common import least_possible
from _fake_process import FakeProcess

import digicert_async as dc
from digicert_async._ratelimit import InMemoryLimiterBackend, RateLimit, api_key_hash

THIS_FILE = os.path.abspath(__file__)
WORKERS = 4
TASKS = 100
TARGET_RATIO = 1.15
HUGE = [(10**6, 3600.0)]  # the most a window may hold: never waits here


# -- Redis ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("needs redis-server (apt-get install redis-server) or --redis-url")
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()


# -- 1. per-acquire cost ----------------------------------------------------------------------


async def acquire_cost(redis_url: str, count: int) -> tuple[float, float]:
    """Microseconds per reserve(): in-process, then Redis."""
    memory = InMemoryLimiterBackend(HUGE)
    started = time.perf_counter()
    for _ in range(count):
        await memory.reserve()
    in_memory = (time.perf_counter() - started) / count * 1e6

    factory = dc.RedisLimiterBackend(redis_url, key_prefix=f"bench-{uuid.uuid4().hex[:8]}")
    limiter = factory.for_key(api_key_hash("bench"), RateLimit(windows=HUGE, backend=factory))
    try:
        for _ in range(100):  # connect, load the script
            await limiter.reserve()
        started = time.perf_counter()
        for _ in range(count):
            reservation = await limiter.reserve()
            assert reservation.wait == 0.0
        on_redis = (time.perf_counter() - started) / count * 1e6
        assert limiter.available
    finally:
        await limiter.aclose()
    return in_memory, on_redis


# -- 2. workers ---------------------------------------------------------------------------------


async def _worker(config: dict[str, Any]) -> dict[str, Any]:
    logging.getLogger("digicert_async").setLevel(logging.ERROR)  # the 429 warnings: counted
    backend = (
        dc.RedisLimiterBackend(config["redis_url"], key_prefix=config["prefix"])
        if config["redis_url"]
        else None
    )
    limit = dc.RateLimit(windows=config["windows"], safety_margin=config["margin"], backend=backend)
    async with dc.CertCentralClient(
        api_key=config["api_key"],
        base_url=config["base_url"],
        rate_limit=limit,
        retry=dc.RetryPolicy(max_attempts=config["attempts"]),
        timeout=30.0,
    ) as client:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

        async def one(index: int) -> bool:
            order_id = config["order_ids"][index % len(config["order_ids"])]
            try:
                await client.orders.add_note(order_id, f"{config['name']}-{index}")
            except dc.DigiCertError:
                return False
            return True

        results = await asyncio.gather(*(one(i) for i in range(config["tasks"])))
        fallback_sends = getattr(client._ratelimit_middleware.backend, "fallback_sends", 0)
    return {"ok": sum(results), "failed": len(results) - sum(results), "local": fallback_sends}


async def run_workers(
    windows: list[tuple[int, float]], margin: float, redis_url: str | None, attempts: int
) -> dict[str, Any]:
    async with FakeProcess(rate_limits=windows, orders=10, block_seconds=1.0) as fake:
        order_ids = await fake.ids()
        procs = []
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        for number in range(WORKERS):
            config = {
                "name": f"w{number}",
                "api_key": fake.api_key,
                "base_url": fake.base_url,
                "redis_url": redis_url,
                "prefix": prefix,
                "windows": windows,
                "margin": margin,
                "tasks": TASKS,
                "attempts": attempts,
                "order_ids": order_ids,
            }
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    THIS_FILE,
                    "worker",
                    json.dumps(config),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        for proc in procs:
            assert proc.stdout is not None
            assert (await proc.stdout.readline()).strip() == b"ready"
        limited_before = (await fake.stats())["rate_limited"]
        await fake.clear()
        started = time.monotonic()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        reports = []
        for proc in procs:
            out, _ = await proc.communicate()
            reports.append(json.loads(out.decode().strip().splitlines()[-1]))
        elapsed = time.monotonic() - started
        arrivals = sorted(at for _, _, at, _ in await fake.log())
        return {
            "elapsed": elapsed,
            "span": arrivals[-1] - arrivals[0],
            "requests": len(arrivals),
            "http_429": (await fake.stats())["rate_limited"] - limited_before,
            "ok": sum(r["ok"] for r in reports),
            "failed": sum(r["failed"] for r in reports),
            "local": sum(r["local"] for r in reports),
        }


async def main(args: argparse.Namespace) -> int:
    quick: bool = args.quick
    acquires = 1_000 if quick else 20_000
    # DigiCert's shape (100 per 5 s, 1000 per 3 min) scaled down so that 400 requests
    # are bound by both windows.
    windows = [(25, 0.5), (100, 2.0)] if quick else [(20, 1.0), (100, 5.0)]
    margin = dc.RateLimit().safety_margin  # the default
    least = least_possible(WORKERS * TASKS, windows)
    print(f"== bench_redis{' (--quick)' if quick else ''}")
    print(
        f"   {os.cpu_count()} cores, Python {platform.python_version()},"
        f" digicert-async {dc.__version__}"
    )
    with redis_server(args.redis_url or os.environ.get("DIGICERT_ASYNC_TEST_REDIS_URL")) as url:
        in_memory, on_redis = await acquire_cost(url, acquires)
        print(f"\n-- per-acquire cost, {acquires} sequential reserve() calls")
        print(f"   in-process limiter   {in_memory:8.1f} us")
        print(f"   Redis (Lua script)   {on_redis:8.1f} us")

        print(
            f"\n-- {WORKERS} processes x {TASKS} tasks, one key, windows {windows},"
            f" client margin {margin}"
        )
        print(f"   least the windows allow for {WORKERS * TASKS} requests: {least:.2f} s")
        shared = await run_workers(windows, margin, url, attempts=5)
        ratio = shared["span"] / least
        print(
            f"   Redis backend:      first->last arrival {shared['span']:6.2f} s"
            f" ({ratio:.3f}x least), go->done {shared['elapsed']:6.2f} s,"
            f" {shared['http_429']} x 429, {shared['ok']} ok, {shared['failed']} failed,"
            f" {shared['local']} paced locally (Redis unavailable)"
        )
        local = await run_workers(windows, margin, None, attempts=1)
        print(
            f"   in-process only:    first->last arrival {local['span']:6.2f} s,"
            f" go->done {local['elapsed']:6.2f} s, {local['http_429']} x 429"
            f" of {local['requests']} requests, {local['ok']} ok, {local['failed']} failed"
            " (single attempt)"
        )
    good = ratio <= TARGET_RATIO and shared["http_429"] == 0 and shared["failed"] == 0
    print(
        f"\n   verdict: {'PASS' if good else 'MISS'} (target: <= {TARGET_RATIO}x least,"
        " zero 429s, nothing failed)"
    )
    return 0 if good else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        print(json.dumps(asyncio.run(_worker(json.loads(sys.argv[2])))), flush=True)
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smaller run (under ~20 s)")
    parser.add_argument("--redis-url", default=None)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
