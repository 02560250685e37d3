"""Idempotency per endpoint: a request marked ``replayable=False`` is never sent again once it
may have reached DigiCert, whatever its method; ``replayable=True`` makes even a POST
repeatable; None (the default) leaves it to the method, as before."""

from __future__ import annotations

import random

import pytest

import digicert_async as dc
from digicert_async._decode import read_nothing
from digicert_async._errors import TransportError
from digicert_async._pipeline import Request, Response
from digicert_async._retry import RetryMiddleware, RetryPolicy, classify
from digicert_async.testing import FakeCertCentral, Fault

from .test_retry import FakeTime, Outcome, Script, answer, transport

RETRIED = True
FINAL = False

# (method, replayable, outcome, retried?)
MATRIX: list[tuple[str, bool | None, Outcome, bool]] = [
    # a PUT that creates something: only refusals (429) and connections never opened
    *[("PUT", False, o, FINAL) for o in (502, 503, 504, "timeout", "reset")],
    *[("PUT", False, o, RETRIED) for o in (429, "connect")],
    # the same for any method marked so
    *[(m, False, o, FINAL) for m in ("GET", "DELETE", "POST") for o in (503, "reset")],
    *[(m, False, o, RETRIED) for m in ("GET", "DELETE", "POST") for o in (429, "connect")],
    # a POST an endpoint declares repeatable is retried like a GET
    *[("POST", True, o, RETRIED) for o in (502, 503, 504, "timeout", "reset", 429, "connect")],
    # None: the method decides, as it always has
    *[(m, None, o, RETRIED) for m in ("GET", "PUT", "DELETE") for o in (503, "reset")],
    *[("POST", None, o, FINAL) for o in (503, "timeout", "reset")],
    # never retried, whatever the flag
    *[(m, r, s, FINAL) for m in ("GET", "PUT") for r in (True, False, None) for s in (500, 400)],
]


def _request(method: str, replayable: bool | None) -> Request:
    return Request(method=method, path="/order/certificate/7/revoke", replayable=replayable)


@pytest.mark.parametrize(("method", "replayable", "outcome", "retried"), MATRIX)
def test_classify_reads_the_endpoint_not_the_method(
    method: str, replayable: bool | None, outcome: Outcome, retried: bool
) -> None:
    request = _request(method, replayable)
    thing: Response | TransportError = (
        transport(request, outcome) if isinstance(outcome, str) else answer(request, outcome)
    )
    assert (classify(request, thing) is not None) is retried


@pytest.mark.parametrize(("method", "replayable", "outcome", "retried"), MATRIX)
async def test_middleware_sends_once_or_twice_as_classified(
    method: str, replayable: bool | None, outcome: Outcome, retried: bool
) -> None:
    time = FakeTime()
    middleware = RetryMiddleware(
        RetryPolicy(), clock=time.clock, sleep=time.sleep, rng=random.Random(0)
    )
    script = Script([outcome, 200])
    try:
        got: Response | TransportError = await middleware(_request(method, replayable), script)
    except TransportError as exc:
        got = exc
    assert script.calls == (2 if retried else 1)
    # every attempt carries the endpoint's flag, the second one (a copy) included
    assert all(sent.replayable is replayable for sent in script.requests)
    if retried:
        assert isinstance(got, Response) and got.status == 200


def test_idempotent_defaults_to_the_method() -> None:
    assert Request(method="PUT", path="/x").idempotent
    assert not Request(method="POST", path="/x").idempotent
    assert not Request(method="PUT", path="/x", replayable=False).idempotent
    assert Request(method="POST", path="/x", replayable=True).idempotent
    again = Request(method="PUT", path="/x", replayable=False).for_attempt(2, None)
    assert again.replayable is False and again.attempt == 2


# -- through the client, against the fake -----------------------------------------------------


@pytest.mark.parametrize(
    ("replayable", "sends"),
    [(None, 2), (False, 1)],
    ids=["put-default-replayed", "put-not-replayable-sent-once"],
)
async def test_client_call_passes_the_flag_down(replayable: bool | None, sends: int) -> None:
    """A PUT whose answer is lost (applied, then the connection reset) is sent again by
    default, and only once when the endpoint says it is not replayable."""
    async with FakeCertCentral(rate_limits=None) as fake:
        order_id = fake.add_order("pending")
        fake.inject(Fault.RESET_AFTER, method="PUT")
        async with dc.CertCentralClient(
            fake.api_key,
            base_url=fake.base_url,
            retry=RetryPolicy(backoff_initial=0.0),
            rate_limit=dc.RateLimit.disabled(),
        ) as client:
            call = client.call(
                "PUT",
                "/order/certificate/{order_id}/status",
                read_nothing,
                path_args={"order_id": order_id},
                json={"status": "CANCELED", "note": "test"},
                replayable=replayable,
            )
            if sends == 1:
                with pytest.raises(TransportError) as caught:
                    await call
                assert caught.value.attempts == 1 and caught.value.request_sent
            else:
                # the second send meets an order canceled by the first: DigiCert's 400
                with pytest.raises(dc.BadRequestError):
                    await call
        puts = [r for r in fake.requests if r.method == "PUT"]
        assert len(puts) == sends
        assert puts[0].applied  # the first send did cancel the order
        assert fake.order(order_id)["status"] == "canceled"  # type: ignore[index]
