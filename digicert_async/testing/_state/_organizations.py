"""The account's organizations.

Today an organization is a name under an id, enough for orders to name one or make one.
The validation states of organizations (and the account's domains, a book of their own
beside this one) belong here, in the state package, not in the routes that show them.
"""

from __future__ import annotations

from datetime import datetime

from ._records import DEFAULT_ORGANIZATION, JSONDict, iso

ORGANIZATION_ID_BASE = 700001


class OrganizationBook(dict[int, str]):
    """Organization names by id (the default organization held from the start), and the
    next id; the details an organization was created with (``details``) and the
    validations it was submitted for (``validations``: type -> when)."""

    def __init__(self) -> None:
        super().__init__({DEFAULT_ORGANIZATION[0]: DEFAULT_ORGANIZATION[1]})
        self._next_id = ORGANIZATION_ID_BASE
        self.details: dict[int, JSONDict] = {}
        self.validations: dict[int, dict[str, datetime]] = {}

    def submit(self, org_id: int, kind: str, now: datetime) -> None:
        """Submit the organization for validation of ``kind`` (``ov``, ``ev``...): the fake
        takes it as ``pending`` (DigiCert's staff validate organizations, not a clock)."""
        self.validations.setdefault(org_id, {}).setdefault(kind, now)

    def document(self, org_id: int) -> JSONDict:
        """The organization as its details (and the listing) show it."""
        name = self[org_id]
        doc: JSONDict = {
            "id": org_id,
            "status": "active",
            "name": name,
            "display_name": name,
            "is_active": True,
        }
        doc.update(self.details.get(org_id, {}))
        submitted = self.validations.get(org_id)
        if submitted:
            doc["validations"] = [
                {"type": kind, "name": kind.upper(), "status": "pending",
                 "date_created": iso(when)}
                for kind, when in submitted.items()
            ]  # fmt: skip
        return doc

    def add(self, name: str) -> int:
        """Add an organization named ``name``; returns its new id."""
        org_id = self._next_id
        self._next_id += 1
        self[org_id] = name
        return org_id
