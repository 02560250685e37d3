"""``client.products``: the requests, DigiCert's documented answers, and the fake's routes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

from ._served import faithful, served
from .test_real_bodies import real_file


async def test_list_and_get_send_plain_gets() -> None:
    async with served() as (server, client):
        server.answer("GET", "/product", 200, {"products": [{"name_id": "ssl_basic"}]})
        server.answer("GET", "/product/ssl_ev_basic", 200, {"name_id": "ssl_ev_basic"})
        products = await client.products.list()
        product = await client.products.get("ssl_ev_basic")
    assert server.requests == [("GET", "/product"), ("GET", "/product/ssl_ev_basic")]
    assert server.bodies == []
    assert [p.name_id for p in products] == ["ssl_basic"]
    assert product == dc.ProductDetails(name_id="ssl_ev_basic")


@pytest.mark.parametrize("name_id", ["", " ", "ssl/basic", "../order", "ssl basic", 3, None])
async def test_a_name_id_that_cannot_be_one_is_refused_before_sending(name_id: Any) -> None:
    async with served() as (server, client):
        with pytest.raises(dc.ValidationError) as caught:
            await client.products.get(name_id)
    assert caught.value.field == "name_id"
    assert server.requests == []


# --------------------------------------------------------------------------- real bodies


async def test_the_documented_product_list() -> None:
    body = real_file("lc_products_list_doc.json")
    async with served() as (server, client):
        server.answer("GET", "/product", 200, body)
        products = await client.products.list()
    assert [p.name_id for p in products] == [p["name_id"] for p in body["products"]]
    for product, raw in zip(products, body["products"], strict=True):
        faithful(product, raw)
        assert product.validity_years() == raw["allowed_validity_years"]
        assert product.order_validity_years() == raw["allowed_order_validity_years"]
        assert product.hash_ids() == {"sha256"}
        assert product.csr_required is False


async def test_the_documented_product_info_with_years_as_strings() -> None:
    body = real_file("lc_product_info_ssl_basic_doc_prefix.json")
    async with served() as (server, client):
        server.answer("GET", "/product/ssl_basic", 200, body)
        product = await client.products.get("ssl_basic")
    faithful(product, body)
    # kept as sent, read as numbers
    assert product.allowed_validity_years == ["1"]
    assert product.validity_years() == [1]
    assert product.max_multi_year_order_validity_years == 6
    assert product.hash_ids() == {"sha384"}
    assert product.allowed_ca_certs is not None
    assert product.allowed_ca_certs[0].id == body["allowed_ca_certs"][0]["id"]


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("one", "allowed_validity_years[0]"),
        (1.5, "allowed_validity_years[0]"),
        (True, "allowed_validity_years[0]"),
        ("0", "allowed_validity_years[0]"),
        ("-1", "allowed_validity_years[0]"),
        (" 1", "allowed_validity_years[0]"),
    ],
)
async def test_a_year_that_is_not_a_number_of_years_is_a_response_error(
    value: Any, where: str
) -> None:
    body = real_file("lc_product_info_ssl_basic_doc_prefix.json")
    body["allowed_validity_years"] = [value]
    listing = real_file("lc_products_list_doc.json")
    bad_listing = copy.deepcopy(listing)
    bad_listing["products"][1]["allowed_validity_years"] = [1, value]
    async with served() as (server, client):
        server.answer("GET", "/product/ssl_basic", 200, body)
        server.answer("GET", "/product", 200, bad_listing)
        with pytest.raises(dc.ResponseError) as one:
            await client.products.get("ssl_basic")
        with pytest.raises(dc.ResponseError) as many:
            await client.products.list()
    assert one.value.field == where
    assert many.value.field == "products[1].allowed_validity_years[1]"


@pytest.mark.parametrize(
    "body",
    [
        {"products": [{"name": "no name_id"}]},
        {"products": "ssl_basic"},
        {"products": [{"name_id": "ssl_basic", "csr_required": "yes"}]},
        [],
    ],
)
async def test_a_listing_that_does_not_read_is_a_response_error(body: Any) -> None:
    async with served() as (server, client):
        server.answer("GET", "/product", 200, body)
        with pytest.raises(dc.ResponseError):
            await client.products.list()


async def test_a_listing_without_its_list_is_empty() -> None:
    async with served() as (server, client):
        server.answer("GET", "/product", 200, {})
        assert await client.products.list() == []


# --------------------------------------------------------------------------- the fake


async def test_the_fake_lists_every_product_it_sells(client: dc.CertCentralClient) -> None:
    products = await client.products.list()
    names = [p.name_id for p in products]
    assert len(names) == len(set(names))
    assert set(names) == dc.ORDER_PRODUCTS | set(dc.DOCUMENT_SIGNING_PRODUCTS)
    for product in products:
        assert product.hash_ids() and product.validity_years()
        assert isinstance(product.allowed_validity_years, list)
        assert all(type(years) is int for years in product.allowed_validity_years)


async def test_the_fake_details_write_years_as_strings_as_digicert_does(
    client: dc.CertCentralClient,
) -> None:
    product = await client.products.get("ssl_basic")
    assert product.name_id == "ssl_basic" and product.validation_type == "OV"
    assert product.allowed_validity_years == ["1"]
    assert product.order_validity_years() == [1, 2, 3]
    assert product.csr_required is True
    assert product.allowed_ca_certs
    signing = await client.products.get("code_signing_ev")
    assert signing.hash_ids() == {"sha256"} and signing.csr_required is False


async def test_the_fake_answers_not_found_for_a_product_it_does_not_sell(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    with pytest.raises(dc.NotFoundError) as caught:
        await client.products.get("ssl_not_sold_here")
    assert caught.value.code == "not_found|product"


async def test_the_fakes_details_drive_the_order_checks(client: dc.CertCentralClient) -> None:
    from .test_ordering import ov_order

    product = await client.products.get("ssl_basic")
    body = ov_order()
    body["certificate"]["signature_hash"] = "sha512"
    created = await client.orders.create("ssl_basic", body, product=product)
    assert created.id > 0
    with pytest.raises(dc.ValidationError) as caught:
        await client.orders.create("ssl_basic", ov_order(validity_years=4), product=product)
    assert caught.value.field == "validity_years"
