"""``OrderOrganization`` (orders.create) and ``OrganizationRef`` (document signing) share
the organization's fields and the new-or-existing rule through one base; each keeps its
public name and its wire shape."""

from __future__ import annotations

import attrs
import pytest

import digicert_async as dc
from digicert_async.models._organization import OrganizationDetails

SHARED = [
    "id",
    "skip_duplicate_org_check",
    "name",
    "assumed_name",
    "address",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "telephone",
]
NEW = {"name": "Example", "address": "1 Main St", "city": "Lehi", "state": "UT", "zip": "84043"}


def test_both_share_the_eleven_fields_in_wire_order() -> None:
    assert [f.name for f in attrs.fields(OrganizationDetails)] == SHARED
    assert [f.name for f in attrs.fields(dc.OrderOrganization)] == [*SHARED, "contacts"]
    assert [f.name for f in attrs.fields(dc.OrganizationRef)] == [
        *SHARED,
        "organization_contact",
    ]
    assert dc.OrderOrganization.__name__ == "OrderOrganization"
    assert dc.OrganizationRef.__name__ == "OrganizationRef"


def test_the_wire_shape_of_each_is_unchanged() -> None:
    contact = dc.OrderContact(contact_type="organization_contact", user_id=5)
    order_org = dc.OrderOrganization(**NEW, country="us", telephone="555", contacts=[contact])
    assert list(dc.converter.unstructure(order_org)) == [
        "name", "address", "city", "state", "zip", "country", "telephone", "contacts"
    ]  # fmt: skip
    assert dc.converter.unstructure(dc.OrganizationRef(id=7)) == {"id": 7}


@pytest.mark.parametrize(
    ("cls", "needed"),
    [
        (dc.OrderOrganization, "name, address, city, state, zip, country"),
        (dc.OrganizationRef, "name, address, city, state, zip, country, organization_contact"),
    ],
)
def test_an_organization_is_an_existing_one_or_a_whole_new_one(
    cls: type[OrganizationDetails], needed: str
) -> None:
    cls(id=3)
    with pytest.raises(dc.ValidationError) as none:
        cls(telephone="555")
    assert (none.value.field, none.value.message) == (
        "organization.id",
        f"required unless the details of a new organization are given ({needed})",
    )
    with pytest.raises(dc.ValidationError) as partial:
        cls(**NEW)
    assert (partial.value.field, partial.value.message) == (
        "organization.country",
        "required for a new organization (when organization.id is not given)",
    )
    with pytest.raises(dc.ValidationError, match=r"organization\.city"):
        cls(id=3, city="")
