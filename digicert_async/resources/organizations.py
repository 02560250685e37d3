"""``client.organizations``: the account's organizations and their validations."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Mapping
from typing import Any

import attrs

from .._checks import check_id, check_text, describe
from .._converter import converter
from .._decode import read_identified, read_model, read_nothing
from .._errors import ValidationError
from .._pipeline import Requester
from ..models import NewOrganization, Organization, OrganizationCreated, Validation, ValidationType
from ..models._common import response_model
from ._base import Listing, check_page_size, listing_params
from ._requests_in import request_model

__all__ = ["OrganizationsResource"]

ORGANIZATIONS = "/organization"
ORGANIZATION = "/organization/{organization_id}"
VALIDATIONS = "/organization/{organization_id}/validation"


@response_model
@attrs.frozen(kw_only=True)
class _ValidationList:
    validations: list[Validation] = attrs.field(factory=list)


_ORGANIZATION = read_identified(Organization, "organization_id")
_CREATED = read_identified(OrganizationCreated)
_VALIDATION_LIST = read_model(_ValidationList)


def validation_types(types: object, field: str = "validations") -> builtins.list[ValidationType]:
    """``types`` (``"ov"``, or several: ``["ov", "ev"]``) as the request's entries, each
    once, checked before sending."""
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, Collection) or isinstance(types, Mapping) or not types:
        raise ValidationError(
            field, f"expected one validation type or several, got {describe(types)}"
        )
    entries: builtins.list[ValidationType] = []
    for index, kind in enumerate(types):
        name = check_text(f"{field}[{index}]", kind)
        if all(entry.type != name for entry in entries):
            entries.append(ValidationType(type=name))
    return entries


class OrganizationsResource:
    """Organizations: ``client.organizations``."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def list(
        self,
        *,
        filters: Mapping[str, object] | None = None,
        sort: str | None = None,
        page_size: int = 1000,
    ) -> Listing[Organization]:
        """Iterate over every organization of the account, ``page_size`` per request
        (``filters={"search": "Example"}`` becomes ``filters[search]=Example``)."""
        params = listing_params(status=None, filters=filters, sort=sort, statuses=())
        size = check_page_size(page_size)
        return Listing(self._requester, ORGANIZATIONS, params, size, "organizations", Organization)

    async def get(self, organization_id: int) -> Organization:
        """One organization's details, its contact and validations included."""
        check_id("organization_id", organization_id)
        return await self._requester.call(
            "GET", ORGANIZATION, _ORGANIZATION, path_args={"organization_id": organization_id}
        )

    async def create(
        self, organization: NewOrganization | Mapping[str, Any]
    ) -> OrganizationCreated:
        """Create an organization (``POST /organization``); returns its ``id``.

        ``organization`` is a :class:`~digicert_async.NewOrganization` or its wire form as
        a mapping (a key the model does not know is a ``ValidationError``). Checked before
        anything is sent: the two-letter country code, the address fields and the
        contact's name, email and telephone. Sent once, like every POST.
        """
        body = converter.unstructure(request_model(organization, NewOrganization, "organization"))
        return await self._requester.call("POST", ORGANIZATIONS, _CREATED, json=body)

    async def submit_for_validation(
        self, organization_id: int, types: str | Collection[str]
    ) -> None:
        """Submit an organization for validation of one type or several (``"ov"``,
        ``["ov", "ev"]``...), so that orders naming it need not wait for it."""
        check_id("organization_id", organization_id)
        entries = validation_types(types)
        body = {"validations": [converter.unstructure(entry) for entry in entries]}
        await self._requester.call(
            "POST",
            VALIDATIONS,
            read_nothing,
            path_args={"organization_id": organization_id},
            json=body,
        )

    async def validations(self, organization_id: int) -> builtins.list[Validation]:
        """The organization's validations: each type's ``status`` and, once done,
        ``validated_until``."""
        check_id("organization_id", organization_id)
        answer = await self._requester.call(
            "GET", VALIDATIONS, _VALIDATION_LIST, path_args={"organization_id": organization_id}
        )
        return answer.validations
