"""Orders: info, the listing, status changes, cancellation, and new orders of every product."""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ._downloads import chain_items
from ._products import CATALOG, FakeProduct
from ._routing import (
    Answer,
    Call,
    Rejected,
    Routes,
    find_order,
    invalid,
    non_empty_text,
    not_found,
    page_window,
    required,
)
from ._state import MOUNTAIN, JSONDict, NewOrder, OrderStore, StoredOrder, whole_number

CANCELABLE = frozenset({"pending", "waiting_pickup"})
DOCUMENT_SIGNING_PRODUCTS = ("document_signing_org_1", "document_signing_org_2")

_SORT_KEYS = ("id", "date_created", "status", "common_name")
_FILTER = re.compile(r"filters\[([A-Za-z0-9_]+)\]")
_LOOSE_DATETIME = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[ T+](\d{1,2}):(\d{1,2}):(\d{1,2})",
)

routes = Routes()


@routes.get("/order/certificate")
def list_account_orders(store: OrderStore, call: Call) -> Answer:
    return list_orders(store, call, view=lambda order: copy.deepcopy(order.info))


@routes.get("/order/certificate/status-changes")
def status_changes(store: OrderStore, call: Call) -> Answer:
    name = "filters[status_last_updated]"
    raw = call.query.get(name)
    if raw is None or raw.strip() == "":
        raise Rejected(400, required(name))
    ends = raw.split("...")
    if len(ends) != 2:
        raise Rejected(400, invalid(name, "Expected FROM...TO."))
    start, end = parse_status_time(ends[0]), parse_status_time(ends[1])
    if start is None or end is None or start > end:
        raise Rejected(400, invalid(name, "Expected FROM...TO as YYYY-M-D+H:M:S."))
    changed = [
        {"order_id": order.id, "certificate_id": order.certificate_id, "status": order.status}
        if order.certificate_id is not None
        else {"order_id": order.id, "status": order.status}
        for order in store.orders.values()
        if start <= order.status_last_updated <= end
    ]
    return 200, {"orders": changed} if changed else {}


@routes.get(r"/order/certificate/{order_id:\d+}")
def order_info(store: OrderStore, call: Call) -> Answer:
    return 200, copy.deepcopy(find_order(store, call).info)


@routes.put(r"/order/certificate/{order_id:\d+}/status")
def update_status(store: OrderStore, call: Call) -> Answer:
    """Cancellation, the one status change DigiCert lets a caller make."""
    order = find_order(store, call)
    data = call.json_object()
    problems: list[tuple[str, str]] = []
    status = data.get("status")
    note = data.get("note")
    if status is None or status == "":
        problems.append(required("status"))
    elif status not in ("CANCELED", "canceled"):
        problems.append(invalid("status", "Allowed value: CANCELED."))
    if note is None or note == "":
        problems.append(required("note"))
    elif not non_empty_text(note):
        problems.append(invalid("note", "note must be a non-empty string."))
    if problems:
        raise Rejected(400, *problems)
    if order.status not in CANCELABLE:
        raise Rejected(
            400,
            (
                "invalid_status",
                f"The order's status is {order.status}; only pending or waiting_pickup"
                " orders can be canceled.",
            ),
        )
    store.set_status(order.id, "canceled")
    store.add_note(order, str(note))
    return 204, None


@routes.post("/order/certificate/{product}")
def create_order(store: OrderStore, call: Call) -> Answer:
    """``POST /order/certificate/{product}`` for every product of the catalog: checked
    as DigiCert checks it (a 400 with every problem found), then a ``pending`` order."""
    product = CATALOG.get(call.params["product"])
    if product is None:
        raise not_found("product", call.params["product"])
    if product.family == "document_signing":
        return order_document_signing(store, call)
    data = call.json_object()
    problems, validity = check_certificate_order(product, data, store)
    if problems:
        raise Rejected(400, *problems)
    return 201, _place_order(store, product, data, validity)


def order_document_signing(store: OrderStore, call: Call) -> Answer:
    product = call.params["product"]
    if product not in DOCUMENT_SIGNING_PRODUCTS:
        raise not_found("product", product)
    data = call.json_object()
    problems = _check_document_signing(data)
    if problems:
        raise Rejected(400, *problems)

    (org_id, org_name), new_organization = _organization(store, data["organization"])
    subject = data["subject"]
    use_org = data.get("use_org_as_common_name", True) is not False
    common_name = org_name if use_org else str(subject["name"])
    placed = store.new_order(
        product,
        common_name=common_name,
        dns_names=[],
        organization=(org_id, org_name),
        validity_years=data["validity_years"],
        skip_approval=data.get("skip_approval") is True,
        comments=data.get("comments"),
    )
    return 201, _created(store, placed, new_organization)


@dataclass(frozen=True)
class _Validity:
    """What an accepted order's validity came to: the order's days, the certificate's
    (shortened to the cap as DigiCert shortens it), and the years to bill."""

    order_days: int
    certificate_days: int
    years: int


_VALIDITY_UNITS = (
    ("custom_expiration_date", "custom_expiration_date"),
    ("days", "validity_days"),
    ("years", "validity_years"),
)


def _validity_span(
    values: JSONDict, prefix: str, today: date, problems: list[tuple[str, str]]
) -> tuple[str, int] | None:
    """``(field, days)`` of the unit that decides (DigiCert's precedence:
    ``custom_expiration_date``, days, years), or None when none is given."""
    for unit, top_level in _VALIDITY_UNITS:
        key = f"{prefix}{unit}" if prefix else top_level
        value = values.get(unit if prefix else top_level)
        if value is None:
            continue
        if unit == "custom_expiration_date":
            try:
                end = date.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                end = None
            if end is None or end <= today:
                problems.append(invalid(key, "Expected a future date as YYYY-MM-DD."))
                return None
            return key, (end - today).days
        if not whole_number(value) or value < 1:
            problems.append(invalid(key, "Expected a whole number from 1."))
            return None
        if unit == "days":
            return key, value
        return key, (_years_later(today, value) - today).days
    return None


def _years_later(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February
        return today.replace(year=today.year + years, day=28)


def check_certificate_order(
    product: FakeProduct, data: JSONDict, store: OrderStore
) -> tuple[list[tuple[str, str]], _Validity | None]:
    """DigiCert's checks of an order for ``product``: every problem found, in field
    order, with DigiCert's codes (``required_param:<field>``, ``invalid_value:<field>``,
    ``csr_invalid_cannot_parse``, ``cert_validity_exceeds_order_validity``)."""
    problems: list[tuple[str, str]] = []
    certificate = data.get("certificate")
    if not isinstance(certificate, dict):
        problems.append(required("certificate"))
        certificate = {}
    else:
        _check_certificate(product, certificate, problems)
    if product.tls and data.get("dcv_method") is not None:
        methods = _DV_DCV_METHODS if product.family == "dv" else _DCV_METHODS
        if data["dcv_method"] not in methods:
            problems.append(invalid("dcv_method", f"Allowed: {', '.join(sorted(methods))}."))
    organization = data.get("organization")
    if organization is None:
        if product.family in ("ov_ev", "private", "code_signing"):
            problems.append(required("organization"))
    elif not isinstance(organization, dict):
        problems.append(invalid("organization"))
    elif "id" in organization:
        if not whole_number(organization["id"]):
            problems.append(invalid("organization.id"))
    elif not non_empty_text(organization.get("name")):
        problems.append(required("organization.name"))
    if (
        product.family == "code_signing"
        and data.get("cs_provisioning_method") == "email"
        and not non_empty_text(certificate.get("csr"))
    ):
        problems.append(required("certificate.csr"))
    renewal = data.get("renewal_of_order_id")
    if renewal is not None and not (whole_number(renewal) and renewal in store.orders):
        problems.append(invalid("renewal_of_order_id", "Expected the id of an order."))
    payment_method = data.get("payment_method")
    if payment_method is not None and payment_method not in ("balance", "card", "profile"):
        problems.append(invalid("payment_method", "Allowed: balance, card, profile."))
    validity = _check_validity(product, data, certificate, store.now().date(), problems)
    return problems, validity


_DCV_METHODS = frozenset(
    {"email", "dns-txt-token", "dns-cname-token", "http-token", "http-token-dynamic"}
)
_DV_DCV_METHODS = _DCV_METHODS - {"http-token-dynamic"}
_CSR_BLOCK = re.compile(
    r"-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]+)"
    r"-----END (?:NEW )?CERTIFICATE REQUEST-----"
)


def _parses_as_csr(text: str) -> bool:
    """A PEM certificate request whose DER is one SEQUENCE (the signature unchecked)."""
    match = _CSR_BLOCK.fullmatch(text.strip())
    if match is None:
        return False
    try:
        der = base64.b64decode("".join(match.group(1).split()), validate=True)
    except ValueError:
        return False
    if len(der) < 2 or der[0] != 0x30:
        return False
    size = der[1]
    offset = 2
    if size & 0x80:
        count = size & 0x7F
        if not 1 <= count <= 4:
            return False
        size = int.from_bytes(der[2 : 2 + count], "big")
        offset += count
    return offset + size == len(der)


def _check_certificate(
    product: FakeProduct, certificate: JSONDict, problems: list[tuple[str, str]]
) -> None:
    common_name = certificate.get("common_name")
    if product.name_id == "class1_smime":
        if common_name is not None:
            problems.append(invalid("certificate.common_name", "Set from the first email."))
    elif product.family in ("ov_ev", "dv", "private", "client") and not non_empty_text(common_name):
        problems.append(required("certificate.common_name"))
    dns_names = certificate.get("dns_names")
    names = [common_name] if non_empty_text(common_name) else []
    if dns_names is not None:
        if not isinstance(dns_names, list) or not all(non_empty_text(n) for n in dns_names):
            problems.append(invalid("certificate.dns_names", "Expected a list of names."))
        else:
            folded = [name.lower() for name in dns_names]
            if len(set(folded)) != len(folded):
                problems.append(invalid("certificate.dns_names", "Duplicate names."))
            names += dns_names
    if product.tls and not product.wildcard and any("*" in str(name) for name in names):
        field = "certificate.common_name" if "*" in str(common_name) else "certificate.dns_names"
        problems.append(invalid(field, f"{product.name} does not allow wildcard domains."))
    if product.family == "client" and not certificate.get("emails"):
        problems.append(required("certificate.emails"))
    csr = certificate.get("csr")
    if csr is None or csr == "":
        if product.csr_required:
            problems.append(required("certificate.csr"))
    elif not (isinstance(csr, str) and _parses_as_csr(csr)):
        problems.append(("csr_invalid_cannot_parse", "The CSR could not be parsed."))
    signature_hash = certificate.get("signature_hash")
    if signature_hash is None:
        problems.append(required("certificate.signature_hash"))
    elif signature_hash not in product.hashes:
        problems.append(
            invalid("certificate.signature_hash", f"Allowed: {', '.join(product.hashes)}.")
        )


def _check_validity(
    product: FakeProduct,
    data: JSONDict,
    certificate: JSONDict,
    today: date,
    problems: list[tuple[str, str]],
) -> _Validity | None:
    order_validity = data.get("order_validity")
    if order_validity is not None:
        if not isinstance(order_validity, dict):
            problems.append(invalid("order_validity"))
            return None
        span = _validity_span(order_validity, "order_validity.", today, problems)
    else:
        span = _validity_span(data, "", today, problems)
    if span is None:
        if not any(key.startswith("invalid_value:") for key, _ in problems):
            problems.append(required("validity_years"))
        return None
    field, order_days = span
    # Since 2023-10-31 DigiCert refuses public TLS orders longer than 3 years, naming the
    # unit that was used (End of 4- to 6-year Multi-year Plans).
    longest = max(product.order_validity_years)
    if order_days > (_years_later(today, longest) - today).days:
        unit = dict(_VALIDITY_UNITS).get(field.removeprefix("order_validity."), field)
        problems.append((f"invalid_value:{unit}", f"{unit} contains an invalid value."))
        return None
    certificate_days = order_days
    cert_validity = certificate.get("cert_validity")
    if isinstance(cert_validity, dict):
        cert_span = _validity_span(cert_validity, "certificate.cert_validity.", today, problems)
        if cert_span is None:
            return None
        if cert_span[1] > order_days:
            problems.append(
                (
                    "cert_validity_exceeds_order_validity",
                    "The validity period of the certificate cannot exceed the validity"
                    " period of the order.",
                )
            )
            return None
        certificate_days = cert_span[1]
    cap = (_years_later(today, max(product.validity_years)) - today).days
    if product.public_tls:
        cap = min(cap, _tls_cap(today))
    # Billed in whole years: those asked for, else enough to cover the days.
    years = -(-order_days // 366)
    if field.endswith("years"):
        source: JSONDict = order_validity if isinstance(order_validity, dict) else data
        asked: Any = source.get("years" if source is order_validity else "validity_years")
        if whole_number(asked):
            years = asked
    return _Validity(order_days, min(certificate_days, cap), years)


def _tls_cap(today: date) -> int:
    """The CA/Browser Forum's longest public TLS validity on ``today``, in days.

    Written again rather than imported from the client's checks: the fake stands in for
    DigiCert, and a test of those checks against it must not pass by construction."""
    for start, days in (
        (date(2029, 3, 15), 47),
        (date(2027, 3, 15), 100),
        (date(2026, 3, 15), 200),
    ):
        if today >= start:
            return days
    return 398


def _place_order(
    store: OrderStore, product: FakeProduct, data: JSONDict, validity: _Validity | None
) -> JSONDict:
    certificate = data["certificate"]
    organization = data.get("organization")
    new_organization: int | None = None
    org: tuple[int, str] | None = None
    if isinstance(organization, dict):
        org, new_organization = _organization(store, organization)
    common_name = certificate.get("common_name") or (certificate.get("emails") or [""])[0]
    dns_names = list(certificate.get("dns_names") or [])
    extra: JSONDict = {
        "product": {"name_id": product.name_id, "name": product.name, "type": product.group_name}
    }
    if organization is None and product.family == "dv":
        extra["organization"] = []  # DigiCert's DV orders: PHP's empty array
    if data.get("renewal_of_order_id") is not None:
        extra["is_renewal"] = True
    years = validity.years if validity is not None else 1
    if years > 1:
        extra["is_multi_year_plan"] = "1"
    platform = certificate.get("server_platform")
    placed = store.new_order(
        product.name_id,
        common_name=str(common_name),
        dns_names=[str(common_name), *(n for n in dns_names if n != common_name)],
        csr=certificate.get("csr"),
        signature_hash=certificate.get("signature_hash") or "sha256",
        server_platform_id=platform.get("id") if isinstance(platform, dict) else None,
        organization=org,
        validity_years=years,
        skip_approval=data.get("skip_approval") is True,
        comments=data.get("comments"),
        extra=extra,
    )
    stored = store.orders[placed.order_id]
    stored.cost = product.price * years
    details = stored.info["certificate"]
    for key in ("organization_units", "emails", "server_platform", "ca_cert_id"):
        if certificate.get(key) is not None:
            details[key] = copy.deepcopy(certificate[key])
    if validity is not None:
        # What DigiCert will issue: the request, shortened to the cap.
        details["cert_validity"] = {"days": validity.certificate_days}
    return _created(store, placed, new_organization)


def _organization(store: OrderStore, organization: JSONDict) -> tuple[tuple[int, str], int | None]:
    """The order's organization as (id, name), and its id again when the order made it
    (an organization given by its details rather than its id)."""
    if "id" in organization:
        org_id: int = organization["id"]
        return (org_id, store.organizations.get(org_id, f"Organization {org_id}")), None
    name = str(organization["name"])
    new_organization = store.new_organization(name)
    return (new_organization, name), new_organization


def _created(store: OrderStore, placed: NewOrder, new_organization: int | None) -> JSONDict:
    """DigiCert's answer to an order placed: its id, its request, the certificate's id when
    it was approved at once, and the organization's when the order made one.

    An order approved at once on a fake that issues without waiting (``issue_after=0``)
    is issued at once, and the answer brings the certificate with its chain
    (``certificate_chain``: the certificate, then the CAs up to the root), as DigiCert's
    does for an order it issues immediately."""
    answer: JSONDict = {
        "id": placed.order_id,
        "requests": [{"id": placed.request_id, "status": placed.request_status}],
    }
    if placed.certificate_id is not None:
        answer["certificate_id"] = placed.certificate_id
        if store.issue_after == 0:
            store.set_status(placed.order_id, "issued")
            chain = chain_items(store.certificates[placed.certificate_id], with_leaf=True)
            if chain:
                answer["certificate_chain"] = chain
    if new_organization is not None:
        answer["organization"] = {"id": new_organization}
    return answer


def list_orders(
    store: OrderStore,
    call: Call,
    *,
    view: Callable[[StoredOrder], JSONDict],
    by_subaccount: bool = False,
) -> Answer:
    """One page of orders (``offset``, ``limit``, ``sort``, ``filters[...]``), each shown by
    ``view``; with ``by_subaccount`` only the orders subaccounts placed."""
    query = call.query
    offset, limit, problems = page_window(call)
    sort = query.get("sort", "id")
    descending = sort.startswith("-")
    sort_key = sort[1:] if descending else sort
    if sort_key not in _SORT_KEYS:
        problems.append(invalid("sort", f"Sortable fields: {', '.join(_SORT_KEYS)}."))
    if problems:
        raise Rejected(400, *problems)

    filters: list[tuple[str, str]] = []
    for key, value in query.items():
        match = _FILTER.fullmatch(key)
        if match is not None:
            filters.append((match.group(1), value))

    selected = [
        order
        for order in store.orders.values()
        if (order.subaccount is not None or not by_subaccount)
        and all(_matches(order, name, value) for name, value in filters)
    ]
    selected.sort(key=_sort_function(sort_key), reverse=descending)
    items = [view(order) for order in selected[offset : offset + limit]]
    listing: JSONDict = {"page": {"total": len(selected), "limit": limit, "offset": offset}}
    if items:  # DigiCert leaves the list key out of an empty page
        listing = {"orders": items, **listing}
    return 200, listing


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


def _check_document_signing(data: JSONDict) -> list[tuple[str, str]]:
    """Seed 3's request rules; every problem found, in field order."""
    problems: list[tuple[str, str]] = []
    certificate = data.get("certificate")
    if not isinstance(certificate, dict):
        problems.append(required("certificate"))
        certificate = {}
    else:
        signature_hash = certificate.get("signature_hash")
        if signature_hash is None:
            problems.append(required("certificate.signature_hash"))
        elif signature_hash != "sha256":
            problems.append(invalid("certificate.signature_hash", "Allowed value: sha256."))
        platform = certificate.get("server_platform")
        if platform is not None and not (
            isinstance(platform, dict) and whole_number(platform.get("id"))
        ):
            problems.append(required("certificate.server_platform.id"))
    if data.get("cs_provisioning_method") == "email" and not non_empty_text(certificate.get("csr")):
        problems.append(required("certificate.csr"))

    validity_years = data.get("validity_years")
    if validity_years is None:
        problems.append(required("validity_years"))
    elif not (whole_number(validity_years) and 1 <= validity_years <= 3):
        problems.append(invalid("validity_years", "Allowed values: 1, 2, 3."))

    organization = data.get("organization")
    if not isinstance(organization, dict):
        problems.append(required("organization"))
    elif "id" in organization:
        if not whole_number(organization["id"]):
            problems.append(invalid("organization.id"))
    elif not non_empty_text(organization.get("name")):
        problems.append(required("organization.name"))

    container = data.get("container")
    if container is not None and not (
        isinstance(container, dict) and whole_number(container.get("id"))
    ):
        problems.append(required("container.id"))

    ship_info = data.get("ship_info")
    if ship_info is not None:
        if not isinstance(ship_info, dict):
            problems.append(invalid("ship_info"))
        else:
            for key in ("name", "addr1", "city", "state", "zip", "country", "method"):
                if not non_empty_text(ship_info.get(key)):
                    problems.append(required(f"ship_info.{key}"))
            method = ship_info.get("method")
            if non_empty_text(method) and method not in ("standard", "expedited"):
                problems.append(invalid("ship_info.method", "Allowed: standard, expedited."))

    subject = data.get("subject")
    if not isinstance(subject, dict):
        problems.append(required("subject"))
    else:
        for key in ("name", "job_title", "phone", "email"):
            if not non_empty_text(subject.get(key)):
                problems.append(required(f"subject.{key}"))

    payment_method = data.get("payment_method")
    if payment_method is not None and payment_method not in ("balance", "card", "profile"):
        problems.append(invalid("payment_method", "Allowed: balance, card, profile."))
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
