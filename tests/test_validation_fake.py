"""Organizations, domains and DCV against FakeCertCentral over loopback: the fake's
validation states and DNS, and the library's calls, instructions and driver on them."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault

from .test_bulk import client_for

CONTACT = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
           "telephone": "801-555-0101"}  # fmt: skip
ORGANIZATION = {"name": "Example Inc.", "address": "1 Main St", "city": "Lehi", "state": "ut",
                "zip": "84043", "country": "us", "telephone": "801-555-0100",
                "organization_contact": CONTACT}  # fmt: skip


def clock_of(fake: FakeCertCentral) -> tuple[list[float], Callable[[float], Awaitable[None]]]:
    """A sleep that moves the fake's lifecycle clock instead of waiting, and the waits."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        fake.advance(seconds)
        await asyncio.sleep(0)

    return waits, sleep


def sent(fake: FakeCertCentral, method: str, ending: str) -> int:
    return sum(1 for r in fake.requests if r.method == method and r.path.endswith(ending))


# --------------------------------------------------------------------------- organizations


async def test_an_organization_created_is_read_listed_and_submitted() -> None:
    async with FakeCertCentral() as fake, client_for(fake) as client:
        created = await client.organizations.create(ORGANIZATION)
        org = await client.organizations.get(created.id)
        assert (org.name, org.country, org.zip) == ("Example Inc.", "us", "84043")
        assert org.organization_contact is not None
        assert org.organization_contact.email == "ada@example.com"
        assert created.id in [o.id async for o in client.organizations.list(page_size=1)]
        await client.organizations.submit_for_validation(created.id, ["ov", "ev"])
        validations = await client.organizations.validations(created.id)
        assert [(v.type, v.status) for v in validations] == [("ov", "pending"), ("ev", "pending")]
        with pytest.raises(dc.NotFoundError):
            await client.organizations.get(999)


async def test_the_fake_refuses_an_organization_without_its_contact() -> None:
    async with FakeCertCentral() as fake:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{fake.base_url}/organization",
                json={**ORGANIZATION, "organization_contact": {"first_name": "Ada"}},
                headers={"X-DC-DEVKEY": fake.api_key},
            ) as answer:
                assert answer.status == 400
                codes = [e["code"] for e in (await answer.json())["errors"]]
        assert "required_param:organization_contact.email" in codes


# --------------------------------------------------------------------------- domains


async def test_a_domain_is_added_validated_by_its_token_and_goes_stale() -> None:
    async with FakeCertCentral(validation_reuse=100 * 86400) as fake, client_for(fake) as client:
        org_id = fake.add_organization("Example Inc.")
        created = await client.domains.create({
            "name": "example.com", "organization": {"id": org_id},
            "validations": [{"type": "ov"}], "dcv_method": "dns-txt-token",
        })  # fmt: skip
        assert created.dcv_token is not None and created.dcv_token.token
        assert (await client.domains.check_dcv(created.id)).status == "pending"
        instructions = await dc.dcv_instructions(client, domain_id=created.id)
        (record,) = instructions.records
        assert (record.type, record.name, record.value) == (
            "TXT",
            "example.com",
            created.dcv_token.token,
        )
        assert sent(fake, "PUT", "/dcv/method") == 0  # already on the method: its token
        await fake.dns.publish(record)
        assert (await client.domains.check_dcv(created.id)).status == "active"
        domain = await client.domains.get(created.id, include_validation=True)
        today = datetime.now(timezone.utc).date()
        assert domain.validation_expires() in (
            today + timedelta(days=100),
            today + timedelta(days=99),
        )
        assert [v.status for v in domain.validations or []] == ["active"]
        assert fake.domain_valid("www.example.com")
        fake.advance(100 * 86400)
        assert not fake.domain_valid("example.com")


async def test_domains_list_filters_and_activation() -> None:
    async with FakeCertCentral() as fake, client_for(fake) as client:
        first = fake.add_domain("a.example")
        second = fake.add_domain("b.example", validated=False)
        await client.domains.deactivate(second)
        active = [d.name async for d in client.domains.list(status="active")]
        inactive = [d.name async for d in client.domains.list(status="inactive")]
        assert (active, inactive) == (["a.example"], ["b.example"])
        await client.domains.activate(second)
        names = [d.name async for d in client.domains.list(filters={"search": "b.ex"})]
        assert names == ["b.example"]
        assert [d.id async for d in client.domains.list(page_size=1)] == [first, second]


async def test_changing_a_domains_method_gives_a_new_token() -> None:
    async with FakeCertCentral() as fake, client_for(fake) as client:
        domain_id = fake.add_domain("example.net", validated=False, method="email")
        instructions = await dc.dcv_instructions(
            client, domain_id=domain_id, method="dns-cname-token"
        )
        (record,) = instructions.records
        assert record.type == "CNAME" and record.value == "dcv.digicert.com"
        assert record.name == f"{instructions.token}.example.net"
        assert sent(fake, "PUT", "/dcv/method") == 1
        assert await client.domains.change_dcv_method(domain_id, "email") is None


# --------------------------------------------------------------------------- order DCV


async def test_an_order_held_for_dcv_is_issued_once_its_records_are_found() -> None:
    async with (
        FakeCertCentral(dcv_required=True, issue_after=60) as fake,
        client_for(fake) as client,
    ):
        order_id = fake.add_order("pending", common_name="example.com",
                                  dns_names=["example.com", "*.shop.example.org"])  # fmt: skip
        fake.advance(120)
        assert (await client.orders.get(order_id)).status == "pending"  # held for DCV
        check = await client.orders.check_dcv(order_id)
        assert check.dcv_status == "pending"
        assert check.pending_names() == ["example.com", "shop.example.org"]
        instructions = await dc.dcv_instructions(client, order_id=order_id)
        for record in instructions.records:
            await fake.dns.publish(record)
        assert (await client.orders.check_dcv(order_id)).dcv_status == "valid"
        fake.advance(60)
        assert (await client.orders.get(order_id)).status == "issued"


async def test_the_random_value_stays_until_the_method_changes() -> None:
    async with FakeCertCentral() as fake, client_for(fake) as client:
        order_id = fake.add_order("pending")
        first = await client.orders.dcv_random_value(order_id)
        assert (await client.orders.dcv_random_value(order_id)) == first
        changed = await client.orders.change_dcv_method(order_id, "http-token")
        assert changed is not None and changed.dcv_random_value != first.dcv_random_value
        assert await client.orders.change_dcv_method(order_id, "email") is None
        await client.orders.resend_dcv_emails(order_id)
        assert fake.order_dcv_emails(order_id) == 1


async def test_without_the_option_orders_issue_as_before() -> None:
    async with FakeCertCentral(issue_after=60) as fake, client_for(fake) as client:
        order_id = fake.add_order("pending")
        fake.advance(60)
        assert (await client.orders.get(order_id)).status == "issued"


# --------------------------------------------------------------------------- the driver


async def test_the_driver_publishes_checks_and_removes_what_it_published() -> None:
    async with FakeCertCentral(dcv_required=True, issue_after=0, dns_propagation=50) as fake:
        async with client_for(fake) as client:
            order_id = fake.add_order("pending", dns_names=["example.com", "www.example.com"])
            waits, sleep = clock_of(fake)
            driver = dc.DcvDriver(
                publish=fake.dns.publish,
                unpublish=fake.dns.unpublish,
                sleep=sleep,
                schedule=dc.CheckSchedule(first=10, interval=20, cap=40),
            )
            run = await driver.validate_order(client, order_id)
            assert run.outcome is dc.DcvOutcome.VALIDATED
            assert [r.name for r in run.records] == ["example.com", "www.example.com"]
            # checked too early (10 s, then 20 s, under the 50 s propagation): answers,
            # waited on; the third check, at 70 s, finds them
            assert waits == [10, 20, 40] and run.checks == 3
            assert sent(fake, "PUT", "/check-dcv") == 3
            assert sent(fake, "PUT", "/dcv-method") == 1  # the token, once
            assert sent(fake, "PUT", "/dcv-random-value") == 0
            assert fake.dns.records() == []  # removed
            assert fake.dns.removed_count == 2
            assert (await client.orders.get(order_id)).status == "issued"


async def test_a_driver_that_times_out_still_removes_its_records() -> None:
    async with FakeCertCentral(dcv_required=True) as fake, client_for(fake) as client:
        order_id = fake.add_order("pending")

        async def publish_elsewhere(record: dc.DcvRecord) -> None:
            fake.dns.put("TXT", "elsewhere.example", record.value)  # not where DigiCert looks

        async def unpublish(record: dc.DcvRecord) -> None:
            fake.dns.remove("TXT", "elsewhere.example", record.value)

        waits, sleep = clock_of(fake)
        driver = dc.DcvDriver(publish=publish_elsewhere, unpublish=unpublish, timeout=300,
                              sleep=sleep)  # fmt: skip
        run = await driver.validate_order(client, order_id)
        assert run.outcome is dc.DcvOutcome.TIMED_OUT
        assert sum(waits) <= 300 and all(w >= 5 for w in waits)
        assert fake.dns.records() == []


async def test_a_failing_publish_is_a_failed_run_and_the_rest_is_removed() -> None:
    async with FakeCertCentral(dcv_required=True) as fake, client_for(fake) as client:
        order_id = fake.add_order(
            "pending", common_name="a.example", dns_names=["a.example", "b.example"]
        )
        calls: list[str] = []

        async def publish(record: dc.DcvRecord) -> None:
            calls.append(record.name)
            if record.name == "b.example":
                raise OSError("zone locked")
            await fake.dns.publish(record)

        _, sleep = clock_of(fake)
        driver = dc.DcvDriver(publish=publish, unpublish=fake.dns.unpublish, sleep=sleep)
        with pytest.raises(OSError, match="zone locked"):
            await driver.validate_order(client, order_id)
        assert calls == ["a.example", "b.example"] and fake.dns.records() == []


# --------------------------------------------------------------------------- the job


async def test_validate_domains_reports_every_input_once_under_faults() -> None:
    async with FakeCertCentral(dcv_required=True, issue_after=0, seed=7) as fake:
        async with client_for(fake) as client:
            orders = [fake.add_order("pending", common_name=f"h{i}.example.com") for i in range(6)]
            fake.add_domain("pending.example", validated=False)
            fake.inject(Fault.INTERNAL_ERROR, times=3, method="PUT", path_contains="check-dcv")
            fake.inject(Fault.RESET_AFTER, times=2, method="PUT", path_contains="/dcv-method")
            _, sleep = clock_of(fake)
            driver = dc.DcvDriver(publish=fake.dns.publish, unpublish=fake.dns.unpublish,
                                  sleep=sleep)  # fmt: skip
            inputs = [*orders, "pending.example", "missing.example", orders[0], 999_999]
            report = await dc.validate_domains(client, inputs, driver=driver, concurrency=4)
            assert [r.target for r in report.results] == [*orders, "pending.example",
                                                          "missing.example", 999_999]  # fmt: skip
            outcomes = {r.target: r.outcome for r in report.results}
            assert all(outcomes[o] is dc.ValidateOutcome.VALIDATED for o in orders)
            assert outcomes["pending.example"] is dc.ValidateOutcome.VALIDATED
            assert outcomes["missing.example"] is dc.ValidateOutcome.NOT_FOUND
            assert outcomes[999_999] is dc.ValidateOutcome.NOT_FOUND
            assert report.duplicates == {orders[0]: 1}
            assert report.counts[dc.ValidateOutcome.VALIDATED] == 7
            assert report.resume_targets() == []
            assert fake.dns.records() == []
            # a token asked for once per input, never again without need
            per_order = Counter(
                r.path.split("/")[-2] for r in fake.requests if r.path.endswith("/dcv-method")
            )
            assert {int(i) for i in per_order} == {*orders, 999_999}
            assert max(per_order.values()) <= 2  # at most once more, after a lost answer
            assert sent(fake, "PUT", "/dcv-random-value") == 0
            for order_id in orders:
                assert (await client.orders.get(order_id)).status == "issued"


async def test_a_validation_job_cut_by_its_deadline_accounts_for_every_input() -> None:
    async with FakeCertCentral(dcv_required=True) as fake, client_for(fake) as client:
        orders = [fake.add_order("pending", common_name=f"h{i}.example.com") for i in range(4)]

        async def never(record: dc.DcvRecord) -> None:
            await asyncio.sleep(3600)

        job = dc.validate_domains(client, orders, publish=never, concurrency=2, deadline=0.3)
        report = await job
        assert [r.target for r in report.results] == orders
        assert Counter(r.outcome for r in report.results) == {
            dc.ValidateOutcome.FAILED: 2, dc.ValidateOutcome.NOT_ATTEMPTED: 2
        }  # fmt: skip
        assert report.resume_targets() == orders


# --------------------------------------------------------------------------- the fleet


async def test_a_fleet_reissue_with_dcv_revalidates_stale_domains_and_finishes() -> None:
    from .test_fleet import CSR

    reuse = 100 * 86400
    async with FakeCertCentral(dcv_required=True, validation_reuse=reuse, issue_after=60) as fake:
        async with client_for(fake) as client:
            fresh = fake.add_order("issued", common_name="fresh.example")
            stale = [fake.add_order("issued", common_name=f"h{i}.stale.example") for i in range(3)]
            fake.add_domain("stale.example")
            fake.advance(reuse)  # stale.example's validation is no longer reusable
            fake.add_domain("fresh.example")
            _, sleep = clock_of(fake)
            driver = dc.DcvDriver(
                publish=fake.dns.publish, unpublish=fake.dns.unpublish, sleep=sleep
            )
            report = await dc.reissue_orders(
                client, dict.fromkeys([fresh, *stale], CSR), dcv=driver
            )
            results = {r.order_id: r for r in report.results}
            assert all(r.outcome is dc.ReissueOutcome.REISSUED for r in report.results)
            assert results[fresh].dcv is None  # its validation was still good: one check only
            for order_id in stale:
                run = results[order_id].dcv
                assert run is not None and run.outcome is dc.DcvOutcome.VALIDATED
                assert results[order_id].to_json()["dcv"] == "validated"
            assert fake.dns.records() == []
            fake.advance(60)
            for order_id in [fresh, *stale]:
                assert (await client.orders.get(order_id)).status == "issued"


async def test_a_fleet_reissue_without_dcv_leaves_stale_orders_pending() -> None:
    from .test_fleet import CSR

    async with FakeCertCentral(dcv_required=True, validation_reuse=10, issue_after=60) as fake:
        async with client_for(fake) as client:
            order_id = fake.add_order("issued", common_name="h.stale.example")
            fake.add_domain("stale.example")
            fake.advance(10)
            report = await dc.reissue_orders(client, {order_id: CSR})
            assert report.results[0].dcv is None
            fake.advance(600)
            assert (await client.orders.get(order_id)).status == "reissue_pending"


async def test_poll_with_dcv_validates_pending_orders_until_issued() -> None:
    async with FakeCertCentral(dcv_required=True, issue_after=0) as fake:
        async with client_for(fake) as client:
            orders = [fake.add_order("pending", common_name=f"p{i}.example.net") for i in range(3)]
            done = fake.add_order("pending", common_name="ok.example.org")
            fake.add_domain("example.org")
            _, sleep = clock_of(fake)
            driver = dc.DcvDriver(
                publish=fake.dns.publish, unpublish=fake.dns.unpublish, sleep=sleep
            )
            seen: dict[int, str | None] = {}
            async for update in dc.poll_orders(
                client, [*orders, done], until="issued", interval=0.05, deadline=20, dcv=driver
            ):
                seen[update.order_id] = update.status
            assert seen == dict.fromkeys([*orders, done], "issued")
            assert fake.dns.records() == []
            assert sent(fake, "PUT", "/dcv-method") == 3  # not for the order already valid


async def test_poll_and_reissue_refuse_what_is_not_a_driver() -> None:
    async with FakeCertCentral() as fake, client_for(fake) as client:
        with pytest.raises(dc.ValidationError, match="dcv"):
            async for _ in dc.poll_orders(client, [1], dcv="publish.sh"):  # type: ignore[arg-type]
                pass
        with pytest.raises(dc.ValidationError, match="dcv"):
            dc.reissue_orders(client, {}, dcv=object())  # type: ignore[arg-type]
        assert fake.requests == []


async def test_a_validation_job_streams_each_result_once() -> None:
    async with FakeCertCentral(dcv_required=True) as fake, client_for(fake) as client:
        orders = [fake.add_order("pending", common_name=f"s{i}.example.com") for i in range(3)]
        fake.add_domain("named.example", validated=False)
        _, sleep = clock_of(fake)
        driver = dc.DcvDriver(publish=fake.dns.publish, unpublish=fake.dns.unpublish, sleep=sleep)
        job = dc.validate_domains(client, [*orders, "Named.Example."], driver=driver)
        streamed = [result async for result in job]
        assert sorted(map(str, (r.target for r in streamed))) == sorted(
            [*map(str, orders), "named.example"]
        )
        assert {r.kind for r in streamed} == {"order", "domain"}
        assert all(r.outcome is dc.ValidateOutcome.VALIDATED and r.checks == 1 for r in streamed)
        line = next(r for r in streamed if r.kind == "domain").to_json()
        assert line == {"target": "named.example", "kind": "domain", "outcome": "validated",
                        "checks": 1}  # fmt: skip
        assert job.report.counts[dc.ValidateOutcome.VALIDATED] == 4
