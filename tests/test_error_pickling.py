"""Every exception the library raises crosses a process boundary whole.

A bulk job fanned out over worker processes sends its failures back pickled;
Exception's own pickling replays ``cls(*args)`` and loses (or cannot rebuild)
the keyword-only attributes.
"""

from __future__ import annotations

import pickle

import pytest

import digicert_async as dc
from digicert_async.testing import FakeCertCentral

DETAIL = dc.ErrorDetail(code="not_found|order", message="Order not found.")
API_ARGS = {"method": "GET", "url": "https://x.test/services/v2/order/certificate/1"}

SAMPLES: list[dc.DigiCertError] = [
    dc.DigiCertError("plain"),
    dc.ConfigurationError("set up wrong"),
    dc.ClientClosedError("closed"),
    dc.LimiterUnavailableError("redis did not answer"),
    dc.ValidationError("ship_info.method", "must be one of ..."),
    dc.APIError(418, [DETAIL], body="teapot", attempts=3, **API_ARGS),
    dc.BadRequestError(400, [DETAIL], **API_ARGS),
    dc.AuthenticationError(401, [], **API_ARGS),
    dc.PermissionDeniedError(403, [], **API_ARGS),
    dc.InvalidKeyError(
        403, [dc.ErrorDetail("access_denied|access_denied_invalid_key")], **API_ARGS
    ),
    dc.NotFoundError(404, [DETAIL], **API_ARGS),
    dc.RateLimitError(429, [], attempts=5, **API_ARGS),
    dc.ServerError(503, [], body="<html>", **API_ARGS),
    dc.RouteNotFoundError(404, [], api_root="https://x.test/services/v2", **API_ARGS),
    dc.RedirectError(301, [], api_root="https://x.test/services/v2", **API_ARGS),
    dc.TransportError("reset", request_sent=True, timeout=False, permanent=True, **API_ARGS),
    dc.DeadlineRefused("the deadline passes while waiting", **API_ARGS),
    dc.ResponseError("not JSON", status=200, body="<html>", field="orders[0].id", **API_ARGS),
]


def test_the_samples_cover_every_exported_exception() -> None:
    exported = {
        value
        for value in (getattr(dc, name) for name in dc.__all__)
        if isinstance(value, type) and issubclass(value, BaseException)
    }
    assert exported == {type(sample) for sample in SAMPLES}


@pytest.mark.parametrize("error", SAMPLES, ids=lambda error: type(error).__name__)
def test_an_error_pickles_with_its_message_and_attributes(error: dc.DigiCertError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)


async def test_an_error_raised_by_a_call_pickles_without_the_key() -> None:
    async with FakeCertCentral(api_key="sekret-key-123") as fake:
        async with dc.CertCentralClient("sekret-key-123", base_url=fake.base_url) as client:
            with pytest.raises(dc.NotFoundError) as caught:
                await client.orders.get(999_999)
    dumped = pickle.dumps(caught.value)
    assert b"sekret-key-123" not in dumped
    copy = pickle.loads(dumped)
    assert copy.code == "not_found|order" and copy.status == 404 and copy.attempts == 1
