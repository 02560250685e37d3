"""Checks of what callers pass in, used by every layer: ids, counts, numbers, text and
statuses. The bottom of the house: it imports nothing of the library but its errors, so
that policy (retry, pacing), jobs and models can all use it.

Each raises :class:`~digicert_async._errors.ValidationError` naming the field, before
anything is sent, and returns the value checked.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping

from ._errors import ValidationError

__all__ = [
    "MAX_ID",
    "check_count",
    "check_id",
    "check_ids",
    "check_number",
    "check_statuses",
    "check_text",
    "describe",
]


def describe(value: object) -> str:
    """A short name for a value's type in error messages ("got str")."""
    if value is None:
        return "null"
    return type(value).__name__


MAX_ID = 10**20 - 1
"""The largest id accepted (20 digits): more than any id DigiCert issues, few enough
that no id can be costly to print or compare."""


def check_id(field: str, value: object, *, allow: Collection[int] = ()) -> int:
    """Return ``value`` if it is a positive int of at most 20 digits (or one of
    ``allow``), else raise. A bool or a float is not an id, whatever its value.

    Usable for ids that travel outside a model, such as an order id in a URL path.
    """
    if type(value) is not int:
        raise ValidationError(field, f"expected an integer id, got {describe(value)}")
    if value not in allow and not 0 < value <= MAX_ID:
        shown = value if -MAX_ID <= value <= MAX_ID else "an integer of more than 20 digits"
        raise ValidationError(
            field, f"must be a positive integer of at most 20 digits, got {shown}"
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


def check_number(field: str, value: object, *, allow_zero: bool, allow_inf: bool = False) -> float:
    """Return ``value`` as a float if it is a non-negative number (zero and infinity
    only where allowed), else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(field, f"must be a number, not {type(value).__name__}")
    number = float(value)
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        raise ValidationError(field, f"must be a finite number, not {value!r}")
    if number < 0 or (number == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "more than zero"
        raise ValidationError(field, f"must be {bound}, not {value!r}")
    return number


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
        raise ValidationError(field, f"must be 1 or more, got {value}")
    if maximum is not None and value > maximum:
        raise ValidationError(field, f"must be at most {maximum}, got {value}")
    return value
