"""The public names as tools see them: ``typing.get_type_hints`` resolves on every exported
class and function (users' converters, pydantic, Sphinx and IDEs call it), and the
converter builds a model's hooks and fast path the first time that model is used, not
when the package is imported."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
import typing
from datetime import date, datetime

import digicert_async as dc


def test_type_hints_resolve_on_every_exported_class_and_function() -> None:
    failures = {}
    checked = 0
    for name in dc.__all__:
        value = getattr(dc, name)
        if not (isinstance(value, type) or inspect.isfunction(value)):
            continue  # constants, and StrFlag (a NewType, which has no hints of its own)
        try:
            typing.get_type_hints(value)
        except Exception as exc:  # pragma: no cover - the failure is the report
            failures[name] = repr(exc)
        checked += 1
    assert failures == {}
    assert checked > 100


def test_the_hints_are_the_declared_types_and_the_module_stays_public() -> None:
    hints = typing.get_type_hints(dc.Order)
    assert hints["date_created"] == datetime | None
    assert hints["order_valid_till"] == date | None
    assert hints["certificate"] == dc.OrderCertificate | None
    assert hints["is_multi_year_plan"] == dc.StrFlag | None
    assert typing.get_type_hints(dc.CancelReport)["results"] == list[dc.CancelResult]
    assert dc.Order.__module__ == dc.CancelReport.__module__ == "digicert_async"


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_fast_paths_are_built_on_first_use_not_at_import() -> None:
    out = _run(
        """
        import digicert_async as dc
        from digicert_async._decode import read_model
        print(sorted(cls.__name__ for cls in dc.converter._fast_readers))
        dc.converter.structure({"id": 1, "user": {"id": 2}}, dc.Note)
        print(sorted(cls.__name__ for cls in dc.converter._fast_readers))
        read_model(dc.Order)  # a reader made, nothing read yet
        print(dc.Order in dc.converter._fast_readers)
        """
    )
    assert out.splitlines() == ["[]", "['Note', 'User']", "False"]


def test_a_new_converter_builds_nothing_until_used() -> None:
    from digicert_async._converter import make_converter

    conv = make_converter()
    assert conv._fast_readers == {}
    conv.structure({"id": 1}, dc.Note)
    assert set(conv._fast_readers) == {dc.Note, dc.User}  # a note holds its user


def test_warm_up_still_builds_them_all_at_once() -> None:
    out = _run(
        """
        import digicert_async as dc
        dc.converter.warm_up()
        built = dc.converter._fast_readers
        print(dc.Order in built, dc.ProductDetails in built)
        """
    )
    assert out.split() == ["True", "True"]
