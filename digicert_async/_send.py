"""The send step: what the client does around every exchange, whatever the transport.

:class:`SendStep` ends the chain: it refuses an attempt whose call's deadline has
passed, tells the ``RequestSent`` and ``ResponseReceived`` events, counts the sends of
a call for whoever asked (:func:`record_call`), and makes a success cut at
``max_response_bytes`` a ``ResponseError``. Then it hands the attempt to the transport
(``_transport``), the one step that does I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterator
from contextvars import ContextVar

import attrs

from ._errors import (
    ClientClosedError,
    DigiCertError,
    ResponseError,
    TransportError,
    decode_text,
    raise_unchained,
)
from ._hooks import Events, RequestSent, ResponseReceived
from ._pipeline import DeadlineRefused, Request, Response, Transport

__all__ = ["CallRecord", "SendStep", "record_call"]


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


class SendStep:
    """The end of the chain: one attempt handed to the transport, told and counted.

    An attempt whose call's deadline has passed is refused before anything is sent
    (``DeadlineRefused``, as the rate limiter refuses). A success whose body the
    transport cut at the client's ``max_response_bytes`` (``Response.truncated``) is a
    ``ResponseError``, never retried; an error answer comes back with the start of its
    body, and keeps the exception its status gives.
    """

    __slots__ = ("_events", "_max_body", "_transport")

    def __init__(self, transport: Transport, events: Events, max_body: int) -> None:
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
