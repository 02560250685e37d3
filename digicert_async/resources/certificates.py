"""``client.certificates``: one certificate of an order, by its id or serial number."""

from __future__ import annotations

import re

from .._checks import check_id, describe
from .._errors import ValidationError
from .._pipeline import Requester
from ..models import ApprovalRequest
from . import _revoke

__all__ = ["CertificatesResource", "certificate_identifier"]

REVOKE = "/certificate/{certificate_identifier}/revoke"

# DigiCert writes serial numbers as hex (``0AE71279E5213729026AFE4BB58DE1AB``); RFC 5280
# caps them at 20 octets.
_SERIAL = re.compile(r"[0-9A-Fa-f]{1,40}")


def certificate_identifier(value: object, field: str = "certificate_id_or_serial") -> str:
    """The path segment that names a certificate: an int is its id, a str its serial
    number (hex digits, as DigiCert shows it; colons and spaces between bytes are
    dropped, so a serial copied from ``openssl x509 -serial`` or a browser works).

    The path does not say which of the two it holds, so a serial made only of decimal
    digits is ambiguous; prefer the id when both are at hand."""
    if isinstance(value, str):
        serial = re.sub(r"[:\s]", "", value)
        if not _SERIAL.fullmatch(serial):
            raise ValidationError(
                field, f"a serial number is 1 to 40 hex digits, got {value[:60]!r}"
            )
        return serial
    if type(value) is int:
        return str(check_id(field, value))
    raise ValidationError(
        field, f"expected a certificate id (int) or serial number (str), got {describe(value)}"
    )


class CertificatesResource:
    """Certificates: ``client.certificates``."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def revoke(
        self,
        certificate_id_or_serial: int | str,
        *,
        comments: str | None = None,
        revocation_reason: str | None = None,
        skip_approval: bool = False,
    ) -> ApprovalRequest | None:
        """Ask DigiCert to revoke one certificate of an order (a reissue or a duplicate,
        say), named by its id (an int) or its serial number (a hex str).

        Returns the approval request DigiCert opens (``status`` ``pending``: an
        administrator must approve it, see ``client.requests``), or None when DigiCert
        revokes at once: that happens with ``skip_approval=True`` and an API key with
        admin privileges (DigiCert then answers 204 with no body). Revoking is
        permanent. A certificate whose order has a pending reissue cannot be revoked
        (DigiCert answers 400). ``revocation_reason`` is one of
        :data:`~digicert_async.REVOCATION_REASONS` (TLS certificates only); ``comments``
        is kept on the approval request for the approver.

        The request is sent once: if its answer is lost, it is not repeated (look at
        the order or the pending requests to learn whether it arrived).
        """
        identifier = certificate_identifier(certificate_id_or_serial)
        return await _revoke.revoke(
            self._requester,
            REVOKE,
            {"certificate_identifier": identifier},
            comments=comments,
            revocation_reason=revocation_reason,
            skip_approval=skip_approval,
        )
