"""Domain control validation: what to publish, and a job that publishes, checks and cleans up."""

import asyncio

import digicert_async as dc
from digicert_async.testing import FakeCertCentral


async def main() -> None:
    # the fake holds orders until their domains pass DCV, read from its own DNS (fake.dns)
    async with FakeCertCentral(dcv_required=True) as fake:
        order_id = fake.add_order("pending", common_name="shop.example.net")
        async with dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            instructions = await dc.dcv_instructions(client, order_id=order_id)
            for record in instructions.records:
                print("publish", record.type, record.name)

            # publish and unpublish are your DNS provider's; fake.dns stands in for it here
            report = await dc.validate_domains(
                client,
                [order_id],
                publish=fake.dns.publish,
                unpublish=fake.dns.unpublish,
                schedule=dc.CheckSchedule(first=5),
            )
            print(report.counts)
            print("records left:", fake.dns.records())


asyncio.run(main())
# It prints:
# publish TXT shop.example.net
# {'validated': 1, 'timed_out': 0, 'not_found': 0, 'failed': 0, 'not_attempted': 0}
# records left: []
