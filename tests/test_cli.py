"""The ``digicert-async`` command line, end to end against FakeCertCentral.

The command runs as a subprocess (``python -m digicert_async``) while the fake serves from
this test's event loop. A run from start to end (``run_cli``) is forked from a process that
imported the package once (``_cli_forks.py`` says what that changes and what it does not);
a run that is signalled, or watched on a terminal, is a new interpreter (``_spawn``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from digicert_async import __version__
from digicert_async.cli import API_KEY_ENV, main
from digicert_async.cli._input import parse_ids
from digicert_async.cli._terminal import UsageError
from digicert_async.testing import FakeCertCentral, Fault

from ._cli_forks import fork_cli

MISSING_ID = 999_999
BAR_MARKS = ("\r", "%|", "order/s", "it/s")


@attrs.frozen
class Run:
    code: int | None
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[dict[str, Any]]:
        """stdout as JSON lines (every line must be one)."""
        return [json.loads(line) for line in self.stdout.splitlines()]


def _env(api_key: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != API_KEY_ENV}
    if api_key is not None:
        env[API_KEY_ENV] = api_key
    env.update(extra or {})
    return env


async def _spawn(
    args: Sequence[str],
    *,
    api_key: str | None,
    stdin: bool = False,
    env: Mapping[str, str] | None = None,
    stderr: int = asyncio.subprocess.PIPE,
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "digicert_async",
        *args,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        env=_env(api_key, env),
    )


async def run_cli(
    *args: str,
    api_key: str | None,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 20.0,
) -> Run:
    process = fork_cli(args, _env(api_key, env), stdin=stdin is not None)
    try:
        out, err = await asyncio.wait_for(
            process.communicate(None if stdin is None else stdin.encode()), timeout
        )
    finally:
        process.kill()  # if it has not ended in time
    run = Run(process.returncode, out.decode(), err.decode())
    if api_key:
        assert api_key not in run.stdout + run.stderr
    return run


def _ids_by_status(fake: FakeCertCentral) -> dict[str, list[int]]:
    by_status: dict[str, list[int]] = {}
    for order_id in fake.order_ids:
        order = fake.order(order_id)
        assert order is not None
        by_status.setdefault(order["status"], []).append(order_id)
    return by_status


def _by_id(line: Mapping[str, Any]) -> int:
    order_id: int = line["order_id"]
    return order_id


def _write(path: Path, lines: Sequence[object]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- cancel


async def test_cancel_from_file_reports_each_id_once(fake: FakeCertCentral, tmp_path: Path) -> None:
    by_status = _ids_by_status(fake)
    pending, waiting, issued, canceled = (
        by_status[s][0] for s in ("pending", "waiting_pickup", "issued", "canceled")
    )
    ids_file = _write(
        tmp_path / "ids.txt",
        [
            "# orders to decommission",
            pending,
            "",
            f"{waiting}   # the staging host",
            issued,
            canceled,
            MISSING_ID,
            pending,
        ],
    )
    run = await run_cli(
        "cancel", str(ids_file), "--note", "decommissioned", "--base-url", fake.base_url,
        api_key=fake.api_key,
    )  # fmt: skip

    assert run.code == 0, run.stderr
    # in completion order, so compared as a set
    expected: list[dict[str, Any]] = [
        {"order_id": pending, "outcome": "canceled", "status": "canceled"},
        {"order_id": waiting, "outcome": "canceled", "status": "canceled"},
        {"order_id": issued, "outcome": "not_cancelable", "status": "issued"},
        {"order_id": canceled, "outcome": "already_canceled", "status": "canceled"},
        {"order_id": MISSING_ID, "outcome": "not_found"},
    ]
    assert sorted(run.lines, key=_by_id) == sorted(expected, key=_by_id)
    outcomes = {line["order_id"]: line["outcome"] for line in run.lines}
    assert len(run.lines) == 5
    assert outcomes == {
        pending: "canceled",
        waiting: "canceled",
        issued: "not_cancelable",
        canceled: "already_canceled",
        MISSING_ID: "not_found",
    }
    puts = [r for r in fake.requests if r.method == "PUT"]
    assert len(puts) == 5  # the duplicate was sent once
    assert fake.order(pending)["status"] == "canceled"  # type: ignore[index]
    # stderr: the summary only (piped: no progress bar), and not the note or the key
    assert not any(mark in run.stderr for mark in BAR_MARKS)
    assert "canceled=2" in run.stderr and "not_found=1" in run.stderr
    assert "1 duplicate id" in run.stderr


@pytest.mark.parametrize("ids_arg", [["-"], []], ids=["dash", "no-file"])
async def test_cancel_reads_stdin(fake: FakeCertCentral, ids_arg: list[str]) -> None:
    pending = _ids_by_status(fake)["pending"][:3]
    run = await run_cli(
        "cancel", *ids_arg, "--note", "why", "--base-url", fake.base_url,
        api_key=fake.api_key, stdin="".join(f"{i}\n" for i in pending),
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert sorted(line["order_id"] for line in run.lines) == pending
    assert {line["outcome"] for line in run.lines} == {"canceled"}


async def test_cancel_failure_exits_1_and_writes_the_resume_file(
    fake: FakeCertCentral, tmp_path: Path
) -> None:
    pending = _ids_by_status(fake)["pending"][:2]
    fake.inject(Fault.INTERNAL_ERROR, method="PUT", path_contains=str(pending[0]))
    resume = tmp_path / "left.txt"
    run = await run_cli(
        "cancel", "-", "--note", "why", "--base-url", fake.base_url,
        "--resume-file", str(resume),
        api_key=fake.api_key, stdin=f"{pending[0]}\n{pending[1]}\n",
    )  # fmt: skip
    assert run.code == 1
    outcomes = {line["order_id"]: line for line in run.lines}
    assert outcomes[pending[0]]["outcome"] == "failed"
    assert outcomes[pending[0]]["error"].startswith("ServerError")
    assert outcomes[pending[1]]["outcome"] == "canceled"
    assert resume.read_text() == f"{pending[0]}\n"
    assert "1 order left to do" in run.stderr and str(resume) in run.stderr


async def test_cancel_with_nothing_left_writes_an_empty_resume_file(
    fake: FakeCertCentral, tmp_path: Path
) -> None:
    resume = _write(tmp_path / "left.txt", [123])
    issued = _ids_by_status(fake)["issued"][0]
    run = await run_cli(
        "cancel", "-", "--note", "why", "--base-url", fake.base_url, "--resume-file", str(resume),
        api_key=fake.api_key, stdin=f"{issued}\n",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert run.lines == [{"order_id": issued, "outcome": "not_cancelable", "status": "issued"}]
    assert resume.read_text() == ""


async def test_bad_id_lines_exit_2_and_send_nothing(fake: FakeCertCentral, tmp_path: Path) -> None:
    ids_file = _write(tmp_path / "ids.txt", ["100001", "# fine", "10o02", "", "-5", "100003"])
    run = await run_cli(
        "cancel", str(ids_file), "--note", "why", "--base-url", fake.base_url,
        api_key=fake.api_key,
    )  # fmt: skip
    assert run.code == 2
    assert run.stdout == ""
    assert "line 3" in run.stderr and "'10o02'" in run.stderr
    assert "line 5" in run.stderr and "nothing was sent" in run.stderr
    assert fake.requests == []


async def test_missing_key_exits_2_and_sends_nothing(fake: FakeCertCentral) -> None:
    run = await run_cli("poll", "-", "--base-url", fake.base_url, api_key=None, stdin="100001\n")
    assert run.code == 2
    assert API_KEY_ENV in run.stderr
    assert run.stdout == ""
    assert fake.requests == []


@pytest.mark.slow
async def test_sigint_reports_every_id_once_and_how_to_resume(
    tmp_path: Path,
) -> None:
    async with FakeCertCentral(rate_limits=None, orders=0, slow_seconds=0.3) as fake:
        ids = [fake.add_order("pending") for _ in range(24)]
        fake.inject(Fault.SLOW, method="PUT", times=100)
        ids_file = _write(tmp_path / "ids.txt", [*ids, ids[0]])
        resume = tmp_path / "left.txt"
        process = await _spawn(
            [
                "cancel", str(ids_file), "--note", "why", "--concurrency", "2",
                "--base-url", fake.base_url, "--resume-file", str(resume),
            ],
            api_key=fake.api_key,
        )  # fmt: skip
        try:
            # Let a few cancellations finish, then interrupt with two in flight. An answer
            # the fake gave may not be read yet (at most two: concurrency 2), so six
            # answered make at least four the command has seen.
            for _ in range(200):
                answered = [r for r in fake.requests if r.answered_status is not None]
                if len(answered) >= 6:
                    break
                await asyncio.sleep(0.05)
            process.send_signal(signal.SIGINT)
            out, err = await asyncio.wait_for(process.communicate(), 15)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    stdout, stderr = out.decode(), err.decode()
    assert process.returncode == 130, stderr
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert sorted(line["order_id"] for line in lines) == sorted(ids)  # each once
    outcomes = {line["order_id"]: line["outcome"] for line in lines}
    done = [i for i in ids if outcomes[i] == "canceled"]
    left = [i for i in ids if outcomes[i] in ("failed", "not_attempted")]
    assert len(done) >= 4 and len(left) >= 10 and len(done) + len(left) == len(ids)
    assert "not_attempted" in outcomes.values()
    interrupted = [line for line in lines if line["outcome"] == "failed"]
    assert all("interrupted" in line["error"] for line in interrupted)
    assert [int(i) for i in resume.read_text().split()] == left
    assert "interrupted" in stderr and f"{len(left)} orders left to do" in stderr
    assert str(resume) in stderr
    assert "Traceback" not in stderr


# --------------------------------------------------------------------------- poll


@pytest.mark.slow
async def test_poll_until_issued_while_the_fake_issues(fake: FakeCertCentral) -> None:
    ids = [fake.add_order("pending") for _ in range(3)]
    process = await _spawn(
        ["poll", "-", "--until", "issued", "--interval", "0.2", "--base-url", fake.base_url],
        api_key=fake.api_key,
        stdin=True,
    )
    assert process.stdin is not None
    process.stdin.write("".join(f"{i}\n" for i in ids).encode())
    process.stdin.close()
    try:
        for _ in range(200):  # wait for the first look
            if sum(r.method == "GET" for r in fake.requests) >= len(ids):
                break
            await asyncio.sleep(0.05)
        for order_id in ids:
            await asyncio.sleep(0.15)
            fake.set_status(order_id, "issued")
        out, err = await asyncio.wait_for(process.communicate(), 15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    lines = [json.loads(line) for line in out.decode().splitlines()]
    for order_id in ids:
        assert [line for line in lines if line["order_id"] == order_id] == [
            {"order_id": order_id, "status": "pending", "previous_status": None},
            {"order_id": order_id, "status": "issued", "previous_status": "pending"},
        ]
    assert "3 reached issued" in err.decode()


@pytest.mark.slow
async def test_poll_deadline_exits_1_and_lists_what_is_left(
    fake: FakeCertCentral, tmp_path: Path
) -> None:
    issued = _ids_by_status(fake)["issued"][0]
    pending = fake.add_order("pending")
    resume = tmp_path / "left.txt"
    run = await run_cli(
        "poll", "-", "--until", "issued", "--interval", "0.1", "--deadline", "2",
        "--base-url", fake.base_url, "--resume-file", str(resume),
        api_key=fake.api_key, stdin=f"{issued}\n{pending}\n{MISSING_ID}\n",
    )  # fmt: skip
    assert run.code == 1
    assert {line["order_id"]: line["status"] for line in run.lines} == {
        issued: "issued",
        pending: "pending",
        MISSING_ID: "not_found",
    }
    assert resume.read_text() == f"{pending}\n"
    assert "1 reached issued" in run.stderr and "1 not found" in run.stderr
    assert "1 left (pending=1)" in run.stderr


# --------------------------------------------------------------------------- progress


def _shadow_tqdm(tmp_path: Path) -> dict[str, str]:
    """An environment in which ``import tqdm`` fails, installed or not."""
    package = tmp_path / "shadow" / "tqdm"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('tqdm hidden by the test')\n")
    paths = [str(tmp_path / "shadow"), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(p for p in paths if p)}


async def _run_on_terminal(
    args: Sequence[str],
    *,
    api_key: str,
    stdin: str,
    env: Mapping[str, str] | None = None,
    columns: int = 120,
) -> tuple[int | None, str, str]:
    """Run with stderr on a pseudo-terminal ``columns`` wide (0: one that reports no
    width); returns (code, stdout, what the terminal got)."""
    import fcntl
    import pty
    import struct
    import termios

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    received = bytearray()
    loop = asyncio.get_running_loop()

    def drain() -> None:
        with contextlib.suppress(OSError):
            received.extend(os.read(controller, 65536))

    loop.add_reader(controller, drain)
    try:
        process = await _spawn(args, api_key=api_key, stdin=True, env=env, stderr=terminal)
        os.close(terminal)
        out, _ = await asyncio.wait_for(process.communicate(stdin.encode()), 20)
        await asyncio.sleep(0.1)
        drain()
    finally:
        loop.remove_reader(controller)
        os.close(controller)
    return process.returncode, out.decode(), received.decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
async def test_progress_bar_on_a_terminal_only(fake: FakeCertCentral) -> None:
    pytest.importorskip("tqdm")
    ids = _ids_by_status(fake)["pending"]
    code, out, terminal = await _run_on_terminal(
        ["cancel", "--note", "why", "--base-url", fake.base_url, "-"],
        api_key=fake.api_key,
        stdin="".join(f"{i}\n" for i in ids),
    )
    assert code == 0
    assert len(out.splitlines()) == len(ids)  # the bar never reaches stdout
    assert "order/s" in terminal and f"{len(ids)}/{len(ids)}" in terminal
    assert "canceled=" in terminal


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
async def test_without_tqdm_a_hint_replaces_the_bar(fake: FakeCertCentral, tmp_path: Path) -> None:
    ids = _ids_by_status(fake)["pending"][:2]
    code, out, terminal = await _run_on_terminal(
        ["cancel", "--note", "why", "--base-url", fake.base_url, "-"],
        api_key=fake.api_key,
        stdin="".join(f"{i}\n" for i in ids),
        env=_shadow_tqdm(tmp_path),
    )
    assert code == 0
    assert len(out.splitlines()) == len(ids)
    assert "digicert-async[cli]" in terminal
    assert "order/s" not in terminal


# --------------------------------------------------------------------------- demo


@pytest.mark.slow
async def test_demo_runs_every_job_and_exits_0() -> None:
    run = await run_cli("demo", "--orders", "24", api_key=None, timeout=30)
    assert run.code == 0, run.stdout + run.stderr
    text = run.stdout
    assert "== 1/3  Bulk cancellation" in text and "== 2/3  Polling" in text
    assert "== 3/3  Replace a fleet" in text
    assert "reissue: reissued=12, not_reissuable=1" in text
    assert "12 of 12 orders replaced with a new certificate" in text
    assert "DCV: validated=4 (stale.example: token published, checked, 0 records left)" in text
    assert "Check: every outcome as expected." in text
    assert "canceled              8" in text and "not_found             3" in text
    assert "8 of 8 orders reached a terminal status" in text
    assert "pending -> issued" in text
    assert "4 pushed, each push waking the poll" in text and "(push lost:" in text
    assert "0 answered 429" in text
    assert "== Done in" in text
    assert not any(mark in run.stderr for mark in BAR_MARKS)


# --------------------------------------------------------------------------- in process


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert f"digicert-async {__version__}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command",
    [[], ["cancel"], ["poll"], ["demo"], ["fake-server"], ["reissue"], ["download"]],
)
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    assert "usage: digicert-async" in capsys.readouterr().out


def test_cancel_help_documents_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    main(["cancel", "--help"])
    text = capsys.readouterr().out
    assert "exit status" in text and "not_cancelable" in text and "--resume-file" in text


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["cancel", "ids.txt"],  # --note is required
        ["cancel", "ids.txt", "--note", "x", "--concurrency", "0"],
        ["cancel", "ids.txt", "--note", "x", "--deadline", "-1"],
        ["cancel", "ids.txt", "--note", "x", "--region", "apac"],
        ["poll", "ids.txt", "--until", " , "],
        ["poll", "ids.txt", "--interval", "soon"],
        ["demo", "--orders", "0"],
        ["download", "ids.txt"],  # --out is required
        ["download", "ids.txt", "--out", "certs", "--format", "pfx"],
        ["reissue", "in.jsonl", "--concurrency", "0"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_missing_key_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    ids_file = _write(tmp_path / "ids.txt", [100001])
    assert main(["cancel", str(ids_file), "--note", "x"]) == 2
    assert f"{API_KEY_ENV} is not set" in capsys.readouterr().err


def test_unreadable_ids_file_and_bad_base_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(API_KEY_ENV, "secret-key-value")
    assert main(["poll", str(tmp_path / "nope.txt")]) == 2
    assert "cannot read " in capsys.readouterr().err
    ids_file = _write(tmp_path / "ids.txt", [100001])
    base = "http://example.com/services/v2"  # plain http to a remote host: refused
    assert main(["poll", str(ids_file), "--base-url", base]) == 2
    err = capsys.readouterr().err
    assert "base_url" in err and "secret-key-value" not in err


def test_parse_ids() -> None:
    assert parse_ids(["1\n", "  2 # two\n", "\n", "# 3\n", "0004\n"], "f") == [1, 2, 4]
    with pytest.raises(UsageError, match=r"f line 2: '0' is not an order id"):
        parse_ids(["1", "0"], "f")
    with pytest.raises(UsageError, match=r"and 2 more bad lines"):
        parse_ids(["x"] * 7, "f")


# --------------------------------------------------------------------------- bounds


@pytest.mark.slow
async def test_cancel_deadline_holds_against_a_silent_server(tmp_path: Path) -> None:
    async with FakeCertCentral(rate_limits=None, slow_seconds=600) as silent:
        ids = [silent.add_order("pending") for _ in range(5)]
        silent.inject(Fault.SLOW, times=100)  # nothing is ever answered in time
        resume = tmp_path / "left.txt"
        loop = asyncio.get_running_loop()
        started = loop.time()
        run = await run_cli(
            "cancel",
            "-",
            "--note",
            "x",
            "--deadline",
            "2",
            "--resume-file",
            str(resume),
            "--base-url",
            silent.base_url,
            api_key=silent.api_key,
            stdin="".join(f"{i}\n" for i in ids),
            timeout=60,
        )
        elapsed = loop.time() - started
    assert run.code == 1, run.stderr
    # Cut by the deadline, well before the first request's 30 s timeout could end it (the
    # rest is starting and ending a Python process, seconds on a loaded machine).
    assert elapsed < 2 + 20
    assert sorted(_by_id(line) for line in run.lines) == ids
    assert {line["outcome"] for line in run.lines} <= {"failed", "not_attempted"}
    assert all("deadline" in line["error"] for line in run.lines), run.lines
    assert sorted(int(i) for i in resume.read_text().split()) == ids


async def test_a_wrong_base_url_stops_the_cancel_and_exits_1(fake: FakeCertCentral) -> None:
    ids = fake.order_ids[:30]
    run = await run_cli(
        "cancel",
        "-",
        "--note",
        "x",
        "--base-url",
        fake.base_url.removesuffix("/services/v2"),
        api_key=fake.api_key,
        stdin="".join(f"{i}\n" for i in ids),
    )
    assert run.code == 1
    outcomes = [line["outcome"] for line in run.lines]
    assert "not_found" not in outcomes and outcomes.count("not_attempted") >= len(ids) - 20
    assert "base_url" in run.stderr
