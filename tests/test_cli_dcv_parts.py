"""The pieces of the DCV commands that need no server: the input, the window, and the shell
command as a publish callable (a real subprocess)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import digicert_async as dc
from digicert_async._dcv import records_for
from digicert_async.cli._domains import within
from digicert_async.cli._publish_command import (
    PublishCommandFailed,
    command_publisher,
    record_environment,
)
from digicert_async.cli._terminal import UsageError
from digicert_async.cli._validate import parse_targets


def test_targets_are_names_and_order_ids_in_order() -> None:
    text = "# fleet\nExample.com\n\n12345\n*.shop.example.org  # wildcard\n007\n"
    assert parse_targets(text, "in.txt") == ["example.com", 12345, "*.shop.example.org", 7]


@pytest.mark.parametrize("line", ["not a name", "-1", "exa mple.com", "0", "x" * 300, "é.com"])
def test_a_line_that_is_neither_is_a_usage_error_naming_it(line: str) -> None:
    with pytest.raises(UsageError, match=r"in\.txt, line 2"):
        parse_targets(f"example.com\n{line}\n", "in.txt")


def test_an_empty_input_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no domain names"):
        parse_targets("# nothing\n\n", "stdin")


@pytest.mark.parametrize(
    ("text", "days"), [("30d", 30), ("30", 30), ("4w", 28), (" 7D ", 7), ("0d", 0)]
)
def test_expiring_within(text: str, days: int) -> None:
    assert within(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["", "30m", "-3d", "d", "3.5d"])
def test_expiring_within_refuses_what_is_not_days(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        within(text)


def test_the_environment_describes_the_record() -> None:
    (txt,) = records_for("dns-txt-token", "tok", ["example.com"])
    assert record_environment(txt, "publish") == {
        "DCV_ACTION": "publish",
        "DCV_DOMAIN": "example.com",
        "DCV_RECORD_TYPE": "TXT",
        "DCV_RECORD_NAME": "example.com",
        "DCV_RECORD_VALUE": "tok",
    }
    (http,) = records_for("http-token", "tok", ["www.example.com"])
    env = record_environment(http, "unpublish")
    assert env["DCV_ACTION"] == "unpublish"
    assert env["DCV_RECORD_PATH"] == "/.well-known/pki-validation/fileauth.txt"
    assert env["DCV_RECORD_URL"] == "http://www.example.com/.well-known/pki-validation/fileauth.txt"


async def test_the_command_runs_once_per_record_with_the_record(tmp_path: Path) -> None:
    out = tmp_path / "seen.jsonl"
    script = (
        "import json, os, sys; "
        f"open({str(out)!r}, 'a').write(json.dumps({{k: v for k, v in os.environ.items()"
        " if k.startswith('DCV_')}) + '\\n')"
    )
    command = f'"{sys.executable}" -c "{script}"'
    publish = command_publisher(command, "publish")
    for record in records_for("dns-txt-token", "tok", ["a.example", "b.example"]):
        await publish(record)
    seen = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(s["DCV_ACTION"], s["DCV_RECORD_NAME"], s["DCV_RECORD_VALUE"]) for s in seen] == [
        ("publish", "a.example", "tok"),
        ("publish", "b.example", "tok"),
    ]


async def test_a_failing_command_fails_the_record_with_what_it_said() -> None:
    command = (
        f'"{sys.executable}" -c "import sys; sys.stderr.write(\'no zone\\x1b[31m\'); sys.exit(3)"'
    )
    (record,) = records_for("dns-txt-token", "tok", ["example.com"])
    with pytest.raises(PublishCommandFailed, match=r"exited with 3 for TXT example\.com") as info:
        await command_publisher(command, "publish")(record)
    assert "no zone" in str(info.value) and "\x1b" not in str(info.value)


def test_a_driver_is_made_from_the_options_only_with_a_publish_command() -> None:
    from digicert_async.cli._validate import driver_from

    args = argparse.Namespace(
        dcv_publish_command=None, dcv_unpublish_command=None, dcv_method="dns-txt-token",
        dcv_timeout=60.0, propagation=10.0,
    )  # fmt: skip
    assert driver_from(args, "dcv-") is None
    args.dcv_publish_command = "true"
    driver = driver_from(args, "dcv-")
    assert isinstance(driver, dc.DcvDriver)
    assert driver.timeout == 60.0 and driver.schedule.first == 10.0
    assert driver.unpublish is not None
