"""Approval requests: list them, view one, decide one.

A decision is carried out at once (see ``Lifecycle.decide``): approving a revocation
revokes; rejecting a new order, reissue or duplicate not issued yet drops it. Only an
open request (``submitted`` or ``pending``) can be decided.
"""

from __future__ import annotations

import copy

from ._routing import (
    Answer,
    Call,
    Rejected,
    Routes,
    found,
    invalid,
    page_window,
    required,
)
from ._state import NOTE_USER, OPEN_REQUEST, FakeAccount, JSONDict, StoredRequest, iso

REQUEST_STATUSES = ("submitted", "pending", "approved", "rejected")
_SORT_KEYS = ("id", "date", "status", "type")

routes = Routes()


@routes.get("/request")
def list_requests(store: FakeAccount, call: Call) -> Answer:
    offset, limit, problems = page_window(call)
    sort = call.query.get("sort", "id")
    key = sort.removeprefix("-")
    if key not in _SORT_KEYS:
        problems.append(invalid("sort", f"Sortable fields: {', '.join(_SORT_KEYS)}."))
    status = call.query.get("filters[status]")
    if status is not None and status not in REQUEST_STATUSES:
        problems.append(invalid("filters[status]", f"Allowed: {', '.join(REQUEST_STATUSES)}."))
    if problems:
        raise Rejected(400, *problems)
    selected = [r for r in store.requests.values() if status is None or r.status == status]
    # each sort key holds one type (ids ints, dates datetimes), so values compare as such
    selected.sort(key=lambda r: (getattr(r, key), r.id), reverse=sort.startswith("-"))
    items = [request_view(store, r) for r in selected[offset : offset + limit]]
    listing: JSONDict = {"page": {"total": len(selected), "limit": limit, "offset": offset}}
    if items:
        listing = {"requests": items, **listing}
    return 200, listing


@routes.get(r"/request/{request_id:\d+}")
def request_info(store: FakeAccount, call: Call) -> Answer:
    return 200, request_view(store, _find_request(store, call), full=True)


@routes.put(r"/request/{request_id:\d+}/status")
def update_request_status(store: FakeAccount, call: Call) -> Answer:
    request = _find_request(store, call)
    data = call.json_object()
    status = data.get("status")
    comment = data.get("processor_comment")
    problems: list[tuple[str, str]] = []
    if status is None or status == "":
        problems.append(required("status"))
    elif status not in REQUEST_STATUSES:
        problems.append(invalid("status", f"Allowed: {', '.join(REQUEST_STATUSES)}."))
    if comment is not None and not isinstance(comment, str):
        problems.append(invalid("processor_comment", "processor_comment must be a string."))
    if problems:
        raise Rejected(400, *problems)
    if request.status not in OPEN_REQUEST:
        raise Rejected(
            400,
            ("invalid_status", f"The request is {request.status}; it can no longer be changed."),
        )
    store.lifecycle.decide(request, str(status), comment)
    return 204, None


def request_view(store: FakeAccount, request: StoredRequest, *, full: bool = False) -> JSONDict:
    """A request as ``GET /request/{id}`` (``full``) or the listing shows it."""
    view: JSONDict = {
        "id": request.id,
        "date": iso(request.date),
        "type": request.type,
        "status": request.status,
    }
    if request.date_processed is not None and request.status not in OPEN_REQUEST:
        view["date_processed"] = iso(request.date_processed)
    view["requester"] = dict(NOTE_USER)
    if full and request.status not in OPEN_REQUEST:
        view["processor"] = dict(NOTE_USER)
    order = store.orders.get(request.order_id)
    if order is None:
        view["order"] = {"id": request.order_id}
    elif full:
        view["order"] = copy.deepcopy(order.info)
    else:
        info = order.info
        summary: JSONDict = {
            "id": order.id,
            "certificate": {"common_name": info.get("certificate", {}).get("common_name")},
        }
        organization = info.get("organization")
        if isinstance(organization, dict) and organization:
            summary["organization"] = {
                "id": organization.get("id"),
                "name": organization.get("name"),
            }
        summary["product"] = dict(info.get("product", {}))
        view["order"] = summary
    if request.comments is not None:
        view["comments"] = request.comments
    if request.processor_comment is not None:
        view["processor_comment"] = request.processor_comment
    return view


def revoke_answer(request: StoredRequest) -> JSONDict:
    """The 201 answer of a revocation that waits for approval: the request opened."""
    answer: JSONDict = {
        "id": request.id,
        "date": iso(request.date),
        "type": request.type,
        "status": request.status,
        "requester": dict(NOTE_USER),
    }
    if request.comments is not None:
        answer["comments"] = request.comments
    return answer


def _find_request(store: FakeAccount, call: Call) -> StoredRequest:
    request_id = int(call.params["request_id"])
    return found(store.requests.get(request_id), "request", request_id)
