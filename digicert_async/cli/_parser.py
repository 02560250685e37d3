"""The ``digicert-async`` arguments: the parser, its help texts, and the checks of each
option's value (a bad one exits 2 before anything is sent)."""

from __future__ import annotations

import argparse
import platform

import aiohttp

from .. import CERTIFICATE_FORMATS, ORDER_STATUSES, TERMINAL_STATUSES, ValidationError
from .._checks import check_statuses
from .._version import __version__
from ._terminal import PROG

__all__ = ["build_parser"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _demo_order_count(text: str) -> int:
    value = _positive_int(text)
    if value > 2000:
        raise argparse.ArgumentTypeError(f"at most 2000, not {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {value}")
    return value


def _fake_order_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"0 to 100000, not {value}")
    return value


def _status_set(text: str) -> frozenset[str]:
    """One order status or several, comma-separated: each a documented one."""
    parts = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("name at least one status, e.g. issued,canceled")
    try:
        return check_statuses("--until", parts, ORDER_STATUSES)
    except ValidationError as exc:
        # argparse names the option already; the message lists the valid statuses
        raise argparse.ArgumentTypeError(exc.message) from None


_DESCRIPTION = """\
Bulk jobs on DigiCert CertCentral (Services API v2): cancel, watch, reissue or download
many orders at once, paced to DigiCert's rate limits (100 requests per 5 s, 1000 per 3 min).

`cancel`, `poll` and `download` read order ids from IDS_FILE or stdin, one per line (blank
lines and # comments ignored), `reissue` JSON lines with each order's CSR; each writes one
JSON line per order on stdout; a summary, and on a terminal a progress bar, go to stderr.
The API key is read from $DIGICERT_API_KEY."""

_EPILOG = """\
examples:
  digicert-async demo
  digicert-async fake-server --port 8080   # then --base-url http://127.0.0.1:8080/services/v2
  export DIGICERT_API_KEY=...
  digicert-async cancel ids.txt --note "host decommissioned" > results.jsonl
  sort -u new-orders.txt | digicert-async poll --until issued --interval 30

exit status: 0 all orders ended well, 1 some did not (see the command's help),
2 bad usage (nothing sent), 130 interrupted by Ctrl-C, 143 by SIGTERM."""

_CANCEL_EPILOG = """\
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

_POLL_EPILOG = """\
output: one JSON line each time an order is seen in a new status (the first look too):
  {"order_id": 123, "status": "issued", "previous_status": "pending"}
An id that does not exist is reported once with status "not_found".

exit status: 0 when every order reached an --until status; 1 otherwise (deadline,
not found, error); 2 bad usage (nothing sent); 130 on Ctrl-C, 143 on SIGTERM (stderr
tells how many orders got there and how many are left; --resume-file PATH receives the
ids left)."""


def _add_concurrency(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=20,
        metavar="N",
        help=f"{what} (default: 20); the rate limit paces them anyway",
    )


def _add_file_options(parser: argparse.ArgumentParser, prefix: str) -> None:
    parser.add_argument(
        "--format",
        choices=sorted(CERTIFICATE_FORMATS),
        default="pem_all",
        metavar="FORMAT",
        help=f"{prefix}the certificate format, one of DigiCert's: "
        f"{', '.join(sorted(CERTIFICATE_FORMATS))} (default: pem_all)",
    )
    parser.add_argument(
        "--force", action="store_true", help=f"{prefix}replace a file that exists already"
    )


_REISSUE_EPILOG = """\
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
the new certificates and downloads them."""

_DOWNLOAD_EPILOG = """\
output: one JSON line per order:
  {"order_id": 123, "outcome": "downloaded", "path": "certs/123.pem", "bytes": 5512}
outcomes: downloaded; exists (a file was there already: left alone, see --force); failed
(with "error": not issued yet, not found...); not_attempted (deadline hit or interrupted).

exit status: 0 when every order has its file (downloaded or existing); 1 otherwise; 2 bad
usage (nothing sent); 130 on Ctrl-C, 143 on SIGTERM. --resume-file PATH receives the ids
without a file."""


def build_parser() -> argparse.ArgumentParser:
    """The ``digicert-async`` argument parser."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG, description=_DESCRIPTION, epilog=_EPILOG, formatter_class=formatter
    )
    parser.add_argument(
        "--version",
        action="version",
        version=(
            f"{PROG} {__version__} (Python {platform.python_version()},"
            f" aiohttp {aiohttp.__version__})"
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    commands.required = True

    ids = argparse.ArgumentParser(add_help=False)
    ids.add_argument(
        "ids_file",
        nargs="?",
        metavar="IDS_FILE",
        help="file of order ids, one per line; '-' or omitted: read stdin (when it is not"
        " a terminal)",
    )
    job = argparse.ArgumentParser(add_help=False)
    job.add_argument(
        "--deadline",
        type=_positive_seconds,
        metavar="SECONDS",
        help="stop after this many seconds; what is left is reported (exit status 1)",
    )
    job.add_argument(
        "--resume-file",
        metavar="PATH",
        help="write the ids left to do to PATH, one per line (an empty file when none are"
        " left); give PATH as IDS_FILE to resume",
    )
    job.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="no progress bar (there is one only when stderr is a terminal)",
    )
    api = job.add_argument_group("API")
    api.add_argument(
        "--region",
        choices=("us", "eu"),
        default="us",
        help="which CertCentral to call (default: us)",
    )
    api.add_argument(
        "--base-url",
        metavar="URL",
        help="the API root instead of the region's, e.g. a proxy's .../services/v2"
        " (plain http only for localhost)",
    )
    api.add_argument(
        "--trust-env",
        action="store_true",
        help="use the proxy named by HTTPS_PROXY (HTTP_PROXY for an http base URL), except"
        " for the hosts in NO_PROXY, and credentials from ~/.netrc; without it they are"
        " ignored",
    )
    api.add_argument(
        "--no-shared-budget",
        dest="shared_budget",
        action="store_false",
        help="pace this run alone; by default the runs on this machine share the key's rate"
        " budget (DigiCert's windows count every run's requests) through a file in the"
        " user's state directory, e.g. ~/.local/state/digicert-async/ratelimit.sqlite3",
    )

    cancel = commands.add_parser(
        "cancel",
        parents=[ids, job],
        formatter_class=formatter,
        help="cancel many orders concurrently",
        description="Cancel the given orders (pending and waiting_pickup ones can be), with a\n"
        "note saying why. Each refusal is settled by reading the order back.",
        epilog=_CANCEL_EPILOG,
    )
    cancel.add_argument(
        "--note", required=True, metavar="TEXT", help="why: the note DigiCert records (required)"
    )
    cancel.add_argument(
        "--concurrency",
        type=_positive_int,
        default=20,
        metavar="N",
        help="cancellations in flight at once (default: 20); the rate limit paces them anyway",
    )

    default_until = ",".join(sorted(TERMINAL_STATUSES))
    poll = commands.add_parser(
        "poll",
        parents=[ids, job],
        formatter_class=formatter,
        help="watch many orders until they reach a status",
        description="Report each status change of the given orders until every one is in an\n"
        "--until status. After a first look, one status-changes request per interval says\n"
        "which orders moved, and only those are read.",
        epilog=_POLL_EPILOG,
    )
    poll.add_argument(
        "--until",
        type=_status_set,
        default=frozenset(TERMINAL_STATUSES),
        metavar="STATUS,...",
        help=f"the statuses to wait for, comma-separated (default: {default_until})",
    )
    poll.add_argument(
        "--interval",
        type=_positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="seconds between looks (default: 60)",
    )

    poll.add_argument(
        "--then-download",
        metavar="DIR",
        help="once the polling ends, download the orders issued with a new certificate into"
        " DIR, as `download --out DIR` does (IDS_FILE may be `reissue`'s output: an order"
        " issued again with the certificate it had before is not downloaded)",
    )
    _add_file_options(poll, "with --then-download: ")

    reissue = commands.add_parser(
        "reissue",
        parents=[job],
        formatter_class=formatter,
        help="reissue many orders, each with its new CSR",
        description="Reissue the given orders, each with its own CSR, keeping the names and\n"
        "hash each order's certificate has. Only issued orders can be reissued; each\n"
        "order is read first, and its reissue request is sent once, never again.",
        epilog=_REISSUE_EPILOG,
    )
    reissue.add_argument(
        "ids_file",
        nargs="?",
        metavar="INPUT",
        help='JSON lines {"order_id": 123, "csr": "-----BEGIN CERTIFICATE REQUEST-----..."},'
        " or a directory of <order_id>.csr files; '-' or omitted: JSON lines on stdin",
    )
    reissue.add_argument(
        "--check-pending",
        action="store_true",
        help="list each order's reissues first and send only where none is pending (for"
        " orders a run reported unknown)",
    )
    _add_concurrency(reissue, "orders worked on at once")

    download = commands.add_parser(
        "download",
        parents=[ids, job],
        formatter_class=formatter,
        help="download many orders' certificates, one file per order",
        description="Download each order's current certificate into --out DIR as\n"
        "<order_id>.<ext> (the format's extension: .pem, .cer, .p7b, or .zip for the ZIP\n"
        "formats). Each file appears whole or not at all; an existing file is left alone\n"
        "unless --force.",
        epilog=_DOWNLOAD_EPILOG,
    )
    download.add_argument(
        "--out", required=True, metavar="DIR", help="the directory to write into (made if needed)"
    )
    _add_file_options(download, "")
    _add_concurrency(download, "downloads in flight at once")

    demo = commands.add_parser(
        "demo",
        formatter_class=formatter,
        help="run the jobs against an embedded fake server (no key, no network)",
        description="Start the embedded fake CertCentral with rate limits on (DigiCert's\n"
        "windows, five times faster), cancel a mixed set of ids concurrently, poll new\n"
        "orders while a background task issues them, then replace a fleet: reissue orders,\n"
        "poll until they are issued again, download the new certificates. Takes about ten\n"
        "seconds.",
    )
    demo.add_argument(
        "--orders",
        type=_demo_order_count,
        default=300,
        metavar="N",
        help="orders in the fake (default: 300; above about 500 the 1000-per-36-s window"
        " paces the cancellation too)",
    )
    demo.add_argument(
        "--quiet", action="store_true", help="headings and reports only: no progress, no detail"
    )

    fake_server = commands.add_parser(
        "fake-server",
        formatter_class=formatter,
        help="run the fake CertCentral on loopback until stopped, to try the commands on",
        description="Serve the bundled fake CertCentral (orders with statuses, notes,\n"
        "cancellation rules, orders issued a few seconds after they are placed or\n"
        "reissued, and DigiCert's rate limits) on 127.0.0.1 until Ctrl-C or\n"
        "SIGTERM. stdout gets two lines, 'base_url: URL' (ending in /services/v2) and\n"
        "'api_key: KEY' (the fake's own key, made up at start); stderr tells how to try it.",
        epilog="exit status: 0 once stopped by Ctrl-C or SIGTERM; 2 when the port cannot be had.",
    )
    fake_server.add_argument(
        "--port",
        type=_port,
        default=0,
        metavar="N",
        help="the loopback port to listen on (default: 0, any free port)",
    )
    fake_server.add_argument(
        "--orders",
        type=_fake_order_count,
        default=100,
        metavar="N",
        help="orders to start with, in a mix of statuses (default: 100)",
    )
    fake_server.add_argument(
        "--issue-after",
        type=_positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="seconds after which an order placed or reissued is issued (default: 5)",
    )
    return parser
