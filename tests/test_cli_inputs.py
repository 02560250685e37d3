"""Every command's input, read by one reader: plain ids or any command's JSON lines, only
regular files of a bounded size, CSR directories that stay inside themselves."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digicert_async.cli import API_KEY_ENV, _input, main
from digicert_async.cli._input import (
    MAX_CSR_FILE_BYTES,
    MAX_INPUT_BYTES,
    parse_ids,
    parse_reissue_lines,
    read_csr_directory,
    read_orders,
    read_regular_file,
    read_reissue_input,
)
from digicert_async.cli._terminal import UsageError
from digicert_async.testing import FakeCertCentral

from .test_cli import run_cli
from .test_cli_fleet import by_id, jsonl
from .test_fleet import CSR

DEEP = '{"order_id": 1, "csr": ' + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key in the environment: what is tested here fails before anything is sent."""
    monkeypatch.setenv(API_KEY_ENV, "secret-key-value")


def _lines(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows),
        encoding="utf-8",
    )
    return path


# --------------------------------------------------------------------------- one reader


def test_plain_ids_and_every_commands_json_lines_are_read_alike(tmp_path: Path) -> None:
    source = _lines(
        tmp_path / "mixed.jsonl",
        [
            "# a comment, then a plain id and a repeat of it",
            "5",
            "5",
            {"order_id": 6, "status": "pending", "previous_status": None},  # poll's lines
            {"order_id": 6, "status": "issued", "previous_status": "pending"},
            {"order_id": 7, "outcome": "canceled", "status": "canceled"},  # cancel's
            {"order_id": 8, "outcome": "reissued", "replaced_certificate": {"id": 3}},
            {"order_id": 9, "outcome": "failed", "error": "BadRequestError: ..."},
            {"order_id": 10, "outcome": "not_reissuable", "status": "pending"},
            {"order_id": 11, "outcome": "downloaded", "path": "certs/11.pem", "bytes": 9},
            {"order_id": 12, "csr": CSR},  # reissue's input
        ],
    )
    everything = read_orders(str(source), follow=False)
    # a plain id as given (the job counts a repeat); an order's JSON lines once
    assert everything.ids == [5, 5, 6, 7, 8, 9, 10, 11, 12]
    assert everything.skipped == {}
    followed = read_orders(str(source), follow=True)
    assert followed.ids == [5, 5, 6, 7, 8, 11, 12]
    assert followed.skipped == {"failed": 1, "not_reissuable": 1}
    assert followed.replaced == {8: {"id": 3}}  # the certificate its reissue replaces


def test_an_order_skipped_on_one_line_but_given_on_another_is_taken(tmp_path: Path) -> None:
    source = _lines(
        tmp_path / "two-runs.jsonl",
        [{"order_id": 5, "outcome": "failed"}, {"order_id": 5, "outcome": "reissued"}],
    )
    orders = read_orders(str(source), follow=True)
    assert (orders.ids, orders.skipped) == ([5], {})


async def test_download_reads_reissue_output_and_skips_the_orders_not_reissued(
    tmp_path: Path,
) -> None:
    async with FakeCertCentral(rate_limits=None, issue_after=None) as fake:
        issued, refused = fake.add_order("issued"), fake.add_order("issued")
        reissued = _lines(
            tmp_path / "reissued.jsonl",
            [
                {"order_id": issued, "outcome": "reissued", "request_id": 7,
                 "status": "reissue_pending", "replaced_certificate": {"id": 1}},
                {"order_id": refused, "outcome": "failed", "error": "BadRequestError: no"},
            ],
        )  # fmt: skip
        out = tmp_path / "certs"
        run = await run_cli(
            "download", str(reissued), "--out", str(out), "--base-url", fake.base_url,
            api_key=fake.api_key,
        )  # fmt: skip
    assert run.code == 0, run.stderr
    assert [(line["order_id"], line["outcome"]) for line in run.lines] == [(issued, "downloaded")]
    assert "1 order skipped" in run.stderr and "failed=1" in run.stderr
    assert sorted(p.name for p in out.iterdir()) == [f"{issued}.pem"]


async def test_cancel_reads_polls_output_and_poll_reads_cancels(fake: FakeCertCentral) -> None:
    pending = fake.add_order("pending")
    polled = jsonl(
        [
            {"order_id": pending, "status": "pending", "previous_status": None},
            {"order_id": pending, "status": "pending", "previous_status": "submitted"},
        ]
    )
    canceled = await run_cli(
        "cancel", "-", "--note", "x", "--base-url", fake.base_url,
        api_key=fake.api_key, stdin=polled,
    )  # fmt: skip
    assert canceled.code == 0, canceled.stderr
    assert canceled.lines == [{"order_id": pending, "outcome": "canceled", "status": "canceled"}]
    assert "duplicate" not in canceled.stderr  # one order, several lines: once
    watched = await run_cli(
        "poll", "-", "--until", "canceled", "--base-url", fake.base_url,
        api_key=fake.api_key, stdin=canceled.stdout,
    )  # fmt: skip
    assert watched.code == 0, watched.stderr
    assert by_id(watched.lines)[pending]["status"] == "canceled"


# --------------------------------------------------------------------------- what is read


@pytest.mark.parametrize("command", [["cancel", "--note", "x"], ["poll"], ["reissue"]])
def test_a_device_is_refused_not_read(
    keyed: None, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command[0], os.devnull, *command[1:]]) == 2
    assert "a character device, not a regular file" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("where", ["ids", "csr"])
async def test_a_fifo_is_refused_not_waited_on(tmp_path: Path, where: str) -> None:
    if where == "ids":
        os.mkfifo(tmp_path / "ids.txt")  # nobody ever writes to it
        argv = ["poll", str(tmp_path / "ids.txt")]
    else:
        (tmp_path / "1.csr").write_text(CSR, encoding="utf-8")
        os.mkfifo(tmp_path / "2.csr")
        argv = ["reissue", str(tmp_path)]
    run = await run_cli(*argv, api_key="key", timeout=20)
    assert run.code == 2 and "a FIFO, not a regular file" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read(
    keyed: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = tmp_path / "ids.txt"
    with huge.open("wb") as handle:  # sparse: its size says 64 GiB, nothing is stored
        handle.truncate(1024 * MAX_INPUT_BYTES)
    assert main(["cancel", str(huge), "--note", "x"]) == 2
    err = capsys.readouterr().err
    assert f"more than {MAX_INPUT_BYTES:,} bytes" in err and "split it" in err


def test_stdin_is_read_to_the_limit_and_no_further(
    keyed: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_input, "MAX_INPUT_BYTES", 1000)
    endless = io.BufferedReader(io.BytesIO(b"1\n" * 10_000))  # as /dev/zero would, but ends
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(endless))
    assert main(["cancel", "-", "--note", "x"]) == 2
    assert "stdin: more than 1,000 bytes" in capsys.readouterr().err
    assert endless.tell() <= 1001 + io.DEFAULT_BUFFER_SIZE  # read to the limit, not to the end


@pytest.mark.parametrize("command", [["reissue"], ["poll", "--then-download", "certs"]])
def test_a_deeply_nested_json_line_is_a_clear_usage_error(
    keyed: None, tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(f'{{"order_id": 2, "csr": "x"}}\n{DEEP}\n', encoding="utf-8")
    certs_dir = tmp_path / "certs"
    argv = [command[0], str(source), *command[1:]]
    if command[0] == "poll":
        argv[-1] = str(certs_dir)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "in.jsonl line 2: nested too deeply to read" in err and "Traceback" not in err


# --------------------------------------------------------------------------- CSR directories


def test_csr_files_for_one_order_under_several_names_are_an_error(tmp_path: Path) -> None:
    for name in ("001.csr", "01.csr", "1.csr", "2.csr"):
        (tmp_path / name).write_text(CSR, encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        read_csr_directory(str(tmp_path))
    message = str(caught.value)
    assert "order 1 is given by 3 files" in message
    assert all(str(tmp_path / name) in message for name in ("001.csr", "01.csr", "1.csr"))
    assert "2.csr" not in message and "nothing was sent" in message


def test_a_symlink_out_of_the_csr_directory_is_refused_one_inside_is_read(tmp_path: Path) -> None:
    csrs, elsewhere = tmp_path / "csrs", tmp_path / "keys"
    csrs.mkdir()
    elsewhere.mkdir()
    (csrs / "1.csr").write_text(CSR, encoding="utf-8")
    (csrs / "2.csr").symlink_to(csrs / "1.csr")  # inside: the same CSR, read
    assert read_csr_directory(str(csrs)) == {1: CSR, 2: CSR}
    secret = elsewhere / "3.key"
    secret.write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    (csrs / "3.csr").symlink_to(secret)
    (csrs / "4.csr").symlink_to(Path("..") / "keys" / "3.key")  # relative, still out
    with pytest.raises(UsageError) as caught:
        read_csr_directory(str(csrs))
    message = str(caught.value)
    assert f"{csrs / '3.csr'}: a symlink out of {csrs}" in message
    assert f"{csrs / '4.csr'}: a symlink out of {csrs}" in message


def test_a_csr_directory_reached_through_a_symlink_is_read(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "1.csr").write_text(CSR, encoding="utf-8")
    (tmp_path / "link").symlink_to(real)
    assert read_csr_directory(str(tmp_path / "link")) == {1: CSR}


def test_a_csr_file_too_large_to_be_one_is_refused_unread(tmp_path: Path) -> None:
    with (tmp_path / "1.csr").open("wb") as handle:
        handle.truncate(MAX_CSR_FILE_BYTES + 1)
    with pytest.raises(UsageError, match=r"1\.csr: more than"):
        read_csr_directory(str(tmp_path))


def test_the_readme_states_the_limits_the_code_keeps() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"at most {MAX_INPUT_BYTES // 2**20} MiB either way" in readme
    assert f"holds at most {MAX_CSR_FILE_BYTES // 2**10} KiB" in readme
    assert MAX_CSR_FILE_BYTES % 2**10 == 0


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab\n\r\u2028{}", max_size=40), chunk=st.integers(1, 8))
def test_lines_come_in_chunks_as_one_split_would_give_them(text: str, chunk: int) -> None:
    original = _input._CHUNK
    _input._CHUNK = chunk  # not monkeypatch: a hypothesis test runs many examples
    try:
        lines = list(_input._lines(text))
    finally:
        _input._CHUNK = original
    parts = text.split("\n")  # only newlines split a line: a JSON string may hold \u2028
    assert lines == parts or [*lines, ""] == parts  # a last empty line may be left out


# --------------------------------------------------------------------------- the reader's edges


def test_an_id_is_at_most_twenty_digits_and_bad_lines_are_each_reported() -> None:
    assert parse_ids(["9" * 20, f"  {'0' * 5}{'9' * 20} # padded"], "f") == [int("9" * 20)] * 2
    with pytest.raises(UsageError) as caught:
        parse_ids(["9" * 21, "{nope", "[1]", '{"order_id": 0}', "5"], "f")
    assert str(caught.value).splitlines() == [
        f"f line 1: '{'9' * 21}' is not an order id (a positive integer, at most 20 digits)",
        "f line 2: not a JSON object",
        "f line 3: '[1]' is not an order id (a positive integer, at most 20 digits)",
        "f line 4: order_id is not a positive whole number",
        "nothing was sent",
    ]


def test_five_bad_lines_are_shown_and_the_rest_counted() -> None:
    with pytest.raises(UsageError) as caught:
        parse_ids(["x"] * 5, "f")
    assert "more bad lines" not in str(caught.value)
    with pytest.raises(UsageError) as caught:
        parse_ids(["{"] * 6 + ["y"] * 2, "f")
    lines = str(caught.value).splitlines()
    assert lines[0] == "f line 1: not a JSON object" and len(lines) == 7
    assert lines[-2:] == ["... and 3 more bad lines", "nothing was sent"]


def test_ids_take_every_line_and_keep_only_a_replaced_certificate_that_is_one() -> None:
    rows = [
        {"order_id": 1, "outcome": "failed"},
        {"order_id": 2, "outcome": "reissued", "replaced_certificate": "not an object"},
        {"order_id": 3, "outcome": "reissued", "replaced_certificate": {}},
    ]
    assert parse_ids([json.dumps(row) for row in rows], "f") == [1, 2, 3]


def test_reissue_lines_name_what_is_wrong_with_each(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        parse_reissue_lines(
            [
                json.dumps({"order_id": 1, "csr": CSR}),
                "2",
                json.dumps({"order_id": 3}),
                json.dumps({"order_id": 1, "csr": CSR}),
            ],
            "in",
        )
    assert str(caught.value).splitlines() == [
        "in line 2: not a JSON object",
        "in line 3: csr is missing or not a string",
        "in line 4: order 1 was given already (line 1)",
        "nothing was sent",
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stdin_is_read_when_piped_as_bytes_or_text_and_refused_from_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_input, "MAX_INPUT_BYTES", 10)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("1\n2\n".encode("utf-16"))))
    assert read_orders(None, follow=False).ids == [1, 2]  # UTF-16, by its BOM: 10 bytes
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"1\n2\n33\n444")))
    assert read_orders("-", follow=False).ids == [1, 2, 33, 444]  # exactly the limit
    monkeypatch.setattr(sys, "stdin", io.StringIO("4\n"))  # text only, no bytes under it
    assert read_orders("-", follow=False).ids == [4]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xff\n")))
    with pytest.raises(UsageError, match=r"^cannot read stdin: not UTF-8 text"):
        read_orders("-", follow=False)
    monkeypatch.setattr(sys, "stdin", _Terminal("5\n"))
    with pytest.raises(UsageError, match=r"^no order ids: name an IDS_FILE"):
        read_orders(None, follow=False)
    with pytest.raises(UsageError, match=r"^no input: name a JSON-lines file"):
        read_reissue_input(None)
    assert read_orders("-", follow=False).ids == [5]  # asked for by name: read
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(UsageError, match=r"^no order ids"):
        read_orders("-", follow=False)


def test_a_file_of_exactly_the_limit_is_read_one_byte_more_is_not(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_bytes(b"12345\n")
    assert read_regular_file(str(path), 6) == b"12345\n"
    with pytest.raises(UsageError, match=r"ids\.txt: more than 5 bytes"):
        read_regular_file(str(path), 5)
    with pytest.raises(UsageError, match=r"cannot read .*nope: No such file or directory$"):
        read_regular_file(str(tmp_path / "nope"), 5)
    with pytest.raises(UsageError, match=r"a directory, not a regular file"):
        read_regular_file(str(tmp_path), 5)
    path.write_bytes(b"\xfe\xff\x00")  # a UTF-16 BOM, then half a character
    with pytest.raises(UsageError, match=r"cannot read .*ids\.txt: not UTF-8 text"):
        read_orders(str(path), follow=False)


def test_reissue_input_is_a_directory_a_file_or_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "7.csr").write_text(CSR, encoding="utf-8")
    assert read_reissue_input(str(tmp_path)) == {7: CSR}
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"order_id": 8, "csr": CSR}) + "\n", encoding="utf-8")
    assert read_reissue_input(str(lines)) == {8: CSR}
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"order_id": 9, "csr": CSR})))
    assert read_reissue_input("-") == {9: CSR}


def test_what_a_csr_directory_may_not_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match=r"^cannot read .*missing: No such file"):
        read_csr_directory(str(tmp_path / "missing"))
    with pytest.raises(UsageError, match=r"^no <order_id>\.csr files in "):
        read_csr_directory(str(tmp_path))
    (tmp_path / "notes.txt").write_text("not a CSR, not read", encoding="utf-8")
    (tmp_path / "0.csr").write_text(CSR, encoding="utf-8")
    (tmp_path / "web.csr").write_text(CSR, encoding="utf-8")
    (tmp_path / "5.csr").write_bytes(b"\xff")
    with pytest.raises(UsageError) as caught:
        read_csr_directory(str(tmp_path))
    assert str(caught.value).splitlines() == [
        f"{tmp_path / '0.csr'}: not named <order_id>.csr",
        f"cannot read {tmp_path / '5.csr'}: not UTF-8 text (invalid start byte at byte 0)",
        f"{tmp_path / 'web.csr'}: not named <order_id>.csr",
        "nothing was sent",
    ]
    for name in ("0.csr", "web.csr", "5.csr"):
        (tmp_path / name).unlink()
    (tmp_path / "1.csr").write_text("a" * 6, encoding="utf-8")
    (tmp_path / "2.csr").write_text("b" * 6, encoding="utf-8")
    monkeypatch.setattr(_input, "MAX_INPUT_BYTES", 12)
    assert read_csr_directory(str(tmp_path)) == {1: "a" * 6, 2: "b" * 6}  # 12 bytes in all
    (tmp_path / "3.csr").write_text("c", encoding="utf-8")
    with pytest.raises(UsageError, match=r"the CSR files of .*: more than 12 bytes"):
        read_csr_directory(str(tmp_path))
