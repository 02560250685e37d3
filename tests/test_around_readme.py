"""The README's "Around an order" example runs as written against the bundled fake."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli_readme import _blocks

pytest.importorskip("cryptography")


def test_the_around_an_order_example_runs_as_a_script(tmp_path: Path) -> None:
    example = _blocks("python", after="## Around an order")[0]
    script = tmp_path / "around.py"
    script.write_text(example)
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert re.fullmatch(r"reissue asked: request \d+", lines[0])
    assert lines[1] == "order is reissue_pending"
    assert lines[2] == "new certificate: True"
    assert re.fullmatch(r"revocation is request \d+, pending", lines[3])
    assert lines[4] == "order is revoked"
