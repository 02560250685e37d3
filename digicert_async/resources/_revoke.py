"""What revoking an order and revoking one certificate share: the body, the answer (the
approval request DigiCert opens, or nothing when it revokes at once) and the rule
that a revocation is never sent twice."""

from __future__ import annotations

from collections.abc import Mapping

from .._converter import converter
from .._decode import Identified, read_model
from .._errors import ValidationError
from .._pipeline import Requester, Response
from ..models import ApprovalRequest, RevokeRequest

__all__ = ["revoke"]

_APPROVAL_REQUEST = read_model(ApprovalRequest)


def _read_approval_or_nothing(response: Response) -> ApprovalRequest | None:
    """201 with the approval request opened, or 204 with nothing: revoked at once."""
    if not response.body.strip():
        return None
    return _APPROVAL_REQUEST(response)


read_approval_or_nothing = Identified(_read_approval_or_nothing)


async def revoke(
    requester: Requester,
    route: str,
    path_args: Mapping[str, object],
    *,
    comments: str | None,
    revocation_reason: str | None,
    skip_approval: bool,
) -> ApprovalRequest | None:
    """Send one revocation. It is a PUT that creates something (a request, or the
    revocation itself), so it is marked not replayable: an attempt whose answer was
    lost is not repeated, and the caller reads the order or the requests to learn
    what happened."""
    if type(skip_approval) is not bool:
        raise ValidationError("skip_approval", "must be True or False")
    body = converter.unstructure(
        RevokeRequest(
            comments=comments,
            revocation_reason=revocation_reason,
            skip_approval=True if skip_approval else None,
        )
    )
    return await requester.call(
        "PUT",
        route,
        read_approval_or_nothing,
        path_args=path_args,
        json=body,
        replayable=False,
    )
