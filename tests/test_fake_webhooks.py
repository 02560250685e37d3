"""FakeCertCentral's webhook: the management calls as DigiCert documents them, events
pushed to a registered endpoint with the secret, and deliveries duplicated, reordered or
dropped when faults are on, with the poll's guarantee unchanged."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault

SECRET = "fake-webhook-secret-0123456789abcdef"


@asynccontextmanager
async def listening(receiver: dc.WebhookReceiver) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/digicert", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/digicert"
    finally:
        await receiver.close()
        await runner.cleanup()


def client_for(fake: FakeCertCentral) -> dc.CertCentralClient:
    return dc.CertCentralClient(
        api_key=fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
    )


async def test_the_whole_setup_through_the_client_then_an_issued_event() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    stream = receiver.events()
    async with (
        FakeCertCentral(rate_limits=None, issue_after=None) as fake,
        client_for(fake) as client,
        listening(receiver) as url,
    ):
        assert await client.webhooks.get() is None
        created = await client.webhooks.create(
            endpoint=url, secret=SECRET, events=["certificate_issued", "order_rejected"]
        )
        webhook = await client.webhooks.get()
        assert webhook is not None and webhook.id == created.webhook_id
        assert (webhook.status, webhook.endpoint, webhook.secret) == ("pending", url, SECRET)

        await client.webhooks.send_test_event(endpoint=url, secret=SECRET)
        test_event = await asyncio.wait_for(stream.get(), 10)
        assert test_event is not None and test_event.event == "test_webhook_endpoint"

        with pytest.raises(dc.BadRequestError) as refused:
            await client.webhooks.activate(created.webhook_id)  # no challenge passed yet
        assert refused.value.code == "webhook_invalid_action"
        waiting = asyncio.ensure_future(receiver.wait_for_challenge())
        await client.webhooks.send_challenge(created.webhook_id)
        token = await asyncio.wait_for(waiting, 10)
        with pytest.raises(dc.BadRequestError) as refused:
            await client.webhooks.verify_challenge(created.webhook_id, token + "x")
        assert refused.value.code == "webhook_invalid_token"
        await client.webhooks.verify_challenge(created.webhook_id, token)
        await client.webhooks.activate(created.webhook_id)
        webhook = await client.webhooks.get()
        assert webhook is not None and webhook.status == "active"

        order_id = fake.add_order("pending")
        fake.set_status(order_id, "issued")
        event = None
        while event is None or event.event == "challenge_webhook_endpoint":
            event = await asyncio.wait_for(stream.get(), 10)
        assert event.event == "certificate_issued" and event.order_id == order_id
        assert event.certificate_id == fake.certificate_ids(order_id)[0]
        assert receiver.counts["unauthorized"] == 0  # every push carried the secret


async def test_the_refusals_digicert_documents() -> None:
    async with FakeCertCentral(rate_limits=None) as fake, client_for(fake) as client:
        created = await client.webhooks.create(
            endpoint="https://hooks.example.com/x", secret=SECRET, events=["certificate_issued"]
        )
        with pytest.raises(dc.BadRequestError) as refused:
            await client.webhooks.create(
                endpoint="https://hooks.example.com/y", secret=SECRET, events=["order_rejected"]
            )
        assert refused.value.code == "webhook_configured_already"
        with pytest.raises(dc.NotFoundError):
            await client.webhooks.send_challenge(created.webhook_id + 1)
        await client.webhooks.update(
            created.webhook_id, endpoint="https://hooks.example.com/new", events=["order_rejected"]
        )
        webhook = await client.webhooks.get()
        assert webhook is not None and webhook.endpoint == "https://hooks.example.com/new"
        assert webhook.events == ["order_rejected"] and webhook.secret == SECRET
        await client.webhooks.delete(created.webhook_id)
        assert await client.webhooks.get() is None
        assert fake.webhooks.current is None


async def test_only_subscribed_events_of_an_active_webhook_are_pushed() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    stream = receiver.events()
    async with (
        FakeCertCentral(rate_limits=None, issue_after=None) as fake,
        listening(receiver) as url,
    ):
        fake.webhooks.register(url, SECRET, ["order_rejected"])
        issued, rejected = fake.add_order("pending"), fake.add_order("pending")
        fake.set_status(issued, "issued")  # not subscribed
        fake.set_status(rejected, "rejected")
        await fake.webhooks.settle()
        event = await asyncio.wait_for(stream.get(), 10)
        assert event is not None and (event.event, event.order_id) == ("order_rejected", rejected)
        assert event.certificate_id is None
        assert [d.body["event"] for d in fake.webhooks.deliveries] == ["order_rejected"]


async def test_a_push_from_the_fake_wakes_the_poll() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with (
        FakeCertCentral(rate_limits=None, issue_after=None) as fake,
        client_for(fake) as client,
        listening(receiver) as url,
    ):
        fake.webhooks.register(url, SECRET)
        order_id = fake.add_order("pending")
        statuses = []
        async for update in dc.poll_orders(
            client, [order_id], until="issued", interval=3600, deadline=60, events=receiver
        ):
            statuses.append(update.status)
            if update.status == "pending":
                fake.set_status(order_id, "issued")
        assert statuses == ["pending", "issued"]
        assert not any(r.path.endswith("/status-changes") for r in fake.requests)


async def test_faulty_deliveries_change_nothing_the_poll_reports() -> None:
    # Faults on (SLOW with no delay leaves the API answers as they are): some pushes are
    # dropped, some sent twice, some overtaken by later ones.
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with FakeCertCentral(
        rate_limits=None, issue_after=None, fault_rate=0.5, fault_kinds=[Fault.SLOW],
        slow_seconds=0.0, seed=21,
    ) as fake, client_for(fake) as client, listening(receiver) as url:  # fmt: skip
        fake.webhooks.register(url, SECRET)
        ids = [fake.add_order("pending") for _ in range(40)]
        updates: list[dc.OrderUpdate] = []
        async for update in dc.poll_orders(
            client, ids, until="issued", interval=0.3, deadline=60, events=receiver
        ):
            updates.append(update)
            if len(updates) == len(ids):  # the first look is done: issue them all
                for order_id in ids:
                    fake.set_status(order_id, "issued")
        issued = Counter(u.order_id for u in updates if u.status == "issued")
        assert issued == Counter(ids)  # each order reported issued once, pushed or polled
        await fake.webhooks.settle()  # the held-back deliveries land too
        faults = Counter(d.fault for d in fake.webhooks.deliveries)
        assert faults["drop"] + faults["duplicate"] + faults["reorder"] > 0
        duplicates = faults["duplicate"] // 2  # each duplicated delivery is recorded twice
        assert receiver.counts["duplicate"] == duplicates
        assert receiver.counts["accepted"] == len(ids) - faults["drop"]
