"""Instrumentation: events a user can subscribe to, and the library's log lines.

Hooks are plain synchronous callables so that a metrics counter or a tracing span
costs a function call, not a task. A hook that raises is logged and ignored: a
broken metrics exporter must not fail a certificate order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

__all__ = [
    "Hooks",
    "RateLimitWait",
    "RequestSent",
    "ResponseReceived",
    "RetryScheduled",
    "logger",
]

logger = logging.getLogger("digicert_async")
# As the logging HOWTO asks of libraries: with logging unconfigured, the library's
# warnings (retries, 429 cool-downs) stay silent instead of reaching stderr through
# the last-resort handler; an application that configures logging sees them.
logger.addHandler(logging.NullHandler())


@attrs.frozen(kw_only=True)
class RequestSent:
    """An attempt is about to go on the wire."""

    method: str
    url: str
    attempt: int


@attrs.frozen(kw_only=True)
class ResponseReceived:
    """An attempt got an answer (any status)."""

    method: str
    url: str
    attempt: int
    status: int
    elapsed: float


@attrs.frozen(kw_only=True)
class RetryScheduled:
    """A failed attempt will be retried after ``delay`` seconds.

    ``cause`` is the exception the attempt would have raised had it been the last.
    """

    method: str
    url: str
    attempt: int
    delay: float
    cause: BaseException


@attrs.frozen(kw_only=True)
class RateLimitWait:
    """A request waits before sending: for a window slot or for a shared 429 cool-down."""

    method: str
    url: str
    delay: float
    reason: str  # "window" or "cooldown"


_Event = TypeVar("_Event")


def _dispatch(callbacks: Sequence[Callable[[_Event], object]], event: _Event) -> None:
    for callback in callbacks:
        try:
            callback(event)
        except Exception:
            logger.exception("digicert_async hook %r raised; ignoring it", callback)


@attrs.frozen(kw_only=True)
class Hooks:
    """Callbacks for metrics and tracing, each called with one event object.

    >>> hooks = Hooks(on_retry=[lambda e: print("retry in", e.delay)])
    """

    on_request: Sequence[Callable[[RequestSent], object]] = ()
    on_response: Sequence[Callable[[ResponseReceived], object]] = ()
    on_retry: Sequence[Callable[[RetryScheduled], object]] = ()
    on_rate_limit_wait: Sequence[Callable[[RateLimitWait], object]] = ()

    def request_sent(self, event: RequestSent) -> None:
        _dispatch(self.on_request, event)

    def response_received(self, event: ResponseReceived) -> None:
        _dispatch(self.on_response, event)

    def retry_scheduled(self, event: RetryScheduled) -> None:
        _dispatch(self.on_retry, event)

    def rate_limit_wait(self, event: RateLimitWait) -> None:
        _dispatch(self.on_rate_limit_wait, event)
