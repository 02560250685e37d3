"""Liberal reading of answers, strict checking of requests: each rule on its own."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import digicert_async as dc
from digicert_async._converter import converter, make_converter
from digicert_async.models._common import is_response_model

from ._served import served
from .conftest import load_seed

STRICT = make_converter(strict=True)
CONVERTERS = pytest.mark.parametrize("conv", [converter, STRICT], ids=["runtime", "strict"])


# --------------------------------------------------------------------------- the rules


@CONVERTERS
@pytest.mark.parametrize("empty", [[], {}, None])
@pytest.mark.parametrize("field", ["certificate", "organization", "container", "product", "user"])
def test_an_empty_object_field_is_absent(conv: Any, empty: Any, field: str) -> None:
    order = conv.structure({"id": 7, field: empty}, dc.Order)
    assert getattr(order, field) is None


@CONVERTERS
def test_nested_empty_objects_are_absent_too(conv: Any) -> None:
    order = conv.structure({"id": 7, "certificate": {"server_platform": []}}, dc.Order)
    assert order.certificate is not None and order.certificate.server_platform is None


@pytest.mark.parametrize(
    ("doc", "cls"),
    [
        ({"id": 7, "certificate": {"common_name": "a"}}, dc.Order),  # no certificate id
        ({"id": 7, "organization": {"name": "Old Answer Inc."}}, dc.Order),  # no org id
        ({"id": 7}, dc.Note),  # only the note's id
        ({"order_id": 7}, dc.StatusChange),
        ({"id": 7, "certificate": {"thumbprint": "AB"}}, dc.SubaccountOrder),
        ({"id": 7, "requests": [{"status": "pending"}], "organization": {}}, dc.OrderCreated),
    ],
)
def test_only_the_identifying_field_is_required(doc: dict[str, Any], cls: type[Any]) -> None:
    model = converter.structure(doc, cls)
    assert isinstance(model, cls)


@pytest.mark.parametrize(
    ("doc", "cls", "field"),
    [
        ({}, dc.Order, "id"),
        ({"text": "t"}, dc.Note, "id"),
        ({"status": "x"}, dc.StatusChange, "order_id"),
    ],
)
def test_the_identifying_field_stays_required(doc: Any, cls: type[Any], field: str) -> None:
    with pytest.raises(dc.ValidationError) as info:
        converter.structure(doc, cls)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("date_created",), "date_created"),
        (("date_issued",), "date_issued"),
        (("order_valid_till",), "order_valid_till"),
        (("validity_years",), "validity_years"),
        (("price",), "price"),
        (("certificate", "valid_till"), "valid_till"),
        (("certificate", "days_remaining"), "days_remaining"),
        (("certificate", "key_size"), "key_size"),
    ],
)
def test_an_empty_string_in_a_date_or_number_field_is_none(
    path: tuple[str, ...], field: str
) -> None:
    doc: dict[str, Any] = {"id": 7}
    target = doc
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = ""
    order = converter.structure(doc, dc.Order)
    holder = order.certificate if len(path) > 1 else order
    assert getattr(holder, field) is None


def test_an_empty_string_stays_a_string_in_a_text_field() -> None:
    order = converter.structure({"id": 7, "status": "", "currency": ""}, dc.Order)
    assert (order.status, order.currency) == ("", "")


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"id": 7, "date_created": 1561107607}, "date_created"),
        ({"id": 7, "validity_years": "1.0"}, "validity_years"),  # not a decimal integer
        ({"id": 7, "certificate": {"dns_names": "a.example.com"}}, "certificate.dns_names"),
        ({"id": 7, "certificate": {"csr": {"csr": "..."}}}, "certificate.csr"),
        ({"id": 7, "organization": [1]}, "organization"),  # a non-empty list is no object
        ({"id": 7, "organization": "none"}, "organization"),
        ({"id": 7, "certificate": {"id": "0x12"}}, "certificate.id"),
        ({"id": 7, "is_renewal": "false"}, "is_renewal"),
        ({"id": 7, "date_created": " "}, "date_created"),
    ],
)
def test_a_wrong_type_is_still_an_error_naming_the_field(doc: Any, field: str) -> None:
    with pytest.raises(dc.ValidationError) as info:
        converter.structure(doc, dc.Order)
    assert info.value.field == field


@CONVERTERS
def test_request_models_stay_strict(conv: Any) -> None:
    request = load_seed("document_signing_request")
    for field, value in [("organization", []), ("validity_years", ""), ("subject", {})]:
        with pytest.raises(dc.ValidationError) as info:
            conv.structure({**request, field: value}, dc.DocumentSigningOrder)
        assert info.value.field.split(".")[0] == field


def test_response_and_request_models_are_marked_apart() -> None:
    for cls in (dc.Order, dc.Note, dc.StatusChange, dc.SubaccountOrder, dc.OrderCreated, dc.Page):
        assert is_response_model(cls), cls
    for request in (dc.DocumentSigningOrder, dc.NoteRequest, dc.UpdateStatusRequest, dc.ShipInfo):
        assert not is_response_model(request), request


# --------------------------------------------------------------------------- through calls


@pytest.mark.parametrize("body", [{}, {"notes": None}, {"notes": []}])
async def test_a_missing_note_list_is_empty(body: Any) -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/1/note", 200, body)
        assert await client.orders.list_notes(1) == []


@pytest.mark.parametrize("body", [{}, {"orders": None}])
async def test_a_missing_status_change_list_is_empty(body: Any) -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/status-changes", 200, body)
        since = datetime.now(timezone.utc) - timedelta(hours=1)
        assert await client.orders.status_changes(since) == []


@pytest.mark.parametrize("listing", ["orders", "subaccounts"])
async def test_an_empty_listing_without_its_list_key_yields_nothing(listing: str) -> None:
    async with served() as (server, client):
        path = "/order/certificate" if listing == "orders" else "/account/subaccount/order"
        server.answer("GET", path, 200, {"page": {"total": 0, "limit": 1000, "offset": 0}})
        pages = client.orders.list() if listing == "orders" else client.subaccounts.list_orders()
        assert [item async for item in pages] == []
        assert pages.total == 0


async def test_a_listing_without_page_ends_at_a_short_page() -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate", 200, {"orders": [{"id": 1}, {"id": 2}]})
        listing = client.orders.list(page_size=3)
        assert [order.id async for order in listing] == [1, 2]
        assert listing.total == 2
        assert len(server.requests) == 1


async def test_a_full_page_without_page_is_an_error() -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate", 200, {"orders": [{"id": 1}, {"id": 2}]})
        listing = client.orders.list(page_size=2)
        seen: list[int] = []
        with pytest.raises(dc.ResponseError, match="without a total"):
            async for order in listing:
                seen.append(order.id)
        assert seen == [1, 2]  # what arrived is handed out before the error


async def test_a_page_without_total_after_one_with_it_keeps_paging() -> None:
    async with served() as (server, client):
        first = {"orders": [{"id": 1}, {"id": 2}], "page": {"total": 3}}
        server.answer("GET", "/order/certificate?offset=0&limit=2", 200, first)
        server.answer("GET", "/order/certificate?offset=2&limit=2", 200, {"orders": [{"id": 3}]})
        listing = client.orders.list(page_size=2)
        assert [order.id async for order in listing] == [1, 2, 3]


async def test_a_page_that_ends_before_the_total_is_an_error() -> None:
    """Documented: an order silently skipped is worse than a loud failure."""
    async with served() as (server, client):
        first = {"orders": [{"id": 1}, {"id": 2}], "page": {"total": 5, "limit": 2, "offset": 0}}
        server.answer("GET", "/order/certificate?offset=0&limit=2", 200, first)
        server.answer("GET", "/order/certificate?offset=2&limit=2", 200, {"page": {"total": 5}})
        seen: list[int] = []
        with pytest.raises(dc.ResponseError, match="ended at 2 of the 5"):
            async for order in client.orders.list(page_size=2):
                seen.append(order.id)
        assert seen == [1, 2]


async def test_one_bad_listed_item_fails_the_listing_naming_it() -> None:
    async with served() as (server, client):
        body = {
            "orders": [{"id": 1}, {"id": 2, "certificate": {"valid_till": 20200101}}],
            "page": {"total": 2, "limit": 1000, "offset": 0},
        }
        server.answer("GET", "/order/certificate", 200, body)
        with pytest.raises(dc.ResponseError) as info:
            _ = [order async for order in client.orders.list()]
    assert info.value.field == "orders[1].certificate.valid_till"
    assert "orders[1].certificate.valid_till" in str(info.value)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"orders": {"id": 1}, "page": {"total": 1}}, "orders"),
        ({"orders": [], "page": {"total": "1e3"}}, "page.total"),
        ({"orders": [], "page": [0]}, "page"),
    ],
)
async def test_a_broken_envelope_is_an_error_naming_the_field(body: Any, field: str) -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate", 200, body)
        with pytest.raises(dc.ResponseError) as info:
            _ = [order async for order in client.orders.list()]
    assert info.value.field == field


async def test_a_wrong_type_in_an_order_is_a_response_error_naming_the_field() -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/1", 200, {"id": 1, "date_issued": 5})
        with pytest.raises(dc.ResponseError) as info:
            await client.orders.get(1)
    assert info.value.field == "date_issued" and info.value.status == 200


# --------------------------------------------------------------------------- error bodies


@pytest.mark.parametrize(
    "errors",
    [
        {"code": "not_found|order", "message": "gone"},
        [{"code": "not_found|order", "message": "gone"}],
    ],
)
async def test_errors_as_one_object_read_like_a_list(errors: Any) -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/1", 404, {"errors": errors})
        with pytest.raises(dc.NotFoundError) as info:
            await client.orders.get(1)
    assert info.value.code == "not_found|order"
    assert [(e.code, e.message) for e in info.value.errors] == [("not_found|order", "gone")]


# --------------------------------------------------------------------------- decimal strings


async def test_an_old_listing_with_a_nested_id_written_as_a_string_reads() -> None:
    """DigiCert's 2015 answers write some nested ids as strings; the listing reads whole."""
    body = {
        "orders": [
            {
                "id": 1,
                "certificate": {"server_platform": {"id": "-1", "name": "OTHER"}},
                "container": {"id": "5", "name": "A Container"},
            },
            {"id": 2, "certificate": {"server_platform": {"id": "2", "name": "Apache"}}},
        ],
        "page": {"total": "2"},
    }
    async with served() as (server, client):
        server.answer("GET", "/order/certificate", 200, body)
        orders = [order async for order in client.orders.list()]
    platforms = [o.certificate.server_platform for o in orders if o.certificate is not None]
    assert [p.id for p in platforms if p is not None] == [-1, 2]
    assert orders[0].container == dc.Container(id=5, name="A Container")
    # written back as the integer it is
    assert converter.unstructure(orders[0])["certificate"]["server_platform"]["id"] == -1


@pytest.mark.parametrize(
    ("text", "number"),
    [("-1", -1), ("0", 0), ("45", 45), ("9223372036854775807", 2**63 - 1), ("-12", -12)],
)
def test_a_decimal_string_in_an_integer_field_is_that_integer(text: str, number: int) -> None:
    order = converter.structure({"id": 1, "validity_years": text}, dc.Order)
    assert order.validity_years == number
    products = converter.structure(
        {"name_id": "x", "allowed_container_ids": [text, 3]}, dc.ProductDetails
    )
    assert products.allowed_container_ids == [number, 3]


@pytest.mark.parametrize(
    "text",
    ["007", "-0", "+1", " 1", "1 ", "1_000", "\u0661\u0662", "1.0", "0x1", "1e3", "true", "-",
     "12345678901234567890", "1\n"],
)  # fmt: skip
def test_anything_else_in_an_integer_field_is_still_an_error(text: str) -> None:
    with pytest.raises(dc.ValidationError) as info:
        converter.structure({"id": 1, "validity_years": text}, dc.Order)
    assert info.value.field == "validity_years"
    with pytest.raises(dc.ValidationError) as info:
        converter.structure({"name_id": "x", "allowed_container_ids": [1, text]}, dc.ProductDetails)
    assert info.value.field == "allowed_container_ids[1]"


@pytest.mark.parametrize(
    ("model", "document", "field"),
    [
        (dc.Order, {"id": "42"}, "id"),
        (dc.Note, {"id": "7", "text": "x"}, "id"),
        (dc.StatusChange, {"order_id": "5", "status": "issued"}, "order_id"),
        (dc.OrderCreated, {"id": "9"}, "id"),
    ],
)
def test_an_identifying_id_is_not_read_from_a_string(
    model: type[Any], document: Any, field: str
) -> None:
    with pytest.raises(dc.ValidationError) as info:
        converter.structure(document, model)
    assert info.value.field == field


async def test_an_order_whose_own_id_is_a_string_is_a_response_error() -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/42", 200, {"id": "42", "status": "issued"})
        with pytest.raises(dc.ResponseError) as info:
            await client.orders.get(42)
    assert info.value.field == "id"


def test_a_number_field_and_a_request_take_no_string() -> None:
    with pytest.raises(dc.ValidationError):
        converter.structure({"id": 1, "price": "399"}, dc.Order)  # int | float: kept strict
    request = load_seed("document_signing_request")
    with pytest.raises(dc.ValidationError) as info:
        converter.structure({**request, "validity_years": "1"}, dc.DocumentSigningOrder)
    assert info.value.field == "validity_years"
