"""Proxies: ``CertCentralClient(trust_env=True)`` and the command line's ``--trust-env``
honour ``HTTP(S)_PROXY`` and ``NO_PROXY``; by default the environment is ignored, as
aiohttp does.

The proxy is a small forward proxy on loopback: with a plain-http base URL (the fake) a
client sends it each request in absolute form (``GET http://host:port/path``), and it
forwards the request to the origin with a ``Via`` header, so the fake's record shows
which requests came through it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

from .test_cli import _ids_by_status, run_cli

VIA = "1.1 loopback-test-proxy"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class ForwardProxy:
    """Plain-HTTP forward proxy: one request per client connection, to loopback only."""

    def __init__(self) -> None:
        self.request_lines: list[str] = []
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> ForwardProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")[:-2]
            self.request_lines.append(request_line)
            method, target, version = request_line.split(" ")
            scheme, _, authority_path = target.partition("://")
            authority, slash, path = authority_path.partition("/")
            host, _, port = authority.rpartition(":")
            assert scheme == "http" and host == "127.0.0.1", target  # loopback only
            length = 0
            kept = []
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
                if name.strip().lower() not in ("connection", "proxy-connection", "keep-alive"):
                    kept.append(line)
            body = await reader.readexactly(length)
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            forwarded = [f"{method} {slash}{path} {version}", *kept, f"Via: {VIA}"]
            upstream_writer.write(
                "\r\n".join([*forwarded, "Connection: close", "", ""]).encode("latin-1") + body
            )
            await upstream_writer.drain()
            # the origin closes after its answer (Connection: close): relay it all
            while chunk := await upstream_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
            upstream_writer.close()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ForwardProxy]:
    """A running proxy, and an environment whose only proxy variable is ``http_proxy``
    naming it (inherited by subprocesses too)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    async with ForwardProxy() as running:
        monkeypatch.setenv("http_proxy", running.url)
        yield running


def _through_proxy(fake: FakeCertCentral) -> list[bool]:
    return [request.headers.get("Via") == VIA for request in fake.requests]


async def test_trust_env_sends_every_request_through_the_proxy_from_the_environment(
    proxy: ForwardProxy, fake: FakeCertCentral
) -> None:
    async with dc.CertCentralClient(
        api_key=fake.api_key, base_url=fake.base_url, trust_env=True
    ) as client:
        order = await client.orders.get(fake.order_ids[0])
        await client.orders.add_note(order.id, "through the proxy")
    assert _through_proxy(fake) == [True, True]
    assert proxy.request_lines == [
        f"GET {fake.base_url}/order/certificate/{order.id} HTTP/1.1",
        f"POST {fake.base_url}/order/certificate/{order.id}/note HTTP/1.1",
    ]
    assert fake.notes(order.id)[-1]["text"] == "through the proxy"


async def test_by_default_the_proxy_variables_are_ignored(
    proxy: ForwardProxy, fake: FakeCertCentral
) -> None:
    async with dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        await client.orders.get(fake.order_ids[0])
    assert _through_proxy(fake) == [False]
    assert proxy.request_lines == []


async def test_no_proxy_is_honoured_with_trust_env(
    proxy: ForwardProxy, fake: FakeCertCentral, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    async with dc.CertCentralClient(
        api_key=fake.api_key, base_url=fake.base_url, trust_env=True
    ) as client:
        await client.orders.get(fake.order_ids[0])
    assert _through_proxy(fake) == [False]
    assert proxy.request_lines == []


async def test_a_borrowed_session_keeps_its_own_setting(
    proxy: ForwardProxy, fake: FakeCertCentral
) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:  # trust_env=False, the caller's choice
        async with dc.CertCentralClient(
            api_key=fake.api_key, base_url=fake.base_url, session=session, trust_env=True
        ) as client:
            await client.orders.get(fake.order_ids[0])
    assert _through_proxy(fake) == [False]


def test_trust_env_must_be_a_bool() -> None:
    with pytest.raises(dc.ValidationError, match="trust_env"):
        dc.CertCentralClient(api_key="k", trust_env="yes")  # type: ignore[arg-type]


async def test_cli_trust_env_goes_through_the_proxy(
    proxy: ForwardProxy, fake: FakeCertCentral
) -> None:
    pending = _ids_by_status(fake)["pending"][:2]
    run = await run_cli(
        "cancel", "-", "--note", "why", "--base-url", fake.base_url, "--trust-env",
        api_key=fake.api_key, stdin="".join(f"{i}\n" for i in pending),
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert {line["outcome"] for line in run.lines} == {"canceled"}
    assert _through_proxy(fake) == [True, True]
    assert len(proxy.request_lines) == 2
    assert "not used" not in run.stderr


async def test_cli_without_trust_env_says_the_proxy_is_not_used(
    proxy: ForwardProxy, fake: FakeCertCentral
) -> None:
    pending = _ids_by_status(fake)["pending"][:1]
    run = await run_cli(
        "cancel", "-", "--note", "why", "--base-url", fake.base_url,
        api_key=fake.api_key, stdin=f"{pending[0]}\n",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert _through_proxy(fake) == [False] and proxy.request_lines == []
    assert "HTTP_PROXY is set but not used; add --trust-env" in run.stderr
