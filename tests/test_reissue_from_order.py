"""A reissue completed from its order (``models.reissues.change_from_order``), by
``orders.reissue`` and by the bulk reissue alike, against FakeCertCentral over loopback:
the names, hash and server platform kept, ``dns_names=[]`` dropping the other names, the
refusal of an order showing a retired or missing hash, the no-common-name rule of code and
document signing, one read of each order, and ``check_pending`` reading the listing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault, RecordedRequest

from .test_bulk import client_for

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

Outcome = dc.ReissueOutcome


def make_csr() -> str:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")]))
        .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode("ascii")


CSR = make_csr()


@pytest.fixture
async def fake() -> AsyncIterator[FakeCertCentral]:
    # issue_after=None: reissues stay pending, what was sent stays in sight
    async with FakeCertCentral(rate_limits=None, seed=5, issue_after=None) as server:
        yield server


def issued_order(fake: FakeCertCentral, product: str = "ssl_basic", **certificate: Any) -> int:
    """An issued order whose certificate shows ``certificate``'s fields besides its own."""
    order_id = fake.add_order(
        "issued",
        product=product,
        common_name="www.example.com",
        dns_names=["www.example.com", "api.example.com", "WWW.example.com"],
    )
    info = fake.order(order_id)
    assert info is not None
    fake.update_order(order_id, certificate={**info["certificate"], **certificate})
    return order_id


def requests_to(fake: FakeCertCentral, method: str, path: str) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.method == method and r.path.endswith(path)]


def reissue_body(fake: FakeCertCentral, order_id: int) -> dict[str, Any]:
    (post,) = requests_to(fake, "POST", f"/order/certificate/{order_id}/reissue")
    body = post.json
    assert isinstance(body, dict)
    return body["certificate"]  # type: ignore[no-any-return]


def order_reads(fake: FakeCertCentral, order_id: int) -> int:
    return len(requests_to(fake, "GET", f"/order/certificate/{order_id}"))


# --------------------------------------------------------------------------- orders.reissue


async def test_a_csr_alone_keeps_the_names_hash_and_platform(fake: FakeCertCentral) -> None:
    order_id = issued_order(fake, signature_hash="SHA384", server_platform={"id": 45})
    async with client_for(fake) as client:
        await client.orders.reissue(order_id, CSR)
    assert reissue_body(fake, order_id) == {
        "csr": CSR,
        "common_name": "www.example.com",
        "dns_names": ["www.example.com", "api.example.com"],  # each name once
        "signature_hash": "sha384",
        "server_platform": {"id": 45},
    }
    assert order_reads(fake, order_id) == 1


async def test_empty_dns_names_drop_the_other_names(fake: FakeCertCentral) -> None:
    order_id = issued_order(fake)
    request = dc.ReissueRequest(certificate=dc.ReissueCertificate(csr=CSR, dns_names=[]))
    async with client_for(fake) as client:
        await client.orders.reissue(order_id, request)
    sent = reissue_body(fake, order_id)
    assert sent["dns_names"] == []
    assert sent["common_name"] == "www.example.com"  # what was left out still comes


@pytest.mark.parametrize("shown", ["sha1", "SHA1", None, ""])
@pytest.mark.parametrize("product", ["ssl_basic", "code_signing"])
async def test_an_order_showing_a_retired_or_no_hash_is_refused_before_sending(
    fake: FakeCertCentral, shown: str | None, product: str
) -> None:
    order_id = issued_order(fake, product, signature_hash=shown)
    async with client_for(fake) as client:
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.reissue(order_id, CSR)
        # a hash given is sent: the order's is not needed then
        await client.orders.duplicate(
            order_id, {"certificate": {"csr": CSR, "signature_hash": "sha256"}}
        )
    assert caught.value.field == "request.certificate.signature_hash"
    assert caught.value.message == (
        f"not given, and order {order_id} shows {shown!r}, which DigiCert no longer issues"
        " with; nothing was sent"
    )
    assert not requests_to(fake, "POST", f"/order/certificate/{order_id}/reissue")
    assert len(requests_to(fake, "POST", f"/order/certificate/{order_id}/duplicate")) == 1


async def test_an_order_showing_no_common_name_is_refused(fake: FakeCertCentral) -> None:
    order_id = issued_order(fake, common_name=None)
    async with client_for(fake) as client:
        with pytest.raises(dc.ValidationError) as caught:
            await client.orders.reissue(order_id, CSR)
    assert caught.value.field == "request.certificate.common_name"
    assert caught.value.message == (
        f"not given, and order {order_id} shows none to keep; nothing was sent"
    )


async def test_the_order_given_is_used_instead_of_a_read(fake: FakeCertCentral) -> None:
    order_id = issued_order(fake, server_platform={"id": 2})
    other = issued_order(fake)
    async with client_for(fake) as client:
        order = await client.orders.get(order_id)
        await client.orders.duplicate(order_id, CSR, order=order)
        await client.orders.reissue(order_id, CSR, order=order)
        with pytest.raises(dc.ValidationError) as wrong:
            await client.orders.reissue(other, CSR, order=order)
        with pytest.raises(dc.ValidationError) as not_an_order:
            await client.orders.reissue(other, CSR, order={"id": other})  # type: ignore[arg-type]
    assert order_reads(fake, order_id) == 1  # the get above, no other
    assert order_reads(fake, other) == 0
    assert reissue_body(fake, order_id)["server_platform"] == {"id": 2}
    assert (wrong.value.field, wrong.value.message) == (
        "order",
        f"is order {order_id}, not order {other}",
    )
    assert (not_an_order.value.field, not_an_order.value.message) == (
        "order",
        "must be an Order, not dict",
    )


# --------------------------------------------------------------------------- the bulk job


async def test_the_bulk_reissue_keeps_the_orders_names_and_platform(
    fake: FakeCertCentral,
) -> None:
    order_id = issued_order(fake, server_platform={"id": 45, "name": "nginx"})
    async with client_for(fake) as client:
        report = await dc.reissue_orders(client, {order_id: CSR})
    assert report.results[0].outcome is Outcome.REISSUED
    assert reissue_body(fake, order_id) == {
        "csr": CSR,
        "common_name": "www.example.com",
        "dns_names": ["www.example.com", "api.example.com"],
        "signature_hash": "sha256",
        "server_platform": {"id": 45},
    }
    assert order_reads(fake, order_id) == 1


@pytest.mark.parametrize(
    "product", ["code_signing", "code_signing_ev", "document_signing_org_1", "vmc_basic"]
)
async def test_the_bulk_reissue_sends_no_common_name_for_code_and_document_signing(
    fake: FakeCertCentral, product: str
) -> None:
    order_id = issued_order(fake, product, signature_hash="sha384")
    async with client_for(fake) as client:
        report = await dc.reissue_orders(client, {order_id: CSR})
    assert report.results[0].outcome is Outcome.REISSUED
    assert reissue_body(fake, order_id) == {"csr": CSR, "signature_hash": "sha384"}
    assert order_reads(fake, order_id) == 1  # the order read once: no second read


@pytest.mark.parametrize(
    "certificate", [{"signature_hash": "sha1"}, {"signature_hash": None}, {"common_name": None}]
)
async def test_a_bulk_order_that_cannot_be_completed_fails_after_one_read(
    fake: FakeCertCentral, certificate: dict[str, Any]
) -> None:
    order_id = issued_order(fake, **certificate)
    async with client_for(fake) as client:
        report = await dc.reissue_orders(client, {order_id: CSR})
    (result,) = report.results
    assert result.outcome is Outcome.FAILED
    assert isinstance(result.error, dc.ValidationError)
    assert result.error.field.startswith("request.certificate.")
    assert report.resume_ids() == [order_id]
    assert order_reads(fake, order_id) == 1
    assert not requests_to(fake, "POST", f"/order/certificate/{order_id}/reissue")


async def test_check_pending_reads_the_listing_and_sends_only_where_none_is_pending(
    fake: FakeCertCentral,
) -> None:
    pending, clear = issued_order(fake), issued_order(fake)
    async with client_for(fake) as client:
        await client.orders.reissue(pending, CSR)
        # the listing shows the reissue pending before the order's status does
        fake.update_order(pending, status="issued")
        report = await dc.reissue_orders(client, {pending: CSR, clear: CSR}, check_pending=True)
    found, sent = report.results
    assert (found.outcome, found.uncertain, found.status) == (Outcome.REISSUED, True, "issued")
    assert found.request_id is None
    assert (sent.outcome, sent.uncertain) == (Outcome.REISSUED, False)
    assert len(requests_to(fake, "POST", f"/order/certificate/{pending}/reissue")) == 1
    assert len(requests_to(fake, "POST", f"/order/certificate/{clear}/reissue")) == 1
    for order_id in (pending, clear):
        assert len(requests_to(fake, "GET", f"/order/certificate/{order_id}/reissue")) == 1


async def test_without_check_pending_the_listing_is_not_read(fake: FakeCertCentral) -> None:
    order_id = issued_order(fake)
    async with client_for(fake) as client:
        report = await dc.reissue_orders(client, {order_id: CSR})
    assert report.results[0].outcome is Outcome.REISSUED
    assert not requests_to(fake, "GET", f"/order/certificate/{order_id}/reissue")


async def test_a_pending_reissue_in_the_listing_settles_a_lost_post(
    fake: FakeCertCentral,
) -> None:
    order_id = issued_order(fake)
    async with client_for(fake) as client:
        await client.orders.reissue(order_id, CSR)
        fake.update_order(order_id, status="issued")
        # the job's POST is lost (never applied); the order still reads issued, and the
        # listing shows a reissue pending: that one is the order's reissue
        fake.inject(Fault.RESET_BEFORE, method="POST", path_contains=f"/{order_id}/reissue")
        report = await dc.reissue_orders(client, {order_id: CSR})
    (result,) = report.results
    assert (result.outcome, result.uncertain, result.status) == (
        Outcome.REISSUED,
        True,
        "issued",
    )
    assert result.error is None
    assert len(requests_to(fake, "GET", f"/order/certificate/{order_id}/reissue")) == 1
    assert report.complete
