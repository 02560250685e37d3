"""The README's examples, as a reader copies them: the fixture example in a fresh project,
the quickstart as a script, and the rules every example keeps."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(language: str, after: str = "") -> list[str]:
    text = README.read_text(encoding="utf-8")
    if after:
        text = text[text.index(after) :]
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def _pytest_in(project: Path, test_file: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", test_file],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_the_fixture_example_runs_in_a_fresh_project(tmp_path: Path) -> None:
    """No asyncio_mode, no conftest: pytest-asyncio's strict default, as in a new project."""
    example = _blocks("python", after="## Testing your own code")[0]
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # the project's own, empty
    (tmp_path / "test_cancel.py").write_text(example)
    run = _pytest_in(tmp_path, "test_cancel.py")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout

    # the control: the same test without its marker fails there, so the run above was strict
    (tmp_path / "test_unmarked.py").write_text(example.replace("@pytest.mark.asyncio\n", ""))
    unmarked = _pytest_in(tmp_path, "test_unmarked.py")
    assert unmarked.returncode != 0 and "1 failed" in unmarked.stdout


def test_the_quickstart_runs_as_a_script(tmp_path: Path) -> None:
    quickstart = _blocks("python", after="## Quickstart")[0]
    script = tmp_path / "quickstart.py"
    script.write_text(quickstart)
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert re.fullmatch(r"\d+ pending orders", lines[0])
    assert re.fullmatch(r"order \d+ is now canceled", lines[2])
    assert lines[3].startswith("second cancel refused:")


def test_every_example_closes_the_client_it_builds() -> None:
    examples = _blocks("python")
    assert len(examples) >= 5
    for example in examples:
        for line in example.splitlines():
            built = re.match(r"\s*(\w+) = dc\.CertCentralClient\(", line)
            if built:  # built outside `async with`: closed in a finally
                name = built.group(1)
                assert re.search(rf"finally:\n\s+await {name}\.close\(\)", example), example


@pytest.mark.parametrize("section", ["## See it work", "## Development"])
def test_setup_starts_with_a_virtual_environment(section: str) -> None:
    first = _blocks("bash", after=section)[0].splitlines()[0]
    assert first == "python3 -m venv .venv && . .venv/bin/activate"
