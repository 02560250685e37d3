"""``dc.WebhookReceiver`` over loopback HTTP: the key, the size cap, hostile bodies, typed
events to several consumers, full queues, repeats, the challenge token."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import digicert_async as dc
from digicert_async._event_window import DuplicateWindow, event_key

SECRET = "receiver-secret-0123456789abcdef-XYZ"
ISSUED = {"event": "certificate_issued", "data": {"order_id": 11, "certificate_id": 21}}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def serving(receiver: dc.WebhookReceiver) -> AsyncIterator[Callable[..., Any]]:
    """A loopback app with the receiver mounted; yields ``post(body, key=SECRET)`` ->
    status."""
    app = web.Application()
    app.router.add_post("/digicert", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/digicert"
    async with aiohttp.ClientSession() as session:

        async def post(body: Any, key: str | None = SECRET, **kwargs: Any) -> int:
            headers = {} if key is None else {"X-WEBHOOK-KEY": key}
            raw = isinstance(body, (bytes, AsyncIterator))
            data = body if raw else json.dumps(body).encode()
            async with session.post(url, data=data, headers=headers, **kwargs) as response:
                return response.status

        try:
            yield post
        finally:
            await receiver.close()
            await runner.cleanup()


def drain(stream: dc.EventStream) -> list[dc.WebhookEvent]:
    events = []
    while not stream._queue.empty():
        item = stream._queue.get_nowait()
        if item is not None:
            events.append(item)
    return events


async def test_a_delivery_becomes_a_typed_event_for_every_consumer() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    first, second = receiver.events(), receiver.events()
    async with serving(receiver) as post:
        assert await post(ISSUED) == 200
    for stream in (first, second):
        event = await stream.get()
        assert isinstance(event, dc.WebhookEvent)
        assert (event.event, event.order_id, event.certificate_id) == ("certificate_issued", 11, 21)
        assert await stream.get() is None  # the receiver closed: the stream ended
    assert receiver.counts["accepted"] == 1


@pytest.mark.parametrize("key", [None, "", "wrong-" + SECRET[6:], SECRET + "x", SECRET[:-1]])
async def test_a_missing_or_wrong_key_is_401_and_never_logged(
    key: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    stream = receiver.events()
    with caplog.at_level(logging.DEBUG, logger="digicert_async"):
        async with serving(receiver) as post:
            assert await post(ISSUED, key=key) == 401
    assert drain(stream) == []
    assert receiver.counts["unauthorized"] == 1 and receiver.counts["accepted"] == 0
    assert "refused" in caplog.text
    assert ("missing" if key is None else "wrong") in caplog.text
    assert SECRET not in caplog.text and SECRET[:12] not in caplog.text
    if key:
        assert key not in caplog.text


async def test_a_non_ascii_key_is_refused() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    assert receiver._key_matches("é" * 40) is False
    assert receiver._key_matches(SECRET) is True


async def test_an_oversized_body_is_413_whether_announced_or_chunked() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET, max_body_bytes=1024)
    stream = receiver.events()
    big = {"event": "certificate_issued", "data": {"order_id": 1, "pad": "x" * 2000}}

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 200  # no Content-Length: sent chunked

    async with serving(receiver) as post:
        assert await post(big) == 413
        assert await post(chunks()) == 413
        exact = json.dumps(ISSUED).encode().ljust(1024)  # at the cap exactly, it is read
        assert await post(exact) == 200
    assert receiver.counts["too_large"] == 2
    assert [e.order_id for e in drain(stream)] == [11]


async def test_a_repeated_delivery_is_answered_but_passed_on_once() -> None:
    clock = Clock()
    receiver = dc.WebhookReceiver(secret=SECRET, duplicate_window=60.0, clock=clock)
    stream = receiver.events()
    async with serving(receiver) as post:
        assert await post(ISSUED) == 200
        assert await post(ISSUED) == 200  # DigiCert repeats it
        other = {"event": "certificate_issued", "data": {"order_id": 11, "certificate_id": 22}}
        assert await post(other) == 200  # a new certificate of the same order is news
        clock.now += 61
        assert await post(ISSUED) == 200  # past the window, it is news again
    assert [e.certificate_id for e in drain(stream)] == [21, 22, 21]
    assert receiver.counts["duplicate"] == 1 and receiver.counts["accepted"] == 3


async def test_validation_events_without_ids_are_told_apart_by_their_data() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    stream = receiver.events()
    async with serving(receiver) as post:
        for domain in (1, 2, 1):
            assert await post({"event": "domain_validated", "data": {"domain_id": domain}}) == 200
    assert [e.data.domain_id for e in drain(stream) if e.data] == [1, 2]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'"text"',
        b'{"data": {"order_id": 1}}',
        b'{"event": 5}',
        b'{"event": "certificate_issued", "data": {"order_id": "eleven"}}',
        b"[" * 100_000,
        json.dumps({"event": "x\x1b[31mred\u202e"}).encode()[:-1],
    ],
)
async def test_a_malformed_body_is_400_and_logged_escaped(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    stream = receiver.events()
    with caplog.at_level(logging.WARNING, logger="digicert_async"):
        async with serving(receiver) as post:
            assert await post(body) == 400
    assert drain(stream) == []
    assert receiver.counts["malformed"] == 1
    assert "\x1b" not in caplog.text and "\u202e" not in caplog.text


async def test_server_text_in_an_event_is_escaped_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    receiver = dc.WebhookReceiver(secret=SECRET, queue_size=1)
    receiver.events()  # a consumer that never reads: the second event is dropped, and logged
    hostile = {"event": "evil\x1b]0;title\x07\u202e", "data": {"order_id": 3}}
    with caplog.at_level(logging.DEBUG, logger="digicert_async"):
        async with serving(receiver) as post:
            assert await post(ISSUED) == 200
            assert await post(hostile) == 200
    assert "dropped" in caplog.text
    assert "\x1b" not in caplog.text and "\u202e" not in caplog.text and "\x07" not in caplog.text


async def test_an_unknown_event_is_passed_on_as_it_came() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    stream = receiver.events()
    body = {"event": "order_approved", "data": {"order_id": 4, "approver": "ann"}}
    async with serving(receiver) as post:
        assert await post(body) == 200
    (event,) = drain(stream)
    assert not event.is_known and event.order_id == 4
    assert dc.converter.unstructure(event) == body


async def test_a_full_queue_drops_for_that_consumer_only_and_answers_200() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET, queue_size=2)
    slow = receiver.events()
    roomy = receiver.events(queue_size=10)
    async with serving(receiver) as post:
        for order_id in range(1, 6):
            body = {"event": "certificate_issued", "data": {"order_id": order_id}}
            assert await post(body) == 200  # never slowed, never refused
        assert [e.order_id for e in drain(slow)] == [1, 2]  # the first ones kept
        assert [e.order_id for e in drain(roomy)] == [1, 2, 3, 4, 5]
    assert slow.dropped == 3 and roomy.dropped == 0
    assert receiver.counts["dropped"] == 3 and receiver.counts["accepted"] == 5


async def test_a_closed_stream_gets_nothing_more() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    async with receiver.events() as stream:
        pass
    other = receiver.events()
    async with serving(receiver) as post:
        assert await post(ISSUED) == 200
    assert drain(stream) == []
    assert len(drain(other)) == 1


async def test_closing_a_full_stream_still_ends_it() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET, queue_size=1)
    stream = receiver.events()
    async with serving(receiver) as post:
        assert await post(ISSUED) == 200
    # the receiver closed it while full: the oldest event made room for the end
    assert await stream.get() is None
    assert [e async for e in stream] == []


async def test_callbacks_get_every_event_and_survive_their_own_errors() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    seen: list[int | None] = []
    awaited: list[int | None] = []

    def plain(event: dc.WebhookEvent) -> None:
        seen.append(event.order_id)
        if event.order_id == 1:
            raise RuntimeError("boom")

    async def coroutine(event: dc.WebhookEvent) -> None:
        await asyncio.sleep(0)
        awaited.append(event.order_id)

    receiver.on_event(plain)
    receiver.on_event(coroutine)
    async with serving(receiver) as post:
        for order_id in (1, 2):
            assert (
                await post({"event": "certificate_issued", "data": {"order_id": order_id}}) == 200
            )
    # the receiver's close() let the callbacks finish what was queued
    assert seen == [1, 2] and awaited == [1, 2]
    with pytest.raises(dc.ValidationError) as caught:
        receiver.on_event("not callable")  # type: ignore[arg-type]
    assert caught.value.field == "callback"


async def test_the_challenge_token_is_surfaced() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    stream = receiver.events()
    async with serving(receiver) as post:
        waiter = asyncio.ensure_future(receiver.wait_for_challenge())
        await asyncio.sleep(0)
        body = {"event": "challenge_webhook_endpoint", "data": {"token": "t0k", "webhook_id": 5}}
        assert await post(body) == 200
        assert await asyncio.wait_for(waiter, 5) == "t0k"
    assert receiver.challenge_token == "t0k"
    (event,) = drain(stream)
    assert event.challenge_token == "t0k"


def test_the_secret_is_checked_and_never_shown() -> None:
    for bad in (None, "", "short", " " * 40, 42):
        with pytest.raises(dc.ValidationError) as caught:
            dc.WebhookReceiver(secret=bad)  # type: ignore[arg-type]
        assert caught.value.field == "secret"
    receiver = dc.WebhookReceiver(secret=SECRET)
    assert SECRET not in repr(receiver) and SECRET not in str(vars(receiver))
    for name, value in (("queue_size", 0), ("max_body_bytes", -1), ("duplicate_window", -1.0)):
        with pytest.raises(dc.ValidationError) as caught:
            dc.WebhookReceiver(secret=SECRET, **{name: value})
        assert caught.value.field == name


def test_the_duplicate_window_forgets_by_time_and_by_count() -> None:
    clock = Clock()
    window = DuplicateWindow(10.0, max_keys=3, clock=clock)
    assert not window.is_duplicate("a")
    clock.now += 5
    assert window.is_duplicate("a")  # within 10 s
    clock.now += 5
    assert not window.is_duplicate("a")  # 10 s after it was first seen: forgotten
    for key in "bcd":
        assert not window.is_duplicate(key)
    assert len(window) == 3  # "a" went first
    assert not window.is_duplicate("a")
    assert window.is_duplicate("d")
    assert event_key("x", 1, None, {"a": 1}) == ("x", 1, None)
    assert event_key("x", None, None, {"b": 1, "a": 2}) == event_key(
        "x", None, None, {"a": 2, "b": 1}
    )


async def test_an_ended_stream_says_so_every_time() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    stream = receiver.events()
    assert stream.empty()
    stream.close()
    assert not stream.empty()  # the end mark is queued
    assert stream.get_nowait() is None
    assert stream.get_nowait() is None  # and stays there
    assert await stream.get() is None


async def test_a_cancelled_wait_for_the_challenge_leaves_nothing_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    waiter = asyncio.ensure_future(receiver.wait_for_challenge())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert receiver._challenges == []
    with caplog.at_level(logging.INFO, logger="digicert_async"):
        async with serving(receiver) as post:
            body = {"event": "challenge_webhook_endpoint", "data": {"token": "tok-9"}}
            assert await post(body) == 200
    assert "challenge token received" in caplog.text and "tok-9" not in caplog.text


async def test_a_failing_callback_is_logged_with_its_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)

    def failing(event: dc.WebhookEvent) -> None:
        raise RuntimeError("boom")

    receiver.on_event(failing)
    with caplog.at_level(logging.WARNING, logger="digicert_async"):
        async with serving(receiver) as post:
            assert await post(ISSUED) == 200
    assert "webhook callback failed on certificate_issued: RuntimeError('boom')" in caplog.text
    with pytest.raises(dc.ValidationError, match="callback: must be callable, not str"):
        receiver.on_event("x")  # type: ignore[arg-type]


async def test_counts_add_up_and_refusals_name_the_header_and_the_sender(
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver = dc.WebhookReceiver(secret=SECRET, max_body_bytes=200)
    stream = receiver.events()
    revoked = {"event": "certificate_revoked", "data": ISSUED["data"]}
    with caplog.at_level(logging.DEBUG, logger="digicert_async"):
        async with serving(receiver) as post:
            for key in (None, "x" * 40):
                assert await post(ISSUED, key=key) == 401
            for _ in range(2):
                assert await post(b"{") == 400
                assert await post({"event": "x", "data": {"pad": "y" * 300}}) == 413
            for _ in range(3):
                assert await post(ISSUED) == 200
            assert await post(revoked) == 200  # same ids, another event: news
    assert receiver.counts == {"accepted": 2, "duplicate": 2, "dropped": 0, "unauthorized": 2,
                               "too_large": 2, "malformed": 2}  # fmt: skip
    assert [e.event for e in drain(stream)] == ["certificate_issued", "certificate_revoked"]
    text = caplog.text
    assert "refused: missing X-WEBHOOK-KEY header, from 127.0.0.1" in text
    assert "refused: wrong X-WEBHOOK-KEY header, from 127.0.0.1" in text
    assert "refused: body over 200 bytes, from 127.0.0.1" in text
    assert "webhook event certificate_issued repeated; not passed on" in text


async def test_a_chunked_event_is_read_whole() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET)
    stream = receiver.events()
    body = json.dumps(ISSUED).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 7):
            yield body[start : start + 7]

    async with serving(receiver) as post:
        assert await post(chunks()) == 200
    assert [e.order_id for e in drain(stream)] == [11]


async def test_closing_a_full_stream_counts_what_made_room() -> None:
    receiver = dc.WebhookReceiver(secret=SECRET, queue_size=2)
    stream = receiver.events()
    async with serving(receiver) as post:
        for order_id in (1, 2):
            assert (
                await post({"event": "certificate_issued", "data": {"order_id": order_id}}) == 200
            )
    assert stream.dropped == 1  # the oldest made room for the end
    assert [e.order_id async for e in stream] == [2]
