"""Every endpoint end to end against FakeCertCentral over loopback HTTP."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone

import aiohttp
import pytest
from aiohttp import web

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault

from .conftest import load_seed

NO_RETRY = dc.RetryPolicy(max_attempts=1)


def make_client(fake: FakeCertCentral, **kwargs: object) -> dc.CertCentralClient:
    options: dict[str, object] = {"rate_limit": dc.RateLimit.disabled(), "timeout": 5.0}
    options.update(kwargs)
    return dc.CertCentralClient(api_key=fake.api_key, base_url=fake.base_url, **options)  # type: ignore[arg-type]


async def test_add_note_and_list_notes(fake: FakeCertCentral, client: dc.CertCentralClient) -> None:
    order_id = fake.add_order("pending")
    first = await client.orders.add_note(order_id, "first")
    second = await client.orders.add_note(order_id, "second")
    assert first.text == "first" and second.id > first.id
    assert first.date_created.tzinfo is not None
    notes = await client.orders.list_notes(order_id)
    assert [n.text for n in notes] == ["first", "second"]
    assert [n.id for n in notes] == [first.id, second.id]


async def test_cancel_moves_pending_and_waiting_pickup(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    pending = fake.add_order("pending")
    pickup = fake.add_order("waiting_pickup")
    await client.orders.cancel(pending, note="not needed")
    await client.orders.update_status(pickup, "CANCELED", note="duplicate")
    assert (await client.orders.get(pending)).status == "canceled"
    assert (await client.orders.get(pickup)).status == "canceled"
    put = [r for r in fake.requests if r.method == "PUT"]
    assert [r.json for r in put] == [
        {"status": "CANCELED", "note": "not needed"},
        {"status": "CANCELED", "note": "duplicate"},
    ]


@pytest.mark.parametrize("status", ["issued", "canceled", "rejected"])
async def test_cancel_refused_outside_pending(
    fake: FakeCertCentral, client: dc.CertCentralClient, status: str
) -> None:
    order_id = fake.add_order(status)
    with pytest.raises(dc.BadRequestError) as caught:
        await client.orders.cancel(order_id, note="too late")
    assert caught.value.status == 400 and caught.value.errors
    assert caught.value.attempts == 1
    assert (await client.orders.get(order_id)).status == status


async def test_create_document_signing_appears_in_info_and_listing(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order = dc.converter.structure(load_seed("document_signing_request"), dc.DocumentSigningOrder)
    created = await client.orders.create_document_signing(order, product="document_signing_org_2")
    assert created.id > 0 and created.requests
    info = await client.orders.get(created.id)
    assert info.product is not None and info.product.name_id == "document_signing_org_2"
    listed = [o.id async for o in client.orders.list()]
    assert created.id in listed
    posts = [r for r in fake.requests if r.method == "POST"]
    assert len(posts) == 1 and posts[0].json == load_seed("document_signing_request")


async def test_subaccount_order_and_listing(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = fake.add_order("issued", subaccount=True)
    sub = await client.subaccounts.get_order(order_id)
    assert sub.id == order_id and sub.status == "issued" and sub.subaccount is not None
    listed = [s.id async for s in client.subaccounts.list_orders()]
    assert order_id in listed
    with pytest.raises(dc.NotFoundError) as caught:
        await client.subaccounts.get_order(fake.add_order("pending", subaccount=False))
    assert caught.value.errors[0].base_code == "not_found"


async def test_listing_pages_until_total(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    expected = sorted([o.id async for o in client.orders.list(page_size=1000)])
    assert len(expected) == 30
    fake.clear_requests()
    paged = [o.id async for o in client.orders.list(page_size=7, sort="id")]
    assert paged == expected
    offsets = [r.query["offset"] for r in fake.requests]  # type: ignore[index,call-overload]
    assert offsets == ["0", "7", "14", "21", "28"]


async def test_listing_filters_by_status(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    pending = [o async for o in client.orders.list(status="pending", page_size=4)]
    assert pending and all(o.status == "pending" for o in pending)
    everything = [o async for o in client.orders.list()]
    assert len(pending) == sum(o.status == "pending" for o in everything)


async def test_status_changes(fake: FakeCertCentral, client: dc.CertCentralClient) -> None:
    since = datetime.now(timezone.utc) - timedelta(minutes=1)
    moved = fake.add_order("pending")
    await client.orders.cancel(moved, note="x")
    changes = await client.orders.status_changes(since)
    assert (moved, "canceled") in {(c.order_id, c.status) for c in changes}


async def test_wrong_key_is_permission_denied(fake: FakeCertCentral) -> None:
    async with dc.CertCentralClient(
        api_key="not-the-key", base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
    ) as bad:
        with pytest.raises(dc.PermissionDeniedError) as caught:
            await bad.orders.get(100001)
    assert caught.value.status == 403
    assert caught.value.code is not None and caught.value.code.startswith("access_denied")


async def test_unknown_order_is_not_found(client: dc.CertCentralClient) -> None:
    with pytest.raises(dc.NotFoundError) as caught:
        await client.orders.get(999_999_999)
    assert caught.value.code == "not_found|order"
    assert caught.value.errors[0].qualifier == "order"


async def test_server_error_with_html_body(fake: FakeCertCentral) -> None:
    fake.inject(Fault.SERVICE_UNAVAILABLE_HTML, times=1)
    async with make_client(fake, retry=NO_RETRY) as client:
        with pytest.raises(dc.ServerError) as caught:
            await client.orders.get(100001)
    assert caught.value.status == 503 and caught.value.errors == []
    assert "<" in caught.value.body


async def test_rate_limited_after_retries_run_out(fake: FakeCertCentral) -> None:
    fake.inject(Fault.RATE_LIMITED, times=1)
    async with make_client(fake, retry=NO_RETRY) as client:
        with pytest.raises(dc.RateLimitError) as caught:
            await client.orders.get(100001)
    assert caught.value.code == "request_limit_exceeded"


async def test_malformed_success_body_is_response_error(fake: FakeCertCentral) -> None:
    fake.inject(Fault.MALFORMED_JSON, times=1)
    async with make_client(fake, retry=NO_RETRY) as client:
        with pytest.raises(dc.ResponseError):
            await client.orders.get(100001)


async def test_listing_with_one_bad_item_fails_whole_call(
    unused_tcp_port: int,
) -> None:
    async def orders(request: web.Request) -> web.Response:
        return web.json_response(
            {"orders": [{"id": 1}, {"id": "not a number"}], "page": {"total": 2}}
        )

    async with (
        serve({"/services/v2/order/certificate": orders}) as root,
        dc.CertCentralClient(
            api_key="k", base_url=root, rate_limit=dc.RateLimit.disabled()
        ) as client,
    ):
        with pytest.raises(dc.ResponseError) as caught:
            [o async for o in client.orders.list()]
    assert caught.value.field == "orders[1].id"  # the item is to blame, not the page


async def test_connection_refused_is_transport_error(unused_tcp_port: int) -> None:
    async with dc.CertCentralClient(
        api_key="k",
        base_url=f"http://127.0.0.1:{unused_tcp_port}/services/v2",
        rate_limit=dc.RateLimit.disabled(),
        retry=dc.RetryPolicy(max_attempts=2, backoff_initial=0.01, backoff_max=0.02),
    ) as client:
        with pytest.raises(dc.TransportError) as caught:
            await client.orders.get(1)
    assert caught.value.request_sent is False and caught.value.attempts == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, dc.BadRequestError),
        (401, dc.AuthenticationError),
        (403, dc.PermissionDeniedError),
        (404, dc.NotFoundError),
        (409, dc.APIError),
        (302, dc.RedirectError),  # an APIError, and a ConfigurationError
        (429, dc.RateLimitError),
        (500, dc.ServerError),
        (503, dc.ServerError),
    ],
)
async def test_status_decides_the_class(status: int, error: type[dc.APIError]) -> None:
    body = '{"errors":[{"code":"x|y","message":"m1"},{"code":"z:w","message":"m2"}]}'

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="application/json")

    async with serve({"/services/v2/order/certificate/1": answer}) as root:
        async with dc.CertCentralClient(
            api_key="k", base_url=root, rate_limit=dc.RateLimit.disabled(), retry=NO_RETRY
        ) as client:
            with pytest.raises(error) as caught:
                await client.orders.get(1)
    assert type(caught.value) is error
    assert [(e.code, e.message) for e in caught.value.errors] == [("x|y", "m1"), ("z:w", "m2")]
    assert [e.base_code for e in caught.value.errors] == ["x", "z"]
    assert caught.value.method == "GET" and caught.value.url == f"{root}/order/certificate/1"


async def test_truncated_error_body_keeps_class_and_text() -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=400, text='{"errors":[{"code":"invalid_va')

    async with serve({"/services/v2/order/certificate/1": answer}) as root:
        async with dc.CertCentralClient(
            api_key="k", base_url=root, rate_limit=dc.RateLimit.disabled()
        ) as client:
            with pytest.raises(dc.BadRequestError) as caught:
                await client.orders.get(1)
    assert caught.value.errors == [] and caught.value.body == '{"errors":[{"code":"invalid_va'


# --- input validation: nothing is sent -------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.orders.add_note(1, ""), "text"),
        (lambda c: c.orders.add_note(1, "   "), "text"),
        (lambda c: c.orders.add_note(0, "x"), "order_id"),
        (lambda c: c.orders.add_note(-5, "x"), "order_id"),
        (lambda c: c.orders.cancel(1, note=""), "note"),
        (lambda c: c.orders.get(True), "order_id"),
        (lambda c: c.subaccounts.get_order(0), "order_id"),
        (lambda c: c.orders.list_notes("12"), "order_id"),
        (
            lambda c: c.orders.create_document_signing(
                load_seed("document_signing_request"), product="document_signing_org_3"
            ),
            "product",
        ),
        (
            lambda c: c.orders.create_document_signing(
                {**load_seed("document_signing_request"), "validity_years": 4}
            ),
            "validity_years",
        ),
        (
            lambda c: c.orders.status_changes(datetime(2026, 1, 1)),  # naive
            "since",
        ),
    ],
)
async def test_validation_sends_nothing(
    fake: FakeCertCentral,
    client: dc.CertCentralClient,
    call: Callable[[dc.CertCentralClient], Awaitable[object]],
    field: str,
) -> None:
    with pytest.raises(dc.ValidationError) as caught:
        await call(client)
    assert caught.value.field == field
    assert fake.requests == []


async def test_listing_validation_is_immediate(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    with pytest.raises(dc.ValidationError) as caught:
        client.orders.list(page_size=1001)
    assert caught.value.field == "page_size"
    with pytest.raises(dc.ValidationError):
        client.subaccounts.list_orders(filters={"x": ["a", "b"]})
    assert fake.requests == []


def test_client_configuration_is_validated() -> None:
    with pytest.raises(dc.ValidationError, match="api_key"):
        dc.CertCentralClient(api_key="")
    with pytest.raises(dc.ValidationError, match="region"):
        dc.CertCentralClient(api_key="k", region="asia")
    with pytest.raises(dc.ValidationError, match="base_url"):
        dc.CertCentralClient(api_key="k", base_url="http://example.com/services/v2")
    with pytest.raises(dc.ValidationError, match="timeout"):
        dc.CertCentralClient(api_key="k", timeout=0)
    for loopback in ("http://127.0.0.1:1/services/v2", "http://localhost/x", "http://[::1]:8/v2"):
        assert dc.CertCentralClient(api_key="k", base_url=loopback).api_root == loopback


# --- the key never leaks ---------------------------------------------------------------

SECRET = "s3cr3t-key-do-not-leak-5f1e"


async def test_key_never_in_repr_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    events: list[object] = []
    hooks = dc.Hooks(
        on_request=[events.append],
        on_response=[events.append],
        on_retry=[events.append],
        on_rate_limit_wait=[events.append],
    )
    texts: list[str] = []
    async with FakeCertCentral(api_key=SECRET, rate_limits=None, orders=3) as fake:
        fake.inject(Fault.SERVICE_UNAVAILABLE_HTML, times=1)
        fake.inject(Fault.RESET_BEFORE, times=1)
        async with dc.CertCentralClient(
            api_key=SECRET,
            base_url=fake.base_url,
            rate_limit=dc.RateLimit.disabled(),
            retry=dc.RetryPolicy(max_attempts=3, backoff_initial=0.01, backoff_max=0.02),
            hooks=hooks,
        ) as client:
            texts += [repr(client), str(client), repr(vars(client))]
            order = await client.orders.get(100001)  # after a 503 and a reset
            assert order.id == 100001
            with pytest.raises(dc.NotFoundError) as missing:
                await client.orders.get(999_999)
            texts += [str(missing.value), repr(missing.value), missing.value.url]
        async with dc.CertCentralClient(api_key="wrong", base_url=fake.base_url) as other:
            with pytest.raises(dc.PermissionDeniedError) as denied:
                await other.orders.get(100001)
            texts += [str(denied.value), denied.value.body]
        assert all(SECRET not in r.path + repr(r.query) for r in fake.requests)
    texts += [repr(e) for e in events]
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.__dict__)]
    assert any(isinstance(e, dc.RetryScheduled) for e in events)
    assert caplog.records, "the retries should have been logged"
    assert not [t for t in texts if SECRET in t]


async def test_redirect_to_another_origin_is_not_followed() -> None:
    other_hits: list[str] = []

    async def other(request: web.Request) -> web.Response:
        other_hits.append(request.headers.get("X-DC-DEVKEY", ""))
        return web.json_response({"id": 1})

    async with serve({"/services/v2/order/certificate/1": other}) as other_root:

        async def redirect(request: web.Request) -> web.Response:
            raise web.HTTPFound(f"{other_root}/order/certificate/1")

        async with serve({"/services/v2/order/certificate/1": redirect}) as root:
            async with dc.CertCentralClient(
                api_key=SECRET,
                base_url=root.replace("127.0.0.1", "localhost"),
                rate_limit=dc.RateLimit.disabled(),
            ) as client:
                with pytest.raises(dc.APIError) as caught:
                    await client.orders.get(1)
    assert caught.value.status == 302
    assert other_hits == []
    assert SECRET not in str(caught.value)


# --- session ownership ----------------------------------------------------------------


async def test_borrowed_session_is_not_closed(fake: FakeCertCentral) -> None:
    async with aiohttp.ClientSession() as session:
        async with make_client(fake, session=session) as client:
            await client.orders.get(100001)
        assert not session.closed
        assert client.closed
        with pytest.raises(RuntimeError):
            await client.orders.get(100001)


async def test_owned_session_is_closed(fake: FakeCertCentral) -> None:
    client = make_client(fake)
    await client.orders.get(100001)
    session = client._session
    assert session is not None
    await client.close()
    assert session.closed
    await client.close()  # idempotent


def serve(routes: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]) -> _Served:
    """A throwaway loopback server for statuses the fake does not produce."""
    return _Served(routes)


class _Served:
    def __init__(
        self, routes: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]
    ) -> None:
        self._app = web.Application()
        for path, handler in routes.items():
            self._app.router.add_route("*", path, handler)
        self._runner = web.AppRunner(self._app)

    async def __aenter__(self) -> str:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/services/v2"

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


async def test_readme_fixture_example(certcentral_fake: FakeCertCentral) -> None:
    """The README's "Testing your own code" example, through the installed pytest plugin."""
    order_id = certcentral_fake.add_order("pending")
    async with dc.CertCentralClient(
        api_key=certcentral_fake.api_key, base_url=certcentral_fake.base_url
    ) as client:
        await client.orders.cancel(order_id, note="test")
    assert certcentral_fake.order(order_id)["status"] == "canceled"  # type: ignore[index]


async def test_listing_total_is_known_after_the_first_page(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    listing = client.orders.list(page_size=7)
    assert isinstance(listing, dc.Listing) and listing.total is None
    first = await anext(listing)
    assert listing.total == 30 and first.id > 0
    await listing.aclose()
    assert len(fake.requests) == 1  # stopping early fetched no further page


async def test_the_client_reads_the_fakes_variance() -> None:
    async with FakeCertCentral(rate_limits=None, orders=10) as fake:
        async with dc.CertCentralClient(
            api_key=fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
        ) as client:
            orders = [order async for order in client.orders.list()]
    dv = [o for o in orders if o.product is not None and o.product.name_id == "ssl_dv_geotrust"]
    assert dv and all(order.organization is None for order in dv)
    assert all(
        (order.certificate is not None and order.certificate.id is not None)
        == (order.status in ("issued", "expired"))
        for order in orders
    )


# --- update_status and listing inputs --------------------------------------------------


async def test_update_status_needs_a_note_only_to_cancel(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    for status in ("CANCELED", "canceled"):
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.update_status(100001, status)
        assert caught.value.field == "note"
    with pytest.raises(dc.ValidationError) as caught:
        await client.orders.update_status(100001, "RENEWED", note="x")
    assert caught.value.field == "status" and "not_renewed" in caught.value.message
    assert fake.requests == []
    # the fake only cancels, and says so: what matters is what went out
    with pytest.raises(dc.BadRequestError):
        await client.orders.update_status(100001, "not_renewed")
    assert fake.requests[-1].json == {"status": "not_renewed"}


async def test_listing_status_is_one_documented_status(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    for bad in ("pendng", "PENDING", ["pending"], 1):
        with pytest.raises(dc.ValidationError) as caught:
            client.orders.list(status=bad)  # type: ignore[arg-type]
        assert caught.value.field == "status"
    with pytest.raises(dc.ValidationError, match="valid: approved, canceled"):
        client.subaccounts.list_orders(status="x")
    assert fake.requests == []


async def test_filter_values_are_typed_and_written_as_digicert_reads_them(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    class Host:
        def __str__(self) -> str:
            return "host.example.com"

    for bad in (Host(), True, 1.5, None, ["a"], datetime(2024, 5, 1, 12, 0), "", b"x"):
        with pytest.raises(dc.ValidationError) as caught:
            client.orders.list(filters={"common_name": bad})
        assert caught.value.field == "filters[common_name]"
    assert fake.requests == []
    moment = datetime(2024, 5, 1, 14, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    listing = client.orders.list(
        filters={"common_name": "a.example.com", "id": 100001, "date_created": moment}
    )
    _ = [order async for order in listing]
    query = fake.requests[-1].query
    assert query["filters[common_name]"] == "a.example.com"
    assert query["filters[id]"] == "100001"
    assert query["filters[date_created]"] == "2024-05-01 12:30:05"  # in UTC
    _ = [o async for o in client.orders.list(filters={"valid_till": date(2025, 1, 31)})]
    assert fake.requests[-1].query["filters[valid_till]"] == "2025-01-31"


async def test_status_changes_checks_its_window_before_sending(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    now = datetime.now(timezone.utc)
    for since, until, field in [
        (now, now, "until"),  # empty
        (now, now - timedelta(seconds=1), "until"),  # backwards
        (now - timedelta(days=7, seconds=1), now, "since"),  # longer than DigiCert keeps
        (now - timedelta(hours=1), None, None),  # fine: the check passes, a request goes
        (datetime(2024, 1, 1), now, "since"),  # naive
    ]:
        if field is None:
            await client.orders.status_changes(since, until)
            continue
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.status_changes(since, until)
        assert caught.value.field == field
    assert len(fake.requests) == 1
    assert await client.orders.status_changes(now - timedelta(days=7), now) is not None


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"interval": 0}, "interval"),
        ({"interval": -1.0}, "interval"),
        ({"interval": float("nan")}, "interval"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 2.0}, "concurrency"),
        ({"deadline": 0}, "deadline"),
        ({"until": set()}, "until"),
    ],
)
async def test_poll_orders_checks_its_options_before_sending(
    fake: FakeCertCentral, client: dc.CertCentralClient, options: dict[str, object], field: str
) -> None:
    with pytest.raises(dc.ValidationError) as caught:
        _ = [u async for u in dc.poll_orders(client, [100001], **options)]  # type: ignore[arg-type]
    assert caught.value.field == field
    assert fake.requests == []
