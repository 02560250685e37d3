"""Without ``cryptography`` (the ``fake`` extra) the fake still serves, and wherever it
would need it, it says exactly what to install: a download, the demo, fake-server."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from importlib import metadata

import pytest

import digicert_async as dc
from digicert_async.cli import _demo, _demo_script
from digicert_async.testing import FakeCertCentral

INSTALL = "python -m pip install 'digicert-async[fake]'"
# Runs the command line with cryptography unimportable, as after `pip install .` alone.
_WITHOUT_CRYPTOGRAPHY = (
    "import sys; sys.modules['cryptography'] = None; "
    "from digicert_async.cli import main; sys.exit(main(sys.argv[1:]))"
)


def _cli_without_cryptography(*args: str) -> list[str]:
    return [sys.executable, "-c", _WITHOUT_CRYPTOGRAPHY, *args]


async def test_a_download_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    async with FakeCertCentral(issue_after=60) as fake:
        issued = fake.add_order("issued")
        certificate = fake.certificate(fake.certificate_ids(issued)[-1])
        assert certificate is not None and certificate.serial_number is not None
        assert certificate.pem is None and fake.root_pem is None
        async with dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            assert (await client.orders.get(issued)).status == "issued"  # the rest works
            with pytest.raises(dc.ServerError) as caught:
                await client.certificates.download_for_order(issued)
            [item] = [item async for item in dc.download_certificates(client, [issued])]
    assert caught.value.code == "fake_needs_cryptography"
    assert INSTALL in str(caught.value) and "'.[fake]'" in str(caught.value)
    assert caught.value.attempts == 1  # a 500: not retried
    assert isinstance(item.error, dc.ServerError) and INSTALL in str(item.error)


async def test_a_pending_certificate_is_still_not_yet_issued(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    async with FakeCertCentral() as fake:
        pending = fake.add_order("pending")
        async with dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            with pytest.raises(dc.BadRequestError) as caught:
                await client.certificates.download_for_order(pending)
    assert caught.value.code == "invalid_status"


def test_the_demo_says_what_to_install_before_it_starts() -> None:
    run = subprocess.run(
        _cli_without_cryptography("demo"), capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert run.stdout == ""  # nothing started
    assert run.stderr.startswith("digicert-async demo: error: ")
    assert INSTALL in run.stderr and "'cryptography'" in run.stderr


async def test_fake_server_says_what_to_install_and_serves_on() -> None:
    process = await asyncio.create_subprocess_exec(
        *_cli_without_cryptography("fake-server", "--port", "0", "--orders", "3"),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        lines = []
        while not any(INSTALL in line for line in lines):
            line = await asyncio.wait_for(process.stderr.readline(), 15)
            assert line, "fake-server ended before it said what to install"
            lines.append(line.decode())
        assert process.returncode is None  # still serving
    finally:
        process.terminate()
        await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0
    assert "until then downloads are refused" in lines[-1]


@pytest.mark.parametrize(
    ("results", "verdict"),
    [
        ((True, True, True), "every job accounted for every order"),
        ((True, True, False), "part 3/3 (replace a fleet) fell short of its check (see above)"),
        (
            (False, True, False),
            "part 1/3 (cancel) and 3/3 (replace a fleet) fell short of its check (see above)",
        ),
    ],
)
def test_the_demo_names_the_part_that_fell_short(
    results: tuple[bool, bool, bool],
    verdict: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cancel_ok, poll_ok, fleet_ok = results

    async def cancel(*_: object) -> bool:
        return cancel_ok

    async def poll(*_: object) -> bool:
        return poll_ok

    async def fleet(*_: object) -> bool:
        return fleet_ok

    monkeypatch.setattr(_demo_script, "_demo_cancel", cancel)
    monkeypatch.setattr(_demo_script, "_demo_poll", poll)
    monkeypatch.setattr(_demo_script, "_demo_fleet", fleet)
    status = _demo.run(argparse.Namespace(orders=3, quiet=True, progress=False))
    assert status == (0 if all(results) else 1)
    assert capsys.readouterr().out.splitlines()[-1].endswith(f": {verdict} ==")


def test_the_demo_shows_why_a_download_failed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = RuntimeError("the fake refused it")

    async def refuse_every_download(
        _client: object, order_ids: list[int], **_: object
    ) -> AsyncIterator[dc.CertificateDownload]:
        for order_id in order_ids:
            yield dc.CertificateDownload(order_id=order_id, error=refused)

    monkeypatch.setattr(_demo_script, "download_certificates", refuse_every_download)
    status = _demo.run(argparse.Namespace(orders=3, quiet=True, progress=False))
    out = capsys.readouterr().out
    assert status == 1
    assert out.count(" not downloaded: ") == 3  # the first three of twelve
    assert "not downloaded: the fake refused it" in out
    assert "part 3/3 (replace a fleet) fell short" in out


def test_the_fake_extra_brings_cryptography_and_the_cli_extra_includes_it() -> None:
    requires = metadata.requires("digicert-async") or []
    for extra in ("fake", "cli", "testing"):
        assert any(
            line.startswith("cryptography>=") and f"extra == '{extra}'" in line.replace('"', "'")
            for line in requires
        ), (extra, requires)
    core = [line for line in requires if "extra ==" not in line]
    assert not any(line.startswith("cryptography") for line in core)
