"""The webhook's models: DigiCert's documented bodies read and written back, requests
checked before anything is sent, and secrets kept out of ``repr``."""

from __future__ import annotations

import pytest

import digicert_async as dc
from digicert_async.models.webhooks import (
    ChallengeCheck,
    WebhookRequest,
    WebhookTestRequest,
)

SECRET = "s3cr3t-value-of-at-least-32-chars-long"
PEM = "-----BEGIN CERTIFICATE-----\r\nMII...\r\n-----END CERTIFICATE-----\r\n"

# DigiCert's event examples ("CertCentral event types", "Send challenge token")
ISSUED = {"event": "certificate_issued", "data": {"order_id": 12345, "certificate_id": 23456}}
ISSUED_WITH_CHAIN = {
    "event": "certificate_issued",
    "data": {
        "order_id": 1234,
        "certificate_id": 1234,
        "certificate_chain": [
            {"subject_common_name": "example.com", "pem": PEM},
            {"subject_common_name": "DigiCert Global G2 TLS RSA SHA256 2020 CA1", "pem": PEM},
            {"subject_common_name": "DigiCert Global Root G2", "pem": PEM},
        ],
    },
}
CHALLENGE = {"event": "challenge_webhook_endpoint", "data": {"token": "tok-123", "webhook_id": 9}}
# "List webhooks": one webhook in a list
LISTED = {
    "id": 12345,
    "endpoint": "https://www.example.com/my/webhook",
    "secret": SECRET,
    "events": ["organization_revalidation_notice", "domain_expired", "certificate_issued"],
    "status": "active",
    "webhook_settings": {
        "webhook_notification_frequency": [90, 60, 30, 7, 0, -7],
        "instant_issue_webhook_notification": "1",
        "webhook_send_certificate_chain": "1",
        "webhook_send_instant_issued_certificate_chain": "1",
    },
}


@pytest.mark.parametrize(
    "body", [ISSUED, ISSUED_WITH_CHAIN, CHALLENGE, {"event": "test_webhook_endpoint"}]
)
def test_documented_events_read_and_write_back(body: dict[str, object]) -> None:
    event = dc.converter.structure(body, dc.WebhookEvent)
    assert event.is_known
    assert dc.converter.unstructure(event) == body


def test_an_issued_event_carries_its_ids_and_chain() -> None:
    event = dc.converter.structure(ISSUED_WITH_CHAIN, dc.WebhookEvent)
    assert (event.event, event.order_id, event.certificate_id) == ("certificate_issued", 1234, 1234)
    assert event.data is not None and event.data.certificate_chain is not None
    chain = event.data.certificate_chain
    assert chain[0].subject_common_name == "example.com"
    assert chain[2].pem == PEM
    assert event.challenge_token is None


def test_the_challenge_token_is_surfaced_but_not_shown() -> None:
    event = dc.converter.structure(CHALLENGE, dc.WebhookEvent)
    assert event.challenge_token == "tok-123"
    assert "tok-123" not in repr(event)
    assert event.order_id is None and event.certificate_id is None
    # a token under another event's name is not a challenge
    other = dc.converter.structure({"event": "x", "data": {"token": "t"}}, dc.WebhookEvent)
    assert other.challenge_token is None


def test_an_unknown_event_is_kept_as_it_came() -> None:
    body = {
        "event": "order_approved_someday",
        "data": {"order_id": 7, "approver": {"name": "A"}, "note": "kept"},
        "sent_at": "2026-01-01",
    }
    event = dc.converter.structure(body, dc.WebhookEvent)
    assert not event.is_known
    assert event.event == "order_approved_someday" and event.order_id == 7
    assert event.data is not None
    assert dict(dc.unknown_fields(event.data)) == {"approver": {"name": "A"}, "note": "kept"}
    assert dict(dc.unknown_fields(event)) == {"sent_at": "2026-01-01"}
    assert dc.converter.unstructure(event) == body


def test_validation_event_fields_are_typed() -> None:
    data = {"domain_id": 5, "domain_name": "example.com", "validation_type": "ov"}
    body = {"event": "domain_validated", "data": {**data, "dcv_method": "dns-txt-token"}}
    event = dc.converter.structure(body, dc.WebhookEvent)
    assert event.data is not None
    assert (event.data.domain_id, event.data.domain_name) == (5, "example.com")
    assert event.order_id is None


def test_an_event_without_a_name_is_refused() -> None:
    with pytest.raises(dc.ValidationError, match="event"):
        dc.converter.structure({"data": {"order_id": 1}}, dc.WebhookEvent)


def test_the_listed_webhook_reads_and_hides_its_secret() -> None:
    webhook = dc.converter.structure(LISTED, dc.Webhook)
    assert webhook.id == 12345 and webhook.status == "active"
    assert webhook.secret == SECRET and SECRET not in repr(webhook)
    assert webhook.webhook_settings is not None
    assert webhook.webhook_settings.webhook_notification_frequency == [90, 60, 30, 7, 0, -7]
    assert webhook.webhook_settings.webhook_send_certificate_chain is True
    assert dc.converter.unstructure(webhook) == LISTED


def test_a_request_writes_the_documented_body() -> None:
    request = WebhookRequest(
        endpoint="https://webhook.example.com/endpoint",
        secret=SECRET,
        events=["domain_expired", "certificate_issued"],
        webhook_settings=dc.WebhookSettings(
            instant_issue_webhook_notification=dc.StrFlag(True),
            webhook_notification_frequency=[90, 60, 30, 7, 0, -7],
            webhook_send_certificate_chain=dc.StrFlag(True),
            webhook_send_instant_issued_certificate_chain=dc.StrFlag(False),
        ),
    )
    assert SECRET not in repr(request)
    assert dc.converter.unstructure(request) == {
        "endpoint": "https://webhook.example.com/endpoint",
        "secret": SECRET,
        "events": ["domain_expired", "certificate_issued"],
        "webhook_settings": {
            "instant_issue_webhook_notification": "1",
            "webhook_notification_frequency": [90, 60, 30, 7, 0, -7],
            "webhook_send_certificate_chain": "1",
            "webhook_send_instant_issued_certificate_chain": "0",
        },
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"events": ["certificate_issued", "certificate_issed"]}, "events[1]"),
        ({"events": "certificate_issued"}, "events"),
        ({"secret": "short"}, "secret"),
        ({"secret": "x" * 31}, "secret"),
        ({"secret": "x" * 31 + " "}, "secret"),
        ({"endpoint": ""}, "endpoint"),
        ({"webhook_settings": {"webhook_notification_frequency": [1]}}, "webhook_settings"),
    ],
)
def test_a_bad_request_names_its_field(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"endpoint": "https://example.com/hook", **kwargs}
    with pytest.raises(dc.ValidationError) as caught:
        WebhookRequest(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert "short" not in str(caught.value)


def test_settings_check_their_frequencies() -> None:
    with pytest.raises(dc.ValidationError) as caught:
        dc.WebhookSettings(webhook_notification_frequency=[90, 14])
    assert caught.value.field == "webhook_settings.webhook_notification_frequency[1]"
    assert dc.WebhookSettings(webhook_notification_frequency=list(dc.NOTIFICATION_FREQUENCIES))


def test_a_secret_of_32_characters_is_enough() -> None:
    assert WebhookRequest(endpoint="https://e.example", secret="x" * 32).secret == "x" * 32
    assert WebhookTestRequest(endpoint="https://e.example", secret="y" * 32).secret == "y" * 32
    with pytest.raises(dc.ValidationError):
        WebhookTestRequest(endpoint="https://e.example", secret="y" * 31)


def test_the_challenge_check_hides_its_token() -> None:
    check = ChallengeCheck(token="tok-secret")
    assert "tok-secret" not in repr(check)
    assert dc.converter.unstructure(check) == {"token": "tok-secret"}
    with pytest.raises(dc.ValidationError):
        ChallengeCheck(token="")
