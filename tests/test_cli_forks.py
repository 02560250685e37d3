"""A command forked by ``_cli_forks`` behaves as the same command in a new interpreter.

``run_cli`` forks its commands from a process that imported the package once; these tests
hold it to what a new ``python -m digicert_async`` does with the same arguments, input and
environment: the same exit code, the same output, byte for byte."""

from __future__ import annotations

import asyncio
import signal
import socket

import pytest

from ._cli_forks import fork_cli
from .test_cli import _env, _spawn

CASES = [
    pytest.param(["--version"], None, None, id="version"),
    pytest.param(["cancel"], None, None, id="usage error"),
    pytest.param(["reissue", "--help"], None, None, id="help"),
    pytest.param(["cancel", "-", "--note", "x"], "100001\n", None, id="no key"),
    pytest.param(["poll", "-"], "not-an-id\n", "key", id="bad input"),
    pytest.param(["cancel", "-", "--note", "x", "--deadline", "-1"], "1\n", "key", id="bad option"),
]


@pytest.mark.parametrize(("args", "stdin", "api_key"), CASES)
async def test_a_forked_command_answers_as_a_new_interpreter(
    args: list[str], stdin: str | None, api_key: str | None
) -> None:
    data = None if stdin is None else stdin.encode()
    fresh = await _spawn(args, api_key=api_key, stdin=stdin is not None)
    fresh_out, fresh_err = await asyncio.wait_for(fresh.communicate(data), 20)
    forked = fork_cli(args, _env(api_key), stdin=stdin is not None)
    forked_out, forked_err = await asyncio.wait_for(forked.communicate(data), 20)
    assert (forked.returncode, forked_out, forked_err) == (fresh.returncode, fresh_out, fresh_err)
    assert fresh_out or fresh_err  # a case that says nothing would show nothing


async def test_a_forked_command_can_be_killed_and_says_so() -> None:
    with socket.socket() as silent:  # accepts and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        forked = fork_cli(
            ["poll", "-", "--base-url", f"http://127.0.0.1:{port}/services/v2"],
            _env("key"),
            stdin=True,
        )
        finished = asyncio.ensure_future(forked.communicate(b"100001\n"))
        await asyncio.sleep(0.5)
        assert not finished.done()
        forked.kill()
        await asyncio.wait_for(finished, 10)
    assert forked.returncode == -signal.SIGKILL
