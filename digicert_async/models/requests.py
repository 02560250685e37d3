"""Approval requests: what an order, a reissue, a duplicate or a revocation waits on.

``GET /request`` lists them (``requests`` and a ``page``), ``GET /request/{id}`` shows
one, ``PUT /request/{id}/status`` decides one (:class:`UpdateRequestStatus`; 204).
Revoking (``PUT .../revoke``, :class:`RevokeRequest`) answers with the request it
opens, or with nothing when DigiCert revokes at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import attrs

from ._common import ResponseModel, User, boolean, choice, response_model, text
from .orders import Order

__all__ = [
    "REQUEST_STATUSES",
    "REQUEST_TYPES",
    "REVOCATION_REASONS",
    "ApprovalRequest",
    "RevokeRequest",
    "UpdateRequestStatus",
]

REQUEST_STATUSES: Final = frozenset({"submitted", "pending", "approved", "rejected"})
"""The statuses of an approval request DigiCert documents (what ``status=`` filters on)."""
REQUEST_TYPES: Final = frozenset({"new_request", "revoke", "duplicate", "reissue"})
"""The request types DigiCert documents; the server may send others, kept as sent."""
REVOCATION_REASONS: Final = frozenset(
    {"unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation"}
)
"""``revocation_reason`` values, spelled as DigiCert's table spells them (camelCase, as in
RFC 5280); only TLS certificates use them. Left out, DigiCert records ``unspecified``."""


# --------------------------------------------------------------------------- requests


@attrs.frozen(kw_only=True)
class RevokeRequest:
    """Body of ``PUT /order/certificate/{order_id}/revoke`` and
    ``PUT /certificate/{certificate_id}/revoke``.

    DigiCert's table names the message ``comment`` but every example, and every answer,
    says ``comments``: this sends ``comments``, as the examples do. DigiCert keeps it on
    the approval request only (a ``skip_approval`` revocation opens none).
    ``skip_approval`` needs an admin key.
    """

    comments: str | None = attrs.field(default=None, validator=text("comments", optional=True))
    revocation_reason: str | None = attrs.field(
        default=None, validator=choice("revocation_reason", REVOCATION_REASONS, optional=True)
    )
    skip_approval: bool | None = attrs.field(
        default=None, validator=boolean("skip_approval", optional=True)
    )


@attrs.frozen(kw_only=True)
class UpdateRequestStatus:
    """Body of ``PUT /request/{request_id}/status``: the decision and, optionally, a
    comment for the requester (``processor_comment``)."""

    status: str = attrs.field(validator=choice("status", REQUEST_STATUSES))
    processor_comment: str | None = attrs.field(
        default=None, validator=text("processor_comment", optional=True)
    )


# --------------------------------------------------------------------------- response


@response_model
@attrs.frozen(kw_only=True)
class ApprovalRequest(ResponseModel):
    """An approval request: ``GET /request/{id}``, the items of ``GET /request``, and the
    answer of a revocation that waits for approval.

    ``type`` is ``new_request``, ``reissue``, ``duplicate`` or ``revoke``; ``status`` is
    ``submitted``, ``pending``, ``approved`` or ``rejected`` (both kept as sent, so
    values DigiCert adds later are not an error). ``order`` is the order it belongs to,
    as much of it as the answer carries (the listing shows only a summary).
    ``date_processed``, ``processor`` and ``processor_comment`` come once decided.
    """

    id: int
    date: datetime | None = None
    type: str | None = None
    status: str | None = None
    date_processed: datetime | None = None
    requester: User | None = None
    reviewer: User | None = None
    processor: User | None = None
    order: Order | None = None
    comments: str | None = None
    processor_comment: str | None = None
