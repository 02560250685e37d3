"""The account's webhook and the events DigiCert pushes to it.

``POST /webhook`` creates the account's one webhook (:class:`WebhookRequest`; the answer
is :class:`WebhookCreated`), ``GET /webhook`` shows it (a ``webhooks`` list holding one
:class:`Webhook`), ``PUT /webhook/{id}`` changes it, ``POST /webhook/test-endpoint``
sends a test event (:class:`WebhookTestRequest`), ``PUT /webhook/{id}/send-challenge``
and ``PUT /webhook/{id}/check-challenge`` (:class:`ChallengeCheck`) prove the endpoint
reads what it is sent, and ``PUT /webhook/{id}/activate`` starts the events.

What DigiCert then POSTs to the endpoint is a :class:`WebhookEvent`: ``event`` (its
name) and ``data`` (:class:`WebhookEventData`). Event names are an open set: a name this
library does not know is kept as it came, and so is every key of ``data`` that no field
knows (see :func:`~digicert_async.unknown_fields`).
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from .._checks import check_text
from .._errors import ValidationError
from ._common import (
    ResponseModel,
    StrFlag,
    Validator,
    instance_of,
    list_of,
    response_model,
    text,
)

__all__ = [
    "CHALLENGE_EVENT",
    "NOTIFICATION_FREQUENCIES",
    "TEST_EVENT",
    "WEBHOOK_EVENTS",
    "WEBHOOK_SECRET_MIN_LENGTH",
    "ChallengeCheck",
    "EventCertificate",
    "Webhook",
    "WebhookCreated",
    "WebhookEvent",
    "WebhookEventData",
    "WebhookRequest",
    "WebhookSettings",
    "WebhookSettingsShown",
    "WebhookTestRequest",
    "check_webhook_secret",
]

WEBHOOK_EVENTS: Final = frozenset(
    {
        "certificate_issued",
        "certificate_revoked",
        "order_rejected",
        "organization_validated",
        "organization_expired",
        "organization_revalidation_notice",
        "domain_validated",
        "domain_expired",
        "domain_revalidation_notice",
    }
)
"""The event types a webhook can subscribe to, as DigiCert documents them."""
TEST_EVENT: Final = "test_webhook_endpoint"
"""The name of the event ``client.webhooks.send_test_event`` makes DigiCert send."""
CHALLENGE_EVENT: Final = "challenge_webhook_endpoint"
"""The name of the event that carries a challenge token (``data.token``)."""
NOTIFICATION_FREQUENCIES: Final = (90, 60, 30, 7, 0, -7)
"""Days before (or, negative, after) a validation expires when the ``*_expired`` and
``*_revalidation_notice`` events may be sent (``webhook_notification_frequency``)."""
WEBHOOK_SECRET_MIN_LENGTH: Final = 32
"""DigiCert's minimum length of a webhook secret (this library requires one)."""


def _event_name(path: str, value: object) -> None:
    check_text(path, value)
    if value not in WEBHOOK_EVENTS:
        raise ValidationError(
            path, f"must be one of {', '.join(sorted(WEBHOOK_EVENTS))}, got {value!r}"
        )


def _frequency(path: str, value: object) -> None:
    if type(value) is not int or value not in NOTIFICATION_FREQUENCIES:
        listing = ", ".join(str(days) for days in NOTIFICATION_FREQUENCIES)
        raise ValidationError(path, f"must be one of {listing}, got {value!r}")


def check_webhook_secret(path: str, value: object) -> str:
    """``value`` if it can be a webhook secret (at least 32 printable ASCII characters,
    no whitespace), else the ``ValidationError`` naming ``path``; the value itself is never
    shown, being a credential."""
    if not isinstance(value, str) or len(value) < WEBHOOK_SECRET_MIN_LENGTH:
        raise ValidationError(
            path, f"must be a string of at least {WEBHOOK_SECRET_MIN_LENGTH} characters"
        )
    if not all("!" <= char <= "~" for char in value):
        raise ValidationError(path, "must be printable ASCII without whitespace")
    return value


def _secret(path: str, *, optional: bool) -> Validator:
    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        check_webhook_secret(path, value)

    return check


# --------------------------------------------------------------------------- requests


@attrs.frozen(kw_only=True)
class WebhookSettings:
    """``webhook_settings``: which ``certificate_issued`` events come and what they carry,
    and when the validation expiry events come.

    - ``instant_issue_webhook_notification``: also send ``certificate_issued`` for a
      certificate issued the instant its order was placed (by default DigiCert does not).
    - ``webhook_send_certificate_chain`` / ``webhook_send_instant_issued_certificate_chain``:
      put the chain in ``certificate_issued`` events (public and private TLS only).
    - ``webhook_notification_frequency``: some of :data:`NOTIFICATION_FREQUENCIES`.
    """

    instant_issue_webhook_notification: StrFlag | None = None
    webhook_notification_frequency: list[int] | None = attrs.field(
        default=None,
        validator=list_of("webhook_settings.webhook_notification_frequency", _frequency,
                          optional=True),
    )  # fmt: skip
    webhook_send_certificate_chain: StrFlag | None = None
    webhook_send_instant_issued_certificate_chain: StrFlag | None = None


@attrs.frozen(kw_only=True)
class WebhookRequest:
    """Body of ``POST /webhook`` and ``PUT /webhook/{webhook_id}``.

    ``secret`` is sent by DigiCert as ``X-WEBHOOK-KEY`` with every event; it is never
    shown in ``repr``. ``events`` left out means: on create, DigiCert's default; on
    update, unchanged.
    """

    endpoint: str = attrs.field(validator=text("endpoint"))
    secret: str | None = attrs.field(
        default=None, repr=False, validator=_secret("secret", optional=True)
    )
    events: list[str] | None = attrs.field(
        default=None, validator=list_of("events", _event_name, optional=True)
    )
    webhook_settings: WebhookSettings | None = attrs.field(
        default=None, validator=instance_of("webhook_settings", WebhookSettings, optional=True)
    )


@attrs.frozen(kw_only=True)
class WebhookTestRequest:
    """Body of ``POST /webhook/test-endpoint``: where to send the test event, and the
    secret to send it with."""

    endpoint: str = attrs.field(validator=text("endpoint"))
    secret: str | None = attrs.field(
        default=None, repr=False, validator=_secret("secret", optional=True)
    )


@attrs.frozen(kw_only=True)
class ChallengeCheck:
    """Body of ``PUT /webhook/{webhook_id}/check-challenge``: the token the endpoint got."""

    token: str = attrs.field(repr=False, validator=text("token"))


# --------------------------------------------------------------------------- answers


@response_model
@attrs.frozen(kw_only=True)
class WebhookCreated(ResponseModel):
    """The answer of ``POST /webhook``."""

    webhook_id: int


@response_model
@attrs.frozen(kw_only=True)
class WebhookSettingsShown(ResponseModel):
    """``webhook_settings`` as ``GET /webhook`` shows them (see :class:`WebhookSettings`
    for what each one means); read as sent, never checked."""

    instant_issue_webhook_notification: StrFlag | None = None
    webhook_notification_frequency: list[int] | None = None
    webhook_send_certificate_chain: StrFlag | None = None
    webhook_send_instant_issued_certificate_chain: StrFlag | None = None


@response_model
@attrs.frozen(kw_only=True)
class Webhook(ResponseModel):
    """The account's webhook, as ``GET /webhook`` shows it.

    ``status`` is ``pending`` (not yet verified and activated), ``active`` or
    ``inactive``; other values are kept as sent. ``secret`` is what DigiCert sends as
    ``X-WEBHOOK-KEY`` (absent when none is set); it is never shown in ``repr``.
    """

    id: int
    endpoint: str | None = None
    secret: str | None = attrs.field(default=None, repr=False)
    events: list[str] = attrs.field(factory=list)
    status: str | None = None
    webhook_settings: WebhookSettingsShown | None = None


# --------------------------------------------------------------------------- events


@response_model
@attrs.frozen(kw_only=True)
class EventCertificate(ResponseModel):
    """One certificate of the chain a ``certificate_issued`` event may carry (the
    end-entity certificate first, then the intermediates and the root)."""

    subject_common_name: str | None = None
    pem: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class WebhookEventData(ResponseModel):
    """``data`` of an event. Which fields are set depends on the event:

    - certificate and order events: ``order_id``, ``certificate_id``, and, when the
      webhook asks for it, ``certificate_chain`` on ``certificate_issued``;
    - validation events: ``domain_id``, ``domain_name``, ``organization_id``,
      ``validation_type`` and ``dcv_method`` as DigiCert sends them (its pages describe
      these events without a full example; whatever else comes is kept, see
      :func:`~digicert_async.unknown_fields`);
    - the challenge event: ``token`` and ``webhook_id``.
    """

    order_id: int | None = None
    certificate_id: int | None = None
    certificate_chain: list[EventCertificate] | None = None
    domain_id: int | None = None
    domain_name: str | None = None
    organization_id: int | None = None
    validation_type: str | None = None
    dcv_method: str | None = None
    token: str | None = attrs.field(default=None, repr=False)
    webhook_id: int | None = None


@response_model
@attrs.frozen(kw_only=True)
class WebhookEvent(ResponseModel):
    """One event DigiCert pushed: its name and its data.

    ``event`` is kept as it came, a name this library does not know included
    (``is_known`` says whether it is one of :data:`WEBHOOK_EVENTS`, the test event or
    the challenge). The properties read the ids every consumer looks for.
    """

    event: str
    data: WebhookEventData | None = None

    @property
    def order_id(self) -> int | None:
        """The order the event is about, if it names one."""
        return None if self.data is None else self.data.order_id

    @property
    def certificate_id(self) -> int | None:
        """The certificate the event is about, if it names one."""
        return None if self.data is None else self.data.certificate_id

    @property
    def challenge_token(self) -> str | None:
        """The token of a challenge event (to hand to ``client.webhooks.verify_challenge``),
        or None for any other event."""
        if self.event != CHALLENGE_EVENT or self.data is None:
            return None
        return self.data.token

    @property
    def is_known(self) -> bool:
        """Whether ``event`` is a name DigiCert documents."""
        return self.event in WEBHOOK_EVENTS or self.event in (TEST_EVENT, CHALLENGE_EVENT)
