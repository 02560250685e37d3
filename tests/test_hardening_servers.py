"""Tools of the hardening tests, and tests that the tools do what the others rely on.

- :class:`Misbehaving`: a loopback TCP server that reads a request and then misbehaves
  as told (resets, stays silent, answers something that is not HTTP, answers raw bytes).
- :func:`secret_sightings`: where a string shows in what an error tracker (Sentry) or
  ``pytest --showlocals`` records of an exception: its message and arguments, its
  attributes, the locals of every frame of its traceback, the exceptions it chains,
  each value rendered with ``repr`` and containers walked.
- :func:`self_signed_cert`: a throwaway certificate for 127.0.0.1, made with ``openssl``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import struct
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

# -- a misbehaving server -----------------------------------------------------------------------

RESET = "reset"  # read the request, then close the connection with a TCP RST
SILENT = "silent"  # read the request, never answer
NOT_HTTP = "not-http"  # answer with a line that is not an HTTP status line
ANSWER = "answer"  # answer with the given raw bytes, then close


class Misbehaving:
    """``async with Misbehaving(SILENT) as root:`` serves on 127.0.0.1 until the block
    ends; ``root`` is a base URL ending in ``/services/v2``. ``requests`` counts the
    requests read, ``connections`` the connections accepted."""

    def __init__(
        self, behaviour: str, answer: bytes = b"", *, tls: ssl.SSLContext | None = None
    ) -> None:
        self.behaviour = behaviour
        self.answer = answer
        self.tls = tls
        self.requests = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._handlers: set[asyncio.Task[Any]] = set()

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        port = self._server.sockets[0].getsockname()[1]
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{port}/services/v2"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        for writer in self._writers:
            writer.transport.abort()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 2.0)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.append(writer)
        self.connections += 1
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.transport.abort()
            self._handlers.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await reader.readexactly(length)
        self.requests += 1
        if self.behaviour == RESET:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        elif self.behaviour == SILENT:
            await reader.read()  # until the client gives up
        elif self.behaviour == NOT_HTTP:
            writer.write(b"HELLO THERE, NOT HTTP\r\n\r\n")
            await writer.drain()
        else:
            writer.write(self.answer)
            await writer.drain()


def http_answer(status: int, body: bytes, content_type: str = "application/json") -> bytes:
    """A complete HTTP/1.1 answer that closes the connection."""
    return (
        f"HTTP/1.1 {status} Whatever\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


# -- what an error tracker records -------------------------------------------------------------


def secret_sightings(exc: BaseException, secret: str) -> list[str]:
    """Every place ``secret`` shows in what is recorded of ``exc``, the way Sentry and
    ``pytest --showlocals`` record it: ``str`` and ``repr`` of the exception, ``repr``
    of its arguments and attributes (``request_info`` among them), of the locals of
    every frame of its traceback, and the same for every exception it chains
    (``__context__``, ``__cause__``); dicts, lists, tuples and sets are walked."""
    sightings: list[str] = []
    seen: set[int] = set()

    def render(value: object, where: str, depth: int = 0) -> None:
        if id(value) in seen or depth > 8:
            return
        seen.add(id(value))
        try:
            text = repr(value)
        except Exception:  # a repr that fails shows nothing (Sentry's safe_repr)
            text = ""
        if secret in text:
            sightings.append(where)
        if isinstance(value, BaseException):
            walk(value, where)
        elif isinstance(value, dict):
            for key, item in list(value.items()):
                render(key, f"{where}[key]", depth + 1)
                render(item, f"{where}[{key!r}]", depth + 1)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for index, item in enumerate(list(value)):
                render(item, f"{where}[{index}]", depth + 1)

    def walk(error: BaseException, where: str) -> None:
        if secret in str(error):
            sightings.append(f"{where}: str")
        for index, argument in enumerate(error.args):
            render(argument, f"{where}.args[{index}]")
        for name, value in vars(error).items():
            render(value, f"{where}.{name}")
        tb = error.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            for name, value in frame.f_locals.items():
                render(value, f"{where} <{frame.f_code.co_name}> local {name}")
            tb = tb.tb_next
        for link in ("__context__", "__cause__"):
            linked = getattr(error, link)
            if linked is not None:
                render(linked, f"{where}.{link}")

    render(exc, type(exc).__name__)
    return sightings


async def failure_of(call: Callable[[], Awaitable[object]]) -> BaseException:
    """The exception ``call()`` raises (the call must fail)."""
    try:
        await call()
    except Exception as exc:
        return exc
    raise AssertionError("the call was expected to fail")


# -- a throwaway certificate ---------------------------------------------------------------------


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1 and localhost, made with ``openssl``; the test
    skips when there is no ``openssl``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl binary to make a throwaway certificate with")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def server_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a throwaway self-signed certificate, and its file (which
    a client may trust)."""
    cert, key = self_signed_cert(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


# -- the tools themselves ------------------------------------------------------------------------

KEY = "tool-check-key-7d1c"


async def _raw_get(root: str, **options: Any) -> BaseException:
    async with aiohttp.ClientSession() as session:

        async def get() -> None:
            async with session.get(root + "/x", headers={"X-DC-DEVKEY": KEY}, **options) as answer:
                await answer.read()

        return await failure_of(get)


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        (RESET, aiohttp.ClientConnectionError),
        (NOT_HTTP, aiohttp.ClientResponseError),
    ],
)
async def test_misbehaviours_give_the_failure_they_stand_for(
    behaviour: str, expected: type[BaseException]
) -> None:
    async with Misbehaving(behaviour) as root:
        error = await _raw_get(root)
    assert isinstance(error, expected), repr(error)


async def test_silent_server_times_out_and_counts_requests() -> None:
    server = Misbehaving(SILENT)
    async with server as root:
        error = await _raw_get(root, timeout=aiohttp.ClientTimeout(total=0.3))
    assert isinstance(error, asyncio.TimeoutError)
    assert server.requests == 1 and server.connections == 1


async def test_the_walk_finds_the_key_where_raw_aiohttp_leaves_it() -> None:
    """What the library must not do, raw aiohttp does: its protocol error carries the
    request headers in request_info, and its frames hold them as locals. The walk sees
    both, so it can see a leak of the library's."""
    async with Misbehaving(NOT_HTTP) as root:
        error = await _raw_get(root)
    sightings = secret_sightings(error, KEY)
    assert isinstance(error, aiohttp.ClientResponseError) and KEY in repr(error.request_info)
    assert "ClientResponseError.args[0]" in sightings  # the request_info
    assert any(" local " in where for where in sightings), sightings


def test_the_walk_looks_into_chains_containers_and_locals() -> None:
    def fails(token: dict[str, list[str]]) -> None:
        raise ValueError("nothing in the message")

    try:
        try:
            fails({"headers": [KEY]})
        except ValueError:
            raise RuntimeError("outer") from None
    except RuntimeError as exc:
        outer = exc
    assert secret_sightings(outer, KEY) == [
        "RuntimeError.__context__ <fails> local token",
        "RuntimeError.__context__ <fails> local token['headers']",
        "RuntimeError.__context__ <fails> local token['headers'][0]",
    ]
    assert secret_sightings(ValueError("clean"), KEY) == []
