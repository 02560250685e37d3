"""``dc.dcv_instructions``: exactly what to publish, for each token method, from a pending
order or a domain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from aioresponses import aioresponses

import digicert_async as dc
from digicert_async._dcv import order_names, records_for

from .conftest import requires_aioresponses
from .test_real_bodies import real_file
from .test_request_shapes import ROOT, sent_json

KEY = "test-key-0123456789abcdef"


def test_dns_txt_records_are_the_token_on_each_name() -> None:
    records = records_for("dns-txt-token", "tok123", ["Example.com.", "www.example.com"])
    assert records == (
        dc.DcvRecord(domain="example.com", type="TXT", name="example.com", value="tok123"),
        dc.DcvRecord(domain="www.example.com", type="TXT", name="www.example.com", value="tok123"),
    )
    assert all(r.url is None and r.path is None for r in records)


def test_a_wildcard_is_proven_on_its_base_name_once() -> None:
    records = records_for("dns-txt-token", "t", ["*.example.com", "example.com", "EXAMPLE.com"])
    assert [(r.domain, r.name) for r in records] == [("example.com", "example.com")]


def test_dns_cname_records_point_the_token_name_at_digicert() -> None:
    (record,) = records_for("dns-cname-token", "abc", ["example.com"])
    assert (record.type, record.name, record.value) == (
        "CNAME", "abc.example.com", "dcv.digicert.com"
    )  # fmt: skip
    (other,) = records_for("dns-cname-token", "abc", ["example.com"], cname_target="x.example")
    assert other.value == "x.example"


def test_http_token_is_a_file_at_the_well_known_path() -> None:
    (record,) = records_for("http-token", "abc", ["www.example.com"])
    assert (record.type, record.name, record.value) == ("HTTP", "www.example.com", "abc")
    assert record.path == "/.well-known/pki-validation/fileauth.txt"
    assert record.url == "http://www.example.com/.well-known/pki-validation/fileauth.txt"
    with pytest.raises(dc.ValidationError, match="wildcard"):
        records_for("http-token", "abc", ["*.example.com"])


@pytest.mark.parametrize(
    ("method", "token", "field"),
    [
        ("email", "t", "method"),
        ("dns", "t", "method"),
        (None, "t", "method"),
        ("dns-txt-token", "", "token"),
        ("dns-txt-token", "a b", "token"),
        ("dns-txt-token", 5, "token"),
    ],
)
def test_records_for_refuses_what_publishes_nothing(method: Any, token: Any, field: str) -> None:
    with pytest.raises(dc.ValidationError, match=field):
        records_for(method, token, ["example.com"])


def test_order_names_are_the_common_name_then_the_others() -> None:
    order = dc.converter.structure(
        {
            "id": 1,
            "certificate": {"common_name": "a.example", "dns_names": ["a.example", "b.example"]},
        },
        dc.Order,
    )
    assert order_names(order) == ["a.example", "a.example", "b.example"]
    assert order_names(dc.Order(id=2)) == []


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[dc.CertCentralClient]:
    async with dc.CertCentralClient(api_key=KEY, rate_limit=dc.RateLimit.disabled()) as c:
        yield c


@requires_aioresponses
async def test_instructions_for_a_pending_order(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    names = ["example.com", "*.example.com", "shop.example.com"]
    order = {
        "id": 42,
        "status": "pending",
        "certificate": {"common_name": "example.com", "dns_names": names},
    }
    mocked.get(f"{ROOT}/order/certificate/42", payload=order)
    mocked.put(
        f"{ROOT}/order/certificate/42/dcv-method",
        payload=real_file("acct_dcv_method_doc_response_dns_txt.json"),
    )
    instructions = await dc.dcv_instructions(client, order_id=42)
    assert instructions.order_id == 42 and instructions.domain_id is None
    assert (instructions.method, instructions.token) == ("dns-txt-token", "<random_value>")
    assert instructions.expires == datetime(2023, 2, 24, 16, 25, 52, tzinfo=timezone.utc)
    assert [(r.type, r.name, r.value) for r in instructions.records] == [
        ("TXT", "example.com", "<random_value>"),
        ("TXT", "shop.example.com", "<random_value>"),
    ]
    calls = [(key[0], call) for key, calls in mocked.requests.items() for call in calls]
    assert [method for method, _ in calls] == ["GET", "PUT"]
    assert sent_json(calls[1][1].kwargs) == {"dcv_method": "dns-txt-token"}


@requires_aioresponses
async def test_instructions_for_an_order_ask_the_value_when_the_change_gives_none(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.get(
        f"{ROOT}/order/certificate/43",
        payload={"id": 43, "certificate": {"common_name": "x.example"}},
    )
    mocked.put(f"{ROOT}/order/certificate/43/dcv-method", status=204)
    mocked.put(
        f"{ROOT}/order/certificate/43/dcv-random-value",
        payload=real_file("acct_dcv_random_value_doc_response.json"),
    )
    instructions = await dc.dcv_instructions(client, order_id=43, method="http-token")
    (record,) = instructions.records
    assert (record.url, record.value) == (
        "http://x.example/.well-known/pki-validation/fileauth.txt", "fjqr7th5ds"
    )  # fmt: skip


@requires_aioresponses
async def test_instructions_for_a_domain_already_on_the_method_use_its_token(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    token = {"token": "tok", "expiration_date": "2030-01-01T00:00:00+00:00"}
    domain = {
        "id": 7,
        "name": "example.org",
        "dcv": {"method": "http-token", "name_scope": "www.example.org", "dcv_token": token},
    }
    mocked.get(f"{ROOT}/domain/7?include_dcv=true", payload=domain)
    instructions = await dc.dcv_instructions(client, domain_id=7, method="http-token")
    (record,) = instructions.records
    assert record.url == "http://www.example.org/.well-known/pki-validation/fileauth.txt"
    assert record.value == "tok" and instructions.domain_id == 7
    assert len(mocked.requests) == 1  # the token was there: nothing changed


@requires_aioresponses
async def test_instructions_for_a_domain_on_email_change_its_method(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.get(
        f"{ROOT}/domain/1?include_dcv=true", payload=real_file("acct_domain_info_ribose.json")
    )
    token = {"token": "rnd", "status": "pending", "verification_value": "dcv.digicert.com"}
    mocked.put(f"{ROOT}/domain/1/dcv/method", payload={"dcv_token": token})
    instructions = await dc.dcv_instructions(client, domain_id=1, method="dns-cname-token")
    (record,) = instructions.records
    assert (record.type, record.name, record.value) == (
        "CNAME", "rnd.digicert.com", "dcv.digicert.com"
    )  # fmt: skip
    calls = [(key[0], call) for key, calls in mocked.requests.items() for call in calls]
    assert sent_json(calls[1][1].kwargs) == {"dcv_method": "dns-cname-token"}


@requires_aioresponses
async def test_a_domain_answer_without_a_token_is_a_response_error(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.get(f"{ROOT}/domain/3?include_dcv=true", payload={"id": 3, "name": "example.net"})
    mocked.put(f"{ROOT}/domain/3/dcv/method", payload={})
    with pytest.raises(dc.ResponseError, match="dcv_token"):
        await dc.dcv_instructions(client, domain_id=3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "order_id"),
        ({"order_id": 1, "domain_id": 2}, "order_id"),
        ({"order_id": 0}, "order_id"),
        ({"domain_id": -1}, "domain_id"),
        ({"order_id": 1, "method": "dns-cname-token"}, "method"),
        ({"domain_id": 1, "method": "email"}, "method"),
    ],
)
@requires_aioresponses
async def test_dcv_instructions_checks_before_sending(
    mocked: aioresponses, client: dc.CertCentralClient, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(dc.ValidationError, match=field):
        await dc.dcv_instructions(client, **kwargs)
    assert not mocked.requests
