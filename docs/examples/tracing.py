"""The trace of a bulk cancel whose first call is retried after a 503."""

import asyncio

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import digicert_async as dc
from digicert_async.telemetry import opentelemetry_hooks
from digicert_async.testing import FakeCertCentral, Fault

exporter = InMemorySpanExporter()  # in your service: an OTLP exporter, say
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
retries = []  # your own hooks, beside the telemetry
hooks = opentelemetry_hooks(tracer_provider=provider) + dc.Hooks(on_retry=[retries.append])


def show(span, children, depth=0):
    status = span.attributes.get("http.response.status_code", "")
    print(f"{'  ' * depth}{span.kind.name:8} {span.name} {status}".rstrip())
    for child in children.get(span.context.span_id, []):
        show(child, children, depth + 1)


async def main() -> None:
    async with FakeCertCentral(orders=0) as fake:
        ids = [fake.add_order("pending") for _ in range(2)]
        fake.inject(Fault.SERVICE_UNAVAILABLE_HTML)  # the first answer is a 503
        async with dc.CertCentralClient(
            api_key=fake.api_key, base_url=fake.base_url, hooks=hooks
        ) as client:
            await dc.cancel_orders(client, ids, note="decommissioned", concurrency=1)
    spans = sorted(exporter.get_finished_spans(), key=lambda span: span.start_time)
    children = {}
    for span in spans:
        if span.parent is not None:
            children.setdefault(span.parent.span_id, []).append(span)
    show(spans[0], children)
    print("canceled:", spans[0].attributes["digicert_async.job.outcome.canceled"])
    print("retries seen by your hook:", len(retries))


asyncio.run(main())
# It prints:
# INTERNAL digicert_async bulk cancel
#   INTERNAL PUT /order/certificate/{order_id}/status
#     CLIENT   PUT /order/certificate/{order_id}/status 503
#     CLIENT   PUT /order/certificate/{order_id}/status 204
#   INTERNAL PUT /order/certificate/{order_id}/status
#     CLIENT   PUT /order/certificate/{order_id}/status 204
# canceled: 2
# retries seen by your hook: 1
