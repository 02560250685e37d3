"""The cattrs converter for DigiCert's wire format.

- the values themselves (numbers, flags, timestamps, dates) follow :mod:`._wire`;
- ``unstructure`` leaves out fields that are None, at every depth, so a structured
  wire document unstructures back to itself; the keys a response model kept because
  no field knew them (:func:`~digicert_async.models.unknown_fields`) are written back;
- ``structure`` reports bad input as :class:`~digicert_async._errors.ValidationError`
  naming the dotted field path of the first problem (``certificate.valid_till``,
  ``requests[0].id``), with every problem found in its ``problems``, chained from
  cattrs' detailed error; a ValidationError raised by a model's own validation
  propagates as it is;
- response models (marked with :func:`~digicert_async.models._common.response_model`)
  are read liberally: an object field sent as ``[]``, ``{}`` or ``null`` is None, a
  list field sent as ``null`` is empty, an empty string in a date or number field is
  None, a decimal string in an integer field that does not identify the object is that
  integer, and the keys no field knows are kept. Request models get none of this: what
  is sent is checked strictly.

The hooks of a model, and its generated fast path (:mod:`._fastpath`), are built the
first time that model is read or written, not at import; :meth:`WireConverter.warm_up`
builds them all at once for whoever prefers to pay up front.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar, get_args

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

from . import _wire as wire
from ._checks import describe
from ._errors import ValidationError, problem_text
from ._fastpath import compile_fast
from .models._common import (
    ResponseModel,
    StrFlag,
    is_response_model,
    keep_unknown_fields,
    unknown_fields,
)

__all__ = ["WireConverter", "converter", "make_converter"]

T = TypeVar("T")

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


def _problem(exc: BaseException, path: str) -> tuple[str, str]:
    """One problem as (dotted path, what is wrong)."""
    if isinstance(exc, KeyError):
        message = "required field is missing"
    elif isinstance(exc, ForbiddenExtraKeysError):
        extra = sorted(exc.extra_fields)
        path = f"{path}.{extra[0]}"
        message = "unknown field(s): " + ", ".join(extra)
    elif isinstance(exc, ValidationError):
        path, message = exc.field, exc.message
    else:
        message = str(exc) or type(exc).__name__
    return path.lstrip(".") or "$", problem_text(message)


def _to_validation_error(exc: BaseException) -> tuple[ValidationError, bool]:
    """Turn a (detailed) cattrs structuring error into one ValidationError naming the
    first problem, with every problem in its ``problems``.

    Returns the error and whether a model raised it itself (it is then returned as is).
    """
    leaves = _leaves(exc, "")
    first = leaves[0][0]
    if isinstance(first, ValidationError):
        return first, True
    problems = tuple(_problem(leaf, path) for leaf, path in leaves)
    return ValidationError.of_problems(problems), False


# --------------------------------------------------------------------------- converter


class WireConverter(cattrs.Converter):
    """A cattrs converter for DigiCert's JSON. Use :data:`converter` or :func:`make_converter`."""

    def __init__(self, *, strict: bool = False, fast: bool = True) -> None:
        super().__init__(forbid_extra_keys=strict, omit_if_default=True)
        self.strict = strict
        self.fast = fast and not strict
        self._fast_readers: dict[type[Any], Callable[[Any], Any] | None] = {}

        for tp, hook in (
            (int, wire.structure_int),
            (float, wire.structure_float),
            (str, wire.structure_str),
            (bool, wire.structure_bool),
            (datetime, wire.structure_datetime),
            (date, wire.structure_date),
            (StrFlag, wire.structure_flag),
        ):
            self.register_structure_hook(tp, hook)
        self.register_unstructure_hook(datetime, wire.unstructure_datetime)
        self.register_unstructure_hook(date, wire.unstructure_date)
        self.register_unstructure_hook(StrFlag, wire.unstructure_flag)
        self.register_structure_hook_factory(wire.is_scalar_union, wire.scalar_union_hook)
        self.register_structure_hook_factory(wire.is_number_union, _number_union_hook)
        self.register_structure_hook_factory(wire.is_optional, self._optional_hook)
        self.register_structure_hook_factory(wire.is_list, self._list_hook)
        self.register_structure_hook_factory(attrs.has, self._attrs_structure_hook)
        self.register_unstructure_hook_factory(attrs.has, self._attrs_unstructure_hook)

    def _optional_hook(self, tp: Any) -> Callable[[Any, Any], Any]:
        # cattrs' own looks the inner hook up on every call; almost every response
        # field is optional, so look it up once.
        inner = wire.optional_inner(tp)
        handler = self.get_structure_hook(inner)

        def structure_optional(value: Any, _: Any) -> Any:
            return None if value is None else handler(value, inner)

        return structure_optional

    def _list_hook(self, tp: Any) -> Callable[[Any, Any], list[Any]]:
        args = get_args(tp)
        elem: Any = args[0] if args else Any
        return _list_of(tp, elem, _identity if elem is Any else self.get_structure_hook(elem))

    def _liberal_field_hook(self, tp: Any) -> Callable[[Any, Any], Any] | None:
        """The hook of a response model's optional field of type ``tp``, where it differs."""
        if wire.is_list(tp):
            handler = self._response_list_hook(tp)

            def structure_list_or_null(value: Any, _: Any) -> Any:
                return [] if value is None else handler(value, tp)

            return structure_list_or_null
        if wire.is_number_union(tp) and wire.NONE_TYPE in get_args(tp):
            inner: Any = tp
        elif wire.is_optional(tp):
            inner = wire.optional_inner(tp)
        else:
            return None
        if wire.is_list(inner):
            handler = self._response_list_hook(inner)

            def structure_optional_list(value: Any, _: Any) -> Any:
                return None if value is None else handler(value, inner)

            return structure_optional_list
        if attrs.has(inner):
            handler = self.get_structure_hook(inner)

            def structure_object_or_empty(value: Any, _: Any) -> Any:
                # [] is how PHP writes an empty object; {} carries nothing either.
                if value is None or (not value and type(value) in (list, dict)):
                    return None
                return handler(value, inner)

            return structure_object_or_empty
        if inner in wire.BLANK_IS_NONE or inner is tp:
            read = wire.read_decimal if inner is int else self.get_structure_hook(inner)

            def structure_blank_as_none(value: Any, _: Any) -> Any:
                if value is None or value == "":
                    return None
                return read(value, inner)

            return structure_blank_as_none
        return None

    def _response_list_hook(self, tp: Any) -> Callable[[Any, Any], list[Any]]:
        """A list in a response: its integers may be decimal strings, like any integer
        field's there."""
        args = get_args(tp)
        if args and args[0] is int:
            return _list_of(tp, int, wire.read_decimal)
        return self.get_structure_hook(tp)

    def _attrs_structure_hook(self, cls: type[T]) -> Callable[[Any, Any], T]:
        overrides: dict[str, Any] = {}
        attrs_class: Any = attrs.resolve_types(cls)  # type: ignore[type-var]
        fields = attrs.fields(attrs_class)
        if is_response_model(cls):
            for field in fields:
                # a required int (an identifying id) gets none: it is read strictly
                hook = self._liberal_field_hook(field.type)
                if hook is not None:
                    overrides[field.name] = override(struct_hook=hook)
        generated = make_dict_structure_fn(cls, self, **overrides)
        known = frozenset(field.name for field in fields)
        keeps = issubclass(cls, ResponseModel) and not self.strict

        def structure_object(value: Any, _: Any) -> T:
            if type(value) is not dict and not isinstance(value, Mapping):
                raise TypeError(f"expected an object, got {describe(value)}")
            model = generated(value, cls)
            if keeps and not value.keys() <= known:
                extra = {k: v for k, v in value.items() if k not in known}
                keep_unknown_fields(model, extra)  # type: ignore[arg-type]
            return model

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
        """The fast path of a response model, built the first time it is asked for (None
        for request models, on the strict converter, or where a field's type is not
        one it knows)."""
        try:
            return self._fast_readers[cls]
        except KeyError:
            pass
        if not self.fast or not is_response_model(cls):
            return None
        self._fast_readers[cls] = None  # a model that contains itself stays slow
        self._fast_readers[cls] = reader = compile_fast(cls, self)
        return reader

    def _attrs_unstructure_hook(self, cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
        # Every optional field defaults to None, so "omit if default" is "omit None".
        generated = make_dict_unstructure_fn(cls, self, _cattrs_omit_if_default=True)
        if not issubclass(cls, ResponseModel):
            return generated

        def unstructure_with_unknown(model: Any) -> dict[str, Any]:
            document = generated(model)
            kept = unknown_fields(model)
            if kept:
                document.update(kept)
            return document

        return unstructure_with_unknown

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
        """Build the hooks (and fast paths) of every model now rather than on first use."""
        from . import models

        for name in models.__all__:
            cls = getattr(models, name)
            if isinstance(cls, type) and attrs.has(cls):
                self.get_structure_hook(cls)
                self.get_unstructure_hook(cls)


def _identity(value: Any, _: Any) -> Any:
    return value


def _number_union_hook(tp: Any) -> Callable[[Any, Any], Any]:
    nullable = wire.NONE_TYPE in get_args(tp)

    def structure_number(value: Any, _: Any) -> Any:
        if value is None and nullable:
            return None
        return wire.structure_float(value, float)

    return structure_number


def _list_of(
    tp: Any, elem: Any, handler: Callable[[Any, Any], Any]
) -> Callable[[Any, Any], list[Any]]:
    """A list hook reading each item with ``handler``; unlike cattrs' own, it takes no
    other iterable (a string included) and names every item that does not read."""

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


def make_converter(*, strict: bool = False, fast: bool = True) -> WireConverter:
    """A new converter; ``strict=True`` rejects unknown keys (tests use it to catch drift),
    ``fast=False`` reads every response model with cattrs' detailed pass alone (tests
    hold the fast path against it). Its hooks are built on first use."""
    return WireConverter(strict=strict, fast=fast)


converter: WireConverter = make_converter()
"""The runtime converter: lenient about unknown keys (it keeps them), strict about types."""
