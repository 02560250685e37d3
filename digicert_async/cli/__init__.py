"""The ``digicert-async`` command line: bulk cancel, poll, reissue and download from the
shell, and a demo.

``cancel``, ``poll`` and ``download`` read order ids (a file or stdin, one per line),
``reissue`` JSON lines with each order's CSR (or a directory of ``<order_id>.csr``
files); each runs a bulk job of :mod:`digicert_async.bulk` and writes one JSON line per
order on stdout; a summary (and, on a terminal, a progress bar) goes to stderr. ``poll
--then-download DIR`` downloads the orders issued with a new certificate once the
polling ends. ``demo`` runs the jobs
against the embedded fake server, so it needs neither a key nor a network;
``fake-server`` serves that fake until stopped, to try the other commands on.

The API key is read from ``DIGICERT_API_KEY`` only (never from the command line, where
other users and shell histories would see it) and is never printed (``fake-server``
prints the fake's own, made-up key). Ctrl-C and SIGTERM stop a job cleanly: every id
is still reported and the resume file written, with exit status 130 or 143.

The package's modules: ``_parser`` (the arguments), ``_files`` (every command's input
in, the resume file out), ``_terminal`` (output, exit statuses, signals), ``_verbose``
(``-v`` / ``--debug``: the library's log on stderr), ``_commands`` (``cancel`` and
``poll``, on one skeleton), ``_fleet`` (``reissue``, ``download``, ``poll
--then-download``, on the same skeleton), ``_demo`` and ``_fake_server``.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Callable, Sequence

from ._commands import run_job_command
from ._demo import cmd_demo
from ._fake_server import cmd_fake_server
from ._fleet import run_fleet_command
from ._parser import build_parser
from ._terminal import (
    API_KEY_ENV,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    PROG,
    Terminated,
    UsageError,
    isatty,
    raise_terminated,
    say,
)
from ._verbose import logging_to_stderr

__all__ = ["API_KEY_ENV", "main"]


def _poll(args: argparse.Namespace) -> int:
    return run_fleet_command(args) if args.then_download else run_job_command(args)


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "cancel": run_job_command,
    "poll": _poll,
    "reissue": run_fleet_command,
    "download": run_fleet_command,
    "demo": cmd_demo,
    "fake-server": cmd_fake_server,
}


def _exit_status(code: object) -> int:
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    say(str(code))
    return EXIT_INCOMPLETE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``digicert-async`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status: 0 every order ended well, 1 some did not, 2 bad usage
    (nothing sent), 130 interrupted by Ctrl-C, 143 by SIGTERM.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_status(exc.code)
    # A bar only on a terminal, and not when switched off (--no-progress, demo --quiet)
    # or when the log goes to stderr (-v, --debug).
    verbosity = getattr(args, "verbose", 0)
    wanted = getattr(args, "progress", True) and not getattr(args, "quiet", False)
    args.progress = wanted and not verbosity and isatty(sys.stderr)
    handler = _COMMANDS[args.command]
    previous_sigterm = None
    try:
        # Inside the try that catches Terminated: a SIGTERM right after it is set is
        # handled like any later one.
        with contextlib.suppress(ValueError, OSError):  # not the main thread: not ours
            previous_sigterm = signal.signal(signal.SIGTERM, raise_terminated)
        with logging_to_stderr(verbosity):
            return handler(args)
    except UsageError as exc:
        say(f"{PROG} {args.command}: error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        say(f"{PROG}: interrupted")
        return EXIT_INTERRUPTED
    except Terminated:
        say(f"{PROG}: interrupted by SIGTERM")
        return EXIT_TERMINATED
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
