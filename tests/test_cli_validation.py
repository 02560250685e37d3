"""``domains``, ``validate`` and ``reissue --dcv-publish-command`` against FakeCertCentral,
run as the user runs them (``python -m digicert_async``). The publish command is a real
shell command: it appends the record to a file, which the test copies into the fake's
DNS, as a DNS provider would publish it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from digicert_async.testing import FakeCertCentral

from .test_cli import run_cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands")

# The command a user would write around their DNS tool: here it notes each record.
NOTE_RECORD = (
    'printf "%s %s %s %s\\n" "$DCV_ACTION" "$DCV_RECORD_TYPE" "$DCV_RECORD_NAME"'
    ' "$DCV_RECORD_VALUE" >> "$DNS_FILE"'
)


@contextlib.asynccontextmanager
async def dns_provider(fake: FakeCertCentral, path: Path) -> AsyncIterator[list[str]]:
    """Copies what the publish command notes in ``path`` into the fake's DNS; yields every
    line it saw."""
    path.touch()  # noqa: ASYNC240  # a test's file, before anything runs
    seen: list[str] = []

    async def follow() -> None:
        done = 0
        while True:
            lines = path.read_text().splitlines()  # noqa: ASYNC240  # small, local
            for line in lines[done:]:
                action, kind, name, value = line.split(" ")
                (fake.dns.put if action == "publish" else fake.dns.remove)(kind, name, value)
                seen.append(line)
            done = len(lines)
            await asyncio.sleep(0.02)

    task = asyncio.ensure_future(follow())
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_domains_lists_those_expiring_within_the_window() -> None:
    day = 86400
    async with FakeCertCentral(validation_reuse=100 * day) as fake:
        soon = fake.add_domain("soon.example")
        fake.advance(80 * day)
        later = fake.add_domain("later.example")
        fake.add_domain("never.example", validated=False)
        run = await run_cli("domains", "--base-url", fake.base_url, "--no-shared-budget",
                            api_key=fake.api_key)  # fmt: skip
        assert run.code == 0, run.stderr
        by_name = {line["name"]: line for line in run.lines}
        assert set(by_name) == {"soon.example", "later.example", "never.example"}
        assert by_name["never.example"]["expires"] is None
        assert by_name["soon.example"]["domain_id"] == soon
        assert 19 <= by_name["soon.example"]["days_left"] <= 20
        window = await run_cli(
            "domains", "--expiring-within", "30d", "--base-url", fake.base_url,
            "--no-shared-budget", api_key=fake.api_key,
        )  # fmt: skip
        assert [line["name"] for line in window.lines] == ["soon.example"]
        assert later not in [line["domain_id"] for line in window.lines]


async def test_domains_is_a_table_on_a_terminal() -> None:
    import pty

    async with FakeCertCentral() as fake:
        fake.add_domain("a.example")
        fake.add_domain("evil\x1b[2J.example", validated=False)
        controller, terminal = pty.openpty()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "digicert_async", "domains", "--base-url", fake.base_url,
            "--no-shared-budget", stdout=terminal, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "DIGICERT_API_KEY": fake.api_key},
        )  # fmt: skip
        os.close(terminal)
        await asyncio.wait_for(process.wait(), 20)
        received = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(controller, 65536):
                received += chunk
        os.close(controller)
        text = received.decode()
        assert process.returncode == 0
        assert text.splitlines()[0].split() == ["NAME", "EXPIRES", "DAYS", "ID", "ORGANIZATION"]
        assert "a.example" in text and "\x1b[2J" not in text and "\\x1b" in text


async def test_validate_publishes_with_the_command_and_reports_each_input(tmp_path: Path) -> None:
    async with FakeCertCentral(dcv_required=True, issue_after=0) as fake:
        order_id = fake.add_order("pending", common_name="shop.example.com")
        fake.add_domain("corp.example", validated=False)
        dns_file = tmp_path / "dns.txt"
        async with dns_provider(fake, dns_file) as seen:
            run = await run_cli(
                "validate", "-", "--publish-command", NOTE_RECORD, "--propagation", "0.1",
                "--base-url", fake.base_url, "--no-shared-budget",
                api_key=fake.api_key, stdin=f"{order_id}\ncorp.example\nnope.example\n",
                env={"DNS_FILE": str(dns_file)}, timeout=60,
            )  # fmt: skip
        assert run.code == 0, run.stderr
        outcomes = {line["target"]: line["outcome"] for line in run.lines}
        assert outcomes == {order_id: "validated", "corp.example": "validated",
                            "nope.example": "not_found"}  # fmt: skip
        actions = [line.split(" ")[0] for line in seen]
        assert actions.count("publish") == actions.count("unpublish") == 2
        assert fake.dns.records() == []
        assert fake.order(order_id)["status"] == "issued"  # type: ignore[index]


async def test_validate_without_a_publish_command_is_bad_usage() -> None:
    run = await run_cli("validate", "-", api_key="key-0123456789", stdin="example.com\n")
    assert run.code == 2 and "--publish-command" in run.stderr


async def test_reissue_with_a_dcv_publish_command_finishes_a_stale_fleet(tmp_path: Path) -> None:
    import json

    from .test_fleet import CSR

    async with FakeCertCentral(dcv_required=True, validation_reuse=10, issue_after=0) as fake:
        orders = [fake.add_order("issued", common_name=f"h{i}.stale.example") for i in range(2)]
        fake.add_domain("stale.example")
        fake.advance(10)
        dns_file = tmp_path / "dns.txt"
        lines = "".join(json.dumps({"order_id": i, "csr": CSR}) + "\n" for i in orders)
        async with dns_provider(fake, dns_file):
            run = await run_cli(
                "reissue", "-", "--dcv-publish-command", NOTE_RECORD, "--propagation", "0.1",
                "--base-url", fake.base_url, "--no-shared-budget", api_key=fake.api_key,
                stdin=lines, env={"DNS_FILE": str(dns_file)}, timeout=60,
            )  # fmt: skip
        assert run.code == 0, run.stderr
        assert [(line["outcome"], line["dcv"]) for line in run.lines] == [
            ("reissued", "validated"), ("reissued", "validated")
        ]  # fmt: skip
        fake.advance(1)
        assert [fake.order(i)["status"] for i in orders] == ["issued", "issued"]  # type: ignore[index]
