"""Orders, notes and the endpoint logic of the fake CertCentral API, without any I/O.

``OrderStore.handle`` takes a method, a path below ``/services/v2``, the query and the raw
body, and returns ``(status, payload)``: the payload is the JSON document to send, or ``None``
for an empty body. Everything here is synchronous, so one request is applied atomically.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

JSONDict = dict[str, Any]
Answer = tuple[int, Any]
"""``(HTTP status, JSON payload or None for an empty body)``."""

UTC = timezone.utc

ORDER_ID_BASE = 100001
CERTIFICATE_ID_BASE = 500001
REQUEST_ID_BASE = 9001
ORGANIZATION_ID_BASE = 700001
MAX_LIMIT = 1000

CANCELABLE = frozenset({"pending", "waiting_pickup"})
SEED_STATUSES = ("pending", "waiting_pickup", "issued", "canceled", "rejected", "expired")
SEED_PRODUCTS = ("ssl_basic", "ssl_plus", "ssl_securesite", "ssl_ev_basic", "ssl_dv_geotrust")
DOCUMENT_SIGNING_PRODUCTS = ("document_signing_org_1", "document_signing_org_2")

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

_SORT_KEYS = ("id", "date_created", "status", "common_name")
_FILTER = re.compile(r"filters\[([A-Za-z0-9_]+)\]")
_LOOSE_DATETIME = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[ T+](\d{1,2}):(\d{1,2}):(\d{1,2})",
)


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


def error(status: int, *errors: tuple[str, str]) -> Answer:
    """A DigiCert-shaped error answer: ``{"errors": [{"code", "message"}, ...]}``."""
    return status, {"errors": [{"code": code, "message": message} for code, message in errors]}


def iso(moment: datetime) -> str:
    """``2018-10-16T20:42:55+00:00``: UTC, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_status_time(text: str) -> datetime | None:
    """Read one end of ``filters[status_last_updated]``.

    ``YYYY-M-D H:M:S`` (the ``+`` DigiCert shows between date and time is an encoded space, but
    a literal ``+`` is accepted too) is US Mountain time, like the real service reads it. ISO
    8601 is accepted as well; with an offset it is taken as given, without one it is Mountain
    time.
    """
    text = text.strip()
    match = _LOOSE_DATETIME.fullmatch(text)
    if match is not None:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        try:
            naive = datetime(year, month, day, hour, minute, second)
        except ValueError:
            return None
        return naive.replace(tzinfo=MOUNTAIN)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=MOUNTAIN)
    return moment


def _required(name: str) -> tuple[str, str]:
    return f"required_param:{name}", f"{name} is required."


def _invalid(name: str, detail: str = "") -> tuple[str, str]:
    return f"invalid_value:{name}", f"Invalid value for {name}.{' ' + detail if detail else ''}"


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_object(body: bytes) -> JSONDict | Answer:
    """The body as a JSON object (an empty body is ``{}``), or a 400 answer."""
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return error(400, ("invalid_json", "The request body is not valid JSON."))
    if not isinstance(data, dict):
        return error(400, ("invalid_json", "The request body must be a JSON object."))
    return data


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
    """The fake account: orders, their notes and status history, and the endpoint logic."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self.orders: dict[int, StoredOrder] = {}
        self._next_order_id = ORDER_ID_BASE
        self._next_certificate_id = CERTIFICATE_ID_BASE
        self._next_note_id = 1
        self._next_request_id = REQUEST_ID_BASE
        self._next_organization_id = ORGANIZATION_ID_BASE
        self._organizations: dict[int, str] = {DEFAULT_ORGANIZATION[0]: DEFAULT_ORGANIZATION[1]}

    def now(self) -> datetime:
        return self._clock().astimezone(UTC).replace(microsecond=0)

    # ------------------------------------------------------------------ state helpers

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
        years = years if _whole_number(years) and years > 0 else 1
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

    def subaccount_view(self, order: StoredOrder) -> JSONDict:
        """The order as ``GET /account/subaccount/order/{id}`` shows it (seed 4)."""
        info = order.info
        view: JSONDict = {"id": order.id}
        certificate = info.get("certificate", {})
        if order.immediate:
            view["certificate"] = copy.deepcopy(certificate)
            organization = info.get("organization")
            if organization is not None:
                view["organization"] = copy.deepcopy(organization)
        view["subaccount"] = dict(order.subaccount or IMMEDIATE_SUBACCOUNT)
        view["product"] = dict(info.get("product", {}))
        view["order_price"] = {"cost": order.cost, "currency": "USD"}
        view["status"] = info.get("status")
        view["number_of_sans"] = len(certificate.get("dns_names", []))
        view["date_created"] = info.get("date_created")
        for key in ("date_issued", "order_valid_from", "order_valid_till"):
            if key in info:
                view[key] = info[key]
        view["validity_years"] = info.get("validity_years")
        return view

    # ------------------------------------------------------------------ endpoints

    def handle(self, method: str, path: str, query: Mapping[str, str], body: bytes) -> Answer:
        """Answer one request; ``path`` is relative to ``/services/v2``."""
        parts = path.strip("/").split("/") if path.strip("/") else []
        if parts[:2] == ["order", "certificate"]:
            rest = parts[2:]
            if not rest:
                if method == "GET":
                    return self._list_orders(query, subaccounts=False)
            elif len(rest) == 1:
                if method == "GET" and rest[0] == "status-changes":
                    return self._status_changes(query)
                if method == "GET" and rest[0].isdigit():
                    return self._order_info(int(rest[0]))
                if method == "POST":
                    return self._order_document_signing(rest[0], body)
            elif len(rest) == 2 and rest[0].isdigit():
                order_id = int(rest[0])
                if rest[1] == "note" and method == "POST":
                    return self._post_note(order_id, body)
                if rest[1] == "note" and method == "GET":
                    return self._list_notes(order_id)
                if rest[1] == "status" and method == "PUT":
                    return self._update_status(order_id, body)
            elif (
                len(rest) == 3
                and rest[0].isdigit()
                and rest[1] == "note"
                and rest[2].isdigit()
                and method == "GET"
            ):
                return self._view_note(int(rest[0]), int(rest[2]))
        elif parts[:3] == ["account", "subaccount", "order"] and method == "GET":
            rest = parts[3:]
            if not rest:
                return self._list_orders(query, subaccounts=True)
            if len(rest) == 1 and rest[0].isdigit():
                return self._subaccount_order_info(int(rest[0]))
        return error(404, ("not_found|route", f"No route matches {method} {path}."))

    def _find(self, order_id: int) -> StoredOrder | Answer:
        order = self.orders.get(order_id)
        if order is None:
            return error(404, ("not_found|order", f"Order {order_id} was not found."))
        return order

    def _post_note(self, order_id: int, body: bytes) -> Answer:
        order = self._find(order_id)
        if not isinstance(order, StoredOrder):
            return order
        data = _parse_object(body)
        if not isinstance(data, dict):
            return data
        text = data.get("text")
        if text is None or text == "":
            return error(400, _required("text"))
        if not _text(text):
            return error(400, _invalid("text", "text must be a non-empty string."))
        return 201, self.add_note(order, text)

    def _list_notes(self, order_id: int) -> Answer:
        order = self._find(order_id)
        if not isinstance(order, StoredOrder):
            return order
        return 200, {"notes": copy.deepcopy(order.notes)}

    def _view_note(self, order_id: int, note_id: int) -> Answer:
        order = self._find(order_id)
        if not isinstance(order, StoredOrder):
            return order
        for note in order.notes:
            if note["id"] == note_id:
                return 200, copy.deepcopy(note)
        return error(404, ("not_found|note", f"Note {note_id} was not found."))

    def _update_status(self, order_id: int, body: bytes) -> Answer:
        order = self._find(order_id)
        if not isinstance(order, StoredOrder):
            return order
        data = _parse_object(body)
        if not isinstance(data, dict):
            return data
        problems: list[tuple[str, str]] = []
        status = data.get("status")
        note = data.get("note")
        if status is None or status == "":
            problems.append(_required("status"))
        elif status not in ("CANCELED", "canceled"):
            problems.append(_invalid("status", "Allowed value: CANCELED."))
        if note is None or note == "":
            problems.append(_required("note"))
        elif not _text(note):
            problems.append(_invalid("note", "note must be a non-empty string."))
        if problems:
            return error(400, *problems)
        if order.status not in CANCELABLE:
            return error(
                400,
                (
                    "invalid_status",
                    f"The order's status is {order.status}; only pending or waiting_pickup"
                    " orders can be canceled.",
                ),
            )
        self.set_status(order.id, "canceled")
        self.add_note(order, str(note))
        return 204, None

    def _order_info(self, order_id: int) -> Answer:
        order = self._find(order_id)
        if not isinstance(order, StoredOrder):
            return order
        return 200, copy.deepcopy(order.info)

    def _subaccount_order_info(self, order_id: int) -> Answer:
        order = self.orders.get(order_id)
        if order is None or order.subaccount is None:
            return error(404, ("not_found|order", f"Order {order_id} was not found."))
        return 200, self.subaccount_view(order)

    def _list_orders(self, query: Mapping[str, str], *, subaccounts: bool) -> Answer:
        problems: list[tuple[str, str]] = []
        offset = limit = 0
        try:
            offset = int(query.get("offset", "0"))
            if offset < 0:
                raise ValueError
        except ValueError:
            problems.append(_invalid("offset", "offset must be a whole number from 0."))
        try:
            limit = int(query.get("limit", str(MAX_LIMIT)))
            if not 1 <= limit <= MAX_LIMIT:
                raise ValueError
        except ValueError:
            problems.append(_invalid("limit", f"limit must be from 1 to {MAX_LIMIT}."))
        sort = query.get("sort", "id")
        descending = sort.startswith("-")
        sort_key = sort[1:] if descending else sort
        if sort_key not in _SORT_KEYS:
            problems.append(_invalid("sort", f"Sortable fields: {', '.join(_SORT_KEYS)}."))
        if problems:
            return error(400, *problems)

        filters: list[tuple[str, str]] = []
        for key, value in query.items():
            match = _FILTER.fullmatch(key)
            if match is not None:
                filters.append((match.group(1), value))

        selected = [
            order
            for order in self.orders.values()
            if (order.subaccount is not None or not subaccounts)
            and all(_matches(order, name, value) for name, value in filters)
        ]
        selected.sort(key=_sort_function(sort_key), reverse=descending)
        page = selected[offset : offset + limit]
        if subaccounts:
            items = [self.subaccount_view(order) for order in page]
        else:
            items = [copy.deepcopy(order.info) for order in page]
        listing: JSONDict = {"page": {"total": len(selected), "limit": limit, "offset": offset}}
        if items:  # DigiCert leaves the list key out of an empty page
            listing = {"orders": items, **listing}
        return 200, listing

    def _status_changes(self, query: Mapping[str, str]) -> Answer:
        name = "filters[status_last_updated]"
        raw = query.get(name)
        if raw is None or raw.strip() == "":
            return error(400, _required(name))
        ends = raw.split("...")
        if len(ends) != 2:
            return error(400, _invalid(name, "Expected FROM...TO."))
        start, end = parse_status_time(ends[0]), parse_status_time(ends[1])
        if start is None or end is None or start > end:
            return error(400, _invalid(name, "Expected FROM...TO as YYYY-M-D+H:M:S."))
        changed = [
            {"order_id": order.id, "certificate_id": order.certificate_id, "status": order.status}
            if order.certificate_id is not None
            else {"order_id": order.id, "status": order.status}
            for order in self.orders.values()
            if start <= order.status_last_updated <= end
        ]
        return 200, {"orders": changed} if changed else {}

    def _order_document_signing(self, product: str, body: bytes) -> Answer:
        if product not in DOCUMENT_SIGNING_PRODUCTS:
            return error(404, ("not_found|product", f"Product {product} was not found."))
        data = _parse_object(body)
        if not isinstance(data, dict):
            return data
        problems = _check_document_signing(data)
        if problems:
            return error(400, *problems)

        organization = data["organization"]
        new_organization: int | None = None
        if "id" in organization:
            org_id: int = organization["id"]
            org_name = self._organizations.get(org_id, f"Organization {org_id}")
        else:
            org_id = new_organization = self._next_organization_id
            self._next_organization_id += 1
            org_name = str(organization["name"])
            self._organizations[org_id] = org_name
        subject = data["subject"]
        use_org = data.get("use_org_as_common_name", True) is not False
        common_name = org_name if use_org else str(subject["name"])
        order_id = self.add_order(
            "pending",
            product=product,
            common_name=common_name,
            dns_names=[],
            organization=(org_id, org_name),
            validity_years=data["validity_years"],
        )
        request_id = self._next_request_id
        self._next_request_id += 1
        approved = data.get("skip_approval") is True
        answer: JSONDict = {
            "id": order_id,
            "requests": [{"id": request_id, "status": "approved" if approved else "pending"}],
        }
        if approved:
            answer["certificate_id"] = self.create_certificate(self.orders[order_id])
        if new_organization is not None:
            answer["organization"] = {"id": new_organization}
        return 201, answer


def _check_document_signing(data: JSONDict) -> list[tuple[str, str]]:
    """Seed 3's request rules; every problem found, in field order."""
    problems: list[tuple[str, str]] = []
    certificate = data.get("certificate")
    if not isinstance(certificate, dict):
        problems.append(_required("certificate"))
        certificate = {}
    else:
        signature_hash = certificate.get("signature_hash")
        if signature_hash is None:
            problems.append(_required("certificate.signature_hash"))
        elif signature_hash != "sha256":
            problems.append(_invalid("certificate.signature_hash", "Allowed value: sha256."))
        platform = certificate.get("server_platform")
        if platform is not None and not (
            isinstance(platform, dict) and _whole_number(platform.get("id"))
        ):
            problems.append(_required("certificate.server_platform.id"))
    if data.get("cs_provisioning_method") == "email" and not _text(certificate.get("csr")):
        problems.append(_required("certificate.csr"))

    validity_years = data.get("validity_years")
    if validity_years is None:
        problems.append(_required("validity_years"))
    elif not (_whole_number(validity_years) and 1 <= validity_years <= 3):
        problems.append(_invalid("validity_years", "Allowed values: 1, 2, 3."))

    organization = data.get("organization")
    if not isinstance(organization, dict):
        problems.append(_required("organization"))
    elif "id" in organization:
        if not _whole_number(organization["id"]):
            problems.append(_invalid("organization.id"))
    elif not _text(organization.get("name")):
        problems.append(_required("organization.name"))

    container = data.get("container")
    if container is not None and not (
        isinstance(container, dict) and _whole_number(container.get("id"))
    ):
        problems.append(_required("container.id"))

    ship_info = data.get("ship_info")
    if ship_info is not None:
        if not isinstance(ship_info, dict):
            problems.append(_invalid("ship_info"))
        else:
            for key in ("name", "addr1", "city", "state", "zip", "country", "method"):
                if not _text(ship_info.get(key)):
                    problems.append(_required(f"ship_info.{key}"))
            method = ship_info.get("method")
            if _text(method) and method not in ("standard", "expedited"):
                problems.append(_invalid("ship_info.method", "Allowed: standard, expedited."))

    subject = data.get("subject")
    if not isinstance(subject, dict):
        problems.append(_required("subject"))
    else:
        for key in ("name", "job_title", "phone", "email"):
            if not _text(subject.get(key)):
                problems.append(_required(f"subject.{key}"))

    payment_method = data.get("payment_method")
    if payment_method is not None and payment_method not in ("balance", "card", "profile"):
        problems.append(_invalid("payment_method", "Allowed: balance, card, profile."))
    return problems


def _matches(order: StoredOrder, name: str, value: str) -> bool:
    info = order.info
    if name == "status":
        return str(info.get("status")) == value
    if name == "common_name":
        return str(info.get("certificate", {}).get("common_name")) == value
    if name == "product_name_id":
        return str(info.get("product", {}).get("name_id")) == value
    if name == "id":
        return str(order.id) == value
    return True  # filters the fake does not know are ignored


def _sort_function(key: str) -> Callable[[StoredOrder], tuple[Any, ...]]:
    if key == "date_created":
        return lambda order: (str(order.info.get("date_created")), order.id)
    if key == "status":
        return lambda order: (order.status, order.id)
    if key == "common_name":
        return lambda order: (str(order.info.get("certificate", {}).get("common_name")), order.id)
    return lambda order: (order.id,)
