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
def decode_response(
    response: Response, model: type[_Model], *, api_root: str | None = None
) -> _Model: ...


@overload
def decode_response(response: Response, model: None, *, api_root: str | None = None) -> None: ...


def decode_response(
    response: Response, model: type[_Model] | None, *, api_root: str | None = None
) -> _Model | None:
    """Turn an answer into a model or the documented exception (pure).

    ``api_root``, the client's, is named by the errors that say the base URL is wrong.
    With ``model`` None the endpoint returns nothing: an empty body or any JSON is
    a success, an HTML page (or anything else) is a ``ResponseError``: a proxy or a
    web site answered, not DigiCert.
    """
    if not 200 <= response.status < 300:
        raise error_from_status(
            response.status,
            response.body,
            method=response.method,
            url=response.url,
            attempts=response.attempts,
            api_root=api_root,
        )
    if model is None:
        if response.body.strip():
            _check_no_body_answer(response)
        return None
    try:
        document = json.loads(response.body)
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile nesting
        raise _response_error(
            response,
            "body is an HTML page, not JSON (a proxy or a web site answered, not DigiCert's API)"
            if _is_html(response)
            else f"body is not JSON ({exc})",
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
        raise _response_error(
            response, f"body does not match {model.__name__}: {where}: {exc.message}", where
        ) from exc
    except Exception as exc:
        raise _response_error(response, f"body does not match {model.__name__}: {exc}") from exc


def _response_error(response: Response, message: str, field: str | None = None) -> ResponseError:
    return ResponseError(
        message,
        method=response.method,
        url=response.url,
        status=response.status,
        body=decode_text(response.body),
        field=field,
    )


def _is_html(response: Response) -> bool:
    content_type = response.headers.get("Content-Type") or response.headers.get("content-type")
    if content_type is not None and "html" in content_type.lower():
        return True
    return response.body.lstrip()[:1] == b"<"


def _check_no_body_answer(response: Response) -> None:
    """A body where the endpoint promises none is accepted only as JSON."""
    if _is_html(response):
        raise _response_error(
            response,
            "an HTML page, not DigiCert's API, answered (a proxy or a web site?);"
            " nothing says the call was applied",
        )
    try:
        json.loads(response.body)
    except (ValueError, RecursionError):
        raise _response_error(
            response, "the body is neither empty nor JSON; nothing says the call was applied"
        ) from None
