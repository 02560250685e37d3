"""``dc.download_certificates``: one item per distinct order id, each id exactly once,
bounded concurrency, the deadline, a job stopped by a refused key, checks before
sending; against FakeCertCentral (and a slow loopback server for timing bounds)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

import digicert_async as dc
from digicert_async._pem import read_blocks, split_bundle
from digicert_async.testing import FakeCertCentral, Fault

pytest.importorskip("cryptography.x509")

ISSUE_AFTER = 60.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeCertCentral]:
    async with FakeCertCentral(rate_limits=None, issue_after=ISSUE_AFTER) as server:
        yield server


def client_for(root: str, key: str = "key", **options: Any) -> dc.CertCentralClient:
    options.setdefault("rate_limit", dc.RateLimit.disabled())
    return dc.CertCentralClient(api_key=key, base_url=root, **options)


async def collect(job: dc.DownloadJob) -> list[dc.CertificateDownload]:
    return [item async for item in job]


async def test_every_distinct_id_once_with_its_file_or_its_error(fake: FakeCertCentral) -> None:
    issued = [fake.add_order("pending", common_name=f"h{n}.example.com") for n in range(12)]
    fake.advance(ISSUE_AFTER)
    pending = fake.add_order("pending")
    missing = 999_999_999
    ids = [*issued, pending, missing, issued[0], issued[3], issued[0]]
    async with client_for(fake.base_url, fake.api_key) as client:
        job = dc.download_certificates(client, ids, format="pem_noroot", concurrency=4)
        items = await collect(job)
        expected = {
            order_id: await client.certificates.download_for_order(order_id, format="pem_noroot")
            for order_id in issued
        }
    assert Counter(item.order_id for item in items) == Counter(set(ids))  # each once
    assert job.duplicates == {issued[0]: 2, issued[3]: 1}
    assert job.stopped_by is None
    by_id = {item.order_id: item for item in items}
    for order_id in issued:
        item = by_id[order_id]
        assert item.ok and item.error is None and item.data == expected[order_id]
    assert isinstance(by_id[pending].error, dc.BadRequestError) and by_id[pending].data is None
    assert isinstance(by_id[missing].error, dc.NotFoundError) and not by_id[missing].ok
    downloads = [r for r in fake.requests if "/certificate/download/order/" in r.path]
    # one GET per distinct id from the job (plus the test's own reads)
    assert len(downloads) == len(set(ids)) + len(issued)
    assert "bytes>" in repr(by_id[issued[0]]) and "BEGIN" not in repr(by_id[issued[0]])


async def test_the_files_come_under_faults_every_id_once() -> None:
    kinds = (Fault.INTERNAL_ERROR, Fault.RESET_BEFORE, Fault.TRUNCATED_JSON)
    async with FakeCertCentral(rate_limits=None, issue_after=ISSUE_AFTER, seed=11) as fake:
        ids = [fake.add_order("pending") for _ in range(30)]
        fake.advance(ISSUE_AFTER)
        fake.fault_rate, fake.fault_kinds = 0.1, kinds
        retry = dc.RetryPolicy(max_attempts=6, backoff_initial=0.001)
        async with client_for(fake.base_url, fake.api_key, retry=retry) as client:
            items = await collect(dc.download_certificates(client, ids, concurrency=8))
        faults = Counter(r.fault for r in fake.requests if r.fault is not None)
    assert sum(faults.values()) > 0  # the faults did happen
    assert sorted(item.order_id for item in items) == sorted(ids)
    for item in items:
        sent = [r for r in fake.requests if f"/download/order/{item.order_id}/" in r.path]
        assert sent, item
        last = sent[-1].fault
        # a reset is sent again; a 500 and a cut file are final
        assert all(r.fault is Fault.RESET_BEFORE for r in sent[:-1]), (item, sent)
        if last is None:
            stored = fake.certificate(fake.order(item.order_id)["certificate"]["id"])  # type: ignore[index]
            assert stored is not None and item.data == stored.pem_all.encode()  # type: ignore[union-attr]
        elif last is Fault.INTERNAL_ERROR:
            assert isinstance(item.error, dc.ServerError) and item.data is None, item
        else:  # a cut file is refused, never handed over broken
            assert last is Fault.TRUNCATED_JSON, item
            assert isinstance(item.error, dc.ResponseError) and item.data is None, item
    # most came through the faults (at this rate a few fail), each its own order's
    # certificate: the leaf of the file is the one the fake issued for that order
    came = [item for item in items if item.ok]
    assert len(came) >= len(ids) // 2
    for item in came:
        stored = fake.certificate(fake.order(item.order_id)["certificate"]["id"])  # type: ignore[index]
        assert stored is not None and item.data is not None, item
        leaf = split_bundle(item.data.decode()).leaf
        assert leaf == read_blocks(stored.pem)[0].pem, item  # type: ignore[arg-type]
    assert len({item.data for item in came}) == len(came)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"order_ids": [1, 0]}, "order_ids"),
        ({"order_ids": [1, "2"]}, "order_ids"),
        ({"format": "pem"}, "format"),
        ({"concurrency": 0}, "concurrency"),
        ({"deadline": -1}, "deadline"),
    ],
)
async def test_bad_arguments_are_refused_when_called_before_sending(
    fake: FakeCertCentral, arguments: dict[str, Any], field: str
) -> None:
    options = {"order_ids": [1, 2], **arguments}
    async with client_for(fake.base_url, fake.api_key) as client:
        with pytest.raises(dc.ValidationError) as caught:
            dc.download_certificates(client, options.pop("order_ids"), **options)
    assert caught.value.field == field
    assert fake.requests == []


class SlowServer:
    """Answers every download after ``delay`` seconds with a one-certificate PEM, and
    counts how many requests it holds at once."""

    def __init__(self, body: bytes, delay: float) -> None:
        self.body, self.delay = body, delay
        self.in_flight = self.most = self.seen = 0
        self.runner: web.AppRunner | None = None
        self.root = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.seen += 1
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if request.headers.get("X-DC-DEVKEY") != "key":
            body = b'{"errors":[{"code":"access_denied|access_denied_invalid_key","message":"no"}]}'
            return web.Response(status=403, body=body, content_type="application/json")
        return web.Response(body=self.body, content_type="application/x-pem-file")

    async def __aenter__(self) -> SlowServer:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.1
        )
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.root = f"http://127.0.0.1:{self.runner.addresses[0][1]}/services/v2"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


@pytest.fixture
def leaf_pem() -> bytes:
    from .test_downloads_pem import make_chain

    return make_chain(1).leaf.encode()


async def test_concurrency_is_bounded(leaf_pem: bytes) -> None:
    async with SlowServer(leaf_pem, 0.05) as server:
        async with client_for(server.root, timeout=10.0) as client:
            items = await collect(dc.download_certificates(client, range(1, 41), concurrency=5))
    assert len(items) == 40 and all(item.data == leaf_pem for item in items)
    assert server.most <= 5
    assert server.most >= 2  # they did run side by side


async def test_the_deadline_cuts_in_flight_and_unstarted_ids_each_reported(
    leaf_pem: bytes,
) -> None:
    async with SlowServer(leaf_pem, 30.0) as server:
        async with client_for(server.root, timeout=60.0) as client:
            started = time.monotonic()
            items = await collect(
                dc.download_certificates(client, range(1, 11), concurrency=3, deadline=0.3)
            )
            elapsed = time.monotonic() - started
    assert elapsed < 10.0  # a behaviour bound (the server answers after 30 s)
    assert sorted(item.order_id for item in items) == list(range(1, 11))
    assert all(isinstance(item.error, TimeoutError) for item in items)
    assert sum(item.attempted for item in items) == 3  # the three in flight
    assert server.seen == 3


async def test_a_refused_key_stops_the_job_and_every_id_is_still_reported(
    leaf_pem: bytes,
) -> None:
    async with SlowServer(leaf_pem, 0.01) as server:
        async with client_for(server.root, key="wrong", timeout=10.0) as client:
            job = dc.download_certificates(client, range(1, 101), concurrency=4)
            items = await collect(job)
    assert isinstance(job.stopped_by, dc.PermissionDeniedError)
    assert sorted(item.order_id for item in items) == list(range(1, 101))
    assert all(isinstance(item.error, dc.PermissionDeniedError) for item in items)
    assert server.seen <= 8  # the job stopped instead of trying all hundred
    assert sum(not item.attempted for item in items) >= 100 - server.seen


async def test_leaving_early_cancels_what_is_in_flight(leaf_pem: bytes) -> None:
    async with SlowServer(leaf_pem, 0.05) as server:
        async with client_for(server.root, timeout=10.0) as client:
            job = dc.download_certificates(client, range(1, 51), concurrency=2)
            async for item in job:
                assert item.ok
                break
            await asyncio.sleep(0.2)
            assert server.in_flight == 0
            seen = server.seen
            await asyncio.sleep(0.2)
            assert server.seen == seen  # nothing more was started
        with pytest.raises(RuntimeError, match="runs once"):
            job.__aiter__()
