"""Certificate downloads against FakeCertCentral: every format of an issued certificate,
the order's active certificate after a reissue, the chain, and the refusals."""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import AsyncIterator

import aiohttp
import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral, Fault

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.serialization import pkcs7  # noqa: E402

from .test_fake_lifecycle import make_csr  # noqa: E402

ISSUE_AFTER = 60.0


@pytest.fixture(params=[1, 3], ids=["1-intermediate", "3-intermediates"])
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeCertCentral]:
    async with FakeCertCentral(
        rate_limits=None, issue_after=ISSUE_AFTER, intermediates=request.param
    ) as server:
        yield server


@pytest.fixture
async def client(fake: FakeCertCentral) -> AsyncIterator[dc.CertCentralClient]:
    async with dc.CertCentralClient(
        api_key=fake.api_key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
    ) as c:
        yield c


async def issued(fake: FakeCertCentral, common_name: str = "www.example.com") -> tuple[int, int]:
    """A new order, issued: its id and its certificate's id."""
    order_id = fake.add_order("pending", common_name=common_name)
    fake.advance(ISSUE_AFTER)
    info = fake.order(order_id)
    assert info is not None and info["status"] == "issued"
    return order_id, info["certificate"]["id"]


def parts(fake: FakeCertCentral, certificate_id: int) -> tuple[str, tuple[str, ...], str]:
    stored = fake.certificate(certificate_id)
    assert stored is not None and stored.pem is not None
    *intermediates, root = stored.chain
    assert root == fake.root_pem
    return stored.pem, tuple(intermediates), root


async def test_pem_formats_hold_what_their_names_say(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id, certificate_id = await issued(fake)
    leaf, intermediates, root = parts(fake, certificate_id)
    certificates = client.certificates
    assert (
        await certificates.download(certificate_id)
        == "".join((leaf, *intermediates, root)).encode()
    )
    assert (
        await certificates.download(certificate_id, format="pem_noroot")
        == "".join((leaf, *intermediates)).encode()
    )
    assert await certificates.download(certificate_id, format="pem_nointermediate") == (
        leaf.encode()
    )
    assert await certificates.download_for_order(order_id) == await certificates.download(
        certificate_id
    )


async def test_get_pem_splits_the_fakes_bundle(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    _, certificate_id = await issued(fake)
    leaf, intermediates, root = parts(fake, certificate_id)
    pem = await client.certificates.get_pem(certificate_id)
    assert pem == dc.CertificatePem(certificate=leaf, intermediates=list(intermediates), root=root)
    subject = x509.load_pem_x509_certificate(pem.certificate.encode()).subject
    assert subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "www.example.com"


@pytest.mark.parametrize("format_type", ["p7b", "cer"])
async def test_pkcs7_formats_hold_the_whole_chain(
    fake: FakeCertCentral, client: dc.CertCentralClient, format_type: str
) -> None:
    order_id, certificate_id = await issued(fake)
    leaf, intermediates, root = parts(fake, certificate_id)
    data = await client.certificates.download_for_order(order_id, format=format_type)
    assert data[:1] == b"\x30"  # DER, not PEM text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # BER fallback warnings, if any
        loaded = pkcs7.load_der_pkcs7_certificates(data)
    expected = {
        x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
        for pem in (leaf, *intermediates, root)
    }
    assert {c.public_bytes(serialization.Encoding.DER) for c in loaded} == expected


@pytest.mark.parametrize(
    ("format_type", "extension", "with_root"),
    [("default", "crt", True), ("default_pem", "crt", True), ("default_cer", "cer", True),
     ("apache", "crt", False)],
)  # fmt: skip
async def test_zip_formats_hold_one_pem_file_per_certificate(
    fake: FakeCertCentral,
    client: dc.CertCentralClient,
    format_type: str,
    extension: str,
    with_root: bool,
) -> None:
    _, certificate_id = await issued(fake, "*.example.com")
    leaf, intermediates, root = parts(fake, certificate_id)
    data = await client.certificates.download(certificate_id, format=format_type)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name: archive.read(name).decode() for name in archive.namelist()}
    assert files.pop(f"star_example_com.{extension}") == leaf
    assert (files.pop(f"TrustedRoot.{extension}", None) == root) is with_root
    assert sorted(files.values()) == sorted(intermediates)
    assert all(name.startswith("DigiCertCA") for name in files)
    # the same certificate zips to the same bytes every time
    assert await client.certificates.download(certificate_id, format=format_type) == data


async def test_each_format_comes_with_its_glossary_content_type(
    fake: FakeCertCentral,
) -> None:
    _, certificate_id = await issued(fake)
    async with aiohttp.ClientSession(headers={"X-DC-DEVKEY": fake.api_key}) as session:
        for format_type, content_type in dc.CERTIFICATE_FORMATS.items():
            url = f"{fake.base_url}/certificate/{certificate_id}/download/format/{format_type}"
            async with session.get(url) as answer:
                assert answer.status == 200, format_type
                assert answer.content_type == content_type, format_type


async def test_the_order_download_follows_a_reissue(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    order_id, first_id = await issued(fake)
    first = await client.certificates.download_for_order(order_id, format="pem_nointermediate")
    await client.orders.reissue(order_id, make_csr("www.example.com")[1])
    # while the reissue is pending, the order's active certificate is still the first one
    assert await client.certificates.download_for_order(order_id, format="pem_nointermediate") == (
        first
    )
    fake.advance(ISSUE_AFTER)
    info = fake.order(order_id)
    assert info is not None and info["status"] == "issued"
    second_id = info["certificate"]["id"]
    assert second_id != first_id
    second = await client.certificates.download_for_order(order_id, format="pem_nointermediate")
    assert second != first
    assert second == await client.certificates.download(second_id, format="pem_nointermediate")
    # the replaced certificate is still reachable by its id
    assert await client.certificates.download(first_id, format="pem_nointermediate") == first


async def test_chain_lists_the_cas_above_the_certificate(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    _, certificate_id = await issued(fake)
    _, intermediates, root = parts(fake, certificate_id)
    chain = await client.certificates.chain(certificate_id)
    assert [item.pem for item in chain.intermediates] == [*intermediates, root]
    names = [item.subject_common_name for item in chain.intermediates]
    assert names[-1] == "FakeCertCentral Root CA"
    assert all(name and "FakeCertCentral" in name for name in names)


async def test_refusals_are_digicerts_errors(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    pending = fake.add_order("pending")
    with pytest.raises(dc.BadRequestError) as caught:
        await client.certificates.download_for_order(pending)
    assert caught.value.code == "invalid_status"
    with pytest.raises(dc.NotFoundError) as missing:
        await client.certificates.download(999_999_999)
    assert missing.value.code == "not_found|certificate"
    with pytest.raises(dc.NotFoundError):
        await client.certificates.download_for_order(999_999_999)
    with pytest.raises(dc.NotFoundError):
        await client.certificates.chain(999_999_999)
    _, certificate_id = await issued(fake)
    # a format outside the glossary, sent past the client's check: the fake refuses it too
    async with aiohttp.ClientSession(headers={"X-DC-DEVKEY": fake.api_key}) as session:
        url = f"{fake.base_url}/certificate/{certificate_id}/download/format/pem"
        async with session.get(url) as answer:
            assert answer.status == 400
            body = await answer.json()
    assert body["errors"][0]["code"] == "invalid_value:format_type"


@pytest.mark.parametrize("format_type", list(dc.CERTIFICATE_FORMATS))
async def test_a_file_cut_in_half_is_a_response_error_not_a_broken_file(
    fake: FakeCertCentral, client: dc.CertCentralClient, format_type: str
) -> None:
    _, certificate_id = await issued(fake)
    whole = await client.certificates.download(certificate_id, format=format_type)
    fake.inject(Fault.TRUNCATED_JSON, path_contains="/download/")
    with pytest.raises(dc.ResponseError) as caught:
        await client.certificates.download(certificate_id, format=format_type)
    assert caught.value.status == 200
    assert await client.certificates.download(certificate_id, format=format_type) == whole


async def test_get_pem_of_a_cut_bundle_is_a_response_error(
    fake: FakeCertCentral, client: dc.CertCentralClient
) -> None:
    _, certificate_id = await issued(fake)
    fake.inject(Fault.TRUNCATED_JSON, path_contains="/download/")
    with pytest.raises(dc.ResponseError, match="not a PEM certificate bundle"):
        await client.certificates.get_pem(certificate_id)


# -- a download is a GET: retried as any read is ---------------------------------------------

_DOWNLOADS = {
    "download": lambda c, order_id, cert_id: c.certificates.download(cert_id, "pem_all"),
    "download_for_order": lambda c, order_id, cert_id: c.certificates.download_for_order(
        order_id, "p7b"
    ),
    "get_pem": lambda c, order_id, cert_id: c.certificates.get_pem(cert_id),
    "chain": lambda c, order_id, cert_id: c.certificates.chain(cert_id),
}


@pytest.mark.parametrize(
    "fault", [Fault.BAD_GATEWAY, pytest.param(Fault.SLOW, marks=pytest.mark.slow)]
)
@pytest.mark.parametrize("call", sorted(_DOWNLOADS))
async def test_a_download_is_retried_after_a_gateway_error_or_a_timeout(
    call: str, fault: Fault
) -> None:
    """A 502, or an answer that does not come within the timeout, is sent again, as for
    any GET: a download changes nothing on the server."""
    async with FakeCertCentral(rate_limits=None, issue_after=ISSUE_AFTER, slow_seconds=60) as fake:
        order_id, certificate_id = await issued(fake)
        retry = dc.RetryPolicy(backoff_initial=0.001)
        async with dc.CertCentralClient(
            api_key=fake.api_key,
            base_url=fake.base_url,
            rate_limit=dc.RateLimit.disabled(),
            retry=retry,
            timeout=1.0,
        ) as client:
            expected = await _DOWNLOADS[call](client, order_id, certificate_id)
            fake.inject(fault, method="GET", path_contains="/certificate/")
            again = await _DOWNLOADS[call](client, order_id, certificate_id)
    assert again == expected
    sent = [r for r in fake.requests if "/certificate/" in r.path][1:]
    assert sent[0].fault is fault and len(sent) >= 2  # more, if the machine is that slow
    assert sent[-1].fault is None and sent[-1].answered_status == 200
