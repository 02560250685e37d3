"""The account's orders: their order-info documents, notes and ids.

The book makes and holds the records; moving an order from status to status is
``Lifecycle``'s.
"""

from __future__ import annotations

from datetime import date, datetime

from ._records import (
    DEFAULT_ORGANIZATION,
    DV_PRODUCTS,
    IMMEDIATE_SUBACCOUNT,
    NESTED_SUBACCOUNT,
    NOTE_USER,
    PRODUCTS,
    JSONDict,
    StoredCertificate,
    StoredOrder,
    iso,
)

ORDER_ID_BASE = 100001


class OrderBook(dict[int, StoredOrder]):
    """Orders by id, and the next order and note ids."""

    def __init__(self) -> None:
        super().__init__()
        self._next_id = ORDER_ID_BASE
        self._next_note_id = 1

    def add(
        self,
        status: str,
        *,
        product: str,
        common_name: str,
        created: datetime,
        subaccount: bool = False,
        immediate: bool = True,
        dns_names: list[str] | None = None,
        organization: tuple[int, str] | None = None,
        validity_years: int = 1,
        csr: str | None = None,
        signature_hash: str = "sha256",
        server_platform_id: int | None = None,
    ) -> StoredOrder:
        """A new order in ``status``, as order info shows it before anything happens to it
        (no certificate id, nothing issued); its id is the next one."""
        order_id = self._next_id
        self._next_id += 1
        name, product_type, price = PRODUCTS.get(product, (product, "ssl_certificate", 100))
        org_id, org_name = organization or DEFAULT_ORGANIZATION
        certificate: JSONDict = {
            "common_name": common_name,
            "dns_names": [common_name] if dns_names is None else list(dns_names),
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
        self[order_id] = order
        return order

    def add_note(self, order: StoredOrder, text: str, when: datetime) -> JSONDict:
        """Add a note to ``order``, dated ``when``; returns it."""
        note: JSONDict = {
            "id": self._next_note_id,
            "date_created": iso(when),
            "text": text,
            "user": dict(NOTE_USER),
        }
        self._next_note_id += 1
        order.notes.append(note)
        return note


def show_certificate(order: StoredOrder, stored: StoredCertificate, today: date) -> None:
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
            days_remaining=(stored.valid_till - today).days,
        )
    order.info["certificate"] = {"id": stored.id, **shown}
