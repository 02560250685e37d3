"""The ``digicert-async`` command line: bulk cancel, poll, reissue and download from the
shell, and a demo.

``cancel``, ``poll`` and ``download`` read order ids (a file or stdin, one per line),
``reissue`` JSON lines with each order's CSR (or a directory of ``<order_id>.csr``
files); each runs a bulk job of :mod:`digicert_async.bulk` and writes one JSON line per
order on stdout; a summary (and, on a terminal, a progress bar) goes to stderr. ``poll
--then-download DIR`` downloads each order issued with a new certificate as soon as
the poll sees it. ``demo`` runs the jobs
against the embedded fake server, so it needs neither a key nor a network;
``fake-server`` serves that fake until stopped, to try the other commands on.

The API key is read from ``DIGICERT_API_KEY`` only (never from the command line, where
other users and shell histories would see it) and is never printed (``fake-server``
prints the fake's own, made-up key). Ctrl-C and SIGTERM stop a job cleanly: every id
is still reported and the resume file written, with exit status 130 or 143.

The commands are the table in :mod:`._parser` (``COMMANDS``): each is one module that
declares the command's arguments and runs it (``_cancel``, ``_poll``, ``_reissue``,
``_download``, ``_demo``, ``_fake_server``). Only the parser is imported up front, and a
command's module only when the command line names it; the client and the jobs are
imported once the command runs: ``--help`` and ``--version`` load neither aiohttp nor the
library, and a command's help and usage errors no more than DigiCert's lists.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Sequence

from ._parser import API_KEY_ENV, build_parser, load_command, named_commands

__all__ = ["API_KEY_ENV", "main"]


def _exit_status(code: object) -> int:
    """argparse's exit status: 0 after --help or --version, 2 after a usage error."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    from .._escape import visible  # light: it imports nothing

    print(visible(str(code)), file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``digicert-async`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status: 0 every order ended well, 1 some did not, 2 bad usage
    (nothing sent), 130 interrupted by Ctrl-C, 143 by SIGTERM.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(named_commands(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_status(exc.code)
    from ._signals import Terminated, forget_terminated, raise_terminated
    from ._terminal import (
        EXIT_INTERRUPTED,
        EXIT_TERMINATED,
        EXIT_USAGE,
        PROG,
        UsageError,
        isatty,
        say,
    )
    from ._verbose import logging_to_stderr

    # A bar only on a terminal, and not when switched off (--no-progress, demo --quiet)
    # or when the log goes to stderr (-v, --debug).
    verbosity = getattr(args, "verbose", 0)
    wanted = getattr(args, "progress", True) and not getattr(args, "quiet", False)
    args.progress = wanted and not verbosity and isatty(sys.stderr)
    previous_sigterm = None
    try:
        # Inside the try that catches Terminated: a SIGTERM right after it is set is
        # handled like any later one.
        with contextlib.suppress(ValueError, OSError):  # not the main thread: not ours
            previous_sigterm = signal.signal(signal.SIGTERM, raise_terminated)
        with logging_to_stderr(verbosity):
            return load_command(args.command).run(args)
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
        forget_terminated()
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
