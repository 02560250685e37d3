"""Domains: their details, validations and DCV state, and the request that adds one."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

import attrs

from digicert_async._checks import describe
from digicert_async._errors import ValidationError

from ._common import (
    ResponseModel,
    StrFlag,
    boolean,
    choice,
    instance_of,
    list_of,
    response_model,
    text,
)
from .orders import Container
from .organizations import Validation, ValidationType, is_validation_type

__all__ = [
    "DOMAIN_DCV_METHODS",
    "DcvExpiration",
    "DcvInvitation",
    "Domain",
    "DomainCreated",
    "DomainDcv",
    "DomainDcvCheck",
    "DomainDcvToken",
    "DomainOrganization",
    "NewDomain",
    "OrganizationRefById",
]

DOMAIN_DCV_METHODS: Final = frozenset({"email", "dns-txt-token", "dns-cname-token", "http-token"})
"""The DCV methods a domain may be set to (DigiCert's glossary of DCV methods)."""


@response_model
@attrs.frozen(kw_only=True)
class DcvExpiration(ResponseModel):
    """``dcv_expiration`` of a domain: the day its domain validation stops being reusable
    for OV and for EV certificates."""

    ov: date | None = None
    ev: date | None = None


@response_model
@attrs.frozen(kw_only=True)
class DomainDcvToken(ResponseModel):
    """``dcv_token`` of a domain: the random value to publish, its ``status`` and the
    moment it expires. ``verification_value`` is the CNAME target (``dns-cname-token``);
    ``http_token_url`` where an ``http-token`` file goes, when DigiCert says."""

    token: str | None = None
    status: str | None = None
    expiration_date: datetime | None = None
    verification_value: str | None = None
    http_token_url: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class DcvInvitation(ResponseModel):
    """One DCV email sent for a domain: to whom, found where (``base``, ``whois``), when."""

    invitation_id: int | None = None
    email: str | None = None
    source: str | None = None
    date_sent: datetime | None = None
    name_scope: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class DomainDcv(ResponseModel):
    """``dcv`` of a domain's details (asked for with ``include_dcv=True``): the method in
    use, the scope it validates, the emails sent and, for a token method, the token."""

    method: str | None = None
    name_scope: str | None = None
    status: str | None = None
    dcv_token: DomainDcvToken | None = None
    dcv_invitations: list[DcvInvitation] | None = None


@response_model
@attrs.frozen(kw_only=True)
class DomainOrganization(ResponseModel):
    """The organization a domain belongs to, as domain answers embed it (``is_active`` is
    ``"1"`` there)."""

    id: int | None = None
    status: str | None = None
    name: str | None = None
    assumed_name: str | None = None
    display_name: str | None = None
    is_active: StrFlag | None = None


@response_model
@attrs.frozen(kw_only=True)
class Domain(ResponseModel):
    """``GET /domain/{domain_id}`` and the items of the domain listing.

    ``dcv_expiration`` holds the days the domain's validation stops being reusable (a
    reissue or renewal after that day waits for DCV again); ``validations`` and ``dcv``
    come when asked for (``include_validation``, ``include_dcv``).
    ``dcv_approval_datetime`` is when the last DCV check passed.
    """

    id: int
    name: str | None = None
    is_active: StrFlag | None = None
    status: str | None = None
    date_created: datetime | None = None
    organization: DomainOrganization | None = None
    validations: list[Validation] | None = None
    dcv: DomainDcv | None = None
    dcv_method: str | None = None
    dcv_token: DomainDcvToken | None = None
    dcv_approval_datetime: datetime | None = None
    dcv_expiration: DcvExpiration | None = None
    container: Container | None = None

    def validation_expires(self) -> date | None:
        """The first day the domain's validation can no longer be reused: the earlier of
        its OV and EV expiry, else the earliest ``validated_until`` of its validations;
        None when DigiCert says neither."""
        expiry = self.dcv_expiration
        days = [] if expiry is None else [d for d in (expiry.ov, expiry.ev) if d is not None]
        if not days:
            days = [v.validated_until.date() for v in self.validations or () if v.validated_until]
        return min(days) if days else None


@response_model
@attrs.frozen(kw_only=True)
class DomainCreated(ResponseModel):
    """The answer to ``POST /domain``: the new domain's ``id`` and, for a token method,
    the ``dcv_token`` to publish."""

    id: int
    dcv_token: DomainDcvToken | None = None


@response_model
@attrs.frozen(kw_only=True)
class DomainDcvCheck(ResponseModel):
    """The answer to ``PUT /domain/{domain_id}/dcv/validate-token``: the domain's DCV
    ``status`` after the check (``pending`` while the token is not found), and the token
    DigiCert looked for."""

    status: str | None = None
    dcv_status: str | None = None
    token: str | int | None = None


# --------------------------------------------------------------------------- requests


@attrs.frozen(kw_only=True)
class OrganizationRefById:
    """``organization`` of a new domain: the organization it belongs to, by id."""

    id: int = attrs.field()

    @id.validator
    def _check(self, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is not int or value <= 0:
            raise ValidationError(
                "domain.organization.id", f"expected a positive id, got {describe(value)}"
            )


@attrs.frozen(kw_only=True)
class NewDomain:
    """Body of ``POST /domain`` (Add domain): the domain ``name``, its ``organization``
    (by id), at least one validation type, and the ``dcv_method`` (one of
    :data:`~digicert_async.DOMAIN_DCV_METHODS`). ``keep_www=True`` keeps a leading
    ``www.`` that DigiCert would otherwise drop."""

    name: str = attrs.field(validator=text("domain.name"))
    organization: OrganizationRefById = attrs.field(
        validator=instance_of("domain.organization", OrganizationRefById)
    )
    validations: list[ValidationType] = attrs.field(
        validator=list_of("domain.validations", is_validation_type)
    )
    dcv_method: str | None = attrs.field(
        default=None, validator=choice("domain.dcv_method", DOMAIN_DCV_METHODS, optional=True)
    )
    keep_www: bool | None = attrs.field(
        default=None, validator=boolean("domain.keep_www", optional=True)
    )

    def __attrs_post_init__(self) -> None:
        if not self.validations:
            raise ValidationError("domain.validations", "at least one validation type is required")
