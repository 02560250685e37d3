"""Start-up cost: ``import digicert_async``, ``digicert-async --help`` / ``--version`` and
the pytest plugin load only what they use (how long they take is measured by
``benchmarks/bench_startup.py``, not here)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import digicert_async as dc
from digicert_async.cli._parser import build_parser

PACKAGE = Path(dc.__file__).parent
# What none of the three may load before it is used: the HTTP stack, the modelling
# libraries, the event loop, the certificate maker, and the library's own core.
HEAVY = ("aiohttp", "attr", "attrs", "cattrs", "asyncio", "cryptography", "tqdm")


def _modules_after(code: str, cwd: Path | None = None) -> list[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=cwd
    )
    assert run.returncode == 0, run.stderr
    modules: list[str] = json.loads(run.stdout.splitlines()[-1])
    return modules


def _heavy(modules: list[str]) -> list[str]:
    return [name for name in modules if name.split(".")[0] in HEAVY]


def _ours(modules: list[str]) -> set[str]:
    return {name for name in modules if name.split(".")[0] == "digicert_async"}


def test_importing_the_package_loads_none_of_the_library() -> None:
    modules = _modules_after("import digicert_async")
    assert _heavy(modules) == []
    assert _ours(modules) == {"digicert_async", "digicert_async._version"}


def test_a_public_name_loads_its_module_and_what_that_needs() -> None:
    modules = _modules_after("import digicert_async as dc\ndc.ValidationError")
    assert "digicert_async._errors" in modules
    assert "aiohttp" not in modules and "digicert_async._client" not in modules

    modules = _modules_after("from digicert_async import CertCentralClient")
    assert {"aiohttp", "digicert_async._client", "digicert_async._converter"} <= set(modules)
    assert "digicert_async.bulk" not in modules  # the bulk jobs wait for their own names


def test_models_named_before_the_converter_loads_are_still_read() -> None:
    """A model bound (and so moved to ``digicert_async``) before the converter makes its
    hooks: its string annotations were resolved in its own module first."""
    modules = _modules_after(
        "import digicert_async as dc\n"
        "assert dc.Order.__module__ == 'digicert_async'\n"
        "assert 'digicert_async._converter' not in __import__('sys').modules\n"
        "order = dc.converter.structure({'id': 1, 'date_created': '2024-05-02T09:44:06+00:00'},"
        " dc.Order)\n"
        "assert order.date_created.year == 2024, order"
    )
    assert "digicert_async._converter" in modules


@pytest.mark.parametrize("argv", [["--help"], ["--version"], [], ["-h"]])
def test_help_and_version_import_only_the_parser(argv: list[str]) -> None:
    modules = _modules_after(
        "import contextlib, io\n"
        "from digicert_async.cli import main\n"
        "quiet = io.StringIO()\n"
        "with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):\n"
        f"    main({argv!r})"
    )
    assert _heavy(modules) == []
    assert _ours(modules) == {
        "digicert_async",
        "digicert_async._version",
        "digicert_async.cli",
        "digicert_async.cli._parser",
    }


def test_python_dash_m_help_imports_only_the_parser() -> None:
    modules = _modules_after(
        "import contextlib, io, runpy, sys\nsys.argv = ['digicert_async', '--version']\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    runpy.run_module('digicert_async', run_name='__main__')"
    )
    assert _heavy(modules) == []
    assert "digicert_async.cli._terminal" not in modules


def test_version_names_the_versions_it_runs_with(capsys: pytest.CaptureFixture[str]) -> None:
    import aiohttp  # here, not in the command: it reads aiohttp's version from its metadata

    from digicert_async.cli import main

    assert main(["--version"]) == 0
    python = ".".join(map(str, sys.version_info[:3]))
    assert capsys.readouterr().out == (
        f"digicert-async {dc.__version__} (Python {python}, aiohttp {aiohttp.__version__})\n"
    )


def test_the_light_parser_shows_the_same_help_as_the_full_one() -> None:
    assert build_parser(commands=()).format_help() == build_parser().format_help()


def test_a_command_s_help_still_lists_digicert_s_formats(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from digicert_async.cli import main

    assert main(["download", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "one of DigiCert's: " + ", ".join(sorted(dc.CERTIFICATE_FORMATS)) in out


@pytest.mark.slow
def test_the_pytest_plugin_loads_nothing_heavy_until_its_fixture_is_used(tmp_path: Path) -> None:
    """A project of its own, with the package installed: its plugin is loaded (entry point
    pytest11) at every pytest start there."""
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / "test_light.py").write_text(
        "import sys\n\n"
        "def test_light(pytestconfig):\n"
        "    assert pytestconfig.pluginmanager.has_plugin('digicert_async')\n"
        f"    assert not [m for m in sys.modules if m.split('.')[0] in {HEAVY[:3]!r}]\n"
        "    assert 'digicert_async._client' not in sys.modules\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_light.py"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout


def test_subpackages_are_reached_as_attributes_too() -> None:
    assert dc.bulk.UNREADABLE_LOOKS >= 1
    assert dc.models.Order is dc.Order
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        dc.nothing  # noqa: B018
    assert {"CertCentralClient", "bulk", "__version__"} <= set(dir(dc))


def test_the_type_checkers_imports_are_the_registry() -> None:
    """``__init__.py`` names each public name twice: in ``_HOMES`` (what runs) and under
    ``TYPE_CHECKING`` (what type checkers read); they must agree."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    [guarded] = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    imported: dict[str, str] = {}
    for statement in guarded.body:
        assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
        for alias in statement.names:
            assert alias.asname == alias.name  # `X as X`: re-exported
            imported[alias.name] = "." * statement.level + (statement.module or "")
    assert imported == dc._HOME_OF
