"""An answer about another object than the one asked for is a ResponseError, and so is an
answer whose identifying id is no usable id (0, negative, past 20 digits): reading order 1
and getting order 2 must not report order 2 as order 1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import digicert_async as dc
from digicert_async._decode import Identified, decode, read_identified
from digicert_async._pipeline import Request, Response

from ._served import BodyServer, served
from .test_around import make_csr
from .test_ordering import ov_order

Call = Callable[[dc.CertCentralClient], Awaitable[Any]]

ORDER_1 = {
    "id": 1,
    "status": "issued",
    "certificate": {
        "common_name": "example.com",
        "dns_names": ["example.com"],
        "signature_hash": "sha256",
    },
}

# (what is read, the route it is served at, the call, the identifying field, the id asked)
ROUTED: list[tuple[str, str, str, Call, str, object]] = [
    ("orders.get", "GET", "/order/certificate/1", lambda c: c.orders.get(1), "id", 1),
    (
        "orders.get_note",
        "GET",
        "/order/certificate/1/note/5",
        lambda c: c.orders.get_note(1, 5),
        "id",
        5,
    ),
    ("requests.get", "GET", "/request/5", lambda c: c.requests.get(5), "id", 5),
    (
        "subaccounts.get_order",
        "GET",
        "/account/subaccount/order/1",
        lambda c: c.subaccounts.get_order(1),
        "id",
        1,
    ),
    (
        "orders.reissue",
        "POST",
        "/order/certificate/1/reissue",
        lambda c: c.orders.reissue(1, make_csr()),
        "id",
        1,
    ),
    (
        "orders.duplicate",
        "POST",
        "/order/certificate/1/duplicate",
        lambda c: c.orders.duplicate(1, make_csr()),
        "id",
        1,
    ),
    (
        "products.get",
        "GET",
        "/product/ssl_basic",
        lambda c: c.products.get("ssl_basic"),
        "name_id",
        "ssl_basic",
    ),
]


def _answer(field: str, value: object) -> dict[str, Any]:
    body: dict[str, Any] = {field: value}
    if field == "id":
        body["status"] = "issued"
    return body


def _serve(server: BodyServer, method: str, path: str, body: Any) -> None:
    if method == "POST":  # a reissue or a duplicate reads the order first
        server.answer("GET", "/order/certificate/1", 200, ORDER_1)
    server.answer(method, path, 201 if method == "POST" else 200, body)


@pytest.mark.parametrize(
    ("method", "path", "call", "field", "asked"),
    [row[1:] for row in ROUTED],
    ids=[row[0] for row in ROUTED],
)
async def test_an_answer_about_another_object_is_a_response_error(
    method: str, path: str, call: Call, field: str, asked: object
) -> None:
    other: object = "ssl_plus" if isinstance(asked, str) else asked + 1  # type: ignore[operator]
    async with served() as (server, client):
        _serve(server, method, path, _answer(field, asked))
        answer = await call(client)  # the answer about the object asked for reads
        assert getattr(answer, field) == asked
        _serve(server, method, path, _answer(field, other))
        with pytest.raises(dc.ResponseError) as caught:
            await call(client)
    error = caught.value
    assert error.field == field and error.status in (200, 201)
    assert f"about {field} {other!r}, not the" in str(error)
    assert repr(asked) in str(error) and "asked for" in str(error)


@pytest.mark.parametrize(
    ("method", "path", "call"),
    [row[1:4] for row in ROUTED if row[4] == "id"],
    ids=[row[0] for row in ROUTED if row[4] == "id"],
)
@pytest.mark.parametrize("bad_id", [0, -1, 10**20, 10**400], ids=["0", "-1", "21-digits", "huge"])
async def test_an_identifying_id_that_is_no_id_is_a_response_error(
    method: str, path: str, call: Call, bad_id: int
) -> None:
    async with served() as (server, client):
        _serve(server, method, path, _answer("id", bad_id))
        with pytest.raises(dc.ResponseError) as caught:
            await call(client)
    assert caught.value.field == "id"
    assert "the identifying id must be a positive integer of at most 20 digits" in (
        str(caught.value)
    )


UNROUTED: list[tuple[str, str, str, Call]] = [
    (
        "orders.add_note",
        "POST",
        "/order/certificate/1/note",
        lambda c: c.orders.add_note(1, "text"),
    ),
    (
        "orders.create",
        "POST",
        "/order/certificate/ssl_basic",
        lambda c: c.orders.create("ssl_basic", ov_order(), check_product=False),
    ),
    (
        "orders.revoke",
        "PUT",
        "/order/certificate/1/revoke",
        lambda c: c.orders.revoke(1, comments="why"),
    ),
    (
        "certificates.revoke",
        "PUT",
        "/certificate/7/revoke",
        lambda c: c.certificates.revoke(7, comments="why"),
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "call"), [row[1:] for row in UNROUTED], ids=[row[0] for row in UNROUTED]
)
@pytest.mark.parametrize("bad_id", [0, -5, 10**20])
async def test_a_new_object_must_have_a_usable_id(
    method: str, path: str, call: Call, bad_id: int
) -> None:
    async with served() as (server, client):
        server.answer(method, path, 201, {"id": 77})
        assert (await call(client)).id == 77  # any id of its own: it is new
        server.answer(method, path, 201, {"id": bad_id})
        with pytest.raises(dc.ResponseError) as caught:
            await call(client)
    assert caught.value.field == "id" and "positive integer" in str(caught.value)


async def test_a_revocation_done_at_once_has_nothing_to_identify() -> None:
    async with served() as (server, client):
        server.answer("PUT", "/order/certificate/1/revoke", 204, None)
        assert await client.orders.revoke(1, comments="why", skip_approval=True) is None


async def test_poll_orders_does_not_report_another_order_as_the_one_asked_for() -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate", 200, {"orders": [], "page": {"total": 0}})
        server.answer("GET", "/order/certificate/status-changes", 200, {"orders": []})
        server.answer("GET", "/order/certificate/1", 200, {"id": 2, "status": "issued"})
        updates = [
            update
            async for update in dc.poll_orders(
                client, [1], until="issued", interval=0.01, deadline=30.0
            )
        ]
    assert updates, "the poll said nothing of order 1"
    assert all(update.status != "issued" and update.order is None for update in updates)
    assert all(isinstance(update.error, dc.ResponseError) for update in updates)
    assert "about id 2, not the order_id 1" in str(updates[-1].error)


def test_the_identity_is_checked_where_answers_are_decoded() -> None:
    """decode() checks an Identified reader's answer; the reader alone only reads."""
    body = b'{"id": 2, "status": "issued"}'
    response = Response(status=200, headers={}, body=body, method="GET", url="u")
    reader = read_identified(dc.Order, "order_id")
    asked_1 = Request(method="GET", path="/o/1", path_args={"order_id": 1}, read=reader)
    assert reader(response).id == 2
    assert decode(response, Request(method="GET", path="/o/2", path_args={"order_id": 2},
                                    read=reader)).id == 2  # fmt: skip
    with pytest.raises(dc.ResponseError, match="about id 2, not the order_id 1 asked for"):
        decode(response, asked_1)
    nameless = Identified(reader, field="serial")  # a model without that field
    with pytest.raises(dc.ResponseError) as caught:
        decode(response, Request(method="GET", path="/o/2", read=nameless))
    assert caught.value.field == "serial"
    assert "the answer has no identifying serial" in str(caught.value)
