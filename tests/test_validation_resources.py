"""Organizations, domains and order DCV: the exact requests (aioresponses, against
DigiCert's documented bodies) and the real ``acct_*`` answers read through the public
calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timezone
from typing import Any

import pytest
from aioresponses import aioresponses
from yarl import URL

import digicert_async as dc

from .conftest import requires_aioresponses
from .test_real_bodies import real_file
from .test_request_shapes import ROOT, assert_common_headers, only_call, sent_json

pytestmark = requires_aioresponses

KEY = "test-key-0123456789abcdef"

# DigiCert's "Create organization" example request, as the page shows it.
CREATE_ORGANIZATION_DOC = {
    "name": "Epigyne Unwieldiness llc",
    "assumed_name": "Epigyne Unwieldiness",
    "country": "us",
    "address": "932 Prospect Street",
    "address2": "Floor 08",
    "city": "Minneapolis",
    "state": "mn",
    "zip": "40849",
    "telephone": "666-186-6450",
    "organization_contact": {
        "first_name": "Gia",
        "last_name": "Booth",
        "job_title": "Clinical Laboratory Technician",
        "email": "gia.booth@inbox.com",
        "telephone": "666-186-6450",
        "telephone_extension": "736",
    },
}
# DigiCert's "Add domain" example request.
ADD_DOMAIN_DOC = {
    "name": "example.com",
    "organization": {"id": 112233},
    "validations": [{"type": "ov"}, {"type": "ev"}],
    "dcv_method": "email",
}


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[dc.CertCentralClient]:
    async with dc.CertCentralClient(api_key=KEY, rate_limit=dc.RateLimit.disabled()) as c:
        yield c


def no_call(mocked: aioresponses) -> None:
    assert not mocked.requests


# --------------------------------------------------------------------------- organizations


@pytest.mark.parametrize(
    "name", ["acct_organizations_list_doc.json", "acct_organizations_list_ribose.json"]
)
async def test_organizations_list_reads_the_real_listings(
    mocked: aioresponses, client: dc.CertCentralClient, name: str
) -> None:
    body = real_file(name)
    mocked.get(f"{ROOT}/organization?offset=0&limit=1000", payload=body)
    organizations = [org async for org in client.organizations.list()]
    assert [o.id for o in organizations] == [item["id"] for item in body["organizations"]]
    first = organizations[0]
    assert first.is_active is True and first.container is not None
    if name.endswith("ribose.json"):
        ov, ev, cs = first.validations or []
        assert (ov.type, ov.status) == ("ov", "active")
        assert ov.validated_until == datetime(2016, 8, 9, 17, 4, 45, tzinfo=timezone.utc)
        assert ev.validated_until is None and ev.verified_users
        assert cs.status == "expired"
        assert first.ev_approvers and first.ev_approvers[0].last_name == "Jackson"
    else:
        assert first.container.parent_id == 0


async def test_organizations_list_sends_filters_and_sort(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    url = f"{ROOT}/organization?filters%5Bsearch%5D=Digi&sort=name&offset=0&limit=50"
    mocked.get(url, payload={"organizations": []})
    assert [
        o
        async for o in client.organizations.list(
            filters={"search": "Digi"}, sort="name", page_size=50
        )
    ] == []
    method, sent, kwargs = only_call(mocked)
    assert method == "GET" and sorted(sent.query.items()) == sorted(URL(url).query.items())
    assert_common_headers(kwargs, with_body=False)


async def test_organizations_get_reads_the_real_details(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.get(
        f"{ROOT}/organization/117483", payload=real_file("acct_organization_info_ribose.json")
    )
    org = await client.organizations.get(117483)
    assert (org.name, org.country, org.zip) == ("DigiCert, Inc.", "US", "84042")
    contact = org.organization_contact
    assert contact is not None and (contact.id, contact.telephone_extension) == (376032, "5")
    assert dc.unknown_fields(org) == {}


async def test_organizations_get_refuses_another_organization(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.get(f"{ROOT}/organization/5", payload=real_file("acct_organization_info_ribose.json"))
    with pytest.raises(dc.ResponseError, match="117483"):
        await client.organizations.get(5)


async def test_organizations_create_sends_the_documented_body(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.post(f"{ROOT}/organization", status=201, payload={"id": 112233})
    created = await client.organizations.create(CREATE_ORGANIZATION_DOC)
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("POST", f"{ROOT}/organization")
    assert sent_json(kwargs) == CREATE_ORGANIZATION_DOC
    assert_common_headers(kwargs, with_body=True)
    assert created == dc.OrganizationCreated(id=112233)


async def test_organizations_create_takes_the_typed_request(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.post(f"{ROOT}/organization", status=201, payload={"id": 7})
    typed = dc.converter.structure(CREATE_ORGANIZATION_DOC, dc.NewOrganization)
    assert isinstance(typed.organization_contact, dc.NewOrganizationContact)
    await client.organizations.create(typed)
    assert sent_json(only_call(mocked)[2]) == CREATE_ORGANIZATION_DOC


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "usa"}, "organization.country"),
        ({"country": 1}, "country"),
        ({"telephone": " "}, "organization.telephone"),
        ({"name": None}, "name"),
        ({"organization_contact": {"first_name": "Gia", "last_name": "Booth"}}, "email"),
        (
            {
                "organization_contact": {
                    **CREATE_ORGANIZATION_DOC["organization_contact"],
                    "email": "gia",
                }
            },  # type: ignore[dict-item]
            "organization.organization_contact.email",
        ),
        ({"nmae": "typo"}, "nmae"),
    ],
)
async def test_organizations_create_checks_before_sending(
    mocked: aioresponses, client: dc.CertCentralClient, change: dict[str, Any], field: str
) -> None:
    body = {**CREATE_ORGANIZATION_DOC, **change}
    with pytest.raises(dc.ValidationError, match=field.replace(".", r"\.")):
        await client.organizations.create(body)
    no_call(mocked)


async def test_organizations_create_refuses_what_is_not_an_organization(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    with pytest.raises(dc.ValidationError, match="organization"):
        await client.organizations.create("Example Inc.")  # type: ignore[arg-type]
    no_call(mocked)


async def test_submit_for_validation_and_the_validations(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.post(f"{ROOT}/organization/12/validation", status=204)
    await client.organizations.submit_for_validation(12, ["ov", "ev", "ov"])
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("POST", f"{ROOT}/organization/12/validation")
    assert sent_json(kwargs) == {"validations": [{"type": "ov"}, {"type": "ev"}]}
    listed = real_file("acct_organizations_list_ribose.json")["organizations"][0]["validations"]
    mocked.get(f"{ROOT}/organization/12/validation", payload={"validations": listed})
    validations = await client.organizations.validations(12)
    assert [(v.type, v.status) for v in validations] == [
        ("ov", "active"), ("ev", "pending"), ("cs", "expired")
    ]  # fmt: skip


@pytest.mark.parametrize("types", [[], "", 5, ["ov", 3], {"ov": 1}])
async def test_submit_for_validation_checks_the_types(
    mocked: aioresponses, client: dc.CertCentralClient, types: Any
) -> None:
    with pytest.raises(dc.ValidationError, match="validations"):
        await client.organizations.submit_for_validation(12, types)
    no_call(mocked)


# --------------------------------------------------------------------------- domains


async def test_domains_list_reads_the_documented_listing(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.get(
        f"{ROOT}/domain?offset=0&limit=1000", payload=real_file("acct_domains_list_doc.json")
    )
    (domain,) = [d async for d in client.domains.list()]
    assert (domain.id, domain.name) == (2, "underlier-stanislavsky.org")
    assert domain.organization is not None and domain.organization.is_active is True  # "1"
    assert domain.date_created == datetime(2018, 11, 8, 23, 38, 2, tzinfo=timezone.utc)


async def test_domains_list_reads_the_ribose_listing_with_validations(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    url = f"{ROOT}/domain?filters%5Bstatus%5D=active&include_validation=true&offset=0&limit=1000"
    mocked.get(url, payload=real_file("acct_domains_list_ribose.json"))
    domains = [d async for d in client.domains.list(status="active", include_validation=True)]
    assert [d.name for d in domains] == ["digicert.com", "testing.com"]
    assert [v.type for v in domains[0].validations or []] == ["ov", "ev"]
    assert domains[1].validations is None
    assert sorted(only_call(mocked)[1].query.items()) == sorted(URL(url).query.items())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"status": "expired"}, "status"), ({"include_validation": 1}, "include_validation")],
)
async def test_domains_list_checks_its_arguments(
    mocked: aioresponses, client: dc.CertCentralClient, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(dc.ValidationError, match=field):
        client.domains.list(**kwargs)
    no_call(mocked)


async def test_domains_get_asks_for_dcv_and_validations(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    url = f"{ROOT}/domain/1?include_dcv=true&include_validation=true"
    mocked.get(url, payload=real_file("acct_domain_info_ribose.json"))
    domain = await client.domains.get(1, include_dcv=True, include_validation=True)
    assert sorted(only_call(mocked)[1].query.items()) == sorted(URL(url).query.items())
    assert domain.dcv is not None and domain.dcv.method == "email"
    invitations = domain.dcv.dcv_invitations or []
    assert [i.email for i in invitations][-1] == "janedoe@digicert.com"
    assert invitations[0].date_sent == datetime(2014, 8, 9, 17, 4, 59, tzinfo=timezone.utc)
    ev = (domain.validations or [])[0]
    assert (ev.dcv_status, ev.verified_users[0].id if ev.verified_users else None) == (
        "complete",
        1234,
    )
    assert domain.validation_expires() == date(2015, 8, 9)


async def test_domains_get_plain_sends_no_flags(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.get(f"{ROOT}/domain/1", payload={"id": 1, "name": "example.com"})
    assert (await client.domains.get(1)).name == "example.com"
    with pytest.raises(dc.ValidationError, match="include_dcv"):
        await client.domains.get(1, include_dcv="yes")  # type: ignore[arg-type]


def test_validation_expires_prefers_the_dcv_expiration_days() -> None:
    domain = dc.converter.structure(
        {
            "id": 1,
            "dcv_expiration": {"ov": "2027-01-10", "ev": "2026-12-01"},
            "validations": [{"type": "ov", "validated_until": "2025-01-01T00:00:00+00:00"}],
        },
        dc.Domain,
    )
    assert domain.dcv_expiration == dc.DcvExpiration(ov=date(2027, 1, 10), ev=date(2026, 12, 1))
    assert domain.validation_expires() == date(2026, 12, 1)
    assert dc.Domain(id=2).validation_expires() is None
    only_ov = dc.converter.structure({"id": 3, "dcv_expiration": {"ov": "2027-01-10"}}, dc.Domain)
    assert only_ov.validation_expires() == date(2027, 1, 10)


async def test_domains_create_sends_the_documented_body(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.post(
        f"{ROOT}/domain",
        status=201,
        payload={"id": 5, "dcv_token": {"token": "abc", "status": "pending",
                                         "expiration_date": "2026-12-31T00:00:00+00:00"}},
    )  # fmt: skip
    created = await client.domains.create(ADD_DOMAIN_DOC)
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("POST", f"{ROOT}/domain")
    assert sent_json(kwargs) == ADD_DOMAIN_DOC
    assert created.id == 5 and created.dcv_token is not None and created.dcv_token.token == "abc"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"validations": []}, "domain.validations"),
        ({"dcv_method": "fax"}, "domain.dcv_method"),
        ({"organization": {"id": 0}}, "domain.organization.id"),
        ({"name": ""}, "domain.name"),
    ],
)
async def test_domains_create_checks_before_sending(
    mocked: aioresponses, client: dc.CertCentralClient, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(dc.ValidationError, match=field.replace(".", r"\.")):
        await client.domains.create({**ADD_DOMAIN_DOC, **change})
    no_call(mocked)


@pytest.mark.parametrize("action", ["activate", "deactivate"])
async def test_domains_activate_and_deactivate(
    mocked: aioresponses, client: dc.CertCentralClient, action: str
) -> None:
    mocked.put(f"{ROOT}/domain/9/{action}", status=204)
    assert await getattr(client.domains, action)(9) is None
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("PUT", f"{ROOT}/domain/9/{action}")
    assert_common_headers(kwargs, with_body=False)


async def test_domain_change_dcv_method_returns_the_token(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    token = {"token": "rnd", "status": "pending", "expiration_date": "2018-11-18T20:35:32+00:00",
             "verification_value": "dcv.digicert.com"}  # fmt: skip
    mocked.put(f"{ROOT}/domain/9/dcv/method", payload={"dcv_token": token})
    answer = await client.domains.change_dcv_method(9, "dns-cname-token")
    assert sent_json(only_call(mocked)[2]) == {"dcv_method": "dns-cname-token"}
    assert answer is not None and answer.verification_value == "dcv.digicert.com"
    assert answer.expiration_date == datetime(2018, 11, 18, 20, 35, 32, tzinfo=timezone.utc)


@pytest.mark.parametrize("answer", [{}, None])
async def test_domain_change_dcv_method_to_email_answers_none(
    mocked: aioresponses, client: dc.CertCentralClient, answer: Any
) -> None:
    if answer is None:
        mocked.put(f"{ROOT}/domain/9/dcv/method", status=204)
    else:
        mocked.put(f"{ROOT}/domain/9/dcv/method", payload=answer)
    assert await client.domains.change_dcv_method(9, "email") is None


async def test_domain_change_dcv_method_checks_the_method(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    with pytest.raises(dc.ValidationError, match="dcv_method"):
        await client.domains.change_dcv_method(9, "DNS-TXT-TOKEN")
    no_call(mocked)


async def test_domain_check_dcv(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.put(f"{ROOT}/domain/9/dcv/validate-token", payload={"status": "pending"})
    check = await client.domains.check_dcv(9)
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("PUT", f"{ROOT}/domain/9/dcv/validate-token")
    assert_common_headers(kwargs, with_body=False)
    assert check.status == "pending"


# --------------------------------------------------------------------------- order DCV


@pytest.mark.parametrize(
    "name",
    ["acct_check_dcv_doc_response.json", "acct_check_dcv_doc_response_dns_name_validations.json"],
)
async def test_orders_check_dcv_reads_the_documented_answers(
    mocked: aioresponses, client: dc.CertCentralClient, name: str
) -> None:
    body = real_file(name)
    mocked.put(f"{ROOT}/order/certificate/42/check-dcv", payload=body)
    check = await client.orders.check_dcv(42)
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("PUT", f"{ROOT}/order/certificate/42/check-dcv")
    assert_common_headers(kwargs, with_body=False)  # the doc sends no body
    assert (check.order_status, check.dcv_status) == (body["order_status"], "valid")
    assert check.certificate_id == body["certificate_id"]
    assert check.pending_names() == []
    if "dns_name_validations" in body:
        assert [(v.dns_name, v.status) for v in check.dns_name_validations or []] == [
            ("example.com", "approved"), ("example.org", "approved")
        ]  # fmt: skip


def test_pending_names_are_those_not_approved() -> None:
    check = dc.converter.structure(
        {"dcv_status": "pending", "dns_name_validations": [
            {"dns_name": "a.example", "status": "approved"},
            {"dns_name": "b.example", "status": "pending"},
            {"status": "pending"},
        ]},
        dc.OrderDcvCheck,
    )  # fmt: skip
    assert check.pending_names() == ["b.example"]


async def test_orders_dcv_random_value(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.put(
        f"{ROOT}/order/certificate/42/dcv-random-value",
        payload=real_file("acct_dcv_random_value_doc_response.json"),
    )
    value = await client.orders.dcv_random_value(42)
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("PUT", f"{ROOT}/order/certificate/42/dcv-random-value")
    assert_common_headers(kwargs, with_body=False)
    assert value == dc.DcvRandomValue(dcv_random_value="fjqr7th5ds")


async def test_orders_dcv_random_value_without_a_value_is_a_response_error(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.put(f"{ROOT}/order/certificate/42/dcv-random-value", payload={})
    with pytest.raises(dc.ResponseError, match="dcv_random_value"):
        await client.orders.dcv_random_value(42)


async def test_orders_change_dcv_method_to_a_token_method(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.put(
        f"{ROOT}/order/certificate/42/dcv-method",
        payload=real_file("acct_dcv_method_doc_response_dns_txt.json"),
    )
    value = await client.orders.change_dcv_method(42, "dns-txt-token")
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("PUT", f"{ROOT}/order/certificate/42/dcv-method")
    assert sent_json(kwargs) == real_file("acct_dcv_method_doc_request_dns_txt.json")
    assert value is not None and value.dcv_random_value == "<random_value>"
    assert value.expiration_date == datetime(2023, 2, 24, 16, 25, 52, tzinfo=timezone.utc)


async def test_orders_change_dcv_method_to_email_answers_none(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.put(f"{ROOT}/order/certificate/42/dcv-method", status=204)
    assert await client.orders.change_dcv_method(42, "email") is None
    assert sent_json(only_call(mocked)[2]) == real_file("acct_dcv_method_doc_request_email.json")


@pytest.mark.parametrize("method", ["dns-cname-token", "http-token-dynamic", "", None, "EMAIL"])
async def test_orders_change_dcv_method_only_the_documented_methods(
    mocked: aioresponses, client: dc.CertCentralClient, method: Any
) -> None:
    with pytest.raises(dc.ValidationError, match="dcv_method"):
        await client.orders.change_dcv_method(42, method)
    no_call(mocked)
    assert {"email", "dns-txt-token", "http-token"} == dc.ORDER_DCV_METHODS


async def test_orders_resend_dcv_emails_is_sent_once(
    mocked: aioresponses,
) -> None:
    async with dc.CertCentralClient(
        api_key=KEY, rate_limit=dc.RateLimit.disabled(),
        retry=dc.RetryPolicy(max_attempts=3, backoff_initial=0.01),
    ) as client:  # fmt: skip
        mocked.put(f"{ROOT}/order/certificate/42/resend-emails", status=204)
        assert await client.orders.resend_dcv_emails(42) is None
        method, url, kwargs = only_call(mocked)
        assert (method, str(url)) == ("PUT", f"{ROOT}/order/certificate/42/resend-emails")
        assert_common_headers(kwargs, with_body=False)
        mocked.requests.clear()
        mocked.put(f"{ROOT}/order/certificate/43/resend-emails", status=503)
        mocked.put(f"{ROOT}/order/certificate/43/resend-emails", status=204)
        with pytest.raises(dc.ServerError):
            await client.orders.resend_dcv_emails(43)
        only_call(mocked)  # not sent a second time


@pytest.mark.parametrize("call", ["check_dcv", "dcv_random_value", "resend_dcv_emails"])
async def test_order_dcv_calls_check_the_order_id(
    mocked: aioresponses, client: dc.CertCentralClient, call: str
) -> None:
    with pytest.raises(dc.ValidationError, match="order_id"):
        await getattr(client.orders, call)(0)
    no_call(mocked)
