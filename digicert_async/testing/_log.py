"""The fake's record of the requests it received, kept within a count and a size.

A test reads what its client sent from the log; a fake left running (``digicert-async
fake-server``) must not grow with what anyone sends it. So the log keeps the latest
requests only: past ``max_requests`` records, or ``max_bytes`` of their bodies, headers,
paths and queries, the oldest are dropped. The newest record always stays.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import deque
from typing import Any

from ._types import RecordedRequest

__all__ = ["DEFAULT_MAX_LOGGED_BYTES", "DEFAULT_MAX_LOGGED_REQUESTS", "RequestLog"]

DEFAULT_MAX_LOGGED_REQUESTS = 100_000
"""Records a ``FakeCertCentral`` keeps by default: far more than a test sends."""
DEFAULT_MAX_LOGGED_BYTES = 64 * 2**20
"""Bytes of request data (bodies, headers, paths, queries) it keeps by default."""


def _size(record: RecordedRequest) -> int:
    headers = sum(len(name) + len(value) for name, value in record.headers.items())
    query = sum(len(name) + len(value) for name, value in record.query.items())
    return len(record.body) + headers + query + len(record.path) + len(record.method)


class RequestLog:
    """The latest requests, in arrival order, and the times the limiter admitted."""

    def __init__(self, max_requests: int, max_bytes: int) -> None:
        if max_requests < 1:
            raise ValueError("max_logged_requests must be >= 1")
        if max_bytes < 1:
            raise ValueError("max_logged_bytes must be >= 1")
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.received = 0  # every request ever added, those dropped since included
        self._records: deque[RecordedRequest] = deque()
        self._sizes: deque[int] = deque()
        self._bytes = 0
        self._dropped = 0  # records removed from the front, to find a record by its ticket
        self._admitted: deque[float] = deque(maxlen=max_requests)

    @property
    def records(self) -> list[RecordedRequest]:
        return list(self._records)

    def add(self, record: RecordedRequest) -> int:
        """Keep ``record``, dropping the oldest past the bounds; returns its ticket, for
        :meth:`settle` once the request is answered."""
        ticket = self._dropped + len(self._records)
        size = _size(record)
        self._records.append(record)
        self._sizes.append(size)
        self._bytes += size
        self.received += 1
        while len(self._records) > 1 and (
            len(self._records) > self.max_requests or self._bytes > self.max_bytes
        ):
            self._records.popleft()
            self._bytes -= self._sizes.popleft()
            self._dropped += 1
        return ticket

    def settle(self, ticket: int, **changes: Any) -> None:
        """Write how the request of ``ticket`` was answered, if its record is still kept."""
        index = ticket - self._dropped
        if 0 <= index < len(self._records):
            self._records[index] = dataclasses.replace(self._records[index], **changes)

    def admitted(self, at: float) -> None:
        """Note a request the rate limiter let through at ``at``."""
        self._admitted.append(at)

    def clear(self) -> None:
        self._dropped += len(self._records)
        self._records.clear()
        self._sizes.clear()
        self._bytes = 0
        self._admitted.clear()

    def max_in_window(self, seconds: float) -> int:
        """Most requests admitted within any ``seconds`` long span (of those kept)."""
        times = list(self._admitted)
        best = 0
        for end_index, end in enumerate(times):
            start_index = bisect.bisect_right(times, end - seconds, 0, end_index)
            best = max(best, end_index - start_index + 1)
        return best
