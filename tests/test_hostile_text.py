"""Server text and file names shown to a person or written to a log are escaped: a
hostile answer cannot retitle or clear the terminal, overwrite or forge a line, turn text
around with a bidi override, or split one log record into two (issue 16, items 3 and 4).

The CLI runs as a subprocess against FakeCertCentral (an order whose status is hostile)
or a loopback server answering hostile error bodies; the log test captures every record
of a run through every job against such a server."""

from __future__ import annotations

import json
import logging
import pickle
import re
import sys
import traceback
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import digicert_async as dc
from digicert_async._escape import visible
from digicert_async.cli._terminal import fit_counts, say
from digicert_async.testing import FakeCertCentral

from ._served import BodyServer
from .test_cli import _run_on_terminal, run_cli
from .test_fleet import CSR

# What a hostile answer puts in a status or an error message: an OSC that retitles the
# terminal (ended by BEL), a clear screen, a C1 CSI, a bare CR and a backspace to overwrite,
# NEL and LINE SEPARATOR, a newline that starts a forged line, and bidi overrides.
HOSTILE = (
    "\x1b]0;pwned\x07\x1b[2J\x9b31m\rover\x08\x85\u2028"
    "\n2026-01-01 WARNING forged line\u202eevil\u2066x\u2069\u200f\u061c"
)
# How it must be shown: every one of those characters as its escape.
SHOWN = (
    "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\rover\\x08\\x85\\u2028"
    "\\n2026-01-01 WARNING forged line\\u202eevil\\u2066x\\u2069\\u200f\\u061c"
)
# Control (but the line feed between lines), line-separator and bidi characters.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def assert_no_raw(text: str) -> None:
    found = RAW.search(text)
    assert found is None, f"raw {found.group()!r} in {text!r}"


def error_body(code: str = "invalid_value") -> dict[str, object]:
    return {"errors": [{"code": f"{code}{HOSTILE}", "message": f"refused: {HOSTILE}"}]}


# --------------------------------------------------------------------------- the one function


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\x00", "\\x00"),
        ("\x07", "\\x07"),
        ("\x08", "\\x08"),
        ("\t", "\\t"),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\x1b", "\\x1b"),
        ("\x7f", "\\x7f"),
        ("\x85", "\\x85"),
        ("\x9b", "\\x9b"),
        ("\x9f", "\\x9f"),
        ("\u061c", "\\u061c"),
        ("\u200e", "\\u200e"),
        ("\u200f", "\\u200f"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
        *((chr(c), f"\\u{c:04x}") for c in range(0x202A, 0x202F)),
        *((chr(c), f"\\u{c:04x}") for c in range(0x2066, 0x206A)),
        ("\udcff", "\\udcff"),  # what an undecodable file name holds
    ],
)
def test_visible_shows_each_control_and_bidi_character_as_its_escape(char: str, shown: str) -> None:
    assert visible(f"a{char}b") == f"a{shown}b"


def test_visible_leaves_readable_text_as_it_is() -> None:
    text = "Order 12 était refusée: 注文 ✓ \\x1b stays as typed; \u00a0\u200b\U0001f600"
    assert visible(text) is text
    assert visible(HOSTILE) == SHOWN
    assert visible("line one\nline two\x1b", keep_newlines=True) == "line one\nline two\\x1b"


@given(st.text())
def test_visible_leaves_nothing_raw_and_escaping_twice_changes_nothing(text: str) -> None:
    shown = visible(text)
    assert_no_raw(shown)
    assert "\n" not in shown
    assert visible(shown) == shown
    kept = visible(text, keep_newlines=True)
    assert_no_raw(kept)
    assert kept.split("\n") == [visible(part) for part in text.split("\n")]


# --------------------------------------------------------------------------- exceptions


@pytest.fixture
async def hostile() -> AsyncIterator[BodyServer]:
    server = BodyServer()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def quiet_client(server: BodyServer) -> dc.CertCentralClient:
    return dc.CertCentralClient(
        api_key="test-key",
        base_url=server.root,
        retry=dc.RetryPolicy.disabled(),
        rate_limit=dc.RateLimit.disabled(),
    )


async def test_an_error_message_shows_the_server_text_escaped_the_attributes_keep_it(
    hostile: BodyServer,
) -> None:
    hostile.answer("GET", "/order/certificate/7", 400, error_body())
    async with quiet_client(hostile) as client:
        with pytest.raises(dc.BadRequestError) as caught:
            await client.orders.get(7)
    error = caught.value
    assert SHOWN in str(error)
    assert_no_raw(str(error))
    assert_no_raw("".join(traceback.format_exception(error)))
    assert error.errors[0].message == f"refused: {HOSTILE}"  # the data, as sent
    assert error.code == f"invalid_value{HOSTILE}"
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


async def test_an_unreadable_answer_shows_its_excerpt_escaped(hostile: BodyServer) -> None:
    hostile.answer("GET", "/order/certificate/7", 200, f"<html>{HOSTILE}</html>".encode())
    async with quiet_client(hostile) as client:
        with pytest.raises(dc.ResponseError) as caught:
            await client.orders.get(7)
    assert_no_raw(str(caught.value))
    assert HOSTILE in caught.value.body


# --------------------------------------------------------------------------- the command line


def test_say_keeps_the_message_lines_and_escapes_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    say(f"first line: {HOSTILE}\nsecond line")
    err = capsys.readouterr().err
    assert err.startswith("first line: \\x1b]0;pwned\\x07")
    assert err.endswith("\nsecond line\n")
    # the message's own line break and the last one; HOSTILE's raw newline too: what
    # comes from outside is escaped before it goes into a message
    assert err.count("\n") == 2 + HOSTILE.count("\n")
    assert_no_raw(err)


def test_the_counts_beside_the_bar_show_a_status_escaped() -> None:
    assert fit_counts({HOSTILE: 2}, 500) == f"{SHOWN}=2"


def _hostile_poll(fake: FakeCertCentral) -> int:
    order_id = fake.add_order("pending")
    fake.update_order(order_id, status=HOSTILE)
    return order_id


async def test_poll_shows_a_hostile_status_escaped_and_its_json_line_whole() -> None:
    async with FakeCertCentral(rate_limits=None) as fake:
        order_id = _hostile_poll(fake)
        run = await run_cli(
            "poll", "-", "--until", "issued", "--interval", "0.2", "--deadline", "1",
            "--base-url", fake.base_url, api_key=fake.api_key, stdin=f"{order_id}\n",
        )  # fmt: skip
    assert run.code == 1, run.stderr
    assert f"1 left ({SHOWN}=1)" in run.stderr
    assert_no_raw(run.stderr)
    # stdout is JSON: ASCII only, each line whole, the status as the server sent it
    assert run.stdout.isascii()
    assert_no_raw(run.stdout)
    assert [line["status"] for line in run.lines] == [HOSTILE]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
async def test_the_progress_bar_on_a_terminal_shows_a_hostile_status_escaped() -> None:
    pytest.importorskip("tqdm")
    async with FakeCertCentral(rate_limits=None) as fake:
        order_id = _hostile_poll(fake)
        code, out, terminal = await _run_on_terminal(
            ["poll", "-", "--until", "issued", "--interval", "0.2", "--deadline", "1",
             "--base-url", fake.base_url],
            api_key=fake.api_key,
            stdin=f"{order_id}\n",
            columns=400,
        )  # fmt: skip
    assert code == 1
    assert out.isascii() and json.loads(out)["status"] == HOSTILE
    assert "order/s" in terminal  # the bar was drawn
    assert f"{SHOWN}=1]" in terminal  # beside it, the counts
    # tqdm draws with CR itself; none of the server's sequences got through
    for raw in ("\x1b]", "\x1b[2J", "\x07", "\x9b", "\x08", "\x85", "\u2028", "\u202e"):
        assert raw not in terminal, repr(raw)
    assert "forged line" not in terminal.replace(SHOWN, "")


async def test_a_job_stopped_by_a_hostile_refusal_says_so_escaped(hostile: BodyServer) -> None:
    for order_id in (11, 12):
        hostile.answer("PUT", f"/order/certificate/{order_id}/status", 401, error_body("denied"))
    run = await run_cli(
        "cancel", "-", "--note", "n", "--base-url", hostile.root,
        api_key="test-key", stdin="11\n12\n",
    )  # fmt: skip
    assert run.code == 1
    assert "stopped early, every order would fail" in run.stderr
    assert SHOWN in run.stderr
    assert_no_raw(run.stderr)
    assert run.stdout.isascii()
    assert_no_raw(run.stdout)
    assert {line["outcome"] for line in run.lines} <= {"failed", "not_attempted"}


async def test_a_hostile_file_name_is_shown_escaped(tmp_path: Path) -> None:
    csrs = tmp_path / "csrs"
    csrs.mkdir()
    (csrs / "100001.csr").write_text(CSR, encoding="utf-8")
    (csrs / f"x{HOSTILE}.csr").write_text(CSR, encoding="utf-8")
    run = await run_cli("reissue", str(csrs), "--base-url", "http://127.0.0.1:9", api_key="k")
    assert run.code == 2
    assert f"x{SHOWN}.csr: not named <order_id>.csr" in run.stderr
    assert_no_raw(run.stderr)


# --------------------------------------------------------------------------- the log


def _answer_everything_with_hostile_text(server: BodyServer) -> None:
    listing_failure = (500, error_body("internal_error"))
    server.answer("GET", "/order/certificate", *listing_failure)
    server.answer("GET", "/order/certificate/status-changes", 400, error_body())
    for order_id in (21, 22, 23):
        server.answer("GET", f"/order/certificate/{order_id}", 500, error_body("internal_error"))
        server.answer("PUT", f"/order/certificate/{order_id}/status", 400, error_body())
        server.answer("POST", f"/order/certificate/{order_id}/reissue", 400, error_body())
        server.answer(
            "GET",
            f"/certificate/download/order/{order_id}/format/pem_all",
            200,
            f"-----BEGIN CERTIFICATE-----\n{HOSTILE}\n".encode(),
        )
    # an order whose refused key stops the job, and one read back as issued
    server.answer("PUT", "/order/certificate/24/status", 401, error_body("access_denied"))
    server.answer("GET", "/order/certificate/25", 200, {"id": 25, "status": HOSTILE})
    server.answer("PUT", "/order/certificate/25/status", 400, error_body())
    server.answer("GET", "/order/certificate/26", 503, HOSTILE.encode())


async def test_no_log_record_of_a_hostile_run_carries_a_raw_control_character(
    hostile: BodyServer, caplog: pytest.LogCaptureFixture
) -> None:
    _answer_everything_with_hostile_text(hostile)
    caplog.set_level(logging.DEBUG, logger="digicert_async")
    async with dc.CertCentralClient(
        api_key="test-key",
        base_url=hostile.root,
        retry=dc.RetryPolicy(max_attempts=2, backoff_initial=0.01, backoff_max=0.01),
        rate_limit=dc.RateLimit.disabled(),
    ) as client:
        await dc.cancel_orders(client, [21, 25], note="n")
        await dc.cancel_orders(client, [24, 22], note="n", concurrency=1)  # stopped early
        async for _ in dc.poll_orders(client, [21, 22], until="issued", interval=0.05, deadline=1):
            pass
        await dc.reissue_orders(client, {23: CSR})
        async for _ in dc.download_certificates(client, [21, 22], format="pem_all"):
            pass
        with pytest.raises(dc.ServerError):
            await client.orders.get(26)  # retried once, then given up
    records = caplog.records
    messages = [record.getMessage() for record in records]
    # the server's text reached the log: in the poll warnings, the read back, the stop
    assert sum(SHOWN in message for message in messages) >= 4, messages
    assert any("stopped early" in m and SHOWN in m for m in messages)
    assert any("reading it back failed too" in m and SHOWN in m for m in messages)
    assert any(m.startswith("poll_orders") and SHOWN in m for m in messages)
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    for record in records:
        line = formatter.format(record)  # with a traceback, when the record has one
        assert_no_raw(line)
        assert "\n" not in record.getMessage(), record.getMessage()


def test_the_json_of_a_result_holds_the_escaped_message() -> None:
    error = dc.BadRequestError(
        400, [dc.ErrorDetail("x", HOSTILE)], method="PUT", url="https://h/services/v2/x"
    )
    line = dc.CancelResult(1, dc.CancelOutcome.FAILED, status=HOSTILE, error=error).to_json()
    text = json.dumps(line)
    assert text.isascii()
    assert json.loads(text)["status"] == HOSTILE
    assert SHOWN in json.loads(text)["error"]
