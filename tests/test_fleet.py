"""Bulk reissue (``dc.reissue_orders``) against FakeCertCentral: every order accounted for
once, each reissue POST sent at most once, a lost answer settled by reading back."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault, RecordedRequest

from .test_bulk import client_for

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

Outcome = dc.ReissueOutcome
_KEY = ec.generate_private_key(ec.SECP256R1())


def make_csr(common_name: str = "example.com") -> str:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(_KEY, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode("ascii")


CSR = make_csr()
EXPECTED = {
    "issued": Outcome.REISSUED,
    "pending": Outcome.NOT_REISSUABLE,
    "reissue_pending": Outcome.NOT_REISSUABLE,
    "canceled": Outcome.NOT_REISSUABLE,
    "revoked": Outcome.NOT_REISSUABLE,
    "expired": Outcome.NOT_REISSUABLE,
}


def arrange(fake: FakeCertCentral, n: int, rng: random.Random) -> tuple[list[int], dict[int, str]]:
    """n ids of every kind (a tenth missing), issued ones the most, shuffled."""
    initial: dict[int, str] = {}
    ids: list[int] = []
    kinds = ["issued", "issued", "issued", *[k for k in EXPECTED if k != "issued"]]
    for i in range(n):
        if i % 10 == 9:
            ids.append(900_000_000 + i)
            continue
        status = kinds[i % len(kinds)]
        order_id = fake.add_order(status, common_name=f"host{i}.example.com")
        initial[order_id] = status
        ids.append(order_id)
    rng.shuffle(ids)
    return ids, initial


def reissue_posts(fake: FakeCertCentral, order_id: int) -> list[RecordedRequest]:
    path = f"/order/certificate/{order_id}/reissue"
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith(path)]


def reissues_made(fake: FakeCertCentral, order_id: int) -> int:
    """How many reissued certificates the fake holds for the order (pending or issued)."""
    kinds = [fake.certificate(c) for c in fake.certificate_ids(order_id)]
    return sum(1 for stored in kinds if stored is not None and stored.kind == "reissue")


@pytest.fixture
async def fake() -> AsyncIterator[FakeCertCentral]:
    # issue_after=None: reissues stay pending, so what the job did stays in sight
    async with FakeCertCentral(rate_limits=None, seed=1, issue_after=None) as server:
        yield server


async def test_mixed_ids_get_exactly_the_right_outcome(fake: FakeCertCentral) -> None:
    ids, initial = arrange(fake, 200, random.Random(3))
    csrs = {order_id: CSR for order_id in ids}
    async with client_for(fake) as client:
        report = await dc.reissue_orders(client, csrs, concurrency=20)
    assert [r.order_id for r in report.results] == ids
    for result in report.results:
        if result.order_id not in initial:
            assert result.outcome is Outcome.NOT_FOUND, result
            assert not reissue_posts(fake, result.order_id)
            continue
        status = initial[result.order_id]
        assert result.outcome is EXPECTED[status], (result, status)
        now = fake.order(result.order_id)
        assert now is not None
        if result.outcome is Outcome.REISSUED:
            assert isinstance(result.request_id, int) and not result.uncertain
            assert result.status == now["status"] == "reissue_pending"
            (post,) = reissue_posts(fake, result.order_id)
            sent = post.json["certificate"]
            assert sent["csr"] == CSR
            # the names and hash came from the job's one read of the order
            assert sent["common_name"] == now["certificate"]["common_name"]
            assert sent["signature_hash"] == now["certificate"]["signature_hash"]
            assert reissues_made(fake, result.order_id) == 1
            # the certificate it replaces is the one the order had before
            original = fake.certificate(fake.certificate_ids(result.order_id)[0])
            assert result.replaced is not None and original is not None
            assert result.replaced.id == original.id
            assert result.to_json()["replaced_certificate"]["serial_number"] == (
                original.serial_number
            )
        else:
            assert result.status == status and now["status"] == status
            assert not reissue_posts(fake, result.order_id)
    # one read and at most one POST per order: no second read inside orders.reissue
    per_order = Counter(r.path.split("/")[5] for r in fake.requests)
    assert max(per_order.values()) <= 2
    assert report.counts[Outcome.REISSUED] == sum(1 for s in initial.values() if s == "issued")
    assert report.complete and report.resume_ids() == []
    assert str(report.counts).startswith("{'reissued': ")


@pytest.mark.parametrize(
    "csrs",
    [
        {1: "<csr>"},
        {1: CSR, 2: "-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n"},
        {0: CSR},
        {True: CSR},
        {"12": CSR},
        [(1, CSR)],
        {1: None},
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    fake: FakeCertCentral, csrs: object
) -> None:
    order_id = fake.add_order("issued")
    async with client_for(fake) as client:
        with pytest.raises(dc.ValidationError):
            dc.reissue_orders(client, csrs)  # type: ignore[arg-type]
        with pytest.raises(dc.ValidationError):
            dc.reissue_orders(client, {order_id: CSR}, concurrency=0)
        with pytest.raises(dc.ValidationError):
            dc.reissue_orders(client, {order_id: CSR}, deadline=-1)
    assert fake.requests == []


@pytest.mark.slow
async def test_faults_never_lose_an_order_nor_reissue_one_twice() -> None:
    # The client's timeout turns a SLOW fault (held 1.5 s) into a lost answer. On a loaded
    # machine it also ends requests no fault touched: a POST that never reached the fake,
    # a read that timed out each time it was tried. Those end `unknown` or `failed`,
    # honestly, and so count for nothing below: what is bounded is the read-backs' own job,
    # settling the reissues that landed, which the load does not decide.
    async with FakeCertCentral(
        rate_limits=None, fault_rate=0.10, seed=11, slow_seconds=1.5, issue_after=None
    ) as fake:
        ids, initial = arrange(fake, 400, random.Random(9))
        async with client_for(fake, timeout=1.0) as client:
            report = await dc.reissue_orders(client, dict.fromkeys(ids, CSR), concurrency=25)
        assert [r.order_id for r in report.results] == ids
        assert report.counts[Outcome.NOT_ATTEMPTED] == 0
        landed_unsettled = []
        for result in report.results:
            order_id = result.order_id
            posts = reissue_posts(fake, order_id)
            if order_id not in initial:
                if result.outcome is not Outcome.NOT_FOUND:  # its reads all failed
                    assert result.outcome is Outcome.FAILED and not posts, result
                    assert not isinstance(result.error, dc.NotFoundError), result
                continue
            # re-sent only after a refusal that applied nothing (a 429, say)
            assert all(p.fault is Fault.RATE_LIMITED for p in posts[:-1]), result
            assert sum(1 for p in posts if p.applied) <= 1, result
            made = reissues_made(fake, order_id)  # the state: NO reissue applied twice
            assert made <= 1, result
            now = fake.order(order_id)
            assert now is not None
            if result.outcome is Outcome.REISSUED:
                assert made == 1 and now["status"] == "reissue_pending", result
            elif result.outcome is Outcome.FAILED:
                assert result.error is not None and made == 0, result
            elif result.outcome is Outcome.UNKNOWN:
                assert result.error is not None, result
                if made:
                    landed_unsettled.append(result)
            else:
                assert result.outcome is EXPECTED[initial[order_id]], result
                assert not posts
        # the read-backs settle nearly every reissue whose answer was lost
        assert len(landed_unsettled) <= 0.03 * len(ids), landed_unsettled
        assert any(r.fault is not None for r in fake.requests), "faults were injected"
        assert set(report.resume_ids()).isdisjoint(report.ids(Outcome.UNKNOWN))


async def test_a_lost_answer_is_settled_by_reading_back_never_by_sending_again(
    fake: FakeCertCentral,
) -> None:
    landed = fake.add_order("issued")  # the POST is applied, its answer lost
    fake.inject(Fault.RESET_AFTER, method="POST", path_contains=f"/{landed}/reissue")
    async with client_for(fake) as client:
        report = await dc.reissue_orders(client, {landed: CSR})
    (result,) = report.results
    assert (result.outcome, result.uncertain, result.request_id) == (Outcome.REISSUED, True, None)
    assert len(reissue_posts(fake, landed)) == 1
    assert result.to_json()["uncertain"] is True


async def test_an_unsettled_reissue_is_unknown_and_a_rerun_checks_first(
    fake: FakeCertCentral,
) -> None:
    landed = fake.add_order("issued")  # applied, and every read-back of it fails
    lost = fake.add_order("issued")  # never applied (the connection closed first)
    fake.inject(Fault.RESET_AFTER, method="POST", path_contains=f"/{landed}/reissue")
    fake.inject(Fault.RESET_BEFORE, method="POST", path_contains=f"/{lost}/reissue")

    def fail_reads_once_posted(event: dc.RequestSent) -> None:
        # scheduled as the POST goes out: the job's first read of the order is past
        if event.method == "POST" and f"/{landed}/" in event.url:
            fake.inject(Fault.INTERNAL_ERROR, times=3, method="GET", path_contains=f"/{landed}")

    hooks = dc.Hooks(on_request=[fail_reads_once_posted])
    async with client_for(fake, hooks=hooks) as client:
        report = await dc.reissue_orders(client, {landed: CSR, lost: CSR})
    outcomes = {r.order_id: r for r in report.results}
    assert outcomes[landed].outcome is Outcome.UNKNOWN
    assert isinstance(outcomes[landed].error, dc.TransportError)  # the POST's own error
    assert outcomes[lost].outcome is Outcome.UNKNOWN  # still issued, none pending
    assert outcomes[lost].status == "issued"
    assert report.resume_ids() == [] and not report.complete
    assert fake.order(landed)["status"] == "reissue_pending"  # type: ignore[index]
    assert fake.order(lost)["status"] == "issued"  # type: ignore[index]

    unknown = report.ids(Outcome.UNKNOWN)
    async with client_for(fake) as client:
        rerun = await dc.reissue_orders(client, dict.fromkeys(unknown, CSR), check_pending=True)
    again = {r.order_id: r for r in rerun.results}
    # `landed` has its reissue pending: nothing sent; `lost` has none: sent now
    assert (again[landed].outcome, again[landed].uncertain) == (Outcome.REISSUED, True)
    assert (again[lost].outcome, again[lost].uncertain) == (Outcome.REISSUED, False)
    assert len(reissue_posts(fake, landed)) == 1
    assert [p.applied for p in reissue_posts(fake, lost)] == [False, True]
    assert reissues_made(fake, landed) == reissues_made(fake, lost) == 1
    assert rerun.complete


def check_cut_short(fake: FakeCertCentral, report: dc.ReissueReport, ids: list[int]) -> None:
    """Every id once; an order is unknown exactly when its POST went out, failed when
    only its read did; the resume ids are the failed and not attempted ones."""
    assert [r.order_id for r in report.results] == ids
    for result in report.results:
        posted = bool(reissue_posts(fake, result.order_id))
        if result.outcome is Outcome.UNKNOWN:
            assert posted, result
        elif result.outcome in (Outcome.FAILED, Outcome.NOT_ATTEMPTED):
            assert not posted, result
        else:
            assert result.outcome is Outcome.REISSUED, result
    left = set(report.ids(Outcome.FAILED)) | set(report.ids(Outcome.NOT_ATTEMPTED))
    assert set(report.resume_ids()) == left


async def finish(fake: FakeCertCentral, first: dc.ReissueReport, ids: list[int]) -> None:
    """Resume the failed and not attempted, rerun the unknown: every order reissued,
    none twice."""
    fake.fault_rate = 0.0
    async with client_for(fake) as client:
        resumed = await dc.reissue_orders(client, dict.fromkeys(first.resume_ids(), CSR))
        rerun = await dc.reissue_orders(
            client, dict.fromkeys(first.ids(Outcome.UNKNOWN), CSR), check_pending=True
        )
    assert resumed.complete and rerun.complete
    assert set(resumed.ids(Outcome.REISSUED)) == set(first.resume_ids())
    assert set(rerun.ids(Outcome.REISSUED)) == set(first.ids(Outcome.UNKNOWN))
    for order_id in ids:
        # the fake's state, not the request log: a POST cut short was still applied
        assert reissues_made(fake, order_id) == 1, order_id
        assert len(reissue_posts(fake, order_id)) <= 2, order_id


async def test_the_deadline_cuts_the_job_short_and_it_resumes() -> None:
    async with FakeCertCentral(
        rate_limits=None, fault_rate=1.0, fault_kinds=[Fault.SLOW], slow_seconds=0.3,
        issue_after=None,
    ) as fake:  # fmt: skip
        ids = [fake.add_order("issued") for _ in range(60)]
        async with client_for(fake, timeout=5.0) as client:
            started = asyncio.get_running_loop().time()
            report = await dc.reissue_orders(
                client, dict.fromkeys(ids, CSR), concurrency=4, deadline=1.0
            )
            assert asyncio.get_running_loop().time() - started < 3.0
        check_cut_short(fake, report, ids)
        assert report.counts[Outcome.NOT_ATTEMPTED] >= 40
        cut = [r for r in report.results if r.outcome in (Outcome.UNKNOWN, Outcome.FAILED)]
        assert cut and all(isinstance(r.error, TimeoutError) for r in cut)
        assert len(cut) <= 4  # the ones in flight
        await finish(fake, report, ids)


async def test_a_cancelled_job_reports_every_id_and_resumes() -> None:
    async with FakeCertCentral(
        rate_limits=None, fault_rate=1.0, fault_kinds=[Fault.SLOW], slow_seconds=0.2,
        issue_after=None,
    ) as fake:  # fmt: skip
        ids = [fake.add_order("issued") for _ in range(80)]
        async with client_for(fake, timeout=5.0) as client:
            job = dc.reissue_orders(client, dict.fromkeys(ids, CSR), concurrency=4)
            task = asyncio.ensure_future(job)
            await asyncio.sleep(0.7)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        report = job.report
        check_cut_short(fake, report, ids)
        assert report.counts[Outcome.NOT_ATTEMPTED] >= 60
        cut = [r for r in report.results if r.outcome in (Outcome.UNKNOWN, Outcome.FAILED)]
        assert cut and all(isinstance(r.error, asyncio.CancelledError) for r in cut)
        await finish(fake, report, ids)


async def test_results_stream_as_they_complete(fake: FakeCertCentral) -> None:
    ids = [fake.add_order(status) for status in ("issued", "pending", "issued")]
    async with client_for(fake) as client:
        job = dc.reissue_orders(client, dict.fromkeys(ids, CSR))
        seen = [result async for result in job]
    assert sorted(r.order_id for r in seen) == sorted(ids)
    assert job.report.results == sorted(seen, key=lambda r: ids.index(r.order_id))


async def test_a_refused_key_stops_the_job(fake: FakeCertCentral) -> None:
    ids = [fake.add_order("issued") for _ in range(30)]
    async with dc.CertCentralClient(
        api_key="not-the-key", base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
    ) as client:
        report = await dc.reissue_orders(client, dict.fromkeys(ids, CSR), concurrency=3)
    assert isinstance(report.stopped_by, dc.DigiCertError)
    assert report.counts[Outcome.REISSUED] == report.counts[Outcome.UNKNOWN] == 0
    assert report.counts[Outcome.NOT_ATTEMPTED] >= 25
    assert sorted(report.resume_ids()) == sorted(ids)
    assert not [r for r in fake.requests if r.method == "POST"]


@pytest.mark.parametrize(
    ("fault", "outcome", "uncertain"),
    [
        # applied, answer spoilt: read back as reissue_pending
        (Fault.TRUNCATED_JSON, Outcome.REISSUED, True),
        (Fault.MALFORMED_JSON, Outcome.REISSUED, True),
        (Fault.RESET_AFTER, Outcome.REISSUED, True),
        # refused with an answer: nothing applied, a later run may send it
        (Fault.INTERNAL_ERROR, Outcome.FAILED, False),
        # a gateway's 502 may hide an applied POST; here none landed, so it stays unknown
        (Fault.BAD_GATEWAY, Outcome.UNKNOWN, False),
        # a 429 applies nothing and is retried: this run did it, the answer says so
        (Fault.RATE_LIMITED, Outcome.REISSUED, False),
    ],
)
async def test_each_answer_to_the_post_is_settled_honestly(
    fake: FakeCertCentral, fault: Fault, outcome: Outcome, uncertain: bool
) -> None:
    order_id = fake.add_order("issued")
    fake.inject(fault, method="POST", path_contains=f"/{order_id}/reissue")
    async with client_for(fake) as client:
        report = await dc.reissue_orders(client, {order_id: CSR})
    (result,) = report.results
    assert (result.outcome, result.uncertain) == (outcome, uncertain), result
    assert (result.request_id is not None) == (outcome is Outcome.REISSUED and not uncertain)
    assert (result.error is not None) == (outcome in (Outcome.FAILED, Outcome.UNKNOWN))
    assert reissues_made(fake, order_id) == (1 if outcome is Outcome.REISSUED else 0)
    assert sum(1 for p in reissue_posts(fake, order_id) if p.applied) <= 1
    assert (order_id in report.resume_ids()) == (outcome is Outcome.FAILED)
