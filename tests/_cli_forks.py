"""``python -m digicert_async`` in a process of its own, without a new interpreter each time.

Most CLI tests run a command to its end and read what it wrote and how it exited. Each one as
a new interpreter spends about half a second of CPU starting Python and importing aiohttp and
the package before the command does anything: over a hundred runs a suite, twice in CI. Here
one server process per test worker imports all of it once, then forks: each command runs in
a new child process, with its own standard streams (the pipes this side made, passed over a
Unix socket), its own environment, working directory and ``sys.argv``, the default signal
dispositions, and the module run as ``-m`` runs it (``runpy._run_module_as_main``). It exits
as Python exits: ``SystemExit``'s code, 1 and a traceback for an uncaught exception, atexit
and the streams flushed; its exit status comes back over the socket.

What differs from a fresh interpreter: the modules were imported before the command's
environment was set (the package reads its environment when called, never on import), and
every child shares the server's hash seed. What a fresh interpreter is needed for (a signal
that lands during start-up, the imports themselves, a terminal) stays with
``asyncio.create_subprocess_exec``: see ``_spawn`` in ``test_cli.py``.

Run as a script, this file is the server: ``python _cli_forks.py SOCKET_PATH``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

_HEADER = 8  # the request's length, in decimal digits, before the request itself


# --------------------------------------------------------------------------- the server


def _preload() -> None:
    """Import what a command imports, so that no child does."""
    import importlib
    import pkgutil

    import digicert_async
    import digicert_async.cli

    digicert_async.CertCentralClient  # noqa: B018 (the client, its converter and models)
    for module in pkgutil.iter_modules(digicert_async.cli.__path__):
        importlib.import_module(f"digicert_async.cli.{module.name}")


def _receive(connection: socket.socket) -> tuple[dict[str, object], list[int]]:
    data, fds, _, _ = socket.recv_fds(connection, 1 << 16, 3)
    while len(data) < _HEADER or len(data) < _HEADER + int(data[:_HEADER]):
        more = connection.recv(1 << 16)
        if not more:
            raise EOFError("the request was cut short")
        data += more
    return json.loads(data[_HEADER : _HEADER + int(data[:_HEADER])]), fds


def _become_the_command(request: dict[str, object], fds: list[int]) -> None:
    """In the child: take the streams, environment and arguments given, and run the module."""
    import io
    import runpy

    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    cwd, env, args = request["cwd"], request["env"], request["args"]
    assert isinstance(cwd, str) and isinstance(env, dict) and isinstance(args, list)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    # New standard streams over the new descriptors, chosen as Python's start-up chooses them.
    encoding, errors = sys.stdout.encoding, sys.stdout.errors
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(
        io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding, sys.stdin.errors
    )
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding, errors,
        line_buffering=os.isatty(1), write_through=unbuffered,
    )  # fmt: skip
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding, "backslashreplace",
        line_buffering=True, write_through=unbuffered,
    )  # fmt: skip
    sys.argv = ["-m", *args]
    sys.path[0] = os.getcwd()
    # The rest is Python's: SystemExit and any other exception rise through the server's
    # frames (which hold no finally) and end this interpreter as they would end any.
    runpy._run_module_as_main("digicert_async")  # type: ignore[attr-defined]
    sys.exit(0)


def _serve(path: str) -> None:
    import selectors

    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    woken, wake = os.pipe()
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(woken, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)  # the test worker: EOF when it ends
    waiting: dict[int, socket.socket] = {}
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                connection, _ = listener.accept()
                request, fds = _receive(connection)
                pid = os.fork()
                if pid == 0:  # nothing of the server's stays open in the command
                    for held in (listener, connection, *waiting.values()):
                        held.close()
                    os.close(woken)
                    os.close(wake)
                    _become_the_command(request, fds)
                for fd in fds:
                    os.close(fd)
                waiting[pid] = connection
                connection.sendall(f"{pid}\n".encode())
            elif key.fileobj is woken:
                os.read(woken, 4096)
                while waiting:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                    if pid == 0:
                        break
                    connection = waiting.pop(pid)
                    connection.sendall(f"{status}\n".encode())
                    connection.close()
            elif not os.read(0, 4096):
                return


# --------------------------------------------------------------------------- the test side


class _Server:
    """This worker's server: started on the first command, ended with the worker."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="cli-forks-")
        self.path = str(Path(self._folder.name) / "socket")
        self._process = subprocess.Popen(
            [sys.executable, __file__, self.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=os.getcwd(),
        )
        assert self._process.stdout is not None
        ready = self._process.stdout.readline()
        if ready != b"ready\n":
            self.close()
            raise RuntimeError(f"the CLI fork server did not start: {ready!r}")
        atexit.register(self.close)

    def close(self) -> None:
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._folder.cleanup()


_server: _Server | None = None


class CliProcess:
    """One command, forked by the server: what ``communicate`` needs of a subprocess."""

    def __init__(self, pid: int, status: socket.socket, stdin: int | None, out: int, err: int):
        self.pid = pid
        self.returncode: int | None = None
        self._status, self._stdin, self._out, self._err = status, stdin, out, err

    async def communicate(self, data: bytes | None = None) -> tuple[bytes, bytes]:
        """Write ``data`` to its input and close it; read both outputs to their end; wait."""
        loop = asyncio.get_running_loop()
        if self._stdin is not None:
            stdin, self._stdin = self._stdin, None
            transport, _ = await loop.connect_write_pipe(
                asyncio.Protocol, os.fdopen(stdin, "wb", buffering=0)
            )
            transport.write(data or b"")
            transport.close()  # once what was written is sent (or the command has gone)
        out, err, status = await asyncio.gather(
            _read_to_end(self._out), _read_to_end(self._err), self._exit_status()
        )
        self.returncode = os.waitstatus_to_exitcode(status)
        return out, err

    async def _exit_status(self) -> int:
        reader, writer = await asyncio.open_unix_connection(sock=self._status)
        try:
            return int(await reader.read())
        finally:
            writer.close()
            await writer.wait_closed()

    def kill(self) -> None:
        """End the command now (SIGKILL), if it has not ended."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


async def _read_to_end(fd: int) -> bytes:
    reader = asyncio.StreamReader()
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    try:
        return await reader.read()
    finally:
        transport.close()


def _line(connection: socket.socket) -> bytes:
    """One line, read a byte at a time: what follows it (the exit status) stays unread."""
    line = b""
    while not line.endswith(b"\n"):
        byte = connection.recv(1)
        if not byte:
            raise EOFError("the CLI fork server closed the connection")
        line += byte
    return line


def fork_cli(args: Sequence[str], env: Mapping[str, str], *, stdin: bool) -> CliProcess:
    """Start ``python -m digicert_async ARGS`` with ``env``; its input is a pipe or /dev/null."""
    global _server
    if _server is None:
        _server = _Server()
    stdin_read, stdin_write = os.pipe() if stdin else (os.open(os.devnull, os.O_RDONLY), None)
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    request = json.dumps({"args": list(args), "env": dict(env), "cwd": os.getcwd()}).encode()
    status = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        status.connect(_server.path)
        payload = b"%0*d" % (_HEADER, len(request)) + request
        sent = socket.send_fds(status, [payload], [stdin_read, out_write, err_write])
        status.sendall(payload[sent:])
        pid = int(_line(status))
    except BaseException:
        status.close()
        for fd in (stdin_write, out_read, err_read):
            if fd is not None:
                os.close(fd)
        raise
    finally:
        for fd in (stdin_read, out_write, err_write):
            os.close(fd)
    status.setblocking(False)
    return CliProcess(pid, status, stdin_write, out_read, err_read)


if __name__ == "__main__":
    _serve(sys.argv[1])
