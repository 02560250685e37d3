"""Certificate files: download by certificate id or by order (its active certificate), in
every format of DigiCert's glossary, and the chain of a certificate.

Files are made from the stored chain (``StoredCertificate.pem`` and ``chain``, the
self-signed root last): PEM text for ``pem_all``, ``pem_noroot`` and
``pem_nointermediate``; a DER PKCS#7 bundle for ``p7b`` and ``cer``; a ZIP archive of
one PEM file per certificate for ``default``, ``default_cer``, ``default_pem`` and
``apache`` (no root). Each answer has the Content-Type the glossary gives its format.

The fake's own choices where DigiCert's pages say nothing: a certificate that has no
file yet (still pending) is a 400 ``invalid_status``; an unknown format a 400
``invalid_value:format_type``; a revoked certificate still downloads. Without
``cryptography`` the fake issues certificates without files, and asking for one is a 500
``fake_needs_cryptography`` whose message says what to install.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from ._routing import Answer, Call, Rejected, Routes, find_order, found, invalid
from ._state import FakeAccount, JSONDict, StoredCertificate
from ._x509 import INSTALL_CRYPTOGRAPHY

__all__ = ["FORMAT_TYPES", "FileBody", "certificate_file", "routes"]

_ZIP = "application/zip"
_PKCS7 = "application/x-pkcs7-certificates"
_PEM = "application/x-pem-file"
FORMAT_TYPES: dict[str, str] = {
    "default": _ZIP,
    "apache": _ZIP,
    "default_cer": _ZIP,
    "default_pem": _ZIP,
    "cer": _PKCS7,
    "p7b": _PKCS7,
    "pem_all": _PEM,
    "pem_nointermediate": _PEM,
    "pem_noroot": _PEM,
}
"""DigiCert's glossary, "Certificate formats": format -> Content-Type."""

# A fixed time in the archives, so that one certificate always zips to the same bytes.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

routes = Routes()


@dataclass(frozen=True)
class FileBody:
    """An answer that is a file, not JSON: its bytes and Content-Type."""

    data: bytes
    content_type: str


@routes.get(r"/certificate/{certificate_id:\d+}/download/format/{format_type}")
def download(store: FakeAccount, call: Call) -> Answer:
    identifier = call.params["certificate_id"]
    certificate = found(store.certificates.get(int(identifier)), "certificate", identifier)
    return 200, certificate_file(certificate, _format(call))


@routes.get(r"/certificate/download/order/{order_id:\d+}/format/{format_type}")
def download_for_order(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    format_type = _format(call)
    # Only the order's active certificate: not its duplicates, nor what a reissue replaced.
    certificate_id = order.certificate_id
    certificate = None if certificate_id is None else store.certificates.get(certificate_id)
    if certificate is None:
        raise _not_yet(f"Order {order.id} has no issued certificate.")
    return 200, certificate_file(certificate, format_type)


@routes.get(r"/certificate/{certificate_id:\d+}/chain")
def chain(store: FakeAccount, call: Call) -> Answer:
    identifier = call.params["certificate_id"]
    certificate = found(store.certificates.get(int(identifier)), "certificate", identifier)
    _parts(certificate)  # an answer only once issued
    return 200, {"intermediates": chain_items(certificate, with_leaf=False)}


def chain_items(certificate: StoredCertificate, *, with_leaf: bool) -> list[JSONDict]:
    """The certificate's chain as DigiCert lists it, each certificate by its subject's
    common name and its PEM (the CAs nearest first; the certificate itself first when
    ``with_leaf``); empty when no real chain was made (no ``cryptography``)."""
    if certificate.pem is None:
        return []
    pems = (certificate.pem, *certificate.chain) if with_leaf else certificate.chain
    return [{"subject_common_name": _common_name(pem), "pem": pem} for pem in pems]


def certificate_file(certificate: StoredCertificate, format_type: str) -> FileBody:
    """``certificate`` as DigiCert serves it in ``format_type``."""
    leaf, cas = _parts(certificate)
    intermediates, root = cas[:-1], cas[-1:]
    content_type = FORMAT_TYPES[format_type]
    if format_type == "pem_all":
        data = "".join((leaf, *cas)).encode()
    elif format_type == "pem_noroot":
        data = "".join((leaf, *intermediates)).encode()
    elif format_type == "pem_nointermediate":
        data = leaf.encode()
    elif content_type == _PKCS7:
        data = _pkcs7((leaf, *cas))
    else:
        extension = "cer" if format_type == "default_cer" else "crt"
        files = {f"{_file_name(certificate.common_name)}.{extension}": leaf}
        for number, pem in enumerate(intermediates, start=1):
            suffix = "" if len(intermediates) == 1 else str(number)
            files[f"DigiCertCA{suffix}.{extension}"] = pem
        if format_type != "apache":
            files.update({f"TrustedRoot.{extension}": pem for pem in root})
        data = _zip(files)
    return FileBody(data, content_type)


def _format(call: Call) -> str:
    format_type = call.params["format_type"]
    if format_type not in FORMAT_TYPES:
        raise Rejected(400, invalid("format_type", f"Allowed: {', '.join(FORMAT_TYPES)}."))
    return format_type


def _not_yet(message: str) -> Rejected:
    return Rejected(400, ("invalid_status", message))


def _parts(certificate: StoredCertificate) -> tuple[str, tuple[str, ...]]:
    if certificate.serial_number is not None and certificate.pem is None:  # issued, no file
        message = f"Certificate {certificate.id} has no file: {INSTALL_CRYPTOGRAPHY}."
        raise Rejected(500, ("fake_needs_cryptography", message))
    if certificate.pem is None or not certificate.chain:
        raise _not_yet(
            f"Certificate {certificate.id} is {certificate.status} and has no file to download."
        )
    return certificate.pem, certificate.chain


def _file_name(common_name: str) -> str:
    # DigiCert names the file after the common name: *.example.com -> star_example_com
    name = re.sub(r"[^A-Za-z0-9]+", "_", common_name.replace("*", "star"))
    return name.strip("_") or "certificate"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(
                zipfile.ZipInfo(name, _ZIP_TIME), text, compress_type=zipfile.ZIP_DEFLATED
            )
    return buffer.getvalue()


def _pkcs7(pems: tuple[str, ...]) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    certificates = [x509.load_pem_x509_certificate(pem.encode()) for pem in pems]
    return pkcs7.serialize_certificates(certificates, Encoding.DER)


def _common_name(pem: str) -> str | None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    names = x509.load_pem_x509_certificate(pem.encode()).subject.get_attributes_for_oid(
        NameOID.COMMON_NAME
    )
    return str(names[0].value) if names else None
