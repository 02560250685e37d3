"""A loopback server that answers with the bodies a test gives it, and a client for it.

Tests of how the library reads DigiCert's answers serve those answers over real HTTP, so that
they go through the public call and the whole runtime path (send, decode, the liberal
converter), not through the converter alone.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import attrs
from aiohttp import web

import digicert_async as dc

Answer = tuple[int, bytes]


def as_body(document: Any) -> bytes:
    return document if isinstance(document, bytes) else json.dumps(document).encode()


class BodyServer:
    """Answers ``(method, path)`` (``path`` below ``/services/v2``, query string included
    when a route names one) with the status and body set for it; 404 ``not_found|route``
    otherwise. ``requests`` records ``(method, path with query)`` of every request, and
    ``bodies`` the JSON body of each request that had one."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Answer] = {}
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[Any] = []
        self.root = ""
        self._runner: web.AppRunner | None = None

    def answer(self, method: str, path: str, status: int, document: Any) -> None:
        self.routes[(method, path)] = (status, as_body(document))

    def reset(self) -> None:
        self.routes.clear()
        self.requests.clear()
        self.bodies.clear()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if raw:
            self.bodies.append(json.loads(raw))
        path = request.path.removeprefix("/services/v2")
        with_query = f"{path}?{request.query_string}" if request.query_string else path
        self.requests.append((request.method, with_query))
        found = self.routes.get((request.method, with_query)) or self.routes.get(
            (request.method, path)
        )
        if found is None:
            body = {"errors": [{"code": "not_found|route", "message": "no such route"}]}
            return web.json_response(body, status=404)
        status, payload = found
        if status == 204:
            return web.Response(status=204)
        return web.Response(status=status, body=payload, content_type="application/json")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.root = f"http://127.0.0.1:{port}/services/v2"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@asynccontextmanager
async def served() -> AsyncIterator[tuple[BodyServer, dc.CertCentralClient]]:
    """A started ``BodyServer`` and a client on it that makes one attempt per call."""
    server = BodyServer()
    await server.start()
    try:
        async with dc.CertCentralClient(
            api_key="test-key",
            base_url=server.root,
            timeout=60.0,
            retry=dc.RetryPolicy.disabled(),
            rate_limit=dc.RateLimit.disabled(),
        ) as client:
            yield server, client
    finally:
        await server.close()


def _same_scalar(decoded: Any, raw: Any) -> bool:
    if decoded == raw:
        return True
    if isinstance(decoded, str) and isinstance(raw, str):
        # timestamps are written back as UTC with +00:00; compare the instants
        try:
            return datetime.fromisoformat(decoded) == datetime.fromisoformat(raw)
        except ValueError:
            return False
    return False


def _str_flag_fields() -> frozenset[str]:
    """The names of the fields typed ``StrFlag``: read from "1"/"0", a bool or 0/1, and
    written back as "1"/"0" (the converter's documented flag rule)."""
    names = set()
    for value in vars(dc.models).values():
        if isinstance(value, type) and attrs.has(value):
            for field in attrs.fields(value):
                if "StrFlag" in str(field.type):
                    names.add(field.name)
    return frozenset(names)


STR_FLAG_FIELDS = _str_flag_fields()


def assert_faithful(decoded: Any, raw: Any, path: str = "$") -> None:
    """Every value of ``decoded`` (unstructured) is the value at the same place in ``raw``."""
    if isinstance(decoded, dict):
        assert isinstance(raw, dict), path
        for key, value in decoded.items():
            assert key in raw, f"{path}.{key} is not in the body"
            if key in STR_FLAG_FIELDS and value in ("1", "0") and type(raw[key]) in (bool, int):
                assert raw[key] in (0, 1) and bool(raw[key]) == (value == "1"), f"{path}.{key}"
                continue
            assert_faithful(value, raw[key], f"{path}.{key}")
    elif isinstance(decoded, list):
        assert isinstance(raw, list) and len(raw) == len(decoded), path
        for index, (value, raw_value) in enumerate(zip(decoded, raw, strict=True)):
            assert_faithful(value, raw_value, f"{path}[{index}]")
    elif isinstance(raw, str) and isinstance(decoded, bool):  # "1"/"0" flags
        assert raw in ("1", "0") and decoded == (raw == "1"), path
    else:
        assert _same_scalar(decoded, raw), f"{path}: {decoded!r} != {raw!r}"


def faithful(model: Any, raw: Any) -> None:
    assert_faithful(dc.converter.unstructure(model), raw)
