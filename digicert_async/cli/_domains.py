"""``digicert-async domains``: the account's domains and when their validation stops being
reusable; ``--expiring-within 30d`` keeps those about to go stale. A table on a terminal,
JSON lines otherwise. The client is imported once the command runs."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ._parser import add_job_options
from ._terminal import EXIT_INCOMPLETE, EXIT_OK, PROG, isatty, say

if TYPE_CHECKING:
    from .. import CertCentralClient, Domain
    from ._signals import Interrupts

__all__ = ["DESCRIPTION", "EPILOG", "arguments", "domain_line", "run", "within"]

DESCRIPTION = """\
List the account's domains with the day each one's validation stops being
reusable (after it, an order naming the domain waits for DCV again)."""

EPILOG = """\
output: on a terminal, a table; otherwise one JSON line per domain:
  {"domain_id": 12, "name": "example.com", "expires": "2026-07-01", "days_left": 25,
   "is_active": true, "organization": "Example Inc."}
"expires" is null when DigiCert gives no expiry (never validated, say).

exit status: 0 listed; 1 the listing failed; 2 bad usage."""

_WITHIN = re.compile(r"(\d+)\s*([dw]?)")


def within(text: str) -> timedelta:
    """``30d``, ``4w`` or ``30`` (days)."""
    match = _WITHIN.fullmatch(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a number of days (30d) or weeks (4w): {text!r}")
    count, unit = int(match.group(1)), match.group(2)
    return timedelta(weeks=count) if unit == "w" else timedelta(days=count)


def arguments(parser: argparse.ArgumentParser) -> None:
    add_job_options(parser)
    parser.add_argument(
        "--expiring-within",
        type=within,
        metavar="DAYS",
        help="only the domains whose validation expires within this many days (30d, 4w),"
        " or has expired already",
    )
    parser.add_argument(
        "--status",
        choices=("active", "inactive"),
        help="only active (or inactive) domains",
    )


def run(args: argparse.Namespace) -> int:
    from ._run_job import api_key_from_env
    from ._signals import run_command

    api_key = api_key_from_env()
    return run_command(lambda interrupts: _list(args, api_key, interrupts))


def domain_line(domain: Domain, today: date) -> dict[str, Any]:
    """One domain as its JSON line."""
    expires = domain.validation_expires()
    organization = domain.organization
    return {
        "domain_id": domain.id,
        "name": domain.name,
        "expires": None if expires is None else expires.isoformat(),
        "days_left": None if expires is None else (expires - today).days,
        "is_active": domain.is_active,
        "organization": None if organization is None else organization.name,
    }


async def _list(args: argparse.Namespace, api_key: str, interrupts: Interrupts) -> int:
    from .. import DigiCertError
    from ._run_job import make_client

    client = make_client(args, api_key)
    today = datetime.now(timezone.utc).date()
    try:
        lines = [domain_line(domain, today) async for domain in _domains(client, args.status)]
    except DigiCertError as exc:
        say(f"{PROG} domains: error: {exc}")
        return EXIT_INCOMPLETE
    finally:
        await client.close()
    if args.expiring_within is not None:
        limit = args.expiring_within.days
        lines = [
            line for line in lines if line["days_left"] is not None and line["days_left"] <= limit
        ]
    lines.sort(
        key=lambda line: (line["expires"] is None, line["expires"] or "", line["name"] or "")
    )
    if isatty(sys.stdout):
        _table(lines)
    else:
        import json

        for line in lines:
            print(json.dumps(line), flush=True)
    return EXIT_OK


def _domains(client: CertCentralClient, status: str | None) -> Any:
    return client.domains.list(status=status, include_validation=True)


def _table(lines: list[dict[str, Any]]) -> None:
    from .._escape import visible

    rows = [("NAME", "EXPIRES", "DAYS", "ID", "ORGANIZATION")]
    for line in lines:
        rows.append((
            visible(line["name"] or ""),
            line["expires"] or "-",
            "-" if line["days_left"] is None else str(line["days_left"]),
            str(line["domain_id"]),
            visible(line["organization"] or ""),
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
