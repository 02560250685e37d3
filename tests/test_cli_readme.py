"""The README's examples, as a reader copies them: the fixture example in a fresh project,
the quickstart as a script, and the rules every example keeps. (CI runs the whole README
as written with ``tests/readme.py``, which these tests read it with.)"""

from __future__ import annotations

import ast
import enum
import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest

import digicert_async as dc
from digicert_async.bulk._outcomes import OutcomeCounts

from .readme import Failure, as_main_body, blocks, check_output


def _blocks(language: str, after: str = "") -> list[str]:
    """The code of the README's ``language`` blocks after ``after`` (a heading, say)."""
    return [block.code for block in blocks(language, after=after)]


def _pytest_in(project: Path, test_file: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", test_file],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_the_fixture_example_runs_in_a_fresh_project_without_a_warning(tmp_path: Path) -> None:
    """The README's own configuration and test file, in a project of their own: no
    asyncio_mode there, so pytest-asyncio's strict default, as in a new project."""
    config, test = blocks(after="## Testing your own code")[1:3]
    assert (config.file_name, test.file_name) == ("pyproject.toml", "test_cancel.py")
    (tmp_path / "pyproject.toml").write_text(config.code)
    (tmp_path / "test_cancel.py").write_text(test.code)
    run = _pytest_in(tmp_path, "test_cancel.py")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
    assert "Warning" not in run.stdout + run.stderr and "warning" not in run.stdout

    # the controls: without its configuration pytest-asyncio warns (so the setting is what
    # silences it); without its marker the test fails (so the run above was strict)
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    unset = _pytest_in(tmp_path, "test_cancel.py")
    assert "asyncio_default_fixture_loop_scope" in unset.stdout + unset.stderr
    (tmp_path / "pyproject.toml").write_text(config.code)
    (tmp_path / "test_unmarked.py").write_text(test.code.replace("@pytest.mark.asyncio\n", ""))
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


def test_ci_runs_the_test_command_the_development_section_gives() -> None:
    """The README says its test command is the one CI runs: `.ci/run` runs it in each
    environment (with the options that pick the floor run's tests after it)."""
    command = _blocks("bash", after="## Development")[0].strip().splitlines()[-1]
    assert command.startswith("python -m pytest")
    ci = Path(__file__).resolve().parent.parent / ".ci" / "run"
    if not ci.exists():
        pytest.skip("not a checkout: the sdist has no .ci/run")
    ran = [line.strip() for line in ci.read_text().splitlines() if "python -m pytest" in line]
    assert ran == [f'{command} "$@" 2>&1 | tee "$log"']


# --------------------------------------------------------------------------- how it is run


def test_every_block_is_one_the_readme_run_knows() -> None:
    """Each block is run, compiled or written as tests/readme.py says; a fragment says so
    on its first line and compiles as the body of ``async def main()``."""
    readme = blocks()
    kinds = {block.kind for block in readme}
    assert kinds <= {"shell", "script", "fragment", "file", "server", "not run"}
    for block in readme:
        assert block.language in ("bash", "python", "toml"), block
        if block.kind == "fragment":
            compile(as_main_body(block.code), str(block), "exec")
        if block.kind == "script":
            compile(block.code, str(block), "exec")  # top-level await would be a fragment
        if block.language == "toml":
            assert block.kind == "file", block
    walk_throughs = [b for a, b in itertools.pairwise(readme) if a.kind == "server"]
    assert len(walk_throughs) == 2
    for block in walk_throughs:  # what the run fills in, as the reader does
        assert block.language == "bash" and "export DIGICERT_API_KEY=...   #" in block.code
        assert ":8080" in block.code


def test_the_tuning_example_runs_its_main() -> None:
    [tuning] = [b for b in blocks("python") if "retry=dc.RetryPolicy(" in b.code]
    assert tuning.kind == "script" and tuning.code.rstrip().endswith("asyncio.run(main())")


@pytest.mark.parametrize(
    ("job", "outcomes"),
    [("dc.cancel_orders(", dc.CancelOutcome), ("dc.reissue_orders(", dc.ReissueOutcome)],
)
def test_report_counts_are_shown_as_they_print(job: str, outcomes: type[enum.Enum]) -> None:
    [example] = [b.code for b in blocks("python") if job in b.code and "report.counts" in b.code]
    shown = re.search(r"print\(report\.counts\)\n((?:\s*# .*\n)+)", example)
    assert shown is not None, "print(report.counts) with what it prints below it"
    text = " ".join(line.strip()[2:] for line in shown[1].splitlines()).replace("{ ", "{")
    numbers: dict[str, int] = ast.literal_eval(text.replace("  ", " "))
    assert list(numbers) == [outcome.value for outcome in outcomes]  # all of them, in order
    counts = OutcomeCounts({outcomes(value): n for value, n in numbers.items()})
    assert repr(counts) == str(counts) == text.replace("  ", " ")


_SAMPLE = """# Title

## Part

```python
# Fragment of async def main(): client is yours
await client.orders.get(1)
```

```toml
# pyproject.toml
[tool.pytest.ini_options]
```

```bash
digicert-async fake-server --port 8080 --orders 3
```

<!-- readme: not run: it needs an account -->
```bash
export DIGICERT_API_KEY=...
```

### Sub part

```python
print("# not a heading")
```
"""


def test_the_readme_run_reads_each_kind_of_block() -> None:
    fragment, config, server, account, script = blocks(text=_SAMPLE)
    assert (fragment.kind, fragment.section, fragment.line) == ("fragment", "Part", 5)
    assert (config.kind, config.file_name) == ("file", "pyproject.toml")
    assert server.kind == "server"
    assert (account.kind, account.not_run) == ("not run", "it needs an account")
    assert (script.kind, script.section) == ("script", "Sub part")
    assert [b.line for b in blocks("python", after="### Sub", text=_SAMPLE)] == [script.line]


@pytest.mark.parametrize(
    ("status", "output", "fails"),
    [
        (0, "done\nWARNING: Location 'file:///x' is ignored\n", False),  # pip's, not Python's
        (1, "", True),
        (0, "Traceback (most recent call last):\n  ...\nValueError: x\n", True),
        (0, "/x/y.py:3: DeprecationWarning: old\n  call()\n", True),
        (0, "Exception ignored in: <coroutine object f at 0x1>\n", True),
    ],
)
def test_the_readme_run_fails_on_an_error_a_traceback_or_a_warning(
    status: int, output: str, fails: bool
) -> None:
    block = blocks(text=_SAMPLE)[-1]
    if fails:
        with pytest.raises(Failure):
            check_output(block, "python", status, output)
    else:
        check_output(block, "python", status, output)
