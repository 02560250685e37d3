"""The README's validation examples run as written against the bundled fake, and print
what the README says they print."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli_readme import _blocks

pytest.importorskip("cryptography")


def _run(code: str, tmp_path: Path) -> list[str]:
    script = tmp_path / "example.py"
    script.write_text(code)
    run = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    return run.stdout.splitlines()


def test_the_validation_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    after = "## Validation: organizations, domains, DCV"
    code = _blocks("python", after=after)[0]
    shown = code.split("asyncio.run(main())\n# It prints:\n")[1]
    assert _run(code, tmp_path) == [line[2:] for line in shown.splitlines()]


def test_the_fleet_example_revalidates_and_issues(tmp_path: Path) -> None:
    code = _blocks("python", after="### A fleet whose domains went stale")[0]
    lines = _run(code, tmp_path)
    assert lines[0] == "5 ['validated', 'validated', 'validated', 'validated', 'validated']"
    assert lines[1] == str(["issued"] * 5)


def test_the_lexicon_example_compiles() -> None:
    code = _blocks("python", after="### A fleet whose domains went stale")[1]
    assert "from lexicon.client import Client" in code
    compile(code, "lexicon_example.py", "exec")
