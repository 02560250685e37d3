"""Cross-signed chains, as DigiCert bundles them: the leaf, its intermediates, the root
cross-signed by an older root, and both roots self-signed. ``get_pem`` walks the issuer
path from the leaf: the root is where it ends, the cross certificate and the older root
are ``off_path``. The bundles are real X.509, made by ``FakeCertCentral(cross_signed=True)``.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

import digicert_async as dc
from digicert_async._pem import split_bundle
from digicert_async.testing import FakeCertCentral

x509 = pytest.importorskip("cryptography.x509")

from .test_fake_lifecycle import verify_chain  # noqa: E402

ISSUE_AFTER = 60.0


def load(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


@pytest.fixture(params=[1, 2], ids=["1-intermediate", "2-intermediates"])
def intermediates(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
async def fake(intermediates: int) -> AsyncIterator[FakeCertCentral]:
    async with FakeCertCentral(
        rate_limits=None, issue_after=ISSUE_AFTER, intermediates=intermediates, cross_signed=True
    ) as server:
        yield server


async def issued_certificate(fake: FakeCertCentral) -> tuple[int, int]:
    order_id = fake.add_order("pending", common_name="cross.example.com")
    fake.advance(ISSUE_AFTER)
    info = fake.order(order_id)
    assert info is not None
    return order_id, info["certificate"]["id"]


def client_for(fake: FakeCertCentral) -> dc.CertCentralClient:
    return dc.CertCentralClient(
        api_key=fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
    )


async def test_the_fake_issues_a_real_cross_signed_chain(
    fake: FakeCertCentral, intermediates: int
) -> None:
    _, certificate_id = await issued_certificate(fake)
    stored = fake.certificate(certificate_id)
    assert stored is not None and stored.pem is not None
    *cas, cross, root, old_root = stored.chain
    assert len(cas) == intermediates
    assert root == fake.root_pem
    # the path through the new root, and the path through the cross certificate to the
    # older root: both verify, signature by signature
    verify_chain(stored.pem, (*cas, root))
    verify_chain(stored.pem, (*cas, cross, old_root))
    cross_certificate, new_root, older = load(cross), load(root), load(old_root)
    assert cross_certificate.subject == new_root.subject
    assert cross_certificate.public_key() == new_root.public_key()
    assert cross_certificate.issuer == older.subject != new_root.subject
    assert older.issuer == older.subject and new_root.issuer == new_root.subject


async def test_get_pem_takes_the_issuer_path_and_keeps_the_rest_off_it(
    fake: FakeCertCentral,
) -> None:
    _, certificate_id = await issued_certificate(fake)
    stored = fake.certificate(certificate_id)
    assert stored is not None and stored.pem is not None
    *intermediates, cross, root, old_root = stored.chain
    async with client_for(fake) as client:
        pem = await client.certificates.get_pem(certificate_id)
    assert pem.certificate == stored.pem
    assert pem.intermediates == intermediates
    assert pem.root == root == fake.root_pem
    assert pem.off_path == [cross, old_root]  # bundle order
    assert pem.fullchain == stored.pem + "".join(intermediates)
    assert pem.chain == "".join(intermediates)
    verify_chain(pem.certificate, (*pem.intermediates, pem.root))


async def test_the_order_of_the_bundle_changes_nothing(fake: FakeCertCentral) -> None:
    _, certificate_id = await issued_certificate(fake)
    stored = fake.certificate(certificate_id)
    assert stored is not None and stored.pem is not None
    *intermediates, cross, root, old_root = stored.chain
    blocks = [stored.pem, *stored.chain]
    for seed in range(12):
        random.Random(seed).shuffle(blocks)
        leaf, path, found_root, off_path = split_bundle("".join(blocks))
        assert (leaf, path, found_root) == (stored.pem, intermediates, root), seed
        # off the path, in the order the shuffled bundle gives them
        assert off_path == [block for block in blocks if block in (cross, old_root)], seed


async def test_without_the_new_root_the_path_goes_through_the_cross_certificate(
    fake: FakeCertCentral,
) -> None:
    # An older bundle, from before the new root was trusted: the cross certificate is
    # then an intermediate, and the path ends at the older root.
    _, certificate_id = await issued_certificate(fake)
    stored = fake.certificate(certificate_id)
    assert stored is not None and stored.pem is not None
    *intermediates, cross, _root, old_root = stored.chain
    parts = split_bundle("".join((stored.pem, *intermediates, cross, old_root)))
    assert parts == (stored.pem, [*intermediates, cross], old_root, [])


async def test_a_bulk_download_and_the_raw_bundle_keep_every_block(
    fake: FakeCertCentral, intermediates: int
) -> None:
    order_id, _ = await issued_certificate(fake)
    async with client_for(fake) as client:
        items = [item async for item in dc.download_certificates(client, [order_id])]
    assert len(items) == 1 and items[0].data is not None
    # the leaf, the intermediates, the cross certificate and both roots
    assert items[0].data.count(b"-----BEGIN CERTIFICATE-----") == 4 + intermediates


async def test_the_fake_is_not_cross_signed_unless_asked() -> None:
    async with FakeCertCentral(rate_limits=None, issue_after=ISSUE_AFTER) as plain:
        _, certificate_id = await issued_certificate(plain)
        stored = plain.certificate(certificate_id)
        assert stored is not None and stored.chain[-1] == plain.root_pem
        async with client_for(plain) as client:
            pem = await client.certificates.get_pem(certificate_id)
    assert len(stored.chain) == 2  # one intermediate and the root
    assert pem.off_path == [] and pem.root == plain.root_pem
