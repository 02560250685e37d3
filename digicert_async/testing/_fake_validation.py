"""``FakeCertCentral``'s helpers for validation: the fake DNS, and domains and
organizations placed by a test."""

from __future__ import annotations

import copy
from typing import Any

from ._state import DEFAULT_ORGANIZATION, FakeAccount
from ._state._domains import FakeDns


class ValidationHelpers:
    """What a test reaches of the fake's organizations, domains and DNS."""

    _account: FakeAccount

    @property
    def dns(self) -> FakeDns:
        """The fake DNS (and web) that DCV checks read. ``fake.dns.publish`` and
        ``fake.dns.unpublish`` are ``async`` callables taking a ``dc.DcvRecord``:
        ``dc.DcvDriver(publish=fake.dns.publish, unpublish=fake.dns.unpublish)``."""
        return self._account.dns

    def add_organization(self, name: str, **details: Any) -> int:
        """Add an organization (``details`` are wire fields: ``country="us"``...); its id."""
        book = self._account.organizations
        org_id = book.add(name)
        book.details[org_id] = copy.deepcopy(details)
        return org_id

    def add_domain(
        self,
        name: str,
        *,
        validated: bool = True,
        method: str = "dns-txt-token",
        organization_id: int | None = None,
        types: list[str] | None = None,
        age: float = 0.0,
    ) -> int:
        """Add a domain; returns its id. With ``validated`` its validation passed ``age``
        lifecycle seconds ago (now by default): it goes stale ``validation_reuse`` seconds
        after that, at once when ``age`` is that long."""
        org_id = DEFAULT_ORGANIZATION[0] if organization_id is None else organization_id
        organization = {"id": org_id, "name": self._account.organizations[org_id]}
        domain = self._account.domains.add(
            name, organization, self._account.now(), types=types, method=method,
            validated=validated,
        )  # fmt: skip
        if domain.validated_at is not None:
            domain.validated_at -= age
        return domain.id

    def domain(self, domain_id: int) -> dict[str, Any] | None:
        """The domain as ``GET /domain/{id}?include_dcv=true&include_validation=true``
        shows it, or None."""
        book = self._account.domains
        stored = book.get(domain_id)
        return (
            None
            if stored is None
            else book.document(stored, self._account.now(), dcv=True, validation=True)
        )

    def domain_valid(self, name: str) -> bool:
        """Whether ``name`` is covered by a validated domain that is not stale now."""
        book = self._account.domains
        self._account.lifecycle.tick()
        domain = book.named(name)
        return domain is not None and book.valid(domain)

    def order_dcv_emails(self, order_id: int) -> int:
        """How many times the order's DCV emails were sent again."""
        return self._account.domains.order_dcv(order_id).emails_sent
