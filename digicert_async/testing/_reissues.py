"""Reissues and duplicates of an order's certificate: make them, list them.

DigiCert's older Reissue page marks ``certificate.common_name``, ``certificate.csr`` and
``certificate.signature_hash`` required, and so does the fake (a client that sends a CSR
alone must fill in the rest, as ``orders.reissue`` does from the order), except
``common_name`` on code signing, document signing and VMC orders, whose reissues carry
none (the current page says to leave it out there). Only an
``issued`` order can be reissued or duplicated. The listings show DigiCert's own type
quirks: ``archived`` is ``0`` in the reissue listing and ``"0"`` in the duplicate one,
and the ``purchased_*`` counts are strings.
"""

from __future__ import annotations

from typing import Any

from ._routing import (
    Answer,
    Call,
    Rejected,
    Routes,
    find_order,
    invalid,
    non_empty_text,
    required,
)
from ._state import NOTE_USER, FakeAccount, JSONDict, StoredCertificate, StoredOrder, iso
from ._state import whole_number as _whole_number

SIGNATURE_HASHES = ("sha256", "sha384", "sha512")
NO_HOST_PRODUCTS = ("code_signing", "document_signing", "vmc", "verified_mark")

routes = Routes()


@routes.post(r"/order/certificate/{order_id:\d+}/reissue")
def reissue(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    data = call.json_object()
    fields = certificate_fields(data, order)
    skip_approval = data.get("skip_approval", False)
    if not isinstance(skip_approval, bool):
        raise Rejected(400, invalid("skip_approval", "skip_approval must be true or false."))
    _must_be_issued(order, "reissued")
    request = store.lifecycle.reissue(
        order, **fields, skip_approval=skip_approval, comments=_comments(data)
    )
    return 201, {"id": order.id, "requests": [{"id": request.id, "status": request.status}]}


@routes.post(r"/order/certificate/{order_id:\d+}/duplicate")
def duplicate(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    data = call.json_object()
    fields = certificate_fields(data, order)
    _must_be_issued(order, "duplicated")
    request = store.lifecycle.duplicate(order, **fields, comments=_comments(data))
    return 201, {"id": order.id, "requests": [{"id": request.id, "status": request.status}]}


@routes.get(r"/order/certificate/{order_id:\d+}/reissue")
def list_reissues(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    items = [listed(stored, archived=0) for stored in store.certificates.of(order, "reissue")]
    return 200, {"certificates": items} if items else {}


@routes.get(r"/order/certificate/{order_id:\d+}/duplicate")
def list_duplicates(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    items = [listed(stored, archived="0") for stored in store.certificates.of(order, "duplicate")]
    return 200, {"certificates": items} if items else {}


def names_a_host(order: StoredOrder) -> bool:
    """Whether the order's certificates name hosts (TLS). Code signing, document signing
    and VMC reissues carry no ``common_name``; the order's own is kept for them."""
    product = order.info.get("product")
    names = ""
    if isinstance(product, dict):
        names = f"{product.get('name_id') or ''} {product.get('type') or ''}".lower()
    return not any(kind in names for kind in NO_HOST_PRODUCTS)


def certificate_fields(data: JSONDict, order: StoredOrder) -> dict[str, Any]:
    """The ``certificate`` object of a reissue or duplicate, checked: every problem found
    answers 400 at once."""
    certificate = data.get("certificate")
    if not isinstance(certificate, dict):
        raise Rejected(400, required("certificate"))
    problems: list[tuple[str, str]] = []
    csr = certificate.get("csr")
    if csr is None or csr == "":
        problems.append(required("certificate.csr"))
    elif not (
        isinstance(csr, str)
        and "BEGIN CERTIFICATE REQUEST" in csr
        and "END CERTIFICATE REQUEST" in csr
    ):
        problems.append(invalid("certificate.csr", "The CSR is not a PEM certificate request."))
    common_name = certificate.get("common_name")
    if not names_a_host(order) and common_name is None:
        common_name = str(order.info.get("certificate", {}).get("common_name") or "")
    elif common_name is None or common_name == "":
        problems.append(required("certificate.common_name"))
    elif not non_empty_text(common_name):
        problems.append(invalid("certificate.common_name"))
    signature_hash = certificate.get("signature_hash")
    if signature_hash is None or signature_hash == "":
        problems.append(required("certificate.signature_hash"))
    elif signature_hash not in SIGNATURE_HASHES:
        problems.append(
            invalid("certificate.signature_hash", f"Allowed: {', '.join(SIGNATURE_HASHES)}.")
        )
    dns_names = certificate.get("dns_names")
    if dns_names is not None and not (
        isinstance(dns_names, list) and all(non_empty_text(name) for name in dns_names)
    ):
        problems.append(invalid("certificate.dns_names", "A list of domain names."))
    platform = certificate.get("server_platform")
    if platform is not None and not (
        isinstance(platform, dict) and _whole_number(platform.get("id"))
    ):
        problems.append(required("certificate.server_platform.id"))
    if problems:
        raise Rejected(400, *problems)
    return {
        "common_name": common_name,
        "dns_names": (
            list(dns_names)
            if dns_names is not None
            else [common_name]
            if names_a_host(order)
            else []
        ),
        "csr": csr,
        "signature_hash": signature_hash,
        "server_platform_id": None if platform is None else platform["id"],
    }


def listed(stored: StoredCertificate, *, archived: Any) -> JSONDict:
    """A certificate as the reissue and duplicate listings show it."""
    item: JSONDict = {"id": stored.id}
    if stored.thumbprint is not None:
        item["thumbprint"] = stored.thumbprint
        item["serial_number"] = stored.serial_number
    item.update(
        common_name=stored.common_name,
        dns_names=list(stored.dns_names),
        status=stored.status,
        date_created=iso(stored.date_created),
    )
    if stored.date_issued is not None:
        item["date_issued"] = iso(stored.date_issued)
    if stored.valid_from is not None and stored.valid_till is not None:
        item["valid_from"] = stored.valid_from.isoformat()
        item["valid_till"] = stored.valid_till.isoformat()
    if stored.csr is not None:
        item["csr"] = stored.csr
    if stored.server_platform_id is not None:
        item["server_platform"] = {"id": stored.server_platform_id}
    item["signature_hash"] = stored.signature_hash
    if stored.key_size is not None:
        item["key_size"] = stored.key_size
    item.update(
        archived=archived,
        user_id=NOTE_USER["id"],
        firstname=NOTE_USER["first_name"],
        lastname=NOTE_USER["last_name"],
        email=NOTE_USER["email"],
        purchased_dns_names=str(len(stored.dns_names)),
        purchased_wildcard_names=str(sum(name.startswith("*.") for name in stored.dns_names)),
    )
    return item


def _must_be_issued(order: StoredOrder, done: str) -> None:
    if order.status != "issued":
        raise Rejected(
            400,
            (
                "invalid_status",
                f"The order's status is {order.status}; only issued orders can be {done}.",
            ),
        )


def _comments(data: JSONDict) -> str | None:
    comments = data.get("comments")
    return comments if isinstance(comments, str) else None
