"""Request/Response values, the middleware chain, and the one step that does I/O.

The chain is the library's own rather than aiohttp's client middlewares so that it
works the same on a session the caller owns and under aioresponses (which patches
below ``session.request``), and so that every policy part can be tested alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import math
import ssl
import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

import aiohttp
import attrs

from ._errors import (
    ClientClosedError,
    ResponseError,
    TransportError,
    decode_text,
    raise_unchained,
)
from ._hooks import Events, Hooks, RequestSent, ResponseReceived

__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "CallRecord",
    "DeadlineRefused",
    "Handler",
    "HttpSender",
    "Middleware",
    "Reader",
    "Request",
    "Requester",
    "Response",
    "compose",
    "record_call",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_Result = TypeVar("_Result")


Reader = Callable[["Response"], _Result]
"""How a call reads its answer, once it is a success: into a model, bytes or nothing
(see ``digicert_async._decode``). Readers are pure."""


@attrs.define(kw_only=True)
class Request:
    """One API call as plain data.

    ``route`` is the path template (``/order/certificate/{order_id}``), for telemetry
    and logs; ``path`` the path filled in (with ``path_args``, kept for the reader
    that checks an answer is about the object asked for), and ``url`` the whole URL
    (``root`` and ``path``), built once here. ``headers`` are this request's own; the send step
    adds the client's, the API key among them, so that no ``Request`` holds the key.
    ``read`` says how the answer is read (None: the raw ``Response``). ``call``
    numbers the calls of a client, so that the events of one call can be told apart.

    ``replayable`` says whether the request may be sent again after it may have
    reached DigiCert (a reset, a timeout, a 502/503/504): idempotency belongs to the
    endpoint, not to the HTTP method. None (the default) lets the method decide (GET,
    PUT, DELETE yes; POST no); an endpoint whose PUT creates something (a revoke
    request, an approval decision) says False.

    A request belongs to one call. ``attempt`` and ``deadline`` are the retry
    middleware's to set before each attempt, so that the layers below it can report
    the attempt number and never wait past the deadline (a monotonic
    ``loop.time()`` value).
    """

    method: str
    path: str
    route: str = attrs.field(default=attrs.Factory(lambda self: self.path, takes_self=True))
    path_args: Mapping[str, object] = attrs.field(factory=dict, repr=False)
    root: str = ""
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] | None = None
    json: Any = None
    read: Reader[Any] | None = None
    call: int = 0
    replayable: bool | None = None
    attempt: int = 1
    deadline: float | None = None
    url: str = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        self.url = self.root + self.path

    @property
    def idempotent(self) -> bool:
        """Whether a send that may have reached DigiCert can be repeated safely:
        ``replayable`` when the endpoint said, else what the method implies."""
        if self.replayable is not None:
            return self.replayable
        return self.method in IDEMPOTENT_METHODS

    def for_attempt(self, attempt: int, deadline: float | None) -> Request:
        """This request as its ``attempt``-th send: itself for the first, a copy after
        (each attempt stays what it was for whoever looked at it)."""
        if attempt == 1:
            self.deadline = deadline
            return self
        again = copy.copy(self)
        again.attempt = attempt
        again.deadline = deadline
        return again


@attrs.define(kw_only=True)
class Response:
    """An answer, fully read: no aiohttp object escapes the send step.

    ``attempts`` is set by the retry middleware: how many sends this answer took.
    ``error`` keeps the exception an error answer decodes to (see ``_decode``), so
    that it is built once however many layers look at it.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    method: str
    url: str
    attempts: int = 1
    error: Any = attrs.field(default=None, init=False, eq=False, repr=False)

    def with_attempts(self, attempts: int) -> Response:
        """This answer, as the last of ``attempts`` sends."""
        self.attempts = attempts
        if self.error is not None:
            self.error.attempts = attempts
        return self


Handler = Callable[[Request], Awaitable[Response]]


class DeadlineRefused(TransportError):
    """A step below the retry layer would not start the attempt: the call's deadline
    has passed, or would pass while it waits (the rate limiter's queue, a cool-down).

    Nothing was sent (``request_sent=False, timeout=True``), and it is final: the retry
    layer reports the previous attempt's outcome instead, if there was one. Users
    catch it as the ``TransportError`` it is.
    """

    def __init__(self, why: str, *, method: str, url: str) -> None:
        super().__init__(
            f"not sent: {why}", method=method, url=url, request_sent=False, timeout=True
        )


@attrs.define
class CallRecord:
    """What the sends of one call did, for a caller that must know whether its request
    may have reached DigiCert unseen (a bulk job settling an order).

    ``sends`` counts the attempts that went on the wire. ``lost`` turns True when one of
    them may have been applied without an answer saying so: no answer came back (reset,
    timeout), or a gateway answered 502 or 504 in DigiCert's place. ``in_flight`` is True
    while a send awaits its answer, so a call cut short reads as lost too. A 429, a 503
    and a connection never opened are refusals: nothing was applied.
    """

    sends: int = 0
    lost: bool = False
    in_flight: bool = False

    @property
    def maybe_applied_unseen(self) -> bool:
        """Whether some send of this call may have been applied without an answer."""
        return self.lost or self.in_flight


_CALL_RECORD: ContextVar[CallRecord | None] = ContextVar("digicert_call_record", default=None)
# Answers that come from a gateway in DigiCert's place: the request may have gone on.
_GATEWAY_STATUSES = frozenset({502, 504})


@contextlib.contextmanager
def record_call() -> Iterator[CallRecord]:
    """Record what the sends of the calls made inside the block do (one call, usually)."""
    record = CallRecord()
    token = _CALL_RECORD.set(record)
    try:
        yield record
    finally:
        _CALL_RECORD.reset(token)


class Middleware(Protocol):
    """``async (request, call_next) -> response``: one policy layer of the chain."""

    def __call__(self, request: Request, call_next: Handler, /) -> Awaitable[Response]: ...


class Requester(Protocol):
    """What a resource method needs: one call, by its parts. The client is one; a
    resource never sees more of it (no import of the client, so no circle)."""

    async def call(
        self,
        method: str,
        route: str,
        read: Reader[_Result],
        *,
        path_args: Mapping[str, object] | None = None,
        params: tuple[tuple[str, str], ...] = (),
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        replayable: bool | None = None,
    ) -> _Result:
        """Send ``method route`` (``route`` filled with ``path_args``) and return the
        answer as ``read`` reads it, or raise the documented exception.

        ``replayable=False`` marks an endpoint that must never be sent twice once it
        may have reached DigiCert, whatever its method (see ``Request.replayable``)."""
        ...


def compose(middlewares: Sequence[Middleware], endpoint: Handler) -> Handler:
    """Wrap ``endpoint`` so that ``middlewares[0]`` runs first (outermost)."""
    handler = endpoint
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler


def _bind(middleware: Middleware, call_next: Handler) -> Handler:
    def bound(request: Request) -> Awaitable[Response]:
        return middleware(request, call_next)

    return bound


# Response bodies are read in steps and counted as they arrive (decoded bytes for a
# compressed body), never with one unbounded read().
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
# Of an answer past the limit, only its start is kept: enough for an error's
# excerpt and details, and no reason to read or hold megabytes that are discarded.
_OVERSIZE_HEAD = 64 * 1024
# The most decoded bytes one decompression step may produce.
_INFLATE_STEP = 256 * 1024
# Asked of the server; the library decodes these itself, counting what they inflate to.
ACCEPT_ENCODING = "gzip, deflate"


class HttpSender:
    """The send step: one HTTP exchange through aiohttp, body read, connection released.

    Redirects are never followed: a 3xx comes back as an answer (and becomes a
    ``RedirectError``), so the key header can never be carried to another origin.

    The body is read in steps, decoded here (gzip, deflate) rather than by aiohttp,
    and counted as it arrives: past ``max_body`` bytes (decoded) reading stops and
    the connection is dropped. A success status past the limit is a
    ``ResponseError``; any other status comes back with the start of its body only.
    This holds on a session the caller owns too, whatever its ``auto_decompress``.

    Each attempt ends by the client's ``timeout`` or the call's deadline
    (``Request.deadline``), whichever comes first.

    aiohttp's exceptions are turned into ``TransportError`` outside of the ``except``
    block that caught them, so that nothing chains them (their ``request_info``
    holds the request headers, the key among them) and none of aiohttp's frames,
    whose locals hold those headers too, is in the traceback. No local variable of
    this step holds the headers either.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        headers: Mapping[str, str],
        timeout: float,
        hooks: Hooks | Events,
        max_body: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._session = session
        self._headers = {**headers, "Accept-Encoding": ACCEPT_ENCODING}
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._seconds = timeout
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._events = Events.of(hooks)
        self._max_body = max_body

    def _headers_for(self, request: Request, has_body: bool) -> Mapping[str, str]:
        # A method, so that no local of the send step holds the headers (the key).
        base = self._json_headers if has_body else self._headers
        return base if request.headers is None else {**base, **request.headers}

    async def __call__(self, request: Request) -> Response:
        url = request.url
        method = request.method
        data = (
            None
            if request.json is None
            else json.dumps(request.json, separators=(",", ":")).encode()
        )
        events = self._events
        loop = asyncio.get_running_loop()
        started = loop.time()
        timeout = self._timeout
        deadline = request.deadline
        if deadline is not None and deadline - started < self._seconds:
            left = deadline - started
            if left <= 0.0:
                # The same refusal the rate limiter gives: nothing was sent.
                raise DeadlineRefused("the call's deadline had passed", method=method, url=url)
            # aiohttp rounds timeouts of 5 s or more up to a whole second; a
            # deadline is kept to the moment.
            timeout = aiohttp.ClientTimeout(total=left, ceil_threshold=math.inf)
        if events.on_request:  # events are built only for someone listening
            events.request_sent(
                RequestSent(
                    method=method,
                    url=url,
                    attempt=request.attempt,
                    call=request.call,
                    route=request.route,
                )
            )
        failure: _Failure | None = None
        record = _CALL_RECORD.get()
        if record is not None:
            record.sends += 1
            record.in_flight = True
        try:
            async with self._session.request(
                method,
                url,
                params=request.params or None,
                data=data,
                headers=self._headers_for(request, data is not None),
                timeout=timeout,
                allow_redirects=False,
                auto_decompress=False,
            ) as answer:
                status = answer.status
                answer_headers = answer.headers
                body, oversized = await _read_body(answer, self._max_body)
                if oversized:
                    answer.close()  # the rest is unread: the connection cannot be reused
        except (aiohttp.ClientError, asyncio.TimeoutError, UnicodeError, _BodyNotDecodable) as exc:
            failure = _failure(exc, timeout is not self._timeout, timeout.total)
        except RuntimeError:
            if not self._session.closed:
                raise
            failure = _SESSION_CLOSED
        if record is not None:
            record.in_flight = False
            if failure is None:
                record.lost |= status in _GATEWAY_STATUSES
            elif failure.request_sent:
                record.lost = True
            else:  # it never reached the wire
                record.sends -= 1
        if failure is not None:
            if failure is _SESSION_CLOSED:
                raise_unchained(ClientClosedError(f"{method} {url}: the aiohttp session is closed"))
            raise_unchained(
                TransportError(
                    failure.message,
                    method=method,
                    url=url,
                    request_sent=failure.request_sent,
                    timeout=failure.timeout,
                    permanent=failure.permanent,
                )
            )
        if events.listens_response():
            events.response_received(
                ResponseReceived(
                    method=method,
                    url=url,
                    attempt=request.attempt,
                    status=status,
                    elapsed=loop.time() - started,
                    call=request.call,
                    route=request.route,
                )
            )
        if oversized and 200 <= status < 300:
            raise ResponseError(
                f"the answer is larger than the client's max_response_bytes"
                f" ({self._max_body} bytes); reading stopped there",
                method=method,
                url=url,
                status=status,
                body=decode_text(body),
            )
        return Response(status=status, headers=answer_headers, body=body, method=method, url=url)


async def _read_body(answer: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """The answer's body, decoded, and whether it is larger than ``limit`` bytes.

    An oversized body is cut to its first bytes (at most ``_OVERSIZE_HEAD``); no more
    than ``limit`` decoded bytes (plus one step) are ever held.
    """
    encoding = answer.headers.get("Content-Encoding")
    inflater = _Inflater.for_encoding(encoding) if encoding else None
    # An identity body that announces its size past the limit is cut at once: only
    # its head is of any use.
    declared = answer.content_length if inflater is None else None
    if declared is not None and declared <= limit:
        return await answer.read(), False  # HTTP itself ends it at the size announced
    enough = min(limit, _OVERSIZE_HEAD) if declared is not None and declared > limit else None
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
            return _head(chunks, min(limit, _OVERSIZE_HEAD)), True
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


def _zlib_wrapped(data: bytes) -> bool:
    # A zlib header: compression method 8 in the low nibble, the first two bytes
    # a multiple of 31 (RFC 1950).
    if data[0] & 0x0F != 8:
        return False
    return len(data) < 2 or (data[0] << 8 | data[1]) % 31 == 0


class _BodyNotDecodable(Exception):
    """The body does not decode in the Content-Encoding the server named."""


class _Inflater:
    """Decodes a gzip or deflate body in bounded steps, so that what it inflates to is
    counted (and stopped) as it grows. Data after the end of the compressed stream is
    ignored, as aiohttp does."""

    __slots__ = ("_decoder", "_done", "_encoding")

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._decoder: Any = None
        self._done = False

    @classmethod
    def for_encoding(cls, encoding: str) -> _Inflater | None:
        """An inflater for ``encoding``; None for the identity (and for encodings that
        were not asked for, which are passed through as aiohttp passes them)."""
        name = encoding.strip().lower()
        if name in ("gzip", "x-gzip", "deflate"):
            return cls(name)
        return None

    def inflate(self, data: bytes, room: int) -> bytes:
        """Decode ``data`` (b"": flush), returning at most ``room`` bytes; the input
        that did not fit is kept for the next call."""
        if self._done:
            return b""
        decoder = self._decoder
        if decoder is None:
            if not data:
                return b""
            if self._encoding == "deflate":
                # RFC 9110's deflate is zlib-wrapped; some servers send it raw.
                wbits = zlib.MAX_WBITS if _zlib_wrapped(data) else -zlib.MAX_WBITS
            else:
                wbits = 16 + zlib.MAX_WBITS
            decoder = self._decoder = zlib.decompressobj(wbits)
        pieces: list[bytes] = []
        produced = 0
        while produced < room:
            try:
                piece = decoder.decompress(data, min(room - produced, _INFLATE_STEP))
            except zlib.error as exc:
                raise _BodyNotDecodable(
                    f"the answer's body does not decode as {self._encoding} ({exc})"
                ) from None
            if piece:
                pieces.append(piece)
                produced += len(piece)
            if decoder.eof:
                self._done = True
                break
            tail = decoder.unconsumed_tail
            if not piece and len(tail) == len(data):
                break  # no input taken, nothing produced: all that can come out is out
            data = tail
        if len(pieces) == 1:
            return pieces[0]
        return b"".join(pieces)


@attrs.frozen
class _Failure:
    """What a failed exchange was, in safe terms: no reference to aiohttp's exception."""

    message: str
    request_sent: bool
    timeout: bool = False
    permanent: bool = False


_SESSION_CLOSED = _Failure("the aiohttp session is closed", request_sent=False)

# TLS failures of the handshake that a retry may well get past (the peer went away).
_TRANSIENT_SSL_ERRORS = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def _failure(exc: BaseException, by_deadline: bool, seconds: float | None) -> _Failure:
    """Classify what aiohttp raised (pure; called in the ``except`` block, returns
    only strings and flags)."""
    if isinstance(exc, _BodyNotDecodable):
        return _Failure(str(exc), request_sent=True, permanent=True)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return _Failure(
            f"TLS certificate verification failed: {exc.certificate_error}",
            request_sent=False,
            permanent=True,
        )
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return _Failure(
            f"TLS handshake failed: {exc.os_error}",
            request_sent=False,
            permanent=not isinstance(exc.os_error, _TRANSIENT_SSL_ERRORS),
        )
    if isinstance(exc, aiohttp.ServerFingerprintMismatch):
        return _Failure(
            "the server's TLS certificate does not match the expected fingerprint",
            request_sent=False,
            permanent=True,
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        # The TCP (or TLS) connection was never established: nothing was sent.
        return _Failure(f"cannot connect: {exc.os_error or exc}", request_sent=False)
    if isinstance(exc, asyncio.TimeoutError):
        if by_deadline:
            message = f"no answer before the call's deadline ({seconds:.3g} s were left)"
        else:
            message = f"no answer within {seconds} s"
        return _Failure(message, request_sent=True, timeout=True)
    if isinstance(exc, UnicodeError):  # a host name IDNA cannot encode, met at DNS time
        return _Failure(f"invalid host name: {exc}", request_sent=False, permanent=True)
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        return _Failure(f"invalid URL: {exc}", request_sent=False, permanent=True)
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        # The proxy refused to open the tunnel: nothing reached DigiCert.
        return _Failure(f"the proxy answered HTTP {exc.status}", request_sent=False)
    if isinstance(exc, aiohttp.ClientResponseError):
        # Raised while reading the status line and headers: not HTTP, or broken HTTP.
        return _Failure(
            f"the answer is not valid HTTP: {_safe_message(exc)}",
            request_sent=True,
            permanent=True,
        )
    return _Failure(f"{type(exc).__name__}: {_safe_message(exc)}", request_sent=True)


def _safe_message(exc: BaseException) -> str:
    # Some aiohttp errors carry request_info, whose headers hold the API key: take
    # only the message, never the repr of the request.
    if hasattr(exc, "request_info"):
        return str(getattr(exc, "message", "")) or type(exc).__name__
    return str(exc) or type(exc).__name__
