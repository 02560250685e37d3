"""The exact request each endpoint puts on the wire (aioresponses, no server)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aioresponses import aioresponses
from yarl import URL

import digicert_async as dc

from .conftest import load_seed, requires_aioresponses

pytestmark = requires_aioresponses

ROOT = "https://www.digicert.com/services/v2"
KEY = "test-key-0123456789abcdef"


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[dc.CertCentralClient]:
    async with dc.CertCentralClient(api_key=KEY, rate_limit=dc.RateLimit.disabled()) as c:
        yield c


def only_call(mocked: aioresponses) -> tuple[str, URL, dict[str, Any]]:
    """The single request the test made: method, full URL (query included), kwargs."""
    calls = [(key, call) for key, calls in mocked.requests.items() for call in calls]
    assert len(calls) == 1, calls
    (method, url), call = calls[0]
    return method, url, call.kwargs


def sent_json(kwargs: dict[str, Any]) -> Any:
    return json.loads(kwargs["data"])


def assert_common_headers(kwargs: dict[str, Any], *, with_body: bool) -> None:
    headers = kwargs["headers"]
    assert headers["X-DC-DEVKEY"] == KEY
    assert headers["User-Agent"].startswith(f"digicert-async/{dc.__version__} Python/")
    assert "aiohttp/" in headers["User-Agent"]
    assert headers["Accept"] == "application/json"
    if with_body:
        assert headers["Content-Type"] == "application/json"
    else:
        assert "Content-Type" not in headers
        assert kwargs["data"] is None
    assert kwargs["allow_redirects"] is False


async def test_add_note(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.post(f"{ROOT}/order/certificate/42/note", status=201, payload=load_seed("note_response"))
    note = await client.orders.add_note(42, "This is a note")
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("POST", f"{ROOT}/order/certificate/42/note")
    assert sent_json(kwargs) == load_seed("note_request") == {"text": "This is a note"}
    assert_common_headers(kwargs, with_body=True)
    assert note.id == 2 and note.user is not None and note.user.first_name == "John"


async def test_cancel(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.put(f"{ROOT}/order/certificate/42/status", status=204)
    assert await client.orders.cancel(42, note="Message about the cancellation.") is None
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("PUT", f"{ROOT}/order/certificate/42/status")
    assert sent_json(kwargs) == load_seed("cancel_request")
    assert sent_json(kwargs) == {"status": "CANCELED", "note": "Message about the cancellation."}
    assert_common_headers(kwargs, with_body=True)


async def test_update_status_passes_other_values(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.put(f"{ROOT}/order/certificate/7/status", status=204)
    await client.orders.update_status(7, "canceled", note="lowercase, as newer pages write it")
    _, _, kwargs = only_call(mocked)
    assert sent_json(kwargs) == {"status": "canceled", "note": "lowercase, as newer pages write it"}


@pytest.mark.parametrize("product", ["document_signing_org_1", "document_signing_org_2"])
async def test_create_document_signing(
    mocked: aioresponses, client: dc.CertCentralClient, product: str
) -> None:
    request_json = load_seed("document_signing_request")
    mocked.post(
        f"{ROOT}/order/certificate/{product}",
        status=201,
        payload=load_seed("document_signing_response_approved"),
    )
    order = dc.converter.structure(request_json, dc.DocumentSigningOrder)
    created = await client.orders.create_document_signing(order, product=product)
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("POST", f"{ROOT}/order/certificate/{product}")
    assert sent_json(kwargs) == request_json
    assert_common_headers(kwargs, with_body=True)
    assert created.id == 112233 and created.certificate_id == 113


async def test_create_document_signing_from_mapping(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    request_json = load_seed("document_signing_request")
    mocked.post(
        f"{ROOT}/order/certificate/document_signing_org_1",
        status=201,
        payload=load_seed("document_signing_response_pending"),
    )
    created = await client.orders.create_document_signing(request_json)
    _, _, kwargs = only_call(mocked)
    assert sent_json(kwargs) == request_json
    assert created.requests is not None and created.requests[0].status == "pending"


async def test_subaccount_get_order(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.get(
        f"{ROOT}/account/subaccount/order/12345678",
        payload=load_seed("subaccount_order_issued"),
    )
    sub = await client.subaccounts.get_order(12345678)
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("GET", f"{ROOT}/account/subaccount/order/12345678")
    assert_common_headers(kwargs, with_body=False)
    assert sub.status == "issued" and sub.is_multi_year_plan is True


async def test_get_order(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.get(f"{ROOT}/order/certificate/99", payload={"id": 99, "status": "pending"})
    order = await client.orders.get(99)
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("GET", f"{ROOT}/order/certificate/99")
    assert_common_headers(kwargs, with_body=False)
    assert order.id == 99


async def test_list_notes(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.get(f"{ROOT}/order/certificate/5/note", payload={"notes": [load_seed("note_response")]})
    notes = await client.orders.list_notes(5)
    method, url, _ = only_call(mocked)
    assert (method, str(url)) == ("GET", f"{ROOT}/order/certificate/5/note")
    assert [n.text for n in notes] == ["This is a note"]


async def test_list_orders_query_and_paging(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    pattern = re.compile(re.escape(f"{ROOT}/order/certificate") + r"\?.*")
    mocked.get(
        pattern,
        payload={"orders": [{"id": 1}, {"id": 2}], "page": {"total": 3, "limit": 2, "offset": 0}},
    )
    mocked.get(
        pattern, payload={"orders": [{"id": 3}], "page": {"total": 3, "limit": 2, "offset": 2}}
    )
    ids = [
        o.id
        async for o in client.orders.list(
            status="pending",
            filters={"common_name": "x.example"},
            sort="-date_created",
            page_size=2,
        )
    ]
    assert ids == [1, 2, 3]
    urls = [url for (method, url) in mocked.requests]
    assert len(urls) == 2
    # aioresponses records the query sorted, so compare as sets of pairs.
    queries = [sorted(url.query.items()) for url in urls]
    assert queries[0] == sorted(
        [
            ("filters[status]", "pending"),
            ("filters[common_name]", "x.example"),
            ("sort", "-date_created"),
            ("offset", "0"),
            ("limit", "2"),
        ]
    )
    assert dict(queries[1])["offset"] == "2" and dict(queries[1])["limit"] == "2"
    assert all(url.path == "/services/v2/order/certificate" for url in urls)


async def test_subaccount_list_orders_query(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    pattern = re.compile(re.escape(f"{ROOT}/account/subaccount/order") + r"\?.*")
    mocked.get(pattern, payload={"orders": [], "page": {"total": 0, "limit": 1000, "offset": 0}})
    assert [s async for s in client.subaccounts.list_orders(status="issued")] == []
    ((method, url),) = mocked.requests
    assert method == "GET" and url.path == "/services/v2/account/subaccount/order"
    assert sorted(url.query.items()) == sorted(
        [("filters[status]", "issued"), ("offset", "0"), ("limit", "1000")]
    )


async def test_status_changes_window(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    pattern = re.compile(re.escape(f"{ROOT}/order/certificate/status-changes") + r"\?.*")
    mocked.get(
        pattern,
        payload={"orders": [{"order_id": 1, "certificate_id": 11, "status": "issued"}]},
    )
    since = datetime(2026, 11, 20, 12, 0, 5, tzinfo=timezone.utc)
    until = datetime(2026, 11, 21, 1, 2, 3, tzinfo=timezone(timedelta(hours=2)))
    changes = await client.orders.status_changes(since, until)
    ((_method, url),) = mocked.requests
    # 7 hours earlier than asked (the server reads Mountain time), the end in UTC.
    assert url.query["filters[status_last_updated]"] == (
        "2026-11-20 05:00:05...2026-11-20 23:02:03"
    )
    assert "+" in url.raw_query_string  # the space travels as "+", as DigiCert expects
    assert [(c.order_id, c.status) for c in changes] == [(1, "issued")]


async def test_region_eu(mocked: aioresponses) -> None:
    eu = "https://certcentral.digicert.eu/services/v2"
    mocked.get(f"{eu}/order/certificate/1", payload={"id": 1})
    async with dc.CertCentralClient(api_key=KEY, region="eu") as c:
        await c.orders.get(1)
    ((_method, url),) = mocked.requests
    assert str(url) == f"{eu}/order/certificate/1"
