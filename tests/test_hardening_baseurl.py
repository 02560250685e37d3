"""A wrong base URL is a configuration error: DigiCert's not_found|route, a 404 that is
not DigiCert's JSON, and any redirect, each naming the client's API root."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

import digicert_async as dc
from digicert_async._error_answers import error_from_status, parse_error_details
from digicert_async.testing import FakeCertCentral

from .test_client import serve

KEY = "baseurl-key-93aa"
CANCEL_PATH = "/services/v2/order/certificate/1/status"
ORDER_PATH = "/services/v2/order/certificate/1"


def client_for(root: str, **options: Any) -> dc.CertCentralClient:
    options.setdefault("rate_limit", dc.RateLimit.disabled())
    options.setdefault("retry", dc.RetryPolicy(max_attempts=3, backoff_initial=0.01))
    return dc.CertCentralClient(api_key=KEY, base_url=root, **options)


def answering(status: int, body: bytes, content_type: str | None) -> tuple[Any, list[str]]:
    hits: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.method)
        answer = web.Response(status=status, body=body)
        if content_type is not None:  # else aiohttp's own default
            answer.headers["Content-Type"] = content_type
        return answer

    return handler, hits


async def test_a_base_url_without_services_v2_is_a_configuration_error() -> None:
    """The fake, like DigiCert, answers an unknown path with not_found|route."""
    async with FakeCertCentral(rate_limits=None, orders=2) as fake:
        wrong = fake.base_url.removesuffix("/services/v2")
        async with dc.CertCentralClient(
            api_key=fake.api_key, base_url=wrong, rate_limit=dc.RateLimit.disabled()
        ) as client:
            with pytest.raises(dc.NotFoundError) as caught:
                await client.orders.get(fake.order_ids[0])
        async with dc.CertCentralClient(
            api_key=fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
        ) as client:
            with pytest.raises(dc.NotFoundError) as missing:
                await client.orders.get(999_999_999)
    error = caught.value
    assert type(error) is dc.RouteNotFoundError
    assert isinstance(error, dc.ConfigurationError) and isinstance(error, dc.APIError)
    assert error.code == "not_found|route" and error.attempts == 1
    assert error.api_root == wrong
    assert wrong in str(error) and "base_url" in str(error) and "/services/v2" in str(error)
    assert fake.api_key not in str(error)
    # an order that does not exist is not a configuration error
    assert type(missing.value) is dc.NotFoundError
    assert not isinstance(missing.value, dc.ConfigurationError)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>Page not found</body></html>", "text/html"),
        (b"", None),
        (b'{"message": "Not Found"}', "application/json"),  # JSON, but not DigiCert's
        (b'{"errors": {"code": "not_found|route", "message": "No route"}}', "application/json"),
    ],
)
async def test_a_404_that_is_not_digicerts_is_a_configuration_error(
    body: bytes, content_type: str | None
) -> None:
    handler, hits = answering(404, body, content_type)
    async with serve({ORDER_PATH: handler}) as root:
        async with client_for(root) as client:
            with pytest.raises(dc.NotFoundError) as caught:
                await client.orders.get(1)
    assert type(caught.value) is dc.RouteNotFoundError and hits == ["GET"]
    assert root in str(caught.value) and KEY not in str(caught.value)


async def test_digicerts_404_about_the_order_is_a_plain_not_found() -> None:
    body = b'{"errors": {"code": "not_found|order", "message": "Order not found."}}'
    handler, _ = answering(404, body, "application/json")
    async with serve({ORDER_PATH: handler}) as root:
        async with client_for(root) as client:
            with pytest.raises(dc.NotFoundError) as caught:
                await client.orders.get(1)
    assert type(caught.value) is dc.NotFoundError
    assert caught.value.code == "not_found|order"  # errors as one object is read too


@pytest.mark.parametrize(
    "body", [b'{"errors": [{"code": "not_found|ord', b'{"id": ,}', b'[{"code": "not_found"']
)
def test_digicerts_404_spoiled_on_the_way_is_still_about_the_order(body: bytes) -> None:
    # JSON cut short or garbled is DigiCert's answer, not a web site's page: a bulk job
    # must not stop as if the base URL were wrong
    error = error_from_status(404, body, method="GET", url="u", api_root="r")
    assert type(error) is dc.NotFoundError


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_a_configuration_error(status: int) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            status=status, headers={"Location": "https://www.example.com/"}, text="<html/>"
        )

    async with serve({CANCEL_PATH: handler}) as root:
        async with client_for(root) as client:
            with pytest.raises(dc.ConfigurationError) as caught:
                await client.orders.cancel(1, note="n")
    error = caught.value
    assert type(error) is dc.RedirectError and isinstance(error, dc.APIError)
    assert error.status == status and error.attempts == 1
    assert root in str(error) and "base_url" in str(error) and KEY not in str(error)


def test_the_classes_follow_the_body_only_for_404_and_3xx() -> None:
    url = "https://www.digicert.com/services/v2/order/certificate/1"
    api = "https://www.digicert.com/services/v2"
    html = b"<html>x</html>"

    def made(status: int, body: bytes) -> dc.APIError:
        return error_from_status(status, body, method="GET", url=url, api_root=api)

    assert type(made(404, html)) is dc.RouteNotFoundError
    assert type(made(404, b'{"errors":[{"code":"not_found|product"}]}')) is dc.NotFoundError
    assert type(made(404, b'{"errors":[{"code":"not_found|route"}]}')) is dc.RouteNotFoundError
    assert type(made(300, b"")) is dc.RedirectError
    assert type(made(403, html)) is dc.PermissionDeniedError
    assert type(made(400, html)) is dc.BadRequestError
    assert type(made(503, html)) is dc.ServerError
    assert api in str(made(404, html))
    without_root = error_from_status(404, html, method="GET", url=url)
    assert isinstance(without_root, dc.RouteNotFoundError) and without_root.api_root == url
    assert parse_error_details(b'{"errors": {"code": "x|y"}}')[0][0].code == "x|y"
