"""Real bodies around an order (``../shared/reference/real/lc_*``), through the public calls.

Answers are served over loopback and read by the runtime path; every model must be a faithful
part of its body. Documented request bodies must be what the typed request puts on the wire.
Without the folder these skip (fail with ``CI=true``), as ``test_real_bodies`` does.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

import digicert_async as dc

from ._served import faithful, served
from .test_real_bodies import REAL, real_file


def real_csr() -> str:
    real_file("lc_reissue_doc_request.json")  # skips (or fails on CI) without the folder
    return (REAL / "lc_csr_example_com.pem").read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "model"), [
    ("lc_reissue_doc_request.json", dc.ReissueRequest),
    ("lc_duplicate_doc_request.json", dc.DuplicateRequest),
])  # fmt: skip
def test_the_documented_placeholder_csr_is_refused(name: str, model: type[Any]) -> None:
    # The pages write "<csr>"; sent, it would cost a POST that cannot be retried.
    with pytest.raises(dc.ValidationError) as caught:
        dc.converter.structure(real_file(name), model)
    assert caught.value.field == "certificate.csr"


@pytest.mark.parametrize(("name", "route", "answer_name"), [
    ("lc_reissue_doc_request.json", "reissue", "lc_reissue_response_ribose.json"),
    ("lc_duplicate_doc_request.json", "duplicate", "lc_duplicate_response_autossl.json"),
])  # fmt: skip
async def test_reissue_and_duplicate_put_the_documented_body_on_the_wire(
    name: str, route: str, answer_name: str
) -> None:
    body = real_file(name)
    body["certificate"]["csr"] = real_csr()
    answer = real_file(answer_name)
    model = dc.ReissueRequest if route == "reissue" else dc.DuplicateRequest
    request = dc.converter.structure(body, model)
    async with served() as (server, client):
        server.answer("POST", f"/order/certificate/{answer['id']}/{route}", 201, answer)
        created = await getattr(client.orders, route)(answer["id"], request)
    assert server.requests == [("POST", f"/order/certificate/{answer['id']}/{route}")]
    assert server.bodies == [body]
    faithful(created, answer)
    assert created.id == answer["id"]
    assert created.requests is not None
    assert [r.id for r in created.requests] == [r["id"] for r in answer["requests"]]


@pytest.mark.parametrize(("name", "route"), [
    ("lc_list_reissues_doc.json", "reissue"),
    ("lc_list_duplicates_doc.json", "duplicate"),
    ("lc_list_duplicates_ribose.json", "duplicate"),
])  # fmt: skip
async def test_listings_read_every_certificate(name: str, route: str) -> None:
    body = real_file(name)
    async with served() as (server, client):
        server.answer("GET", f"/order/certificate/42/{route}", 200, body)
        method = (
            client.orders.list_reissues if route == "reissue" else client.orders.list_duplicates
        )
        listed = await method(42)
    assert [c.id for c in listed] == [c["id"] for c in body["certificates"]]
    for certificate, raw in zip(listed, body["certificates"], strict=True):
        # archived: 0 in one listing, "0" in the other; both read as the flag False (and
        # written back as "0", so it is compared here, the rest by faithful)
        if "archived" in raw:
            assert raw["archived"] in (0, "0") and certificate.archived is False
        rest = {key: value for key, value in raw.items() if key != "archived"}
        faithful(attrs.evolve(certificate, archived=None), rest)
        assert certificate.status == raw["status"]


@pytest.mark.parametrize(("call", "request_name", "answer_name"), [
    ("order", "lc_revoke_order_doc_request_comments.json", "lc_revoke_order_doc_response.json"),
    ("certificate", "lc_revoke_certificate_doc_request.json",
     "lc_revoke_certificate_doc_response.json"),
])  # fmt: skip
async def test_revoke_sends_the_documented_body_and_reads_the_request(
    call: str, request_name: str, answer_name: str
) -> None:
    sent, answer = real_file(request_name), real_file(answer_name)
    async with served() as (server, client):
        if call == "order":
            server.answer("PUT", "/order/certificate/42/revoke", 201, answer)
            approval = await client.orders.revoke(42, comments=sent["comments"])
        else:
            server.answer("PUT", "/certificate/112358/revoke", 201, answer)
            approval = await client.certificates.revoke(112358, comments=sent["comments"])
    assert server.bodies == [sent]
    assert approval is not None
    faithful(approval, answer)
    assert (approval.id, approval.type, approval.status) == (1, "revoke", "pending")
    assert approval.comments == answer["comments"]


async def test_revoke_with_skip_approval_sends_the_documented_body() -> None:
    sent = real_file("lc_revoke_order_doc_request_skip.json")
    async with served() as (server, client):
        server.answer("PUT", "/order/certificate/42/revoke", 204, None)
        result = await client.orders.revoke(42, comments=sent["comments"], skip_approval=True)
    assert result is None  # DigiCert's "// empty": revoked at once
    assert server.bodies == [sent]


@pytest.mark.parametrize("name", ["lc_requests_list_doc.json", "lc_requests_list_ribose.json"])
async def test_requests_list_reads_with_or_without_a_page_object(name: str) -> None:
    body = real_file(name)
    listed: list[dc.ApprovalRequest] = []
    async with served() as (server, client):
        server.answer("GET", "/request?offset=0&limit=1000", 200, body)
        # a page object that asks for more is answered with an empty page
        server.answer("GET", "/request", 200, {"page": body.get("page")})
        try:
            async for request in client.requests.list():
                listed.append(request)
        except dc.ResponseError as exc:
            # the doc example announces 14 requests and shows one: the listing says so
            # once the next page comes back empty, rather than end quietly short
            page = body.get("page") or {}
            assert page.get("total", 0) > len(body["requests"]), exc
            assert "listing ended at 1 of the 14" in str(exc)
        else:
            assert "page" not in body  # no total: the short page was the last one
    for request, raw in zip(listed, body["requests"], strict=True):
        faithful(request, raw)
        assert request.order is not None and request.order.id == raw["order"]["id"]
        assert request.type == raw["type"] and request.status == raw["status"]


async def test_request_info_reads_the_whole_request() -> None:
    body = real_file("lc_request_info_ribose.json")
    async with served() as (server, client):
        server.answer("GET", f"/request/{body['id']}", 200, body)
        request = await client.requests.get(body["id"])
    faithful(request, body)
    assert request.status == "approved" and request.date_processed is not None
    assert request.processor is not None
    assert request.processor.email == body["processor"]["email"]
    assert request.order is not None and request.order.id == body["order"]["id"]


async def test_approve_sends_the_documented_body() -> None:
    sent = real_file("lc_update_request_status_doc_request.json")
    async with served() as (server, client):
        server.answer("PUT", "/request/5/status", 204, None)
        assert await client.requests.approve(5, comment=sent["processor_comment"]) is None
    assert server.bodies == [sent]
