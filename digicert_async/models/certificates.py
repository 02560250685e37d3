"""Certificates: the formats a certificate downloads in, a ``pem_all`` bundle split
into its parts, and the chain DigiCert keeps for a certificate."""

from __future__ import annotations

from types import MappingProxyType

import attrs

from digicert_async._pem import split_bundle

from ._common import ResponseModel, response_model

__all__ = [
    "CERTIFICATE_FORMATS",
    "CertificateChain",
    "CertificatePem",
    "ChainCertificate",
]

CERTIFICATE_FORMATS: MappingProxyType[str, str] = MappingProxyType(
    {
        "default": "application/zip",
        "apache": "application/zip",
        "default_cer": "application/zip",
        "default_pem": "application/zip",
        "cer": "application/x-pkcs7-certificates",
        "p7b": "application/x-pkcs7-certificates",
        "pem_all": "application/x-pem-file",
        "pem_nointermediate": "application/x-pem-file",
        "pem_noroot": "application/x-pem-file",
    }
)
"""Every ``format_type`` of DigiCert's glossary ("Certificate formats"), with the
Content-Type DigiCert answers it with: ZIP archives of one file per certificate
(``default``, ``default_cer``, ``default_pem``: root, intermediates and the
certificate; ``apache``: without the root), a PKCS#7 bundle (``cer``, ``p7b``), or PEM
text (``pem_all``: certificate, intermediates and root; ``pem_noroot``; and
``pem_nointermediate``: the certificate alone)."""


@attrs.frozen(kw_only=True)
class CertificatePem:
    """A ``pem_all`` bundle split into its parts, each one PEM ``CERTIFICATE`` block
    (LF line ends, ending in a newline).

    ``certificate`` is the end-entity (leaf) certificate; ``intermediates`` the CA
    certificates on its issuer path, the one that issued the leaf first; ``root`` the
    self-signed root where that path ends, or None when the bundle holds none.
    ``off_path`` keeps the bundle's other certificates, in bundle order: for a
    cross-signed order, the cross certificate (the root signed by an older root) and
    that older root. ``chain`` and ``fullchain`` leave them out.
    """

    certificate: str
    intermediates: list[str] = attrs.field(factory=list)
    root: str | None = None
    off_path: list[str] = attrs.field(factory=list)

    @classmethod
    def from_bundle(cls, text: str) -> CertificatePem:
        """``text`` (PEM ``CERTIFICATE`` blocks in any order) split into its parts, told
        apart by their names; ``ValueError`` when the blocks are not one chain."""
        parts = split_bundle(text)
        return cls(
            certificate=parts.leaf,
            intermediates=parts.intermediates,
            root=parts.root,
            off_path=parts.off_path,
        )

    @property
    def chain(self) -> str:
        """The intermediates as one PEM text, nearest first (a server's chain file)."""
        return "".join(self.intermediates)

    @property
    def fullchain(self) -> str:
        """The certificate then its intermediates, as one PEM text (no root: a server
        sends what clients lack, and they have the root)."""
        return self.certificate + self.chain


@response_model
@attrs.frozen(kw_only=True)
class ChainCertificate(ResponseModel):
    """One CA certificate of a chain: its subject's common name and its PEM."""

    pem: str
    subject_common_name: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class CertificateChain(ResponseModel):
    """Answer of ``GET /certificate/{certificate_id}/chain``: the CA certificates above a
    certificate, as DigiCert lists them."""

    intermediates: list[ChainCertificate]
