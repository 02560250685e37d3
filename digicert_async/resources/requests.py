"""``client.requests``: approval requests (new orders, reissues, duplicates, revocations)."""

from __future__ import annotations

from collections.abc import Mapping

from .._checks import check_id
from .._converter import converter
from .._decode import read_identified, read_nothing
from .._pipeline import Requester
from ..models import REQUEST_STATUSES, ApprovalRequest, UpdateRequestStatus
from ._base import Listing, check_page_size, listing_params

__all__ = ["RequestsResource"]

REQUESTS = "/request"
REQUEST = "/request/{request_id}"
STATUS = "/request/{request_id}/status"

_REQUEST = read_identified(ApprovalRequest, "request_id")


class RequestsResource:
    """Approval requests: ``client.requests``."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def list(
        self,
        *,
        status: str | None = None,
        filters: Mapping[str, object] | None = None,
        sort: str | None = None,
        page_size: int = 1000,
    ) -> Listing[ApprovalRequest]:
        """Iterate over every matching approval request, ``page_size`` per request.

        ``status`` is one of ``submitted``, ``pending``, ``approved``, ``rejected``.
        DigiCert's older answers carry no ``page`` object; a page shorter than
        ``page_size`` then ends the listing.
        """
        params = listing_params(
            status=status, filters=filters, sort=sort, statuses=REQUEST_STATUSES
        )
        size = check_page_size(page_size)
        return Listing(self._requester, REQUESTS, params, size, "requests", ApprovalRequest)

    async def get(self, request_id: int) -> ApprovalRequest:
        """One approval request, with its order."""
        check_id("request_id", request_id)
        return await self._requester.call(
            "GET", REQUEST, _REQUEST, path_args={"request_id": request_id}
        )

    async def approve(self, request_id: int, *, comment: str | None = None) -> None:
        """Approve a pending request; ``comment`` reaches the requester
        (``processor_comment``). Sent once (see :meth:`reject`)."""
        await self._decide(request_id, "approved", comment)

    async def reject(self, request_id: int, *, comment: str | None = None) -> None:
        """Reject a pending request; ``comment`` says why (``processor_comment``).

        A decision is never re-sent once it may have reached DigiCert: if its answer
        is lost, the call fails with the ``TransportError`` (or ``ServerError``), and
        :meth:`get` tells whether it was recorded.
        """
        await self._decide(request_id, "rejected", comment)

    async def _decide(self, request_id: int, status: str, comment: str | None) -> None:
        check_id("request_id", request_id)
        body = converter.unstructure(UpdateRequestStatus(status=status, processor_comment=comment))
        await self._requester.call(
            "PUT",
            STATUS,
            read_nothing,
            path_args={"request_id": request_id},
            json=body,
            replayable=False,
        )
