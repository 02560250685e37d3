"""The table of commands (``cli._parser.COMMANDS``) is all the dispatch there is: a
command is one module and one line of the table, the parser takes each command's
arguments from its module, ``main`` runs the module of the command it parsed, and no
other table in the command line names the commands. A command's module is light to
import: the parser imports it, and the library waits until the command runs."""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import sys
import types
from pathlib import Path

import pytest

from digicert_async import cli
from digicert_async.cli import _parser, main
from digicert_async.cli._parser import COMMANDS, Command, build_parser, load_command

from .test_startup import _modules_after

CLI = Path(cli.__file__).parent
# What parsing a command's arguments must not load: the HTTP stack, the event loop, the
# certificate maker and the progress bar, the client and the jobs, the test kit.
NOT_AT_PARSE_TIME = ("aiohttp", "asyncio", "cattrs", "cryptography", "tqdm")
LIBRARY_AT_RUN_TIME = (
    "digicert_async._client",
    "digicert_async._converter",
    "digicert_async.bulk",
    "digicert_async.testing",
)


def _required_options(name: str) -> list[str]:
    """A command's name and a value for each of its required options: enough to parse."""
    parser = build_parser(commands={name})
    [subparsers] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    argv = [name]
    for action in subparsers.choices[name]._actions:
        if action.required and action.option_strings:
            argv += [action.option_strings[0], "x"]
    return argv


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_of_the_table_parses_and_runs_its_module(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_command(name)
    assert isinstance(module.DESCRIPTION, str) and module.DESCRIPTION
    assert module.EPILOG is None or isinstance(module.EPILOG, str)
    ran: list[argparse.Namespace] = []

    def run(args: argparse.Namespace) -> int:
        ran.append(args)
        return 42

    monkeypatch.setattr(module, "run", run)
    assert main(_required_options(name)) == 42
    [args] = ran
    assert args.command == name
    assert args.verbose == 0  # every command takes -v / --debug


def _hello_module() -> types.ModuleType:
    """A command of the tests' own, as a new command's module would be written."""
    module = types.ModuleType("hello_command")
    module.DESCRIPTION = "Say hello to someone."  # type: ignore[attr-defined]
    module.EPILOG = "exit status: 0 once said."  # type: ignore[attr-defined]

    def arguments(parser: argparse.ArgumentParser) -> None:
        _parser.add_logging_options(parser)
        parser.add_argument("--name", required=True, help="whom to greet")

    def run(args: argparse.Namespace) -> int:
        print(f"hello, {args.name}")
        return 0

    module.arguments = arguments  # type: ignore[attr-defined]
    module.run = run  # type: ignore[attr-defined]
    return module


def test_a_new_command_is_its_module_and_one_line_of_the_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "hello_command", _hello_module())
    monkeypatch.setattr(
        _parser, "COMMANDS", {**COMMANDS, "hello": Command("hello_command", "say hello")}
    )
    assert main(["hello", "--name", "world"]) == 0
    assert capsys.readouterr().out == "hello, world\n"

    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert [line.split() for line in listed.splitlines() if "hello" in line] == [
        ["hello", "say", "hello"]
    ]

    assert main(["hello", "--help"]) == 0
    own = capsys.readouterr().out
    assert own.startswith("usage: digicert-async hello [-h] [-v] [--debug] --name NAME")
    assert "Say hello to someone." in own and own.endswith("exit status: 0 once said.\n")

    assert main(["hello"]) == 2  # its own arguments are checked, and nothing runs
    assert "the following arguments are required: --name" in capsys.readouterr().err


def _command_names_in(node: ast.AST) -> list[str]:
    return [
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in COMMANDS
    ]


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_no_other_table_names_the_commands(path: Path) -> None:
    """Outside the table, no collection of command names and no test of a command's
    name (``args.command == "poll"``): a command is found only through the table."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            assert not _command_names_in(node), f"{path.name}:{node.lineno}"
        if isinstance(node, (ast.Dict, ast.Set, ast.List, ast.Tuple)):
            names = _command_names_in(node)
            the_table = isinstance(node, ast.Dict) and path.name == "_parser.py"
            where = f"{path.name}:{node.lineno}"
            assert len(names) < 2 or (the_table and names == list(COMMANDS)), where


def _loaded(modules: list[str]) -> list[str]:
    return [
        name
        for name in modules
        if name.split(".")[0] in NOT_AT_PARSE_TIME
        or any(name == m or name.startswith(m + ".") for m in LIBRARY_AT_RUN_TIME)
    ]


def test_every_command_s_arguments_are_declared_without_the_library() -> None:
    modules = _modules_after(
        "from digicert_async.cli._parser import COMMANDS, build_parser, load_command\n"
        "parser = build_parser()\n"
        "for name in COMMANDS:\n"
        "    load_command(name)\n"
    )
    assert _loaded(modules) == []
    for command in COMMANDS.values():
        assert "digicert_async.cli" + command.module in modules


@pytest.mark.parametrize(
    "argv",
    [
        ["cancel", "--help"],
        ["poll", "--until", "nothing"],  # a usage error: exit status 2
        ["download", "--out", "certs", "--format", "nothing"],
        ["demo", "--help"],
        ["fake-server", "--port", "65536"],
    ],
)
def test_a_command_s_help_and_usage_errors_load_no_library(argv: list[str]) -> None:
    modules = _modules_after(
        "import contextlib, io\n"
        "from digicert_async.cli import main\n"
        "quiet = io.StringIO()\n"
        "with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):\n"
        f"    assert main({argv!r}) in (0, 2)"
    )
    assert _loaded(modules) == []
    assert "digicert_async.cli" + COMMANDS[argv[0]].module in modules


def test_the_parser_declares_only_the_commands_it_is_given() -> None:
    parser = build_parser(commands={"cancel"})
    args = parser.parse_args(["cancel", "--note", "why"])
    assert args.note == "why" and args.concurrency == 20
    quiet = io.StringIO()
    with contextlib.redirect_stderr(quiet), pytest.raises(SystemExit):
        parser.parse_args(["download", "--out", "certs"])  # its arguments were left out
    assert "unrecognized arguments: --out certs" in quiet.getvalue()
