"""``validate_domains(..., events=receiver)`` against FakeCertCentral over loopback: a pushed
``domain_validated`` brings a run's check forward, lost pushes leave the schedule to end
it, repeated pushes cost one check at most, and only a receiver is taken."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

from .test_fake_webhooks import listening
from .test_webhook_receiver import SECRET

HOUR = 3600.0  # a first check no test waits out: only a push can bring it forward
PROPAGATION = 60.0  # lifecycle seconds before the fake's DNS shows a record
EVERY_FIVE = dc.CheckSchedule(first=5, interval=5, factor=1)


@asynccontextmanager
async def fake_and_client(
    **options: object,
) -> AsyncIterator[tuple[FakeCertCentral, dc.CertCentralClient]]:
    async with FakeCertCentral(rate_limits=None, **options) as fake:  # type: ignore[arg-type]
        async with dc.CertCentralClient(
            api_key=fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
        ) as client:
            yield fake, client


def checks_asked(fake: FakeCertCentral) -> int:
    endings = ("/check-dcv", "/dcv/validate-token")  # an order's check, a domain's
    return sum(1 for r in fake.requests if r.method == "PUT" and r.path.endswith(endings))


async def until(condition: Callable[[], bool]) -> None:
    """Waits for ``condition`` (a guard of 60 s against a hang, not a timing)."""
    for _ in range(6000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never came")


def clock_sleep(fake: FakeCertCentral) -> Callable[[float], Awaitable[None]]:
    """Waits out the schedule on the fake's lifecycle clock (nothing is waited for real)."""

    async def sleep(seconds: float) -> None:
        fake.advance(seconds)
        await asyncio.sleep(0)

    return sleep


def digicert_finds_it(
    fake: FakeCertCentral, domain_name: str, *, push: bool = True
) -> Callable[[dc.DcvRecord], Awaitable[None]]:
    """A publish after which the record propagates and DigiCert, on its own look, pushes
    ``domain_validated`` (as the fake does not model DigiCert's own looks)."""

    async def publish(record: dc.DcvRecord) -> None:
        await fake.dns.publish(record)
        if push:
            fake.advance(PROPAGATION)
            assert fake.webhooks.push("domain_validated", {"domain_name": domain_name})

    return publish


async def test_a_push_brings_the_check_forward() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with (
        fake_and_client(dns_propagation=PROPAGATION) as (fake, client),
        listening(receiver) as url,
    ):
        fake.webhooks.register(url, SECRET, ["domain_validated"])
        fake.add_domain("example.com", validated=False)
        order_id = fake.add_order("pending", common_name="shop.example.net")
        publish = {
            "example.com": digicert_finds_it(fake, "example.com"),
            "shop.example.net": digicert_finds_it(fake, "example.net"),  # an order's name
        }

        async def publish_either(record: dc.DcvRecord) -> None:
            await publish[record.name](record)

        job = dc.validate_domains(
            client, ["example.com", order_id], publish=publish_either, unpublish=fake.dns.unpublish,
            schedule=dc.CheckSchedule(first=HOUR), events=receiver,
        )  # fmt: skip
        report = await asyncio.wait_for(job, 60)  # a guard against a hang, not a timing
        assert [(r.outcome, r.checks) for r in report.results] == [
            (dc.ValidateOutcome.VALIDATED, 1), (dc.ValidateOutcome.VALIDATED, 1),
        ]  # fmt: skip
        assert checks_asked(fake) == 2 and fake.dns.records() == []
        assert receiver.counts["accepted"] == 2


async def test_with_pushes_the_job_asks_fewer_checks_than_on_the_schedule_alone() -> None:
    async def checks_made(pushes: bool) -> int:
        receiver = dc.WebhookReceiver(secret=SECRET)
        async with (
            fake_and_client(dns_propagation=PROPAGATION) as (fake, client),
            listening(receiver) as url,
        ):
            fake.webhooks.register(url, SECRET, ["domain_validated"])
            fake.add_domain("example.com", validated=False)
            publish = digicert_finds_it(fake, "example.com", push=pushes)
            # pushed: the schedule really waits (5 s, never reached); not: the fake's clock
            sleep = asyncio.sleep if pushes else clock_sleep(fake)
            driver = dc.DcvDriver(publish=publish, schedule=EVERY_FIVE, sleep=sleep)
            job = dc.validate_domains(client, ["example.com"], driver=driver, events=receiver)
            report = await asyncio.wait_for(job, 60)
            assert report.counts["validated"] == 1
            assert report.results[0].checks == checks_asked(fake)
            return checks_asked(fake)

    with_pushes, schedule_alone = await checks_made(True), await checks_made(False)
    assert with_pushes == 1
    assert schedule_alone == PROPAGATION / 5  # a check every 5 s until the record shows


async def test_with_every_push_lost_the_schedule_still_ends_each_input() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with (
        fake_and_client(dns_propagation=PROPAGATION, dcv_required=True) as (fake, client),
        listening(receiver) as url,
    ):
        wrong = "a-wrong-secret-that-the-receiver-refuses"
        fake.webhooks.register(url, wrong, ["domain_validated"])
        fake.add_domain("example.com", validated=False)
        fake.add_domain("never.example", validated=False)
        order_id = fake.add_order("pending", common_name="shop.example.net")

        async def publish(record: dc.DcvRecord) -> None:
            if record.name != "never.example":
                await digicert_finds_it(fake, record.name)(record)

        driver = dc.DcvDriver(
            publish=publish, unpublish=fake.dns.unpublish, schedule=EVERY_FIVE,
            timeout=PROPAGATION * 3, sleep=clock_sleep(fake),
        )  # fmt: skip
        inputs = ["example.com", "never.example", order_id]
        job = dc.validate_domains(client, inputs, driver=driver, events=receiver, concurrency=1)
        report = await asyncio.wait_for(job, 60)
        assert [r.outcome for r in report.results] == [
            dc.ValidateOutcome.VALIDATED, dc.ValidateOutcome.TIMED_OUT,
            dc.ValidateOutcome.VALIDATED,
        ]  # fmt: skip
        await fake.webhooks.settle()
        assert receiver.counts["accepted"] == 0 and receiver.counts["unauthorized"] >= 2
        assert fake.dns.records() == []


async def test_repeated_pushes_cost_one_check_at_most() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET, duplicate_window=0.0)  # let repeats through
    async with (
        fake_and_client(dns_propagation=PROPAGATION) as (fake, client),
        listening(receiver) as url,
    ):
        fake.webhooks.register(url, SECRET, ["domain_validated"])
        domain_id = fake.add_domain("example.com", validated=False)
        checked = asyncio.Event()

        async def publish(record: dc.DcvRecord) -> None:
            await fake.dns.publish(record)  # not shown yet: a check now fails
            for _ in range(3):  # an early push, then its repeats
                assert fake.webhooks.push("domain_validated", {"domain_id": domain_id})

        async def sleep(seconds: float) -> None:
            await checked.wait()  # the schedule's first wait ends once the test says so
            fake.advance(PROPAGATION)

        driver = dc.DcvDriver(publish=publish, schedule=dc.CheckSchedule(first=HOUR), sleep=sleep)
        job = asyncio.ensure_future(
            dc.validate_domains(client, ["example.com"], driver=driver, events=receiver)
        )
        await fake.webhooks.settle()
        await until(lambda: checks_asked(fake) == 1)  # pushed: it failed, the record not shown
        await fake.webhooks.settle()
        for _ in range(20):  # the repeats are in: they bring no further check forward
            await asyncio.sleep(0)
        assert receiver.counts["accepted"] == 3 and checks_asked(fake) == 1
        checked.set()
        report = await asyncio.wait_for(job, 60)
        # the schedule's check passes: one check more than without the pushes, not three
        assert [(r.outcome, r.checks) for r in report.results] == [
            (dc.ValidateOutcome.VALIDATED, 2)
        ]
        assert checks_asked(fake) == 2


async def test_a_push_about_another_domain_wakes_nothing() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with fake_and_client() as (fake, client), listening(receiver) as url:
        fake.webhooks.register(url, SECRET, ["domain_validated", "domain_expired"])
        domain_id = fake.add_domain("example.com", validated=False)
        released = asyncio.Event()

        async def publish(record: dc.DcvRecord) -> None:
            await fake.dns.publish(record)
            fake.webhooks.push("domain_validated", {"domain_name": "notexample.com"})
            fake.webhooks.push("domain_validated", {"domain_id": domain_id + 1})
            fake.webhooks.push("domain_expired", {"domain_id": domain_id})

        async def sleep(seconds: float) -> None:
            await released.wait()

        driver = dc.DcvDriver(publish=publish, schedule=dc.CheckSchedule(first=HOUR), sleep=sleep)
        job = asyncio.ensure_future(
            dc.validate_domains(client, ["example.com"], driver=driver, events=receiver)
        )
        await until(lambda: receiver.counts["accepted"] == 3)
        for _ in range(20):
            await asyncio.sleep(0)
        assert checks_asked(fake) == 0 and not job.done()
        released.set()
        report = await asyncio.wait_for(job, 60)
        assert report.results[0].checks == 1


async def test_events_must_be_a_receiver_before_anything_is_sent() -> None:
    async with fake_and_client() as (fake, client):
        with pytest.raises(dc.ValidationError) as refused:
            dc.validate_domains(
                client,
                ["example.com"],
                publish=fake.dns.publish,
                events=object(),  # type: ignore[arg-type]
            )
        assert refused.value.field == "events"
        assert fake.requests == []


async def test_the_job_lets_go_of_the_receiver() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with fake_and_client() as (fake, client):
        fake.add_domain("example.com", validated=False)
        driver = dc.DcvDriver(publish=fake.dns.publish, sleep=clock_sleep(fake))
        job = dc.validate_domains(client, ["example.com"], driver=driver, events=receiver)
        assert len(receiver._streams) == 1  # subscribed before anything is sent
        results = [result async for result in job]
        assert [r.outcome for r in results] == [dc.ValidateOutcome.VALIDATED]
        assert receiver._streams == set()
