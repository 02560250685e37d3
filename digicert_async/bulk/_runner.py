"""The runner under every bulk job, and the deadline it keeps.

A job gives the runner three things: a coroutine that does the work for one id and
returns its result, and how to describe an id that was never started and one whose
requests were in flight when the job was cut short. The runner does the rest:

- concurrency: ``concurrency`` worker tasks take the ids from one iterator, so the number
  of tasks stays flat however many ids there are;
- the deadline: no id starts after it, and the ids in flight are cut short at it;
- interruption: cancelling the task that awaits (or iterates) the job cuts the ids in
  flight short the same way;
- streaming: :meth:`JobRunner.stream` yields each result as it completes;
- accounting: each id is run once (duplicates are counted, not run) and gets exactly one
  result; an id cut short before anything of it reached the wire counts as never
  started, since the server saw nothing of it;
- reach: the calls of each id run inside :func:`~._common.call_in_job`, so a job whose
  first calls cannot connect at all is stopped by :func:`~._common.stops_a_job`.
"""

from __future__ import annotations

import asyncio
import enum
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from typing import Generic, TypeVar

from .._errors import DigiCertError
from .._hooks import Hooks, JobEnded, JobStarted
from .._send import CallRecord
from ._common import Reach, call_in_job, logger

__all__ = ["Cut", "Deadline", "DeadlineReached", "JobRunner", "unique_ids"]

R = TypeVar("R")
T = TypeVar("T")


class Cut(enum.Enum):
    """Why an id whose requests were in flight got no result of its own."""

    DEADLINE = "deadline"
    INTERRUPTED = "interrupted"


class DeadlineReached(Exception):
    """A job's deadline passed while it waited for something."""


class Deadline:
    """When a job must stop, on the event loop's clock, counted from when this was made;
    ``None`` seconds: never."""

    def __init__(self, seconds: float | None) -> None:
        self._loop = asyncio.get_running_loop()
        self._at = None if seconds is None else self._loop.time() + seconds

    def remaining(self) -> float | None:
        """Seconds left (negative once passed); None without a deadline."""
        return None if self._at is None else self._at - self._loop.time()

    @property
    def passed(self) -> bool:
        return self._at is not None and self._loop.time() >= self._at

    async def bound(self, step: Awaitable[T]) -> T:
        """``step``, cut short (its request in flight included) when the deadline
        passes; :class:`DeadlineReached` then."""
        remaining = self.remaining()
        if remaining is None:
            return await step
        if remaining <= 0:
            if isinstance(step, Coroutine):
                step.close()
            raise DeadlineReached
        try:
            return await asyncio.wait_for(step, remaining)
        except asyncio.TimeoutError:
            raise DeadlineReached from None


def unique_ids(ids: Iterable[int]) -> tuple[list[int], dict[int, int]]:
    """The ids in order, each once, and how many extra times each repeated one came."""
    unique: dict[int, None] = {}
    duplicates: Counter[int] = Counter()
    for item_id in ids:
        if item_id in unique:
            duplicates[item_id] += 1
        else:
            unique[item_id] = None
    return list(unique), dict(duplicates)


class JobRunner(Generic[R]):
    """Runs ``attempt(id, call)`` for each of ``ids``, ``concurrency`` at a time, and
    gives every id exactly one result.

    ``call`` records what the id's requests did on the wire (see
    :func:`~digicert_async._send.record_call`), for an attempt that must tell a
    request that may have landed from one never sent. An id never started gets
    ``not_attempted(id)``, and so does one cut short before any of its requests was
    sent (still waiting for a rate-limit slot, say); one cut short with a request in
    flight gets ``cut_short(id, cut)``.

    ``attempt`` calls :meth:`stop` when an error would fail every id alike: no id
    starts after that, those in flight with a request sent finish (the others are cut
    short as never started), and :attr:`stopped_by` holds the error.

    The ids are taken as given (the job checks them first). ``deadline`` is in seconds
    from when the run starts. With ``keep_results=False`` results are only streamed,
    not kept (a job whose results are large, or that keeps its own account). ``name``
    names the job in the log (``bulk cancel: ...``); without it the runner logs nothing,
    and ``summary()`` gives the counts the final log line shows.

    ``reach`` is what the job has learned of the server (a job made of several runs,
    the poll, passes its own); the rule it keeps stops a job that cannot connect at all.

    ``hooks`` (the client's) are told when the run starts and ends (:class:`JobStarted`,
    :class:`JobEnded`), the job called ``job`` (by default its ``name``).

    A runner runs once, either by :meth:`run` or by :meth:`stream`.
    """

    def __init__(
        self,
        ids: Iterable[int],
        *,
        attempt: Callable[[int, CallRecord], Awaitable[R]],
        not_attempted: Callable[[int], R],
        cut_short: Callable[[int, Cut], R],
        concurrency: int,
        deadline: float | None = None,
        keep_results: bool = True,
        name: str | None = None,
        summary: Callable[[], str] | None = None,
        reach: Reach | None = None,
        hooks: Hooks | None = None,
        job: str | None = None,
    ) -> None:
        self.ids, self.duplicates = unique_ids(ids)
        self.reach = reach if reach is not None else Reach()
        self.stopped_by: DigiCertError | None = None
        self.timed_out = False  # the deadline passed with some id not done
        self._attempt = attempt
        self._not_attempted = not_attempted
        self._cut_short = cut_short
        self._concurrency = concurrency
        self._deadline = deadline
        self._results: dict[int, R] | None = {} if keep_results else None
        self._name = name
        self._summary = summary
        self._queue: asyncio.Queue[R] | None = None
        self._started = False
        self._calls: dict[asyncio.Task[None], CallRecord] = {}  # each worker's id in hand
        self._hooks = (
            hooks if hooks is not None and (hooks.on_job_start or hooks.on_job_end) else None
        )
        self._job = job or name or "job"
        self._outcomes: Counter[str] = Counter()  # delivered results by outcome (for hooks)

    def stop(self, error: DigiCertError) -> None:
        """Start no more ids: ``error`` would fail every one of them alike. The ids in
        flight none of whose requests has reached the wire yet (waiting for a slot, or
        for a retry after failing to connect) are cut short too, as never started; those
        with a request sent finish."""
        self.stopped_by = error
        me = asyncio.current_task()
        for task, call in list(self._calls.items()):
            if task is not me and call.sends == 0 and not call.in_flight:
                task.cancel()

    def results(self) -> list[R]:
        """Every id's result as of now, in input order (valid at any time, also after
        the run was cut short): an id without one is described as not attempted."""
        if self._results is None:
            raise RuntimeError("this job keeps no results (keep_results=False)")
        kept = self._results
        return [
            kept[item_id] if item_id in kept else self._not_attempted(item_id)
            for item_id in self.ids
        ]

    def _deliver(self, item_id: int, result: R) -> None:
        if self._hooks is not None:
            outcome = getattr(result, "outcome", None)
            self._outcomes[outcome.value if isinstance(outcome, enum.Enum) else "done"] += 1
        if self._results is not None:
            self._results[item_id] = result
        if self._queue is not None:
            self._queue.put_nowait(result)

    async def run(self) -> None:
        """Run every id (or until the deadline, :meth:`stop` or cancellation)."""
        if self._started:
            raise RuntimeError("a bulk job runs once; start a new one with the ids left")
        self._started = True
        hooks = self._hooks
        if hooks is None:
            await self._run()
            return
        started = asyncio.get_running_loop().time()
        hooks.job_started(
            JobStarted(job=self._job, ids=len(self.ids), duplicates=sum(self.duplicates.values()))
        )
        error: BaseException | None = None
        try:
            await self._run()
        except BaseException as exc:
            error = exc
            raise
        finally:
            hooks.job_ended(
                JobEnded(
                    job=self._job,
                    ids=len(self.ids),
                    outcomes=dict(self._outcomes),
                    unfinished=len(self.ids) - sum(self._outcomes.values()),
                    elapsed=asyncio.get_running_loop().time() - started,
                    timed_out=self.timed_out,
                    stopped_by=self.stopped_by,
                    error=error,
                )
            )

    async def _run(self) -> None:
        deadline = Deadline(self._deadline)
        pending = iter(self.ids)
        cut = Cut.INTERRUPTED  # what cancelling a worker means, unless the deadline did it

        async def worker() -> None:
            me = asyncio.current_task()
            assert me is not None
            for item_id in pending:
                if self.stopped_by is not None:
                    return
                if deadline.passed:
                    self.timed_out = True
                    return
                with call_in_job(self.reach) as call:
                    self._calls[me] = call
                    try:
                        result = await self._attempt(item_id, call)
                    except asyncio.CancelledError:
                        if call.sends == 0:  # nothing reached the wire: never started
                            self._deliver(item_id, self._not_attempted(item_id))
                        else:
                            self._deliver(item_id, self._cut_short(item_id, cut))
                        raise
                    finally:
                        del self._calls[me]
                self._deliver(item_id, result)

        workers = [asyncio.ensure_future(worker()) for _ in range(self._concurrency)]
        try:
            # The deadline cuts the requests in flight short too, not only the queue.
            remaining = deadline.remaining()
            done, in_flight = await asyncio.wait(
                workers,
                timeout=None if remaining is None else max(0.0, remaining),
                return_when=asyncio.FIRST_EXCEPTION,
            )
            failed = any(not t.cancelled() and t.exception() is not None for t in done)
            if in_flight and not failed:
                cut = Cut.DEADLINE
                self.timed_out = True
            for task in done:
                if not task.cancelled():  # stop() cancels workers that had sent nothing
                    task.result()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        self._log_end(len(in_flight) if cut is Cut.DEADLINE else 0)

    def _log_end(self, cut_by_deadline: int) -> None:
        """The job's closing log lines (none for a runner without a ``name``):
        ``cut_by_deadline`` workers were cut short with an id in hand."""
        if self._name is None:
            return
        if cut_by_deadline:
            logger.warning(
                "bulk %s: the deadline cut %d request(s) short", self._name, cut_by_deadline
            )
        if self.stopped_by is not None:
            logger.error("bulk %s stopped early: %s", self._name, self.stopped_by)
        if self._summary is not None:
            logger.info("bulk %s finished: %s", self._name, self._summary())

    async def stream(self) -> AsyncIterator[R]:
        """Run, yielding each result as it completes (those of ids cut short by the
        deadline too). Leaving the loop early, or cancelling the task that iterates,
        cuts the run short like a cancelled :meth:`run`."""
        queue: asyncio.Queue[R] = asyncio.Queue()
        self._queue = queue
        running = asyncio.ensure_future(self.run())
        getter: asyncio.Future[R] | None = None
        try:
            while not (running.done() and queue.empty()):
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait({getter, running}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield getter.result()
                getter.cancel()
            running.result()
        finally:
            if getter is not None:
                getter.cancel()
            if not running.done():
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
