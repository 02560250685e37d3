"""``client.domains``: the account's domains, their validation and their DCV."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .._checks import check_id, describe
from .._converter import converter
from .._decode import read_identified, read_model, read_nothing
from .._errors import ValidationError
from .._pipeline import Requester, Response
from ..models import (
    DOMAIN_DCV_METHODS,
    Domain,
    DomainCreated,
    DomainDcvCheck,
    DomainDcvToken,
    NewDomain,
)
from ..models._common import choice, response_model
from ._base import Listing, check_page_size, listing_params
from ._requests_in import request_model

__all__ = ["DOMAIN_STATUSES", "DomainsResource"]

DOMAINS = "/domain"
DOMAIN = "/domain/{domain_id}"
ACTIVATE = "/domain/{domain_id}/activate"
DEACTIVATE = "/domain/{domain_id}/deactivate"
DCV_METHOD = "/domain/{domain_id}/dcv/method"
DCV_CHECK = "/domain/{domain_id}/dcv/validate-token"

DOMAIN_STATUSES = frozenset({"active", "inactive"})
"""What ``filters[status]`` of the domain listing takes."""


@response_model
@attrs.frozen(kw_only=True)
class _DcvMethodChanged:
    dcv_token: DomainDcvToken | None = None


@attrs.frozen(kw_only=True)
class _DcvMethodRequest:
    dcv_method: str = attrs.field(validator=choice("dcv_method", DOMAIN_DCV_METHODS))


_DOMAIN = read_identified(Domain, "domain_id")
_CREATED = read_identified(DomainCreated)
_DCV_CHECK = read_model(DomainDcvCheck)
_METHOD_CHANGED = read_model(_DcvMethodChanged)


def _read_token_or_nothing(response: Response) -> DomainDcvToken | None:
    """``{}`` or nothing (``email``), or ``{"dcv_token": ...}`` (a token method)."""
    if not response.body.strip():
        return None
    return _METHOD_CHANGED(response).dcv_token


def _flag(name: str, value: object) -> tuple[tuple[str, str], ...]:
    if type(value) is not bool:
        raise ValidationError(name, f"must be True or False, not {describe(value)}")
    return ((name, "true"),) if value else ()


class DomainsResource:
    """Domains: ``client.domains``."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def list(
        self,
        *,
        status: str | None = None,
        filters: Mapping[str, object] | None = None,
        sort: str | None = None,
        include_validation: bool = False,
        page_size: int = 1000,
    ) -> Listing[Domain]:
        """Iterate over every matching domain, ``page_size`` per request.

        ``status`` is ``active`` or ``inactive``; ``filters`` are DigiCert's
        (``{"search": "example.com"}``, ``{"organization_id": 12}``,
        ``{"container_id": 3}``) and ``sort`` its sort keys (``"-dcv_expiration_datetime"``).
        ``include_validation=True`` asks for each domain's ``validations``. Each domain's
        ``dcv_expiration`` (typed dates) says when its validation stops being reusable;
        :meth:`~digicert_async.Domain.validation_expires` reads it.
        """
        params = listing_params(status=status, filters=filters, sort=sort, statuses=DOMAIN_STATUSES)
        params += _flag("include_validation", include_validation)
        size = check_page_size(page_size)
        return Listing(self._requester, DOMAINS, params, size, "domains", Domain)

    async def get(
        self, domain_id: int, *, include_dcv: bool = False, include_validation: bool = False
    ) -> Domain:
        """One domain's details; ``include_dcv`` adds its DCV state (method, token,
        emails sent), ``include_validation`` its validations."""
        check_id("domain_id", domain_id)
        params = _flag("include_dcv", include_dcv) + _flag("include_validation", include_validation)
        return await self._requester.call(
            "GET", DOMAIN, _DOMAIN, path_args={"domain_id": domain_id}, params=params
        )

    async def create(self, domain: NewDomain | Mapping[str, Any]) -> DomainCreated:
        """Add a domain to an organization and submit it for validation
        (``POST /domain``); returns its ``id`` and, for a token method, the token to
        publish. ``domain`` is a :class:`~digicert_async.NewDomain` or its wire form,
        checked before sending. Sent once, like every POST."""
        body = converter.unstructure(request_model(domain, NewDomain, "domain"))
        return await self._requester.call("POST", DOMAINS, _CREATED, json=body)

    async def activate(self, domain_id: int) -> None:
        """Activate a domain (``PUT /domain/{domain_id}/activate``)."""
        check_id("domain_id", domain_id)
        await self._requester.call(
            "PUT", ACTIVATE, read_nothing, path_args={"domain_id": domain_id}
        )

    async def deactivate(self, domain_id: int) -> None:
        """Deactivate a domain: no new order may name it until it is activated again."""
        check_id("domain_id", domain_id)
        await self._requester.call(
            "PUT", DEACTIVATE, read_nothing, path_args={"domain_id": domain_id}
        )

    async def change_dcv_method(self, domain_id: int, method: str) -> DomainDcvToken | None:
        """Set the domain's DCV method (one of :data:`~digicert_async.DOMAIN_DCV_METHODS`).

        For a token method the answer is the new token to publish (a new random value
        each time the method changes); for ``email`` it is None.
        """
        check_id("domain_id", domain_id)
        body = converter.unstructure(_DcvMethodRequest(dcv_method=method))
        return await self._requester.call(
            "PUT",
            DCV_METHOD,
            _read_token_or_nothing,
            path_args={"domain_id": domain_id},
            json=body,
        )

    async def check_dcv(self, domain_id: int) -> DomainDcvCheck:
        """Ask DigiCert to look for the domain's token now (``dns-txt-token``,
        ``dns-cname-token`` or ``http-token``); the answer's ``status`` says whether
        it found it. Checking before the record is visible is an answer, not an error."""
        check_id("domain_id", domain_id)
        return await self._requester.call(
            "PUT", DCV_CHECK, _DCV_CHECK, path_args={"domain_id": domain_id}
        )
