"""The fake account's state: orders, their notes and status history, ids and the clock.

No I/O and no HTTP here: the endpoint modules read and change this state, and
``FakeCertCentral``'s helpers do the same from a test. Everything is synchronous, so one
request is applied atomically.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

JSONDict = dict[str, Any]

UTC = timezone.utc

ORDER_ID_BASE = 100001
CERTIFICATE_ID_BASE = 500001
REQUEST_ID_BASE = 9001
ORGANIZATION_ID_BASE = 700001

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


class OrderStore:
    """The fake account: orders, their notes and status history, the next ids, the clock."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self.orders: dict[int, StoredOrder] = {}
        self._next_order_id = ORDER_ID_BASE
        self._next_certificate_id = CERTIFICATE_ID_BASE
        self._next_note_id = 1
        self._next_request_id = REQUEST_ID_BASE
        self._next_organization_id = ORGANIZATION_ID_BASE
        self.organizations: dict[int, str] = {DEFAULT_ORGANIZATION[0]: DEFAULT_ORGANIZATION[1]}

    def now(self) -> datetime:
        return self._clock().astimezone(UTC).replace(microsecond=0)

    def seed(self, count: int) -> None:
        """Add ``count`` orders with a fixed mix of statuses, products and owners.

        Statuses cycle through ``SEED_STATUSES``, products through ``SEED_PRODUCTS``; every
        fifth order is placed by a subaccount (every tenth by a sub-subaccount, which the
        subaccount view shows without certificate and organization). Orders are dated one
        minute apart, the last one a minute ago.
        """
        now = self.now()
        for index in range(count):
            created = now - timedelta(minutes=count - index)
            by_subaccount = index % 5 == 4
            self.add_order(
                SEED_STATUSES[index % len(SEED_STATUSES)],
                product=SEED_PRODUCTS[index % len(SEED_PRODUCTS)],
                common_name=f"host{index + 1}.example.com",
                subaccount=by_subaccount,
                immediate=index % 10 != 9,
                created=created,
            )

    def add_order(
        self,
        status: str = "pending",
        *,
        product: str = "ssl_basic",
        common_name: str = "example.com",
        subaccount: bool = False,
        immediate: bool = True,
        created: datetime | None = None,
        dns_names: list[str] | None = None,
        organization: tuple[int, str] | None = None,
        validity_years: int = 1,
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        order_id = self._next_order_id
        self._next_order_id += 1
        created = (created or self.now()).astimezone(UTC).replace(microsecond=0)
        name, product_type, price = PRODUCTS.get(product, (product, "ssl_certificate", 100))
        org_id, org_name = organization or DEFAULT_ORGANIZATION
        names = [common_name] if dns_names is None else list(dns_names)
        info: JSONDict = {
            "id": order_id,
            "certificate": {
                "common_name": common_name,
                "dns_names": names,
                "signature_hash": "sha256",
            },
            "status": status,
            "is_renewal": False,
            "date_created": iso(created),
            "organization": (
                []
                if product in DV_PRODUCTS
                else {"id": org_id, "name": org_name, "display_name": org_name}
            ),
            "validity_years": validity_years,
            "product": {"name_id": product, "name": name, "type": product_type},
        }
        order = StoredOrder(
            info=info,
            subaccount=None,
            immediate=immediate,
            cost=price * validity_years,
            status_last_updated=created,
        )
        if subaccount:
            order.subaccount = dict(IMMEDIATE_SUBACCOUNT if immediate else NESTED_SUBACCOUNT)
        if status == "issued":
            issued = min(created + timedelta(minutes=1), max(created, self.now()))
            self._issue(order, issued)
            order.status_last_updated = issued
        elif status in CERTIFICATE_EXISTS:
            self.create_certificate(order)
        if extra:
            info.update(copy.deepcopy(dict(extra)))
        self.orders[order_id] = order
        return order_id

    def set_status(self, order_id: int, status: str, at: datetime | None = None) -> None:
        order = self.orders[order_id]
        when = (at or self.now()).astimezone(UTC).replace(microsecond=0)
        order.info["status"] = status
        if status == "issued" and "date_issued" not in order.info:
            self._issue(order, when)
        elif status in CERTIFICATE_EXISTS:
            self.create_certificate(order)
        order.status_last_updated = when

    def create_certificate(self, order: StoredOrder) -> int:
        """Give the order's certificate its id (once), as DigiCert does when it approves
        or issues one; returns the id."""
        certificate = order.info.setdefault("certificate", {})
        if "id" not in certificate:
            # The id leads the object, as in DigiCert's answers.
            order.info["certificate"] = {"id": self._next_certificate_id, **certificate}
            self._next_certificate_id += 1
        certificate_id: int = order.info["certificate"]["id"]
        return certificate_id

    def _issue(self, order: StoredOrder, when: datetime) -> None:
        info = order.info
        years = info.get("validity_years", 1)
        years = years if whole_number(years) and years > 0 else 1
        start = when.date()
        cert_till = start + timedelta(days=396)
        digest = hashlib.sha256(f"fake-certificate-{order.id}".encode()).hexdigest().upper()
        self.create_certificate(order)
        certificate = info["certificate"]
        certificate["thumbprint"] = digest[:40]
        certificate["serial_number"] = digest[40:64]
        certificate["valid_from"] = start.isoformat()
        certificate["valid_till"] = cert_till.isoformat()
        certificate["days_remaining"] = (cert_till - self.now().date()).days
        info["date_issued"] = iso(when)
        info["order_valid_from"] = start.isoformat()
        info["order_valid_till"] = (start + timedelta(days=365 * years)).isoformat()

    def add_note(self, order: StoredOrder, text: str) -> JSONDict:
        note: JSONDict = {
            "id": self._next_note_id,
            "date_created": iso(self.now()),
            "text": text,
            "user": dict(NOTE_USER),
        }
        self._next_note_id += 1
        order.notes.append(note)
        return note

    def new_request_id(self) -> int:
        """The next approval-request id."""
        request_id = self._next_request_id
        self._next_request_id += 1
        return request_id

    def new_organization(self, name: str) -> int:
        """Add an organization named ``name``; returns its new id."""
        org_id = self._next_organization_id
        self._next_organization_id += 1
        self.organizations[org_id] = name
        return org_id
