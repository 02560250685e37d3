"""``digicert-async fake-server``: the bundled fake CertCentral on loopback until Ctrl-C
or SIGTERM, to try the other commands on.

Left running, it stays small whatever it is sent: a request without its key is answered
without its body being read, and the fake keeps only the latest
:data:`FAKE_SERVER_LOGGED_REQUESTS` requests, within :data:`FAKE_SERVER_LOGGED_BYTES`.
The test kit and the event loop are imported once the command runs."""

from __future__ import annotations

import argparse
import signal
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._parser import add_logging_options, positive_seconds
from ._terminal import API_KEY_ENV, EXIT_OK, PROG, UsageError, counts_text, plural, say

if TYPE_CHECKING:
    from ..testing import FakeCertCentral
    from ._signals import Interrupts

__all__ = [
    "DESCRIPTION",
    "EPILOG",
    "FAKE_SERVER_LOGGED_BYTES",
    "FAKE_SERVER_LOGGED_REQUESTS",
    "arguments",
    "build_fake",
    "run",
]

DESCRIPTION = """\
Serve the bundled fake CertCentral (orders with statuses, notes,
cancellation rules, orders issued a few seconds after they are placed or
reissued, and DigiCert's rate limits) on 127.0.0.1 until Ctrl-C or
SIGTERM. stdout gets two lines, 'base_url: URL' (ending in /services/v2) and
'api_key: KEY' (the fake's own key, made up at start); stderr tells how to try it."""

EPILOG = "exit status: 0 once stopped by Ctrl-C or SIGTERM; 2 when the port cannot be had."


def arguments(parser: argparse.ArgumentParser) -> None:
    add_logging_options(parser)
    parser.add_argument(
        "--port",
        type=_port,
        default=0,
        metavar="N",
        help="the loopback port to listen on (default: 0, any free port)",
    )
    parser.add_argument(
        "--orders",
        type=_order_count,
        default=100,
        metavar="N",
        help="orders to start with, in a mix of statuses (default: 100)",
    )
    parser.add_argument(
        "--issue-after",
        type=positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="seconds after which an order placed or reissued is issued (default: 5)",
    )


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {value}")
    return value


def _order_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"0 to 100000, not {value}")
    return value


def run(args: argparse.Namespace) -> int:
    """Serve until stopped: exit status 0 once stopped, 2 when the port cannot be had."""
    from ._signals import run_command

    return run_command(lambda interrupts: _serve(args, interrupts))


# The fake records requests for its tests' sake; nobody reads this one's record, so it
# keeps a little of it (the test kit's defaults are 100,000 requests and 64 MiB).
FAKE_SERVER_LOGGED_REQUESTS = 1000
FAKE_SERVER_LOGGED_BYTES = 4 * 2**20


def _id_ranges(ids: Sequence[int]) -> str:
    """``100001..100030`` for consecutive ids, else the first and last few."""
    if not ids:
        return "none"
    if ids[-1] - ids[0] == len(ids) - 1:
        return f"{ids[0]}..{ids[-1]}" if len(ids) > 1 else str(ids[0])
    return ", ".join(map(str, ids[:3])) + f", ... {ids[-1]}"


def build_fake(args: argparse.Namespace) -> FakeCertCentral:
    """The fake the command serves, not yet started."""
    from ..testing import FakeCertCentral  # the server this command runs

    # Its own clock runs: orders placed or reissued against it are issued by themselves.
    return FakeCertCentral(
        orders=args.orders,
        port=args.port,
        issue_after=args.issue_after,
        realtime=True,
        max_logged_requests=FAKE_SERVER_LOGGED_REQUESTS,
        max_logged_bytes=FAKE_SERVER_LOGGED_BYTES,
    )


async def _serve(args: argparse.Namespace, interrupts: Interrupts) -> int:
    import asyncio

    from ..testing._x509 import INSTALL_CRYPTOGRAPHY, available

    fake = build_fake(args)
    try:
        await fake.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1 port {args.port}: {exc}") from None
    started = time.monotonic()
    try:
        # stdout carries only these two lines, so that a script can read them
        print(f"base_url: {fake.base_url}", flush=True)
        print(f"api_key: {fake.api_key}", flush=True)
        ids = fake.order_ids
        mix = Counter(fake.order(i)["status"] for i in ids)  # type: ignore[index]
        say(
            f"{PROG} fake-server: a fake CertCentral with {plural(len(ids), 'order')}"
            f" (ids {_id_ranges(ids)}: {counts_text(dict(sorted(mix.items())))})"
            " and DigiCert's rate limits; Ctrl-C or SIGTERM stops it. Try it with:"
        )
        say(f"  export {API_KEY_ENV}={fake.api_key}")
        say(
            f"  seq {ids[0] if ids else 100001} {ids[-1] if ids else 100010}"
            f" | {PROG} cancel --note test --base-url {fake.base_url}"
        )
        if not available():
            say(f"{PROG} fake-server: {INSTALL_CRYPTOGRAPHY}; until then downloads are refused")

        async def serve() -> None:  # until a signal cancels it
            await asyncio.Event().wait()

        await interrupts.run(serve())
    finally:
        await fake.close()
    how = "stopped by SIGTERM" if interrupts.signal == signal.SIGTERM else "stopped"
    say(
        f"{PROG} fake-server: {how} after {time.monotonic() - started:.1f} s;"
        f" {plural(fake.requests_received, 'request')} answered"
    )
    return EXIT_OK
