"""FakeCertCentral's ``POST /order/certificate/{product}``: orders for every product, and
DigiCert's refusals, over loopback HTTP (the client for what it accepts, raw aiohttp for
what only the server refuses)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

import digicert_async as dc
from digicert_async.models._product_rules import PRODUCT_RULES
from digicert_async.testing import FakeCertCentral

from .test_ordering import CLIENT_PREMIUM, CODE_SIGNING_DOC, CSR, ov_order


def order_for(product: str) -> dict[str, Any]:
    """An order DigiCert's page for ``product`` accepts."""
    family = PRODUCT_RULES[product].family
    if family == "code_signing":
        return copy.deepcopy(CODE_SIGNING_DOC)
    if family == "client":
        order = copy.deepcopy(CLIENT_PREMIUM)
        if product == "class1_smime":
            del order["certificate"]["common_name"]
        return order
    order = ov_order()
    if family == "dv":
        del order["organization"]
    return order


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def post(
    session: aiohttp.ClientSession, fake: FakeCertCentral, product: str, body: Any
) -> tuple[int, Any]:
    async with session.post(
        f"{fake.base_url}/order/certificate/{product}",
        json=body,
        headers={"X-DC-DEVKEY": fake.api_key},
    ) as response:
        return response.status, await response.json()


def codes(body: Any) -> list[str]:
    return [entry["code"] for entry in body["errors"]]


@pytest.mark.parametrize("product", sorted(dc.ORDER_PRODUCTS))
async def test_every_product_can_be_ordered(
    fake: FakeCertCentral, client: dc.CertCentralClient, product: str
) -> None:
    before = set(fake.order_ids)
    body = order_for(product)
    created = await client.orders.create(product, body)
    assert set(fake.order_ids) - before == {created.id}
    assert created.requests is not None and len(created.requests) == 1
    request = created.requests[0]
    assert request.id is not None and request.id > 0
    # skip_approval (the code signing page's example sets it) submits the request at once
    assert request.status == ("approved" if body.get("skip_approval") else "pending")
    order = await client.orders.get(created.id)
    assert order.status == "pending"
    assert order.product is not None and order.product.name_id == product
    assert order.certificate is not None
    assert order.certificate.signature_hash == order_for(product)["certificate"]["signature_hash"]
    if PRODUCT_RULES[product].tls:
        assert order.certificate.common_name == "example.com"
        assert order.certificate.csr == CSR


async def test_request_ids_are_new_for_each_order(client: dc.CertCentralClient) -> None:
    first = await client.orders.create("ssl_basic", ov_order())
    second = await client.orders.create("ssl_basic", ov_order())
    assert first.id != second.id
    assert first.requests and second.requests
    assert first.requests[0].id != second.requests[0].id


async def test_a_new_organization_and_skip_approval(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    body = ov_order(
        organization={
            "name": "Example Inc.",
            "address": "2801 N Thanksgiving Way",
            "city": "Lehi",
            "state": "utah",
            "zip": "84043",
            "country": "us",
        },
        skip_approval=True,
    )
    created = await client.orders.create("ssl_basic", body)
    assert created.organization is not None and created.organization.id is not None
    assert created.requests and created.requests[0].status == "approved"
    assert created.certificate_id is not None
    order = await client.orders.get(created.id)
    assert order.organization is not None and order.organization.name == "Example Inc."


async def test_a_renewal_names_an_order_of_the_account(
    fake: FakeCertCentral, client: dc.CertCentralClient, session: aiohttp.ClientSession
) -> None:
    old = fake.order_ids[0]
    created = await client.orders.create("ssl_basic", ov_order(renewal_of_order_id=old))
    assert fake.order(created.id)["is_renewal"] is True  # type: ignore[index]
    status, body = await post(session, fake, "ssl_basic", ov_order(renewal_of_order_id=999_999_999))
    assert (status, codes(body)) == (400, ["invalid_value:renewal_of_order_id"])


async def test_a_multi_year_plan_is_one_order_for_years(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    body = ov_order(order_validity={"years": 3})
    del body["validity_years"]
    created = await client.orders.create("ssl_securesite_flex", body)
    order = fake.order(created.id)
    assert order is not None
    assert order["is_multi_year_plan"] == "1" and order["validity_years"] == 3
    # the certificate is shortened to the CA/Browser Forum's cap, as DigiCert does
    assert order["certificate"]["cert_validity"]["days"] <= 200


REFUSED_BY_THE_FAKE: list[tuple[str, str, Any, list[str]]] = [
    # what the client would refuse too, sent raw: the fake answers as DigiCert does
    (
        "placeholder CSR",
        "ssl_basic",
        {**ov_order(), "certificate": {**ov_order()["certificate"], "csr": "<csr>"}},
        ["csr_invalid_cannot_parse"],
    ),
    (
        "no hash",
        "ssl_basic",
        {**ov_order(), "certificate": {"common_name": "example.com", "csr": CSR}},
        ["required_param:certificate.signature_hash"],
    ),
    (
        "a hash the product does not allow",
        "code_signing",
        {**CODE_SIGNING_DOC, "certificate": {"signature_hash": "sha512"}},
        ["invalid_value:certificate.signature_hash"],
    ),
    (
        "wildcard",
        "ssl_plus",
        {**ov_order(), "certificate": {**ov_order()["certificate"], "common_name": "*.a.com"}},
        ["invalid_value:certificate.common_name"],
    ),
    (
        "duplicate names",
        "ssl_basic",
        {**ov_order(), "certificate": {**ov_order()["certificate"], "dns_names": ["a.com"] * 2}},
        ["invalid_value:certificate.dns_names"],
    ),
    ("dcv_method", "ssl_basic", ov_order(dcv_method="fax"), ["invalid_value:dcv_method"]),
    ("payment", "ssl_basic", ov_order(payment_method="cash"), ["invalid_value:payment_method"]),
    ("four years", "ssl_basic", ov_order(validity_years=4), ["invalid_value:validity_years"]),
    (
        "four years in days",
        "ssl_basic",
        {**{k: v for k, v in ov_order().items() if k != "validity_years"}, "validity_days": 1500},
        ["invalid_value:validity_days"],
    ),
    (
        "certificate longer than the order",
        "ssl_basic",
        {
            **{k: v for k, v in ov_order().items() if k != "validity_years"},
            "order_validity": {"days": 90},
            "certificate": {**ov_order()["certificate"], "cert_validity": {"days": 91}},
        },
        ["cert_validity_exceeds_order_validity"],
    ),
    (
        "nothing",
        "ssl_basic",
        {},
        [
            "required_param:certificate",
            "required_param:organization",
            "required_param:validity_years",
        ],
    ),
    (
        "code signing on an HSM without a CSR",
        "code_signing",
        {**CODE_SIGNING_DOC, "cs_provisioning_method": "email"},
        ["required_param:certificate.csr"],
    ),
    (
        "client certificate without emails",
        "client_premium",
        {**CLIENT_PREMIUM, "certificate": {"common_name": "A", "signature_hash": "sha256"}},
        ["required_param:certificate.emails"],
    ),
]


@pytest.mark.parametrize(
    ("product", "body", "expected"),
    [case[1:] for case in REFUSED_BY_THE_FAKE],
    ids=[case[0] for case in REFUSED_BY_THE_FAKE],
)
async def test_the_fake_refuses_what_digicert_refuses(
    fake: FakeCertCentral,
    session: aiohttp.ClientSession,
    product: str,
    body: Any,
    expected: list[str],
) -> None:
    before = list(fake.order_ids)
    status, answer = await post(session, fake, product, body)
    assert (status, codes(answer)) == (400, expected)
    assert fake.order_ids == before


async def test_an_unknown_product_is_not_found(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    with pytest.raises(dc.NotFoundError) as caught:
        await client.orders.create("ssl_not_sold_here", ov_order())
    assert caught.value.code == "not_found|product"


async def test_document_signing_still_orders_through_its_route(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    from .conftest import load_seed

    order = dc.converter.structure(load_seed("document_signing_request"), dc.DocumentSigningOrder)
    by_name = await client.orders.create_document_signing(order, product="document_signing_org_2")
    generic = await client.orders.create("document_signing_org_1", order)
    for created, product in (
        (by_name, "document_signing_org_2"),
        (generic, "document_signing_org_1"),
    ):
        stored = fake.order(created.id)
        assert stored is not None and stored["product"]["name_id"] == product


async def test_an_order_placed_through_the_api_follows_the_lifecycle_clock() -> None:
    async with FakeCertCentral(orders=0, rate_limits=None, issue_after=30) as fake:
        async with dc.CertCentralClient(fake.api_key, base_url=fake.base_url) as client:
            created = await client.orders.create("ssl_basic", ov_order())
            assert (await client.orders.get(created.id)).status == "pending"
            fake.advance(29)
            assert (await client.orders.get(created.id)).status == "pending"
            fake.advance(2)
            issued = await client.orders.get(created.id)
    assert issued.status == "issued"
    assert issued.certificate is not None and issued.certificate.id is not None
    assert issued.certificate.serial_number
