"""The README's "Getting the certificate" example runs as written against the bundled fake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli_readme import _blocks

pytest.importorskip("cryptography")


def test_the_getting_the_certificate_example_runs_as_a_script(tmp_path: Path) -> None:
    example = _blocks("python", after="## Getting the certificate")[0]
    script = tmp_path / "download.py"
    script.write_text(example)
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "2 intermediates, root: True",
        "p7b starts with b'0'",
        "FakeCertCentral Root CA",
        "downloaded 3 of 3",
    ]


def test_the_cross_signed_example_runs_as_a_script(tmp_path: Path) -> None:
    example = _blocks("python", after="## Getting the certificate")[1]
    assert "cross_signed=True" in example
    script = tmp_path / "cross.py"
    script.write_text(example)
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["1 intermediate, 2 off the path", "2"]
