"""PEM bundles of certificates, split into leaf, intermediates and root (pure).

DigiCert's ``pem_all`` download is one text holding the end-entity certificate, its
intermediates and the root, one ``CERTIFICATE`` block each. Nothing promises their
order, so the blocks are told apart by their names, read from the DER: the root is
the self-signed block (its subject equals its issuer, compared as the DER bytes of
the two ``Name`` values), the leaf is the block that issues no other block, and the
intermediates run from the leaf's issuer up towards the root.

Just enough DER is read to reach ``tbsCertificate``'s issuer and subject: the library
keeps no X.509 dependency, and nothing here checks a signature or a date. Every error
is a :class:`PemError` with a message that names a block by its position, never by
its content.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

__all__ = [
    "Block",
    "PemError",
    "certificate_names",
    "check_pkcs7",
    "read_blocks",
    "split_bundle",
]

# RFC 7468: the label between the dashes; text outside the blocks is allowed.
_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)-----\n(.*?)\n?-----END ([A-Z0-9 ]*)-----",
    re.DOTALL,
)
_BEGIN = re.compile(r"-----BEGIN [^-\n]*-----")
_PKCS7_LABELS = frozenset({"PKCS7", "CMS"})
_SEQUENCE = 0x30
_INTEGER = 0x02
_EXPLICIT_VERSION = 0xA0  # [0] EXPLICIT Version, constructed
_MAX_LENGTH_OCTETS = 4  # 4 GiB is far past any certificate


class PemError(ValueError):
    """The text is not a bundle of certificates (the message says why)."""


@dataclass(frozen=True)
class Block:
    """One ``CERTIFICATE`` block: its PEM text (LF line ends, ending in a newline),
    its DER, and the DER of its issuer and subject names."""

    pem: str
    der: bytes
    issuer: bytes
    subject: bytes

    @property
    def self_signed(self) -> bool:
        return self.issuer == self.subject


def _read_tlv(data: bytes, offset: int, what: str) -> tuple[int, int, int]:
    """The tag, the start of the contents and the end of one DER element at ``offset``."""
    if offset + 2 > len(data):
        raise PemError(f"{what}: the DER ends early")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise PemError(f"{what}: a high tag number, not in a certificate's header")
    first = data[offset + 1]
    position = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0:
            raise PemError(f"{what}: an indefinite length, which DER does not allow")
        if count > _MAX_LENGTH_OCTETS or position + count > len(data):
            raise PemError(f"{what}: a bad length")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    end = position + length
    if end > len(data):
        raise PemError(f"{what}: the DER ends inside an element")
    return tag, position, end


def _expect(data: bytes, offset: int, tag: int, what: str) -> tuple[int, int]:
    found, start, end = _read_tlv(data, offset, what)
    if found != tag:
        raise PemError(f"{what}: expected tag 0x{tag:02x}, found 0x{found:02x}")
    return start, end


def certificate_names(der: bytes) -> tuple[bytes, bytes]:
    """The DER bytes (tag and length included) of a certificate's issuer and subject.

    ``Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }``;
    ``tbsCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature,
    issuer, validity, subject, ... }`` (RFC 5280, 4.1).
    """
    start, end = _expect(der, 0, _SEQUENCE, "Certificate")
    if end != len(der):
        raise PemError("Certificate: bytes after the certificate")
    position, tbs_end = _expect(der, start, _SEQUENCE, "tbsCertificate")
    tag, _, after = _read_tlv(der, position, "tbsCertificate.version")
    if tag == _EXPLICIT_VERSION:
        position = after
    _, position = _expect(der, position, _INTEGER, "tbsCertificate.serialNumber")
    _, position = _expect(der, position, _SEQUENCE, "tbsCertificate.signature")
    _, issuer_end = _expect(der, position, _SEQUENCE, "tbsCertificate.issuer")
    issuer = der[position:issuer_end]
    _, position = _expect(der, issuer_end, _SEQUENCE, "tbsCertificate.validity")
    _, subject_end = _expect(der, position, _SEQUENCE, "tbsCertificate.subject")
    if subject_end > tbs_end:
        raise PemError("tbsCertificate: the subject runs past its end")
    return issuer, der[position:subject_end]


def read_blocks(text: str) -> list[Block]:
    """Every block of ``text`` as a certificate, in the order given.

    Line ends may be CRLF or LF; text between blocks is ignored. A block that is not a
    ``CERTIFICATE``, or whose base64 or DER does not read as one, is a :class:`PemError`.
    """
    # Spaces around a line are tolerated (RFC 7468 allows them at its end).
    text = "\n".join(line.strip() for line in text.replace("\r\n", "\n").split("\n"))
    blocks: list[Block] = []
    found = 0
    for number, match in enumerate(_BLOCK.finditer(text), start=1):
        found += 1
        label, body, end_label = match.group(1), match.group(2), match.group(3)
        if label != "CERTIFICATE" or end_label != label:
            # The label only: the block could be a private key.
            kind = f"a {label!r}" if label else "an unlabelled"
            raise PemError(f"block {number} is {kind} block, not a CERTIFICATE")
        try:
            der = base64.b64decode("".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            raise PemError(f"block {number}: its base64 does not decode") from None
        try:
            issuer, subject = certificate_names(der)
        except PemError as exc:
            raise PemError(f"block {number} is not an X.509 certificate ({exc})") from None
        lines = [line for line in body.split("\n") if line]
        pem = "\n".join(("-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----\n"))
        blocks.append(Block(pem, der, issuer, subject))
    if len(_BEGIN.findall(text)) != found:
        raise PemError("a BEGIN line without its END line")
    if not blocks:
        raise PemError("no PEM CERTIFICATE block")
    return blocks


def split_bundle(text: str) -> tuple[str, list[str], str | None]:
    """``text`` as (leaf, intermediates nearest the leaf first, root or None).

    The root is the self-signed block; the leaf the one block, not self-signed, whose
    subject issues no other block (a lone certificate is the leaf). Intermediates
    follow the issuer names from the leaf up; any other non-root block (a cross-signed
    twin, say) comes after them in bundle order, so that nothing is dropped. No leaf,
    several leaves or several roots is a :class:`PemError`.
    """
    blocks = read_blocks(text)
    if len(blocks) == 1:
        return blocks[0].pem, [], None
    roots = [block for block in blocks if block.self_signed]
    if len(roots) > 1:
        raise PemError(f"{len(roots)} self-signed blocks; a chain has one root")
    others = [block for block in blocks if not block.self_signed]
    issuers = {block.issuer for block in others}
    leaves = [block for block in others if block.subject not in issuers]
    if len(leaves) != 1:
        if not leaves:
            raise PemError("no leaf: every certificate issues another one in the bundle")
        raise PemError(f"{len(leaves)} certificates issue nothing in the bundle; one leaf expected")
    leaf = leaves[0]
    chain: list[Block] = []
    left = [block for block in others if block is not leaf]
    issuer = leaf.issuer
    while True:
        parent = next((block for block in left if block.subject == issuer), None)
        if parent is None:
            break
        chain.append(parent)
        left.remove(parent)
        issuer = parent.issuer
    chain.extend(left)
    return leaf.pem, [block.pem for block in chain], roots[0].pem if roots else None


def check_pkcs7(data: bytes) -> None:
    """Raise :class:`PemError` unless ``data`` is one whole DER SEQUENCE (a PKCS#7
    ``ContentInfo``), as bytes or armored as one PEM ``PKCS7`` block.

    Only the outer element is read: enough to tell a bundle cut short, or something else
    sent in its place, from a whole one.
    """
    if data.lstrip()[:10] == b"-----BEGIN":
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise PemError("bytes outside ASCII in PEM text") from None
        text = "\n".join(line.strip() for line in text.replace("\r\n", "\n").split("\n"))
        blocks = list(_BLOCK.finditer(text))
        if len(blocks) != 1 or len(_BEGIN.findall(text)) != 1:
            raise PemError("expected one PEM PKCS7 block")
        label, body, end_label = blocks[0].group(1), blocks[0].group(2), blocks[0].group(3)
        if label not in _PKCS7_LABELS or end_label != label:
            kind = f"a {label!r}" if label else "an unlabelled"
            raise PemError(f"{kind} block, not PKCS7")
        try:
            data = base64.b64decode("".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            raise PemError("its base64 does not decode") from None
    _, _, end = _read_tlv(data, 0, "ContentInfo")
    if data[0] != _SEQUENCE:
        raise PemError(f"ContentInfo: expected tag 0x30, found 0x{data[0]:02x}")
    if end != len(data):
        raise PemError("ContentInfo: bytes after the bundle")
