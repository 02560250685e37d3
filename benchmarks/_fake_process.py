"""Run ``FakeCertCentral`` in a child process for the benchmarks, and steer it from the parent.

The benchmarks measure the client process, so the fake server must not share its CPU
or its event loop. ``FakeProcess`` starts this file as a script in a new Python process;
the script starts the fake plus a small control server on a second loopback port (not
rate limited, not recorded) and prints one JSON line: the fake's ``base_url``, the API
key and the control URL. The child exits when its stdin closes, so it never outlives
the benchmark.

Control endpoints (JSON): ``GET /stats``, ``GET /log?start=N``, ``POST /clear``,
``GET /ids?status=S``, ``POST /set_status`` ``{"ids": [...], "status": S, "ago": s}``,
``POST /set_windows`` ``{"windows": [[count, seconds], ...]}`` (the enforced windows from
now on; the arrivals seen and a block in progress carry over), ``POST /dns``
``{"action": "publish" | "unpublish", "type", "name", "value", "path"}`` (the fake DNS, as
a DNS provider's API would change it), ``GET /dns`` (the records held).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

_READY_TIMEOUT = 120.0
_SCRIPT = str(Path(__file__).resolve())


def rss_mb() -> float:
    """Resident set size of this process now, in MiB (Linux ``/proc``)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def max_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- parent side


class FakeControl:
    """The control endpoints of a running fake process, from any process (the URL is enough).

    Use it as an async context manager, or call :meth:`close`, to release its session.
    """

    def __init__(self, control_url: str = "") -> None:
        self.control_url = control_url
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> FakeControl:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _control(self, method: str, path: str, payload: Any = None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(method, self.control_url + path, json=payload) as response:
            response.raise_for_status()
            return await response.json()

    async def stats(self) -> dict[str, Any]:
        """``rate_limited`` (429s from the windows), ``requests`` (recorded since the last
        clear), ``statuses`` (answers by status), ``rss_mb``, ``max_rss_mb``, ``cpu_s``."""
        result: dict[str, Any] = await self._control("GET", "/stats")
        return result

    async def log(self, start: int = 0) -> list[tuple[str, str, float, int | None]]:
        """Recorded requests from index ``start``: ``(method, path, monotonic time, status)``.

        The fake stamps ``time.monotonic()``, the same system-wide clock as this process's.
        """
        rows = await self._control("GET", f"/log?start={start}")
        return [(m, p, t, s) for m, p, t, s in rows]

    async def clear(self) -> None:
        await self._control("POST", "/clear")

    async def ids(self, status: str | None = None) -> list[int]:
        query = "" if status is None else f"?status={status}"
        result: list[int] = await self._control("GET", "/ids" + query)
        return result

    async def set_status(self, ids: Sequence[int], status: str, ago: float | None = None) -> None:
        await self._control("POST", "/set_status", {"ids": list(ids), "status": status, "ago": ago})

    async def dns(self, action: str, record: Any) -> None:
        """Publish (or remove) a ``dc.DcvRecord`` in the fake's DNS."""
        payload = {"action": action, "type": record.type, "name": record.name,
                   "value": record.value, "path": record.path}  # fmt: skip
        await self._control("POST", "/dns", payload)

    async def dns_records(self) -> list[list[str]]:
        result: list[list[str]] = await self._control("GET", "/dns")
        return result

    async def set_windows(self, windows: Sequence[tuple[int, float]]) -> None:
        """Enforce ``windows`` from now on (a fake started with rate limits only)."""
        await self._control("POST", "/set_windows", {"windows": [list(w) for w in windows]})


class FakeProcess(FakeControl):
    """A ``FakeCertCentral`` in a child process: ``async with FakeProcess(...) as fake``.

    :param orders: orders seeded with the fake's mixed statuses (``orders=`` of the fake).
    :param pending: further orders added in status ``pending``.
    :param pending_age: seconds to backdate the pending orders' last status change by, so
        that a status-changes listing of the last hours does not include them.
    :param rate_limits: the fake's windows, ``None`` for no limit.
    :param block_seconds: how long the fake blocks the key after an excess.
    :param validation: DCV on the fake: ``dcv_required``, ``validation_reuse``,
        ``dns_propagation`` (lifecycle seconds; the clock runs in real time), ``issue_after``,
        ``domains`` (``[[name, age], ...]``: validated ``age`` seconds ago) and ``issued``
        (``[common_name, ...]``: issued orders added).
    """

    def __init__(
        self,
        *,
        orders: int = 0,
        pending: int = 0,
        pending_age: float | None = None,
        rate_limits: Sequence[tuple[int, float]] | None = None,
        block_seconds: float = 5.0,
        validation: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "orders": orders,
            "pending": pending,
            "pending_age": pending_age,
            "rate_limits": None if rate_limits is None else [list(w) for w in rate_limits],
            "block_seconds": block_seconds,
            "validation": validation,
        }
        self._process: asyncio.subprocess.Process | None = None
        self.base_url = ""
        self.api_key = ""
        self.startup: dict[str, Any] = {}

    async def __aenter__(self) -> FakeProcess:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            _SCRIPT,
            json.dumps(self.config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), _READY_TIMEOUT)
        except BaseException:
            await self.close()
            raise
        if not line:
            await self.close()
            raise RuntimeError("the fake server process exited before it was ready")
        self.startup = json.loads(line)
        self.base_url = self.startup["base_url"]
        self.api_key = self.startup["api_key"]
        self.control_url = self.startup["control_url"]
        return self

    async def close(self) -> None:
        await super().close()
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10.0)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()


# --------------------------------------------------------------------------- child side


async def _serve(config: dict[str, Any]) -> None:
    from aiohttp import web

    from digicert_async.testing import FakeCertCentral

    started = time.perf_counter()
    windows = config["rate_limits"]
    validation = config.get("validation") or {}
    fake = FakeCertCentral(
        orders=config["orders"],
        rate_limits=None if windows is None else [tuple(w) for w in windows],
        block_seconds=config["block_seconds"],
        dcv_required=validation.get("dcv_required", False),
        validation_reuse=validation.get("validation_reuse"),
        dns_propagation=validation.get("dns_propagation", 0.0),
        issue_after=validation.get("issue_after", 60.0),
        realtime=bool(validation),
    )
    for name, age in validation.get("domains", []):
        fake.add_domain(name, age=age)
    for common_name in validation.get("issued", []):
        fake.add_order("issued", common_name=common_name)
    pending_ids = [fake.add_order("pending") for _ in range(config["pending"])]
    if config["pending_age"] is not None:
        then = datetime.now(timezone.utc) - timedelta(seconds=config["pending_age"])
        for order_id in pending_ids:
            fake.set_status(order_id, "pending", at=then)
    seed_seconds = time.perf_counter() - started

    async def stats(request: web.Request) -> web.Response:
        records = fake.requests
        statuses: dict[str, int] = {}
        for record in records:
            key = str(record.answered_status)
            statuses[key] = statuses.get(key, 0) + 1
        return web.json_response(
            {
                "rate_limited": fake.rate_limited_count,
                "requests": len(records),
                "statuses": statuses,
                "rss_mb": rss_mb(),
                "max_rss_mb": max_rss_mb(),
                "cpu_s": time.process_time(),
            }
        )

    async def log(request: web.Request) -> web.Response:
        start = int(request.query.get("start", "0"))
        rows = [[r.method, r.path, r.time, r.answered_status] for r in fake.requests[start:]]
        return web.json_response(rows)

    async def clear(request: web.Request) -> web.Response:
        fake.clear_requests()
        return web.json_response(True)

    async def ids(request: web.Request) -> web.Response:
        wanted = request.query.get("status")
        found = [
            order_id
            for order_id in fake.order_ids
            if wanted is None or (fake.order(order_id) or {}).get("status") == wanted
        ]
        return web.json_response(found)

    async def set_status(request: web.Request) -> web.Response:
        body = await request.json()
        at = None
        if body.get("ago") is not None:
            at = datetime.now(timezone.utc) - timedelta(seconds=body["ago"])
        for order_id in body["ids"]:
            fake.set_status(order_id, body["status"], at=at)
        return web.json_response(len(body["ids"]))

    async def set_windows(request: web.Request) -> web.Response:
        from collections import deque

        from digicert_async.testing._fake import _Limiter

        body = await request.json()
        old = fake._limiter
        if old is None:
            raise web.HTTPConflict(text="the fake was started without rate limits")
        # A new limiter on the new windows that remembers the old one's arrivals and
        # block, as a server whose limits change under load would.
        new = _Limiter([tuple(w) for w in body["windows"]], old.block_seconds)
        new._arrivals = deque(old._arrivals, maxlen=new._arrivals.maxlen)
        new._blocked_until = old._blocked_until
        fake._limiter = new
        return web.json_response(new.windows)

    async def dns(request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.json_response(fake.dns.records())
        body = await request.json()
        kind, name = body["type"], body["name"]
        if kind == "HTTP":
            name = f"http://{name}{body.get('path') or ''}"
        change = fake.dns.put if body["action"] == "publish" else fake.dns.remove
        change(kind, name, body["value"])
        return web.json_response(True)

    control = web.Application()
    control.router.add_get("/stats", stats)
    control.router.add_get("/log", log)
    control.router.add_post("/clear", clear)
    control.router.add_get("/ids", ids)
    control.router.add_post("/set_status", set_status)
    control.router.add_post("/set_windows", set_windows)
    control.router.add_route("*", "/dns", dns)
    runner = web.AppRunner(control, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]

    loop = asyncio.get_running_loop()
    stdin_closed = asyncio.Event()

    def wait_for_eof() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stdin_closed.set)

    async with fake:
        threading.Thread(target=wait_for_eof, daemon=True).start()
        ready = {
            "base_url": fake.base_url,
            "api_key": fake.api_key,
            "control_url": f"http://{host}:{port}",
            "seed_seconds": seed_seconds,
            "rss_mb": rss_mb(),
            "pid": os.getpid(),
        }
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        await stdin_closed.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(_serve(json.loads(sys.argv[1])))
