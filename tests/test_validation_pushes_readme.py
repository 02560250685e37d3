"""The README's example of validation events starting and waking ``validate_domains`` runs
as written against the bundled fake, and prints what the README says it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_cli_readme import _blocks

pytest.importorskip("cryptography")


def test_a_revalidation_notice_starts_validation_that_a_push_ends(tmp_path: Path) -> None:
    from .test_validation_readme import _run

    code = _blocks("python", after="### Pushes wake validation, and start it")[0]
    assert "events=receiver" in code and "domain_revalidation_notice" in code
    shown = code.split("asyncio.run(main())\n# It prints:\n")[1]
    assert _run(code, tmp_path) == [line[2:] for line in shown.splitlines()]
