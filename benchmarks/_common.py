"""Shared pieces of the benchmarks: the least-possible schedule, tables, the run header."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import aiohttp

import digicert_async


def greedy_send_times(count: int, windows: Sequence[tuple[int, float]]) -> list[float]:
    """When each of ``count`` requests can be sent at the earliest, all starting at 0.

    Request ``k`` goes at the earliest ``t`` at which every window ``(c, p)`` holds
    fewer than ``c`` sends in ``(t - p, t]``. Send times only grow, so with the earlier
    sends sorted that is ``t_k = max(t_{k-1}, max over windows of t_{k-c} + p)``: the
    send ``c`` places back must have left the window.

    >>> greedy_send_times(5, [(2, 1.0)])
    [0.0, 0.0, 1.0, 1.0, 2.0]
    """
    times: list[float] = []
    for k in range(count):
        t = times[-1] if times else 0.0
        for limit, period in windows:
            if k >= limit:
                t = max(t, times[k - limit] + period)
        times.append(t)
    return times


def least_possible(count: int, windows: Sequence[tuple[int, float]]) -> float:
    """The least elapsed time for ``count`` requests under ``windows``: the last send time."""
    times = greedy_send_times(count, windows)
    return times[-1] if times else 0.0


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a smaller run (a smoke test, under ~20 s)"
    )
    return parser.parse_args()


def header(title: str, quick: bool, *, server: bool = True) -> None:
    today = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    print(f"== {title}{' (--quick)' if quick else ''}")
    print(
        f"   {today}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" digicert-async {digicert_async.__version__}, aiohttp {aiohttp.__version__},"
        f" attrs {_version('attrs')}, cattrs {_version('cattrs')}"
        + _commit()
        + ("; FakeCertCentral in a separate process" if server else "; no server")
    )


def _commit() -> str:
    """``, commit abc1234`` (``+`` if the library's files differ from it), or nothing."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "digicert_async"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f", commit {head}{'+' if dirty else ''}"


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a Markdown table (so it can be pasted into the README as is)."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(value.ljust(widths[i]) for i, value in enumerate(row)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\n".join(lines))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def cpu_steal_seconds() -> float:
    """CPU time the hypervisor took from this VM so far, all cores (Linux ``/proc/stat``).

    On a shared virtual machine a run that lost much time to steal is not comparable with
    one that did not; the benchmarks print it next to their figures.
    """
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"
