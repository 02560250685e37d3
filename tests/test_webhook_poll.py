"""``poll_orders(..., events=receiver)`` against FakeCertCentral: pushes wake the poll,
lost pushes leave it polling, repeated pushes change nothing, and the interval's looks
stay on their schedule whatever is pushed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

from .test_webhook_receiver import SECRET, serving

HOUR = 3600.0  # an interval no test waits out: only a push can end these polls early


@asynccontextmanager
async def fake_and_client() -> AsyncIterator[tuple[FakeCertCentral, dc.CertCentralClient]]:
    async with FakeCertCentral(rate_limits=None, issue_after=None) as fake:
        async with dc.CertCentralClient(
            api_key=fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
        ) as client:
            yield fake, client


def issued(order_id: int, certificate_id: int = 1) -> dict[str, object]:
    return {"event": "certificate_issued",
            "data": {"order_id": order_id, "certificate_id": certificate_id}}  # fmt: skip


def status_changes_asked(fake: FakeCertCentral) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/status-changes"))


async def test_a_push_wakes_the_poll_and_reads_that_order() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with fake_and_client() as (fake, client), serving(receiver) as post:
        ids = [fake.add_order("pending") for _ in range(3)]
        updates: list[dc.OrderUpdate] = []
        poll = dc.poll_orders(
            client, ids, until="issued", interval=HOUR, deadline=60, events=receiver
        )
        async for update in poll:
            updates.append(update)
            if update.previous_status is None and len(updates) == 3:  # the first look is done
                fake.clear_requests()
                for order_id in ids:
                    fake.set_status(order_id, "issued")
                    assert await post(issued(order_id)) == 200
        assert [(u.order_id, u.status) for u in updates[3:]] == [(i, "issued") for i in ids]
        # woken by the pushes: the orders were read, and no interval look was made
        assert status_changes_asked(fake) == 0
        reads = [r.path for r in fake.requests if r.method == "GET"]
        assert sorted(reads) == sorted(f"/services/v2/order/certificate/{i}" for i in ids)


async def test_lost_pushes_leave_the_interval_polling_unchanged() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)  # mounted, but nothing is ever pushed
    async with fake_and_client() as (fake, client), serving(receiver):
        ids = [fake.add_order("pending") for _ in range(4)]
        updates = []
        async for update in dc.poll_orders(
            client, ids, until="issued", interval=0.05, deadline=30, events=receiver
        ):
            updates.append(update)
            if update.previous_status is None and len(updates) == 4:
                for order_id in ids:
                    fake.set_status(order_id, "issued")
        assert sorted(u.order_id for u in updates if u.status == "issued") == ids
        assert status_changes_asked(fake) >= 1  # found by the interval's look


async def test_pushes_never_hold_back_the_interval_look() -> None:
    # Pushes about an order that does not move keep coming; the other order moves without
    # any push. The interval's look must still find it.
    receiver = dc.WebhookReceiver(secret=SECRET, duplicate_window=0.0)
    async with fake_and_client() as (fake, client), serving(receiver) as post:
        chatty, silent = fake.add_order("pending"), fake.add_order("pending")
        stop = asyncio.Event()

        async def keep_pushing() -> None:
            while not stop.is_set():
                await post({"event": "certificate_revoked", "data": {"order_id": chatty}})
                await asyncio.sleep(0.005)

        pusher = asyncio.ensure_future(keep_pushing())
        updates = []
        try:
            async for update in dc.poll_orders(
                client, [chatty, silent], until="issued", interval=0.2, deadline=30,
                events=receiver,
            ):  # fmt: skip
                updates.append(update)
                if len(updates) == 2:
                    fake.set_status(silent, "issued")
                    fake.set_status(chatty, "issued")
        finally:
            stop.set()
            await pusher
        assert {(u.order_id, u.status) for u in updates[2:]} == {
            (silent, "issued"), (chatty, "issued"),
        }  # fmt: skip


async def test_repeated_pushes_change_nothing() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET, duplicate_window=0.0)  # let repeats through
    async with fake_and_client() as (fake, client), serving(receiver) as post:
        order_id = fake.add_order("pending")
        other = fake.add_order("pending")
        updates = []
        async for update in dc.poll_orders(
            client, [order_id, other], until="issued", interval=HOUR, deadline=60, events=receiver
        ):
            updates.append(update)
            if len(updates) == 2:
                fake.set_status(order_id, "issued")
                for _ in range(3):
                    assert await post(issued(order_id)) == 200
                # a push for an order already finished, and one for an order not watched
                fake.set_status(other, "issued")
                assert await post(issued(other)) == 200
                assert await post(issued(999_999)) == 200
        assert [(u.order_id, u.status) for u in updates[2:]] == [
            (order_id, "issued"), (other, "issued"),
        ]  # fmt: skip
        reads = [r for r in fake.requests if r.path.endswith(f"/order/certificate/{order_id}")]
        assert len(reads) <= 3  # the repeats were read at most once more, never reported
        assert not any(r.path.endswith("/999999") for r in fake.requests)


async def test_one_receiver_feeds_two_polls() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with fake_and_client() as (fake, client), serving(receiver) as post:
        first, second = fake.add_order("pending"), fake.add_order("pending")
        started = asyncio.Event()
        ready: list[int] = []

        async def watch(order_id: int) -> list[dc.OrderUpdate]:
            seen = []
            async for update in dc.poll_orders(
                client, [order_id], until="issued", interval=HOUR, deadline=60, events=receiver
            ):
                seen.append(update)
                ready.append(order_id)
                if len(ready) == 2:
                    started.set()
            return seen

        polls = asyncio.gather(watch(first), watch(second))
        await started.wait()
        for order_id in (first, second):
            fake.set_status(order_id, "issued")
        assert await post(issued(first)) == 200
        assert await post(issued(second)) == 200
        one, two = await polls
        assert [u.status for u in one] == ["pending", "issued"]
        assert [u.status for u in two] == ["pending", "issued"]


async def test_a_closed_receiver_leaves_the_poll_polling() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with fake_and_client() as (fake, client):
        order_id = fake.add_order("pending")
        updates = []
        async for update in dc.poll_orders(
            client, [order_id], until="issued", interval=0.05, deadline=30, events=receiver
        ):
            updates.append(update)
            if len(updates) == 1:
                await receiver.close()
                fake.set_status(order_id, "issued")
        assert [u.status for u in updates] == ["pending", "issued"]


async def test_the_poll_lets_go_of_the_receiver() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with fake_and_client() as (fake, client):
        order_id = fake.add_order("issued")
        assert [u.status async for u in dc.poll_orders(client, [order_id], events=receiver)] == [
            "issued"
        ]
    assert receiver._streams == set()


async def test_events_must_be_a_receiver() -> None:
    async with fake_and_client() as (fake, client):
        with pytest.raises(dc.ValidationError) as caught:
            async for _ in dc.poll_orders(client, [1], events="receiver"):  # type: ignore[arg-type]
                pass
        assert caught.value.field == "events"
        assert fake.requests_received == 0


async def test_the_wait_takes_every_queued_push_and_outlives_its_receiver() -> None:
    from digicert_async.bulk._push import IntervalWait

    receiver = dc.WebhookReceiver(secret=SECRET)
    wait = IntervalWait(HOUR, receiver)
    async with serving(receiver) as post:
        for order_id in (1, 2, 3, 4):
            assert await post(issued(order_id)) == 200
        # the first push and those queued behind it, watched ones only
        assert await wait.wait(lambda order_id: order_id != 3) == {1, 2, 4}
        assert await post(issued(5)) == 200
    # the receiver closed after that push: it is taken, then the wait is the interval alone
    assert await wait.wait(lambda order_id: True) == {5}
    short = IntervalWait(0.01, None)
    assert await short.wait(lambda order_id: True) == set()
    wait.close()


async def test_many_interval_looks_with_a_quiet_receiver() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with fake_and_client() as (fake, client), serving(receiver):
        ids = [fake.add_order("pending") for _ in range(3)]
        updates: list[dc.OrderUpdate] = []
        async for update in dc.poll_orders(
            client, ids, until="issued", interval=0.05, deadline=30, events=receiver
        ):
            updates.append(update)
            moved = [u.order_id for u in updates if u.status == "issued"]
            if len(updates) >= 3 and len(moved) < len(ids):
                fake.set_status(ids[len(moved)], "issued")  # one more per look
        assert [u.order_id for u in updates if u.status == "issued"] == ids
        assert status_changes_asked(fake) >= 3
