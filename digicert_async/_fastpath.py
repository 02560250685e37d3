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
    when a field's type is one this fast path does not know.

    Values go straight into the slots: what the frozen class's ``__init__`` does, without
    its lookup of each name (response models have no validators or converters).
    """
    fields = attrs.fields(attrs.resolve_types(cls))
    names: dict[str, Any] = {"Slow": Slow, "_MISSING": _MISSING, "cls": cls, "new": object.__new__}
    names.update((f"s{index}", _slot_setter(cls, f.name)) for index, f in enumerate(fields))
    if issubclass(cls, ResponseModel):
        lines = _by_keys(fields, names, readers)
    else:
        lines = _by_fields(fields, names, readers)
    if lines is None:
        return None
    exec("\n".join(lines), names)  # the code is built here, from the model's own fields
    fast: Callable[[Any], Any] = names["fast"]
    return fast


# How many optional fields the fuller body's reader takes between two looks at what is left.
_EXIT_EVERY = 4


def _by_keys(
    fields: tuple[attrs.Attribute[Any], ...], names: dict[str, Any], readers: Readers
) -> list[str] | None:
    """A reader for a response model. The slot of an optional field the body does not give
    (or gives as empty) stays unset: a :class:`~digicert_async.models._common.ResponseModel`
    reads it as None, its default. A body with few keys for its model's fields (a pending
    order: a dozen of an order's sixty) is read by its own keys, each found among the
    fields by a few comparisons, so it costs what its keys cost; a fuller one by taking
    each field out of a copy of it, what is left being what no field knows. Either way
    the keys no field knows are kept."""
    names.update(
        field_index={field.name: index for index, field in enumerate(fields)}.get,
        keep=keep_unknown_fields,
    )
    required = [index for index, f in enumerate(fields) if f.default is attrs.NOTHING]
    leaves = _leaves(fields, required, names, readers)
    if leaves is None:
        return None
    empty_lists = [f"    s{index}(o, [])" for index, f in enumerate(fields) if _is_list_factory(f)]
    lines = [
        "def fast(d):",
        "    if type(d) is not dict:",
        "        raise Slow",
        "    o = new(cls)",
    ]
    lines += [*empty_lists, f"    if len(d) * 3 < {len(fields)}:", "        extra = None"]
    lines += [f"        r{index} = False" for index in required]
    lines += [
        "        for k, v in d.items():",
        "            i = field_index(k, -1)",
        "            if i < 0:",
        "                if extra is None:",
        "                    extra = {}",
        "                extra[k] = v",
        "                continue",
    ]
    lines += ["            " + line for line in _search(leaves, 0, len(leaves), required)]
    lines += [f"        if not r{index}:\n            raise Slow" for index in required]
    lines += ["        if extra is not None:", "            keep(o, extra)", "    else:"]
    return [*lines, *_fuller_body(fields, required, leaves), "    return o"]


def _leaves(
    fields: tuple[attrs.Attribute[Any], ...],
    required: list[int],
    names: dict[str, Any],
    readers: Readers,
) -> list[list[str]] | None:
    """Per field, the lines that read its value ``v`` into its slot (None: a field this
    fast path does not know)."""
    leaves: list[list[str]] = []
    for index, field in enumerate(fields):
        if index in required:
            value = _fast_value(field.type, "t", names, readers)
            leaf = None if value is None else [*value, f"    s{index}(o, t)"]
        elif field.default is None:
            leaf = _optional_field(field, f"s{index}(o, t)", names, readers)
        elif _is_list_factory(field):  # set to a new [] first; null leaves it so
            value = _fast_value(field.type, "t", names, readers)
            leaf = None if value is None else _when_given(value, f"s{index}(o, t)")
        else:
            leaf = None  # another default: not a response model's field
        if leaf is None:
            return None
        leaves.append(leaf)
    return leaves


def _fuller_body(
    fields: tuple[attrs.Attribute[Any], ...], required: list[int], leaves: list[list[str]]
) -> list[str]:
    """The reading of a fuller body: each field taken out of a copy, so that what is left
    is what no field knows; the optional ones until every key of the body is taken."""
    lines = ["        rest = dict(d)", "        take = rest.pop"]
    for index in required:  # first: they must be read whatever else the body holds
        lines += [f"        v = take({fields[index].name!r}, _MISSING)"]
        lines += ["    " + line for line in leaves[index]]
    lines.append("        while rest:")
    optional = [index for index in range(len(fields)) if index not in required]
    for count, index in enumerate(optional):
        if count and not count % _EXIT_EVERY:
            lines += ["            if not rest:", "                break"]
        lines += [f"            v = take({fields[index].name!r}, None)"]
        lines += ["        " + line for line in leaves[index]]
    return [*lines, "            if rest:", "                keep(o, rest)", "            break"]


def _is_list_factory(field: attrs.Attribute[Any]) -> bool:
    default: Any = field.default
    return isinstance(default, attrs.Factory) and default.factory is list  # type: ignore[arg-type]


def _when_given(value: list[str], store: str) -> list[str]:
    """``value``'s lines run, then ``store``, when the body's value is not null."""
    return ["    if v is not None:", *("    " + line for line in value), f"        {store}"]


def _search(leaves: list[list[str]], low: int, high: int, required: list[int]) -> list[str]:
    """Lines that run ``leaves[i]`` for ``low <= i < high``: a binary search on ``i``."""
    if high - low == 1:
        found = [f"    r{low} = True"] if low in required else []
        return [line[4:] for line in leaves[low] + found]  # the leaf's indent is the loop's
    middle = (low + high) // 2
    return [
        f"if i < {middle}:",
        *("    " + line for line in _search(leaves, low, middle, required)),
        "else:",
        *("    " + line for line in _search(leaves, middle, high, required)),
    ]


def _by_fields(
    fields: tuple[attrs.Attribute[Any], ...], names: dict[str, Any], readers: Readers
) -> list[str] | None:
    """A reader that looks every field up in the body and sets every slot (a listing's
    envelope: a few fields, all of which an instance must hold)."""
    lines = ["def fast(d):", "    if type(d) is not dict:", "        raise Slow", "    g = d.get"]
    for index, field in enumerate(fields):
        reading = _fast_field(field, f"a{index}", names, readers)
        if reading is None:
            return None
        lines += reading
    lines.append("    o = new(cls)")
    lines += [f"    s{index}(o, a{index})" for index in range(len(fields))]
    return [*lines, "    return o"]


def _slot_setter(cls: type[Any], name: str) -> Callable[[Any, Any], None]:
    descriptor = getattr(cls, name, None)
    setter: Callable[[Any, Any], None] | None = getattr(descriptor, "__set__", None)
    if setter is not None:
        return setter

    def set_attribute(instance: Any, value: Any) -> None:  # a class without slots
        object.__setattr__(instance, name, value)

    return set_attribute


def _optional_field(
    field: attrs.Attribute[Any], store: str, names: dict[str, Any], readers: Readers
) -> list[str] | None:
    """Lines that read an optional field's value ``v`` into ``t`` and run ``store`` when
    the body gives it a value (null and what the liberal reader takes for empty run
    nothing)."""
    tp, key = field.type, field.name
    lines: list[str] = []
    if is_scalar_union(tp):
        names[f"k_{key}"] = tuple(arg for arg in get_args(tp) if arg is not NONE_TYPE)
        return [*lines, "    if v is not None:", f"        if type(v) not in k_{key}:",
                "            raise Slow", "        t = v", f"        {store}"]  # fmt: skip
    if is_number_union(tp):
        inner: Any = tp
    elif is_optional(tp):
        inner = optional_inner(tp)
    else:
        return None
    if attrs.has(inner):
        # [] is how PHP writes an empty object; {} carries nothing either
        lines += ["    if v is not None and (v or not (type(v) is list or type(v) is dict)):"]
    elif inner in BLANK_IS_NONE or inner is tp:
        lines += ["    if v is not None and v != '':"]
    else:
        lines += ["    if v is not None:"]
    value = _fast_value(inner, "t", names, readers)
    if value is None:
        return None
    return lines + ["    " + line for line in value] + [f"        {store}"]


def _fast_field(
    field: attrs.Attribute[Any], target: str, names: dict[str, Any], readers: Readers
) -> list[str] | None:
    """Lines that read a field every instance sets (required, an envelope's list, or any
    field of a model that does not read unset slots as None) into ``target``."""
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
    if field.default is not None:
        return None
    reading = _optional_field(field, f"{target} = t", names, readers)
    if reading is None:
        return None
    return [f"    {target} = None", f"    v = g({key!r})", *reading]


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
