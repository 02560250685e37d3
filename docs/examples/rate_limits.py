"""Pacing, the 429 cool-down and retries, observed through hooks.

The fake allows 10 requests per second; the client is told 20, so DigiCert's answer (a 429)
closes the client's gate, every task waits out one cool-down, and the client learns a lower
rate. Every call still succeeds.
"""

import asyncio

import digicert_async as dc
from digicert_async.testing import FakeCertCentral


async def main() -> None:
    cooldowns: list[dc.CooldownStarted] = []
    hooks = dc.Hooks(on_cooldown=[cooldowns.append])
    limit = dc.RateLimit(windows=[(20, 1.0)], cooldown_initial=0.5, cooldown_max=1.0)
    async with FakeCertCentral(orders=40, rate_limits=[(10, 1.0)], block_seconds=0.5) as fake:
        async with dc.CertCentralClient(
            api_key=fake.api_key, base_url=fake.base_url, rate_limit=limit, hooks=hooks
        ) as client:
            orders = await asyncio.gather(*(client.orders.get(i) for i in fake.order_ids))
            print(len(orders), "orders read")
            print("refused at least once:", fake.rate_limited_count > 0)
            print("cool-downs waited out:", len(cooldowns) > 0)
            print("windows now below the configured ones:", client.pacer.scale < 1.0)


asyncio.run(main())
# It prints:
# 40 orders read
# refused at least once: True
# cool-downs waited out: True
# windows now below the configured ones: True
