"""Bulk jobs tell their runs through the client's hooks: JobStarted and JobEnded, with the
ids, the outcome counts and how the run ended."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault


class Jobs:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.hooks = dc.Hooks(on_job_start=[self.events.append], on_job_end=[self.events.append])

    def ended(self) -> list[dc.JobEnded]:
        return [e for e in self.events if isinstance(e, dc.JobEnded)]


def client_for(fake: FakeCertCentral, hooks: dc.Hooks) -> dc.CertCentralClient:
    return dc.CertCentralClient(
        api_key=fake.api_key,
        base_url=fake.base_url,
        hooks=hooks,
        rate_limit=dc.RateLimit.disabled(),
        retry=dc.RetryPolicy.disabled(),
    )


async def test_a_cancel_tells_its_ids_and_its_outcome_counts() -> None:
    jobs = Jobs()
    async with FakeCertCentral(rate_limits=None, orders=0) as fake:
        pending = [fake.add_order("pending") for _ in range(3)]
        ids = [*pending, pending[0], pending[0], 999_999_999]
        async with client_for(fake, jobs.hooks) as client:
            report = await dc.cancel_orders(client, ids, note="n", concurrency=2)
    started, ended = jobs.events
    assert started == dc.JobStarted(job="cancel", ids=4, duplicates=2)
    assert isinstance(ended, dc.JobEnded)
    assert (ended.job, ended.ids, ended.unfinished) == ("cancel", 4, 0)
    assert ended.outcomes == {"canceled": 3, "not_found": 1}
    assert {k.value: v for k, v in report.counts.items() if v} == ended.outcomes
    assert (ended.timed_out, ended.stopped_by, ended.error) == (False, None, None)
    assert ended.elapsed > 0


async def test_a_job_cut_by_its_deadline_says_so_and_counts_what_is_unfinished() -> None:
    jobs = Jobs()
    async with FakeCertCentral(rate_limits=None, orders=0, slow_seconds=5.0) as fake:
        ids = [fake.add_order("pending") for _ in range(3)]
        fake.inject(Fault.SLOW, times=3)
        async with client_for(fake, jobs.hooks) as client:
            await dc.cancel_orders(client, ids, note="n", concurrency=1, deadline=0.3)
    (ended,) = jobs.ended()
    assert ended.timed_out is True
    # the id in flight is cut short (a result of its own), the others never started
    assert ended.unfinished == 2 and sum(ended.outcomes.values()) == 1


async def test_a_download_is_a_job_whose_results_have_no_outcome() -> None:
    jobs = Jobs()
    async with FakeCertCentral(rate_limits=None, orders=0) as fake:
        ids = [fake.add_order("issued") for _ in range(2)]
        async with client_for(fake, jobs.hooks) as client:
            async for _ in dc.download_certificates(client, ids):
                pass
    (ended,) = jobs.ended()
    assert (ended.job, ended.ids, ended.outcomes, ended.unfinished) == (
        "download",
        2,
        {"done": 2},
        0,
    )


async def test_a_job_whose_run_is_cancelled_tells_the_cancellation() -> None:
    jobs = Jobs()
    started = asyncio.Event()
    hooks = jobs.hooks + dc.Hooks(on_job_start=[lambda _: started.set()])
    async with FakeCertCentral(rate_limits=None, orders=0, slow_seconds=5.0) as fake:
        ids = [fake.add_order("pending") for _ in range(2)]
        fake.inject(Fault.SLOW, times=2)
        async with client_for(fake, hooks) as client:
            task = asyncio.ensure_future(dc.cancel_orders(client, ids, note="n"))
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    (ended,) = jobs.ended()
    assert isinstance(ended.error, asyncio.CancelledError)


def test_job_hooks_must_be_callables() -> None:
    with pytest.raises(dc.ValidationError, match=r"hooks\.on_job_end"):
        dc.Hooks(on_job_end=[42])  # type: ignore[list-item]


async def test_a_validation_is_a_job_with_its_outcome_counts() -> None:
    from .test_validation_fake import clock_of

    jobs = Jobs()
    async with FakeCertCentral(rate_limits=None, dcv_required=True) as fake:
        orders = [fake.add_order("pending", common_name=f"j{i}.example.com") for i in range(2)]
        _, sleep = clock_of(fake)
        driver = dc.DcvDriver(publish=fake.dns.publish, unpublish=fake.dns.unpublish, sleep=sleep)
        async with client_for(fake, jobs.hooks) as client:
            report = await dc.validate_domains(client, orders, driver=driver)
    started, ended = jobs.events
    assert started == dc.JobStarted(job="validate", ids=2)
    assert isinstance(ended, dc.JobEnded)
    assert ended.outcomes == {k.value: v for k, v in report.counts.items() if v}
    assert sum(ended.outcomes.values()) == 2 and ended.unfinished == 0
