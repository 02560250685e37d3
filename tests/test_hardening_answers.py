"""A success that is not DigiCert's answer (an HTML page, or a body where none is
promised) is a ResponseError, on every endpoint."""

from __future__ import annotations

import pytest

import digicert_async as dc

from .test_client import serve
from .test_hardening_baseurl import CANCEL_PATH, KEY, ORDER_PATH, answering, client_for

# -- a success that is not DigiCert's answer ----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, b"<!DOCTYPE html><html><body>Welcome</body></html>", "text/html"),
        (200, b"<html>login</html>", "text/plain"),  # HTML by its look, whatever the label
        (201, b'{"looks": "like json"}', "text/html; charset=utf-8"),  # HTML by its label
        (200, b"OK", "text/plain"),  # neither empty nor JSON: nothing says it was applied
    ],
)
async def test_a_cancel_answered_by_something_else_is_a_response_error(
    status: int, body: bytes, content_type: str
) -> None:
    handler, hits = answering(status, body, content_type)
    async with serve({CANCEL_PATH: handler}) as root:
        async with client_for(root) as client:
            with pytest.raises(dc.ResponseError) as caught:
                await client.orders.cancel(1, note="n")
    assert caught.value.status == status and caught.value.method == "PUT"
    assert hits == ["PUT"]  # not retried
    assert KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (204, b"", None),
        (200, b"", "text/html"),  # nothing in it
        (200, b"  \r\n", "application/json"),
        (200, b"{}", "application/json"),
        (200, b'{"id": 1, "status": "canceled"}', "application/json"),
        (200, b"[]", None),
    ],
)
async def test_a_cancel_with_no_body_or_json_is_a_success(
    status: int, body: bytes, content_type: str | None
) -> None:
    handler, hits = answering(status, body, content_type)
    async with serve({CANCEL_PATH: handler}) as root:
        async with client_for(root) as client:
            assert await client.orders.cancel(1, note="n") is None
    assert hits == ["PUT"]


async def test_an_html_page_for_a_model_says_so() -> None:
    handler, _ = answering(200, b"<html><body>Sign in</body></html>", "text/html")
    async with serve({ORDER_PATH: handler}) as root:
        async with client_for(root) as client:
            with pytest.raises(dc.ResponseError, match="HTML"):
                await client.orders.get(1)
