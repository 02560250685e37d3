"""The resources' details that mutation testing found unchecked.

Input checks name the field at fault (and say what is wrong) before any request;
listing filters and the status-changes window are written in UTC whatever the
machine's time zone; a listing read with ``past_bad_pages`` goes on past a page
that cannot be read only while the announced total says more follow; a paging
error names the page it is about; and ``get_note`` is checked and sent as documented.
Answers come from a loopback server (``served``) or ``FakeCertCentral``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

import attrs
import pytest

import digicert_async as dc
from digicert_async.resources._base import _envelope, listing_params
from digicert_async.testing import FakeCertCentral, Fault

from ._served import served

STATUSES = frozenset({"pending", "issued"})


class _NoOffset(tzinfo):
    """A time zone that does not know its offset: a datetime in it is not aware."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


@pytest.fixture
def denver_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone set away from UTC for the test."""
    monkeypatch.setenv("TZ", "America/Denver")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _invalid(field: str, **kwargs: Any) -> dc.ValidationError:
    with pytest.raises(dc.ValidationError) as caught:
        listing_params(**{"status": None, "filters": None, "sort": None, **kwargs})
    assert caught.value.field == field
    return caught.value


# --------------------------------------------------------------------------- listing params


def test_listing_params_name_the_field_and_the_fault() -> None:
    error = _invalid("status", status=5, statuses=STATUSES)
    assert error.message == "expected one status, got int"
    for name in ("a[b", "a]b", "", 5):
        error = _invalid("filters", filters={name: "x"}, statuses=STATUSES)
        assert error.message == f"bad filter name {name!r}"
    error = _invalid("filters", status="issued", filters={"status": "pending"}, statuses=STATUSES)
    assert error.message == "status is given twice (status= and filters)"
    _invalid("sort", sort="  ", statuses=STATUSES)


def test_a_status_filter_alone_is_a_filter() -> None:
    params = listing_params(status=None, filters={"status": "pending"}, sort=None, statuses=())
    assert params == (("filters[status]", "pending"),)


def test_filter_values_refused_with_their_reason() -> None:
    unaware = datetime(2024, 5, 1, 12, 0, tzinfo=_NoOffset())
    error = _invalid("filters[date_created]", filters={"date_created": unaware}, statuses=())
    assert error.message == "a datetime must be timezone-aware"
    error = _invalid("filters[x]", filters={"x": ["a"]}, statuses=())
    assert error.message == "must be a string, an int, a date or a datetime, got list"


@pytest.mark.usefixtures("denver_local_time")
def test_filter_datetimes_are_written_in_utc_whatever_the_local_zone() -> None:
    moment = datetime(2024, 5, 1, 23, 30, tzinfo=timezone(timedelta(hours=2)))
    params = listing_params(
        status=None, filters={"since": moment, "day": date(2024, 5, 2)}, sort=None, statuses=()
    )
    assert params == (("filters[since]", "2024-05-01 21:30:00"), ("filters[day]", "2024-05-02"))


async def test_subaccount_listing_sends_its_sort() -> None:
    async with served() as (server, client):
        server.answer("GET", "/account/subaccount/order", 200, {"orders": []})
        assert [o async for o in client.subaccounts.list_orders(sort="-date_created")] == []
    assert server.requests == [
        ("GET", "/account/subaccount/order?sort=-date_created&offset=0&limit=1000")
    ]


# --------------------------------------------------------------------------- the envelope


def test_a_page_envelope_for_a_new_list_key_is_built_once_and_reads_raw_items() -> None:
    # A key no run has used before: the envelopes are cached for the process.
    key = f"widgets_{uuid.uuid4().hex}"
    cls = _envelope(key)
    assert _envelope(key) is cls
    page = dc.converter.structure({key: [{"id": "raw", "x": [1]}], "page": {"total": 1}}, cls)
    assert getattr(page, key) == [{"id": "raw", "x": [1]}]
    assert isinstance(page.page, dc.Page) and page.page.total == 1
    empty = dc.converter.structure({}, cls)
    assert (getattr(empty, key), empty.page) == ([], None)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        empty.page = None
    # the list must be a list: its items are left raw, not the list itself
    with pytest.raises(dc.ValidationError, match="expected a list, got dict"):
        dc.converter.structure({key: {"id": 1}}, cls)


# --------------------------------------------------------------------------- paging


def _orders(*ids: int | str) -> list[dict[str, Any]]:
    return [{"id": i} for i in ids]


async def test_a_paging_error_names_the_page_it_is_about() -> None:
    async with served() as (server, client):
        first = {"orders": _orders(1, 2), "page": {"total": 5}}
        server.answer("GET", "/order/certificate?offset=0&limit=2", 200, first)
        server.answer("GET", "/order/certificate?offset=2&limit=2", 200, {"page": {"total": 5}})
        with pytest.raises(dc.ResponseError) as caught:
            _ = [order async for order in client.orders.list(page_size=2)]
    error = caught.value
    assert (error.method, error.status, error.body) == ("GET", 200, "")
    assert error.url == server.root + "/order/certificate"


async def test_pages_go_past_a_bad_page_only_when_asked_and_more_are_announced() -> None:
    async with served() as (server, client):
        server.answer(
            "GET",
            "/order/certificate?offset=0&limit=2",
            200,
            {"orders": _orders(1, 2), "page": {"total": 6}},
        )
        server.answer("GET", "/order/certificate?offset=2&limit=2", 200, b"<html>oops</html>")
        server.answer(
            "GET", "/order/certificate?offset=4&limit=2", 200, {"orders": _orders(5, "six")}
        )
        listing = client.orders.list(page_size=2)
        pages = [page async for page in listing.pages(past_bad_pages=True)]
        assert [p.offset for p in pages] == [0, 2, 4]
        assert [p.error is not None for p in pages] == [False, True, False]
        assert [o.id for o in pages[0].items] == [1, 2]
        assert [o.id for o in pages[2].items] == [5]
        assert [f.raw for f in pages[2].failures] == [{"id": "six"}]
        assert pages[0].url == server.root + "/order/certificate"

        # by default the listing ends at the page it cannot read
        server.requests.clear()
        default = [page async for page in client.orders.list(page_size=2).pages()]
        assert [(p.offset, p.error is not None) for p in default] == [(0, False), (2, True)]
        assert len(server.requests) == 2


async def test_a_bad_last_page_ends_the_listing_even_past_bad_pages() -> None:
    async with served() as (server, client):
        server.answer(
            "GET",
            "/order/certificate?offset=0&limit=2",
            200,
            {"orders": _orders(1, 2), "page": {"total": 4}},
        )
        server.answer("GET", "/order/certificate?offset=2&limit=2", 200, b"<html>oops</html>")
        listing = client.orders.list(page_size=2)
        pages = [page async for page in listing.pages(past_bad_pages=True)]
        assert [(p.offset, p.error is not None) for p in pages] == [(0, False), (2, True)]
        assert len(server.requests) == 2


async def test_a_bad_first_page_ends_the_listing_even_past_bad_pages() -> None:
    async with served() as (server, client):
        server.answer("GET", "/order/certificate?offset=0&limit=2", 200, b"<html>oops</html>")
        listing = client.orders.list(page_size=2)
        pages = [page async for page in listing.pages(past_bad_pages=True)]
        assert [(p.offset, p.error is not None) for p in pages] == [(0, True)]
        assert len(server.requests) == 1


async def test_items_that_fail_to_decode_count_toward_the_next_offset() -> None:
    async with served() as (server, client):
        server.answer(
            "GET",
            "/order/certificate?offset=0&limit=3",
            200,
            {"orders": _orders(1, "two", 3), "page": {"total": 4}},
        )
        server.answer("GET", "/order/certificate?offset=3&limit=3", 200, {"orders": _orders(4)})
        pages = [page async for page in client.orders.list(page_size=3).pages()]
        assert [p.offset for p in pages] == [0, 3]
        assert [o.id for p in pages for o in p.items] == [1, 3, 4]


# --------------------------------------------------------------------------- orders


async def test_get_note_checks_both_ids_and_reads_the_note() -> None:
    async with served() as (server, client):
        for args, field in (((0, 1), "order_id"), ((1, 0), "note_id")):
            with pytest.raises(dc.ValidationError) as caught:
                await client.orders.get_note(*args)
            assert caught.value.field == field
        assert server.requests == []
        server.answer("GET", "/order/certificate/42/note/7", 200, {"id": 7, "text": "seen"})
        note = await client.orders.get_note(42, 7)
    assert (note.id, note.text) == (7, "seen")
    assert server.requests == [("GET", "/order/certificate/42/note/7")]


async def test_update_status_cancels_by_default_and_refuses_a_page() -> None:
    async with served() as (server, client):
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.update_status(0, note="x")
        assert caught.value.field == "order_id"
        server.answer("PUT", "/order/certificate/7/status", 204, None)
        await client.orders.update_status(7, note="not needed")
        assert server.bodies == [{"status": "CANCELED", "note": "not needed"}]
        # a success status with a web page is no answer of DigiCert's
        server.answer("PUT", "/order/certificate/7/status", 200, b"<html>login</html>")
        with pytest.raises(dc.ResponseError):
            await client.orders.update_status(7, "renewed")


async def test_create_document_signing_says_what_it_accepts() -> None:
    async with served() as (server, client):
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.create_document_signing({}, product="ssl_basic")
        assert caught.value.field == "product"
        assert caught.value.message == (
            "must be one of document_signing_org_1, document_signing_org_2, not 'ssl_basic'"
        )
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.create_document_signing(["not", "a", "mapping"])  # type: ignore[arg-type]
        assert caught.value.field == "order"
        assert caught.value.message.startswith("must be a DocumentSigningOrder or a mapping")
    assert server.requests == []


async def test_status_changes_checks_name_the_field_and_the_fault() -> None:
    now = datetime.now(timezone.utc)
    async with served() as (server, client):
        cases: list[tuple[Any, Any, str, str]] = [
            ("yesterday", None, "since", "must be a datetime"),
            (now.replace(tzinfo=_NoOffset()), None, "since", "must be timezone-aware"),
            (now - timedelta(hours=1), now.replace(tzinfo=None), "until", "must be timezone-aware"),
            (now, now - timedelta(seconds=1), "until", "must be later than since"),
            (
                now - timedelta(days=8),
                now,
                "since",
                "DigiCert keeps status changes for 7 days only",
            ),
        ]
        for since, until, field, message in cases:
            with pytest.raises(dc.ValidationError) as caught:
                await client.orders.status_changes(since, until)
            assert caught.value.field == field
            assert caught.value.message.startswith(message)
    assert server.requests == []


@pytest.mark.usefixtures("denver_local_time")
async def test_the_status_changes_window_is_utc_whatever_the_local_zone() -> None:
    since = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/status-changes", 200, {"orders": []})
        await client.orders.status_changes(since, since + timedelta(hours=2))
    [(_, path)] = server.requests
    assert path.endswith("=2024-05-01 05:00:00...2024-05-01 14:00:00")


async def test_reads_are_retried_as_gets() -> None:
    async with FakeCertCentral(rate_limits=None, orders=3, seed=7) as fake:
        order_id = fake.add_order("pending")
        async with dc.CertCentralClient(
            api_key=fake.api_key,
            base_url=fake.base_url,
            rate_limit=dc.RateLimit.disabled(),
            retry=dc.RetryPolicy(max_attempts=2, backoff_initial=0.0),
            timeout=5.0,
        ) as client:
            note = await client.orders.add_note(order_id, "kept")
            fake.inject(Fault.BAD_GATEWAY, path_contains="/note/")
            assert (await client.orders.get_note(order_id, note.id)).text == "kept"
            fake.inject(Fault.BAD_GATEWAY, path_contains="status-changes")
            since = datetime.now(timezone.utc) - timedelta(hours=1)
            await client.orders.status_changes(since)
        assert [r.method for r in fake.requests] == ["POST", "GET", "GET", "GET", "GET"]
