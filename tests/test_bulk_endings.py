"""Every job ends, and says why: a poll ends an order that can never reach ``until``, a job
whose server cannot be reached stops and names the cause, a failed cancel names its PUT."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import digicert_async as dc
from digicert_async.bulk._common import UNCONNECTED_CALLS, Reach, call_in_job, stops_a_job
from digicert_async.bulk._lifecycle import LATER_STATUSES, never_reaches
from digicert_async.testing import FakeCertCentral, Fault

from .test_fleet import CSR

FAST_RETRY = dc.RetryPolicy(max_attempts=3, backoff_initial=0.01, backoff_max=0.02)
IN_PROGRESS = {
    "pending",
    "submitted",
    "needs_approval",
    "waiting_pickup",
    "processing",
    "approved",
    "needs_csr",
}


@pytest.fixture
async def still() -> AsyncIterator[FakeCertCentral]:
    """A fake whose orders change only when a test changes them."""
    async with FakeCertCentral(rate_limits=None, issue_after=None) as server:
        yield server


def client_for(base_url: str, api_key: str = "key", **options: object) -> dc.CertCentralClient:
    settings: dict[str, object] = {"rate_limit": dc.RateLimit.disabled(), "retry": FAST_RETRY}
    settings.update(options)
    return dc.CertCentralClient(api_key=api_key, base_url=base_url, **settings)  # type: ignore[arg-type]


# --- which statuses are final, for which until -----------------------------------------


@pytest.mark.parametrize(
    ("status", "until", "final"),
    [
        # the issue's cases: waiting for issued, an order that can no longer get there
        ("canceled", {"issued"}, True),
        ("rejected", {"issued"}, True),
        ("revoked", {"issued"}, True),
        ("expired", {"issued"}, True),
        ("denied", {"issued"}, True),
        # issued can still be revoked, expire, be reissued or marked renewed
        ("issued", {"revoked"}, False),
        ("issued", {"expired"}, False),
        ("issued", {"not_renewed"}, False),  # by way of renewed
        ("issued", {"canceled", "rejected"}, True),
        ("reissue_pending", {"revoked"}, False),  # back to issued, then revoked
        ("reissue_pending", {"canceled"}, True),
        ("expired", {"renewed"}, False),
        ("expired", {"revoked"}, True),
        ("renewed", {"not_renewed"}, False),
        ("not_renewed", {"issued"}, True),
        # in progress, or not known: may become anything
        *((status, {"issued"}, False) for status in sorted(IN_PROGRESS)),
        ("a_status_digicert_adds_later", {"issued"}, False),
        (None, {"issued"}, False),
        # in until: reached, not ended
        ("canceled", {"canceled"}, False),
        ("denied", dc.TERMINAL_STATUSES, True),
        ("renewed", dc.TERMINAL_STATUSES, True),
    ],
)
def test_which_statuses_never_reach_until(status: str | None, until: set[str], final: bool) -> None:
    assert never_reaches(status, until) is final


def test_the_table_names_documented_statuses_and_leaves_the_rest_in_progress() -> None:
    named = set(LATER_STATUSES).union(*LATER_STATUSES.values())
    assert named <= dc.ORDER_STATUSES
    assert dc.ORDER_STATUSES - set(LATER_STATUSES) == IN_PROGRESS
    for status in IN_PROGRESS:  # any until at all: never final
        assert not never_reaches(status, {"issued"} - {status} or {"canceled"})


# --- a poll ends -------------------------------------------------------------------------


async def test_a_poll_until_issued_ends_the_orders_that_never_will(
    still: FakeCertCentral,
) -> None:
    final = {status: still.add_order(status) for status in ("canceled", "rejected", "revoked")}
    final["expired"] = still.add_order("expired")
    pending = still.add_order("pending")

    async def issue_later() -> None:
        await asyncio.sleep(0.3)
        still.set_status(pending, "issued")

    issuer = asyncio.ensure_future(issue_later())
    async with client_for(still.base_url, still.api_key) as client:

        async def poll() -> list[dc.OrderUpdate]:  # no deadline: it must end by itself
            ids = [*final.values(), pending]
            return [u async for u in dc.poll_orders(client, ids, until="issued", interval=0.05)]

        updates = await asyncio.wait_for(poll(), 20)
    await issuer
    by_id = {u.order_id: u for u in updates}
    for status, order_id in final.items():
        update = by_id[order_id]
        assert (update.status, update.never_reaches) == (status, True)
        assert [u.order_id for u in updates].count(order_id) == 1  # its last update
    assert (by_id[pending].status, by_id[pending].never_reaches) == ("issued", False)


async def test_an_issued_order_is_not_final_while_waiting_for_revoked(
    still: FakeCertCentral,
) -> None:
    issued = still.add_order("issued")

    async def revoke_later() -> None:
        await asyncio.sleep(0.3)
        still.set_status(issued, "revoked")

    revoker = asyncio.ensure_future(revoke_later())
    async with client_for(still.base_url, still.api_key) as client:
        updates = [
            u
            async for u in dc.poll_orders(
                client, [issued], until={"revoked"}, interval=0.05, deadline=20
            )
        ]
    await revoker
    assert [(u.status, u.never_reaches) for u in updates] == [
        ("issued", False),
        ("revoked", False),
    ]


# --- a job that cannot reach its server stops, and says why ------------------------------


def test_the_reach_rule() -> None:
    refused = [
        dc.TransportError("cannot connect", method="GET", url="u", request_sent=False)
        for _ in range(3)
    ]
    timed_out = dc.TransportError("no answer", method="GET", url="u", request_sent=True)
    assert not stops_a_job(refused[0])  # outside a job, one error says nothing
    reach = Reach()
    with call_in_job(reach):
        assert not stops_a_job(timed_out)  # it connected: not the rule's
        assert not stops_a_job(refused[0])
        assert not stops_a_job(refused[0])  # the same failure asked about again counts once
        assert stops_a_job(refused[1])  # the second call that could not connect
    assert UNCONNECTED_CALLS == 2
    reached = Reach()
    with call_in_job(reached) as call:
        call.sends = 1  # a request of the job went on the wire
    with call_in_job(reached):
        assert not any(stops_a_job(error) for error in refused)
    within = Reach()
    with call_in_job(within) as call:
        call.sends = 1  # this call's first attempt went on the wire, its retries did not
        assert not any(stops_a_job(error) for error in refused)
        assert within.reached


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/services/v2"  # nothing listens: connection refused


def _refused(error: BaseException | None) -> bool:
    return isinstance(error, dc.TransportError) and not error.request_sent


async def test_a_cancel_against_a_closed_port_stops_and_names_the_cause() -> None:
    ids = list(range(100_001, 100_041))
    async with client_for(_closed_port_url()) as client:
        report = await dc.cancel_orders(client, ids, note="x", concurrency=4)
    assert [r.order_id for r in report.results] == ids
    assert _refused(report.stopped_by) and "cannot connect" in str(report.stopped_by)
    failed = [r for r in report.results if r.outcome is dc.CancelOutcome.FAILED]
    assert 1 <= len(failed) <= 4 + UNCONNECTED_CALLS - 1  # started before the job stopped
    # each names its PUT (no read-back GET was sent: the PUT never left)
    assert all(_refused(r.error) and r.error.method == "PUT" for r in failed)  # type: ignore[union-attr]
    assert report.counts[dc.CancelOutcome.NOT_ATTEMPTED] == len(ids) - len(failed)
    assert sorted(report.resume_ids()) == ids


async def test_a_poll_against_a_closed_port_raises_the_cause() -> None:
    async with client_for(_closed_port_url()) as client:

        async def poll() -> list[dc.OrderUpdate]:  # no deadline: it must end by itself
            return [u async for u in dc.poll_orders(client, [100_001], until="issued")]

        with pytest.raises(dc.TransportError) as caught:
            await asyncio.wait_for(poll(), 20)
    assert _refused(caught.value)


async def test_download_and_reissue_against_a_closed_port_stop_with_the_cause() -> None:
    ids = list(range(100_001, 100_021))
    async with client_for(_closed_port_url()) as client:
        job = dc.download_certificates(client, ids, concurrency=2)
        items = [item async for item in job]
        report = await dc.reissue_orders(client, dict.fromkeys(ids, CSR), concurrency=2)
    assert _refused(job.stopped_by)
    assert sorted(item.order_id for item in items) == ids
    assert sum(item.attempted for item in items) <= 2
    assert _refused(report.stopped_by)
    assert report.counts[dc.ReissueOutcome.NOT_ATTEMPTED] >= len(ids) - 2


async def test_a_job_that_reached_its_server_is_not_stopped_by_a_refused_connection(
    still: FakeCertCentral,
) -> None:
    ids = [still.add_order("pending") for _ in range(6)]
    async with client_for(still.base_url, still.api_key) as client:
        job = dc.cancel_orders(client, ids, note="x", concurrency=1)
        results = []
        async for result in job:
            results.append(result)
            if len(results) == 1:  # the server goes away after the first answer
                await still.__aexit__(None, None, None)
        report = job.report
    assert report.stopped_by is None
    failed = [r for r in report.results if r.outcome is not dc.CancelOutcome.CANCELED]
    assert len(failed) > UNCONNECTED_CALLS  # every order was tried: the job went on
    assert all(r.outcome is dc.CancelOutcome.FAILED and _refused(r.error) for r in failed)


# --- a failed cancel names the PUT --------------------------------------------------------


async def test_a_cancel_whose_read_back_fails_too_names_the_put(still: FakeCertCentral) -> None:
    order_id = still.add_order("issued")  # the PUT is refused (issued)
    still.inject(Fault.INTERNAL_ERROR, times=50, method="GET", path_contains=f"/{order_id}")
    async with client_for(still.base_url, still.api_key) as client:
        report = await dc.cancel_orders(client, [order_id], note="x")
    (result,) = report.results
    assert result.outcome is dc.CancelOutcome.FAILED
    assert isinstance(result.error, dc.BadRequestError) and result.error.method == "PUT"
    assert result.to_json()["error"].startswith("BadRequestError: PUT ")


def test_the_readme_table_is_the_code_table() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| status | may still become |") :].split("\n\n", 1)[0]
    documented: dict[str, frozenset[str]] = {}
    for row in table.splitlines()[2:]:
        statuses, later = (cell.strip() for cell in row.strip("|").split("|"))
        moves = frozenset() if later == "nothing" else frozenset(re.findall(r"`(\w+)`", later))
        for status in re.findall(r"`(\w+)`", statuses):
            documented[status] = moves
    assert documented == dict(LATER_STATUSES)
