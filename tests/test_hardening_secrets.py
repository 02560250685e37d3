"""The API key stays secret wherever an exception can travel, and the constructor
refuses a key or a timeout it cannot use.

Each failure is caught as a caller would catch it, then walked the way Sentry and
``pytest --showlocals`` record it (:func:`secret_sightings`): no frame local, argument,
attribute or chained exception may show the key.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import digicert_async as dc

from .test_hardening_servers import (
    ANSWER,
    NOT_HTTP,
    RESET,
    SILENT,
    Misbehaving,
    failure_of,
    http_answer,
    secret_sightings,
    server_tls,
)

SECRET = "Zq7-hardening-secret-0b5e9a"
# A body that fails as it is read: the failure comes with aiohttp's response at hand.
BAD_GZIP = (
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n"
    b"Connection: close\r\n\r\nnot gzip!"
)


def client_for(root: str, **options: Any) -> dc.CertCentralClient:
    options.setdefault("rate_limit", dc.RateLimit.disabled())
    options.setdefault(
        "retry", dc.RetryPolicy(max_attempts=2, backoff_initial=0.01, backoff_max=0.01)
    )
    options.setdefault("timeout", 5.0)
    return dc.CertCentralClient(api_key=SECRET, base_url=root, **options)


def assert_no_secret(error: BaseException) -> None:
    assert secret_sightings(error, SECRET) == []


async def _fails_against(
    behaviour: str, answer: bytes = b"", **options: Any
) -> tuple[BaseException, Misbehaving]:
    server = Misbehaving(behaviour, answer)
    async with server as root:
        async with client_for(root, **options) as client:
            error = await failure_of(lambda: client.orders.get(1))
    return error, server


@pytest.mark.parametrize(
    ("behaviour", "answer", "options", "expected"),
    [
        (RESET, b"", {}, dc.TransportError),
        (SILENT, b"", {"timeout": 0.3}, dc.TransportError),
        (NOT_HTTP, b"", {}, dc.TransportError),
        (ANSWER, http_answer(403, b'{"errors":[{"code":"access_denied"}]}'), {}, dc.APIError),
        (ANSWER, http_answer(503, b"<html>busy</html>", "text/html"), {}, dc.ServerError),
        (ANSWER, http_answer(404, b"<html>no such page</html>", "text/html"), {}, dc.NotFoundError),
        (ANSWER, http_answer(200, b"<html>hello</html>", "text/html"), {}, dc.ResponseError),
        (ANSWER, http_answer(200, b"[" * 5000), {"max_response_bytes": 1000}, dc.ResponseError),
        (ANSWER, BAD_GZIP, {}, dc.TransportError),
    ],
    ids=["reset", "timeout", "not-http", "403", "503", "404-html", "200-html", "oversized", "gzip"],
)
async def test_no_failure_of_a_call_shows_the_key(
    behaviour: str, answer: bytes, options: dict[str, Any], expected: type[dc.DigiCertError]
) -> None:
    error, server = await _fails_against(behaviour, answer, **options)
    assert isinstance(error, expected), repr(error)
    assert server.requests >= 1  # the request, key and all, did reach the server
    assert_no_secret(error)
    if isinstance(error, dc.TransportError):
        # nothing of aiohttp's (whose exceptions carry the headers) is chained
        assert error.__cause__ is None and error.__context__ is None


async def test_connection_refused_shows_no_key(unused_tcp_port: int) -> None:
    async with client_for(f"http://127.0.0.1:{unused_tcp_port}/services/v2") as client:
        error = await failure_of(lambda: client.orders.add_note(1, "x"))
    assert isinstance(error, dc.TransportError) and error.request_sent is False
    assert error.attempts == 2
    assert_no_secret(error)


async def test_deadline_and_close_failures_show_no_key() -> None:
    async with Misbehaving(SILENT) as root:
        async with client_for(root, retry=dc.RetryPolicy(deadline=0.3)) as client:
            late = await failure_of(lambda: client.orders.get(1))
        client = client_for(root, timeout=30.0)
        call = asyncio.ensure_future(failure_of(lambda: client.orders.get(2)))
        await asyncio.sleep(0.2)
        await client.close()
        closed = await call
    assert isinstance(late, dc.TransportError) and late.timeout
    assert isinstance(closed, dc.ClientClosedError)
    assert_no_secret(late)
    assert_no_secret(closed)
    assert closed.__context__ is None  # not the CancelledError, whose frames run through aiohttp


async def test_tls_failure_shows_no_key(tmp_path: Path) -> None:
    context, _ = server_tls(tmp_path)
    server = Misbehaving(SILENT, tls=context)
    async with server as root:
        async with client_for(root) as client:
            error = await failure_of(lambda: client.orders.get(1))
    assert isinstance(error, dc.TransportError) and error.permanent
    assert_no_secret(error)


async def test_a_borrowed_session_failure_shows_no_key() -> None:
    async with Misbehaving(NOT_HTTP) as root, aiohttp.ClientSession() as session:
        async with client_for(root, session=session) as client:
            error = await failure_of(lambda: client.orders.get(1))
    assert isinstance(error, dc.TransportError)
    assert_no_secret(error)


# -- the constructor ----------------------------------------------------------------------------


class _Sealed:
    """Hands a key to the constructor from a frame that shows nothing of it: the walk
    covers the caller's frames too, and those must not be what it finds."""

    def __init__(self, key: object) -> None:
        self.key = key

    def __repr__(self) -> str:
        return "<sealed>"


def _construction_error(key: object = SECRET, **options: Any) -> BaseException:
    sealed = _Sealed(key)
    del key
    try:
        dc.CertCentralClient(api_key=sealed.key, **options)  # type: ignore[arg-type]
    except Exception as exc:
        return exc
    raise AssertionError("the constructor was expected to refuse")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("timeout", math.inf),
        ("timeout", math.nan),
        ("timeout", 0),
        ("timeout", -1.5),
        ("timeout", "30"),
        ("max_response_bytes", 0),
        ("max_response_bytes", 1.5),
        ("max_response_bytes", True),
        ("region", "mars"),
        ("base_url", "http://example.com/services/v2"),
        ("base_url", "https://a..b/services/v2"),
        ("base_url", "https://[::g]/services/v2"),
    ],
)
def test_a_refused_argument_shows_no_key(option: str, value: object) -> None:
    """The constructor's own frame holds ``api_key`` as a parameter: it must let go of
    it before anything (another argument's check) can raise."""
    error = _construction_error(**{option: value})
    assert isinstance(error, dc.ValidationError) and error.field == option
    assert_no_secret(error)


def test_timeout_must_be_finite_and_positive() -> None:
    for bad in (math.inf, -math.inf, math.nan, 0, 0.0, -1, None, "30", True):
        with pytest.raises(dc.ValidationError) as caught:
            dc.CertCentralClient(api_key="k", timeout=bad)  # type: ignore[arg-type]
        assert caught.value.field == "timeout"
    assert dc.CertCentralClient(api_key="k", timeout=0.5).timeout == 0.5
    assert dc.CertCentralClient(api_key="k", timeout=10**6).timeout == 1e6


@pytest.mark.parametrize(
    "bad",
    [
        SECRET[:6] + "\x00" + SECRET[6:],
        SECRET + "\n",
        SECRET[:4] + "\r\n" + SECRET[4:],
        SECRET[:9] + " " + SECRET[9:],
        "\t" + SECRET,
        SECRET + "\u00e9",
        SECRET[:3] + "\u200b" + SECRET[3:],
        SECRET + "\x7f",
        " ",
        "",
    ],
    ids=[
        "nul",
        "newline",
        "crlf",
        "space",
        "tab",
        "non-ascii",
        "zero-width",
        "del",
        "blank",
        "empty",
    ],
)
def test_api_key_is_printable_ascii_without_whitespace(bad: str) -> None:
    error = _construction_error(bad)
    assert isinstance(error, dc.ValidationError) and error.field == "api_key"
    # neither the key nor any long piece of it is in the message
    message = str(error)
    assert SECRET[:8] not in message and SECRET[-8:] not in message
    assert_no_secret(error)


def test_api_key_must_be_a_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGICERT_API_KEY", raising=False)  # None reads the key from there
    for bad in (None, 123, b"bytes-key", ["k"]):
        error = _construction_error(bad)
        assert isinstance(error, dc.ValidationError) and error.field == "api_key"


def test_every_printable_ascii_character_is_allowed() -> None:
    key = "".join(chr(code) for code in range(0x21, 0x7F))
    client = dc.CertCentralClient(api_key=key)
    assert key not in repr(client) and key not in repr(vars(client))


async def test_a_good_key_still_reaches_the_server() -> None:
    server = Misbehaving(ANSWER, http_answer(404, b'{"errors":[{"code":"not_found|order"}]}'))
    async with server as root:
        async with client_for(root) as client:
            error = await failure_of(lambda: client.orders.get(1))
    assert type(error) is dc.NotFoundError and server.requests == 1


_CALLS: dict[str, Callable[[dc.CertCentralClient], Awaitable[object]]] = {
    "get": lambda c: c.orders.get(1),
    "cancel": lambda c: c.orders.cancel(1, note="n"),
    "add_note": lambda c: c.orders.add_note(1, "n"),
}


@pytest.mark.parametrize("name", sorted(_CALLS))
async def test_every_kind_of_call_fails_clean_on_a_protocol_error(name: str) -> None:
    async with Misbehaving(NOT_HTTP) as root:
        async with client_for(root) as client:
            error = await failure_of(lambda: _CALLS[name](client))
    assert isinstance(error, dc.TransportError) and error.permanent
    assert_no_secret(error)
