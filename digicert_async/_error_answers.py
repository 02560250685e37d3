"""An error answer read into its exception: pure, linear in the body, and built once.

The status decides the class (:func:`error_class_for`); the body refines a 404 and a
3xx (the API root is wrong) and a 403 (the key is invalid), and gives the details
(:func:`parse_error_details`, its first :data:`MAX_ERROR_DETAILS` entries).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._errors import (
    INVALID_KEY_CODE,
    APIError,
    AuthenticationError,
    BadRequestError,
    ErrorDetail,
    InvalidKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RedirectError,
    RouteNotFoundError,
    ServerError,
    decode_text,
)
from ._pipeline import Response

__all__ = [
    "MAX_ERROR_DETAILS",
    "answer_error",
    "error_class_for",
    "error_from_status",
    "parse_error_details",
]

MAX_ERROR_DETAILS = 100
"""The most entries of an error body's ``errors`` list read as ``ErrorDetail``s: DigiCert
sends a few, and a hostile body of thousands must not cost thousands of objects. How
many entries were left unread is ``APIError.errors_omitted``."""


_CLASS_BY_STATUS: Mapping[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[APIError]:
    """The exception class for an error status: the status decides, not the code.

    (:func:`error_from_status` refines a 404 and a 3xx by the body: see there.)
    """
    if status >= 500:
        return ServerError
    return _CLASS_BY_STATUS.get(status, APIError)


def _is_route_not_found(details: list[ErrorDetail], body: bytes) -> bool:
    # DigiCert answers a missing object with its JSON naming what is missing
    # (not_found|order); not_found|route, a body that is no JSON at all (a web site's
    # 404 page, or nothing) or someone else's JSON says the path itself does not
    # exist. JSON cut short or garbled on the way is still DigiCert's answer.
    if details:
        return any(detail.code == "not_found|route" for detail in details)
    if not body.lstrip().startswith((b"{", b"[")):
        return True
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True  # JSON, but not DigiCert's: a gateway's own answer


def _is_invalid_key(details: list[ErrorDetail]) -> bool:
    return any(INVALID_KEY_CODE in (detail.code, detail.qualifier) for detail in details)


def parse_error_details(body: bytes) -> tuple[list[ErrorDetail], int]:
    """The ``ErrorDetail``s of a DigiCert error body, from its first
    :data:`MAX_ERROR_DETAILS` entries, and how many entries came after them
    (``([], 0)`` when the body is not one).

    Never raises: proxies answer with HTML, and a truncated body must still
    yield the right exception class with the raw text.
    """
    try:
        document: Any = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: hostile nesting
        return [], 0
    if not isinstance(document, dict):
        return [], 0
    entries = document.get("errors")
    if isinstance(entries, dict):  # some answers carry one error as an object
        entries = [entries]
    if not isinstance(entries, list):
        return [], 0
    details = []
    for entry in entries[:MAX_ERROR_DETAILS]:
        if not isinstance(entry, dict):
            continue
        code = entry.get("code")
        message = entry.get("message")
        details.append(
            ErrorDetail(
                code=code if isinstance(code, str) else str(code or "unknown"),
                message=message if isinstance(message, str) else "",
            )
        )
    return details, max(0, len(entries) - MAX_ERROR_DETAILS)


def error_from_status(
    status: int,
    body: bytes,
    *,
    method: str,
    url: str,
    attempts: int = 1,
    api_root: str | None = None,
) -> APIError:
    """Build the exception for an error answer (pure: no I/O).

    A 3xx is a :class:`RedirectError`, and a 404 that is not DigiCert's JSON about
    the object asked for a :class:`RouteNotFoundError`: both mean the base URL is
    wrong, and their message names ``api_root`` (the client's API root; ``url``
    when not given). A 403 that says the key is invalid is an :class:`InvalidKeyError`.
    """
    details, omitted = parse_error_details(body)
    if 300 <= status < 400 or (status == 404 and _is_route_not_found(details, body)):
        wrong_root = RedirectError if status < 400 else RouteNotFoundError
        return wrong_root(
            status,
            details,
            method=method,
            url=url,
            body=decode_text(body),
            attempts=attempts,
            errors_omitted=omitted,
            api_root=api_root,
        )
    cls = error_class_for(status)
    if cls is PermissionDeniedError and _is_invalid_key(details):
        cls = InvalidKeyError
    return cls(
        status,
        details,
        method=method,
        url=url,
        body=decode_text(body),
        attempts=attempts,
        errors_omitted=omitted,
    )


def answer_error(response: Response, api_root: str | None = None) -> APIError:
    """The exception an error answer stands for, built once and kept on the answer
    (``response.error``), whichever layer asks first: the retry layer, to say why it
    retries, or the end of the call. ``api_root``: the client's, for the errors that
    say it is wrong."""
    error: APIError | None = response.error
    if error is None:
        error = response.error = error_from_status(
            response.status,
            response.body,
            method=response.method,
            url=response.url,
            attempts=response.attempts,
            api_root=api_root or None,
        )
    return error
