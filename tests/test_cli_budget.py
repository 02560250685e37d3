"""The command line keeps the key's rate budget between runs (a file in the user's state
directory), so a command run right after another, or beside it, starts from what the
other spent instead of a fresh budget DigiCert does not give.

The test suite points ``XDG_STATE_HOME`` at a directory of each test's own (conftest).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
from pathlib import Path

import pytest

from digicert_async import CertCentralClient, RateLimit, SqliteLimiterBackend
from digicert_async._ratelimit import api_key_hash
from digicert_async.cli._budget import budget_summary, shared_budget, state_directory
from digicert_async.cli._parser import build_parser
from digicert_async.testing import FakeCertCentral

from .test_cli import Run, _write, run_cli

HOME = Path("/home/me")


@pytest.mark.parametrize(
    ("environ", "system", "expected"),
    [
        ({"XDG_STATE_HOME": "/srv/state"}, "linux", "/srv/state/digicert-async"),
        ({"XDG_STATE_HOME": "/srv/state"}, "darwin", "/srv/state/digicert-async"),
        ({"XDG_STATE_HOME": "relative/state"}, "linux", "/home/me/.local/state/digicert-async"),
        ({}, "linux", "/home/me/.local/state/digicert-async"),
        ({}, "freebsd14", "/home/me/.local/state/digicert-async"),
        ({}, "darwin", "/home/me/Library/Application Support/digicert-async"),
    ],
)
def test_the_state_directory_follows_each_systems_convention(
    environ: dict[str, str], system: str, expected: str
) -> None:
    assert state_directory(environ, system, HOME) == Path(expected)


def test_without_a_home_given_it_is_the_users() -> None:
    found = state_directory({}, "linux")
    assert found == Path.home() / ".local" / "state" / "digicert-async"
    assert state_directory({}, "win32", HOME) == HOME / "AppData" / "Local" / "digicert-async"


async def test_the_summary_says_when_the_budget_file_was_not_in_use(tmp_path: Path) -> None:
    blocker = _write(tmp_path / "not-a-folder", ["x"])
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        for where, said in ((blocker / "budget.sqlite3", True), (tmp_path / "b.sqlite3", False)):
            limit = RateLimit(backend=SqliteLimiterBackend(where))
            async with CertCentralClient(
                api_key=fake.api_key, base_url=fake.base_url, rate_limit=limit
            ) as client:
                await client.orders.get(fake.order_ids[0])
                lines = budget_summary(client, "poll")
            assert bool(lines) is said
            if said:
                assert lines == [
                    f"digicert-async poll: the shared rate budget ({where}) could not be used;"
                    " this run paced itself alone"
                ]
        async with CertCentralClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            assert budget_summary(client, "poll") == []


def test_on_windows_it_is_under_localappdata_or_the_home() -> None:
    local = str(Path("/Users/me/AppData/Local").absolute())  # absolute here, as on Windows
    found = state_directory({"LOCALAPPDATA": local}, "win32", HOME)
    assert found == Path(local) / "digicert-async"
    found = state_directory({"LOCALAPPDATA": "relative"}, "win32", HOME)
    assert found == HOME / "AppData" / "Local" / "digicert-async"


@pytest.mark.parametrize("command", ["cancel", "poll", "reissue", "download"])
def test_every_command_that_sends_shares_the_budget_unless_told_not_to(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    needed = {"cancel": ["--note", "x"], "download": ["--out", "d"]}.get(command, [])
    parser = build_parser()
    limit = shared_budget(parser.parse_args([command, *needed]))
    assert isinstance(limit, RateLimit) and limit.windows == RateLimit().windows
    backend = limit.backend
    assert isinstance(backend, SqliteLimiterBackend)
    assert backend.path == tmp_path / "digicert-async" / "ratelimit.sqlite3"
    assert backend.options.fallback_fraction == 1.0  # alone, it paces as without the file
    assert shared_budget(parser.parse_args([command, *needed, "--no-shared-budget"])) is None


def _slots(path: Path, api_key: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        query = "SELECT count(*) FROM limiter_slots WHERE key = ?"
        count: int = db.execute(query, (api_key_hash(api_key),)).fetchone()[0]
    return count


async def _cancel(fake: FakeCertCentral, ids: list[int], folder: Path, *options: str) -> Run:
    ids_file = _write(folder / f"ids-{ids[0]}.txt", ids)
    return await run_cli(
        "cancel", str(ids_file), "--note", "x", "--base-url", fake.base_url, *options,
        api_key=fake.api_key, timeout=120.0,
    )  # fmt: skip


async def test_a_run_leaves_what_it_spent_in_the_state_directory(tmp_path: Path) -> None:
    budget = Path(os.environ["XDG_STATE_HOME"]) / "digicert-async" / "ratelimit.sqlite3"
    async with FakeCertCentral(rate_limits=None) as fake:
        ids = [fake.add_order("pending") for _ in range(5)]
        run = await _cancel(fake, ids, tmp_path)
        assert run.code == 0, run.stderr
        assert _slots(budget, fake.api_key) == 5
        assert fake.api_key.encode() not in budget.read_bytes()
        assert "shared rate budget" not in run.stderr
        more = [fake.add_order("pending") for _ in range(3)]
        run = await _cancel(fake, more, tmp_path, "--no-shared-budget")
        assert run.code == 0, run.stderr
        assert _slots(budget, fake.api_key) == 5  # that run spent alone


async def test_a_budget_file_that_cannot_be_had_is_said_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    blocker = _write(tmp_path / "not-a-folder", ["x"])
    async with FakeCertCentral(rate_limits=None) as fake:
        ids = [fake.add_order("pending") for _ in range(3)]
        ids_file = _write(tmp_path / "ids.txt", ids)
        run = await run_cli(
            "cancel", str(ids_file), "--note", "x", "--base-url", fake.base_url,
            api_key=fake.api_key, env={"XDG_STATE_HOME": str(blocker)},
        )  # fmt: skip
    assert run.code == 0, run.stderr
    assert [line["outcome"] for line in run.lines] == ["canceled"] * 3
    assert f"the shared rate budget ({blocker}/digicert-async/ratelimit.sqlite3)" in run.stderr
    assert "could not be used; this run paced itself alone" in run.stderr


# DigiCert's windows (the fake's default, and the command line's): 100 per 5 s. Two runs
# of 55 go 10 past it: enough that sharing must make one of them wait for the window, few
# enough that the control without sharing is not spent waiting out dozens of 429s.
PER_RUN = 55


@pytest.mark.slow
@pytest.mark.parametrize("together", [False, True], ids=["back to back", "in parallel"])
async def test_two_runs_on_one_key_share_its_windows(together: bool, tmp_path: Path) -> None:
    """110 cancellations in two runs of 55: the second (or the two at once) must wait for
    DigiCert's 100-per-5-s window, and does, where with --no-shared-budget it meets 429s."""
    for shared in (True, False):
        options = () if shared else ("--no-shared-budget",)
        async with FakeCertCentral() as fake:
            batches = [[fake.add_order("pending") for _ in range(PER_RUN)] for _ in range(2)]
            if together:
                runs = await asyncio.gather(
                    *(_cancel(fake, batch, tmp_path, *options) for batch in batches)
                )
            else:
                runs = [await _cancel(fake, batch, tmp_path, *options) for batch in batches]
            refused = fake.rate_limited_count
            arrivals = [_arrivals(fake, batch) for batch in batches]
        assert [run.code for run in runs] == [0, 0], [run.stderr for run in runs]
        if shared:
            assert refused == 0, [run.stderr for run in runs]
        elif _crowded(*arrivals):
            assert refused > 0  # what the shared budget prevents
        else:  # a loaded machine started the second run a window later: nothing to prevent
            assert not together


def _arrivals(fake: FakeCertCentral, ids: list[int]) -> list[float]:
    """When the fake received the requests about ``ids``, in order."""
    wanted, times = set(ids), []
    for request in fake.requests:
        about = re.search(r"/order/certificate/(\d+)", request.path)
        if about and int(about.group(1)) in wanted:
            times.append(request.time)
    return sorted(times)


def _crowded(first: list[float], second: list[float]) -> bool:
    """Whether the two runs' requests put more than DigiCert's 100 into one 5 s window
    (so that, paced apart, they had to meet a 429): the earliest 101 of them within 5 s,
    with a tenth of a second to spare for the fake's own bookkeeping."""
    together = sorted(first + second)
    return any(b - a < 4.9 for a, b in zip(together, together[100:], strict=False))
