"""Orders placed by subaccounts, as the parent account sees them: list and view."""

from __future__ import annotations

import copy

from ._orders import list_orders
from ._routing import Answer, Call, Routes, find_order
from ._state import IMMEDIATE_SUBACCOUNT, FakeAccount, JSONDict, StoredOrder

routes = Routes()


@routes.get("/account/subaccount/order")
def list_subaccount_orders(store: FakeAccount, call: Call) -> Answer:
    return list_orders(store, call, view=subaccount_view, by_subaccount=True)


@routes.get(r"/account/subaccount/order/{order_id:\d+}")
def subaccount_order_info(store: FakeAccount, call: Call) -> Answer:
    return 200, subaccount_view(find_order(store, call, subaccount=True))


def subaccount_view(order: StoredOrder) -> JSONDict:
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
