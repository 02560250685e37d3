"""How a request given as a model or as its wire mapping becomes the model, checked."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TypeVar

from .._checks import describe
from .._converter import WireConverter, make_converter
from .._errors import ValidationError

_Model = TypeVar("_Model")


@functools.cache
def strict_converter() -> WireConverter:
    return make_converter(strict=True)


def request_model(value: object, cls: type[_Model], field: str) -> _Model:
    """``value`` as the request model ``cls``: the model itself, or its wire form as a
    mapping read with unknown keys refused (a misspelt key would otherwise be dropped
    without a word), validated before anything is sent."""
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        return strict_converter().structure(dict(value), cls)
    raise ValidationError(field, f"must be a {cls.__name__} or a mapping, not {describe(value)}")
