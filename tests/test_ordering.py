"""``client.orders.create``: what it sends, what it refuses before sending, and how it warns.

Request bodies are recorded by a loopback server (``tests/_served.py``); DigiCert's own
documented bodies come from ``../shared/reference/real/`` (skipped without it, failed on CI)
or, where that folder has none, are written here from the page they are on.
"""

from __future__ import annotations

import base64
import copy
import logging
import re
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import digicert_async as dc
from digicert_async.models._csr import check_csr
from digicert_async.models._product_check import check_for_product
from digicert_async.models._product_rules import tls_validity_cap
from digicert_async.resources.orders import _request_model
from digicert_async.testing import FakeCertCentral, Fault

from ._served import faithful, served
from .conftest import load_seed, requires_aioresponses
from .test_real_bodies import REAL, real_file

README = Path(__file__).resolve().parent.parent / "README.md"

# --------------------------------------------------------------------------- a CSR

_CN_OID = bytes.fromhex("0603550403")  # 2.5.4.3 commonName
_RSA = bytes.fromhex("06092a864886f70d0101010500")  # rsaEncryption, NULL
_SHA256_RSA = bytes.fromhex("06092a864886f70d01010b0500")  # sha256WithRSAEncryption, NULL


def der(tag: int, content: bytes) -> bytes:
    """One DER element: tag, definite length, content."""
    if len(content) < 0x80:
        return bytes([tag, len(content)]) + content
    length = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def sequence(*items: bytes) -> bytes:
    return der(0x30, b"".join(items))


def csr_der(common_name: str = "example.com") -> bytes:
    """A certificate request laid out as PKCS#10 is, with a dummy key and signature:
    ``orders.create`` checks the structure, not the signature."""
    name = sequence(der(0x31, sequence(_CN_OID, der(0x0C, common_name.encode()))))
    key = sequence(_RSA, der(0x03, b"\x00" + sequence(der(0x02, b"\x00" + b"\xab" * 256))))
    info = sequence(der(0x02, b"\x00"), name, key, der(0xA0, b""))
    return sequence(info, _SHA256_RSA, der(0x03, b"\x00" + b"\xcd" * 256))


def pem(der_bytes: bytes, label: str = "CERTIFICATE REQUEST") -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(der_bytes).decode(), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


CSR = pem(csr_der())


def real_csr() -> str:
    real_file("lc_order_created_ribose.json")  # skips (or fails on CI) without the folder
    return (REAL / "lc_csr_example_com.pem").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- orders


def ov_order(**changes: Any) -> dict[str, Any]:
    """A Basic OV order as DigiCert's page shows it, with a CSR that parses."""
    order: dict[str, Any] = {
        "certificate": {
            "common_name": "example.com",
            "dns_names": ["sub.example.com", "app.example.com"],
            "csr": CSR,
            "signature_hash": "sha256",
            "server_platform": {"id": 2},
        },
        "organization": {"id": 123456},
        "validity_years": 1,
        "payment_method": "balance",
    }
    order.update(changes)
    return order


def with_certificate(**changes: Any) -> dict[str, Any]:
    order = ov_order()
    order["certificate"].update(changes)
    return order


# Order code signing certificate (dev.digicert.com, services-api/orders/
# order-code-signing-certificate): the page's example body.
CODE_SIGNING_DOC = {
    "certificate": {"server_platform": {"id": 52}, "signature_hash": "sha256"},
    "cs_provisioning_method": "ship_token",
    "order_validity": {"years": 1},
    "comments": "Message for the approver",
    "skip_approval": True,
    "organization": {"id": 123456},
    "ship_info": {
        "name": "Erin Guerra",
        "addr1": "360 Taylor Street",
        "addr2": "Floor 74",
        "city": "Richmond",
        "state": "va",
        "zip": "69662",
        "country": "us",
        "method": "EXPEDITED",
    },
    "auto_renew": 1,
    "custom_renewal_message": "Renew this please.",
    "custom_fields": [{"metadata_id": 12, "value": "123456"}],
    "payment_method": "balance",
}

# Order client certificate: the request table's fields, with the S/MIME name fields of
# the page's 2025 notice (common_name_indicator, individual).
CLIENT_PREMIUM = {
    "certificate": {
        "common_name": "Alice Example",
        "emails": ["alice@example.com"],
        "signature_hash": "sha256",
        "common_name_indicator": "given_name_surname",
        "individual": {"first_name": "Alice", "last_name": "Example"},
    },
    "organization": {"id": 123456},
    "validity_years": 2,
    "auto_renew": 0,
    "skip_approval": False,
    "organization_contact": {
        "first_name": "Jill",
        "last_name": "Valentine",
        "email": "jill.valentine@example.com",
        "telephone": "8017019600",
    },
}

# Order Multi-year Plan / Order Secure Site OV: order_validity for the plan, and
# certificate.cert_validity for the first certificate.
MULTI_YEAR_PLAN = ov_order(validity_years=None, order_validity={"years": 3})
del MULTI_YEAR_PLAN["validity_years"]
MULTI_YEAR_PLAN["certificate"]["cert_validity"] = {"days": 180}

CREATED = {"id": 542772, "requests": [{"id": 922432, "status": "pending"}]}


def created_path(product: str) -> str:
    return f"/order/certificate/{product}"


# --------------------------------------------------------------------------- request shapes


@pytest.mark.parametrize(
    ("product", "body"),
    [
        ("ssl_basic", ov_order()),
        ("ssl_securesite_flex", MULTI_YEAR_PLAN),
        ("code_signing", CODE_SIGNING_DOC),
        ("code_signing_ev", CODE_SIGNING_DOC),
        ("client_premium", CLIENT_PREMIUM),
    ],
)
async def test_the_body_is_sent_as_given(product: str, body: dict[str, Any]) -> None:
    async with served() as (server, client):
        server.answer("POST", created_path(product), 201, CREATED)
        created = await client.orders.create(product, copy.deepcopy(body))
        typed = dc.converter.structure(copy.deepcopy(body), dc.CertificateOrder)
        again = await client.orders.create(product, typed)
    assert server.requests == [("POST", created_path(product))] * 2
    assert server.bodies == [body, body]
    assert (
        created
        == again
        == dc.OrderCreated(id=542772, requests=[dc.RequestStatus(id=922432, status="pending")])
    )


async def test_a_typed_order_is_built_from_nested_classes() -> None:
    order = dc.CertificateOrder(
        certificate=dc.CertificateDetails(
            common_name="*.example.com",
            dns_names=["example.com"],
            csr=CSR,
            signature_hash="sha384",
            cert_validity=dc.CertValidity(days=90),
        ),
        organization=dc.OrderOrganization(
            id=123456,
            contacts=[dc.OrderContact(contact_type="organization_contact", user_id=565611)],
        ),
        order_validity=dc.OrderValidity(years=2),
        dcv_method="dns-txt-token",
        renewal_of_order_id=1000,
    )
    async with served() as (server, client):
        server.answer("POST", created_path("ssl_basic"), 201, CREATED)
        await client.orders.create("ssl_basic", order)
    assert server.bodies == [
        {
            "certificate": {
                "common_name": "*.example.com",
                "dns_names": ["example.com"],
                "csr": CSR,
                "signature_hash": "sha384",
                "cert_validity": {"days": 90},
            },
            "organization": {
                "id": 123456,
                "contacts": [{"contact_type": "organization_contact", "user_id": 565611}],
            },
            "order_validity": {"years": 2},
            "dcv_method": "dns-txt-token",
            "renewal_of_order_id": 1000,
        }
    ]


async def test_a_product_digicert_adds_later_passes_through_with_the_generic_model() -> None:
    body = ov_order(validity_years=None, validity_days=90)
    del body["validity_years"]
    async with served() as (server, client):
        server.answer("POST", created_path("ssl_future_product"), 201, CREATED)
        created = await client.orders.create("ssl_future_product", body)
    assert server.requests == [("POST", "/order/certificate/ssl_future_product")]
    assert server.bodies == [body]
    assert created.id == 542772


async def test_custom_expiration_date_goes_out_as_a_date() -> None:
    body = ov_order(custom_expiration_date="2027-01-31")
    del body["validity_years"]
    async with served() as (server, client):
        server.answer("POST", created_path("ssl_basic"), 201, CREATED)
        await client.orders.create("ssl_basic", body)
    assert server.bodies[0]["custom_expiration_date"] == "2027-01-31"
    typed = dc.converter.structure(body, dc.CertificateOrder)
    assert typed.custom_expiration_date == date(2027, 1, 31)


async def test_document_signing_products_go_to_create_document_signing() -> None:
    seed = dc.converter.structure(load_seed("document_signing_request"), dc.DocumentSigningOrder)
    async with served() as (server, client):
        server.answer("POST", created_path("document_signing_org_2"), 201, CREATED)
        await client.orders.create("document_signing_org_2", seed)
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.create("document_signing_org_1", ov_order())
        # Read strictly as a DocumentSigningOrder: a key of the OV order it does not know.
        assert caught.value.field == "certificate.common_name"
        with pytest.raises(dc.ValidationError, match="DocumentSigningOrder") as typed:
            await client.orders.create(
                "document_signing_org_1", dc.converter.structure(ov_order(), dc.CertificateOrder)
            )
        assert typed.value.field == "order"
        with pytest.raises(dc.ValidationError) as other_way:
            await client.orders.create("ssl_basic", seed)
        assert other_way.value.field == "order"
    assert server.requests == [("POST", "/order/certificate/document_signing_org_2")]


# --------------------------------------------------------------------------- the real bodies


async def test_the_documented_basic_ov_body_with_its_placeholder_is_refused() -> None:
    body = real_file("lc_order_ssl_basic_doc_request.json")
    assert body["certificate"]["csr"] == "<csr>"
    async with served() as (server, client):
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.create("ssl_basic", body)
        with pytest.raises(dc.ValidationError):
            dc.converter.structure(body, dc.CertificateOrder)
    assert caught.value.field == "certificate.csr"
    assert "'<csr>'" in caught.value.message
    assert server.requests == []


async def test_the_documented_basic_ov_body_with_a_real_csr_is_sent_as_is() -> None:
    body = real_file("lc_order_ssl_basic_doc_request.json")
    body["certificate"]["csr"] = real_csr()
    created_body = real_file("lc_order_created_ribose.json")
    async with served() as (server, client):
        server.answer("POST", created_path("ssl_basic"), 201, created_body)
        created = await client.orders.create("ssl_basic", copy.deepcopy(body))
    assert server.bodies == [body]
    faithful(created, created_body)
    assert created.id == created_body["id"]
    assert created.requests is not None
    assert [r.id for r in created.requests] == [r["id"] for r in created_body["requests"]]
    # typed, the body goes out the same
    assert dc.converter.unstructure(dc.converter.structure(body, dc.CertificateOrder)) == body


async def test_the_order_is_checked_against_the_real_product_info() -> None:
    info = real_file("lc_product_info_ssl_basic_doc_prefix.json")
    product = dc.converter.structure(info, dc.ProductDetails)
    async with served() as (server, client):
        server.answer("POST", created_path("ssl_basic"), 201, CREATED)
        with pytest.raises(dc.ValidationError, match="sha384") as caught:
            await client.orders.create("ssl_basic", ov_order(), product=product)
        assert caught.value.field == "certificate.signature_hash"
        assert server.requests == []
        await client.orders.create(
            "ssl_basic", with_certificate(signature_hash="sha384"), product=product
        )
    assert server.requests == [("POST", "/order/certificate/ssl_basic")]


# --------------------------------------------------------------------------- refusals


def _body_with(**changes: Any) -> dict[str, Any]:
    return ov_order(**changes)


def _certificate_with(**changes: Any) -> dict[str, Any]:
    return with_certificate(**changes)


def _without(*keys: str, certificate: bool = False) -> dict[str, Any]:
    order = ov_order()
    target = order["certificate"] if certificate else order
    for key in keys:
        del target[key]
    return order


REFUSED: list[tuple[str, str, Any, str]] = [
    # (case, product, order, field named)
    ("csr placeholder", "ssl_basic", _certificate_with(csr="<csr>"), "certificate.csr"),
    ("csr empty", "ssl_basic", _certificate_with(csr=""), "certificate.csr"),
    (
        "csr base64 without PEM armour",
        "ssl_basic",
        _certificate_with(csr=base64.b64encode(csr_der()).decode()),
        "certificate.csr",
    ),
    (
        "csr labelled CERTIFICATE",
        "ssl_basic",
        _certificate_with(csr=pem(csr_der(), "CERTIFICATE")),
        "certificate.csr",
    ),
    (
        "csr with text after the block",
        "ssl_basic",
        _certificate_with(csr=CSR + "trailing words"),
        "certificate.csr",
    ),
    (
        "csr whose base64 is broken",
        "ssl_basic",
        _certificate_with(
            csr="-----BEGIN CERTIFICATE REQUEST-----\nMIIB\nabc\n-----END CERTIFICATE REQUEST-----"
        ),
        "certificate.csr",
    ),
    (
        "csr DER that is not a SEQUENCE",
        "ssl_basic",
        _certificate_with(csr=pem(der(0x02, b"\x01\x02\x03"))),
        "certificate.csr",
    ),
    (
        "csr DER with bytes after the SEQUENCE",
        "ssl_basic",
        _certificate_with(csr=pem(csr_der() + b"\x00\x00")),
        "certificate.csr",
    ),
    (
        "csr DER cut short",
        "ssl_basic",
        _certificate_with(csr=pem(csr_der()[:-40])),
        "certificate.csr",
    ),
    (
        "csr DER SEQUENCE without the request's info",
        "ssl_basic",
        _certificate_with(csr=pem(sequence(der(0x02, b"\x00")))),
        "certificate.csr",
    ),
    ("csr not text", "ssl_basic", _certificate_with(csr=12), "certificate.csr"),
    ("sha1", "ssl_basic", _certificate_with(signature_hash="sha1"), "certificate.signature_hash"),
    (
        "no hash",
        "ssl_basic",
        _without("signature_hash", certificate=True),
        "certificate.signature_hash",
    ),
    (
        "wildcard on a single-name product",
        "ssl_plus",
        _certificate_with(common_name="*.example.com"),
        "certificate.common_name",
    ),
    (
        "wildcard SAN on EV",
        "ssl_ev_basic",
        _certificate_with(dns_names=["*.example.com"]),
        "certificate.dns_names[0]",
    ),
    (
        "wildcard on a private single-name product",
        "private_ssl_plus",
        _certificate_with(common_name="*.corp.example"),
        "certificate.common_name",
    ),
    (
        "wildcard not leftmost",
        "ssl_basic",
        _certificate_with(common_name="www.*.example.com"),
        "certificate.common_name",
    ),
    (
        "wildcard over a public suffix alone",
        "ssl_wildcard",
        _certificate_with(common_name="*.com"),
        "certificate.common_name",
    ),
    (
        "duplicate dns_names",
        "ssl_basic",
        _certificate_with(dns_names=["app.example.com", "APP.example.com."]),
        "certificate.dns_names[1]",
    ),
    ("dcv_method", "ssl_basic", _body_with(dcv_method="carrier-pigeon"), "dcv_method"),
    (
        "dynamic http token on DV",
        "ssl_dv_geotrust",
        _body_with(dcv_method="http-token-dynamic"),
        "dcv_method",
    ),
    ("payment_method", "ssl_basic", _body_with(payment_method="cash"), "payment_method"),
    (
        "renewal_of_order_id as text",
        "ssl_basic",
        _body_with(renewal_of_order_id="12"),
        "renewal_of_order_id",
    ),
    (
        "renewal_of_order_id zero",
        "ssl_basic",
        _body_with(renewal_of_order_id=0),
        "renewal_of_order_id",
    ),
    ("a key DigiCert does not know", "ssl_basic", _body_with(validity_yeras=1), "validity_yeras"),
    (
        "a nested key DigiCert does not know",
        "ssl_basic",
        _certificate_with(common_nmae="x"),
        "certificate.common_nmae",
    ),
    ("validity as text", "ssl_basic", _body_with(validity_years="1"), "validity_years"),
    ("validity as a boolean", "ssl_basic", _body_with(validity_years=True), "validity_years"),
    ("no validity", "ssl_basic", _without("validity_years"), "validity_years"),
    (
        "four years of public TLS",
        "ssl_basic",
        _body_with(validity_years=4),
        "validity_years",
    ),
    (
        "order_validity and validity_years",
        "ssl_basic",
        _body_with(order_validity={"years": 2}),
        "validity_years",
    ),
    (
        "an empty order_validity",
        "ssl_basic",
        {**_without("validity_years"), "order_validity": {}},
        "order_validity",
    ),
    (
        "a certificate that outlasts its order",
        "ssl_basic",
        {
            **_without("validity_years"),
            "order_validity": {"days": 100},
            "certificate": {**ov_order()["certificate"], "cert_validity": {"days": 101}},
        },
        "certificate.cert_validity.days",
    ),
    (
        "an expiration date in the past",
        "ssl_basic",
        {**_without("validity_years"), "custom_expiration_date": "2020-01-01"},
        "custom_expiration_date",
    ),
    (
        "an expiration date as DigiCert's old example writes it",
        "ssl_basic",
        {**_without("validity_years"), "custom_expiration_date": "21 DEC 2021"},
        "custom_expiration_date",
    ),
    ("no organization on OV", "ssl_basic", _without("organization"), "organization"),
    (
        "a new organization without its address",
        "ssl_basic",
        _body_with(organization={"name": "Example Inc."}),
        "organization.address",
    ),
    ("no CSR on TLS", "ssl_basic", _without("csr", certificate=True), "certificate.csr"),
    (
        "no common name on TLS",
        "ssl_basic",
        _without("common_name", certificate=True),
        "certificate.common_name",
    ),
    (
        "code signing installed on an HSM without a CSR",
        "code_signing",
        {**CODE_SIGNING_DOC, "cs_provisioning_method": "email"},
        "certificate.csr",
    ),
    (
        "a client certificate without emails",
        "client_premium",
        {**CLIENT_PREMIUM, "certificate": {**CLIENT_PREMIUM["certificate"], "emails": None}},
        "certificate.emails",
    ),
    (
        "a common name on Class 1 S/MIME",
        "class1_smime",
        CLIENT_PREMIUM,
        "certificate.common_name",
    ),
    (
        "an email that is not one",
        "client_premium",
        {**CLIENT_PREMIUM, "certificate": {**CLIENT_PREMIUM["certificate"], "emails": ["alice"]}},
        "certificate.emails[0]",
    ),
    (
        "a ship method",
        "code_signing",
        {**CODE_SIGNING_DOC, "ship_info": {**CODE_SIGNING_DOC["ship_info"], "method": "pigeon"}},
        "ship_info.method",
    ),
    ("not an object", "ssl_basic", [ov_order()], "order"),
    ("certificate not an object", "ssl_basic", _body_with(certificate=[]), "certificate"),
]


@pytest.mark.parametrize(
    ("product", "order", "field"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
async def test_refused_before_anything_is_sent(product: str, order: Any, field: str) -> None:
    async with served() as (server, client):
        server.answer("POST", created_path(product), 201, CREATED)
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.create(product, copy.deepcopy(order))
    assert caught.value.field == field, caught.value
    assert server.requests == []


@pytest.mark.parametrize(
    "product_name_id", ["", "ssl basic", "../product", "ssl_basic?x=1", 7, None, "a" * 101]
)
async def test_a_product_identifier_that_cannot_be_one(product_name_id: Any) -> None:
    async with served() as (server, client):
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.create(product_name_id, ov_order())
    assert caught.value.field == "product_name_id"
    assert server.requests == []


@pytest.mark.parametrize(
    ("product", "name"),
    [
        ("ssl_basic", "*.example.com"),
        ("ssl_securesite_flex", "*.example.com"),
        ("ssl_wildcard", "*.example.com"),
        ("wildcard_dv_rapidssl", "*.example.com"),
        ("private_ssl_wildcard", "*.corp.example"),
    ],
)
async def test_wildcards_where_the_product_allows_them(product: str, name: str) -> None:
    async with served() as (server, client):
        server.answer("POST", created_path(product), 201, CREATED)
        await client.orders.create(product, with_certificate(common_name=name))
    assert server.bodies[0]["certificate"]["common_name"] == name


# --------------------------------------------------------------------------- validity


def test_the_validity_schedule_of_the_ca_browser_forum() -> None:
    assert tls_validity_cap(date(2026, 3, 14)) == 398
    assert tls_validity_cap(date(2026, 3, 15)) == 200
    assert tls_validity_cap(date(2026, 11, 30)) == 200
    assert tls_validity_cap(date(2027, 3, 14)) == 200
    assert tls_validity_cap(date(2027, 3, 15)) == 100
    assert tls_validity_cap(date(2029, 3, 14)) == 100
    assert tls_validity_cap(date(2029, 3, 15)) == 47


def _typed(body: dict[str, Any]) -> dc.CertificateOrder:
    return dc.converter.structure(body, dc.CertificateOrder)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "digicert_async.orders" and record.levelno == logging.WARNING
    ]


@pytest.mark.parametrize(
    ("today", "days", "warned"),
    [
        (date(2026, 11, 30), 200, False),
        (date(2026, 11, 30), 201, True),
        (date(2027, 3, 15), 100, False),
        (date(2027, 3, 15), 101, True),
        (date(2029, 3, 15), 47, False),
        (date(2029, 3, 15), 48, True),
        (date(2026, 3, 1), 397, False),
    ],
)
def test_past_the_cap_is_a_warning_not_a_refusal(
    caplog: pytest.LogCaptureFixture, today: date, days: int, warned: bool
) -> None:
    caplog.set_level(logging.WARNING, "digicert_async.orders")
    body = _without("validity_years")
    body["validity_days"] = days
    check_for_product(_typed(body), "ssl_basic", today=today)
    messages = _warnings(caplog)
    if warned:
        assert len(messages) == 1, messages
        cap = tls_validity_cap(today)
        assert f"valid {days} days" in messages[0]
        assert f"{cap} days" in messages[0] and "CA/Browser Forum" in messages[0]
    else:
        assert messages == []


def test_the_schedule_does_not_bind_private_or_client_certificates(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "digicert_async.orders")
    check_for_product(
        _typed(ov_order(validity_years=3)), "private_ssl_plus", today=date(2029, 6, 1)
    )
    check_for_product(_typed(CLIENT_PREMIUM), "client_premium", today=date(2029, 6, 1))
    assert _warnings(caplog) == []


def test_validity_precedence_is_digicerts_and_each_ignored_value_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "digicert_async.orders")
    body = ov_order(validity_years=3, validity_days=90, custom_expiration_date="2027-01-29")
    # custom_expiration_date decides: 60 days from 2026-11-30, within every cap
    check_for_product(_typed(body), "ssl_basic", today=date(2026, 11, 30))
    messages = _warnings(caplog)
    assert len(messages) == 2, messages
    assert messages[0].startswith("validity_days is ignored: custom_expiration_date")
    assert messages[1].startswith("validity_years is ignored: custom_expiration_date")

    caplog.clear()
    body = ov_order(validity_years=3, validity_days=90)
    check_for_product(_typed(body), "ssl_basic", today=date(2026, 11, 30))
    assert _warnings(caplog) == [
        "validity_years is ignored: validity_days (90) takes precedence over it, as DigiCert"
        " applies them"
    ]

    caplog.clear()
    plan = copy.deepcopy(MULTI_YEAR_PLAN)
    plan["order_validity"] = {"years": 3, "days": 30}
    plan["certificate"]["cert_validity"] = {"days": 20}
    check_for_product(_typed(plan), "ssl_basic", today=date(2026, 11, 30))
    assert _warnings(caplog) == [
        "order_validity.years is ignored: order_validity.days (30) takes precedence over it,"
        " as DigiCert applies them"
    ]


def test_an_order_validity_under_the_certificates_is_refused_whichever_unit_decides() -> None:
    plan = copy.deepcopy(MULTI_YEAR_PLAN)
    plan["order_validity"] = {"years": 3, "days": 30}  # days decide: 30
    plan["certificate"]["cert_validity"] = {"days": 90}
    with pytest.raises(dc.ValidationError) as caught:
        check_for_product(_typed(plan), "ssl_basic", today=date(2026, 11, 30))
    assert caught.value.field == "certificate.cert_validity.days"


def test_a_multi_year_plan_warns_about_its_certificate_not_its_coverage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "digicert_async.orders")
    check_for_product(_typed(MULTI_YEAR_PLAN), "ssl_basic", today=date(2026, 11, 30))
    assert _warnings(caplog) == []  # 3 years of coverage, a 180-day certificate
    plan = copy.deepcopy(MULTI_YEAR_PLAN)
    del plan["certificate"]["cert_validity"]
    check_for_product(_typed(plan), "ssl_basic", today=date(2026, 11, 30))
    (message,) = _warnings(caplog)
    assert message.startswith("order_validity.years asks for a certificate valid 1096 days")


async def test_the_call_logs_the_warning_and_sends_the_order(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "digicert_async.orders")
    async with served() as (server, client):
        server.answer("POST", created_path("ssl_basic"), 201, CREATED)
        await client.orders.create("ssl_basic", ov_order(validity_years=2))
    assert server.bodies == [ov_order(validity_years=2)]
    (message,) = _warnings(caplog)
    assert message.startswith("validity_years asks for a certificate valid 73")


# --------------------------------------------------------------------------- product details


def details(**fields: Any) -> dc.ProductDetails:
    return dc.converter.structure({"name_id": "ssl_basic", **fields}, dc.ProductDetails)


def test_the_products_validity_is_the_cap_when_it_is_shorter(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "digicert_async.orders")
    private = dc.converter.structure(
        {
            "name_id": "private_ssl_plus",
            "allowed_validity_years": ["1"],
            "allowed_order_validity_years": ["1", "2", "3"],
        },
        dc.ProductDetails,
    )
    check_for_product(
        _typed(ov_order(validity_years=2)), "private_ssl_plus", private, today=date(2026, 11, 30)
    )
    (message,) = _warnings(caplog)
    assert "private_ssl_plus's allowed_validity_years (1 year(s))" in message


def test_the_products_order_validity_bounds_the_order() -> None:
    product = details(allowed_order_validity_years=[1, 2])
    with pytest.raises(dc.ValidationError, match="allowed_order_validity_years") as caught:
        check_for_product(
            _typed(ov_order(validity_years=3)), "ssl_basic", product, today=date(2026, 11, 30)
        )
    assert caught.value.field == "validity_years"
    check_for_product(
        _typed(ov_order(validity_years=2)), "ssl_basic", product, today=date(2026, 11, 30)
    )


def test_a_product_that_requires_a_csr() -> None:
    body = _without("csr", certificate=True)
    check_for_product(_typed(body), "ssl_future", details(), today=date(2026, 11, 30))
    with pytest.raises(dc.ValidationError) as caught:
        check_for_product(
            _typed(body), "ssl_future", details(csr_required=True), today=date(2026, 11, 30)
        )
    assert caught.value.field == "certificate.csr"


def test_a_year_list_of_the_wrong_type_in_given_details_is_refused() -> None:
    with pytest.raises(dc.ValidationError) as caught:
        check_for_product(
            _typed(ov_order()),
            "ssl_basic",
            details(allowed_validity_years=["one"]),
            today=date(2026, 11, 30),
        )
    assert caught.value.field == "product.allowed_validity_years"


async def test_product_details_must_describe_the_product_ordered() -> None:
    async with served() as (server, client):
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.create("ssl_plus", ov_order(), product=details())
        assert caught.value.field == "product"
        with pytest.raises(dc.ValidationError) as wrong_type:
            await client.orders.create("ssl_basic", ov_order(), product={"name_id": "ssl_basic"})  # type: ignore[arg-type]
        assert wrong_type.value.field == "product"
        with pytest.raises(dc.ValidationError) as flag:
            await client.orders.create("ssl_basic", ov_order(), check_product="yes")  # type: ignore[arg-type]
        assert flag.value.field == "check_product"
    assert server.requests == []


async def test_check_product_reads_the_product_first(fake: FakeCertCentral) -> None:
    async with dc.CertCentralClient(
        api_key=fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
    ) as client:
        fake.clear_requests()
        # code signing allows sha256 only (as DigiCert's product list shows it)
        order = copy.deepcopy(CODE_SIGNING_DOC)
        order["certificate"]["signature_hash"] = "sha384"
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.create("code_signing", order, check_product=True)
        assert caught.value.field == "certificate.signature_hash"
        assert [(r.method, r.path) for r in fake.requests] == [
            ("GET", "/services/v2/product/code_signing")
        ]
        fake.clear_requests()
        created = await client.orders.create("code_signing", CODE_SIGNING_DOC, check_product=True)
        assert [(r.method, r.path) for r in fake.requests] == [
            ("GET", "/services/v2/product/code_signing"),
            ("POST", "/services/v2/order/certificate/code_signing"),
        ]
        assert created.id in fake.order_ids
        fake.clear_requests()
        with pytest.raises(dc.NotFoundError) as missing:
            await client.orders.create("ssl_unheard_of", ov_order(), check_product=True)
        assert missing.value.code == "not_found|product"
        assert [r.method for r in fake.requests] == ["GET"]


# --------------------------------------------------------------------------- sent once


@pytest.mark.parametrize("fault", [Fault.RESET_AFTER, Fault.INTERNAL_ERROR, Fault.BAD_GATEWAY])
async def test_an_order_is_never_sent_twice(fake: FakeCertCentral, fault: Fault) -> None:
    async with dc.CertCentralClient(
        api_key=fake.api_key,
        base_url=fake.base_url,
        rate_limit=dc.RateLimit.disabled(),
        retry=dc.RetryPolicy(max_attempts=5),
    ) as client:
        before = set(fake.order_ids)
        fake.clear_requests()
        fake.inject(fault, method="POST", path_contains="/order/certificate/ssl_basic")
        with pytest.raises((dc.TransportError, dc.ServerError, dc.APIError)):
            await client.orders.create("ssl_basic", ov_order())
        posts = [r for r in fake.requests if r.method == "POST"]
        assert len(posts) == 1
        made = set(fake.order_ids) - before
        assert len(made) == (1 if fault is Fault.RESET_AFTER else 0)


async def test_a_refused_first_attempt_is_sent_again(fake: FakeCertCentral) -> None:
    # A 429 refuses before anything is done: the one case a POST may be sent again.
    async with dc.CertCentralClient(
        api_key=fake.api_key,
        base_url=fake.base_url,
        rate_limit=dc.RateLimit.disabled(),
        retry=dc.RetryPolicy(max_attempts=3, backoff_initial=0.01, backoff_max=0.02),
    ) as client:
        fake.clear_requests()
        fake.inject(Fault.RATE_LIMITED, method="POST", path_contains="/order/certificate/")
        created = await client.orders.create("ssl_basic", ov_order())
    assert [r.answered_status for r in fake.requests if r.method == "POST"] == [429, 201]
    assert fake.order(created.id) is not None


def test_without_multi_year_plans_the_certificate_years_bound_the_order() -> None:
    private = dc.converter.structure(
        {"name_id": "private_ssl_plus", "allowed_validity_years": ["1"]}, dc.ProductDetails
    )
    with pytest.raises(dc.ValidationError, match="allowed_validity_years") as caught:
        check_for_product(
            _typed(ov_order(validity_years=2)),
            "private_ssl_plus",
            private,
            today=date(2026, 11, 30),
        )
    assert caught.value.field == "validity_years"


def test_the_readme_ordering_example_runs_as_a_script(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    example = re.findall(r"```python\n(.*?)```", text[text.index("## Ordering") :], re.S)[0]
    script = tmp_path / "ordering.py"
    script.write_text(example)
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "Basic OV: hashes ['sha256', 'sha384', 'sha512'], plans of [1, 2, 3] years"
    assert re.fullmatch(r"order \d+: request \d+ is pending", lines[1])
    assert lines[2] == (
        "refused before sending: certificate.common_name: ssl_plus does not allow a wildcard"
        " ('*.example.com')"
    )
    # the CSR in the README is a real one: it passes the same check the call makes
    csr = re.search(r'CSR = """(.*?)"""', example, re.S)
    assert csr is not None
    dc.converter.structure(
        {"certificate": {"csr": csr.group(1), "signature_hash": "sha256"}}, dc.CertificateOrder
    )


@requires_aioresponses
async def test_the_wire_request_of_create_and_products() -> None:
    from aioresponses import aioresponses

    from .test_request_shapes import KEY, ROOT, assert_common_headers, sent_json

    async with dc.CertCentralClient(api_key=KEY, rate_limit=dc.RateLimit.disabled()) as client:
        with aioresponses() as mocked:
            mocked.post(f"{ROOT}/order/certificate/ssl_ev_basic", status=201, payload=CREATED)
            mocked.get(f"{ROOT}/product", payload={"products": []})
            mocked.get(f"{ROOT}/product/ssl_ev_basic", payload={"name_id": "ssl_ev_basic"})
            await client.orders.create("ssl_ev_basic", ov_order())
            await client.products.list()
            await client.products.get("ssl_ev_basic")
            calls = [(key, call) for key, calls in mocked.requests.items() for call in calls]
    assert [(method, str(url)) for (method, url), _ in calls] == [
        ("POST", f"{ROOT}/order/certificate/ssl_ev_basic"),
        ("GET", f"{ROOT}/product"),
        ("GET", f"{ROOT}/product/ssl_ev_basic"),
    ]
    (_, post), (_, listing), (_, one) = calls
    assert sent_json(post.kwargs) == ov_order()
    assert_common_headers(post.kwargs, with_body=True)
    assert_common_headers(listing.kwargs, with_body=False)
    assert_common_headers(one.kwargs, with_body=False)


# --------------------------------------------------------------------------- hostile input

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_FIELDS = st.sampled_from(
    [
        "certificate",
        "organization",
        "validity_years",
        "validity_days",
        "custom_expiration_date",
        "order_validity",
        "renewal_of_order_id",
        "dcv_method",
        "payment_method",
        "ship_info",
        "custom_fields",
        "organization_contact",
    ]
)
_CERTIFICATE_FIELDS = st.sampled_from(
    ["common_name", "dns_names", "emails", "csr", "signature_hash", "cert_validity", "individual"]
)


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(text=st.text(max_size=200), raw=st.binary(max_size=200))
def test_any_csr_text_is_accepted_or_a_validation_error(text: str, raw: bytes) -> None:
    for candidate in (text, pem(raw), pem(raw).replace("\n", "\r\n"), CSR[: len(text)]):
        try:
            check_csr("certificate.csr", candidate)
        except dc.ValidationError as error:
            assert error.field == "certificate.csr"


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    top=st.dictionaries(_FIELDS, _JSON, max_size=3),
    certificate=st.dictionaries(_CERTIFICATE_FIELDS, _JSON, max_size=3),
    product=st.sampled_from([*sorted(dc.ORDER_PRODUCTS), "ssl_future_product"]),
)
def test_any_order_mapping_is_accepted_or_a_validation_error(
    top: dict[str, Any], certificate: dict[str, Any], product: str
) -> None:
    body = ov_order()
    body.update(top)
    if isinstance(body.get("certificate"), dict):
        body["certificate"] = {**body["certificate"], **certificate}
    try:
        order = _request_model(body, dc.CertificateOrder, "order")
        check_for_product(order, product, today=date(2026, 11, 30))
    except dc.ValidationError:
        pass


async def test_a_request_mapping_with_a_key_its_model_does_not_know_is_refused() -> None:
    # Every request given as a mapping is read strictly: a misspelt key is named, not
    # dropped, and nothing is sent.
    seed = load_seed("document_signing_request")
    csr = {"csr": ov_order()["certificate"]["csr"]}
    async with served() as (server, client):
        calls = {
            "commonname": client.orders.create("ssl_basic", {**ov_order(), "commonname": "x"}),
            "validity_yaers": client.orders.create_document_signing(
                {**seed, "validity_yaers": 2}, product="document_signing_org_2"
            ),
            "certificate.commonname": client.orders.reissue(
                100001, {"certificate": {**csr, "commonname": "x"}}
            ),
            "certificate.dns_name": client.orders.duplicate(
                100001, {"certificate": {**csr, "dns_name": ["x"]}}
            ),
        }
        for field, call in calls.items():
            with pytest.raises(dc.ValidationError) as caught:
                await call
            assert caught.value.field == field
        assert server.bodies == []
