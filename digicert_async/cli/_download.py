"""``digicert-async download``: many orders' certificates, one file per order in
``--out DIR``, and the downloads of ``poll --then-download`` (:class:`Downloads`).

Each file is put in place whole (a temporary file renamed, or linked in when it must not
replace one) and never over an existing file without ``--force``. The client and the
job are imported once the command runs.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ..models import CERTIFICATE_FORMATS
from ._atomic_write import write_file_atomically
from ._input import read_orders, say_skipped
from ._job import Ending, JobCommand, job_summary
from ._parser import PROG, add_concurrency, add_ids_file, add_job_options
from ._terminal import UsageError, plural

if TYPE_CHECKING:
    from .. import CertCentralClient, CertificateDownload

__all__ = [
    "CERTIFICATE_EXTENSIONS",
    "DESCRIPTION",
    "EPILOG",
    "DownloadCommand",
    "Downloads",
    "Saved",
    "add_file_options",
    "arguments",
    "run",
]

DESCRIPTION = """\
Download each order's current certificate into --out DIR as
<order_id>.<ext> (the format's extension: .pem, .cer, .p7b, or .zip for the ZIP
formats). Each file appears whole or not at all; an existing file is left alone
unless --force."""

EPILOG = """\
output: one JSON line per order:
  {"order_id": 123, "outcome": "downloaded", "path": "certs/123.pem", "bytes": 5512}
outcomes: downloaded; exists (a file was there already: left alone, see --force); failed
(with "error": not issued yet, not found...); not_attempted (deadline hit or interrupted).
Input lines of another command that report nothing was done to their order (failed,
not_attempted, not_found, not_reissuable) are skipped, and stderr says how many.

exit status: 0 when every order has its file (downloaded or existing); 1 otherwise; 2 bad
usage (nothing sent); 130 on Ctrl-C, 143 on SIGTERM. --resume-file PATH receives the ids
without a file."""


def arguments(parser: argparse.ArgumentParser) -> None:
    add_ids_file(parser)
    add_job_options(parser)
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="the directory to write into (made if needed)"
    )
    add_file_options(parser, "")
    add_concurrency(parser, "downloads in flight at once")


def add_file_options(parser: argparse.ArgumentParser, prefix: str) -> None:
    """``--format`` and ``--force``: ``download``'s, and ``poll --then-download``'s."""
    formats = sorted(CERTIFICATE_FORMATS)
    parser.add_argument(
        "--format",
        choices=formats,
        default="pem_all",
        metavar="FORMAT",
        help=f"{prefix}the certificate format, one of DigiCert's: "
        f"{', '.join(formats)} (default: pem_all)",
    )
    parser.add_argument(
        "--force", action="store_true", help=f"{prefix}replace a file that exists already"
    )


def run(args: argparse.Namespace) -> int:
    """The key, then the ids and the directory (nothing is sent when any is wrong), then
    the job."""
    from ._run_job import run_job_command

    return run_job_command(lambda: DownloadCommand.from_args(args))


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
        from .. import download_certificates

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
