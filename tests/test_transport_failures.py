"""The aiohttp transport's failure table: which entry reads each exception aiohttp may
raise, and what each entry says of the exchange (sent or not, a timeout, permanent)."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiohttp
import pytest
from yarl import URL

from digicert_async._inflate import BodyNotDecodable
from digicert_async._transport import FAILURES, Failure, _Limit, failure_of

LIMIT = _Limit(timeout=30.0, left=None)

# The entry each of aiohttp's exceptions is read by: its own class's, else the first of
# its bases the table names (the most specific, as in httpx's map_exceptions).
EXPECTED_ENTRY = {
    "ClientConnectionError": "ClientError",
    "ClientConnectionResetError": "ClientError",
    "ClientConnectorCertificateError": "ClientConnectorCertificateError",
    "ClientConnectorDNSError": "ClientConnectorError",
    "ClientConnectorError": "ClientConnectorError",
    "ClientConnectorSSLError": "ClientConnectorSSLError",
    "ClientError": "ClientError",
    "ClientHttpProxyError": "ClientHttpProxyError",
    "ClientOSError": "ClientError",
    "ClientPayloadError": "ClientError",
    "ClientProxyConnectionError": "ClientConnectorError",
    "ClientResponseError": "ClientResponseError",
    "ClientSSLError": "ClientConnectorError",
    "ConnectionTimeoutError": "ServerTimeoutError",
    "ContentTypeError": "ClientResponseError",
    "InvalidURL": "InvalidURL",
    "InvalidUrlClientError": "InvalidURL",
    "InvalidUrlRedirectClientError": "InvalidURL",
    "NonHttpUrlClientError": "NonHttpUrlClientError",
    "NonHttpUrlRedirectClientError": "NonHttpUrlClientError",
    "RedirectClientError": "ClientError",
    "ServerConnectionError": "ClientError",
    "ServerDisconnectedError": "ClientError",
    "ServerFingerprintMismatch": "ServerFingerprintMismatch",
    "ServerTimeoutError": "ServerTimeoutError",
    "SocketTimeoutError": "ServerTimeoutError",
    "TooManyRedirects": "ClientResponseError",
    "UploadAbortedError": "ClientError",
    "WSServerHandshakeError": "ClientResponseError",
}


def _entry(cls: type[BaseException]) -> str:
    return next(base.__name__ for base in cls.__mro__ if base in FAILURES)


def test_every_exception_of_aiohttp_is_read_by_the_entry_meant_for_it() -> None:
    exported = {
        name: value
        for name, value in vars(aiohttp).items()
        if isinstance(value, type) and issubclass(value, aiohttp.ClientError)
    }
    assert {name: _entry(cls) for name, cls in exported.items()} == {
        name: entry for name, entry in EXPECTED_ENTRY.items() if name in exported
    }


def test_no_entry_of_the_table_is_unreachable() -> None:
    for cls in FAILURES:
        assert _entry(cls) == cls.__name__


def _request_info() -> aiohttp.RequestInfo:
    url = URL("https://www.digicert.com/services/v2/order/certificate/1")
    return aiohttp.RequestInfo(url, "GET", {"X-DC-DEVKEY": "secret"}, url)  # type: ignore[arg-type]


def _connection_key() -> Any:
    return type("Key", (), {"ssl": True, "host": "example.com", "port": 443})()


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (BodyNotDecodable("bad gzip"), Failure("bad gzip", request_sent=True, permanent=True)),
        (
            aiohttp.ClientConnectorError(_connection_key(), OSError(111, "refused")),
            Failure("cannot connect: [Errno 111] refused", request_sent=False),
        ),
        (
            aiohttp.ClientConnectorSSLError(_connection_key(), ssl.SSLEOFError(8, "EOF")),
            Failure("TLS handshake failed: EOF", request_sent=False, permanent=False),
        ),
        (
            aiohttp.ClientConnectorSSLError(_connection_key(), ssl.SSLError(1, "bad")),
            Failure("TLS handshake failed: bad", request_sent=False, permanent=True),
        ),
        (
            aiohttp.ServerFingerprintMismatch(b"a", b"b", "example.com", 443),
            Failure(
                "the server's TLS certificate does not match the expected fingerprint",
                request_sent=False,
                permanent=True,
            ),
        ),
        (
            asyncio.TimeoutError(),
            Failure("no answer within 30.0 s", request_sent=True, timeout=True),
        ),
        (
            aiohttp.ServerTimeoutError("read"),
            Failure("no answer within 30.0 s", request_sent=True, timeout=True),
        ),
        (
            UnicodeError("label too long"),
            Failure("invalid host name: label too long", request_sent=False, permanent=True),
        ),
        (
            aiohttp.InvalidURL("https://::g/"),
            Failure("invalid URL: https://::g/", request_sent=False, permanent=True),
        ),
        (
            aiohttp.NonHttpUrlClientError("ftp://example.com/"),
            Failure("invalid URL: ftp://example.com/", request_sent=False, permanent=True),
        ),
        (
            aiohttp.ClientHttpProxyError(_request_info(), (), status=407, message="auth"),
            Failure("the proxy answered HTTP 407", request_sent=False),
        ),
        (
            aiohttp.ClientResponseError(_request_info(), (), status=400, message="bad status"),
            Failure("the answer is not valid HTTP: bad status", request_sent=True, permanent=True),
        ),
        (
            aiohttp.ClientPayloadError("cut short"),
            Failure("ClientPayloadError: cut short", request_sent=True),
        ),
        (
            aiohttp.ServerDisconnectedError(),
            Failure("ServerDisconnectedError: Server disconnected", request_sent=True),
        ),
    ],
    ids=lambda value: type(value).__name__,
)
def test_each_failure_says_what_happened(exc: BaseException, expected: Failure) -> None:
    assert failure_of(exc, LIMIT) == expected
    assert "secret" not in failure_of(exc, LIMIT).message


def test_a_timeout_cut_by_the_deadline_says_so() -> None:
    failure = failure_of(asyncio.TimeoutError(), _Limit(timeout=30.0, left=0.25))
    assert failure == Failure(
        "no answer before the call's deadline (0.25 s were left)", request_sent=True, timeout=True
    )


def test_a_certificate_that_fails_verification_is_permanent() -> None:
    certificate_error = ssl.SSLCertVerificationError("self-signed")
    failure = failure_of(
        aiohttp.ClientConnectorCertificateError(_connection_key(), certificate_error), LIMIT
    )
    assert failure.permanent and not failure.request_sent
    assert failure.message.startswith("TLS certificate verification failed")
