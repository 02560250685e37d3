"""The fake account's rooms on their own, without HTTP: the lifecycle clock, the books and
the lifecycle that the account composes from them."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta, timezone

import pytest

from digicert_async.testing import _x509
from digicert_async.testing._state import (
    CertificateBook,
    FakeAccount,
    LifecycleClock,
    OrderBook,
    OrganizationBook,
    RequestBook,
    StoredCertificate,
)
from digicert_async.testing._state._orders import show_certificate

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


def test_a_stale_entry_is_passed_over_for_the_next_one_due() -> None:
    clock = LifecycleClock(5)
    clock.schedule("order", 1)  # due at 5
    clock.advance(1)
    clock.schedule("order", 2)  # due at 6
    clock.advance(1)
    clock.schedule("order", 1)  # due at 7: the entry at 5 is stale
    assert clock.pop_due(6) == ("order", 2)
    assert clock.pop_due(7) == ("order", 1)


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


def test_a_clock_in_real_time_adds_the_time_since_it_was_made() -> None:
    now = [100.0]
    clock = LifecycleClock(realtime=True, monotonic=lambda: now[0])
    assert clock.realtime and clock.time() == 0
    now[0] = 103.0
    clock.advance(2)
    assert clock.time() == 5
    assert LifecycleClock(monotonic=lambda: now[0]).time() == 0  # not in real time


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
    assert LifecycleClock().issue_after == 60


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
    assert notes[0] == {
        "id": 1,
        "date_created": "2026-05-04T12:00:00+00:00",
        "text": "one",
        "user": {
            "id": 15,
            "first_name": "Fake",
            "last_name": "Administrator",
            "email": "admin@example.com",
        },
    }
    assert [note["text"] for note in first.notes] == ["one", "three"]


def test_an_order_is_held_as_order_info_shows_it() -> None:
    book = OrderBook()
    order = book.add(
        "pending",
        product="ssl_plus",
        common_name="a.example",
        created=NOON,
        subaccount=True,
        immediate=False,
        dns_names=["a.example", "b.example"],
        organization=(700001, "Acme"),
        validity_years=2,
        csr="CSR",
        signature_hash="sha384",
        server_platform_id=45,
    )
    assert order.info == {
        "id": 100001,
        "certificate": {
            "common_name": "a.example",
            "dns_names": ["a.example", "b.example"],
            "signature_hash": "sha384",
            "csr": "CSR",
            "server_platform": {"id": 45},
        },
        "status": "pending",
        "is_renewal": False,
        "date_created": "2026-05-04T12:00:00+00:00",
        "organization": {"id": 700001, "name": "Acme", "display_name": "Acme"},
        "validity_years": 2,
        "product": {"name_id": "ssl_plus", "name": "Standard SSL", "type": "ssl_certificate"},
    }
    assert (order.cost, order.status_last_updated, order.immediate) == (396, NOON, False)
    assert order.subaccount is not None and order.subaccount["account_id"] == 123446
    assert book.add("issued", product="p", common_name="c", created=NOON).subaccount is None
    direct = book.add("issued", product="p", common_name="c", created=NOON, subaccount=True)
    assert direct.subaccount is not None and direct.subaccount["account_id"] == 123445

    plain = book.add("issued", product="private_ssl", common_name="c.example", created=NOON)
    assert plain.info["certificate"] == {
        "common_name": "c.example",
        "dns_names": ["c.example"],
        "signature_hash": "sha256",
    }
    assert plain.info["product"] == {
        "name_id": "private_ssl",
        "name": "private_ssl",
        "type": "ssl_certificate",
    }
    assert plain.info["organization"]["id"] == 334455 and plain.info["validity_years"] == 1
    assert plain.cost == 100
    assert plain.immediate and plain.notes == [] and plain.certificate_ids == []


def test_order_info_shows_a_certificate_with_its_id_first() -> None:
    book = OrderBook()
    order = book.add("issued", product="ssl_basic", common_name="old.example", created=NOON)
    order.info["certificate"]["organization_units"] = ["Ops"]
    stored = StoredCertificate(
        500007, order.id, "reissue", "new.example", ["new.example"], "sha384", "CSR", 45
    )
    show_certificate(order, stored, NOON.date())
    assert list(order.info["certificate"].items()) == [
        ("id", 500007),
        ("common_name", "new.example"),
        ("dns_names", ["new.example"]),
        ("signature_hash", "sha384"),
        ("organization_units", ["Ops"]),
        ("csr", "CSR"),
        ("server_platform", {"id": 45}),
    ]
    stored.status, stored.thumbprint, stored.serial_number = "issued", "AB", "0F"
    stored.valid_from, stored.valid_till = NOON.date(), NOON.date() + timedelta(days=30)
    show_certificate(order, stored, NOON.date() + timedelta(days=10))
    shown = order.info["certificate"]
    assert next(iter(shown)) == "id" and shown["id"] == 500007
    assert {key: shown[key] for key in list(shown)[-5:]} == {
        "thumbprint": "AB",
        "serial_number": "0F",
        "valid_from": "2026-05-04",
        "valid_till": "2026-06-03",
        "days_remaining": 20,
    }
    assert shown["dns_names"] is not stored.dns_names

    later = StoredCertificate(500009, order.id, "reissue", "new.example", [])
    show_certificate(order, later, NOON.date())
    assert order.info["certificate"]["id"] == 500009
    del order.info["certificate"]
    show_certificate(order, later, NOON.date())
    assert order.info["certificate"] == {
        "id": 500009,
        "common_name": "new.example",
        "dns_names": [],
        "signature_hash": "sha256",
    }


def test_requests_are_numbered_from_9001_and_settled_only_where_asked() -> None:
    book = RequestBook()
    new = book.open("new_request", 100001, NOON, comments="please")
    done = book.open("reissue", 100001, NOON, status="approved", certificate_id=1)
    other = book.open("new_request", 100002, NOON)
    revoke = book.open("revoke", 100001, NOON, certificate_id=5, revocation_reason="key_compromise")
    duplicate = book.open("duplicate", 100001, NOON, certificate_id=5)
    assert [r.id for r in (new, done, other, revoke, duplicate)] == list(range(9001, 9006))
    assert [r.date_processed for r in (new, done)] == [None, NOON]
    assert (new.type, new.order_id, new.date, new.comments) == (
        "new_request",
        100001,
        NOON,
        "please",
    )
    assert (revoke.certificate_id, revoke.revocation_reason) == (5, "key_compromise")
    assert book[9001] is new

    later = datetime(2026, 5, 5, tzinfo=UTC)
    book.approve_open(100001, ("new_request", "reissue"), later)
    assert (new.status, new.date_processed) == ("approved", later)
    assert other.status == "pending" and duplicate.status == "pending"
    assert done.date_processed == NOON  # already decided: left as it was

    book.approve_for(5, later)
    assert (duplicate.status, duplicate.date_processed) == ("approved", later)
    assert revoke.status == "pending" and revoke.date_processed is None


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
    assert book.find("not-an-id") is None


def test_a_certificate_ends_with_its_order() -> None:
    book = CertificateBook()
    orders = OrderBook()
    order = orders.add("issued", product="ssl_basic", common_name="a.example", created=NOON)
    stored = StoredCertificate(book.new_id(), order.id, "original", "a.example", [])
    book.register(stored, order)
    book.issue(stored, NOON, order_till=NOON.date().replace(month=6), organization="Acme")
    assert stored.valid_from == NOON.date() and stored.valid_till == NOON.date().replace(month=6)


def test_a_certificate_outlives_an_order_that_ends_the_day_it_starts() -> None:
    book = CertificateBook()
    order = OrderBook().add("issued", product="ssl_basic", common_name="a", created=NOON)
    stored = StoredCertificate(book.new_id(), order.id, "original", "a.example", [])
    book.register(stored, order)
    book.issue(stored, NOON, order_till=NOON.date(), organization=None)
    assert stored.valid_till == NOON.date() + timedelta(days=200)  # the cap on 2026-05-04


def test_a_serial_number_is_16_octets_and_positive() -> None:
    book = CertificateBook()
    order = OrderBook().add("issued", product="ssl_basic", common_name="a", created=NOON)
    for _ in range(20):
        stored = StoredCertificate(book.new_id(), order.id, "original", "a.example", [])
        book.register(stored, order)
        book.issue(stored, NOON, order_till=None, organization=None)
        assert stored.serial_number is not None
        serial = int(stored.serial_number, 16)
        assert serial >> 120 & 1 and serial < 1 << 127
        assert book.serials[stored.serial_number] == stored.id


def test_without_cryptography_a_certificate_has_numbers_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_x509, "available", lambda: False)
    book = CertificateBook()
    assert book.authority() is None
    order = OrderBook().add("issued", product="ssl_basic", common_name="a", created=NOON)
    stored = StoredCertificate(book.new_id(), order.id, "original", "a.example", [])
    book.register(stored, order)
    book.issue(stored, NOON, order_till=None, organization=None)
    assert stored.serial_number is not None and stored.pem is None
    expected = hashlib.sha1(stored.serial_number.encode(), usedforsecurity=False).hexdigest()
    assert stored.thumbprint == expected.upper()


def test_the_ca_is_made_once_with_the_books_settings() -> None:
    pytest.importorskip("cryptography")
    book = CertificateBook(intermediates=2, cross_signed=True)
    authority = book.authority()
    assert authority is not None and book.authority() is authority
    # two intermediates, then the cross certificate, the root and the older root
    assert len(authority.chain) == 5
    assert len(CertificateBook().authority().chain) == 2  # type: ignore[union-attr]


def test_a_leaf_names_its_host_and_organization_and_ends_the_last_second() -> None:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr.example")]))
        .sign(key, hashes.SHA256())
    )
    csr = request.public_bytes(serialization.Encoding.PEM).decode()
    book = CertificateBook()
    order = OrderBook().add("issued", product="ssl_basic", common_name="a", created=NOON)
    stored = StoredCertificate(book.new_id(), order.id, "original", "", [], csr=csr)
    book.register(stored, order)
    book.issue(stored, NOON, order_till=None, organization="Acme")
    assert stored.pem is not None and stored.key_size is not None
    leaf = x509.load_pem_x509_certificate(stored.pem.encode())
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "fake.invalid"
    assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Acme"
    end = leaf.not_valid_after_utc
    assert (end.date(), end.time().isoformat()) == (stored.valid_till, "23:59:59")
    assert leaf.public_key() == key.public_key()  # the leaf certifies the CSR's key


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
