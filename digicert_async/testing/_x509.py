"""Real X.509 chains for the fake's certificates: a self-signed root, one intermediate or
more, and a leaf per issued certificate, made with ``cryptography`` (the ``fake`` extra
installs it, and the ``cli`` and ``testing`` extras include that one; the library itself
never imports it).

Each ``FakeCertCentral`` has its own authority, made on first use. Keys are ECDSA P-256
(fast to make and sign with). A leaf takes the public key of the CSR it was ordered with
when that CSR parses, so a test can check its own private key against the certificate;
otherwise it takes a key the authority keeps for that purpose.

A cross-signed authority adds what DigiCert's bundle of a cross-signed order holds above
the intermediates: the root cross-signed by an older root, the root itself, and that
older root, both self-signed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
    from cryptography.x509 import Certificate

__all__ = ["INSTALL_CRYPTOGRAPHY", "FakeAuthority", "LeafCertificate", "available"]

AUTHORITY_NAME = "FakeCertCentral"
_CA_VALIDITY = timedelta(days=3650)
_MAX_CN = 64  # RFC 5280's upper bound on a common name


INSTALL_CRYPTOGRAPHY = (
    "the fake CertCentral makes its certificates' files with the 'cryptography' package,"
    " which is not installed: python -m pip install 'digicert-async[fake]'"
    " (from a checkout of digicert-async: python -m pip install '.[fake]')"
)
"""What to do when ``cryptography`` is missing: said wherever the fake needs it."""


def available() -> bool:
    """Whether ``cryptography`` can be imported (the ``fake`` extra brings it)."""
    try:
        import cryptography.x509  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class LeafCertificate:
    """One issued certificate: its PEM, the chain above it (intermediates nearest first,
    the root last; cross-signed: the intermediates, the cross certificate, the root, then
    the older root), and what order info shows of it."""

    pem: str
    chain: tuple[str, ...]
    thumbprint: str
    """SHA-1 of the DER, upper-case hex, as DigiCert shows thumbprints."""
    key_size: int


class FakeAuthority:
    """A root and ``intermediates`` intermediate CAs (the last one signs leaves);
    ``cross_signed``: the root is cross-signed by an older root as well."""

    def __init__(self, intermediates: int = 1, *, cross_signed: bool = False) -> None:
        if intermediates < 1:
            raise ValueError("intermediates must be >= 1")
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self._x509 = x509
        self._hashes = hashes
        self._name_oid = NameOID
        now = datetime.now(timezone.utc).replace(microsecond=0)
        start = now - timedelta(days=1)
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = self._name(f"{AUTHORITY_NAME} Root CA")
        root = self._ca(root_name, root_key, root_name, root_key, start, None)
        issuers: list[tuple[Certificate, EllipticCurvePrivateKey]] = [(root, root_key)]
        for level in range(1, intermediates + 1):
            key = ec.generate_private_key(ec.SECP256R1())
            suffix = "" if intermediates == 1 else f" {level}"
            parent, parent_key = issuers[-1]
            certificate = self._ca(
                self._name(f"{AUTHORITY_NAME} TLS Issuing CA{suffix}"),
                key,
                parent.subject,
                parent_key,
                start,
                intermediates - level,
            )
            issuers.append((certificate, key))
        self.root = root
        self._issuer, self._issuer_key = issuers[-1]
        # nearest the leaf first, the root last: the order of a pem_all bundle
        chain = [self._pem(cert) for cert, _ in reversed(issuers)]
        self.root_pem = chain[-1]
        """The root the leaves' issuer path ends at."""
        if cross_signed:
            old_key = ec.generate_private_key(ec.SECP256R1())
            old_name = self._name(f"{AUTHORITY_NAME} Legacy Root CA")
            old_root = self._ca(old_name, old_key, old_name, old_key, start, None)
            cross = self._ca(root_name, root_key, old_name, old_key, start, None)
            # DigiCert's order: the cross certificate, then both roots
            chain[-1:] = [self._pem(cross), self.root_pem, self._pem(old_root)]
        self.chain = tuple(chain)
        self._spare_key = ec.generate_private_key(ec.SECP256R1())

    def issue(
        self,
        *,
        serial_number: int,
        common_name: str,
        dns_names: list[str],
        not_before: datetime,
        not_after: datetime,
        csr: str | None = None,
        organization: str | None = None,
    ) -> LeafCertificate:
        """Sign a leaf for ``common_name`` and ``dns_names``, valid between the two times."""
        x509 = self._x509
        public_key = self._public_key(csr)
        attributes = []
        if organization:
            attributes.append(
                x509.NameAttribute(self._name_oid.ORGANIZATION_NAME, organization[:_MAX_CN])
            )
        attributes.append(x509.NameAttribute(self._name_oid.COMMON_NAME, common_name[:_MAX_CN]))
        names = _dns_names([common_name, *dns_names])
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attributes))
            .issuer_name(self._issuer.subject)
            .public_key(public_key)
            .serial_number(serial_number)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [
                        x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                        x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH,
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._issuer_key.public_key()),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name) for name in names]),
                critical=False,
            )
        certificate = builder.sign(self._issuer_key, self._hashes.SHA256())
        der = certificate.public_bytes(_encoding().DER)
        return LeafCertificate(
            pem=self._pem(certificate),
            chain=self.chain,
            thumbprint=hashlib.sha1(der, usedforsecurity=False).hexdigest().upper(),
            key_size=int(getattr(public_key, "key_size", 256)),
        )

    # ------------------------------------------------------------------ pieces

    def _name(self, common_name: str) -> Any:
        x509 = self._x509
        return x509.Name(
            [
                x509.NameAttribute(self._name_oid.ORGANIZATION_NAME, "FakeCertCentral (testing)"),
                x509.NameAttribute(self._name_oid.COMMON_NAME, common_name),
            ]
        )

    def _ca(
        self,
        subject: Any,
        key: Any,
        issuer: Any,
        issuer_key: Any,
        start: datetime,
        path_length: int | None,
    ) -> Certificate:
        x509 = self._x509
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + _CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )
        if issuer_key is not key:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
            )
        certificate: Certificate = builder.sign(issuer_key, self._hashes.SHA256())
        return certificate

    def _public_key(self, csr: str | None) -> Any:
        if csr:
            try:
                request = self._x509.load_pem_x509_csr(csr.replace("\\n", "\n").encode())
                public_key = request.public_key()
            except Exception:  # a CSR that does not parse: the spare key stands in
                pass
            else:
                if request.is_signature_valid:
                    return public_key
        return self._spare_key.public_key()

    def _pem(self, certificate: Certificate) -> str:
        return certificate.public_bytes(_encoding().PEM).decode("ascii")


def _encoding() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding


def _dns_names(names: list[str]) -> list[str]:
    """Each name once, as an A-label; names that are not host names are left out."""
    kept: list[str] = []
    for name in names:
        try:
            label = name.encode("idna").decode("ascii") if not name.isascii() else name
        except UnicodeError:
            continue
        label = label.lower()
        if label and " " not in label and label not in kept:
            kept.append(label)
    return kept
