"""FakeCertCentral and ``digicert-async fake-server`` against hostile requests (issue 16,
item 11): a request without the key is answered before its body is read, the request log
stays within its bounds, a body nested past the stack or an id of thousands of digits
gets DigiCert's 400 or 404 (no 500, no traceback), and SIGTERM ends the process cleanly
whenever it comes."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import re
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

from digicert_async.cli._fake_server import (
    FAKE_SERVER_LOGGED_BYTES,
    FAKE_SERVER_LOGGED_REQUESTS,
    build_fake,
)
from digicert_async.cli._parser import build_parser
from digicert_async.testing import FakeCertCentral, RecordedRequest
from digicert_async.testing._fake import ROUTES
from digicert_async.testing._log import RequestLog

from .test_fake_server import Api, codes

KEY_HEADER = "X-DC-DEVKEY"
HUGE_ID = "9" * 5000
NESTED = b"[" * 100_000 + b"]" * 100_000
NESTED_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def server_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What aiohttp's server logs when a handler raises (its "Error handling request")."""
    caplog.set_level(logging.ERROR, logger="aiohttp")
    return caplog.records


async def post(
    session: aiohttp.ClientSession, fake: FakeCertCentral, path: str, body: bytes, key: str
) -> tuple[int, Any]:
    async with session.post(
        fake.base_url + path,
        data=body,
        headers={KEY_HEADER: key, "Content-Type": "application/json"},
    ) as response:
        return response.status, await response.json(content_type=None)


# --------------------------------------------------------------------------- the key first


async def test_a_request_without_the_key_is_answered_without_its_body_being_read(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        (order_id,) = fake.order_ids
        body = json.dumps({"text": "x" * 2**19}).encode()
        for key in ("", "wrong-key"):
            status, answer = await post(
                session, fake, f"/order/certificate/{order_id}/note", body, key
            )
            assert status == 403
            assert codes(answer) == ["access_denied|access_denied_invalid_key"]
        status, _ = await post(
            session, fake, f"/order/certificate/{order_id}/note", body, fake.api_key
        )
        assert status == 201
        refused, refused_too, accepted = fake.requests
    for record in (refused, refused_too):
        assert (record.answered_status, record.body, record.json) == (403, b"", None)
        assert record.path.endswith("/note") and record.headers["Content-Length"] == str(len(body))
    assert accepted.body == body and accepted.json == {"text": "x" * 2**19}


async def test_the_connection_stays_usable_after_a_refused_body(
    session: aiohttp.ClientSession,
) -> None:
    """The unread body is drained by the server, not mistaken for the next request."""
    connector = aiohttp.TCPConnector(limit=1)  # one connection, reused
    async with (
        FakeCertCentral(rate_limits=None, orders=1) as fake,
        aiohttp.ClientSession(connector=connector) as one,
    ):
        (order_id,) = fake.order_ids
        path = f"/order/certificate/{order_id}/note"
        for _ in range(3):
            assert (await post(one, fake, path, b'{"text": "no"}' * 1000, "wrong"))[0] == 403
            assert (await post(one, fake, path, b'{"text": "yes"}', fake.api_key))[0] == 201
        assert [note["text"] for note in fake.notes(order_id)] == ["yes"] * 3


# --------------------------------------------------------------------------- the log's bounds


async def test_the_log_keeps_the_latest_requests_up_to_its_count(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeCertCentral(rate_limits=None, orders=5, max_logged_requests=3) as fake:
        api = Api(fake, session)
        for order_id in fake.order_ids:
            assert (await api.call("GET", f"/order/certificate/{order_id}"))[0] == 200
        assert [r.path.rsplit("/", 1)[1] for r in fake.requests] == [
            str(i) for i in fake.order_ids[-3:]
        ]
        assert all(r.answered_status == 200 and r.applied for r in fake.requests)
        assert fake.requests_received == 5
        fake.clear_requests()
        assert fake.requests == [] and fake.requests_received == 5
        await api.call("GET", "/order/certificate/1", key="wrong")
        assert [r.answered_status for r in fake.requests] == [403]
        assert fake.requests_received == 6


async def test_the_log_keeps_the_latest_requests_within_its_bytes(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeCertCentral(rate_limits=None, orders=1, max_logged_bytes=3000) as fake:
        (order_id,) = fake.order_ids
        path = f"/order/certificate/{order_id}/note"
        texts = [f"{n}" * 1000 for n in range(5)]
        for text in texts:
            body = json.dumps({"text": text}).encode()
            assert (await post(session, fake, path, body, fake.api_key))[0] == 201
        kept = fake.requests
        # each record is a body of 1 KB and its headers: two of them fit in 3,000 bytes
        assert [r.json["text"] for r in kept] == texts[-2:]
        assert all(r.answered_status == 201 for r in kept)
        # the newest stays, even alone past the bound
        big = json.dumps({"text": "x" * 5000}).encode()
        assert (await post(session, fake, path, big, fake.api_key))[0] == 201
        assert [r.body for r in fake.requests] == [big]
        assert fake.requests_received == 6


async def test_max_in_window_counts_the_admitted_requests_kept(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeCertCentral(rate_limits=[(100, 5.0)], orders=1, max_logged_requests=4) as fake:
        api = Api(fake, session)
        for _ in range(6):
            await api.call("GET", f"/order/certificate/{fake.order_ids[0]}")
        assert fake.max_in_window(60.0) == 4


def _record(body: bytes = b"", path: str = "/p") -> RecordedRequest:
    return RecordedRequest(
        method="GET",
        path=path,
        query=MultiDictProxy(MultiDict({"q": "12"})),
        headers=CIMultiDictProxy(CIMultiDict({"Host": "h", "X-A": "bcd"})),
        body=body,
        time=0.0,
    )


def test_the_log_counts_body_headers_path_query_and_method_and_keeps_what_fits() -> None:
    size = 3 + len("HosthX-Abcd") + len("q12") + len("/p") + len("GET")  # 22
    log = RequestLog(max_requests=10, max_bytes=2 * size)
    first = log.add(_record(b"abc"))
    log.add(_record(b"def"))  # exactly at the bound: both stay
    assert [r.body for r in log.records] == [b"abc", b"def"]
    log.add(_record(b"ghi"))
    assert [r.body for r in log.records] == [b"def", b"ghi"]
    log.settle(first, answered_status=200)  # dropped: nothing to settle
    assert [r.answered_status for r in log.records] == [None, None]
    log.clear()  # and the count starts again from nothing
    log.add(_record(b"jkl"))
    log.add(_record(b"mno"))
    assert [r.body for r in log.records] == [b"jkl", b"mno"]
    tight = RequestLog(max_requests=10, max_bytes=2 * size - 1)  # a byte short of two
    tight.add(_record(b"abc"))
    tight.add(_record(b"def"))
    assert [r.body for r in tight.records] == [b"def"]
    one = RequestLog(max_requests=1, max_bytes=1)  # the least bounds allowed
    one.add(_record(b"x" * 100))  # past the bytes, alone: kept
    one.add(_record(b"y"))
    assert [r.body for r in one.records] == [b"y"] and one.received == 2


def test_a_ticket_from_before_a_clear_settles_nothing_after_it() -> None:
    log = RequestLog(max_requests=10, max_bytes=10**6)
    log.add(_record(path="/a"))
    log.clear()
    log.add(_record(path="/b"))
    in_flight = log.add(_record(path="/c"))
    log.clear()  # /c is answered after this
    later = ["/d", "/e", "/f", "/g", "/h"]
    for path in later:
        log.add(_record(path=path))
    log.settle(in_flight, answered_status=500)
    assert [(r.path, r.answered_status) for r in log.records] == [(p, None) for p in later]


def test_max_in_window_of_nothing_is_zero() -> None:
    log = RequestLog(max_requests=10, max_bytes=100)
    assert log.max_in_window(5.0) == 0
    for at in (0.0, 1.0, 1.5, 9.0):
        log.admitted(at)
    assert log.max_in_window(1.0) == 2  # (0.5, 1.5] holds 1.0 and 1.5
    assert log.max_in_window(10.0) == 4


def test_the_log_bounds_by_default_are_the_documented_ones() -> None:
    parameters = inspect.signature(FakeCertCentral).parameters
    assert parameters["max_logged_requests"].default == 100_000
    assert parameters["max_logged_bytes"].default == 64 * 2**20


@pytest.mark.parametrize("bound", ["max_logged_requests", "max_logged_bytes"])
def test_the_log_bounds_are_at_least_one(bound: str) -> None:
    with pytest.raises(ValueError, match=f"^{bound} must be >= 1$"):
        FakeCertCentral(**{bound: 0})


async def test_the_fake_server_command_keeps_a_small_log(
    session: aiohttp.ClientSession,
) -> None:
    fake = build_fake(build_parser().parse_args(["fake-server", "--orders", "1"]))
    async with fake:
        (order_id,) = fake.order_ids
        path = f"/order/certificate/{order_id}/note"
        refused = [post(session, fake, path, b"{}", "wrong") for _ in range(1010)]
        assert {status for status, _ in await asyncio.gather(*refused)} == {403}
        assert len(fake.requests) == FAKE_SERVER_LOGGED_REQUESTS == 1000
        big = json.dumps({"text": "x" * 900_000}).encode()
        for _ in range(6):  # read (the key is right), so recorded with their bodies
            assert (await post(session, fake, path, big, fake.api_key))[0] == 201
        kept = sum(len(r.body) for r in fake.requests)
        assert 3 * len(big) <= kept <= FAKE_SERVER_LOGGED_BYTES == 4 * 2**20
        assert fake.requests_received == 1016


# --------------------------------------------------------------------------- 400 and 404, not 500


@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT], ids=["array", "object"])
async def test_a_body_nested_past_the_stack_is_a_400(
    session: aiohttp.ClientSession, server_errors: list[logging.LogRecord], body: bytes
) -> None:
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        (order_id,) = fake.order_ids
        status, answer = await post(
            session, fake, f"/order/certificate/{order_id}/note", body, fake.api_key
        )
        assert (status, codes(answer)) == (400, ["invalid_json"])
        (record,) = fake.requests
        assert record.json is None and record.answered_status == 400
    assert server_errors == []


def _path(route_path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: values[m.group(1)], route_path)


_ORDINARY = {
    "product": "ssl_basic",
    "format_type": "pem_all",
    "order_id": "100001",
    "note_id": "1",
    "request_id": "1",
    "certificate_id": "1",
    "certificate_identifier": "1",
}


@pytest.mark.parametrize(
    "name", ["order_id", "note_id", "request_id", "certificate_id", "certificate_identifier"]
)
async def test_an_id_of_thousands_of_digits_is_not_found(
    session: aiohttp.ClientSession, server_errors: list[logging.LogRecord], name: str
) -> None:
    kind = name.split("_")[0]
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        api = Api(fake, session)
        tried = 0
        for table in ROUTES:
            for route in table:
                if "{" + name not in route.path:
                    continue
                path = _path(route.path, {**_ORDINARY, name: HUGE_ID})
                status, body, _ = await api.call(route.method, path, json={})
                assert status == 404, (route.method, route.path, body)
                assert codes(body) in ([f"not_found|{kind}"], ["not_found|order"]), body
                assert len(json.dumps(body)) < 500  # the id is not echoed whole
                tried += 1
        assert tried
    assert server_errors == []


_HOSTILE_SEGMENTS = st.sampled_from(
    [HUGE_ID, "0" * 30 + "1", "1" * 21, "99999999999999999999", "٣", "1e5", "%00", "..", ""]
)
_HOSTILE_BODIES = st.sampled_from(
    [
        NESTED,
        NESTED_OBJECT,
        b"\xff\xfe\x00",
        b"1" * 5000,
        b'{"text": ' + b"9" * 5000 + b"}",
        b'{"status": "CANCELED", "note": 1e999}',
        b'{"certificate": {"csr": [[[[]]]]}}',
        b"null",
        b"",
    ]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    route=st.sampled_from([route for table in ROUTES for route in table]),
    segment=_HOSTILE_SEGMENTS,
    body=_HOSTILE_BODIES,
)
async def test_no_hostile_path_or_body_gets_a_500(
    route: Any, segment: str, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="aiohttp")
    caplog.clear()
    names = re.findall(r"\{(\w+)", route.path)
    async with FakeCertCentral(rate_limits=None, orders=2) as fake, aiohttp.ClientSession() as s:
        for name in names:
            path = _path(route.path, {**_ORDINARY, name: segment})
            async with s.request(
                route.method,
                fake.base_url + path,
                data=body,
                headers={KEY_HEADER: fake.api_key},
            ) as response:
                await response.read()
                assert response.status < 500, (route.method, path, body[:40])
    assert [r for r in caplog.records if r.name.startswith("aiohttp")] == []


# --------------------------------------------------------------------------- SIGTERM

# Runs fake-server with a SIGTERM delivered inside an event-loop callback at the moment
# given: "before" the command's signal handlers are in place (the loop just started), or
# "after" they are gone (the loop winding down). A SIGTERM there used to raise inside
# asyncio's callback, which logged a traceback and, before, lost the signal.
_SIGTERM_SCRIPT = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from digicert_async.cli import _signals, main

    when = sys.argv[1]

    def sigterm_soon():
        asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGTERM)

    if when == "before":
        original = _signals._with_interrupts

        async def with_interrupts(command):
            sigterm_soon()
            await asyncio.sleep(0)
            return await original(command)

        _signals._with_interrupts = with_interrupts
    else:
        uninstall = _signals.Interrupts.uninstall

        def uninstall_then_sigterm(self):
            uninstall(self)
            sigterm_soon()

        _signals.Interrupts.uninstall = uninstall_then_sigterm
        stop = _signals.Interrupts.run

        async def run(self, work):  # stop the server at once, as a first SIGTERM would
            self._on_signal(signal.SIGTERM)
            await stop(self, work)

        _signals.Interrupts.run = run
    sys.exit(main(["fake-server", "--port", "0", "--orders", "2"]))
    """
)


@pytest.mark.parametrize("when", ["before", "after"])
async def test_sigterm_as_the_loop_starts_or_winds_down_exits_cleanly(when: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SIGTERM_SCRIPT, when,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "DIGICERT_API_KEY"},
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = err.decode()
    assert process.returncode == 0, text
    assert "Traceback" not in text and "Exception in callback" not in text, text
    assert "fake-server: stopped by SIGTERM after" in text
    assert out.decode().startswith("base_url: http://127.0.0.1:")


async def test_sigterm_while_hostile_requests_are_in_flight_exits_cleanly() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "digicert_async", "fake-server", "--port", "0", "--orders", "2",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "DIGICERT_API_KEY"},
    )  # fmt: skip
    assert process.stdout is not None
    try:
        base_url = (await process.stdout.readline()).decode().split(": ", 1)[1].strip()
        api_key = (await process.stdout.readline()).decode().split(": ", 1)[1].strip()
        async with aiohttp.ClientSession() as session:

            async def hostile(n: int) -> int:
                key = api_key if n % 2 else "wrong"
                path = f"/order/certificate/{HUGE_ID if n % 3 else 100001}/note"
                async with session.post(
                    base_url + path, data=NESTED, headers={KEY_HEADER: key}
                ) as response:
                    await response.read()
                    return response.status

            statuses = await asyncio.gather(*(hostile(n) for n in range(12)))
            assert set(statuses) <= {400, 403, 404}, statuses
            in_flight = [asyncio.ensure_future(hostile(n)) for n in range(12)]
            await asyncio.sleep(0)
            process.send_signal(signal.SIGTERM)
            await asyncio.gather(*in_flight, return_exceptions=True)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = err.decode()
    assert process.returncode == 0, text
    assert "Traceback" not in text and "Error handling request" not in text, text
    assert re.search(r"stopped by SIGTERM after [0-9.]+ s; \d+ requests answered", text)
