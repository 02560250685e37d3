"""FakeCertCentral's lifecycle: orders move pending -> issued on a clock the test controls,
a reissue gives the order a new certificate, a duplicate adds one, a revocation revokes;
and every issued certificate is a real X.509 chain that parses and chains to a
self-signed root (signatures checked with ``cryptography``)."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import AsyncIterator

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

ISSUE_AFTER = 60.0


def make_csr(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A fresh key and a PEM CSR for ``common_name``."""
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return key, request.public_bytes(serialization.Encoding.PEM).decode("ascii")


def public_der(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def verify_chain(leaf_pem: str, chain: tuple[str, ...]) -> list[x509.Certificate]:
    """Parse leaf + chain, check that each is signed by the next and that the last one
    is self-signed (subject equals issuer, signature verifies with its own key)."""
    certificates = [x509.load_pem_x509_certificate(pem.encode()) for pem in (leaf_pem, *chain)]
    for child, parent in itertools.pairwise(certificates):
        assert child.issuer == parent.subject
        child.verify_directly_issued_by(parent)  # raises if the signature does not verify
        constraints = parent.extensions.get_extension_for_class(x509.BasicConstraints)
        assert constraints.value.ca is True
    root = certificates[-1]
    assert root.subject == root.issuer
    root.verify_directly_issued_by(root)
    leaf_constraints = certificates[0].extensions.get_extension_for_class(x509.BasicConstraints)
    assert leaf_constraints.value.ca is False
    return certificates


@pytest.fixture
async def fake() -> AsyncIterator[FakeCertCentral]:
    async with FakeCertCentral(rate_limits=None, issue_after=ISSUE_AFTER) as server:
        yield server


@pytest.fixture
async def client(fake: FakeCertCentral) -> AsyncIterator[dc.CertCentralClient]:
    async with dc.CertCentralClient(
        api_key=fake.api_key,
        base_url=fake.base_url,
        rate_limit=dc.RateLimit.disabled(),
        timeout=5.0,
    ) as c:
        yield c


async def issued_order(fake: FakeCertCentral, client: dc.CertCentralClient) -> int:
    order_id = fake.add_order("pending", common_name="www.example.com")
    fake.advance(ISSUE_AFTER)
    assert (await client.orders.get(order_id)).status == "issued"
    return order_id


# ---------------------------------------------------------------------- the clock


async def test_a_pending_order_is_issued_when_the_clock_reaches_issue_after(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = fake.add_order("pending", common_name="www.example.com")
    order = await client.orders.get(order_id)
    assert order.status == "pending"
    assert order.certificate is not None and order.certificate.id is None

    fake.advance(ISSUE_AFTER - 1)
    assert (await client.orders.get(order_id)).status == "pending"

    fake.advance(1)
    order = await client.orders.get(order_id)
    assert order.status == "issued"
    assert order.certificate is not None
    assert order.certificate.id is not None
    assert order.certificate.serial_number is not None
    assert order.date_issued is not None
    stored = fake.certificate(order.certificate.id)
    assert stored is not None and stored.status == "issued"
    assert stored.serial_number == order.certificate.serial_number
    assert stored.thumbprint == order.certificate.thumbprint


async def test_issue_after_none_leaves_orders_where_they_are() -> None:
    async with FakeCertCentral(rate_limits=None, issue_after=None) as fake:
        order_id = fake.add_order("pending")
        fake.advance(10**6)
        order = fake.order(order_id)
        assert order is not None and order["status"] == "pending"


async def test_realtime_clock_issues_without_advance() -> None:
    async with FakeCertCentral(rate_limits=None, issue_after=0.05, realtime=True) as fake:
        order_id = fake.add_order("pending")
        for _ in range(200):  # up to 2 s: a bound on behaviour, not a timing test
            order = fake.order(order_id)
            assert order is not None
            if order["status"] == "issued":
                break
            await asyncio.sleep(0.01)
        assert order["status"] == "issued"


async def test_an_order_placed_through_new_order_follows_the_same_clock() -> None:
    async with FakeCertCentral(rate_limits=None, issue_after=30) as fake:
        store = fake._account  # what an order-creation route calls
        placed = store.lifecycle.new_order("ssl_basic", common_name="api.example.com")
        assert placed.request_status == "pending" and placed.certificate_id is None
        assert store.requests[placed.request_id].type == "new_request"
        fake.advance(30)
        info = fake.order(placed.order_id)
        assert info is not None and info["status"] == "issued"
        assert store.requests[placed.request_id].status == "approved"
        stored = fake.certificate(info["certificate"]["id"])
        assert stored is not None and stored.pem is not None

        skipped = store.lifecycle.new_order(
            "ssl_basic", common_name="b.example.com", skip_approval=True
        )
        assert skipped.request_status == "approved"
        assert skipped.certificate_id is not None  # DigiCert returns it at once then
        fake.advance(30)
        info = fake.order(skipped.order_id)
        assert info is not None and info["certificate"]["id"] == skipped.certificate_id


# ---------------------------------------------------------------------- X.509


@pytest.mark.parametrize("intermediates", [1, 2, 3])
async def test_an_issued_certificate_is_a_real_chain(intermediates: int) -> None:
    async with FakeCertCentral(rate_limits=None, intermediates=intermediates) as fake:
        order_id = fake.add_order(
            "pending", common_name="www.example.com", dns_names=["www.example.com", "example.com"]
        )
        fake.advance(60)
        info = fake.order(order_id)
        assert info is not None
        stored = fake.certificate(info["certificate"]["id"])
        assert stored is not None and stored.pem is not None
        assert len(stored.chain) == intermediates + 1
        assert stored.chain[-1] == fake.root_pem
        assert stored.pem_all == stored.pem + "".join(stored.chain)

        leaf, *_ = verify_chain(stored.pem, stored.chain)
        cn = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert cn == "www.example.com"
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert set(san.get_values_for_type(x509.DNSName)) == {"www.example.com", "example.com"}
        # what order info shows is this certificate
        assert f"{leaf.serial_number:032X}" == info["certificate"]["serial_number"]
        der = leaf.public_bytes(serialization.Encoding.DER)
        sha1 = hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
        assert sha1 == info["certificate"]["thumbprint"]
        assert leaf.not_valid_before_utc.date().isoformat() == info["certificate"]["valid_from"]
        assert leaf.not_valid_after_utc.date().isoformat() == info["certificate"]["valid_till"]
        # a serial number finds the same certificate
        by_serial = fake.certificate(info["certificate"]["serial_number"])
        assert by_serial is not None and by_serial.id == stored.id


async def test_two_fakes_have_different_roots() -> None:
    async with FakeCertCentral(rate_limits=None) as one, FakeCertCentral(rate_limits=None) as two:
        assert one.root_pem is not None and two.root_pem is not None
        assert one.root_pem != two.root_pem


# ---------------------------------------------------------------------- reissue, duplicate


async def test_a_reissue_gives_the_order_a_new_certificate_with_the_csrs_key(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = await issued_order(fake, client)
    before = await client.orders.get(order_id)
    assert before.certificate is not None
    old_id, old_serial = before.certificate.id, before.certificate.serial_number
    key, csr = make_csr("www.example.com")

    created = await client.orders.reissue(order_id, csr)
    assert created.id == order_id
    assert created.requests is not None and created.requests[0].status == "pending"
    during = await client.orders.get(order_id)
    assert during.status == "reissue_pending"
    assert during.certificate is not None and during.certificate.id == old_id  # still the old
    [pending] = await client.orders.list_reissues(order_id)
    assert pending.status == "pending" and pending.serial_number is None

    fake.advance(ISSUE_AFTER)
    after = await client.orders.get(order_id)
    assert after.status == "issued"
    assert after.certificate is not None
    assert after.certificate.id == pending.id != old_id
    assert after.certificate.serial_number not in (None, old_serial)
    [issued] = await client.orders.list_reissues(order_id)
    assert issued.status == "issued" and issued.serial_number == after.certificate.serial_number
    request = await client.requests.get(created.requests[0].id)
    assert request.type == "reissue" and request.status == "approved"

    stored = fake.certificate(pending.id)
    assert stored is not None and stored.pem is not None
    leaf, *_ = verify_chain(stored.pem, stored.chain)
    assert public_der(leaf.public_key()) == public_der(key.public_key())
    assert fake.certificate_ids(order_id) == [old_id, pending.id]


async def test_rejecting_a_reissue_leaves_the_old_certificate(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = await issued_order(fake, client)
    old_id = fake.certificate_ids(order_id)[0]
    created = await client.orders.reissue(order_id, make_csr("www.example.com")[1])
    assert created.requests is not None
    await client.requests.reject(created.requests[0].id, comment="wrong key")
    fake.advance(ISSUE_AFTER)
    order = await client.orders.get(order_id)
    assert order.status == "issued"
    assert order.certificate is not None and order.certificate.id == old_id
    [rejected] = await client.orders.list_reissues(order_id)
    assert rejected.status == "rejected"
    request = await client.requests.get(created.requests[0].id)
    assert request.status == "rejected" and request.processor_comment == "wrong key"


async def test_a_duplicate_is_issued_beside_the_current_certificate(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = await issued_order(fake, client)
    current = fake.certificate_ids(order_id)[0]
    key, csr = make_csr("www.example.com")
    created = await client.orders.duplicate(order_id, csr)
    assert (await client.orders.get(order_id)).status == "issued"  # no status change
    [pending] = await client.orders.list_duplicates(order_id)
    assert pending.status == "pending"

    fake.advance(ISSUE_AFTER)
    [issued] = await client.orders.list_duplicates(order_id)
    assert issued.status == "issued" and issued.serial_number is not None
    order = await client.orders.get(order_id)
    assert order.certificate is not None and order.certificate.id == current
    assert created.requests is not None
    assert (await client.requests.get(created.requests[0].id)).status == "approved"
    stored = fake.certificate(issued.id)
    assert stored is not None and stored.pem is not None
    leaf, *_ = verify_chain(stored.pem, stored.chain)
    assert public_der(leaf.public_key()) == public_der(key.public_key())
    assert await client.orders.list_reissues(order_id) == []


async def test_only_an_issued_order_is_reissued(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = fake.add_order("pending")
    with pytest.raises(dc.BadRequestError) as caught:
        await client.orders.reissue(order_id, make_csr("example.com")[1])
    assert caught.value.code == "invalid_status"


# ---------------------------------------------------------------------- revoke


async def test_revoking_an_order_waits_for_approval(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = await issued_order(fake, client)
    approval = await client.orders.revoke(
        order_id, comments="key lost", revocation_reason="keyCompromise"
    )
    assert approval is not None
    assert approval.type == "revoke" and approval.status == "pending"
    assert approval.comments == "key lost"
    assert (await client.orders.get(order_id)).status == "issued"
    pending = [r.id async for r in client.requests.list(status="pending")]
    assert approval.id in pending

    await client.requests.approve(approval.id, comment="ok")
    assert (await client.orders.get(order_id)).status == "revoked"
    stored = fake.certificate(fake.certificate_ids(order_id)[0])
    assert stored is not None and stored.status == "revoked"
    decided = await client.requests.get(approval.id)
    assert decided.status == "approved" and decided.date_processed is not None


async def test_skip_approval_revokes_at_once(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = await issued_order(fake, client)
    assert await client.orders.revoke(order_id, comments="gone", skip_approval=True) is None
    assert (await client.orders.get(order_id)).status == "revoked"


async def test_one_certificate_is_revoked_by_its_serial_number(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = await issued_order(fake, client)
    await client.orders.duplicate(order_id, make_csr("www.example.com")[1])
    fake.advance(ISSUE_AFTER)
    [duplicate] = await client.orders.list_duplicates(order_id)
    assert duplicate.serial_number is not None

    assert (
        await client.certificates.revoke(duplicate.serial_number.lower(), skip_approval=True)
        is None
    )
    revoked = fake.certificate(duplicate.id)
    assert revoked is not None and revoked.status == "revoked"
    assert (await client.orders.get(order_id)).status == "issued"  # the order stays
    original = fake.certificate(fake.certificate_ids(order_id)[0])
    assert original is not None and original.status == "issued"

    approval = await client.certificates.revoke(original.id, comments="by id")
    assert approval is not None and approval.status == "pending"
    with pytest.raises(dc.NotFoundError):
        await client.certificates.revoke("ABCDEF0123")


async def test_a_decided_request_cannot_be_decided_again(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = await issued_order(fake, client)
    approval = await client.orders.revoke(order_id, comments="x")
    assert approval is not None
    await client.requests.reject(approval.id, comment="no")
    assert (await client.orders.get(order_id)).status == "issued"
    with pytest.raises(dc.BadRequestError):
        await client.requests.approve(approval.id)


# ---------------------------------------------------------------------- the fake itself


@pytest.mark.parametrize(
    "kwargs", [{"issue_after": -1.0}, {"intermediates": 0}], ids=["issue_after", "intermediates"]
)
def test_bad_lifecycle_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FakeCertCentral(**kwargs)  # type: ignore[arg-type]


def test_advance_refuses_a_negative_step() -> None:
    fake = FakeCertCentral()
    with pytest.raises(ValueError):
        fake.advance(-1)


async def test_requests_are_listed_by_id_across_pages(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    store = fake._account
    placed = [
        store.lifecycle.new_order("ssl_basic", common_name=f"h{i}.example.com") for i in range(5)
    ]
    # ids past a power of ten still sort as numbers
    store.requests._next_id = 9998
    placed += [
        store.lifecycle.new_order("ssl_basic", common_name=f"k{i}.example.com") for i in range(4)
    ]
    wanted = sorted(p.request_id for p in placed)
    listed = [r.id async for r in client.requests.list(status="pending", page_size=2)]
    assert listed == wanted
    assert [r.id async for r in client.requests.list(status="approved")] == []
    fake.advance(ISSUE_AFTER)  # issuance approves the new_request of each order
    assert [r.id async for r in client.requests.list(status="pending")] == []
    assert len([r async for r in client.requests.list(status="approved")]) == len(wanted)


@pytest.mark.parametrize(("decision", "final"), [("approve", "issued"), ("reject", "rejected")])
async def test_an_order_that_needs_approval_waits_for_its_request(
    fake: FakeCertCentral, client: dc.CertCentralClient, decision: str, final: str
) -> None:
    placed = fake._account.lifecycle.new_order(
        "ssl_basic", common_name="c.example.com", needs_approval=True
    )
    fake.advance(ISSUE_AFTER * 10)
    assert (await client.orders.get(placed.order_id)).status == "needs_approval"
    await getattr(client.requests, decision)(placed.request_id, comment="decided")
    fake.advance(ISSUE_AFTER)
    assert (await client.orders.get(placed.order_id)).status == final
    request = await client.requests.get(placed.request_id)
    assert request.status == ("approved" if decision == "approve" else "rejected")
    assert request.processor_comment == "decided"


async def test_a_document_signing_reissue_needs_no_common_name(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id = fake.add_order("issued", product="document_signing_org_1", common_name="Ex Inc")
    _, csr = make_csr("ignored")
    await client.orders.reissue(order_id, csr)  # sends csr + hash only
    sent = [r.json for r in fake.requests if r.method == "POST"]
    assert sent == [{"certificate": {"csr": csr, "signature_hash": "sha256"}}]
    fake.advance(ISSUE_AFTER)
    [reissued] = await client.orders.list_reissues(order_id)
    assert reissued.status == "issued" and reissued.common_name == "Ex Inc"
    assert reissued.dns_names == []
