"""The values a call is made of, and how the layers of the chain are put together.

A :class:`Request` goes down the chain of :class:`Middleware` layers to the send step
and its transport (``_send``, ``_transport``), and a :class:`Response`, plain data
fully read, comes back up. The chain is the library's own rather than aiohttp's client
middlewares so that it works the same on a session the caller owns, over any
transport, and so that every policy part can be tested alone.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import attrs

from ._checks import shown
from ._errors import TransportError, ValidationError

__all__ = [
    "API_KEY_HEADER",
    "ClientHeaders",
    "DeadlineRefused",
    "Handler",
    "Middleware",
    "Reader",
    "Request",
    "Requester",
    "Response",
    "Transport",
    "compose",
    "fill_route",
]

API_KEY_HEADER = "X-DC-DEVKEY"
"""The one header that carries the API key."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_Result = TypeVar("_Result")


Reader = Callable[["Response"], _Result]
"""How a call reads its answer, once it is a success: into a model, bytes or nothing
(see ``digicert_async._decode``). Readers are pure."""

# Segments that URL parsers resolve away (yarl, hence aiohttp, turns /a/../b into /b,
# %2E%2E included): no argument may be one, whatever quoting does to the rest.
_NOT_SEGMENTS = frozenset({"", ".", ".."})
# Ints below this are written as they are: digits and a sign, nothing to quote.
_MAX_DIGITS = 10**100


def fill_route(route: str, path_args: Mapping[str, object]) -> str:
    """``route`` (``/order/certificate/{order_id}``) with each argument in its place,
    percent-encoded as one path segment (``quote(str(value), safe="")``).

    This is the one place a template is filled, so no argument can leave its segment,
    whatever it holds (``/``, ``?``, ``#``, ``%2F``, spaces, any Unicode) and whatever
    the resource checked. An argument that cannot be a segment at all (empty, ``.``,
    ``..``) is a ``ValidationError`` naming it, before anything is sent.
    """
    segments: dict[str, object] | None = None
    for name, value in path_args.items():
        if type(value) is int and -_MAX_DIGITS < value < _MAX_DIGITS:
            continue  # digits: a segment as they are (the common case, an id)
        try:
            text = str(value)
        except ValueError:  # an int past Python's digit limit for str()
            raise ValidationError(name, f"{shown(value)} cannot be a path segment") from None
        if text in _NOT_SEGMENTS:
            raise ValidationError(name, f"{text!r} cannot be a path segment")
        if segments is None:
            segments = dict(path_args)
        segments[name] = quote(text, safe="")
    return route.format_map(path_args if segments is None else segments)


class ClientHeaders:
    """The headers every request of one client carries (the API key among them). Its
    repr names the headers, never their values, so a client's ``vars()`` or a frame
    that holds it shows no key."""

    __slots__ = ("_json", "_plain")

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._plain = dict(headers)
        self._json = {**headers, "Content-Type": "application/json"}

    def for_request(self, own: Mapping[str, str] | None, has_body: bool) -> dict[str, str]:
        """The headers of one request: the client's, ``Content-Type`` for a JSON body,
        and the endpoint's ``own`` (which win). Without ``own`` they are the client's
        dict, shared: a transport given to the client gets a copy of its own."""
        base = self._json if has_body else self._plain
        return {**base, **own} if own else base

    def __repr__(self) -> str:
        return f"ClientHeaders({', '.join(self._plain)})"


@attrs.define(kw_only=True)
class Request:
    """One API call as plain data, and what a transport is handed to send.

    For a transport: send ``method`` to ``url`` with the query ``params`` (pairs, still
    to be encoded), every header in ``headers`` and ``content`` as the body (None: no
    body). ``headers`` hold the API key (``X-DC-DEVKEY``): sending it is the transport's
    job, so the transport is the one place user code meets it; ``repr`` (and ``str``)
    of a request never shows ``headers``. ``deadline`` is the moment, on the event
    loop's clock (``loop.time()``), after which nobody waits for the answer: the client
    cuts the attempt there, and ``attempt`` numbers the sends of one call.

    The rest is the client's: ``route`` is the path template
    (``/order/certificate/{order_id}``), for telemetry and logs; ``path`` the route
    filled in (:func:`fill_route`), with ``path_args`` kept for the reader that checks
    an answer is about the object asked for, and ``url`` is ``root`` and ``path``,
    built once here. ``json`` is the body before encoding. ``read`` says how the answer
    is read (None: the raw ``Response``). ``call`` numbers the calls of a client, so
    that the events of one call can be told apart.

    ``replayable`` says whether the request may be sent again after it may have
    reached DigiCert (a reset, a timeout, a 502/503/504): idempotency belongs to the
    endpoint, not to the HTTP method. None (the default) lets the method decide (GET,
    PUT, DELETE yes; POST no); an endpoint whose PUT creates something (a revoke
    request, an approval decision) says False.

    A request belongs to one call. ``attempt`` and ``deadline`` are the retry
    middleware's to set before each attempt, so that the layers below it can report
    the attempt number and never wait past the deadline.
    """

    method: str
    path: str
    route: str = attrs.field(default=attrs.Factory(lambda self: self.path, takes_self=True))
    path_args: Mapping[str, object] = attrs.field(factory=dict, repr=False)
    root: str = ""
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    json: Any = None
    read: Reader[Any] | None = attrs.field(default=None, repr=False)
    call: int = 0
    replayable: bool | None = None
    attempt: int = 1
    deadline: float | None = None
    url: str = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        self.url = self.root + self.path

    @property
    def content(self) -> bytes | None:
        """The body as sent: ``json`` as compact JSON (ASCII); None without a body."""
        body = self.json
        if body is None:
            return None
        return json.dumps(body, separators=(",", ":")).encode()

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
    """An answer, fully read: plain data, no connection or aiohttp object behind it.

    A transport returns one with ``status``, ``headers`` and ``body`` (decoded: no
    ``Content-Encoding`` left to undo). ``truncated`` says ``body`` is only the start of
    an answer larger than the client's ``max_response_bytes``. The client sets
    ``method`` and ``url`` (those of the request) and ``attempts``: how many sends this
    answer took. ``error`` keeps the exception an error answer stands for, so that it
    is built once however many layers look.
    """

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""
    method: str = ""
    url: str = ""
    truncated: bool = False
    attempts: int = 1
    error: Any = attrs.field(default=None, init=False, eq=False, repr=False)


Handler = Callable[[Request], Awaitable[Response]]

Transport = Handler
"""``async (Request) -> Response``: one HTTP exchange. aiohttp's by default
(``_transport.AiohttpTransport``); ``CertCentralClient(transport=...)`` takes any."""


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


class Middleware(Protocol):
    """``async (request, call_next) -> response``: one policy layer of the chain. The
    second parameter is named ``call_next``: :func:`compose` binds it by name."""

    def __call__(self, request: Request, /, call_next: Handler) -> Awaitable[Response]: ...


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
    """Wrap ``endpoint`` so that ``middlewares[0]`` runs first (outermost).

    Each layer's ``__call__`` is bound to the next with ``functools.partial`` (hence
    the parameter name ``call_next``): a call goes from layer to layer with no frame in
    between."""
    handler = endpoint
    for middleware in reversed(middlewares):
        handler = functools.partial(middleware.__call__, call_next=handler)
    return handler
