"""The send step: what the client does around every exchange, whatever the transport.

:class:`SendStep` ends the chain: it tells the ``RequestSent`` and ``ResponseReceived``
events and counts the sends of a call for whoever asked (:func:`record_call`), around
the transport (``_transport``), the one step that does I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterator
from contextvars import ContextVar

import attrs

from ._errors import ClientClosedError, DigiCertError, TransportError
from ._hooks import Events, RequestSent, ResponseReceived
from ._pipeline import Request, Response, Transport
from ._transport import refuse_if_late

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

    When nobody listens to ``RequestSent`` or ``ResponseReceived`` and no bulk job asked
    for a ``CallRecord``, the request goes straight to the transport: the step adds no
    frame to the path (the common case costs it one function call). Otherwise an
    attempt whose deadline has passed is refused before it is told as sent
    (``DeadlineRefused``, as the transports refuse it), and the send is told and
    counted around the transport.
    """

    __slots__ = ("_events", "_transport")

    def __init__(self, transport: Transport, events: Events) -> None:
        self._transport = transport
        self._events = events

    def __call__(self, request: Request) -> Awaitable[Response]:
        events = self._events
        record = _CALL_RECORD.get()
        if record is None and not events.on_request and not events.listens_response():
            return self._transport(request)
        return self._observed(request, record)

    async def _observed(self, request: Request, record: CallRecord | None) -> Response:
        loop = asyncio.get_running_loop()
        started = loop.time()
        refuse_if_late(request, started)
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
