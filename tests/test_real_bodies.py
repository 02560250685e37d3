"""Bodies nobody on this project shaped by hand, through the public calls that read them.

Two sets, both served over loopback to the runtime (liberal) path:

- ``../shared/reference/real/``: DigiCert's documented examples, production traffic recorded
  by another client and other clients' fixtures (provenance in its ``SOURCES.md``). It is not
  part of the repository: without it these tests skip, or fail when ``CI=true``.
- ``tests/fixtures/documented/``: bodies written for this project from what DigiCert's pages
  document, for the shapes the real set lacks (its ``README.md`` names the pages). These
  always run.

Besides the facts each expectation names, every decoded model must be a faithful part of the
body it came from (:func:`assert_faithful`): nothing invented, nothing altered.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import digicert_async as dc

from ._served import BodyServer, faithful, served

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "reference" / "real"
DOCUMENTED = Path(__file__).parent / "fixtures" / "documented"

ERROR_CLASS = {
    400: dc.BadRequestError,
    401: dc.AuthenticationError,
    403: dc.PermissionDeniedError,
    404: dc.NotFoundError,
    429: dc.RateLimitError,
}


def real_file(name: str) -> Any:
    if not REAL.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("the real bodies are missing: ../shared/reference/real must exist on CI")
        pytest.skip(
            "../shared/reference/real (real CertCentral bodies, kept outside the repository)"
            " is absent, as in a fresh clone"
        )
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def documented_file(name: str) -> Any:
    return json.loads((DOCUMENTED / name).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- calls


Call = Callable[[BodyServer, dc.CertCentralClient, Any], Coroutine[Any, Any, Any]]


async def read_order(server: BodyServer, client: dc.CertCentralClient, body: Any) -> dc.Order:
    # served under its own id: an answer about another order than the one read is refused
    server.answer("GET", f"/order/certificate/{body['id']}", 200, body)
    order = await client.orders.get(body["id"])
    faithful(order, body)
    return order


async def list_orders(
    server: BodyServer, client: dc.CertCentralClient, body: Any
) -> tuple[list[dc.Order], dc.DigiCertError | None]:
    """The orders the listing yields with ``body`` as its first page (and, should it ask
    for more, an empty page with the same total), and the error it ended with, if any."""
    server.answer("GET", "/order/certificate?offset=0&limit=1000", 200, body)
    server.answer("GET", "/order/certificate", 200, {"page": body.get("page")})
    orders: list[dc.Order] = []
    try:
        async for order in client.orders.list():
            orders.append(order)
    except dc.DigiCertError as exc:
        return orders, exc
    finally:
        for order, raw in zip(orders, body.get("orders", []), strict=True):
            faithful(order, raw)
    return orders, None


def assert_order(order: dc.Order, expect: dict[str, Any]) -> None:
    assert order.id == expect["id"]
    assert order.status == expect["status"]
    assert order.product is not None and order.product.name_id == expect["product"]
    certificate_id = order.certificate.id if order.certificate is not None else None
    assert certificate_id == expect["certificate_id"]
    organization_id = order.organization.id if order.organization is not None else None
    assert organization_id == expect["organization_id"]


async def expect_error(
    server: BodyServer, client: dc.CertCentralClient, status: int, body: Any
) -> dc.APIError:
    server.answer("GET", "/order/certificate/42", status, body)
    with pytest.raises(dc.APIError) as info:
        await client.orders.get(42)
    error = info.value
    assert isinstance(error, ERROR_CLASS[status]) and error.status == status
    return error


# --------------------------------------------------------------------------- real: orders

REAL_ORDERS: dict[str, dict[str, Any]] = {
    # 2017 docs' shape: the order's organization carries no id
    "order_info_ribose_ssl_plus_approved.json": {
        "id": 123456789,
        "status": "approved",
        "product": "ssl_plus",
        "certificate_id": 112358,
        "organization_id": None,
    },
    "order_info_ribose_ssl_ev_plus_approved.json": {
        "id": 123456789,
        "status": "approved",
        "product": "ssl_ev_plus",
        "certificate_id": 112358,
        "organization_id": None,
    },
    # awaiting approval: the certificate has no id yet
    "order_info_autossl_mock_needs_approval.json": {
        "id": 123457,
        "status": "needs_approval",
        "product": "ssl_basic",
        "certificate_id": None,
        "organization_id": 112233,
    },
}

# Bodies with a value of the wrong type: a ResponseError naming the field, nothing coerced.
REAL_BAD_ORDERS = {
    "order_info_digicert_client_v2.json": "id",  # the id is the string "OID-223344"
    "order_info_autossl_mock_issued.json": "certificate.csr",  # an object, not PEM text
}


@pytest.mark.parametrize("name", sorted(REAL_ORDERS))
async def test_real_order_info(name: str) -> None:
    body = real_file(name)
    async with served() as (server, client):
        assert_order(await read_order(server, client, body), REAL_ORDERS[name])


@pytest.mark.parametrize("name", sorted(REAL_BAD_ORDERS))
async def test_real_order_info_with_a_wrong_type(name: str) -> None:
    body = real_file(name)
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/42", 200, body)
        with pytest.raises(dc.ResponseError) as info:
            await client.orders.get(42)
    assert info.value.field == REAL_BAD_ORDERS[name]
    assert REAL_BAD_ORDERS[name] in str(info.value)


# --------------------------------------------------------------------------- real: listings

# file -> (ids in the body, what ends the listing)
REAL_LISTINGS: dict[str, tuple[list[int], str | None]] = {
    # production, an account without orders: no "orders" key at all
    "list_orders_empty_account_recorded_2020.json": ([], None),
    "list_orders_empty_account_recorded_2023.json": ([], None),
    # the DV order says "organization": []
    "list_orders_doc_example.json": ([123456, 123457], "ended at 2 of the 31"),
    "list_orders_autossl_mock_issued.json": (
        [123456, 123457, 123458, 123459],
        "ended at 4 of the 31",
    ),
    # items' certificates have no id; the page announces fewer than it holds
    "list_orders_ribose.json": ([556729, 556730, 556731], None),
    "list_orders_vareversat_exporter.json": (
        [
            139941333,
            143224000,
            2222,
            151550000,
            165275555,
            172366,
            174493666,
            45473744,
            10000000,
            176250000,
        ],
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(REAL_LISTINGS))
async def test_real_order_listing(name: str) -> None:
    body = real_file(name)
    ids, ending = REAL_LISTINGS[name]
    async with served() as (server, client):
        orders, error = await list_orders(server, client, body)
    assert [order.id for order in orders] == ids
    if ending is None:
        assert error is None
    else:
        # a page that ends before the announced total is an error, after the orders it had
        assert isinstance(error, dc.ResponseError) and ending in str(error)


async def test_real_dv_order_in_a_listing_has_no_organization() -> None:
    body = real_file("list_orders_doc_example.json")
    async with served() as (server, client):
        orders, _ = await list_orders(server, client, body)
    dv = next(order for order in orders if order.id == 123457)
    assert dv.organization is None and body["orders"][1]["organization"] == []
    assert orders[0].organization is not None and orders[0].organization.id == 112233


# --------------------------------------------------------------------------- real: notes


async def test_real_note_listing() -> None:
    body = real_file("list_notes_doc_example.json")
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/42/note", 200, body)
        notes = await client.orders.list_notes(42)
    assert [note.id for note in notes] == [2, 1]
    assert notes[0].user is not None and notes[0].user.email == "john.smith@digicert.com"
    for note, raw in zip(notes, body["notes"], strict=True):
        faithful(note, raw)


async def test_real_added_note() -> None:
    request = real_file("add_note_doc_request.json")
    body = real_file("add_note_doc_response.json")
    async with served() as (server, client):
        server.answer("POST", "/order/certificate/42/note", 201, body)
        note = await client.orders.add_note(42, request["text"])
    assert note.id == body["id"] and note.text == request["text"]
    faithful(note, body)


async def test_real_viewed_note() -> None:
    body = real_file("view_note_doc_response.json")
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/42/note/2", 200, body)
        note = await client.orders.get_note(42, 2)
    assert (note.id, note.text) == (2, "This is a note.")
    assert note.date_created == datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)
    faithful(note, body)


# --------------------------------------------------------------------------- real: changes


@pytest.mark.parametrize(
    ("name", "order_ids"),
    [
        ("status_changes_doc_example.json", [265, 264, 263, 262, 261, 260, 259]),
        ("status_changes_doc_empty.json", []),  # "{}": nothing changed
    ],
)
async def test_real_status_changes(name: str, order_ids: list[int]) -> None:
    body = real_file(name)
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/status-changes", 200, body)
        changes = await client.orders.status_changes(datetime.now(timezone.utc) - timedelta(days=1))
    assert [change.order_id for change in changes] == order_ids
    for change, raw in zip(changes, body.get("orders", []), strict=True):
        faithful(change, raw)


# --------------------------------------------------------------------------- real: errors

# file -> (status it is answered with, the codes it carries)
REAL_ERRORS: dict[str, tuple[int, list[str]]] = {
    "error_403_invalid_key_recorded.json": (403, ["access_denied|access_denied_invalid_key"]),
    "error_404_ribose_errors_object.json": (404, ["not_found|route"]),  # errors is one object
    "error_429_rate_limit_doc.json": (429, ["request_limit_exceeded"]),
    "error_generic_doc_placeholder.json": (400, ["<error_code>"]),
    "lc_error_400_bad_request_format_doc.json": (400, ["bad_request_format"]),
    "lc_error_404_not_found_order_doc.json": (404, ["not_found|order"]),
}


@pytest.mark.parametrize("name", sorted(REAL_ERRORS))
async def test_real_error_bodies(name: str) -> None:
    body = real_file(name)
    status, codes = REAL_ERRORS[name]
    async with served() as (server, client):
        error = await expect_error(server, client, status, body)
    assert [detail.code for detail in error.errors] == codes
    assert error.code == codes[0]
    assert all(detail.message for detail in error.errors)


def test_every_real_answer_of_these_endpoints_is_covered() -> None:
    """A body added to the shared folder for these endpoints must get an expectation here."""
    real_file("list_notes_doc_example.json")  # skips (or fails on CI) without the folder
    prefixes = ("order_info_", "list_orders_", "list_notes_", "view_note_", "status_changes_")
    answers = {
        path.name
        for path in REAL.glob("*.json")
        if path.name.startswith(prefixes)
        or path.name.startswith(("error_", "lc_error_"))
        or path.name == "add_note_doc_response.json"
    }
    covered = {
        *REAL_ORDERS,
        *REAL_BAD_ORDERS,
        *REAL_LISTINGS,
        *REAL_ERRORS,
        "list_notes_doc_example.json",
        "add_note_doc_response.json",
        "view_note_doc_response.json",
        "status_changes_doc_example.json",
        "status_changes_doc_empty.json",
    }
    assert answers == covered


# --------------------------------------------------------------------------- real: requests


@pytest.mark.parametrize(
    "name",
    ["update_status_doc_request_uppercase.json", "cancel_request_lemur.json"],
)
async def test_cancel_sends_what_the_real_requests_send(name: str) -> None:
    request = real_file(name)
    async with served() as (server, client):
        server.answer("PUT", "/order/certificate/42/status", 204, b"")
        await client.orders.cancel(42, note=request["note"])
        assert server.bodies == [request]


async def test_add_note_sends_what_the_real_request_sends() -> None:
    request = real_file("add_note_doc_request.json")
    async with served() as (server, client):
        server.answer("POST", "/order/certificate/42/note", 201, {"id": 1})
        await client.orders.add_note(42, request["text"])
        assert server.bodies == [request]


# --------------------------------------------------------------------------- documented

MANIFEST: list[dict[str, Any]] = json.loads(
    (DOCUMENTED / "manifest.json").read_text(encoding="utf-8")
)


def _entries(endpoint: str) -> list[dict[str, Any]]:
    return [entry for entry in MANIFEST if entry["endpoint"] == endpoint]


def test_the_manifest_lists_every_documented_body() -> None:
    files = {path.name for path in DOCUMENTED.glob("*.json")} - {"manifest.json"}
    assert {entry["file"] for entry in MANIFEST} == files


@pytest.mark.parametrize("entry", _entries("order_info"), ids=lambda entry: entry["file"])
async def test_documented_order_info(entry: dict[str, Any]) -> None:
    body = documented_file(entry["file"])
    async with served() as (server, client):
        order = await read_order(server, client, body)
    assert_order(order, entry["expect"])
    if order.certificate is not None and order.certificate.valid_till is not None:
        assert isinstance(order.certificate.valid_till, date)


async def test_documented_two_page_listing() -> None:
    first, second = (
        next(e for e in _entries("list_orders") if e.get("page") == page) for page in (1, 2)
    )
    pages = [documented_file(first["file"]), documented_file(second["file"])]
    async with served() as (server, client):
        server.answer("GET", "/order/certificate?offset=0&limit=4", 200, pages[0])
        server.answer("GET", "/order/certificate?offset=4&limit=4", 200, pages[1])
        listing = client.orders.list(page_size=4)
        orders = [order async for order in listing]
    assert [order.id for order in orders] == first["expect"]["ids"] + second["expect"]["ids"]
    assert listing.total == first["expect"]["total"] == second["expect"]["total"]
    for order, raw in zip(orders, pages[0]["orders"] + pages[1]["orders"], strict=True):
        faithful(order, raw)


@pytest.mark.parametrize(
    "entry",
    [e for e in _entries("list_orders") if "page" not in e],
    ids=lambda entry: entry["file"],
)
async def test_documented_order_listing(entry: dict[str, Any]) -> None:
    body = documented_file(entry["file"])
    async with served() as (server, client):
        orders, error = await list_orders(server, client, body)
    assert error is None
    assert [order.id for order in orders] == entry["expect"]["ids"]


@pytest.mark.parametrize(
    "entry", _entries("list_subaccount_orders"), ids=lambda entry: entry["file"]
)
async def test_documented_subaccount_listing(entry: dict[str, Any]) -> None:
    body = documented_file(entry["file"])
    async with served() as (server, client):
        server.answer("GET", "/account/subaccount/order", 200, body)
        listing = client.subaccounts.list_orders()
        orders = [order async for order in listing]
    assert [order.id for order in orders] == entry["expect"]["ids"]
    assert listing.total == entry["expect"]["total"]
    for order, raw in zip(orders, body["orders"], strict=True):
        faithful(order, raw)


@pytest.mark.parametrize("entry", _entries("list_notes"), ids=lambda entry: entry["file"])
async def test_documented_notes(entry: dict[str, Any]) -> None:
    body = documented_file(entry["file"])
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/42/note", 200, body)
        notes = await client.orders.list_notes(42)
    assert [note.id for note in notes] == entry["expect"]["ids"]
    for note, raw in zip(notes, body["notes"], strict=True):
        faithful(note, raw)


@pytest.mark.parametrize("entry", _entries("status_changes"), ids=lambda entry: entry["file"])
async def test_documented_status_changes(entry: dict[str, Any]) -> None:
    body = documented_file(entry["file"])
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/status-changes", 200, body)
        changes = await client.orders.status_changes(datetime.now(timezone.utc) - timedelta(days=1))
    assert [change.order_id for change in changes] == entry["expect"]["order_ids"]
    for change, raw in zip(changes, body["orders"], strict=True):
        faithful(change, raw)


@pytest.mark.parametrize("entry", _entries("error"), ids=lambda entry: entry["file"])
async def test_documented_errors(entry: dict[str, Any]) -> None:
    body = documented_file(entry["file"])
    async with served() as (server, client):
        error = await expect_error(server, client, entry["status"], body)
    assert [detail.code for detail in error.errors] == entry["expect"]["codes"]


def test_documented_bodies_cover_the_families_and_statuses() -> None:
    """The documented set keeps DV, OV, EV, client, code-signing and document-signing
    orders across their statuses, and 400, 401 and 404 errors."""
    orders = [entry["expect"] for entry in _entries("order_info")]
    products = {order["product"] for order in orders}
    assert {"ssl_dv_geotrust", "ssl_basic", "ssl_ev_basic", "client_premium"} <= products
    assert {"code_signing", "code_signing_ev", "document_signing_org_1"} <= products
    statuses = {order["status"] for order in orders}
    assert {"pending", "needs_approval", "issued", "canceled", "revoked", "expired"} <= statuses
    assert {"rejected", "reissue_pending", "waiting_pickup"} <= statuses
    assert any(order["certificate_id"] is None for order in orders)
    assert {entry["status"] for entry in _entries("error")} >= {400, 401, 404}
