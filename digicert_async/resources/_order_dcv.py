"""The DCV calls of one order (``client.orders.check_dcv`` and its siblings): their
routes, bodies and answers, apart from the orders resource that delegates to them."""

from __future__ import annotations

from .._checks import check_id
from .._converter import converter
from .._decode import read_model, read_nothing
from .._pipeline import Requester, Response
from ..models import ChangeDcvMethodRequest, DcvRandomValue, OrderDcvCheck

__all__ = ["change_dcv_method", "check_dcv", "dcv_random_value", "resend_dcv_emails"]

CHECK_DCV = "/order/certificate/{order_id}/check-dcv"
RANDOM_VALUE = "/order/certificate/{order_id}/dcv-random-value"
DCV_METHOD = "/order/certificate/{order_id}/dcv-method"
RESEND_EMAILS = "/order/certificate/{order_id}/resend-emails"

_CHECK = read_model(OrderDcvCheck)
_RANDOM_VALUE = read_model(DcvRandomValue)


def _read_value_or_nothing(response: Response) -> DcvRandomValue | None:
    """204 (``email``), or 200 with the random value of a token method."""
    if not response.body.strip():
        return None
    return _RANDOM_VALUE(response)


async def check_dcv(requester: Requester, order_id: int) -> OrderDcvCheck:
    check_id("order_id", order_id)
    return await requester.call("PUT", CHECK_DCV, _CHECK, path_args={"order_id": order_id})


async def dcv_random_value(requester: Requester, order_id: int) -> DcvRandomValue:
    check_id("order_id", order_id)
    return await requester.call(
        "PUT", RANDOM_VALUE, _RANDOM_VALUE, path_args={"order_id": order_id}
    )


async def change_dcv_method(
    requester: Requester, order_id: int, method: str
) -> DcvRandomValue | None:
    check_id("order_id", order_id)
    body = converter.unstructure(ChangeDcvMethodRequest(dcv_method=method))
    return await requester.call(
        "PUT", DCV_METHOD, _read_value_or_nothing, path_args={"order_id": order_id}, json=body
    )


async def resend_dcv_emails(requester: Requester, order_id: int) -> None:
    check_id("order_id", order_id)
    # Never sent twice: a lost answer must not mail every approver again.
    await requester.call(
        "PUT", RESEND_EMAILS, read_nothing, path_args={"order_id": order_id}, replayable=False
    )
