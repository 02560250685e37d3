"""``digicert-async poll --webhook-port N``: a pushed event wakes the poll from the shell;
a missing or unusable secret is bad usage, and nothing is sent."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import aiohttp
import pytest

from digicert_async.testing import FakeCertCentral

from .test_cli import _spawn, run_cli

SECRET = "cli-webhook-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("secret", [None, "", "short-secret"])
async def test_a_missing_or_short_secret_is_bad_usage(
    fake: FakeCertCentral, secret: str | None
) -> None:
    env = {} if secret is None else {"DIGICERT_WEBHOOK_SECRET": secret}
    run = await run_cli(
        "poll", "-", "--webhook-port", str(free_port()), "--base-url", fake.base_url,
        api_key=fake.api_key, stdin="100001\n", env=env,
    )  # fmt: skip
    assert run.code == 2, run.stderr
    assert "DIGICERT_WEBHOOK_SECRET" in run.stderr
    if secret:
        assert secret not in run.stderr
    assert fake.requests_received == 0


@pytest.mark.parametrize("port", ["0", "65536", "http"])
async def test_a_bad_port_is_bad_usage(fake: FakeCertCentral, port: str) -> None:
    run = await run_cli("poll", "-", "--webhook-port", port, api_key=fake.api_key, stdin="1\n")
    assert run.code == 2 and "--webhook-port" in run.stderr
    assert fake.requests_received == 0


@pytest.mark.slow
async def test_a_push_wakes_the_poll_from_the_shell(fake: FakeCertCentral) -> None:
    order_id = fake.add_order("pending")
    port = free_port()
    process = await _spawn(
        ["poll", "-", "--until", "issued", "--interval", "3600", "--deadline", "60",
         "--webhook-port", str(port), "--base-url", fake.base_url],
        api_key=fake.api_key, stdin=True, env={"DIGICERT_WEBHOOK_SECRET": SECRET},
    )  # fmt: skip
    assert process.stdin is not None
    process.stdin.write(f"{order_id}\n".encode())
    process.stdin.close()
    event = {"event": "certificate_issued", "data": {"order_id": order_id, "certificate_id": 1}}
    try:
        for _ in range(400):  # wait for the first look
            if any(r.path.endswith(f"/{order_id}") or "order/certificate" in r.path
                   for r in fake.requests):  # fmt: skip
                break
            await asyncio.sleep(0.05)
        fake.set_status(order_id, "issued")
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/digicert"
            async with session.post(url, json=event) as refused:
                assert refused.status == 401  # no key
            for _ in range(100):  # the listener may still be starting
                try:
                    async with session.post(
                        url, json=event, headers={"X-WEBHOOK-KEY": SECRET}
                    ) as answer:
                        assert answer.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert lines[-1] == {"order_id": order_id, "status": "issued", "previous_status": "pending"}
    assert not any(r.path.endswith("/status-changes") for r in fake.requests)
    assert SECRET not in err.decode() + out.decode()


@pytest.mark.slow
async def test_then_download_saves_each_certificate_before_the_poll_ends(tmp_path: Path) -> None:
    async with FakeCertCentral(rate_limits=None, issue_after=None) as fake:
        early, late = fake.add_order("pending"), fake.add_order("pending")
        fake.set_status(early, "issued")
        out = tmp_path / "certs"
        process = await _spawn(
            ["poll", "-", "--until", "issued", "--interval", "0.1", "--deadline", "60",
             "--then-download", str(out), "--base-url", fake.base_url],
            api_key=fake.api_key, stdin=True,
        )  # fmt: skip
        assert process.stdin is not None
        process.stdin.write(f"{early}\n{late}\n".encode())
        process.stdin.close()
        try:
            for _ in range(600):
                if (out / f"{early}.pem").exists():
                    break
                await asyncio.sleep(0.05)
            # the early order's file is there while the late one is still pending
            assert (out / f"{early}.pem").exists()
            assert process.returncode is None
            fake.set_status(late, "issued")
            stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, stderr.decode()
        assert sorted(p.name for p in out.iterdir()) == sorted(f"{i}.pem" for i in (early, late))
        lines = [json.loads(line) for line in stdout.decode().splitlines()]
        saved = [i for i, line in enumerate(lines) if line.get("outcome") == "downloaded"]
        issued_late = next(
            i
            for i, line in enumerate(lines)
            if line["order_id"] == late and line.get("status") == "issued"
        )
        assert saved[0] < issued_late  # the early download's line came before the late issue
        assert "downloaded=2" in stderr.decode()
