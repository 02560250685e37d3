"""Turning an answer into what the call promises, or the documented exception (pure).

:func:`decode` is the one place where ``(status, headers, body)`` becomes a result or
an exception, at the end of the call. An error answer becomes its exception by
``_error_answers.answer_error`` (the retry layer may have asked first, to say why it retries:
the exception is built once and kept on the answer). A success is read by the
request's reader: :func:`read_model`, :data:`read_bytes` or :data:`read_nothing` (a
listing brings its own), and an answer about one object by :func:`read_identified`,
which also checks it is about the object the route names.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Generic, TypeVar, get_args

import attrs

from ._checks import check_id, shown
from ._converter import converter
from ._error_answers import answer_error
from ._errors import ResponseError, ValidationError, decode_text, list_problems
from ._pipeline import Reader, Request, Response
from ._wire import is_list

__all__ = [
    "Identified",
    "decode",
    "read_bytes",
    "read_identified",
    "read_json",
    "read_model",
    "read_nothing",
    "structure_answer",
]

_Model = TypeVar("_Model")
_Result = TypeVar("_Result")


def decode(response: Response, request: Request) -> Any:
    """The call's result: the answer read by ``request.read``, or the exception of an
    error answer. With no reader the answer itself is the result. An
    :class:`Identified` reader's answer must be about the object asked for. A success
    the transport cut at the client's ``max_response_bytes`` (``Response.truncated``)
    is a ``ResponseError``: whatever it was meant to be, it is not all there."""
    if not 200 <= response.status < 300:
        raise answer_error(response, request.root)
    if response.truncated:
        raise _response_error(
            response,
            "the answer is larger than the client's max_response_bytes: only its first"
            f" {len(response.body)} bytes were read",
        )
    read = request.read
    if read is None:
        return response
    if isinstance(read, Identified):
        return read.about(response, request)
    return read(response)


@attrs.frozen
class Identified(Generic[_Result]):
    """A reader of an answer about one object, and what identifies that object.

    The answer's ``field`` (``id``) identifies it. An integer id must be a positive id
    (as :func:`~digicert_async._checks.check_id` takes them), and when the route names
    the object (``path_arg``, ``order_id`` of ``/order/certificate/{order_id}``), the
    answer's id must be that one: reading order 1 and getting order 2 is a
    ``ResponseError``, not order 2 reported as order 1. An answer of nothing (None)
    identifies nothing and passes. :func:`decode` checks; calling the reader itself
    only reads.
    """

    read: Reader[_Result]
    path_arg: str | None = None
    field: str = "id"

    def __call__(self, response: Response) -> _Result:
        return self.read(response)

    def about(self, response: Response, request: Request) -> _Result:
        """The answer, read, once it is about the object ``request`` asked for."""
        answer = self.read(response)
        if answer is None:
            return answer
        field = self.field
        value = getattr(answer, field, None)
        if isinstance(value, int):
            try:
                check_id(field, value)
            except ValidationError as exc:
                raise _response_error(
                    response, f"the identifying {field} {exc.message}", field
                ) from None
        elif not isinstance(value, str):
            raise _response_error(response, f"the answer has no identifying {field}", field)
        if self.path_arg is not None:
            asked = request.path_args.get(self.path_arg)
            if value != asked:
                raise _response_error(
                    response,
                    f"the answer is about {field} {shown(value)}, not the {self.path_arg}"
                    f" {shown(asked)} asked for",
                    field,
                )
        return answer


def read_identified(
    model: type[_Model], path_arg: str | None = None, *, field: str = "id"
) -> Identified[_Model]:
    """:func:`read_model` for an answer about one object (see :class:`Identified`)."""
    return Identified(read_model(model), path_arg, field)


def read_json(response: Response) -> Any:
    """The body as JSON, or the ``ResponseError`` saying it is not."""
    try:
        return json.loads(response.body)
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile nesting
        raise _response_error(
            response,
            "body is an HTML page, not JSON (a proxy or a web site answered, not DigiCert's API)"
            if _is_html(response)
            else f"body is not JSON ({exc})",
        ) from None


_MODEL_READERS: dict[type[Any], Reader[Any]] = {}


def read_model(model: type[_Model]) -> Reader[_Model]:
    """The reader of an answer whose body is ``model`` as JSON (one per model)."""
    reader = _MODEL_READERS.get(model)
    if reader is not None:
        return reader
    fast_reader = converter.fast_reader

    def read(response: Response) -> _Model:
        document = read_json(response)
        fast = fast_reader(model)  # built on the first answer, then looked up
        if fast is not None:
            try:
                return fast(document)  # type: ignore[no-any-return]
            except Exception:  # the detailed pass names what does not fit
                pass
        return structure_answer(document, model, response)

    reader = _MODEL_READERS[model] = read
    return reader


def read_bytes(response: Response) -> bytes:
    """The body as it came (a certificate download, say): bytes, unread."""
    return response.body


def read_nothing(response: Response) -> None:
    """For endpoints that answer with nothing: an empty body or any JSON is a success;
    an HTML page (or anything else) is a ``ResponseError``: a proxy or a web site
    answered, not DigiCert, and nothing says the call was applied."""
    if not response.body.strip():
        return
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


def structure_answer(
    document: Any, model: type[_Model], response: Response, *, path: str = ""
) -> _Model:
    """``document`` (part of ``response``'s body, at ``path``) as ``model``, or the
    ``ResponseError`` naming the field that does not fit (pure)."""
    try:
        return converter.structure(document, model)
    except ValidationError as exc:
        problems = [(_within(path, field), message) for field, message in exc.problems]
        what = f"{len(problems):,} problems: " if len(problems) > 1 else ""
        raise _response_error(
            response,
            f"body does not match {model_name(model)}: {what}{list_problems(problems)}",
            problems[0][0],
            problems,
        ) from exc
    except Exception as exc:
        raise _response_error(response, f"body does not match {model_name(model)}: {exc}") from exc


def _within(path: str, field: str) -> str:
    field = "" if field == "$" else field
    return f"{path}.{field}" if path and field else (path or field or "$")


def model_name(model: type[Any]) -> str:
    """``model`` as an error names it: a public model by its name; a private envelope
    (a listing's page, say) by the one list it holds."""
    if not model.__name__.startswith("_"):
        return model.__name__
    if attrs.has(model):
        fields = attrs.fields(attrs.resolve_types(model))
        lists = [field for field in fields if is_list(field.type)]
        if len(lists) == 1:
            item = (get_args(lists[0].type) or (Any,))[0]
            if attrs.has(item):
                return f"a list of {item.__name__} under {lists[0].name!r}"
            return f"a page of {lists[0].name!r}"
    return "the answer this endpoint documents"


def _response_error(
    response: Response,
    message: str,
    field: str | None = None,
    problems: Sequence[tuple[str, str]] = (),
) -> ResponseError:
    return ResponseError(
        message,
        method=response.method,
        url=response.url,
        status=response.status,
        body=decode_text(response.body),
        field=field,
        problems=problems,
    )


def _is_html(response: Response) -> bool:
    content_type = response.headers.get("Content-Type") or response.headers.get("content-type")
    if content_type is not None and "html" in content_type.lower():
        return True
    return response.body.lstrip()[:1] == b"<"
