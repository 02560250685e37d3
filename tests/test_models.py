"""Models and the wire converter: seed round trips, formats, validation."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import digicert_async as dc
from digicert_async._converter import WireConverter, converter, make_converter
from digicert_async._errors import ValidationError
from digicert_async._wire import _parse_datetime_slow
from digicert_async.models import (
    DOCUMENT_SIGNING_PRODUCTS,
    TERMINAL_STATUSES,
    ContainerRef,
    CustomField,
    DocumentSigningCertificate,
    DocumentSigningOrder,
    Note,
    NoteRequest,
    Order,
    OrderCreated,
    OrderStatus,
    OrganizationContact,
    OrganizationRef,
    Page,
    ServerPlatformRef,
    ShipInfo,
    StatusChange,
    StrFlag,
    Subaccount,
    SubaccountCertificate,
    SubaccountOrder,
    Subject,
    UpdateStatusRequest,
)

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
STRICT = make_converter(strict=True)
CONVERTERS = pytest.mark.parametrize("conv", [converter, STRICT], ids=["runtime", "strict"])

SEED_MODELS: dict[str, type[Any]] = {
    "note_request.json": NoteRequest,
    "note_response.json": Note,
    "cancel_request.json": UpdateStatusRequest,
    "document_signing_request.json": DocumentSigningOrder,
    "document_signing_response_pending.json": OrderCreated,
    "document_signing_response_submitted.json": OrderCreated,
    "document_signing_response_approved.json": OrderCreated,
    "subaccount_order_pending.json": SubaccountOrder,
    "subaccount_order_issued.json": SubaccountOrder,
    "subaccount_order_minimal.json": SubaccountOrder,
}

# A realistic GET /order/certificate/{id} body using every field of Order.
ORDER_INFO: dict[str, Any] = {
    "id": 12345,
    "certificate": {
        "id": 112358,
        "common_name": "example.com",
        "dns_names": ["example.com", "www.example.com"],
        "organization_units": ["IT"],
        "signature_hash": "sha256",
        "key_size": 2048,
        "serial_number": "0A1B2C",
        "thumbprint": "ABCDEF",
        "valid_from": "2018-10-16",
        "valid_till": "2019-10-21",
        "days_remaining": 14,
        "date_created": "2018-10-16T20:42:55+00:00",
        "csr": "-----BEGIN CERTIFICATE REQUEST-----\nMIIC...\n-----END CERTIFICATE REQUEST-----",
        "server_platform": {"id": -1, "name": "OTHER", "install_url": "https://example"},
    },
    "status": "issued",
    "is_renewal": False,
    "is_renewed": True,
    "date_created": "2018-10-16T20:42:55+00:00",
    "date_issued": "2018-10-16T21:00:01.250000+00:00",
    "organization": {
        "id": 112233,
        "name": "Example, Inc.",
        "assumed_name": "Example",
        "display_name": "Example, Inc. (Example)",
        "city": "Lehi",
        "state": "utah",
        "country": "us",
        "is_active": True,
    },
    "validity_years": 1,
    "container": {"id": 5, "name": "Example", "is_active": True},
    "product": {
        "name_id": "ssl_basic",
        "name": "Basic OV",
        "type": "ssl_certificate",
        "validation_type": "ov",
        "validation_name": "OV",
        "validation_description": "Normal Organization Validation",
    },
    "price": 1218.5,
    "currency": "USD",
    "user": {"id": 15, "first_name": "John", "last_name": "Smith", "email": "j@example.com"},
    "requests": [
        {
            "id": 101,
            "date": "2018-10-16T20:42:55+00:00",
            "type": "new_request",
            "status": "approved",
            "comments": "ok",
        }
    ],
    "order_valid_from": "2018-10-16",
    "order_valid_till": "2019-10-21",
    "is_multi_year_plan": "0",
    "cs_provisioning_method": "none",
    "payment_method": "balance",
    "disable_renewal_notifications": False,
}

NEW_ORGANIZATION: dict[str, Any] = {
    "skip_duplicate_org_check": True,
    "name": "Example, Inc.",
    "assumed_name": "Example",
    "address": "2801 N Thanksgiving Way",
    "address2": "Suite 500",
    "city": "Lehi",
    "state": "utah",
    "zip": "84043",
    "country": "us",
    "telephone": "801-701-9600",
    "organization_contact": {
        "first_name": "Jill",
        "last_name": "Valentine",
        "email": "jill@example.com",
        "telephone": "801-701-9601",
        "job_title": "CTO",
    },
}


def load(name: str) -> Any:
    return json.loads((SEEDS / name).read_text(encoding="utf-8"))


def request_doc() -> dict[str, Any]:
    return load("document_signing_request.json")  # type: ignore[no-any-return]


_DELETE = object()


def mutated(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``doc`` with the dotted ``path`` set (or deleted with _DELETE)."""
    doc = copy.deepcopy(doc)
    *parents, last = path.split(".")
    target: Any = doc
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return doc


def rebuilt(model: Any, path: str, value: Any) -> Any:
    """``model`` built anew (constructors run) with the dotted ``path`` set to ``value``."""
    head, _, rest = path.partition(".")
    if rest:
        value = rebuilt(getattr(model, head), rest, value)
    return attrs.evolve(model, **{head: value})


def structure_error(conv: WireConverter, doc: Any, cls: type[Any]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        conv.structure(doc, cls)
    return info.value


# --------------------------------------------------------------------------- seeds


@CONVERTERS
@pytest.mark.parametrize("name", sorted(SEED_MODELS))
def test_seed_examples_round_trip(conv: WireConverter, name: str) -> None:
    doc = load(name)
    model = conv.structure(doc, SEED_MODELS[name])
    assert isinstance(model, SEED_MODELS[name])
    assert conv.unstructure(model) == doc
    # and the JSON text carries the same document
    assert json.loads(json.dumps(conv.unstructure(model))) == doc


def test_every_seed_fixture_is_covered() -> None:
    assert {p.name for p in SEEDS.glob("*.json")} == set(SEED_MODELS)


@CONVERTERS
def test_order_info_round_trip(conv: WireConverter) -> None:
    order = conv.structure(ORDER_INFO, Order)
    assert conv.unstructure(order) == ORDER_INFO
    assert order.certificate is not None
    assert order.certificate.valid_till == date(2019, 10, 21)
    assert order.certificate.server_platform is not None
    assert order.certificate.server_platform.id == -1
    assert order.date_issued == datetime(2018, 10, 16, 21, 0, 1, 250000, tzinfo=timezone.utc)
    assert order.is_multi_year_plan is False
    assert order.requests is not None
    assert order.requests[0].date == datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)


@CONVERTERS
def test_listing_pieces_round_trip(conv: WireConverter) -> None:
    changes = [
        {"order_id": 1, "certificate_id": 2, "status": "issued"},
        {"order_id": 3, "status": "pending"},
    ]
    structured = conv.structure(changes, list[StatusChange])
    assert structured[1] == StatusChange(order_id=3, status="pending")
    assert conv.unstructure(structured) == changes
    page = {"total": 3, "limit": 1000, "offset": 0}
    assert conv.unstructure(conv.structure(page, Page)) == page
    notes = [load("note_response.json")]
    assert conv.unstructure(conv.structure(notes, list[Note])) == notes


def test_note_response_values() -> None:
    note = converter.structure(load("note_response.json"), Note)
    assert note.id == 2
    assert note.date_created == datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)
    assert note.date_created.utcoffset() == timedelta(0)
    assert note.user is not None
    assert note.user.email == "john.smith@digicert.com"


def test_subaccount_examples_values() -> None:
    issued = converter.structure(load("subaccount_order_issued.json"), SubaccountOrder)
    assert issued.status == OrderStatus.ISSUED
    assert issued.is_multi_year_plan is True
    assert issued.order_valid_from == date(2020, 10, 14)
    assert type(issued.order_valid_till) is date
    assert issued.date_issued == datetime(2020, 10, 14, 15, 18, 52, tzinfo=timezone.utc)
    assert issued.certificate is not None
    assert issued.certificate.valid_from == date(2020, 10, 14)
    assert issued.certificate.days_remaining == 286
    assert issued.order_price is not None
    assert issued.order_price.cost == 358
    assert type(issued.order_price.cost) is int

    minimal = converter.structure(load("subaccount_order_minimal.json"), SubaccountOrder)
    assert minimal.certificate is None
    assert minimal.organization is None
    assert minimal.is_multi_year_plan is None
    assert minimal.subaccount == Subaccount(
        account_id=123445, account_type="enterprise", organization_name="Sub account organization"
    )


def test_document_signing_responses() -> None:
    pending = converter.structure(load("document_signing_response_pending.json"), OrderCreated)
    assert pending.requests is not None
    assert pending.requests[0].status == "pending"
    assert pending.certificate_id is None
    approved = converter.structure(load("document_signing_response_approved.json"), OrderCreated)
    assert approved.certificate_id == 113
    created = {"id": 1, "organization": {"id": 77}, "requests": [{"id": 2, "status": "submitted"}]}
    assert STRICT.unstructure(STRICT.structure(created, OrderCreated)) == created


def test_document_signing_order_built_in_code_sends_the_seed_body() -> None:
    order = DocumentSigningOrder(
        certificate=DocumentSigningCertificate(
            server_platform=ServerPlatformRef(id=21), signature_hash="sha256"
        ),
        cs_provisioning_method="ship_token",
        use_org_as_common_name=True,
        validity_years=2,
        comments="Comments for the the approver.",
        organization=OrganizationRef(id=334455),
        container=ContainerRef(id=221122),
        ship_info=ShipInfo(
            name="Erin Guerra",
            addr1="360 Taylor Street",
            addr2="Floor 74",
            city="Richmond",
            state="va",
            zip="69662",
            country="us",
            method="standard",
        ),
        subject=Subject(
            name="Rene Pierce",
            job_title="School Counselor",
            phone="054-139-0798",
            email="rene.pierce@yahoo.com",
        ),
        csa_agreed_to=1,
        skip_approval=True,
        payment_method="balance",
    )
    assert converter.unstructure(order) == request_doc()
    assert converter.structure(request_doc(), DocumentSigningOrder) == order
    assert DOCUMENT_SIGNING_PRODUCTS == ("document_signing_org_1", "document_signing_org_2")


@CONVERTERS
def test_full_request_round_trip(conv: WireConverter) -> None:
    doc = request_doc()
    del doc["organization"]["id"]
    doc["organization"].update(NEW_ORGANIZATION)
    doc["certificate"]["csr"] = "-----BEGIN CERTIFICATE REQUEST-----"
    doc["cs_provisioning_method"] = "email"
    doc["custom_fields"] = [{"metadata_id": 12, "value": "cost center 7"}]
    doc["user_id_assignments"] = [10, 11]
    order = conv.structure(doc, DocumentSigningOrder)
    assert order.custom_fields == [CustomField(metadata_id=12, value="cost center 7")]
    assert conv.unstructure(order) == doc


# --------------------------------------------------------------------------- formats


def test_unstructure_omits_none_at_every_depth() -> None:
    order = SubaccountOrder(id=1, certificate=SubaccountCertificate(id=2), status="pending")
    assert converter.unstructure(order) == {
        "id": 1,
        "certificate": {"id": 2},
        "status": "pending",
    }
    assert converter.unstructure(StatusChange(order_id=5, status="x")) == {
        "order_id": 5,
        "status": "x",
    }


def test_unstructure_writes_fields_in_wire_order() -> None:
    doc = load("subaccount_order_issued.json")
    wire = converter.unstructure(converter.structure(doc, SubaccountOrder))
    assert list(wire) == list(doc)  # the seed's key order, not alphabetical or random
    assert list(wire["certificate"]) == list(doc["certificate"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-10-16T20:42:55+00:00", datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)),
        ("2018-10-16T20:42:55Z", datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)),
        ("2018-10-16T20:42:55z", datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)),
        ("2018-10-16T13:42:55-07:00", datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)),
        ("2018-10-17T05:12:55+0830", datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)),
        ("2018-10-16T20:42:55", datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)),
        ("2018-10-16 20:42:55", datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)),
        (
            "2018-10-16T20:42:55.5Z",
            datetime(2018, 10, 16, 20, 42, 55, 500000, tzinfo=timezone.utc),
        ),
        (
            "2018-10-16T20:42:55.123456789+00:00",
            datetime(2018, 10, 16, 20, 42, 55, 123456, tzinfo=timezone.utc),
        ),
    ],
)
def test_datetimes_structure_to_aware_utc(text: str, expected: datetime) -> None:
    value = converter.structure(text, datetime)
    assert value == expected
    assert value.tzinfo is timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-10-16T20:42:55Z", datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)),
        ("2018-10-16T13:42:55-07:00", datetime(2018, 10, 16, 20, 42, 55, tzinfo=timezone.utc)),
        ("2018-10-16T20:42:55.5+0000", datetime(2018, 10, 16, 20, 42, 55, 500000, timezone.utc)),
        ("2018-10-16", datetime(2018, 10, 16, tzinfo=None)),
    ],
)
def test_fallback_parser_covers_what_python_3_10_misses(text: str, expected: datetime) -> None:
    assert _parse_datetime_slow(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2018-13-01T00:00:00Z", "2018-10-16T25:00:00", " "])
def test_bad_datetimes_are_rejected(text: str) -> None:
    error = structure_error(converter, {"id": 1, "date_created": text, "text": "t"}, Note)
    assert error.field == "date_created"


def test_datetimes_unstructure_as_utc_with_offset() -> None:
    utc = timezone.utc
    assert converter.unstructure(datetime(2018, 10, 16, 20, 42, 55, tzinfo=utc)) == (
        "2018-10-16T20:42:55+00:00"
    )
    assert converter.unstructure(datetime(2018, 10, 16, 20, 42, 55, 1000, tzinfo=utc)) == (
        "2018-10-16T20:42:55.001000+00:00"
    )
    mountain = timezone(timedelta(hours=-7))
    assert converter.unstructure(datetime(2018, 10, 16, 13, 42, 55, tzinfo=mountain)) == (
        "2018-10-16T20:42:55+00:00"
    )
    # naive means UTC
    assert converter.unstructure(datetime(2018, 10, 16, 20, 42, 55)) == "2018-10-16T20:42:55+00:00"


def test_dates_both_ways() -> None:
    assert converter.structure("2021-10-18", date) == date(2021, 10, 18)
    assert converter.unstructure(date(2021, 1, 2)) == "2021-01-02"
    for bad in ("18/10/2021", "2021-02-30", 20211018):
        with pytest.raises(ValidationError):
            converter.structure(bad, date)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [("1", True), (1, True), (True, True), ("0", False), (0, False), ("", False), (False, False)],
)
def test_str_flag_values(wire: Any, expected: bool) -> None:
    order = converter.structure({"id": 1, "is_multi_year_plan": wire}, SubaccountOrder)
    assert order.is_multi_year_plan is expected
    assert converter.unstructure(order)["is_multi_year_plan"] == ("1" if expected else "0")


@pytest.mark.parametrize("wire", ["yes", "2", 2, 1.5, [], "true"])
def test_str_flag_rejects_other_values(wire: Any) -> None:
    error = structure_error(converter, {"id": 1, "is_multi_year_plan": wire}, SubaccountOrder)
    assert error.field == "is_multi_year_plan"


def test_str_flag_unstructures_false_as_zero() -> None:
    order = SubaccountOrder(id=1, is_multi_year_plan=StrFlag(False))
    assert converter.unstructure(order) == {"id": 1, "is_multi_year_plan": "0"}


def test_number_fields_keep_their_json_type() -> None:
    doc = {"id": 1, "order_price": {"cost": 399.99, "currency": "USD"}}
    assert converter.unstructure(converter.structure(doc, SubaccountOrder)) == doc
    order = converter.structure({"id": 1, "price": 399}, Order)
    assert type(order.price) is int
    assert json.dumps(converter.unstructure(order)) == '{"id": 1, "price": 399}'
    with pytest.raises(ValidationError) as info:
        converter.structure({"id": 1, "order_price": {"cost": "399"}}, SubaccountOrder)
    assert info.value.field == "order_price.cost"


# --------------------------------------------------------------------------- leniency


def test_unknown_keys_kept_by_runtime_rejected_by_strict() -> None:
    doc = load("subaccount_order_issued.json")
    doc["brand_new_field"] = {"x": 1}
    doc["certificate"]["ca_cert_id"] = "ABC"
    order = converter.structure(doc, SubaccountOrder)
    assert order.id == 12345678
    assert dict(dc.unknown_fields(order)) == {"brand_new_field": {"x": 1}}
    assert dict(dc.unknown_fields(order.certificate)) == {"ca_cert_id": "ABC"}
    assert converter.unstructure(order) == doc

    error = structure_error(STRICT, doc, SubaccountOrder)
    assert error.field in {"brand_new_field", "certificate.ca_cert_id"}
    nested_only = load("subaccount_order_issued.json")
    nested_only["certificate"]["ca_cert_id"] = "ABC"
    assert structure_error(STRICT, nested_only, SubaccountOrder).field == "certificate.ca_cert_id"


def test_unknown_status_is_kept() -> None:
    doc = load("subaccount_order_pending.json")
    doc["status"] = "quantum_entangled"
    order = converter.structure(doc, SubaccountOrder)
    assert order.status == "quantum_entangled"
    assert converter.unstructure(order) == doc
    created = converter.structure({"id": 1, "requests": [{"id": 2, "status": "new"}]}, OrderCreated)
    assert created.requests is not None
    assert created.requests[0].status == "new"


def test_order_statuses() -> None:
    assert OrderStatus.PENDING == "pending"
    assert OrderStatus.WAITING_PICKUP == "waiting_pickup"
    assert OrderStatus.NOT_RENEWED == "not_renewed"
    assert frozenset({"issued", "rejected", "canceled", "revoked", "expired"}) == TERMINAL_STATUSES


# --------------------------------------------------------------------------- bad wire data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("id", "123456", "id"),
        ("id", True, "id"),
        ("id", None, "id"),
        ("id", _DELETE, "id"),
        ("certificate.id", 1.5, "certificate.id"),
        ("certificate.dns_names", "sub.example.com", "certificate.dns_names"),
        ("certificate.dns_names", ["ok", 5], "certificate.dns_names[1]"),
        ("certificate", [1], "certificate"),
        ("certificate", "none", "certificate"),
        ("date_created", 1561107607, "date_created"),
        ("order_price.cost", True, "order_price.cost"),
        ("subaccount.account_type", 3, "subaccount.account_type"),
        ("status", 5, "status"),
    ],
)
def test_bad_response_data_names_the_field(path: str, value: Any, field: str) -> None:
    doc = mutated(load("subaccount_order_pending.json"), path, value)
    error = structure_error(converter, doc, SubaccountOrder)
    assert error.field == field
    assert isinstance(error.__cause__, Exception)  # chained from cattrs' detailed error


def test_bad_list_item_names_its_index() -> None:
    doc = {"id": 1, "requests": [{"id": 1, "status": "pending"}, {"id": "two", "status": "x"}]}
    assert structure_error(converter, doc, OrderCreated).field == "requests[1].id"


def test_not_an_object_at_the_top() -> None:
    error = structure_error(converter, ["id", 1], Note)
    assert error.field == "$"
    assert isinstance(error, ValueError)


def test_several_problems_are_counted() -> None:
    error = structure_error(converter, {"id": "x", "date_created": 5}, Note)
    assert error.field == "id"
    assert "more problem" in error.message


# --------------------------------------------------------------------------- validation


def valid_order() -> DocumentSigningOrder:
    return converter.structure(request_doc(), DocumentSigningOrder)


# (wire path to change, bad value, expected ValidationError.field)
REQUEST_CASES: list[tuple[str, Any, str]] = [
    ("validity_years", 0, "validity_years"),
    ("validity_years", 4, "validity_years"),
    ("validity_years", "2", "validity_years"),
    ("validity_years", True, "validity_years"),
    ("validity_years", 2.0, "validity_years"),
    ("certificate.signature_hash", "sha1", "certificate.signature_hash"),
    ("certificate.signature_hash", "SHA256", "certificate.signature_hash"),
    ("certificate.server_platform.id", 0, "certificate.server_platform.id"),
    ("certificate.server_platform.id", -2, "certificate.server_platform.id"),
    ("certificate.server_platform.id", "21", "certificate.server_platform.id"),
    ("ship_info.method", "overnight", "ship_info.method"),
    ("ship_info.method", "", "ship_info.method"),
    ("ship_info.name", "", "ship_info.name"),
    ("ship_info.addr1", "  ", "ship_info.addr1"),
    ("ship_info.city", "", "ship_info.city"),
    ("ship_info.state", "", "ship_info.state"),
    ("ship_info.zip", "", "ship_info.zip"),
    ("ship_info.zip", 69662, "ship_info.zip"),
    ("ship_info.country", "", "ship_info.country"),
    ("subject.name", "", "subject.name"),
    ("subject.job_title", " ", "subject.job_title"),
    ("subject.phone", "", "subject.phone"),
    ("subject.email", "", "subject.email"),
    ("payment_method", "cash", "payment_method"),
    ("payment_method", "Balance", "payment_method"),
    ("organization.id", 0, "organization.id"),
    ("organization.id", -334455, "organization.id"),
    ("organization.id", "334455", "organization.id"),
    ("container.id", 0, "container.id"),
    ("container.id", True, "container.id"),
    ("use_org_as_common_name", "true", "use_org_as_common_name"),
    ("skip_approval", 1, "skip_approval"),
    ("csa_agreed_to", True, "csa_agreed_to"),
    ("comments", 5, "comments"),
]

MISSING_CASES: list[tuple[str, str]] = [
    ("certificate", "certificate"),
    ("certificate.signature_hash", "certificate.signature_hash"),
    ("certificate.server_platform.id", "certificate.server_platform.id"),
    ("validity_years", "validity_years"),
    ("organization", "organization"),
    ("subject", "subject"),
    ("subject.email", "subject.email"),
    ("ship_info.method", "ship_info.method"),
    ("ship_info.addr1", "ship_info.addr1"),
    ("container.id", "container.id"),
]


@pytest.mark.parametrize(("path", "value", "field"), REQUEST_CASES)
def test_request_rule_via_converter(path: str, value: Any, field: str) -> None:
    doc = mutated(request_doc(), path, value)
    for conv in (converter, STRICT):
        assert structure_error(conv, doc, DocumentSigningOrder).field == field


@pytest.mark.parametrize(("path", "value", "field"), REQUEST_CASES)
def test_request_rule_when_built_directly(path: str, value: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        rebuilt(valid_order(), path, value)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize(("path", "field"), MISSING_CASES)
def test_missing_required_request_field(path: str, field: str) -> None:
    error = structure_error(converter, mutated(request_doc(), path, _DELETE), DocumentSigningOrder)
    assert error.field == field
    assert "missing" in error.message


def test_model_validation_error_propagates_unchanged_through_converter() -> None:
    doc = mutated(request_doc(), "ship_info.method", "overnight")
    error = structure_error(converter, doc, DocumentSigningOrder)
    assert type(error) is ValidationError
    assert error.__cause__ is None
    assert error.message == "must be one of expedited, standard, got 'overnight'"


def test_csr_required_for_email_provisioning() -> None:
    doc = mutated(request_doc(), "cs_provisioning_method", "email")
    assert structure_error(converter, doc, DocumentSigningOrder).field == "certificate.csr"
    with pytest.raises(ValidationError) as info:
        attrs.evolve(valid_order(), cs_provisioning_method="email")
    assert info.value.field == "certificate.csr"

    doc["certificate"]["csr"] = "-----BEGIN CERTIFICATE REQUEST-----"
    order = converter.structure(doc, DocumentSigningOrder)
    assert order.certificate.csr is not None
    with pytest.raises(ValidationError) as info:
        DocumentSigningCertificate(csr="", signature_hash="sha256")
    assert info.value.field == "certificate.csr"


def test_server_platform_other_is_allowed() -> None:
    assert ServerPlatformRef(id=-1).id == -1
    doc = mutated(request_doc(), "certificate.server_platform.id", -1)
    order = converter.structure(doc, DocumentSigningOrder)
    assert order.certificate.server_platform == ServerPlatformRef(id=-1)


def test_organization_by_id_or_by_details() -> None:
    new = converter.structure(NEW_ORGANIZATION, OrganizationRef)
    assert new.id is None
    assert new.organization_contact is not None

    with pytest.raises(ValidationError) as info:
        OrganizationRef()
    assert info.value.field == "organization.id"
    assert structure_error(converter, {}, OrganizationRef).field == "organization.id"

    for missing in ("name", "address", "city", "state", "zip", "country", "organization_contact"):
        partial = {k: v for k, v in NEW_ORGANIZATION.items() if k != missing}
        assert structure_error(converter, partial, OrganizationRef).field == (
            f"organization.{missing}"
        )
        doc = mutated(request_doc(), "organization", partial)
        assert structure_error(converter, doc, DocumentSigningOrder).field == (
            f"organization.{missing}"
        )
        with pytest.raises(ValidationError) as info:
            attrs.evolve(new, **{missing: None})
        assert info.value.field == f"organization.{missing}"


@pytest.mark.parametrize("name", ["first_name", "last_name", "email", "telephone"])
def test_organization_contact_required_fields(name: str) -> None:
    doc = mutated(request_doc(), "organization", copy.deepcopy(NEW_ORGANIZATION))
    bad = mutated(doc, f"organization.organization_contact.{name}", "")
    field = f"organization.organization_contact.{name}"
    assert structure_error(converter, bad, DocumentSigningOrder).field == field
    gone = mutated(doc, f"organization.organization_contact.{name}", _DELETE)
    assert structure_error(converter, gone, DocumentSigningOrder).field == field
    contact = converter.structure(NEW_ORGANIZATION["organization_contact"], OrganizationContact)
    with pytest.raises(ValidationError) as info:
        attrs.evolve(contact, **{name: " "})
    assert info.value.field == field


def test_list_fields_are_validated() -> None:
    doc = mutated(request_doc(), "user_id_assignments", [10, 0])
    assert structure_error(converter, doc, DocumentSigningOrder).field == "user_id_assignments[1]"
    doc = mutated(request_doc(), "user_id_assignments", [10, "11"])
    assert structure_error(converter, doc, DocumentSigningOrder).field == "user_id_assignments[1]"
    doc = mutated(request_doc(), "user_id_assignments", 10)
    assert structure_error(converter, doc, DocumentSigningOrder).field == "user_id_assignments"
    with pytest.raises(ValidationError) as info:
        attrs.evolve(valid_order(), user_id_assignments=[1, -1])
    assert info.value.field == "user_id_assignments[1]"

    # CustomField's own rule does not know its index in the list
    doc = mutated(request_doc(), "custom_fields", [{"metadata_id": 0, "value": "x"}])
    assert structure_error(converter, doc, DocumentSigningOrder).field == (
        "custom_fields.metadata_id"
    )
    # a wrong type is found by the converter, which knows the index
    doc = mutated(request_doc(), "custom_fields", [{"metadata_id": 3, "value": 7}])
    assert structure_error(converter, doc, DocumentSigningOrder).field == "custom_fields[0].value"
    with pytest.raises(ValidationError) as info:
        attrs.evolve(valid_order(), custom_fields=[{"metadata_id": 3, "value": "x"}])  # type: ignore[list-item]
    assert info.value.field == "custom_fields[0]"


def test_nested_objects_must_be_model_instances() -> None:
    with pytest.raises(ValidationError) as info:
        attrs.evolve(valid_order(), ship_info={"method": "standard"})  # type: ignore[arg-type]
    assert info.value.field == "ship_info"
    with pytest.raises(ValidationError) as info:
        attrs.evolve(valid_order(), organization=None)  # type: ignore[arg-type]
    assert info.value.field == "organization"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_note_text_must_not_be_empty(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        NoteRequest(text=text)
    assert info.value.field == "text"
    assert structure_error(converter, {"text": text}, NoteRequest).field == "text"


def test_note_text_type() -> None:
    assert structure_error(converter, {"text": 5}, NoteRequest).field == "text"
    assert structure_error(converter, {}, NoteRequest).field == "text"
    with pytest.raises(ValidationError):
        NoteRequest(text=None)  # type: ignore[arg-type]


def test_update_status_request_rules() -> None:
    for status in ("CANCELED", "canceled", "renewed"):
        assert UpdateStatusRequest(status=status, note="why").status == status
    for kwargs, field in (
        ({"status": "CANCELED", "note": ""}, "note"),
        ({"status": "CANCELED", "note": "  "}, "note"),
        ({"status": "", "note": "why"}, "status"),
        ({"status": 1, "note": "why"}, "status"),
    ):
        with pytest.raises(ValidationError) as info:
            UpdateStatusRequest(**kwargs)
        assert info.value.field == field
        assert structure_error(converter, kwargs, UpdateStatusRequest).field == field
    assert structure_error(converter, {"note": "why"}, UpdateStatusRequest).field == "status"


def test_validation_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="validity_years"):
        attrs.evolve(valid_order(), validity_years=5)


def test_models_are_frozen_and_keyword_only() -> None:
    note = converter.structure(load("note_response.json"), Note)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        note.text = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        NoteRequest("positional")  # type: ignore[call-arg]


# --------------------------------------------------------------------------- properties

ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00")
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@settings(max_examples=200)
@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(9000, 12, 31),
        timezones=offsets | st.none(),
    )
)
def test_datetimes_round_trip(value: datetime) -> None:
    wire = converter.unstructure(value)
    assert ISO_UTC.fullmatch(wire)
    back = converter.structure(wire, datetime)
    assert back.tzinfo is timezone.utc
    expected = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    assert back == expected
    assert converter.unstructure(back) == wire
    # the same instant written with any offset or "Z" reads back the same
    assert converter.structure(wire.replace("+00:00", "Z"), datetime) == back
    assert converter.structure(expected.isoformat(), datetime) == back


@given(st.dates())
def test_dates_round_trip(value: date) -> None:
    wire = converter.unstructure(value)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", wire)
    assert converter.structure(wire, date) == value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300)
@given(
    name=st.sampled_from(sorted(SEED_MODELS)),
    key_index=st.integers(min_value=0, max_value=50),
    value=json_values,
)
def test_hostile_values_only_raise_validation_error(name: str, key_index: int, value: Any) -> None:
    doc = load(name)
    keys = sorted(doc)
    doc[keys[key_index % len(keys)]] = value
    for conv in (converter, STRICT):
        try:
            model = conv.structure(doc, SEED_MODELS[name])
        except ValidationError as error:
            assert error.field
        else:
            assert isinstance(model, SEED_MODELS[name])


@given(json_values)
def test_arbitrary_documents_only_raise_validation_error(value: Any) -> None:
    for cls in (SubaccountOrder, Order, Note, OrderCreated, DocumentSigningOrder):
        with contextlib.suppress(ValidationError):
            converter.structure(value, cls)
