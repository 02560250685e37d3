"""``client.pacer``: a live view of the rate the client allows itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._middleware import RateLimitMiddleware

__all__ = ["Pacer"]


class Pacer:
    """What the client's rate limiter allows now, and what it has met (``client.pacer``).

    ``client.rate_limit`` is the configuration as given; this is the limiter as it is.
    With adaptive pacing (``RateLimit(adaptive=True)``, the default) the configured
    windows are a ceiling, and each 429 that begins a cool-down lowers the rate in force.
    Every read looks at the limiter anew. With a shared backend (SQLite, Redis), the
    learned rate is the one every process of the API key shares, as of this client's last
    request.

    >>> import digicert_async as dc
    >>> pacer = dc.CertCentralClient("key").pacer
    >>> pacer.windows == pacer.configured, pacer.scale, pacer.throttled
    (True, 1.0, 0)
    """

    __slots__ = ("_middleware",)

    def __init__(self, middleware: RateLimitMiddleware) -> None:
        self._middleware = middleware

    @property
    def configured(self) -> tuple[tuple[int, float], ...]:
        """The ``(requests, seconds)`` windows of ``client.rate_limit``: the ceiling."""
        return tuple(self._middleware.rate_limit.windows)

    @property
    def adaptive(self) -> bool:
        """Whether the rate is learned from 429s (there are windows, and
        ``RateLimit.adaptive`` is on)."""
        limit = self._middleware.rate_limit
        return limit.adaptive and bool(limit.windows)

    @property
    def windows(self) -> tuple[tuple[int, float], ...]:
        """The ``(requests, seconds)`` windows in force now (while a shared backend is
        unavailable: this process's share of them)."""
        return self._middleware.backend.pace().windows

    @property
    def scale(self) -> float:
        """The share of the configured counts allowed now (1.0: all of them)."""
        return self._middleware.backend.pace().scale

    @property
    def lowered(self) -> int:
        """How many times a 429 lowered the rate (with a shared backend: any process's)."""
        return self._middleware.backend.pace().lowered

    @property
    def throttled(self) -> int:
        """How many 429 answers this client has received."""
        return self._middleware.throttled_count

    @property
    def shared(self) -> bool:
        """Whether the learned rate is shared by every process of the API key right now
        (a shared backend that answers)."""
        return self._middleware.backend.pace().shared

    def __repr__(self) -> str:
        state = self._middleware.backend.pace()
        return (
            f"Pacer(windows={list(state.windows)}, scale={state.scale:.3f},"
            f" configured={list(self.configured)}, lowered={state.lowered},"
            f" throttled={self.throttled}, shared={state.shared})"
        )
