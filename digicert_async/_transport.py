"""The transports: the one step that does I/O, at the end of the chain.

:class:`AiohttpTransport` is the default: one HTTP exchange through aiohttp, the body
read in bounded steps, its failures mapped by a table (:data:`FAILURES`). It is the
library's edge with aiohttp: nothing of aiohttp's (no response, no exception) leaves
it. Any ``async (Request) -> Response`` can stand in for it
(``CertCentralClient(transport=...)``): :class:`GuardedTransport` holds such a
transport to what the default one guarantees.
"""

from __future__ import annotations

import asyncio
import copy
import math
import ssl
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ._checks import describe, shown
from ._errors import ClientClosedError, DigiCertError, TransportError, raise_unchained
from ._inflate import BodyNotDecodable, Inflater
from ._pipeline import API_KEY_HEADER, DeadlineRefused, Request, Response, Transport

__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "FAILURES",
    "OVERSIZE_HEAD",
    "AiohttpTransport",
    "Failure",
    "GuardedTransport",
    "failure_of",
    "refuse_if_late",
    "time_left",
    "timed_out",
]

ACCEPT_ENCODING = "gzip, deflate"
"""Asked of the server: the encodings this transport decodes itself, counting what
they inflate to (the client adds it to the headers it gives this transport)."""


DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
"""The default ``max_response_bytes``: answer bodies are bounded, never read whole
whatever their size."""

OVERSIZE_HEAD = 64 * 1024
"""Of an answer past the limit, only its start is kept: enough for an error's excerpt
and details, and no reason to hold megabytes that are discarded."""


def refuse_if_late(request: Request, now: float) -> None:
    """Raise ``DeadlineRefused`` (nothing sent, the same refusal the rate limiter gives)
    when the call's deadline has passed at ``now``."""
    deadline = request.deadline
    if deadline is not None and deadline <= now:
        raise DeadlineRefused(
            "the call's deadline had passed", method=request.method, url=request.url
        )


def time_left(request: Request, timeout: float, now: float) -> float | None:
    """The seconds an attempt may last when the call's deadline ends it before the
    client's ``timeout`` would; None when the timeout comes first (or no deadline).
    An attempt ends at whichever comes first, over every transport; one whose deadline
    has passed is refused (:func:`refuse_if_late`)."""
    deadline = request.deadline
    if deadline is None:
        return None
    left = deadline - now
    if left <= 0.0:
        refuse_if_late(request, now)
    return left if left < timeout else None


def timed_out(left: float | None, timeout: float) -> str:
    """What a ``TransportError`` says of an attempt that got no answer in time
    (``left``, ``timeout``: as :func:`time_left` found them)."""
    if left is not None:
        return f"no answer before the call's deadline ({left:.3g} s were left)"
    return f"no answer within {timeout} s"


class AiohttpTransport:
    """One exchange through an aiohttp session: sent, body read, connection released.

    Redirects are never followed: a 3xx comes back as an answer (and becomes a
    ``RedirectError``), so the key header can never be carried to another origin.

    The body is read in steps, decoded here (gzip, deflate) rather than by aiohttp,
    and counted as it arrives: past ``max_body`` bytes (decoded) reading stops, the
    connection is dropped and the answer comes back ``truncated``, with its start
    only. This holds on a session the caller owns too, whatever its
    ``auto_decompress``.

    Each attempt ends by ``timeout`` or the call's deadline (``Request.deadline``),
    whichever comes first.

    aiohttp's exceptions become ``TransportError`` by :data:`FAILURES`, outside of the
    ``except`` block that caught them, so that nothing chains them (their
    ``request_info`` holds the request headers, the key among them) and none of
    aiohttp's frames, whose locals hold those headers too, is in the traceback.
    """

    __slots__ = ("_max_body", "_seconds", "_session", "_timeout")

    def __init__(
        self,
        session: aiohttp.ClientSession,
        timeout: float,
        max_body: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._session = session
        self._seconds = timeout
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_body = max_body

    async def __call__(self, request: Request) -> Response:
        left = time_left(request, self._seconds, asyncio.get_running_loop().time())
        # aiohttp rounds timeouts of 5 s or more up to a whole second; a deadline is
        # kept to the moment.
        timeout = (
            self._timeout
            if left is None
            else aiohttp.ClientTimeout(total=left, ceil_threshold=math.inf)
        )
        failure: Failure | None = None
        try:
            async with self._session.request(
                request.method,
                request.url,
                params=request.params or None,
                data=None if request.json is None else request.content,
                headers=request.headers,
                timeout=timeout,
                allow_redirects=False,
                auto_decompress=False,
            ) as answer:
                status = answer.status
                headers = answer.headers
                body, truncated = await _read_body(answer, self._max_body)
                if truncated:
                    answer.close()  # the rest is unread: the connection cannot be reused
        except _MAPPED as exc:
            failure = failure_of(exc, _Limit(self._seconds, left))
        except RuntimeError:
            if not self._session.closed:
                raise
            raise_unchained(
                ClientClosedError(f"{request.method} {request.url}: the aiohttp session is closed")
            )
        if failure is not None:
            raise_unchained(
                TransportError(
                    failure.message,
                    method=request.method,
                    url=request.url,
                    request_sent=failure.request_sent,
                    timeout=failure.timeout,
                    permanent=failure.permanent,
                )
            )
        return Response(
            status=status,
            headers=headers,
            body=body,
            method=request.method,
            url=request.url,
            truncated=truncated,
        )


async def _read_body(answer: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """The answer's body, decoded, and whether it is larger than ``limit`` bytes.

    An oversized body is cut to its first bytes (at most ``OVERSIZE_HEAD``); no more
    than ``limit`` decoded bytes (plus one step) are ever held.
    """
    encoding = answer.headers.get("Content-Encoding")
    inflater = Inflater.for_encoding(encoding) if encoding else None
    # An identity body that announces its size past the limit is cut at once: only
    # its head is of any use.
    declared = answer.content_length if inflater is None else None
    if declared is not None and declared <= limit:
        return await answer.read(), False  # HTTP itself ends it at the size announced
    head = min(limit, OVERSIZE_HEAD)
    enough = head if declared is not None and declared > limit else None
    content = answer.content
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await content.readany()
        if inflater is not None:
            raw = chunk
            # at the end (b""), this drains what the decoder still holds
            chunk = inflater.inflate(raw, limit - size + 1)
            if not chunk:
                if raw:
                    continue  # compressed input that yields nothing yet
                break
        elif not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or (enough is not None and size >= enough):
            return _head(chunks, head), True
    if len(chunks) == 1:
        return chunks[0], False
    return b"".join(chunks), False


def _head(chunks: list[bytes], size: int) -> bytes:
    head = bytearray()
    for chunk in chunks:
        head += chunk[: size - len(head)]
        if len(head) >= size:
            break
    return bytes(head)


class GuardedTransport:
    """A transport given to the client (``transport=``), held to what the client's own
    transport guarantees, so that retry, pacing, the deadline, decoding and the events
    work over it unchanged:

    - it is handed a copy of each attempt's request, with headers of its own (the
      client's, the key among them): what it changes there changes no other request;

    - each attempt ends at the client's ``timeout`` or the call's deadline, whichever
      comes first: a ``TransportError`` with ``timeout=True`` (a ``TimeoutError`` the
      transport raises is one too), retried as a timeout is;
    - a ``DigiCertError`` the transport raises passes as it is: a ``TransportError``
      with ``request_sent=False`` (the request never left) is retried for every method,
      one with ``request_sent=True`` only for idempotent requests;
    - any other exception, or an answer that is no ``Response`` (a status outside
      100-599, a body that is not bytes, a header that is not text), is a
      ``TransportError`` with ``permanent=True`` and ``request_sent=True``: never
      retried, nothing chained to it, and the API key, if the message held it, is
      written ``<api key>``;
    - the answer is read from a copy (the transport's own is never changed): its
      ``method`` and ``url`` are the request's, its headers are read
      case-insensitively, and a body past ``max_response_bytes`` keeps its start only
      (``truncated``: a success past it is a ``ResponseError`` when it is decoded).
    """

    __slots__ = ("_max_body", "_timeout", "_transport")

    def __init__(self, transport: Transport, timeout: float, max_body: int) -> None:
        self._transport = transport
        self._timeout = timeout
        self._max_body = max_body

    async def __call__(self, request: Request) -> Response:
        timeout = self._timeout
        left = time_left(request, timeout, asyncio.get_running_loop().time())
        timed = False
        given = copy.copy(request)
        given.headers = dict(request.headers)  # its own: changing them changes no other
        try:
            answer: object = await asyncio.wait_for(
                self._transport(given), timeout if left is None else left
            )
        except DigiCertError:
            raise
        except (asyncio.TimeoutError, TimeoutError):  # one class from Python 3.11 on
            failure, timed = timed_out(left, timeout), True
        except Exception as exc:
            # the key out at once: this frame's locals are in the error's traceback
            failure = _without_key(
                f"the transport raised {describe(exc)}: {_text_of(exc)}", request.headers
            )
        else:
            problem = _not_a_response(answer)
            if problem is None:
                assert isinstance(answer, Response)  # what _not_a_response checked
                return self._held(answer, request)
            failure = f"the transport returned {problem}"
        raise_unchained(
            TransportError(
                failure,
                method=request.method,
                url=request.url,
                request_sent=True,
                timeout=timed,
                permanent=not timed,
            )
        )

    def _held(self, answer: Response, request: Request) -> Response:
        # A new answer, the client's own: a transport may hand the same one out twice
        # (a canned answer), and each attempt keeps its own attempts and exception.
        headers = answer.headers
        body = answer.body
        truncated = answer.truncated
        if len(body) > self._max_body:
            body, truncated = body[: min(self._max_body, OVERSIZE_HEAD)], True
        return Response(
            status=answer.status,
            headers=headers
            if isinstance(headers, CIMultiDictProxy)
            else CIMultiDictProxy(CIMultiDict(headers)),
            body=body,
            method=request.method,
            url=request.url,
            truncated=truncated,
        )


def _not_a_response(answer: object) -> str | None:
    """What makes ``answer`` no answer the client can read, or None."""
    if not isinstance(answer, Response):
        return f"{describe(answer)}, not a Response"
    status = answer.status
    if type(status) is not int or not 100 <= status <= 599:
        return f"the status {shown(status)}, not an HTTP status"
    if not isinstance(answer.body, bytes):
        return f"a body of {describe(answer.body)}, not bytes"
    headers = answer.headers
    if not isinstance(headers, Mapping):
        return f"headers of {describe(headers)}, not a mapping"
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            return f"the header {shown(name)}: {describe(value)}, not text"
    return None


def _text_of(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a __str__ that fails says nothing
        return ""


def _without_key(text: str, headers: Mapping[str, str]) -> str:
    # A transport's own exception may quote the request's headers, the key among them.
    key = headers.get(API_KEY_HEADER)
    return text.replace(key, "<api key>") if key else text


# -- failures -------------------------------------------------------------------------------------


@attrs.frozen
class Failure:
    """What a failed exchange was, in safe terms: no reference to aiohttp's exception."""

    message: str
    request_sent: bool
    timeout: bool = False
    permanent: bool = False


@attrs.frozen
class _Limit:
    """The attempt's time bound, for the message of a timeout."""

    timeout: float
    left: float | None  # set when the call's deadline came before the timeout


# TLS failures of the handshake that a retry may well get past (the peer went away).
_TRANSIENT_SSL_ERRORS = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def _safe_message(exc: BaseException) -> str:
    # Some aiohttp errors carry request_info, whose headers hold the API key: take
    # only the message, never the repr of the request.
    if hasattr(exc, "request_info"):
        return str(getattr(exc, "message", "")) or type(exc).__name__
    return str(exc) or type(exc).__name__


def _timed_out(exc: BaseException, limit: _Limit) -> Failure:
    return Failure(timed_out(limit.left, limit.timeout), request_sent=True, timeout=True)


FAILURES: Mapping[type[BaseException], Callable[[Any, _Limit], Failure]] = {
    # the body does not decode in the Content-Encoding the server named
    BodyNotDecodable: lambda exc, _: Failure(str(exc), request_sent=True, permanent=True),
    aiohttp.ClientConnectorCertificateError: lambda exc, _: Failure(
        f"TLS certificate verification failed: {exc.certificate_error}",
        request_sent=False,
        permanent=True,
    ),
    aiohttp.ClientConnectorSSLError: lambda exc, _: Failure(
        f"TLS handshake failed: {exc.os_error}",
        request_sent=False,
        permanent=not isinstance(exc.os_error, _TRANSIENT_SSL_ERRORS),
    ),
    aiohttp.ServerFingerprintMismatch: lambda exc, _: Failure(
        "the server's TLS certificate does not match the expected fingerprint",
        request_sent=False,
        permanent=True,
    ),
    # the TCP (or TLS) connection was never established: nothing was sent
    aiohttp.ClientConnectorError: lambda exc, _: Failure(
        f"cannot connect: {exc.os_error or exc}", request_sent=False
    ),
    asyncio.TimeoutError: _timed_out,
    aiohttp.ServerTimeoutError: _timed_out,  # a ClientError as well: named, so it is a timeout
    # a host name IDNA cannot encode, met at DNS time
    UnicodeError: lambda exc, _: Failure(
        f"invalid host name: {exc}", request_sent=False, permanent=True
    ),
    aiohttp.InvalidURL: lambda exc, _: Failure(
        f"invalid URL: {exc}", request_sent=False, permanent=True
    ),
    aiohttp.NonHttpUrlClientError: lambda exc, _: Failure(  # no InvalidURL, though it is one
        f"invalid URL: {exc}", request_sent=False, permanent=True
    ),
    # the proxy refused to open the tunnel: nothing reached DigiCert
    aiohttp.ClientHttpProxyError: lambda exc, _: Failure(
        f"the proxy answered HTTP {exc.status}", request_sent=False
    ),
    # raised while reading the status line and headers: not HTTP, or broken HTTP
    aiohttp.ClientResponseError: lambda exc, _: Failure(
        f"the answer is not valid HTTP: {_safe_message(exc)}", request_sent=True, permanent=True
    ),
    # anything else of aiohttp's: a reset, a closed connection, a payload cut short
    aiohttp.ClientError: lambda exc, _: Failure(
        f"{type(exc).__name__}: {_safe_message(exc)}", request_sent=True
    ),
}
"""How each exception an exchange may raise becomes a ``TransportError`` (its message
and flags). An exception is read by the entry of the first class in its MRO that the
table names, so a subclass's entry wins over its base's, as in httpx's
``map_exceptions``; what the table does not name is not caught here."""

_MAPPED = tuple(FAILURES)


def failure_of(exc: BaseException, limit: _Limit) -> Failure:
    """What ``exc`` (an instance of a class :data:`FAILURES` names) says of the
    exchange; pure, and it keeps no reference to ``exc``."""
    for cls in type(exc).__mro__:
        entry = FAILURES.get(cls)
        if entry is not None:
            return entry(exc, limit)
    return Failure(type(exc).__name__, request_sent=True)  # a virtual subclass, at most
