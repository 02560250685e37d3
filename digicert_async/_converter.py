"""The cattrs converter for DigiCert's wire format.

- datetimes: ISO 8601 in (``Z``, ``+00:00``, any offset; naive means UTC), tz-aware UTC
  ``datetime`` out of ``structure``; written back as ``YYYY-MM-DDTHH:MM:SS+00:00``
  (microseconds only when non-zero).
- dates: ``YYYY-MM-DD`` both ways.
- :data:`~digicert_async.models.StrFlag` (``is_multi_year_plan``): ``"1"``/``"0"`` on the wire.
- primitives are checked, not coerced: ``"2"`` is not an int, ``1`` is not a bool.
- ``unstructure`` leaves out fields that are None, at every depth, so a structured
  wire document unstructures back to itself.
- ``structure`` reports bad input as :class:`~digicert_async._errors.ValidationError`
  naming the dotted field path (``certificate.valid_till``, ``requests[0].id``),
  chained from cattrs' detailed error; a ValidationError raised by a model's own
  validation propagates as it is.
- response models (marked with :func:`~digicert_async.models._common.response_model`)
  are read liberally: an object field sent as ``[]``, ``{}`` or ``null`` is None, a
  list field sent as ``null`` is empty, an empty string in a date or number field is
  None. Request models get none of this: what is sent is checked strictly.

Hooks for every model are generated once, at import time (cattrs code generation),
so decoding does no per-call reflection.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
    StructureHandlerNotFoundError,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import models
from ._checks import describe
from ._errors import ValidationError
from .models._common import StrFlag, is_response_model

__all__ = ["WireConverter", "converter", "make_converter"]

T = TypeVar("T")
UTC = timezone.utc
_NONE_TYPE = type(None)


# --------------------------------------------------------------------------- scalars


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is int:
        return value
    raise TypeError(f"expected an integer, got {describe(value)}")


def _structure_float(value: Any, _: Any) -> float:
    # An int stays an int so that 399 is written back as 399, not 399.0.
    if type(value) is float or type(value) is int:
        return value
    raise TypeError(f"expected a number, got {describe(value)}")


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {describe(value)}")


def _structure_bool(value: Any, _: Any) -> bool:
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


def _structure_flag(value: Any, _: Any) -> bool:
    if type(value) in (str, int, bool):
        flag = _FLAG_VALUES.get(value)
        if flag is not None:
            return flag
    raise ValueError(f"expected a flag ('1' or '0'), got {value!r}")


def _unstructure_flag(value: bool) -> str:
    return "1" if value else "0"


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
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
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
        raise ValueError(f"not a valid timestamp: {text!r} ({exc})") from None


def _to_utc(value: datetime) -> datetime:
    tz = value.tzinfo
    if tz is UTC:
        return value
    if tz is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _structure_datetime(value: Any, _: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = _parse_datetime_slow(value)
        return _to_utc(parsed)
    if isinstance(value, datetime):
        return _to_utc(value)
    raise TypeError(f"expected an ISO 8601 timestamp string, got {describe(value)}")


def _unstructure_datetime(value: datetime) -> str:
    # isoformat() writes microseconds only when they are not zero.
    return _to_utc(value).isoformat()


def _structure_date(value: Any, _: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None
    if type(value) is date:
        return value
    raise TypeError(f"expected a date string (YYYY-MM-DD), got {describe(value)}")


def _unstructure_date(value: date) -> str:
    return date.isoformat(value)


def _identity(value: Any, _: Any) -> Any:
    return value


def _is_list(tp: Any) -> bool:
    return tp is list or get_origin(tp) is list


def _is_number_union(tp: Any) -> bool:
    """``int | float`` (optionally ``| None``): any JSON number, kept as sent."""
    if get_origin(tp) not in (Union, types.UnionType):
        return False
    return {a for a in get_args(tp) if a is not _NONE_TYPE} == {int, float}


def _is_optional(tp: Any) -> bool:
    """``X | None`` for one X (``int | float | None`` has its own hook)."""
    if get_origin(tp) not in (Union, types.UnionType):
        return False
    args = get_args(tp)
    return len(args) == 2 and _NONE_TYPE in args


def _number_union_hook(tp: Any) -> Callable[[Any, Any], Any]:
    nullable = _NONE_TYPE in get_args(tp)

    def structure_number(value: Any, _: Any) -> Any:
        if value is None and nullable:
            return None
        return _structure_float(value, float)

    return structure_number


# What a response may leave blank (``""``) instead of leaving out.
_BLANK_IS_NONE = frozenset({int, float, date, datetime})


# --------------------------------------------------------------------------- errors


def _segment(exc: BaseException) -> str:
    """The path step cattrs noted on ``exc`` while structuring its parent."""
    for note in reversed(getattr(exc, "__notes__", ())):
        if isinstance(note, AttributeValidationNote):
            return f".{note.name}"
        if isinstance(note, IterableValidationNote):
            return f"[{note.index}]"
    return ""


def _leaves(exc: BaseException, path: str) -> list[tuple[BaseException, str]]:
    if isinstance(exc, BaseValidationError):
        found: list[tuple[BaseException, str]] = []
        for sub in exc.exceptions:
            found.extend(_leaves(sub, path + _segment(sub)))
        return found
    return [(exc, path)]


def _describe_leaf(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return "required field is missing"
    if isinstance(exc, ForbiddenExtraKeysError):
        return "unknown field(s): " + ", ".join(sorted(exc.extra_fields))
    return str(exc) or type(exc).__name__


def _to_validation_error(exc: BaseException) -> tuple[ValidationError, bool]:
    """Turn a (detailed) cattrs structuring error into one ValidationError.

    The first problem found names the field; the message says how many more there were.
    Returns the error and whether a model raised it itself (it is then returned as is).
    """
    leaves = _leaves(exc, "")
    first, path = leaves[0]
    if isinstance(first, ValidationError):
        return first, True
    if isinstance(first, ForbiddenExtraKeysError):
        path = f"{path}.{sorted(first.extra_fields)[0]}"
    message = _describe_leaf(first)
    if len(leaves) > 1:
        message += f" (and {len(leaves) - 1} more problem{'s' if len(leaves) > 2 else ''})"
    return ValidationError(path.lstrip(".") or "$", message), False


# --------------------------------------------------------------------------- fast path

# A response model is first read by a function generated for it (below) that checks
# every value inline and builds the objects directly; anything it does not expect
# sends the whole document to cattrs' detailed pass, which gives the same model or the
# error naming the field. Both read alike: the fast one only takes what it is sure of.


class _Slow(Exception):
    """The fast path met something it leaves to the detailed pass."""


_MISSING: Any = object()


def _compile_fast(cls: type[Any], converter: WireConverter) -> Callable[[Any], Any] | None:
    """A function that reads a dict into ``cls`` (a response model) or raises, or None
    when a field's type is one this fast path does not know."""
    names: dict[str, Any] = {
        "_Slow": _Slow,
        "_MISSING": _MISSING,
        "cls": cls,
        "new": object.__new__,
    }
    lines = [
        "def fast(d):",
        "    if type(d) is not dict:",
        "        raise _Slow",
        "    g = d.get",
    ]
    building = ["    o = new(cls)"]
    for index, field in enumerate(attrs.fields(attrs.resolve_types(cls))):
        target = f"a{index}"
        reading = _fast_field(field, target, names, converter)
        if reading is None:
            return None
        lines += reading
        # Straight into the slot: what the frozen class's __init__ does, without its
        # lookup of each name (response models have no validators or converters).
        names[f"s{index}"] = _slot_setter(cls, field.name)
        building.append(f"    s{index}(o, {target})")
    lines += [*building, "    return o"]
    exec("\n".join(lines), names)  # the code is built here, from the model's own fields
    fast: Callable[[Any], Any] = names["fast"]
    return fast


def _slot_setter(cls: type[Any], name: str) -> Callable[[Any, Any], None]:
    descriptor = getattr(cls, name, None)
    setter: Callable[[Any, Any], None] | None = getattr(descriptor, "__set__", None)
    if setter is not None:
        return setter

    def set_attribute(instance: Any, value: Any) -> None:  # a class without slots
        object.__setattr__(instance, name, value)

    return set_attribute


_SCALAR_CHECKS: Mapping[Any, str] = {
    int: "type(v) is int",
    str: "type(v) is str",
    bool: "type(v) is bool",
    float: "(type(v) is float or type(v) is int)",
}


def _fast_field(
    field: attrs.Attribute[Any], target: str, names: dict[str, Any], converter: WireConverter
) -> list[str] | None:
    tp = field.type
    key = field.name
    if field.default is attrs.NOTHING:  # required: absent or null goes to the detailed pass
        value = _fast_value(tp, target, names, converter)
        if value is None:
            return None
        return [f"    v = g({key!r}, _MISSING)", *value]
    if _is_list(tp):  # an envelope's list: absent or null is empty
        value = _fast_value(tp, target, names, converter)
        if value is None:
            return None
        lines = [f"    v = g({key!r})", "    if v is None:", f"        {target} = []", "    else:"]
        return lines + ["    " + line for line in value]
    if _is_number_union(tp):
        inner: Any = tp
    elif _is_optional(tp):
        (inner,) = (arg for arg in get_args(tp) if arg is not _NONE_TYPE)
    else:
        return None
    if field.default is not None:
        return None
    lines = [f"    v = g({key!r})"]
    if attrs.has(inner):
        # [] is how PHP writes an empty object; {} carries nothing either
        lines += ["    if v is None or (not v and (type(v) is list or type(v) is dict)):"]
    elif inner in _BLANK_IS_NONE or inner is tp:
        lines += ["    if v is None or v == '':"]
    else:
        lines += ["    if v is None:"]
    value = _fast_value(inner, target, names, converter)
    if value is None:
        return None
    return [*lines, f"        {target} = None", "    else:"] + ["    " + line for line in value]


def _fast_value(
    tp: Any, target: str, names: dict[str, Any], converter: WireConverter
) -> list[str] | None:
    """Lines (indented once) that check ``v`` as ``tp`` and set ``target``."""
    check = _SCALAR_CHECKS.get(tp)
    if check is not None:
        return [f"    if not {check}:", "        raise _Slow", f"    {target} = v"]
    if _is_number_union(tp):
        return [
            "    if not (type(v) is float or type(v) is int):",
            "        raise _Slow",
            f"    {target} = v",
        ]
    if tp is date:
        names["date_from_text"] = date.fromisoformat
        return [
            "    if type(v) is not str:",
            "        raise _Slow",
            f"    {target} = date_from_text(v)",
        ]
    if tp is datetime:
        # Python's own parser, then the same UTC rule as the detailed pass; what it
        # cannot read (a "Z" on Python 3.10, say) goes to the detailed pass's parser.
        names.update(datetime_from_text=datetime.fromisoformat, to_utc=_to_utc, UTC=UTC)
        return [
            "    if type(v) is not str:",
            "        raise _Slow",
            f"    {target} = datetime_from_text(v)",
            f"    if {target}.tzinfo is not UTC:",
            f"        {target} = to_utc({target})",
        ]
    if tp is StrFlag:
        hook = f"h_{len(names)}"
        names[hook] = converter.get_structure_hook(tp)
        return [f"    {target} = {hook}(v, None)"]
    if tp is Any:
        return [f"    {target} = v"]
    if attrs.has(tp):
        reader = converter.fast_reader(tp)
        if reader is None:
            return None
        name = f"f_{len(names)}"
        names[name] = reader
        return [f"    {target} = {name}(v)"]
    if _is_list(tp):
        args = get_args(tp)
        elem: Any = args[0] if args else Any
        lines = ["    if type(v) is not list:", "        raise _Slow"]
        if elem is Any:
            return [*lines, f"    {target} = list(v)"]
        check = _SCALAR_CHECKS.get(elem)
        if check is not None:
            item_check = check.replace("(v)", "(x)")
            return [
                *lines,
                "    for x in v:",
                f"        if not {item_check}:",
                "            raise _Slow",
                f"    {target} = list(v)",
            ]
        if attrs.has(elem):
            reader = converter.fast_reader(elem)
            if reader is None:
                return None
            name = f"f_{len(names)}"
            names[name] = reader
            return [*lines, f"    {target} = [{name}(x) for x in v]"]
    return None


# --------------------------------------------------------------------------- converter


class WireConverter(cattrs.Converter):
    """A cattrs converter for DigiCert's JSON. Use :data:`converter` or :func:`make_converter`."""

    def __init__(self, *, strict: bool = False, fast: bool = True) -> None:
        super().__init__(forbid_extra_keys=strict, omit_if_default=True)
        self.strict = strict
        self.fast = fast and not strict
        self._fast_readers: dict[type[Any], Callable[[Any], Any] | None] = {}

        for tp, hook in (
            (int, _structure_int),
            (float, _structure_float),
            (str, _structure_str),
            (bool, _structure_bool),
            (datetime, _structure_datetime),
            (date, _structure_date),
            (StrFlag, _structure_flag),
        ):
            self.register_structure_hook(tp, hook)
        self.register_unstructure_hook(datetime, _unstructure_datetime)
        self.register_unstructure_hook(date, _unstructure_date)
        self.register_unstructure_hook(StrFlag, _unstructure_flag)
        self.register_structure_hook_factory(_is_number_union, _number_union_hook)
        self.register_structure_hook_factory(_is_optional, self._optional_hook)
        self.register_structure_hook_factory(_is_list, self._list_hook)
        self.register_structure_hook_factory(attrs.has, self._attrs_structure_hook)
        self.register_unstructure_hook_factory(attrs.has, self._attrs_unstructure_hook)

    def _optional_hook(self, tp: Any) -> Callable[[Any, Any], Any]:
        # cattrs' own looks the inner hook up on every call; almost every response
        # field is optional, so look it up once.
        (inner,) = (arg for arg in get_args(tp) if arg is not _NONE_TYPE)
        handler = self.get_structure_hook(inner)

        def structure_optional(value: Any, _: Any) -> Any:
            return None if value is None else handler(value, inner)

        return structure_optional

    def _list_hook(self, tp: Any) -> Callable[[Any, Any], list[Any]]:
        # cattrs' own list hook would take any iterable, a string included.
        args = get_args(tp)
        elem: Any = args[0] if args else Any
        handler = _identity if elem is Any else self.get_structure_hook(elem)

        def structure_list(value: Any, _: Any) -> list[Any]:
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"expected a list, got {describe(value)}")
            result = []
            errors: list[Exception] = []
            for index, item in enumerate(value):
                try:
                    result.append(handler(item, elem))
                except Exception as exc:
                    note = IterableValidationNote(f"Structuring {tp} @ index {index}", index, elem)
                    # setattr: Python 3.10's stubs know no __notes__
                    setattr(exc, "__notes__", [*getattr(exc, "__notes__", []), note])  # noqa: B010
                    errors.append(exc)
            if errors:
                raise IterableValidationError(f"While structuring {tp!r}", errors, tp)
            return result

        return structure_list

    def _liberal_field_hook(self, tp: Any) -> Callable[[Any, Any], Any] | None:
        """The hook of a response model's field of type ``tp``, where it differs."""
        if _is_list(tp):
            handler = self.get_structure_hook(tp)

            def structure_list_or_null(value: Any, _: Any) -> Any:
                return [] if value is None else handler(value, tp)

            return structure_list_or_null
        if _is_number_union(tp) and _NONE_TYPE in get_args(tp):
            inner: Any = tp
        elif _is_optional(tp):
            (inner,) = (arg for arg in get_args(tp) if arg is not _NONE_TYPE)
        else:
            return None
        handler = self.get_structure_hook(inner)
        if attrs.has(inner):

            def structure_object_or_empty(value: Any, _: Any) -> Any:
                # [] is how PHP writes an empty object; {} carries nothing either.
                if value is None or (not value and type(value) in (list, dict)):
                    return None
                return handler(value, inner)

            return structure_object_or_empty
        if inner in _BLANK_IS_NONE or inner is tp:

            def structure_blank_as_none(value: Any, _: Any) -> Any:
                if value is None or value == "":
                    return None
                return handler(value, inner)

            return structure_blank_as_none
        return None

    def _attrs_structure_hook(self, cls: type[T]) -> Callable[[Any, Any], T]:
        overrides: dict[str, Any] = {}
        if is_response_model(cls):
            attrs_class: Any = attrs.resolve_types(cls)  # type: ignore[type-var]
            for field in attrs.fields(attrs_class):
                hook = self._liberal_field_hook(field.type)
                if hook is not None:
                    overrides[field.name] = override(struct_hook=hook)
        generated = make_dict_structure_fn(cls, self, **overrides)

        def structure_object(value: Any, _: Any) -> T:
            if type(value) is not dict and not isinstance(value, Mapping):
                raise TypeError(f"expected an object, got {describe(value)}")
            return generated(value, cls)

        fast = self.fast_reader(cls)
        if fast is None:
            return structure_object

        def structure_fast_or_detailed(value: Any, _: Any) -> T:
            try:
                return fast(value)  # type: ignore[no-any-return]
            except Exception:  # the detailed pass says what, or reads it after all
                return structure_object(value, cls)

        return structure_fast_or_detailed

    def fast_reader(self, cls: type[Any]) -> Callable[[Any], Any] | None:
        """The fast path of a response model (None for request models, on the strict
        converter, or where a field's type is not one it knows)."""
        if not self.fast or not is_response_model(cls):
            return None
        if cls not in self._fast_readers:
            self._fast_readers[cls] = None  # a model that contains itself stays slow
            self._fast_readers[cls] = _compile_fast(cls, self)
        return self._fast_readers[cls]

    def _attrs_unstructure_hook(self, cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
        # Every optional field defaults to None, so "omit if default" is "omit None".
        return make_dict_unstructure_fn(cls, self, _cattrs_omit_if_default=True)

    def structure(self, obj: Any, cl: type[T]) -> T:
        """Build ``cl`` from wire data; bad data raises ValidationError naming the field."""
        try:
            return super().structure(obj, cl)
        except (ValidationError, StructureHandlerNotFoundError):
            raise
        except Exception as exc:
            error, from_model = _to_validation_error(exc)
            if from_model:
                raise error from None  # a model's own verdict, as it raised it
            raise error from exc

    def warm_up(self) -> None:
        """Generate the hooks of every model now rather than on first use."""
        for name in models.__all__:
            cls = getattr(models, name)
            if isinstance(cls, type) and attrs.has(cls):
                self.get_structure_hook(cls)
                self.get_unstructure_hook(cls)


def make_converter(*, strict: bool = False, fast: bool = True) -> WireConverter:
    """A new converter; ``strict=True`` rejects unknown keys (tests use it to catch drift),
    ``fast=False`` reads every response model with cattrs' detailed pass alone (tests
    hold the fast path against it)."""
    conv = WireConverter(strict=strict, fast=fast)
    conv.warm_up()
    return conv


converter: WireConverter = make_converter()
"""The runtime converter: lenient about unknown keys, strict about types."""
