"""Testing your own code: the ``certcentral_fake`` fixture, and a fake of your own with faults."""

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault


async def retire(client: dc.CertCentralClient, order_ids: list[int]) -> list[int]:
    """The code under test: cancel orders, return those to try again."""
    report = await dc.cancel_orders(client, order_ids, note="retired")
    return report.resume_ids()


@pytest.mark.asyncio
async def test_retire_cancels_pending(certcentral_fake):
    order_ids = [certcentral_fake.add_order("pending") for _ in range(3)]
    async with dc.CertCentralClient(
        api_key=certcentral_fake.api_key, base_url=certcentral_fake.base_url
    ) as client:
        assert await retire(client, order_ids) == []
    assert all(certcentral_fake.order(i)["status"] == "canceled" for i in order_ids)


@pytest.mark.asyncio
async def test_retire_survives_a_dropped_connection():
    async with FakeCertCentral(rate_limits=None) as fake:
        order_id = fake.add_order("pending")
        fake.inject(Fault.RESET_BEFORE, method="PUT")  # the first cancel never arrives
        async with dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            assert await retire(client, [order_id]) == []
        assert fake.order(order_id)["status"] == "canceled"
