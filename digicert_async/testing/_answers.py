"""What the fake sends when it does not let an endpoint answer as it would: the refused
key, the rate limit, and each injected fault's answer (a refusal, or a spoiled body); and
which requests a scheduled fault is for."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from aiohttp import web

from ._downloads import FileBody
from ._routing import Answer, error
from ._types import Fault

__all__ = [
    "INVALID_KEY",
    "RATE_LIMIT_BODY",
    "REFUSALS",
    "Injection",
    "Outcome",
    "json_response",
    "refusal",
    "spoiled",
    "too_many_requests",
]

RATE_LIMIT_BODY = {
    "errors": [
        {
            "code": "request_limit_exceeded",
            "message": "Service unavailable, please limit request volume",
        }
    ]
}
INVALID_KEY = ("access_denied|access_denied_invalid_key", "The API key is missing or invalid.")
_INTERNAL_ERROR = ("internal_error", "An unexpected error occurred. Please try again later.")
_HTML_503 = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    "<h1>Service Temporarily Unavailable</h1><p>The server is down for maintenance.</p>"
    "</body></html>"
)
_HTML_502 = (
    "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
    "<p>The proxy server received an invalid response from an upstream server.</p>"
    "</body></html>"
)
_MALFORMED_BODY = b'{"id": ,}'
REFUSALS = frozenset(
    {Fault.SERVICE_UNAVAILABLE_HTML, Fault.INTERNAL_ERROR, Fault.BAD_GATEWAY, Fault.RATE_LIMITED}
)
"""The faults answered in place of the endpoint, which never runs."""


@dataclass
class Injection:
    """A fault scheduled for the next ``remaining`` requests that match."""

    fault: Fault
    remaining: int
    method: str | None
    path_contains: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path_contains is None or self.path_contains in path


@dataclass
class Outcome:
    """How one request was answered."""

    response: web.StreamResponse | None  # None: close the connection without an answer
    applied: bool = False
    fault: Fault | None = None


def json_response(answer: Answer) -> web.Response:
    status, payload = answer
    if payload is None:
        return web.Response(status=status)
    if isinstance(payload, FileBody):  # a certificate file, not JSON
        return web.Response(status=status, body=payload.data, content_type=payload.content_type)
    return web.Response(
        status=status, body=json.dumps(payload).encode(), content_type="application/json"
    )


def too_many_requests(blocked_for: float, *, retry_after: bool) -> web.Response:
    response = json_response((429, RATE_LIMIT_BODY))
    if retry_after:
        response.headers["Retry-After"] = str(max(1, math.ceil(blocked_for)))
    return response


def refusal(fault: Fault, *, retry_after: bool) -> web.Response:
    """The answer of one of :data:`REFUSALS`."""
    if fault is Fault.RATE_LIMITED:
        return too_many_requests(1.0, retry_after=retry_after)
    if fault is Fault.INTERNAL_ERROR:
        return json_response(error(500, _INTERNAL_ERROR))
    if fault is Fault.BAD_GATEWAY:
        return web.Response(status=502, text=_HTML_502, content_type="text/html")
    return web.Response(status=503, text=_HTML_503, content_type="text/html")


def spoiled(fault: Fault | None, answer: Answer) -> web.Response | None:
    """The endpoint's answer with its body spoiled by a body fault; None for any other.

    Body faults spoil the body, never the verdict: an error stays an error, and a 204
    becomes a 200 so that there is a body to spoil."""
    status, payload = answer
    status = 200 if status == 204 else status
    if fault is Fault.TRUNCATED_JSON and isinstance(payload, FileBody):
        return web.Response(
            status=status,
            body=payload.data[: len(payload.data) // 2],
            content_type=payload.content_type,
        )
    if fault is Fault.TRUNCATED_JSON:
        text = json.dumps(payload if payload is not None else {"status": "ok"}).encode()
        return web.Response(
            status=status, body=text[: len(text) // 2], content_type="application/json"
        )
    if fault is Fault.MALFORMED_JSON:
        return web.Response(status=status, body=_MALFORMED_BODY, content_type="application/json")
    return None
