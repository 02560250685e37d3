"""``digicert-async fake-server``: the fake CertCentral as a process, as a user runs it to
try the commands, and the commands run against it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator

import pytest

import digicert_async as dc
from digicert_async.cli import main

from .test_cli import run_cli
from .test_ordering import ov_order


class FakeServer:
    """A running ``fake-server`` subprocess and what it printed."""

    def __init__(self, process: asyncio.subprocess.Process, base_url: str, api_key: str) -> None:
        self.process = process
        self.base_url = base_url
        self.api_key = api_key


async def _start(*args: str) -> FakeServer:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "digicert_async", "fake-server", *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "DIGICERT_API_KEY"},
    )  # fmt: skip
    assert process.stdout is not None
    labelled: dict[str, str] = {}
    try:
        for _ in range(2):  # the two lines come at once, flushed, while it serves on
            line = await asyncio.wait_for(process.stdout.readline(), 15)
            name, _, value = line.decode().strip().partition(": ")
            labelled[name] = value
    except BaseException:
        process.kill()
        await process.wait()
        raise
    assert set(labelled) == {"base_url", "api_key"}, labelled
    return FakeServer(process, labelled["base_url"], labelled["api_key"])


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    started = await _start("--port", "0", "--orders", "12")
    try:
        yield started
    finally:
        if started.process.returncode is None:
            started.process.kill()
            await started.process.wait()


async def _stop(server: FakeServer, signum: int) -> tuple[int | None, str, str]:
    server.process.send_signal(signum)
    out, err = await asyncio.wait_for(server.process.communicate(), 15)
    return server.process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_fake_server_serves_a_real_client_until_stopped(
    server: FakeServer, signum: int
) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.base_url.endswith("/services/v2")
    async with dc.CertCentralClient(api_key=server.api_key, base_url=server.base_url) as client:
        orders = [order async for order in client.orders.list()]
        assert len(orders) == 12
        pending = next(o for o in orders if o.status == "pending")
        await client.orders.cancel(pending.id, note="tried from the test")
        assert (await client.orders.get(pending.id)).status == "canceled"
    async with dc.CertCentralClient(api_key="not-the-key", base_url=server.base_url) as client:
        with pytest.raises(dc.PermissionDeniedError):
            await client.orders.get(pending.id)

    code, out, err = await _stop(server, signum)
    assert code == 0, err
    assert out == ""  # nothing after the two lines
    how = "stopped by SIGTERM" if signum == signal.SIGTERM else "stopped"
    assert f"fake-server: {how} after" in err
    assert "4 requests answered" in err  # a page of 12, the cancel, the read, the refusal
    assert "Traceback" not in err


async def test_the_cli_runs_against_the_fake_server(server: FakeServer) -> None:
    """What the server's own hint says to try: cancel every order it holds."""
    ids = range(100001, 100013)
    run = await run_cli(
        "cancel", "--note", "test", "--base-url", server.base_url,
        api_key=server.api_key, stdin="".join(f"{i}\n" for i in ids),
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert sorted(line["order_id"] for line in run.lines) == list(ids)
    assert {line["outcome"] for line in run.lines} >= {"canceled", "not_cancelable"}
    code, _, err = await _stop(server, signal.SIGTERM)
    assert code == 0, err


@pytest.mark.slow
async def test_an_order_placed_on_the_fake_server_is_issued_by_itself() -> None:
    started = await _start("--orders", "0", "--issue-after", "0.5")
    try:
        async with dc.CertCentralClient(started.api_key, base_url=started.base_url) as client:
            created = await client.orders.create("ssl_basic", ov_order())
            assert (await client.orders.get(created.id)).status == "pending"
            for _ in range(100):  # its clock is the real one: the order is due in 0.5 s
                await asyncio.sleep(0.1)
                if (await client.orders.get(created.id)).status == "issued":
                    break
            assert (await client.orders.get(created.id)).status == "issued"
    finally:
        started.process.kill()
        await started.process.wait()


async def test_a_port_in_use_exits_2(server: FakeServer) -> None:
    port = server.base_url.split(":")[2].split("/")[0]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "digicert_async", "fake-server", "--port", port,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 2
    assert out == b"" and b"cannot listen" in err and b"Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--port", "65536"],
        ["--port", "http"],
        ["--orders", "-1"],
        ["--orders", "100001"],
        ["--issue-after", "-1"],
        ["--issue-after", "soon"],
    ],
)
def test_fake_server_usage_errors_exit_2(argv: list[str]) -> None:
    assert main(["fake-server", *argv]) == 2
