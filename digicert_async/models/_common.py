"""Pieces shared by the model modules: the ``"1"`` flag type, response classes used
by several resources, and the validators of the request models.

Request models validate themselves when they are built (directly or by the
converter) and raise :class:`~digicert_async._errors.ValidationError` naming the
field by its dotted wire path (``ship_info.method``), because a nested class is
only ever sent inside one request body. Response models never validate: the
server is the truth there. They are marked with :func:`response_model`, which
makes the converter read them liberally (see there).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, NewType, TypeVar

import attrs

from digicert_async._checks import check_id, check_text, describe
from digicert_async._errors import ValidationError

__all__ = [
    "OrganizationSummary",
    "Product",
    "StrFlag",
    "User",
    "is_response_model",
    "response_model",
]

StrFlag = NewType("StrFlag", bool)
"""A boolean DigiCert sends as a string, like ``is_multi_year_plan: "1"``.

The converter reads ``"1"``/``1``/``true`` as True and ``"0"``/``0``/``""``/``false``
as False, and writes ``"1"`` or ``"0"``.
"""

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]
_Class = TypeVar("_Class", bound=type)

_RESPONSE_MARK = "__digicert_response_model__"


def response_model(cls: _Class) -> _Class:
    """Mark an attrs class as a body DigiCert sends; the converter then reads it liberally.

    DigiCert's answers vary by product, status, account and API vintage, so a response
    model describes what the server *may* send:

    - only fields without a default are required (by convention, just what identifies
      the object an endpoint returns: an order's ``id``, a note's ``id``);
    - an object-valued field that arrives as ``[]``, ``{}`` or ``null`` is None (PHP
      writes an empty object as ``[]``: ``"organization": []`` on a DV order);
    - a list field without a default that is ``null`` is an empty list, and one that is
      absent takes its default (envelopes use ``factory=list``);
    - an empty string in a date, timestamp or number field is None.

    A value of the wrong type is still an error naming the field: nothing is coerced.
    Request models are never marked, so they stay strict.
    """
    setattr(cls, _RESPONSE_MARK, True)
    return cls


def is_response_model(cls: type) -> bool:
    """Whether ``cls`` was marked with :func:`response_model`."""
    return getattr(cls, _RESPONSE_MARK, False) is True


# --------------------------------------------------------------------------- validators


def text(path: str, *, optional: bool = False, non_empty: bool = True) -> Validator:
    """A string field; non-empty (after stripping) unless told otherwise."""

    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        check_text(path, value, non_empty)

    return check


def choice(path: str, allowed: Collection[str], *, optional: bool = False) -> Validator:
    """A string field restricted to ``allowed`` (case-sensitive, as DigiCert is)."""
    listing = ", ".join(sorted(allowed))

    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str):
            raise ValidationError(path, f"expected a string, got {describe(value)}")
        if value not in allowed:
            raise ValidationError(path, f"must be one of {listing}, got {value!r}")

    return check


def integer(
    path: str,
    *,
    optional: bool = False,
    allowed: Collection[int] | None = None,
) -> Validator:
    """An int field (a bool is not an int here), restricted to ``allowed`` if given."""

    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if type(value) is not int:
            raise ValidationError(path, f"expected an integer, got {describe(value)}")
        if allowed is not None and value not in allowed:
            listing = ", ".join(str(v) for v in sorted(allowed))
            raise ValidationError(path, f"must be one of {listing}, got {value}")

    return check


def identifier(path: str, *, optional: bool = False, allow: Collection[int] = ()) -> Validator:
    """A positive int id (plus the special values in ``allow``)."""

    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        check_id(path, value, allow=allow)

    return check


def boolean(path: str, *, optional: bool = False) -> Validator:
    """A real bool (not 0/1, not "true")."""

    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if type(value) is not bool:
            raise ValidationError(path, f"expected true or false, got {describe(value)}")

    return check


def instance_of(path: str, cls: type, *, optional: bool = False) -> Validator:
    """A nested model object of class ``cls``."""

    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, cls):
            raise ValidationError(path, f"expected {cls.__name__}, got {describe(value)}")

    return check


def list_of(path: str, item: Callable[[str, Any], None], *, optional: bool = False) -> Validator:
    """A list whose items each pass ``item(item_path, value)``."""

    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, list):
            raise ValidationError(path, f"expected a list, got {describe(value)}")
        for index, element in enumerate(value):
            item(f"{path}[{index}]", element)

    return check


# --------------------------------------------------------------------------- shared responses


@response_model
@attrs.frozen(kw_only=True)
class User:
    """A CertCentral user, as embedded in notes and orders."""

    id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrganizationSummary:
    """The organization of an order, as embedded in order details (older answers
    carry no ``id``)."""

    id: int | None = None
    name: str | None = None
    assumed_name: str | None = None
    display_name: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    is_active: bool | None = None


@response_model
@attrs.frozen(kw_only=True)
class Product:
    """The ordered product (``name_id`` is the product identifier, e.g. ``ssl_basic``)."""

    name_id: str | None = None
    name: str | None = None
    type: str | None = None
    validation_type: str | None = None
    validation_name: str | None = None
    validation_description: str | None = None
