"""The ``organization`` object an order names: the fields every product's ordering page
shares, and the rule that an organization is an existing one by ``id`` or a new one by
its details. :class:`~digicert_async.OrderOrganization` and
:class:`~digicert_async.OrganizationRef` add the contacts, which differ by product.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from digicert_async._errors import ValidationError

from ._common import boolean, identifier, text

__all__ = ["OrganizationDetails"]


def _detail(name: str) -> Any:
    return attrs.field(default=None, validator=text(f"organization.{name}", optional=True))


@attrs.frozen(kw_only=True)
class OrganizationDetails:
    """``organization``: an existing organization by ``id``, or a new one by the
    details :attr:`NEW_ORGANIZATION` names (all of them)."""

    NEW_ORGANIZATION: ClassVar[tuple[str, ...]] = (
        "name",
        "address",
        "city",
        "state",
        "zip",
        "country",
    )
    """What a new organization needs, in wire order (a subclass adds its contact)."""

    id: int | None = attrs.field(
        default=None, validator=identifier("organization.id", optional=True)
    )
    skip_duplicate_org_check: bool | None = attrs.field(
        default=None, validator=boolean("organization.skip_duplicate_org_check", optional=True)
    )
    name: str | None = _detail("name")
    assumed_name: str | None = _detail("assumed_name")
    address: str | None = _detail("address")
    address2: str | None = _detail("address2")
    city: str | None = _detail("city")
    state: str | None = _detail("state")
    zip: str | None = _detail("zip")
    country: str | None = _detail("country")
    telephone: str | None = _detail("telephone")

    def __attrs_post_init__(self) -> None:
        if self.id is not None:
            return
        needed = self.NEW_ORGANIZATION
        missing = [name for name in needed if getattr(self, name) is None]
        if len(missing) == len(needed):
            raise ValidationError(
                "organization.id",
                "required unless the details of a new organization are given"
                f" ({', '.join(needed)})",
            )
        if missing:
            raise ValidationError(
                f"organization.{missing[0]}",
                "required for a new organization (when organization.id is not given)",
            )
