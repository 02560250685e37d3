"""The command line says why a job ended: orders that can never reach --until, a server
that cannot be reached, a route error; and -v / --debug puts the library's log on stderr."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

import pytest

from digicert_async.cli._parser import build_parser
from digicert_async.cli._verbose import level_for, logging_to_stderr
from digicert_async.testing import FakeCertCentral, Fault

from .test_bulk_endings import _closed_port_url
from .test_cli import _run_on_terminal, _write, run_cli

LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) digicert_async", re.M)


async def test_poll_until_issued_ends_canceled_and_rejected_orders_and_exits_1(
    fake: FakeCertCentral, tmp_path: Path
) -> None:
    canceled, rejected = fake.add_order("canceled"), fake.add_order("rejected")
    issued = fake.add_order("issued")
    resume = tmp_path / "left.txt"
    run = await run_cli(
        "poll", "-", "--until", "issued", "--interval", "0.1", "--resume-file", str(resume),
        "--base-url", fake.base_url,
        api_key=fake.api_key, stdin=f"{canceled}\n{rejected}\n{issued}\n",
    )  # fmt: skip
    assert run.code == 1, run.stderr
    assert sorted(run.lines, key=lambda line: line["order_id"]) == [
        {
            "order_id": canceled,
            "status": "canceled",
            "previous_status": None,
            "never_reaches": True,
        },
        {
            "order_id": rejected,
            "status": "rejected",
            "previous_status": None,
            "never_reaches": True,
        },
        {"order_id": issued, "status": "issued", "previous_status": None},
    ]
    assert "1 reached issued (issued=1), 1 ended canceled, 1 ended rejected, never issued" in (
        run.stderr
    )
    assert "0 left" in run.stderr and "deadline" not in run.stderr
    assert resume.read_text() == ""  # nothing to resume: they will never be issued


async def test_poll_against_a_closed_port_ends_with_the_cause() -> None:
    run = await run_cli(
        "poll", "-", "--until", "issued", "--deadline", "60", "--base-url", _closed_port_url(),
        api_key="key", stdin="100001\n",
    )  # fmt: skip
    assert run.code == 1
    assert "error: TransportError" in run.stderr and "cannot connect" in run.stderr
    assert "poll: stopped by an error after" in run.stderr
    assert "deadline" not in run.stderr


async def test_a_route_error_is_what_the_poll_says_not_its_deadline(
    fake: FakeCertCentral,
) -> None:
    wrong = fake.base_url.removesuffix("/services/v2")
    run = await run_cli(
        "poll", "-", "--until", "issued", "--deadline", "10", "--base-url", wrong,
        api_key=fake.api_key, stdin="100001\n",
    )  # fmt: skip
    assert run.code == 1
    assert "error: RouteNotFoundError" in run.stderr and "base_url" in run.stderr
    assert "poll: stopped by an error after" in run.stderr
    assert "deadline of 10 s reached" not in run.stderr


async def test_a_cancel_against_a_closed_port_stops_early_naming_the_put(tmp_path: Path) -> None:
    ids = range(100_001, 100_041)
    run = await run_cli(
        "cancel", "-", "--note", "x", "--deadline", "60", "--concurrency", "4",
        "--base-url", _closed_port_url(), api_key="key", stdin="".join(f"{i}\n" for i in ids),
    )  # fmt: skip
    assert run.code == 1
    assert sorted(line["order_id"] for line in run.lines) == list(ids)
    failed = [line for line in run.lines if line["outcome"] == "failed"]
    assert failed and all(line["error"].startswith("TransportError: PUT ") for line in failed)
    assert "cancel: stopped early after" in run.stderr
    assert "stopped early, every order would fail: PUT" in run.stderr
    assert "cannot connect" in run.stderr and "deadline" not in run.stderr


# --------------------------------------------------------------------------- -v, --debug


@pytest.mark.parametrize(
    "argv",
    [
        ["cancel", "ids.txt", "--note", "x"],
        ["poll", "ids.txt"],
        ["reissue", "in.jsonl"],
        ["download", "ids.txt", "--out", "certs"],
        ["demo"],
        ["fake-server"],
    ],
)
def test_every_command_takes_v_and_debug(argv: list[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(argv).verbose == 0
    assert parser.parse_args([*argv, "-v"]).verbose == 1
    assert parser.parse_args([*argv, "-vv"]).verbose == 2
    assert parser.parse_args([*argv, "--debug"]).verbose == 2


@pytest.mark.parametrize(
    ("flags", "levels"),
    [
        ([], set()),
        (["-v"], {"WARNING"}),  # the retry, not each answer
        (["--debug"], {"WARNING", "DEBUG"}),
        (["-vv"], {"WARNING", "DEBUG"}),
    ],
)
async def test_v_and_debug_put_the_librarys_log_on_stderr_never_the_key(
    fake: FakeCertCentral, tmp_path: Path, flags: list[str], levels: set[str]
) -> None:
    order_id = fake.add_order("issued")
    fake.inject(Fault.INTERNAL_ERROR, times=1, method="GET")  # one retry to log
    ids = _write(tmp_path / "ids.txt", [order_id])
    run = await run_cli(
        "poll", str(ids), "--until", "issued", "--base-url", fake.base_url, *flags,
        api_key=fake.api_key,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert {match.group(1) for match in LOG_LINE.finditer(run.stderr)} == levels
    assert fake.api_key not in run.stderr  # (run_cli checks stdout and stderr too)
    if "DEBUG" in levels:
        assert f"GET {fake.base_url}/order/certificate" in run.stderr


def test_logging_to_stderr_sets_the_level_asked_for_and_puts_the_logger_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert [level_for(n) for n in (0, 1, 2, 3)] == [None, logging.INFO, logging.DEBUG, 10]
    library = logging.getLogger("digicert_async")
    before = (library.level, list(library.handlers))
    with logging_to_stderr(0):
        assert (library.level, library.handlers) == before  # nothing asked: nothing changes
        logging.getLogger("digicert_async.bulk").warning("unheard")
    with logging_to_stderr(1):
        assert library.level == logging.INFO
        logging.getLogger("digicert_async.bulk").info("heard")
        logging.getLogger("digicert_async").debug("too fine for -v")
    with logging_to_stderr(2):
        logging.getLogger("digicert_async").debug("heard at -vv")
    assert (library.level, library.handlers) == before
    logging.getLogger("digicert_async").warning("unheard again")
    err = capsys.readouterr().err
    assert LOG_LINE.search(err) is not None
    assert "INFO digicert_async.bulk: heard" in err and "DEBUG digicert_async: heard at -vv" in err
    assert "unheard" not in err and "too fine" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
async def test_with_v_the_log_replaces_the_progress_bar_on_a_terminal(
    fake: FakeCertCentral,
) -> None:
    pytest.importorskip("tqdm")
    order_id = fake.add_order("pending")
    fake.inject(Fault.SERVICE_UNAVAILABLE_HTML, times=1, method="PUT")  # a retry to log
    code, out, terminal = await _run_on_terminal(
        ["cancel", "--note", "why", "--base-url", fake.base_url, "-v", "-"],
        api_key=fake.api_key,
        stdin=f"{order_id}\n",
    )
    assert code == 0, terminal
    assert len(out.splitlines()) == 1
    assert "WARNING digicert_async" in terminal and "retry 1" in terminal
    assert "order/s" not in terminal and "%|" not in terminal  # no bar
