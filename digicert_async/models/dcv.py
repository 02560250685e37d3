"""Order DCV: the check's answer, the random value, and the change of method."""

from __future__ import annotations

from datetime import datetime
from typing import Final

import attrs

from ._common import ResponseModel, choice, response_model

__all__ = [
    "ORDER_DCV_METHODS",
    "ChangeDcvMethodRequest",
    "DcvRandomValue",
    "NameValidation",
    "OrderDcvCheck",
]

ORDER_DCV_METHODS: Final = frozenset({"email", "dns-txt-token", "http-token"})
"""The methods ``PUT /order/certificate/{order_id}/dcv-method`` accepts."""


@response_model
@attrs.frozen(kw_only=True)
class NameValidation(ResponseModel):
    """One name of an order's DCV check: the ``dns_name`` and its ``status``
    (``approved`` once validated, ``pending`` before)."""

    dns_name: str | None = None
    status: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrderDcvCheck(ResponseModel):
    """The answer to ``PUT /order/certificate/{order_id}/check-dcv``.

    ``dcv_status`` is the order's DCV as a whole (``valid`` once passed, ``pending``
    before); ``dns_name_validations`` (newer answers) says it name by name;
    ``order_status`` is the order's status after the check.
    """

    order_status: str | None = None
    certificate_id: int | None = None
    dcv_status: str | None = None
    dns_name_validations: list[NameValidation] | None = None

    def pending_names(self) -> list[str]:
        """The names not yet validated, as the check lists them (empty when it lists none)."""
        return [
            v.dns_name
            for v in self.dns_name_validations or ()
            if v.dns_name is not None and v.status != "approved"
        ]


@response_model
@attrs.frozen(kw_only=True)
class DcvRandomValue(ResponseModel):
    """The random value (the token) an order's DCV looks for, and when it expires.

    The answer of ``PUT .../dcv-random-value`` and of a change to a token method."""

    dcv_random_value: str
    expiration_date: datetime | None = None


@attrs.frozen(kw_only=True)
class ChangeDcvMethodRequest:
    """Body of ``PUT /order/certificate/{order_id}/dcv-method``."""

    dcv_method: str = attrs.field(validator=choice("dcv_method", ORDER_DCV_METHODS))
