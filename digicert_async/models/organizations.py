"""Organizations: their details and validations, and the request that creates one."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import attrs

from digicert_async._checks import describe
from digicert_async._errors import ValidationError

from ._common import (
    ResponseModel,
    StrFlag,
    User,
    boolean,
    instance_of,
    list_of,
    response_model,
    text,
)
from .orders import Container

__all__ = [
    "NewOrganization",
    "NewOrganizationContact",
    "Organization",
    "OrganizationContactDetails",
    "OrganizationCreated",
    "Validation",
    "ValidationType",
]

_COUNTRY = re.compile(r"[A-Za-z]{2}")


@response_model
@attrs.frozen(kw_only=True)
class Validation(ResponseModel):
    """One validation of an organization or a domain: its ``type`` (``ov``, ``ev``,
    ``cs``...), ``status`` (``active``, ``pending``, ``expired``...) and, once done,
    ``validated_until``, the moment it can no longer be reused. A domain's validation
    also carries its ``dcv_status``; an EV one names its ``verified_users``."""

    type: str | None = None
    name: str | None = None
    description: str | None = None
    date_created: datetime | None = None
    validated_until: datetime | None = None
    status: str | None = None
    dcv_status: str | None = None
    verified_users: list[User] | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrganizationContactDetails(ResponseModel):
    """``organization_contact`` of an organization's details."""

    id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    job_title: str | None = None
    telephone: str | None = None
    telephone_extension: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class Organization(ResponseModel):
    """``GET /organization/{organization_id}`` and the items of the organization listing.

    ``validations`` (what the organization is validated for, and until when) come with
    the listing and the details when DigiCert includes them. ``is_active`` is read from
    ``true`` or ``"1"`` alike (domain listings send the string). ``zip`` is kept as sent.
    """

    id: int
    status: str | None = None
    name: str | None = None
    assumed_name: str | None = None
    display_name: str | None = None
    is_active: StrFlag | None = None
    address: str | None = None
    address2: str | None = None
    zip: str | int | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    telephone: str | None = None
    container: Container | None = None
    organization_contact: OrganizationContactDetails | None = None
    technical_contact: OrganizationContactDetails | None = None
    validations: list[Validation] | None = None
    ev_approvers: list[User] | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrganizationCreated(ResponseModel):
    """The answer to ``POST /organization``: the new organization's ``id``."""

    id: int


# --------------------------------------------------------------------------- requests


def _check_country(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not _COUNTRY.fullmatch(value):
        raise ValidationError(
            "organization.country",
            f"must be a two-letter ISO 3166 country code (us, de...), got {describe(value)}",
        )


def _contact_text(name: str, *, optional: bool = False) -> Any:
    path = f"organization.organization_contact.{name}"
    if optional:
        return attrs.field(default=None, validator=text(path, optional=True))
    return attrs.field(validator=text(path))


@attrs.frozen(kw_only=True)
class NewOrganizationContact:
    """``organization_contact`` of a new organization: the person DigiCert contacts to
    validate it. Name, email and telephone are required."""

    first_name: str = _contact_text("first_name")
    last_name: str = _contact_text("last_name")
    email: str = _contact_text("email")
    telephone: str = _contact_text("telephone")
    job_title: str | None = _contact_text("job_title", optional=True)
    telephone_extension: str | None = _contact_text("telephone_extension", optional=True)

    def __attrs_post_init__(self) -> None:
        if "@" not in self.email.strip()[1:-1]:
            raise ValidationError(
                "organization.organization_contact.email", f"not an email address: {self.email!r}"
            )


@attrs.frozen(kw_only=True)
class ValidationType:
    """One entry of ``validations`` in a request: the ``type`` to validate for (``ov``,
    ``ev``, ``cs``, ``ev_cs``, ``ds``...)."""

    type: str = attrs.field(validator=text("validations.type"))


def is_validation_type(path: str, value: object) -> None:
    if not isinstance(value, ValidationType):
        raise ValidationError(path, f"expected ValidationType, got {describe(value)}")


def _org_text(name: str, *, optional: bool = False) -> Any:
    return attrs.field(
        default=None if optional else attrs.NOTHING,
        validator=text(f"organization.{name}", optional=optional),
    )


@attrs.frozen(kw_only=True)
class NewOrganization:
    """Body of ``POST /organization`` (Create organization).

    ``name``, ``address``, ``city``, ``state``, ``zip``, ``country`` (a two-letter ISO
    country code), ``telephone`` and ``organization_contact`` are required. With
    ``validations`` the organization is submitted for validation in the same request.
    ``skip_duplicate_org_check=True`` creates it even when one with the same details
    exists (DigiCert refuses the duplicate otherwise).
    """

    name: str = _org_text("name")
    assumed_name: str | None = _org_text("assumed_name", optional=True)
    address: str = _org_text("address")
    address2: str | None = _org_text("address2", optional=True)
    zip: str = _org_text("zip")
    city: str = _org_text("city")
    state: str = _org_text("state")
    country: str = attrs.field(validator=_check_country)
    telephone: str = _org_text("telephone")
    organization_contact: NewOrganizationContact = attrs.field(
        validator=instance_of("organization.organization_contact", NewOrganizationContact)
    )
    validations: list[ValidationType] | None = attrs.field(
        default=None,
        validator=list_of("organization.validations", is_validation_type, optional=True),
    )
    skip_duplicate_org_check: bool | None = attrs.field(
        default=None, validator=boolean("organization.skip_duplicate_org_check", optional=True)
    )
