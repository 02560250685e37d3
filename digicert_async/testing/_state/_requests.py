"""The account's approval requests: a new order's, a reissue's, a duplicate's or a
revocation's, and the request ids.

The book opens requests and settles them when issuance approves them; carrying out a
decision on one is ``Lifecycle``'s.
"""

from __future__ import annotations

from datetime import datetime

from ._records import OPEN_REQUEST, StoredRequest

REQUEST_ID_BASE = 9001


class RequestBook(dict[int, StoredRequest]):
    """Approval requests by id, and the next id."""

    def __init__(self) -> None:
        super().__init__()
        self._next_id = REQUEST_ID_BASE

    def new_id(self) -> int:
        """The next approval-request id."""
        request_id = self._next_id
        self._next_id += 1
        return request_id

    def open(
        self,
        kind: str,
        order_id: int,
        when: datetime,
        *,
        status: str = "pending",
        comments: str | None = None,
        certificate_id: int | None = None,
        revocation_reason: str | None = None,
    ) -> StoredRequest:
        """A request of type ``kind`` for an order, made ``when`` (and processed then, unless
        ``status`` leaves it open)."""
        request = StoredRequest(
            id=self.new_id(),
            type=kind,
            order_id=order_id,
            date=when,
            status=status,
            comments=comments,
            certificate_id=certificate_id,
            revocation_reason=revocation_reason,
        )
        if status not in OPEN_REQUEST:
            request.date_processed = request.date
        self[request.id] = request
        return request

    def approve_open(self, order_id: int, kinds: tuple[str, ...], when: datetime) -> None:
        """Approve the order's open requests of ``kinds``: DigiCert issues only what was
        approved, so issuance settles them."""
        for request in self.values():
            if (
                request.order_id == order_id
                and request.type in kinds
                and request.status in OPEN_REQUEST
            ):
                request.status = "approved"
                request.date_processed = when

    def approve_for(self, certificate_id: int, when: datetime) -> None:
        """Approve the open request that asked for ``certificate_id`` (a duplicate issued)."""
        for request in self.values():
            if (
                request.certificate_id == certificate_id
                and request.status in OPEN_REQUEST
                and request.type != "revoke"
            ):
                request.status = "approved"
                request.date_processed = when
