"""Orders: status update (seed 2), order details, listings and status changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

import attrs

from digicert_async._errors import ValidationError

from ._common import (
    Contact,
    CustomFieldValue,
    OrganizationSummary,
    Product,
    ResponseModel,
    ServerPlatform,
    Shipping,
    StrFlag,
    User,
    ValidityPeriod,
    choice,
    response_model,
    text,
)
from .products import CaCert

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
class OrderCertificate(ResponseModel):
    """The certificate of an order, as in the order details. ``id`` is None until
    DigiCert has created the certificate (an order that ``needs_approval``, say).

    ``ca_cert`` is the issuing CA (for a private CA, its id and name); ``ca_cert_id`` is
    the same id as older answers gave it. ``organization`` is the organization the
    certificate names (often only its ``id``); ``emails`` come on S/MIME orders.
    """

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
    emails: list[str] | None = None
    date_issued: datetime | None = None
    cert_validity: ValidityPeriod | None = None
    organization: OrganizationSummary | None = None
    ca_cert: CaCert | None = None
    ca_cert_id: str | None = None
    user_id: int | None = None


@response_model
@attrs.frozen(kw_only=True)
class Container(ResponseModel):
    """The container (a division of the account) an object belongs to; ``parent_id`` is
    the container above it (0 at the top)."""

    id: int | None = None
    parent_id: int | None = None
    name: str | None = None
    is_active: bool | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrderRequestSummary(ResponseModel):
    """One request (approval workflow entry) of an order."""

    id: int | None = None
    date: datetime | None = None
    type: str | None = None
    status: str | None = None
    comments: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class Order(ResponseModel):
    """``GET /order/certificate/{order_id}`` and the items of the order listing.

    Fields appear by order status, product and account type, so all but ``id`` may be
    None (``organization`` is None on a DV order, which DigiCert sends as ``[]``).
    ``status`` is a plain string (see :class:`OrderStatus`).

    Some fields come only in some answers: the listing adds ``has_duplicates``,
    ``duplicates_count``, ``has_reissues``, ``reissues_count`` and ``number_of_sans``;
    an approval request's order adds ``unsubmitted_domains`` and, for a renewal,
    ``renewal_of_order_valid_till``; ``hardware_init_code`` comes with a code signing
    order delivered on a token or by the client app. ``send_minus_90`` ... ``send_plus_7``
    say whether DigiCert sends the renewal notice that many days before (after)
    expiry; ``auto_renew`` is how many times the order still renews itself. Older
    answers carry ``public_id`` and ``receipt_id``, which newer ones leave out.
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
    order_validity: ValidityPeriod | None = None
    hardware_init_code: str | None = None
    ship_info: Shipping | None = None
    receipt_id: int | None = None
    renewed_order_id: int | None = None
    public_id: str | None = None
    alternative_order_id: str | None = None
    business_unit: str | None = None
    product_name_id: str | None = None
    organization_contact: Contact | None = None
    technical_contact: Contact | None = None
    user_assignments: list[User] | None = None
    custom_fields: list[CustomFieldValue] | None = None
    additional_emails: list[str] | None = None
    custom_renewal_message: str | None = None
    auto_renew: int | None = None
    auto_reissue: int | None = None
    allow_duplicates: bool | None = None
    disable_issuance_email: bool | None = None
    is_out_of_contract: bool | None = None
    send_minus_90: bool | None = None
    send_minus_60: bool | None = None
    send_minus_30: bool | None = None
    send_minus_7: bool | None = None
    send_minus_3: bool | None = None
    send_plus_7: bool | None = None
    purchased_dns_names: int | None = None
    purchased_wildcard_names: int | None = None
    number_of_sans: int | None = None
    has_duplicates: bool | None = None
    duplicates_count: int | None = None
    has_reissues: bool | None = None
    reissues_count: int | None = None
    unsubmitted_domains: list[str] | None = None
    renewal_of_order_valid_till: date | None = None


@response_model
@attrs.frozen(kw_only=True)
class StatusChange(ResponseModel):
    """One entry of ``GET /order/certificate/status-changes``."""

    order_id: int
    status: str | None = None
    certificate_id: int | None = None


@response_model
@attrs.frozen(kw_only=True)
class Page(ResponseModel):
    """The ``page`` object of a listing. ``total`` is what paging relies on; DigiCert's
    own examples show ``"limit": 0``, so ``limit`` and ``offset`` are informative only."""

    total: int | None = None
    limit: int | None = None
    offset: int | None = None
