"""Every field of DigiCert's documented answers, for every endpoint the library calls, is a
typed field of the model that reads it.

``DOCUMENTED`` holds, per route template (as the resources name them), the pages that
document its answer and the fields they list: the response-parameter tables and the
example bodies of DigiCert's developer pages. Their stored copies are cut after a few
thousand characters, so a long table is read across its copies (English, other
languages, the older and the newer layout); the issue that asked for this test (the
fields real answers carried and the models dropped) adds what every copy cut. A field
is a dotted path; ``[]`` steps into the items of a list. Endpoints that answer with no
JSON (204, or a file) list no field and say why.
"""

from __future__ import annotations

import types
import typing
from types import ModuleType
from typing import Any

import attrs
import pytest

import digicert_async as dc
from digicert_async.resources import certificates, orders, products, requests, subaccounts

D = "https://dev.digicert.com"
ORDER_INFO_PAGES = (
    f"{D}/en/certcentral-apis/services-api/orders/order-info.html",
    f"{D}/zh-tw/services-api/orders/order-info/",
    f"{D}/es/services-api/orders/order-info/",
    f"{D}/services-api/orders/order-info/",
    "https://knowledge.digicert.com/content/kb/jp/ja/alerts/certcentral-services-api-order-info-response-change",
)

USER = ("id", "first_name", "last_name", "email")
CONTACT = ("first_name", "last_name", "email", "job_title", "telephone", "telephone_extension")
PLATFORM = ("id", "name", "install_url", "csr_url")


def under(prefix: str, names: tuple[str, ...]) -> list[str]:
    return [f"{prefix}.{name}" for name in names]


ORDER_FIELDS = [
    # the response table ([oi-en]) as far as its copies go
    "id", "certificate.id", "certificate.thumbprint", "certificate.serial_number",
    "certificate.common_name", "certificate.cert_validity.years", "certificate.cert_validity.days",
    "certificate.cert_validity.custom_expiration_date", "certificate.emails",
    "certificate.dns_names", "certificate.date_created", "certificate.date_issued",
    "certificate.valid_from", "certificate.valid_till", "certificate.days_remaining",
    # the examples ([oi-es], [oi-zhtw], the older page)
    "certificate.csr", "certificate.organization.id", "certificate.organization_units",
    *under("certificate.server_platform", PLATFORM), "certificate.signature_hash",
    "certificate.key_size", "certificate.ca_cert.id", "certificate.ca_cert.name",
    "certificate.ca_cert_id", "certificate.user_id", "status", "is_renewal", "is_renewed",
    "renewed_order_id", "date_created", "date_issued", "business_unit",
    "organization.id", "organization.name", "organization.assumed_name",
    "organization.display_name", "organization.is_active", "organization.city",
    "organization.state", "organization.country", "validity_years", "order_valid_from",
    "order_valid_till", "order_validity.years", "order_validity.days",
    "order_validity.custom_expiration_date", "is_multi_year_plan",
    "disable_renewal_notifications", "disable_issuance_email", "container.id",
    "container.name", "container.is_active", "product.name_id", "product.name",
    "product.type", "product.validation_type", "product.validation_name",
    "product.validation_description", "product.csr_required", "product_name_id",
    *under("organization_contact", CONTACT), *under("technical_contact", CONTACT),
    *under("user", USER), "requests[].id", "requests[].date", "requests[].type",
    "requests[].status", "requests[].comments", "receipt_id", "cs_provisioning_method",
    "hardware_init_code", "ship_info.name", "ship_info.addr1", "ship_info.addr2",
    "ship_info.city", "ship_info.state", "ship_info.zip", "ship_info.country",
    "ship_info.method", "send_minus_90", "send_minus_60", "send_minus_30", "send_minus_7",
    "send_minus_3", "send_plus_7", "public_id", "allow_duplicates",
    *under("user_assignments[]", USER), "payment_method", "price", "currency",
    "auto_renew", "auto_reissue", "custom_renewal_message", "additional_emails",
    "alternative_order_id", "custom_fields[].metadata_id", "custom_fields[].label",
    "custom_fields[].value", "is_out_of_contract", "purchased_dns_names",
    "purchased_wildcard_names",
]  # fmt: skip

LISTED_ORDER_FIELDS = [
    "id", "certificate.id", "certificate.common_name", "certificate.dns_names",
    "certificate.signature_hash", "certificate.valid_from", "certificate.valid_till",
    "certificate.days_remaining", "certificate.serial_number",
    "certificate.cert_validity.years", "status", "is_renewed", "date_created",
    "organization.id", "organization.name", "validity_years", "disable_renewal_notifications",
    "container.id", "container.name", "container.is_active", "product.name_id",
    "product.name", "product.type", "has_duplicates", "duplicates_count", "has_reissues",
    "reissues_count", "number_of_sans", "product_name_id", "price", "is_multi_year_plan",
    "order_valid_till", "order_validity.years",
]  # fmt: skip

NOTE_FIELDS = ["id", "date_created", "text", *under("user", USER)]

REQUEST_FIELDS = [
    # the whole table ([ri]) and its example
    "id", "date", "type", "status", "date_processed", *under("requester", USER),
    *under("reviewer", USER), *under("processor", USER), "comments", "processor_comment",
    "order.unsubmitted_domains", "order.renewal_of_order_valid_till",
    *(f"order.{field}" for field in ORDER_FIELDS),
]  # fmt: skip

LISTED_REQUEST_FIELDS = [
    "id", "date", "type", "status", *under("requester", USER), *under("processor", USER),
    "order.id", "order.certificate.common_name", "order.organization.id",
    "order.organization.name", "order.container.id", "order.container.name",
    "order.product.name_id", "order.product.name", "order.product.type",
]  # fmt: skip

REVOCATION_FIELDS = ["id", "date", "type", "status", *under("requester", USER), "comments"]

CREATED_FIELDS = [
    "id", "requests[].id", "requests[].status", "certificate_id",
    "certificate_chain[].subject_common_name", "certificate_chain[].pem", "organization.id",
    "domains[].id", "domains[].name", "dcv_random_value",
]  # fmt: skip

ISSUED_CERTIFICATE_FIELDS = [
    # the "List reissues" table and the duplicates example
    "id", "thumbprint", "serial_number", "common_name", "dns_names", "status",
    "date_created", "date_issued", "valid_from", "valid_till", "days_remaining", "csr",
    "key_size", "archived", "user_id", "email", "firstname", "lastname", "receipt_id",
    "purchased_dns_names", "purchased_wildcard_names", *under("server_platform", PLATFORM),
    "signature_hash", "ca_cert_id", "sub_id", "public_id",
]  # fmt: skip

PRODUCT_FIELDS = [
    # the "Product info" table, its ssl_basic example and the older ssl_plus one
    "group_name", "name_id", "name", "type", "validation_type", "duplicates_allowed",
    "allowed_validity_years", "allowed_order_validity_years",
    "max_multi_year_order_validity_years", "signature_hash_types.allowed_hash_types[].id",
    "signature_hash_types.allowed_hash_types[].name",
    "signature_hash_types.default_hash_type_id", "allowed_ca_certs[].id",
    "allowed_ca_certs[].name", "allowed_ca_certs[].chain_info", "csr_required",
    "allowed_container_ids", "additional_dns_names_allowed", "increased_compatibility_allowed",
    "custom_expiration_date_allowed", "allow_auto_renew",
    *under("server_platforms[]", PLATFORM), "license_agreement",
]  # fmt: skip

SUBACCOUNT_ORDER_FIELDS = [
    # the "Subaccount order info" table and the seed example
    "id", "certificate.id", "certificate.thumbprint", "certificate.serial_number",
    "certificate.common_name", "certificate.dns_names", "certificate.valid_from",
    "certificate.valid_till", "certificate.days_remaining", "certificate.organization_units",
    "certificate.signature_hash", "certificate.ca_cert.id", "certificate.ca_cert.name",
    "organization.id", "organization.name", "organization.assumed_name",
    "organization.display_name", "subaccount.account_id", "subaccount.account_type",
    "subaccount.organization_name", "product.name_id", "product.name", "product.type",
    "order_price.cost", "order_price.currency", "status", "number_of_sans", "date_created",
    "date_issued", "is_multi_year_plan", "order_valid_from", "order_valid_till",
    "validity_years",
]  # fmt: skip

PAGE = ["total", "limit", "offset"]  # a listing's page object

Answer = list[tuple[type[Any], list[str]]]
"""What an endpoint answers with: each model that reads a part of it, with its fields (a
listing's items, its ``page``)."""

# route -> (the pages, what the answers of its methods hold); no model: no JSON answer
DOCUMENTED: dict[str, tuple[tuple[str, ...], Answer]] = {
    orders.ORDER: (ORDER_INFO_PAGES, [(dc.Order, ORDER_FIELDS)]),
    orders.ORDERS: (
        (
            f"{D}/en/certcentral-apis/services-api/orders/list-orders.html",
            f"{D}/services-api/orders/list-orders/",
            f"{D}/ja/services-api/orders/list-orders/",
        ),
        [(dc.Order, LISTED_ORDER_FIELDS), (dc.Page, PAGE)],
    ),
    orders.CREATE: (
        (
            f"{D}/certcentral-apis/services-api/orders/order-basic-ov.html",
            f"{D}/certcentral-apis/services-api/orders/order-dv-ssl.html",
            f"{D}/ja/services-api/orders/order-document-signing-certificate/",
        ),
        [(dc.OrderCreated, CREATED_FIELDS)],
    ),
    orders.NOTES: (  # POST answers one note, GET lists them under "notes"
        (
            f"{D}/certcentral-apis/services-api/orders/add-note.html",
            f"{D}/de/services-api/orders/list-order-notes/",
        ),
        [(dc.Note, NOTE_FIELDS)],
    ),
    orders.NOTE: (
        (f"{D}/certcentral-apis/services-api/orders/view-note.html",),
        [(dc.Note, NOTE_FIELDS)],
    ),
    orders.STATUS: (  # 204 No Content
        (f"{D}/en/certcentral-apis/services-api/orders/update-order-status.html",),
        [],
    ),
    orders.STATUS_CHANGES: (  # the changes under "orders"
        (
            f"{D}/en/certcentral-apis/services-api/orders/status-change-list.html",
            f"{D}/de/services-api/orders/status-change-list/",
        ),
        [(dc.StatusChange, ["order_id", "certificate_id", "status"])],
    ),
    orders.REISSUE: (  # POST: the order and its request; GET: the reissues, under "certificates"
        (
            f"{D}/en/certcentral-apis/services-api/orders/reissue-certificate.html",
            f"{D}/en/certcentral-apis/services-api/orders/list-reissues.html",
        ),
        [
            (dc.OrderCreated, ["id", "requests[].id", "requests[].status"]),
            (dc.IssuedCertificate, ISSUED_CERTIFICATE_FIELDS),
        ],
    ),
    orders.DUPLICATE: (
        (
            f"{D}/certcentral-apis/services-api/orders/duplicate-certificate.html",
            f"{D}/services-api/orders/list-duplicates/",
        ),
        [
            (dc.OrderCreated, ["id", "requests[].id", "requests[].status"]),
            (dc.IssuedCertificate, ISSUED_CERTIFICATE_FIELDS),
        ],
    ),
    orders.REVOKE: (
        (f"{D}/certcentral-apis/services-api/orders/revoke-order-certificates.html",),
        [(dc.ApprovalRequest, REVOCATION_FIELDS)],
    ),
    certificates.REVOKE: (
        (f"{D}/pt-br/services-api/certificates/revoke-certificate/",),
        [(dc.ApprovalRequest, REVOCATION_FIELDS)],
    ),
    certificates.DOWNLOAD: (  # the certificate file itself, in the format asked for
        (f"{D}/certcentral-apis/services-api/certificates/download-certificate.html",),
        [],
    ),
    certificates.DOWNLOAD_FOR_ORDER: (  # the certificate file itself
        (f"{D}/certcentral-apis/services-api/certificates/download-certificate-by-order.html",),
        [],
    ),
    certificates.CHAIN: (
        (f"{D}/certcentral-apis/services-api/certificates/get-certificate-chain.html",),
        [(dc.CertificateChain, ["intermediates[].subject_common_name", "intermediates[].pem"])],
    ),
    requests.REQUESTS: (
        (f"{D}/certcentral-apis/services-api/requests/list-requests.html",),
        [(dc.ApprovalRequest, LISTED_REQUEST_FIELDS), (dc.Page, PAGE)],
    ),
    requests.REQUEST: (
        (
            f"{D}/it/services-api/requests/request-info/",
            f"{D}/ru/services-api/requests/request-info/",
        ),
        [(dc.ApprovalRequest, REQUEST_FIELDS)],
    ),
    requests.STATUS: (  # 204 No Content
        (f"{D}/certcentral-apis/services-api/requests/update-request-status.html",),
        [],
    ),
    products.PRODUCTS: (  # the products under "products", no page
        (f"{D}/pt-br/services-api/products/product-list/",),
        [(dc.ProductDetails, PRODUCT_FIELDS)],
    ),
    products.PRODUCT: (
        (
            f"{D}/en/certcentral-apis/services-api/products/product-info.html",
            f"{D}/es/services-api/products/product-info/",
            f"{D}/services-api/products/product-info/",
        ),
        [(dc.ProductDetails, PRODUCT_FIELDS)],
    ),
    subaccounts.ORDER: (
        (
            f"{D}/en/certcentral-apis/services-api/subaccount/subaccount-order-info.html",
            f"{D}/ru/services-api/subaccount/subaccount-order-info/",
        ),
        [(dc.SubaccountOrder, SUBACCOUNT_ORDER_FIELDS)],
    ),
    subaccounts.ORDERS: (
        (f"{D}/en/certcentral-apis/services-api/subaccount/list-subaccount-orders.html",),
        [(dc.SubaccountOrder, SUBACCOUNT_ORDER_FIELDS), (dc.Page, PAGE)],
    ),
}


def _routes(module: ModuleType) -> set[str]:
    return {
        value for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and value.startswith("/")
    }  # fmt: skip


def test_every_route_the_library_calls_is_documented_here() -> None:
    called = set().union(*map(_routes, (certificates, orders, products, requests, subaccounts)))
    assert called == set(DOCUMENTED)
    for route, (pages, _) in DOCUMENTED.items():
        assert pages and all(page.startswith("https://") for page in pages), route


def _step(tp: Any) -> Any:
    """The model (or type) a field holds: past ``| None`` and a list's items."""
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        return _step(args[0])
    if typing.get_origin(tp) is list:
        return _step(typing.get_args(tp)[0]) if typing.get_args(tp) else Any
    return tp


def missing_fields(model: type[Any], path: str) -> str | None:
    """None when ``model`` has ``path``, else the part of it that it lacks."""
    current: Any = model
    walked = []
    for part in path.split("."):
        name = part.removesuffix("[]")
        if not attrs.has(current):
            return ".".join(walked) or "$"
        hints = typing.get_type_hints(current)
        if name not in hints:
            return ".".join([*walked, name])
        current = _step(hints[name])
        walked.append(part)
    return None


@pytest.mark.parametrize("route", sorted(DOCUMENTED))
def test_the_model_has_every_documented_field(route: str) -> None:
    _pages, answer = DOCUMENTED[route]
    lacking = [
        f"{model.__name__}: {path}"
        for model, fields in answer
        for path in fields
        if missing_fields(model, path) is not None
    ]
    assert lacking == [], f"{route}: no typed field for {lacking}"


def test_a_field_the_model_lacks_is_found_missing() -> None:
    # the check itself can fail: a made-up field and a made-up nested field
    assert missing_fields(dc.Order, "no_such_field") == "no_such_field"
    assert missing_fields(dc.Order, "certificate.no_such_field") == "certificate.no_such_field"
    assert missing_fields(dc.Order, "status.deeper") == "status"
    assert missing_fields(dc.Order, "requests[].status") is None
