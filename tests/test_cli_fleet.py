"""``digicert-async reissue``, ``download`` and ``poll --then-download``, end to end
against FakeCertCentral (the command runs as a subprocess, as in test_cli)."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from digicert_async.cli._download import CERTIFICATE_EXTENSIONS
from digicert_async.cli._input import parse_reissue_lines
from digicert_async.cli._terminal import UsageError
from digicert_async.testing import FakeCertCentral, Fault

from .test_cli import MISSING_ID, _spawn, run_cli
from .test_cli_readme import _blocks
from .test_fleet import CSR, reissue_posts, reissues_made, x509


def jsonl(rows: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def by_id(lines: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for line in lines:
        assert line["order_id"] not in found, line  # each order once
        found[line["order_id"]] = line
    return found


@pytest.fixture
async def still() -> AsyncIterator[FakeCertCentral]:
    """A fake whose reissues stay pending (its clock never moves by itself)."""
    async with FakeCertCentral(rate_limits=None, seed=3, issue_after=None) as server:
        yield server


# --------------------------------------------------------------------------- reissue


async def test_reissue_reads_json_lines_and_reports_each_order_once(
    still: FakeCertCentral, tmp_path: Path
) -> None:
    issued = [still.add_order("issued") for _ in range(3)]
    pending = still.add_order("pending")
    rows = [{"order_id": i, "csr": CSR} for i in [*issued, pending, MISSING_ID]]
    source = tmp_path / "fleet.jsonl"
    source.write_text(jsonl(rows), encoding="utf-8")
    run = await run_cli("reissue", str(source), "--base-url", still.base_url, api_key=still.api_key)
    assert run.code == 0, run.stderr
    lines = by_id(run.lines)
    assert sorted(lines) == sorted(row["order_id"] for row in rows)  # as each completes
    for order_id in issued:
        line = lines[order_id]
        assert line["outcome"] == "reissued" and isinstance(line["request_id"], int)
        assert line["replaced_certificate"]["id"] == still.certificate_ids(order_id)[0]
        assert still.order(order_id)["status"] == "reissue_pending"  # type: ignore[index]
    assert lines[pending] == {"order_id": pending, "outcome": "not_reissuable", "status": "pending"}
    assert lines[MISSING_ID] == {"order_id": MISSING_ID, "outcome": "not_found"}
    assert "reissued=3, not_reissuable=1, not_found=1" in run.stderr


async def test_reissue_reads_a_directory_of_csr_files(
    still: FakeCertCentral, tmp_path: Path
) -> None:
    ids = [still.add_order("issued") for _ in range(2)]
    for order_id in ids:
        (tmp_path / f"{order_id}.csr").write_text(CSR, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a CSR, not read", encoding="utf-8")
    run = await run_cli(
        "reissue", str(tmp_path), "--base-url", still.base_url, api_key=still.api_key
    )
    assert run.code == 0, run.stderr
    assert {line["order_id"]: line["outcome"] for line in run.lines} == dict.fromkeys(
        ids, "reissued"
    )
    for order_id in ids:
        (post,) = reissue_posts(still, order_id)
        assert post.json["certificate"]["csr"] == CSR


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (jsonl([{"order_id": 1, "csr": "<csr>"}]), "csrs[1]"),
        (jsonl([{"order_id": "1", "csr": CSR}]), "line 1: order_id"),
        (jsonl([{"order_id": 1}]), "line 1: csr"),
        (jsonl([{"order_id": 1, "csr": CSR}, {"order_id": 1, "csr": CSR}]), "given already"),
        ("not json\n", "line 1: not a JSON object"),
    ],
)
async def test_bad_reissue_input_exits_2_and_sends_nothing(
    still: FakeCertCentral, tmp_path: Path, content: str, message: str
) -> None:
    source = tmp_path / "fleet.jsonl"
    source.write_text(content, encoding="utf-8")
    run = await run_cli("reissue", str(source), "--base-url", still.base_url, api_key=still.api_key)
    assert run.code == 2, run.stderr
    assert message in run.stderr and run.stdout == ""
    assert still.requests == []


async def test_a_directory_with_a_badly_named_csr_exits_2(
    still: FakeCertCentral, tmp_path: Path
) -> None:
    (tmp_path / "web-1.csr").write_text(CSR, encoding="utf-8")
    run = await run_cli(
        "reissue", str(tmp_path), "--base-url", still.base_url, api_key=still.api_key
    )
    assert run.code == 2 and "not named <order_id>.csr" in run.stderr
    assert still.requests == []


@pytest.mark.slow
async def test_failed_and_unknown_reissues_resume_without_a_second_reissue(
    still: FakeCertCentral, tmp_path: Path
) -> None:
    refused = still.add_order("issued")  # a 500: nothing applied, resumable
    lost = still.add_order("issued")  # no answer, nothing applied: unknown
    fine = still.add_order("issued")
    still.inject(Fault.INTERNAL_ERROR, method="POST", path_contains=f"/{refused}/reissue")
    still.inject(Fault.RESET_BEFORE, method="POST", path_contains=f"/{lost}/reissue")
    source = tmp_path / "fleet.jsonl"
    source.write_text(jsonl([{"order_id": i, "csr": CSR} for i in (refused, lost, fine)]))
    resume = tmp_path / "left.jsonl"
    run = await run_cli(
        "reissue", str(source), "--base-url", still.base_url, "--resume-file", str(resume),
        api_key=still.api_key,
    )  # fmt: skip
    assert run.code == 1
    outcomes = {line["order_id"]: line["outcome"] for line in run.lines}
    assert outcomes == {refused: "failed", lost: "unknown", fine: "reissued"}
    # the resume file holds the input of the failed one only, ready to be given back
    assert [json.loads(line) for line in resume.read_text().splitlines()] == [
        {"order_id": refused, "csr": CSR}
    ]
    assert "1 order left to do" in run.stderr and "--check-pending" in run.stderr

    resumed = await run_cli(
        "reissue", str(resume), "--base-url", still.base_url, api_key=still.api_key
    )
    assert resumed.code == 0 and resumed.lines[0]["outcome"] == "reissued"
    # the unknown one's own line, with its CSR added, is input for the rerun
    unknown = [{**line, "csr": CSR} for line in run.lines if line["outcome"] == "unknown"]
    rerun = await run_cli(
        "reissue", "-", "--check-pending", "--base-url", still.base_url,
        api_key=still.api_key, stdin=jsonl(unknown),
    )  # fmt: skip
    assert rerun.code == 0, rerun.stderr
    assert rerun.lines[0]["order_id"] == lost and rerun.lines[0]["outcome"] == "reissued"
    for order_id in (refused, lost, fine):
        assert reissues_made(still, order_id) == 1


@pytest.mark.slow
async def test_sigint_during_reissue_reports_every_order_once(tmp_path: Path) -> None:
    async with FakeCertCentral(rate_limits=None, slow_seconds=0.3, issue_after=None) as fake:
        ids = [fake.add_order("issued") for _ in range(24)]
        fake.inject(Fault.SLOW, method="POST", times=100)
        source = tmp_path / "fleet.jsonl"
        source.write_text(jsonl([{"order_id": i, "csr": CSR} for i in ids]))
        resume = tmp_path / "left.jsonl"
        process = await _spawn(
            [
                "reissue", str(source), "--concurrency", "2", "--base-url", fake.base_url,
                "--resume-file", str(resume),
            ],
            api_key=fake.api_key,
        )  # fmt: skip
        try:
            for _ in range(200):
                if sum(1 for r in fake.requests if r.answered_status is not None) >= 6:
                    break
                await asyncio.sleep(0.05)
            process.send_signal(signal.SIGINT)
            out, err = await asyncio.wait_for(process.communicate(), 15)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 130, err.decode()
        lines = by_id([json.loads(line) for line in out.decode().splitlines()])
        assert sorted(lines) == sorted(ids)
        outcomes = {i: line["outcome"] for i, line in lines.items()}
        assert "not_attempted" in outcomes.values()
        for order_id, outcome in outcomes.items():
            posted = bool(reissue_posts(fake, order_id))
            assert posted == (outcome in ("reissued", "unknown")), (order_id, outcome)
        left = [json.loads(line)["order_id"] for line in resume.read_text().splitlines()]
        assert left == [i for i in ids if outcomes[i] in ("failed", "not_attempted")]
        assert "Traceback" not in err.decode()


def test_parse_reissue_lines_keeps_other_keys_out() -> None:
    lines = [json.dumps({"order_id": 5, "csr": CSR, "outcome": "unknown"}), "", "\t"]
    assert parse_reissue_lines(lines, "x") == {5: CSR}
    with pytest.raises(UsageError, match="x line 1"):
        parse_reissue_lines([json.dumps({"order_id": True, "csr": CSR})], "x")


# --------------------------------------------------------------------------- download


async def test_download_writes_one_whole_file_per_order(tmp_path: Path) -> None:
    async with FakeCertCentral(rate_limits=None, issue_after=None) as fake:
        issued = [fake.add_order("issued") for _ in range(3)]
        pending = fake.add_order("pending")
        out = tmp_path / "certs"
        ids = "".join(f"{i}\n" for i in [*issued, pending, MISSING_ID])
        run = await run_cli(
            "download", "-", "--out", str(out), "--base-url", fake.base_url,
            api_key=fake.api_key, stdin=ids,
        )  # fmt: skip
        assert run.code == 1  # two orders have no certificate to download
        lines = by_id(run.lines)
        for order_id in issued:
            path = out / f"{order_id}.pem"
            assert lines[order_id] == {
                "order_id": order_id,
                "outcome": "downloaded",
                "path": str(path),
                "bytes": path.stat().st_size,
            }
            certificate = fake.certificate(fake.certificate_ids(order_id)[0])
            assert certificate is not None
            assert path.read_text() == certificate.pem_all
        assert lines[pending]["outcome"] == lines[MISSING_ID]["outcome"] == "failed"
        assert "BadRequestError" in lines[pending]["error"]
        assert "NotFoundError" in lines[MISSING_ID]["error"]
        assert sorted(p.name for p in out.iterdir()) == sorted(f"{i}.pem" for i in issued)


@pytest.mark.slow
async def test_download_never_overwrites_without_force(tmp_path: Path) -> None:
    async with FakeCertCentral(rate_limits=None, issue_after=None) as fake:
        order_id = fake.add_order("issued")
        out = tmp_path / "certs"
        out.mkdir()
        kept = out / f"{order_id}.p7b"
        kept.write_bytes(b"mine")
        args = ["download", "-", "--out", str(out), "--format", "p7b", "--base-url", fake.base_url]
        run = await run_cli(*args, api_key=fake.api_key, stdin=f"{order_id}\n")
        assert run.code == 0
        assert run.lines == [{"order_id": order_id, "outcome": "exists", "path": str(kept)}]
        assert kept.read_bytes() == b"mine"
        assert fake.requests == []  # an existing file is not even downloaded
        forced = await run_cli(*args, "--force", api_key=fake.api_key, stdin=f"{order_id}\n")
        assert forced.code == 0 and forced.lines[0]["outcome"] == "downloaded"
        assert kept.read_bytes()[:1] == b"\x30"  # a DER PKCS#7 bundle replaced it
        assert [p.name for p in out.iterdir()] == [kept.name]  # no temporary file left


def test_every_format_has_an_extension() -> None:
    assert CERTIFICATE_EXTENSIONS["pem_all"] == "pem"
    assert CERTIFICATE_EXTENSIONS["p7b"] == "p7b"
    assert CERTIFICATE_EXTENSIONS["default"] == "zip"


# --------------------------------------------------------------------------- poll, then download


@pytest.mark.slow
async def test_reissue_then_poll_downloads_only_new_certificates(tmp_path: Path) -> None:
    async with FakeCertCentral(rate_limits=None, issue_after=0.6, realtime=True) as fake:
        ids = [fake.add_order("issued") for _ in range(4)]
        before = {i: fake.certificate(fake.certificate_ids(i)[0]) for i in ids}
        source = tmp_path / "fleet.jsonl"
        source.write_text(jsonl([{"order_id": i, "csr": CSR} for i in ids]))
        reissued = await run_cli(
            "reissue", str(source), "--base-url", fake.base_url, api_key=fake.api_key
        )
        assert reissued.code == 0, reissued.stderr
        # DigiCert turned one reissue down: the order is issued again with its old certificate
        rejected = ids[0]
        fake.set_status(rejected, "issued")
        out = tmp_path / "certs"
        polled = await run_cli(
            "poll", "-", "--until", "issued", "--interval", "0.2", "--deadline", "10",
            "--then-download", str(out), "--base-url", fake.base_url,
            api_key=fake.api_key, stdin=reissued.stdout,
        )  # fmt: skip
        assert polled.code == 1, polled.stderr  # the rejected one has no new certificate
        files = sorted(p.name for p in out.iterdir())
        assert files == sorted(f"{i}.pem" for i in ids[1:])
        for order_id in ids[1:]:
            current = fake.certificate(fake.certificate_ids(order_id)[-1])
            old = before[order_id]
            assert current is not None and old is not None
            text = (out / f"{order_id}.pem").read_text()
            assert text == current.pem_all and text != old.pem_all
        statuses = [line for line in polled.lines if line["order_id"] == rejected]
        assert statuses[-1]["status"] == "issued" and statuses[-1]["reissued"] is False
        assert "the reissue did not happen" in polled.stderr
        assert "downloaded=3" in polled.stderr


# --------------------------------------------------------------------------- the README


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("openssl") is None, reason="the README's commands use openssl")
async def test_the_readme_replace_a_fleet_commands_run_as_written(tmp_path: Path) -> None:
    server_block, commands = _blocks("bash", after="## Replace a fleet")[:2]
    port = str(_free_port())
    server_args = shlex.split(server_block.strip())
    assert server_args[:2] == ["digicert-async", "fake-server"] and "8080" in server_args
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "digicert_async",
        *[port if arg == "8080" else arg for arg in server_args[1:]],
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        printed = {}
        for _ in range(2):
            line = await asyncio.wait_for(server.stdout.readline(), 15)
            name, _, value = line.decode().strip().partition(": ")
            printed[name] = value
        # `digicert-async` as the reader's shell finds it: this interpreter's module
        shim = tmp_path / "bin" / "digicert-async"
        shim.parent.mkdir()
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m digicert_async "$@"\n')
        shim.chmod(0o755)
        script = commands.replace("8080", port).replace(
            "export DIGICERT_API_KEY=...", f"export DIGICERT_API_KEY={printed['api_key']}"
        )
        env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}
        run = await asyncio.create_subprocess_exec(
            "bash", "-euo", "pipefail", "-c", script,
            cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(run.communicate(), 120)
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), 15)
    assert run.returncode == 0, err.decode()
    reissued = [
        json.loads(line)["order_id"]
        for line in (tmp_path / "reissued.jsonl").read_text().splitlines()
        if json.loads(line)["outcome"] == "reissued"
    ]
    assert reissued  # the fake's mix holds issued orders
    assert sorted(out.decode().split()) == sorted(f"{i}.pem" for i in reissued)  # `ls certs`
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    for order_id in reissued:
        leaf = x509.load_pem_x509_certificate((tmp_path / "certs" / f"{order_id}.pem").read_bytes())
        key = serialization.load_pem_private_key(
            (tmp_path / "keys" / f"{order_id}.key").read_bytes(), password=None
        )
        # the downloaded certificate is the new one: it holds the key made for it
        assert leaf.public_key() == key.public_key()


async def test_download_resume_file_lists_the_orders_without_a_file(tmp_path: Path) -> None:
    async with FakeCertCentral(rate_limits=None, issue_after=None) as fake:
        issued = fake.add_order("issued")
        pending = fake.add_order("pending")
        resume = tmp_path / "left.txt"
        ids = tmp_path / "ids.txt"
        ids.write_text(f"{issued}\n{pending}\n{MISSING_ID}\n")
        out = tmp_path / "certs"
        run = await run_cli(
            "download", str(ids), "--out", str(out), "--format", "default",
            "--resume-file", str(resume), "--base-url", fake.base_url, api_key=fake.api_key,
        )  # fmt: skip
        assert run.code == 1
        assert resume.read_text() == f"{pending}\n{MISSING_ID}\n"
        assert [p.name for p in out.iterdir()] == [f"{issued}.zip"]
        assert (out / f"{issued}.zip").read_bytes()[:2] == b"PK"
        assert "2 orders without a file" in run.stderr and str(resume) in run.stderr


async def test_poll_then_download_of_plain_ids_downloads_what_is_issued(tmp_path: Path) -> None:
    async with FakeCertCentral(rate_limits=None, issue_after=0.5, realtime=True) as fake:
        ids = [fake.add_order("pending") for _ in range(3)]
        out = tmp_path / "certs"
        run = await run_cli(
            "poll", "-", "--until", "issued", "--interval", "0.2", "--deadline", "10",
            "--then-download", str(out), "--format", "pem_noroot",
            "--base-url", fake.base_url, api_key=fake.api_key,
            stdin="".join(f"{i}\n" for i in ids),
        )  # fmt: skip
        assert run.code == 0, run.stderr
        assert sorted(p.name for p in out.iterdir()) == sorted(f"{i}.pem" for i in ids)
        saved = [line for line in run.lines if "outcome" in line]
        assert sorted(line["order_id"] for line in saved) == sorted(ids)
        assert {line["outcome"] for line in saved} == {"downloaded"}
