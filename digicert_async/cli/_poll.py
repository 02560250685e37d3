"""``digicert-async poll``: watch many orders until they reach a status, and with
``--then-download DIR`` download each one issued with a new certificate as soon as it is.

One JSON line each time an order is seen in a new status. An order is done in an
``--until`` status, in a status from which it can never reach one (its line says
``"never_reaches": true``), or not found. The client and the job are imported once the
command runs.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from ..models import ORDER_STATUSES, TERMINAL_STATUSES
from ._download import Downloads, Saved, add_file_options
from ._input import read_orders, say_skipped
from ._job import Ending, JobCommand, summary_line
from ._parser import PROG, add_ids_file, add_job_options, positive_seconds
from ._terminal import UsageError, counts_text, plural
from ._webhook_listen import add_webhook_options, listening, webhook_secret

if TYPE_CHECKING:
    import asyncio

    from .. import CertCentralClient, OrderUpdate

__all__ = ["DESCRIPTION", "EPILOG", "PollCommand", "PollDownloadCommand", "arguments", "run"]

DESCRIPTION = """\
Report each status change of the given orders until every one is in an
--until status. After a first look, one status-changes request per interval says
which orders moved, and only those are read."""

EPILOG = """\
With --webhook-port N, DigiCert's pushed events (see the README's Webhooks) wake the
poll for their order at once; the interval's looks go on as without them.

output: one JSON line each time an order is seen in a new status (the first look too):
  {"order_id": 123, "status": "issued", "previous_status": "pending"}
An id that does not exist is reported once with status "not_found". An order in a status
from which it can never reach an --until status (canceled, rejected, revoked or expired
when waiting for issued) ends there, its line marked "never_reaches": true.

Input lines of another command that report nothing was done to their order (failed,
not_attempted, not_found, not_reissuable) are skipped, and stderr says how many.

exit status: 0 when every order reached an --until status; 1 otherwise (an order that
never will, deadline, not found, error); 2 bad usage (nothing sent); 130 on Ctrl-C, 143
on SIGTERM (stderr tells how many orders got there and how many are left; --resume-file
PATH receives the ids left)."""

_DOWNLOAD_CONCURRENCY = 20  # --then-download's downloads, as download's default


def arguments(parser: argparse.ArgumentParser) -> None:
    add_ids_file(parser)
    add_job_options(parser)
    parser.add_argument(
        "--until",
        type=_status_set,
        default=TERMINAL_STATUSES,
        metavar="STATUS,...",
        help="the statuses to wait for, comma-separated"
        f" (default: {','.join(sorted(TERMINAL_STATUSES))})",
    )
    parser.add_argument(
        "--interval",
        type=positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="seconds between looks (default: 60)",
    )
    parser.add_argument(
        "--then-download",
        metavar="DIR",
        help="download each order issued with a new certificate, as soon as it is, into"
        " DIR, as `download --out DIR` does (IDS_FILE may be `reissue`'s output: an order"
        " issued again with the certificate it had before is not downloaded)",
    )
    add_file_options(parser, "with --then-download: ")
    add_webhook_options(parser)


def _status_set(text: str) -> frozenset[str]:
    """One order status or several, comma-separated: each a documented one."""
    from .. import ValidationError
    from .._checks import check_statuses

    parts = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("name at least one status, e.g. issued,canceled")
    try:
        return check_statuses("--until", parts, ORDER_STATUSES)
    except ValidationError as exc:
        # argparse names the option already; the message lists the valid statuses
        raise argparse.ArgumentTypeError(exc.message) from None


def run(args: argparse.Namespace) -> int:
    """The key, then the ids (nothing is sent when either is wrong), then the polling,
    and with ``--then-download`` the downloads."""
    from ._run_job import run_job_command

    if args.then_download:
        return run_job_command(lambda: PollDownloadCommand.from_args(args))
    return run_job_command(lambda: PollCommand.from_args(args))


class PollCommand(JobCommand["OrderUpdate"]):
    """``poll``: one line per status seen; an order is done in an --until status, in a
    status from which it can never reach one (its line says ``"never_reaches": true``),
    or not found."""

    name = "poll"

    def __init__(self, args: argparse.Namespace, ids: list[int]) -> None:
        from ..bulk import NOT_FOUND_STATUS

        super().__init__(args, ids)
        self._until: frozenset[str] = args.until
        self._not_found: str = NOT_FOUND_STATUS
        self._statuses: dict[int, str | None] = dict.fromkeys(ids)
        self._ended: set[int] = set()  # in a status that never reaches --until
        self.total = len(self._statuses)
        # checked before anything is sent, as the key is
        self._webhook_secret = webhook_secret() if args.webhook_port is not None else None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PollCommand:
        orders = read_orders(args.ids_file, follow=True)
        say_skipped("poll", orders)
        return cls(args, orders.ids)

    def _done(self, order_id: int) -> bool:
        status = self._statuses[order_id]
        return status is not None and (
            status in self._until or status == self._not_found or order_id in self._ended
        )

    def start(self, client: CertCentralClient) -> AsyncIterator[OrderUpdate]:
        from .. import poll_orders

        args = self.args
        if self._webhook_secret is None:
            return poll_orders(
                client,
                list(self._statuses),
                until=self._until,
                interval=args.interval,
                deadline=args.deadline,
            )
        from .. import WebhookReceiver

        receiver = WebhookReceiver(secret=self._webhook_secret.reveal())
        updates = poll_orders(
            client,
            list(self._statuses),
            until=self._until,
            interval=args.interval,
            deadline=args.deadline,
            events=receiver,
        )
        return listening(receiver, args.webhook_host, args.webhook_port, updates)

    def take(self, item: OrderUpdate) -> tuple[Mapping[str, Any], bool]:
        order_id = item.order_id
        was_done = self._done(order_id)
        self._statuses[order_id] = item.status
        line: dict[str, Any] = {
            "order_id": order_id,
            "status": item.status,
            "previous_status": item.previous_status,
        }
        if item.never_reaches:
            self._ended.add(order_id)
            line["never_reaches"] = True
        else:
            self._ended.discard(order_id)
        return line, self._done(order_id) and not was_done

    def counts(self) -> Mapping[str, int]:
        return Counter(s for s in self._statuses.values() if s is not None)

    def end(self) -> Ending:
        statuses, until = self._statuses, self._until
        left = [i for i in statuses if not self._done(i)]
        return Ending(
            lambda elapsed, head: _summary(
                statuses,
                until,
                ended=self._ended,
                not_found_status=self._not_found,
                elapsed=elapsed,
                head=head,
                resume_file=self.args.resume_file,
            ),
            complete=all(s is not None and s in until for s in statuses.values()),
            left=left,
            unfinished=bool(left),
        )


def _summary(
    statuses: Mapping[int, str | None],
    until: frozenset[str],
    *,
    ended: Collection[int],
    not_found_status: str,
    elapsed: float,
    head: str,
    resume_file: str | None,
) -> list[str]:
    """The poll's summary; ``ended`` are the orders in a status that never reaches
    ``until`` (``3 ended canceled, never issued``)."""
    wanted = "/".join(sorted(until))
    reached = Counter(s for s in statuses.values() if s is not None and s in until)
    not_found = sum(1 for s in statuses.values() if s == not_found_status and s not in until)
    ends = Counter(s for i, s in statuses.items() if i in ended and s is not None)
    left = Counter(
        s or "not_seen"
        for i, s in statuses.items()
        if not (s is not None and s in until) and s != not_found_status and i not in ended
    )
    parts = [f"{sum(reached.values())} reached {wanted}"]
    if reached:
        parts[0] += f" ({counts_text(dict(sorted(reached.items())))})"
    if ends:
        parts.append(
            ", ".join(f"{n} ended {status}" for status, n in sorted(ends.items()))
            + f", never {wanted}"
        )
    if not_found:
        parts.append(f"{not_found} not found")
    parts.append(f"{sum(left.values())} left")
    if left:
        parts[-1] += f" ({counts_text(dict(sorted(left.items())))})"
    lines = [summary_line("poll", head, elapsed, len(statuses), ", ".join(parts))]
    if left:
        if resume_file:
            lines.append(f"{PROG} poll: the ids left are in {resume_file}")
        else:
            lines.append(f"{PROG} poll: add --resume-file PATH to have the ids left written out")
    return lines


# --------------------------------------------------------------------------- then download


async def _then(out: asyncio.Queue[tuple[str, Any]], work: Awaitable[None]) -> None:
    """Run ``work``, then say on ``out`` that it ended (with its exception, if any)."""
    try:
        await work
    except Exception as exc:
        await out.put(("done", exc))
    else:
        await out.put(("done", None))


def _same_certificate(seen: Mapping[str, Any], before: Mapping[str, Any]) -> bool:
    """Whether the certificate ``seen`` is the one ``before`` (by id, serial number or
    thumbprint: any one both show)."""
    for key in ("id", "serial_number", "thumbprint"):
        if seen.get(key) is not None and before.get(key) is not None:
            return str(seen[key]).lower() == str(before[key]).lower()
    return False


class PollDownloadCommand(PollCommand):
    """``poll --then-download DIR``: poll until issued, downloading each order issued with
    a new certificate as soon as the poll sees it (pushed or polled). An order ``reissue``
    reported comes with the certificate it replaces: issued again with that same
    certificate, its reissue did not happen (``"reissued": false``), and it is not
    downloaded."""

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
        """The poll's updates and, as each order is issued with a new certificate, its
        download's :class:`Saved`, as they come: a fleet poll may run for hours, and an
        order issued in its first minute is downloaded in that minute."""
        import asyncio

        started = time.monotonic()
        out: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(_DOWNLOAD_CONCURRENCY * 10)
        ready: asyncio.Queue[int | None] = asyncio.Queue()

        async def poll() -> None:
            try:
                async for update in updates:
                    if self._classify(update)[0] == "ready" and update.order_id not in self._ready:
                        self._ready[update.order_id] = None
                        ready.put_nowait(update.order_id)
                    await out.put(("item", update))
            finally:
                ready.put_nowait(None)  # no more orders to download after these

        async def download() -> None:
            more = True
            while more:
                batch = [await ready.get()]
                while not ready.empty():
                    batch.append(ready.get_nowait())
                more = None not in batch
                ids = [i for i in batch if i is not None]
                deadline = self._time_left(started)
                if not ids or (deadline is not None and deadline <= 0):
                    continue  # no time left: the issued orders are left to download
                async for saved in self._downloads.run(
                    client, ids, concurrency=_DOWNLOAD_CONCURRENCY, deadline=deadline
                ):
                    await out.put(("item", saved))

        tasks = [
            asyncio.ensure_future(_then(out, poll())),
            asyncio.ensure_future(_then(out, download())),
        ]
        try:
            running = len(tasks)
            while running:
                kind, value = await out.get()
                if kind == "item":
                    yield value
                    continue
                running -= 1
                if value is not None:
                    raise value
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _time_left(self, started: float) -> float | None:
        deadline: float | None = self.args.deadline
        return None if deadline is None else deadline - (time.monotonic() - started)

    def _classify(self, item: OrderUpdate) -> tuple[str | None, Mapping[str, Any]]:
        """Whether ``item`` is an order issued with a new certificate (``"ready"``), or
        issued again with the one ``reissue`` reported it had (``"unchanged"``), and the
        certificate it shows."""
        from ..bulk._reissue import certificate_identity

        if item.status != "issued" or item.order is None:
            return None, {}
        seen = certificate_identity(item.order.certificate)
        before = self._replaced.get(item.order_id)
        if before is not None and _same_certificate(seen, before):
            return "unchanged", seen
        return "ready", seen

    def take(self, item: Any) -> tuple[Mapping[str, Any], bool]:
        if isinstance(item, Saved):
            return item.to_json(), False
        line, finished = super().take(item)
        kind, seen = self._classify(item)
        if kind == "unchanged":
            self._unchanged.add(item.order_id)
            return {**line, "reissued": False}, finished
        if kind == "ready" and seen:
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
        never_downloaded = [i for i in self._ready if i not in downloads.results]
        return Ending(
            lambda elapsed, head: self._summary(polled, elapsed, head, bool(left)),
            complete=not left,
            left=left,
            unfinished=polled.unfinished
            or bool(never_downloaded)
            or downloads.counts()["not_attempted"] > 0,
            lines=polled.lines,
            stopped=downloads.stopped_by is not None,
        )

    def _summary(self, polled: Ending, elapsed: float, head: str, left: bool) -> list[str]:
        """The poll's summary (without its lines about the ids left), then the
        downloads'."""
        downloads = self._downloads
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
        lines.append(f"{PROG} poll: download to {downloads.directory}: {counts_text(counts)}")
        if downloads.stopped_by is not None:
            lines.append(f"{PROG} poll: the downloads stopped early: {downloads.stopped_by}")
        if left and self.args.resume_file:
            lines.append(f"{PROG} poll: the ids without a new file are in {self.args.resume_file}")
        return lines
