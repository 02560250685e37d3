"""The runner's closing log lines: the deadline's cut counted, a stop named, the job's
summary; a runner without a name logs nothing."""

from __future__ import annotations

import asyncio
import logging

import pytest

import digicert_async as dc
from digicert_async._send import CallRecord
from digicert_async.bulk._runner import Cut, JobRunner


def make_runner(seconds: float, **options: object) -> JobRunner[str]:
    async def attempt(item_id: int, call: CallRecord) -> str:
        await asyncio.sleep(seconds)
        return "done"

    def cut_short(item_id: int, cut: Cut) -> str:
        return cut.value

    return JobRunner(
        range(1, 7),
        attempt=attempt,
        not_attempted=lambda item_id: "not attempted",
        cut_short=cut_short,
        **options,  # type: ignore[arg-type]
    )


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "digicert_async.bulk"]


async def test_the_deadline_line_counts_the_workers_it_cut(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async.bulk")
    job = make_runner(30.0, concurrency=3, deadline=0.1, name="read", summary=lambda: "3 cut")
    await job.run()
    assert lines(caplog) == [
        (logging.WARNING, "bulk read: the deadline cut 3 request(s) short"),
        (logging.INFO, "bulk read finished: 3 cut"),
    ]


async def test_a_run_that_ends_in_time_says_only_that_it_finished(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async.bulk")
    job = make_runner(0.0, concurrency=2, deadline=30.0, name="read", summary=lambda: "6 done")
    await job.run()
    assert lines(caplog) == [(logging.INFO, "bulk read finished: 6 done")]


async def test_a_stopped_run_names_what_stopped_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async.bulk")
    job = make_runner(0.0, concurrency=1, name="read")
    job.stop(dc.ValidationError("order_ids", "stop here"))
    await job.run()
    assert [level for level, _ in lines(caplog)] == [logging.ERROR]
    assert lines(caplog)[0][1].startswith("bulk read stopped early: ")


async def test_a_runner_without_a_name_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="digicert_async.bulk")
    job = make_runner(30.0, concurrency=2, deadline=0.1, summary=lambda: "unused")
    await job.run()
    assert job.timed_out and lines(caplog) == []
