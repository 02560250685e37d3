"""The fake's rate limiter: DigiCert's rolling windows, counted on arrival, and the block
that follows an excess."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

DEFAULT_RATE_LIMITS: tuple[tuple[int, float], ...] = ((100, 5.0), (1000, 180.0))
"""DigiCert's documented windows: 100 requests per 5 seconds and 1000 per 3 minutes."""


def checked_windows(
    rate_limits: Sequence[tuple[int, float]] | None,
) -> tuple[tuple[int, float], ...] | None:
    """``rate_limits`` as ``(requests, seconds)`` pairs, or None (no limits); a
    ``ValueError`` for a window that admits nothing or lasts no time."""
    if rate_limits is None:
        return None
    windows = tuple((int(count), float(seconds)) for count, seconds in rate_limits)
    if any(count < 1 or seconds <= 0 for count, seconds in windows):
        raise ValueError("every rate-limit window needs requests >= 1 and seconds > 0")
    return windows


class WindowLimiter:
    """Rolling windows counted on arrival, and the block that follows an excess."""

    def __init__(self, windows: Sequence[tuple[int, float]], block_seconds: float) -> None:
        self.windows = tuple((int(count), float(seconds)) for count, seconds in windows)
        self.block_seconds = block_seconds
        self._arrivals: deque[float] = deque(maxlen=max(count for count, _ in self.windows))
        self._blocked_until = -math.inf

    def admit(self, now: float) -> float | None:
        """Count a request arriving at ``now``; ``None`` if admitted, else seconds of block left."""
        if now < self._blocked_until:
            return self._blocked_until - now
        arrivals = self._arrivals
        for count, seconds in self.windows:
            if len(arrivals) >= count and arrivals[-count] > now - seconds:
                self._blocked_until = now + self.block_seconds
                return self.block_seconds
        arrivals.append(now)
        return None
