"""``digicert-async reissue``: reissue many orders, each with its new CSR.

The input is JSON lines with each order's CSR, or a directory of ``<order_id>.csr`` files
(:func:`._input.read_reissue_input`). One JSON line per order, each outcome once; the
resume file gets the input lines of the orders left, to be given back as the input. The
client and the job are imported once the command runs.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._input import read_reissue_input
from ._job import Ending, JobCommand, job_summary
from ._parser import PROG, add_concurrency, add_job_options
from ._terminal import plural
from ._validate import add_publish_options, driver_from

if TYPE_CHECKING:
    from .. import CertCentralClient, ReissueOutcome, ReissueReport, ReissueResult

__all__ = ["DESCRIPTION", "EPILOG", "ReissueCommand", "arguments", "run"]

DESCRIPTION = """\
Reissue the given orders, each with its own CSR, keeping the names and
hash each order's certificate has. Only issued orders can be reissued; each
order is read first, and its reissue request is sent once, never again."""

EPILOG = """\
output: one JSON line per order:
  {"order_id": 123, "outcome": "reissued", "request_id": 9001, "status": "reissue_pending",
   "replaced_certificate": {"id": 5001, "serial_number": "0A1B...", "thumbprint": "..."}}
outcomes: reissued (request_id: the approval request opened); not_reissuable (the order's
status is given: only issued orders are reissued); not_found; failed (with "error": nothing
was applied); not_attempted (deadline hit or interrupted); unknown (the request may have
landed but its answer was lost, and reading the order back did not tell).

exit status: 0 when every order has a final outcome; 1 when any is failed, not_attempted or
unknown; 2 bad usage (nothing sent); 130 on Ctrl-C, 143 on SIGTERM.

--resume-file PATH receives the input lines of the failed and not_attempted orders (give PATH
as INPUT to resume). Never resend unknown ones as they are: run them with --check-pending.
Then `poll --until issued --then-download DIR` with this output as its IDS_FILE waits for
the new certificates and downloads them.

With --dcv-publish-command, an order whose reissue waits for DCV (its domain's validation
went stale) is validated in the same run: its line then says "dcv": "validated" (or
"timed_out", "failed" with "dcv_error")."""


def arguments(parser: argparse.ArgumentParser) -> None:
    add_job_options(parser)
    parser.add_argument(
        "ids_file",
        nargs="?",
        metavar="INPUT",
        help='JSON lines {"order_id": 123, "csr": "-----BEGIN CERTIFICATE REQUEST-----..."},'
        " or a directory of <order_id>.csr files; '-' or omitted: JSON lines on stdin",
    )
    parser.add_argument(
        "--check-pending",
        action="store_true",
        help="list each order's reissues first and send only where none is pending (for"
        " orders a run reported unknown)",
    )
    add_concurrency(parser, "orders worked on at once")
    dcv = parser.add_argument_group(
        "DCV", "validate the domains of orders whose reissue waits for DCV (see validate --help)"
    )
    add_publish_options(dcv, prefix="dcv-", required=False)  # type: ignore[arg-type]


def run(args: argparse.Namespace) -> int:
    """The key, then the CSRs (nothing is sent when either is wrong), then the job."""
    from ._run_job import run_job_command

    return run_job_command(lambda: ReissueCommand(args, read_reissue_input(args.ids_file)))


class ReissueCommand(JobCommand["ReissueResult"]):
    """``reissue``: one line per order, each outcome once. The resume file gets the
    input lines of the orders left (failed, not attempted): give it back as the input."""

    name = "reissue"

    def __init__(self, args: argparse.Namespace, csrs: dict[int, str]) -> None:
        from .. import ReissueOutcome

        super().__init__(args, list(csrs))
        self._csrs = csrs
        self._printed: set[int] = set()
        self._tally: Counter[ReissueOutcome] = Counter()
        # the outcomes that want attention first: on a narrow terminal they stay in sight
        attention = (ReissueOutcome.FAILED, ReissueOutcome.UNKNOWN)
        self._shown = sorted(ReissueOutcome, key=lambda o: o not in attention)

    def start(self, client: CertCentralClient) -> AsyncIterator[ReissueResult]:
        from .. import reissue_orders

        args = self.args
        self._job = reissue_orders(
            client,
            self._csrs,
            concurrency=args.concurrency,
            deadline=args.deadline,
            check_pending=args.check_pending,
            dcv=driver_from(args, "dcv-"),
        )
        self.total = len(self._csrs)
        return aiter(self._job)

    def take(self, item: ReissueResult) -> tuple[Mapping[str, Any], bool]:
        self._printed.add(item.order_id)
        self._tally[item.outcome] += 1
        return item.to_json(), True

    def counts(self) -> Mapping[str, int]:
        return {outcome.value: self._tally[outcome] for outcome in self._shown}

    def end(self) -> Ending:
        from .. import ReissueOutcome

        report = self._job.report
        left = report.resume_ids()
        resume_file = self.args.resume_file
        return Ending(
            lambda elapsed, head: _summary(report, left, resume_file, elapsed, head),
            complete=report.complete,
            left=left,
            unfinished=bool(report.counts[ReissueOutcome.NOT_ATTEMPTED]),
            lines=[r.to_json() for r in report.results if r.order_id not in self._printed],
            resume_text="".join(
                json.dumps({"order_id": i, "csr": self._csrs[i]}) + "\n" for i in left
            ),
            stopped=report.stopped_by is not None,
        )


def _summary(
    report: ReissueReport,
    left: Sequence[int],
    resume_file: str | None,
    elapsed: float,
    head: str,
) -> list[str]:
    from .. import ReissueOutcome

    lines = job_summary(
        "reissue",
        total=len(report.results),
        counts={o.value: n for o, n in report.counts.items()},
        elapsed=elapsed,
        head=head,
        stopped_by=report.stopped_by,
    )
    if left:
        where = (
            f"their input lines are in {resume_file}; resume with `{PROG} reissue {resume_file}`"
            if resume_file
            else "they are the stdout lines whose outcome is failed or not_attempted;"
            " add --resume-file PATH to have their input written to a file"
        )
        lines.append(f"{PROG} reissue: {plural(len(left), 'order')} left to do: {where}")
    unknown = report.ids(ReissueOutcome.UNKNOWN)
    if unknown:
        lines.append(
            f"{PROG} reissue: {plural(len(unknown), 'order')} unknown (the reissue may"
            " have landed, its answer was lost): do not resend them as they are; give"
            f" them to `{PROG} reissue --check-pending`, which sends only where no"
            " reissue is pending"
        )
    return lines
