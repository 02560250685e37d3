"""What DCV needs published, and where: the records of a token method for the names of an
order or a domain (pure), and :func:`dcv_instructions`, which reads them from DigiCert.

The places are DigiCert's: for ``dns-txt-token`` a TXT record on the name itself holding
the random value; for ``dns-cname-token`` a CNAME from ``<random value>.<name>`` to
``dcv.digicert.com`` (or the ``verification_value`` DigiCert gives); for ``http-token``
the random value as the file ``/.well-known/pki-validation/fileauth.txt`` served over
``http://`` on exactly that name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

import attrs

from ._checks import check_id, describe
from ._client import CertCentralClient
from ._errors import ResponseError, ValidationError
from .models import Domain, Order

__all__ = [
    "DCV_TOKEN_METHODS",
    "DcvInstructions",
    "DcvRecord",
    "dcv_instructions",
    "domain_instructions",
    "order_names",
    "records_for",
]

DCV_TOKEN_METHODS: Final = frozenset({"dns-txt-token", "dns-cname-token", "http-token"})
"""The DCV methods that publish something (``email`` publishes nothing)."""

HTTP_TOKEN_PATH: Final = "/.well-known/pki-validation/fileauth.txt"
CNAME_TARGET: Final = "dcv.digicert.com"


@attrs.frozen(kw_only=True)
class DcvRecord:
    """One thing to publish for DCV, as a DNS tool or a web server takes it.

    ``domain`` is the name DigiCert validates. ``type`` is ``TXT`` or ``CNAME`` (a DNS
    record: its owner ``name`` and its ``value``) or ``HTTP`` (a file: ``name`` is the
    host, ``path`` the URL path and ``value`` the file's whole content; :attr:`url` is
    where DigiCert fetches it).
    """

    domain: str
    type: str
    name: str
    value: str
    path: str | None = None

    @property
    def url(self) -> str | None:
        """``http://<name><path>`` for an HTTP file; None for a DNS record."""
        return None if self.path is None else f"http://{self.name}{self.path}"


@attrs.frozen(kw_only=True)
class DcvInstructions:
    """What must be published for an order's or a domain's DCV (``records``), with the
    ``method``, the random value (``token``) and when it expires (``expires``, when
    DigiCert says)."""

    method: str
    token: str
    records: tuple[DcvRecord, ...]
    expires: datetime | None = None
    order_id: int | None = None
    domain_id: int | None = None


def _check_method(method: object, allowed: Iterable[str] = DCV_TOKEN_METHODS) -> str:
    allowed = frozenset(allowed)
    if method == "email":
        raise ValidationError(
            "method", "email publishes nothing (DigiCert mails the approvers; resend_dcv_emails)"
        )
    if not isinstance(method, str) or method not in allowed:
        listing = ", ".join(sorted(allowed))
        raise ValidationError("method", f"must be one of {listing}, got {describe(method)}")
    return method


def _check_token(token: object) -> str:
    if not isinstance(token, str) or not token.strip() or any(c.isspace() for c in token):
        raise ValidationError("token", f"not a usable random value: {describe(token)}")
    return token


def records_for(
    method: str, token: str, names: Iterable[str], *, cname_target: str | None = None
) -> tuple[DcvRecord, ...]:
    """The records that prove control of ``names`` by ``method`` with ``token`` (pure).

    A wildcard ``*.example.com`` is proven on ``example.com`` for the DNS methods; the
    HTTP method cannot prove a wildcard (a ``ValidationError``). Names are read without
    case and each is given once.
    """
    method = _check_method(method)
    token = _check_token(token)
    records: list[DcvRecord] = []
    seen: set[str] = set()
    for raw in names:
        name = raw.strip().lower().rstrip(".")
        if name.startswith("*."):
            if method == "http-token":
                raise ValidationError(
                    "method", f"http-token cannot prove the wildcard {raw!r}; use a DNS method"
                )
            name = name[2:]
        if not name or name in seen:
            continue
        seen.add(name)
        if method == "dns-txt-token":
            records.append(DcvRecord(domain=name, type="TXT", name=name, value=token))
        elif method == "dns-cname-token":
            target = cname_target or CNAME_TARGET
            records.append(
                DcvRecord(domain=name, type="CNAME", name=f"{token}.{name}", value=target)
            )
        else:
            records.append(
                DcvRecord(domain=name, type="HTTP", name=name, value=token, path=HTTP_TOKEN_PATH)
            )
    return tuple(records)


def order_names(order: Order) -> list[str]:
    """The names an order's certificate covers: its common name, then its other names."""
    certificate = order.certificate
    if certificate is None:
        return []
    names = [] if certificate.common_name is None else [certificate.common_name]
    return names + list(certificate.dns_names or ())


def _domain_token(domain: Domain, method: str) -> tuple[str | None, datetime | None, str | None]:
    """The domain's current token for ``method``, its expiry and CNAME target, if any."""
    dcv = domain.dcv
    if dcv is not None and dcv.method not in (None, method):
        return None, None, None
    if dcv is None and domain.dcv_method not in (None, method):
        return None, None, None
    token = (None if dcv is None else dcv.dcv_token) or domain.dcv_token
    if token is None or not token.token:
        return None, None, None
    return token.token, token.expiration_date, token.verification_value


async def domain_instructions(
    client: CertCentralClient, domain: Domain, method: str
) -> DcvInstructions:
    """What to publish for ``domain`` (read with its DCV) by ``method``: its token when it
    is already on ``method``, else the token DigiCert gives when the method is changed
    (one PUT)."""
    token, expires, target = _domain_token(domain, method)
    if token is None:
        fresh = await client.domains.change_dcv_method(domain.id, method)
        if fresh is None or not fresh.token:
            raise ResponseError(
                f"no dcv_token for {method} in the answer",
                method="PUT",
                url=f"/domain/{domain.id}/dcv/method",
                status=200,
                body="",
                field="dcv_token",
            )
        token, expires, target = fresh.token, fresh.expiration_date, fresh.verification_value
    scope = (None if domain.dcv is None else domain.dcv.name_scope) or domain.name
    return DcvInstructions(
        method=method,
        token=token,
        expires=expires,
        records=records_for(method, token, [scope] if scope else [], cname_target=target),
        domain_id=domain.id,
    )


async def dcv_instructions(
    client: CertCentralClient,
    *,
    order_id: int | None = None,
    domain_id: int | None = None,
    method: str = "dns-txt-token",
) -> DcvInstructions:
    """Exactly what must be published to pass DCV for an order or a domain by ``method``
    (``dns-txt-token``, ``dns-cname-token`` for a domain, or ``http-token``).

    For an order (``order_id``): the order is read (its names) and its DCV method set to
    ``method`` (``client.orders.change_dcv_method``, one PUT), whose answer is the random
    value DigiCert will look for: a value published before it no longer counts, so act on
    the latest instructions only. For a domain (``domain_id``):
    the domain is read with its DCV; its token is used when the domain is already set to
    ``method``, else the method is changed to ``method`` (one PUT), which gives a new
    token. Give one of ``order_id`` and ``domain_id``.
    """
    if (order_id is None) == (domain_id is None):
        raise ValidationError("order_id", "give one of order_id and domain_id")
    if order_id is not None:
        check_id("order_id", order_id)
        method = _check_method(method, ("dns-txt-token", "http-token"))
        order = await client.orders.get(order_id)
        value = await client.orders.change_dcv_method(order_id, method)
        if value is None:  # a token method answers with its value; ask for it if not
            value = await client.orders.dcv_random_value(order_id)
        return DcvInstructions(
            method=method,
            token=value.dcv_random_value,
            expires=value.expiration_date,
            records=records_for(method, value.dcv_random_value, order_names(order)),
            order_id=order_id,
        )
    assert domain_id is not None
    check_id("domain_id", domain_id)
    method = _check_method(method)
    domain = await client.domains.get(domain_id, include_dcv=True)
    return await domain_instructions(client, domain, method)
