"""OpenTelemetry traces and metrics of the client's calls, as :class:`~digicert_async.Hooks`.

Needs the ``otel`` extra (``pip install "digicert-async[otel]"``): the OpenTelemetry
API only. The SDK, the exporters and their configuration are the application's; with
none installed, the API's no-op providers make every span and measurement a no-op.

Spans follow OpenTelemetry's HTTP semantic conventions:

- one INTERNAL span per API call (``GET /order/certificate/{order_id}``), covering all
  its attempts, retries and rate-limit waits; each wait is an event on it
  (``digicert_async.rate_limit_wait``), and so are the retries and a 429's cool-down;
- one CLIENT span per attempt, a child of the call's, with ``http.request.method``,
  ``server.address``, ``server.port``, ``url.full``, ``url.template`` (the path
  relative to the API root), ``http.response.status_code``, ``error.type`` and, on a
  re-send, ``http.request.resend_count``;
- one INTERNAL span per bulk job (``digicert_async bulk cancel``), the parent of the
  calls it makes, with its counts.

Metrics: ``http.client.request.duration`` (a histogram, per attempt, with the
attributes above but the URL), ``digicert_async.rate_limit.throttled`` (a counter of
HTTP 429 answers) and ``digicert_async.rate_limit.wait.duration`` (a histogram of the
seconds requests waited for the rate limiter, by ``digicert_async.wait.reason``).

Nothing is recorded of a request's body or headers (the API key, a note's text, a CSR)
nor any message of the server's or of an exception: only the types of errors.
"""

from __future__ import annotations

import importlib.util
import time
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

try:
    from opentelemetry import context as otel_context
    from opentelemetry import metrics, trace
except ImportError as missing:  # pragma: no cover - exercised with the package hidden
    raise ImportError(
        "digicert_async.telemetry needs the OpenTelemetry API: install the otel extra"
        ' (pip install "digicert-async[otel]")'
    ) from missing

from ._hooks import (
    CallEnded,
    CallStarted,
    CooldownStarted,
    Hooks,
    JobEnded,
    JobStarted,
    RateLimitWait,
    RequestSent,
    ResponseReceived,
    RetryDeclined,
    RetryScheduled,
)
from ._version import __version__

__all__ = ["opentelemetry_hooks"]

_SCOPE = "digicert_async"
# OpenTelemetry's advice for http.client.request.duration, in seconds.
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_DEFAULT_PORTS = {"https": 443, "http": 80}


def opentelemetry_hooks(
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> Hooks:
    """Hooks that trace every call of a client and measure its requests.

    Pass them as ``CertCentralClient(hooks=...)``; ``+`` adds your own hooks
    (``opentelemetry_hooks() + Hooks(on_retry=[...])``). The providers default to the
    global ones OpenTelemetry's SDK (or your setup) installs; without an SDK they are
    no-ops. One set of hooks may serve several clients.

    With no provider given, none set globally for traces and OpenTelemetry's SDK not
    installed, every span and measurement would be a no-op: the hooks are then empty
    (``Hooks()``) and cost the client nothing.

    >>> hooks = opentelemetry_hooks()
    >>> len(hooks.on_call_start)  # the SDK is installed here
    1
    """
    if tracer_provider is None and meter_provider is None and _nothing_records():
        return Hooks()
    recorder = _Recorder(
        trace.get_tracer(_SCOPE, __version__, tracer_provider=tracer_provider),
        metrics.get_meter(_SCOPE, __version__, meter_provider=meter_provider),
    )
    return Hooks(
        on_call_start=[recorder.call_started],
        on_call_end=[recorder.call_ended],
        on_request=[recorder.request_sent],
        on_response=[recorder.response_received],
        on_retry=[recorder.retry_scheduled],
        on_retry_declined=[recorder.retry_declined],
        on_rate_limit_wait=[recorder.rate_limit_wait],
        on_cooldown=[recorder.cooldown_started],
        on_job_start=[recorder.job_started],
        on_job_end=[recorder.job_ended],
    )


def _sdk_installed() -> bool:
    return importlib.util.find_spec("opentelemetry.sdk") is not None


def _nothing_records() -> bool:
    """Whether OpenTelemetry's global providers can record nothing, now or later: no
    tracer provider set (the API's proxy) and no SDK to set one."""
    return not _sdk_installed() and isinstance(
        trace.get_tracer_provider(), trace.ProxyTracerProvider
    )


class _Call:
    """What is open of one call: its span, its attempt (``open``, and its span when the
    call's is recorded), and the attributes every attempt shares."""

    __slots__ = ("attempt", "attributes", "call", "context", "open", "span", "started", "token")

    def __init__(self, call: int, span: trace.Span, attributes: dict[str, Any]) -> None:
        self.call = call
        self.span = span
        self.attributes = attributes
        self.context: otel_context.Context | None = None
        self.token: object = None
        self.open = False  # an attempt was sent and has not ended
        self.attempt: trace.Span | None = None
        self.started = 0.0


class _Job:
    __slots__ = ("span", "token")

    def __init__(self, span: trace.Span, token: object) -> None:
        self.span = span
        self.token = token


def _error_type(error: BaseException) -> str:
    """``error.type``: the HTTP status of an answer's error, else the exception's class."""
    status = getattr(error, "status", None)
    return str(status) if isinstance(status, int) else type(error).__qualname__


def _server(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 443)
    return {"server.address": parts.hostname or "", "server.port": port}


class _Recorder:
    """The hooks' state: the spans open in the current task (a call's events come in
    the task that makes it, or in tasks it starts), the instruments."""

    def __init__(self, tracer: trace.Tracer, meter: metrics.Meter) -> None:
        self._tracer = tracer
        self._servers: dict[str, dict[str, Any]] = {}  # scheme://host:port -> its attributes
        # One variable per recorder, so that two of them on one client keep apart.
        self._call: ContextVar[_Call | None] = ContextVar("digicert_async_otel_call", default=None)
        self._job: ContextVar[_Job | None] = ContextVar("digicert_async_otel_job", default=None)
        self._duration = meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self._throttled = meter.create_counter(
            "digicert_async.rate_limit.throttled",
            unit="{response}",
            description="HTTP 429 answers received from CertCentral.",
        )
        self._waited = meter.create_histogram(
            "digicert_async.rate_limit.wait.duration",
            unit="s",
            description="Time requests waited for the client's rate limiter before sending.",
            explicit_bucket_boundaries_advisory=_WAIT_BUCKETS,
        )

    # ---------------------------------------------------------------- calls
    def call_started(self, event: CallStarted) -> None:
        url = event.url
        end = url.find("/", url.find("//") + 2)
        origin = url if end < 0 else url[:end]
        server = self._servers.get(origin)
        if server is None:
            server = self._servers[origin] = _server(url)
        attributes: dict[str, Any] = {
            "http.request.method": event.method,
            "url.template": event.route,
            **server,
        }
        span = self._tracer.start_span(
            f"{event.method} {event.route}", kind=trace.SpanKind.INTERNAL, attributes=attributes
        )
        state = _Call(event.call, span, attributes)
        if span.get_span_context().is_valid:  # not the no-op tracer's span
            # The call's span is the current one while it runs: its attempts are its
            # children, and so is what other instrumentation records meanwhile.
            state.context = trace.set_span_in_context(span)
            state.token = otel_context.attach(state.context)
        self._call.set(state)

    def call_ended(self, event: CallEnded) -> None:
        state = self._current(event.call)
        if state is None:
            return
        self._call.set(None)
        self._end_attempt(state, event.error)
        span = state.span
        if state.context is not None:
            span.set_attribute("digicert_async.attempts", event.attempts)
            if event.error is not None:
                span.set_attribute("error.type", _error_type(event.error))
                span.set_status(trace.StatusCode.ERROR)
        span.end()
        if state.token is not None:
            otel_context.detach(state.token)  # type: ignore[arg-type]

    def _current(self, call: int) -> _Call | None:
        state = self._call.get()
        return state if state is not None and state.call == call else None

    # ---------------------------------------------------------------- attempts
    def request_sent(self, event: RequestSent) -> None:
        state = self._current(event.call)
        if state is None:
            return
        self._end_attempt(state, None)
        state.open = True
        # An attempt of a call whose span is not recorded (sampled out, or no SDK) is
        # not traced either: measured only.
        if state.span.is_recording():
            attributes = {**state.attributes, "url.full": event.url}
            if event.attempt > 1:
                attributes["http.request.resend_count"] = event.attempt - 1
            state.attempt = self._tracer.start_span(
                f"{event.method} {event.route}",
                context=state.context,
                kind=trace.SpanKind.CLIENT,
                attributes=attributes,
            )
        state.started = time.perf_counter()

    def response_received(self, event: ResponseReceived) -> None:
        state = self._current(event.call)
        if state is None or not state.open:
            return
        state.open = False
        span, state.attempt = state.attempt, None
        status = event.status
        metric = {**state.attributes, "http.response.status_code": status}
        if status >= 400:
            metric["error.type"] = str(status)
        if span is not None:
            span.set_attribute("http.response.status_code", status)
            if status >= 400:
                span.set_attribute("error.type", str(status))
                span.set_status(trace.StatusCode.ERROR)
            span.end()
        self._duration.record(event.elapsed, metric)
        if status == 429:
            self._throttled.add(1, state.attributes)

    def _end_attempt(self, state: _Call, error: BaseException | None) -> None:
        """End an attempt that got no answer (it failed, or the call was cut short)."""
        if not state.open:
            return
        state.open = False
        span, state.attempt = state.attempt, None
        metric = dict(state.attributes)
        if error is not None:
            metric["error.type"] = _error_type(error)
        if span is not None:
            if error is not None:
                span.set_attribute("error.type", metric["error.type"])
                span.set_status(trace.StatusCode.ERROR)
            span.end()
        self._duration.record(time.perf_counter() - state.started, metric)

    def retry_scheduled(self, event: RetryScheduled) -> None:
        state = self._current(event.call)
        if state is None:
            return
        self._end_attempt(state, event.cause)
        state.span.add_event(
            "digicert_async.retry",
            {
                "digicert_async.attempt": event.attempt,
                "digicert_async.retry.delay": event.delay,
                "error.type": _error_type(event.cause),
            },
        )

    def retry_declined(self, event: RetryDeclined) -> None:
        state = self._current(event.call)
        if state is None:
            return
        self._end_attempt(state, event.cause)
        state.span.add_event(
            "digicert_async.retry_declined",
            {"digicert_async.attempt": event.attempt, "digicert_async.reason": event.reason},
        )

    # ---------------------------------------------------------------- the rate limit
    def rate_limit_wait(self, event: RateLimitWait) -> None:
        self._waited.record(event.delay, {"digicert_async.wait.reason": event.reason})
        state = self._current(event.call)
        if state is not None:
            state.span.add_event(
                "digicert_async.rate_limit_wait",
                {
                    "digicert_async.wait.seconds": event.delay,
                    "digicert_async.wait.reason": event.reason,
                },
            )

    def cooldown_started(self, event: CooldownStarted) -> None:
        state = self._current(event.call)
        if state is not None:
            state.span.add_event(
                "digicert_async.rate_limit_cooldown",
                {
                    "digicert_async.wait.seconds": event.delay,
                    "digicert_async.retry_after": event.retry_after,
                },
            )

    # ---------------------------------------------------------------- bulk jobs
    def job_started(self, event: JobStarted) -> None:
        span = self._tracer.start_span(
            f"digicert_async bulk {event.job}",
            kind=trace.SpanKind.INTERNAL,
            attributes={
                "digicert_async.job": event.job,
                "digicert_async.job.ids": event.ids,
                "digicert_async.job.duplicates": event.duplicates,
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        self._job.set(_Job(span, token))

    def job_ended(self, event: JobEnded) -> None:
        job = self._job.get()
        if job is None:
            return
        self._job.set(None)
        span = job.span
        for outcome, count in event.outcomes.items():
            span.set_attribute(f"digicert_async.job.outcome.{outcome}", count)
        span.set_attribute("digicert_async.job.unfinished", event.unfinished)
        span.set_attribute("digicert_async.job.timed_out", event.timed_out)
        failure = event.stopped_by or event.error
        if failure is not None:
            span.set_attribute("error.type", _error_type(failure))
            span.set_status(trace.StatusCode.ERROR)
        span.end()
        otel_context.detach(job.token)  # type: ignore[arg-type]
