"""Subaccount orders (seed 4: ``GET /account/subaccount/order/{order_id}``)."""

from __future__ import annotations

from datetime import date, datetime

import attrs

from ._common import OrganizationSummary, Product, ResponseModel, StrFlag, response_model
from .products import CaCert

__all__ = ["OrderPrice", "Subaccount", "SubaccountCertificate", "SubaccountOrder"]


@response_model
@attrs.frozen(kw_only=True)
class SubaccountCertificate(ResponseModel):
    """Thumbprint, serial number and validity dates come only once issued; ``ca_cert``
    is the CA that issues the order's primary certificate."""

    id: int | None = None
    thumbprint: str | None = None
    serial_number: str | None = None
    common_name: str | None = None
    dns_names: list[str] | None = None
    valid_from: date | None = None
    valid_till: date | None = None
    days_remaining: int | None = None
    organization_units: list[str] | None = None
    signature_hash: str | None = None
    ca_cert: CaCert | None = None


@response_model
@attrs.frozen(kw_only=True)
class Subaccount(ResponseModel):
    account_id: int | None = None
    account_type: str | None = None
    organization_name: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrderPrice(ResponseModel):
    cost: int | float | None = None
    currency: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class SubaccountOrder(ResponseModel):
    """An order placed by a subaccount, as the parent account sees it.

    ``certificate`` and ``organization`` come only for immediate subaccounts;
    ``date_issued`` and the ``order_valid_*`` dates only for issued orders;
    ``is_multi_year_plan`` only for Multi-year Plans.
    """

    id: int
    certificate: SubaccountCertificate | None = None
    organization: OrganizationSummary | None = None
    subaccount: Subaccount | None = None
    product: Product | None = None
    order_price: OrderPrice | None = None
    status: str | None = None
    number_of_sans: int | None = None
    date_created: datetime | None = None
    date_issued: datetime | None = None
    is_multi_year_plan: StrFlag | None = None
    order_valid_from: date | None = None
    order_valid_till: date | None = None
    validity_years: int | None = None
