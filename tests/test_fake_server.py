"""FakeCertCentral over real loopback HTTP, driven by a raw aiohttp client."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy
from yarl import URL

from digicert_async.testing import FakeCertCentral, Fault, RecordedRequest
from digicert_async.testing._state import MOUNTAIN

pytest_plugins = ["pytester"]

UTC = timezone.utc
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")
DATE = re.compile(r"\d{4}-\d\d-\d\d")
RATE_LIMIT_BODY = {
    "errors": [
        {
            "code": "request_limit_exceeded",
            "message": "Service unavailable, please limit request volume",
        }
    ]
}
SEED3_BODY: dict[str, Any] = {
    "certificate": {"server_platform": {"id": 21}, "signature_hash": "sha256"},
    "cs_provisioning_method": "ship_token",
    "use_org_as_common_name": True,
    "validity_years": 2,
    "comments": "Comments for the the approver.",
    "organization": {"id": 334455},
    "container": {"id": 221122},
    "ship_info": {
        "name": "Erin Guerra",
        "addr1": "360 Taylor Street",
        "addr2": "Floor 74",
        "city": "Richmond",
        "state": "va",
        "zip": "69662",
        "country": "us",
        "method": "standard",
    },
    "subject": {
        "name": "Rene Pierce",
        "job_title": "School Counselor",
        "phone": "054-139-0798",
        "email": "rene.pierce@yahoo.com",
    },
    "csa_agreed_to": 1,
    "skip_approval": True,
    "payment_method": "balance",
}
# Every key seed 4 shows for a subaccount order.
SEED4_KEYS = {
    "id",
    "certificate",
    "organization",
    "subaccount",
    "product",
    "order_price",
    "status",
    "number_of_sans",
    "date_created",
    "date_issued",
    "is_multi_year_plan",
    "order_valid_from",
    "order_valid_till",
    "validity_years",
}


class Api:
    """A raw aiohttp session bound to one fake, answering (status, json-or-text, headers)."""

    def __init__(self, fake: FakeCertCentral, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session

    def url(self, path: str) -> str:
        return self.fake.base_url + path

    async def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any, CIMultiDictProxy[str]]:
        headers = {"X-DC-DEVKEY": self.fake.api_key if key is None else key}
        async with self.session.request(
            method, self.url(path), headers=headers, **kwargs
        ) as response:
            raw = await response.read()
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            return response.status, body, response.headers


@pytest.fixture
async def server() -> AsyncIterator[FakeCertCentral]:
    async with FakeCertCentral(rate_limits=None, seed=3) as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def api(server: FakeCertCentral, session: aiohttp.ClientSession) -> Api:
    return Api(server, session)


def codes(body: Any) -> list[str]:
    assert set(body) == {"errors"}
    return [entry["code"] for entry in body["errors"]]


def mountain(moment: datetime) -> str:
    """DigiCert's filter format, in Mountain time, with the ``+`` as a space."""
    local = moment.astimezone(MOUNTAIN)
    return f"{local.year}-{local.month}-{local.day} {local.hour}:{local.minute}:{local.second}"


# --------------------------------------------------------------------- basics


async def test_base_url_key_and_lifecycle() -> None:
    fake = FakeCertCentral()
    with pytest.raises(RuntimeError):
        _ = fake.base_url
    assert re.fullmatch(r"[0-9a-f]{32}", fake.api_key)
    assert FakeCertCentral().api_key != fake.api_key
    assert FakeCertCentral(api_key="k").api_key == "k"
    async with fake:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/services/v2", fake.base_url)
        with pytest.raises(RuntimeError):
            await fake.start()
    await fake.close()  # idempotent


async def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        FakeCertCentral(fault_rate=1.5)
    with pytest.raises(ValueError):
        FakeCertCentral(rate_limits=[(0, 1.0)])
    with pytest.raises(ValueError):
        FakeCertCentral(orders=-1)
    with pytest.raises(ValueError):
        FakeCertCentral().inject(Fault.SLOW, times=0)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"api_key": ""}, "api_key must not be empty"),
        ({"orders": -1}, "orders must be >= 0"),
        ({"rate_limits": [(5, 0.0)]}, "every rate-limit window"),
        ({"block_seconds": -0.5}, "block_seconds must be >= 0"),
        ({"fault_rate": -0.1}, "fault_rate must be between 0 and 1"),
        ({"fault_rate": 0.5, "fault_kinds": ()}, "fault_kinds must not be empty"),
        ({"slow_seconds": -1.0}, "slow_seconds must be >= 0"),
        ({"issue_after": -1.0}, "issue_after must be >= 0"),
        ({"intermediates": 0}, "intermediates must be >= 1"),
    ],
)
def test_a_bad_setting_is_refused_by_its_name(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(named)}"):
        FakeCertCentral(**settings)


def test_the_settings_at_their_bounds_are_taken() -> None:
    fake = FakeCertCentral(
        api_key="k", orders=0, block_seconds=0, slow_seconds=0, fault_rate=1.0, rate_limits=[]
    )
    assert fake.api_key == "k" and fake.fault_kinds == tuple(Fault)
    assert FakeCertCentral(fault_rate=0.0, fault_kinds=()).fault_kinds == ()
    assert len(FakeCertCentral().api_key) == 32


@pytest.mark.parametrize("key", ["", "wrong-key"])
async def test_missing_or_wrong_key_is_403(api: Api, key: str) -> None:
    order_id = api.fake.add_order()
    status, body, _ = await api.call(
        "POST", f"/order/certificate/{order_id}/note", key=key, json={"text": "x"}
    )
    assert status == 403
    assert codes(body) == ["access_denied|access_denied_invalid_key"]
    assert api.fake.notes(order_id) == []
    (record,) = api.fake.requests
    assert record.answered_status == 403
    assert not record.applied


async def test_unknown_routes_and_orders_are_404(api: Api) -> None:
    status, body, _ = await api.call("GET", "/no/such/thing")
    assert (status, codes(body)) == (404, ["not_found|route"])
    status, body, _ = await api.call("DELETE", "/order/certificate/100001")
    assert (status, codes(body)) == (404, ["not_found|route"])
    async with api.session.get(
        api.url("").replace("/services/v2", "/other"), headers={"X-DC-DEVKEY": api.fake.api_key}
    ) as response:
        assert response.status == 404
        assert codes(await response.json()) == ["not_found|route"]

    for method, path, payload in [
        ("GET", "/order/certificate/424242", None),
        ("GET", "/order/certificate/424242/note", None),
        ("POST", "/order/certificate/424242/note", {"text": "x"}),
        ("PUT", "/order/certificate/424242/status", {"status": "CANCELED", "note": "x"}),
        ("GET", "/account/subaccount/order/424242", None),
    ]:
        status, body, _ = await api.call(method, path, json=payload)
        assert (status, codes(body)) == (404, ["not_found|order"]), (method, path)

    own = api.fake.add_order(subaccount=False)
    status, body, _ = await api.call("GET", f"/account/subaccount/order/{own}")
    assert (status, codes(body)) == (404, ["not_found|order"])
    assert not any(record.applied for record in api.fake.requests)


async def test_the_method_picks_among_routes_of_one_path(api: Api) -> None:
    """aiohttp's router never answers with its own text 404 or 405: every miss is DigiCert's."""
    order_id = api.fake.add_order()
    # /order/certificate/{digits} is order info for GET and a product name for POST
    status, body, _ = await api.call("POST", f"/order/certificate/{order_id}", json=SEED3_BODY)
    assert (status, codes(body)) == (404, ["not_found|product"])
    for method, path in [
        ("PATCH", "/order/certificate"),
        ("OPTIONS", f"/order/certificate/{order_id}"),
        ("GET", f"/order/certificate/{order_id}/status"),
        ("PUT", f"/order/certificate/{order_id}/note"),
        ("POST", "/account/subaccount/order"),
        ("GET", "/order/certificate/\N{SUPERSCRIPT TWO}"),  # isdigit(), but no decimal digit
    ]:
        status, body, headers = await api.call(method, path)
        assert (status, codes(body)) == (404, ["not_found|route"]), (method, path)
        assert headers["Content-Type"].startswith("application/json")
        assert method in body["errors"][0]["message"]
    # HEAD is not GET here (aiohttp's add_get would have added it)
    status, body, _ = await api.call("HEAD", f"/order/certificate/{order_id}")
    assert (status, body) == (404, None)
    assert not any(record.applied for record in api.fake.requests)


async def test_stray_slashes_below_the_api_root_are_ignored(api: Api) -> None:
    order_id = api.fake.add_order()
    status, body, _ = await api.call("GET", f"/order/certificate/{order_id}/")
    assert (status, body["id"]) == (200, order_id)
    status, body, _ = await api.call(
        "POST", f"//order/certificate/{order_id}/note//", json={"text": "x"}
    )
    assert (status, body["text"]) == (201, "x")
    status, body, _ = await api.call("GET", "/account/subaccount/order/")
    assert (status, body) == (200, {"page": {"total": 0, "limit": 1000, "offset": 0}})
    # inside the path an empty segment is no route, and the API root alone is none either
    for path in [f"/order//certificate/{order_id}", "/", ""]:
        status, body, _ = await api.call("GET", path)
        assert (status, codes(body)) == (404, ["not_found|route"]), path
    assert [r.path for r in api.fake.requests[:2]] == [
        f"/services/v2/order/certificate/{order_id}/",
        f"/services/v2//order/certificate/{order_id}/note//",
    ]
    assert [r.applied for r in api.fake.requests] == [True] * 3 + [False] * 3


async def test_every_path_passes_the_key_check_limiter_faults_and_log(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeCertCentral(rate_limits=[(2, 30.0)], block_seconds=30.0) as fake:
        api = Api(fake, session)
        order_id = fake.add_order()
        # the key is checked before the route is looked at
        assert (await api.call("GET", "/no/such/thing", key="wrong"))[0] == 403
        assert (await api.call("DELETE", f"/order/certificate/{order_id}", key="wrong"))[0] == 403
        fake.inject(Fault.BAD_GATEWAY, path_contains="/no/such")
        assert (await api.call("GET", "/no/such/thing"))[0] == 502
        assert (await api.call("GET", "/no/such/thing"))[0] == 404
        # both were admitted by the limiter: the window of two is full
        assert (await api.call("GET", f"/order/certificate/{order_id}"))[0] == 429
        assert [(r.method, r.answered_status, r.fault) for r in fake.requests] == [
            ("GET", 403, None),
            ("DELETE", 403, None),
            ("GET", 502, Fault.BAD_GATEWAY),
            ("GET", 404, None),
            ("GET", 429, None),
        ]
        assert fake.rate_limited_count == 1


async def test_every_mounted_route_reaches_its_endpoint(api: Api) -> None:
    """A route a resource group declares is served by the fake, not answered not_found|route."""
    from digicert_async.testing._fake import ROUTES

    order_id = api.fake.add_order(subaccount=True)
    values = {
        "order_id": str(order_id),
        "note_id": "1",
        "product": "document_signing_org_1",
        "certificate_identifier": "1",
        "request_id": "1",
        "certificate_id": "1",
        "format_type": "pem_all",
        "webhook_id": "1",
        "organization_id": "1",
        "domain_id": "1",
    }
    seen = 0
    for table in ROUTES:
        for route in table:
            path = re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: values[m.group(1)], route.path)
            _, body, _ = await api.call(route.method, path, json={})
            error_codes = codes(body) if isinstance(body, dict) and "errors" in body else []
            assert "not_found|route" not in error_codes, (route.method, route.path)
            seen += 1
    assert seen >= 10


# --------------------------------------------------------------------- notes


async def test_add_and_list_notes(api: Api) -> None:
    first, second = api.fake.add_order(), api.fake.add_order()
    status, note, headers = await api.call(
        "POST", f"/order/certificate/{first}/note", json={"text": "This is a note"}
    )
    assert status == 201
    assert headers["Content-Type"].startswith("application/json")
    assert set(note) == {"id", "date_created", "text", "user"}
    assert ISO_UTC.fullmatch(note["date_created"])
    assert note["text"] == "This is a note"
    assert set(note["user"]) == {"id", "first_name", "last_name", "email"}

    _, other, _ = await api.call("POST", f"/order/certificate/{second}/note", json={"text": "b"})
    _, again, _ = await api.call("POST", f"/order/certificate/{first}/note", json={"text": "c"})
    assert note["id"] < other["id"] < again["id"]  # ids increase across orders

    status, body, _ = await api.call("GET", f"/order/certificate/{first}/note")
    assert status == 200
    assert body == {"notes": [note, again]}
    assert api.fake.notes(first) == [note, again]
    assert [r.applied for r in api.fake.requests] == [True, True, True, True]


async def test_note_validation(api: Api) -> None:
    order_id = api.fake.add_order()
    path = f"/order/certificate/{order_id}/note"
    for payload in [{}, {"text": ""}, {"note": "x"}]:
        status, body, _ = await api.call("POST", path, json=payload)
        assert (status, codes(body)) == (400, ["required_param:text"])
    status, body, _ = await api.call("POST", path, json={"text": 5})
    assert (status, codes(body)) == (400, ["invalid_value:text"])
    status, body, _ = await api.call("POST", path, data=b'{"text": ')
    assert status == 400
    assert codes(body) == ["invalid_json"]
    assert api.fake.notes(order_id) == []
    assert not any(record.applied for record in api.fake.requests)


# --------------------------------------------------------------------- cancel


async def test_cancel_state_machine(api: Api) -> None:
    fake = api.fake
    pending = fake.add_order("pending")
    waiting = fake.add_order("waiting_pickup")
    issued = fake.add_order("issued")
    body = {"status": "CANCELED", "note": "Message about the cancellation."}

    status, answer, headers = await api.call(
        "PUT", f"/order/certificate/{pending}/status", json=body
    )
    assert (status, answer) == (204, None)
    assert headers.get("Content-Length", "0") == "0"
    assert fake.order(pending)["status"] == "canceled"  # type: ignore[index]
    assert [n["text"] for n in fake.notes(pending)] == ["Message about the cancellation."]

    lower = {"status": "canceled", "note": "lowercase works too"}
    status, _, _ = await api.call("PUT", f"/order/certificate/{waiting}/status", json=lower)
    assert status == 204
    assert fake.order(waiting)["status"] == "canceled"  # type: ignore[index]

    for order_id, current in [(issued, "issued"), (pending, "canceled")]:
        status, answer, _ = await api.call(
            "PUT", f"/order/certificate/{order_id}/status", json=body
        )
        assert status == 400
        assert codes(answer) == ["invalid_status"]
        assert current in answer["errors"][0]["message"]
        assert fake.order(order_id)["status"] == current  # type: ignore[index]
    assert len(fake.notes(pending)) == 1
    assert [r.applied for r in fake.requests] == [True, True, False, False]


async def test_cancel_validation(api: Api) -> None:
    order_id = api.fake.add_order()
    path = f"/order/certificate/{order_id}/status"
    cases = [
        ({"status": "CANCELED"}, ["required_param:note"]),
        ({"note": "x"}, ["required_param:status"]),
        ({}, ["required_param:status", "required_param:note"]),
        ({"status": "Canceled", "note": "x"}, ["invalid_value:status"]),
        ({"status": "revoked", "note": "x"}, ["invalid_value:status"]),
    ]
    for payload, expected in cases:
        status, body, _ = await api.call("PUT", path, json=payload)
        assert (status, codes(body)) == (400, expected), payload
    assert api.fake.order(order_id)["status"] == "pending"  # type: ignore[index]


# --------------------------------------------------------------------- document signing


async def test_order_document_signing(api: Api) -> None:
    status, created, _ = await api.call(
        "POST", "/order/certificate/document_signing_org_1", json=SEED3_BODY
    )
    assert status == 201
    assert set(created) == {"id", "requests", "certificate_id"}
    assert created["requests"][0]["status"] == "approved"
    order = api.fake.order(created["id"])
    assert order is not None
    assert order["status"] == "pending"
    assert order["certificate"]["id"] == created["certificate_id"]
    assert order["product"]["name_id"] == "document_signing_org_1"
    assert order["organization"]["id"] == 334455
    assert order["validity_years"] == 2

    two_step = {**SEED3_BODY, "skip_approval": False, "organization": {"name": "New Org, Inc"}}
    status, second, _ = await api.call(
        "POST", "/order/certificate/document_signing_org_2", json=two_step
    )
    assert status == 201
    assert set(second) == {"id", "requests", "organization"}
    assert second["requests"][0]["status"] == "pending"
    assert second["requests"][0]["id"] > created["requests"][0]["id"]
    assert second["id"] > created["id"]
    new_order = api.fake.order(second["id"])
    assert new_order is not None
    assert new_order["organization"] == {
        "id": second["organization"]["id"],
        "name": "New Org, Inc",
        "display_name": "New Org, Inc",
    }
    status, listing, _ = await api.call(
        "GET", "/order/certificate", params={"filters[product_name_id]": "document_signing_org_2"}
    )
    assert [item["id"] for item in listing["orders"]] == [second["id"]]


async def test_order_document_signing_validation(api: Api) -> None:
    path = "/order/certificate/document_signing_org_1"
    bad = {
        **SEED3_BODY,
        "certificate": {"signature_hash": "sha1"},
        "validity_years": 4,
        "subject": {"name": "Rene Pierce", "job_title": "x", "phone": "1"},
        "payment_method": "cash",
    }
    status, body, _ = await api.call("POST", path, json=bad)
    assert status == 400
    assert codes(body) == [
        "invalid_value:certificate.signature_hash",
        "invalid_value:validity_years",
        "required_param:subject.email",
        "invalid_value:payment_method",
    ]
    status, body, _ = await api.call("POST", path, json={})
    assert status == 400
    assert codes(body) == [
        "required_param:certificate",
        "required_param:validity_years",
        "required_param:organization",
        "required_param:subject",
    ]
    email = {**SEED3_BODY, "cs_provisioning_method": "email", "organization": {}}
    status, body, _ = await api.call("POST", path, json=email)
    assert codes(body) == ["required_param:certificate.csr", "required_param:organization.name"]

    status, body, _ = await api.call("POST", "/order/certificate/no_such_product", json=SEED3_BODY)
    assert (status, codes(body)) == (404, ["not_found|product"])
    assert api.fake.order_ids == []
    assert not any(record.applied for record in api.fake.requests)


# --------------------------------------------------------------------- order info


async def test_order_info_shapes(api: Api) -> None:
    fake = api.fake
    pending = fake.add_order(common_name="a.example.com", extra_field="kept")
    status, info, _ = await api.call("GET", f"/order/certificate/{pending}")
    assert status == 200
    assert info == fake.order(pending)
    assert info["id"] == pending
    assert info["status"] == "pending"
    assert info["is_renewal"] is False
    assert info["extra_field"] == "kept"
    assert ISO_UTC.fullmatch(info["date_created"])
    assert info["certificate"]["common_name"] == "a.example.com"
    assert info["certificate"]["dns_names"] == ["a.example.com"]
    assert info["certificate"]["signature_hash"] == "sha256"
    assert "thumbprint" not in info["certificate"]
    assert set(info["organization"]) >= {"id", "name"}
    assert info["product"] == {
        "name_id": "ssl_basic",
        "name": "Basic OV",
        "type": "ssl_certificate",
    }

    fake.set_status(pending, "issued")
    _, issued, _ = await api.call("GET", f"/order/certificate/{pending}")
    certificate = issued["certificate"]
    assert re.fullmatch(r"[0-9A-F]{40}", certificate["thumbprint"])
    assert re.fullmatch(r"[0-9A-F]+", certificate["serial_number"])
    assert DATE.fullmatch(certificate["valid_from"]) and DATE.fullmatch(certificate["valid_till"])
    assert certificate["days_remaining"] > 0
    assert ISO_UTC.fullmatch(issued["date_issued"])


async def test_order_info_varies_as_digicert_answers_do(api: Api) -> None:
    fake = api.fake
    pending = fake.add_order("pending")
    _, info, _ = await api.call("GET", f"/order/certificate/{pending}")
    assert "id" not in info["certificate"]  # no certificate id before issuance
    fake.set_status(pending, "issued")
    _, info, _ = await api.call("GET", f"/order/certificate/{pending}")
    assert isinstance(info["certificate"]["id"], int)
    assert next(iter(info["certificate"])) == "id"

    dv = fake.add_order("issued", product="ssl_dv_geotrust")
    _, info, _ = await api.call("GET", f"/order/certificate/{dv}")
    assert info["organization"] == []  # how DigiCert writes a DV order's organization
    _, view, _ = await api.call("GET", f"/account/subaccount/order/{dv}")
    assert view.get("organization", []) == []

    fake.update_order(dv, organization={})
    assert fake.order(dv)["organization"] == {}  # type: ignore[index]


async def test_subaccount_order_info(api: Api) -> None:
    fake = api.fake
    immediate = fake.add_order(subaccount=True, product="ssl_securesite")
    nested = fake.add_order(subaccount=True, immediate=False, product="ssl_plus")
    issued = fake.add_order("issued", subaccount=True)

    status, body, _ = await api.call("GET", f"/account/subaccount/order/{immediate}")
    assert status == 200
    assert set(body) <= SEED4_KEYS
    assert set(body) >= {"id", "certificate", "organization", "subaccount", "product", "status"}
    assert set(body["subaccount"]) == {"account_id", "account_type", "organization_name"}
    assert body["order_price"] == {"cost": 399, "currency": "USD"}
    assert body["product"]["name"] == "Secure Site SSL"
    assert body["number_of_sans"] == 1
    assert "thumbprint" not in body["certificate"]
    assert "date_issued" not in body

    _, body, _ = await api.call("GET", f"/account/subaccount/order/{nested}")
    assert "certificate" not in body
    assert "organization" not in body
    assert body["status"] == "pending"

    _, body, _ = await api.call("GET", f"/account/subaccount/order/{issued}")
    assert body["status"] == "issued"
    assert {"thumbprint", "serial_number", "valid_till"} <= set(body["certificate"])
    assert DATE.fullmatch(body["order_valid_from"]) and DATE.fullmatch(body["order_valid_till"])
    assert ISO_UTC.fullmatch(body["date_issued"])


# --------------------------------------------------------------------- listings


async def test_seeded_orders() -> None:
    async with FakeCertCentral(orders=12, rate_limits=None) as fake:
        assert fake.order_ids == list(range(100001, 100013))
        statuses = [fake.order(i)["status"] for i in fake.order_ids]  # type: ignore[index]
        assert statuses[:6] == [
            "pending",
            "waiting_pickup",
            "issued",
            "canceled",
            "rejected",
            "expired",
        ]
        assert statuses[6:] == statuses[:6]
        async with (
            aiohttp.ClientSession(headers={"X-DC-DEVKEY": fake.api_key}) as session,
            session.get(fake.base_url + "/account/subaccount/order") as response,
        ):
            body = await response.json()
        assert [order["id"] for order in body["orders"]] == [100005, 100010]
        assert "certificate" in body["orders"][0]
        assert "certificate" not in body["orders"][1]  # placed by a sub-subaccount
        dates = [fake.order(i)["date_created"] for i in fake.order_ids]  # type: ignore[index]
        assert dates == sorted(dates)


async def test_listing_pages_filters_and_sort(api: Api) -> None:
    fake = api.fake
    ids = [fake.add_order(common_name=f"n{i}.example.com") for i in range(23)]
    fake.set_status(ids[3], "issued")
    fake.set_status(ids[7], "issued")

    seen: list[int] = []
    for offset in (0, 10, 20):
        status, body, _ = await api.call(
            "GET", "/order/certificate", params={"offset": str(offset), "limit": "10"}
        )
        assert status == 200
        assert body["page"] == {"total": 23, "limit": 10, "offset": offset}
        seen += [order["id"] for order in body["orders"]]
    assert seen == ids

    _, body, _ = await api.call("GET", "/order/certificate")
    assert body["page"] == {"total": 23, "limit": 1000, "offset": 0}
    assert body["orders"][0] == fake.order(ids[0])

    _, body, _ = await api.call("GET", "/order/certificate", params={"sort": "-id", "limit": "3"})
    assert [order["id"] for order in body["orders"]] == ids[:-4:-1]
    _, body, _ = await api.call("GET", "/order/certificate", params={"sort": "-date_created"})
    assert body["orders"][0]["id"] == ids[-1]

    _, body, _ = await api.call("GET", "/order/certificate", params={"filters[status]": "issued"})
    assert [order["id"] for order in body["orders"]] == [ids[3], ids[7]]
    assert body["page"]["total"] == 2
    params = {"filters[status]": "pending", "filters[common_name]": "n5.example.com"}
    _, body, _ = await api.call("GET", "/order/certificate", params=params)
    assert [order["id"] for order in body["orders"]] == [ids[5]]
    _, body, _ = await api.call("GET", "/order/certificate", params={"offset": "30"})
    # an empty page has no list key at all, as DigiCert's production answers show
    assert body == {"page": {"total": 23, "limit": 1000, "offset": 30}}

    for params, code in [
        ({"limit": "1001"}, "invalid_value:limit"),
        ({"limit": "0"}, "invalid_value:limit"),
        ({"offset": "-1"}, "invalid_value:offset"),
        ({"offset": "x"}, "invalid_value:offset"),
        ({"sort": "price"}, "invalid_value:sort"),
    ]:
        status, body, _ = await api.call("GET", "/order/certificate", params=params)
        assert (status, codes(body)) == (400, [code])


async def test_subaccount_listing(api: Api) -> None:
    fake = api.fake
    fake.add_order()
    subs = [fake.add_order(subaccount=True) for _ in range(5)]
    fake.set_status(subs[1], "issued")
    params = {"limit": "2", "offset": "2", "sort": "id"}
    status, body, _ = await api.call("GET", "/account/subaccount/order", params=params)
    assert status == 200
    assert body["page"] == {"total": 5, "limit": 2, "offset": 2}
    assert [order["id"] for order in body["orders"]] == subs[2:4]
    assert all("subaccount" in order and set(order) <= SEED4_KEYS for order in body["orders"])
    params = {"filters[status]": "issued"}
    _, body, _ = await api.call("GET", "/account/subaccount/order", params=params)
    assert [order["id"] for order in body["orders"]] == [subs[1]]


# --------------------------------------------------------------------- status changes


async def test_status_changes_window_in_mountain_time(api: Api) -> None:
    fake = api.fake
    now = datetime.now(UTC).replace(microsecond=0)
    old = fake.add_order()
    fake.set_status(old, "issued", at=now - timedelta(days=2))
    recent = fake.add_order()
    fake.set_status(recent, "issued", at=now - timedelta(hours=1))
    canceled = fake.add_order()
    body = {"status": "CANCELED", "note": "x"}
    assert (await api.call("PUT", f"/order/certificate/{canceled}/status", json=body))[0] == 204

    window = f"{mountain(now - timedelta(hours=2))}...{mountain(now + timedelta(minutes=1))}"
    status, body, _ = await api.call(
        "GET", "/order/certificate/status-changes", params={"filters[status_last_updated]": window}
    )
    assert status == 200
    changes = {change["order_id"]: change for change in body["orders"]}
    assert set(changes) == {recent, canceled}
    # a canceled order never had a certificate: no certificate_id, as before issuance
    assert changes[canceled] == {"order_id": canceled, "status": "canceled"}
    assert changes[recent] == {
        "order_id": recent,
        "certificate_id": fake.order(recent)["certificate"]["id"],  # type: ignore[index]
        "status": "issued",
    }

    # The '+' DigiCert shows arrives as an encoded space; a literal '+' works as well.
    raw = window.replace(" ", "+")
    url = URL(api.url("/order/certificate/status-changes?filters[status_last_updated]=" + raw))
    async with api.session.get(url, headers={"X-DC-DEVKEY": fake.api_key}) as response:
        assert {c["order_id"] for c in (await response.json())["orders"]} == {recent, canceled}

    # UTC wall-clock time sent as if it were local is read as Mountain time: the window moves
    # hours into the future and misses the cancellation a moment ago.
    naive_utc = f"{(now - timedelta(minutes=5)):%Y-%m-%d %H:%M:%S}...{now:%Y-%m-%d %H:%M:%S}"
    _, body, _ = await api.call(
        "GET",
        "/order/certificate/status-changes",
        params={"filters[status_last_updated]": naive_utc},
    )
    assert body == {}  # DigiCert's documented answer when nothing changed

    # ISO 8601 with an offset is taken as written.
    iso = f"{(now - timedelta(days=3)).isoformat()}...{(now - timedelta(days=1)).isoformat()}"
    _, body, _ = await api.call(
        "GET", "/order/certificate/status-changes", params={"filters[status_last_updated]": iso}
    )
    assert [change["order_id"] for change in body["orders"]] == [old]

    for params in [{}, {"filters[status_last_updated]": "yesterday"}]:
        status, body, _ = await api.call("GET", "/order/certificate/status-changes", params=params)
        assert status == 400
        assert codes(body)[0].endswith(":filters[status_last_updated]")


# --------------------------------------------------------------------- rate limits


async def test_rate_limit_window_and_block(session: aiohttp.ClientSession) -> None:
    async with FakeCertCentral(rate_limits=[(5, 0.5)], block_seconds=0.3) as fake:
        api = Api(fake, session)
        order_id = fake.add_order()
        path = f"/order/certificate/{order_id}"
        # A wrong key is refused before the limiter and does not count.
        assert (await api.call("GET", path, key="nope"))[0] == 403
        results = [await api.call("GET", path) for _ in range(6)]
        assert [status for status, _, _ in results] == [200] * 5 + [429]
        _, body, headers = results[-1]
        assert body == RATE_LIMIT_BODY
        assert "Retry-After" not in headers
        # Blocked: even a valid note is refused and not applied.
        status, _, _ = await api.call(
            "POST", f"/order/certificate/{order_id}/note", json={"text": "x"}
        )
        assert status == 429
        assert fake.notes(order_id) == []
        assert fake.rate_limited_count == 2
        refused = [r for r in fake.requests if r.answered_status == 429]
        assert len(refused) == 2
        assert all(not r.applied and r.fault is None for r in refused)

        await asyncio.sleep(0.6)  # the block is over and the window has rolled on
        assert (await api.call("GET", path))[0] == 200
        assert fake.max_in_window(0.5) == 5
        assert fake.rate_limited_count == 2


async def test_rate_limit_two_windows(session: aiohttp.ClientSession) -> None:
    async with FakeCertCentral(rate_limits=[(3, 0.5), (5, 30.0)], block_seconds=0.05) as fake:
        api = Api(fake, session)
        path = f"/order/certificate/{fake.add_order()}"
        burst = [(await api.call("GET", path))[0] for _ in range(4)]
        assert burst == [200, 200, 200, 429]  # the short window
        await asyncio.sleep(0.55)
        later = [(await api.call("GET", path))[0] for _ in range(3)]
        assert later == [200, 200, 429]  # the long window: five in 30 seconds
        assert fake.rate_limited_count == 2
        assert fake.max_in_window(30.0) == 5


async def test_retry_after_header_when_enabled(session: aiohttp.ClientSession) -> None:
    # a block long enough that no pause of a loaded machine can outlast it
    async with FakeCertCentral(
        rate_limits=[(1, 100.0)], block_seconds=29.5, retry_after=True
    ) as fake:
        api = Api(fake, session)
        path = f"/order/certificate/{fake.add_order()}"
        assert (await api.call("GET", path))[0] == 200
        status, body, headers = await api.call("GET", path)
        assert (status, body) == (429, RATE_LIMIT_BODY)
        assert headers["Retry-After"] == "30"  # whole seconds, rounded up
        status, _, headers = await api.call("GET", path)
        assert status == 429
        assert 1 <= int(headers["Retry-After"]) <= 30


async def test_default_rate_limits_allow_a_burst_of_100(session: aiohttp.ClientSession) -> None:
    async with FakeCertCentral() as fake:
        api = Api(fake, session)
        path = f"/order/certificate/{fake.add_order()}"
        statuses = await asyncio.gather(*(api.call("GET", path) for _ in range(101)))
        assert sorted(status for status, _, _ in statuses) == [200] * 100 + [429]
        assert fake.rate_limited_count == 1


# --------------------------------------------------------------------- faults


async def _post_note(api: Api, order_id: int) -> tuple[int, bytes, str]:
    async with api.session.post(
        api.url(f"/order/certificate/{order_id}/note"),
        json={"text": "hello"},
        headers={"X-DC-DEVKEY": api.fake.api_key},
    ) as response:
        return response.status, await response.read(), response.headers.get("Content-Type", "")


async def test_refusal_faults(api: Api) -> None:
    fake = api.fake
    order_id = fake.add_order()
    expected = [
        (Fault.SERVICE_UNAVAILABLE_HTML, 503, "text/html"),
        (Fault.INTERNAL_ERROR, 500, "application/json"),
        (Fault.BAD_GATEWAY, 502, "text/html"),
        (Fault.RATE_LIMITED, 429, "application/json"),
    ]
    for fault, status, content_type in expected:
        fake.inject(fault)
        got_status, raw, got_type = await _post_note(api, order_id)
        assert (got_status, got_type.split(";")[0]) == (status, content_type), fault
        if content_type == "text/html":
            assert raw.lstrip().startswith(b"<html")
        else:
            assert set(json.loads(raw)) == {"errors"}
        if fault is Fault.RATE_LIMITED:
            assert json.loads(raw) == RATE_LIMIT_BODY
        assert fake.requests[-1].fault is fault
        assert fake.requests[-1].answered_status == status
        assert not fake.requests[-1].applied
    assert fake.notes(order_id) == []
    assert fake.rate_limited_count == 0
    # Every scheduled fault was used once; the next request is served normally.
    assert (await _post_note(api, order_id))[0] == 201
    assert len(fake.notes(order_id)) == 1


@pytest.mark.parametrize(
    ("fault", "applied"), [(Fault.RESET_BEFORE, False), (Fault.RESET_AFTER, True)]
)
async def test_connection_reset_faults(api: Api, fault: Fault, applied: bool) -> None:
    order_id = api.fake.add_order()
    api.fake.inject(fault, method="POST")
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await _post_note(api, order_id)
    record = api.fake.requests[-1]
    assert record.fault is fault
    assert record.answered_status is None
    assert record.applied is applied
    assert record.json == {"text": "hello"}
    assert len(api.fake.notes(order_id)) == int(applied)
    # The server keeps serving on a new connection.
    assert (await api.call("GET", f"/order/certificate/{order_id}/note"))[0] == 200


async def test_slow_fault() -> None:
    async with (
        FakeCertCentral(rate_limits=None, slow_seconds=0.3) as fake,
        aiohttp.ClientSession() as session,
    ):
        api = Api(fake, session)
        order_id = fake.add_order()
        fake.inject(Fault.SLOW)
        started = time.monotonic()
        status, body, _ = await _post_note(api, order_id)
        assert time.monotonic() - started >= 0.3
        assert status == 201
        assert json.loads(body)["text"] == "hello"
        assert fake.requests[-1].applied
        assert fake.requests[-1].fault is Fault.SLOW


async def test_truncated_and_malformed_json_faults(api: Api) -> None:
    fake = api.fake
    order_id = fake.add_order()
    fake.inject(Fault.TRUNCATED_JSON, path_contains="/note")
    status, raw, content_type = await _post_note(api, order_id)
    assert status == 201
    assert content_type.startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(raw)
    assert json.dumps(fake.notes(order_id)[0]).encode().startswith(raw)

    fake.inject(Fault.MALFORMED_JSON, path_contains="/note")
    status, raw, _ = await _post_note(api, order_id)
    assert status == 201
    assert raw == b'{"id": ,}'
    assert len(fake.notes(order_id)) == 2
    assert [r.applied for r in fake.requests] == [True, True]

    # On an endpoint answering 204, the spoiled answer is a 200 with a broken body.
    fake.inject(Fault.TRUNCATED_JSON, method="PUT")
    body = {"status": "CANCELED", "note": "x"}
    status, answer, _ = await api.call("PUT", f"/order/certificate/{order_id}/status", json=body)
    assert status == 200
    assert isinstance(answer, str)
    assert fake.order(order_id)["status"] == "canceled"  # type: ignore[index]


async def test_scheduled_faults_match_method_and_path(api: Api) -> None:
    fake = api.fake
    order_id = fake.add_order()
    fake.inject(Fault.INTERNAL_ERROR, times=2, method="put", path_contains="/status")
    body = {"status": "CANCELED", "note": "x"}
    assert (await api.call("GET", f"/order/certificate/{order_id}"))[0] == 200
    path = f"/order/certificate/{order_id}/status"
    statuses = [(await api.call("PUT", path, json=body))[0] for _ in range(3)]
    assert statuses == [500, 500, 204]
    assert [r.fault for r in fake.requests] == [
        None,
        Fault.INTERNAL_ERROR,
        Fault.INTERNAL_ERROR,
        None,
    ]
    assert [r.applied for r in fake.requests] == [True, False, False, True]


async def test_random_faults_are_reproducible(session: aiohttp.ClientSession) -> None:
    async def run(seed: int) -> list[Fault | None]:
        kinds = [Fault.BAD_GATEWAY, Fault.INTERNAL_ERROR, Fault.RATE_LIMITED]
        async with FakeCertCentral(
            rate_limits=None, fault_rate=0.5, fault_kinds=kinds, seed=seed
        ) as fake:
            api = Api(fake, session)
            path = f"/order/certificate/{fake.add_order()}"
            for _ in range(30):
                await api.call("GET", path)
            for record in fake.requests:
                expected = {
                    None: 200,
                    Fault.BAD_GATEWAY: 502,
                    Fault.INTERNAL_ERROR: 500,
                    Fault.RATE_LIMITED: 429,
                }[record.fault]
                assert record.answered_status == expected
            return [record.fault for record in fake.requests]

    first = await run(11)
    assert first == await run(11)
    assert 0 < sum(fault is not None for fault in first) < 30
    assert {fault for fault in first if fault is not None} <= {
        Fault.BAD_GATEWAY,
        Fault.INTERNAL_ERROR,
        Fault.RATE_LIMITED,
    }


async def test_fault_rate_one_faults_every_request(session: aiohttp.ClientSession) -> None:
    async with FakeCertCentral(
        fault_rate=1.0, fault_kinds=[Fault.SERVICE_UNAVAILABLE_HTML]
    ) as fake:
        api = Api(fake, session)
        for _ in range(3):
            status, body, _ = await api.call("GET", "/order/certificate")
            assert status == 503
            assert isinstance(body, str)


# --------------------------------------------------------------------- recording & helpers


async def test_requests_are_recorded(api: Api) -> None:
    fake = api.fake
    order_id = fake.add_order()
    await api.call("GET", "/order/certificate", params={"filters[status]": "pending", "limit": "5"})
    await api.call("POST", f"/order/certificate/{order_id}/note", json={"text": "t"})
    first, second = fake.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path) == ("GET", "/services/v2/order/certificate")
    assert first.query["filters[status]"] == "pending"
    assert first.query["limit"] == "5"
    assert first.headers["x-dc-devkey"] == fake.api_key  # case-insensitive
    assert (first.body, first.json, first.answered_status, first.applied) == (b"", None, 200, True)
    assert second.json == {"text": "t"}
    assert json.loads(second.body) == {"text": "t"}
    assert second.answered_status == 201
    assert first.time <= second.time
    with pytest.raises(AttributeError):
        first.applied = False  # type: ignore[misc]
    fake.clear_requests()
    assert fake.requests == []
    await api.call("GET", f"/order/certificate/{order_id}")
    assert [r.answered_status for r in fake.requests] == [200]


async def test_state_helpers(api: Api) -> None:
    fake = api.fake
    first = fake.add_order()
    second = fake.add_order("waiting_pickup", product="ssl_plus", common_name="b.example.com")
    assert second == first + 1
    order = fake.order(second)
    assert order is not None
    assert order["product"]["name_id"] == "ssl_plus"
    order["status"] = "mutated"
    assert fake.order(second)["status"] == "waiting_pickup"  # type: ignore[index]
    assert fake.order(999) is None
    fake.remove_order(first)
    status, body, _ = await api.call("GET", f"/order/certificate/{first}")
    assert (status, codes(body)) == (404, ["not_found|order"])
    with pytest.raises(KeyError):
        fake.set_status(first, "issued")
    with pytest.raises(KeyError):
        fake.notes(first)


# --------------------------------------------------------------------- shutdown


async def test_close_is_prompt_with_a_slow_answer_in_flight() -> None:
    fake = FakeCertCentral(rate_limits=None, slow_seconds=30.0)
    await fake.start()
    order_id = fake.add_order()
    fake.inject(Fault.SLOW)
    async with aiohttp.ClientSession() as session:
        api = Api(fake, session)
        pending = asyncio.ensure_future(api.call("GET", f"/order/certificate/{order_id}"))
        for _ in range(500):  # until the request has reached the server
            if fake.requests:
                break
            await asyncio.sleep(0.01)
        started = time.monotonic()
        await fake.close()
        assert time.monotonic() - started < 5.0
        try:
            status, _, _ = await pending
            assert status == 200
        except aiohttp.ClientConnectionError:
            pass
        with pytest.raises(aiohttp.ClientConnectionError):
            await api.call("GET", f"/order/certificate/{order_id}")
    await fake.close()
    assert asyncio.all_tasks() == {asyncio.current_task()}


# --------------------------------------------------------------------- pytest plugin


def test_plugin_import_is_cheap() -> None:
    root = Path(__file__).resolve().parent.parent
    code = (
        "import sys\n"
        "import importlib.util\n"
        "spec = importlib.util.find_spec('digicert_async.testing.pytest_plugin')\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print('digicert_async.testing._fake' in sys.modules, 'aiohttp.web' in sys.modules)\n"
    )
    path = os.environ.get("PYTHONPATH", "")
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [path, str(root)]))},
    )
    # neither the fake nor aiohttp's server side is imported by the plugin itself
    assert result.stdout.split() == ["False", "False"]


def test_plugin_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import aiohttp
        import pytest

        @pytest.mark.asyncio
        async def test_uses_fixture(certcentral_fake):
            order_id = certcentral_fake.add_order()
            async with aiohttp.ClientSession() as session:
                for _ in range(150):  # more than the burst window: rate limits are off
                    async with session.get(
                        f"{certcentral_fake.base_url}/order/certificate/{order_id}",
                        headers={"X-DC-DEVKEY": certcentral_fake.api_key},
                    ) as response:
                        assert response.status == 200
        """
    )
    registered = any(ep.name == "digicert_async" for ep in entry_points(group="pytest11"))
    args = [] if registered else ["-p", "digicert_async.testing.pytest_plugin"]
    result = pytester.runpytest_inprocess(
        *args, "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function"
    )
    result.assert_outcomes(passed=1)
