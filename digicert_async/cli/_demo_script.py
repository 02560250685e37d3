"""The script of ``digicert-async demo`` (:mod:`._demo`): the bulk jobs against the
embedded fake CertCentral, with narration on stdout, so it needs neither a key nor a
network: cancel, poll, then replace a fleet (reissue, poll until issued, download). The
one module of the command line that runs the test kit (``fake-server`` aside, which
serves it)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from .. import (
    TERMINAL_STATUSES,
    CancelJob,
    CancelReport,
    CertCentralClient,
    DcvDriver,
    RateLimit,
    ReissueOutcome,
    WebhookReceiver,
    cancel_orders,
    download_certificates,
    poll_orders,
    reissue_orders,
)
from .._escape import visible
from .._version import __version__
from ._signals import Interrupts, run_command
from ._terminal import (
    API_KEY_ENV,
    EXIT_INCOMPLETE,
    EXIT_OK,
    PROG,
    Progress,
    UsageError,
    counts_text,
    plural,
)

if TYPE_CHECKING:
    import aiohttp

    from ..testing import FakeCertCentral

__all__ = ["DEMO_WINDOWS", "run_demo"]

# The demo's rate limits: DigiCert's windows (100 per 5 s, 1000 per 3 min), five times faster.
DEMO_WINDOWS: tuple[tuple[int, float], ...] = ((100, 1.0), (1000, 36.0))
DEMO_REUSE = 200 * 86400.0  # lifecycle seconds a domain validation is reusable


class _DemoOutput:
    """The demo's narration on stdout; ``detail`` lines are left out with ``--quiet``."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.progress: Progress | None = None

    def say(self, text: str = "") -> None:
        text = visible(text, keep_newlines=True)
        if self.progress is not None:
            self.progress.write(text, sys.stdout)
        else:
            print(text, flush=True)

    def detail(self, text: str) -> None:
        if not self.quiet:
            self.say(text)

    def section(self, title: str) -> None:
        self.say()
        self.say(f"== {title} ==")


async def _ticker(show: _DemoOutput, describe: Callable[[], str]) -> None:
    """Without a bar, a progress line each second, so a piped demo still shows progress."""
    started = time.monotonic()
    while True:
        await asyncio.sleep(1.0)
        show.detail(f"  ... {time.monotonic() - started:4.1f} s: {describe()}")


def _expected_outcome(status: str | None) -> str:
    if status is None:
        return "not_found"
    if status in ("pending", "waiting_pickup"):
        return "canceled"
    if status == "canceled":
        return "already_canceled"
    return "not_cancelable"


def _cancel_ids(fake: FakeCertCentral) -> tuple[list[int], dict[int, str | None], list[int], int]:
    """The ids the demo cancels (every order, three that do not exist, one listed twice),
    each id's status (None: missing), the missing ids and the one given twice."""
    existing: list[int] = fake.order_ids
    statuses: dict[int, str | None] = {i: fake.order(i)["status"] for i in existing}  # type: ignore[index]
    missing = [existing[-1] + 1000 + n if existing else 900001 + n for n in range(3)]
    ids = list(existing)
    for n, order_id in enumerate(missing, start=1):
        ids.insert(n * len(ids) // 4, order_id)
    duplicate = ids[0]
    ids.insert(len(ids) // 3, duplicate)
    for order_id in missing:
        statuses[order_id] = None
    return ids, statuses, missing, duplicate


async def _demo_cancel(
    args: argparse.Namespace,
    show: _DemoOutput,
    fake: FakeCertCentral,
    client: CertCentralClient,
    interrupts: Interrupts,
) -> bool:
    ids, statuses, missing, duplicate = _cancel_ids(fake)
    show.section("1/3  Bulk cancellation: cancel_orders(client, ids, note=..., concurrency=20)")
    mix = Counter(s for s in statuses.values() if s is not None)
    existing = len(statuses) - len(missing)
    show.say(f"The fake holds {plural(existing, 'order')}: {counts_text(dict(mix))}.")
    show.say(
        f"Cancelling {len(ids)} ids: every order, {len(missing)} ids that do not exist"
        f" ({', '.join(map(str, missing))}) and order {duplicate} listed twice."
    )
    show.say(
        "Expected: pending/waiting_pickup -> canceled, canceled -> already_canceled,"
        " other statuses -> not_cancelable (read back after the refusal), missing -> not_found."
    )
    job = cancel_orders(client, ids, note="digicert-async demo: decommissioned", concurrency=20)
    first_lines, elapsed = await _run_cancel(job, show, args.progress, interrupts)
    report = job.report
    head = "Interrupted" if interrupts.interrupted else "Report"
    show.say(f"{head} after {elapsed:.1f} s (each id once, the duplicate sent once):")
    for outcome, n in report.counts.items():
        show.say(f"  {outcome.value:<17} {n:>5}")
    for order_id, extra in report.duplicates.items():
        show.say(f"  duplicates: order {order_id} given {extra + 1} times, sent once")
    if first_lines:
        show.detail(f"As `{PROG} cancel` prints them (first {len(first_lines)} JSON lines):")
        for line in first_lines:
            show.detail(f"  {json.dumps(line)}")
    show.say(
        f"Rate limits: {len(fake.requests)} requests; at most {fake.max_in_window(1.0)} in any"
        f" 1 s (limit 100) and {fake.max_in_window(36.0)} in any 36 s (limit 1000);"
        f" {fake.rate_limited_count} answered 429."
    )
    if interrupts.interrupted:
        show.say(f"{plural(len(report.resume_ids()), 'order')} left to do.")
        return False
    return _check_cancel(show, report, statuses)


async def _run_cancel(
    job: CancelJob, show: _DemoOutput, progress_wanted: bool, interrupts: Interrupts
) -> tuple[list[dict[str, Any]], float]:
    """Run the cancellation with a progress bar (or, without one, a line a second); its
    first JSON lines, and how long it took."""
    total = len(job.report.results)
    progress = Progress(total=total, description="cancel", unit="order", enabled=progress_wanted)
    show.progress = progress
    tally: Counter[str] = Counter()
    first_lines: list[dict[str, Any]] = []
    started = time.monotonic()

    async def consume() -> None:
        async for result in job:
            tally[result.outcome.value] += 1
            if len(first_lines) < 4:
                first_lines.append(result.to_json())
            progress.show(tally)
            progress.advance()

    def describe() -> str:
        done = sum(tally.values())
        rate = done / max(time.monotonic() - started, 1e-6)
        return f"{done}/{total} orders done, {rate:.0f} per second"

    ticker = None if progress.active else asyncio.ensure_future(_ticker(show, describe))
    try:
        await interrupts.run(consume())
    finally:
        if ticker is not None:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
        progress.close()
        show.progress = None
    return first_lines, time.monotonic() - started


def _check_cancel(
    show: _DemoOutput, report: CancelReport, statuses: Mapping[int, str | None]
) -> bool:
    """Whether every order got the outcome its status calls for (the others are shown)."""
    wrong = [
        result
        for result in report.results
        if result.outcome.value != _expected_outcome(statuses.get(result.order_id))
    ]
    for result in wrong[:5]:
        show.say(
            f"  unexpected: order {result.order_id} was {statuses.get(result.order_id)},"
            f" outcome {result.outcome.value}"
        )
    show.say(
        "Check: every outcome as expected." if not wrong else f"Check: {len(wrong)} unexpected."
    )
    return not wrong and report.complete


_DEMO_SECRET = "demo-webhook-secret-0123456789abcdef"


@asynccontextmanager
async def _listening(receiver: WebhookReceiver) -> AsyncIterator[str]:
    """``receiver`` answering on a loopback port; yields its URL."""
    from aiohttp import web

    app = web.Application()
    app.router.add_post("/digicert", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/digicert"
    finally:
        await receiver.close()
        await runner.cleanup()


async def _play_ca(
    fake: FakeCertCentral,
    ids: list[int],
    pushed: set[int],
    step: float,
    url: str,
    session: aiohttp.ClientSession,
) -> None:
    """Issue ``ids`` one every ``step`` seconds, pushing certificate_issued to ``url`` for
    those ``pushed``."""
    for order_id in ids:
        await asyncio.sleep(step)
        fake.set_status(order_id, "issued")
        if order_id in pushed:
            event = {"event": "certificate_issued", "data": {"order_id": order_id}}
            headers = {"X-WEBHOOK-KEY": _DEMO_SECRET}
            async with session.post(url, json=event, headers=headers):
                pass


async def _demo_poll(
    show: _DemoOutput,
    fake: FakeCertCentral,
    client: CertCentralClient,
    interrupts: Interrupts,
) -> bool:
    import aiohttp

    count, step, interval = 8, 0.4, 2.0
    ids = [
        fake.add_order("pending", common_name=f"poll{n}.example.com") for n in range(1, count + 1)
    ]
    pushed = set(ids[::2])  # the other pushes are "lost": the interval's look finds those
    show.section(f"2/3  Polling: poll_orders(client, ids, interval={interval}, events=receiver)")
    show.say(
        f"Placed {count} new pending orders ({ids[0]}..{ids[-1]}). A background task plays the"
        f" CA and issues one every {step} s, pushing a certificate_issued event to a"
        f" WebhookReceiver for every other one (the other pushes are lost); the poll waits for"
        f" a terminal status ({', '.join(sorted(TERMINAL_STATUSES))})."
    )
    fake.clear_requests()
    started = time.monotonic()
    statuses: dict[int, str | None] = dict.fromkeys(ids)
    woken = 0
    receiver = WebhookReceiver(secret=_DEMO_SECRET)

    async def consume() -> None:
        nonlocal woken
        async for update in poll_orders(client, ids, interval=interval, events=receiver):
            statuses[update.order_id] = update.status
            when = f"{time.monotonic() - started:5.1f} s"
            if update.previous_status is None:
                show.detail(f"  {when}  order {update.order_id}  first seen: {update.status}")
                continue
            how = "pushed" if update.order_id in pushed else "push lost: the interval's look"
            woken += update.order_id in pushed
            change = f"{update.previous_status} -> {update.status}"
            show.detail(f"  {when}  order {update.order_id}  {change}  ({how})")

    async with _listening(receiver) as url, aiohttp.ClientSession() as session:
        ca = asyncio.ensure_future(_play_ca(fake, ids, pushed, step, url, session))
        try:
            await interrupts.run(consume())
        finally:
            ca.cancel()
            await asyncio.gather(ca, return_exceptions=True)
    elapsed = time.monotonic() - started
    reached = sum(1 for s in statuses.values() if s in TERMINAL_STATUSES)
    show.say(
        f"{reached} of {count} orders reached a terminal status after {elapsed:.1f} s, with"
        f" {len(fake.requests)} requests: {woken} pushed, each push waking the poll to read its"
        f" order; {reached - woken} whose push was lost, found by the interval's look (one"
        f" status-changes listing per {interval:g} s and a read of each order that moved)."
    )
    return reached == count and not interrupts.interrupted


def _demo_csr() -> str:
    """A PEM certificate request for the fleet's reissues (``cryptography`` is there: the
    demo checks before it starts)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fleet.example.com")])
    request = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode("ascii")


async def _demo_fleet(
    show: _DemoOutput,
    fake: FakeCertCentral,
    client: CertCentralClient,
    interrupts: Interrupts,
) -> bool:
    count, tick, stale = 12, 0.3, 4
    ids = [
        fake.add_order(
            "issued", common_name=f"web{n}.{'stale.example' if n < stale else 'example.com'}"
        )
        for n in range(count)
    ]
    fake.add_domain("stale.example", age=DEMO_REUSE)  # validated 200 days ago: stale now
    not_issued = fake.add_order("pending", common_name="new.example.com")
    before = {i: fake.certificate(fake.certificate_ids(i)[-1]) for i in ids}
    show.section(
        "3/3  Replace a fleet: reissue_orders, then poll_orders until issued,"
        " then download_certificates"
    )
    show.say(
        f"{count} issued orders ({ids[0]}..{ids[-1]}) get a new key: each is reissued with a"
        f" new CSR; order {not_issued} is not issued yet, so it cannot be. A background task"
        " plays the CA and issues the reissues about a second later. The validation of"
        f" stale.example ({stale} of the orders) is past its reuse period: those reissues wait"
        " for DCV, which reissue_orders(..., dcv=DcvDriver(...)) passes in the same job"
        " (publish to the fake's DNS, check, remove)."
    )
    fake.clear_requests()
    started = time.monotonic()
    csr = _demo_csr()
    csrs = {order_id: csr for order_id in [*ids, not_issued]}
    reissued: list[int] = []
    downloaded: dict[int, bytes] = {}

    async def play_ca() -> None:
        while True:
            await asyncio.sleep(tick)
            fake.advance(15.0)  # the fake issues a reissue 60 of its seconds after it

    ca = asyncio.ensure_future(play_ca())
    try:
        await interrupts.run(_replace(show, fake, client, csrs, started, reissued, downloaded))
    finally:
        ca.cancel()
        await asyncio.gather(ca, return_exceptions=True)
    elapsed = time.monotonic() - started
    new = 0
    for order_id, data in downloaded.items():
        old = before[order_id]
        if old is None or data.decode("ascii", "replace") != old.pem_all:
            new += 1
    show.say(
        f"{new} of {count} orders replaced with a new certificate in {elapsed:.1f} s, with"
        f" {len(fake.requests)} requests (a read and a reissue per order, the polling,"
        " a download per order)."
    )
    return new == count == len(reissued) and not interrupts.interrupted


async def _replace(
    show: _DemoOutput,
    fake: FakeCertCentral,
    client: CertCentralClient,
    csrs: dict[int, str],
    started: float,
    reissued: list[int],
    downloaded: dict[int, bytes],
) -> None:
    """Reissue the orders of ``csrs`` (passing DCV where it went stale), poll those
    reissued until issued, download their certificates; ``reissued`` and ``downloaded``
    fill as it goes (an interruption may cut it short)."""

    async def demo_sleep(seconds: float) -> None:  # the demo's clock: a hundred times faster
        await asyncio.sleep(seconds / 100)

    driver = DcvDriver(publish=fake.dns.publish, unpublish=fake.dns.unpublish, sleep=demo_sleep)
    report = await reissue_orders(client, csrs, concurrency=20, dcv=driver)
    runs = Counter(r.dcv.outcome.value for r in report.results if r.dcv is not None)
    show.say(
        f"  {time.monotonic() - started:5.1f} s  DCV: {counts_text(dict(runs))} (stale.example:"
        f" token published, checked, {len(fake.dns.records())} records left)"
    )
    reissued.extend(report.ids(ReissueOutcome.REISSUED))
    show.say(
        f"  {time.monotonic() - started:5.1f} s  reissue: "
        + counts_text({o.value: n for o, n in report.counts.items()})
    )
    for result in report.results[:2]:
        show.detail(f"    {json.dumps(result.to_json())[:140]}")
    issued = 0
    async for update in poll_orders(client, reissued, until="issued", interval=0.3):
        if update.status == "issued":
            issued += 1
    show.say(f"  {time.monotonic() - started:5.1f} s  poll: {issued} issued again")
    failed: dict[int, BaseException] = {}
    async for item in download_certificates(client, reissued, format="pem_all"):
        if item.data is not None:
            downloaded[item.order_id] = item.data
        elif item.error is not None:
            failed[item.order_id] = item.error
    show.say(f"  {time.monotonic() - started:5.1f} s  download: {len(downloaded)} files")
    for order_id, error in list(failed.items())[:3]:
        show.say(f"    order {order_id} not downloaded: {error}")


async def _demo_command(args: argparse.Namespace, interrupts: Interrupts) -> int:
    from ..testing import FakeCertCentral  # here only: cancel and poll never load the kit

    show = _DemoOutput(quiet=args.quiet)
    started = time.monotonic()
    show.say(f"{PROG} {__version__} demo: the bulk jobs against the embedded fake CertCentral")
    async with FakeCertCentral(
        orders=args.orders,
        rate_limits=DEMO_WINDOWS,
        block_seconds=1.0,
        dcv_required=True,
        validation_reuse=DEMO_REUSE,
    ) as fake:
        fake.add_domain("example.com")  # validated: its orders issue without DCV
        show.say(
            f"Fake server at {fake.base_url}; rate limits 100 requests per 1 s and 1000 per 36 s"
            " (DigiCert's 100 per 5 s and 1000 per 3 min, five times faster), paced by the"
            " client's RateLimit(windows=[(100, 1.0), (1000, 36.0)])."
        )
        async with CertCentralClient(
            api_key=fake.api_key,
            base_url=fake.base_url,
            rate_limit=RateLimit(windows=DEMO_WINDOWS),
        ) as client:
            cancel_ok = await _demo_cancel(args, show, fake, client, interrupts)
            poll_ok = fleet_ok = False
            if not interrupts.interrupted:
                poll_ok = await _demo_poll(show, fake, client, interrupts)
            if not interrupts.interrupted:
                fleet_ok = await _demo_fleet(show, fake, client, interrupts)
    elapsed = time.monotonic() - started
    if interrupts.interrupted:
        show.section(f"Interrupted after {elapsed:.1f} s")
        return interrupts.exit_status
    parts = {"1/3 (cancel)": cancel_ok, "2/3 (poll)": poll_ok, "3/3 (replace a fleet)": fleet_ok}
    short = [part for part, ok in parts.items() if not ok]
    all_ok = not short
    verdict = "every job accounted for every order"
    if short:  # each part printed its own check above; name the ones that failed it
        verdict = f"part {' and '.join(short)} fell short of its check (see above)"
    show.section(f"Done in {elapsed:.1f} s: {verdict}")
    show.detail(
        f"Against the real API: export {API_KEY_ENV}=...; then"
        f" `{PROG} cancel ids.txt --note 'why' > results.jsonl`"
        f" or `{PROG} poll ids.txt --until issued`;"
        f" `{PROG} reissue fleet.jsonl > reissued.jsonl` then"
        f" `{PROG} poll reissued.jsonl --until issued --then-download certs`."
    )
    return EXIT_OK if all_ok else EXIT_INCOMPLETE


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo: the exit status is 0 when every job accounted for every order."""
    from ..testing._x509 import INSTALL_CRYPTOGRAPHY, available

    if not available():  # part 3 downloads the certificates the fake issues
        raise UsageError(INSTALL_CRYPTOGRAPHY)
    return run_command(lambda interrupts: _demo_command(args, interrupts))
