"""``FakeAccount``: the books of the fake account, its clocks, and the lifecycle that moves
its orders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ._certificates import CertificateBook
from ._clock import LifecycleClock
from ._domains import DomainBook, FakeDns, order_names
from ._lifecycle import Lifecycle
from ._orders import OrderBook
from ._organizations import OrganizationBook
from ._records import SEED_PRODUCTS, SEED_STATUSES, UTC, StoredOrder
from ._requests import RequestBook
from ._webhooks import WebhookBook


class FakeAccount:
    """The fake account: a book per kind of record, the clocks, and the lifecycle.

    ``orders``, ``certificates``, ``requests`` and ``organizations`` are dictionaries by id
    (with the next ids beside them); ``webhooks`` holds the account's one webhook and the
    events waiting to be pushed to it; ``lifecycle`` places, issues, reissues, revokes and
    decides, and applies what falls due on ``clock``.

    ``clock``: the wall clock (UTC) that dates the documents. ``issue_after``: lifecycle
    seconds from submission (or a reissue, or a duplicate) to issuance; None leaves orders
    where they are until a test moves them. ``realtime``: the lifecycle clock also runs
    with ``time.monotonic`` (a standalone fake, a demo); by default only ``advance`` moves
    it. ``intermediates``: CAs between the fake's root and its leaves. ``cross_signed``:
    the chains hold a cross-signed root as well.

    ``domains`` and ``dns`` are the account's domains (with their validation) and the fake
    DNS the DCV checks read. ``dcv_required``: an order (or a reissue) whose names are not
    all covered by a validated domain stays pending until a DCV check passes for them.
    ``validation_reuse``: lifecycle seconds a passed validation stays reusable (None: for
    ever). ``dns_propagation``: lifecycle seconds before a published record is seen.
    """

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        *,
        issue_after: float | None = 60.0,
        realtime: bool = False,
        intermediates: int = 1,
        cross_signed: bool = False,
        dcv_required: bool = False,
        validation_reuse: float | None = None,
        dns_propagation: float = 0.0,
    ) -> None:
        self._wall_clock = clock or (lambda: datetime.now(UTC))
        self.clock = LifecycleClock(issue_after, realtime=realtime)
        self.orders = OrderBook()
        self.certificates = CertificateBook(intermediates=intermediates, cross_signed=cross_signed)
        self.requests = RequestBook()
        self.organizations = OrganizationBook()
        self.lifecycle = Lifecycle(
            self.clock,
            self.now,
            orders=self.orders,
            certificates=self.certificates,
            requests=self.requests,
        )
        self.webhooks = WebhookBook()
        self.lifecycle.status_watchers.append(self.webhooks.order_moved)
        self.domains = DomainBook(self.clock, validation_reuse)
        self.dns = FakeDns(self.clock, dns_propagation)
        self.dcv_required = dcv_required
        if dcv_required:
            self.lifecycle.holds_for_dcv = self._holds_for_dcv

    def _holds_for_dcv(self, order: StoredOrder) -> bool:
        """Whether one of the order's names has no valid (validated, not stale) domain."""
        book = self.domains
        for name in order_names(order):
            domain = book.named(name)
            if domain is None or not book.valid(domain):
                return True
        return False

    def now(self) -> datetime:
        """The wall clock, UTC, whole seconds."""
        return self._wall_clock().astimezone(UTC).replace(microsecond=0)

    def seed(self, count: int) -> None:
        """Add ``count`` orders with a fixed mix of statuses, products and owners.

        Statuses cycle through ``SEED_STATUSES``, products through ``SEED_PRODUCTS``; every
        fifth order is placed by a subaccount (every tenth by a sub-subaccount, which the
        subaccount view shows without certificate and organization). Orders are dated one
        minute apart, the last one a minute ago.
        """
        now = self.now()
        for index in range(count):
            created = now - timedelta(minutes=count - index)
            by_subaccount = index % 5 == 4
            self.lifecycle.add_order(
                SEED_STATUSES[index % len(SEED_STATUSES)],
                product=SEED_PRODUCTS[index % len(SEED_PRODUCTS)],
                common_name=f"host{index + 1}.example.com",
                subaccount=by_subaccount,
                immediate=index % 10 != 9,
                created=created,
            )
