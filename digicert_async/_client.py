"""CertCentralClient: configuration, session lifecycle, the call path, resource groups."""

from __future__ import annotations

import asyncio
import contextlib
import platform
import sys
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal, TypeVar

import aiohttp

from ._checks import check_count, check_flag, check_instance, check_number
from ._config import REGION_URLS, Secret, resolve_api_root
from ._decode import decode
from ._errors import ClientClosedError, ValidationError, raise_unchained
from ._hooks import CallEnded, CallStarted, Events, Hooks
from ._pipeline import (
    API_KEY_HEADER,
    ClientHeaders,
    Handler,
    Reader,
    Request,
    Response,
    Transport,
    compose,
    fill_route,
)
from ._ratelimit import (
    LimiterBackend,
    Pacer,
    RateLimit,
    RateLimitMiddleware,
    close_backend,
)
from ._retry import RetryMiddleware, RetryPolicy
from ._send import SendStep
from ._transport import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_RESPONSE_BYTES,
    AiohttpTransport,
    GuardedTransport,
)
from ._version import __version__
from .resources.certificates import CertificatesResource
from .resources.domains import DomainsResource
from .resources.orders import OrdersResource
from .resources.organizations import OrganizationsResource
from .resources.products import ProductsResource
from .resources.requests import RequestsResource
from .resources.subaccounts import SubaccountsResource
from .resources.webhooks import WebhooksResource

__all__ = ["REGION_URLS", "CertCentralClient"]

USER_AGENT = (
    f"digicert-async/{__version__} Python/{platform.python_version()} aiohttp/{aiohttp.__version__}"
)

_Result = TypeVar("_Result")

MAX_RESPONSE_BYTES = 2**31
"""The largest ``max_response_bytes`` accepted (2 GiB): a body is held in memory whole."""

DRAIN_GRACE = 1.0
"""Seconds ``close()`` lets the calls it ended take to leave the pipeline before it
closes the session under any that have not."""


class CertCentralClient:
    """An asynchronous client for the CertCentral Services API v2.

    Use it as an async context manager (or call :meth:`close`)::

        async with CertCentralClient(api_key=key) as client:
            order = await client.orders.get(123456)

    The endpoints are grouped in attributes:

    - ``orders``: certificate orders: get, list, create, cancel, reissue, duplicate, revoke, notes.
    - ``certificates``: issued certificates: download, PEM bundles, chains, revocation.
    - ``requests``: approval requests: list, get, approve, reject.
    - ``products``: the products the account may order, with their rules.
    - ``subaccounts``: the orders of the account's subaccounts: get and list.
    - ``webhooks``: the account's webhook: create, get, update, test, challenge, activate.
    - ``organizations``: organizations: list, get, create, submit for validation.
    - ``domains``: domains: list, get, create, activate, deactivate, their DCV.

    Every attempt of every call is paced by ``rate_limit`` (DigiCert's windows by
    default) and retried per ``retry``. The key is sent only in the ``X-DC-DEVKEY``
    header and never appears in ``repr``, logs, exceptions (their messages, their
    arguments, the exceptions they chain, or the local variables of the frames in
    their tracebacks, as error trackers record them) or URLs.

    :param api_key: the CertCentral API key: printable ASCII without whitespace.
        Left out (or None), it is read from the ``DIGICERT_API_KEY`` environment
        variable; a key in neither place is a ``ValidationError``.
    :param region: ``"us"`` or ``"eu"``: which documented API root to use.
    :param base_url: the full API root (``.../services/v2``); overrides ``region``.
        Plain ``http://`` is accepted only for loopback hosts (a local fake or proxy).
    :param timeout: seconds allowed for each attempt, finite and above zero (not for
        the whole call: that is ``retry.deadline``, which also cuts short an attempt
        still in flight when it passes).
    :param retry: the retry policy; ``RetryPolicy()`` by default.
    :param rate_limit: the client-side pacing; ``RateLimit()`` (DigiCert's documented
        windows) by default, ``RateLimit.disabled()`` for none.
    :param session: an ``aiohttp.ClientSession`` the caller owns; it is used as is and
        never closed by the client. By default the client opens and closes its own.
        (On a session the client opens, aiohttp's own silent re-send of an idempotent
        request after a dropped keep-alive connection is turned off, so that every send
        is paced and counted; a borrowed session keeps whatever its owner chose.)
    :param hooks: callbacks for metrics and tracing.
    :param max_response_bytes: the largest answer body accepted, in bytes after
        decompression (8 MiB by default). The client reads every body itself, in
        steps, and stops at this limit, so it holds on a borrowed session too,
        whatever that session's settings (the client asks for gzip or deflate and
        decodes them itself, whatever the session's ``auto_decompress``). A success
        answer past it is a ``ResponseError`` and is not retried; an error answer
        past it keeps the exception its status gives (a 503 is still a retried
        ``ServerError``), with the start of its body only. At most 2 GiB.
    :param trust_env: let the session the client opens take its proxy from the
        ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` environment variables (and
        credentials from ``~/.netrc``), as aiohttp's ``trust_env`` does. Off by default:
        aiohttp ignores those variables unless told. A borrowed ``session`` keeps its
        own setting.
    :param transport: any ``async (Request) -> Response`` to make the HTTP exchanges
        in aiohttp's place (tests without sockets, another HTTP library). Each attempt
        is handed to it as a ``Request`` whose ``headers`` carry the API key, for the
        transport to send: the transport is the one place user code is given the key.
        Retry, pacing, the deadline, decoding and hooks work over it as over aiohttp,
        and the client holds it to what its own transport keeps: each attempt ends at
        ``timeout`` or the call's deadline, an answer is held to
        ``max_response_bytes``, and whatever else it raises or returns is a
        ``TransportError`` with ``permanent=True`` (see ``Response`` and
        ``TransportError`` for what a transport may say). With a transport the client
        opens no session (``session`` and ``trust_env`` are aiohttp's, and are refused
        beside it) and closes nothing of it.

    :meth:`close` ends the calls still in flight or queued at once, each with a
    ``ClientClosedError``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        region: Literal["us", "eu"] | str = "us",
        base_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        hooks: Hooks | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        trust_env: bool = False,
    ) -> None:
        # Before anything can raise: the key leaves this frame's locals, where a
        # traceback (of a bad argument below, say) would show it.
        try:
            secret = Secret.given_or_from_environment(api_key)
        finally:
            del api_key
        problem = secret.problem()
        if problem is not None:
            raise ValidationError("api_key", problem)
        self.timeout = check_number("timeout", timeout, allow_zero=False)
        self._max_response_bytes = check_count(
            "max_response_bytes", max_response_bytes, maximum=MAX_RESPONSE_BYTES
        )
        self._api_key = secret
        self.api_root = resolve_api_root(region, base_url)
        self.region = region
        self.retry = check_instance("retry", retry, RetryPolicy, optional=True) or RetryPolicy()
        self.rate_limit = (
            check_instance("rate_limit", rate_limit, RateLimit, optional=True) or RateLimit()
        )
        self.hooks = check_instance("hooks", hooks, Hooks, optional=True) or Hooks()
        self._events = Events(self.hooks)
        self._trust_env = check_flag("trust_env", trust_env)
        self._transport = _check_transport(transport, session, self._trust_env)
        self._session = session
        self._owns_session = session is None
        self._headers = _client_headers(secret, asks_encoding=transport is None)
        self._closed = False
        self._handler: Handler | None = None
        # the tasks inside _run(), and those of them that close() cancelled
        self._calls: set[asyncio.Task[Any]] = set()
        self._evicted: set[asyncio.Task[Any]] = set()
        self._drained: asyncio.Event | None = None
        self._closing: asyncio.Future[None] | None = None
        self._calls_made = 0
        self._ratelimit_middleware = RateLimitMiddleware(
            self.rate_limit, self._events, backend=_bind_backend(self.rate_limit, secret)
        )
        self._retry_middleware = RetryMiddleware(self.retry, self._events)
        self._group_endpoints()

    def _group_endpoints(self) -> None:
        # The attributes the class docstring lists, each a resource whose requester is
        # this client.
        self.orders = OrdersResource(self)
        self.products = ProductsResource(self)
        self.subaccounts = SubaccountsResource(self)
        self.certificates = CertificatesResource(self)
        self.requests = RequestsResource(self)
        self.webhooks = WebhooksResource(self)
        self.organizations = OrganizationsResource(self)
        self.domains = DomainsResource(self)

    @property
    def pacer(self) -> Pacer:
        """The rate limiter as it is now: the windows in force (with adaptive pacing,
        learned from 429s below ``rate_limit.windows``) and the 429s seen. A live view;
        ``rate_limit`` stays the configuration as given."""
        return Pacer(self._ratelimit_middleware)

    @property
    def max_response_bytes(self) -> int:
        """The largest answer body accepted, in decoded bytes."""
        return self._max_response_bytes

    def __repr__(self) -> str:
        # getattr: the repr of a half-built client (in a traceback) must not fail
        return (
            f"CertCentralClient(api_root={getattr(self, 'api_root', None)!r},"
            f" closed={getattr(self, '_closed', False)})"
        )

    async def __aenter__(self) -> CertCentralClient:
        self._pipeline()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if the client opened it; a borrowed session stays open.

        Calls still in flight or waiting (for a rate-limit slot, a cool-down or a
        retry) end at once with ``ClientClosedError``, and so does any call made
        later. Connections the rate limiter's backend opened (a shared Redis store)
        close too.

        Any number of ``close()`` calls, concurrent or not, share one shutdown: each
        returns when it is over (and raises what it raised). Cancelling one of them
        leaves the shutdown running for the others.
        """
        closing = self._closing
        if closing is None:
            self._closed = True
            self._handler = None
            # Its own task, so that a close() cancelled half way does not leave the
            # others waiting on a shutdown that stopped; every call is cancelled once.
            closing = self._closing = asyncio.ensure_future(self._shut_down(asyncio.current_task()))
        if closing.done():
            return closing.result()
        await asyncio.shield(closing)

    async def _shut_down(self, closer: asyncio.Task[Any] | None) -> None:
        await self._end_calls(closer)
        session, self._session = self._session, None
        try:
            if session is not None and self._owns_session and not session.closed:
                await session.close()
        finally:
            await close_backend(self._ratelimit_middleware.backend)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called (or the ``async with`` block ended)."""
        return self._closed

    async def _end_calls(self, closer: asyncio.Task[Any] | None) -> None:
        # A call that closes its own client (from its transport, say) is not ended
        # under itself.
        calls = self._calls - {closer}
        if not calls:
            return
        self._evicted |= calls
        drained = self._drained = asyncio.Event()
        for task in calls:
            task.cancel()
        # Let them leave the pipeline (connections dropped, rate-limit slots given
        # back) before the session closes under them; a task stuck elsewhere does
        # not hold close() up for long.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(drained.wait(), DRAIN_GRACE)

    def _pipeline(self) -> Handler:
        if self._handler is not None:
            return self._handler
        if self._closed:
            raise ClientClosedError("this CertCentralClient is closed; create a new one")
        transport: Transport
        if self._transport is None:
            transport = AiohttpTransport(
                self._open_session(), self.timeout, self._max_response_bytes
            )
        else:
            transport = GuardedTransport(self._transport, self.timeout, self._max_response_bytes)
        self._handler = compose(
            [self._retry_middleware, self._ratelimit_middleware],
            SendStep(transport, self._events),
        )
        return self._handler

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=self._trust_env)
            # aiohttp quietly re-sends an idempotent request once when a pooled
            # connection drops; that send would escape pacing, hooks and the retry
            # budget, so the retry middleware alone decides. (A borrowed session is
            # the caller's to configure.)
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    async def _run(self, request: Request) -> Response:
        """Run one request through the chain and return the raw answer, the task
        known to :meth:`close`, which may end it (``ClientClosedError``)."""
        handler = self._handler or self._pipeline()
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing close() could cancel
            return await handler(request)
        calls = self._calls
        calls.add(task)
        try:
            return await handler(request)
        except asyncio.CancelledError:
            if task not in self._evicted:
                raise
            # A cancellation of the caller's own, on top of close()'s, wins.
            if sys.version_info >= (3, 11) and task.uncancel() > 0:
                raise
        finally:
            calls.discard(task)
            if self._evicted:
                self._evicted.discard(task)
                if not self._evicted and self._drained is not None:
                    self._drained.set()
        # Raised here, unchained: the CancelledError (whose traceback runs through
        # aiohttp, headers and all) must not become its __context__.
        raise_unchained(
            ClientClosedError(
                f"{request.method} {request.url}: the client was closed"
                " while this call was in flight"
            )
        )

    async def call(
        self,
        method: str,
        route: str,
        read: Reader[_Result],
        *,
        path_args: Mapping[str, object] | None = None,
        params: tuple[tuple[str, str], ...] = (),
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        replayable: bool | None = None,
    ) -> _Result:
        """Send ``method route`` (``route`` filled with ``path_args``) through the
        middleware chain and return the answer as ``read`` reads it (see
        ``digicert_async._decode``), or raise the documented exception. This is the
        seam the resource methods share; prefer them.

        ``replayable=False`` keeps the retry layer from sending it again once it may
        have reached DigiCert, whatever the method (a PUT that creates something);
        None lets the method decide."""
        self._calls_made += 1
        request = Request(
            method=method,
            path=fill_route(route, path_args) if path_args else route,
            route=route,
            path_args=path_args or {},
            root=self.api_root,
            params=params,
            headers=self._headers.for_request(headers, json is not None),
            json=json,
            read=read,
            call=self._calls_made,
            replayable=replayable,
        )
        events = self._events
        if events.on_call_start or events.on_call_end:
            timed: _Result = await self._timed_call(request)
            return timed
        result: _Result = decode(await self._run(request), request)
        return result

    async def _timed_call(self, request: Request) -> Any:
        """A call told as ``CallStarted`` and ``CallEnded`` events (someone listens)."""
        events = self._events
        loop = asyncio.get_running_loop()
        started = loop.time()
        if events.on_call_start:
            events.call_started(
                CallStarted(
                    call=request.call, method=request.method, route=request.route, url=request.url
                )
            )
        error: BaseException | None = None
        attempts = 0
        try:
            response = await self._run(request)
            attempts = response.attempts
            return decode(response, request)
        except BaseException as exc:
            error = exc
            attempts = getattr(exc, "attempts", attempts)
            raise
        finally:
            if events.on_call_end:
                events.call_ended(
                    CallEnded(
                        call=request.call,
                        method=request.method,
                        route=request.route,
                        url=request.url,
                        elapsed=loop.time() - started,
                        attempts=attempts,
                        error=error,
                    )
                )


def _client_headers(secret: Secret, *, asks_encoding: bool) -> ClientHeaders:
    """The headers every request of the client is made with, for the transport to send:
    nothing else of the client holds the key but its ``Secret``, whose repr hides it.
    The aiohttp transport decodes gzip and deflate itself (``asks_encoding``)."""
    return ClientHeaders(
        {
            API_KEY_HEADER: secret.reveal(),
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            **({"Accept-Encoding": ACCEPT_ENCODING} if asks_encoding else {}),
        }
    )


def _check_transport(transport: object, session: object, trust_env: bool) -> Transport | None:
    """``transport``, once it and the settings of aiohttp's transport beside it are
    usable (``session`` is checked here too)."""
    check_instance("session", session, aiohttp.ClientSession, optional=True)
    if transport is None:
        return None
    if not callable(transport):
        raise ValidationError(
            "transport",
            f"must be an async callable (Request) -> Response, not {type(transport).__name__}",
        )
    if session is not None or trust_env:
        raise ValidationError(
            "transport",
            "is given with session or trust_env, which are aiohttp's: give one or the other",
        )
    return transport


def _bind_backend(rate_limit: RateLimit, secret: Secret) -> LimiterBackend | None:
    # The factory is given only the key's hash: one that raises must not have the key
    # in its frames.
    if rate_limit.backend is None:
        return None
    return rate_limit.backend.for_key(secret.sha256(), rate_limit)
