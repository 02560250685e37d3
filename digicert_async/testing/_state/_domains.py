"""The account's domains and their validation, the order DCV tokens, and a fake DNS.

A domain is validated when a DCV check finds its token (in the fake DNS, or as a file on
the fake web); the validation is reusable for ``reuse`` lifecycle seconds (None: for
ever), after which the domain is stale and an order naming it waits for DCV again (when
the account holds orders for DCV, ``FakeCertCentral(dcv_required=True)``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ._clock import LifecycleClock
from ._records import JSONDict, StoredOrder, iso

DOMAIN_ID_BASE = 800001
TOKEN_METHODS = frozenset({"dns-txt-token", "dns-cname-token", "http-token"})
DOMAIN_METHODS = TOKEN_METHODS | {"email"}
ORDER_METHODS = frozenset({"email", "dns-txt-token", "http-token"})
HTTP_TOKEN_PATH = "/.well-known/pki-validation/fileauth.txt"
CNAME_TARGET = "dcv.digicert.com"
TOKEN_LIFETIME = timedelta(days=30)


def new_token() -> str:
    return secrets.token_hex(16)


def base_name(name: str) -> str:
    """A name as DCV proves it: lower case, no trailing dot, a wildcard on its base."""
    name = name.strip().lower().rstrip(".")
    return name[2:] if name.startswith("*.") else name


class FakeDns:
    """What ``publish`` puts in place and the fake's DCV check reads: DNS records (TXT,
    CNAME) by name, and HTTP files by URL.

    ``publish(record)`` and ``unpublish(record)`` are ``async`` and take a
    ``dc.DcvRecord`` (anything with ``type``, ``name``, ``value`` and, for HTTP,
    ``path``), so ``DcvDriver(publish=fake.dns.publish, unpublish=fake.dns.unpublish)``
    works as is. A record becomes visible to the check ``propagation`` lifecycle
    seconds after it was published: a check before then does not find it.
    """

    def __init__(self, clock: LifecycleClock, propagation: float = 0.0) -> None:
        self._clock = clock
        self.propagation = propagation
        self._records: dict[tuple[str, str, str], float] = {}  # (type, name, value) -> visible at
        self.published_count = 0
        self.removed_count = 0

    @staticmethod
    def _key(record: Any) -> tuple[str, str, str]:
        kind = str(record.type).upper()
        name = str(record.name).lower().rstrip(".")
        if kind == "HTTP":
            name = f"http://{name}{record.path or ''}"
        return kind, name, str(record.value)

    async def publish(self, record: Any) -> None:
        self.put(*self._key(record))

    async def unpublish(self, record: Any) -> None:
        self.remove(*self._key(record))

    def put(self, kind: str, name: str, value: str) -> None:
        """Publish ``value`` as a ``kind`` record at ``name`` (an HTTP file: its URL)."""
        self._records[(kind.upper(), name.lower().rstrip("."), value)] = (
            self._clock.time() + self.propagation
        )
        self.published_count += 1

    def remove(self, kind: str, name: str, value: str) -> None:
        if self._records.pop((kind.upper(), name.lower().rstrip("."), value), None) is not None:
            self.removed_count += 1

    def records(self) -> list[tuple[str, str, str]]:
        """What is published now (visible or still propagating): (type, name, value)."""
        return sorted(self._records)

    def finds(self, kind: str, name: str, value: str) -> bool:
        """Whether a check now sees ``value`` as a ``kind`` record at ``name``."""
        visible_at = self._records.get((kind.upper(), name.lower().rstrip("."), value))
        return visible_at is not None and visible_at <= self._clock.time()

    def proves(self, method: str, name: str, token: str) -> bool:
        """Whether the token of ``method`` for ``name`` is in place and visible."""
        if method == "dns-txt-token":
            return self.finds("TXT", name, token)
        if method == "dns-cname-token":
            return self.finds("CNAME", f"{token}.{name}", CNAME_TARGET)
        if method == "http-token":
            return self.finds("HTTP", f"http://{name}{HTTP_TOKEN_PATH}", token)
        return False


@dataclass
class StoredDomain:
    id: int
    name: str
    organization: JSONDict
    validation_types: list[str]
    created: datetime
    dcv_method: str = "email"
    token: str | None = None
    token_expires: datetime | None = None
    is_active: bool = True
    validated_at: float | None = None  # lifecycle seconds of the last passed check
    approved: datetime | None = None  # wall clock of the same


@dataclass
class OrderDcv:
    """An order's DCV: its method and random value."""

    method: str = "email"
    token: str | None = None
    expires: datetime | None = None
    emails_sent: int = 0


class DomainBook(dict[int, StoredDomain]):
    """The account's domains by id, the order DCV states, and when a validation goes
    stale (``reuse`` lifecycle seconds after it passed; None: never)."""

    def __init__(self, clock: LifecycleClock, reuse: float | None = None) -> None:
        super().__init__()
        self._clock = clock
        self.reuse = reuse
        self.orders: dict[int, OrderDcv] = {}
        self._next_id = DOMAIN_ID_BASE

    def add(
        self,
        name: str,
        organization: JSONDict,
        now: datetime,
        *,
        types: list[str] | None = None,
        method: str = "email",
        validated: bool = False,
    ) -> StoredDomain:
        domain = StoredDomain(
            self._next_id, base_name(name), organization, list(types or ["ov"]), now, method
        )
        self._next_id += 1
        if method in TOKEN_METHODS:
            self.new_token(domain, now)
        if validated:
            self.passed(domain, now)
        self[domain.id] = domain
        return domain

    def new_token(self, domain: StoredDomain, now: datetime) -> None:
        domain.token = new_token()
        domain.token_expires = now + TOKEN_LIFETIME

    def named(self, name: str) -> StoredDomain | None:
        """The domain whose validation covers ``name``: itself, or a parent domain."""
        wanted = base_name(name)
        by_name = {d.name: d for d in self.values()}
        labels = wanted.split(".")
        for start in range(len(labels) - 1):
            found = by_name.get(".".join(labels[start:]))
            if found is not None:
                return found
        return None

    def passed(self, domain: StoredDomain, now: datetime) -> None:
        domain.validated_at = self._clock.time()
        domain.approved = now

    def valid(self, domain: StoredDomain) -> bool:
        """Validated, and not stale."""
        if domain.validated_at is None or not domain.is_active:
            return False
        return self.reuse is None or self._clock.time() - domain.validated_at < self.reuse

    def expires(self, domain: StoredDomain, now: datetime) -> datetime | None:
        """When the validation stops being reusable, on the wall clock ``now`` reads: the
        lifecycle seconds it has left, from now (in the past once stale)."""
        if domain.validated_at is None or self.reuse is None:
            return None
        left = domain.validated_at + self.reuse - self._clock.time()
        return now + timedelta(seconds=left)

    def order_dcv(self, order_id: int) -> OrderDcv:
        return self.orders.setdefault(order_id, OrderDcv())

    def document(
        self, domain: StoredDomain, now: datetime, *, dcv: bool = False, validation: bool = False
    ) -> JSONDict:
        doc: JSONDict = {
            "id": domain.id,
            "is_active": domain.is_active,
            "name": domain.name,
            "date_created": iso(domain.created),
            "organization": dict(domain.organization),
            "dcv_method": domain.dcv_method,
        }
        if domain.approved is not None:
            doc["dcv_approval_datetime"] = iso(domain.approved)
        expires = self.expires(domain, now)
        if expires is not None:
            day = expires.date().isoformat()
            doc["dcv_expiration"] = {"ov": day, "ev": day}
        if validation:
            status = "active" if self.valid(domain) else "pending"
            doc["validations"] = [
                {"type": kind, "name": kind.upper(), "status": status,
                 "dcv_status": "complete" if self.valid(domain) else "pending"}
                for kind in domain.validation_types
            ]  # fmt: skip
        if dcv:
            doc["dcv"] = {"method": domain.dcv_method, "name_scope": domain.name}
            if domain.token is not None and domain.dcv_method in TOKEN_METHODS:
                doc["dcv"]["dcv_token"] = token_document(domain)
        return doc


def token_document(domain: StoredDomain) -> JSONDict:
    doc: JSONDict = {"token": domain.token, "status": "pending"}
    if domain.token_expires is not None:
        doc["expiration_date"] = iso(domain.token_expires)
    if domain.dcv_method == "dns-cname-token":
        doc["verification_value"] = CNAME_TARGET
    return doc


def order_names(order: StoredOrder) -> list[str]:
    """The names an order's DCV proves, each once (a wildcard on its base)."""
    certificate = order.info.get("certificate") or {}
    names = [certificate.get("common_name"), *(certificate.get("dns_names") or [])]
    seen: dict[str, None] = {}
    for name in names:
        if isinstance(name, str) and name:
            seen.setdefault(base_name(name))
    return list(seen)
