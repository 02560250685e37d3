"""``client.webhooks``: the account's one webhook, from creation to activation.

DigiCert's limits, which no call here can lift:

- webhooks are not enabled for every CertCentral account (DigiCert Support or the
  account manager turns them on); on another account these calls fail with DigiCert's
  error;
- only an administrator's API key can create or change one;
- an account has one webhook: a second ``create`` is refused
  (``webhook_configured_already``); change the one there is with ``update``;
- a ``certificate_issued`` event comes only for a certificate that was *not* issued the
  instant its order was placed, unless ``instant_issue_webhook_notification`` is set;
- events flow only once the endpoint has answered the challenge and the webhook is
  activated: ``create`` -> ``send_test_event`` -> ``send_challenge`` -> (the receiver
  gets the token) -> ``verify_challenge`` -> ``activate``. A challenge token is valid
  for 30 minutes; changing the endpoint needs a new challenge.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._checks import check_id
from .._config import check_url
from .._converter import converter
from .._decode import read_json, read_model, read_nothing, structure_answer
from .._errors import BadRequestError, ValidationError
from .._pipeline import Requester, Response
from ..models import Webhook, WebhookCreated, WebhookSettings
from ..models._common import response_model
from ..models.webhooks import ChallengeCheck, WebhookRequest, WebhookTestRequest

__all__ = ["WebhooksResource"]

WEBHOOK = "/webhook"
ONE_WEBHOOK = "/webhook/{webhook_id}"
TEST_EVENT = "/webhook/test-endpoint"
SEND_CHALLENGE = "/webhook/{webhook_id}/send-challenge"
CHECK_CHALLENGE = "/webhook/{webhook_id}/check-challenge"
ACTIVATE = "/webhook/{webhook_id}/activate"
DEACTIVATE = "/webhook/{webhook_id}/deactivate"

NO_WEBHOOK = "webhook_invalid_account"
"""DigiCert's error code for ``GET /webhook`` on an account without one."""

_CREATED = read_model(WebhookCreated)


@response_model
@attrs.frozen(kw_only=True)
class _WebhookList:
    webhooks: list[Any] = attrs.field(factory=list)
    webhook_settings: Any = None  # one of DigiCert's tables puts the settings here


def _read_webhook(response: Response) -> Webhook | None:
    envelope = structure_answer(read_json(response), _WebhookList, response)
    if not envelope.webhooks:
        return None
    webhook = structure_answer(envelope.webhooks[0], Webhook, response, path="webhooks[0]")
    if webhook.webhook_settings is None and envelope.webhook_settings:
        settings = structure_answer(
            {"id": webhook.id, "webhook_settings": envelope.webhook_settings},
            Webhook,
            response,
        ).webhook_settings
        webhook = attrs.evolve(webhook, webhook_settings=settings)
    return webhook


def _endpoint(value: object) -> str:
    """A webhook's endpoint: https, or http to a loopback host (a local test)."""
    check_url("endpoint", value, carries="the webhook's secret")
    assert isinstance(value, str)  # check_url accepts text only
    return value


def _required_secret(value: object) -> str:
    # DigiCert makes the secret optional; the receiver authenticates by it, so here it is not.
    if value is None or value == "":
        raise ValidationError(
            "secret", "is required: the receiver authenticates DigiCert's events by it"
        )
    return value  # type: ignore[return-value]  # the request model checks the rest


class WebhooksResource:
    """The account's webhook: ``client.webhooks`` (see the module for DigiCert's limits)."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def create(
        self,
        *,
        endpoint: str,
        secret: str,
        events: list[str],
        settings: WebhookSettings | None = None,
    ) -> WebhookCreated:
        """Create the account's webhook (``POST /webhook``); the answer holds its id.

        ``endpoint`` is https (plain http only to a loopback host, for tests).
        ``secret`` (at least 32 printable characters) is what DigiCert sends as
        ``X-WEBHOOK-KEY`` and what :class:`~digicert_async.WebhookReceiver` checks:
        required here, though DigiCert would accept none. ``events`` are some of
        :data:`~digicert_async.WEBHOOK_EVENTS`. The webhook starts ``pending``: test it,
        pass the challenge and :meth:`activate` it. Needs an administrator's key and an
        account with webhooks enabled.
        """
        body = WebhookRequest(
            endpoint=_endpoint(endpoint),
            secret=_required_secret(secret),
            events=_events(events),
            webhook_settings=settings,
        )
        return await self._requester.call(
            "POST", WEBHOOK, _CREATED, json=converter.unstructure(body)
        )

    async def get(self) -> Webhook | None:
        """The account's webhook (``GET /webhook``), or None when it has none."""
        try:
            return await self._requester.call("GET", WEBHOOK, _read_webhook)
        except BadRequestError as exc:
            if exc.code == NO_WEBHOOK:
                return None
            raise

    async def update(
        self,
        webhook_id: int,
        *,
        endpoint: str,
        secret: str | None = None,
        events: list[str] | None = None,
        settings: WebhookSettings | None = None,
    ) -> None:
        """Change the webhook (``PUT /webhook/{webhook_id}``). ``secret``, ``events`` and
        ``settings`` left out stay as they are; a secret cannot be removed here (the
        receiver needs one). A new endpoint must pass a new challenge and be activated
        again before events reach it."""
        check_id("webhook_id", webhook_id)
        if secret is not None:
            _required_secret(secret)
        body = WebhookRequest(
            endpoint=_endpoint(endpoint),
            secret=secret,
            events=None if events is None else _events(events),
            webhook_settings=settings,
        )
        await self._requester.call(
            "PUT",
            ONE_WEBHOOK,
            read_nothing,
            path_args={"webhook_id": webhook_id},
            json=converter.unstructure(body),
        )

    async def send_test_event(self, *, endpoint: str, secret: str) -> None:
        """Have DigiCert POST a ``test_webhook_endpoint`` event to ``endpoint`` with
        ``secret`` as ``X-WEBHOOK-KEY`` (``POST /webhook/test-endpoint``). DigiCert
        refuses (``webhook_endpoint_error``) when the endpoint does not answer 2xx."""
        body = WebhookTestRequest(endpoint=_endpoint(endpoint), secret=_required_secret(secret))
        await self._requester.call(
            "POST", TEST_EVENT, read_nothing, json=converter.unstructure(body)
        )

    async def send_challenge(self, webhook_id: int) -> None:
        """Have DigiCert send a ``challenge_webhook_endpoint`` event with a new token
        (``PUT .../send-challenge``); the receiver surfaces it. Sent once: a repeat would
        send another token."""
        await self._put(SEND_CHALLENGE, webhook_id, replayable=False)

    async def verify_challenge(self, webhook_id: int, token: str) -> None:
        """Hand back the token the endpoint got (``PUT .../check-challenge``); an
        invalid or expired one (30 minutes) is a ``BadRequestError``
        (``webhook_invalid_token``)."""
        check_id("webhook_id", webhook_id)
        body = converter.unstructure(ChallengeCheck(token=token))
        await self._requester.call(
            "PUT", CHECK_CHALLENGE, read_nothing, path_args={"webhook_id": webhook_id}, json=body
        )

    async def activate(self, webhook_id: int) -> None:
        """Start the events (``PUT .../activate``); refused (``webhook_invalid_action``)
        until the challenge is passed."""
        await self._put(ACTIVATE, webhook_id)

    async def deactivate(self, webhook_id: int) -> None:
        """Stop the events, keeping the webhook (``PUT .../deactivate``)."""
        await self._put(DEACTIVATE, webhook_id)

    async def delete(self, webhook_id: int) -> None:
        """Remove the webhook (``DELETE /webhook/{webhook_id}``)."""
        check_id("webhook_id", webhook_id)
        await self._requester.call(
            "DELETE", ONE_WEBHOOK, read_nothing, path_args={"webhook_id": webhook_id}
        )

    async def _put(self, route: str, webhook_id: int, *, replayable: bool | None = None) -> None:
        check_id("webhook_id", webhook_id)
        await self._requester.call(
            "PUT", route, read_nothing, path_args={"webhook_id": webhook_id}, replayable=replayable
        )


def _events(events: object) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise ValidationError("events", "must be a non-empty list of event names")
    return list(events)
