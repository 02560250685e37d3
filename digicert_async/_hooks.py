"""Instrumentation: the events of a call, the hooks that subscribe to them, and the
library's log lines as one more subscriber of the same events.

Hooks are plain synchronous callables so that a metrics counter or a tracing span
costs a function call, not a task. A hook that raises is logged and ignored: a
broken metrics exporter must not fail a certificate order.

Every event of one call carries the same ``call`` number, so a subscriber can tie
the attempts, waits and retries of a call to its :class:`CallStarted` and
:class:`CallEnded` (and time the whole call, retries included). ``route`` is the
path template (``/order/certificate/{order_id}``), the label to aggregate on;
``url`` the URL itself.

Events are built only when someone listens: a hook, or the log at a level it writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from ._checks import check_callables

__all__ = [
    "CallEnded",
    "CallStarted",
    "CooldownStarted",
    "Events",
    "Hooks",
    "JobEnded",
    "JobStarted",
    "PaceChanged",
    "RateLimitWait",
    "RequestSent",
    "ResponseReceived",
    "RetryDeclined",
    "RetryScheduled",
    "logger",
]

logger = logging.getLogger("digicert_async")
# A library's logger (the logging HOWTO): silent unless the application configures
# logging, instead of Python's last-resort handler printing warnings to stderr.
logger.addHandler(logging.NullHandler())


@attrs.frozen(kw_only=True)
class CallStarted:
    """A call begins (before its first attempt waits for anything)."""

    call: int
    method: str
    route: str
    url: str


@attrs.frozen(kw_only=True)
class CallEnded:
    """A call is over: ``error`` is None when it succeeded, else the exception it raises.
    ``elapsed`` counts every attempt and wait; ``attempts`` the sends it took (0 when
    it ended before anything was sent)."""

    call: int
    method: str
    route: str
    url: str
    elapsed: float
    attempts: int
    error: BaseException | None = None


@attrs.frozen(kw_only=True)
class RequestSent:
    """An attempt is about to go on the wire."""

    method: str
    url: str
    attempt: int
    call: int = 0
    route: str = ""


@attrs.frozen(kw_only=True)
class ResponseReceived:
    """An attempt got an answer (any status)."""

    method: str
    url: str
    attempt: int
    status: int
    elapsed: float
    call: int = 0
    route: str = ""


@attrs.frozen(kw_only=True)
class RetryScheduled:
    """A failed attempt will be retried after ``delay`` seconds.

    ``cause`` is the exception the attempt would have raised had it been the last;
    ``retries`` how many retries the policy allows a call.
    """

    method: str
    url: str
    attempt: int
    delay: float
    cause: BaseException
    retries: int = 0
    call: int = 0
    route: str = ""


@attrs.frozen(kw_only=True)
class RetryDeclined:
    """A failed attempt that could have been retried will not be: ``reason`` says why
    (attempts, deadline or retry budget spent). ``cause`` is what the call raises."""

    method: str
    url: str
    attempt: int
    reason: str
    cause: BaseException
    call: int = 0
    route: str = ""


@attrs.frozen(kw_only=True)
class RateLimitWait:
    """A request waits before sending: for a window slot or for a shared 429 cool-down."""

    method: str
    url: str
    delay: float
    reason: str  # "window" or "cooldown"
    call: int = 0
    route: str = ""


@attrs.frozen(kw_only=True)
class CooldownStarted:
    """A 429 closed the shared gate: every request of this client (and, on a shared
    backend, of this API key) waits ``delay`` seconds; ``retry_after`` says whether
    the server's ``Retry-After`` set it."""

    method: str
    url: str
    delay: float
    retry_after: bool
    call: int = 0
    route: str = ""


@attrs.frozen(kw_only=True)
class PaceChanged:
    """The rate the client allows itself moved by a step: a 429 lowered it (``lowered``),
    or calm let it climb across a tenth of the configured rate or back to it.

    ``windows`` are the ``(requests, seconds)`` pairs in force now, ``configured`` those
    of ``RateLimit.windows`` (the ceiling), ``scale`` the share of the configured counts
    allowed (1.0: back at the configuration). ``shared`` says whether the rate is the one
    every process of the API key shares (a shared backend that answers).
    """

    windows: tuple[tuple[int, float], ...]
    configured: tuple[tuple[int, float], ...]
    scale: float
    lowered: bool
    shared: bool = False


@attrs.frozen(kw_only=True)
class JobStarted:
    """A bulk job starts working on ``ids`` distinct ids (``duplicates`` more were given
    twice or more and are not run again). ``job`` says which (``"cancel"``,
    ``"reissue"``, ``"download"``, ``"validate"``, ``"poll"``: a poll tells each batch of
    reads; a job that counts repeated inputs itself may tell none here)."""

    job: str
    ids: int
    duplicates: int = 0


@attrs.frozen(kw_only=True)
class JobEnded:
    """A bulk job is over. ``outcomes`` counts the ids that got a result by their
    outcome (``"canceled"``, ...; ``"done"`` for results without one); ``unfinished``
    the ids with none (never started, or cut short). ``timed_out`` says the deadline
    passed first; ``stopped_by`` is the error that stopped the job early, if any;
    ``error`` what the run raised (a cancellation, say)."""

    job: str
    ids: int
    outcomes: Mapping[str, int]
    unfinished: int
    elapsed: float
    timed_out: bool = False
    stopped_by: BaseException | None = None
    error: BaseException | None = None


_Event = TypeVar("_Event")


def _dispatch(callbacks: Sequence[Callable[[_Event], object]], event: _Event) -> None:
    for callback in callbacks:
        try:
            callback(event)
        except Exception:
            logger.exception("digicert_async hook %r raised; ignoring it", callback)


def _check_callbacks(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_callables(f"hooks.{attribute.name}", value)


@attrs.frozen(kw_only=True)
class Hooks:
    """Callbacks for metrics and tracing, each called with one event object.

    Each field is a list (or another collection) of callables; anything else is a
    ``ValidationError`` naming the field.

    >>> hooks = Hooks(on_retry=[lambda e: print("retry in", e.delay)])
    """

    on_request: Sequence[Callable[[RequestSent], object]] = attrs.field(
        default=(), validator=_check_callbacks
    )
    on_response: Sequence[Callable[[ResponseReceived], object]] = attrs.field(
        default=(), validator=_check_callbacks
    )
    on_retry: Sequence[Callable[[RetryScheduled], object]] = attrs.field(
        default=(), validator=_check_callbacks
    )
    on_rate_limit_wait: Sequence[Callable[[RateLimitWait], object]] = attrs.field(
        default=(), validator=_check_callbacks
    )
    on_call_start: Sequence[Callable[[CallStarted], object]] = attrs.field(
        default=(), validator=_check_callbacks
    )
    on_call_end: Sequence[Callable[[CallEnded], object]] = attrs.field(
        default=(), validator=_check_callbacks
    )
    on_retry_declined: Sequence[Callable[[RetryDeclined], object]] = attrs.field(
        default=(), validator=_check_callbacks
    )
    on_cooldown: Sequence[Callable[[CooldownStarted], object]] = attrs.field(
        default=(), validator=_check_callbacks
    )
    on_pace_change: Sequence[Callable[[PaceChanged], object]] = attrs.field(
        default=(), validator=_check_callbacks
    )
    on_job_start: Sequence[Callable[[JobStarted], object]] = attrs.field(
        default=(), validator=_check_callbacks
    )
    on_job_end: Sequence[Callable[[JobEnded], object]] = attrs.field(
        default=(), validator=_check_callbacks
    )

    def __add__(self, other: Hooks) -> Hooks:
        """Both sets of callbacks: each event goes to this one's, then to ``other``'s
        (``opentelemetry_hooks() + Hooks(on_retry=[...])``)."""
        if not isinstance(other, Hooks):
            return NotImplemented
        return Hooks(
            **{
                field.name: (*getattr(self, field.name), *getattr(other, field.name))
                for field in attrs.fields(Hooks)
            }
        )

    def request_sent(self, event: RequestSent) -> None:
        _dispatch(self.on_request, event)

    def response_received(self, event: ResponseReceived) -> None:
        _dispatch(self.on_response, event)

    def retry_scheduled(self, event: RetryScheduled) -> None:
        _dispatch(self.on_retry, event)

    def rate_limit_wait(self, event: RateLimitWait) -> None:
        _dispatch(self.on_rate_limit_wait, event)

    def job_started(self, event: JobStarted) -> None:
        _dispatch(self.on_job_start, event)

    def job_ended(self, event: JobEnded) -> None:
        _dispatch(self.on_job_end, event)


# --------------------------------------------------------------------------- the log
# The library's own log lines, as subscribers of the events above (not a contract).


def _log_response(event: ResponseReceived) -> None:
    logger.debug("%s %s -> %d in %.3f s", event.method, event.url, event.status, event.elapsed)


def _log_retry(event: RetryScheduled) -> None:
    level = logging.INFO if _throttled(event.cause) else logging.WARNING
    logger.log(
        level,
        "%s; retry %d of %d in %.2f s",
        _what_failed(event.cause),
        event.attempt,
        event.retries,
        event.delay,
    )


def _log_retry_declined(event: RetryDeclined) -> None:
    logger.info(
        "%s; giving up after %d attempt(s): %s",
        _what_failed(event.cause),
        event.attempt,
        event.reason,
    )


def _what_failed(cause: BaseException) -> str:
    """An answer by its status, an exception by its message (one line)."""
    status = getattr(cause, "status", None)
    if isinstance(status, int):
        return f"{getattr(cause, 'method', '')} {getattr(cause, 'url', '')} -> HTTP {status}"
    return str(cause)


def _log_wait(event: RateLimitWait) -> None:
    if event.reason == "cooldown":
        logger.info(
            "%s %s waits %.2f s: cool-down after HTTP 429", event.method, event.url, event.delay
        )
    else:
        logger.debug(
            "%s %s waits %.3f s for a rate-limit window slot", event.method, event.url, event.delay
        )


def _log_cooldown(event: CooldownStarted) -> None:
    logger.warning(
        "%s %s -> HTTP 429: every request of this client pauses %.2f s%s",
        event.method,
        event.url,
        event.delay,
        " (Retry-After)" if event.retry_after else "",
    )


def _log_pace(event: PaceChanged) -> None:
    windows = ", ".join(f"{count}/{period:g} s" for count, period in event.windows)
    if event.scale >= 1.0:
        logger.info("pacing is back at the configured rate: %s", windows)
    else:
        logger.info(
            "pacing %s to %.0f%% of the configured rate%s: %s",
            "lowered" if event.lowered else "raised",
            event.scale * 100.0,
            " after HTTP 429" if event.lowered else "",
            windows,
        )


def _throttled(cause: BaseException) -> bool:
    return getattr(cause, "status", None) == 429


class Events:
    """What the layers of the request path tell: the user's :class:`Hooks` and the
    library's log lines, one subscriber list per kind of event.

    ``listens_*`` say whether an event is worth building at all: the per-attempt ones
    come on every request, and nobody may want them (no hook, and the log's level
    above DEBUG). The rarer ones (retries, waits, cool-downs, steps of the learned rate)
    are always built: the log writes them at INFO or WARNING.
    """

    __slots__ = (
        "hooks",
        "on_call_end",
        "on_call_start",
        "on_cooldown",
        "on_pace_change",
        "on_rate_limit_wait",
        "on_request",
        "on_response",
        "on_retry",
        "on_retry_declined",
    )

    def __init__(self, hooks: Hooks | None = None) -> None:
        hooks = hooks if hooks is not None else Hooks()
        self.hooks = hooks
        self.on_call_start = tuple(hooks.on_call_start)
        self.on_call_end = tuple(hooks.on_call_end)
        self.on_request = tuple(hooks.on_request)
        self.on_response = (*hooks.on_response, _log_response)
        self.on_retry = (*hooks.on_retry, _log_retry)
        self.on_retry_declined = (*hooks.on_retry_declined, _log_retry_declined)
        self.on_rate_limit_wait = (*hooks.on_rate_limit_wait, _log_wait)
        self.on_cooldown = (*hooks.on_cooldown, _log_cooldown)
        self.on_pace_change = (*hooks.on_pace_change, _log_pace)

    @classmethod
    def of(cls, hooks: Hooks | Events | None) -> Events:
        """``hooks`` as events (a layer may be given either)."""
        return hooks if isinstance(hooks, Events) else cls(hooks)

    def listens_response(self) -> bool:
        return len(self.on_response) > 1 or logger.isEnabledFor(logging.DEBUG)

    def call_started(self, event: CallStarted) -> None:
        _dispatch(self.on_call_start, event)

    def call_ended(self, event: CallEnded) -> None:
        _dispatch(self.on_call_end, event)

    def request_sent(self, event: RequestSent) -> None:
        _dispatch(self.on_request, event)

    def response_received(self, event: ResponseReceived) -> None:
        _dispatch(self.on_response, event)

    def retry_scheduled(self, event: RetryScheduled) -> None:
        _dispatch(self.on_retry, event)

    def retry_declined(self, event: RetryDeclined) -> None:
        _dispatch(self.on_retry_declined, event)

    def rate_limit_wait(self, event: RateLimitWait) -> None:
        _dispatch(self.on_rate_limit_wait, event)

    def cooldown_started(self, event: CooldownStarted) -> None:
        _dispatch(self.on_cooldown, event)

    def pace_changed(self, event: PaceChanged) -> None:
        _dispatch(self.on_pace_change, event)
