"""Start-up cost: importing the library, the command line's ``--help`` and ``--version``,
and a pytest run in a project where the package (and so its pytest plugin) is installed,
beside the same figures for aiohttp and pytest alone.

Each figure is the CPU time (user + system) of a new interpreter running one command, less
that of ``python -c pass`` for the imports; commands alternate round by round, and the
median and the least of the rounds are shown. CPU time rather than elapsed time: this VM's
speed varies from minute to minute, and CPU time varies less. Byte code is compiled first
(as pip does when it installs a wheel), so no figure includes compiling the sources.
Finally ``python -X importtime`` says where the time of a client's imports goes.

    python benchmarks/bench_startup.py [--quick]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from _common import header, parse_args, table, verdict

TARGET = 1.3  # import digicert_async: at most this many times import aiohttp
_PACKAGE = Path(__file__).resolve().parent.parent / "digicert_async"
_CLIENT = "from digicert_async import CertCentralClient"
_CLI = "from digicert_async.cli import main; raise SystemExit(main({argv!r}))"
_EVERY_NAME = "import digicert_async as dc\nfor name in dc.__all__: getattr(dc, name)"
_PYTEST = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"]

COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "import aiohttp": ["-c", "import aiohttp"],
    "import digicert_async": ["-c", "import digicert_async"],
    _CLIENT: ["-c", _CLIENT],
    "import digicert_async, then every public name": ["-c", _EVERY_NAME],
    "digicert-async --help": ["-c", _CLI.format(argv=["--help"])],
    "digicert-async --version": ["-c", _CLI.format(argv=["--version"])],
    "pytest, one test, the plugin off (pytest alone)": [*_PYTEST, "-p", "no:digicert_async"],
    "pytest, one test, the plugin on (installed)": _PYTEST,
}


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.pop("PYTHONWARNINGS", None)
    return env


def _cpu_seconds(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    """The CPU time of one run of ``python argv`` (user + system), from the kernel."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(cwd)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execve(sys.executable, [sys.executable, *argv], env)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"python {' '.join(argv)} failed")
    return usage.ru_utime + usage.ru_stime


def _project(where: Path) -> Path:
    """A project of its own with one test, configured as the README says."""
    (where / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n'
    )
    (where / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    return where


def measure(rounds: int, cwd: Path) -> dict[str, list[float]]:
    env = _environment()
    subprocess.run(  # byte code first, as an installed wheel has it
        [sys.executable, "-m", "compileall", "-q", str(_PACKAGE)],
        check=True,
        env=env,
    )
    for argv in COMMANDS.values():  # warm: the interpreters' own caches, the page cache
        _cpu_seconds(argv, cwd, env)
    seconds: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, argv in COMMANDS.items():
            seconds[name].append(_cpu_seconds(argv, cwd, env))
    return seconds


def where_the_time_goes(cwd: Path, runs: int = 5) -> list[tuple[str, float]]:
    """``-X importtime`` of a client's imports, the least self time of each module over
    ``runs`` runs, summed by package (the library's own by subpackage)."""
    least: dict[str, int] = {}
    for _ in range(runs):
        run = subprocess.run(
            [sys.executable, "-X", "importtime", *COMMANDS[_CLIENT]],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=_environment(),
            check=True,
        )
        for line in run.stderr.splitlines():
            fields = line.removeprefix("import time:").split("|")
            if len(fields) != 3 or not fields[0].strip().isdigit():
                continue
            name = fields[2].strip()
            least[name] = min(least.get(name, 1 << 60), int(fields[0]))
    groups: Counter[str] = Counter()
    for name, microseconds in least.items():
        parts = name.split(".")
        groups[".".join(parts[:2]) if parts[0] == "digicert_async" else parts[0]] += microseconds
    return [(group, us / 1000) for group, us in groups.most_common()]


def _rows(seconds: dict[str, list[float]]) -> list[tuple[str, ...]]:
    """Each command's figures, and each set beside its own baseline: an import beside
    aiohttp's (both net of the interpreter), pytest with the plugin beside pytest alone."""
    interpreter = statistics.median(seconds["python -c pass"])
    aiohttp_import = statistics.median(seconds["import aiohttp"]) - interpreter
    pytest_alone = statistics.median(next(v for k, v in seconds.items() if "plugin off" in k))
    rows: list[tuple[str, ...]] = []
    for name, runs in seconds.items():
        median = statistics.median(runs)
        if name.startswith(("import", "from")):
            net = median - interpreter
            against = f"{net / aiohttp_import:.2f}x import aiohttp"
        elif name.startswith("pytest"):
            net, against = median, f"{median / pytest_alone:.2f}x pytest alone"
        else:
            net, against = median, f"{median / interpreter:.2f}x python -c pass"
        rows.append(
            (name, f"{median * 1000:.0f}", f"{min(runs) * 1000:.0f}", f"{net * 1000:.0f}", against)
        )
    return rows


def main() -> None:
    args = parse_args(__doc__.split("\n\n")[0])
    rounds = 5 if args.quick else 20
    header("start-up cost", args.quick, server=False)
    with tempfile.TemporaryDirectory() as scratch:
        cwd = _project(Path(scratch))
        seconds = measure(rounds, cwd)
        importtime = where_the_time_goes(cwd, runs=3 if args.quick else 7)
    print(f"\n{rounds} rounds; CPU ms per run (median, least); imports net of `python -c pass`")
    table(["command", "median ms", "least ms", "net ms", "against"], _rows(seconds))
    interpreter = statistics.median(seconds["python -c pass"])
    ratio = (statistics.median(seconds["import digicert_async"]) - interpreter) / (
        statistics.median(seconds["import aiohttp"]) - interpreter
    )
    print(
        f"\nimport digicert_async: {ratio:.2f}x import aiohttp"
        f" (target <= {TARGET}x): {verdict(ratio <= TARGET)}"
    )
    total = sum(ms for _, ms in importtime)
    print(
        f"\nwhere `{_CLIENT}` spends its import time"
        " (-X importtime: each module's least self time over the runs, by package):"
    )
    table(
        ["package", "ms", "share"],
        [(group, f"{ms:.1f}", f"{ms / total:.0%}") for group, ms in importtime[:15]],
    )


if __name__ == "__main__":
    main()
