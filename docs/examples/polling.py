"""Poll many orders until DigiCert has issued them."""

import asyncio

import digicert_async as dc
from digicert_async.testing import FakeCertCentral


async def main() -> None:
    # realtime: the fake issues a pending order half a second after it was placed
    async with FakeCertCentral(issue_after=0.5, realtime=True) as fake:
        order_ids = [fake.add_order("pending") for _ in range(3)]
        order_ids.append(fake.add_order("canceled"))  # can never be issued
        async with dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            ended = {}
            async for update in dc.poll_orders(client, order_ids, until="issued", interval=0.2):
                ended[update.order_id] = (update.status, update.never_reaches)
            for order_id in order_ids:
                print(order_id, *ended[order_id])


asyncio.run(main())
# It prints:
# 100001 issued False
# 100002 issued False
# 100003 issued False
# 100004 canceled True
