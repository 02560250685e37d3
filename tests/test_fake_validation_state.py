"""The fake account's validation rooms on their own, without HTTP: the fake DNS, the
domain book (validation, staleness, expiry) and the lifecycle holding orders for DCV."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from digicert_async._dcv import records_for
from digicert_async.testing._state import FakeAccount, LifecycleClock
from digicert_async.testing._state._domains import DomainBook, FakeDns, base_name, order_names

NOW = datetime(2026, 12, 6, tzinfo=timezone.utc)


async def test_the_dns_sees_a_record_once_it_has_propagated_and_until_removed() -> None:
    clock = LifecycleClock(None)
    dns = FakeDns(clock, propagation=30)
    (record,) = records_for("dns-txt-token", "tok", ["Example.com"])
    await dns.publish(record)
    assert dns.records() == [("TXT", "example.com", "tok")]
    assert not dns.proves("dns-txt-token", "example.com", "tok")
    clock.advance(30)
    assert dns.proves("dns-txt-token", "example.com", "tok")
    assert not dns.proves("dns-txt-token", "example.com", "other")
    assert not dns.proves("http-token", "example.com", "tok")
    await dns.unpublish(record)
    assert dns.records() == [] and (dns.published_count, dns.removed_count) == (1, 1)
    await dns.unpublish(record)
    assert dns.removed_count == 1  # removing what is not there counts nothing


async def test_the_dns_proves_each_method_where_digicert_looks() -> None:
    dns = FakeDns(LifecycleClock(None))
    for method in ("dns-cname-token", "http-token"):
        for record in records_for(method, "tok", ["www.example.org"]):
            await dns.publish(record)
        assert dns.proves(method, "www.example.org", "tok")
    assert dns.records() == [
        ("CNAME", "tok.www.example.org", "dcv.digicert.com"),
        ("HTTP", "http://www.example.org/.well-known/pki-validation/fileauth.txt", "tok"),
    ]


def test_a_validation_is_reusable_for_the_reuse_period_then_stale() -> None:
    clock = LifecycleClock(None)
    book = DomainBook(clock, reuse=100)
    domain = book.add("example.com", {"id": 1}, NOW, validated=True)
    assert book.valid(domain) and book.expires(domain, NOW) == NOW + timedelta(seconds=100)
    clock.advance(99)
    assert book.valid(domain)
    clock.advance(1)
    assert not book.valid(domain)
    doc = book.document(domain, NOW, validation=True)
    assert doc["dcv_expiration"] == {"ov": "2026-12-06", "ev": "2026-12-06"}  # now: stale
    assert doc["validations"][0]["status"] == "pending"
    book.passed(domain, NOW)
    assert book.valid(domain)
    domain.is_active = False
    assert not book.valid(domain)


def test_a_domain_covers_its_subdomains_and_wildcards() -> None:
    book = DomainBook(LifecycleClock(None))
    domain = book.add("Example.com.", {"id": 1}, NOW)
    assert domain.name == "example.com"
    assert book.named("a.b.example.com") is domain and book.named("*.example.com") is domain
    assert book.named("example.org") is None and book.named("com") is None
    assert base_name("*.Shop.Example.com.") == "shop.example.com"


def test_a_domain_on_a_token_method_has_a_token_and_shows_it_with_its_dcv() -> None:
    book = DomainBook(LifecycleClock(None))
    email = book.add("a.example", {"id": 1}, NOW)
    token = book.add("b.example", {"id": 1}, NOW, method="dns-cname-token")
    assert email.token is None and token.token
    assert "dcv_token" not in book.document(email, NOW, dcv=True)["dcv"]
    shown = book.document(token, NOW, dcv=True)["dcv"]["dcv_token"]
    assert shown["token"] == token.token and shown["verification_value"] == "dcv.digicert.com"
    assert "validations" not in book.document(token, NOW) and "dcv" not in book.document(token, NOW)


def test_the_lifecycle_holds_an_order_until_its_names_are_validated() -> None:
    account = FakeAccount(issue_after=10, dcv_required=True, validation_reuse=1000)
    names = ["h.example.com", "*.example.com"]
    order_id = account.lifecycle.add_order("pending", common_name="h.example.com", dns_names=names)
    order = account.orders[order_id]
    assert order_names(order) == ["h.example.com", "example.com"]
    account.lifecycle.advance(10)
    assert order.status == "pending"  # held
    domain = account.domains.add("example.com", {"id": 1}, account.now(), validated=True)
    account.lifecycle.advance(100)
    assert order.status == "pending"  # nothing tells it until a check passes
    account.lifecycle.domains_passed()
    account.lifecycle.advance(10)
    assert order.status == "issued"
    assert domain.validated_at is not None


def test_without_the_option_nothing_is_held() -> None:
    account = FakeAccount(issue_after=10)
    order_id = account.lifecycle.add_order("pending", common_name="h.example.com")
    account.lifecycle.advance(10)
    assert account.orders[order_id].status == "issued"
    assert account.lifecycle.holds_for_dcv is None
