"""OpenTelemetry hooks: a span per call over its attempts, a span per attempt, waits as
events, the request metrics, bulk jobs as parents; recorded with the SDK's in-memory
exporter and reader against the fake server over loopback."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import digicert_async as dc
from digicert_async.telemetry import opentelemetry_hooks
from digicert_async.testing import FakeCertCentral, Fault

from .test_around import make_csr
from .test_cli_readme import _blocks

ROUTE = "/order/certificate/{order_id}"


class Recorded:
    """An SDK tracer and meter provider that keep what they record in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.hooks = opentelemetry_hooks(self.tracer_provider, self.meter_provider)

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def metrics(self) -> dict[str, list[Any]]:
        """Metric name -> its data points."""
        data = self.reader.get_metrics_data()
        found: dict[str, list[Any]] = {}
        assert data is not None
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    rec = Recorded()
    yield rec
    rec.tracer_provider.shutdown()
    rec.meter_provider.shutdown()


def client_for(fake: FakeCertCentral, hooks: dc.Hooks, **options: Any) -> dc.CertCentralClient:
    options.setdefault("rate_limit", dc.RateLimit.disabled())
    options.setdefault("retry", dc.RetryPolicy(max_attempts=3, backoff_initial=0.01))
    return dc.CertCentralClient(
        api_key=fake.api_key, base_url=fake.base_url, hooks=hooks, **options
    )


def kind_of(spans: list[ReadableSpan], kind: SpanKind) -> list[ReadableSpan]:
    return [span for span in spans if span.kind is kind]


async def test_a_plain_call_is_one_internal_span_over_one_client_span(
    recorded: Recorded,
) -> None:
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        order_id = fake.order_ids[0]
        async with client_for(fake, recorded.hooks) as client:
            await client.orders.get(order_id)
    spans = recorded.spans()
    (call,) = kind_of(spans, SpanKind.INTERNAL)
    (attempt,) = kind_of(spans, SpanKind.CLIENT)
    assert call.name == attempt.name == f"GET {ROUTE}"
    assert attempt.parent is not None and attempt.parent.span_id == call.context.span_id
    assert attempt.context.trace_id == call.context.trace_id
    host, port = fake.base_url.split("//")[1].split("/")[0].split(":")
    assert dict(attempt.attributes or {}) == {
        "http.request.method": "GET",
        "server.address": host,
        "server.port": int(port),
        "url.template": ROUTE,
        "url.full": f"{fake.base_url}/order/certificate/{order_id}",
        "http.response.status_code": 200,
    }
    assert call.status.status_code is StatusCode.UNSET
    assert (call.attributes or {})["digicert_async.attempts"] == 1
    assert "error.type" not in (call.attributes or {})
    assert call.start_time <= attempt.start_time and attempt.end_time <= call.end_time  # type: ignore[operator]


async def test_a_retried_call_shows_each_attempt_with_its_resend_count(
    recorded: Recorded,
) -> None:
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        fake.inject(Fault.SERVICE_UNAVAILABLE_HTML, times=1)
        fake.inject(Fault.RESET_BEFORE, times=1)
        async with client_for(fake, recorded.hooks) as client:
            await client.orders.get(fake.order_ids[0])
    spans = recorded.spans()
    (call,) = kind_of(spans, SpanKind.INTERNAL)
    attempts = sorted(kind_of(spans, SpanKind.CLIENT), key=lambda s: s.start_time or 0)
    assert len(attempts) == 3
    assert all(a.parent is not None and a.parent.span_id == call.context.span_id for a in attempts)
    first, second, third = (dict(a.attributes or {}) for a in attempts)
    assert "http.request.resend_count" not in first
    assert (first["http.response.status_code"], first["error.type"]) == (503, "503")
    assert second["http.request.resend_count"] == 1
    assert second["error.type"] == "TransportError" and "http.response.status_code" not in second
    assert third["http.request.resend_count"] == 2 and third["http.response.status_code"] == 200
    assert "error.type" not in third
    assert [a.status.status_code for a in attempts] == [
        StatusCode.ERROR,
        StatusCode.ERROR,
        StatusCode.UNSET,
    ]
    assert [e.name for e in call.events] == ["digicert_async.retry"] * 2
    assert (call.attributes or {})["digicert_async.attempts"] == 3
    durations = recorded.metrics()["http.client.request.duration"]
    by_outcome = {
        (p.attributes.get("http.response.status_code"), p.attributes.get("error.type")): p.count
        for p in durations
    }
    assert by_outcome == {(503, "503"): 1, (None, "TransportError"): 1, (200, None): 1}
    assert all(p.attributes["url.template"] == ROUTE for p in durations)
    assert all("url.full" not in p.attributes for p in durations)


async def test_a_failed_call_marks_its_span_with_the_error_type(recorded: Recorded) -> None:
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        async with client_for(fake, recorded.hooks) as client:
            with pytest.raises(dc.NotFoundError):
                await client.orders.get(999_999_999)
    spans = recorded.spans()
    (call,) = kind_of(spans, SpanKind.INTERNAL)
    (attempt,) = kind_of(spans, SpanKind.CLIENT)
    assert call.status.status_code is StatusCode.ERROR
    assert (call.attributes or {})["error.type"] == "404"
    assert (attempt.attributes or {})["error.type"] == "404"
    # no message of the server's or the exception's is recorded
    assert call.status.description is None and not call.events


async def test_a_429_is_counted_and_its_wait_is_an_event_on_the_call(
    recorded: Recorded,
) -> None:
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        fake.inject(Fault.RATE_LIMITED, times=1)
        limit = dc.RateLimit(windows=(), cooldown_initial=0.05, cooldown_max=0.05)
        async with client_for(fake, recorded.hooks, rate_limit=limit) as client:
            await client.orders.get(fake.order_ids[0])
    spans = recorded.spans()
    (call,) = kind_of(spans, SpanKind.INTERNAL)
    assert len(kind_of(spans, SpanKind.CLIENT)) == 2
    events: dict[str, dict[str, Any]] = {e.name: dict(e.attributes or {}) for e in call.events}
    assert events["digicert_async.rate_limit_wait"]["digicert_async.wait.reason"] == "cooldown"
    assert events["digicert_async.rate_limit_wait"]["digicert_async.wait.seconds"] > 0
    assert events["digicert_async.rate_limit_cooldown"]["digicert_async.retry_after"] is False
    metrics = recorded.metrics()
    (throttled,) = metrics["digicert_async.rate_limit.throttled"]
    assert throttled.value == 1 and throttled.attributes["url.template"] == ROUTE
    (waited,) = metrics["digicert_async.rate_limit.wait.duration"]
    assert waited.count == 1 and waited.sum > 0
    assert waited.attributes == {"digicert_async.wait.reason": "cooldown"}


async def test_a_bulk_cancel_is_the_parent_of_its_calls_with_its_counts(
    recorded: Recorded,
) -> None:
    async with FakeCertCentral(rate_limits=None, orders=3) as fake:
        ids = [*fake.order_ids, fake.order_ids[0], 999_999_999]
        async with client_for(fake, recorded.hooks) as client:
            report = await dc.cancel_orders(client, ids, note="decommissioned", concurrency=2)
    outcomes = {
        f"digicert_async.job.outcome.{outcome.value}": count
        for outcome, count in report.counts.items()
        if count
    }
    assert outcomes["digicert_async.job.outcome.not_found"] == 1
    spans = recorded.spans()
    (job,) = [s for s in spans if s.name == "digicert_async bulk cancel"]
    calls = [s for s in kind_of(spans, SpanKind.INTERNAL) if s is not job]
    assert len(calls) >= 4  # a PUT per id (a refusal may read its order back)
    assert all(c.parent is not None and c.parent.span_id == job.context.span_id for c in calls)
    assert dict(job.attributes or {}) == {
        "digicert_async.job": "cancel",
        "digicert_async.job.ids": 4,
        "digicert_async.job.duplicates": 1,
        **outcomes,
        "digicert_async.job.unfinished": 0,
        "digicert_async.job.timed_out": False,
    }


async def test_the_key_a_note_and_a_csr_appear_in_no_span_or_metric(
    recorded: Recorded,
) -> None:
    note = "decommissioned host db-17 for ticket 4242"
    csr = make_csr("telemetry.example.com")
    async with FakeCertCentral(rate_limits=None, orders=0) as fake:
        key = fake.api_key
        first = fake.add_order("pending")
        second = fake.add_order("issued", common_name="telemetry.example.com")
        fake.inject(Fault.INTERNAL_ERROR, times=1)
        async with client_for(fake, recorded.hooks) as client:
            with pytest.raises(dc.ServerError):  # a POST is not re-sent
                await client.orders.add_note(first, note)
            await client.orders.add_note(first, note)
            await dc.cancel_orders(client, [first], note=note)
            await client.orders.reissue(second, csr)
    spans = recorded.spans()
    assert len(spans) > 5
    texts: list[str] = []
    for span in spans:
        texts.append(span.to_json())
    metrics_data = recorded.reader.get_metrics_data()
    assert metrics_data is not None
    texts.append(metrics_data.to_json())
    dump = "\n".join(texts)
    csr_body = "".join(line for line in csr.splitlines() if "-----" not in line)
    for secret in (key, note, csr_body[:40], csr_body[-40:], "BEGIN CERTIFICATE REQUEST"):
        assert secret not in dump


async def test_the_users_own_hooks_run_beside_the_telemetry(recorded: Recorded) -> None:
    retries: list[dc.RetryScheduled] = []
    hooks = recorded.hooks + dc.Hooks(on_retry=[retries.append])
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        fake.inject(Fault.BAD_GATEWAY, times=1)
        async with client_for(fake, hooks) as client:
            await client.orders.get(fake.order_ids[0])
    assert len(retries) == 1
    assert len(kind_of(recorded.spans(), SpanKind.CLIENT)) == 2
    assert hooks.on_retry[-1] == retries.append


def test_adding_hooks_keeps_every_callback_in_order() -> None:
    def a(event: object) -> None: ...
    def b(event: object) -> None: ...

    both = dc.Hooks(on_request=[a], on_job_end=[b]) + dc.Hooks(on_request=[b])
    assert tuple(both.on_request) == (a, b)
    assert tuple(both.on_job_end) == (b,)
    not_hooks: Any = [a]
    with pytest.raises(TypeError):
        dc.Hooks() + not_hooks


async def test_concurrent_calls_keep_their_attempts_apart(recorded: Recorded) -> None:
    async with FakeCertCentral(rate_limits=None, orders=4) as fake:
        fake.inject(Fault.SERVICE_UNAVAILABLE_HTML, times=2)
        async with client_for(fake, recorded.hooks) as client:
            await asyncio.gather(*(client.orders.get(i) for i in fake.order_ids))
    spans = recorded.spans()
    calls = kind_of(spans, SpanKind.INTERNAL)
    attempts = kind_of(spans, SpanKind.CLIENT)
    assert len(calls) == 4 and len(attempts) == 6
    under: dict[int, int] = {}
    for attempt in attempts:
        assert attempt.parent is not None
        under[attempt.parent.span_id] = under.get(attempt.parent.span_id, 0) + 1
    assert under == {
        c.context.span_id: (c.attributes or {})["digicert_async.attempts"] for c in calls
    }
    assert sorted(under.values()) == [1, 1, 2, 2]


def test_without_the_api_the_import_names_the_extra(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "opentelemetry"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('opentelemetry hidden by the test')\n")
    paths = [str(tmp_path / "shadow"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    done = subprocess.run(
        [sys.executable, "-c", "import digicert_async.telemetry"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "ImportError" in done.stderr and "digicert-async[otel]" in done.stderr
    # the rest of the library does not need it
    done = subprocess.run(
        [sys.executable, "-c", "import digicert_async; digicert_async.CertCentralClient"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_readme_example_prints_the_trace_it_shows(tmp_path: Path) -> None:
    example = _blocks("python", after="### Tracing with OpenTelemetry")[0]
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    shown = re.search(r"It prints the trace.*?\n```\n(.*?)```", readme, re.S)
    assert shown is not None
    script = tmp_path / "trace.py"
    script.write_text(example)
    run = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == shown[1]


async def test_on_the_no_op_providers_calls_run_and_nothing_is_recorded() -> None:
    from opentelemetry import metrics, trace

    hooks = opentelemetry_hooks(trace.NoOpTracerProvider(), metrics.NoOpMeterProvider())
    current: list[bool] = []
    mine = dc.Hooks(on_request=[lambda _: current.append(trace.get_current_span().is_recording())])
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        fake.inject(Fault.RESET_BEFORE, times=1)
        async with client_for(fake, hooks + mine) as client:
            order = await client.orders.get(fake.order_ids[0])
    assert order.id == fake.order_ids[0]
    assert current == [False, False]


async def test_a_sampled_out_call_is_still_measured(recorded: Recorded) -> None:
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(recorded.exporter))
    hooks = opentelemetry_hooks(provider, recorded.meter_provider)
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        fake.inject(Fault.RESET_BEFORE, times=1)
        async with client_for(fake, hooks) as client:
            await client.orders.get(fake.order_ids[0])
    assert recorded.spans() == []
    durations = recorded.metrics()["http.client.request.duration"]
    assert sorted(p.count for p in durations) == [1, 1]
    assert {p.attributes.get("error.type") for p in durations} == {None, "TransportError"}


async def test_one_set_of_hooks_serves_several_clients_at_once(recorded: Recorded) -> None:
    async with FakeCertCentral(rate_limits=None, orders=2) as fake:
        fake.inject(Fault.SERVICE_UNAVAILABLE_HTML, times=1)
        first, second = fake.order_ids
        async with (
            client_for(fake, recorded.hooks) as one,
            client_for(fake, recorded.hooks) as other,
        ):
            # both clients number this call 1
            await asyncio.gather(one.orders.get(first), other.orders.get(second))
    spans = recorded.spans()
    calls = kind_of(spans, SpanKind.INTERNAL)
    assert len(calls) == 2 and len(kind_of(spans, SpanKind.CLIENT)) == 3
    for call in calls:
        attempts = [
            s
            for s in kind_of(spans, SpanKind.CLIENT)
            if s.parent is not None and s.parent.span_id == call.context.span_id
        ]
        assert len(attempts) == (call.attributes or {})["digicert_async.attempts"]
        assert len({str((a.attributes or {})["url.full"]) for a in attempts}) == 1


async def test_a_job_stopped_by_a_refused_key_marks_its_span(recorded: Recorded) -> None:
    async with FakeCertCentral(rate_limits=None, orders=3) as fake:
        client = dc.CertCentralClient(
            api_key="not-the-key",
            base_url=fake.base_url,
            hooks=recorded.hooks,
            rate_limit=dc.RateLimit.disabled(),
        )
        async with client:
            report = await dc.cancel_orders(client, fake.order_ids, note="n", concurrency=1)
    assert isinstance(report.stopped_by, dc.DigiCertError)
    status = str(report.stopped_by.status)  # type: ignore[attr-defined]
    (job,) = [s for s in recorded.spans() if s.name == "digicert_async bulk cancel"]
    assert (job.attributes or {})["error.type"] == status
    assert job.status.status_code is StatusCode.ERROR
    assert (job.attributes or {})["digicert_async.job.unfinished"] >= 1


def test_without_an_sdk_or_a_provider_the_hooks_are_empty_and_cost_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry import metrics, trace

    from digicert_async import telemetry

    assert len(opentelemetry_hooks().on_call_start) == 1  # the SDK is installed here
    monkeypatch.setattr(telemetry, "_sdk_installed", lambda: False)
    assert opentelemetry_hooks() == dc.Hooks()  # nothing could ever record
    given = opentelemetry_hooks(trace.NoOpTracerProvider(), metrics.NoOpMeterProvider())
    assert len(given.on_call_start) == 1  # providers given: they are the caller's choice
    monkeypatch.setattr(trace, "get_tracer_provider", trace.NoOpTracerProvider)
    assert len(opentelemetry_hooks().on_call_start) == 1  # one set globally, SDK or not
