"""The retry layer's details that mutation testing found unchecked.

Each test pins a documented behaviour that a one-token change in ``_retry.py`` broke
while the rest of the suite still passed: the kind a decision names (and so its budget
cost), the events' fields, the reason a retry is declined, the deadline's edge, a zero
budget, and the caller's random source.
"""

from __future__ import annotations

import random

import pytest

from digicert_async._errors import ServerError, TransportError
from digicert_async._hooks import Hooks, RetryDeclined, RetryScheduled
from digicert_async._pipeline import Request, Response
from digicert_async._retry import (
    RetryBudget,
    RetryDecision,
    RetryMiddleware,
    RetryPolicy,
    backoff_delay,
    classify,
)

ROOT = "https://www.digicert.com/services/v2"


def _answer(request: Request, status: int) -> Response:
    return Response(
        status=status, headers={}, body=b"<html>busy</html>", method=request.method, url=request.url
    )


def _failure(request: Request, *, sent: bool, timeout: bool = False) -> TransportError:
    return TransportError(
        "no answer" if timeout else "reset",
        method=request.method,
        url=request.url,
        request_sent=sent,
        timeout=timeout,
    )


def _request(method: str = "GET") -> Request:
    return Request(
        method=method,
        path="/order/certificate/7",
        route="/order/certificate/{order_id}",
        root=ROOT,
        call=41,
    )


@pytest.mark.parametrize(
    ("outcome", "kind", "cost"),
    [
        (503, "unavailable", 1.0),
        ("connect", "connect", 1.0),
        ("timeout", "timeout", 2.0),
        ("reset", "reset", 2.0),
    ],
)
def test_each_decision_names_its_kind_and_so_its_cost(
    outcome: int | str, kind: str, cost: float
) -> None:
    request = _request("GET")
    thing: Response | TransportError
    if outcome == "connect":
        thing = _failure(request, sent=False)
    elif outcome == "timeout":
        thing = _failure(request, sent=True, timeout=True)
    elif outcome == "reset":
        thing = _failure(request, sent=True)
    else:
        assert isinstance(outcome, int)
        thing = _answer(request, outcome)
    decision = classify(request, thing)
    assert decision == RetryDecision(kind, backoff=True)  # type: ignore[arg-type]
    assert RetryBudget(10.0).cost(decision) == cost


def test_a_zero_budget_is_allowed_and_allows_only_429_retries() -> None:
    assert RetryPolicy(budget=0).budget == 0.0
    budget = RetryBudget(0.0)
    assert budget.spend(budget.cost(RetryDecision("throttled", backoff=False)))
    assert not budget.spend(budget.cost(RetryDecision("unavailable")))


def test_spending_exactly_what_is_left_succeeds() -> None:
    # The tolerance forgives float dust below the amount; what is left at exactly
    # that edge is still enough.
    budget = RetryBudget(3.0 - 1e-9)
    assert budget.spend(3.0)
    assert budget.tokens == 0.0


class _Clock:
    """A clock that reads the given times in turn (the last one repeats)."""

    def __init__(self, *times: float) -> None:
        self.times = list(times)

    def __call__(self) -> float:
        return self.times.pop(0) if len(self.times) > 1 else self.times[0]


async def _no_sleep(delay: float) -> None:
    pass


async def test_the_events_carry_the_call_route_method_url_and_cause() -> None:
    scheduled: list[RetryScheduled] = []
    declined: list[RetryDeclined] = []
    hooks = Hooks(on_retry=(scheduled.append,), on_retry_declined=(declined.append,))
    middleware = RetryMiddleware(
        RetryPolicy(max_attempts=2, deadline=None),
        hooks,
        clock=_Clock(0.0),
        sleep=_no_sleep,
        rng=random.Random(3),
    )
    raised: list[TransportError] = []

    async def reset_then_503(request: Request) -> Response:
        if request.attempt == 1:
            error = _failure(request, sent=True)
            raised.append(error)
            raise error
        return _answer(request, 503)

    got = await middleware(_request("PUT"), reset_then_503)
    assert got.status == 503 and got.attempts == 2
    url = ROOT + "/order/certificate/7"
    [retry] = scheduled
    assert (retry.method, retry.url, retry.call, retry.route) == (
        "PUT",
        url,
        41,
        "/order/certificate/{order_id}",
    )
    assert retry.cause is raised[0]
    [gave_up] = declined
    assert (gave_up.method, gave_up.url, gave_up.call, gave_up.route) == (
        "PUT",
        url,
        41,
        "/order/certificate/{order_id}",
    )
    assert gave_up.attempt == 2
    assert gave_up.reason == "max_attempts reached"
    assert isinstance(gave_up.cause, ServerError) and gave_up.cause.status == 503


async def test_a_retry_that_would_end_exactly_at_the_deadline_is_declined() -> None:
    declined: list[RetryDeclined] = []
    # The deadline is set at 0 + 10; the decision is made at 10 with no wait (a 429).
    middleware = RetryMiddleware(
        RetryPolicy(max_attempts=5, deadline=10.0),
        Hooks(on_retry_declined=(declined.append,)),
        clock=_Clock(0.0, 10.0),
        sleep=_no_sleep,
    )
    sent: list[Request] = []

    async def throttled(request: Request) -> Response:
        sent.append(request)
        return _answer(request, 429)

    got = await middleware(_request(), throttled)
    assert got.status == 429 and len(sent) == 1
    [event] = declined
    assert event.reason == "the call's deadline would pass"


async def test_a_spent_budget_is_the_reason_given() -> None:
    declined: list[RetryDeclined] = []
    middleware = RetryMiddleware(
        RetryPolicy(max_attempts=5, deadline=None, budget=0),
        Hooks(on_retry_declined=(declined.append,)),
        clock=_Clock(0.0),
        sleep=_no_sleep,
    )

    async def busy(request: Request) -> Response:
        return _answer(request, 503)

    got = await middleware(_request(), busy)
    assert got.status == 503 and got.attempts == 1
    [event] = declined
    assert event.reason == "the client's retry budget is spent"


async def test_the_callers_random_source_draws_the_backoffs() -> None:
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    policy = RetryPolicy(max_attempts=4, deadline=None, backoff_initial=1.0, backoff_max=8.0)
    middleware = RetryMiddleware(policy, clock=_Clock(0.0), sleep=sleep, rng=random.Random(7))

    async def busy(request: Request) -> Response:
        return _answer(request, 503)

    await middleware(_request(), busy)
    twin = random.Random(7)
    assert sleeps == [backoff_delay(n, 1.0, 8.0, twin) for n in (1, 2, 3)]


async def test_zero_backoff_is_allowed_and_means_no_wait() -> None:
    policy = RetryPolicy(backoff_initial=0, backoff_max=0.0, max_attempts=3, deadline=None)
    assert (policy.backoff_initial, policy.backoff_max) == (0.0, 0.0)
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    async def busy(request: Request) -> Response:
        return _answer(request, 502)

    got = await RetryMiddleware(policy, clock=_Clock(0.0), sleep=sleep)(_request(), busy)
    assert got.status == 502 and got.attempts == 3
    assert sleeps == []
