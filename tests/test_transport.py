"""``CertCentralClient(transport=...)``: a transport written here, with no socket, under
every layer of the client: retry, the 429 cool-down, the deadline, decoding, hooks, the
size cap, close(), and the documented exception for whatever a transport does wrong."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

import digicert_async as dc
from digicert_async._send import record_call

from .test_hardening_servers import secret_sightings

KEY = "Kq9-transport-secret-4d2c"
ROOT = "https://www.digicert.com/services/v2"
ORDER_42 = json.dumps({"id": 42, "status": "pending"}).encode()
NOTE = json.dumps({"id": 7, "text": "why", "date_created": "2024-01-02T03:04:05+00:00"})
THROTTLED = b'{"errors":[{"code":"request_limit_exceeded","message":"Service unavailable"}]}'

Answer = dc.Response | BaseException | Callable[[dc.Request], Awaitable[Any]]


def answer(status: int, body: bytes = b"", **headers: str) -> dc.Response:
    return dc.Response(status=status, headers=headers, body=body)


class Scripted:
    """A transport: each request gets the next answer of the script (the last one
    again once the script is spent); every request it was handed is kept."""

    def __init__(self, *script: Answer) -> None:
        self.script = list(script)
        self.requests: list[dc.Request] = []

    async def __call__(self, request: dc.Request) -> Any:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, BaseException):
            raise step
        if callable(step):
            return await step(request)
        return step


def client_with(transport: Any, **options: Any) -> dc.CertCentralClient:
    options.setdefault(
        "retry", dc.RetryPolicy(max_attempts=3, backoff_initial=0.001, backoff_max=0.001)
    )
    options.setdefault("rate_limit", dc.RateLimit(cooldown_initial=0.01, cooldown_max=0.01))
    return dc.CertCentralClient(KEY, transport=transport, **options)


async def failure(call: Awaitable[object]) -> BaseException:
    try:
        await call
    except Exception as exc:
        return exc
    raise AssertionError("the call was expected to fail")


# -- what a transport is handed -------------------------------------------------------------------


async def test_a_transport_is_handed_every_header_it_must_send() -> None:
    transport = Scripted(answer(201, NOTE.encode()))
    async with client_with(transport) as client:
        note = await client.orders.add_note(42, "why")
    assert note.id == 7 and note.text == "why"
    [request] = transport.requests
    assert (request.method, request.url) == ("POST", f"{ROOT}/order/certificate/42/note")
    headers = request.headers
    assert headers["X-DC-DEVKEY"] == KEY
    assert headers["User-Agent"].startswith("digicert-async/")
    assert headers["Accept"] == "application/json"
    assert headers["Content-Type"] == "application/json"
    assert "Accept-Encoding" not in headers  # aiohttp's transport asks what it decodes
    assert request.content is not None and json.loads(request.content) == {"text": "why"}
    assert request.attempt == 1 and request.deadline is not None


async def test_the_key_shows_in_no_repr_of_a_request_nor_of_the_client() -> None:
    transport = Scripted(answer(200, ORDER_42))
    async with client_with(transport) as client:
        await client.orders.get(42)
        assert KEY not in repr(client) and KEY not in repr(vars(client))
    [request] = transport.requests
    assert KEY not in repr(request) and KEY not in str(request)


async def test_headers_a_transport_changes_are_its_own_request_s_alone() -> None:
    async def meddle(request: dc.Request) -> dc.Response:
        headers: Any = request.headers
        del headers["X-DC-DEVKEY"]  # a transport that takes the key out to sign otherwise
        headers["X-Meddled"] = "yes"
        return answer(200, ORDER_42)

    transport = Scripted(meddle, answer(200, ORDER_42))
    async with client_with(transport) as client:
        await client.orders.get(42)
        await client.orders.get(42)
    first, second = transport.requests
    assert "X-DC-DEVKEY" not in first.headers  # what it changed, it changed
    assert second.headers["X-DC-DEVKEY"] == KEY and "X-Meddled" not in second.headers


async def test_a_listing_hands_its_query_as_pairs() -> None:
    transport = Scripted(answer(200, b'{"orders": [], "page": {"total": 0}}'))
    async with client_with(transport) as client:
        assert [o async for o in client.orders.list(status="pending", page_size=5)] == []
    [request] = transport.requests
    assert request.url == f"{ROOT}/order/certificate" and request.content is None
    assert ("filters[status]", "pending") in request.params
    assert ("limit", "5") in request.params
    assert "Content-Type" not in request.headers


# -- retry and the 429 cool-down ------------------------------------------------------------------


async def test_a_429_closes_the_gate_and_the_call_is_sent_again() -> None:
    cooldowns: list[dc.CooldownStarted] = []
    transport = Scripted(answer(429, THROTTLED), answer(200, ORDER_42))
    hooks = dc.Hooks(on_cooldown=[cooldowns.append])
    async with client_with(transport, hooks=hooks) as client:
        order = await client.orders.get(42)
        assert client.pacer.throttled == 1
    assert order.id == 42
    assert [r.attempt for r in transport.requests] == [1, 2]
    assert len(cooldowns) == 1 and not cooldowns[0].retry_after


async def test_429s_until_the_attempts_run_out_are_a_rate_limit_error() -> None:
    transport = Scripted(answer(429, THROTTLED))
    async with client_with(transport) as client:
        error = await failure(client.orders.add_note(42, "why"))  # a POST: 429 is retried too
    assert isinstance(error, dc.RateLimitError)
    assert error.attempts == 3 and len(transport.requests) == 3
    assert error.code == "request_limit_exceeded"


async def test_a_503_is_retried_for_a_get_and_never_for_a_post() -> None:
    get = Scripted(answer(503, b"busy"), answer(200, ORDER_42))
    async with client_with(get) as client:
        assert (await client.orders.get(42)).id == 42
    post = Scripted(answer(503, b"busy"), answer(201, NOTE.encode()))
    async with client_with(post) as client:
        error = await failure(client.orders.add_note(42, "why"))
    assert len(get.requests) == 2
    assert isinstance(error, dc.ServerError) and error.attempts == 1 and len(post.requests) == 1


async def test_a_transport_error_says_whether_a_post_may_be_sent_again() -> None:
    def refused(sent: bool) -> dc.TransportError:
        return dc.TransportError("no", method="POST", url=ROOT, request_sent=sent)

    never_left = Scripted(refused(False), answer(201, NOTE.encode()))
    async with client_with(never_left) as client:
        assert (await client.orders.add_note(42, "why")).id == 7
    may_have_left = Scripted(refused(True), answer(201, NOTE.encode()))
    async with client_with(may_have_left) as client:
        error = await failure(client.orders.add_note(42, "why"))
    assert len(never_left.requests) == 2
    assert isinstance(error, dc.TransportError) and error.attempts == 1
    assert len(may_have_left.requests) == 1


# -- decoding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (answer(404, b'{"errors":[{"code":"not_found|order","message":"no"}]}'), "NotFoundError"),
        (answer(404, b"<html>no such page</html>"), "RouteNotFoundError"),
        (
            answer(403, b'{"errors":[{"code":"access_denied|access_denied_invalid_key"}]}'),
            "InvalidKeyError",
        ),
        (answer(200, b"<html>a proxy</html>", **{"content-type": "text/html"}), "ResponseError"),
        (answer(200, b'{"id": 41, "status": "pending"}'), "ResponseError"),
        (answer(301, b"", Location="https://example.com/"), "RedirectError"),
    ],
    ids=["not-found", "no-route", "invalid-key", "html", "another-order", "redirect"],
)
async def test_answers_are_decoded_as_over_aiohttp(reply: dc.Response, expected: str) -> None:
    async with client_with(Scripted(reply)) as client:
        error = await failure(client.orders.get(42))
    assert type(error).__name__ == expected
    assert getattr(error, "url", None) == f"{ROOT}/order/certificate/42"


async def test_an_answers_headers_are_read_whatever_their_case() -> None:
    transport = Scripted(answer(200, b"no file here", **{"CONTENT-TYPE": "TEXT/HTML"}))
    async with client_with(transport) as client:
        error = await failure(client.certificates.download(5, format="pem_all"))
    assert isinstance(error, dc.ResponseError) and "HTML" in str(error)


async def test_a_body_past_max_response_bytes_is_cut() -> None:
    big = b'{"id": 42, "status": "pending", "pad": "' + b"x" * 5000 + b'"}'
    success = Scripted(answer(200, big))
    async with client_with(success, max_response_bytes=1000) as client:
        error = await failure(client.orders.get(42))
    assert isinstance(error, dc.ResponseError) and "max_response_bytes" in str(error)
    assert len(success.requests) == 1  # never retried
    busy = Scripted(answer(503, b"<html>" + b"busy " * 1000))
    async with client_with(busy, max_response_bytes=1000) as client:
        server_error = await failure(client.orders.get(42))
    assert isinstance(server_error, dc.ServerError) and server_error.attempts == 3
    assert server_error.body == ("<html>" + "busy " * 1000)[:1000]


# -- what a transport does wrong ------------------------------------------------------------------


async def _leaking(request: dc.Request) -> dc.Response:
    raise ValueError(f"cannot send {dict(request.headers)}")


async def test_an_unexpected_exception_is_a_permanent_transport_error_without_the_key() -> None:
    transport = Scripted(_leaking)
    async with client_with(transport) as client:
        error = await failure(client.orders.get(42))  # a GET: still not retried
    assert isinstance(error, dc.TransportError)
    assert error.permanent and error.request_sent and not error.timeout
    assert error.attempts == 1 and len(transport.requests) == 1
    assert "the transport raised ValueError" in str(error) and "<api key>" in str(error)
    assert error.__cause__ is None and error.__context__ is None
    assert secret_sightings(error, KEY) == []


@pytest.mark.parametrize(
    ("returned", "said"),
    [
        ("200 OK", "str, not a Response"),
        (None, "null, not a Response"),
        (dc.Response(status=1000), "the status 1000"),
        (dc.Response(status=True), "the status True"),  # type: ignore[arg-type]
        (dc.Response(status=200, body="text"), "a body of str"),  # type: ignore[arg-type]
        (dc.Response(status=200, headers=[("a", "b")]), "headers of list"),  # type: ignore[arg-type]
        (dc.Response(status=200, headers={"Retry-After": 5}), "'Retry-After': int"),  # type: ignore[dict-item]
    ],
)
async def test_an_answer_that_is_no_response_is_a_permanent_transport_error(
    returned: object, said: str
) -> None:
    async def transport(request: dc.Request) -> Any:
        return returned

    async with client_with(transport) as client:
        error = await failure(client.orders.get(42))
    assert isinstance(error, dc.TransportError) and error.permanent and error.attempts == 1
    assert said in str(error)


async def test_a_transport_that_hangs_is_cut_at_the_timeout_and_retried() -> None:
    transport = Scripted(lambda request: asyncio.Event().wait())
    async with client_with(transport, timeout=0.05) as client:
        error = await failure(client.orders.get(42))
    assert isinstance(error, dc.TransportError) and error.timeout and not error.permanent
    assert error.attempts == 3 and len(transport.requests) == 3
    assert "no answer within 0.05 s" in str(error)


async def test_a_transports_own_timeout_is_a_timeout() -> None:
    transport = Scripted(TimeoutError("slow"), answer(200, ORDER_42))
    async with client_with(transport) as client:
        assert (await client.orders.get(42)).id == 42
    assert len(transport.requests) == 2


async def test_the_calls_deadline_cuts_an_attempt_short() -> None:
    transport = Scripted(lambda request: asyncio.Event().wait())
    retry = dc.RetryPolicy(deadline=0.1)
    async with client_with(transport, timeout=30.0, retry=retry) as client:
        error = await failure(client.orders.get(42))
    assert isinstance(error, dc.TransportError) and error.timeout
    assert "deadline" in str(error)


# -- around the call ------------------------------------------------------------------------------


async def test_hooks_are_told_as_over_aiohttp() -> None:
    seen: list[str] = []
    hooks = dc.Hooks(
        on_request=[lambda e: seen.append(f"sent {e.attempt}")],
        on_response=[lambda e: seen.append(f"status {e.status}")],
        on_retry=[lambda e: seen.append(f"retry {type(e.cause).__name__}")],
        on_call_end=[lambda e: seen.append(f"ended after {e.attempts}")],
    )
    transport = Scripted(answer(503, b"busy"), answer(200, ORDER_42))
    async with client_with(transport, hooks=hooks) as client:
        await client.orders.get(42)
    assert seen == [
        "sent 1",
        "status 503",
        "retry ServerError",
        "sent 2",
        "status 200",
        "ended after 2",
    ]


async def test_close_ends_a_call_waiting_on_the_transport() -> None:
    started = asyncio.Event()

    async def hang(request: dc.Request) -> dc.Response:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    client = client_with(Scripted(hang))
    call = asyncio.ensure_future(failure(client.orders.get(42)))
    await started.wait()
    await client.close()
    assert isinstance(await call, dc.ClientClosedError)


async def test_a_client_with_a_transport_opens_no_session(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_session(*args: object, **kwargs: object) -> None:
        raise AssertionError("a session was opened")

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", no_session)
    async with client_with(Scripted(answer(200, ORDER_42))) as client:
        assert (await client.orders.get(42)).id == 42


async def test_sends_are_recorded_as_over_aiohttp() -> None:
    """A bulk job asks whether a send may have been applied unseen: a 502 may have,
    a 503 and a request that never left may not."""
    never_left = dc.TransportError("no", method="PUT", url=ROOT, request_sent=False)
    transport = Scripted(never_left, answer(503), answer(204))
    async with client_with(transport) as client:
        with record_call() as record:
            await client.orders.cancel(42, note="why")
    assert (record.sends, record.lost) == (2, False)
    gateway = Scripted(answer(502), answer(204))
    async with client_with(gateway) as client:
        with record_call() as record:
            await client.orders.cancel(42, note="why")
    assert (record.sends, record.lost) == (2, True)


@pytest.mark.parametrize(
    "options",
    [
        {"transport": "not callable"},
        {"transport": Scripted(answer(200)), "trust_env": True},
    ],
)
def test_a_transport_it_cannot_use_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(dc.ValidationError) as refused:
        dc.CertCentralClient(KEY, **options)
    assert refused.value.field == "transport"


async def test_a_transport_beside_a_session_is_refused() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(dc.ValidationError, match="transport"):
            dc.CertCentralClient(KEY, session=session, transport=Scripted(answer(200)))
