"""Orders: info, the listing, status changes, cancellation and document-signing orders."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

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
from ._state import MOUNTAIN, JSONDict, OrderStore, StoredOrder, whole_number

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
def order_document_signing(store: OrderStore, call: Call) -> Answer:
    product = call.params["product"]
    if product not in DOCUMENT_SIGNING_PRODUCTS:
        raise not_found("product", product)
    data = call.json_object()
    problems = _check_document_signing(data)
    if problems:
        raise Rejected(400, *problems)

    organization = data["organization"]
    new_organization: int | None = None
    if "id" in organization:
        org_id: int = organization["id"]
        org_name = store.organizations.get(org_id, f"Organization {org_id}")
    else:
        org_name = str(organization["name"])
        org_id = new_organization = store.new_organization(org_name)
    subject = data["subject"]
    use_org = data.get("use_org_as_common_name", True) is not False
    common_name = org_name if use_org else str(subject["name"])
    order_id = store.add_order(
        "pending",
        product=product,
        common_name=common_name,
        dns_names=[],
        organization=(org_id, org_name),
        validity_years=data["validity_years"],
    )
    request_id = store.new_request_id()
    approved = data.get("skip_approval") is True
    answer: JSONDict = {
        "id": order_id,
        "requests": [{"id": request_id, "status": "approved" if approved else "pending"}],
    }
    if approved:
        answer["certificate_id"] = store.create_certificate(store.orders[order_id])
    if new_organization is not None:
        answer["organization"] = {"id": new_organization}
    return 201, answer


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
