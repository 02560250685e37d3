"""The job runner under the bulk jobs: concurrency, deadline, interruption, streaming and
accounting, each checked on its own. The steps that need requests on the wire (what is
cut short in flight, what never left) run against FakeCertCentral; the others count
what plain coroutines did."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import attrs
import pytest

import digicert_async as dc
from digicert_async._send import CallRecord
from digicert_async.bulk._runner import Cut, Deadline, DeadlineReached, JobRunner
from digicert_async.testing import FakeCertCentral, Fault


@attrs.frozen
class Seen:
    """A result as a small job would describe it."""

    item_id: int
    what: str
    cut: Cut | None = None


def never_started(item_id: int) -> Seen:
    return Seen(item_id, "not_attempted")


def in_flight(item_id: int, cut: Cut) -> Seen:
    return Seen(item_id, "cut_short", cut)


def runner(
    ids: list[int],
    attempt: Callable[[int, CallRecord], Awaitable[Seen]],
    **options: object,
) -> JobRunner[Seen]:
    settings: dict[str, object] = {"concurrency": 3}
    settings.update(options)
    return JobRunner(
        ids,
        attempt=attempt,
        not_attempted=never_started,
        cut_short=in_flight,
        **settings,  # type: ignore[arg-type]
    )


class Work:
    """An attempt that takes ``seconds`` per id and counts how many run at once."""

    def __init__(self, seconds: Callable[[int], float] = lambda _: 0.01) -> None:
        self.seconds = seconds
        self.running = 0
        self.most = 0
        self.started: list[int] = []

    async def __call__(self, item_id: int, call: CallRecord) -> Seen:
        self.started.append(item_id)
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(self.seconds(item_id))
        finally:
            self.running -= 1
        return Seen(item_id, "done")


# --------------------------------------------------------------------------- accounting


async def test_each_id_runs_once_in_bounded_concurrency_with_a_flat_task_count() -> None:
    ids = [*range(1, 201), 5, 7, 5]
    work = Work()
    job = runner(ids, work, concurrency=4)
    tasks_before = len(asyncio.all_tasks())
    most_tasks = 0

    async def watch() -> None:
        nonlocal most_tasks
        while True:
            most_tasks = max(most_tasks, len(asyncio.all_tasks()) - tasks_before)
            await asyncio.sleep(0.005)

    watcher = asyncio.ensure_future(watch())
    try:
        await job.run()
    finally:
        watcher.cancel()
    assert sorted(work.started) == list(range(1, 201))  # each unique id once
    assert job.duplicates == {5: 2, 7: 1}
    assert work.most == 4
    # the watcher, the run and four workers, not a task per id
    assert most_tasks <= 1 + 4 + 1
    results = job.results()
    assert [r.item_id for r in results] == list(range(1, 201))  # input order
    assert {r.what for r in results} == {"done"}
    assert not job.timed_out and job.stopped_by is None


async def test_results_describe_ids_not_run_yet() -> None:
    job = runner([3, 1, 2], Work())
    assert job.results() == [never_started(3), never_started(1), never_started(2)]


async def test_stop_starts_no_more_ids_and_lets_those_in_flight_finish() -> None:
    refusal = dc.AuthenticationError(401, [], method="PUT", url="https://example.test/x")
    finished: list[int] = []

    async def attempt(item_id: int, call: CallRecord) -> Seen:
        if item_id == 4:
            job.stop(refusal)
            return Seen(item_id, "refused")
        if item_id == 1:
            call.sends = 1  # its request went on the wire
        elif item_id == 2:
            call.in_flight = True  # its request is on its way
        await asyncio.sleep(0.05)
        finished.append(item_id)
        return Seen(item_id, "done")

    job = runner(list(range(1, 21)), attempt, concurrency=4)
    await job.run()
    assert job.stopped_by is refusal
    assert sorted(finished) == [1, 2]  # in flight with a request sent: they finish
    results = {r.item_id: r.what for r in job.results()}
    assert results[4] == "refused"
    # id 3 had sent nothing yet (waiting for a slot, say): cut short as never started
    assert all(results[i] == "not_attempted" for i in range(3, 21) if i != 4)


async def test_an_unexpected_error_ends_the_run_and_interrupts_the_others() -> None:
    async def attempt(item_id: int, call: CallRecord) -> Seen:
        if item_id == 2:
            raise ValueError("a bug in the job")
        await asyncio.sleep(5)
        return Seen(item_id, "done")

    job = runner([1, 2, 3], attempt, concurrency=3)
    with pytest.raises(ValueError, match="a bug"):
        await job.run()
    # nothing was sent for 1 and 3 (plain coroutines): never started, not cut in flight
    assert [r.what for r in job.results()] == ["not_attempted"] * 3
    assert not job.timed_out


async def test_a_runner_runs_once() -> None:
    job = runner([1], Work())
    await job.run()
    with pytest.raises(RuntimeError, match="runs once"):
        await job.run()


# --------------------------------------------------------------------------- streaming


async def test_stream_yields_in_completion_order_and_each_id_once() -> None:
    # the later an id comes, the sooner it is done
    work = Work(seconds=lambda item_id: 0.02 * (6 - item_id))
    job = runner([1, 2, 3, 4, 5], work, concurrency=5)
    streamed = [result.item_id async for result in job.stream()]
    assert streamed == [5, 4, 3, 2, 1]
    assert [r.item_id for r in job.results()] == [1, 2, 3, 4, 5]


async def test_leaving_the_stream_early_cuts_the_rest_short() -> None:
    work = Work(seconds=lambda item_id: 0.01 if item_id == 1 else 5.0)
    job = runner(list(range(1, 11)), work, concurrency=3)
    tasks_before = asyncio.all_tasks()
    async with contextlib.aclosing(job.stream()) as stream:
        async for first in stream:
            assert first.item_id == 1
            break
    assert asyncio.all_tasks() <= tasks_before  # no worker left behind
    assert work.running == 0
    results = {r.item_id: r.what for r in job.results()}
    assert results[1] == "done"
    assert all(results[i] == "not_attempted" for i in range(2, 11))


async def test_without_kept_results_the_stream_still_gives_each_one() -> None:
    job = runner([1, 2, 3], Work(), keep_results=False)
    assert sorted([r.item_id async for r in job.stream()]) == [1, 2, 3]
    with pytest.raises(RuntimeError, match="keeps no results"):
        job.results()


# --------------------------------------------------------------------------- on the wire


def client_for(fake: FakeCertCentral, rate_limit: dc.RateLimit) -> dc.CertCentralClient:
    return dc.CertCentralClient(
        api_key=fake.api_key,
        base_url=fake.base_url,
        rate_limit=rate_limit,
        retry=dc.RetryPolicy.disabled(),
        timeout=30.0,
    )


def reads(client: dc.CertCentralClient) -> Callable[[int, CallRecord], Awaitable[Seen]]:
    """The smallest job on top of the runner: read each order."""

    async def read(order_id: int, call: CallRecord) -> Seen:
        order = await client.orders.get(order_id)
        return Seen(order_id, order.status or "unknown")

    return read


async def test_the_deadline_cuts_requests_in_flight_and_leaves_the_unsent_not_attempted() -> None:
    async with FakeCertCentral(rate_limits=None, slow_seconds=60) as fake:
        ids = [fake.add_order("pending") for _ in range(10)]
        fake.inject(Fault.SLOW, times=10)  # nothing sent is answered within the test
        # two requests may go out; the next two attempts wait for a slot, unsent
        async with client_for(fake, dc.RateLimit(windows=[(2, 60.0)])) as client:
            job = runner(ids, reads(client), concurrency=4, deadline=1.0, name="read")
            loop = asyncio.get_running_loop()
            started = loop.time()
            streamed = [result async for result in job.stream()]
            elapsed = loop.time() - started
    assert 1.0 <= elapsed < 10.0  # not the answer a minute later
    assert job.timed_out
    results = job.results()
    cut = [r for r in results if r.what == "cut_short"]
    assert [r.item_id for r in cut] == ids[:2] and {r.cut for r in cut} == {Cut.DEADLINE}
    assert all(r.what == "not_attempted" for r in results[2:])
    assert len(fake.requests) == 2
    # streamed: the two cut in flight and the two that waited for a slot; the six never
    # started have no result until the report is asked for
    assert sorted(r.item_id for r in streamed) == ids[:4]


async def test_cancelling_the_awaiting_task_cuts_in_flight_requests_as_interrupted() -> None:
    async with FakeCertCentral(rate_limits=None, slow_seconds=60) as fake:
        ids = [fake.add_order("issued") for _ in range(8)]
        fake.inject(Fault.SLOW, path_contains=str(ids[1]))
        async with client_for(fake, dc.RateLimit.disabled()) as client:
            job = runner(ids, reads(client), concurrency=2)
            task = asyncio.ensure_future(job.run())
            for _ in range(200):  # until the fast worker has gone through the rest
                if sum(r.answered_status is not None for r in fake.requests) >= 7:
                    break
                await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    results = {r.item_id: r for r in job.results()}
    assert results[ids[1]] == Seen(ids[1], "cut_short", Cut.INTERRUPTED)
    assert all(results[i].what == "issued" for i in ids if i != ids[1])
    assert not job.timed_out


async def test_a_deadline_already_passed_starts_nothing_and_says_so() -> None:
    """As when a poll's look begins after its deadline: no worker is cut in flight,
    yet the run did not get through its ids."""
    work = Work()
    job = runner([1, 2, 3], work, deadline=-0.5)
    await job.run()
    assert work.started == [] and job.timed_out
    assert [r.what for r in job.results()] == ["not_attempted"] * 3


# --------------------------------------------------------------------------- the deadline


async def test_deadline_bound_cuts_a_step_short_and_closes_one_never_started() -> None:
    deadline = Deadline(0.2)
    assert await deadline.bound(asyncio.sleep(0.01, "in time")) == "in time"
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DeadlineReached):
        await deadline.bound(asyncio.sleep(30))
    assert loop.time() - started < 2.0 and deadline.passed

    late = asyncio.sleep(30)
    with pytest.raises(DeadlineReached):
        await deadline.bound(late)
    assert late.cr_frame is None  # closed, not left to warn that it was never awaited
    assert Deadline(None).remaining() is None and not Deadline(None).passed
