"""One API key, many processes on one machine: the limiter state in an SQLite file.

DigiCert counts a key's requests over the last three minutes, whichever process sent
them: a command run right after another (or beside it) must start from what the other
spent. :class:`SqliteLimiterBackend` keeps the state of :class:`RedisLimiterBackend` (every
window, the 429 cool-down, the learned rate) in a file, with the standard library's
``sqlite3`` and no server; Redis remains the way to share a budget across machines.

How the state is kept. Three tables, keyed by the sha256 of the API key:

- ``limiter_slots``: one row per slot, the wall-clock time it counts from (moved to when
  its request is over, as in every backend);
- ``limiter_flight``: the slots whose requests are not over yet (the ``id`` of their
  ``limiter_slots`` row), by the time they were taken. Such a slot counts as taken now
  in every window, however long ago it was taken (DigiCert counts the request when it
  arrives), until its request is over; one held longer than
  :data:`~._shared.IN_FLIGHT_SECONDS` belongs to a process that is gone, and goes;
- ``limiter_state``: the fields of :class:`~._cooldown.Cooldown` and
  :class:`~._adaptive.Pacing`, and when the row was last written (a key idle for a day
  starts afresh, as in Redis).

Each step is one ``BEGIN IMMEDIATE`` transaction: it loads the key's state into an
:class:`~._memory.InMemoryLimiterBackend` on the time read once the write lock is held,
makes the step by that class's rules (the windows, spacing and usage, ``Cooldown``,
``Pacing``: one rule, one home) and writes the state back. Times are the machine's wall
clock, which every process shares and a reboot keeps (DigiCert's windows go on across
one); a time found in the future (the clock was set back) counts as now.

The file is in WAL mode (readers never wait for the writer), with a busy timeout of
``timeout``. ``sqlite3`` blocks, so each limiter makes its steps in a thread of its own,
one at a time, and the event loop never waits on the file's lock or the disk: a step
costs a hand-over to that thread (tens of microseconds) and a transaction. A file that
cannot be opened, is locked for longer than ``timeout``, or holds something else is an
unavailable store, and the rules of :mod:`._shared` apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import ValidationError
from ._backend import LimiterBackend, Reservation
from ._memory import InMemoryLimiterBackend
from ._policy import LimiterBackendFactory, RateLimit
from ._shared import (
    IN_FLIGHT_SECONDS,
    OnUnavailable,
    ReserveAnswer,
    SharedKeyLimiter,
    SharedOptions,
    ThrottleAnswer,
    UnreadableAnswer,
    within,
)
from ._sqlite_file import IDLE_SECONDS, open_file

__all__ = ["SqliteKeyLimiter", "SqliteLimiterBackend", "SqliteState"]

_T = TypeVar("_T")


class SqliteLimiterBackend:
    """A rate-limit backend factory on an SQLite file: one budget per API key, shared by
    the processes of one machine (no server to run).

    ::

        limit = dc.RateLimit(backend=dc.SqliteLimiterBackend("ratelimit.sqlite3"))
        async with dc.CertCentralClient(api_key=key, rate_limit=limit) as client:
            ...

    Every client (in any process) bound to the same key and file paces against the same
    windows, waits out the same 429 cool-down and shares the rate learned from 429s, as
    with :class:`RedisLimiterBackend`, whose options and fallback rules it has. The
    command line uses one by default.

    :param path: the file; it and its folder are made when missing (readable by their
        owner only). Give every process of a key the same path.
    :param timeout: seconds allowed to each step, waiting for the file's lock included.
    :param on_unavailable: what happens when the file cannot be used in time:
        ``"fallback"`` paces this process alone at ``fallback_fraction`` of the windows
        (one WARNING per outage, one INFO when the file answers again); ``"fail"``
        raises :class:`LimiterUnavailableError` before sending.
    :param fallback_fraction: the share of each window's count one process may use
        while the file is unavailable.
    :param probe_interval: seconds between background checks of an unavailable file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 1.0,
        on_unavailable: OnUnavailable = "fallback",
        fallback_fraction: float = 0.25,
        probe_interval: float = 1.0,
    ) -> None:
        field = "rate_limit.backend.path"
        if not isinstance(path, (str, os.PathLike)):
            raise ValidationError(field, f"must be a file path, not {type(path).__name__}")
        text = os.fspath(path)
        if not isinstance(text, str) or not text.strip() or "\0" in text:
            raise ValidationError(field, "must be a file path (non-empty, without NUL)")
        if text == ":memory:":
            raise ValidationError(field, "must be a file: ':memory:' is shared by nothing")
        self.path = Path(os.path.abspath(text))
        self.options = SharedOptions(
            timeout=timeout,
            on_unavailable=on_unavailable,
            fallback_fraction=fallback_fraction,
            probe_interval=probe_interval,
        )

    def __repr__(self) -> str:
        options = self.options
        return (
            f"SqliteLimiterBackend({str(self.path)!r}, timeout={options.timeout},"
            f" on_unavailable={options.on_unavailable!r},"
            f" fallback_fraction={options.fallback_fraction})"
        )

    @property
    def where(self) -> str:
        """The file's absolute path."""
        return str(self.path)

    def for_key(self, key_hash: str, rate_limit: RateLimit) -> SqliteKeyLimiter:
        """The limiter of the API key whose hex sha256 is ``key_hash``."""
        return SqliteKeyLimiter(self, key_hash, rate_limit)


class SqliteKeyLimiter(SharedKeyLimiter):
    """The :class:`LimiterBackend` of one API key in an SQLite file, with its local
    fallback. Made by :meth:`SqliteLimiterBackend.for_key`; its steps run in a thread of
    its own (see the module). ``clock`` paces the local fallback (monotonic),
    ``wall_clock`` the shared state (seconds since the epoch, as every process reads it).
    """

    def __init__(
        self,
        factory: SqliteLimiterBackend,
        key_hash: str,
        rate_limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(factory.options, rate_limit, clock=clock)
        self._factory = factory
        self.state = SqliteState(
            factory.path, key_hash, rate_limit, wall_clock, busy_timeout=factory.options.timeout
        )
        self._thread: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return (
            f"SqliteKeyLimiter({self._factory.where!r}, key={self.state.key!r},"
            f" available={self.available})"
        )

    @property
    def where(self) -> str:
        return f"SQLite {self._factory.where}"

    async def _in_thread(self, step: Callable[..., _T], *args: Any) -> _T:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="digicert-async-sqlite")
        return await asyncio.wrap_future(self._thread.submit(step, *args))

    def _store_errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    async def _store_reserve(self, ages: list[float]) -> ReserveAnswer:
        return await self._in_thread(self.state.reserve, ages)

    async def _store_throttled(
        self, epoch: int, retry_after: float | None, jitter: float, usage: float | None
    ) -> ThrottleAnswer:
        return await self._in_thread(self.state.throttled, epoch, retry_after, jitter, usage)

    async def _store_succeeded(self, epoch: int) -> None:
        await self._in_thread(self.state.succeeded, epoch)

    async def _store_release(self, member: object, drop: bool) -> None:
        await self._in_thread(self.state.release, member, drop)

    async def _store_ping(self) -> None:
        await self._in_thread(self.state.ping)

    async def _store_close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        # A step still running (a lock waited for) ends within the busy timeout; its
        # connection is closed after it, in the thread that made it.
        closing = asyncio.wrap_future(thread.submit(self.state.close))
        with contextlib.suppress(asyncio.TimeoutError, sqlite3.Error, OSError):
            await within(asyncio.shield(closing), self._options.timeout * 2)
        thread.shutdown(wait=False)


class SqliteState:
    """One key's limiter state in an SQLite file: each method one transaction, deciding
    by the rules of :class:`~._memory.InMemoryLimiterBackend` on the state it loads.
    Blocking; ``clock`` gives the wall-clock time (seconds since the epoch)."""

    def __init__(
        self,
        path: Path,
        key: str,
        rate_limit: RateLimit,
        clock: Callable[[], float],
        *,
        busy_timeout: float,
    ) -> None:
        self.path = path
        self.key = key
        self._rate_limit = rate_limit
        self._clock = clock
        self._busy_timeout = busy_timeout
        margin = rate_limit.safety_margin
        self._longest = max((p * (1.0 + margin) for _, p in rate_limit.windows), default=0.0)
        self._most = max((count for count, _ in rate_limit.windows), default=0)
        self._shortest = min((p * (1.0 + margin) for _, p in rate_limit.windows), default=0.0)
        # A gate never closes for longer than a 429 can close it: one further away was
        # set before the clock went back.
        self._longest_gate = max(rate_limit.retry_after_max, rate_limit.cooldown_max)
        self._connection: sqlite3.Connection | None = None

    # -- the steps -------------------------------------------------------------------------

    def reserve(self, ages: Sequence[float]) -> ReserveAnswer:
        """Take a slot if the gate is open and every window has room (first writing in
        the sends made ``ages`` seconds ago while the file was unavailable)."""
        with self._transaction() as (db, now):
            key = self.key
            if ages:
                db.executemany(
                    "INSERT INTO limiter_slots (key, at) VALUES (?, ?)",
                    [(key, now - age) for age in ages],
                )
            db.execute(
                "DELETE FROM limiter_slots WHERE key = ? AND at <= ?", (key, now - self._longest)
            )
            # a slot ahead of now was taken before the clock went back: it counts from now
            db.execute("UPDATE limiter_slots SET at = ? WHERE key = ? AND at > ?", (now, key, now))
            if self._most:
                self._land_the_lost(db, now)
            memory, kept = self._load(db, now, slots=True)
            taken = memory.reserve_now()
            member = None
            if taken.wait <= 0.0 and memory.paced:
                member = db.execute(
                    "INSERT INTO limiter_slots (key, at) VALUES (?, ?)", (key, now)
                ).lastrowid
                db.execute(
                    "INSERT INTO limiter_flight (id, key, at) VALUES (?, ?, ?)", (member, key, now)
                )
            self._save(db, memory, kept, now)
            return self._reserve_answer(memory, taken, member, now)

    def throttled(
        self, epoch: int, retry_after: float | None, jitter: float, usage: float | None
    ) -> ThrottleAnswer:
        """A 429 for a request sent in ``epoch``: :meth:`InMemoryLimiterBackend.throttled`."""
        with self._transaction() as (db, now):
            memory, kept = self._load(db, now, slots=False)
            closed = memory.throttled_now(
                epoch, retry_after=retry_after, jitter=jitter, usage=usage
            )
            self._save(db, memory, kept, now)
            peak, since, lowered = _pace(memory, now)
            cooldown = memory.cooldown
            return ThrottleAnswer(
                closed, cooldown.remaining(now), cooldown.epoch, cooldown.strikes, peak, since,
                lowered,
            )  # fmt: skip

    def succeeded(self, epoch: int) -> None:
        """Another answer than 429 for a request sent in ``epoch``."""
        with self._transaction() as (db, now):
            memory, kept = self._load(db, now, slots=False)
            memory.cooldown.succeeded(epoch)
            self._save(db, memory, kept, now)

    def release(self, member: object, drop: bool) -> None:
        """The request of slot ``member`` is over: it counts from now on (added again if
        it had left every window), or with ``drop`` no longer counts."""
        with self._transaction() as (db, now):
            db.execute("DELETE FROM limiter_flight WHERE id = ?", (member,))
            if drop:
                db.execute("DELETE FROM limiter_slots WHERE id = ?", (member,))
                return
            moved = db.execute("UPDATE limiter_slots SET at = ? WHERE id = ?", (now, member))
            if moved.rowcount == 0:
                db.execute("INSERT INTO limiter_slots (key, at) VALUES (?, ?)", (self.key, now))

    def _land_the_lost(self, db: sqlite3.Connection, now: float) -> None:
        """Forget the slots held in flight longer than any request can be (their process
        is gone); one taken ahead of now was taken before the clock went back: from now."""
        db.execute(
            "DELETE FROM limiter_flight WHERE key = ? AND at < ?",
            (self.key, now - IN_FLIGHT_SECONDS),
        )
        db.execute(
            "UPDATE limiter_flight SET at = ? WHERE key = ? AND at > ?", (now, self.key, now)
        )

    def ping(self) -> None:
        """Raises unless a step could be made now (the file opens, its lock is had)."""
        with self._transaction() as (db, now):
            self._load(db, now, slots=False)

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    # -- the file --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[tuple[sqlite3.Connection, float]]:
        """The connection in a write transaction, and the time once its lock is had;
        committed at the end, or rolled back and closed (the next step opens afresh)."""
        db = self._connection
        if db is None:
            db = self._connection = open_file(self.path, self._busy_timeout, self._clock)
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db, self._clock()
            db.execute("COMMIT")
        except BaseException:
            self._connection = None
            with contextlib.suppress(sqlite3.Error):
                db.rollback()
            db.close()
            raise

    def _load(
        self, db: sqlite3.Connection, now: float, *, slots: bool
    ) -> tuple[InMemoryLimiterBackend, tuple[Any, ...]]:
        """The key's state at ``now`` in a backend of this process's kind, and the learned
        rate's columns as read (written back as they were by a process that does not
        adapt)."""
        memory = InMemoryLimiterBackend.from_rate_limit(self._rate_limit, lambda: now)
        row = db.execute(
            "SELECT gate, epoch, strikes, peak, least, cut_at, lowered, touched"
            " FROM limiter_state WHERE key = ?",
            (self.key,),
        ).fetchone()
        kept: tuple[Any, ...] = (None, None, None, None)
        if row is not None and _time(row[7]) > now - IDLE_SECONDS:
            gate, epoch, strikes, peak, least, cut_at, lowered, _ = row
            cooldown = memory.cooldown
            cooldown.gate_until = min(_time(gate), now + self._longest_gate)
            cooldown.epoch, cooldown.strikes = _whole(epoch), _whole(strikes)
            kept = row[3:7]
            pacing = memory.pacing
            if pacing is not None:
                pacing.peak = 1.0 if peak is None else _level(peak)
                pacing.least = 1.0 if least is None else _level(least)
                pacing.cut_at = min(_time(cut_at), now)
                pacing.lowered = 0 if lowered is None else _whole(lowered)
        if slots and self._most:
            # Trimmed and moved by the caller, the rows left hold times of the last window:
            # SQLite orders text and blobs after every number, so a row holding one (not
            # written here) was moved to now like a time ahead of now.
            rows = db.execute(
                "SELECT at FROM limiter_slots WHERE key = ? ORDER BY at DESC LIMIT ?",
                (self.key, self._most),
            ).fetchall()
            # Only a slot in flight taken before a window changes what that window holds.
            flying = db.execute(
                "SELECT at FROM limiter_flight WHERE key = ? AND at <= ? ORDER BY at",
                (self.key, now - self._shortest),
            ).fetchall()
            memory.load([at for (at,) in reversed(rows)], [at for (at,) in flying])
        return memory, kept

    def _save(
        self,
        db: sqlite3.Connection,
        memory: InMemoryLimiterBackend,
        kept: tuple[Any, ...],
        now: float,
    ) -> None:
        cooldown, pacing = memory.cooldown, memory.pacing
        if pacing is not None:
            cut_at = None if pacing.at_ceiling else pacing.cut_at
            kept = (pacing.peak, pacing.least, cut_at, pacing.lowered)
        gate = None if cooldown.gate_until == -math.inf else cooldown.gate_until
        db.execute(
            "INSERT OR REPLACE INTO limiter_state"
            " (key, gate, epoch, strikes, peak, least, cut_at, lowered, touched)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self.key, gate, cooldown.epoch, cooldown.strikes, *kept, now),
        )

    def _reserve_answer(
        self, memory: InMemoryLimiterBackend, taken: Reservation, member: object, now: float
    ) -> ReserveAnswer:
        peak, since, lowered = _pace(memory, now)
        cooldown = memory.cooldown
        return ReserveAnswer(
            wait=taken.wait,
            reason=taken.reason,
            epoch=cooldown.epoch,
            strikes=cooldown.strikes,
            member=member,
            peak=peak,
            since=since,
            lowered=lowered,
            usage=taken.usage,
        )


def _pace(memory: InMemoryLimiterBackend, now: float) -> tuple[float, float | None, int]:
    """The learned rate as the store tells it: the refused level, seconds since the cut
    in force (None: none), the cuts so far."""
    pacing = memory.pacing
    if pacing is None:
        return 1.0, None, 0
    since = None if pacing.at_ceiling else max(0.0, now - pacing.cut_at)
    return pacing.peak, since, pacing.lowered


# -- the columns, read strictly: anything else makes the file unreadable --------------------


def _whole(value: object) -> int:
    if isinstance(value, int) and value >= 0:
        return value
    raise UnreadableAnswer("the file holds a count that is not a whole number of 0 or more")


def _time(value: object) -> float:
    """A time column (None: never)."""
    if value is None:
        return -math.inf
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    raise UnreadableAnswer("the file holds a time that is not a number")


def _level(value: object) -> float:
    if isinstance(value, (int, float)) and 0.0 < value <= 1.0:
        return float(value)
    raise UnreadableAnswer("the file holds a learned level that is not in (0, 1]")


if TYPE_CHECKING:  # both protocols are met (checked by mypy, never run)
    _FACTORY: LimiterBackendFactory = SqliteLimiterBackend("x")
    _BACKEND: LimiterBackend = SqliteLimiterBackend("x").for_key("", RateLimit())
