"""An order issued at once brings its certificate in the creation answer
(``certificate_chain``), and ``OrderCreated.certificate_pem()`` splits it as
``client.certificates.get_pem`` would, with no second request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

from ._served import served
from .test_ordering import ov_order

pytest.importorskip("cryptography")  # the fake makes real chains with it (the testing extra)


@pytest.fixture
async def issuing() -> AsyncIterator[tuple[FakeCertCentral, dc.CertCentralClient]]:
    async with FakeCertCentral(rate_limits=None, issue_after=0) as fake:
        async with dc.CertCentralClient(
            fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
        ) as client:
            yield fake, client


async def test_an_order_issued_at_once_brings_its_chain(
    issuing: tuple[FakeCertCentral, dc.CertCentralClient],
) -> None:
    _fake, client = issuing
    created = await client.orders.create("ssl_basic", ov_order(skip_approval=True))
    assert created.certificate_id is not None and created.certificate_chain is not None
    names = [item.subject_common_name for item in created.certificate_chain]
    assert names[0] == "example.com" and len(names) == 3
    pem = created.certificate_pem()
    assert pem is not None
    assert pem == await client.certificates.get_pem(created.certificate_id)
    assert pem.certificate == created.certificate_chain[0].pem.replace("\r\n", "\n")
    assert (await client.orders.get(created.id)).status == "issued"


async def test_an_order_that_waits_for_approval_has_no_chain(
    issuing: tuple[FakeCertCentral, dc.CertCentralClient],
) -> None:
    _fake, client = issuing
    created = await client.orders.create("ssl_basic", ov_order())
    assert created.requests and created.requests[0].status == "pending"
    assert created.certificate_chain is None and created.certificate_pem() is None


async def test_a_chain_that_is_not_one_is_a_response_error() -> None:
    leaf = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    body = {"id": 5, "certificate_chain": [{"subject_common_name": "x", "pem": leaf}]}
    async with served() as (server, client):
        server.answer("POST", "/order/certificate/ssl_basic", 201, body)
        created = await client.orders.create("ssl_basic", ov_order())
    assert created.id == 5  # the order was placed: its answer reads, whatever its chain
    with pytest.raises(dc.ResponseError) as info:
        created.certificate_pem()
    assert info.value.field == "certificate_chain"
    assert "order 5" in str(info.value)


async def test_the_fake_describes_a_tls_product_fully(
    issuing: tuple[FakeCertCentral, dc.CertCentralClient],
) -> None:
    _fake, client = issuing
    product = await client.products.get("ssl_basic")
    assert product.allow_auto_renew is True and product.custom_expiration_date_allowed is True
    assert product.server_platforms and product.server_platforms[0] == dc.ServerPlatform(
        id=-1, name="OTHER"
    )
    assert product.license_agreement
    assert dc.unknown_fields(product) == {}


def test_the_creation_answer_keeps_its_domains_and_token() -> None:
    body = {
        "id": 1,
        "requests": [{"id": 2, "status": "pending"}],
        "domains": [{"id": 3, "name": "example.com"}],
        "dcv_random_value": "x7q2",
    }
    created = dc.converter.structure(body, dc.OrderCreated)
    assert created.domains == [dc.OrderDomain(id=3, name="example.com")]
    assert created.dcv_random_value == "x7q2" and dc.unknown_fields(created) == {}
    assert dc.converter.unstructure(created) == body
