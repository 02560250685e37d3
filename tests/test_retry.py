"""The retry layer: what is retried per method, limits, budget, hooks, logs, backoff."""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Iterable
from typing import Any

import attrs
import pytest

from digicert_async._error_answers import error_from_status
from digicert_async._errors import (
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from digicert_async._hooks import Hooks, RateLimitWait, RetryScheduled
from digicert_async._pipeline import DeadlineRefused, Request, Response, compose
from digicert_async._ratelimit import RateLimit, RateLimitMiddleware
from digicert_async._retry import (
    RETRY_STATUSES,
    RetryBudget,
    RetryDecision,
    RetryMiddleware,
    RetryPolicy,
    backoff_delay,
    classify,
)

START = 500.0
ROOT = "https://www.digicert.com/services/v2"
SECRET = "K3Y-THAT-MUST-NEVER-SHOW"


class FakeTime:
    """Sequential fake time: sleeping advances the clock at once."""

    def __init__(self) -> None:
        self.now = START
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay


def answer(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    body = (
        b'{"errors":[{"code":"request_limit_exceeded","message":"Service unavailable,'
        b' please limit request volume"}]}'
        if status == 429
        else b"<html>bad gateway</html>"
        if status >= 500
        else b"{}"
    )
    return Response(
        status=status,
        headers=headers or {},
        body=body,
        method=request.method,
        url=ROOT + request.path,
    )


def transport(request: Request, kind: str) -> TransportError:
    url = ROOT + request.path
    if kind == "connect":
        return TransportError(
            "cannot connect: refused", method=request.method, url=url, request_sent=False
        )
    if kind == "timeout":
        return TransportError(
            "no answer within 30.0 s",
            method=request.method,
            url=url,
            request_sent=True,
            timeout=True,
        )
    if kind == "reset":
        return TransportError(
            "ServerDisconnectedError: Server disconnected",
            method=request.method,
            url=url,
            request_sent=True,
        )
    raise AssertionError(kind)


Outcome = int | str  # a status, or "connect" / "timeout" / "reset"


class Script:
    """A fake next handler: plays outcomes in turn (the last one repeats)."""

    def __init__(self, outcomes: Iterable[Outcome], time: FakeTime | None = None) -> None:
        self.outcomes = list(outcomes)
        self.time = time
        self.requests: list[Request] = []
        self.raised: list[TransportError] = []

    async def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, str):
            error = transport(request, outcome)
            self.raised.append(error)
            raise error
        return answer(request, outcome, {"X-Echo": SECRET})

    @property
    def calls(self) -> int:
        return len(self.requests)


def make(
    time: FakeTime,
    policy: RetryPolicy | None = None,
    *,
    budget: RetryBudget | None = None,
    retries: list[RetryScheduled] | None = None,
    seed: int = 0,
) -> RetryMiddleware:
    hooks = Hooks(on_retry=() if retries is None else (retries.append,))
    return RetryMiddleware(
        policy if policy is not None else RetryPolicy(),
        hooks,
        clock=time.clock,
        sleep=time.sleep,
        rng=random.Random(seed),
        budget=budget,
    )


def req(method: str = "GET", path: str = "/order/certificate/7") -> Request:
    return Request(method=method, path=path)


# -- configuration --------------------------------------------------------------------------


def test_policy_defaults_and_disabled() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.backoff_initial, policy.backoff_max) == (5, 0.5, 30.0)
    assert policy.deadline == 300.0 and policy.budget == 100.0
    assert RetryPolicy.disabled().max_attempts == 1
    assert RetryPolicy(deadline=None, budget=math.inf).deadline is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"max_attempts": 2.5},
        {"max_attempts": True},
        {"backoff_initial": -1},
        {"backoff_max": math.nan},
        {"backoff_max": math.inf},
        {"deadline": 0},
        {"deadline": -3},
        {"deadline": "60"},
        {"budget": -1},
    ],
)
def test_bad_policy_is_a_validation_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        RetryPolicy(**kwargs)
    assert caught.value.field.startswith("retry.")


# -- what is retried (pure) ------------------------------------------------------------------

RETRIED = "retried"
FINAL = None

TABLE: list[tuple[str, Outcome, str | None]] = [
    # 429: every method, the server did nothing
    *[(m, 429, RETRIED) for m in ("GET", "PUT", "DELETE", "POST")],
    # 502/503/504: idempotent methods only
    *[(m, s, RETRIED) for m in ("GET", "PUT", "DELETE") for s in (502, 503, 504)],
    *[("POST", s, FINAL) for s in (502, 503, 504)],
    # 500 and the rest are never retried
    *[(m, s, FINAL) for m in ("GET", "POST") for s in (200, 204, 400, 401, 403, 404, 500, 501)],
    # resets and timeouts: idempotent only; a connection never opened: every method
    *[(m, k, RETRIED) for m in ("GET", "PUT", "DELETE") for k in ("timeout", "reset")],
    *[("POST", k, FINAL) for k in ("timeout", "reset")],
    *[(m, "connect", RETRIED) for m in ("GET", "PUT", "DELETE", "POST")],
]


@pytest.mark.parametrize(("method", "outcome", "expected"), TABLE)
def test_classify(method: str, outcome: Outcome, expected: str | None) -> None:
    request = req(method)
    thing: Response | TransportError = (
        transport(request, outcome) if isinstance(outcome, str) else answer(request, outcome)
    )
    decision = classify(request, thing)
    assert (decision is not None) == (expected == RETRIED)
    if decision is not None:
        assert decision.backoff == (outcome != 429)


def test_classify_odd_inputs() -> None:
    assert classify(req(), ValueError("not ours")) is None
    # the rate limiter's refusal to wait past the deadline is final
    refusal = DeadlineRefused("the call's deadline had passed", method="GET", url="/x")
    assert classify(req("GET"), refusal) is None
    assert frozenset({429, 502, 503, 504}) == RETRY_STATUSES
    assert classify(req(), answer(req(), 429)) == RetryDecision("throttled", backoff=False)


@pytest.mark.parametrize(("method", "outcome", "expected"), TABLE)
async def test_middleware_follows_the_table(
    method: str, outcome: Outcome, expected: str | None
) -> None:
    time = FakeTime()
    script = Script([outcome, 200])
    got = await _run(make(time), req(method), script)
    if expected == RETRIED:
        assert script.calls == 2
        assert isinstance(got, Response) and got.status == 200 and got.attempts == 2
    else:
        assert script.calls == 1
        if isinstance(outcome, str):
            assert got is script.raised[0] and got.attempts == 1
        else:
            assert isinstance(got, Response) and got.status == outcome and got.attempts == 1


async def _run(
    middleware: RetryMiddleware, request: Request, script: Script
) -> Response | TransportError:
    try:
        return await middleware(request, script)
    except TransportError as exc:
        return exc


@pytest.mark.parametrize("outcome", ["reset", "timeout", 502, 503, 504, 500])
async def test_post_is_never_sent_twice_once_it_may_have_arrived(outcome: Outcome) -> None:
    script = Script([outcome, 200])
    got = await _run(make(FakeTime()), req("POST", "/order/certificate/7/note"), script)
    assert script.calls == 1
    assert not (isinstance(got, Response) and got.status == 200)


@pytest.mark.parametrize("outcome", ["connect", 429])
async def test_post_is_sent_again_when_it_certainly_did_not_arrive(outcome: Outcome) -> None:
    script = Script([outcome, outcome, 201])
    got = await make(FakeTime())(req("POST", "/order/certificate/7/note"), script)
    assert script.calls == 3 and got.status == 201 and got.attempts == 3


# -- limits -------------------------------------------------------------------------------------


async def test_attempt_numbers_and_deadline_travel_down_the_chain() -> None:
    time = FakeTime()
    script = Script([503, 503, 200])
    await make(time, RetryPolicy(deadline=60.0))(req(), script)
    assert [r.attempt for r in script.requests] == [1, 2, 3]
    assert {r.deadline for r in script.requests} == {START + 60.0}
    # an earlier deadline of the caller's is kept; without a policy deadline it is used alone
    script = Script([200])
    early = attrs.evolve(req(), deadline=time.now + 5.0)
    await make(time, RetryPolicy(deadline=60.0))(early, script)
    assert script.requests[0].deadline == time.now + 5.0
    script = Script([200])
    await make(time, RetryPolicy(deadline=None))(req(), script)
    assert script.requests[0].deadline is None


async def test_max_attempts_then_the_last_answer_with_its_count() -> None:
    time = FakeTime()
    script = Script([503])
    got = await make(time, RetryPolicy(max_attempts=4))(req(), script)
    assert script.calls == 4
    assert got.status == 503 and got.attempts == 4
    error = error_from_status(
        got.status, got.body, method=got.method, url=got.url, attempts=got.attempts
    )
    assert isinstance(error, ServerError) and error.attempts == 4


async def test_the_final_429_carries_its_attempts() -> None:
    time = FakeTime()
    script = Script([429])
    got = await make(time, RetryPolicy(max_attempts=3))(req("POST"), script)
    assert script.calls == 3 and got.status == 429 and got.attempts == 3
    assert time.sleeps == []  # the retry layer adds no wait to a 429: the gate does


async def test_the_final_exception_is_the_real_one_with_attempts() -> None:
    script = Script(["reset"])
    with pytest.raises(TransportError) as caught:
        await make(FakeTime(), RetryPolicy(max_attempts=5))(req("DELETE"), script)
    assert script.calls == 5
    assert caught.value is script.raised[-1]
    assert type(caught.value) is TransportError
    assert caught.value.attempts == 5


async def test_disabled_means_one_attempt() -> None:
    script = Script([503, 200])
    got = await make(FakeTime(), RetryPolicy.disabled())(req(), script)
    assert script.calls == 1 and got.status == 503 and got.attempts == 1


async def test_no_sleep_past_the_deadline() -> None:
    time = FakeTime()
    policy = RetryPolicy(max_attempts=50, backoff_initial=4.0, backoff_max=4.0, deadline=10.0)
    script = Script([503])
    got = await make(time, policy, seed=5)(req(), script)
    assert got.status == 503 and got.attempts == script.calls
    assert 2 <= script.calls < 50
    assert time.now <= START + 10.0
    assert sum(time.sleeps) <= 10.0


# -- the budget -------------------------------------------------------------------------------


def test_budget_arithmetic() -> None:
    budget = RetryBudget(3.0)
    assert budget.cost(RetryDecision("unavailable")) == 1.0
    assert budget.cost(RetryDecision("connect")) == 1.0
    assert budget.cost(RetryDecision("timeout")) == 2.0
    assert budget.cost(RetryDecision("reset")) == 2.0
    assert budget.cost(RetryDecision("throttled", backoff=False)) == 0.0
    assert budget.spend(2.0) and budget.tokens == 1.0
    assert not budget.spend(2.0) and budget.tokens == 1.0  # all or nothing
    assert budget.spend(0.0)
    budget.earn()
    assert budget.tokens == pytest.approx(1.1)
    budget.earn(refund=5.0)
    assert budget.tokens == 3.0  # never above capacity


async def test_a_dead_server_drains_the_budget_and_then_nothing_is_retried() -> None:
    time = FakeTime()
    budget = RetryBudget(6.0)
    middleware = make(time, RetryPolicy(max_attempts=5), budget=budget)
    first = Script(["connect"])
    with pytest.raises(TransportError):
        await middleware(req(), first)
    assert first.calls == 5 and budget.tokens == 2.0
    second = Script(["timeout"])
    with pytest.raises(TransportError) as caught:
        await middleware(req(), second)
    assert second.calls == 2 and budget.tokens == 0.0  # one timeout retry cost 2
    assert caught.value.attempts == 2
    third = Script([503, 200])
    got = await middleware(req(), third)
    assert third.calls == 1 and got.status == 503
    # a 429 is still retried: it cannot add load beyond the paced rate
    fourth = Script([429, 429, 200])
    got = await middleware(req("POST"), fourth)
    assert fourth.calls == 3 and got.status == 200


async def test_successes_refill_the_budget() -> None:
    time = FakeTime()
    budget = RetryBudget(10.0)
    middleware = make(time, budget=budget)
    budget.spend(10.0)
    for _ in range(10):
        await middleware(req(), Script([200]))
    assert budget.tokens == pytest.approx(1.0)
    # a retry that works refunds its cost (plus the usual refill)
    got = await middleware(req(), Script([503, 200]))
    assert got.status == 200 and budget.tokens == pytest.approx(1.1)
    # 4xx answers prove the server alive too; 5xx do not
    await middleware(req(), Script([404]))
    assert budget.tokens == pytest.approx(1.2)
    await middleware(req(), Script([500]))
    assert budget.tokens == pytest.approx(1.2)


# -- hooks and logs ---------------------------------------------------------------------------


async def test_hooks_and_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="digicert_async")
    time = FakeTime()
    retries: list[RetryScheduled] = []
    script = Script([503, 429, "timeout", 200])
    got = await make(time, retries=retries, seed=1)(
        req("PUT", "/order/certificate/7/status"), script
    )
    assert got.status == 200 and got.attempts == 4
    assert [e.attempt for e in retries] == [1, 2, 3]
    assert {e.method for e in retries} == {"PUT"}
    assert {e.url for e in retries} == {ROOT + "/order/certificate/7/status"}
    assert isinstance(retries[0].cause, ServerError) and retries[0].cause.status == 503
    assert isinstance(retries[1].cause, RateLimitError) and retries[1].cause.attempts == 2
    assert retries[1].cause.code == "request_limit_exceeded"
    assert retries[1].delay == 0.0
    assert retries[2].cause is script.raised[0]
    assert [e.delay for e in retries if e.delay] == time.sleeps

    lines = [(r.levelno, r.getMessage()) for r in caplog.records if "retry" in r.getMessage()]
    assert [level for level, _ in lines] == [logging.WARNING, logging.INFO, logging.WARNING]
    url = ROOT + "/order/certificate/7/status"
    assert lines[0][1] == f"PUT {url} -> HTTP 503; retry 1 of 4 in {time.sleeps[0]:.2f} s"
    assert lines[1][1] == f"PUT {url} -> HTTP 429; retry 2 of 4 in 0.00 s"
    assert lines[2][1].startswith(f"PUT {url}: no answer within 30.0 s; retry 3 of 4 in ")
    assert SECRET not in caplog.text
    assert all(SECRET not in repr(e) and SECRET not in str(e.cause) for e in retries)


async def test_giving_up_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="digicert_async")
    await make(FakeTime(), RetryPolicy(max_attempts=2))(req(), Script([502]))
    giving_up = [r for r in caplog.records if "giving up" in r.getMessage()]
    assert len(giving_up) == 1
    assert "max_attempts" in giving_up[0].getMessage()


# -- backoff ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "cap"), [(1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (7, 30.0), (10_000, 30.0)]
)
def test_backoff_is_full_jitter_capped(attempt: int, cap: float) -> None:
    rng = random.Random(attempt)
    draws = [backoff_delay(attempt, 0.5, 30.0, rng) for _ in range(2000)]
    assert 0.0 <= min(draws) < 0.05 * cap
    assert 0.95 * cap < max(draws) <= cap


async def test_middleware_backoffs_stay_in_bounds() -> None:
    for seed in range(30):
        time = FakeTime()
        await make(time, RetryPolicy(max_attempts=6), seed=seed)(req(), Script([503]))
        assert len(time.sleeps) == 5
        for n, delay in enumerate(time.sleeps, start=1):
            assert 0.0 <= delay <= min(30.0, 0.5 * 2 ** (n - 1))


# -- with the rate limiter below -------------------------------------------------------------


async def test_a_429_storm_ends_as_the_last_429_when_the_limiter_hits_the_deadline() -> None:
    time = FakeTime()
    waits: list[RateLimitWait] = []
    hooks = Hooks(on_rate_limit_wait=(waits.append,))
    retry = RetryMiddleware(
        RetryPolicy(max_attempts=10, deadline=20.0),
        hooks,
        clock=time.clock,
        sleep=time.sleep,
        rng=random.Random(0),
    )
    limiter = RateLimitMiddleware(
        RateLimit(cooldown_initial=4.0, cooldown_max=60.0),
        hooks,
        clock=time.clock,
        sleep=time.sleep,
        rng=random.Random(0),
    )
    script = Script([429])
    handler = compose([retry, limiter], script)
    got = await handler(req("POST", "/order/certificate/document_signing_org_1"))
    assert got.status == 429
    assert got.attempts == script.calls >= 2  # every one of them was sent
    assert time.now <= START + 20.0
    assert waits and {w.reason for w in waits} == {"cooldown"}


async def test_a_limiter_refusal_on_the_first_attempt_is_raised() -> None:
    time = FakeTime()
    retry = make(time, RetryPolicy(deadline=1.0))
    limiter = RateLimitMiddleware(
        RateLimit(windows=[(1, 60.0)]), clock=time.clock, sleep=time.sleep
    )
    handler = compose([retry, limiter], Script([200]))
    await handler(req())
    with pytest.raises(TransportError) as caught:
        await handler(req())
    assert caught.value.request_sent is False and caught.value.timeout is True
    assert caught.value.attempts == 1
