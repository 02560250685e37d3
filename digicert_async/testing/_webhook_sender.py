"""The fake's side of webhooks that does I/O: POSTing what the account's outbox holds to the
webhook's endpoint, with the secret as ``X-WEBHOOK-KEY``; and, when the fake's faults are
on, duplicating, reordering or dropping some deliveries, as a real network and a real
sender may."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass
from typing import Any

import aiohttp

from ._state import FakeAccount
from ._state._webhooks import Delivery

__all__ = ["WEBHOOK_FAULTS", "DeliveryRecord", "FakeWebhooks"]

WEBHOOK_FAULTS = ("drop", "duplicate", "reorder")
_REORDER_DELAY = (0.05, 0.3)  # seconds a reordered delivery waits, so later ones overtake it
_TIMEOUT = 10.0


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery: the event sent (its JSON), where, the fault applied (None, ``drop``,
    ``duplicate``, ``reorder``), and the endpoint's answer status (None: dropped, or no
    answer)."""

    body: dict[str, Any]
    endpoint: str
    fault: str | None
    status: int | None


class FakeWebhooks:
    """``FakeCertCentral.webhooks``: the webhook the account has, what was pushed, and a
    shortcut to an active webhook without the challenge.

    With ``fault_rate`` above zero, each delivery is, with that probability, dropped,
    sent twice, or held back a little so that later ones overtake it (reproducible with
    the fake's ``seed``)."""

    def __init__(self, account: FakeAccount, rng: random.Random, fault_rate: float) -> None:
        self._book = account.webhooks
        self._rng = rng
        self._fault_rate = fault_rate
        self.deliveries: list[DeliveryRecord] = []
        self._alarm: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._runner: asyncio.Task[None] | None = None

    @property
    def current(self) -> dict[str, Any] | None:
        """The webhook as ``GET /webhook`` shows it, or None."""
        webhook = self._book.webhook
        return None if webhook is None else webhook.shown()

    def register(self, endpoint: str, secret: str | None, events: list[str] | None = None) -> int:
        """Make ``endpoint`` the account's webhook, verified and active, and return its id
        (what ``create``, the challenge and ``activate`` do through the API)."""
        webhook = self._book.create(
            endpoint, secret, events or ["certificate_issued", "certificate_revoked"], {}
        )
        webhook.verified, webhook.status = True, "active"
        return webhook.id

    def push(self, event: str, data: dict[str, Any]) -> bool:
        """Push ``{"event": event, "data": data}`` to the account's webhook, as DigiCert does
        for what the fake does not model by itself (a domain validated on DigiCert's own
        look, a validation about to expire); False when the webhook is not active or not
        subscribed to ``event``."""
        webhook = self._book.webhook
        if webhook is None or webhook.status != "active" or event not in webhook.events:
            return False
        self._book.send(webhook.endpoint, webhook.secret, {"event": event, "data": dict(data)})
        return True

    async def settle(self) -> None:
        """Wait until every delivery made so far has been answered (or has failed)."""
        while self._book.outbox or self._tasks:
            await asyncio.sleep(0)
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ------------------------------------------------------------------ sending

    def start(self) -> None:
        self._alarm = asyncio.Event()
        self._book.wake = self._alarm.set
        self._runner = asyncio.ensure_future(self._run())

    async def close(self) -> None:
        self._book.wake = lambda: None
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        assert self._alarm is not None
        while True:
            await self._alarm.wait()
            self._alarm.clear()
            while self._book.outbox:
                self._dispatch(self._book.outbox.popleft())
            await asyncio.sleep(0)

    def _dispatch(self, delivery: Delivery) -> None:
        fault = None
        if self._fault_rate > 0 and self._rng.random() < self._fault_rate:
            fault = self._rng.choice(WEBHOOK_FAULTS)
        if fault == "drop":
            self.deliveries.append(DeliveryRecord(delivery.body, delivery.endpoint, fault, None))
            return
        delay = self._rng.uniform(*_REORDER_DELAY) if fault == "reorder" else 0.0
        for _ in range(2 if fault == "duplicate" else 1):
            task = asyncio.ensure_future(self._post(delivery, fault, delay))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _post(self, delivery: Delivery, fault: str | None, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=_TIMEOUT))
        headers = {} if delivery.secret is None else {"X-WEBHOOK-KEY": delivery.secret}
        status: int | None = None
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            async with self._session.post(
                delivery.endpoint, json=delivery.body, headers=headers
            ) as answer:
                status = answer.status
        self.deliveries.append(DeliveryRecord(delivery.body, delivery.endpoint, fault, status))
