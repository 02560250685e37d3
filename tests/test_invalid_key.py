"""A key DigiCert does not accept is a 403 ``access_denied_invalid_key``: InvalidKeyError, a
PermissionDeniedError (and a ConfigurationError) that a newcomer catching
AuthenticationError would otherwise miss."""

from __future__ import annotations

from pathlib import Path

import pytest

import digicert_async as dc
from digicert_async._error_answers import error_from_status
from digicert_async.testing import FakeCertCentral

from ._served import served
from .test_real_bodies import real_file

URL = "https://x.test/services/v2/order/certificate/1"


def error_for(status: int, code: str) -> dc.APIError:
    body = f'{{"errors": [{{"code": "{code}", "message": "m"}}]}}'.encode()
    return error_from_status(status, body, method="GET", url=URL)


@pytest.mark.parametrize(
    "code", ["access_denied|access_denied_invalid_key", "access_denied_invalid_key"]
)
def test_a_403_for_the_key_is_an_invalid_key_error(code: str) -> None:
    error = error_for(403, code)
    assert type(error) is dc.InvalidKeyError
    assert isinstance(error, dc.PermissionDeniedError) and isinstance(error, dc.ConfigurationError)
    assert not isinstance(error, dc.AuthenticationError)
    assert error.status == 403 and error.code == code


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (403, "access_denied|missing_permission", dc.PermissionDeniedError),
        (403, "access_denied", dc.PermissionDeniedError),
        (403, "access_denied_invalid_key_x", dc.PermissionDeniedError),
        (401, "access_denied|access_denied_invalid_key", dc.AuthenticationError),  # status decides
        (400, "access_denied_invalid_key", dc.BadRequestError),
    ],
)
def test_other_refusals_keep_their_class(status: int, code: str, expected: type) -> None:
    assert type(error_for(status, code)) is expected


async def test_the_recorded_production_answer_is_an_invalid_key_error() -> None:
    body = real_file("error_403_invalid_key_recorded.json")
    async with served() as (server, client):
        server.answer("GET", "/order/certificate/42", 403, body)
        with pytest.raises(dc.InvalidKeyError) as caught:
            await client.orders.get(42)
    assert caught.value.errors[0].qualifier == "access_denied_invalid_key"


@pytest.mark.parametrize("key", ["not-the-key", "x"])
async def test_the_fakes_answer_to_a_wrong_key_is_an_invalid_key_error(key: str) -> None:
    async with FakeCertCentral(rate_limits=None, orders=1) as fake:
        async with dc.CertCentralClient(
            api_key=key, base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
        ) as client:
            with pytest.raises(dc.PermissionDeniedError) as caught:
                await client.orders.get(100001)
    assert type(caught.value) is dc.InvalidKeyError and caught.value.attempts == 1


async def test_a_bulk_job_stops_at_a_refused_key() -> None:
    async with FakeCertCentral(rate_limits=None, orders=0) as fake:
        order_ids = [fake.add_order("pending") for _ in range(30)]
        async with dc.CertCentralClient(
            api_key="not-the-key", base_url=fake.base_url, rate_limit=dc.RateLimit.disabled()
        ) as client:
            report = await dc.cancel_orders(client, order_ids, note="x", concurrency=2)
            sent = len(fake.requests)
    assert isinstance(report.stopped_by, dc.InvalidKeyError)
    assert [result.order_id for result in report.results] == order_ids  # every id accounted
    assert report.counts.get(dc.CancelOutcome.NOT_ATTEMPTED, 0) >= 30 - sent
    assert sent < 30  # it stopped rather than send every order into the same refusal


def test_the_readme_error_table_names_every_answer_error() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("| `"))
    answer_errors = [
        name
        for name in dc.__all__
        if isinstance(getattr(dc, name), type)
        and issubclass(getattr(dc, name), (dc.APIError, dc.ConfigurationError))
    ]
    assert "InvalidKeyError" in answer_errors
    assert [name for name in answer_errors if f"`{name}`" not in table] == []
