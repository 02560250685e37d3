"""Memory of ``digicert-async fake-server`` under a flood of large requests.

The command runs as its own process, as a user starts it. It is sent, 50 at a time:

1. ``POSTS`` requests of 1 MiB bodies without the API key (each answered 403);
2. as many with the key, bodies the fake reads, records and refuses (a note without its
   ``text``: 400, or 429 past the rate limit), so that the log is all that could keep
   them; then as many again, to see whether it grows.

After each phase the server's resident set size is read from ``/proc`` (it keeps what
the peak of 50 bodies in flight needed: the allocator does not give it back); the fake keeps
at most ``FAKE_SERVER_LOGGED_REQUESTS`` requests and ``FAKE_SERVER_LOGGED_BYTES`` of
them, and never reads the body of a request without its key. Then SIGTERM, and its
exit status and whether stderr holds a traceback.

    python benchmarks/bench_fake_server_flood.py [--quick]
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys

import aiohttp
from _common import header, parse_args, table

from digicert_async.cli._fake_server import FAKE_SERVER_LOGGED_BYTES, FAKE_SERVER_LOGGED_REQUESTS

BODY = b'{"txt": "' + b"x" * (2**20 - 100) + b'"}'  # under aiohttp's 1 MiB request cap
CONCURRENCY = 50


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def flood(base_url: str, key: str | None, count: int) -> dict[int, int]:
    statuses: dict[int, int] = {}
    pending = iter(range(count))
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            for _ in pending:
                headers = {"Content-Type": "application/json"}
                if key is not None:
                    headers["X-DC-DEVKEY"] = key
                async with session.post(
                    f"{base_url}/order/certificate/100001/note",
                    data=io.BytesIO(BODY),
                    headers=headers,
                ) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return statuses


async def main() -> None:
    args = parse_args(__doc__ or "")
    posts = 60 if args.quick else 300
    header("fake-server under a flood of 1 MiB requests", args.quick)
    print(
        f"   {posts} POSTs of {len(BODY):,} bytes per phase, {CONCURRENCY} at a time; the"
        f" fake keeps {FAKE_SERVER_LOGGED_REQUESTS:,} requests,"
        f" {FAKE_SERVER_LOGGED_BYTES / 2**20:g} MiB"
    )
    env = {k: v for k, v in os.environ.items() if k != "DIGICERT_API_KEY"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "digicert_async", "fake-server", "--port", "0", "--orders", "10",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )  # fmt: skip
    assert process.stdout is not None
    base_url = (await process.stdout.readline()).decode().split(": ", 1)[1].strip()
    key = (await process.stdout.readline()).decode().split(": ", 1)[1].strip()
    rows: list[list[object]] = [["started", "", round(rss_mib(process.pid), 1)]]
    refused = await flood(base_url, None, posts)
    rows.append(["without the key", refused, round(rss_mib(process.pid), 1)])
    for round_ in ("with the key", "with the key, again"):
        accepted = await flood(base_url, key, posts)
        rows.append([round_, accepted, round(rss_mib(process.pid), 1)])
    process.send_signal(signal.SIGTERM)
    _, err = await process.communicate()
    table(["phase", "answers", "RSS after (MiB)"], rows)
    traceback = "Traceback" in err.decode()
    print(f"\nSIGTERM: exit status {process.returncode}, traceback on stderr: {traceback}")


if __name__ == "__main__":
    asyncio.run(main())
