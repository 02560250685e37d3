"""The bulk jobs' details that mutation testing found unchecked.

Against FakeCertCentral over loopback: what an order that turns unreadable is
reported as and that it is read no more once given up on, that a read that failed
and then found nothing is not repeated, what a job stopped before sending anything
reports, and how the counts print.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import cast

import pytest
from aiohttp import web

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault

from ._served import BodyServer, served

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


def test_a_result_as_a_json_line() -> None:
    assert dc.CancelResult(7, Outcome.NOT_FOUND).to_json() == {
        "order_id": 7,
        "outcome": "not_found",
    }
    line = dc.CancelResult(
        8, Outcome.FAILED, status="pending", error=dc.ValidationError("note", "too long")
    ).to_json()
    assert line == {
        "order_id": 8,
        "outcome": "failed",
        "status": "pending",
        "error": "ValidationError: note: too long",
    }
    assert dc.CancelResult(9, Outcome.CANCELED, status="canceled", uncertain=True).to_json() == {
        "order_id": 9,
        "outcome": "canceled",
        "status": "canceled",
        "uncertain": True,
    }


def test_listing_costs_more_when_its_pages_outnumber_the_ids() -> None:
    from digicert_async.bulk._poll import _listing_costs_more

    assert _listing_costs_more(2500, 2) is True  # three pages for two reads
    assert _listing_costs_more(2000, 2) is False  # two pages: no more than two reads
    assert _listing_costs_more(1, 1) is False
    assert _listing_costs_more(None, 1) is False


async def test_a_read_that_failed_then_succeeded_is_not_repeated(fake: FakeCertCentral) -> None:
    moved = fake.add_order("pending")
    other = fake.add_order("pending")
    updates: list[dc.OrderUpdate] = []
    async with _client(fake) as client:
        async for update in dc.poll_orders(
            client, [moved, other], until={"issued", "waiting_pickup"}, interval=0.02, deadline=10
        ):
            updates.append(update)
            if update.order_id == moved and update.previous_status is None:
                # it moves, and its first read meets a gateway error
                fake.inject(Fault.BAD_GATEWAY, path_contains=f"/order/certificate/{moved}")
                fake.set_status(moved, "waiting_pickup")
            elif update.order_id == moved:
                fake.set_status(other, "issued")
    assert [(u.order_id, u.status) for u in updates if u.error is not None] == []
    read = next(u for u in updates if u.order_id == moved and u.status == "waiting_pickup")
    assert read.order is not None and read.order.id == moved
    # the 502, then the read that found it moved; the last look reads only the other
    assert _reads_of(fake, moved) == 2
    assert (updates[-1].order_id, updates[-1].status) == (other, "issued")


async def test_the_poll_deadline_cuts_a_single_read_short() -> None:
    missing = 900_000_777
    async with FakeCertCentral(rate_limits=None, slow_seconds=60) as fake:
        fake.inject(Fault.SLOW, path_contains=f"/order/certificate/{missing}")
        async with _client(fake, timeout=30.0) as client:

            async def poll() -> list[dc.OrderUpdate]:
                return [u async for u in dc.poll_orders(client, [missing], deadline=0.3)]

            assert await asyncio.wait_for(poll(), 10.0) == []
        assert _reads_of(fake, missing) == 1


async def test_a_refused_key_while_reading_stops_the_poll() -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate", 200, {"orders": [], "page": {"total": 0}})
        refused = {"errors": [{"code": "invalid_key", "message": "bad key"}]}
        server.answer("GET", "/order/certificate/5", 401, refused)
        with pytest.raises(dc.AuthenticationError):
            _ = [u async for u in dc.poll_orders(client, [5], interval=0.02, deadline=10)]
        assert server.requests.count(("GET", "/order/certificate/5")) == 1


async def test_a_status_changes_route_that_does_not_exist_stops_the_poll() -> None:
    async with served() as (server, client):
        server.answer(
            "GET",
            "/order/certificate",
            200,
            {"orders": [{"id": 5, "status": "pending"}], "page": {"total": 1}},
        )
        server.answer("GET", "/order/certificate/5", 200, {"id": 5, "status": "pending"})
        # no status-changes route: the base URL is not DigiCert's API as far as it goes
        with pytest.raises(dc.RouteNotFoundError):
            _ = [u async for u in dc.poll_orders(client, [5], interval=0.02, deadline=10)]


class _IssuedAtTheThirdRead(BodyServer):
    """Answers order 5 as pending, and as issued from its third read on."""

    reads = 0

    async def _handle(self, request: web.Request) -> web.Response:
        if request.path.endswith("/order/certificate/5"):
            self.reads += 1
            status = "issued" if self.reads >= 3 else "pending"
            self.answer("GET", "/order/certificate/5", 200, {"id": 5, "status": status})
        return await super()._handle(request)


@pytest.mark.parametrize(
    ("status", "asked_again"), [(400, False), (403, False), (429, True), (500, True)]
)
async def test_status_changes_is_given_up_only_after_a_refusal(
    status: int, asked_again: bool
) -> None:
    server = _IssuedAtTheThirdRead()
    await server.start()
    try:
        listed = {"orders": [{"id": 5, "status": "pending"}], "page": {"total": 1}}
        server.answer("GET", "/order/certificate", 200, listed)
        refusal = {"errors": [{"code": "access_denied", "message": "no"}]}
        server.answer("GET", "/order/certificate/status-changes", status, refusal)
        # a 429 closes the client's gate: kept short
        async with dc.CertCentralClient(
            api_key="test-key",
            base_url=server.root,
            retry=dc.RetryPolicy.disabled(),
            rate_limit=dc.RateLimit(windows=[], cooldown_initial=0.001, cooldown_max=0.001),
        ) as client:
            updates = [u async for u in dc.poll_orders(client, [5], interval=0.01, deadline=10)]
    finally:
        await server.close()
    assert [(u.order_id, u.status) for u in updates] == [(5, "pending"), (5, "issued")]
    changes = sum(1 for _, path in server.requests if "status-changes" in path)
    # every later look read the order (three looks); a refusal means this key cannot
    # use the listing, so it is asked once, anything else at every look
    assert server.reads == 3
    assert changes == (3 if asked_again else 1)


async def test_a_refused_cancel_is_read_back_three_times_at_most(fake: FakeCertCentral) -> None:
    mended, broken = fake.add_order("issued"), fake.add_order("issued")
    # the cancels are refused (issued), and the reads back fail: twice, and for good
    fake.inject(Fault.INTERNAL_ERROR, times=2, method="GET", path_contains=f"/{mended}")
    fake.inject(Fault.INTERNAL_ERROR, times=3, method="GET", path_contains=f"/{broken}")
    async with _client(fake) as client:
        report = await dc.cancel_orders(client, [mended, broken], note="x", concurrency=2)
    assert [(r.order_id, r.outcome) for r in report.results] == [
        (mended, Outcome.NOT_CANCELABLE),
        (broken, Outcome.FAILED),
    ]
    # the failure named is the cancel's (the refused PUT), not the read-back's after it
    error = report.results[1].error
    assert isinstance(error, dc.BadRequestError) and error.method == "PUT"
    assert (_reads_of(fake, mended), _reads_of(fake, broken)) == (3, 3)


async def test_poll_checks_its_arguments_before_sending(fake: FakeCertCentral) -> None:
    async with _client(fake) as client:
        for kwargs, field in (
            ({"interval": 0}, "interval"),
            ({"interval": -1.0}, "interval"),
            ({"concurrency": 0}, "concurrency"),
            ({"deadline": 0}, "deadline"),
        ):
            with pytest.raises(dc.ValidationError) as caught:
                await anext(dc.poll_orders(client, [1], **kwargs))
            assert caught.value.field == field
    assert fake.requests == []


async def test_poll_reads_the_few_ids_a_big_accounts_first_page_does_not_show() -> None:
    async with FakeCertCentral(rate_limits=None, orders=2500) as fake:
        on_page_one, further = 100_007, 102_400
        async with _client(fake) as client:
            # every status is wanted: each order is finished once seen
            seen = [
                u
                async for u in dc.poll_orders(
                    client, [on_page_one, further], until=dc.ORDER_STATUSES, deadline=30
                )
            ]
        assert sorted(u.order_id for u in seen) == [on_page_one, further]
        listing_pages = [r for r in fake.requests if r.path.endswith("/order/certificate")]
        assert len(listing_pages) == 1  # three pages would cost more than two reads
        assert (_reads_of(fake, on_page_one), _reads_of(fake, further)) == (0, 1)


REFUSED = {"errors": [{"code": "invalid_status", "message": "cannot cancel"}]}


@pytest.mark.parametrize(
    ("read_status", "read_body", "outcome", "error"),
    [
        (200, {"id": 7, "status": "canceled"}, Outcome.ALREADY_CANCELED, None),
        # still cancelable (or no status to tell): the cancel failed, with its error
        (200, {"id": 7, "status": "pending"}, Outcome.FAILED, dc.BadRequestError),
        (200, {"id": 7}, Outcome.FAILED, dc.BadRequestError),
        (404, {"errors": [{"code": "not_found|order"}]}, Outcome.NOT_FOUND, None),
        # a read-back refused: the failure named is still the cancel's
        (403, {"errors": [{"code": "access_denied"}]}, Outcome.FAILED, dc.BadRequestError),
        # a key refused outright stops the job; the order keeps the cancel's error
        (401, {"errors": [{"code": "invalid_key"}]}, Outcome.FAILED, dc.BadRequestError),
    ],
)
async def test_a_refused_cancel_is_settled_by_what_the_read_back_says(
    read_status: int, read_body: dict[str, object], outcome: Outcome, error: type[Exception] | None
) -> None:
    async with served() as (server, client):
        server.answer("PUT", "/order/certificate/7/status", 400, REFUSED)
        server.answer("GET", "/order/certificate/7", read_status, read_body)
        report = await dc.cancel_orders(client, [7], note="x")
    [result] = report.results
    assert (result.order_id, result.outcome) == (7, outcome)
    assert result.status == read_body.get("status")
    if error is None:
        assert result.error is None
    else:
        assert isinstance(result.error, error)
    stopped = isinstance(report.stopped_by, dc.AuthenticationError)
    assert stopped == (read_status == 401)


async def test_a_cancel_that_may_have_landed_is_canceled_with_its_status(
    fake: FakeCertCentral,
) -> None:
    order_id = fake.add_order("canceled")
    fake.inject(Fault.RESET_BEFORE, method="PUT")
    retry = dc.RetryPolicy(max_attempts=2, backoff_initial=0.0)
    async with _client(fake, retry=retry) as client:
        report = await dc.cancel_orders(client, [order_id], note="x")
    [result] = report.results
    assert (result.outcome, result.status, result.uncertain) == (
        Outcome.CANCELED,
        "canceled",
        True,
    )


async def test_an_order_without_a_status_is_seen_as_unknown() -> None:
    async with served() as (server, client):
        server.answer(
            "GET", "/order/certificate", 200, {"orders": [{"id": 5}], "page": {"total": 1}}
        )
        server.answer("GET", "/order/certificate/6", 200, {"id": 6})
        server.answer("GET", "/order/certificate/status-changes", 200, {"orders": []})
        updates = cast(
            AsyncGenerator[dc.OrderUpdate, None],
            dc.poll_orders(client, [5, 6], interval=0.02, deadline=10),
        )
        seen = [await anext(updates), await anext(updates)]  # the first look
        await updates.aclose()
    assert sorted((u.order_id, u.status) for u in seen) == [(5, "unknown"), (6, "unknown")]


async def test_a_good_read_starts_the_count_of_failed_looks_again(fake: FakeCertCentral) -> None:
    order_id = fake.add_order("pending", validity_years="one")
    updates: list[dc.OrderUpdate] = []
    async with _client(fake) as client:
        async for update in dc.poll_orders(
            client, [order_id], until="issued", interval=0.02, deadline=10
        ):
            updates.append(update)
            if update.error is not None and len(updates) == 2:
                fake.update_order(order_id, validity_years=1)  # mended: the next read works
            elif update.error is None:
                # broken again, and moved: read at each look until given up on
                fake.update_order(order_id, validity_years="one")
                fake.set_status(order_id, "waiting_pickup")
    assert [u.error is None for u in updates] == [False, False, True, False, False, False]


@pytest.mark.parametrize(
    ("put_status", "put_body", "outcome", "status", "error"),
    [
        (204, None, Outcome.CANCELED, "canceled", None),
        # a key that may not cancel may not read either: no read back
        (
            403,
            {"errors": [{"code": "access_denied"}]},
            Outcome.FAILED,
            None,
            dc.PermissionDeniedError,
        ),
    ],
)
async def test_a_cancel_answered_at_once_needs_no_read_back(
    put_status: int,
    put_body: object,
    outcome: Outcome,
    status: str | None,
    error: type[Exception] | None,
) -> None:
    async with served() as (server, client):
        server.answer("PUT", "/order/certificate/7/status", put_status, put_body)
        report = await dc.cancel_orders(client, [7], note="x")
    [result] = report.results
    assert (result.order_id, result.outcome, result.status) == (7, outcome, status)
    assert (result.error is None) if error is None else isinstance(result.error, error)
    assert [method for method, _ in server.requests] == ["PUT"]
    assert report.stopped_by is None
