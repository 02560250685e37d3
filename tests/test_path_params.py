"""No path argument can change the route a call goes to.

Every argument is quoted as one path segment where the template is filled
(``_pipeline.fill_route``), so a resource's own check is a second wall, not the only
one. Each resource method that puts an argument in its path gets every hostile value:
it is refused before anything is sent, or it reaches the transport inside its own
segment. Through the ``Requester`` seam, which no resource check guards, and over
aiohttp to a loopback server, the value arrives whole, in its segment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, unquote

import pytest
from aiohttp import web

import digicert_async as dc
from digicert_async._decode import read_bytes
from digicert_async._pipeline import fill_route

from .test_client import serve
from .test_transport import ROOT, Scripted, answer

HOSTILE = [
    "../x",
    "..",
    ".",
    "",
    "?a=b",
    "#frag",
    "%2F",
    "%2E%2E",
    "a/b",
    "a b",
    "é✓",
    "\u202e1",
    "1/../../2",
    "1?limit=1",
    "\r\nX-Injected: 1",
]
NOT_FOUND = answer(404, b'{"errors":[{"code":"not_found|order","message":"no"}]}')

Call = Callable[[dc.CertCentralClient, Any], Awaitable[object]]

# Every resource method with a path argument, the hostile value in that argument.
METHODS: dict[str, Call] = {
    "orders.get": lambda c, v: c.orders.get(v),
    "orders.add_note": lambda c, v: c.orders.add_note(v, "text"),
    "orders.list_notes": lambda c, v: c.orders.list_notes(v),
    "orders.get_note[order_id]": lambda c, v: c.orders.get_note(v, 1),
    "orders.get_note[note_id]": lambda c, v: c.orders.get_note(1, v),
    "orders.update_status": lambda c, v: c.orders.update_status(v, "CANCELED", note="x"),
    "orders.cancel": lambda c, v: c.orders.cancel(v, note="x"),
    "orders.create_document_signing": lambda c, v: c.orders.create_document_signing({}, product=v),
    "orders.create": lambda c, v: c.orders.create(v, {}),
    "orders.reissue": lambda c, v: c.orders.reissue(v, {}),
    "orders.duplicate": lambda c, v: c.orders.duplicate(v, {}),
    "orders.list_reissues": lambda c, v: c.orders.list_reissues(v),
    "orders.list_duplicates": lambda c, v: c.orders.list_duplicates(v),
    "orders.revoke": lambda c, v: c.orders.revoke(v, comments="x"),
    "products.get": lambda c, v: c.products.get(v),
    "requests.get": lambda c, v: c.requests.get(v),
    "requests.approve": lambda c, v: c.requests.approve(v, comment="ok"),
    "requests.reject": lambda c, v: c.requests.reject(v, comment="no"),
    "subaccounts.get_order": lambda c, v: c.subaccounts.get_order(v),
    "certificates.revoke": lambda c, v: c.certificates.revoke(v, comments="x"),
    "certificates.download[certificate_id]": lambda c, v: c.certificates.download(
        v, format="pem_all"
    ),
    "certificates.download[format]": lambda c, v: c.certificates.download(1, format=v),
    "certificates.download_for_order[order_id]": lambda c, v: c.certificates.download_for_order(
        v, format="pem_all"
    ),
    "certificates.download_for_order[format]": lambda c, v: c.certificates.download_for_order(
        1, format=v
    ),
    "certificates.get_pem": lambda c, v: c.certificates.get_pem(v),
    "certificates.chain": lambda c, v: c.certificates.chain(v),
}


def assert_route_kept(request: dc.Request) -> None:
    """The URL is the route with each argument in its own segment, whole."""
    assert request.url.startswith(ROOT + "/")
    assert "?" not in request.url and "#" not in request.url
    sent = request.url[len(ROOT) :].split("/")
    template = request.route.split("/")
    assert len(sent) == len(template), request.url
    for segment, part in zip(sent, template, strict=True):
        if part.startswith("{") and part.endswith("}"):
            assert unquote(segment) == str(request.path_args[part[1:-1]])
        else:
            assert segment == part


@pytest.mark.parametrize("method", list(METHODS))
async def test_path_params_never_change_the_route(method: str) -> None:
    transport = Scripted(NOT_FOUND)
    async with dc.CertCentralClient("key", transport=transport) as client:
        for value in HOSTILE:
            sent_before = len(transport.requests)
            try:
                await METHODS[method](client, value)
            except dc.ValidationError:
                assert len(transport.requests) == sent_before  # refused before sending
            except dc.DigiCertError:
                pass
    for request in transport.requests:
        assert_route_kept(request)


@pytest.mark.parametrize("value", HOSTILE)
async def test_path_params_through_the_seam_stay_in_their_segment(value: str) -> None:
    """``client.call``, which no resource check guards: quoting alone holds the route."""
    transport = Scripted(answer(200, b"ok"))
    async with dc.CertCentralClient("key", transport=transport) as client:
        try:
            await client.call("GET", "/product/{name_id}", read_bytes, path_args={"name_id": value})
        except dc.ValidationError as refused:
            assert value in ("", ".", "..") and refused.field == "name_id"
            assert transport.requests == []
            return
    [request] = transport.requests
    assert request.url == f"{ROOT}/product/{quote(value, safe='')}"
    assert_route_kept(request)


async def test_path_params_arrive_whole_over_aiohttp() -> None:
    """yarl, under aiohttp, normalises a URL before sending it: what a server receives
    is still the route, with each value whole in its segment."""
    received: list[str] = []

    async def product(request: web.Request) -> web.Response:
        received.append(request.match_info["name_id"])
        return web.Response(body=b"ok")

    values = [value for value in HOSTILE if value not in ("", ".", "..")]
    async with serve({"/services/v2/product/{name_id}": product}) as root:
        async with dc.CertCentralClient("key", base_url=root) as client:
            for value in values:
                body = await client.call(
                    "GET", "/product/{name_id}", read_bytes, path_args={"name_id": value}
                )
                assert body == b"ok"
    assert received == values


class _SlashedInt(int):
    def __str__(self) -> str:
        return "../x"

    def __format__(self, spec: str) -> str:
        return "../x"


@pytest.mark.parametrize(
    ("args", "path"),
    [
        ({"order_id": 42}, "/order/certificate/42/note/7"),
        ({"order_id": "a/b"}, "/order/certificate/a%2Fb/note/7"),
        ({"order_id": "%2F"}, "/order/certificate/%252F/note/7"),
        ({"order_id": "é"}, "/order/certificate/%C3%A9/note/7"),
        ({"order_id": "a b?c#d"}, "/order/certificate/a%20b%3Fc%23d/note/7"),
        ({"order_id": -1}, "/order/certificate/-1/note/7"),
        ({"order_id": 10**120}, f"/order/certificate/{10**120}/note/7"),
        ({"order_id": True}, "/order/certificate/True/note/7"),
        # an int that writes itself otherwise is no plain id: it is quoted like text
        ({"order_id": _SlashedInt(5)}, "/order/certificate/..%2Fx/note/7"),
    ],
)
def test_fill_route_quotes_each_argument_as_one_segment(args: dict[str, Any], path: str) -> None:
    assert (
        fill_route("/order/certificate/{order_id}/note/{note_id}", {**args, "note_id": 7}) == path
    )


@pytest.mark.parametrize("value", ["", ".", "..", 10**5000], ids=["empty", "dot", "dots", "huge"])
def test_fill_route_refuses_what_cannot_be_a_segment(value: object) -> None:
    with pytest.raises(dc.ValidationError) as refused:
        fill_route("/order/certificate/{order_id}", {"order_id": value})
    assert refused.value.field == "order_id"
