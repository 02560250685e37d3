"""Certificates: revoke a whole order, or one certificate by its id or serial number.

Without ``skip_approval`` a revocation opens a ``revoke`` request (201, the request) that
revokes once approved; with it, the fake revokes at once and answers 204 (its one key is
an admin's). Only an issued order, or an issued certificate whose order has no pending
reissue, can be revoked. The comment is read from ``comments``, as DigiCert's examples
send it, or from ``comment``, as its table names it.
"""

from __future__ import annotations

from ._requests import revoke_answer
from ._routing import Answer, Call, Rejected, Routes, find_order, found, invalid
from ._state import FakeAccount, JSONDict, StoredCertificate

REVOCATION_REASONS = (
    "unspecified",
    "keyCompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
)

routes = Routes()


@routes.put(r"/order/certificate/{order_id:\d+}/revoke")
def revoke_order(store: FakeAccount, call: Call) -> Answer:
    order = find_order(store, call)
    comments, reason, skip_approval = _revocation(call.json_object())
    if order.status != "issued":
        raise Rejected(
            400,
            (
                "invalid_status",
                f"The order's status is {order.status}; only issued orders can be revoked.",
            ),
        )
    request = store.lifecycle.request_revocation(
        order, comments=comments, revocation_reason=reason, skip_approval=skip_approval
    )
    return (204, None) if request is None else (201, revoke_answer(request))


@routes.put(r"/certificate/{certificate_identifier:[0-9A-Fa-f]+}/revoke")
def revoke_certificate(store: FakeAccount, call: Call) -> Answer:
    identifier = call.params["certificate_identifier"]
    certificate: StoredCertificate = found(
        store.certificates.find(identifier), "certificate", identifier
    )
    comments, reason, skip_approval = _revocation(call.json_object())
    order = store.orders.get(certificate.order_id)
    if order is None:
        raise Rejected(404, ("not_found|certificate", f"Certificate {identifier} was not found."))
    if order.status == "reissue_pending":
        raise Rejected(
            400,
            (
                "invalid_status",
                "Certificates with a pending reissue cannot be revoked; cancel the reissue"
                " or wait until it is issued.",
            ),
        )
    if certificate.status != "issued":
        raise Rejected(
            400,
            (
                "invalid_status",
                f"The certificate's status is {certificate.status}; only issued certificates"
                " can be revoked.",
            ),
        )
    request = store.lifecycle.request_revocation(
        order,
        certificate=certificate,
        comments=comments,
        revocation_reason=reason,
        skip_approval=skip_approval,
    )
    return (204, None) if request is None else (201, revoke_answer(request))


def _revocation(data: JSONDict) -> tuple[str | None, str | None, bool]:
    problems: list[tuple[str, str]] = []
    comments = data.get("comments", data.get("comment"))
    if comments is not None and not isinstance(comments, str):
        problems.append(invalid("comments", "comments must be a string."))
    reason = data.get("revocation_reason")
    if reason is not None and reason not in REVOCATION_REASONS:
        problems.append(invalid("revocation_reason", f"Allowed: {', '.join(REVOCATION_REASONS)}."))
    skip_approval = data.get("skip_approval", False)
    if not isinstance(skip_approval, bool):
        problems.append(invalid("skip_approval", "skip_approval must be true or false."))
    if problems:
        raise Rejected(400, *problems)
    return comments, reason, skip_approval
