"""Bulk cancellation and polling against FakeCertCentral: every order accounted for."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault

from ._served import served

Outcome = dc.CancelOutcome
EXPECTED = {
    "pending": Outcome.CANCELED,
    "waiting_pickup": Outcome.CANCELED,
    "issued": Outcome.NOT_CANCELABLE,
    "rejected": Outcome.NOT_CANCELABLE,
    "expired": Outcome.NOT_CANCELABLE,
    "canceled": Outcome.ALREADY_CANCELED,
}
FAST_RETRY = dc.RetryPolicy(max_attempts=6, backoff_initial=0.01, backoff_max=0.05)


def arrange(fake: FakeCertCentral, n: int, rng: random.Random) -> tuple[list[int], dict[int, str]]:
    """n distinct ids of every kind (missing ones included), plus some duplicates."""
    initial: dict[int, str] = {}
    ids: list[int] = []
    statuses = list(EXPECTED)
    for i in range(n):
        if i % 10 == 9:
            ids.append(900_000_000 + i)  # no such order
            continue
        status = statuses[i % len(statuses)]
        order_id = fake.add_order(status)
        initial[order_id] = status
        ids.append(order_id)
    ids += rng.sample(ids, 25)
    rng.shuffle(ids)
    return ids, initial


def client_for(fake: FakeCertCentral, **options: object) -> dc.CertCentralClient:
    settings: dict[str, object] = {
        "rate_limit": dc.RateLimit.disabled(),
        "retry": FAST_RETRY,
        "timeout": 2.0,
    }
    settings.update(options)
    settings.setdefault("base_url", fake.base_url)
    return dc.CertCentralClient(api_key=fake.api_key, **settings)  # type: ignore[arg-type]


@pytest.fixture
async def empty_fake() -> AsyncIterator[FakeCertCentral]:
    async with FakeCertCentral(rate_limits=None, seed=1) as server:
        yield server


async def test_mixed_ids_get_exactly_the_right_outcome(empty_fake: FakeCertCentral) -> None:
    ids, initial = arrange(empty_fake, 500, random.Random(3))
    async with client_for(empty_fake) as client:
        report = await dc.cancel_orders(client, ids, note="decommissioned", concurrency=20)
    unique = list(dict.fromkeys(ids))
    assert [r.order_id for r in report.results] == unique
    assert sum(report.duplicates.values()) == 25
    for result in report.results:
        if result.order_id not in initial:
            assert result.outcome is Outcome.NOT_FOUND, result
            continue
        status = initial[result.order_id]
        assert result.outcome is EXPECTED[status], (result, status)
        if result.outcome is Outcome.NOT_CANCELABLE:
            assert result.status == status
    assert report.counts[Outcome.FAILED] == report.counts[Outcome.NOT_ATTEMPTED] == 0
    assert sum(report.counts.values()) == len(unique)
    assert report.complete
    puts = Counter(int(r.path.split("/")[-2]) for r in empty_fake.requests if r.method == "PUT")
    assert set(puts.values()) == {1}, "every id is sent exactly once"
    for order_id, status in initial.items():
        expected = (
            "canceled"
            if EXPECTED[status] in (Outcome.CANCELED, Outcome.ALREADY_CANCELED)
            else status
        )
        assert empty_fake.order(order_id)["status"] == expected  # type: ignore[index]


async def test_streaming_yields_each_id_once(empty_fake: FakeCertCentral) -> None:
    ids, _ = arrange(empty_fake, 60, random.Random(5))
    async with client_for(empty_fake) as client:
        job = dc.cancel_orders(client, ids, note="x", concurrency=7)
        streamed = [result async for result in job]
    assert sorted(r.order_id for r in streamed) == sorted(set(ids))
    assert {r.order_id: r for r in job.report.results} == {r.order_id: r for r in streamed}


@pytest.mark.slow
async def test_faults_never_lose_an_order_or_misreport_a_cancel() -> None:
    async with FakeCertCentral(
        rate_limits=None,
        fault_rate=0.10,
        seed=11,
        slow_seconds=0.5,
    ) as fake:
        ids, initial = arrange(fake, 500, random.Random(9))
        async with client_for(fake, timeout=0.3) as client:
            report = await dc.cancel_orders(client, ids, note="chaos", concurrency=25)
        unique = list(dict.fromkeys(ids))
        assert [r.order_id for r in report.results] == unique
        assert report.counts[Outcome.NOT_ATTEMPTED] == 0
        # retries and read-backs settle nearly every fault: a job that gave up on the
        # faulted orders (about one in ten requests) would fail far more than this
        assert report.counts[Outcome.FAILED] <= 0.02 * len(unique)
        for result in report.results:
            now = fake.order(result.order_id)
            if initial.get(result.order_id) == "canceled":
                # canceled before the job: never claimed as this run's work for sure
                assert result.outcome is Outcome.ALREADY_CANCELED or (
                    result.outcome is Outcome.CANCELED and result.uncertain
                ), result
            if result.outcome is Outcome.FAILED:
                assert result.error is not None
                if initial.get(result.order_id) in ("pending", "waiting_pickup"):
                    assert now is not None and now["status"] != "canceled", result
            elif result.outcome in (Outcome.CANCELED, Outcome.ALREADY_CANCELED):
                assert now is not None and now["status"] == "canceled", result
            elif result.outcome is Outcome.NOT_FOUND:
                assert now is None
            else:
                assert now is not None and now["status"] == result.status
        assert any(r.fault is not None for r in fake.requests), "faults were injected"


async def test_cancelled_job_reports_the_rest_and_resumes() -> None:
    async with FakeCertCentral(
        rate_limits=None, fault_rate=1.0, fault_kinds=[Fault.SLOW], slow_seconds=0.2
    ) as fake:
        ids = [fake.add_order("pending") for _ in range(120)]
        async with client_for(fake, timeout=5.0) as client:
            job = dc.cancel_orders(client, ids, note="first run", concurrency=4)
            task = asyncio.ensure_future(job)
            await asyncio.sleep(0.5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        first = job.report
        assert [r.order_id for r in first.results] == ids
        assert first.counts[Outcome.NOT_ATTEMPTED] >= 100
        interrupted = first.ids(Outcome.FAILED)
        assert len(interrupted) <= 4  # only the ones in flight
        assert all(
            isinstance(r.error, asyncio.CancelledError)
            for r in first.results
            if r.outcome is Outcome.FAILED
        )
        left = first.resume_ids()
        assert set(left) == set(first.ids(Outcome.NOT_ATTEMPTED)) | set(interrupted)
        done = set(first.ids(Outcome.CANCELED))
        assert done and all(fake.order(i)["status"] == "canceled" for i in done)  # type: ignore[index]

        fake.fault_rate = 0.0
        async with client_for(fake) as client:
            second = await dc.cancel_orders(client, left, note="resumed", concurrency=20)
        assert second.complete
        assert set(second.ids(Outcome.CANCELED)) >= set(first.ids(Outcome.NOT_ATTEMPTED))
        assert {r.outcome for r in second.results} <= {Outcome.CANCELED, Outcome.ALREADY_CANCELED}
        assert all(fake.order(i)["status"] == "canceled" for i in ids)  # type: ignore[index]


async def test_deadline_leaves_the_rest_not_attempted(empty_fake: FakeCertCentral) -> None:
    ids = [empty_fake.add_order("pending") for _ in range(50)]
    async with client_for(empty_fake, rate_limit=dc.RateLimit(windows=[(5, 1.0)])) as client:
        report = await dc.cancel_orders(client, ids, note="x", concurrency=5, deadline=0.5)
    assert [r.order_id for r in report.results] == ids
    assert 1 <= report.counts[Outcome.CANCELED] <= 15
    assert report.counts[Outcome.NOT_ATTEMPTED] == 50 - report.counts[Outcome.CANCELED]
    canceled = set(report.ids(Outcome.CANCELED))
    assert all((empty_fake.order(i)["status"] == "canceled") == (i in canceled) for i in ids)  # type: ignore[index]


async def test_bad_input_is_rejected_before_sending(empty_fake: FakeCertCentral) -> None:
    async with client_for(empty_fake) as client:
        with pytest.raises(dc.ValidationError, match="note"):
            dc.cancel_orders(client, [1], note=" ")
        with pytest.raises(dc.ValidationError, match="concurrency"):
            dc.cancel_orders(client, [1], note="x", concurrency=0)
    assert empty_fake.requests == []


@pytest.mark.parametrize("job", ["cancel", "poll"])
async def test_every_id_is_checked_before_anything_is_sent(
    empty_fake: FakeCertCentral, job: str
) -> None:
    good = empty_fake.add_order("pending")
    # equal across types (100001.0 == 100001, True == 1) but no id: none may pass or
    # stand in for a real id in the de-duplication
    ids: list[object] = [good, float(good), True, 0, "7", 10**20, 10**4400, good]
    async with client_for(empty_fake) as client:
        with pytest.raises(dc.ValidationError) as caught:
            if job == "cancel":
                dc.cancel_orders(client, ids, note="x")  # type: ignore[arg-type]
            else:
                _ = [u async for u in dc.poll_orders(client, ids)]  # type: ignore[arg-type]
    error = caught.value
    assert error.field == "order_ids" and "6 bad id(s)" in error.message
    for position in ("[1]", "[2]", "[3]", "[4]", "[5]"):
        assert position in error.message
    assert "[0]" not in error.message and "more than 20 digits" in error.message
    assert len(str(error)) < 600  # a 4,400-digit id is not printed
    assert empty_fake.requests == []


async def test_report_counts_print_readably(empty_fake: FakeCertCentral) -> None:
    pending = empty_fake.add_order("pending")
    async with client_for(empty_fake) as client:
        report = await dc.cancel_orders(client, [pending, 900_000_001], note="x")
    assert str(report.counts).startswith("{'canceled': 1, 'already_canceled': 0,")
    assert "'not_found': 1" in repr(report.counts)
    assert report.counts["canceled"] == report.counts[Outcome.CANCELED] == 1


# --- polling ---------------------------------------------------------------------------


async def test_poll_until_every_order_is_issued(empty_fake: FakeCertCentral) -> None:
    ids = [empty_fake.add_order("pending") for _ in range(80)]
    missing = 987_654_321

    async def issue_over_time() -> None:
        for chunk in range(4):
            await asyncio.sleep(0.15)
            for order_id in ids[chunk * 20 : (chunk + 1) * 20]:
                empty_fake.set_status(order_id, "issued")

    flipper = asyncio.ensure_future(issue_over_time())
    updates: list[dc.OrderUpdate] = []
    async with client_for(empty_fake) as client:
        async for update in dc.poll_orders(
            client, [*ids, missing], until={"issued"}, interval=0.1, deadline=10
        ):
            updates.append(update)
    await flipper
    first_seen = {u.order_id: u.status for u in updates if u.previous_status is None}
    assert first_seen[missing] == "not_found"
    assert {u.order_id for u in updates if u.status == "issued"} == set(ids)
    assert all(u.previous_status == "pending" for u in updates if u.status == "issued")
    # After the first look (a listing), each interval costs one status-changes request
    # plus one read per order that moved.
    gets = [r for r in empty_fake.requests if r.method == "GET"]
    reads = [r for r in gets if r.path.rsplit("/", 1)[-1].isdigit()]
    assert len(reads) <= 80 + 1 + 5  # moved orders (+ the missing id, + re-reads)
    assert any(r.path.endswith("/status-changes") for r in gets)


async def test_poll_falls_back_to_reads_when_changes_fail(empty_fake: FakeCertCentral) -> None:
    ids = [empty_fake.add_order("pending") for _ in range(5)]
    empty_fake.inject(Fault.INTERNAL_ERROR, times=100, path_contains="status-changes")

    async def issue_later() -> None:
        await asyncio.sleep(0.2)
        for order_id in ids:
            empty_fake.set_status(order_id, "issued")

    flipper = asyncio.ensure_future(issue_later())
    async with client_for(empty_fake) as client:
        seen = [
            u async for u in dc.poll_orders(client, ids, until={"issued"}, interval=0.1, deadline=5)
        ]
    await flipper
    assert {u.order_id for u in seen if u.status == "issued"} == set(ids)


async def test_poll_deadline_ends_iteration(empty_fake: FakeCertCentral) -> None:
    ids = [empty_fake.add_order("pending") for _ in range(3)]
    async with client_for(empty_fake) as client:
        seen = [u async for u in dc.poll_orders(client, ids, interval=0.05, deadline=0.3)]
    assert sorted(u.order_id for u in seen) == ids  # first sighting only
    assert all(u.status == "pending" for u in seen)


async def test_refused_key_stops_the_job(empty_fake: FakeCertCentral) -> None:
    ids = [empty_fake.add_order("pending") for _ in range(40)]
    async with dc.CertCentralClient(
        api_key="not-the-key", base_url=empty_fake.base_url, rate_limit=dc.RateLimit.disabled()
    ) as client:
        report = await dc.cancel_orders(client, ids, note="x", concurrency=2)
    assert [r.order_id for r in report.results] == ids
    failed = report.ids(Outcome.FAILED)
    assert 1 <= len(failed) <= 2  # the ones already started when the key was refused
    assert all(isinstance(r.error, dc.PermissionDeniedError) for r in report.results if r.error)
    assert report.counts[Outcome.NOT_ATTEMPTED] == 40 - len(failed)
    assert all(r.method == "PUT" for r in empty_fake.requests), "no read-back after a refusal"


async def test_interrupted_result_says_so_in_json(empty_fake: FakeCertCentral) -> None:
    order_id = empty_fake.add_order("pending")
    empty_fake.slow_seconds = 5.0
    empty_fake.inject(Fault.SLOW, times=1)
    async with client_for(empty_fake, timeout=10.0) as client:
        job = dc.cancel_orders(client, [order_id], note="x")
        task = asyncio.ensure_future(job)
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    (result,) = job.report.results
    assert result.outcome is Outcome.FAILED
    assert "in flight" in result.to_json()["error"]


async def first_look(client: dc.CertCentralClient, wanted: list[int]) -> list[dc.OrderUpdate]:
    """The updates of poll_orders' first look: one per id, then stop. (A deadline would
    have to be guessed: on a loaded machine a page of 1000 orders takes a while.)"""
    seen: list[dc.OrderUpdate] = []
    async for update in dc.poll_orders(client, wanted, interval=0.05, deadline=60):
        assert update.previous_status is None  # the first look reports each id once
        seen.append(update)
        if len(seen) == len(wanted):
            break
    return seen


async def test_poll_reads_a_few_ids_instead_of_listing_a_big_account() -> None:
    async with FakeCertCentral(rate_limits=None, orders=2500) as fake:
        wanted = [100_007, 102_400]
        async with client_for(fake) as client:
            seen = await first_look(client, wanted)
        assert sorted(u.order_id for u in seen) == wanted
        listing_pages = [r for r in fake.requests if r.path.endswith("/order/certificate")]
        reads = [r for r in fake.requests if r.path.rsplit("/", 1)[-1].isdigit()]
        # one page shows 3 pages would be needed for 2 ids: the ids it did not show are
        # read instead (the one it showed is taken from it)
        assert len(listing_pages) == 1
        assert {int(r.path.rsplit("/", 1)[-1]) for r in reads} == {102_400}


async def test_poll_lists_a_small_account_in_one_request() -> None:
    async with FakeCertCentral(rate_limits=None, orders=40) as fake:
        wanted = list(range(100_001, 100_031))
        async with client_for(fake) as client:
            seen = await first_look(client, wanted)
        assert sorted(u.order_id for u in seen) == wanted
        first_look_requests = [r for r in fake.requests if not r.path.endswith("/status-changes")]
        assert [r.path for r in first_look_requests] == ["/services/v2/order/certificate"]


# --- poll_orders and answers that do not decode ----------------------------------------


def reads_of(fake: FakeCertCentral, order_id: int) -> int:
    return sum(1 for r in fake.requests if r.path.endswith(f"/order/certificate/{order_id}"))


async def test_poll_goes_on_around_an_order_that_cannot_be_read(
    empty_fake: FakeCertCentral,
) -> None:
    issued = [empty_fake.add_order("issued") for _ in range(3)]
    # an answer with a wrong type inside: its listing item and its own read both fail
    odd = empty_fake.add_order("pending", certificate={"common_name": "x", "csr": {"csr": "?"}})
    async with client_for(empty_fake) as client:
        updates = [
            u
            async for u in dc.poll_orders(
                client, [*issued, odd], until="issued", interval=0.02, deadline=10
            )
        ]
    good = [u for u in updates if u.error is None]
    assert sorted(u.order_id for u in good) == issued
    assert all(u.status == "issued" and u.order is not None for u in good)
    failed = [u for u in updates if u.error is not None]
    # reported at each of three looks in a row, then given up on: the poll ends by itself
    assert [u.order_id for u in failed] == [odd] * dc.bulk.UNREADABLE_LOOKS
    assert all(isinstance(u.error, dc.ResponseError) for u in failed)
    assert all(u.status is None and u.order is None for u in failed)
    assert "certificate.csr" in str(failed[0].error)
    # only the odd order was read one by one; the others came from the listing
    assert reads_of(empty_fake, odd) == dc.bulk.UNREADABLE_LOOKS
    assert all(reads_of(empty_fake, order_id) == 0 for order_id in issued)


async def test_poll_an_order_that_reads_again_is_not_given_up(
    empty_fake: FakeCertCentral,
) -> None:
    order_id = empty_fake.add_order("pending", validity_years="one")
    async with client_for(empty_fake) as client:
        updates: list[dc.OrderUpdate] = []
        async for update in dc.poll_orders(
            client, [order_id], until={"issued"}, interval=0.02, deadline=10
        ):
            updates.append(update)
            if update.error is not None and len(updates) == 2:
                # mended before the third look: the order is followed to the end
                empty_fake.update_order(order_id, validity_years=1)
                empty_fake.set_status(order_id, "issued")
    assert [u.error is not None for u in updates] == [True, True, False]
    assert (updates[-1].status, updates[-1].previous_status) == ("issued", None)


async def test_poll_reads_one_by_one_the_orders_of_a_page_that_fails(
    empty_fake: FakeCertCentral,
) -> None:
    ids = [empty_fake.add_order("issued") for _ in range(4)]
    empty_fake.inject(Fault.MALFORMED_JSON, method="GET", path_contains="/order/certificate")
    async with client_for(empty_fake) as client:
        seen = [u async for u in dc.poll_orders(client, ids, interval=0.02, deadline=10)]
    assert sorted(u.order_id for u in seen) == ids and all(u.error is None for u in seen)
    listings = [r for r in empty_fake.requests if r.path.endswith("/order/certificate")]
    assert len(listings) == 1  # the page failed: its orders were read, not the list again
    assert all(reads_of(empty_fake, order_id) == 1 for order_id in ids)


async def test_poll_reads_only_the_order_a_listing_could_not_decode(
    empty_fake: FakeCertCentral,
) -> None:
    ids = [empty_fake.add_order("issued") for _ in range(2500)]
    wanted = ids[::300]  # 9 ids on all three pages: listing costs fewer requests
    # one item of the second page does not decode
    empty_fake.update_order(ids[1500], certificate="not an object")
    async with client_for(empty_fake) as client:
        seen = [u async for u in dc.poll_orders(client, wanted, interval=0.02, deadline=20)]
    listed = {u.order_id for u in seen if u.error is None}
    assert listed == set(wanted) - {ids[1500]}
    errors = [u for u in seen if u.error is not None]
    assert {u.order_id for u in errors} == {ids[1500]}
    listings = [r for r in empty_fake.requests if r.path.endswith("/order/certificate")]
    assert len(listings) == 3
    # the ids of the page with the bad item were read on their own, the others were not
    assert reads_of(empty_fake, ids[1500]) == dc.bulk.UNREADABLE_LOOKS
    assert reads_of(empty_fake, ids[1200]) == 0 and reads_of(empty_fake, ids[2100]) == 0


async def test_poll_until_takes_one_status_and_rejects_unknown_ones(
    empty_fake: FakeCertCentral,
) -> None:
    order_id = empty_fake.add_order("issued")
    async with client_for(empty_fake) as client:
        seen = [u async for u in dc.poll_orders(client, [order_id], until="issued", interval=1)]
        assert [u.status for u in seen] == ["issued"]
        with pytest.raises(dc.ValidationError) as info:
            _ = [u async for u in dc.poll_orders(client, [order_id], until="isued")]
        assert info.value.field == "until" and "issued" in info.value.message
    assert len(empty_fake.requests) == 1  # nothing sent for the refused call


async def test_poll_goes_past_a_page_that_does_not_decode() -> None:
    def page(first: int, count: int) -> dict[str, object]:
        orders = [{"id": i, "status": "issued"} for i in range(first, first + count)]
        return {"orders": orders, "page": {"total": 2500, "limit": 1000, "offset": first - 1}}

    wanted = [1, 1500, 2400]  # one order on each of three pages
    async with served() as (server, client):
        server.answer("GET", "/order/certificate?offset=0&limit=1000", 200, page(1, 1000))
        server.answer("GET", "/order/certificate?offset=1000&limit=1000", 200, b"<html>oops")
        server.answer("GET", "/order/certificate?offset=2000&limit=1000", 200, page(2001, 500))
        server.answer("GET", "/order/certificate/1500", 200, {"id": 1500, "status": "issued"})
        seen = [u async for u in dc.poll_orders(client, wanted, interval=0.02, deadline=10)]
    assert sorted(u.order_id for u in seen) == wanted and all(u.error is None for u in seen)
    # the three pages, then the one order of the page that failed: never the whole account
    assert [path for _, path in server.requests] == [
        "/order/certificate?offset=0&limit=1000",
        "/order/certificate?offset=1000&limit=1000",
        "/order/certificate?offset=2000&limit=1000",
        "/order/certificate/1500",
    ]


# --- deadlines cut requests in flight short --------------------------------------------


async def test_cancel_deadline_cuts_requests_in_flight_short() -> None:
    async with FakeCertCentral(rate_limits=None, slow_seconds=60) as fake:
        ids = [fake.add_order("pending") for _ in range(6)]
        fake.inject(Fault.SLOW, times=6)  # every request is answered only after a minute
        loop = asyncio.get_running_loop()
        async with client_for(fake, timeout=30.0) as client:
            started = loop.time()
            report = await dc.cancel_orders(client, ids, note="x", concurrency=3, deadline=1.0)
            elapsed = loop.time() - started
    assert elapsed < 10.0  # the deadline holds, not the per-attempt timeout (30 s)
    failed = report.ids(Outcome.FAILED)
    assert len(failed) == 3  # the three in flight: they may have landed, so failed
    assert all(isinstance(r.error, TimeoutError) for r in report.results if r.order_id in failed)
    assert all("deadline" in str(r.error) for r in report.results if r.order_id in failed)
    assert report.counts[Outcome.NOT_ATTEMPTED] == 3
    assert set(report.resume_ids()) == set(ids)


async def test_poll_deadline_cuts_a_read_in_flight_short() -> None:
    async with FakeCertCentral(rate_limits=None, slow_seconds=60) as fake:
        order_id = fake.add_order("pending")
        fake.inject(Fault.SLOW, times=10)
        loop = asyncio.get_running_loop()
        async with client_for(fake, timeout=30.0) as client:
            started = loop.time()
            seen = [u async for u in dc.poll_orders(client, [order_id], deadline=1.0)]
            elapsed = loop.time() - started
    assert seen == [] and elapsed < 10.0  # not the 30 s timeout


# --- what a refusal after an earlier attempt means ------------------------------------


@pytest.mark.parametrize(
    ("initial", "first_put", "outcome", "uncertain"),
    [
        # a 429 or a 503 applied nothing: the refusal that follows means "canceled before"
        ("canceled", Fault.RATE_LIMITED, Outcome.ALREADY_CANCELED, False),
        ("canceled", Fault.SERVICE_UNAVAILABLE_HTML, Outcome.ALREADY_CANCELED, False),
        # no answer came back: the first attempt may have done it, nobody can tell
        ("canceled", Fault.RESET_BEFORE, Outcome.CANCELED, True),
        ("pending", Fault.RESET_AFTER, Outcome.CANCELED, True),
        # answered at the second attempt: this run did it
        ("pending", Fault.RATE_LIMITED, Outcome.CANCELED, False),
        ("pending", Fault.RESET_BEFORE, Outcome.CANCELED, False),
    ],
)
async def test_a_refusal_after_a_failed_attempt_is_settled_honestly(
    empty_fake: FakeCertCentral, initial: str, first_put: Fault, outcome: Outcome, uncertain: bool
) -> None:
    order_id = empty_fake.add_order(initial)
    empty_fake.inject(first_put, method="PUT", path_contains=f"/{order_id}/status")
    async with client_for(empty_fake) as client:
        report = await dc.cancel_orders(client, [order_id], note="x")
    (result,) = report.results
    assert (result.outcome, result.uncertain) == (outcome, uncertain)
    assert result.to_json().get("uncertain", False) is uncertain
    assert empty_fake.order(order_id)["status"] == "canceled"  # type: ignore[index]


async def test_a_wrong_base_url_stops_the_job(empty_fake: FakeCertCentral) -> None:
    ids = [empty_fake.add_order("pending") for _ in range(40)]
    wrong = empty_fake.base_url.removesuffix("/services/v2")  # the API root left out
    async with client_for(empty_fake, base_url=wrong) as client:
        report = await dc.cancel_orders(client, ids, note="x", concurrency=4)
        with pytest.raises(dc.ConfigurationError) as caught:
            _ = [u async for u in dc.poll_orders(client, ids)]
    assert isinstance(caught.value, dc.NotFoundError) and wrong in str(caught.value)
    failed = report.ids(Outcome.FAILED)
    assert 1 <= len(failed) <= 4  # those in flight when the first answer came
    assert all(isinstance(r.error, dc.ConfigurationError) for r in report.results if r.error)
    assert report.counts[Outcome.NOT_ATTEMPTED] == 40 - len(failed)
    assert report.counts[Outcome.NOT_FOUND] == 0  # not 40 orders "not found"
    assert isinstance(report.stopped_by, dc.RouteNotFoundError)
    assert sorted(report.resume_ids()) == sorted(ids)
