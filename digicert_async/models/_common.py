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

from collections.abc import Callable, Collection, Mapping
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NewType, TypeVar

import attrs

from digicert_async._checks import check_id, check_text, describe
from digicert_async._errors import ValidationError

__all__ = [
    "Contact",
    "CustomFieldValue",
    "OrganizationSummary",
    "Product",
    "ResponseModel",
    "ServerPlatform",
    "Shipping",
    "StrFlag",
    "User",
    "ValidityPeriod",
    "a_date",
    "is_response_model",
    "keep_unknown_fields",
    "response_model",
    "unknown_fields",
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
    - an empty string in a date, timestamp or number field is None;
    - a key no field knows is kept (see :func:`unknown_fields`).

    A value of the wrong type is still an error naming the field. One value only is
    converted: a decimal string in an optional integer field (``"-1"``) is that integer
    (a required field, the object's identifying id, is not read that way). Request
    models are never marked, so they stay strict.
    """
    setattr(cls, _RESPONSE_MARK, True)
    return cls


def is_response_model(cls: type) -> bool:
    """Whether ``cls`` was marked with :func:`response_model`."""
    return getattr(cls, _RESPONSE_MARK, False) is True


class ResponseModel:
    """Base of every public response model: where the keys of an answer that no field
    knows are kept (see :func:`unknown_fields`), and the reading of an optional field
    the converter left unset.

    The kept keys are a slot outside the attrs fields, so they take no part in ``==``,
    ``hash`` or ``repr``, and a model without them costs no more than the slot. The
    converter's fast path leaves the slot of an optional field unset when the answer does
    not give it (most of an order's fields, most of the time): reading it gives None, the
    field's default, exactly as if it had been set.
    """

    __slots__ = ("_dc_unknown",)

    if not TYPE_CHECKING:  # type checkers keep seeing only the declared fields

        def __getattr__(self, name: str) -> Any:
            # Called only when the slot is unset.
            if name in _unset_reads_none(type(self)):
                return None
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


_OPTIONAL_FIELDS: dict[type, frozenset[str]] = {}


def _unset_reads_none(cls: type) -> frozenset[str]:
    """The fields of ``cls`` whose default is None."""
    names = _OPTIONAL_FIELDS.get(cls)
    if names is None:
        fields = attrs.fields(cls) if attrs.has(cls) else ()
        names = _OPTIONAL_FIELDS[cls] = frozenset(f.name for f in fields if f.default is None)
    return names


_UNKNOWN_SLOT = ResponseModel._dc_unknown  # type: ignore[attr-defined]  # the slot's descriptor
_NONE_KEPT: Mapping[str, Any] = MappingProxyType({})


def keep_unknown_fields(model: ResponseModel, fields: dict[str, Any]) -> None:
    """Keep ``fields`` (keys of the body no field of ``model`` knows) on ``model``: the
    converter's side of :func:`unknown_fields`."""
    _UNKNOWN_SLOT.__set__(model, MappingProxyType(fields))


def unknown_fields(model: object) -> Mapping[str, Any]:
    """The keys of DigiCert's answer that no field of ``model`` knows, with their values
    as the JSON had them (a read-only mapping; empty when there were none).

    Every response model keeps them, at every depth (``unknown_fields(order.certificate)``
    holds what the certificate object carried beyond its fields), and
    ``dc.converter.unstructure`` writes them back. They take no part in ``==`` or
    ``repr``; a model built in code, by :func:`attrs.evolve`, by :mod:`copy` or by
    unpickling has none (what travels is the fields). Anything but a model of this
    library is a :class:`~digicert_async.ValidationError`.
    """
    if isinstance(model, ResponseModel):
        try:
            kept: Mapping[str, Any] = _UNKNOWN_SLOT.__get__(model)
        except AttributeError:  # none were kept
            return _NONE_KEPT
        return kept
    if attrs.has(type(model)) and type(model).__module__.startswith("digicert_async"):
        return _NONE_KEPT  # a request model: what it holds is what it sends
    raise ValidationError(
        "model", f"expected a model of digicert_async (an Order, a Note...), got {describe(model)}"
    )


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


def a_date(path: str) -> Validator:
    """An optional ``date`` field (``YYYY-MM-DD`` on the wire)."""

    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        # a datetime is a date too, but it would be sent with its time
        if type(value) is not date:
            raise ValidationError(path, f"expected a date (YYYY-MM-DD), got {describe(value)}")

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
class User(ResponseModel):
    """A CertCentral user, as embedded in notes and orders."""

    id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrganizationSummary(ResponseModel):
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
class Product(ResponseModel):
    """The ordered product (``name_id`` is the product identifier, e.g. ``ssl_basic``)."""

    name_id: str | None = None
    name: str | None = None
    type: str | None = None
    validation_type: str | None = None
    validation_name: str | None = None
    validation_description: str | None = None
    csr_required: bool | None = None


@response_model
@attrs.frozen(kw_only=True)
class Contact(ResponseModel):
    """A person named on an order: its ``organization_contact`` and ``technical_contact``
    (DigiCert copies the technical contact from the organization contact when none was
    given)."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    job_title: str | None = None
    telephone: str | None = None
    telephone_extension: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class ValidityPeriod(ResponseModel):
    """``order_validity`` and ``certificate.cert_validity`` as an answer states them: the
    one of ``years``, ``days`` or ``custom_expiration_date`` the order was placed with."""

    years: int | None = None
    days: int | None = None
    custom_expiration_date: date | None = None


@response_model
@attrs.frozen(kw_only=True)
class Shipping(ResponseModel):
    """``ship_info`` of a code signing or document signing order: where the token goes,
    and how (``standard`` or ``expedited``). ``zip`` is kept as sent: a string, or a
    number in older answers (``84043``), never turned into the other."""

    name: str | None = None
    addr1: str | None = None
    addr2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | int | None = None
    country: str | None = None
    method: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class CustomFieldValue(ResponseModel):
    """One entry of an order's ``custom_fields``: the account's metadata field
    (``metadata_id``, its ``label``) and the order's ``value``."""

    metadata_id: int | None = None
    label: str | None = None
    value: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class ServerPlatform(ResponseModel):
    """The server software a certificate is for (``-1``, ``OTHER`` when not said), with
    DigiCert's pages on installing it and on making its CSR."""

    id: int | None = None
    name: str | None = None
    install_url: str | None = None
    csr_url: str | None = None
