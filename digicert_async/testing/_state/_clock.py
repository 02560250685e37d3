"""The lifecycle clock and what falls due on it.

Seconds that only the test moves (``advance``), unless the clock runs in real time (a
standalone fake, a demo), when ``time.monotonic`` moves it as well. Entries are keyed by
``(kind, id)``: ``("order", order_id)`` or ``("certificate", certificate_id)``. The clock
knows nothing of orders: ``Lifecycle`` decides what an entry falling due means.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable


class LifecycleClock:
    """Lifecycle seconds, and the entries due on them, earliest first.

    ``issue_after``: seconds from scheduling to falling due; None schedules nothing.
    ``monotonic``: what a clock in real time reads the time from.
    """

    def __init__(
        self,
        issue_after: float | None = 60.0,
        *,
        realtime: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if issue_after is not None and issue_after < 0:
            raise ValueError("issue_after must be >= 0 (or None)")
        self.issue_after = issue_after
        self._monotonic = monotonic
        self._advanced = 0.0
        self._started = monotonic() if realtime else None
        # (due, sequence, kind, id); an entry whose due differs from _due[(kind, id)] is stale
        self._queue: list[tuple[float, int, str, int]] = []
        self._due: dict[tuple[str, int], float] = {}
        self._sequence = itertools.count()

    @property
    def realtime(self) -> bool:
        return self._started is not None

    def time(self) -> float:
        """Seconds on the clock: what ``advance`` added (plus the time since the clock was
        made, in real time)."""
        elapsed = 0.0 if self._started is None else self._monotonic() - self._started
        return self._advanced + elapsed

    def advance(self, seconds: float) -> None:
        """Move the clock on; applying what fell due is the caller's."""
        if not seconds >= 0:
            raise ValueError("seconds must be >= 0")
        self._advanced += seconds

    @property
    def waiting(self) -> bool:
        """Whether anything is scheduled (stale entries included)."""
        return bool(self._queue)

    def schedule(self, kind: str, key: int) -> None:
        """Make ``(kind, key)`` fall due ``issue_after`` seconds from now (replacing an
        earlier schedule of it); nothing when ``issue_after`` is None."""
        if self.issue_after is None:
            return
        due = self.time() + self.issue_after
        self._due[(kind, key)] = due
        heapq.heappush(self._queue, (due, next(self._sequence), kind, key))

    def unschedule(self, kind: str, key: int) -> None:
        self._due.pop((kind, key), None)

    def due(self, kind: str, key: int) -> float | None:
        """When ``(kind, key)`` falls due, or None."""
        return self._due.get((kind, key))

    def pop_due(self, now: float) -> tuple[str, int] | None:
        """The earliest entry due by ``now``, taken off the schedule; None when none is."""
        queue = self._queue
        while queue and queue[0][0] <= now:
            due, _, kind, key = heapq.heappop(queue)
            if self._due.get((kind, key)) != due:
                continue  # rescheduled or settled since
            del self._due[(kind, key)]
            return kind, key
        return None
