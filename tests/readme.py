"""The README, run as a new user runs it: every command and code block, in order, in a new
copy of the project, with nothing installed but what the README's own commands install.

``python tests/readme.py`` (CI runs it, from the repository root, with no virtual
environment active). Standard library only: it runs before anything is installed. The
tests read the README through it too (``blocks``): one reading of the README.

How a block runs, by its language and its first line:

- ``bash``: as written, in one shell session carried from block to block (its environment
  and working directory: a virtual environment activated in one block stays active in the
  next), starting in the copy of the project.
- ``bash`` that is one ``digicert-async fake-server ...`` command: started in the
  background, as the reader starts it in another terminal, on a free port rather than the
  one written (so that runs side by side do not collide). The next ``bash`` block is the
  walk-through against it: run with that port, and with the key the server printed in
  place of its ``export DIGICERT_API_KEY=...``. The server is then stopped (SIGTERM) and
  must end cleanly.
- ``python``: a script, run with ``python -W error`` in a new empty directory.
- ``python`` whose first line starts ``# Fragment of async def main()``: a fragment, which
  says so to the reader; it is compiled as the body of ``async def main():``, not run.
- a block whose first line is a comment naming a file (``# test_cancel.py``,
  ``# pyproject.toml``): a file of the reader's own project, written into a new directory;
  a ``test_*.py`` file is then run there with ``python -m pytest``.
- a block right after a line ``<!-- readme: not run: REASON -->`` is checked for syntax
  only (``bash -n``, ``compile``): commands against DigiCert's real API, and the
  development setup that CI runs by itself.

A block fails the run when it exits non-zero, or prints a traceback or a Python warning.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"

FRAGMENT = "# Fragment of async def main()"
_NOT_RUN = re.compile(r"<!-- readme: not run: (?P<reason>.+?) -->\n\Z")
_FENCE = re.compile(r"^```(?P<language>\w+)\n(?P<code>.*?)^```$", re.S | re.M)
_FILE_LINE = re.compile(r"# (?P<name>[\w.-]+\.(?:py|toml|ini|cfg))\s*(?:\(.*\))?$")
_SERVER = re.compile(r"digicert-async fake-server( .*)? --port (?P<port>\d+)( .*)?")
_KEY_PLACEHOLDER = re.compile(r"^(export DIGICERT_API_KEY=)\.\.\.", re.M)
# A traceback, a Python warning as the warnings module prints it, an unraisable exception.
_TROUBLE = re.compile(
    r"Traceback \(most recent call last\)|^\S.*:\d+: \w*Warning: |^Exception ignored in", re.M
)
_TIMEOUT = 600.0


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    language: str
    code: str
    line: int
    """The line of its opening fence."""
    section: str
    """The heading it comes under."""
    not_run: str | None = None
    """Why it is only checked for syntax (see the module's docstring), or None."""

    @property
    def first_line(self) -> str:
        return self.code.split("\n", 1)[0]

    @property
    def file_name(self) -> str | None:
        """The file of the reader's project it is, or None."""
        found = _FILE_LINE.fullmatch(self.first_line)
        return found["name"] if found else None

    @property
    def kind(self) -> str:
        """``not run``, ``file``, ``fragment``, ``server``, ``shell`` or ``script``."""
        if self.not_run is not None:
            return "not run"
        if self.file_name is not None:
            return "file"
        if self.language == "python":
            return "fragment" if self.first_line.startswith(FRAGMENT) else "script"
        if self.language == "bash" and _SERVER.fullmatch(self.code.strip()):
            return "server"
        return "shell"

    def __str__(self) -> str:
        return f"README.md line {self.line} ({self.language} {self.kind}, {self.section!r})"


def blocks(language: str | None = None, *, after: str = "", text: str | None = None) -> list[Block]:
    """The README's code blocks in order (of one ``language``; only those after the first
    occurrence of ``after``, a heading say)."""
    text = README.read_text(encoding="utf-8") if text is None else text
    start = text.index(after) if after else 0
    fences = list(_FENCE.finditer(text))
    headings = [
        (heading.start(), heading["title"])
        for heading in re.finditer(r"^#+ (?P<title>.+)$", text, re.M)
        if not any(fence.start() <= heading.start() < fence.end() for fence in fences)
    ]
    found = []
    for fence in fences:
        if fence.start() < start or (language and fence["language"] != language):
            continue
        before = text[: fence.start()]
        marker = _NOT_RUN.search(before)
        found.append(
            Block(
                language=fence["language"],
                code=fence["code"],
                line=before.count("\n") + 1,
                section=[title for at, title in headings if at < fence.start()][-1],
                not_run=marker["reason"] if marker else None,
            )
        )
    return found


def as_main_body(fragment: str) -> str:
    """A fragment as the body of ``async def main()``, to compile."""
    return "async def main() -> None:\n" + textwrap.indent(fragment, "    ")


class Failure(Exception):
    """A block that did not run as written."""


def check_output(block: Block, what: str, status: int | None, output: str) -> None:
    """Fail on a non-zero exit status, a traceback or a warning."""
    if status != 0:
        raise Failure(f"{block}: {what} exited with status {status}")
    trouble = _TROUBLE.search(output)
    if trouble:
        line = output[trouble.start() :].split("\n", 1)[0]
        raise Failure(f"{block}: {what} printed {line!r}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Session:
    """The reader's terminal: an environment and a working directory, carried over."""

    def __init__(self, checkout: Path, scratch: Path) -> None:
        self.scratch = scratch
        self.project = scratch / "project"  # the reader's own project
        self.project.mkdir()
        self.cwd = checkout
        # The machine's environment, less what would stand for the README's own steps.
        unset = {"VIRTUAL_ENV", "PYTHONPATH", "DIGICERT_API_KEY", "PYTHONHOME"}
        self.env = {name: value for name, value in os.environ.items() if name not in unset}
        if "VIRTUAL_ENV" in os.environ:
            venv_bin = str(Path(os.environ["VIRTUAL_ENV"]) / "bin")
            path = self.env.get("PATH", "").split(os.pathsep)
            self.env["PATH"] = os.pathsep.join(p for p in path if p != venv_bin)
        self.server: subprocess.Popen[str] | None = None
        self.server_log = scratch / "fake-server.log"
        self.server_written_port = self.server_port = self.server_key = ""

    def _run(self, block: Block, what: str, argv: list[str], cwd: Path) -> str:
        print(f"\n== {block}: {what}", flush=True)
        started = time.monotonic()
        try:
            run = subprocess.run(
                argv,
                cwd=cwd,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise Failure(f"{block}: {what} took more than {_TIMEOUT:.0f} s") from None
        print(run.stdout, end="", flush=True)
        print(f"-- {time.monotonic() - started:.1f} s", flush=True)
        check_output(block, what, run.returncode, run.stdout)
        return run.stdout

    def shell(self, block: Block, code: str) -> None:
        state = self.scratch / "shell-state"
        script = self.scratch / f"block-{block.line}.sh"
        script.write_text(
            f"set -eo pipefail\n{code}\nenv -0 > '{state}.env'\npwd > '{state}.cwd'\n"
        )
        self._run(block, "bash", ["bash", "--noprofile", "--norc", str(script)], self.cwd)
        pairs = Path(f"{state}.env").read_text().split("\0")
        self.env = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
        self.cwd = Path(Path(f"{state}.cwd").read_text().strip())

    def python(self) -> str:
        found = shutil.which("python", path=self.env.get("PATH"))
        if found is None:
            raise Failure("no `python` on the PATH the README's commands made")
        return found

    def script(self, block: Block) -> None:
        here = self.scratch / f"script-{block.line}"
        here.mkdir()
        (here / "example.py").write_text(block.code)
        self._run(block, "python -W error", [self.python(), "-W", "error", "example.py"], here)

    def project_file(self, block: Block, name: str) -> None:
        (self.project / name).write_text(block.code)
        if name.startswith("test_") and name.endswith(".py"):
            argv = [self.python(), "-m", "pytest", "-p", "no:cacheprovider", name]
            output = self._run(block, f"python -m pytest {name}", argv, self.project)
            if re.search(r"\d+ warnings?\b", output):
                raise Failure(f"{block}: pytest reported warnings")

    def start_server(self, block: Block) -> None:
        written = _SERVER.fullmatch(block.code.strip())
        assert written is not None
        self.server_written_port, self.server_port = written["port"], str(_free_port())
        command = block.code.strip().replace(
            f"--port {self.server_written_port}", f"--port {self.server_port}"
        )
        print(f"\n== {block}: in the background: {command}", flush=True)
        with self.server_log.open("w") as log:
            self.server = subprocess.Popen(
                ["bash", "-c", f"exec {command}"],
                cwd=self.cwd,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        watchdog = threading.Timer(60, self.server.kill)  # if it never prints its lines
        watchdog.start()
        assert self.server.stdout is not None
        lines = [self.server.stdout.readline().strip() for _ in range(2)]
        printed = dict(line.partition(": ")[::2] for line in lines)
        watchdog.cancel()
        if set(printed) != {"base_url", "api_key"}:
            raise Failure(f"{block}: fake-server printed {printed!r}")
        self.server_key = printed["api_key"]

    def kill_server(self) -> None:
        """After a failure: the server goes, whatever it says."""
        if self.server is not None:
            self.server.kill()
            self.server.communicate()
            self.server = None

    def walk_through(self, block: Block) -> None:
        """The block after a server: the reader's commands against it."""
        code = block.code.replace(f":{self.server_written_port}", f":{self.server_port}")
        code, keys = _KEY_PLACEHOLDER.subn(rf"\g<1>{shlex.quote(self.server_key)}", code)
        if keys != 1:
            raise Failure(f"{block}: no `export DIGICERT_API_KEY=...` for the server's key")
        try:
            self.shell(block, code)
        finally:
            self.stop_server(block)

    def stop_server(self, block: Block) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        server.send_signal(signal.SIGTERM)  # as `kill` does: it must end cleanly
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
        log = self.server_log.read_text()
        print(log, end="", flush=True)
        check_output(block, "its fake-server", server.returncode, log)


def _not_run(block: Block) -> None:
    """Syntax only, for the blocks that cannot run here."""
    if block.language == "bash":
        check = subprocess.run(["bash", "-n"], input=block.code, text=True, capture_output=True)
        if check.returncode != 0:
            raise Failure(f"{block}: {check.stderr.strip()}")
    elif block.language == "python":
        compile(block.code, str(block), "exec")


def run(session: Session, readme: list[Block]) -> dict[str, int]:
    """Every block in order; the number of blocks of each kind."""
    counts: dict[str, int] = {}
    after_server = False
    for block in readme:
        kind = block.kind
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "not run":
            _not_run(block)
        elif kind == "fragment":
            compile(as_main_body(block.code), str(block), "exec")
        elif kind == "file":
            session.project_file(block, block.file_name or "")
        elif kind == "script":
            session.script(block)
        elif kind == "server":
            session.start_server(block)
        elif after_server and block.language == "bash":
            session.walk_through(block)
        elif block.language == "bash":
            session.shell(block, block.code)
        else:
            raise Failure(f"{block}: a {block.language} block, which nothing runs")
        after_server = kind == "server"
    if session.server is not None:
        raise Failure("a fake-server block with no walk-through after it")
    return counts


def _copy_project(destination: Path) -> None:
    """The project's files as a checkout has them: tracked, or new and not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # SIGTERM (CI stopping it): clean up on the way out


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the directory it ran in")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="digicert-async-readme-"))
    session = Session(scratch / "checkout", scratch)
    started = time.monotonic()
    try:
        _copy_project(scratch / "checkout")
        counts = run(session, blocks())
    except Failure as failure:
        print(f"\n!! the README does not run as written: {failure}", file=sys.stderr)
        return 1
    finally:
        session.kill_server()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    print(f"\n== the README runs as written ({summary}) in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
