"""Turning an answer into what the endpoint promises, or the documented exception (pure)."""

from __future__ import annotations

import json
from typing import Any, TypeVar, overload

from ._converter import converter
from ._errors import ResponseError, ValidationError, decode_text, error_from_status
from ._pipeline import Response

__all__ = ["decode_response", "structure_answer"]

_Model = TypeVar("_Model")


@overload
def decode_response(response: Response, model: type[_Model]) -> _Model: ...


@overload
def decode_response(response: Response, model: None) -> None: ...


def decode_response(response: Response, model: type[_Model] | None) -> _Model | None:
    """Turn an answer into a model or the documented exception (pure)."""
    if not 200 <= response.status < 300:
        raise error_from_status(
            response.status,
            response.body,
            method=response.method,
            url=response.url,
            attempts=response.attempts,
        )
    if model is None:
        return None
    try:
        document = json.loads(response.body)
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile nesting
        raise ResponseError(
            f"body is not JSON ({exc})",
            method=response.method,
            url=response.url,
            status=response.status,
            body=decode_text(response.body),
        ) from None
    return structure_answer(document, model, response)


def structure_answer(
    document: Any, model: type[_Model], response: Response, *, path: str = ""
) -> _Model:
    """``document`` (part of ``response``'s body, at ``path``) as ``model``, or the
    ``ResponseError`` naming the field that does not fit (pure)."""
    try:
        return converter.structure(document, model)
    except ValidationError as exc:
        field = exc.field if exc.field != "$" else ""
        where = f"{path}.{field}" if path and field else (path or field or "$")
        raise ResponseError(
            f"body does not match {model.__name__}: {where}: {exc.message}",
            method=response.method,
            url=response.url,
            status=response.status,
            body=decode_text(response.body),
            field=where,
        ) from exc
    except Exception as exc:
        raise ResponseError(
            f"body does not match {model.__name__}: {exc}",
            method=response.method,
            url=response.url,
            status=response.status,
            body=decode_text(response.body),
        ) from exc
