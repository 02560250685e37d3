"""Shared fixtures: seed examples, a client on the fake server, the aioresponses guard."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

SEEDS = Path(__file__).parent / "fixtures" / "seeds"

_AIOHTTP_LINE = tuple(int(part) for part in aiohttp.__version__.split(".")[:2])

# aioresponses 0.7.9 builds ClientResponse without the constructor argument aiohttp 3.14
# added, so every mocked request fails there. The suite's other layers run on 3.14.
requires_aioresponses = pytest.mark.skipif(
    _AIOHTTP_LINE >= (3, 14),
    reason="aioresponses cannot mock aiohttp >= 3.14 responses "
    "(upstream issue pnuckowski/aioresponses#289)",
)


def load_seed(name: str) -> Any:
    return json.loads((SEEDS / f"{name}.json").read_text(encoding="utf-8"))


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
