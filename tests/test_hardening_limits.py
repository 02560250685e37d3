"""Bounded answers, deadlines that hold, permanent failures not retried, and close()
with calls in flight, against misbehaving loopback servers.

Memory under hostile bodies is measured in a subprocess: see test_hardening_memory.py.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import time
import zlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import digicert_async as dc
from digicert_async._hooks import Events
from digicert_async._pipeline import Request, compose
from digicert_async._retry import RetryMiddleware, classify
from digicert_async._send import SendStep
from digicert_async._transport import AiohttpTransport

from .test_client import serve
from .test_hardening_servers import (
    ANSWER,
    NOT_HTTP,
    RESET,
    SILENT,
    Misbehaving,
    failure_of,
    http_answer,
    server_tls,
)
from .test_resilience import wait_until

ORDER = {"id": 1, "status": "issued", "certificate": {"id": 7, "common_name": "example.com"}}
ORDER_PATH = "/services/v2/order/certificate/1"


class Sends:
    """Counts the attempts the client makes (its on_request hook)."""

    def __init__(self) -> None:
        self.count = 0

    @property
    def hooks(self) -> dc.Hooks:
        return dc.Hooks(on_request=[self._seen])

    def _seen(self, event: dc.RequestSent) -> None:
        self.count += 1


def client_for(root: str, **options: Any) -> dc.CertCentralClient:
    options.setdefault("rate_limit", dc.RateLimit.disabled())
    options.setdefault(
        "retry", dc.RetryPolicy(max_attempts=5, backoff_initial=0.01, backoff_max=0.01)
    )
    options.setdefault("timeout", 5.0)
    return dc.CertCentralClient(api_key="limits-key", base_url=root, **options)


def answering(
    status: int, body: bytes, headers: dict[str, str] | None = None, *, chunked: bool = False
) -> tuple[Any, list[int]]:
    """A handler that answers ``status`` with ``body``, and the list it counts hits in."""
    hits: list[int] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        hits.append(1)
        if not chunked:
            return web.Response(status=status, body=body, headers=headers)
        answer = web.StreamResponse(status=status, headers=headers)
        answer.enable_chunked_encoding()
        await answer.prepare(request)
        for start in range(0, len(body), 4096):
            await answer.write(body[start : start + 4096])
        await answer.write_eof()
        return answer

    return handler, hits


# -- bounded answers -----------------------------------------------------------------------------


def test_max_response_bytes_default_and_validation() -> None:
    assert dc.CertCentralClient(api_key="k").max_response_bytes == 8 * 1024 * 1024
    assert dc.CertCentralClient(api_key="k", max_response_bytes=1).max_response_bytes == 1
    for bad in (0, -1, 2.0, "8MB", None, True):
        with pytest.raises(dc.ValidationError) as caught:
            dc.CertCentralClient(api_key="k", max_response_bytes=bad)  # type: ignore[arg-type]
        assert caught.value.field == "max_response_bytes"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_oversized_success_is_a_response_error_and_not_retried(chunked: bool) -> None:
    body = json.dumps({**ORDER, "padding": "x" * 5000}).encode()
    handler, hits = answering(200, body, chunked=chunked)
    async with serve({ORDER_PATH: handler}) as root:
        async with client_for(root, max_response_bytes=4096) as client:
            error = await failure_of(lambda: client.orders.get(1))
        # the same answer under a cap it fits is a good order
        async with client_for(root, max_response_bytes=len(body)) as client:
            order = await client.orders.get(1)
    assert type(error) is dc.ResponseError and error.status == 200
    assert "max_response_bytes" in str(error) and "4096" in str(error)
    assert error.body == body[: len(error.body)].decode() and error.body
    assert hits == [1, 1]  # once each: the oversized answer was not retried
    assert order.id == 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_oversized_503_stays_a_retried_server_error_with_its_start(
    chunked: bool,
) -> None:
    body = b"<html><h1>busy</h1>" + b"z" * 100_000 + b"</html>"
    handler, hits = answering(503, body, {"Content-Type": "text/html"}, chunked=chunked)
    async with serve({ORDER_PATH: handler}) as root:
        async with client_for(root, max_response_bytes=10_000) as client:
            error = await failure_of(lambda: client.orders.get(1))
    assert type(error) is dc.ServerError and error.status == 503
    assert error.attempts == 5 and len(hits) == 5
    assert error.body.startswith("<html><h1>busy</h1>zzz")


async def test_a_gzip_answer_is_decoded_and_counted_decoded() -> None:
    body = json.dumps({**ORDER, "padding": " " * 200_000}).encode()
    packed = gzip.compress(body)
    assert len(packed) < 4096 < len(body)
    handler, hits = answering(200, packed, {"Content-Encoding": "gzip"})
    async with serve({ORDER_PATH: handler}) as root:
        async with client_for(root, max_response_bytes=len(body)) as client:
            order = await client.orders.get(1)
        async with client_for(root, max_response_bytes=len(body) - 1) as client:
            error = await failure_of(lambda: client.orders.get(1))
    assert order.id == 1 and order.status == "issued"
    assert type(error) is dc.ResponseError and "max_response_bytes" in str(error)
    assert len(hits) == 2


@pytest.mark.parametrize("wrapped", [True, False], ids=["zlib", "raw"])
async def test_a_deflate_answer_is_decoded(wrapped: bool) -> None:
    body = json.dumps(ORDER).encode()
    packer = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
    packed = packer.compress(body) + packer.flush()
    handler, _ = answering(200, packed, {"Content-Encoding": "deflate"})
    async with serve({ORDER_PATH: handler}) as root:
        async with client_for(root) as client:
            order = await client.orders.get(1)
    assert order.id == 1


async def test_the_cap_holds_on_a_borrowed_session_that_decompresses() -> None:
    """The body is the library's to read: a session of the caller's with aiohttp's own
    decompression on changes nothing."""
    body = json.dumps({**ORDER, "padding": " " * 100_000}).encode()
    handler, _ = answering(200, gzip.compress(body), {"Content-Encoding": "gzip"})
    async with serve({ORDER_PATH: handler}) as root:
        async with aiohttp.ClientSession(auto_decompress=True) as session:
            async with client_for(root, session=session, max_response_bytes=50_000) as client:
                error = await failure_of(lambda: client.orders.get(1))
            async with client_for(root, session=session) as client:
                order = await client.orders.get(1)
    assert type(error) is dc.ResponseError
    assert order.id == 1


async def test_the_client_asks_only_for_encodings_it_decodes() -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Accept-Encoding", ""))
        return web.json_response(ORDER)

    async with serve({ORDER_PATH: handler}) as root:
        async with client_for(root) as client:
            await client.orders.get(1)
    assert seen == ["gzip, deflate"]


# -- deadlines -----------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["get", "add_note"])
async def test_the_deadline_cuts_short_an_attempt_in_flight(call: str) -> None:
    server = Misbehaving(SILENT)
    async with server as root:
        async with client_for(root, timeout=30.0, retry=dc.RetryPolicy(deadline=2.0)) as client:
            started = time.monotonic()
            if call == "get":
                error = await failure_of(lambda: client.orders.get(1))
            else:
                error = await failure_of(lambda: client.orders.add_note(1, "late"))
            elapsed = time.monotonic() - started
    assert isinstance(error, dc.TransportError)
    assert error.timeout is True and error.request_sent is True
    assert "deadline" in str(error)
    assert 1.9 <= elapsed < 10.0, elapsed  # not the 30 s timeout
    assert server.requests == 1


@pytest.mark.slow
async def test_the_deadline_bounds_retries_and_the_last_attempt() -> None:
    """Attempts that time out on their own are retried until the deadline, which then
    cuts the last one short."""
    server = Misbehaving(SILENT)
    async with server as root:
        async with client_for(
            root,
            timeout=0.4,
            retry=dc.RetryPolicy(max_attempts=50, backoff_initial=0.01, deadline=2.0),
        ) as client:
            started = time.monotonic()
            error = await failure_of(lambda: client.orders.get(1))
            elapsed = time.monotonic() - started
    assert isinstance(error, dc.TransportError) and error.timeout
    assert 1.9 <= elapsed < 10.0, elapsed  # not 50 attempts of 0.4 s
    assert 3 <= error.attempts == server.requests < 50


# -- permanent failures --------------------------------------------------------------------------


def test_classify_refuses_permanent_failures() -> None:
    get = Request(method="GET", path="/order/certificate/1")
    for request_sent in (True, False):
        permanent = dc.TransportError(
            "x", method="GET", url="/x", request_sent=request_sent, permanent=True
        )
        transient = dc.TransportError("x", method="GET", url="/x", request_sent=request_sent)
        assert classify(get, permanent) is None
        assert classify(get, transient) is not None


async def test_tls_verification_failure_is_not_retried(tmp_path: Path) -> None:
    context, cert = server_tls(tmp_path)
    server = Misbehaving(
        ANSWER, http_answer(404, b'{"errors":[{"code":"not_found|order"}]}'), tls=context
    )
    sends = Sends()
    async with server as root:
        async with client_for(root, hooks=sends.hooks) as client:
            error = await failure_of(lambda: client.orders.get(1))
        # the same server, its certificate trusted: the exchange works
        trusting = aiohttp.TCPConnector(ssl=ssl.create_default_context(cafile=str(cert)))
        async with aiohttp.ClientSession(connector=trusting) as session:
            async with client_for(root, session=session) as client:
                answered = await failure_of(lambda: client.orders.get(1))
    assert isinstance(error, dc.TransportError)
    assert error.permanent and not error.request_sent and error.attempts == 1
    assert "certificate" in str(error).lower()
    assert sends.count == 1
    assert type(answered) is dc.NotFoundError and server.requests == 1


async def test_a_protocol_error_is_not_retried() -> None:
    server = Misbehaving(NOT_HTTP)
    async with server as root:
        async with client_for(root) as client:
            error = await failure_of(lambda: client.orders.get(1))
    assert isinstance(error, dc.TransportError) and error.permanent
    assert error.request_sent and error.attempts == 1 and server.requests == 1
    assert "not valid HTTP" in str(error)


async def test_a_body_that_does_not_decode_is_not_retried() -> None:
    handler, hits = answering(200, b"this is not gzip at all", {"Content-Encoding": "gzip"})
    async with serve({ORDER_PATH: handler}) as root:
        async with client_for(root) as client:
            error = await failure_of(lambda: client.orders.get(1))
    assert isinstance(error, dc.TransportError) and error.permanent
    assert error.attempts == 1 and hits == [1]


@pytest.mark.parametrize("root", ["https://::g/services/v2", "ftp://127.0.0.1/services/v2"])
async def test_an_invalid_url_is_not_retried(root: str) -> None:
    """The constructor refuses a base URL no request could go to; the send step still
    treats what aiohttp calls an invalid URL as permanent."""
    sends = Sends()
    async with aiohttp.ClientSession() as session:
        sender = SendStep(AiohttpTransport(session, 5.0), Events(sends.hooks))
        handler = compose([RetryMiddleware(dc.RetryPolicy(max_attempts=5), sends.hooks)], sender)
        error = await failure_of(lambda: handler(Request(method="GET", path="/x", root=root)))
    assert isinstance(error, dc.TransportError)
    assert error.permanent and not error.request_sent and error.attempts == 1
    assert sends.count == 1


async def test_a_reset_is_still_retried() -> None:
    server = Misbehaving(RESET)
    async with server as root:
        async with client_for(
            root, retry=dc.RetryPolicy(max_attempts=3, backoff_initial=0.01)
        ) as client:
            error = await failure_of(lambda: client.orders.get(1))
    assert isinstance(error, dc.TransportError) and not error.permanent
    assert error.attempts == 3 and server.requests == 3


# -- close() with calls in flight ----------------------------------------------------------------


async def _close_with_calls(client: dc.CertCentralClient, ready: Any) -> tuple[list[Any], float]:
    calls = [asyncio.ensure_future(client.orders.get(n)) for n in range(1, 51)]
    await wait_until(ready)
    started = time.monotonic()
    await client.close()
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 5.0)
    return outcomes, time.monotonic() - started


async def test_close_ends_50_calls_in_flight_promptly() -> None:
    server = Misbehaving(SILENT)
    async with server as root:
        client = client_for(root, timeout=30.0)
        outcomes, elapsed = await _close_with_calls(client, lambda: server.requests == 50)
        after = await failure_of(lambda: client.orders.get(1))
    assert [type(o).__name__ for o in outcomes] == ["ClientClosedError"] * 50
    assert elapsed < 4.0, elapsed  # not the 30 s timeout
    assert all(isinstance(o, dc.DigiCertError) for o in outcomes)
    assert isinstance(after, dc.ClientClosedError) and isinstance(after, RuntimeError)
    assert server.requests == 50  # nothing was re-sent on the way out


async def test_close_ends_calls_queued_for_the_rate_limit() -> None:
    server = Misbehaving(SILENT)
    waits: list[dc.RateLimitWait] = []
    async with server as root:
        client = client_for(
            root,
            timeout=30.0,
            rate_limit=dc.RateLimit(windows=[(5, 60.0)]),
            hooks=dc.Hooks(on_rate_limit_wait=[waits.append]),
        )
        outcomes, elapsed = await _close_with_calls(
            client, lambda: server.requests == 5 and bool(waits)
        )
    assert [type(o).__name__ for o in outcomes] == ["ClientClosedError"] * 50
    assert elapsed < 4.0 and server.requests == 5


async def test_close_on_a_borrowed_session_ends_the_calls_and_keeps_the_session() -> None:
    server = Misbehaving(SILENT)
    async with server as root, aiohttp.ClientSession() as session:
        client = client_for(root, timeout=30.0, session=session)
        outcomes, elapsed = await _close_with_calls(client, lambda: server.requests == 50)
        assert not session.closed
    assert {type(o) for o in outcomes} == {dc.ClientClosedError} and elapsed < 4.0


async def test_a_callers_own_cancellation_stays_a_cancellation() -> None:
    async with Misbehaving(SILENT) as root:
        async with client_for(root, timeout=30.0) as client:
            call = asyncio.ensure_future(client.orders.get(1))
            await asyncio.sleep(0.2)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert not client.closed
