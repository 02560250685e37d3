"""What the fake account holds, record by record, and the constants of its documents.

Plain data: the stores hold these records and the lifecycle changes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

JSONDict = dict[str, Any]

UTC = timezone.utc

SEED_STATUSES = ("pending", "waiting_pickup", "issued", "canceled", "rejected", "expired")
SEED_PRODUCTS = ("ssl_basic", "ssl_plus", "ssl_securesite", "ssl_ev_basic", "ssl_dv_geotrust")

# name_id -> (display name, product type, yearly price in USD)
PRODUCTS: dict[str, tuple[str, str, int]] = {
    "ssl_basic": ("Basic OV", "ssl_certificate", 358),
    "ssl_plus": ("Standard SSL", "ssl_certificate", 198),
    "ssl_securesite": ("Secure Site SSL", "ssl_certificate", 399),
    "ssl_ev_basic": ("Basic EV", "ssl_certificate", 495),
    "ssl_dv_geotrust": ("GeoTrust Standard DV", "ssl_certificate", 149),
    "document_signing_org_1": (
        "Document Signing - Organization (2000)",
        "document_signing_certificate",
        469,
    ),
    "document_signing_org_2": (
        "Document Signing - Organization (5000)",
        "document_signing_certificate",
        899,
    ),
}

# Domain-validated products have no organization; DigiCert writes it as PHP's empty array.
DV_PRODUCTS = frozenset({"ssl_dv_geotrust", "ssl_dv_rapidssl", "ssl_dv_thawte"})
# Statuses in which an order's certificate exists (has an id): before issuance DigiCert
# answers with a certificate object that has no id.
CERTIFICATE_EXISTS = frozenset({"issued", "expired", "revoked", "reissue_pending"})
DEFAULT_ORGANIZATION = (334455, "Example Organization")
NOTE_USER: JSONDict = {
    "id": 15,
    "first_name": "Fake",
    "last_name": "Administrator",
    "email": "admin@example.com",
}
IMMEDIATE_SUBACCOUNT: JSONDict = {
    "account_id": 123445,
    "account_type": "enterprise",
    "organization_name": "Example Subaccount",
}
NESTED_SUBACCOUNT: JSONDict = {
    "account_id": 123446,
    "account_type": "enterprise",
    "organization_name": "Example Sub-subaccount",
}


def _mountain_time() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    except ImportError:  # pragma: no cover - zoneinfo exists on every supported Python
        return timezone(timedelta(hours=-7), "MST")
    try:
        return ZoneInfo("America/Denver")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone(timedelta(hours=-7), "MST")


MOUNTAIN = _mountain_time()
"""The account's time zone: DigiCert reads the times in its filters as US Mountain time."""


def iso(moment: datetime) -> str:
    """``2018-10-16T20:42:55+00:00``: UTC, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def whole_number(value: Any) -> bool:
    """An ``int`` from JSON (``true`` and ``false`` are not numbers here)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class StoredOrder:
    """One order: its order-info document and what the fake keeps beside it."""

    info: JSONDict
    subaccount: JSONDict | None = None
    immediate: bool = True
    cost: int = 0
    notes: list[JSONDict] = field(default_factory=list)
    status_last_updated: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def id(self) -> int:
        order_id: int = self.info["id"]
        return order_id

    @property
    def status(self) -> str:
        status: str = self.info["status"]
        return status

    @property
    def certificate_id(self) -> Any:
        return self.info.get("certificate", {}).get("id")

    certificate_ids: list[int] = field(default_factory=list)
    """Every certificate of the order, in the order they were made: the original, then
    each reissue and duplicate."""


# Public TLS validity caps by issue date (CA/Browser Forum ballot SC-081): what DigiCert
# issues today, so that the fake's certificates look like current ones.
_VALIDITY_CAPS: tuple[tuple[date, int], ...] = (
    (date(2029, 3, 15), 47),
    (date(2027, 3, 15), 100),
    (date(2026, 3, 15), 200),
)
_VALIDITY_BEFORE_CAPS = 397
# Statuses in which a certificate still counts (revoking turns these into "revoked").
LIVE_CERTIFICATE = frozenset({"pending", "issued", "approved"})
# Request statuses still open to a decision.
OPEN_REQUEST = frozenset({"submitted", "pending"})


def max_validity_days(issued: date) -> int:
    """The longest public TLS validity DigiCert issues on ``issued``."""
    for start, days in _VALIDITY_CAPS:
        if issued >= start:
            return days
    return _VALIDITY_BEFORE_CAPS


@dataclass
class StoredCertificate:
    """One certificate of an order (the original, a reissue or a duplicate).

    ``status`` is ``pending`` until issued, then ``issued``; ``revoked`` or ``rejected``
    after that. Once issued it has a serial number, a thumbprint and, when ``cryptography``
    is installed, a real chain: ``pem`` (the leaf) and ``chain`` (intermediates nearest
    first, the self-signed root last).
    """

    id: int
    order_id: int
    kind: str
    """``original``, ``reissue`` or ``duplicate``."""
    common_name: str
    dns_names: list[str]
    signature_hash: str = "sha256"
    csr: str | None = None
    server_platform_id: int | None = None
    status: str = "pending"
    date_created: datetime = field(default_factory=lambda: datetime.now(UTC))
    date_issued: datetime | None = None
    valid_from: date | None = None
    valid_till: date | None = None
    serial_number: str | None = None
    thumbprint: str | None = None
    key_size: int | None = None
    pem: str | None = None
    chain: tuple[str, ...] = ()

    @property
    def pem_all(self) -> str | None:
        """Leaf, intermediates and root as one PEM text (``pem_all``), if made."""
        if self.pem is None:
            return None
        return "".join((self.pem, *self.chain))


@dataclass
class StoredRequest:
    """One approval request: a new order's, a reissue's, a duplicate's or a revocation's."""

    id: int
    type: str
    order_id: int
    date: datetime
    status: str = "pending"
    comments: str | None = None
    certificate_id: int | None = None
    """The certificate a reissue or duplicate makes, or the one a revocation names (None:
    the whole order)."""
    revocation_reason: str | None = None
    date_processed: datetime | None = None
    processor_comment: str | None = None


@dataclass(frozen=True)
class NewOrder:
    """What ``Lifecycle.new_order`` made: the answer of an order request is built from it."""

    order_id: int
    request_id: int
    request_status: str
    """``approved`` when approval was skipped, else ``pending``."""
    certificate_id: int | None
    """Set when approval was skipped: DigiCert returns the certificate id at once then."""


def parse_iso(text: Any) -> datetime | None:
    """A timestamp of a document (ISO 8601, as ``iso`` writes it) in UTC, or None."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return None


def parse_date(text: Any) -> date | None:
    """A date of a document (``YYYY-MM-DD``), or None."""
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
