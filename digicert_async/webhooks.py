"""The receiver of DigiCert's webhook events: an aiohttp handler a service mounts, feeding
any number of consumers (pollers, callbacks, your own loop).

Per delivery, in this order: the ``X-WEBHOOK-KEY`` header is compared with the secret in
constant time (missing or wrong: 401, logged without the key, the body never read); the
body is read up to ``max_body_bytes`` (more: 413); it must be a JSON object that reads as a
:class:`~digicert_async.WebhookEvent` (else 400, logged with its text escaped); a delivery
DigiCert repeats is recognised (see ``duplicate_window``) and answered 200 but not passed
on; everything else is answered 200 at once and put in every consumer's queue.

A full queue never slows the answer to DigiCert: the event is dropped *for that consumer*
(counted in its ``dropped`` and the receiver's ``counts["dropped"]``, and logged). A poller
fed by it loses only speed: its interval polling still finds the order.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from ._checks import check_count, check_number, describe
from ._config import Secret
from ._converter import converter
from ._errors import ValidationError
from ._escape import visible
from ._event_window import DuplicateWindow, event_key
from .models import WebhookEvent
from .models.webhooks import CHALLENGE_EVENT, check_webhook_secret

__all__ = ["EventStream", "WebhookReceiver"]

logger = logging.getLogger("digicert_async.webhooks")

KEY_HEADER = "X-WEBHOOK-KEY"
MAX_BODY_BYTES = 256 * 1024
"""Far above an event with a full chain (a few kilobytes), far below harm."""
_EXCERPT = 200  # characters of a refused body shown in the log

EventCallback = Callable[[WebhookEvent], "Awaitable[None] | None"]


class EventStream:
    """One consumer's bounded queue of events, read with ``async for``.

    It ends when it is closed (``close()``, leaving ``async with``) or when its receiver is.
    ``dropped`` counts the events it lost to a full queue.
    """

    def __init__(self, receiver: WebhookReceiver, queue_size: int) -> None:
        self._receiver = receiver
        self._queue: asyncio.Queue[WebhookEvent | None] = asyncio.Queue(queue_size)
        self._closed = False
        self.dropped = 0

    def offer(self, event: WebhookEvent) -> bool:
        """Queue ``event`` unless the stream is closed or full (then it is dropped)."""
        if self._closed:
            return False
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    def close(self) -> None:
        """End the stream: what is queued is still read, then the iteration stops."""
        if self._closed:
            return
        self._closed = True
        self._receiver._streams.discard(self)
        while True:
            try:
                self._queue.put_nowait(None)
                return
            except asyncio.QueueFull:  # make room for the end mark: the oldest goes
                self._queue.get_nowait()
                self.dropped += 1

    def __aiter__(self) -> AsyncIterator[WebhookEvent]:
        return self

    async def __anext__(self) -> WebhookEvent:
        event = await self._queue.get()
        if event is None:
            self._queue.put_nowait(None)  # every later read ends too
            raise StopAsyncIteration
        return event

    def empty(self) -> bool:
        """Whether nothing is queued (an ended stream is not empty: its end mark is)."""
        return self._queue.empty()

    def get_nowait(self) -> WebhookEvent | None:
        """The next queued event without waiting, or None at the end of the stream;
        ``asyncio.QueueEmpty`` when nothing is queued."""
        event = self._queue.get_nowait()
        if event is None:
            self._queue.put_nowait(None)
        return event

    async def get(self) -> WebhookEvent | None:
        """The next event, or None once the stream has ended."""
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            return None

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.close()


class WebhookReceiver:
    """Receives DigiCert's webhook events: mount :meth:`handle` on an aiohttp app
    (``app.router.add_post("/digicert", receiver.handle)``) and read the events from
    :meth:`events`, :meth:`on_event` callbacks, or :func:`~digicert_async.poll_orders`
    (``events=receiver``). One receiver feeds any number of them; each gets every event.

    ``secret`` is the webhook's (at least 32 characters; never shown in ``repr`` or logs).
    ``queue_size`` bounds each consumer's queue (see the module on a full one).
    ``duplicate_window`` (seconds) is how long a delivery of the same event
    (``event``, ``order_id``, ``certificate_id``) counts as a repeat; ``clock`` (monotonic
    seconds) is injectable for tests.
    """

    def __init__(
        self,
        secret: str,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        queue_size: int = 1000,
        duplicate_window: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret = Secret(check_webhook_secret("secret", secret))
        self.max_body_bytes = check_count("max_body_bytes", max_body_bytes)
        self.queue_size = check_count("queue_size", queue_size)
        window = check_number("duplicate_window", duplicate_window, allow_zero=True)
        self._window = DuplicateWindow(window, clock=clock)
        self._streams: set[EventStream] = set()
        self._callbacks: list[asyncio.Task[None]] = []
        self._challenges: list[asyncio.Future[str]] = []
        self.challenge_token: str | None = None
        """The token of the last challenge event (for ``client.webhooks.verify_challenge``)."""
        self.counts: dict[str, int] = dict.fromkeys(
            ("accepted", "duplicate", "dropped", "unauthorized", "too_large", "malformed"), 0
        )
        """Deliveries by what became of them (``dropped``: events a full queue lost)."""

    def __repr__(self) -> str:
        return f"<WebhookReceiver streams={len(self._streams)} counts={self.counts}>"

    # ------------------------------------------------------------------ consumers

    def events(self, *, queue_size: int | None = None) -> EventStream:
        """A new stream of every event accepted from now on (``async for event in ...``)."""
        size = self.queue_size if queue_size is None else check_count("queue_size", queue_size)
        stream = EventStream(self, size)
        self._streams.add(stream)
        return stream

    def on_event(self, callback: EventCallback) -> EventStream:
        """Call ``callback(event)`` (a function or a coroutine function) for every event,
        one at a time, in a task of its own: a slow callback delays only itself, and its
        queue (``queue_size``) drops what it cannot keep up with. An exception it raises
        is logged and the next event still comes. Needs a running event loop; ends when
        the stream returned is closed, or the receiver is."""
        if not callable(callback):
            raise ValidationError("callback", f"must be callable, not {describe(callback)}")
        stream = self.events()
        task = asyncio.get_running_loop().create_task(_run_callback(stream, callback))
        self._callbacks.append(task)
        return stream

    async def wait_for_challenge(self) -> str:
        """The token of the next challenge event (send it with
        ``client.webhooks.send_challenge`` after calling this; bound the wait with
        ``asyncio.timeout`` or ``asyncio.wait_for``)."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._challenges.append(future)
        try:
            return await future
        finally:
            if future in self._challenges:
                self._challenges.remove(future)

    async def close(self) -> None:
        """End every stream (their readers finish what is queued) and callback task."""
        for stream in list(self._streams):
            stream.close()
        tasks, self._callbacks = self._callbacks, []
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ the handler

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """The aiohttp handler of one delivery (see the module for what it answers)."""
        if not self._key_matches(request.headers.get(KEY_HEADER)):
            self.counts["unauthorized"] += 1
            logger.warning(
                "webhook delivery refused: %s %s header, from %s",
                "missing" if KEY_HEADER not in request.headers else "wrong",
                KEY_HEADER,
                visible(str(request.remote)),
            )
            return web.Response(status=401)
        body = await self._read_body(request)
        if body is None:
            self.counts["too_large"] += 1
            logger.warning(
                "webhook delivery refused: body over %d bytes, from %s",
                self.max_body_bytes,
                visible(str(request.remote)),
            )
            return web.Response(status=413)
        event = self._parse(body)
        if event is None:
            self.counts["malformed"] += 1
            return web.Response(status=400)
        self._accept(event)
        return web.Response(status=200)

    def _key_matches(self, given: str | None) -> bool:
        if given is None:
            return False
        try:
            candidate = given.encode("ascii")
        except UnicodeEncodeError:
            return False
        return hmac.compare_digest(candidate, self._secret.reveal().encode("ascii"))

    async def _read_body(self, request: web.BaseRequest) -> bytes | None:
        """The whole body, or None as soon as it is longer than the cap."""
        length = request.content_length
        if length is not None and length > self.max_body_bytes:
            return None
        body = bytearray()
        async for chunk in request.content.iter_any():
            body += chunk
            if len(body) > self.max_body_bytes:
                return None
        return bytes(body)

    def _parse(self, body: bytes) -> WebhookEvent | None:
        try:
            document = json.loads(body)
            if not isinstance(document, dict):
                raise ValueError("not a JSON object")
            return converter.structure(document, WebhookEvent)
        except (ValueError, RecursionError, ValidationError) as exc:
            text = body[:_EXCERPT].decode("utf-8", "replace")
            logger.warning(
                "webhook delivery refused: %s; body starts %s",
                visible(str(exc)[:_EXCERPT]),
                visible(text),
            )
            return None

    def _accept(self, event: WebhookEvent) -> None:
        data = converter.unstructure(event.data) if event.data is not None else None
        key = event_key(event.event, event.order_id, event.certificate_id, data)
        if self._window.is_duplicate(key):
            self.counts["duplicate"] += 1
            logger.debug("webhook event %s repeated; not passed on", visible(event.event))
            return
        self.counts["accepted"] += 1
        if event.event == CHALLENGE_EVENT and event.challenge_token is not None:
            self._surface_challenge(event.challenge_token)
        for stream in list(self._streams):
            if not stream.offer(event):
                self.counts["dropped"] += 1
                logger.warning(
                    "webhook event %s for order %s dropped: a consumer's queue is full",
                    visible(event.event),
                    event.order_id,
                )

    def _surface_challenge(self, token: str) -> None:
        self.challenge_token = token
        logger.info("webhook challenge token received")
        waiting, self._challenges = self._challenges, []
        for future in waiting:
            if not future.done():
                future.set_result(token)


async def _run_callback(stream: EventStream, callback: EventCallback) -> None:
    async for event in stream:
        try:
            result = callback(event)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # one failing event never stops the next
            logger.warning(
                "webhook callback failed on %s: %s", visible(event.event), visible(repr(exc))
            )
