"""The exception tree: every exception the library raises (an error answer is read into
one by ``_error_answers``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import attrs

from ._escape import visible

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
    "list_problems",
    "problem_text",
    "raise_unchained",
]

# Enough of a body to diagnose an HTML proxy page without keeping megabytes alive.
BODY_EXCERPT_LIMIT = 2000


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


# A hostile body can hold thousands of problems: a message lists this many and counts
# the rest; the error's ``problems`` holds them all.
LISTED_PROBLEMS = 20
_PROBLEM_TEXT_LIMIT = 160

Problem = tuple[str, str]
"""One problem of a document: (dotted path, what is wrong)."""


def problem_text(message: str) -> str:
    """``message`` cut to a length a list of problems can show."""
    if len(message) <= _PROBLEM_TEXT_LIMIT:
        return message
    return message[: _PROBLEM_TEXT_LIMIT - 3] + "..."


def list_problems(problems: Sequence[Problem]) -> str:
    """``path: message; path: message`` for the first :data:`LISTED_PROBLEMS`, and how
    many more there are."""
    shown = "; ".join(f"{path}: {message}" for path, message in problems[:LISTED_PROBLEMS])
    rest = len(problems) - LISTED_PROBLEMS
    if rest > 0:
        shown += f"; and {rest:,} more (all {len(problems):,} are in .problems)"
    return shown


class ValidationError(DigiCertError, ValueError):
    """Input was rejected before any request was sent.

    ``field`` is the dotted wire name of the offending field (``ship_info.method``).
    ``problems`` is every problem found, as (field, message) pairs, the first being
    ``field`` and ``message`` (data read by ``dc.converter.structure`` may have many).
    """

    def __init__(
        self, field: str, message: str, *, problems: Sequence[Problem] | None = None
    ) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.problems: tuple[Problem, ...] = tuple(problems) if problems else ((field, message),)

    @classmethod
    def of_problems(cls, problems: Sequence[Problem]) -> ValidationError:
        """The error naming the first of ``problems`` (at least one) and listing the
        others in its message (see :func:`list_problems`)."""
        field, message = problems[0]
        if len(problems) > 1:
            more = len(problems) - 1
            message += (
                f" (and {more:,} more problem{'s' if more > 1 else ''}: "
                f"{list_problems(problems[1:])})"
            )
        return cls(field, message, problems=problems)


class APIError(DigiCertError):
    """The server answered with a status that is not a success.

    ``url`` never carries the API key (the key only ever travels in a header).
    ``attempts`` is how many times the request was sent before giving up.
    ``errors`` holds the body's first 100 error entries;
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
    (``orders[3].certificate.valid_till``) when one value is to blame, else None; when
    the body does not fit its model, ``problems`` holds every problem found as (path,
    message) pairs, ``field`` being the first (the message lists the first
    :data:`LISTED_PROBLEMS` and counts the rest).
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
        problems: Sequence[Problem] = (),
    ) -> None:
        super().__init__(f"{method} {url} -> HTTP {status}: {message}")
        self.method = method
        self.url = url
        self.status = status
        self.body = body[:BODY_EXCERPT_LIMIT]
        self.field = field
        self.problems: tuple[Problem, ...] = tuple(problems)


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
