"""``digicert-async cancel``: cancel many orders concurrently, with a note saying why.

One JSON line per input id, each outcome once; the ids the job never got to come at the
end, so that every id is reported. The client and the job are imported once the command
runs.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from ._input import read_ids
from ._job import Ending, JobCommand, job_summary
from ._parser import PROG, add_concurrency, add_ids_file, add_job_options
from ._terminal import plural

if TYPE_CHECKING:
    from .. import CancelOutcome, CancelReport, CancelResult, CertCentralClient

__all__ = ["DESCRIPTION", "EPILOG", "CancelCommand", "arguments", "run"]

DESCRIPTION = """\
Cancel the given orders (pending and waiting_pickup ones can be), with a
note saying why. Each refusal is settled by reading the order back."""

EPILOG = """\
output: one JSON line per input id (a duplicate id is reported and sent once):
  {"order_id": 123, "outcome": "canceled", "status": "canceled"}
outcomes: canceled; already_canceled; not_cancelable (the order's status is given);
not_found; failed (with "error"); not_attempted (deadline hit or interrupted).

exit status: 0 when every order has a final outcome (canceled, already_canceled,
not_cancelable and not_found are final: there is nothing left to do); 1 when any
order is failed or not_attempted; 2 bad usage (nothing sent); 130 on Ctrl-C,
143 on SIGTERM.

Ctrl-C (or SIGTERM) stops the job: orders in flight are reported failed (their request may have
landed), the others not_attempted, so every id still gets its line; stderr tells how
many are left. With --resume-file PATH those ids are written to PATH, one per line:
  digicert-async cancel PATH --note "..." resumes the job."""


def arguments(parser: argparse.ArgumentParser) -> None:
    add_ids_file(parser)
    add_job_options(parser)
    parser.add_argument(
        "--note", required=True, metavar="TEXT", help="why: the note DigiCert records (required)"
    )
    add_concurrency(parser, "cancellations in flight at once")


def run(args: argparse.Namespace) -> int:
    """The key, then the ids (nothing is sent when either is wrong), then the job."""
    from ._run_job import run_job_command

    return run_job_command(lambda: CancelCommand(args, read_ids(args.ids_file)))


class CancelCommand(JobCommand["CancelResult"]):
    """``cancel``: one line per id, each outcome once; the ids cut short come at the end."""

    name = "cancel"

    def __init__(self, args: argparse.Namespace, ids: list[int]) -> None:
        from .. import CancelOutcome

        super().__init__(args, ids)
        self._printed: set[int] = set()
        self._tally: Counter[CancelOutcome] = Counter()
        # failures first: on a narrow terminal they are the count to keep in sight
        self._shown = sorted(CancelOutcome, key=lambda o: o is not CancelOutcome.FAILED)

    def start(self, client: CertCentralClient) -> AsyncIterator[CancelResult]:
        from .. import cancel_orders

        args = self.args
        self._job = cancel_orders(
            client, self.ids, note=args.note, concurrency=args.concurrency, deadline=args.deadline
        )
        self.total = len(self._job.report.results)
        return aiter(self._job)

    def take(self, item: CancelResult) -> tuple[Mapping[str, Any], bool]:
        self._printed.add(item.order_id)
        self._tally[item.outcome] += 1
        return item.to_json(), True

    def counts(self) -> Mapping[str, int]:
        return {outcome.value: self._tally[outcome] for outcome in self._shown}

    def end(self) -> Ending:
        from .. import CancelOutcome

        report = self._job.report
        resume_file = self.args.resume_file
        return Ending(
            lambda elapsed, head: _summary(report, elapsed, head, resume_file),
            complete=report.complete,
            left=report.resume_ids(),
            unfinished=bool(report.counts[CancelOutcome.NOT_ATTEMPTED]),
            lines=[r.to_json() for r in report.results if r.order_id not in self._printed],
            stopped=report.stopped_by is not None,
        )


def _summary(report: CancelReport, elapsed: float, head: str, resume_file: str | None) -> list[str]:
    lines = job_summary(
        "cancel",
        total=len(report.results),
        counts={outcome.value: n for outcome, n in report.counts.items()},
        elapsed=elapsed,
        head=head,
        stopped_by=report.stopped_by,
    )
    extra = sum(report.duplicates.values())
    if extra:
        lines.append(
            f"{PROG} cancel: {plural(extra, 'duplicate id')} ignored"
            f" ({plural(len(report.duplicates), 'order')} listed more than once, each sent once)"
        )
    left = report.resume_ids()
    if left:
        where = (
            f"their ids are in {resume_file}; resume with `{PROG} cancel {resume_file} --note ...`"
            if resume_file
            else "their ids are the stdout lines whose outcome is failed or not_attempted;"
            " add --resume-file PATH to have them written to a file"
        )
        lines.append(f"{PROG} cancel: {plural(len(left), 'order')} left to do: {where}")
    return lines
