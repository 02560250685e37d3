"""The documentation site's promises: its examples run and print what they say, its API
reference covers every public name, and its changelog page is the CHANGELOG itself.

The site itself is built in CI by the README's own command (``sphinx-build -W -n docs ...``,
run with the rest of the README by ``tests/readme.py``, see ``.ci/run``)."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import digicert_async
import digicert_async.testing

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
PRINTS = "# It prints:\n"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("test_"))


def expected_output(script: Path) -> str:
    """What the script says it prints: the comment block after its ``# It prints:`` line."""
    text = script.read_text(encoding="utf-8")
    assert PRINTS in text, f"{script.name} says what it prints"
    lines = text.split(PRINTS, 1)[1].splitlines()
    return "".join(line.removeprefix("# ").removeprefix("#") + "\n" for line in lines)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-W", "error", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_an_example_prints_what_it_says(script: Path, tmp_path: Path) -> None:
    done = run(str(script), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == expected_output(script)


@pytest.mark.slow
def test_the_testing_example_passes_under_pytest(tmp_path: Path) -> None:
    example = EXAMPLES / "test_with_fake.py"
    (tmp_path / example.name).write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    # the configuration the page tells the reader to set
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n',
        encoding="utf-8",
    )
    done = run("-m", "pytest", "-q", "-p", "no:cacheprovider", example.name, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_every_example_is_shown_on_a_page() -> None:
    pages = "".join(page.read_text(encoding="utf-8") for page in DOCS.glob("*.md"))
    for example in EXAMPLES.glob("*.py"):
        assert f"examples/{example.name}" in pages, example.name


def test_the_api_reference_documents_every_public_name() -> None:
    sys.path.insert(0, str(DOCS))
    try:
        import conf  # docs/conf.py: it needs no Sphinx to import
    finally:
        sys.path.remove(str(DOCS))
    reference = conf.public_names_rst()
    documented = {
        line.split("::", 1)[1].strip().removeprefix("digicert_async.")
        for line in reference.splitlines()
        if line.startswith(".. auto")
    }
    assert documented == set(digicert_async.__all__) - {"__version__"}
    assert conf.API_MARKER in (DOCS / "api.rst").read_text(encoding="utf-8")


def test_the_changelog_page_includes_the_changelog_rather_than_copying_it() -> None:
    page = (DOCS / "changelog.md").read_text(encoding="utf-8")
    assert "```{include} ../CHANGELOG.md" in page
    assert "## [Unreleased]" not in page


def _public_members(cls: type) -> list[tuple[str, object]]:
    """The methods and properties ``cls`` defines itself under a public name."""
    members = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            members.append((name, member.fget))
        elif isinstance(member, (staticmethod, classmethod)):
            members.append((name, member.__func__))
        elif inspect.isfunction(member):
            members.append((name, member))
    return members


def test_every_public_name_has_a_docstring() -> None:
    """ruff's D1 rules leave private modules out, and most public names live in one: the
    site's reference needs a docstring on each, and on each public method and property."""
    missing = []
    for namespace in (digicert_async, digicert_async.testing):
        for name in namespace.__all__:
            value = getattr(namespace, name)
            if not (inspect.isclass(value) or inspect.isfunction(value)):
                continue
            if not inspect.getdoc(value):
                missing.append(name)
            if inspect.isclass(value):
                missing += [
                    f"{name}.{member}"
                    for member, function in _public_members(value)
                    if not getattr(function, "__doc__", None)
                ]
    assert missing == []
