"""Memory stays flat under hostile bodies: an endless chunked body, a gzip bomb (about
1 MB that inflates to 1 GiB) and a ~300 MB 503 retried.

Each scenario runs in a fresh Python process (this file, run as a script) holding both
a loopback server and the client with its default ``max_response_bytes`` (8 MiB). The
process measures its own peak RSS (``ru_maxrss``) once everything is set up and again
after the call; the growth must stay under 4x the cap. Without the cap each of these
grows by gigabytes.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import resource
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

HERE = Path(__file__).resolve()
CHUNK = bytes(64 * 1024)
MiB = 1024 * 1024


def gzip_bomb(mebibytes: int) -> bytes:
    """A gzip stream of ``mebibytes`` MiB of zeros, about 1 KB per MiB, built in well
    under a second: after a full flush the compressor starts afresh, so each MiB of
    zeros compresses to the same block, which is repeated."""
    zeros = bytes(MiB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(zeros, crc)
    last = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()  # an empty final block
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (mebibytes * MiB) & 0xFFFFFFFF)
    return header + block * mebibytes + last + trailer


def test_the_bomb_is_what_it_claims() -> None:
    small = gzip_bomb(3)
    assert gzip.decompress(small) == bytes(3 * MiB)
    assert len(gzip_bomb(1024)) < 1.2 * MiB  # about 1 MB on the wire for 1 GiB


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


async def _scenario(name: str) -> dict[str, object]:
    from aiohttp import web

    import digicert_async as dc

    sent = {"bytes": 0, "requests": 0}
    bomb = gzip_bomb(1024) if name == "gzip-bomb" else b""

    async def endless(request: web.Request) -> web.StreamResponse:
        sent["requests"] += 1
        status = 503 if name == "big-503" else 200
        answer = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
        answer.enable_chunked_encoding()
        await answer.prepare(request)
        limit = 300 * MiB if name == "big-503" else 64 * 1024 * MiB
        try:
            while sent["bytes"] < limit * sent["requests"]:
                await answer.write(CHUNK)
                sent["bytes"] += len(CHUNK)
        except (ConnectionError, RuntimeError):
            pass  # the client stopped reading and dropped the connection
        return answer

    async def bombing(request: web.Request) -> web.Response:
        sent["requests"] += 1
        sent["bytes"] += len(bomb)
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip"})

    app = web.Application()
    app.router.add_get(
        "/services/v2/order/certificate/1", bombing if name == "gzip-bomb" else endless
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    client = dc.CertCentralClient(
        api_key="memory-key",
        base_url=f"http://127.0.0.1:{port}/services/v2",
        timeout=60.0,
        rate_limit=dc.RateLimit.disabled(),
        retry=dc.RetryPolicy(max_attempts=5, backoff_initial=0.01, backoff_max=0.01),
    )
    baseline = _peak_rss()
    try:
        await client.orders.get(1)
        error = "none"
        attempts = 1
    except dc.DigiCertError as exc:
        error = type(exc).__name__
        attempts = getattr(exc, "attempts", 1)
    finally:
        await client.close()
        await runner.cleanup()
    return {
        "baseline": baseline,
        "peak": _peak_rss(),
        "cap": client.max_response_bytes,
        "error": error,
        "attempts": attempts,
        "requests": sent["requests"],
        "sent": sent["bytes"],
    }


def _run_child(name: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(HERE), name],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("name", "error", "attempts"),
    [
        ("endless-body", "ResponseError", 1),
        ("gzip-bomb", "ResponseError", 1),
        ("big-503", "ServerError", 5),
    ],
)
def test_memory_stays_flat_under_hostile_bodies(name: str, error: str, attempts: int) -> None:
    result = _run_child(name)
    cap = result["cap"]
    assert isinstance(cap, int) and cap == 8 * MiB
    assert result["error"] == error and result["attempts"] == attempts
    assert result["requests"] == attempts
    growth = int(result["peak"]) - int(result["baseline"])  # type: ignore[call-overload]
    assert growth < 4 * cap, f"peak RSS grew by {growth / MiB:.1f} MiB: {result}"
    if name != "gzip-bomb":
        # the server really did send past the cap before the client stopped it
        assert int(result["sent"]) > cap * attempts  # type: ignore[call-overload]


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_scenario(sys.argv[1]))))
