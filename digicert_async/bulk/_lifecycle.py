"""Which order statuses an order can still leave, and for where: the one table the poll
reads to end an order that can never reach the statuses it waits for.

DigiCert's pages describe these moves (an order's life, its reissues, its revocation,
the update-status endpoint's ``renewed`` / ``not_renewed`` marks):

- ``issued`` -> ``reissue_pending`` (a reissue requested), ``revoked`` (the order's
  certificates revoked), ``expired`` (its validity ran out), ``renewed`` (a migrated
  order marked renewed within 90 days of its end);
- ``reissue_pending`` -> ``issued`` (the reissue issued, or canceled or rejected: the order
  goes back to its certificate);
- ``expired`` -> ``renewed`` (a migrated order may be marked renewed once expired);
- ``renewed`` <-> ``not_renewed`` (the mark set either way);
- ``rejected``, ``canceled``, ``revoked`` and ``denied`` go nowhere: revoking is permanent,
  and only a pending order can be canceled.

Every other status (``pending``, ``submitted``, ``needs_approval``, ``waiting_pickup``,
``processing``, ``approved``, ``needs_csr``), and any status DigiCert adds that is not
listed, is still in progress: it may become any status, so it is never final. An order
"can never reach" a set of statuses when none of them is reachable from where it is by
these moves; so ``issued`` is final for ``until={"canceled"}`` but not for
``until={"revoked"}``.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from typing import Final

from ..models import OrderStatus

__all__ = ["LATER_STATUSES", "never_reaches"]

LATER_STATUSES: Final[Mapping[str, frozenset[str]]] = {
    OrderStatus.ISSUED: frozenset(
        {OrderStatus.REISSUE_PENDING, OrderStatus.REVOKED, OrderStatus.EXPIRED, OrderStatus.RENEWED}
    ),
    OrderStatus.REISSUE_PENDING: frozenset({OrderStatus.ISSUED}),
    OrderStatus.EXPIRED: frozenset({OrderStatus.RENEWED}),
    OrderStatus.RENEWED: frozenset({OrderStatus.NOT_RENEWED}),
    OrderStatus.NOT_RENEWED: frozenset({OrderStatus.RENEWED}),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.CANCELED: frozenset(),
    OrderStatus.REVOKED: frozenset(),
    OrderStatus.DENIED: frozenset(),
}
"""Status -> the statuses an order in it may move to next, for the statuses whose moves
DigiCert documents; a status not listed here may become any status."""


@functools.cache
def _reachable(status: str) -> frozenset[str]:
    """Every status an order in ``status`` (a listed one) may ever be in after it."""
    seen: set[str] = set()
    todo = [status]
    while todo:
        for later in LATER_STATUSES[todo.pop()]:
            if later not in seen:
                seen.add(later)
                if later in LATER_STATUSES:
                    todo.append(later)
    return frozenset(seen)


def never_reaches(status: str | None, until: Collection[str]) -> bool:
    """Whether an order in ``status`` is not in ``until`` and can never get there: no
    status of ``until`` is reachable from it. False for a status still in progress, for
    one not listed in :data:`LATER_STATUSES`, and for None (not known yet)."""
    if status is None or status in until or status not in LATER_STATUSES:
        return False
    return _reachable(status).isdisjoint(until)
