"""How a public name is presented: as living in the package users import it from.

Classes and functions say where users import them from, in reprs, tracebacks and
pickles (as httpx does): ``digicert_async.ValidationError``, not the private module.
Moving a class's ``__module__`` would break ``typing.get_type_hints`` (which evaluates
string annotations in the namespace ``__module__`` names) for the annotations that name
what its private module imported (``datetime``, a private class...): so before it moves,
its own annotations are evaluated where they were written, once per distinct text.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

__all__ = ["present_as"]

# (defining module, annotation text) -> the evaluated annotation
_EVALUATED: dict[tuple[str, str], Any] = {}


def present_as(value: Any, module: str) -> None:
    """Give ``value`` (a public class or function) ``module`` as its ``__module__``,
    resolving a class's string annotations first."""
    if isinstance(value, type):
        _resolve_annotations(value)
    value.__module__ = module


def _resolve_annotations(cls: type) -> None:
    annotations = inspect.get_annotations(cls)  # the class's own, not its bases'
    if not annotations or not any(isinstance(a, str) for a in annotations.values()):
        return
    defined_in = sys.modules[cls.__module__].__dict__
    namespace = dict(vars(cls))
    resolved: dict[str, Any] = {}
    for name, annotation in annotations.items():
        if isinstance(annotation, str):
            key = (cls.__module__, annotation)
            if key not in _EVALUATED:
                # what typing.get_type_hints does: the class's names, then its module's
                _EVALUATED[key] = eval(annotation, defined_in, namespace)
            annotation = _EVALUATED[key]
        resolved[name] = annotation
    cls.__annotations__ = resolved
