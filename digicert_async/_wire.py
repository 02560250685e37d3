"""DigiCert's wire formats, one value at a time (pure): what the converter's hooks and its
generated fast path check and convert.

- numbers are checked, not coerced: ``"2"`` is not an int, ``1`` is not a bool, and an
  ``int | float`` field keeps an int an int (399 is written back as 399, not 399.0);
- the one exception, for responses only (:func:`read_decimal`): an integer field of a
  response model that DigiCert wrote as a decimal string (``"-1"``, ``"45"``, as a 2015
  answer does in ``server_platform.id``) is that integer. An identifying id (the
  required ``id`` of the object an endpoint returns) is not read this way;
- timestamps: ISO 8601 in (``Z``, ``+00:00``, any offset; naive means UTC), a tz-aware UTC
  ``datetime`` out; written back as ``YYYY-MM-DDTHH:MM:SS+00:00`` (microseconds only when
  not zero);
- dates: ``YYYY-MM-DD`` both ways;
- :data:`~digicert_async.models.StrFlag`: ``"1"``/``"0"`` on the wire.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, Union, get_args, get_origin

from ._checks import describe

__all__ = [
    "BLANK_IS_NONE",
    "NONE_TYPE",
    "UTC",
    "is_list",
    "is_number_union",
    "is_optional",
    "is_scalar_union",
    "optional_inner",
    "read_decimal",
    "scalar_union_hook",
    "structure_bool",
    "structure_date",
    "structure_datetime",
    "structure_flag",
    "structure_float",
    "structure_int",
    "structure_str",
    "to_utc",
    "unstructure_date",
    "unstructure_datetime",
    "unstructure_flag",
]

UTC = timezone.utc
NONE_TYPE = type(None)

# What a response may leave blank (``""``) instead of leaving out.
BLANK_IS_NONE = frozenset({int, float, date, datetime})


# --------------------------------------------------------------------------- types


def is_list(tp: Any) -> bool:
    return tp is list or get_origin(tp) is list


def is_number_union(tp: Any) -> bool:
    """``int | float`` (optionally ``| None``): any JSON number, kept as sent."""
    if get_origin(tp) not in (Union, types.UnionType):
        return False
    return {a for a in get_args(tp) if a is not NONE_TYPE} == {int, float}


def is_optional(tp: Any) -> bool:
    """``X | None`` for one X (``int | float | None`` has its own hook)."""
    if get_origin(tp) not in (Union, types.UnionType):
        return False
    args = get_args(tp)
    return len(args) == 2 and NONE_TYPE in args


_SCALARS = frozenset({str, int, bool})


def is_scalar_union(tp: Any) -> bool:
    """A union of JSON scalars (``str | int``, optionally ``| None``): a value kept as
    sent, whichever of them it is (``int | float`` has its own rule)."""
    if get_origin(tp) not in (Union, types.UnionType):
        return False
    kinds = {a for a in get_args(tp) if a is not NONE_TYPE}
    return len(kinds) > 1 and kinds <= _SCALARS


def scalar_union_hook(tp: Any) -> Callable[[Any, Any], Any]:
    """The hook of a scalar union: the value as sent when it is one of the union's types
    (``True`` is not an int here), None when the union allows it."""
    kinds = tuple(a for a in get_args(tp) if a is not NONE_TYPE)
    nullable = NONE_TYPE in get_args(tp)
    expected = " or ".join(_KIND_NAMES[kind] for kind in kinds)

    def structure_scalar(value: Any, _: Any) -> Any:
        if type(value) in kinds or (value is None and nullable):
            return value
        raise TypeError(f"expected {expected}, got {describe(value)}")

    return structure_scalar


_KIND_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def optional_inner(tp: Any) -> Any:
    """The X of ``X | None``."""
    (inner,) = (arg for arg in get_args(tp) if arg is not NONE_TYPE)
    return inner


# --------------------------------------------------------------------------- numbers


def structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    raise TypeError(f"expected an integer, got {describe(value)}")


# A decimal written the one way it is written: no sign but "-", no leading zero, no
# space, no "_", ASCII digits only, and few enough that reading it costs nothing.
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]{0,18})")


def read_decimal(value: Any, _: Any) -> int:
    """An integer field of a response: an int, or a decimal string read as that int."""
    if type(value) is int:
        return value
    if type(value) is str and _DECIMAL.fullmatch(value) and value != "-0":
        return int(value)
    raise TypeError(f"expected an integer, got {describe(value)}")


def structure_float(value: Any, _: Any) -> float:
    # An int stays an int so that 399 is written back as 399, not 399.0.
    if type(value) is float or type(value) is int:
        return value
    raise TypeError(f"expected a number, got {describe(value)}")


def structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {describe(value)}")


def structure_bool(value: Any, _: Any) -> bool:
    if type(value) is bool:
        return value
    raise TypeError(f"expected true or false, got {describe(value)}")


_FLAG_VALUES: Mapping[object, bool] = {
    "1": True,
    "0": False,
    "": False,
    True: True,  # also 1 (equal and same hash)
    False: False,  # also 0
}


def structure_flag(value: Any, _: Any) -> bool:
    if type(value) in (str, int, bool):
        flag = _FLAG_VALUES.get(value)
        if flag is not None:
            return flag
    raise ValueError(f"expected a flag ('1' or '0'), got {_shown(value)}")


def unstructure_flag(value: bool) -> str:
    return "1" if value else "0"


def _shown(value: Any) -> str:
    """``value`` as an error message shows it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


# --------------------------------------------------------------------------- time

# Python 3.10's fromisoformat knows neither "Z" nor fractions other than 3 or 6
# digits nor offsets without a colon; this covers what it misses.
_ISO_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?"
)


def _parse_datetime_slow(text: str) -> datetime:
    match = _ISO_DATETIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {_shown(text)}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    tz: timezone | None = None
    if zulu:
        tz = UTC
    elif sign:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        tz = timezone(-offset if sign == "-" else offset)
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=tz,
        )
    except ValueError as exc:
        raise ValueError(f"not a valid timestamp: {_shown(text)} ({exc})") from None


def to_utc(value: datetime) -> datetime:
    tz = value.tzinfo
    if tz is UTC:
        return value
    if tz is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def structure_datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = _parse_datetime_slow(value)
        return to_utc(parsed)
    if isinstance(value, datetime):
        return to_utc(value)
    raise TypeError(f"expected an ISO 8601 timestamp string, got {describe(value)}")


def unstructure_datetime(value: datetime) -> str:
    # isoformat() writes microseconds only when they are not zero.
    return to_utc(value).isoformat()


def structure_date(value: Any, _: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date as YYYY-MM-DD, got {_shown(value)}") from None
    if type(value) is date:
        return value
    raise TypeError(f"expected a date string (YYYY-MM-DD), got {describe(value)}")


def unstructure_date(value: date) -> str:
    return date.isoformat(value)


Hook = Callable[[Any, Any], Any]
