"""pytest plugin (entry point ``digicert_async``): the ``certcentral_fake`` fixture.

``certcentral_fake`` yields a started ``FakeCertCentral(rate_limits=None)``: DigiCert's rate
limits are off so tests run at full speed. Tests that exercise rate limiting build their own
``FakeCertCentral`` with the windows they need. The fixture needs pytest-asyncio; without it
the plugin still loads and the fixture fails with a message saying so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._fake import FakeCertCentral

__all__ = ["certcentral_fake"]

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - exercised only without pytest-asyncio
    pytest_asyncio = None  # type: ignore[assignment]


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def certcentral_fake() -> AsyncIterator[FakeCertCentral]:
        """A started ``FakeCertCentral`` with rate limits off, closed after the test."""
        from ._fake import FakeCertCentral

        async with FakeCertCentral(rate_limits=None) as fake:
            yield fake

else:  # pragma: no cover - exercised only without pytest-asyncio

    @pytest.fixture
    def certcentral_fake() -> None:
        """Unavailable: needs pytest-asyncio."""
        pytest.fail(
            "the certcentral_fake fixture needs pytest-asyncio (pip install pytest-asyncio)",
            pytrace=False,
        )
