"""The bulk jobs' details that mutation testing found unchecked.

Against FakeCertCentral over loopback: what an order that turns unreadable is
reported as and that it is read no more once given up on, that a read that failed
and then found nothing is not repeated, what a job stopped before sending anything
reports, and how the counts print.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault

Outcome = dc.CancelOutcome


@pytest.fixture
async def fake() -> AsyncIterator[FakeCertCentral]:
    async with FakeCertCentral(rate_limits=None, seed=3) as server:
        yield server


def _client(fake: FakeCertCentral, **options: object) -> dc.CertCentralClient:
    settings: dict[str, object] = {
        "rate_limit": dc.RateLimit.disabled(),
        "retry": dc.RetryPolicy.disabled(),
        "timeout": 5.0,
    }
    settings.update(options)
    return dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url, **settings)  # type: ignore[arg-type]


def _reads_of(fake: FakeCertCentral, order_id: int) -> int:
    return sum(1 for r in fake.requests if r.path.endswith(f"/order/certificate/{order_id}"))


async def test_an_order_seen_then_unreadable_keeps_its_status_and_is_given_up_for_good(
    fake: FakeCertCentral,
) -> None:
    odd = fake.add_order("pending")
    other = fake.add_order("pending")
    updates: list[dc.OrderUpdate] = []
    async with _client(fake) as client:
        async for update in dc.poll_orders(
            client, [odd, other], until="issued", interval=0.02, deadline=10
        ):
            updates.append(update)
            if update.order_id == odd and update.previous_status is None:
                # it moves, and its answer stops decoding: it is read, and fails
                fake.update_order(odd, validity_years="one")
                fake.set_status(odd, "waiting_pickup")
            failures = [u for u in updates if u.error is not None]
            if len(failures) == dc.bulk.UNREADABLE_LOOKS and update.error is not None:
                # given up on; the next look reads the other order, and only it
                fake.set_status(other, "issued")
    failed = [u for u in updates if u.error is not None]
    assert [(u.order_id, u.status, u.previous_status, u.order) for u in failed] == [
        (odd, "pending", "pending", None)
    ] * dc.bulk.UNREADABLE_LOOKS
    assert all(isinstance(u.error, dc.ResponseError) for u in failed)
    assert _reads_of(fake, odd) == dc.bulk.UNREADABLE_LOOKS
    assert (updates[-1].order_id, updates[-1].status) == (other, "issued")


async def test_a_read_that_failed_and_then_found_nothing_is_not_repeated(
    fake: FakeCertCentral,
) -> None:
    missing = 900_000_123
    other = fake.add_order("pending")
    fake.inject(Fault.BAD_GATEWAY, path_contains=f"/order/certificate/{missing}")
    updates: list[dc.OrderUpdate] = []
    async with _client(fake) as client:
        async for update in dc.poll_orders(
            client, [missing, other], until="issued", interval=0.02, deadline=10
        ):
            updates.append(update)
            if update.order_id == missing:
                fake.set_status(other, "issued")
    assert [(u.order_id, u.status) for u in updates if u.order_id == missing] == [
        (missing, dc.bulk.NOT_FOUND_STATUS)
    ]
    # the 502, then the 404; the look that finds the other order issued reads only it
    assert _reads_of(fake, missing) == 2
    assert (updates[-1].order_id, updates[-1].status) == (other, "issued")


async def test_a_job_on_a_closed_client_sends_nothing_and_says_so(
    fake: FakeCertCentral,
) -> None:
    ids = [fake.add_order("pending") for _ in range(3)]
    client = _client(fake)
    await client.close()
    report = await dc.cancel_orders(client, ids, note="x", concurrency=1)
    assert [(r.order_id, r.outcome) for r in report.results] == [
        (i, Outcome.NOT_ATTEMPTED) for i in ids
    ]
    assert isinstance(report.stopped_by, dc.ClientClosedError)
    assert fake.requests == []


async def test_an_order_whose_cancel_stopped_the_job_carries_the_error(
    fake: FakeCertCentral,
) -> None:
    ids = [fake.add_order("pending") for _ in range(3)]
    async with dc.CertCentralClient(
        api_key="not-the-key", base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
    ) as client:
        report = await dc.cancel_orders(client, ids, note="x", concurrency=1)
    first, *rest = report.results
    assert (first.order_id, first.outcome) == (ids[0], Outcome.FAILED)
    assert first.error is report.stopped_by
    assert isinstance(first.error, (dc.AuthenticationError, dc.PermissionDeniedError))
    assert [(r.order_id, r.outcome) for r in rest] == [(i, Outcome.NOT_ATTEMPTED) for i in ids[1:]]


def test_outcome_counts_print_as_a_dict_of_values() -> None:
    report = dc.CancelReport(
        [dc.CancelResult(1, Outcome.CANCELED), dc.CancelResult(2, Outcome.NOT_FOUND)]
    )
    assert repr(report.counts) == (
        "{'canceled': 1, 'already_canceled': 0, 'not_cancelable': 0, 'not_found': 1,"
        " 'failed': 0, 'not_attempted': 0}"
    )
    assert str(report.counts) == repr(report.counts)
