"""The send step: what the client does around any transport, and more around one it
was given.

:class:`SendStep` ends the chain, whatever the transport: it refuses an attempt whose
call's deadline has passed, tells the ``RequestSent`` and ``ResponseReceived`` events,
counts the sends of a call for whoever asked (:func:`record_call`), and makes a success
cut at ``max_response_bytes`` a ``ResponseError``. Around a transport given to the
client (``transport=``), :class:`GuardedTransport` also does what the aiohttp transport
does for itself: it cuts each attempt at the client's ``timeout`` or the call's
deadline, holds the answer to ``max_response_bytes``, and turns anything else the
transport does wrong into a documented exception. Nothing here imports aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterator, Mapping
from contextvars import ContextVar

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from ._checks import describe, shown
from ._errors import (
    ClientClosedError,
    DigiCertError,
    ResponseError,
    TransportError,
    decode_text,
    raise_unchained,
)
from ._hooks import Events, RequestSent, ResponseReceived
from ._pipeline import API_KEY_HEADER, DeadlineRefused, Request, Response, Transport

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "OVERSIZE_HEAD",
    "CallRecord",
    "GuardedTransport",
    "SendStep",
    "record_call",
    "time_left",
    "timed_out",
]

DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
"""The default ``max_response_bytes``: answer bodies are bounded, never read whole
whatever their size."""

OVERSIZE_HEAD = 64 * 1024
"""Of an answer past the limit, only its start is kept: enough for an error's excerpt
and details, and no reason to hold megabytes that are discarded."""


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


def time_left(request: Request, timeout: float, now: float) -> float | None:
    """The seconds an attempt may last when the call's deadline ends it before the
    client's ``timeout`` would; None when the timeout comes first (or no deadline).
    An attempt ends at whichever comes first, over every transport."""
    deadline = request.deadline
    if deadline is None:
        return None
    left = deadline - now
    return left if left < timeout else None


def timed_out(left: float | None, timeout: float) -> str:
    """What a ``TransportError`` says of an attempt that got no answer in time
    (``left``, ``timeout``: as :func:`time_left` found them)."""
    if left is not None:
        return f"no answer before the call's deadline ({left:.3g} s were left)"
    return f"no answer within {timeout} s"


class SendStep:
    """The end of the chain: one attempt handed to the transport, told and counted.

    An attempt whose call's deadline has passed is refused before anything is sent
    (``DeadlineRefused``, as the rate limiter refuses). A success whose body the
    transport cut at the client's ``max_response_bytes`` (``Response.truncated``) is a
    ``ResponseError``, never retried; an error answer comes back with the start of its
    body, and keeps the exception its status gives.
    """

    __slots__ = ("_events", "_max_body", "_transport")

    def __init__(
        self, transport: Transport, events: Events, max_body: int = DEFAULT_MAX_RESPONSE_BYTES
    ) -> None:
        self._transport = transport
        self._events = events
        self._max_body = max_body

    async def __call__(self, request: Request) -> Response:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = request.deadline
        if deadline is not None and deadline <= started:
            raise DeadlineRefused(
                "the call's deadline had passed", method=request.method, url=request.url
            )
        events = self._events
        if events.on_request:  # events are built only for someone listening
            events.request_sent(
                RequestSent(
                    method=request.method,
                    url=request.url,
                    attempt=request.attempt,
                    call=request.call,
                    route=request.route,
                )
            )
        record = _CALL_RECORD.get()
        if record is None:
            response = await self._transport(request)
        else:
            response = await _recorded(self._transport(request), record)
        if events.listens_response():
            events.response_received(
                ResponseReceived(
                    method=request.method,
                    url=request.url,
                    attempt=request.attempt,
                    status=response.status,
                    elapsed=loop.time() - started,
                    call=request.call,
                    route=request.route,
                )
            )
        if response.truncated and 200 <= response.status < 300:
            raise_unchained(
                ResponseError(
                    f"the answer is larger than the client's max_response_bytes"
                    f" ({self._max_body} bytes); reading stopped there",
                    method=request.method,
                    url=request.url,
                    status=response.status,
                    body=decode_text(response.body),
                )
            )
        return response


async def _recorded(sending: Awaitable[Response], record: CallRecord) -> Response:
    """The answer to ``sending``, its send counted in ``record``: one that never left
    is not counted, one that may have been applied unseen marks the call lost. A send
    cut short (cancelled) stays in flight, which reads as lost too."""
    record.sends += 1
    record.in_flight = True
    try:
        response = await sending
    except TransportError as exc:
        record.in_flight = False
        if exc.request_sent:
            record.lost = True
        else:
            record.sends -= 1
        raise
    except ClientClosedError:  # the session was closed: nothing left
        record.in_flight = False
        record.sends -= 1
        raise
    except DigiCertError:
        record.in_flight = False
        raise
    record.in_flight = False
    record.lost |= response.status in _GATEWAY_STATUSES
    return response


class GuardedTransport:
    """A transport given to the client (``transport=``), held to what the client's own
    transport guarantees, so that retry, pacing, the deadline, decoding and the events
    work over it unchanged:

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
    - the answer's ``method`` and ``url`` are the request's, its headers are read
      case-insensitively, and a body past ``max_response_bytes`` keeps its start only
      (``truncated``): a success past it is a ``ResponseError``.
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
        try:
            answer: object = await asyncio.wait_for(
                self._transport(request), timeout if left is None else max(left, 0.0)
            )
        except DigiCertError:
            raise
        except asyncio.TimeoutError:
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
        answer.method = request.method
        answer.url = request.url
        if not isinstance(answer.headers, CIMultiDictProxy):
            answer.headers = CIMultiDictProxy(CIMultiDict(answer.headers))
        if len(answer.body) > self._max_body:
            answer.body = answer.body[: min(self._max_body, OVERSIZE_HEAD)]
            answer.truncated = True
        return answer


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
