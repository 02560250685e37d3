"""Orders: info, the listing, status changes, cancellation, and new orders of every product."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ._downloads import chain_items
from ._order_checks import Validity, check_certificate_order, check_document_signing
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
from ._state import MOUNTAIN, FakeAccount, JSONDict, NewOrder, StoredOrder

CANCELABLE = frozenset({"pending", "waiting_pickup"})
DOCUMENT_SIGNING_PRODUCTS = ("document_signing_org_1", "document_signing_org_2")

_SORT_KEYS = ("id", "date_created", "status", "common_name")
_FILTER = re.compile(r"filters\[([A-Za-z0-9_]+)\]")
_LOOSE_DATETIME = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[ T+](\d{1,2}):(\d{1,2}):(\d{1,2})",
)

routes = Routes()


@routes.get("/order/certificate")
def list_account_orders(store: FakeAccount, call: Call) -> Answer:
    return list_orders(store, call, view=lambda order: copy.deepcopy(order.info))


@routes.get("/order/certificate/status-changes")
def status_changes(store: FakeAccount, call: Call) -> Answer:
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
def order_info(store: FakeAccount, call: Call) -> Answer:
    return 200, copy.deepcopy(find_order(store, call).info)


@routes.put(r"/order/certificate/{order_id:\d+}/status")
def update_status(store: FakeAccount, call: Call) -> Answer:
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
    store.lifecycle.set_status(order.id, "canceled")
    store.orders.add_note(order, str(note), store.now())
    return 204, None


@routes.post("/order/certificate/{product}")
def create_order(store: FakeAccount, call: Call) -> Answer:
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


def order_document_signing(store: FakeAccount, call: Call) -> Answer:
    product = call.params["product"]
    if product not in DOCUMENT_SIGNING_PRODUCTS:
        raise not_found("product", product)
    data = call.json_object()
    problems = check_document_signing(data)
    if problems:
        raise Rejected(400, *problems)

    (org_id, org_name), new_organization = _organization(store, data["organization"])
    subject = data["subject"]
    use_org = data.get("use_org_as_common_name", True) is not False
    common_name = org_name if use_org else str(subject["name"])
    placed = store.lifecycle.new_order(
        product,
        common_name=common_name,
        dns_names=[],
        organization=(org_id, org_name),
        validity_years=data["validity_years"],
        skip_approval=data.get("skip_approval") is True,
        comments=data.get("comments"),
    )
    return 201, _created(store, placed, new_organization)


def _place_order(
    store: FakeAccount, product: FakeProduct, data: JSONDict, validity: Validity | None
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
    placed = store.lifecycle.new_order(
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


def _organization(store: FakeAccount, organization: JSONDict) -> tuple[tuple[int, str], int | None]:
    """The order's organization as (id, name), and its id again when the order made it
    (an organization given by its details rather than its id)."""
    if "id" in organization:
        org_id: int = organization["id"]
        return (org_id, store.organizations.get(org_id, f"Organization {org_id}")), None
    name = str(organization["name"])
    new_organization = store.organizations.add(name)
    return (new_organization, name), new_organization


def _created(store: FakeAccount, placed: NewOrder, new_organization: int | None) -> JSONDict:
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
        if store.clock.issue_after == 0:
            store.lifecycle.set_status(placed.order_id, "issued")
            chain = chain_items(store.certificates[placed.certificate_id], with_leaf=True)
            if chain:
                answer["certificate_chain"] = chain
    if new_organization is not None:
        answer["organization"] = {"id": new_organization}
    return answer


def list_orders(
    store: FakeAccount,
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
