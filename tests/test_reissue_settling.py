"""How the bulk reissue settles each order, one step at a time, against FakeCertCentral
over loopback: what a refused or lost reissue becomes (read back, never sent again),
what ``check_pending`` finds before sending, and what an order cut short reports.

The steps are called on a job that is never run, with the fake's order arranged for
each case: a whole run reaches most of them only through faults whose timing a test
cannot choose.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import digicert_async as dc
from digicert_async._send import CallRecord
from digicert_async.bulk._reissue import ReissueJob
from digicert_async.bulk._runner import Cut
from digicert_async.models import OrderCertificate
from digicert_async.testing import FakeCertCentral, Fault

from ._served import served
from .test_reissue_from_order import CSR, requests_to

Outcome = dc.ReissueOutcome
Result = dc.ReissueResult
MISSING = 900_000_001


@pytest.fixture
async def fake() -> AsyncIterator[FakeCertCentral]:
    async with FakeCertCentral(rate_limits=None, seed=7, issue_after=None) as server:
        yield server


@pytest.fixture
async def client(fake: FakeCertCentral) -> AsyncIterator[dc.CertCentralClient]:
    async with dc.CertCentralClient(
        fake.api_key,
        base_url=fake.base_url,
        rate_limit=dc.RateLimit.disabled(),
        retry=dc.RetryPolicy.disabled(),
        timeout=5.0,
    ) as client:
        yield client


def job(client: dc.CertCentralClient, *ids: int) -> ReissueJob:
    return dc.reissue_orders(client, dict.fromkeys(ids, CSR))


def api_error(cls: type[dc.APIError], status: int) -> dc.APIError:
    return cls(status, [], method="POST", url="https://example.invalid/reissue")


def lost_answer(method: str = "POST") -> dc.ResponseError:
    return dc.ResponseError(
        "not JSON", method=method, url="https://example.invalid/reissue", status=201, body="x"
    )


async def pending_reissue(fake: FakeCertCentral, client: dc.CertCentralClient) -> int:
    """An issued order whose listing shows a reissue pending (the order not yet)."""
    order_id = fake.add_order("issued")
    await client.orders.reissue(order_id, CSR)
    fake.update_order(order_id, status="issued")
    return order_id


def fail_reads(fake: FakeCertCentral, path: str) -> None:
    fake.inject(Fault.INTERNAL_ERROR, times=3, method="GET", path_contains=path)


# --------------------------------------------------------------------------- _settle


@pytest.mark.parametrize("lost", [True, False])
async def test_an_order_gone_is_not_found(client: dc.CertCentralClient, lost: bool) -> None:
    error = api_error(dc.ServerError, 500)
    assert await job(client, MISSING)._settle(MISSING, error, lost=lost) == Result(
        MISSING, Outcome.NOT_FOUND
    )


@pytest.mark.parametrize(("lost", "outcome"), [(True, Outcome.UNKNOWN), (False, Outcome.FAILED)])
async def test_an_order_that_cannot_be_read_back_stays_unsettled(
    fake: FakeCertCentral, client: dc.CertCentralClient, lost: bool, outcome: Outcome
) -> None:
    order_id = fake.add_order("issued")
    fail_reads(fake, f"/certificate/{order_id}")
    error = api_error(dc.ServerError, 500)
    result = await job(client, order_id)._settle(order_id, error, lost=lost)
    assert result == Result(order_id, outcome)
    assert result.error is error


@pytest.mark.parametrize(
    ("status", "lost", "expected"),
    [
        (
            "reissue_pending",
            True,
            Result(1, Outcome.REISSUED, status="reissue_pending", uncertain=True),
        ),
        ("reissue_pending", False, Result(1, Outcome.NOT_REISSUABLE, status="reissue_pending")),
        ("revoked", True, Result(1, Outcome.NOT_REISSUABLE, status="revoked")),
        ("revoked", False, Result(1, Outcome.NOT_REISSUABLE, status="revoked")),
        ("issued", False, Result(1, Outcome.FAILED, status="issued")),
        ("issued", True, Result(1, Outcome.UNKNOWN, status="issued")),
    ],
)
async def test_the_order_read_back_settles_it(
    fake: FakeCertCentral,
    client: dc.CertCentralClient,
    status: str,
    lost: bool,
    expected: Result,
) -> None:
    order_id = fake.add_order(status)
    error = api_error(dc.ServerError, 500)
    result = await job(client, order_id)._settle(order_id, error, lost=lost)
    assert result == Result(order_id, expected.outcome, status=expected.status,
                            uncertain=expected.uncertain)  # fmt: skip
    settled_outright = expected.outcome in (Outcome.REISSUED, Outcome.NOT_REISSUABLE)
    assert result.error is (None if settled_outright else error)
    listed = requests_to(fake, "GET", f"/order/certificate/{order_id}/reissue")
    assert len(listed) == (1 if status == "issued" and lost else 0)


async def test_a_lost_reissue_found_pending_in_the_listing_is_reissued(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = await pending_reissue(fake, client)
    result = await job(client, order_id)._settle(order_id, lost_answer(), lost=True)
    assert result == Result(order_id, Outcome.REISSUED, status="issued", uncertain=True)
    assert result.error is None


async def test_a_listing_that_cannot_be_read_leaves_a_lost_reissue_unknown(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = await pending_reissue(fake, client)
    fail_reads(fake, f"/{order_id}/reissue")
    error = lost_answer()
    result = await job(client, order_id)._settle(order_id, error, lost=True)
    assert result == Result(order_id, Outcome.UNKNOWN, status="issued")
    assert result.error is error


# --------------------------------------------------------------------------- _after_refusal


async def test_a_key_refused_stops_the_job(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = fake.add_order("issued")
    for post, outcome in ((CallRecord(sends=1, lost=True), Outcome.UNKNOWN),
                          (CallRecord(sends=1), Outcome.FAILED)):  # fmt: skip
        running = job(client, order_id)
        error = api_error(dc.AuthenticationError, 401)
        result = await running._after_refusal(order_id, error, post)
        assert result == Result(order_id, outcome)
        assert result.error is error and running._runner.stopped_by is error
    assert not requests_to(fake, "GET", f"/order/certificate/{order_id}")


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (api_error(dc.NotFoundError, 404), Outcome.NOT_FOUND),
        (dc.ValidationError("request.certificate.csr", "bad"), Outcome.FAILED),
        (api_error(dc.PermissionDeniedError, 403), Outcome.FAILED),
    ],
)
async def test_a_refusal_that_settles_itself_is_not_read_back(
    fake: FakeCertCentral, client: dc.CertCentralClient, error: dc.DigiCertError, outcome: Outcome
) -> None:
    order_id = fake.add_order("issued")
    running = job(client, order_id)
    result = await running._after_refusal(order_id, error, CallRecord(sends=1))
    assert result == Result(order_id, outcome)
    assert result.error is (None if outcome is Outcome.NOT_FOUND else error)
    assert running._runner.stopped_by is None
    assert not requests_to(fake, "GET", f"/order/certificate/{order_id}")


@pytest.mark.parametrize(
    ("error", "post", "outcome"),
    [
        (api_error(dc.ServerError, 500), CallRecord(sends=1), Outcome.FAILED),
        (api_error(dc.ServerError, 502), CallRecord(sends=1, lost=True), Outcome.UNKNOWN),
        (api_error(dc.ServerError, 500), CallRecord(sends=1, in_flight=True), Outcome.UNKNOWN),
        (lost_answer("POST"), CallRecord(sends=1), Outcome.UNKNOWN),
        (lost_answer("GET"), CallRecord(sends=1), Outcome.FAILED),
    ],
)
async def test_any_other_refusal_is_read_back_lost_or_not(
    fake: FakeCertCentral,
    client: dc.CertCentralClient,
    error: dc.DigiCertError,
    post: CallRecord,
    outcome: Outcome,
) -> None:
    order_id = fake.add_order("issued")
    result = await job(client, order_id)._after_refusal(order_id, error, post)
    assert result == Result(order_id, outcome, status="issued")
    assert result.error is error
    assert len(requests_to(fake, "GET", f"/order/certificate/{order_id}")) == 1


# --------------------------------------------------------------------------- _pending_reissue


async def test_check_pending_takes_a_reissue_pending_order_as_reissued_unread(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = fake.add_order("reissue_pending")
    running = job(client, order_id)
    assert await running._pending_reissue(order_id, "reissue_pending") == Result(
        order_id, Outcome.REISSUED, status="reissue_pending", uncertain=True
    )
    assert await running._pending_reissue(order_id, "revoked") is None
    assert not requests_to(fake, "GET", f"/order/certificate/{order_id}/reissue")


async def test_check_pending_reads_the_listing_of_an_issued_order(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    pending, clear = await pending_reissue(fake, client), fake.add_order("issued")
    running = job(client, pending, clear)
    assert await running._pending_reissue(pending, "issued") == Result(
        pending, Outcome.REISSUED, status="issued", uncertain=True
    )
    assert await running._pending_reissue(clear, "issued") is None
    assert await running._pending_reissue(MISSING, "issued") == Result(MISSING, Outcome.NOT_FOUND)
    fail_reads(fake, f"/{clear}/reissue")
    result = await running._pending_reissue(clear, "issued")
    assert result == Result(clear, Outcome.UNKNOWN, status="issued")
    assert isinstance(result.error, dc.ServerError)
    assert running._runner.stopped_by is None


async def test_check_pending_with_a_refused_key_stops_the_job(fake: FakeCertCentral) -> None:
    order_id = fake.add_order("issued")
    async with dc.CertCentralClient(
        "not-the-key", base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
    ) as client:
        running = job(client, order_id)
        result = await running._pending_reissue(order_id, "issued")
    assert result == Result(order_id, Outcome.UNKNOWN, status="issued")
    assert isinstance(result.error, dc.InvalidKeyError)
    assert running._runner.stopped_by is result.error


# --------------------------------------------------------------------------- _cut_short


_READ = "the job was {} while the order was being read (no reissue was sent)"
_POSTED = "the reissue request was in flight when the job was {} (it may have landed)"


@pytest.mark.parametrize(
    ("post", "outcome", "said"),
    [
        (None, Outcome.FAILED, _READ),
        (CallRecord(), Outcome.FAILED, _READ),
        (CallRecord(sends=1), Outcome.UNKNOWN, _POSTED),
        (CallRecord(in_flight=True), Outcome.UNKNOWN, _POSTED),
    ],
)
@pytest.mark.parametrize(
    ("cut", "how", "kind"),
    [
        (Cut.DEADLINE, "cut short by its deadline", TimeoutError),
        (Cut.INTERRUPTED, "interrupted", asyncio.CancelledError),
    ],
)
async def test_an_order_cut_short_says_whether_its_reissue_was_in_flight(
    client: dc.CertCentralClient,
    post: CallRecord | None,
    outcome: Outcome,
    said: str,
    cut: Cut,
    how: str,
    kind: type[BaseException],
) -> None:
    running = job(client, 5)
    replaced = OrderCertificate(id=3)
    running._read[5] = replaced
    if post is not None:
        running._posts[5] = post
    result = running._cut_short(5, cut)
    assert result == Result(5, outcome)
    assert type(result.error) is kind and str(result.error) == said.format(how)
    assert result.replaced is replaced


async def test_only_a_reissue_sent_or_in_doubt_names_the_certificate_it_replaces(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    issued, revoked = fake.add_order("issued"), fake.add_order("revoked")
    report = await job(client, issued, revoked, MISSING)
    sent, refused, missing = report.results
    assert sent.outcome is Outcome.REISSUED and sent.replaced is not None
    assert sent.replaced.id == fake.certificate_ids(issued)[0]
    assert refused == Result(revoked, Outcome.NOT_REISSUABLE, status="revoked")
    assert refused.replaced is None and missing.replaced is None


# --------------------------------------------------------------------------- whole runs


async def test_a_stopping_read_back_stops_the_job(fake: FakeCertCentral) -> None:
    order_id = fake.add_order("issued")
    async with dc.CertCentralClient(
        "not-the-key", base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
    ) as client:
        running = job(client, order_id)
        result = await running._settle(order_id, lost_answer(), lost=True)
    assert result == Result(order_id, Outcome.UNKNOWN)
    assert isinstance(running._runner.stopped_by, dc.InvalidKeyError)


async def test_a_refused_key_fails_the_order_read_and_leaves_the_rest_unstarted(
    fake: FakeCertCentral,
) -> None:
    first, second = fake.add_order("issued"), fake.add_order("issued")
    async with dc.CertCentralClient(
        "not-the-key", base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
    ) as client:
        report = await dc.reissue_orders(client, {first: CSR, second: CSR}, concurrency=1)
    # the first order's read went on the wire: failed, with why; the second never started
    assert report.results == [Result(first, Outcome.FAILED), Result(second, Outcome.NOT_ATTEMPTED)]
    assert isinstance(report.results[0].error, dc.InvalidKeyError)
    assert report.stopped_by is report.results[0].error
    assert report.duplicates == {}


async def test_a_server_out_of_reach_leaves_every_order_unstarted() -> None:
    async with dc.CertCentralClient(
        "key",
        base_url="http://127.0.0.1:9/services/v2",
        rate_limit=dc.RateLimit.disabled(),
        retry=dc.RetryPolicy.disabled(),
    ) as client:
        report = await dc.reissue_orders(client, {1: CSR, 2: CSR}, concurrency=1)
    assert report.results == [Result(1, Outcome.NOT_ATTEMPTED), Result(2, Outcome.NOT_ATTEMPTED)]
    assert isinstance(report.stopped_by, dc.TransportError)


async def test_an_order_that_cannot_be_read_fails_with_why_and_is_logged(
    fake: FakeCertCentral, client: dc.CertCentralClient, caplog: pytest.LogCaptureFixture
) -> None:
    unreadable, fine = fake.add_order("issued"), fake.add_order("issued")
    fail_reads(fake, f"/certificate/{unreadable}")
    with caplog.at_level("INFO", logger="digicert_async.bulk"):
        report = await job(client, unreadable, fine)
    failed, reissued = report.results
    assert failed == Result(unreadable, Outcome.FAILED)
    assert isinstance(failed.error, dc.ServerError)
    assert reissued.outcome is Outcome.REISSUED
    messages = [record.getMessage() for record in caplog.records]
    assert any(
        message.startswith(f"order {unreadable}: reissue: reading it back failed too (")
        for message in messages
    )
    assert "bulk reissue finished: reissued=1, failed=1" in messages


@pytest.mark.parametrize(
    ("lost", "path", "what"),
    [
        (True, "/certificate/{}", "order {}: reissue failed"),
        (True, "/{}/reissue", "order {}: listing its reissues"),
    ],
)
async def test_a_read_back_that_fails_is_logged_with_what_it_was_for(
    fake: FakeCertCentral,
    client: dc.CertCentralClient,
    caplog: pytest.LogCaptureFixture,
    lost: bool,
    path: str,
    what: str,
) -> None:
    order_id = fake.add_order("issued")
    listing = "reissue" in path
    for _ in range(2 if listing else 1):  # the listing is read by _pending_reissue too
        fail_reads(fake, path.format(order_id))
    with caplog.at_level("WARNING", logger="digicert_async.bulk"):
        await job(client, order_id)._settle(order_id, lost_answer(), lost=lost)
        if listing:
            await job(client, order_id)._pending_reissue(order_id, "issued")
    prefix = f"{what.format(order_id)}: reading it back failed too ("
    found = [r.getMessage() for r in caplog.records if r.getMessage().startswith(prefix)]
    assert len(found) == (2 if listing else 1)


async def test_an_answer_without_requests_is_reissued_without_a_request_id() -> None:
    # DigiCert's Reissue page shows requests[] in its answer; one without them (the
    # fake always lists one) still means the reissue was accepted.
    async with served() as (server, client):
        server.answer(
            "GET",
            "/order/certificate/7",
            200,
            {"id": 7, "status": "issued", "certificate": {"id": 3, "common_name": "example.com",
                                                          "signature_hash": "sha256"}},
        )  # fmt: skip
        server.answer("POST", "/order/certificate/7/reissue", 201, {"id": 7})
        report = await dc.reissue_orders(client, {7: CSR})
    assert report.results == [Result(7, Outcome.REISSUED, status="reissue_pending")]
    assert report.results[0].request_id is None
