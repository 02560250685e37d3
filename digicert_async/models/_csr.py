"""The one check of a CSR a request carries: a PEM ``CERTIFICATE REQUEST`` block whose
base64 decodes to one DER SEQUENCE (no parsing library: the core depends on none).

DigiCert's pages show a ``"<csr>"`` placeholder in every example; sent as is, it costs a
round trip and, for a POST, an answer that cannot be retried. It is refused here.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import attrs

from digicert_async._checks import describe
from digicert_async._errors import ValidationError

__all__ = ["check_csr", "csr"]

# "NEW CERTIFICATE REQUEST" is what Microsoft's tools write; DigiCert takes both.
_PEM_CSR = re.compile(
    r"\s*-----BEGIN (NEW )?CERTIFICATE REQUEST-----"
    r"(?P<body>[A-Za-z0-9+/=\s\\rn]*?)"
    r"-----END (NEW )?CERTIFICATE REQUEST-----\s*"
)
_MAX_CSR_CHARS = 64 * 1024


def _der_sequence_length(der: bytes) -> int | None:
    """The length a DER SEQUENCE header at the start of ``der`` announces, header
    included, or None if ``der`` does not start with one."""
    if len(der) < 2 or der[0] != 0x30:
        return None
    first = der[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(der) < 2 + count:
        return None
    return 2 + count + int.from_bytes(der[2 : 2 + count], "big")


def check_csr(path: str, value: object) -> str:
    """``value`` if it is a PEM certificate request whose content is one DER SEQUENCE
    (line breaks, or the literal ``\\n`` DigiCert's examples escape them as, allowed);
    else a ``ValidationError`` naming ``path``."""
    if not isinstance(value, str):
        raise ValidationError(path, f"expected a PEM certificate request, got {describe(value)}")
    if len(value) > _MAX_CSR_CHARS:
        raise ValidationError(path, f"longer than {_MAX_CSR_CHARS} characters")
    match = _PEM_CSR.fullmatch(value)
    if match is None:
        raise ValidationError(
            path,
            "not a PEM certificate request (-----BEGIN CERTIFICATE REQUEST----- ... "
            "-----END CERTIFICATE REQUEST-----)",
        )
    text = match.group("body").replace("\\r", "").replace("\\n", "")
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(path, "the PEM block is not valid base64") from None
    if _der_sequence_length(der) != len(der):
        raise ValidationError(path, "the PEM block does not hold a DER-encoded request")
    return value


def csr(path: str, *, optional: bool = False) -> Any:
    """An attrs validator running :func:`check_csr` (None passes when ``optional``)."""

    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        check_csr(path, value)

    return check
