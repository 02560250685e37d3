"""The account's organizations.

Today an organization is a name under an id, enough for orders to name one or make one.
The validation states of organizations (and the account's domains, a book of their own
beside this one) belong here, in the state package, not in the routes that show them.
"""

from __future__ import annotations

from ._records import DEFAULT_ORGANIZATION

ORGANIZATION_ID_BASE = 700001


class OrganizationBook(dict[int, str]):
    """Organization names by id (the default organization held from the start), and the
    next id."""

    def __init__(self) -> None:
        super().__init__({DEFAULT_ORGANIZATION[0]: DEFAULT_ORGANIZATION[1]})
        self._next_id = ORGANIZATION_ID_BASE

    def add(self, name: str) -> int:
        """Add an organization named ``name``; returns its new id."""
        org_id = self._next_id
        self._next_id += 1
        self[org_id] = name
        return org_id
