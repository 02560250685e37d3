"""The account's webhook and the events waiting to be pushed to it (no I/O: the fake's
sender delivers what ``outbox`` holds)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ._records import StoredOrder

__all__ = ["CHALLENGE_LIFETIME", "Delivery", "StoredWebhook", "WebhookBook"]

CHALLENGE_LIFETIME = timedelta(minutes=30)
# Which order statuses DigiCert pushes, as which event.
_EVENT_OF_STATUS = {
    "issued": "certificate_issued",
    "revoked": "certificate_revoked",
    "rejected": "order_rejected",
}


@dataclass
class StoredWebhook:
    id: int
    endpoint: str
    secret: str | None
    events: list[str]
    settings: dict[str, Any] = field(default_factory=dict)
    status: str = "pending"  # pending -> active <-> inactive
    verified: bool = False
    token: str | None = None
    token_expires: datetime | None = None

    def shown(self) -> dict[str, Any]:
        """The webhook as ``GET /webhook`` lists it."""
        shown: dict[str, Any] = {"id": self.id, "endpoint": self.endpoint}
        if self.secret:
            shown["secret"] = self.secret
        shown.update(events=list(self.events), status=self.status)
        if self.settings:
            shown["webhook_settings"] = dict(self.settings)
        return shown


@dataclass(frozen=True)
class Delivery:
    """One POST to make: where, with which ``X-WEBHOOK-KEY`` (None: no header), what."""

    endpoint: str
    secret: str | None
    body: dict[str, Any]


class WebhookBook:
    """The account's one webhook (or none) and the outbox of deliveries.

    ``wake`` is called whenever a delivery is added (the sender's alarm)."""

    def __init__(self) -> None:
        self.webhook: StoredWebhook | None = None
        self.next_id = 7001
        self.outbox: deque[Delivery] = deque()
        self.wake: Callable[[], None] = lambda: None

    def create(
        self, endpoint: str, secret: str | None, events: list[str], settings: dict[str, Any]
    ) -> StoredWebhook:
        self.webhook = StoredWebhook(self.next_id, endpoint, secret, events, settings)
        self.next_id += 1
        return self.webhook

    def send(self, endpoint: str, secret: str | None, body: dict[str, Any]) -> None:
        self.outbox.append(Delivery(endpoint, secret, body))
        self.wake()

    def challenge(self, token: str, now: datetime) -> None:
        webhook = self.webhook
        assert webhook is not None
        webhook.token, webhook.token_expires = token, now + CHALLENGE_LIFETIME
        body = {
            "event": "challenge_webhook_endpoint",
            "data": {"token": token, "webhook_id": webhook.id},
        }
        self.send(webhook.endpoint, webhook.secret, body)

    def order_moved(self, order: StoredOrder, status: str) -> None:
        """Push the event of an order's new status, when the webhook is active and
        subscribed to it."""
        webhook = self.webhook
        name = _EVENT_OF_STATUS.get(status)
        if webhook is None or webhook.status != "active" or name not in webhook.events:
            return
        data: dict[str, Any] = {"order_id": order.id}
        certificate_id = order.info.get("certificate", {}).get("id")
        if name != "order_rejected" and certificate_id is not None:
            data["certificate_id"] = certificate_id
        self.send(webhook.endpoint, webhook.secret, {"event": name, "data": data})
