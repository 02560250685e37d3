"""The fake account's state: orders, their certificates, notes, approval requests and
status history, ids and the clocks.

No I/O and no HTTP here: the endpoint modules read and change this state, and
``FakeCertCentral``'s helpers do the same from a test. Everything is synchronous, so one
request is applied atomically.

Two clocks. Dates in the documents (``date_created``, ``date_issued``, the status history
that status-changes reads) are wall-clock UTC, as a client comparing them with its own
clock expects. *When* an order moves on (``pending`` -> ``issued``, ``reissue_pending`` ->
``issued`` with a new certificate, a duplicate issued) is decided by the lifecycle clock,
which only the test moves (``advance``), unless the store runs in real time. What falls
due is applied, stamped with the wall clock, before the next request is served.
"""

from __future__ import annotations

import copy
import hashlib
import heapq
import itertools
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from . import _x509

if TYPE_CHECKING:
    from ._x509 import FakeAuthority

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
_LIVE_CERTIFICATE = frozenset({"pending", "issued", "approved"})
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
    """What ``OrderStore.new_order`` made: the answer of an order request is built from it."""

    order_id: int
    request_id: int
    request_status: str
    """``approved`` when approval was skipped, else ``pending``."""
    certificate_id: int | None
    """Set when approval was skipped: DigiCert returns the certificate id at once then."""


class OrderStore:
    """The fake account: orders and their certificates, notes, approval requests, status
    history, the next ids and the clocks.

    ``issue_after``: lifecycle seconds from submission (or a reissue, or a duplicate) to
    issuance; None leaves orders where they are until a test moves them. ``realtime``:
    the lifecycle clock also runs with ``time.monotonic`` (a standalone fake, a demo);
    by default only ``advance`` moves it. ``intermediates``: CAs between the fake's root
    and its leaves. ``cross_signed``: the chains hold a cross-signed root as well.
    """

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        *,
        issue_after: float | None = 60.0,
        realtime: bool = False,
        intermediates: int = 1,
        cross_signed: bool = False,
    ) -> None:
        if issue_after is not None and issue_after < 0:
            raise ValueError("issue_after must be >= 0 (or None)")
        if intermediates < 1:
            raise ValueError("intermediates must be >= 1")
        self._clock = clock or (lambda: datetime.now(UTC))
        self.orders: dict[int, StoredOrder] = {}
        self.certificates: dict[int, StoredCertificate] = {}
        self.serials: dict[str, int] = {}
        self.requests: dict[int, StoredRequest] = {}
        self._next_order_id = ORDER_ID_BASE
        self._next_certificate_id = CERTIFICATE_ID_BASE
        self._next_note_id = 1
        self._next_request_id = REQUEST_ID_BASE
        self._next_organization_id = ORGANIZATION_ID_BASE
        self.organizations: dict[int, str] = {DEFAULT_ORGANIZATION[0]: DEFAULT_ORGANIZATION[1]}
        # the lifecycle clock, and what falls due on it: (due, sequence, kind, id)
        self.issue_after = issue_after
        self.intermediates = intermediates
        self.cross_signed = cross_signed
        self._advanced = 0.0
        self._started = time.monotonic() if realtime else None
        self._queue: list[tuple[float, int, str, int]] = []
        self._due: dict[tuple[str, int], float] = {}
        self._sequence = itertools.count()
        self._authority: FakeAuthority | None = None
        self._ticking = False

    def now(self) -> datetime:
        return self._clock().astimezone(UTC).replace(microsecond=0)

    # ------------------------------------------------------------------ the lifecycle clock

    @property
    def realtime(self) -> bool:
        return self._started is not None

    def lifecycle_time(self) -> float:
        """Seconds on the lifecycle clock: what ``advance`` added (plus the time since the
        store was made, in real time)."""
        elapsed = 0.0 if self._started is None else time.monotonic() - self._started
        return self._advanced + elapsed

    def advance(self, seconds: float) -> None:
        """Move the lifecycle clock on and apply what falls due."""
        if not seconds >= 0:
            raise ValueError("seconds must be >= 0")
        self._advanced += seconds
        self.tick()

    def tick(self) -> None:
        """Apply everything due by now on the lifecycle clock, earliest first."""
        if self._ticking or not self._queue:
            return
        now = self.lifecycle_time()
        self._ticking = True
        try:
            while self._queue and self._queue[0][0] <= now:
                due, _, kind, key = heapq.heappop(self._queue)
                if self._due.get((kind, key)) != due:
                    continue  # rescheduled or settled since
                del self._due[(kind, key)]
                if kind == "order":
                    order = self.orders.get(key)
                    if order is not None:
                        self._order_falls_due(order)
                else:
                    certificate = self.certificates.get(key)
                    if certificate is not None and certificate.status == "pending":
                        when = self.now()
                        self._issue_certificate(certificate, when)
                        self._approve_requests_for(certificate.id, when)
        finally:
            self._ticking = False

    def due(self, kind: str, key: int) -> float | None:
        """When (on the lifecycle clock) an order (``"order"``) or a duplicate
        (``"certificate"``) falls due, or None."""
        return self._due.get((kind, key))

    def _schedule(self, kind: str, key: int) -> None:
        if self.issue_after is None:
            return
        due = self.lifecycle_time() + self.issue_after
        self._due[(kind, key)] = due
        heapq.heappush(self._queue, (due, next(self._sequence), kind, key))

    def _unschedule(self, kind: str, key: int) -> None:
        self._due.pop((kind, key), None)

    def _order_falls_due(self, order: StoredOrder) -> None:
        if order.status == "pending":
            self.set_status(order.id, "issued")
        elif order.status == "reissue_pending":
            self._complete_reissue(order)

    # ------------------------------------------------------------------ orders

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
        csr: str | None = None,
        signature_hash: str = "sha256",
        server_platform_id: int | None = None,
    ) -> int:
        """Add an order in ``status``; a ``pending`` one is issued ``issue_after``
        lifecycle seconds later (a ``reissue_pending`` one gets its new certificate then)."""
        order_id = self._next_order_id
        self._next_order_id += 1
        created = (created or self.now()).astimezone(UTC).replace(microsecond=0)
        name, product_type, price = PRODUCTS.get(product, (product, "ssl_certificate", 100))
        org_id, org_name = organization or DEFAULT_ORGANIZATION
        names = [common_name] if dns_names is None else list(dns_names)
        certificate: JSONDict = {
            "common_name": common_name,
            "dns_names": names,
            "signature_hash": signature_hash,
        }
        if csr is not None:
            certificate["csr"] = csr
        if server_platform_id is not None:
            certificate["server_platform"] = {"id": server_platform_id}
        info: JSONDict = {
            "id": order_id,
            "certificate": certificate,
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
        self.orders[order_id] = order
        if status in ("issued", "reissue_pending"):
            issued = min(created + timedelta(minutes=1), max(created, self.now()))
            self._issue(order, issued)
            order.status_last_updated = issued
        elif status in CERTIFICATE_EXISTS:
            self.create_certificate(order)
        if status in ("pending", "reissue_pending"):
            self._schedule("order", order_id)
        if extra:
            info.update(copy.deepcopy(dict(extra)))
        return order_id

    def new_order(
        self,
        product: str,
        *,
        common_name: str,
        dns_names: list[str] | None = None,
        csr: str | None = None,
        signature_hash: str = "sha256",
        server_platform_id: int | None = None,
        organization: tuple[int, str] | None = None,
        validity_years: int = 1,
        skip_approval: bool = False,
        needs_approval: bool = False,
        comments: str | None = None,
        subaccount: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> NewOrder:
        """An order placed through the API: what an order route calls once it has checked
        the request. The order is ``pending`` and is issued ``issue_after`` lifecycle
        seconds later; its approval request (a ``new_request``) is ``approved`` with
        ``skip_approval`` (the certificate then has its id at once, as DigiCert returns
        it), else ``pending``. With ``needs_approval`` the order waits in
        ``needs_approval`` until that request is approved (rejected: ``rejected``).
        """
        order_id = self.add_order(
            "needs_approval" if needs_approval and not skip_approval else "pending",
            product=product,
            common_name=common_name,
            subaccount=subaccount,
            dns_names=[common_name] if dns_names is None else dns_names,
            organization=organization,
            validity_years=validity_years,
            extra=extra,
            csr=csr,
            signature_hash=signature_hash,
            server_platform_id=server_platform_id,
        )
        order = self.orders[order_id]
        request = self.new_request(
            "new_request",
            order,
            status="approved" if skip_approval else "pending",
            comments=comments,
        )
        certificate_id = self.create_certificate(order) if skip_approval else None
        return NewOrder(order_id, request.id, request.status, certificate_id)

    def set_status(self, order_id: int, status: str, at: datetime | None = None) -> None:
        """Change an order's status and record the change. ``pending`` and
        ``reissue_pending`` (re)start the wait for issuance on the lifecycle clock."""
        order = self.orders[order_id]
        when = (at or self.now()).astimezone(UTC).replace(microsecond=0)
        order.info["status"] = status
        if status == "issued" and "date_issued" not in order.info:
            self._issue(order, when)
        elif status in CERTIFICATE_EXISTS:
            self.create_certificate(order)
        order.status_last_updated = when
        if status in ("pending", "reissue_pending"):
            self._schedule("order", order_id)
        else:
            self._unschedule("order", order_id)
        if status == "issued":
            self._approve_open_requests(order, ("new_request", "reissue"), when)

    def create_certificate(self, order: StoredOrder) -> int:
        """Give the order's certificate its id (once), as DigiCert does when it approves
        or issues one; returns the id."""
        certificate = order.info.setdefault("certificate", {})
        if "id" not in certificate:
            new_id = self._new_certificate_id()
            # The id leads the object, as in DigiCert's answers.
            order.info["certificate"] = {"id": new_id, **certificate}
            self._register(
                StoredCertificate(
                    id=new_id,
                    order_id=order.id,
                    kind="original",
                    common_name=str(certificate.get("common_name", "")),
                    dns_names=list(certificate.get("dns_names") or []),
                    signature_hash=str(certificate.get("signature_hash") or "sha256"),
                    csr=certificate.get("csr"),
                    date_created=_parse_iso(order.info.get("date_created")) or self.now(),
                ),
                order,
            )
        certificate_id: int = order.info["certificate"]["id"]
        return certificate_id

    def _new_certificate_id(self) -> int:
        certificate_id = self._next_certificate_id
        self._next_certificate_id += 1
        return certificate_id

    def _register(self, certificate: StoredCertificate, order: StoredOrder) -> None:
        self.certificates[certificate.id] = certificate
        order.certificate_ids.append(certificate.id)

    def _issue(self, order: StoredOrder, when: datetime) -> None:
        """Issue the order's current certificate at ``when`` and show it in order info."""
        info = order.info
        years = info.get("validity_years", 1)
        years = years if whole_number(years) and years > 0 else 1
        start = when.date()
        certificate_id = self.create_certificate(order)
        stored = self.certificates.get(certificate_id)
        if stored is None:  # a test replaced the certificate object: register it again
            stored = StoredCertificate(
                id=certificate_id,
                order_id=order.id,
                kind="original",
                common_name=str(info["certificate"].get("common_name", "")),
                dns_names=list(info["certificate"].get("dns_names") or []),
            )
            self._register(stored, order)
        order_till = start + timedelta(days=365 * years)
        self._issue_certificate(stored, when, order_till)
        self._show(order, stored)
        info["date_issued"] = iso(when)
        info["order_valid_from"] = start.isoformat()
        info["order_valid_till"] = order_till.isoformat()

    def _show(self, order: StoredOrder, stored: StoredCertificate) -> None:
        """Make ``stored`` the certificate order info shows (its id leads the object)."""
        shown = {key: value for key, value in order.info.get("certificate", {}).items()}
        shown.pop("id", None)
        shown.update(
            common_name=stored.common_name,
            dns_names=list(stored.dns_names),
            signature_hash=stored.signature_hash,
        )
        if stored.csr is not None:
            shown["csr"] = stored.csr
        if stored.server_platform_id is not None:
            shown["server_platform"] = {"id": stored.server_platform_id}
        if stored.status == "issued":
            assert stored.valid_till is not None and stored.valid_from is not None
            shown.update(
                thumbprint=stored.thumbprint,
                serial_number=stored.serial_number,
                valid_from=stored.valid_from.isoformat(),
                valid_till=stored.valid_till.isoformat(),
                days_remaining=(stored.valid_till - self.now().date()).days,
            )
        order.info["certificate"] = {"id": stored.id, **shown}

    def _issue_certificate(
        self, stored: StoredCertificate, when: datetime, order_till: date | None = None
    ) -> None:
        """Give ``stored`` its serial number, validity, thumbprint and chain: issued."""
        order = self.orders.get(stored.order_id)
        if order_till is None and order is not None:
            order_till = _parse_date(order.info.get("order_valid_till"))
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
            organization = None
            if order is not None and isinstance(order.info.get("organization"), dict):
                organization = order.info["organization"].get("name")
            leaf = authority.issue(
                serial_number=serial,
                common_name=stored.common_name or "fake.invalid",
                dns_names=stored.dns_names,
                not_before=when,
                not_after=datetime(till.year, till.month, till.day, 23, 59, 59, tzinfo=UTC),
                csr=stored.csr,
                organization=organization if isinstance(organization, str) else None,
            )
            stored.pem, stored.chain = leaf.pem, leaf.chain
            stored.thumbprint, stored.key_size = leaf.thumbprint, leaf.key_size
        self.serials[stored.serial_number] = stored.id

    def authority(self) -> FakeAuthority | None:
        """The fake's CA (made on first use), or None without ``cryptography``."""
        if self._authority is None and _x509.available():
            self._authority = _x509.FakeAuthority(
                self.intermediates, cross_signed=self.cross_signed
            )
        return self._authority

    # ------------------------------------------------------------------ reissues, duplicates

    def reissue(
        self,
        order: StoredOrder,
        *,
        common_name: str,
        dns_names: list[str],
        csr: str | None,
        signature_hash: str,
        server_platform_id: int | None = None,
        skip_approval: bool = False,
        comments: str | None = None,
    ) -> StoredRequest:
        """Start a reissue of an issued order: a new certificate, ``pending`` until
        ``issue_after`` lifecycle seconds pass; the order is ``reissue_pending`` until then
        and keeps showing its current certificate."""
        stored = StoredCertificate(
            id=self._new_certificate_id(),
            order_id=order.id,
            kind="reissue",
            common_name=common_name,
            dns_names=list(dns_names),
            signature_hash=signature_hash,
            csr=csr,
            server_platform_id=server_platform_id,
            date_created=self.now(),
        )
        self._register(stored, order)
        self.set_status(order.id, "reissue_pending")
        return self.new_request(
            "reissue",
            order,
            status="approved" if skip_approval else "pending",
            comments=comments,
            certificate_id=stored.id,
        )

    def pending_reissue(self, order: StoredOrder) -> StoredCertificate | None:
        """The reissued certificate an order waits for, if any."""
        for certificate_id in reversed(order.certificate_ids):
            stored = self.certificates[certificate_id]
            if stored.kind == "reissue" and stored.status == "pending":
                return stored
        return None

    def _complete_reissue(self, order: StoredOrder) -> None:
        stored = self.pending_reissue(order)
        if stored is None:  # a test set reissue_pending itself: a new key for the same names
            current = order.info.get("certificate", {})
            stored = StoredCertificate(
                id=self._new_certificate_id(),
                order_id=order.id,
                kind="reissue",
                common_name=str(current.get("common_name", "")),
                dns_names=list(current.get("dns_names") or []),
                signature_hash=str(current.get("signature_hash") or "sha256"),
                date_created=self.now(),
            )
            self._register(stored, order)
        when = self.now()
        self._issue_certificate(stored, when)
        self._show(order, stored)
        order.info["date_issued"] = iso(when)
        self.set_status(order.id, "issued", when)

    def duplicate(
        self,
        order: StoredOrder,
        *,
        common_name: str,
        dns_names: list[str],
        csr: str | None,
        signature_hash: str,
        server_platform_id: int | None = None,
        comments: str | None = None,
    ) -> StoredRequest:
        """Add a duplicate certificate to an issued order, ``pending`` until
        ``issue_after`` lifecycle seconds pass; the order's status does not change."""
        stored = StoredCertificate(
            id=self._new_certificate_id(),
            order_id=order.id,
            kind="duplicate",
            common_name=common_name,
            dns_names=list(dns_names),
            signature_hash=signature_hash,
            csr=csr,
            server_platform_id=server_platform_id,
            date_created=self.now(),
        )
        self._register(stored, order)
        self._schedule("certificate", stored.id)
        return self.new_request(
            "duplicate", order, status="pending", comments=comments, certificate_id=stored.id
        )

    def certificates_of(self, order: StoredOrder, kind: str) -> list[StoredCertificate]:
        """The order's certificates of one ``kind``, oldest first."""
        return [
            self.certificates[certificate_id]
            for certificate_id in order.certificate_ids
            if self.certificates[certificate_id].kind == kind
        ]

    def find_certificate(self, identifier: str) -> StoredCertificate | None:
        """A certificate by its id (digits) or its serial number (hex, any case)."""
        if identifier.isdigit() and len(identifier) <= 20:  # longer: no id, maybe a serial
            found = self.certificates.get(int(identifier))
            if found is not None:
                return found
        certificate_id = self.serials.get(identifier.upper())
        return None if certificate_id is None else self.certificates.get(certificate_id)

    # ------------------------------------------------------------------ revocation

    def request_revocation(
        self,
        order: StoredOrder,
        *,
        certificate: StoredCertificate | None = None,
        comments: str | None = None,
        revocation_reason: str | None = None,
        skip_approval: bool = False,
    ) -> StoredRequest | None:
        """Revoke at once (``skip_approval``: returns None) or open a ``revoke`` request
        that revokes when approved."""
        if skip_approval:
            if certificate is None:
                self.revoke_order(order)
            else:
                self.revoke_certificate(certificate)
            return None
        return self.new_request(
            "revoke",
            order,
            comments=comments,
            certificate_id=None if certificate is None else certificate.id,
            revocation_reason=revocation_reason,
        )

    def revoke_order(self, order: StoredOrder) -> None:
        """Revoke every certificate of the order, and the order."""
        for certificate_id in order.certificate_ids:
            stored = self.certificates[certificate_id]
            if stored.status in _LIVE_CERTIFICATE:
                stored.status = "revoked"
            self._unschedule("certificate", certificate_id)
        self.set_status(order.id, "revoked")

    def revoke_certificate(self, stored: StoredCertificate) -> None:
        """Revoke one certificate; its order keeps its status (DigiCert's default, even
        for an order's only certificate)."""
        stored.status = "revoked"
        self._unschedule("certificate", stored.id)

    # ------------------------------------------------------------------ approval requests

    def new_request(
        self,
        kind: str,
        order: StoredOrder,
        *,
        status: str = "pending",
        comments: str | None = None,
        certificate_id: int | None = None,
        revocation_reason: str | None = None,
    ) -> StoredRequest:
        """Open an approval request of type ``kind`` for ``order``."""
        request = StoredRequest(
            id=self.new_request_id(),
            type=kind,
            order_id=order.id,
            date=self.now(),
            status=status,
            comments=comments,
            certificate_id=certificate_id,
            revocation_reason=revocation_reason,
        )
        if status not in OPEN_REQUEST:
            request.date_processed = request.date
        self.requests[request.id] = request
        return request

    def decide(self, request: StoredRequest, status: str, comment: str | None = None) -> None:
        """Record a decision on an open request and carry it out: an approved revocation
        revokes; a rejected new order, reissue or duplicate that was not issued yet is
        dropped (the order ``rejected``, or back to ``issued`` with its certificate)."""
        request.status = status
        request.processor_comment = comment
        if status in OPEN_REQUEST:
            return
        request.date_processed = self.now()
        order = self.orders.get(request.order_id)
        if order is None:
            return
        target = self.certificates.get(request.certificate_id or 0)
        if status == "approved":
            if request.type == "revoke":
                if target is None:
                    self.revoke_order(order)
                else:
                    self.revoke_certificate(target)
            elif request.type == "new_request" and order.status == "needs_approval":
                self.set_status(order.id, "pending")
        elif status == "rejected":
            if request.type == "new_request" and order.status in ("pending", "needs_approval"):
                self.set_status(order.id, "rejected")
            elif (
                request.type in ("reissue", "duplicate")
                and target is not None
                and target.status == "pending"
            ):
                target.status = "rejected"
                self._unschedule("certificate", target.id)
                if request.type == "reissue" and order.status == "reissue_pending":
                    self.set_status(order.id, "issued")

    def _approve_open_requests(
        self, order: StoredOrder, kinds: tuple[str, ...], when: datetime
    ) -> None:
        # DigiCert issues only what was approved: issuance settles the order's requests.
        for request in self.requests.values():
            if (
                request.order_id == order.id
                and request.type in kinds
                and request.status in OPEN_REQUEST
            ):
                request.status = "approved"
                request.date_processed = when

    def _approve_requests_for(self, certificate_id: int, when: datetime) -> None:
        # A duplicate issued settles the request that asked for it.
        for request in self.requests.values():
            if (
                request.certificate_id == certificate_id
                and request.status in OPEN_REQUEST
                and request.type != "revoke"
            ):
                request.status = "approved"
                request.date_processed = when

    # ------------------------------------------------------------------ the rest

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


def _parse_iso(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        return None


def _parse_date(text: Any) -> date | None:
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
