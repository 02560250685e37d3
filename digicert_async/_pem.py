"""PEM bundles of certificates, split into leaf, intermediates and root (pure).

DigiCert's ``pem_all`` download is one text holding the end-entity certificate, its
intermediates and the root, one ``CERTIFICATE`` block each; for a cross-signed order it
also holds a cross certificate and a second root. Nothing promises their order, so the
blocks are told apart by their names, read from the DER: a root is a self-signed block
(its subject equals its issuer, compared as the DER bytes of the two ``Name`` values),
the leaf is the block that issues no other block, and the chain is the issuer path from
the leaf up to the root nearest it. Blocks off that path are kept apart.

Just enough DER is read to reach ``tbsCertificate``'s issuer and subject: the library
keeps no X.509 dependency, and nothing here checks a signature or a date. Every error
is a :class:`PemError` with a message that names a block by its position, never by
its content.

Every byte here comes from a server, so every step is linear in the text's length: the
armor is found in one left-to-right scan, each block's DER is read at a few fixed
places, and the chain is walked with dictionaries, each block visited a bounded number
of times.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "MAX_BLOCKS",
    "Block",
    "PemError",
    "SplitBundle",
    "certificate_names",
    "check_pkcs7",
    "read_armor",
    "read_blocks",
    "split_bundle",
]

MAX_BLOCKS = 64
"""The most PEM blocks read from one text: a certificate bundle holds a few (a leaf, its
intermediates, a root or two), and each block costs work of its own."""

# RFC 7468's encapsulation boundaries. Labels are short ("CERTIFICATE", "PKCS7"); bounding
# them keeps a boundary that never closes from costing more than a few steps. A BEGIN or
# END that is no such boundary is counted apart (see read_armor).
_MAX_LABEL = 64
_BOUNDARY = re.compile(rf"-----(BEGIN|END) ([^\n-]{{0,{_MAX_LABEL}}})-----")
# A BEGIN boundary ends its line (spaces allowed before the line end).
_LINE_END = re.compile(r"[ \t\r]*(?:\n|\Z)")
_LABEL = re.compile(r"[A-Z0-9 ]*")
_PKCS7_LABELS = frozenset({"PKCS7", "CMS"})
_SHOWN_LABEL = 40  # a label is shown in a message, cut to this many characters
_PEM_LINE = 64  # RFC 7468 writes base64 in lines of 64 characters
_SEQUENCE = 0x30
_INTEGER = 0x02
_EXPLICIT_VERSION = 0xA0  # [0] EXPLICIT Version, constructed
_MAX_LENGTH_OCTETS = 4  # 4 GiB is far past any certificate


class PemError(ValueError):
    """The text is not a bundle of certificates (the message says why)."""


@dataclass(frozen=True)
class Block:
    """One ``CERTIFICATE`` block: its PEM text (LF line ends, base64 in lines of 64,
    ending in a newline) and the DER of its issuer and subject names."""

    pem: str
    issuer: bytes
    subject: bytes

    @property
    def self_signed(self) -> bool:
        return self.issuer == self.subject


class SplitBundle(NamedTuple):
    """A bundle's blocks by their place: the leaf, the intermediates on its issuer path
    (nearest the leaf first), the root that path ends at (or None), and every other
    block (``off_path``, in bundle order)."""

    leaf: str
    intermediates: list[str]
    root: str | None
    off_path: list[str]


# --------------------------------------------------------------------------- DER


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


# --------------------------------------------------------------------------- armor


def read_armor(text: str) -> list[tuple[str, str]]:
    """Every PEM block of ``text`` as (label, base64 text), in one pass.

    Text outside the blocks is ignored. A BEGIN line must end its line (spaces may
    follow); the END line names the same label. A BEGIN with no END, a BEGIN inside a
    block, an END outside one, a label that is not upper-case letters, digits and
    spaces, a ``-----BEGIN`` or ``-----END`` that is no boundary, or more than
    :data:`MAX_BLOCKS` blocks is a :class:`PemError`.
    """
    blocks: list[tuple[str, str]] = []
    opened: tuple[str, int] | None = None  # the open block's label, where its body starts
    boundaries = 0
    for boundary in _BOUNDARY.finditer(text):
        boundaries += 1
        kind, found = boundary.group(1), boundary.group(2)
        number = len(blocks) + 1
        if number > MAX_BLOCKS:
            raise PemError(f"more than {MAX_BLOCKS} PEM blocks; a certificate bundle holds a few")
        if kind == "END":
            if opened is None:
                raise PemError("an END line without its BEGIN line")
            if found != opened[0]:
                raise PemError(f"block {number}: its END line names another label")
            blocks.append((found, text[opened[1] : boundary.start()]))
            opened = None
            continue
        if opened is not None:
            raise PemError("a BEGIN line without its END line")
        if not _LABEL.fullmatch(found):
            raise PemError(f"block {number}: a label that is not RFC 7468's")
        line_end = _LINE_END.match(text, boundary.end())
        if line_end is None:
            raise PemError(f"block {number}: text after its BEGIN line")
        opened = (found, line_end.end())
    if opened is not None:
        raise PemError("a BEGIN line without its END line")
    if text.count("-----BEGIN ") + text.count("-----END ") != boundaries:
        raise PemError("a BEGIN or END line that is not RFC 7468's")
    return blocks


def _decode_body(body: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise PemError(f"{what}: its base64 does not decode") from None


def _kind(label: str) -> str:
    # The label only, never the body: the block could be a private key.
    return f"a {label[:_SHOWN_LABEL]!r}" if label else "an unlabelled"


def _pem(der: bytes) -> str:
    encoded = base64.b64encode(der).decode("ascii")
    lines = [encoded[i : i + _PEM_LINE] for i in range(0, len(encoded), _PEM_LINE)]
    return "\n".join(("-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----\n"))


def read_blocks(text: str) -> list[Block]:
    """Every block of ``text`` as a certificate, in the order given.

    Line ends may be CRLF or LF; text between blocks is ignored. A block that is not a
    ``CERTIFICATE``, or whose base64 or DER does not read as one, is a :class:`PemError`.
    Each block's PEM is written anew from its DER, in RFC 7468's strict form.
    """
    blocks: list[Block] = []
    for number, (label, body) in enumerate(read_armor(text), start=1):
        if label != "CERTIFICATE":
            raise PemError(f"block {number} is {_kind(label)} block, not a CERTIFICATE")
        der = _decode_body(body, f"block {number}")
        try:
            issuer, subject = certificate_names(der)
        except PemError as exc:
            raise PemError(f"block {number} is not an X.509 certificate ({exc})") from None
        blocks.append(Block(_pem(der), issuer, subject))
    if not blocks:
        raise PemError("no PEM CERTIFICATE block")
    return blocks


# --------------------------------------------------------------------------- the chain


def split_bundle(text: str) -> SplitBundle:
    """``text`` split into leaf, the issuer path's intermediates and root, and the rest.

    The leaf is the one block, not self-signed, whose subject issues no other block (a
    lone certificate is the leaf). From it, the path goes from each block to a block
    whose subject is its issuer, choosing the one nearest a self-signed root (the
    first in the bundle among equals), and ends at that root; without a way to a root
    it follows the bundle's order and ends where no issuer is found (``root`` is None).
    The blocks off that path (a cross certificate and the older root that signed it,
    a cross-signed twin) are ``off_path``, in bundle order. No leaf or several leaves
    is a :class:`PemError`.
    """
    blocks = read_blocks(text)
    if len(blocks) == 1:
        return SplitBundle(blocks[0].pem, [], None, [])
    leaf = _leaf(blocks)
    path = _issuer_path(leaf, blocks)
    root = path.pop() if path and blocks[path[-1]].self_signed else None
    on_path = {leaf, *path, root}
    return SplitBundle(
        blocks[leaf].pem,
        [blocks[index].pem for index in path],
        None if root is None else blocks[root].pem,
        [block.pem for index, block in enumerate(blocks) if index not in on_path],
    )


def _leaf(blocks: list[Block]) -> int:
    """The index of the one block, not self-signed, that issues no other block."""
    issuers = {block.issuer for block in blocks if not block.self_signed}
    leaves = [
        index
        for index, block in enumerate(blocks)
        if not block.self_signed and block.subject not in issuers
    ]
    if len(leaves) == 1:
        return leaves[0]
    if leaves:
        raise PemError(f"{len(leaves)} certificates issue nothing in the bundle; one leaf expected")
    if not issuers:
        raise PemError(f"{len(blocks)} self-signed blocks and no leaf")
    raise PemError("no leaf: every certificate issues another one in the bundle")


_NO_WAY = -1


def _steps_to_a_root(blocks: list[Block]) -> list[int]:
    """For each block, the fewest issuer steps from it to a self-signed block (0 for a
    root, ``_NO_WAY`` when there is none), found breadth first from the roots. Each
    subject is expanded once (its list is taken when it is), so the walk is linear
    however many blocks share a name."""
    issued: dict[bytes, list[int]] = {}
    for index, block in enumerate(blocks):
        if not block.self_signed:
            issued.setdefault(block.issuer, []).append(index)
    steps = [0 if block.self_signed else _NO_WAY for block in blocks]
    queue = deque(index for index, block in enumerate(blocks) if block.self_signed)
    while queue:
        index = queue.popleft()
        # each block is in one list, taken once: it gets its steps once, the fewest
        for child in issued.pop(blocks[index].subject, ()):
            steps[child] = steps[index] + 1
            queue.append(child)
    return steps


def _issuer_path(leaf: int, blocks: list[Block]) -> list[int]:
    """The indices of the blocks above ``leaf``, nearest first: the shortest way to a
    root, or, when there is none, the issuers in bundle order, each block taken once."""
    steps = _steps_to_a_root(blocks)
    path: list[int] = []
    if steps[leaf] != _NO_WAY:
        nearest: dict[bytes, int] = {}  # subject -> its block nearest a root, first of equals
        for index, block in enumerate(blocks):
            best = nearest.get(block.subject)
            if steps[index] != _NO_WAY and (best is None or steps[index] < steps[best]):
                nearest[block.subject] = index
        current = leaf
        while steps[current]:
            current = nearest[blocks[current].issuer]
            path.append(current)
        return path
    waiting: dict[bytes, deque[int]] = {}  # subject -> its blocks, in bundle order
    for index, block in enumerate(blocks):
        if index != leaf:
            waiting.setdefault(block.subject, deque()).append(index)
    issuer = blocks[leaf].issuer
    while candidates := waiting.get(issuer):
        current = candidates.popleft()
        path.append(current)
        issuer = blocks[current].issuer
    return path


# --------------------------------------------------------------------------- PKCS#7


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
        blocks = read_armor(text)
        if len(blocks) != 1:
            raise PemError(f"expected one PEM PKCS7 block, found {len(blocks)}")
        label, body = blocks[0]
        if label not in _PKCS7_LABELS:
            raise PemError(f"{_kind(label)} block, not PKCS7")
        data = _decode_body(body, "the PKCS7 block")
    _, _, end = _read_tlv(data, 0, "ContentInfo")
    if data[0] != _SEQUENCE:
        raise PemError(f"ContentInfo: expected tag 0x30, found 0x{data[0]:02x}")
    if end != len(data):
        raise PemError("ContentInfo: bytes after the bundle")
