"""The command line under the conditions of issue 9: SIGTERM, planted symlinks, a BOM,
narrow terminals, misspelt statuses and proxies.

End-to-end checks run ``python -m digicert_async`` as a subprocess against FakeCertCentral
(the helpers come from ``test_cli``); the formatting checks run in process.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import signal
import sys
from pathlib import Path

import pytest

from digicert_async.cli._atomic_write import write_file_atomically
from digicert_async.cli._input import parse_ids
from digicert_async.cli._parser import build_parser
from digicert_async.cli._terminal import Progress, UsageError, fit_counts
from digicert_async.models import ORDER_STATUSES
from digicert_async.testing import FakeCertCentral, Fault

from .test_cli import _ids_by_status, _run_on_terminal, _spawn, _write, run_cli

# --------------------------------------------------------------------------- SIGTERM


async def _wait_for_answers(fake: FakeCertCentral, count: int) -> None:
    for _ in range(200):
        if sum(r.answered_status is not None for r in fake.requests) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} answers after 10 s")


@pytest.mark.slow
async def test_sigterm_mid_cancel_reports_every_id_writes_the_resume_file_exits_143(
    tmp_path: Path,
) -> None:
    async with FakeCertCentral(rate_limits=None, orders=0, slow_seconds=0.3) as fake:
        ids = [fake.add_order("pending") for _ in range(24)]
        fake.inject(Fault.SLOW, method="PUT", times=100)
        ids_file = _write(tmp_path / "ids.txt", ids)
        resume = tmp_path / "left.txt"
        process = await _spawn(
            [
                "cancel", str(ids_file), "--note", "why", "--concurrency", "2",
                "--base-url", fake.base_url, "--resume-file", str(resume),
            ],
            api_key=fake.api_key,
        )  # fmt: skip
        try:
            # mid-job: some done, two in flight. Six sent, so that four have been read: with
            # two at a time, two answers may be sent and not yet read when the signal lands.
            await _wait_for_answers(fake, 6)
            process.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(process.communicate(), 15)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    stdout, stderr = out.decode(), err.decode()
    assert process.returncode == 143, stderr
    lines = [json.loads(line) for line in stdout.splitlines()]
    assert sorted(line["order_id"] for line in lines) == sorted(ids)  # each once
    outcomes = {line["order_id"]: line["outcome"] for line in lines}
    done = [i for i in ids if outcomes[i] == "canceled"]
    left = [i for i in ids if outcomes[i] in ("failed", "not_attempted")]
    assert len(done) >= 4 and len(left) >= 10
    assert sorted(done + left) == sorted(ids)  # every id is accounted for, one way or the other
    assert "not_attempted" in outcomes.values()
    # the resume file holds exactly the ids left, in input order
    assert [int(i) for i in resume.read_text().split()] == left
    assert all(fake.order(i)["status"] == "canceled" for i in done)  # type: ignore[index]
    assert "interrupted by SIGTERM" in stderr
    assert f"{len(left)} orders left to do" in stderr and str(resume) in stderr
    assert "Traceback" not in stderr


@pytest.mark.slow
async def test_sigterm_mid_poll_exits_143_with_the_ids_left(tmp_path: Path) -> None:
    async with FakeCertCentral(rate_limits=None, orders=0) as fake:
        ids = [fake.add_order("pending") for _ in range(3)]
        resume = tmp_path / "left.txt"
        process = await _spawn(
            [
                "poll", str(_write(tmp_path / "ids.txt", ids)), "--until", "issued",
                "--interval", "0.2", "--base-url", fake.base_url, "--resume-file", str(resume),
            ],
            api_key=fake.api_key,
        )  # fmt: skip
        try:
            await _wait_for_answers(fake, len(ids))  # the first look is done
            fake.set_status(ids[0], "issued")
            for _ in range(100):  # until the poll has seen it
                if any(str(ids[0]) in r.path for r in fake.requests[len(ids) :]):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(process.communicate(), 15)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    stderr = err.decode()
    assert process.returncode == 143, stderr
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert {"order_id": ids[0], "status": "issued", "previous_status": "pending"} in lines
    assert [int(i) for i in resume.read_text().split()] == ids[1:]
    assert "interrupted by SIGTERM" in stderr and "2 left (pending=2)" in stderr
    assert "Traceback" not in stderr


def _catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (Linux: /proc's SigCgt mask)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
async def test_sigterm_before_the_job_starts_exits_143_without_a_traceback(
    fake: FakeCertCentral,
) -> None:
    """While the ids are still being read from stdin, no event loop runs yet."""
    process = await _spawn(
        ["cancel", "-", "--note", "why", "--base-url", fake.base_url],
        api_key=fake.api_key,
        stdin=True,
    )
    try:
        for _ in range(300):  # until the command's own SIGTERM handler is in place
            if _catches(process.pid, signal.SIGTERM):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the command never took over SIGTERM")
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 143, err.decode()
    assert out == b""
    assert "interrupted by SIGTERM" in err.decode() and b"Traceback" not in err
    assert fake.requests == []


# --------------------------------------------------------------------------- output files


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_resume_file_replaces_a_planted_symlink_and_leaves_its_target_alone(
    fake: FakeCertCentral, tmp_path: Path
) -> None:
    pending = _ids_by_status(fake)["pending"][:2]
    fake.inject(Fault.INTERNAL_ERROR, method="PUT", path_contains=str(pending[0]))
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    resume = tmp_path / "left.txt"
    resume.symlink_to(victim)
    # the name the old code wrote through first, planted too
    (tmp_path / "left.txt.partial").symlink_to(victim)
    before = _names(tmp_path)

    run = await run_cli(
        "cancel", "-", "--note", "why", "--base-url", fake.base_url, "--resume-file", str(resume),
        api_key=fake.api_key, stdin="".join(f"{i}\n" for i in pending),
    )  # fmt: skip

    assert run.code == 1, run.stderr
    assert victim.read_text() == "precious\n"
    assert not resume.is_symlink() and resume.is_file()
    assert resume.read_text() == f"{pending[0]}\n"
    assert _names(tmp_path) == before  # no temporary file left


def test_write_file_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_file_atomically(str(target), "one\n")
    write_file_atomically(str(target), "two\n")
    assert target.read_text() == "two\n"
    mode = target.stat().st_mode & 0o777
    assert mode & 0o600 == 0o600  # readable and writable by the owner, as open() would make it
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]

    # a symlink to a file elsewhere is replaced, not followed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victim = elsewhere / "victim"
    victim.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(victim)
    write_file_atomically(str(link), "ids\n")
    assert victim.read_text() == "keep" and not link.is_symlink()
    assert link.read_text() == "ids\n"

    # a destination that cannot be replaced fails cleanly, leaving nothing behind
    (tmp_path / "a-directory").mkdir()
    with pytest.raises(OSError):
        write_file_atomically(str(tmp_path / "a-directory"), "x")
    assert _names(tmp_path) == [
        "a-directory", "elsewhere", "link.txt", "out.txt",
    ]  # fmt: skip


# --------------------------------------------------------------------------- input


@pytest.mark.parametrize(
    ("encoding", "via"),
    [("utf-8-sig", "file"), ("utf-8-sig", "stdin"), ("utf-16", "file")],
)
async def test_an_ids_file_with_a_byte_order_mark_is_accepted(
    fake: FakeCertCentral, tmp_path: Path, encoding: str, via: str
) -> None:
    issued = _ids_by_status(fake)["issued"][:2]
    data = "".join(f"{i}\r\n" for i in issued).encode(encoding)  # as Windows tools write it
    assert data[:2] in (b"\xef\xbb", b"\xff\xfe", b"\xfe\xff")  # the BOM is there
    args = ["poll", "--until", "issued", "--interval", "0.1", "--base-url", fake.base_url]
    if via == "file":
        ids_file = tmp_path / "ids.txt"
        ids_file.write_bytes(data)
        process = await _spawn([*args, str(ids_file)], api_key=fake.api_key)
        out, err = await asyncio.wait_for(process.communicate(), 20)
    else:
        process = await _spawn([*args, "-"], api_key=fake.api_key, stdin=True)
        out, err = await asyncio.wait_for(process.communicate(data), 20)
    assert process.returncode == 0, err.decode()
    assert sorted(json.loads(line)["order_id"] for line in out.decode().splitlines()) == issued


def test_parse_ids_drops_a_bom_only_before_the_first_line() -> None:
    assert parse_ids(["\ufeff100001\n", "100002\n"], "f") == [100001, 100002]
    assert parse_ids(["\ufeff# a comment\n", "100002\n"], "f") == [100002]
    with pytest.raises(UsageError, match="f line 2"):
        parse_ids(["100001\n", "\ufeff100002\n"], "f")


async def test_an_id_too_long_to_be_one_is_a_bad_line_not_a_traceback(
    fake: FakeCertCentral,
) -> None:
    assert parse_ids(["0" * 30 + "1" * 20], "f") == [int("1" * 20)]  # leading zeros are fine
    run = await run_cli(
        "cancel", "-", "--note", "why", "--base-url", fake.base_url,
        api_key=fake.api_key, stdin=f"100001\n{'9' * 21}\n{'9' * 5000}\n",
    )  # fmt: skip
    assert run.code == 2, run.stderr
    assert "stdin line 2" in run.stderr and "stdin line 3" in run.stderr
    assert "at most 20 digits" in run.stderr and "Traceback" not in run.stderr
    assert fake.requests == []


# --------------------------------------------------------------------------- progress


def _bar_lines(rendered: str) -> list[str]:
    """The progress lines a terminal was sent (each redraw starts with a carriage return)."""
    segments = rendered.replace("\n", "\r").split("\r")
    return [s for s in segments if "%|" in s]


def _bar_cells(line: str) -> int:
    """Columns of the bar proper: between the first two ``|``."""
    return len(line.split("|")[1])


COUNTS = {
    "failed": 5,
    "canceled": 400,
    "already_canceled": 3,
    "not_cancelable": 40,
    "not_found": 2,
}


def _render(columns: int) -> list[str]:
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    progress = Progress(
        total=1000,
        description="cancel",
        unit="order",
        enabled=True,
        stream=stream,
        width=lambda: columns,
    )
    assert progress.active
    progress.advance(450)
    progress.show(COUNTS)
    progress.close()  # draws the final line, counts included
    lines = _bar_lines(stream.getvalue())
    assert lines and "450/1000" in lines[-1]
    return lines


@pytest.mark.parametrize(("columns", "fits"), [(80, 80), (0, 80), (120, 120), (200, 200)])
def test_the_progress_line_fits_the_width_and_keeps_its_bar(columns: int, fits: int) -> None:
    lines = _render(columns)
    for line in lines:
        assert len(line) <= fits, line
        assert _bar_cells(line) >= 10, line  # the bar is never squeezed away


def test_counts_beside_the_bar_are_cut_to_fit_failures_first() -> None:
    wide = _render(200)[-1]
    assert all(f"{name}={n}" in wide for name, n in COUNTS.items())
    middle = _render(120)[-1]
    assert "failed=5, canceled=400" in middle and middle.rstrip().endswith("...]")


def test_fit_counts() -> None:
    counts = {"failed": 1, "canceled": 0, "not_found": 22}
    assert fit_counts(counts, 100) == "failed=1, not_found=22"
    assert fit_counts(counts, 22) == "failed=1, not_found=22"
    assert fit_counts(counts, 21) == "failed=1, ..."
    assert fit_counts(counts, 12) == ""  # never "..." alone
    assert fit_counts({}, 10) == ""


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("columns", [80, 0])
async def test_progress_on_a_real_terminal_80_or_0_columns_wide(
    fake: FakeCertCentral, columns: int
) -> None:
    pytest.importorskip("tqdm")
    ids = _ids_by_status(fake)["pending"]
    code, out, terminal = await _run_on_terminal(
        ["cancel", "--note", "why", "--base-url", fake.base_url, "-"],
        api_key=fake.api_key,
        stdin="".join(f"{i}\n" for i in ids),
        columns=columns,
    )
    assert code == 0
    assert len(out.splitlines()) == len(ids)
    lines = _bar_lines(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", terminal))
    assert lines, terminal
    assert f"{len(ids)}/{len(ids)}" in lines[-1]
    for line in lines:
        assert len(line) <= 80, line
        assert _bar_cells(line) >= 10, line


# --------------------------------------------------------------------------- --until


@pytest.mark.parametrize(
    ("until", "unknown"),
    [("isued", "'isued'"), ("issued,canceld", "'canceld'"), ("pending,bogus,x", "'bogus', 'x'")],
)
async def test_poll_until_an_unknown_status_exits_2_listing_the_valid_ones(
    fake: FakeCertCentral, until: str, unknown: str
) -> None:
    run = await run_cli(
        "poll", "-", "--until", until, "--base-url", fake.base_url,
        api_key=fake.api_key, stdin="100001\n", timeout=10,
    )  # fmt: skip
    assert run.code == 2, run.stderr
    assert "--until" in run.stderr and f"unknown status {unknown}" in run.stderr
    assert ", ".join(sorted(ORDER_STATUSES)) in run.stderr  # every valid one, listed
    assert run.stdout == "" and fake.requests == []


@pytest.mark.parametrize(
    ("until", "statuses"),
    [
        ("issued", {"issued"}),
        ("Issued, CANCELED", {"issued", "canceled"}),
        ("needs_approval,waiting_pickup,", {"needs_approval", "waiting_pickup"}),
    ],
)
def test_until_takes_one_status_or_several(until: str, statuses: set[str]) -> None:
    args = build_parser().parse_args(["poll", "ids.txt", "--until", until])
    assert args.until == frozenset(statuses)


def test_a_sigterm_whose_exception_was_lost_still_ends_the_command_before_its_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception raised by a signal handler while a finaliser runs is printed and
    dropped; the handler notes the signal first, and the read of stdin (which a pipe may
    keep waiting for ever) looks at the note before it starts."""
    from digicert_async.cli._input import _read_stdin
    from digicert_async.cli._signals import Terminated, forget_terminated, raise_terminated

    reads: list[int] = []

    class Stdin:
        class buffer:  # the attribute of sys.stdin that is read
            @staticmethod
            def read(size: int) -> bytes:
                reads.append(size)
                return b"100001\n"

    monkeypatch.setattr(sys, "stdin", Stdin())
    try:
        with pytest.raises(Terminated):
            raise_terminated(signal.SIGTERM, None)  # its exception, as if dropped
        with pytest.raises(Terminated):
            _read_stdin("no ids")
        assert reads == []
    finally:
        forget_terminated()
    assert _read_stdin("no ids") == "100001\n" and len(reads) == 1
