"""Around an order: reissue, duplicate, their listings, revocations and approval requests.

Request shapes go against DigiCert's documented bodies (aioresponses, no server); that a
revocation or a decision is sent once, and that a reissue fills in what it leaves out from
the order, run against FakeCertCentral over loopback.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aioresponses import aioresponses

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault

from ._served import served
from .conftest import requires_aioresponses
from .test_request_shapes import KEY, ROOT, assert_common_headers, only_call, sent_json

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def make_csr(common_name: str = "example.com") -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode("ascii")


CSR = make_csr()
TWICE = ["a.example.com", "A.example.com"]


def documented_change(server_platform_id: int) -> dict[str, Any]:
    """The body DigiCert's Reissue (id 2) and Duplicate (id 45) pages show, with a real CSR
    where the pages write ``<csr>``."""
    return {
        "certificate": {
            "common_name": "example.com",
            "dns_names": ["sub.example.com"],
            "csr": CSR,
            "server_platform": {"id": server_platform_id},
            "signature_hash": "sha256",
        }
    }


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[dc.CertCentralClient]:
    async with dc.CertCentralClient(api_key=KEY, rate_limit=dc.RateLimit.disabled()) as c:
        yield c


# ---------------------------------------------------------------------- request shapes


@requires_aioresponses
@pytest.mark.parametrize(("method_name", "route", "platform"), [
    ("reissue", "reissue", 2),
    ("duplicate", "duplicate", 45),
])  # fmt: skip
async def test_reissue_and_duplicate_send_the_documented_body(
    mocked: aioresponses,
    client: dc.CertCentralClient,
    method_name: str,
    route: str,
    platform: int,
) -> None:
    body = documented_change(platform)
    mocked.post(
        f"{ROOT}/order/certificate/542757/{route}",
        status=201,
        payload={"id": 542757, "requests": [{"id": 1}]},
    )
    model = dc.ReissueRequest if method_name == "reissue" else dc.DuplicateRequest
    request = dc.converter.structure(body, model)
    created = await getattr(client.orders, method_name)(542757, request)
    method, url, kwargs = only_call(mocked)  # all given: the order is not read
    assert (method, str(url)) == ("POST", f"{ROOT}/order/certificate/542757/{route}")
    assert sent_json(kwargs) == body
    assert_common_headers(kwargs, with_body=True)
    assert created.id == 542757
    assert created.requests is not None and created.requests[0].id == 1


@requires_aioresponses
async def test_a_mapping_is_sent_as_given(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    body = {**documented_change(2), "comments": "new key", "skip_approval": True}
    mocked.post(f"{ROOT}/order/certificate/7/reissue", status=201, payload={"id": 7})
    await client.orders.reissue(7, body)
    _, _, kwargs = only_call(mocked)
    assert sent_json(kwargs) == body


@requires_aioresponses
async def test_a_csr_alone_takes_the_rest_from_the_order(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.get(
        f"{ROOT}/order/certificate/7",
        payload={
            "id": 7,
            "status": "issued",
            "certificate": {
                "id": 11,
                "common_name": "www.example.com",
                # DigiCert repeats the common name at times; it is sent once
                "dns_names": ["www.example.com", "api.example.com", "WWW.example.com"],
                "signature_hash": "SHA256",
                "server_platform": {"id": 45, "name": "nginx"},
            },
        },
    )
    mocked.post(f"{ROOT}/order/certificate/7/reissue", status=201, payload={"id": 7})
    await client.orders.reissue(7, CSR)
    calls = [(key, call) for key, calls in mocked.requests.items() for call in calls]
    assert [key[0] for key, _ in calls] == ["GET", "POST"]
    assert sent_json(calls[1][1].kwargs) == {
        "certificate": {
            "csr": CSR,
            "common_name": "www.example.com",
            "dns_names": ["www.example.com", "api.example.com"],
            "signature_hash": "sha256",
            "server_platform": {"id": 45},
        }
    }


@requires_aioresponses
@pytest.mark.parametrize(
    "product",
    [
        {"name_id": "code_signing", "type": "code_signing_certificate"},
        {"name_id": "document_signing_org_1", "type": "document_signing_certificate"},
    ],
)
async def test_a_reissue_of_a_certificate_without_host_names_sends_no_common_name(
    mocked: aioresponses, client: dc.CertCentralClient, product: dict[str, str]
) -> None:
    mocked.get(
        f"{ROOT}/order/certificate/8",
        payload={
            "id": 8,
            "status": "issued",
            "product": product,
            "certificate": {"id": 3, "common_name": "Example Inc", "signature_hash": "sha384"},
        },
    )
    mocked.post(f"{ROOT}/order/certificate/8/reissue", status=201, payload={"id": 8})
    await client.orders.reissue(8, CSR)
    calls = [call for (method, _), calls in mocked.requests.items() for call in calls]
    assert sent_json(calls[-1].kwargs) == {"certificate": {"csr": CSR, "signature_hash": "sha384"}}


@requires_aioresponses
async def test_list_reissues_and_duplicates(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    item = {"id": 5, "status": "pending", "archived": 0, "purchased_dns_names": "2"}
    mocked.get(f"{ROOT}/order/certificate/9/reissue", payload={"certificates": [item]})
    mocked.get(
        f"{ROOT}/order/certificate/9/duplicate",
        payload={"certificates": [{**item, "archived": "0"}]},
    )
    [reissue] = await client.orders.list_reissues(9)
    [duplicate] = await client.orders.list_duplicates(9)
    assert reissue.archived is False and duplicate.archived is False
    assert reissue.purchased_dns_names == "2"
    methods = sorted((m, str(u)) for (m, u) in mocked.requests)
    assert methods == [
        ("GET", f"{ROOT}/order/certificate/9/duplicate"),
        ("GET", f"{ROOT}/order/certificate/9/reissue"),
    ]


@requires_aioresponses
async def test_an_empty_listing_is_an_empty_list(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.get(f"{ROOT}/order/certificate/9/reissue", payload={})
    assert await client.orders.list_reissues(9) == []


REVOKE_ANSWER = {
    "id": 1,
    "date": "2016-02-10T17:06:15+00:00",
    "type": "revoke",
    "status": "pending",
    "requester": {"id": 242140, "first_name": "Jack", "last_name": "White", "email": "j@x.com"},
    "comments": "Revoked via API!",
}


@requires_aioresponses
async def test_revoke_order_sends_comments_and_reads_the_request(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.put(f"{ROOT}/order/certificate/42/revoke", status=201, payload=REVOKE_ANSWER)
    approval = await client.orders.revoke(42, comments="I no longer need this certificate.")
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("PUT", f"{ROOT}/order/certificate/42/revoke")
    # the examples' spelling, not the table's "comment"
    assert sent_json(kwargs) == {"comments": "I no longer need this certificate."}
    assert_common_headers(kwargs, with_body=True)
    assert approval is not None
    assert (approval.id, approval.type, approval.status) == (1, "revoke", "pending")
    assert approval.requester is not None and approval.requester.first_name == "Jack"


@requires_aioresponses
async def test_revoke_with_skip_approval_is_none_on_204(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.put(f"{ROOT}/order/certificate/42/revoke", status=204)
    result = await client.orders.revoke(
        42, comments="I no longer need this cert.", revocation_reason="superseded",
        skip_approval=True,
    )  # fmt: skip
    assert result is None
    _, _, kwargs = only_call(mocked)
    assert sent_json(kwargs) == {
        "comments": "I no longer need this cert.",
        "revocation_reason": "superseded",
        "skip_approval": True,
    }


@requires_aioresponses
@pytest.mark.parametrize(("given", "segment"), [
    (112358, "112358"),
    ("0AE71279E5213729026AFE4BB58DE1AB", "0AE71279E5213729026AFE4BB58DE1AB"),
    ("0a:e7:12:79", "0ae71279"),  # as openssl prints it
])  # fmt: skip
async def test_revoke_certificate_by_id_or_serial(
    mocked: aioresponses, client: dc.CertCentralClient, given: int | str, segment: str
) -> None:
    mocked.put(f"{ROOT}/certificate/{segment}/revoke", status=201, payload=REVOKE_ANSWER)
    approval = await client.certificates.revoke(given, comments="I no longer need this cert.")
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("PUT", f"{ROOT}/certificate/{segment}/revoke")
    assert sent_json(kwargs) == {"comments": "I no longer need this cert."}
    assert approval is not None and approval.id == 1


@requires_aioresponses
async def test_revoke_certificate_sends_the_reason_and_skip_approval(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.put(f"{ROOT}/certificate/112358/revoke", status=204)
    result = await client.certificates.revoke(
        112358, comments="key lost", revocation_reason="keyCompromise", skip_approval=True
    )
    assert result is None  # revoked at once
    _, _, kwargs = only_call(mocked)
    assert sent_json(kwargs) == {
        "comments": "key lost",
        "revocation_reason": "keyCompromise",
        "skip_approval": True,
    }


@requires_aioresponses
async def test_requests_list_pages_with_the_status_filter(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    item = {"id": 198, "type": "new_request", "status": "pending", "order": {"id": 12345678}}
    mocked.get(
        f"{ROOT}/request?filters%5Bstatus%5D=pending&limit=2&offset=0",
        payload={"requests": [item, {**item, "id": 199}], "page": {"total": 3}},
    )
    mocked.get(
        f"{ROOT}/request?filters%5Bstatus%5D=pending&limit=2&offset=2",
        payload={"requests": [{**item, "id": 200}], "page": {"total": 3}},
    )
    ids = [r.id async for r in client.requests.list(status="pending", page_size=2)]
    assert ids == [198, 199, 200]
    assert len(mocked.requests) == 2


@requires_aioresponses
async def test_requests_get_approve_reject(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.get(f"{ROOT}/request/5", payload={"id": 5, "status": "pending", "type": "revoke"})
    mocked.put(f"{ROOT}/request/5/status", status=204, repeat=True)
    request = await client.requests.get(5)
    assert (request.id, request.type) == (5, "revoke")
    assert await client.requests.approve(5, comment="Your request is approved.") is None
    await client.requests.reject(5, comment="no")
    await client.requests.approve(5)
    puts = [
        call.kwargs for (m, _), calls in mocked.requests.items() if m == "PUT" for call in calls
    ]
    assert [json.loads(kw["data"]) for kw in puts] == [
        # DigiCert's documented Update request status body
        {"status": "approved", "processor_comment": "Your request is approved."},
        {"status": "rejected", "processor_comment": "no"},
        {"status": "approved"},
    ]


# ---------------------------------------------------------------------- validation


@requires_aioresponses
@pytest.mark.parametrize(("call", "field"), [
    (lambda c: c.orders.reissue(7, "<csr>"), "certificate.csr"),
    (lambda c: c.orders.reissue(7, {"certificate": {"csr": "<csr>"}}), "certificate.csr"),
    (lambda c: c.orders.reissue(0, CSR), "order_id"),
    (lambda c: c.orders.reissue(7, 42), "request"),
    (lambda c: c.orders.duplicate(7, {"certificate": {"csr": CSR, "signature_hash": "sha1"}}),
     "certificate.signature_hash"),
    (lambda c: c.orders.duplicate(7, {"certificate": {"csr": CSR, "dns_names": TWICE}}),
     "certificate.dns_names[1]"),
    (lambda c: c.orders.revoke(7, revocation_reason="because"), "revocation_reason"),
    (lambda c: c.orders.revoke(7, comments=5), "comments"),
    (lambda c: c.orders.revoke(7, skip_approval="yes"), "skip_approval"),
    (lambda c: c.certificates.revoke("not-hex!"), "certificate_id_or_serial"),
    (lambda c: c.certificates.revoke(-1), "certificate_id_or_serial"),
    (lambda c: c.certificates.revoke(1.5), "certificate_id_or_serial"),
    (lambda c: c.requests.get(0), "request_id"),
    (lambda c: c.requests.approve(5, comment=3), "processor_comment"),
    (lambda c: c.orders.list_reissues(-3), "order_id"),
])  # fmt: skip
async def test_bad_input_is_refused_before_sending(
    mocked: aioresponses, client: dc.CertCentralClient, call: Any, field: str
) -> None:
    with pytest.raises(dc.ValidationError) as caught:
        await call(client)
    assert caught.value.field == field
    assert not mocked.requests


def test_requests_list_refuses_an_unknown_status() -> None:
    client = dc.CertCentralClient(api_key=KEY)
    with pytest.raises(dc.ValidationError) as caught:
        client.requests.list(status="needs_approval")
    assert caught.value.field == "status"


# ---------------------------------------------------------------------- sent once, against the fake


@pytest.fixture
async def fake() -> AsyncIterator[FakeCertCentral]:
    async with FakeCertCentral(rate_limits=None) as server:
        yield server


@pytest.fixture
async def fake_client(fake: FakeCertCentral) -> AsyncIterator[dc.CertCentralClient]:
    async with dc.CertCentralClient(
        fake.api_key,
        base_url=fake.base_url,
        retry=dc.RetryPolicy(backoff_initial=0.0),
        rate_limit=dc.RateLimit.disabled(),
    ) as c:
        yield c


@pytest.mark.parametrize("fault", [Fault.RESET_AFTER, Fault.BAD_GATEWAY])
@pytest.mark.parametrize("what", ["revoke_order", "revoke_certificate", "approve", "reissue"])
async def test_an_ambiguous_failure_is_never_sent_again(
    fake: FakeCertCentral, fake_client: dc.CertCentralClient, fault: Fault, what: str
) -> None:
    order_id = fake.add_order("issued", common_name="www.example.com")
    certificate_id = fake.certificate_ids(order_id)[0]
    if what == "approve":
        approval = await fake_client.orders.revoke(order_id, comments="x")
        assert approval is not None
        action = fake_client.requests.approve(approval.id)
        method, path = "PUT", f"/request/{approval.id}/status"
    elif what == "revoke_order":
        action = fake_client.orders.revoke(order_id, comments="x")
        method, path = "PUT", f"/order/certificate/{order_id}/revoke"
    elif what == "revoke_certificate":
        action = fake_client.certificates.revoke(certificate_id, comments="x")
        method, path = "PUT", f"/certificate/{certificate_id}/revoke"
    else:
        action = fake_client.orders.reissue(
            order_id, {"certificate": {"csr": CSR, "common_name": "www.example.com",
                                       "signature_hash": "sha256", "dns_names": []}},
        )  # fmt: skip
        method, path = "POST", f"/order/certificate/{order_id}/reissue"
    fake.inject(fault, method=method, path_contains=path)
    with pytest.raises((dc.TransportError, dc.ServerError)):
        await action
    sent = [r for r in fake.requests if r.method == method and r.path.endswith(path)]
    assert len(sent) == 1


async def test_a_plain_put_is_still_replayed(
    fake: FakeCertCentral, fake_client: dc.CertCentralClient
) -> None:
    """The contrast: cancel (a PUT that sets a status) is retried after a 502."""
    order_id = fake.add_order("pending")
    fake.inject(Fault.BAD_GATEWAY, method="PUT")
    await fake_client.orders.cancel(order_id, note="x")
    assert len([r for r in fake.requests if r.method == "PUT"]) == 2


async def test_a_reissue_refused_by_the_fake_names_the_missing_field(
    fake: FakeCertCentral, fake_client: dc.CertCentralClient
) -> None:
    order_id = fake.add_order("issued")
    with pytest.raises(dc.BadRequestError) as caught:
        await fake_client.call(
            "POST", "/order/certificate/{order_id}/reissue", None,
            path_args={"order_id": order_id}, json={"certificate": {"csr": CSR}},
        )  # fmt: skip
    codes = {error.code for error in caught.value.errors}
    assert codes == {
        "required_param:certificate.common_name",
        "required_param:certificate.signature_hash",
    }


# ---------------------------------------------------------------------- reading answers


@pytest.mark.parametrize(("item", "field", "archived"), [
    ({"id": 1, "archived": 0}, None, False),  # the reissue listing's int
    ({"id": 1, "archived": "0"}, None, False),  # the duplicate listing's string
    ({"id": 1, "archived": 1}, None, True),
    ({"id": 1, "archived": "yes"}, "certificates[0].archived", None),
    # counts come as strings ("2"): kept as sent; a number there is not coerced
    ({"id": 1, "purchased_dns_names": 2}, "certificates[0].purchased_dns_names", None),
    ({"id": "1"}, "certificates[0].id", None),
])  # fmt: skip
async def test_listing_types_are_read_as_decided(
    item: dict[str, Any], field: str | None, archived: bool | None
) -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/4/duplicate", 200, {"certificates": [item]})
        if field is None:
            [listed] = await client.orders.list_duplicates(4)
            assert listed.archived is archived
        else:
            with pytest.raises(dc.ResponseError) as caught:
                await client.orders.list_duplicates(4)
            assert caught.value.field == field


async def test_a_revocation_answer_without_an_id_is_a_response_error() -> None:
    async with served() as (server, client):
        server.answer("PUT", "/order/certificate/4/revoke", 201, {"type": "revoke"})
        with pytest.raises(dc.ResponseError) as caught:
            await client.orders.revoke(4, comments="x")
        assert caught.value.field == "id"
