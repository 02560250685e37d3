"""Shared fixtures: seed examples, a client on the fake server, the aioresponses guard."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

SEEDS = Path(__file__).parent / "fixtures" / "seeds"


def _aioresponses_problem() -> str | None:
    """Why aioresponses cannot mock a request on the installed aiohttp, or None if it can.

    Found by trying one mocked request rather than by version numbers: aioresponses
    0.7.9 builds ``ClientResponse`` without the argument aiohttp 3.14 added
    (pnuckowski/aioresponses#289), while aioresponses-ng, its maintained fork (same
    import name, what the test extras install), does.
    """
    try:
        from aioresponses import aioresponses
    except ImportError as exc:
        return f"aioresponses is not installed ({exc})"

    async def one_mocked_request() -> None:
        url = "http://127.0.0.1:9/probe"  # never reached: aioresponses answers
        with aioresponses() as mocked:
            mocked.get(url, payload={"probe": True})
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                assert await response.json() == {"probe": True}

    loop = asyncio.new_event_loop()  # its own loop: the tests' loops are not made yet
    try:
        loop.run_until_complete(one_mocked_request())
    except Exception as exc:
        return (
            f"aioresponses cannot mock aiohttp {aiohttp.__version__}"
            f" ({type(exc).__name__}: {exc}); aioresponses-ng can"
        )
    finally:
        loop.close()
    return None


_AIORESPONSES_PROBLEM = _aioresponses_problem()

requires_aioresponses = pytest.mark.skipif(
    _AIORESPONSES_PROBLEM is not None, reason=_AIORESPONSES_PROBLEM or ""
)


def load_seed(name: str) -> Any:
    return json.loads((SEEDS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and the command lines it runs) keeps the CLI's shared rate budget in a
    state directory of its own, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
async def fake() -> AsyncIterator[FakeCertCentral]:
    """A fake CertCentral without rate limits, seeded with 30 orders."""
    async with FakeCertCentral(rate_limits=None, orders=30, seed=7) as server:
        yield server


@pytest.fixture
async def client(fake: FakeCertCentral) -> AsyncIterator[dc.CertCentralClient]:
    async with dc.CertCentralClient(
        api_key=fake.api_key,
        base_url=fake.base_url,
        rate_limit=dc.RateLimit.disabled(),
        timeout=5.0,
    ) as c:
        yield c
