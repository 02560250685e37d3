"""The ``digicert-async`` arguments: the table of commands, the program's parser, and the
options the commands share.

:data:`COMMANDS` is the one table of commands: each command's name, the module that is
the command, and the line ``--help`` lists it with. A command's module declares the
command's arguments and runs it (:class:`CommandModule`); adding a command is one module
and one line here.

The parser imports nothing of the library: ``--help``, ``--version`` and a usage error
before the command's name cost this module alone, as no command's module is imported for
them (:func:`build_parser` declares the arguments of the commands it is given). A
command's module is light to import (its arguments, and DigiCert's lists they use); it
imports the client and the jobs once it runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, cast

from .._version import __version__

__all__ = [
    "API_KEY_ENV",
    "COMMANDS",
    "PROG",
    "Command",
    "CommandModule",
    "add_concurrency",
    "add_ids_file",
    "add_job_options",
    "add_logging_options",
    "build_parser",
    "load_command",
    "named_commands",
    "positive_int",
    "positive_seconds",
]

PROG = "digicert-async"
API_KEY_ENV = "DIGICERT_API_KEY"


class CommandModule(Protocol):
    """What the module of a command holds."""

    DESCRIPTION: str  # the command's help, under its usage line
    EPILOG: str | None  # the command's help, after its options

    def arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's arguments on its ``parser``."""

    def run(self, args: argparse.Namespace) -> int:
        """Run the command with its parsed ``args``; returns the exit status."""


class Command(NamedTuple):
    """A command of the table: its module (relative to this package) and its summary."""

    module: str
    summary: str


# The commands, in the order --help lists them.
COMMANDS: Mapping[str, Command] = {
    "cancel": Command("._cancel", "cancel many orders concurrently"),
    "poll": Command("._poll", "watch many orders until they reach a status"),
    "reissue": Command("._reissue", "reissue many orders, each with its new CSR"),
    "download": Command("._download", "download many orders' certificates, one file per order"),
    "domains": Command("._domains", "list the domains and when their validation goes stale"),
    "validate": Command("._validate", "pass DCV for domains or orders, publishing with a command"),
    "demo": Command("._demo", "run the jobs against an embedded fake server (no key, no network)"),
    "fake-server": Command(
        "._fake_server",
        "run the fake CertCentral on loopback until stopped, to try the commands on",
    ),
}


def load_command(name: str) -> CommandModule:
    """The module of the command ``name``."""
    return cast(CommandModule, importlib.import_module(COMMANDS[name].module, __package__))


def named_commands(argv: Sequence[str]) -> set[str]:
    """The commands ``argv`` names: argparse takes a command's name only as written in
    full, so the command it parses is among them."""
    return {arg for arg in argv if arg in COMMANDS}


# --------------------------------------------------------------------------- values


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


# --------------------------------------------------------------------------- shared options


def add_ids_file(parser: argparse.ArgumentParser) -> None:
    """``IDS_FILE``: the input of the commands that take order ids."""
    parser.add_argument(
        "ids_file",
        nargs="?",
        metavar="IDS_FILE",
        help="file of order ids, one per line, or of any command's JSON lines; '-' or"
        " omitted: read stdin (when it is not a terminal)",
    )


def add_job_options(parser: argparse.ArgumentParser) -> None:
    """The options of every command that sends: the job's bounds and output, the API
    and how to reach it, and the log (:func:`add_logging_options`)."""
    parser.add_argument(
        "--deadline",
        type=positive_seconds,
        metavar="SECONDS",
        help="stop after this many seconds; what is left is reported (exit status 1)",
    )
    parser.add_argument(
        "--resume-file",
        metavar="PATH",
        help="write the ids left to do to PATH, one per line (an empty file when none are"
        " left); give PATH as IDS_FILE to resume",
    )
    parser.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="no progress bar (there is one only when stderr is a terminal)",
    )
    api = parser.add_argument_group("API")
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
    add_logging_options(parser)


def add_logging_options(parser: argparse.ArgumentParser) -> None:
    """``-v`` / ``--debug``, which every command takes."""
    group = parser.add_argument_group("logging")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="write the library's log to stderr (never the API key): -v what it does and"
        " why (retries, pacing, what a job gives up on), -vv every answer too; no progress"
        " bar then",
    )
    group.add_argument(
        "--debug", dest="verbose", action="store_const", const=2, help="the same as -vv"
    )


def add_concurrency(parser: argparse.ArgumentParser, what: str) -> None:
    """``--concurrency N``, for the commands that work on several orders at once;
    ``what`` says what N counts."""
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=20,
        metavar="N",
        help=f"{what} (default: 20); the rate limit paces them anyway",
    )


# --------------------------------------------------------------------------- the program


_DESCRIPTION = f"""\
Bulk jobs on DigiCert CertCentral (Services API v2): cancel, watch, reissue or download
many orders at once, paced to DigiCert's rate limits (100 requests per 5 s, 1000 per 3 min).

`cancel`, `poll` and `download` read order ids from IDS_FILE or stdin, one per line (blank
lines and # comments ignored), or the JSON lines any command writes; `reissue` JSON lines
with each order's CSR; each writes one JSON line per order on stdout; a summary, and on a
terminal a progress bar, go to stderr. The API key is read from ${API_KEY_ENV}."""

_EPILOG = """\
examples:
  digicert-async demo
  digicert-async fake-server --port 8080   # then --base-url http://127.0.0.1:8080/services/v2
  export DIGICERT_API_KEY=...
  digicert-async cancel ids.txt --note "host decommissioned" > results.jsonl
  sort -u new-orders.txt | digicert-async poll --until issued --interval 30

exit status: 0 all orders ended well, 1 some did not (see the command's help),
2 bad usage (nothing sent), 130 interrupted by Ctrl-C, 143 by SIGTERM."""


class _Version(argparse.Action):
    """``--version``, its text made only when asked for: aiohttp's version is read from
    its metadata, since importing aiohttp to print a number takes a fifth of a second."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.update(nargs=0, default=argparse.SUPPRESS)
        super().__init__(option_strings, argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib import metadata

        try:
            aiohttp_version = metadata.version("aiohttp")
        except metadata.PackageNotFoundError:  # pragma: no cover - a dependency
            aiohttp_version = "not installed"
        python_version = sys.version.split()[0]  # as platform.python_version() says it
        print(f"{PROG} {__version__} (Python {python_version}, aiohttp {aiohttp_version})")
        parser.exit()


def build_parser(commands: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The ``digicert-async`` argument parser: every command listed, and the arguments
    of ``commands`` declared by their modules (of every command when None).

    ``main`` gives the commands its command line names (:func:`named_commands`): a parser
    without a command's arguments serves for ``--help``, ``--version`` and a usage error
    before the command's name, never to parse that command.
    """
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG, description=_DESCRIPTION, epilog=_EPILOG, formatter_class=formatter
    )
    parser.add_argument(
        "--version", action=_Version, help="show the versions of this program and exit"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    subparsers.required = True
    for name, command in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=command.summary, formatter_class=formatter)
        if commands is None or name in commands:
            module = load_command(name)
            subparser.description = module.DESCRIPTION
            subparser.epilog = module.EPILOG
            module.arguments(subparser)
    return parser
