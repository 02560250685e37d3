"""Set up the account's webhook, receive its events, and let a push wake a poll."""

import asyncio

import aiohttp
from aiohttp import web

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

SECRET = "a-webhook-secret-of-at-least-32-characters"  # yours: from a secret store


async def serve(receiver: dc.WebhookReceiver) -> tuple[web.AppRunner, str]:
    """Your service's endpoint (in production: https, behind your TLS proxy)."""
    app = web.Application()
    app.router.add_post("/digicert", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()  # 0 picks a free port here
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/digicert"


async def main() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    seen = receiver.events()  # a consumer of your own, beside the poll below
    runner, endpoint = await serve(receiver)
    async with FakeCertCentral(issue_after=None) as fake:
        async with dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url) as client:
            # 1. the account's webhook: create, prove the endpoint, activate
            created = await client.webhooks.create(
                endpoint=endpoint, secret=SECRET, events=["certificate_issued"]
            )
            challenge = asyncio.ensure_future(receiver.wait_for_challenge())
            await client.webhooks.send_challenge(created.webhook_id)
            token = await asyncio.wait_for(challenge, timeout=10)
            await client.webhooks.verify_challenge(created.webhook_id, token)
            await client.webhooks.activate(created.webhook_id)
            print("webhook:", (await client.webhooks.get()).status)

            # 2. a push wakes the poll: the hour's interval is never waited out
            order_id = fake.add_order("pending")
            async for update in dc.poll_orders(
                client, [order_id], until="issued", interval=3600, events=receiver
            ):
                print(update.order_id, update.previous_status, "->", update.status)
                if update.status == "pending":
                    fake.set_status(order_id, "issued")  # DigiCert issues it, and pushes

            # 3. what the receiver refused or recognised
            await fake.webhooks.settle()
            pushed = fake.webhooks.deliveries[-1].body  # the certificate_issued event
            async with aiohttp.ClientSession() as session:
                for headers in ({"X-WEBHOOK-KEY": SECRET}, {"X-WEBHOOK-KEY": "a guess"}):
                    async with session.post(endpoint, json=pushed, headers=headers) as answer:
                        print("sent again:", answer.status)
            print({kind: n for kind, n in receiver.counts.items() if n})
            await client.webhooks.delete(created.webhook_id)
    await receiver.close()  # ends every stream: what is queued is still read
    print("your stream:", [event.event async for event in seen])
    await runner.cleanup()


asyncio.run(main())
# It prints:
# webhook: active
# 100001 None -> pending
# 100001 pending -> issued
# sent again: 200
# sent again: 401
# {'accepted': 2, 'duplicate': 1, 'unauthorized': 1}
# your stream: ['challenge_webhook_endpoint', 'certificate_issued']
