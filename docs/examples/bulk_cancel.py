"""Cancel many orders: one outcome per id, every id accounted for."""

import asyncio

import digicert_async as dc
from digicert_async.testing import FakeCertCentral


async def main() -> None:
    async with FakeCertCentral() as fake:
        order_ids = [fake.add_order("pending") for _ in range(5)]
        order_ids.append(fake.add_order("canceled"))
        order_ids.append(fake.add_order("issued"))
        order_ids.append(999_999_999)  # no such order
        async with dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            report = await dc.cancel_orders(client, order_ids, note="host decommissioned")
            for outcome, count in report.counts.items():
                print(f"{outcome.value}: {count}")
            print(report.resume_ids())

            # or stream the outcomes as they complete
            more = [fake.add_order("pending") for _ in range(3)]
            job = dc.cancel_orders(client, more, note="host decommissioned")
            outcomes = [result.outcome.value async for result in job]
            print(outcomes, job.report.counts["canceled"])


asyncio.run(main())
# It prints:
# canceled: 5
# already_canceled: 1
# not_cancelable: 1
# not_found: 1
# failed: 0
# not_attempted: 0
# []
# ['canceled', 'canceled', 'canceled'] 3
