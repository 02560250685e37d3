"""Several clients (processes, CLI runs) on one key share one rate budget in an SQLite file."""

import asyncio
import tempfile
from pathlib import Path

import digicert_async as dc
from digicert_async.testing import FakeCertCentral


async def worker(fake: FakeCertCentral, state: Path, order_ids: list[int]) -> int:
    """One worker: its own client, the budget shared through the file."""
    limit = dc.RateLimit(backend=dc.SqliteLimiterBackend(state))
    async with dc.CertCentralClient(
        api_key=fake.api_key, base_url=fake.base_url, rate_limit=limit
    ) as client:
        report = await dc.cancel_orders(client, order_ids, note="decommissioned")
        return report.counts["canceled"]


async def main() -> None:
    async with FakeCertCentral() as fake:
        order_ids = [fake.add_order("pending") for _ in range(20)]
        with tempfile.TemporaryDirectory() as folder:
            state = Path(folder) / "digicert-ratelimit.sqlite3"
            counts = await asyncio.gather(
                worker(fake, state, order_ids[:10]), worker(fake, state, order_ids[10:])
            )
            print(counts, "429s:", fake.rate_limited_count)


asyncio.run(main())
# It prints:
# [10, 10] 429s: 0
