"""``digicert-async demo``: the bulk jobs against the embedded fake CertCentral (no key,
no network). Its script, which imports the library and the test kit, is
:mod:`._demo_script`, imported once the command runs."""

from __future__ import annotations

import argparse

from ._parser import add_logging_options, positive_int

__all__ = ["DESCRIPTION", "EPILOG", "arguments", "run"]

DESCRIPTION = """\
Start the embedded fake CertCentral with rate limits on (DigiCert's
windows, five times faster), cancel a mixed set of ids concurrently, poll new
orders while a background task issues them, then replace a fleet: reissue orders,
poll until they are issued again, download the new certificates. Takes about ten
seconds."""

EPILOG = None


def arguments(parser: argparse.ArgumentParser) -> None:
    add_logging_options(parser)
    parser.add_argument(
        "--orders",
        type=_order_count,
        default=300,
        metavar="N",
        help="orders in the fake (default: 300; above about 500 the 1000-per-36-s window"
        " paces the cancellation too)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="headings and reports only: no progress, no detail"
    )


def _order_count(text: str) -> int:
    value = positive_int(text)
    if value > 2000:
        raise argparse.ArgumentTypeError(f"at most 2000, not {value}")
    return value


def run(args: argparse.Namespace) -> int:
    """Run the demo: the exit status is 0 when every job accounted for every order."""
    from ._demo_script import run_demo

    return run_demo(args)
