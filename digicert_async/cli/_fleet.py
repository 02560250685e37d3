"""The commands that replace a fleet: ``reissue``, ``download``, and ``poll
--then-download`` (wait until reissued, then fetch), on the job skeleton of
:mod:`._commands` (JSON lines, progress, exit statuses, Ctrl-C, the resume file).

Their input is read by :mod:`._files` (``reissue``: JSON lines with a CSR, or a
directory of ``<order_id>.csr`` files; the others: ids or any command's JSON lines).
``download`` writes one file per order in ``--out DIR``, each put in place whole (a
temporary file renamed, or linked in when it must not replace one) and never over an
existing file without ``--force``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

import attrs

from .. import (
    CERTIFICATE_FORMATS,
    CertCentralClient,
    CertificateDownload,
    OrderUpdate,
    ReissueOutcome,
    ReissueResult,
    download_certificates,
    reissue_orders,
)
from ..bulk._reissue import certificate_identity
from ._commands import Ending, JobCommand, PollCommand, api_key_from_env, job_summary, run_job
from ._files import (
    read_orders,
    read_reissue_input,
    say_skipped,
    write_file_atomically,
)
from ._terminal import PROG, UsageError, counts_text, plural, run_command

__all__ = [
    "CERTIFICATE_EXTENSIONS",
    "DownloadCommand",
    "PollDownloadCommand",
    "ReissueCommand",
    "run_fleet_command",
]

# The file extension of each format: the glossary's for the single files (PEM, PKCS#7);
# the ZIP formats' download is an archive of .crt/.cer files, so it is named .zip.
CERTIFICATE_EXTENSIONS: Mapping[str, str] = {
    "default": "zip",
    "apache": "zip",
    "default_cer": "zip",
    "default_pem": "zip",
    "cer": "cer",
    "p7b": "p7b",
    "pem_all": "pem",
    "pem_nointermediate": "pem",
    "pem_noroot": "pem",
}
assert set(CERTIFICATE_EXTENSIONS) == set(CERTIFICATE_FORMATS)

_DOWNLOAD_CONCURRENCY = 20  # poll --then-download's downloads, as download's default


# --------------------------------------------------------------------------- reissue


class ReissueCommand(JobCommand[ReissueResult]):
    """``reissue``: one line per order, each outcome once. The resume file gets the
    input lines of the orders left (failed, not attempted): give it back as the input."""

    name = "reissue"
    _SHOWN = sorted(
        ReissueOutcome,
        key=lambda o: o not in (ReissueOutcome.FAILED, ReissueOutcome.UNKNOWN),
    )

    def __init__(self, args: argparse.Namespace, csrs: dict[int, str]) -> None:
        super().__init__(args, list(csrs))
        self._csrs = csrs
        self._printed: set[int] = set()
        self._tally: Counter[ReissueOutcome] = Counter()

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ReissueCommand:
        return cls(args, read_reissue_input(args.ids_file))

    def start(self, client: CertCentralClient) -> AsyncIterator[ReissueResult]:
        args = self.args
        self._job = reissue_orders(
            client,
            self._csrs,
            concurrency=args.concurrency,
            deadline=args.deadline,
            check_pending=args.check_pending,
        )
        self.total = len(self._csrs)
        return aiter(self._job)

    def take(self, item: ReissueResult) -> tuple[Mapping[str, Any], bool]:
        self._printed.add(item.order_id)
        self._tally[item.outcome] += 1
        return item.to_json(), True

    def counts(self) -> Mapping[str, int]:
        return {outcome.value: self._tally[outcome] for outcome in self._SHOWN}

    def end(self) -> Ending:
        report = self._job.report
        left = report.resume_ids()
        unknown = report.ids(ReissueOutcome.UNKNOWN)
        resume_file = self.args.resume_file

        def summary(elapsed: float, head: str) -> list[str]:
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
                    f"their input lines are in {resume_file}; resume with"
                    f" `{PROG} reissue {resume_file}`"
                    if resume_file
                    else "they are the stdout lines whose outcome is failed or not_attempted;"
                    " add --resume-file PATH to have their input written to a file"
                )
                lines.append(f"{PROG} reissue: {plural(len(left), 'order')} left to do: {where}")
            if unknown:
                lines.append(
                    f"{PROG} reissue: {plural(len(unknown), 'order')} unknown (the reissue may"
                    " have landed, its answer was lost): do not resend them as they are; give"
                    f" them to `{PROG} reissue --check-pending`, which sends only where no"
                    " reissue is pending"
                )
            return lines

        return Ending(
            summary,
            complete=report.complete,
            left=left,
            unfinished=bool(report.counts[ReissueOutcome.NOT_ATTEMPTED]),
            lines=[r.to_json() for r in report.results if r.order_id not in self._printed],
            resume_text="".join(
                json.dumps({"order_id": i, "csr": self._csrs[i]}) + "\n" for i in left
            ),
            stopped=report.stopped_by is not None,
        )


# --------------------------------------------------------------------------- download


@attrs.frozen
class Saved:
    """One order's certificate file: ``downloaded`` (written to ``path``), ``exists``
    (a file was there: left alone), ``failed`` or ``not_attempted`` (with ``error``)."""

    order_id: int
    outcome: str
    path: str | None = None
    size: int | None = None
    error: BaseException | None = attrs.field(default=None, eq=False)

    def to_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {"order_id": self.order_id, "outcome": self.outcome}
        if self.path is not None:
            line["path"] = self.path
        if self.size is not None:
            line["bytes"] = self.size
        if self.error is not None:
            line["error"] = f"{type(self.error).__name__}: {self.error}"
        return line


DOWNLOAD_OUTCOMES = ("downloaded", "exists", "failed", "not_attempted")
_DONE = frozenset({"downloaded", "exists"})


class Downloads:
    """Where each order's file goes, and putting it there: the shared part of
    ``download`` and ``poll --then-download``."""

    def __init__(self, directory: str, format: str, force: bool) -> None:
        self.directory = directory
        self.format = format
        self.force = force
        self.extension = CERTIFICATE_EXTENSIONS[format]
        self.results: dict[int, Saved] = {}
        self.stopped_by: BaseException | None = None  # what stopped the downloads early

    @staticmethod
    def prepare(directory: str) -> None:
        """Make ``directory`` if needed: a :class:`UsageError` when it cannot be."""
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {directory}: {exc}") from None
        if not os.access(directory, os.W_OK):
            raise UsageError(f"--out {directory}: not writable")

    def path(self, order_id: int) -> str:
        return os.path.join(self.directory, f"{order_id}.{self.extension}")

    def existing(self, ids: Iterable[int]) -> list[Saved]:
        """The orders whose file is there already (none with ``--force``)."""
        if self.force:
            return []
        found = [Saved(i, "exists", self.path(i)) for i in ids if os.path.lexists(self.path(i))]
        for saved in found:
            self.results[saved.order_id] = saved
        return found

    def save(self, item: CertificateDownload) -> Saved:
        """Write the downloaded file in place, whole, or say why there is none."""
        order_id = item.order_id
        if item.data is None:
            outcome = "failed" if item.attempted else "not_attempted"
            saved = Saved(order_id, outcome, error=item.error)
        else:
            path = self.path(order_id)
            try:
                write_file_atomically(path, item.data, replace=self.force)
            except FileExistsError:  # made meanwhile by someone else: theirs stays
                saved = Saved(order_id, "exists", path)
            except OSError as exc:
                saved = Saved(order_id, "failed", error=exc)
            else:
                saved = Saved(order_id, "downloaded", path, len(item.data))
        self.results[order_id] = saved
        return saved

    async def run(
        self,
        client: CertCentralClient,
        ids: Sequence[int],
        *,
        concurrency: int,
        deadline: float | None,
    ) -> AsyncIterator[Saved]:
        """Each order's :class:`Saved`: those whose file exists first, then the rest as
        their downloads complete."""
        for saved in self.existing(ids):
            yield saved
        wanted = [i for i in ids if i not in self.results]
        if not wanted:
            return
        job = download_certificates(
            client, wanted, format=self.format, concurrency=concurrency, deadline=deadline
        )
        async for item in job:
            self.stopped_by = job.stopped_by
            yield self.save(item)

    def counts(self) -> dict[str, int]:
        tally = Counter(saved.outcome for saved in self.results.values())
        return {outcome: tally[outcome] for outcome in DOWNLOAD_OUTCOMES}

    def left(self, ids: Iterable[int]) -> list[int]:
        """The ids without their file: failed, not attempted, or never reached."""
        return [i for i in ids if i not in self.results or self.results[i].outcome not in _DONE]


class DownloadCommand(JobCommand[Saved]):
    """``download``: one line per order (its file's path, or why there is none)."""

    name = "download"

    def __init__(self, args: argparse.Namespace, ids: list[int]) -> None:
        super().__init__(args, list(dict.fromkeys(ids)))
        self._downloads = Downloads(args.out, args.format, args.force)
        self._printed: set[int] = set()
        self.total = len(self.ids)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DownloadCommand:
        orders = read_orders(args.ids_file, follow=True)
        Downloads.prepare(args.out)
        say_skipped("download", orders)
        return cls(args, orders.ids)

    def start(self, client: CertCentralClient) -> AsyncIterator[Saved]:
        args = self.args
        return self._downloads.run(
            client, self.ids, concurrency=args.concurrency, deadline=args.deadline
        )

    def take(self, item: Saved) -> tuple[Mapping[str, Any], bool]:
        self._printed.add(item.order_id)
        return item.to_json(), True

    def counts(self) -> Mapping[str, int]:
        counts = self._downloads.counts()
        return {"failed": counts.pop("failed"), **counts}

    def end(self) -> Ending:
        downloads = self._downloads
        left = downloads.left(self.ids)
        unprinted = [
            Saved(i, "not_attempted").to_json() for i in self.ids if i not in self._printed
        ]
        resume_file = self.args.resume_file

        def summary(elapsed: float, head: str) -> list[str]:
            counts = downloads.counts()
            counts["not_attempted"] += len(unprinted)
            lines = job_summary(
                "download",
                total=len(self.ids),
                counts=counts,
                elapsed=elapsed,
                head=head,
                stopped_by=downloads.stopped_by,
            )
            if left:
                where = (
                    f"their ids are in {resume_file}; resume with `{PROG} download"
                    f" {resume_file} --out {downloads.directory}`"
                    if resume_file
                    else "add --resume-file PATH to have their ids written to a file"
                )
                lines.append(
                    f"{PROG} download: {plural(len(left), 'order')} without a file: {where}"
                )
            return lines

        return Ending(
            summary,
            complete=not left,
            left=left,
            unfinished=bool(unprinted) or downloads.counts()["not_attempted"] > 0,
            lines=unprinted,
            stopped=downloads.stopped_by is not None,
        )


# --------------------------------------------------------------------------- poll, then download


def _same_certificate(seen: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    """Whether the certificate ``seen`` is the one ``before`` (by id, serial number or
    thumbprint: any one both show)."""
    for key in ("id", "serial_number", "thumbprint"):
        if seen.get(key) is not None and before.get(key) is not None:
            return str(seen[key]).lower() == str(before[key]).lower()
    return False


class PollDownloadCommand(PollCommand):
    """``poll --then-download DIR``: poll until issued, then download the orders issued
    with a new certificate. An order ``reissue`` reported comes with the certificate it
    replaces: issued again with that same certificate, its reissue did not happen
    (``"reissued": false``), and it is not downloaded."""

    def __init__(
        self,
        args: argparse.Namespace,
        ids: list[int],
        replaced: Mapping[int, Mapping[str, Any]],
    ) -> None:
        super().__init__(args, ids)
        self._replaced = replaced
        self._unchanged: set[int] = set()
        self._ready: dict[int, None] = {}  # issued with a new certificate, in order
        self._downloads = Downloads(args.then_download, args.format, args.force)
        self._started_at: float | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PollDownloadCommand:
        if "issued" not in args.until:
            raise UsageError("--then-download waits for issued orders: add issued to --until")
        orders = read_orders(args.ids_file, follow=True)
        Downloads.prepare(args.then_download)
        say_skipped("poll", orders)
        return cls(args, orders.ids, orders.replaced)

    def start(self, client: CertCentralClient) -> AsyncIterator[Any]:
        return self._poll_then_download(client, super().start(client))

    async def _poll_then_download(
        self, client: CertCentralClient, updates: AsyncIterator[OrderUpdate]
    ) -> AsyncIterator[Any]:
        started = time.monotonic()
        async for update in updates:
            yield update
        deadline = self.args.deadline
        if deadline is not None:
            deadline -= time.monotonic() - started
            if deadline <= 0:
                return  # no time left: the issued orders are left to download
        async for saved in self._downloads.run(
            client, list(self._ready), concurrency=_DOWNLOAD_CONCURRENCY, deadline=deadline
        ):
            yield saved

    def take(self, item: Any) -> tuple[Mapping[str, Any], bool]:
        if isinstance(item, Saved):
            return item.to_json(), False
        line, finished = super().take(item)
        if item.status != "issued" or item.order is None:
            return line, finished
        seen = certificate_identity(item.order.certificate)
        before = self._replaced.get(item.order_id)
        if before is not None and _same_certificate(seen, before):
            self._unchanged.add(item.order_id)
            return {**line, "reissued": False}, finished
        self._ready[item.order_id] = None
        if seen:
            line = {**line, "certificate": seen}
        return line, finished

    def counts(self) -> Mapping[str, int]:
        counts = Counter(super().counts())
        if self._unchanged:
            counts["not_reissued"] = len(self._unchanged)
        return counts

    def end(self) -> Ending:
        polled = super().end()
        downloads = self._downloads
        left = downloads.left(self.ids)
        directory = downloads.directory

        def summary(elapsed: float, head: str) -> list[str]:
            lines = [
                line
                for line in polled.summary(elapsed, head)
                if "resume" not in line and "ids left" not in line
            ]
            counts = downloads.counts()
            counts["not_attempted"] += len([i for i in self._ready if i not in downloads.results])
            if self._unchanged:
                lines.append(
                    f"{PROG} poll: {plural(len(self._unchanged), 'order')} issued with the"
                    " certificate it had before: the reissue did not happen; not downloaded"
                )
            lines.append(f"{PROG} poll: download to {directory}: {counts_text(counts)}")
            if downloads.stopped_by is not None:
                lines.append(f"{PROG} poll: the downloads stopped early: {downloads.stopped_by}")
            if left and self.args.resume_file:
                lines.append(
                    f"{PROG} poll: the ids without a new file are in {self.args.resume_file}"
                )
            return lines

        never_downloaded = [i for i in self._ready if i not in downloads.results]
        return Ending(
            summary,
            complete=not left,
            left=left,
            unfinished=polled.unfinished
            or bool(never_downloaded)
            or downloads.counts()["not_attempted"] > 0,
            lines=polled.lines,
            stopped=downloads.stopped_by is not None,
        )


# --------------------------------------------------------------------------- the commands


def run_fleet_command(args: argparse.Namespace) -> int:
    """``reissue``, ``download`` or ``poll --then-download``: the key, then the input
    (nothing is sent when either is wrong), then the job."""
    api_key = api_key_from_env()
    job: JobCommand[Any]
    if args.command == "reissue":
        job = ReissueCommand.from_args(args)
    elif args.command == "download":
        job = DownloadCommand.from_args(args)
    else:
        job = PollDownloadCommand.from_args(args)
    return run_command(lambda interrupts: run_job(job, api_key, interrupts))
