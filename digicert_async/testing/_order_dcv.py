"""An order's DCV: its method, its random value, the check, and the DCV emails."""

from __future__ import annotations

from ._routing import Answer, Call, Rejected, Routes, find_order, invalid
from ._state import FakeAccount, JSONDict, StoredOrder, iso
from ._state._domains import (
    ORDER_METHODS,
    TOKEN_LIFETIME,
    TOKEN_METHODS,
    new_token,
    order_names,
)

routes = Routes()

_WAITING = frozenset({"pending", "reissue_pending"})


def _value(store: FakeAccount, order: StoredOrder, *, fresh: bool) -> JSONDict:
    state = store.domains.order_dcv(order.id)
    now = store.now()
    if fresh or state.token is None or (state.expires is not None and state.expires <= now):
        state.token = new_token()
        state.expires = now + TOKEN_LIFETIME
    assert state.expires is not None
    return {"dcv_random_value": state.token, "expiration_date": iso(state.expires)}


@routes.put(r"/order/certificate/{order_id:\d+}/dcv-method")
def change_order_dcv_method(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    method = call.json_object().get("dcv_method")
    if method not in ORDER_METHODS:
        raise Rejected(
            400, invalid("dcv_method", "dcv_method must be email, dns-txt-token or http-token.")
        )
    store.domains.order_dcv(order.id).method = method
    if method not in TOKEN_METHODS:
        return 204, None
    return 200, _value(store, order, fresh=True)


@routes.put(r"/order/certificate/{order_id:\d+}/dcv-random-value")
def order_dcv_random_value(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    return 200, _value(store, order, fresh=False)


@routes.put(r"/order/certificate/{order_id:\d+}/resend-emails")
def resend_order_dcv_emails(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    store.domains.order_dcv(order.id).emails_sent += 1
    return 204, None


def _proven(store: FakeAccount, order: StoredOrder, name: str) -> bool:
    """Whether ``name`` is validated now: its domain already, or the order's token found
    for it (which validates the domain, added when the account has none of that name)."""
    book = store.domains
    domain = book.named(name)
    if domain is not None and book.valid(domain):
        return True
    state = book.order_dcv(order.id)
    if not (state.token and state.method in TOKEN_METHODS):
        return False
    if not store.dns.proves(state.method, name, state.token):
        return False
    if domain is None:
        organization = order.info.get("organization")
        owner = dict(organization) if isinstance(organization, dict) else {}
        domain = book.add(name, owner, store.now())
    book.passed(domain, store.now())
    return book.valid(domain)


@routes.put(r"/order/certificate/{order_id:\d+}/check-dcv")
def check_order_dcv(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    validations = [
        {"dns_name": name, "status": "approved" if _proven(store, order, name) else "pending"}
        for name in order_names(order)
    ]
    valid = all(v["status"] == "approved" for v in validations)
    if valid:
        store.lifecycle.domains_passed()
    return 200, {
        "order_status": order.status,
        "certificate_id": order.certificate_id,
        "dcv_status": "valid" if valid else "pending",
        "dns_name_validations": validations,
    }
