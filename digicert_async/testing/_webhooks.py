"""The account's webhook: create, list, update, test, challenge, activate, delete.

Unlike DigiCert, the fake pushes in the background: ``test-endpoint`` and
``send-challenge`` answer at once, whether or not the endpoint answers 2xx (what was
sent, and what came back, is in ``FakeCertCentral.webhooks.deliveries``). A plain http
endpoint is accepted on a loopback host, for tests.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any
from urllib.parse import urlsplit

from ._routing import Answer, Call, Rejected, Routes, invalid, not_found, required
from ._state import FakeAccount
from ._state._webhooks import StoredWebhook

routes = Routes()

_EVENTS = frozenset(
    {
        "certificate_issued", "certificate_revoked", "order_rejected", "organization_validated",
        "organization_expired", "organization_revalidation_notice", "domain_validated",
        "domain_expired", "domain_revalidation_notice",
    }
)  # fmt: skip
_SECRET_LENGTH = 32


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint(body: dict[str, Any]) -> str:
    endpoint = body.get("endpoint")
    if endpoint is None or endpoint == "":
        raise Rejected(400, required("endpoint"))
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if parts is None or not (
        parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname))
    ):
        raise Rejected(
            400,
            ("webhook_invalid_endpoint", "The provided endpoint is not valid."),
        )
    return str(endpoint)


def _secret(body: dict[str, Any]) -> str | None:
    secret = body.get("secret")
    if secret is None or secret == "":
        return None
    if not isinstance(secret, str) or len(secret) < _SECRET_LENGTH:
        raise Rejected(400, invalid("secret", "Must be at least 32 characters."))
    return secret


def _events(body: dict[str, Any], default: list[str]) -> list[str]:
    events = body.get("events")
    if events is None:
        return default
    if not isinstance(events, list) or not all(e in _EVENTS for e in events):
        raise Rejected(400, invalid("events"))
    return list(events)


def _settings(body: dict[str, Any], default: dict[str, Any]) -> dict[str, Any]:
    settings = body.get("webhook_settings")
    if settings is None:
        return default
    if not isinstance(settings, dict):
        raise Rejected(400, invalid("webhook_settings"))
    return {**default, **settings}


def _the_webhook(store: FakeAccount, call: Call) -> StoredWebhook:
    webhook = store.webhooks.webhook
    webhook_id = call.params["webhook_id"]
    if webhook is None or str(webhook.id) != webhook_id:
        raise not_found("webhook", webhook_id)
    return webhook


@routes.post("/webhook")
def create_webhook(store: FakeAccount, call: Call) -> Answer:
    body = call.json_object()
    if store.webhooks.webhook is not None:
        raise Rejected(400, ("webhook_configured_already", "A webhook already exists."))
    webhook = store.webhooks.create(
        _endpoint(body), _secret(body), _events(body, sorted(_EVENTS)), _settings(body, {})
    )
    return 201, {"webhook_id": webhook.id}


@routes.get("/webhook")
def list_webhooks(store: FakeAccount, call: Call) -> Answer:
    webhook = store.webhooks.webhook
    if webhook is None:
        raise Rejected(400, ("webhook_invalid_account", "No webhook exists for the account."))
    return 200, {"webhooks": [webhook.shown()]}


@routes.put(r"/webhook/{webhook_id:\d+}")
def update_webhook(store: FakeAccount, call: Call) -> Answer:
    webhook = _the_webhook(store, call)
    body = call.json_object()
    endpoint = _endpoint(body)
    if "secret" in body:  # "" removes it; left out, it stays
        webhook.secret = _secret(body)
    webhook.events = _events(body, webhook.events)
    webhook.settings = _settings(body, webhook.settings)
    if endpoint != webhook.endpoint:  # a new endpoint must pass a new challenge
        webhook.endpoint, webhook.status, webhook.verified = endpoint, "pending", False
    return 204, None


@routes.post("/webhook/test-endpoint")
def send_test_event(store: FakeAccount, call: Call) -> Answer:
    body = call.json_object()
    store.webhooks.send(_endpoint(body), _secret(body), {"event": "test_webhook_endpoint"})
    return 200, None


@routes.put(r"/webhook/{webhook_id:\d+}/send-challenge")
def send_challenge(store: FakeAccount, call: Call) -> Answer:
    _the_webhook(store, call)
    store.webhooks.challenge(secrets.token_urlsafe(24), store.now())
    return 204, None


@routes.put(r"/webhook/{webhook_id:\d+}/check-challenge")
def check_challenge(store: FakeAccount, call: Call) -> Answer:
    webhook = _the_webhook(store, call)
    token = call.json_object().get("token")
    expires = webhook.token_expires
    if (
        not isinstance(token, str)
        or webhook.token is None
        or not secrets.compare_digest(token, webhook.token)
        or expires is None
        or store.now() > expires
    ):
        raise Rejected(400, ("webhook_invalid_token", "The token is invalid or expired."))
    webhook.verified, webhook.token = True, None
    return 204, None


@routes.put(r"/webhook/{webhook_id:\d+}/activate")
def activate_webhook(store: FakeAccount, call: Call) -> Answer:
    return _switch(_the_webhook(store, call), "active")


@routes.put(r"/webhook/{webhook_id:\d+}/deactivate")
def deactivate_webhook(store: FakeAccount, call: Call) -> Answer:
    return _switch(_the_webhook(store, call), "inactive")


def _switch(webhook: StoredWebhook, status: str) -> Answer:
    if not webhook.verified:
        raise Rejected(
            400, ("webhook_invalid_action", "Complete the verification challenge first.")
        )
    webhook.status = status
    return 204, None


@routes.route("DELETE", r"/webhook/{webhook_id:\d+}")
def delete_webhook(store: FakeAccount, call: Call) -> Answer:
    _the_webhook(store, call)
    store.webhooks.webhook = None
    return 204, None
