"""The Redis backend against a careless caller and a hostile Redis.

A password in the URL (its userinfo, ``?password=``, on ``unix://`` too) shows nowhere:
not in ``repr``, ``where``, the outage warning or ``LimiterUnavailableError``, nor in
any frame or chained exception of a refused constructor call (walked as
``test_hardening_secrets`` walks them). A Redis that answers garbage (over loopback, in
RESP: the wrong type, too few or too many values, nil, text for numbers, a reply nested
too deep, an error with control characters) is an unavailable Redis: the client falls
back, or fails with ``LimiterUnavailableError``, never with a builtin exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import digicert_async as dc
from digicert_async._ratelimit import RedisKeyLimiter, api_key_hash
from digicert_async._ratelimit._redis import _lua, _read, _reserve_answer, _throttle_answer
from digicert_async._ratelimit._redis_url import RedisUrl, redact
from digicert_async._ratelimit._shared import UnreadableAnswer
from digicert_async.testing import FakeCertCentral

from .test_hardening_servers import secret_sightings
from .test_redis import RedisProcess, _closed_port_url, _free_port, _ours

SECRET = "Pw-7f3c91-hush"

# -- the password in the URL -------------------------------------------------------------------

URLS_WITH_SECRETS = {
    "userinfo": f"redis://user:{SECRET}@localhost:6379/0",
    "userinfo without a user": f"redis://:{SECRET}@localhost:6379/0",
    "at sign in the password": f"redis://:{SECRET}@x@localhost:6379/0",
    "query": f"redis://localhost:6379/0?password={SECRET}",
    "query among others": f"redis://localhost:6379/0?db=1&password={SECRET}&socket_timeout=2",
    "query, twice": f"redis://localhost/0?password={SECRET}&password={SECRET}2",
    "query, name percent-encoded": f"redis://localhost/0?pass%77ord={SECRET}",
    "query, value percent-encoded": "redis://localhost/0?password=" + SECRET.replace("-", "%2D"),
    "query and userinfo": f"redis://u:{SECRET}@localhost/0?password={SECRET}",
    "unix userinfo": f"unix://:{SECRET}@/run/redis.sock?db=0",
    "unix query": f"unix:///run/redis.sock?db=0&password={SECRET}",
    "rediss ssl_password": f"rediss://localhost:6380/0?ssl_password={SECRET}",
}


@pytest.mark.parametrize("url", URLS_WITH_SECRETS.values(), ids=URLS_WITH_SECRETS.keys())
def test_repr_and_where_mask_every_form_of_the_password(url: str) -> None:
    backend = dc.RedisLimiterBackend(url)
    limiter = backend.for_key(api_key_hash("k"), dc.RateLimit(backend=backend))
    for text in (repr(backend), backend.where, repr(limiter), limiter.where):
        assert SECRET not in text and "%2D" not in text, text
        assert "***" in text
    assert backend.where.split("//")[0] in ("redis:", "rediss:", "unix:")
    assert "localhost" in backend.where or "/run/redis.sock" in backend.where


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://user:pa:ss@host/0", "redis://user:***@host/0"),
        ("redis://host/0?password=a=b", "redis://host/0?password=***"),
        ("redis://host/0?password=a?b", "redis://host/0?password=***"),
        ("redis:?password=x", "redis:?password=***"),
        ("unix:/run/redis.sock?password=x", "unix:/run/redis.sock?password=***"),
        ("localhost:6379", "localhost:6379"),
        ("no-scheme", "<not a URL>"),
    ],
)
def test_the_odd_forms_of_a_url_show_no_piece_of_a_password(url: str, expected: str) -> None:
    assert redact(url)[0] == expected


def test_scrub_masks_every_secret_of_the_url_in_a_text() -> None:
    url = RedisUrl("redis://:pw%2Done@host/0?password=two")
    assert url.scrub("auth with pw-one, pw%2Done or two failed") == (
        "auth with ***, *** or *** failed"
    )
    assert repr(RedisUrl(12)) == "RedisUrl('<not a str>')"


def test_a_url_that_is_not_a_string_is_named_by_its_type() -> None:
    with pytest.raises(dc.ValidationError, match="URL, not int"):
        dc.RedisLimiterBackend(12)  # type: ignore[arg-type]


def test_what_is_not_a_secret_stays_readable() -> None:
    shown, secrets = redact("redis://user:pw@host:6380/2?db=3&socket_timeout=1.5&password=x")
    assert shown == "redis://user:***@host:6380/2?db=3&socket_timeout=1.5&password=***"
    assert secrets == ("pw", "x")
    assert redact("unix:///run/redis.sock?db=0") == ("unix:///run/redis.sock?db=0", ())
    assert redact("redis://pwless-user@host/0")[0] == "redis://pwless-user@host/0"


async def test_the_outage_warning_and_the_error_show_no_password(caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async")
    port = _free_port()
    for url in (
        f"redis://:{SECRET}@127.0.0.1:{port}/0",
        f"redis://127.0.0.1:{port}/0?password={SECRET}",
    ):
        backend = dc.RedisLimiterBackend(url, on_unavailable="fail", timeout=0.2)
        limiter = backend.for_key("k", dc.RateLimit(backend=backend))
        try:
            error = await _failure(limiter.reserve)
        finally:
            await limiter.aclose()
        assert isinstance(error, dc.LimiterUnavailableError)
        assert f"127.0.0.1:{port}" in str(error)
        assert secret_sightings(error, SECRET) == []
    warnings = _ours(caplog, logging.WARNING)
    assert len(warnings) == 2
    assert all(SECRET not in text and "***" in text for text in warnings)


async def test_a_wrong_password_fails_without_showing_it(caplog: Any) -> None:
    """redis-py keeps the password in locals of the frames that authenticate: the error
    must not chain the exception those frames belong to."""
    caplog.set_level(logging.INFO, logger="digicert_async")
    server = RedisProcess(None, "--requirepass", "the-right-one")
    server.start()
    try:
        url = f"redis://:{SECRET}@127.0.0.1:{server.port}/0"
        backend = dc.RedisLimiterBackend(url, on_unavailable="fail", timeout=2.0)
        limiter = backend.for_key("k", dc.RateLimit(backend=backend))
        try:
            error = await _failure(limiter.reserve)
        finally:
            await limiter.aclose()
    finally:
        server.stop()
    assert isinstance(error, dc.LimiterUnavailableError)
    assert "AuthenticationError" in str(error)
    assert error.__cause__ is None and error.__context__ is None
    assert secret_sightings(error, SECRET) == []
    assert all(SECRET not in text for text in _ours(caplog, logging.WARNING))


class _Sealed:
    """Hands the URL to the constructor from a frame that shows nothing of it."""

    def __init__(self, url: object) -> None:
        self.url = url

    def __repr__(self) -> str:
        return "<sealed>"


def _construction_error(url: str, **options: Any) -> BaseException:
    sealed = _Sealed(url)
    del url
    try:
        dc.RedisLimiterBackend(sealed.url, **options)  # type: ignore[arg-type]
    except Exception as exc:
        return exc
    raise AssertionError("the constructor was expected to refuse")


@pytest.mark.parametrize(
    ("url", "options", "field", "says"),
    [
        (f"redis://:{SECRET}@[::1/0", {}, "url", "cannot be read as a URL"),
        (f"redis://:{SECRET}@localhost:99999/0", {}, "url", "cannot be read as a URL"),
        (f"redis://:{SECRET}@localhost:port/0", {}, "url", "cannot be read as a URL"),
        (f"http://:{SECRET}@localhost/0", {}, "url", "redis://, rediss:// or unix://"),
        (f"redis://localhost/0?db=x&password={SECRET}", {}, "url", "value of 'db'"),
        (f"redis://localhost/0?retry=1&password={SECRET}", {}, "url", "query parameter"),
        (f"unix://:{SECRET}@/run/redis.sock?db=one", {}, "url", "value of 'db'"),
        (f"redis://:{SECRET}@localhost/0", {"timeout": 0}, "timeout", "more than zero"),
        (f"redis://:{SECRET}@localhost/0", {"key_prefix": "{"}, "key_prefix", "braces"),
        (f"redis://:{SECRET}@localhost/0", {"client": object()}, "", "either url or client"),
    ],
)
def test_a_refused_url_or_argument_shows_no_password(
    url: str, options: dict[str, Any], field: str, says: str
) -> None:
    error = _construction_error(url, **options)
    assert isinstance(error, dc.ValidationError), repr(error)
    assert error.field == "rate_limit.backend" + (f".{field}" if field else "")
    assert says in str(error)
    assert error.__context__ is None
    assert secret_sightings(error, SECRET) == []


# -- a Redis that answers garbage ---------------------------------------------------------------

# A reply the reserve script could give: a slot taken now, epoch 0, no cut.
GOOD_RESERVE = b"*9\r\n:0\r\n$0\r\n\r\n:0\r\n:0\r\n$3\r\n1-1\r\n$1\r\n1\r\n:-1\r\n:0\r\n$0\r\n\r\n"


def _array(*items: bytes) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(items)


def _bulk(text: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(text), text)


GARBAGE = {
    "an integer": b":5\r\n",
    "a status": b"+OK\r\n",
    "nil": b"$-1\r\n",
    "a nil array": b"*-1\r\n",
    "an empty array": b"*0\r\n",
    "too short": _array(b":0\r\n", b":1\r\n"),
    "too long": GOOD_RESERVE.replace(b"*9", b"*10", 1) + b":7\r\n",
    "text for a number": GOOD_RESERVE.replace(b":0\r\n", _bulk(b"soon"), 1),
    "nil for a number": GOOD_RESERVE.replace(b":0\r\n", b"$-1\r\n", 1),
    "a negative wait": GOOD_RESERVE.replace(b":0\r\n", b":-5\r\n", 1),
    "an unknown reason": GOOD_RESERVE.replace(b"$0\r\n\r\n", _bulk(b"nap"), 1),
    "a level that is no number": GOOD_RESERVE.replace(_bulk(b"1"), _bulk(b"1e999"), 1),
    "a nested array for a number": GOOD_RESERVE.replace(b":0\r\n", _array(b":0\r\n"), 1),
    "an integer redis-py cannot parse": b":12ab\r\n",
    "a length redis-py cannot parse": b"*x\r\n",
    "nested too deep": b"*1\r\n" * 5000 + b":1\r\n",
    "an error with control characters": b"-ERR \x1b]0;owned\x07\x1b[2J\xe2\x80\xae\r\n",
}


class GarbageRedis:
    """A Redis on loopback that answers each script (EVALSHA) with ``replies[name]`` (raw
    RESP), anything else with ``+OK``; it counts the script calls."""

    def __init__(self, replies: dict[str, bytes]) -> None:
        self.replies = {
            hashlib.sha1(_lua(name).encode()).hexdigest(): r for name, r in replies.items()
        }
        self.calls = 0
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> GarbageRedis:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"redis://127.0.0.1:{port}/0"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ValueError):
            while command := await _command(reader):
                reply = b"+OK\r\n"
                if command[0].upper() == b"EVALSHA":
                    self.calls += 1
                    reply = self.replies.get(command[1].decode(), b"-NOSCRIPT No matching\r\n")
                writer.write(reply)
                await writer.drain()
        writer.close()


def _sha(script: str) -> str:
    """How EVALSHA names the script ``lua/<script>.lua``."""
    return hashlib.sha1(_lua(script).encode()).hexdigest()


async def _command(reader: asyncio.StreamReader) -> list[bytes]:
    header = await reader.readline()
    if not header:
        return []
    args = []
    for _ in range(int(header[1:])):
        size = int((await reader.readline())[1:])
        args.append((await reader.readexactly(size + 2))[:-2])
    return args


async def _failure(call: Callable[[], Any]) -> BaseException:
    try:
        await call()
    except Exception as exc:
        return exc
    raise AssertionError("the call was expected to fail")


@contextlib.asynccontextmanager
async def _bound(url: str, **options: Any) -> AsyncIterator[RedisKeyLimiter]:
    backend = dc.RedisLimiterBackend(url, **{"timeout": 2.0, **options})
    limiter = backend.for_key("k", dc.RateLimit(windows=[(10, 1.0)], backend=backend))
    try:
        yield limiter
    finally:
        await limiter.aclose()


@pytest.mark.parametrize("reply", GARBAGE.values(), ids=GARBAGE.keys())
async def test_garbage_for_a_slot_falls_back_or_fails_as_an_unavailable_redis(
    reply: bytes, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async")
    async with GarbageRedis({"reserve": reply}) as redis:
        async with _bound(redis.url) as limiter:
            taken = await limiter.reserve()
            assert taken.wait == 0.0 and taken.epoch < 0  # paced locally
            assert not limiter.available
        async with _bound(redis.url, on_unavailable="fail") as limiter:
            error = await _failure(limiter.reserve)
        assert type(error) is dc.LimiterUnavailableError, repr(error)
        assert error.__cause__ is None and error.__context__ is None
        assert redis.calls >= 2
    warnings = _ours(caplog, logging.WARNING)
    assert len(warnings) == 2
    for text in warnings:  # one line, no raw control or bidi character
        assert text.isprintable() and text.isascii(), text


async def test_the_limiter_speaks_resp2_so_every_redis_py_reads_the_scripts_alike() -> None:
    # redis-py 8.2 moved its default to RESP3; a URL without ``protocol`` stays on RESP2,
    # whose handshake sends no HELLO (this server would answer it with a bare +OK).
    async with GarbageRedis({"reserve": GOOD_RESERVE}) as redis:
        async with _bound(redis.url) as limiter:
            taken = await limiter.reserve()
            assert (taken.wait, taken.epoch) == (0.0, 0) and limiter.available


async def test_a_hello_answered_with_garbage_is_a_slot_or_an_outage_never_a_crash() -> None:
    # Asked for RESP3 in the URL, redis-py sends HELLO 3 and this server answers +OK:
    # redis-py 8.2 raises AttributeError on it, older ones carry on. Either way the
    # limiter answers (a slot, or the local fallback), nothing else comes out.
    async with GarbageRedis({"reserve": GOOD_RESERVE}) as redis:
        async with _bound(redis.url + "?protocol=3") as limiter:
            taken = await limiter.reserve()
            if limiter.available:  # redis-py read the +OK its own way and went on
                assert (taken.wait, taken.epoch) == (0.0, 0) and redis.calls == 1
            else:  # paced locally, no script ran
                assert taken.epoch < 0 and redis.calls == 0


@pytest.mark.parametrize(
    "error", [AttributeError("'bytes' has no .get"), KeyError("proto"), ValueError("x")]
)
async def test_what_redis_py_raises_on_a_reply_it_cannot_read_is_an_unreadable_answer(
    error: Exception,
) -> None:
    async def reply() -> None:
        raise error

    with pytest.raises(UnreadableAnswer) as caught:
        await _read(reply())
    assert type(error).__name__ in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


@pytest.mark.parametrize(
    "reply",
    [b":5\r\n", _array(b":1\r\n"), b"*1\r\n" * 5000 + b":1\r\n", b"$-1\r\n"],
    ids=["an integer", "too short", "nested too deep", "nil"],
)
async def test_garbage_for_a_429_closes_the_gate_locally(reply: bytes) -> None:
    async with GarbageRedis({"reserve": GOOD_RESERVE, "throttled": reply}) as redis:
        async with _bound(redis.url) as limiter:
            taken = await limiter.reserve()
            assert (taken.wait, taken.epoch) == (0.0, 0) and limiter.available
            closed = await limiter.throttled(taken.epoch, retry_after=None, jitter=0.0)
            assert closed == 1.0  # the cool-down's floor, in the fallback
            assert not limiter.available
            assert (await limiter.reserve()).reason == "cooldown"


async def test_garbage_for_a_success_or_a_release_is_an_outage_too() -> None:
    deep = b"*1\r\n" * 5000 + b":1\r\n"
    async with GarbageRedis(
        {"reserve": GOOD_RESERVE, "release": deep, "succeeded": b":x\r\n"}
    ) as redis:
        async with _bound(redis.url) as limiter:
            taken = await limiter.reserve()
            await limiter.release(taken)
            assert not limiter.available
        async with _bound(redis.url) as limiter:
            taken = await limiter.reserve()
            await limiter.throttled(taken.epoch, retry_after=0.0, jitter=0.0)  # goes down
            assert not limiter.available


async def test_a_redis_that_answers_garbage_is_not_back_until_the_scripts_answer(
    caplog: Any,
) -> None:
    """The probe runs a script: a Redis that answers PING but not the scripts stays
    unavailable, with one warning, not one per probe."""
    caplog.set_level(logging.INFO, logger="digicert_async")
    async with GarbageRedis({"reserve": b":5\r\n", "succeeded": b"+PONG\r\n"}) as redis:
        async with _bound(redis.url, probe_interval=0.01) as limiter:
            await limiter.reserve()
            for _ in range(20):
                await asyncio.sleep(0.02)
                await limiter.reserve()  # starts a probe when one is due
            assert not limiter.available
            assert redis.calls > 5  # the probes did ask
            assert len(_ours(caplog, logging.WARNING)) == 1
            assert _ours(caplog, logging.INFO) == []
            redis.replies = GarbageRedis({"reserve": GOOD_RESERVE, "succeeded": b":0\r\n"}).replies
            for _ in range(100):
                if limiter.available:
                    break
                await asyncio.sleep(0.02)
                await limiter.reserve()
            assert limiter.available
            assert (await limiter.reserve()).epoch == 0  # shared again
    assert len(_ours(caplog, logging.INFO)) == 1


async def test_a_client_sends_through_a_garbage_redis_or_refuses_to(caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async")
    async with (
        GarbageRedis({"reserve": b"*1\r\n" * 5000 + b":1\r\n"}) as redis,
        FakeCertCentral(rate_limits=None, orders=1) as fake,
    ):
        for mode in ("fallback", "fail"):
            backend = dc.RedisLimiterBackend(redis.url, on_unavailable=mode)
            client = dc.CertCentralClient(
                api_key=fake.api_key,
                base_url=fake.base_url,
                rate_limit=dc.RateLimit(backend=backend),
                timeout=5.0,
            )
            async with client:
                if mode == "fallback":
                    order = await client.orders.get(fake.order_ids[0])
                    assert order.id == fake.order_ids[0]
                else:
                    with pytest.raises(dc.LimiterUnavailableError):
                        await client.orders.get(fake.order_ids[0])
        assert len(fake.requests) == 1


_RESP_VALUES = st.recursive(
    st.none()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.binary(max_size=12)
    | st.sampled_from([b"", b"window", b"cooldown", b"0.5", b"1", b"nan", b"-1", b"inf"]),
    lambda inner: st.lists(inner, max_size=11),
    max_leaves=30,
)


@given(_RESP_VALUES)
def test_reading_any_reply_gives_an_answer_or_unreadable_answer(reply: object) -> None:
    for read in (_reserve_answer, _throttle_answer):
        try:
            answer = read(reply)
        except UnreadableAnswer as exc:
            assert str(exc).isascii()
        else:
            assert answer.epoch >= 0 and answer.strikes >= 0 and answer.lowered >= 0
            assert answer.peak >= 0.0 and (answer.since is None or answer.since >= 0.0)


def test_closed_port_url_is_unavailable_not_refused() -> None:
    # (a sanity check of the helper the tests above lean on)
    assert dc.RedisLimiterBackend(_closed_port_url()).where.startswith("redis://127.0.0.1:")
