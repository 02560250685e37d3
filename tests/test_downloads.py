"""``client.certificates.download/download_for_order/get_pem/chain`` over loopback HTTP:
request shapes for every format, checks before sending, the size cap, answers that
are no file, real DigiCert bodies, and the API key kept out of everything."""

from __future__ import annotations

import io
import json
import logging
import random
import warnings
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

import digicert_async as dc
from digicert_async.resources.certificates import CertificatesResource

from ._served import faithful
from .test_downloads_pem import Chain, make_chain, real_bytes

API_KEY = "sekrit-devkey-0123456789"
PEM_TYPE = "application/x-pem-file"


class FileServer:
    """Answers ``(method, path below /services/v2)`` with the status, body and
    Content-Type set for it (404 ``not_found|route`` otherwise), and records each
    request's method, path and headers."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], tuple[int, bytes, str]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.root = ""
        self._runner: web.AppRunner | None = None

    def answer(
        self, path: str, body: bytes | Any, content_type: str = PEM_TYPE, status: int = 200
    ) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.routes[("GET", path)] = (status, raw, content_type)

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/services/v2")
        self.requests.append((request.method, path, dict(request.headers)))
        found = self.routes.get((request.method, path))
        if found is None:
            error = {"errors": [{"code": "not_found|route", "message": "no such route"}]}
            return web.json_response(error, status=404)
        status, body, content_type = found
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.root = f"http://127.0.0.1:{self._runner.addresses[0][1]}/services/v2"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@asynccontextmanager
async def served(**options: Any) -> AsyncIterator[tuple[FileServer, dc.CertCentralClient]]:
    server = FileServer()
    await server.start()
    try:
        async with dc.CertCentralClient(
            api_key=API_KEY,
            base_url=server.root,
            retry=dc.RetryPolicy.disabled(),
            rate_limit=dc.RateLimit.disabled(),
            **options,
        ) as client:
            yield server, client
    finally:
        await server.close()


def certificates(client: dc.CertCentralClient) -> CertificatesResource:
    return client.certificates


SAMPLE = make_chain(2, label="Sample")


def p7b_of(chain: Chain, *, pem: bool = False) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    certificates = [x509.load_pem_x509_certificate(block.encode()) for block in chain.blocks]
    return pkcs7.serialize_certificates(certificates, Encoding.PEM if pem else Encoding.DER)


def sample(format_type: str) -> bytes:
    """A well-formed file in ``format_type``."""
    kind = dc.CERTIFICATE_FORMATS[format_type]
    if kind == PEM_TYPE:
        return SAMPLE.bundle().encode()
    if kind == "application/zip":
        return a_zip(**{"www_example_com.crt": SAMPLE.leaf, "TrustedRoot.crt": SAMPLE.root})
    return p7b_of(SAMPLE)


def a_zip(**files: str) -> bytes:
    """A ZIP of the files, the same bytes at every run: its entries carry a fixed time, so a
    test id made from it is the same in every pytest-xdist worker."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


# --------------------------------------------------------------------------- shapes


def test_every_documented_format_is_known() -> None:
    assert set(dc.CERTIFICATE_FORMATS) == {
        "default", "apache", "default_cer", "default_pem", "cer", "p7b",
        "pem_all", "pem_nointermediate", "pem_noroot",
    }  # fmt: skip
    assert {dc.CERTIFICATE_FORMATS[name] for name in ("default", "apache", "default_cer")} == {
        "application/zip"
    }
    assert dc.CERTIFICATE_FORMATS["p7b"] == dc.CERTIFICATE_FORMATS["cer"]
    assert dc.CERTIFICATE_FORMATS["p7b"] == "application/x-pkcs7-certificates"


@pytest.mark.parametrize("format_type", list(dc.CERTIFICATE_FORMATS))
async def test_request_shapes_for_every_format(format_type: str) -> None:
    content_type = dc.CERTIFICATE_FORMATS[format_type]
    body = sample(format_type)
    async with served() as (server, client):
        server.answer(f"/certificate/7/download/format/{format_type}", body, content_type)
        server.answer(f"/certificate/download/order/42/format/{format_type}", body, content_type)
        assert await certificates(client).download(7, format=format_type) == body
        assert await certificates(client).download_for_order(42, format=format_type) == body
    (m1, p1, h1), (m2, p2, h2) = server.requests
    assert (m1, p1) == ("GET", f"/certificate/7/download/format/{format_type}")
    assert (m2, p2) == ("GET", f"/certificate/download/order/42/format/{format_type}")
    for headers in (h1, h2):
        assert headers["Accept"] == f"{content_type}, */*;q=0.1"
        assert headers["X-DC-DEVKEY"] == API_KEY
        assert "Content-Type" not in headers  # a GET without a body


async def test_the_default_format_is_pem_all_and_get_pem_and_chain_shapes() -> None:
    chain = make_chain(1)
    async with served() as (server, client):
        server.answer("/certificate/7/download/format/pem_all", chain.bundle().encode())
        server.answer("/certificate/download/order/42/format/pem_all", chain.leaf.encode())
        server.answer("/certificate/7/chain", {"intermediates": []}, "application/json")
        await certificates(client).download(7)
        await certificates(client).download_for_order(42)
        await certificates(client).get_pem(7)
        await certificates(client).chain(7)
    paths = [(method, path) for method, path, _ in server.requests]
    assert paths == [
        ("GET", "/certificate/7/download/format/pem_all"),
        ("GET", "/certificate/download/order/42/format/pem_all"),
        ("GET", "/certificate/7/download/format/pem_all"),
        ("GET", "/certificate/7/chain"),
    ]
    assert server.requests[2][2]["Accept"].startswith(PEM_TYPE)
    assert server.requests[3][2]["Accept"] == "application/json"


@pytest.mark.parametrize(
    "bad_format", ["PEM_ALL", "pem", "", " pem_all", "pem_all/../x", "zip", None, 1, b"pem_all"]
)
async def test_an_unknown_format_is_refused_before_sending(bad_format: Any) -> None:
    async with served() as (server, client):
        for call in (certificates(client).download, certificates(client).download_for_order):
            with pytest.raises(dc.ValidationError) as caught:
                await call(7, format=bad_format)
            assert caught.value.field == "format"
            assert "pem_all" in str(caught.value)  # the known ones are listed
    assert server.requests == []


@pytest.mark.parametrize("bad_id", [0, -1, True, "7", 7.0, None, 10**21])
async def test_a_bad_id_is_refused_before_sending(bad_id: Any) -> None:
    async with served() as (server, client):
        resource = certificates(client)
        for call, field in (
            (resource.download, "certificate_id"),
            (resource.download_for_order, "order_id"),
            (resource.get_pem, "certificate_id"),
            (resource.chain, "certificate_id"),
        ):
            with pytest.raises(dc.ValidationError) as caught:
                await call(bad_id)
            assert caught.value.field == field
    assert server.requests == []


# --------------------------------------------------------------------------- answers


async def test_binary_and_zip_bodies_come_back_byte_for_byte() -> None:
    chain = make_chain(2)
    archive = a_zip(**{"www_example_com.crt": chain.leaf, "DigiCertCA.crt": chain.intermediates[0]})
    binary = p7b_of(chain)  # DER: not text at all
    async with served() as (server, client):
        server.answer("/certificate/7/download/format/default", archive, "application/zip")
        server.answer("/certificate/7/download/format/p7b", binary, dc.CERTIFICATE_FORMATS["p7b"])
        got = await certificates(client).download(7, format="default")
        assert await certificates(client).download(7, format="p7b") == binary
    assert got == archive
    with zipfile.ZipFile(io.BytesIO(got)) as opened:
        assert opened.read("www_example_com.crt").decode() == chain.leaf


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(400, dc.BadRequestError), (403, dc.PermissionDeniedError), (404, dc.NotFoundError)],
)
async def test_digicerts_error_json_is_the_usual_exception(
    status: int, error_class: type[dc.APIError]
) -> None:
    error = {"errors": [{"code": "not_found|certificate", "message": "Certificate not found."}]}
    async with served() as (server, client):
        server.answer("/certificate/7/download/format/p7b", error, "application/json", status)
        server.answer("/certificate/7/download/format/pem_all", error, "application/json", status)
        with pytest.raises(error_class) as caught:
            await certificates(client).download(7, format="p7b")
        assert caught.value.status == status
        assert caught.value.code == "not_found|certificate"
        with pytest.raises(error_class):
            await certificates(client).get_pem(7)


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        ({"errors": [{"code": "x", "message": "y"}]}, "application/json", "a JSON document"),
        ({"certificate": "..."}, PEM_TYPE, "a JSON document"),
        (b"<html><body>Sign in</body></html>", "text/html", "an HTML page"),
        (b"-----BEGIN CERTIFICATE-----", "text/html; charset=utf-8", "an HTML page"),
        (b"", PEM_TYPE, "an empty body"),
        (b"  \n", PEM_TYPE, "an empty body"),
    ],
)
async def test_a_2xx_that_is_no_file_is_a_response_error(
    body: Any, content_type: str, says: str
) -> None:
    async with served() as (server, client):
        server.answer("/certificate/download/order/42/format/pem_all", body, content_type)
        with pytest.raises(dc.ResponseError, match=says) as caught:
            await certificates(client).download_for_order(42)
    assert caught.value.status == 200
    assert caught.value.url.endswith("/certificate/download/order/42/format/pem_all")


async def test_a_pkcs7_bundle_may_come_as_der_or_armored_pem() -> None:
    armored = p7b_of(SAMPLE, pem=True)
    assert armored.startswith(b"-----BEGIN PKCS7-----")
    async with served() as (server, client):
        server.answer(
            "/certificate/7/download/format/p7b", armored, "application/x-pkcs7-certificates"
        )
        server.answer("/certificate/7/download/format/cer", armored.replace(b"\n", b"\r\n"))
        assert await certificates(client).download(7, format="p7b") == armored
        assert await certificates(client).download(7, format="cer") == armored.replace(
            b"\n", b"\r\n"
        )


@pytest.mark.parametrize(
    ("format_type", "body", "says"),
    [
        # a brace that opens no JSON document is no JSON, but no PKCS#7 bundle either
        ("cer", b"{\x00\x01 binary", "not a PKCS#7 bundle"),
        ("p7b", p7b_of(SAMPLE)[:-1], "not a PKCS#7 bundle"),
        ("p7b", p7b_of(SAMPLE) + b"\x00", "bytes after the bundle"),
        ("p7b", SAMPLE.bundle().encode(), "one PEM PKCS7 block"),
        ("cer", SAMPLE.leaf.encode(), "'CERTIFICATE' block, not PKCS7"),
        ("p7b", b"\x04\x03abc", "expected tag 0x30"),
        ("default", a_zip(x="y")[:-10], "not a ZIP archive"),
        ("apache", SAMPLE.bundle().encode(), "not a ZIP archive"),
        ("default_pem", a_zip(), "the archive is empty"),
        ("pem_all", SAMPLE.bundle()[:-40].encode(), "not a PEM certificate bundle"),
        ("pem_noroot", p7b_of(SAMPLE), "not PEM text"),
        ("pem_nointermediate", b"certificate", "no PEM CERTIFICATE block"),
    ],
)
async def test_a_file_not_in_its_format_is_a_response_error(
    format_type: str, body: bytes, says: str
) -> None:
    async with served() as (server, client):
        server.answer(
            f"/certificate/7/download/format/{format_type}", body, "application/octet-stream"
        )
        with pytest.raises(dc.ResponseError, match=says) as caught:
            await certificates(client).download(7, format=format_type)
    assert caught.value.status == 200


async def test_downloads_are_read_under_the_size_cap() -> None:
    # text around the blocks is allowed: a bundle made large with it
    body = b"comment\n" * 2_500 + SAMPLE.bundle().encode()
    for call in ("download", "download_for_order"):
        async with served(max_response_bytes=len(body)) as (server, client):
            server.answer("/certificate/7/download/format/pem_all", body)
            server.answer("/certificate/download/order/7/format/pem_all", body)
            assert await getattr(certificates(client), call)(7) == body
        async with served(max_response_bytes=len(body) - 1) as (server, client):
            server.answer("/certificate/7/download/format/pem_all", body)
            server.answer("/certificate/download/order/7/format/pem_all", body)
            with pytest.raises(dc.ResponseError, match="max_response_bytes") as caught:
                await getattr(certificates(client), call)(7)
            assert len(caught.value.body) < len(body)
    async with served(max_response_bytes=4096) as (server, client):
        server.answer("/certificate/7/download/format/pem_all", body)
        with pytest.raises(dc.ResponseError, match="max_response_bytes"):
            await certificates(client).get_pem(7)


# --------------------------------------------------------------------------- get_pem


@pytest.mark.parametrize("intermediates", [1, 2, 4])
@pytest.mark.parametrize("crlf", [False, True])
async def test_get_pem_splits_generated_bundles_in_any_order(
    intermediates: int, crlf: bool
) -> None:
    chain = make_chain(intermediates)
    order = chain.blocks[:]
    random.Random(intermediates * 2 + crlf).shuffle(order)
    async with served() as (server, client):
        server.answer(
            "/certificate/7/download/format/pem_all", chain.bundle(order, crlf=crlf).encode()
        )
        pem = await certificates(client).get_pem(7)
    assert isinstance(pem, dc.CertificatePem)
    assert pem.certificate == chain.leaf
    assert pem.intermediates == chain.intermediates
    assert pem.root == chain.root
    assert pem.fullchain == chain.leaf + "".join(chain.intermediates)


@pytest.mark.parametrize(
    ("name", "common_name"),
    [
        ("lc_pem_all_ribose.pem", "test.ribosetest.com"),
        ("lc_pem_all_ribose_crlf.pem", "*.ribosetest.com"),
    ],
)
async def test_get_pem_on_real_digicert_bundles(name: str, common_name: str) -> None:
    from cryptography import x509

    body = real_bytes(name)
    async with served() as (server, client):
        server.answer("/certificate/7/download/format/pem_all", body)
        pem = await certificates(client).get_pem(7)
        assert await certificates(client).download(7) == body  # the bytes, untouched
    leaf = x509.load_pem_x509_certificate(pem.certificate.encode())
    assert leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == common_name
    assert [
        x509.load_pem_x509_certificate(p.encode()).subject.rfc4514_string()
        for p in pem.intermediates
    ] == ["CN=DigiCert SHA2 Secure Server CA,O=DigiCert Inc,C=US"]
    assert pem.root is not None
    assert (
        "CN=DigiCert Global Root CA"
        in x509.load_pem_x509_certificate(pem.root.encode()).subject.rfc4514_string()
    )
    text = body.decode().replace("\r\n", "\n")
    assert all(part in text for part in (pem.certificate, *pem.intermediates, pem.root))


async def test_the_real_p7b_downloads_byte_for_byte() -> None:
    from cryptography.hazmat.primitives.serialization import pkcs7

    body = real_bytes("lc_p7b_from_ribose_bundle.p7b")
    async with served() as (server, client):
        server.answer(
            "/certificate/download/order/42/format/p7b", body, dc.CERTIFICATE_FORMATS["p7b"]
        )
        got = await certificates(client).download_for_order(42, format="p7b")
    assert got == body
    with warnings.catch_warnings():
        # openssl crl2pkcs7 leaves the SET of certificates unsorted (BER, not DER)
        warnings.simplefilter("ignore", UserWarning)
        assert len(pkcs7.load_der_pkcs7_certificates(got)) == 3


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not an X.509"),
        (b"just text", "no PEM CERTIFICATE block"),
        ("caf\u00e9".encode(), "not PEM text"),
    ],
)
async def test_get_pem_of_a_bad_bundle_is_a_response_error(body: bytes, says: str) -> None:
    async with served() as (server, client):
        server.answer("/certificate/7/download/format/pem_all", body)
        with pytest.raises(dc.ResponseError, match=says) as caught:
            await certificates(client).get_pem(7)
    assert caught.value.status == 200


async def test_a_bundle_with_no_leaf_or_with_a_key_is_a_response_error() -> None:
    one, two = make_chain(1, label="One"), make_chain(1, label="Two")
    key = one.key_pem()
    secret = key.splitlines()[1]
    async with served() as (server, client):
        server.answer("/certificate/7/download/format/pem_all", (one.root + two.root).encode())
        server.answer("/certificate/8/download/format/pem_all", (one.bundle() + key).encode())
        with pytest.raises(dc.ResponseError, match="self-signed"):
            await certificates(client).get_pem(7)
        with pytest.raises(dc.ResponseError, match="PRIVATE KEY") as caught:
            await certificates(client).get_pem(8)
    # the key's text is in none of what the error carries
    assert caught.value.body == ""
    assert secret not in str(caught.value) and secret not in repr(caught.value)


# --------------------------------------------------------------------------- chain


async def test_chain_reads_the_assembled_real_body() -> None:
    document = json.loads(real_bytes("lc_chain_assembled.json"))
    async with served() as (server, client):
        server.answer("/certificate/7/chain", document, "application/json")
        chain = await certificates(client).chain(7)
    assert isinstance(chain, dc.CertificateChain)
    assert [item.subject_common_name for item in chain.intermediates] == [
        entry["subject_common_name"] for entry in document["intermediates"]
    ]
    assert all(item.pem.startswith("-----BEGIN CERTIFICATE-----") for item in chain.intermediates)
    faithful(chain, document)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"intermediates": [{"pem": "P"}]}, [dc.ChainCertificate(pem="P")]),
        ({"intermediates": None}, []),
        ({"intermediates": [], "extra": 1}, []),
    ],
)
async def test_chain_is_read_liberally(document: Any, expected: list[dc.ChainCertificate]) -> None:
    async with served() as (server, client):
        server.answer("/certificate/7/chain", document, "application/json")
        assert (await certificates(client).chain(7)).intermediates == expected


@pytest.mark.parametrize(
    "document",
    [{}, {"intermediates": [{"subject_common_name": "x"}]}, {"intermediates": "pem"}, []],
)
async def test_a_chain_that_does_not_fit_is_a_response_error(document: Any) -> None:
    async with served() as (server, client):
        server.answer("/certificate/7/chain", document, "application/json")
        with pytest.raises(dc.ResponseError):
            await certificates(client).chain(7)


# --------------------------------------------------------------------------- the key


async def test_the_api_key_is_in_no_error_log_or_repr(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    async with served(max_response_bytes=64) as (server, client):
        server.answer("/certificate/1/download/format/p7b", {"errors": []}, "application/json", 404)
        server.answer("/certificate/2/download/format/pem_all", b"<html></html>", "text/html")
        server.answer("/certificate/3/download/format/pem_all", b"x" * 100)
        server.answer("/certificate/4/chain", {"intermediates": 1}, "application/json")
        resource = certificates(client)
        for call in (
            resource.download(1, format="p7b"),
            resource.get_pem(2),
            resource.download(3),
            resource.chain(4),
            resource.download_for_order(5),
        ):
            with pytest.raises(dc.DigiCertError) as caught:
                await call
            errors.append(caught.value)
        shown = [repr(client), repr(resource), caplog.text]
    assert server.requests[0][2]["X-DC-DEVKEY"] == API_KEY  # it was sent, though
    for error in errors:
        shown += [str(error), repr(error), str(getattr(error, "body", "")), str(vars(error))]
    assert all(API_KEY not in text for text in shown)
