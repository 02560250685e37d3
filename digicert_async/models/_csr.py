"""The one check of a CSR a request carries (``orders.create``, ``reissue``,
``duplicate`` and the bulk reissue all run it): one PEM ``CERTIFICATE REQUEST`` block
whose base64 decodes to a DER certificate request. No parsing library: the core
depends on none.

The structure is checked, not the signature: that takes a crypto library, and DigiCert
checks it anyway. What is decided here, and why (DigiCert's pages):

- ``NEW CERTIFICATE REQUEST`` is taken as well as ``CERTIFICATE REQUEST``: it is what
  Microsoft's tools write, and DigiCert's own ordering and reissue pages (the OV
  wildcard order, the client certificate reissue) tell users to paste the CSR with its
  BEGIN/END NEW CERTIFICATE REQUEST lines.
- The BEGIN and END labels must be the same: PEM (RFC 7468) requires it, and a block
  whose ends differ was spliced from two texts.
- A literal backslash escape (``\\n`` typed as two characters, what a JSON example
  copied into a raw string leaves behind) is refused: the csr row of the Reissue
  certificate page wants no escape characters in the value. Real line breaks (LF or
  CRLF) are taken, though that row asks for none: every CSR file has them, DigiCert's
  web form takes the file's text as it is, and refusing them would refuse nearly every
  CSR read from a file.
- The DER must be a SEQUENCE spanning the whole block whose first element is a
  SEQUENCE (RFC 2986's ``certificationRequestInfo``): DigiCert reads the names out of
  the CSR, so a block that is not a certificate request is refused before it costs a
  POST that cannot be retried.
- At most :data:`MAX_CSR_CHARACTERS`: a CSR is a few kilobytes (a 16384-bit RSA key
  makes one under 8 KiB); anything this long is not one, and is not worth decoding.

DigiCert's pages show a ``"<csr>"`` placeholder in every example; sent as is, it costs
a round trip and, for a POST, an answer that cannot be retried. It is refused here.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Final

import attrs

from digicert_async._checks import check_text
from digicert_async._errors import ValidationError

__all__ = ["MAX_CSR_CHARACTERS", "check_csr", "csr"]

MAX_CSR_CHARACTERS: Final = 64 * 1024
"""The longest text taken as a CSR (64 KiB)."""

# The body's class has no "-": the END line cannot be swallowed, the match is linear.
_PEM_CSR = re.compile(
    r"-----BEGIN (NEW )?CERTIFICATE REQUEST-----"
    r"([A-Za-z0-9+/=\s]*)"
    r"-----END (NEW )?CERTIFICATE REQUEST-----"
)
_SEQUENCE = 0x30


def check_csr(path: str, value: object) -> str:
    """``value`` if it is one PEM ``CERTIFICATE REQUEST`` (or ``NEW CERTIFICATE
    REQUEST``) block, surrounding whitespace allowed, whose base64 decodes to a DER
    certificate request; else a ``ValidationError`` naming ``path``."""
    text = check_text(path, value)
    if len(text) > MAX_CSR_CHARACTERS:
        raise ValidationError(
            path, f"is {len(text)} characters long, over {MAX_CSR_CHARACTERS}: a CSR is a few"
        )
    if "\\" in text:
        raise ValidationError(
            path, "holds a backslash escape (such as \\n): give the PEM text with real line breaks"
        )
    match = _PEM_CSR.fullmatch(text.strip())
    if match is None:
        raise ValidationError(
            path,
            "must be one PEM block from '-----BEGIN CERTIFICATE REQUEST-----' to"
            " '-----END CERTIFICATE REQUEST-----' with base64 between, and nothing else"
            f" (got {_preview(text)})",
        )
    if match.group(1) != match.group(3):
        raise ValidationError(path, "the BEGIN and END labels of the PEM block differ")
    encoded = "".join(match.group(2).split())
    if not encoded:
        raise ValidationError(path, "the PEM block is empty")
    try:
        der = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(path, "the PEM block is not valid base64") from None
    problem = _request_problem(der)
    if problem is not None:
        raise ValidationError(path, f"the PEM block is not a DER certificate request: {problem}")
    return text


def _preview(text: str) -> str:
    shown = text.strip()
    return repr(shown if len(shown) <= 40 else shown[:37] + "...")


def _element(der: bytes, offset: int) -> tuple[int, int, int] | str:
    """``(tag, content start, content end)`` of the DER element at ``offset``, or why
    there is none (indefinite and overlong lengths are not DER)."""
    if offset + 2 > len(der):
        return "truncated"
    tag = der[offset]
    first = der[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0:
            return "indefinite length"
        if count > 4 or start + count > len(der):
            return "bad length"
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    end = start + length
    if end > len(der):
        return "truncated"
    return tag, start, end


def _request_problem(der: bytes) -> str | None:
    """Why ``der`` is not a certificate request's outline (a SEQUENCE spanning it all
    whose first element is a SEQUENCE), or None."""
    outer = _element(der, 0)
    if isinstance(outer, str):
        return outer
    tag, start, end = outer
    if tag != _SEQUENCE:
        return f"starts with tag 0x{tag:02x}, not a SEQUENCE"
    if end != len(der):
        return f"{len(der) - end} bytes follow the SEQUENCE"
    inner = _element(der, start)
    if isinstance(inner, str):
        return f"its first element: {inner}"
    if inner[0] != _SEQUENCE:
        return "its first element is not a SEQUENCE (the request's info)"
    return None


def csr(path: str, *, optional: bool = False) -> Any:
    """An attrs validator running :func:`check_csr` (None passes when ``optional``)."""

    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        check_csr(path, value)

    return check
