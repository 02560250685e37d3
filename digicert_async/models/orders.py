"""Orders: status update (seed 2), order details, listings and status changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

import attrs

from digicert_async._errors import ValidationError

from ._common import OrganizationSummary, Product, StrFlag, User, choice, response_model, text

__all__ = [
    "ORDER_STATUSES",
    "TERMINAL_STATUSES",
    "Container",
    "Order",
    "OrderCertificate",
    "OrderRequestSummary",
    "OrderStatus",
    "Page",
    "ServerPlatform",
    "StatusChange",
    "UpdateStatusRequest",
]


class OrderStatus:
    """Order statuses DigiCert documents. The set is open: a status not listed here
    is kept as the plain string the server sent."""

    PENDING: Final = "pending"
    SUBMITTED: Final = "submitted"
    NEEDS_APPROVAL: Final = "needs_approval"
    WAITING_PICKUP: Final = "waiting_pickup"
    ISSUED: Final = "issued"
    REISSUE_PENDING: Final = "reissue_pending"
    REJECTED: Final = "rejected"
    CANCELED: Final = "canceled"
    REVOKED: Final = "revoked"
    EXPIRED: Final = "expired"
    PROCESSING: Final = "processing"
    APPROVED: Final = "approved"
    DENIED: Final = "denied"
    NEEDS_CSR: Final = "needs_csr"
    RENEWED: Final = "renewed"
    NOT_RENEWED: Final = "not_renewed"


ORDER_STATUSES: Final[frozenset[str]] = frozenset(
    value for name, value in vars(OrderStatus).items() if name.isupper()
)
"""Every order status DigiCert documents: what a caller may ask for (``until=``,
``status=``). The server may still answer with others, which are kept as sent."""

TERMINAL_STATUSES: Final[frozenset[str]] = frozenset(
    {
        OrderStatus.ISSUED,
        OrderStatus.REJECTED,
        OrderStatus.CANCELED,
        OrderStatus.REVOKED,
        OrderStatus.EXPIRED,
    }
)
"""Statuses an order does not leave on its own (what polling waits for)."""


CANCEL_STATUS_VALUES: Final = frozenset({"CANCELED", "canceled"})
"""The two spellings of "cancel": the seed's ``CANCELED`` and newer pages' ``canceled``."""
UPDATE_STATUS_VALUES: Final = CANCEL_STATUS_VALUES | {"renewed", "not_renewed"}
"""What ``PUT .../status`` accepts, case-sensitive (newer pages add the renewal values)."""


@attrs.frozen(kw_only=True)
class UpdateStatusRequest:
    """Body of ``PUT /order/certificate/{order_id}/status``.

    ``status`` is ``CANCELED`` (the seed's spelling) or ``canceled``, ``renewed``,
    ``not_renewed`` (newer pages'), case-sensitive. ``note`` is required to cancel,
    whichever spelling is used, and optional otherwise.
    """

    status: str = attrs.field(validator=choice("status", UPDATE_STATUS_VALUES))
    note: str | None = attrs.field(default=None, validator=text("note", optional=True))

    def __attrs_post_init__(self) -> None:
        if self.note is None and self.status in CANCEL_STATUS_VALUES:
            raise ValidationError("note", "required to cancel an order (say why)")


@response_model
@attrs.frozen(kw_only=True)
class ServerPlatform:
    id: int | None = None
    name: str | None = None
    install_url: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrderCertificate:
    """The certificate of an order, as in the order details. ``id`` is None until
    DigiCert has created the certificate (an order that ``needs_approval``, say)."""

    id: int | None = None
    common_name: str | None = None
    dns_names: list[str] | None = None
    organization_units: list[str] | None = None
    signature_hash: str | None = None
    key_size: int | None = None
    serial_number: str | None = None
    thumbprint: str | None = None
    valid_from: date | None = None
    valid_till: date | None = None
    days_remaining: int | None = None
    date_created: datetime | None = None
    csr: str | None = None
    server_platform: ServerPlatform | None = None


@response_model
@attrs.frozen(kw_only=True)
class Container:
    id: int | None = None
    name: str | None = None
    is_active: bool | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrderRequestSummary:
    """One request (approval workflow entry) of an order."""

    id: int | None = None
    date: datetime | None = None
    type: str | None = None
    status: str | None = None
    comments: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class Order:
    """``GET /order/certificate/{order_id}`` and the items of the order listing.

    Fields appear by order status, product and account type, so all but ``id`` may be
    None (``organization`` is None on a DV order, which DigiCert sends as ``[]``).
    ``status`` is a plain string (see :class:`OrderStatus`).
    """

    id: int
    certificate: OrderCertificate | None = None
    status: str | None = None
    is_renewal: bool | None = None
    is_renewed: bool | None = None
    date_created: datetime | None = None
    date_issued: datetime | None = None
    organization: OrganizationSummary | None = None
    validity_years: int | None = None
    container: Container | None = None
    product: Product | None = None
    price: float | None = None
    currency: str | None = None
    user: User | None = None
    requests: list[OrderRequestSummary] | None = None
    order_valid_from: date | None = None
    order_valid_till: date | None = None
    is_multi_year_plan: StrFlag | None = None
    cs_provisioning_method: str | None = None
    payment_method: str | None = None
    disable_renewal_notifications: bool | None = None


@response_model
@attrs.frozen(kw_only=True)
class StatusChange:
    """One entry of ``GET /order/certificate/status-changes``."""

    order_id: int
    status: str | None = None
    certificate_id: int | None = None


@response_model
@attrs.frozen(kw_only=True)
class Page:
    """The ``page`` object of a listing. ``total`` is what paging relies on; DigiCert's
    own examples show ``"limit": 0``, so ``limit`` and ``offset`` are informative only."""

    total: int | None = None
    limit: int | None = None
    offset: int | None = None
