"""The generated fast path of a response model (built on first use, pure).

A response model is first read by a function generated for it from its own fields: it
checks every value inline and builds the objects directly, straight into their slots.
Anything it does not expect (a wrong type, a decimal string in an integer field, an
absent required field) raises :class:`Slow`, and the caller hands the whole document
to cattrs' detailed pass, which gives the same model or the error naming the field.
Both read alike: the fast one only takes what it is sure of. Keys no field knows are
kept on the model (:func:`~digicert_async.models.unknown_fields`), as the detailed pass
keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol, get_args

import attrs

from ._wire import (
    BLANK_IS_NONE,
    NONE_TYPE,
    UTC,
    is_list,
    is_number_union,
    is_optional,
    is_scalar_union,
    optional_inner,
)
from ._wire import to_utc as _to_utc
from .models._common import ResponseModel, StrFlag, keep_unknown_fields

__all__ = ["Readers", "Slow", "compile_fast"]


class Slow(Exception):
    """The fast path met something it leaves to the detailed pass."""


class Readers(Protocol):
    """What the generated code asks of the converter: the fast path of a nested model,
    and the hook of a type it leaves to the converter."""

    def fast_reader(self, cls: type[Any]) -> Callable[[Any], Any] | None: ...

    def get_structure_hook(self, tp: Any) -> Callable[[Any, Any], Any]: ...


_MISSING: Any = object()

_SCALAR_CHECKS: dict[Any, str] = {
    int: "type(v) is int",
    str: "type(v) is str",
    bool: "type(v) is bool",
    float: "(type(v) is float or type(v) is int)",
}


def compile_fast(cls: type[Any], readers: Readers) -> Callable[[Any], Any] | None:
    """A function that reads a dict into ``cls`` (a response model) or raises, or None
    when a field's type is one this fast path does not know."""
    names: dict[str, Any] = {"Slow": Slow, "_MISSING": _MISSING, "cls": cls, "new": object.__new__}
    lines = ["def fast(d):", "    if type(d) is not dict:", "        raise Slow", "    g = d.get"]
    building = ["    o = new(cls)"]
    fields = attrs.fields(attrs.resolve_types(cls))
    for index, field in enumerate(fields):
        target = f"a{index}"
        reading = _fast_field(field, target, names, readers)
        if reading is None:
            return None
        lines += reading
        # Straight into the slot: what the frozen class's __init__ does, without its
        # lookup of each name (response models have no validators or converters).
        names[f"s{index}"] = _slot_setter(cls, field.name)
        building.append(f"    s{index}(o, {target})")
    lines += building
    if issubclass(cls, ResponseModel):
        known = frozenset(field.name for field in fields)
        names.update(known=known, knows_all=known.issuperset, keep=keep_unknown_fields)
        lines += [
            "    if not knows_all(d):",
            "        keep(o, {k: v for k, v in d.items() if k not in known})",
        ]
    lines.append("    return o")
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


def _fast_field(
    field: attrs.Attribute[Any], target: str, names: dict[str, Any], readers: Readers
) -> list[str] | None:
    tp = field.type
    key = field.name
    if field.default is attrs.NOTHING:  # required: absent or null goes to the detailed pass
        value = _fast_value(tp, target, names, readers)
        if value is None:
            return None
        return [f"    v = g({key!r}, _MISSING)", *value]
    if is_list(tp):  # an envelope's list: absent or null is empty
        value = _fast_value(tp, target, names, readers)
        if value is None:
            return None
        lines = [f"    v = g({key!r})", "    if v is None:", f"        {target} = []", "    else:"]
        return lines + ["    " + line for line in value]
    if is_scalar_union(tp):
        kinds = tuple(arg for arg in get_args(tp) if arg is not NONE_TYPE)
        names[f"k_{target}"] = kinds
        check = f"type(v) not in k_{target}"
        if NONE_TYPE in get_args(tp):
            check = f"v is not None and {check}"
        return [
            f"    v = g({key!r})",
            f"    if {check}:",
            "        raise Slow",
            f"    {target} = v",
        ]
    if is_number_union(tp):
        inner: Any = tp
    elif is_optional(tp):
        inner = optional_inner(tp)
    else:
        return None
    if field.default is not None:
        return None
    lines = [f"    v = g({key!r})"]
    if attrs.has(inner):
        # [] is how PHP writes an empty object; {} carries nothing either
        lines += ["    if v is None or (not v and (type(v) is list or type(v) is dict)):"]
    elif inner in BLANK_IS_NONE or inner is tp:
        lines += ["    if v is None or v == '':"]
    else:
        lines += ["    if v is None:"]
    value = _fast_value(inner, target, names, readers)
    if value is None:
        return None
    return [*lines, f"        {target} = None", "    else:"] + ["    " + line for line in value]


def _fast_value(tp: Any, target: str, names: dict[str, Any], readers: Readers) -> list[str] | None:
    """Lines (indented once) that check ``v`` as ``tp`` and set ``target``."""
    check = _SCALAR_CHECKS.get(tp)
    if check is not None:
        return [f"    if not {check}:", "        raise Slow", f"    {target} = v"]
    if is_number_union(tp):
        return [
            "    if not (type(v) is float or type(v) is int):",
            "        raise Slow",
            f"    {target} = v",
        ]
    if tp is date:
        names["date_from_text"] = date.fromisoformat
        return [
            "    if type(v) is not str:",
            "        raise Slow",
            f"    {target} = date_from_text(v)",
        ]
    if tp is datetime:
        # Python's own parser, then the same UTC rule as the detailed pass; what it
        # cannot read (a "Z" on Python 3.10, say) goes to the detailed pass's parser.
        names.update(datetime_from_text=datetime.fromisoformat, to_utc=_to_utc, UTC=UTC)
        return [
            "    if type(v) is not str:",
            "        raise Slow",
            f"    {target} = datetime_from_text(v)",
            f"    if {target}.tzinfo is not UTC:",
            f"        {target} = to_utc({target})",
        ]
    if tp is StrFlag:
        hook = f"h_{len(names)}"
        names[hook] = readers.get_structure_hook(tp)
        return [f"    {target} = {hook}(v, None)"]
    if tp is Any:
        return [f"    {target} = v"]
    if attrs.has(tp):
        return _nested(tp, target, names, readers, "v")
    if is_list(tp):
        return _fast_list(tp, target, names, readers)
    return None


def _nested(
    tp: Any, target: str, names: dict[str, Any], readers: Readers, value: str
) -> list[str] | None:
    reader = readers.fast_reader(tp)
    if reader is None:
        return None
    name = f"f_{len(names)}"
    names[name] = reader
    return [f"    {target} = {name}({value})"]


def _fast_list(tp: Any, target: str, names: dict[str, Any], readers: Readers) -> list[str] | None:
    args = get_args(tp)
    elem: Any = args[0] if args else Any
    lines = ["    if type(v) is not list:", "        raise Slow"]
    if elem is Any:
        return [*lines, f"    {target} = list(v)"]
    check = _SCALAR_CHECKS.get(elem)
    if check is not None:
        item_check = check.replace("(v)", "(x)")
        return [
            *lines,
            "    for x in v:",
            f"        if not {item_check}:",
            "            raise Slow",
            f"    {target} = list(v)",
        ]
    if attrs.has(elem):
        reader = readers.fast_reader(elem)
        if reader is None:
            return None
        name = f"f_{len(names)}"
        names[name] = reader
        return [*lines, f"    {target} = [{name}(x) for x in v]"]
    return None
