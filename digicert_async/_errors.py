"""The exception tree and the pure decoding of DigiCert's error answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import attrs

from ._escape import visible

if TYPE_CHECKING:  # the values of a call are built on these exceptions: no import at run time
    from ._pipeline import Response

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "DigiCertError",
    "ErrorDetail",
    "InvalidKeyError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RedirectError",
    "ResponseError",
    "RouteNotFoundError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "answer_error",
    "error_from_status",
    "parse_error_details",
    "raise_unchained",
]

# Enough of a body to diagnose an HTML proxy page without keeping megabytes alive.
BODY_EXCERPT_LIMIT = 2000

MAX_ERROR_DETAILS = 100
"""The most entries of an error body's ``errors`` list read as ``ErrorDetail``s: DigiCert
sends a few, and a hostile body of thousands must not cost thousands of objects. How
many entries were left unread is ``APIError.errors_omitted``."""


@attrs.frozen
class ErrorDetail:
    """One entry of DigiCert's ``errors`` list.

    ``code`` is kept whole (``not_found|order``, ``invalid_value:validity_years``);
    ``base_code`` is the part before the qualifier, the part worth matching on.
    """

    code: str
    message: str = ""

    @property
    def base_code(self) -> str:
        for separator in ("|", ":"):
            head, found, _ = self.code.partition(separator)
            if found:
                return head
        return self.code

    @property
    def qualifier(self) -> str | None:
        for separator in ("|", ":"):
            _, found, tail = self.code.partition(separator)
            if found:
                return tail
        return None


class DigiCertError(Exception):
    """Base class of every exception this library raises on purpose.

    Every one pickles (to cross to a worker process, say) with its attributes.

    Its message (``str(error)``, what a log line or a traceback shows) writes control
    and bidi characters as escapes (``\\x1b``, ``\\n``, ``\\u202e``): the server's
    text in it cannot drive a terminal or split a log record. The attributes
    (``errors``, ``body``) keep the text as the server sent it.
    """

    def __str__(self) -> str:
        # Here rather than where each message is built: it covers every message, the
        # server's error text, a body's excerpt and aiohttp's wording alike, and every
        # reader of it (log records, tracebacks, the command line, the caller's logs).
        return visible(super().__str__())

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own pickling replays cls(*self.args), and args holds only the
        # message: subclasses take other (keyword-only) arguments. Rebuild from state.
        return (_rebuild_error, (type(self), self.args, dict(self.__dict__)))


def _rebuild_error(
    cls: type[DigiCertError], args: tuple[Any, ...], state: dict[str, Any]
) -> DigiCertError:
    error = cls.__new__(cls, *args)
    error.__dict__.update(state)
    return error


class ConfigurationError(DigiCertError):
    """Marker base: the client is set up wrong (its ``base_url``, for one).

    Retrying cannot help and neither can the next order of a bulk job: every call
    fails the same way until the configuration is fixed. The concrete classes also
    derive from the class their status gives (:class:`RouteNotFoundError` is a
    :class:`NotFoundError`), so ``except NotFoundError`` still catches them.
    """


class ClientClosedError(DigiCertError, RuntimeError):
    """The client was closed: by :meth:`CertCentralClient.close` while this call was
    in flight or queued, or before it was made.

    It is also a ``RuntimeError``, what a call on a closed client raised before.
    """


class ValidationError(DigiCertError, ValueError):
    """Input was rejected before any request was sent.

    ``field`` is the dotted wire name of the offending field (``ship_info.method``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class APIError(DigiCertError):
    """The server answered with a status that is not a success.

    ``url`` never carries the API key (the key only ever travels in a header).
    ``attempts`` is how many times the request was sent before giving up.
    ``errors`` holds the body's first :data:`MAX_ERROR_DETAILS` (100) error entries;
    ``errors_omitted`` counts the entries past them, left unread (0 for any answer
    DigiCert sends).
    """

    def __init__(
        self,
        status: int,
        errors: list[ErrorDetail],
        *,
        method: str,
        url: str,
        body: str = "",
        attempts: int = 1,
        errors_omitted: int = 0,
    ) -> None:
        self.status = status
        self.errors = errors
        self.errors_omitted = errors_omitted
        self.method = method
        self.url = url
        self.body = body[:BODY_EXCERPT_LIMIT]
        self.attempts = attempts
        super().__init__(self._describe())

    @property
    def code(self) -> str | None:
        """The first error code, whole (``not_found|order``), or None."""
        return self.errors[0].code if self.errors else None

    def _describe(self) -> str:
        if self.errors:
            detail = "; ".join(
                f"{e.code}: {e.message}" if e.message else e.code for e in self.errors
            )
            if self.errors_omitted:
                detail += f" (and {self.errors_omitted} more errors, not read)"
        else:
            detail = self.body[:200].strip() or "no error body"
        return f"{self.method} {self.url} -> HTTP {self.status}: {detail}"


class BadRequestError(APIError):
    """HTTP 400: DigiCert rejected the request's content."""


class AuthenticationError(APIError):
    """HTTP 401: the API key was not accepted."""


class PermissionDeniedError(APIError):
    """HTTP 403: the key lacks permission (or is invalid; DigiCert uses 403 for both)."""


INVALID_KEY_CODE = "access_denied_invalid_key"


class InvalidKeyError(PermissionDeniedError, ConfigurationError):
    """HTTP 403 ``access_denied_invalid_key``: DigiCert does not accept the API key at
    all (it is missing, wrong or revoked). DigiCert answers a bad key with a 403, not a
    401, so this is a :class:`PermissionDeniedError`; it is a
    :class:`ConfigurationError` too, since every call fails alike until the key is
    fixed (a bulk job stops at the first).

    The code is read whole (``access_denied_invalid_key``) or as the qualifier of
    ``access_denied|access_denied_invalid_key``, the form production sends.
    """


class NotFoundError(APIError):
    """HTTP 404: the order, product or route does not exist."""


class _WrongAPIRoot(APIError):
    # One home for what the two "base_url is wrong" errors share: the client's API
    # root, and the hint that names it. First in their bases, so its _describe wins.

    def __init__(
        self,
        status: int,
        errors: list[ErrorDetail],
        *,
        method: str,
        url: str,
        body: str = "",
        attempts: int = 1,
        errors_omitted: int = 0,
        api_root: str | None = None,
    ) -> None:
        self.api_root = api_root if api_root is not None else url
        super().__init__(
            status,
            errors,
            method=method,
            url=url,
            body=body,
            attempts=attempts,
            errors_omitted=errors_omitted,
        )

    def _describe(self) -> str:
        return super()._describe() + (
            " (this does not look like DigiCert's API: check base_url, the API root,"
            f" which should end in /services/v2; this client's is {self.api_root})"
        )


class RouteNotFoundError(_WrongAPIRoot, NotFoundError, ConfigurationError):
    """HTTP 404 that is not DigiCert's answer about the object asked for.

    Either DigiCert's ``not_found|route`` or a 404 without DigiCert's JSON error body
    (a web site's HTML page): the path does not exist under the client's API root,
    which nearly always means ``base_url`` is wrong (it should end in
    ``/services/v2``). ``api_root`` is the client's API root.
    """


class RedirectError(_WrongAPIRoot, ConfigurationError):
    """A 3xx answer. DigiCert's API does not redirect (and redirects are never
    followed, so the key never travels elsewhere): the client's ``base_url`` points
    at something else, such as the web site. ``api_root`` is the client's API root.
    """


class RateLimitError(APIError):
    """HTTP 429 (``request_limit_exceeded``) that outlasted every retry."""


class ServerError(APIError):
    """HTTP 5xx: DigiCert or a proxy in front of it failed."""


class TransportError(DigiCertError):
    """The connection failed, was reset or timed out (after retries ran out).

    ``request_sent`` is False only when the request certainly never reached the
    server (the connection could not be opened); that is what makes a POST safe
    to send again. ``timeout`` is True when no answer came in time: the client's
    ``timeout`` for one attempt, or the call's deadline (``RetryPolicy.deadline``).
    ``permanent`` is True for failures that retrying cannot fix and that are never
    retried: the server's TLS certificate failed verification, the answer broke the
    HTTP protocol (or its compression), the URL is invalid.

    Nothing aiohttp raised is chained to it (no ``__cause__`` or ``__context__``):
    aiohttp's exceptions carry the request's headers, and so the API key.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        request_sent: bool,
        timeout: bool = False,
        attempts: int = 1,
        permanent: bool = False,
    ) -> None:
        super().__init__(f"{method} {url}: {message}")
        self.method = method
        self.url = url
        self.request_sent = request_sent
        self.timeout = timeout
        self.attempts = attempts
        self.permanent = permanent


class ResponseError(DigiCertError):
    """A success status whose body is not what the endpoint promises: not JSON, not
    the expected shape, an HTML page (even where the endpoint returns nothing), or
    larger than the client's ``max_response_bytes``. Never retried.

    ``field`` is the dotted path of the offending value in the body
    (``orders[3].certificate.valid_till``) when one value is to blame, else None.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        status: int,
        body: str,
        field: str | None = None,
    ) -> None:
        super().__init__(f"{method} {url} -> HTTP {status}: {message}")
        self.method = method
        self.url = url
        self.status = status
        self.body = body[:BODY_EXCERPT_LIMIT]
        self.field = field


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


def raise_unchained(error: BaseException) -> NoReturn:
    """Raise ``error`` with no ``__context__``, whatever exception is being handled
    around it: on Python 3.10 a task can still hold aiohttp's last exception (whose
    ``request_info`` carries the API key) when the send step has long left its
    ``except`` block, and a plain ``raise`` would chain it."""
    try:
        raise error
    except BaseException as raised:
        raised.__context__ = None
        raise  # the exception being handled is ``raised`` itself: nothing is chained


def decode_text(body: bytes) -> str:
    """Body bytes as text for diagnostics, whatever their encoding."""
    return body[:BODY_EXCERPT_LIMIT].decode("utf-8", errors="replace")


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
