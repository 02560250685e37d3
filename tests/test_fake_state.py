"""The fake account's rooms on their own, without HTTP: the lifecycle clock, the books and
the lifecycle that the account composes from them."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest

from digicert_async.testing._state import (
    CertificateBook,
    FakeAccount,
    LifecycleClock,
    OrderBook,
    OrganizationBook,
    RequestBook,
    StoredCertificate,
)

UTC = timezone.utc
NOON = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)


# ------------------------------------------------------------------ the lifecycle clock


def test_entries_fall_due_earliest_first_and_only_once_due() -> None:
    clock = LifecycleClock(10)
    clock.schedule("order", 1)
    clock.advance(3)
    clock.schedule("certificate", 7)
    clock.schedule("order", 2)
    assert clock.due("order", 1) == 10 and clock.due("certificate", 7) == 13
    assert clock.pop_due(9.5) is None
    assert clock.pop_due(10) == ("order", 1)
    assert clock.due("order", 1) is None
    # the same due time: in the order they were scheduled
    assert [clock.pop_due(13), clock.pop_due(13), clock.pop_due(13)] == [
        ("certificate", 7),
        ("order", 2),
        None,
    ]
    assert not clock.waiting


def test_a_rescheduled_entry_falls_due_once_at_its_new_time() -> None:
    clock = LifecycleClock(5)
    clock.schedule("order", 1)
    clock.advance(4)
    clock.schedule("order", 1)  # the wait starts again
    assert clock.due("order", 1) == 9
    assert clock.pop_due(8) is None  # the first schedule is stale
    assert clock.pop_due(9) == ("order", 1)
    assert clock.pop_due(math.inf) is None


def test_an_unscheduled_entry_never_falls_due() -> None:
    clock = LifecycleClock(1)
    clock.schedule("certificate", 3)
    clock.unschedule("certificate", 3)
    clock.unschedule("certificate", 4)  # never scheduled: nothing to do
    assert clock.due("certificate", 3) is None
    assert clock.pop_due(math.inf) is None


def test_issue_after_none_schedules_nothing() -> None:
    clock = LifecycleClock(None)
    clock.schedule("order", 1)
    assert clock.due("order", 1) is None and not clock.waiting


def test_the_clock_moves_only_when_advanced_unless_realtime() -> None:
    clock = LifecycleClock()
    assert not clock.realtime and clock.time() == 0
    clock.advance(2.5)
    clock.advance(0)
    assert clock.time() == 2.5
    assert LifecycleClock(realtime=True).realtime


@pytest.mark.parametrize("seconds", [-1.0, math.nan])
def test_the_clock_refuses_a_step_back_or_no_number(seconds: float) -> None:
    clock = LifecycleClock()
    with pytest.raises(ValueError, match="seconds"):
        clock.advance(seconds)
    assert clock.time() == 0


def test_a_negative_issue_after_is_refused() -> None:
    with pytest.raises(ValueError, match="issue_after"):
        LifecycleClock(-0.1)
    assert LifecycleClock(0).issue_after == 0


# ------------------------------------------------------------------ the books


def test_orders_are_numbered_from_100001_and_notes_across_orders() -> None:
    book = OrderBook()
    first = book.add("pending", product="ssl_basic", common_name="a.example", created=NOON)
    second = book.add(
        "issued", product="ssl_dv_geotrust", common_name="b.example", created=NOON, dns_names=[]
    )
    assert (first.id, second.id) == (100001, 100002) and set(book) == {100001, 100002}
    assert first.info["certificate"]["dns_names"] == ["a.example"]
    assert second.info["certificate"]["dns_names"] == []
    assert second.info["organization"] == []  # DV: PHP's empty array
    assert first.info["date_created"] == "2026-05-04T12:00:00+00:00"
    notes = [
        book.add_note(first, "one", NOON),
        book.add_note(second, "two", NOON),
        book.add_note(first, "three", NOON),
    ]
    assert [note["id"] for note in notes] == [1, 2, 3]
    assert [note["text"] for note in first.notes] == ["one", "three"]


def test_requests_are_numbered_from_9001_and_settled_only_where_asked() -> None:
    book = RequestBook()
    new = book.open("new_request", 100001, NOON)
    done = book.open("reissue", 100001, NOON, status="approved", certificate_id=1)
    other = book.open("new_request", 100002, NOON)
    revoke = book.open("revoke", 100001, NOON, certificate_id=5)
    duplicate = book.open("duplicate", 100001, NOON, certificate_id=5)
    assert [r.id for r in (new, done, other, revoke, duplicate)] == list(range(9001, 9006))
    assert [r.date_processed for r in (new, done)] == [None, NOON]

    later = datetime(2026, 5, 5, tzinfo=UTC)
    book.approve_open(100001, ("new_request", "reissue"), later)
    assert (new.status, new.date_processed) == ("approved", later)
    assert other.status == "pending" and duplicate.status == "pending"
    assert done.date_processed == NOON  # already decided: left as it was

    book.approve_for(5, later)
    assert duplicate.status == "approved" and revoke.status == "pending"


def test_organizations_hold_the_default_one_and_number_new_ones() -> None:
    book = OrganizationBook()
    assert book == {334455: "Example Organization"}
    assert book.add("Acme") == 700001 and book.add("Other") == 700002
    assert book[700001] == "Acme"


def test_certificates_are_found_by_id_or_serial_in_any_case() -> None:
    orders = OrderBook()
    order = orders.add("issued", product="ssl_basic", common_name="a.example", created=NOON)
    book = CertificateBook()
    original = StoredCertificate(book.new_id(), order.id, "original", "a.example", [])
    reissue = StoredCertificate(book.new_id(), order.id, "reissue", "a.example", [])
    book.register(original, order)
    book.register(reissue, order)
    assert (original.id, reissue.id) == (500001, 500002)
    assert order.certificate_ids == [500001, 500002]
    assert book.of(order, "reissue") == [reissue] and book.of(order, "duplicate") == []
    assert book.pending_reissue(order) is reissue

    book.issue(reissue, NOON, order_till=None, organization=None)
    assert reissue.status == "issued" and book.pending_reissue(order) is None
    serial = reissue.serial_number
    assert serial is not None and len(serial) == 32
    assert book.find(serial) is reissue and book.find(serial.lower()) is reissue
    assert book.find("500001") is original
    assert book.find("500009") is None
    assert book.find("9" * 21) is None  # too long for an id, and no such serial


def test_a_certificate_ends_with_its_order() -> None:
    book = CertificateBook()
    orders = OrderBook()
    order = orders.add("issued", product="ssl_basic", common_name="a.example", created=NOON)
    stored = StoredCertificate(book.new_id(), order.id, "original", "a.example", [])
    book.register(stored, order)
    book.issue(stored, NOON, order_till=NOON.date().replace(month=6), organization="Acme")
    assert stored.valid_from == NOON.date() and stored.valid_till == NOON.date().replace(month=6)


def test_a_chain_needs_one_intermediate_at_least() -> None:
    with pytest.raises(ValueError, match="intermediates"):
        CertificateBook(intermediates=0)


# ------------------------------------------------------------------ the account


def test_the_lifecycle_changes_the_accounts_own_books() -> None:
    account = FakeAccount(lambda: NOON, issue_after=30)
    lifecycle = account.lifecycle
    assert lifecycle.orders is account.orders and lifecycle.clock is account.clock
    assert lifecycle.certificates is account.certificates
    assert lifecycle.requests is account.requests

    placed = lifecycle.new_order("ssl_basic", common_name="api.example.com")
    order = account.orders[placed.order_id]
    assert order.info["date_created"] == "2026-05-04T12:00:00+00:00"
    assert account.clock.due("order", order.id) == 30
    lifecycle.advance(29)
    assert order.status == "pending"
    lifecycle.advance(1)
    assert order.status == "issued"
    assert account.requests[placed.request_id].status == "approved"
    (certificate_id,) = order.certificate_ids
    assert account.certificates[certificate_id].date_issued == NOON


def test_a_duplicate_falls_due_on_the_clock_and_settles_its_request() -> None:
    account = FakeAccount(lambda: NOON, issue_after=10)
    order = account.orders[account.lifecycle.add_order("issued")]
    request = account.lifecycle.duplicate(
        order, common_name="example.com", dns_names=[], csr=None, signature_hash="sha256"
    )
    assert request.certificate_id is not None
    duplicate = account.certificates[request.certificate_id]
    account.lifecycle.tick()
    assert duplicate.status == "pending"
    account.lifecycle.advance(10)
    assert duplicate.status == "issued" and request.status == "approved"
    assert order.status == "issued"


def test_seeded_orders_cycle_statuses_and_owners() -> None:
    account = FakeAccount(lambda: NOON)
    account.seed(10)
    orders = list(account.orders.values())
    assert [o.status for o in orders[:6]] == [
        "pending",
        "waiting_pickup",
        "issued",
        "canceled",
        "rejected",
        "expired",
    ]
    assert [o.id for o in orders if o.subaccount is not None] == [100005, 100010]
    assert [o.immediate for o in orders].count(False) == 1
    assert orders[-1].info["date_created"] == "2026-05-04T11:59:00+00:00"
