"""The account's certificates: every order's original, reissues and duplicates, their
serial numbers, and the fake CA that signs them."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from .. import _x509
from ._records import UTC, StoredCertificate, StoredOrder, max_validity_days

if TYPE_CHECKING:
    from .._x509 import FakeAuthority

CERTIFICATE_ID_BASE = 500001


class CertificateBook(dict[int, StoredCertificate]):
    """Certificates by id, ids by serial number, and the CA.

    ``intermediates``: CAs between the fake's root and its leaves. ``cross_signed``: the
    chains hold a cross-signed root as well.
    """

    def __init__(self, *, intermediates: int = 1, cross_signed: bool = False) -> None:
        if intermediates < 1:
            raise ValueError("intermediates must be >= 1")
        super().__init__()
        self.serials: dict[str, int] = {}
        self.intermediates = intermediates
        self.cross_signed = cross_signed
        self._next_id = CERTIFICATE_ID_BASE
        self._authority: FakeAuthority | None = None

    def new_id(self) -> int:
        certificate_id = self._next_id
        self._next_id += 1
        return certificate_id

    def register(self, certificate: StoredCertificate, order: StoredOrder) -> None:
        """Hold ``certificate`` as the order's latest."""
        self[certificate.id] = certificate
        order.certificate_ids.append(certificate.id)

    def of(self, order: StoredOrder, kind: str) -> list[StoredCertificate]:
        """The order's certificates of one ``kind``, oldest first."""
        return [
            self[certificate_id]
            for certificate_id in order.certificate_ids
            if self[certificate_id].kind == kind
        ]

    def pending_reissue(self, order: StoredOrder) -> StoredCertificate | None:
        """The reissued certificate an order waits for, if any."""
        for certificate_id in reversed(order.certificate_ids):
            stored = self[certificate_id]
            if stored.kind == "reissue" and stored.status == "pending":
                return stored
        return None

    def find(self, identifier: str) -> StoredCertificate | None:
        """A certificate by its id (digits) or its serial number (hex, any case)."""
        if identifier.isdigit() and len(identifier) <= 20:  # longer: no id, maybe a serial
            found = self.get(int(identifier))
            if found is not None:
                return found
        certificate_id = self.serials.get(identifier.upper())
        return None if certificate_id is None else self.get(certificate_id)

    def authority(self) -> FakeAuthority | None:
        """The fake's CA (made on first use), or None without ``cryptography``."""
        if self._authority is None and _x509.available():
            self._authority = _x509.FakeAuthority(
                self.intermediates, cross_signed=self.cross_signed
            )
        return self._authority

    def issue(
        self,
        stored: StoredCertificate,
        when: datetime,
        *,
        order_till: date | None,
        organization: str | None,
    ) -> None:
        """Give ``stored`` its serial number, validity (capped at the order's end,
        ``order_till``), thumbprint and chain: issued."""
        start = when.date()
        till = start + timedelta(days=max_validity_days(start))
        if order_till is not None and start < order_till < till:
            till = order_till
        serial = secrets.randbits(127) | 1 << 120  # 16 octets, positive, as DigiCert's
        stored.serial_number = f"{serial:032X}"
        stored.valid_from, stored.valid_till = start, till
        stored.date_issued = when
        stored.status = "issued"
        authority = self.authority()
        if authority is None:  # no cryptography: numbers only, no PEM
            stored.thumbprint = (
                hashlib.sha1(stored.serial_number.encode(), usedforsecurity=False)
                .hexdigest()
                .upper()
            )
        else:
            leaf = authority.issue(
                serial_number=serial,
                common_name=stored.common_name or "fake.invalid",
                dns_names=stored.dns_names,
                not_before=when,
                not_after=datetime(till.year, till.month, till.day, 23, 59, 59, tzinfo=UTC),
                csr=stored.csr,
                organization=organization,
            )
            stored.pem, stored.chain = leaf.pem, leaf.chain
            stored.thumbprint, stored.key_size = leaf.thumbprint, leaf.key_size
        self.serials[stored.serial_number] = stored.id
