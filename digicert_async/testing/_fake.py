"""``FakeCertCentral``: the CertCentral Services API v2 on loopback, with state and faults."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import hmac
import random
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from aiohttp import web

from . import (
    _certificates,
    _downloads,
    _notes,
    _order_dcv,
    _orders,
    _products,
    _reissues,
    _requests,
    _subaccounts,
    _validation,
    _webhooks,
)
from ._answers import (
    INVALID_KEY,
    REFUSALS,
    Injection,
    Outcome,
    json_response,
    refusal,
    spoiled,
    too_many_requests,
)
from ._fake_validation import ValidationHelpers
from ._limiter import DEFAULT_RATE_LIMITS, WindowLimiter, checked_windows
from ._log import DEFAULT_MAX_LOGGED_BYTES, DEFAULT_MAX_LOGGED_REQUESTS, RequestLog
from ._routing import (
    API_ROOT,
    Call,
    Endpoint,
    Routes,
    error,
    no_route,
    run_endpoint,
    tidy_path,
)
from ._settings import at_least_zero, checked_faults, key_or_new
from ._state import FakeAccount, StoredCertificate
from ._types import Fault, RecordedRequest
from ._webhook_sender import FakeWebhooks

__all__ = ["DEFAULT_RATE_LIMITS", "FakeCertCentral"]

ROUTES: tuple[Routes, ...] = (
    _orders.routes,
    _notes.routes,
    _subaccounts.routes,
    _reissues.routes,
    _certificates.routes,
    _requests.routes,
    _downloads.routes,
    _products.routes,
    _webhooks.routes,
    _validation.routes,
    _order_dcv.routes,
)
"""Every resource group's route table; a new group is one module with a ``routes`` table,
listed here."""
_Limiter = WindowLimiter
"""The limiter under the name ``benchmarks/_fake_process.py`` swaps a running fake's by."""


class FakeCertCentral(ValidationHelpers):
    """A stateful fake of DigiCert's CertCentral Services API v2 on a loopback port.

    Use it as an async context manager (or call ``start``/``close``); point a client at
    ``base_url`` with ``api_key``. Every request is recorded in ``requests``: the latest
    ``max_logged_requests`` (100,000) of them, holding at most ``max_logged_bytes`` (64 MiB)
    of bodies, headers, paths and queries; past either bound the oldest are dropped. A
    request without the right key is recorded without its body, which is never read.
    Rate limits follow DigiCert's rolling windows by default; pass ``rate_limits=None``
    to switch them off.
    Faults are injected at random (``fault_rate`` over ``fault_kinds``, reproducible with
    ``seed``) or scheduled with ``inject``.

    Checks run in this order for every request: API key (403), rate-limit windows and block
    (429), injected fault, then the endpoint.

    Orders move on a lifecycle clock the test controls: a ``pending`` order (added, or
    placed through the API) is issued ``issue_after`` seconds on that clock later, a
    reissue (``reissue_pending``) gets its new certificate then, and a duplicate is issued
    then. Only ``advance`` moves the clock, unless ``realtime=True`` (a standalone fake, a
    demo), when it also runs with the monotonic clock; ``issue_after=None`` leaves orders
    where they are. Each issued certificate is a real X.509 chain (a leaf signed by
    ``intermediates`` intermediate CAs under a self-signed root), made with ``cryptography``
    (the ``fake`` extra); ``certificate`` shows it. ``cross_signed=True`` makes the
    chain a cross-signed one, as DigiCert bundles it: after the intermediates, the root
    cross-signed by an older root, the root, and the older root (the other formats cut
    that chain by position: ``pem_noroot`` leaves out the older root only).

    Validation (see ``FakeAccount`` and ``ValidationHelpers``): ``dcv_required=True`` holds
    orders pending until their domains pass DCV, read from the fake ``dns``;
    ``validation_reuse`` and ``dns_propagation`` are lifecycle seconds. ``webhooks``
    pushes the account's events to its webhook (see ``FakeWebhooks``).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        orders: int = 0,
        rate_limits: Sequence[tuple[int, float]] | None = DEFAULT_RATE_LIMITS,
        block_seconds: float = 5.0,
        retry_after: bool = False,
        fault_rate: float = 0.0,
        fault_kinds: Sequence[Fault] = tuple(Fault),
        seed: int | None = None,
        slow_seconds: float = 2.0,
        host: str = "127.0.0.1",
        port: int = 0,
        issue_after: float | None = 60.0,
        realtime: bool = False,
        intermediates: int = 1,
        cross_signed: bool = False,
        max_logged_requests: int = DEFAULT_MAX_LOGGED_REQUESTS,
        max_logged_bytes: int = DEFAULT_MAX_LOGGED_BYTES,
        dcv_required: bool = False,
        validation_reuse: float | None = None,
        dns_propagation: float = 0.0,
    ) -> None:
        key = key_or_new(api_key)
        at_least_zero(orders=orders)
        windows = checked_windows(rate_limits)
        at_least_zero(block_seconds=block_seconds)
        kinds = checked_faults(fault_rate, fault_kinds)
        at_least_zero(slow_seconds=slow_seconds)

        self.api_key: str = key
        self.block_seconds = block_seconds
        self.retry_after = retry_after
        self.fault_rate = fault_rate
        self.fault_kinds = kinds
        self.slow_seconds = slow_seconds
        self._host = host
        self._port = port
        self._limiter = WindowLimiter(windows, block_seconds) if windows else None
        self._rng = random.Random(seed)
        self._account = FakeAccount(
            issue_after=issue_after,
            realtime=realtime,
            intermediates=intermediates,
            cross_signed=cross_signed,
            dcv_required=dcv_required,
            validation_reuse=validation_reuse,
            dns_propagation=dns_propagation,
        )
        self._account.seed(orders)
        self.webhooks = FakeWebhooks(self._account, self._rng, fault_rate)
        """The account's webhook and what was pushed to it (see ``FakeWebhooks``)."""
        self._injections: list[Injection] = []
        self._log = RequestLog(max_logged_requests, max_logged_bytes)
        self._rate_limited = 0
        self._endpoints: dict[web.AbstractRoute, Endpoint] = {}
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._closing: asyncio.Event | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind the port and start answering. Raises ``RuntimeError`` if already started."""
        if self._runner is not None:
            raise RuntimeError("FakeCertCentral is already started")
        self._closing = asyncio.Event()
        app = web.Application()
        self._mount(app.router)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
            host, port = runner.addresses[0][:2]
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.webhooks.start()
        url_host = f"[{host}]" if ":" in str(host) else str(host)
        self._base_url = f"http://{url_host}:{port}{API_ROOT}"

    async def close(self) -> None:
        """Stop answering and release the port; answers held back by ``SLOW`` go out at once.

        Calling it again (or on a fake never started) does nothing.
        """
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._closing is not None:
            self._closing.set()
        await self.webhooks.close()
        await runner.cleanup()

    async def __aenter__(self) -> FakeCertCentral:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/services/v2``; only once started."""
        if self._base_url is None:
            raise RuntimeError("FakeCertCentral is not started")
        return self._base_url

    # ------------------------------------------------------------------ inspection

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last ``clear_requests``, in arrival order
        (the latest ``max_logged_requests``, within ``max_logged_bytes``)."""
        return self._log.records

    @property
    def requests_received(self) -> int:
        """How many requests arrived since the fake started, those the log dropped or
        ``clear_requests`` forgot included."""
        return self._log.received

    def clear_requests(self) -> None:
        """Forget the recorded requests (and the arrivals behind ``max_in_window``)."""
        self._log.clear()

    @property
    def rate_limited_count(self) -> int:
        """How many 429s were sent because a rate-limit window was exceeded (faults excluded)."""
        return self._rate_limited

    def max_in_window(self, seconds: float) -> int:
        """Most requests admitted past the rate limiter within any ``seconds`` long span."""
        return self._log.max_in_window(seconds)

    # ------------------------------------------------------------------ state helpers

    def add_order(
        self,
        status: str = "pending",
        *,
        product: str = "ssl_basic",
        common_name: str = "example.com",
        subaccount: bool = False,
        immediate: bool = True,
        dns_names: list[str] | None = None,
        **extra: Any,
    ) -> int:
        """Add an order and return its id.

        ``subaccount=True`` places it by a subaccount (visible under ``/account/subaccount``);
        ``immediate=False`` makes that a sub-subaccount, whose view lacks certificate and
        organization. ``dns_names`` are the certificate's names (``[common_name]`` when
        left out). ``extra`` keys are merged into the order-info document. A ``pending``
        order is issued ``issue_after`` seconds later on the lifecycle clock (see
        ``advance``); an ``issued`` one has its certificate at once.
        """
        return self._account.lifecycle.add_order(
            status,
            product=product,
            common_name=common_name,
            subaccount=subaccount,
            immediate=immediate,
            dns_names=dns_names,
            extra=extra,
        )

    def set_status(self, order_id: int, status: str, *, at: datetime | None = None) -> None:
        """Change an order's status and record the change (now, or at ``at``).

        Raises ``KeyError`` for an unknown order.
        """
        self._account.lifecycle.set_status(order_id, status, at)

    def order(self, order_id: int) -> dict[str, Any] | None:
        """A copy of the order-info document, or ``None`` for an unknown order."""
        self._account.lifecycle.tick()
        stored = self._account.orders.get(order_id)
        return None if stored is None else copy.deepcopy(stored.info)

    def update_order(self, order_id: int, **fields: Any) -> None:
        """Set top-level fields of the order-info document (copies of the values), to shape
        what the fake answers: ``fake.update_order(oid, organization=[])``. Raises
        ``KeyError`` if the order is unknown."""
        self._account.orders[order_id].info.update(copy.deepcopy(fields))

    def notes(self, order_id: int) -> list[dict[str, Any]]:
        """Copies of the order's notes in creation order. Raises ``KeyError`` if unknown."""
        return copy.deepcopy(self._account.orders[order_id].notes)

    def advance(self, seconds: float) -> None:
        """Move the lifecycle clock on by ``seconds`` and apply what falls due: pending
        orders issued, reissues and duplicates issued with their new certificates."""
        self._account.lifecycle.advance(seconds)

    def certificate(self, certificate_id_or_serial: int | str) -> StoredCertificate | None:
        """A copy of one certificate (an order's original, a reissue or a duplicate) by
        its id or serial number (hex), or ``None``: its ``status``, ``serial_number``,
        ``thumbprint``, and once issued ``pem`` (the leaf), ``chain`` (intermediates
        nearest first, the self-signed root last) and ``pem_all``."""
        self._account.lifecycle.tick()
        found = self._account.certificates.find(str(certificate_id_or_serial))
        return None if found is None else copy.deepcopy(found)

    def certificate_ids(self, order_id: int) -> list[int]:
        """Ids of every certificate of an order, oldest first (the original, then each
        reissue and duplicate). Raises ``KeyError`` for an unknown order."""
        self._account.lifecycle.tick()
        return list(self._account.orders[order_id].certificate_ids)

    @property
    def root_pem(self) -> str | None:
        """The fake's self-signed root CA (PEM), or ``None`` without ``cryptography``."""
        authority = self._account.certificates.authority()
        return None if authority is None else authority.root_pem

    def remove_order(self, order_id: int) -> None:
        """Delete an order (later requests for it get 404). Raises ``KeyError`` if unknown."""
        del self._account.orders[order_id]

    @property
    def order_ids(self) -> list[int]:
        """Ids of all orders, ascending."""
        return sorted(self._account.orders)

    # ------------------------------------------------------------------ faults

    def inject(
        self,
        fault: Fault,
        *,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Apply ``fault`` to the next ``times`` requests matching ``method`` and the path.

        Scheduled faults are used first-in first-out and take precedence over ``fault_rate``.
        They are only consumed by requests that pass the key check and the rate limiter.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        self._injections.append(
            Injection(Fault(fault), times, method.upper() if method else None, path_contains)
        )

    def _pick_fault(self, method: str, path: str) -> Fault | None:
        for index, injection in enumerate(self._injections):
            if injection.matches(method, path):
                injection.remaining -= 1
                if injection.remaining == 0:
                    del self._injections[index]
                return injection.fault
        if self.fault_rate > 0 and self._rng.random() < self.fault_rate:
            return self._rng.choice(self.fault_kinds)
        return None

    # ------------------------------------------------------------------ serving

    def _mount(self, router: web.UrlDispatcher) -> None:
        """Every resource group's routes below ``API_ROOT``, each served through ``_serve``,
        then a catch-all, so that aiohttp's own text 404 and 405 are never sent."""
        self._endpoints = {}
        for table in ROUTES:
            for route in table:
                added = router.add_route(
                    route.method,
                    API_ROOT + route.path,
                    functools.partial(self._serve, route.endpoint),
                )
                self._endpoints[added] = route.endpoint
        router.add_route("*", "/{path:.*}", self._serve_unrouted)

    async def _serve_unrouted(self, request: web.Request) -> web.StreamResponse:
        """A request no route matched: the fake has always ignored stray slashes below the
        API root, so a path that has them gets a second look without them."""
        tidy = tidy_path(request.path)
        if tidy is not None:
            retry = request.clone(rel_url=request.rel_url.with_path(tidy))
            match = await request.app.router.resolve(retry)
            endpoint = self._endpoints.get(match.route)
            if endpoint is not None:
                return await self._serve(endpoint, request, match)
        return await self._serve(no_route, request)

    async def _serve(
        self, endpoint: Endpoint, request: web.Request, params: Mapping[str, str] | None = None
    ) -> web.StreamResponse:
        """Every request passes here: it is recorded, then answered by ``_respond``.

        The key is checked before the body is read: a request without it is answered
        (and recorded) without its body ever being held."""
        key = request.headers.get("X-DC-DEVKEY", "")
        authorized = hmac.compare_digest(
            key.encode("utf-8", "surrogateescape"), self.api_key.encode("utf-8")
        )
        body = await request.read() if authorized else b""
        arrived = time.monotonic()
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            headers=request.headers,
            body=body,
            time=arrived,
        )
        ticket = self._log.add(record)
        outcome = Outcome(None)
        status: int | None = None
        try:
            call = Call(
                request.method,
                request.path,
                request.match_info if params is None else params,
                request.query,
                body,
            )
            outcome = await self._respond(call, arrived, endpoint, authorized=authorized)
            if outcome.response is not None:
                status = outcome.response.status
        except Exception:
            status = 500
            raise
        finally:
            self._log.settle(
                ticket, answered_status=status, applied=outcome.applied, fault=outcome.fault
            )
        if outcome.response is None:
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)  # never written: the transport is closed
        return outcome.response

    async def _respond(
        self, call: Call, arrived: float, endpoint: Endpoint, *, authorized: bool
    ) -> Outcome:
        if not authorized:
            return Outcome(json_response(error(403, INVALID_KEY)))

        if self._limiter is not None:
            blocked_for = self._limiter.admit(arrived)
            if blocked_for is not None:
                self._rate_limited += 1
                return Outcome(too_many_requests(blocked_for, retry_after=self.retry_after))
        self._log.admitted(arrived)

        fault = self._pick_fault(call.method, call.path)
        if fault is not None and fault in REFUSALS:
            return Outcome(refusal(fault, retry_after=self.retry_after), fault=fault)
        if fault is Fault.RESET_BEFORE:
            return Outcome(None, fault=fault)

        self._account.lifecycle.tick()  # what fell due on the lifecycle clock happens first
        status, payload = run_endpoint(endpoint, self._account, call)
        applied = 200 <= status < 300

        if fault is Fault.RESET_AFTER:
            return Outcome(None, applied, fault)
        if fault is Fault.SLOW:
            await self._pause(self.slow_seconds)
        response = spoiled(fault, (status, payload)) or json_response((status, payload))
        return Outcome(response, applied, fault)

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake up at once when the fake is closing."""
        closing = self._closing
        if closing is None or closing.is_set():
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(closing.wait(), seconds)
