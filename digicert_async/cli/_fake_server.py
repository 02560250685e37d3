"""``digicert-async fake-server``: the bundled fake CertCentral on loopback until Ctrl-C
or SIGTERM, to try the other commands on.

Left running, it stays small whatever it is sent: a request without its key is answered
without its body being read, and the fake keeps only the latest
:data:`FAKE_SERVER_LOGGED_REQUESTS` requests, within :data:`FAKE_SERVER_LOGGED_BYTES`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._terminal import (
    API_KEY_ENV,
    EXIT_OK,
    PROG,
    Interrupts,
    UsageError,
    counts_text,
    plural,
    run_command,
    say,
)

if TYPE_CHECKING:
    from ..testing import FakeCertCentral

__all__ = [
    "FAKE_SERVER_LOGGED_BYTES",
    "FAKE_SERVER_LOGGED_REQUESTS",
    "build_fake",
    "cmd_fake_server",
]

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


async def _fake_server_command(args: argparse.Namespace, interrupts: Interrupts) -> int:
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


def cmd_fake_server(args: argparse.Namespace) -> int:
    """``fake-server``: exit status 0 once stopped, 2 when the port cannot be had."""
    return run_command(lambda interrupts: _fake_server_command(args, interrupts))
