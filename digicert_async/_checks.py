"""Checks of what callers pass in, used by every layer: ids, counts, numbers, flags, text,
statuses and the types of settings. The bottom of the house: it imports nothing of the
library but its errors, so that policy (retry, pacing), jobs and models can all use it.

Each raises :class:`~digicert_async._errors.ValidationError` naming the field, before
anything is sent, and returns the value checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, TypeVar

from ._errors import ValidationError

__all__ = [
    "MAX_ID",
    "check_callables",
    "check_count",
    "check_flag",
    "check_id",
    "check_ids",
    "check_instance",
    "check_number",
    "check_statuses",
    "check_text",
    "describe",
    "shown",
]

_Kind = TypeVar("_Kind")


def describe(value: object) -> str:
    """A short name for a value's type in error messages ("got str")."""
    if value is None:
        return "null"
    return type(value).__name__


MAX_ID = 10**20 - 1
"""The largest id accepted (20 digits): more than any id DigiCert issues, few enough
that no id can be costly to print or compare."""


_SHOWN_CHARACTERS = 100


def shown(value: object) -> str:
    """``value`` as an error message quotes it: its repr (which escapes control
    characters), cut after 100 characters, but an integer of more than 20 digits only
    by its size (printing a huge int is slow, and past 4300 digits Python refuses to)."""
    if isinstance(value, int) and not -MAX_ID <= value <= MAX_ID:
        return "an integer of more than 20 digits"
    text = repr(value)
    if len(text) > _SHOWN_CHARACTERS:
        return f"{text[: _SHOWN_CHARACTERS - 3]}..."
    return text


def check_id(field: str, value: object, *, allow: Collection[int] = ()) -> int:
    """Return ``value`` if it is a positive int of at most 20 digits (or one of
    ``allow``), else raise. A bool or a float is not an id, whatever its value.

    Usable for ids that travel outside a model, such as an order id in a URL path.
    """
    if type(value) is not int:
        raise ValidationError(field, f"expected an integer id, got {describe(value)}")
    if value not in allow and not 0 < value <= MAX_ID:
        raise ValidationError(
            field, f"must be a positive integer of at most 20 digits, got {shown(value)}"
        )
    return value


_SHOWN_BAD_IDS = 5


def check_ids(field: str, values: Iterable[object]) -> list[int]:
    """Every value as an id (see :func:`check_id`), in order; otherwise one
    ``ValidationError`` naming the bad ones (the first few, by position)."""
    ids: list[int] = []
    bad: list[str] = []
    for index, value in enumerate(values):
        try:
            ids.append(check_id(field, value))
        except ValidationError as exc:
            bad.append(f"[{index}] {exc.message}")
    if bad:
        shown = "; ".join(bad[:_SHOWN_BAD_IDS])
        more = f" (and {len(bad) - _SHOWN_BAD_IDS} more)" if len(bad) > _SHOWN_BAD_IDS else ""
        raise ValidationError(field, f"{len(bad)} bad id(s), nothing was sent: {shown}{more}")
    return ids


def check_number(
    field: str,
    value: object,
    *,
    allow_zero: bool,
    allow_inf: bool = False,
    maximum: float | None = None,
) -> float:
    """Return ``value`` as a float if it is a non-negative number (zero and infinity
    only where allowed, at most ``maximum`` if given), else raise. An integer too large
    for a float is refused too, infinity allowed or not."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(field, f"must be a number, not {describe(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int past the largest float: no setting means that
        raise ValidationError(
            field, f"must be a number a float can hold, not {shown(value)}"
        ) from None
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise ValidationError(field, f"must be a finite number, not {shown(value)}")
    if number < 0 or (number == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "more than zero"
        raise ValidationError(field, f"must be {bound}, not {shown(value)}")
    if maximum is not None and number > maximum:
        raise ValidationError(field, f"must be at most {maximum:g}, not {shown(value)}")
    return number


def check_flag(field: str, value: object) -> bool:
    """Return ``value`` if it is True or False (not 0, 1 or "yes"), else raise."""
    if not isinstance(value, bool):
        raise ValidationError(field, f"must be True or False, not {describe(value)}")
    return value


def check_instance(
    field: str, value: object, kind: type[_Kind], *, optional: bool = False
) -> _Kind:
    """Return ``value`` if it is a ``kind`` (or None, when ``optional``), else raise
    naming the class wanted: a setting of the wrong type fails here, not as an
    AttributeError the first time it is used."""
    if isinstance(value, kind) or (optional and value is None):
        return value  # type: ignore[return-value]
    wanted = f"a {kind.__name__}" + (" or None" if optional else "")
    raise ValidationError(field, f"must be {wanted}, not {describe(value)}")


def check_callables(field: str, value: object) -> Collection[Callable[..., Any]]:
    """Return ``value`` if it is a collection (a list, a tuple) of callables, else raise
    naming the first item that is not one. One callable alone is not a collection of
    them, nor is an iterator (it could be read only once)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Collection):
        raise ValidationError(
            field, f"must be a list of callables (one alone in a list), not {describe(value)}"
        )
    for index, item in enumerate(value):
        if not callable(item):
            raise ValidationError(f"{field}[{index}]", f"must be callable, not {describe(item)}")
    return value


def check_text(field: str, value: object, non_empty: bool = True) -> str:
    """Return ``value`` if it is a string (non-empty after stripping, by default), else raise."""
    if not isinstance(value, str):
        raise ValidationError(field, f"expected a string, got {describe(value)}")
    if non_empty and not value.strip():
        raise ValidationError(field, "must not be empty")
    return value


def check_statuses(field: str, value: object, allowed: Collection[str]) -> frozenset[str]:
    """One status or several (any collection of strings, not a string's letters), each
    one of ``allowed``; returned as a frozenset, else raise naming the valid ones."""
    given: Collection[object]
    if isinstance(value, str):
        given = (value,)
    elif isinstance(value, Collection) and not isinstance(value, (bytes, Mapping)):
        given = value
    else:
        raise ValidationError(
            field, f"expected a status or a collection of them, got {describe(value)}"
        )
    statuses = frozenset(status for status in given if isinstance(status, str))
    unknown = sorted(
        repr(status) for status in given if not isinstance(status, str) or status not in allowed
    )
    if unknown:
        raise ValidationError(
            field, f"unknown status {', '.join(unknown)}; valid: {', '.join(sorted(allowed))}"
        )
    if not statuses:
        raise ValidationError(field, "must name at least one status")
    return statuses


def check_count(field: str, value: object, *, maximum: int | None = None) -> int:
    """Return ``value`` if it is a whole number of things, at least 1 (and at most
    ``maximum``): attempts, concurrent tasks, requests in a window, a page size."""
    if type(value) is not int:
        raise ValidationError(field, f"expected a whole number, got {describe(value)}")
    if value < 1:
        raise ValidationError(field, f"must be 1 or more, got {shown(value)}")
    if maximum is not None and value > maximum:
        raise ValidationError(field, f"must be at most {maximum}, got {shown(value)}")
    return value
