"""``digicert-async validate``: pass DCV for domains or orders, with a shell command that
publishes each record (and removes it after).

The input is one domain name or order id per line. One JSON line per input, each outcome
once. The client and the job are imported once the command runs.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from ._input import _lines, read_text
from ._job import Ending, JobCommand, job_summary
from ._parser import PROG, add_concurrency, add_job_options, positive_seconds
from ._terminal import UsageError, plural

if TYPE_CHECKING:
    from .. import CertCentralClient, DcvDriver, ValidateReport, ValidateResult

__all__ = [
    "DESCRIPTION",
    "EPILOG",
    "ValidateCommand",
    "add_publish_options",
    "arguments",
    "driver_from",
    "parse_targets",
    "run",
]

DESCRIPTION = """\
Pass domain control validation (DCV) for the given domains or orders: get
each token, run --publish-command to put the record in place, ask DigiCert to
check on a schedule (the first check waits for DNS to propagate), then run the
unpublish command to take the record away, whatever happened."""

EPILOG = """\
input: one domain name (example.com) or order id (12345) per line; '#' comments and blank
lines are ignored.

the command runs through the shell once per record, with the record in its environment:
  DCV_ACTION=publish|unpublish DCV_DOMAIN DCV_RECORD_TYPE=TXT|CNAME|HTTP DCV_RECORD_NAME
  DCV_RECORD_VALUE, and for HTTP DCV_RECORD_PATH and DCV_RECORD_URL.
Without --unpublish-command the publish command is run again with DCV_ACTION=unpublish.

output: one JSON line per input:
  {"target": "example.com", "kind": "domain", "outcome": "validated", "checks": 2}
outcomes: validated; timed_out (DigiCert never found the record within --dcv-timeout);
not_found; failed (with "error"); not_attempted (deadline hit or interrupted).

exit status: 0 when every input is validated (or not found); 1 otherwise; 2 bad usage."""

_NAME = re.compile(r"(\*\.)?([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}\.?")
_METHODS = ("dns-txt-token", "dns-cname-token", "http-token")


def add_publish_options(
    parser: argparse.ArgumentParser, *, prefix: str = "", required: bool = True
) -> None:
    """The options of a command that publishes DCV records with a shell command."""
    parser.add_argument(
        f"--{prefix}publish-command",
        required=required,
        metavar="COMMAND",
        help="shell command that puts one record in place (the record is in its environment)",
    )
    parser.add_argument(
        f"--{prefix}unpublish-command",
        metavar="COMMAND",
        help="shell command that removes one record (default: the publish command, with"
        " DCV_ACTION=unpublish)",
    )
    parser.add_argument(
        f"--{prefix}method",
        choices=_METHODS,
        default="dns-txt-token",
        help="the DCV method (default: dns-txt-token; dns-cname-token for domains only)",
    )
    parser.add_argument(
        "--dcv-timeout",
        type=positive_seconds,
        default=3600.0,
        metavar="SECONDS",
        help="how long one validation keeps asking DigiCert to check (default: 3600)",
    )
    parser.add_argument(
        "--propagation",
        type=positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="seconds to wait after publishing before the first check (default: 30)",
    )


def driver_from(args: argparse.Namespace, prefix: str = "") -> DcvDriver | None:
    """The DCV driver the options ask for; None without a publish command."""
    from .. import CheckSchedule, DcvDriver
    from ._publish_command import command_publisher

    key = prefix.replace("-", "_")
    publish = getattr(args, f"{key}publish_command")
    if publish is None:
        return None
    unpublish = getattr(args, f"{key}unpublish_command") or publish
    method = getattr(args, f"{key}method")
    schedule = CheckSchedule(first=args.propagation, interval=max(30.0, args.propagation))
    return DcvDriver(
        publish=command_publisher(publish, "publish"),
        unpublish=command_publisher(unpublish, "unpublish"),
        method=method,
        schedule=schedule,
        timeout=args.dcv_timeout,
    )


def arguments(parser: argparse.ArgumentParser) -> None:
    add_job_options(parser)
    parser.add_argument(
        "ids_file",
        nargs="?",
        metavar="INPUT",
        help="file of domain names or order ids, one per line; '-' or omitted: stdin",
    )
    add_publish_options(parser)
    add_concurrency(parser, "validations at once")


def parse_targets(text: str, source: str) -> list[int | str]:
    """The domain names and order ids of the input, in order; a line that is neither is a
    :class:`UsageError` naming it."""
    targets: list[int | str] = []
    for number, raw in enumerate(_lines(text), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.isascii() and line.isdigit() and 0 < len(line.lstrip("0")) <= 18:
            targets.append(int(line))
        elif _NAME.fullmatch(line.lower()):
            targets.append(line.lower())
        else:
            shown = line if len(line) <= 40 else line[:37] + "..."
            raise UsageError(
                f"{source}, line {number}: {shown!r} is not a domain name or an order id"
            )
    if not targets:
        raise UsageError(f"{source}: no domain names or order ids")
    return targets


def run(args: argparse.Namespace) -> int:
    from ._run_job import run_job_command

    def make() -> ValidateCommand:
        text, source = read_text(
            args.ids_file, "give a file of domains or order ids, or pipe them in"
        )
        return ValidateCommand(args, parse_targets(text, source))

    return run_job_command(make)


class ValidateCommand(JobCommand["ValidateResult"]):
    """``validate``: one line per input, each outcome once."""

    name = "validate"

    def __init__(self, args: argparse.Namespace, targets: list[int | str]) -> None:
        super().__init__(args, [])
        self._targets = targets
        self._tally: Counter[str] = Counter()
        self._printed: set[tuple[int | str, str]] = set()

    def start(self, client: CertCentralClient) -> AsyncIterator[ValidateResult]:
        from .. import validate_domains

        driver = driver_from(self.args)
        self._job = validate_domains(
            client,
            self._targets,
            driver=driver,
            concurrency=self.args.concurrency,
            deadline=self.args.deadline,
        )
        self.total = len(self._job.report.results)
        return aiter(self._job)

    def take(self, item: ValidateResult) -> tuple[Mapping[str, Any], bool]:
        self._tally[item.outcome.value] += 1
        self._printed.add((item.target, item.kind))
        return item.to_json(), True

    def counts(self) -> Mapping[str, int]:
        return dict(self._tally)

    def end(self) -> Ending:
        report = self._job.report
        left = report.resume_targets()
        return Ending(
            lambda elapsed, head: _summary(report, len(left), elapsed, head),
            complete=not left,
            left=[],
            unfinished=any(r.outcome.value == "not_attempted" for r in report.results),
            lines=[r.to_json() for r in report.results if (r.target, r.kind) not in self._printed],
            resume_text="".join(f"{target}\n" for target in left),
            stopped=report.stopped_by is not None,
        )


def _summary(report: ValidateReport, left: int, elapsed: float, head: str) -> list[str]:
    lines = job_summary(
        "validate",
        total=len(report.results),
        counts={o.value: n for o, n in report.counts.items()},
        elapsed=elapsed,
        head=head,
        stopped_by=report.stopped_by,
    )
    if left:
        lines.append(
            f"{PROG} validate: {plural(left, 'input')} left to do: add --resume-file PATH to"
            " have them written to a file, and give PATH as INPUT to resume"
        )
    return lines
