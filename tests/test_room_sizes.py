"""The rooms of a call stay the size the house rules set: no module over 500 lines, no
function over 60 (issue 19 brought ``_pipeline.py`` from 591 lines and its transport's
``__call__`` from 101, the retry layer's from 71)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "digicert_async"
ROOMS = [
    "_pipeline.py",
    "_retry.py",
    "_send.py",
    "_transport.py",
    "_client.py",
    "_decode.py",
    "_errors.py",
    "_error_answers.py",
    "_inflate.py",
    "_clock.py",
]
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


@pytest.mark.parametrize("room", ROOMS)
def test_a_room_of_the_call_stays_within_its_size(room: str) -> None:
    source = (PACKAGE / room).read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    long = {
        node.name: node.end_lineno - node.lineno + 1
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    }
    assert long == {}
