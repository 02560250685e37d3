"""Getting started: list, read, note and cancel orders on the bundled fake CertCentral."""

import asyncio

import digicert_async as dc
from digicert_async.testing import FakeCertCentral


async def main() -> None:
    async with FakeCertCentral(orders=12, seed=1) as fake:
        async with dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            pending = [order async for order in client.orders.list(status="pending")]
            print(f"{len(pending)} pending orders")

            order_id = pending[0].id
            await client.orders.add_note(order_id, "Replaced by a new order")
            await client.orders.cancel(order_id, note="No longer needed")
            order = await client.orders.get(order_id)
            print(f"order {order.id} is now {order.status}")

            try:
                await client.orders.cancel(order_id, note="again")
            except dc.BadRequestError as error:
                print(f"second cancel refused: {error.code}")


asyncio.run(main())
# It prints:
# 2 pending orders
# order 100001 is now canceled
# second cancel refused: invalid_status
