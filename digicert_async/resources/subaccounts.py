"""``client.subaccounts``: orders placed by subaccounts, seen from the parent account."""

from __future__ import annotations

from collections.abc import Mapping

from .._checks import check_id
from .._decode import read_identified
from .._pipeline import Requester
from ..models import ORDER_STATUSES, SubaccountOrder
from ._base import Listing, check_page_size, listing_params

__all__ = ["SubaccountsResource"]

ORDERS = "/account/subaccount/order"
ORDER = "/account/subaccount/order/{order_id}"
_ORDER = read_identified(SubaccountOrder, "order_id")


class SubaccountsResource:
    """Subaccount orders: ``client.subaccounts``."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def get_order(self, order_id: int) -> SubaccountOrder:
        """An order placed by a subaccount or sub-subaccount.

        ``certificate`` and ``organization`` are present only for immediate
        subaccounts; thumbprint, serial number and validity only once issued.
        """
        check_id("order_id", order_id)
        return await self._requester.call("GET", ORDER, _ORDER, path_args={"order_id": order_id})

    def list_orders(
        self,
        *,
        status: str | None = None,
        filters: Mapping[str, object] | None = None,
        sort: str | None = None,
        page_size: int = 1000,
    ) -> Listing[SubaccountOrder]:
        """Iterate over every matching subaccount order, page by page."""
        params = listing_params(status=status, filters=filters, sort=sort, statuses=ORDER_STATUSES)
        size = check_page_size(page_size)
        return Listing(self._requester, ORDERS, params, size, "orders", SubaccountOrder)
