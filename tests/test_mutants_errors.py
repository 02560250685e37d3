"""The exception tree's details that mutation testing found unchecked.

Pure tests of ``_errors.py``: what each exception keeps and says, how
``error_from_status`` hands its arguments to every class it can build, and how
``parse_error_details`` reads odd entries.
"""

from __future__ import annotations

import pytest

from digicert_async._error_answers import error_from_status, parse_error_details
from digicert_async._errors import (
    APIError,
    AuthenticationError,
    ErrorDetail,
    NotFoundError,
    RedirectError,
    ResponseError,
    RouteNotFoundError,
    ServerError,
    TransportError,
    decode_text,
)

URL = "https://www.digicert.com/services/v2/order/certificate/7"
ROOT = "https://www.digicert.com/services/v2"


def test_an_api_error_without_body_or_attempts_says_so() -> None:
    error = APIError(500, [], method="GET", url=URL)
    assert (error.body, error.attempts) == ("", 1)
    assert str(error) == f"GET {URL} -> HTTP 500: no error body"


def test_an_api_error_shows_every_detail_and_a_short_body_excerpt() -> None:
    details = [ErrorDetail("invalid_value:note", "too long"), ErrorDetail("access_denied")]
    error = APIError(400, details, method="PUT", url=URL)
    assert str(error) == f"PUT {URL} -> HTTP 400: invalid_value:note: too long; access_denied"

    body = "  " + "x" * 198 + "yz" + "tail"
    plain = APIError(502, [], method="GET", url=URL, body=body)
    # the first 200 characters, stripped: the two leading blanks count, "yz" is cut
    assert str(plain) == f"GET {URL} -> HTTP 502: " + "x" * 198


@pytest.mark.parametrize("cls", [RouteNotFoundError, RedirectError])
def test_configuration_errors_keep_what_they_are_given(cls: type[RouteNotFoundError]) -> None:
    status = 404 if cls is RouteNotFoundError else 301
    error = cls(status, [], method="DELETE", url=URL, body="<html>moved</html>", attempts=3)
    assert (error.status, error.method, error.url) == (status, "DELETE", URL)
    assert (error.body, error.attempts) == ("<html>moved</html>", 3)
    # without an API root, the URL stands in for it in the hint
    assert error.api_root == URL
    assert str(error).endswith(f"this client's is {URL})")

    rooted = cls(status, [], method="GET", url=URL, api_root=ROOT)
    assert rooted.api_root == ROOT
    assert (rooted.body, rooted.attempts) == ("", 1)
    assert str(rooted).startswith(f"GET {URL} -> HTTP {status}: no error body (")
    assert str(rooted).endswith(f"this client's is {ROOT})")


def test_a_transport_error_keeps_its_parts_and_defaults() -> None:
    error = TransportError("reset", method="POST", url=URL, request_sent=True)
    assert (error.method, error.url, error.timeout, error.attempts) == ("POST", URL, False, 1)
    assert error.permanent is False


def test_a_response_error_keeps_its_url() -> None:
    error = ResponseError("not JSON", method="GET", url=URL, status=200, body="<html>")
    assert (error.method, error.url, error.status, error.field) == ("GET", URL, 200, None)


def test_odd_error_entries_are_read_one_by_one() -> None:
    body = (
        b'{"errors": ["junk", {"code": 42, "message": 7}, {"code": null},'
        b' {"code": "", "message": "empty code"}, {"code": "not_found|order", "message": "m"}]}'
    )
    assert parse_error_details(body)[0] == [
        ErrorDetail("42", ""),
        ErrorDetail("unknown", ""),
        ErrorDetail("", "empty code"),
        ErrorDetail("not_found|order", "m"),
    ]
    assert all(isinstance(d.code, str) for d in parse_error_details(body)[0])


def test_body_text_replaces_what_is_not_utf8() -> None:
    assert decode_text(b"caf\xc3\xa9 \xff\xfe") == "caf\u00e9 \ufffd\ufffd"
    error = error_from_status(502, b"<html>\xff</html>", method="GET", url=URL)
    assert error.body == "<html>\ufffd</html>"


def test_a_404_with_garbled_json_after_blanks_is_digicerts_answer() -> None:
    # leading blanks, then JSON cut short: DigiCert's answer about the object, damaged
    error = error_from_status(404, b'  \n{"errors": [{"code": "not_fo', method="GET", url=URL)
    assert type(error) is NotFoundError
    # a page that merely ends in blanks is no JSON: the route is wrong
    page = error_from_status(404, b"<html>404</html>  \n", method="GET", url=URL)
    assert type(page) is RouteNotFoundError


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (302, b"<html>moved</html>", RedirectError),
        (404, b"<html>no such page</html>", RouteNotFoundError),
        (401, b'{"errors": [{"code": "invalid_key", "message": "bad key"}]}', AuthenticationError),
        (503, b"<html>busy</html>", ServerError),
    ],
)
def test_error_from_status_hands_every_part_to_the_class(
    status: int, body: bytes, cls: type[APIError]
) -> None:
    error = error_from_status(status, body, method="PUT", url=URL, attempts=4, api_root=ROOT)
    assert type(error) is cls
    assert (error.status, error.method, error.url) == (status, "PUT", URL)
    assert (error.body, error.attempts) == (body.decode(), 4)
    if isinstance(error, (RedirectError, RouteNotFoundError)):
        assert error.api_root == ROOT
        assert ROOT + ")" in str(error)
    assert error_from_status(status, body, method="GET", url=URL).attempts == 1
