"""Test kit: ``FakeCertCentral``, an in-process fake of the CertCentral Services API v2.

```python
from digicert_async.testing import FakeCertCentral, Fault

async with FakeCertCentral(orders=20) as fake:
    fake.inject(Fault.RESET_AFTER, method="POST")
    ...  # point a client at fake.base_url with fake.api_key
```

Orders move on a lifecycle clock the test controls (``FakeCertCentral(issue_after=60)``,
``fake.advance(60)``): pending orders, reissues and duplicates are issued with real X.509
chains (``fake.certificate(certificate_id)``), made with ``cryptography`` (the ``fake``
extra, which ``cli`` and ``testing`` include). Without it the fake still runs, issues
certificates without files, and says what to install when one is downloaded.

``FakeCertCentral`` is imported on first use, so importing this package (as the pytest plugin
does) does not load the aiohttp server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._types import Fault, RecordedRequest

if TYPE_CHECKING:
    from ._fake import FakeCertCentral

__all__ = ["FakeCertCentral", "Fault", "RecordedRequest"]


def __getattr__(name: str) -> Any:
    if name == "FakeCertCentral":
        from ._fake import FakeCertCentral

        return FakeCertCentral
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
