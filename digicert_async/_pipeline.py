"""Request/Response values, the middleware chain, and the one step that does I/O.

The chain is the library's own rather than aiohttp's client middlewares so that it
works the same on a session the caller owns and under aioresponses (which patches
below ``session.request``), and so that every policy part can be tested alone.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import aiohttp
import attrs

from ._errors import TransportError
from ._hooks import Hooks, RequestSent, ResponseReceived, logger

__all__ = [
    "Handler",
    "HttpSender",
    "Middleware",
    "Request",
    "Response",
    "compose",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@attrs.frozen(kw_only=True)
class Request:
    """One API call as plain data: what to send, relative to the client's API root.

    ``attempt`` and ``deadline`` are filled in by the retry middleware so that the
    layers below it can report the attempt number and never wait past the deadline
    (a monotonic ``loop.time()`` value).
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    json: Any = None
    attempt: int = 1
    deadline: float | None = None

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS

    def for_attempt(self, attempt: int, deadline: float | None) -> Request:
        """This request as its ``attempt``-th send (``attrs.evolve`` costs more on this
        path, which every call takes)."""
        return Request(
            method=self.method,
            path=self.path,
            params=self.params,
            json=self.json,
            attempt=attempt,
            deadline=deadline,
        )


@attrs.frozen(kw_only=True)
class Response:
    """An answer, fully read: no aiohttp object escapes the send step.

    ``attempts`` is set by the retry middleware: how many sends this answer took.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    method: str
    url: str
    attempts: int = 1

    def with_attempts(self, attempts: int) -> Response:
        if attempts == self.attempts:
            return self
        return Response(
            status=self.status,
            headers=self.headers,
            body=self.body,
            method=self.method,
            url=self.url,
            attempts=attempts,
        )


Handler = Callable[[Request], Awaitable[Response]]


class Middleware(Protocol):
    """``async (request, call_next) -> response``: one policy layer of the chain."""

    def __call__(self, request: Request, call_next: Handler, /) -> Awaitable[Response]: ...


def compose(middlewares: Sequence[Middleware], endpoint: Handler) -> Handler:
    """Wrap ``endpoint`` so that ``middlewares[0]`` runs first (outermost)."""
    handler = endpoint
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler


def _bind(middleware: Middleware, call_next: Handler) -> Handler:
    def bound(request: Request) -> Awaitable[Response]:
        return middleware(request, call_next)

    return bound


class HttpSender:
    """The send step: one HTTP exchange through aiohttp, body read, connection released.

    Redirects are never followed: a 3xx comes back as an answer (and becomes an
    ``APIError``), so the key header can never be carried to another origin.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_root: str,
        headers: Mapping[str, str],
        timeout: float,
        hooks: Hooks,
    ) -> None:
        self._session = session
        self._api_root = api_root.rstrip("/")
        self._headers = dict(headers)
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._hooks = hooks

    def url_for(self, request: Request) -> str:
        return self._api_root + request.path

    async def __call__(self, request: Request) -> Response:
        url = self.url_for(request)
        method = request.method
        if request.json is None:
            data = None
            headers = self._headers
        else:
            data = json.dumps(request.json, separators=(",", ":")).encode()
            headers = self._json_headers
        hooks = self._hooks
        if hooks.on_request:  # events are built only for someone listening
            hooks.request_sent(RequestSent(method=method, url=url, attempt=request.attempt))
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with self._session.request(
                method,
                url,
                params=request.params or None,
                data=data,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as answer:
                body = await answer.read()
                status = answer.status
                answer_headers = answer.headers
        except aiohttp.ClientConnectorError as exc:
            # The TCP (or TLS) connection was never established: nothing was sent.
            raise TransportError(
                f"cannot connect: {exc.os_error or exc}",
                method=method,
                url=url,
                request_sent=False,
            ) from exc
        except asyncio.TimeoutError as exc:
            raise TransportError(
                f"no answer within {self._timeout.total} s",
                method=method,
                url=url,
                request_sent=True,
                timeout=True,
            ) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(
                f"{type(exc).__name__}: {_safe_message(exc)}",
                method=method,
                url=url,
                request_sent=True,
            ) from (None if hasattr(exc, "request_info") else exc)
        elapsed = loop.time() - started
        logger.debug("%s %s -> %d in %.3f s", method, url, status, elapsed)
        if hooks.on_response:
            hooks.response_received(
                ResponseReceived(
                    method=method, url=url, attempt=request.attempt, status=status, elapsed=elapsed
                )
            )
        return Response(status=status, headers=answer_headers, body=body, method=method, url=url)


def _safe_message(exc: aiohttp.ClientError) -> str:
    # Some aiohttp errors carry request_info, whose headers hold the API key: take
    # only the message, never the repr of the request.
    if hasattr(exc, "request_info"):
        return str(getattr(exc, "message", "")) or type(exc).__name__
    return str(exc) or type(exc).__name__
