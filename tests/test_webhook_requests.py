"""``client.webhooks``: the exact request of each call against DigiCert's documented
bodies (aioresponses), and input refused before anything is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aioresponses import aioresponses

import digicert_async as dc

from .conftest import requires_aioresponses
from .test_request_shapes import KEY, ROOT, assert_common_headers, only_call, sent_json

pytestmark = requires_aioresponses

SECRET = "0123456789abcdef0123456789abcdef-secret"
ENDPOINT = "https://webhook.example.com/endpoint"
EVENTS = [
    "organization_revalidation_notice", "domain_expired", "domain_revalidation_notice",
    "certificate_revoked", "order_rejected", "organization_expired", "organization_validated",
    "domain_validated", "certificate_issued",
]  # fmt: skip
# "Create webhook" and "Update webhook endpoint": the documented request's settings
SETTINGS = {
    "instant_issue_webhook_notification": "1",
    "webhook_notification_frequency": [90, 60, 30, 7, 0, -7],
    "webhook_send_certificate_chain": "1",
    "webhook_send_instant_issued_certificate_chain": "1",
}


def documented_settings() -> dc.WebhookSettings:
    return dc.WebhookSettings(
        instant_issue_webhook_notification=dc.StrFlag(True),
        webhook_notification_frequency=[90, 60, 30, 7, 0, -7],
        webhook_send_certificate_chain=dc.StrFlag(True),
        webhook_send_instant_issued_certificate_chain=dc.StrFlag(True),
    )


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[dc.CertCentralClient]:
    async with dc.CertCentralClient(api_key=KEY, rate_limit=dc.RateLimit.disabled()) as c:
        yield c


async def test_create(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.post(f"{ROOT}/webhook", status=201, payload={"webhook_id": 1234})
    created = await client.webhooks.create(
        endpoint=ENDPOINT, secret=SECRET, events=EVENTS, settings=documented_settings()
    )
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("POST", f"{ROOT}/webhook")
    assert sent_json(kwargs) == {
        "endpoint": ENDPOINT, "secret": SECRET, "events": EVENTS, "webhook_settings": SETTINGS,
    }  # fmt: skip
    assert_common_headers(kwargs, with_body=True)
    assert created.webhook_id == 1234


async def test_create_without_settings_sends_none(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.post(f"{ROOT}/webhook", status=201, payload={"webhook_id": 1})
    await client.webhooks.create(endpoint=ENDPOINT, secret=SECRET, events=("certificate_issued",))
    _, _, kwargs = only_call(mocked)
    assert sent_json(kwargs) == {
        "endpoint": ENDPOINT, "secret": SECRET, "events": ["certificate_issued"],
    }  # fmt: skip


async def test_get(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    listed = {"id": 12345, "endpoint": "https://www.example.com/my/webhook", "events": EVENTS,
              "status": "active", "webhook_settings": SETTINGS}  # fmt: skip
    mocked.get(f"{ROOT}/webhook", payload={"webhooks": [listed]})
    webhook = await client.webhooks.get()
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("GET", f"{ROOT}/webhook")
    assert_common_headers(kwargs, with_body=False)
    assert webhook is not None and webhook.id == 12345 and webhook.status == "active"
    assert webhook.events == EVENTS
    assert webhook.webhook_settings is not None
    assert webhook.webhook_settings.instant_issue_webhook_notification is True


async def test_get_reads_settings_beside_the_list(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    # one of DigiCert's tables puts webhook_settings beside the list, not in the webhook
    mocked.get(f"{ROOT}/webhook", payload={"webhooks": [{"id": 5}], "webhook_settings": SETTINGS})
    webhook = await client.webhooks.get()
    assert webhook is not None and webhook.webhook_settings is not None
    assert webhook.webhook_settings.webhook_notification_frequency == [90, 60, 30, 7, 0, -7]


async def test_get_without_a_webhook_is_none(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    error = {"errors": [{"code": "webhook_invalid_account", "message": "No webhook exists."}]}
    mocked.get(f"{ROOT}/webhook", status=400, payload=error)
    assert await client.webhooks.get() is None
    mocked.get(f"{ROOT}/webhook", payload={"webhooks": []})
    assert await client.webhooks.get() is None


async def test_get_passes_other_refusals_on(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    error = {"errors": [{"code": "access_denied", "message": "Admins only."}]}
    mocked.get(f"{ROOT}/webhook", status=400, payload=error)
    with pytest.raises(dc.BadRequestError):
        await client.webhooks.get()


async def test_get_refuses_a_bad_webhook(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.get(f"{ROOT}/webhook", payload={"webhooks": [{"id": "x"}]})
    with pytest.raises(dc.ResponseError) as caught:
        await client.webhooks.get()
    assert caught.value.field == "webhooks[0].id"


async def test_update(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.put(f"{ROOT}/webhook/77", status=204)
    new = "https://webhook.example.com/new/endpoint"
    await client.webhooks.update(77, endpoint=new, events=EVENTS, settings=documented_settings())
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("PUT", f"{ROOT}/webhook/77")
    # the secret left out stays as it is (DigiCert: omit it to leave it unchanged)
    assert sent_json(kwargs) == {"endpoint": new, "events": EVENTS, "webhook_settings": SETTINGS}
    assert_common_headers(kwargs, with_body=True)


async def test_update_a_secret(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.put(f"{ROOT}/webhook/77", status=204)
    await client.webhooks.update(77, endpoint=ENDPOINT, secret=SECRET)
    _, _, kwargs = only_call(mocked)
    assert sent_json(kwargs) == {"endpoint": ENDPOINT, "secret": SECRET}


async def test_send_test_event(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.post(f"{ROOT}/webhook/test-endpoint", status=200, body=b"")
    await client.webhooks.send_test_event(endpoint=ENDPOINT, secret=SECRET)
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("POST", f"{ROOT}/webhook/test-endpoint")
    assert sent_json(kwargs) == {"endpoint": ENDPOINT, "secret": SECRET}


@pytest.mark.parametrize(
    ("call", "route"),
    [("send_challenge", "send-challenge"), ("activate", "activate"),
     ("deactivate", "deactivate")],
)  # fmt: skip
async def test_puts_without_a_body(
    mocked: aioresponses, client: dc.CertCentralClient, call: str, route: str
) -> None:
    mocked.put(f"{ROOT}/webhook/12345/{route}", status=204)
    assert await getattr(client.webhooks, call)(12345) is None
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("PUT", f"{ROOT}/webhook/12345/{route}")
    assert_common_headers(kwargs, with_body=False)


async def test_verify_challenge(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.put(f"{ROOT}/webhook/12345/check-challenge", status=204)
    await client.webhooks.verify_challenge(12345, "the-token")
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("PUT", f"{ROOT}/webhook/12345/check-challenge")
    assert sent_json(kwargs) == {"token": "the-token"}


async def test_an_expired_token_is_a_bad_request(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    error = {"errors": [{"code": "webhook_invalid_token", "message": "The token is invalid."}]}
    mocked.put(f"{ROOT}/webhook/1/check-challenge", status=400, payload=error)
    with pytest.raises(dc.BadRequestError) as caught:
        await client.webhooks.verify_challenge(1, "old")
    assert caught.value.code == "webhook_invalid_token"


async def test_delete(mocked: aioresponses, client: dc.CertCentralClient) -> None:
    mocked.delete(f"{ROOT}/webhook/9", status=204)
    await client.webhooks.delete(9)
    method, url, kwargs = only_call(mocked)
    assert (method, str(url)) == ("DELETE", f"{ROOT}/webhook/9")
    assert_common_headers(kwargs, with_body=False)


async def test_send_challenge_is_never_sent_twice(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.put(f"{ROOT}/webhook/3/send-challenge", status=503)
    with pytest.raises(dc.ServerError):
        await client.webhooks.send_challenge(3)
    only_call(mocked)  # one request only: a repeat would send a new token


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"endpoint": "http://webhook.example.com/x"}, "endpoint"),
        ({"endpoint": "ftp://webhook.example.com/x"}, "endpoint"),
        ({"endpoint": "https://user:pw@webhook.example.com/x"}, "endpoint"),
        ({"endpoint": 42}, "endpoint"),
        ({"secret": None}, "secret"),
        ({"secret": ""}, "secret"),
        ({"secret": "too-short"}, "secret"),
        ({"events": []}, "events"),
        ({"events": "certificate_issued"}, "events"),
        ({"events": ["certificate_issued", "nope"]}, "events[1]"),
    ],
)
async def test_create_refuses_bad_input_before_sending(
    mocked: aioresponses, client: dc.CertCentralClient, kwargs: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"endpoint": ENDPOINT, "secret": SECRET,
                                    "events": ["certificate_issued"], **kwargs}  # fmt: skip
    with pytest.raises(dc.ValidationError) as caught:
        await client.webhooks.create(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert "too-short" not in str(caught.value)
    assert not mocked.requests


async def test_loopback_endpoints_may_be_plain_http(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    mocked.post(f"{ROOT}/webhook/test-endpoint", status=200)
    await client.webhooks.send_test_event(endpoint="http://127.0.0.1:8080/hook", secret=SECRET)
    _, _, kwargs = only_call(mocked)
    assert sent_json(kwargs)["endpoint"] == "http://127.0.0.1:8080/hook"


async def test_update_refuses_removing_the_secret_and_bad_ids(
    mocked: aioresponses, client: dc.CertCentralClient
) -> None:
    with pytest.raises(dc.ValidationError) as caught:
        await client.webhooks.update(1, endpoint=ENDPOINT, secret="")
    assert caught.value.field == "secret"
    for call in ("send_challenge", "activate", "deactivate", "delete"):
        with pytest.raises(dc.ValidationError) as caught:
            await getattr(client.webhooks, call)(0)
        assert caught.value.field == "webhook_id"
    with pytest.raises(dc.ValidationError) as caught:
        await client.webhooks.verify_challenge(1, "")
    assert caught.value.field == "token"
    assert not mocked.requests
