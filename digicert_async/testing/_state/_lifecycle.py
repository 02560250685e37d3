"""How orders move: placed, issued, reissued, duplicated, revoked, approved or rejected.

``Lifecycle`` holds no records of its own: it changes those of the books it is given
(orders, certificates, requests) and schedules on the lifecycle clock what happens later.
What falls due is applied by ``tick``, stamped with the wall clock (``now``).

Where issuance is decided: ``_order_falls_due`` is the one place a ``pending`` order
becomes ``issued`` on the clock. An account option that holds orders until their domains
pass DCV answers there (an order not yet validated stays ``pending``, unscheduled, and is
scheduled again with ``clock.schedule("order", order_id)`` when its last domain passes),
reading a domain book that sits beside the others in the account.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from ._certificates import CertificateBook
from ._clock import LifecycleClock
from ._orders import OrderBook, show_certificate
from ._records import (
    CERTIFICATE_EXISTS,
    LIVE_CERTIFICATE,
    OPEN_REQUEST,
    UTC,
    NewOrder,
    StoredCertificate,
    StoredOrder,
    StoredRequest,
    iso,
    parse_date,
    parse_iso,
    whole_number,
)
from ._requests import RequestBook


class Lifecycle:
    """The status machine of the account's orders, certificates and approval requests."""

    def __init__(
        self,
        clock: LifecycleClock,
        now: Callable[[], datetime],
        *,
        orders: OrderBook,
        certificates: CertificateBook,
        requests: RequestBook,
    ) -> None:
        self.clock = clock
        self.now = now
        self.orders = orders
        self.certificates = certificates
        self.requests = requests
        self._ticking = False
        # Told of every order's new status (the webhook book pushes its events from it).
        self.status_watchers: list[Callable[[StoredOrder, str], None]] = []
        # Set by the account when orders wait for DCV: whether an order's names are not
        # all validated (it is then held, pending, until they are).
        self.holds_for_dcv: Callable[[StoredOrder], bool] | None = None
        self._held: set[int] = set()

    # ------------------------------------------------------------------ the clock

    def advance(self, seconds: float) -> None:
        """Move the lifecycle clock on and apply what falls due."""
        self.clock.advance(seconds)
        self.tick()

    def tick(self) -> None:
        """Apply everything due by now on the lifecycle clock, earliest first."""
        clock = self.clock
        if self._ticking or not clock.waiting:
            return
        now = clock.time()
        self._ticking = True
        try:
            while (entry := clock.pop_due(now)) is not None:
                kind, key = entry
                if kind == "order":
                    order = self.orders.get(key)
                    if order is not None:
                        self._order_falls_due(order)
                else:
                    certificate = self.certificates.get(key)
                    if certificate is not None and certificate.status == "pending":
                        when = self.now()
                        self._sign(certificate, when)
                        self.requests.approve_for(certificate.id, when)
        finally:
            self._ticking = False

    def _order_falls_due(self, order: StoredOrder) -> None:
        waiting = order.status in ("pending", "reissue_pending")
        if waiting and self.holds_for_dcv is not None and self.holds_for_dcv(order):
            self._held.add(order.id)  # until domains_passed() finds its names validated
            return
        if order.status == "pending":
            self.set_status(order.id, "issued")
        elif order.status == "reissue_pending":
            self._complete_reissue(order)

    def domains_passed(self) -> None:
        """A DCV check passed: each order held for DCV whose names are all validated now
        falls due ``issue_after`` lifecycle seconds later."""
        for order_id in sorted(self._held):
            order = self.orders.get(order_id)
            if order is None or order.status not in ("pending", "reissue_pending"):
                self._held.discard(order_id)
            elif self.holds_for_dcv is None or not self.holds_for_dcv(order):
                self._held.discard(order_id)
                self.clock.schedule("order", order_id)

    # ------------------------------------------------------------------ orders

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
        created = (created or self.now()).astimezone(UTC).replace(microsecond=0)
        order = self.orders.add(
            status,
            product=product,
            common_name=common_name,
            created=created,
            subaccount=subaccount,
            immediate=immediate,
            dns_names=dns_names,
            organization=organization,
            validity_years=validity_years,
            csr=csr,
            signature_hash=signature_hash,
            server_platform_id=server_platform_id,
        )
        if status in ("issued", "reissue_pending"):
            issued = min(created + timedelta(minutes=1), max(created, self.now()))
            self._issue(order, issued)
            order.status_last_updated = issued
        elif status in CERTIFICATE_EXISTS:
            self.create_certificate(order)
        if status in ("pending", "reissue_pending"):
            self.clock.schedule("order", order.id)
        if extra:
            order.info.update(copy.deepcopy(dict(extra)))
        return order.id

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
        request = self.requests.open(
            "new_request",
            order.id,
            self.now(),
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
            self.clock.schedule("order", order_id)
        else:
            self.clock.unschedule("order", order_id)
        if status == "issued":
            self.requests.approve_open(order.id, ("new_request", "reissue"), when)
        for watcher in self.status_watchers:
            watcher(order, status)

    def create_certificate(self, order: StoredOrder) -> int:
        """Give the order's certificate its id (once), as DigiCert does when it approves
        or issues one; returns the id."""
        certificate = order.info.setdefault("certificate", {})
        if "id" not in certificate:
            new_id = self.certificates.new_id()
            # The id leads the object, as in DigiCert's answers.
            order.info["certificate"] = {"id": new_id, **certificate}
            self.certificates.register(
                StoredCertificate(
                    id=new_id,
                    order_id=order.id,
                    kind="original",
                    common_name=str(certificate.get("common_name", "")),
                    dns_names=list(certificate.get("dns_names") or []),
                    signature_hash=str(certificate.get("signature_hash") or "sha256"),
                    csr=certificate.get("csr"),
                    date_created=parse_iso(order.info.get("date_created")) or self.now(),
                ),
                order,
            )
        certificate_id: int = order.info["certificate"]["id"]
        return certificate_id

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
            self.certificates.register(stored, order)
        order_till = start + timedelta(days=365 * years)
        self._sign(stored, when, order_till)
        show_certificate(order, stored, self.now().date())
        info["date_issued"] = iso(when)
        info["order_valid_from"] = start.isoformat()
        info["order_valid_till"] = order_till.isoformat()

    def _sign(
        self, stored: StoredCertificate, when: datetime, order_till: date | None = None
    ) -> None:
        """Issue ``stored`` within its order's validity, in its organization's name."""
        order = self.orders.get(stored.order_id)
        organization: str | None = None
        if order is not None:
            if order_till is None:
                order_till = parse_date(order.info.get("order_valid_till"))
            shown = order.info.get("organization")
            if isinstance(shown, dict) and isinstance(shown.get("name"), str):
                organization = shown["name"]
        self.certificates.issue(stored, when, order_till=order_till, organization=organization)

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
        stored = self._new_certificate(
            order,
            "reissue",
            common_name=common_name,
            dns_names=dns_names,
            signature_hash=signature_hash,
            csr=csr,
            server_platform_id=server_platform_id,
        )
        self.set_status(order.id, "reissue_pending")
        return self.requests.open(
            "reissue",
            order.id,
            self.now(),
            status="approved" if skip_approval else "pending",
            comments=comments,
            certificate_id=stored.id,
        )

    def _complete_reissue(self, order: StoredOrder) -> None:
        stored = self.certificates.pending_reissue(order)
        if stored is None:  # a test set reissue_pending itself: a new key for the same names
            current = order.info.get("certificate", {})
            stored = self._new_certificate(
                order,
                "reissue",
                common_name=str(current.get("common_name", "")),
                dns_names=current.get("dns_names") or [],
                signature_hash=str(current.get("signature_hash") or "sha256"),
            )
        when = self.now()
        self._sign(stored, when)
        show_certificate(order, stored, self.now().date())
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
        stored = self._new_certificate(
            order,
            "duplicate",
            common_name=common_name,
            dns_names=dns_names,
            signature_hash=signature_hash,
            csr=csr,
            server_platform_id=server_platform_id,
        )
        self.clock.schedule("certificate", stored.id)
        return self.requests.open(
            "duplicate",
            order.id,
            self.now(),
            status="pending",
            comments=comments,
            certificate_id=stored.id,
        )

    def _new_certificate(
        self,
        order: StoredOrder,
        kind: str,
        *,
        common_name: str,
        dns_names: list[str],
        signature_hash: str,
        csr: str | None = None,
        server_platform_id: int | None = None,
    ) -> StoredCertificate:
        """A new certificate of ``order`` (a reissue's or a duplicate's), not yet signed,
        registered with the order."""
        stored = StoredCertificate(
            id=self.certificates.new_id(),
            order_id=order.id,
            kind=kind,
            common_name=common_name,
            dns_names=list(dns_names),
            signature_hash=signature_hash,
            csr=csr,
            server_platform_id=server_platform_id,
            date_created=self.now(),
        )
        self.certificates.register(stored, order)
        return stored

    # ------------------------------------------------------------------ revocation, decisions

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
        return self.requests.open(
            "revoke",
            order.id,
            self.now(),
            comments=comments,
            certificate_id=None if certificate is None else certificate.id,
            revocation_reason=revocation_reason,
        )

    def revoke_order(self, order: StoredOrder) -> None:
        """Revoke every certificate of the order, and the order."""
        for certificate_id in order.certificate_ids:
            stored = self.certificates[certificate_id]
            if stored.status in LIVE_CERTIFICATE:
                stored.status = "revoked"
            self.clock.unschedule("certificate", certificate_id)
        self.set_status(order.id, "revoked")

    def revoke_certificate(self, stored: StoredCertificate) -> None:
        """Revoke one certificate; its order keeps its status (DigiCert's default, even
        for an order's only certificate)."""
        stored.status = "revoked"
        self.clock.unschedule("certificate", stored.id)

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
                self.clock.unschedule("certificate", target.id)
                if request.type == "reissue" and order.status == "reissue_pending":
                    self.set_status(order.id, "issued")
