"""What is retried, how long to wait, and when to stop: pure decisions plus one middleware.

The rules follow what DigiCert's API can safely take:

- 429 is retried whatever the method: the server refused before doing anything.
  The waiting is the rate limiter's shared cool-down gate, so this layer adds no
  backoff of its own and spends no retry budget on it (429 retries cannot add load
  beyond the paced rate; ``max_attempts`` and the deadline still bound them).
- 502/503/504, resets and timeouts are retried only for idempotent requests:
  GET/PUT/DELETE unless the endpoint says otherwise (``Request.replayable``). A POST
  that may have reached the server (a new order, a new note), or a PUT that creates
  something (a revoke request, an approval decision), is never sent twice.
- A request that certainly never reached the server (``TransportError`` with
  ``request_sent=False``: the connection could not be opened) is retried for every
  method.
- A permanent failure (``TransportError.permanent``: TLS verification, a broken
  HTTP answer, an invalid URL) is final, and so is an answer larger than the
  client's ``max_response_bytes`` with a success status (a ``ResponseError``, which
  this layer never sees as retryable).
- Everything else, 500 included, is final.
"""

from __future__ import annotations

import asyncio
import random
from typing import Literal

import attrs

from ._checks import check_count, check_number
from ._clock import Clock, Sleep, loop_time
from ._error_answers import answer_error
from ._errors import TransportError, raise_unchained
from ._hooks import Events, Hooks, RetryDeclined, RetryScheduled
from ._pipeline import DeadlineRefused, Handler, Request, Response

__all__ = [
    "RETRY_STATUSES",
    "RetryBudget",
    "RetryDecision",
    "RetryMiddleware",
    "RetryPolicy",
    "backoff_delay",
    "classify",
]

RetryKind = Literal["throttled", "unavailable", "connect", "timeout", "reset"]

THROTTLED_STATUS = 429
UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
RETRY_STATUSES = UNAVAILABLE_STATUSES | {THROTTLED_STATUS}


MAX_ATTEMPTS = 1_000_000
"""The most sends a policy may allow one call: more than any deadline lets happen."""


def _convert_attempts(value: int) -> int:
    return check_count("retry.max_attempts", value, maximum=MAX_ATTEMPTS)


def _convert_backoff_initial(value: float) -> float:
    return check_number("retry.backoff_initial", value, allow_zero=True)


def _convert_backoff_max(value: float) -> float:
    return check_number("retry.backoff_max", value, allow_zero=True)


def _convert_deadline(value: float | None) -> float | None:
    if value is None:
        return None
    return check_number("retry.deadline", value, allow_zero=False)


def _convert_budget(value: float) -> float:
    return check_number("retry.budget", value, allow_inf=True, allow_zero=True)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How often, how long and how much the client retries.

    :param max_attempts: sends per call, the first included (1: never retry; at
        most a million).
    :param backoff_initial: the cap of the first backoff, in seconds; the n-th
        retry waits ``uniform(0, min(backoff_max, backoff_initial * 2 ** (n - 1)))``
        (full jitter). A 429 is not backed off here: it waits at the rate
        limiter's shared cool-down gate.
    :param backoff_max: the cap of any backoff.
    :param deadline: seconds for the whole call, every attempt and wait included;
        None for no overall limit (each attempt is still bounded by the client's
        ``timeout``). An attempt still in flight when it passes is cut short: the
        call then raises ``TransportError`` with ``timeout=True`` (or, if the rate
        limiter refused to wait past it after earlier attempts, reports the last
        of those).
    :param budget: the client-wide retry quota, in tokens: retrying a 502/503/504 or
        a failed connection costs 1, a timeout or reset 2, a 429 nothing. An
        answered request (status below 500) earns 0.1 back, and a retry that
        succeeds refunds its cost. When the quota is spent, failures are final until
        it refills, so a dead server does not multiply traffic. ``math.inf`` turns it
        off, 0 allows only 429 retries.

    >>> RetryPolicy(max_attempts=3, deadline=60.0).max_attempts
    3
    >>> RetryPolicy.disabled().max_attempts
    1
    """

    max_attempts: int = attrs.field(default=5, converter=_convert_attempts)
    backoff_initial: float = attrs.field(default=0.5, converter=_convert_backoff_initial)
    backoff_max: float = attrs.field(default=30.0, converter=_convert_backoff_max)
    deadline: float | None = attrs.field(default=300.0, converter=_convert_deadline)
    budget: float = attrs.field(default=100.0, converter=_convert_budget)

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """One attempt per call; nothing is retried.

        >>> RetryPolicy.disabled().max_attempts
        1
        """
        return cls(max_attempts=1)


@attrs.frozen
class RetryDecision:
    """Why an attempt may be retried.

    ``kind``: ``throttled`` (429), ``unavailable`` (502/503/504), ``connect`` (never
    reached the server), ``timeout`` or ``reset``. ``backoff`` is False when the
    retry layer must not add a wait of its own (429: the shared gate waits).
    """

    kind: RetryKind
    backoff: bool = True


def _is_deadline_refusal(exc: TransportError) -> bool:
    # The rate limiter (or the send step) would not start an attempt past the deadline.
    return isinstance(exc, DeadlineRefused)


def classify(request: Request, outcome: Response | BaseException) -> RetryDecision | None:
    """Whether an attempt's answer or exception may be retried (pure).

    >>> get = Request(method="GET", path="/order/certificate/1")
    >>> post = Request(method="POST", path="/order/certificate/1/note")
    >>> busy = Response(status=503, headers={}, body=b"", method="POST", url="/x")
    >>> classify(get, busy)
    RetryDecision(kind='unavailable', backoff=True)
    >>> classify(post, busy) is None
    True
    """
    if isinstance(outcome, Response):
        if outcome.status == THROTTLED_STATUS:
            return RetryDecision("throttled", backoff=False)
        if outcome.status in UNAVAILABLE_STATUSES and request.idempotent:
            return RetryDecision("unavailable")
        return None
    if isinstance(outcome, TransportError):
        if outcome.permanent or _is_deadline_refusal(outcome):
            return None
        if not outcome.request_sent:
            return RetryDecision("connect")
        if request.idempotent:
            return RetryDecision("timeout" if outcome.timeout else "reset")
    return None


def backoff_delay(attempt: int, initial: float, maximum: float, rng: random.Random) -> float:
    """The wait after failed attempt number ``attempt``: full jitter, exponential, capped.

    >>> backoff_delay(3, 0.5, 30.0, random.Random(1)) <= 2.0
    True
    """
    exponent = min(max(attempt, 1) - 1, 64)
    cap = min(maximum, initial * 2.0**exponent)
    return rng.uniform(0.0, cap)


class RetryBudget:
    """A client-wide token bucket of retries, in the spirit of botocore's retry quota.

    It starts full at ``capacity``. A retry must :meth:`spend` its cost first; a
    request the server answered (status below 500) gives ``success_refill`` back
    through :meth:`earn`, plus the cost of the retry that got it answered. No clock:
    it refills by success, not by time, so a dead server drains it and keeps it
    drained until it answers again.
    """

    def __init__(
        self,
        capacity: float,
        *,
        retry_cost: float = 1.0,
        timeout_cost: float = 2.0,
        success_refill: float = 0.1,
    ) -> None:
        self.capacity = capacity
        self.retry_cost = retry_cost
        self.timeout_cost = timeout_cost
        self.success_refill = success_refill
        self._tokens = capacity

    @property
    def tokens(self) -> float:
        return self._tokens

    def cost(self, decision: RetryDecision) -> float:
        if decision.kind == "throttled":
            return 0.0
        if decision.kind in ("timeout", "reset"):
            return self.timeout_cost
        return self.retry_cost

    def spend(self, amount: float) -> bool:
        """Take ``amount`` tokens if there are that many; False (and take none) if not."""
        if amount <= 0.0:
            return True
        if self._tokens < amount - 1e-9:  # ten refills of 0.1 do make one token
            return False
        self._tokens = max(0.0, self._tokens - amount)
        return True

    def earn(self, refund: float = 0.0) -> None:
        """An answered request: refill a little, plus ``refund``."""
        self._tokens = min(self.capacity, self._tokens + self.success_refill + refund)


class RetryMiddleware:
    """Runs the attempts of a call: numbering, deadline, backoff, budget, hooks, logs.

    Each attempt goes down the chain as ``request.for_attempt(n, deadline)``; the
    deadline is ``clock() + policy.deadline`` (or the request's own, if earlier), on
    the scale of ``clock`` (the event loop's monotonic time by default).

    When it gives up, the last outcome is reported as it was: an answer is returned
    with ``attempts`` set (the client turns it into ``RateLimitError``,
    ``ServerError``...), an exception is the same ``TransportError`` re-raised with
    its ``attempts`` set. If the rate limiter refuses to wait past the deadline
    after earlier attempts, the previous attempt's outcome is reported instead of
    that refusal. Discarded answers hold no connection (the send step reads every
    body whole).
    """

    def __init__(
        self,
        policy: RetryPolicy,
        hooks: Hooks | Events | None = None,
        *,
        clock: Clock = loop_time,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        budget: RetryBudget | None = None,
    ) -> None:
        self.policy = policy
        self._events = Events.of(hooks)
        self._clock = clock
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self.budget = budget if budget is not None else RetryBudget(policy.budget)

    async def __call__(self, original: Request, call_next: Handler) -> Response:
        policy = self.policy
        deadline = self._deadline_of(original)
        previous: Response | TransportError | None = None
        spent = 0.0
        attempt = 0
        while True:
            attempt += 1
            request = original.for_attempt(attempt, deadline)
            outcome: Response | TransportError
            try:
                outcome = await call_next(request)
            except TransportError as exc:
                outcome = exc
            outcome.attempts = attempt
            if isinstance(outcome, Response):
                if 200 <= outcome.status < 300:  # the common case, decided at once
                    self.budget.earn(spent)
                    return outcome
            elif previous is not None and _is_deadline_refusal(outcome):
                # Not sent: the previous attempt's outcome says more than the refusal.
                return _given_up(previous)
            decision = classify(request, outcome)
            if decision is None:
                if isinstance(outcome, Response) and outcome.status < 500:
                    self.budget.earn(spent)
                return _given_up(outcome)
            delay = (
                backoff_delay(attempt, policy.backoff_initial, policy.backoff_max, self._rng)
                if decision.backoff
                else 0.0
            )
            if not self._retries(request, outcome, attempt, deadline, delay, decision):
                return _given_up(outcome)
            spent = self.budget.cost(decision)
            if delay > 0.0:
                await self._sleep(delay)
            previous = outcome

    def _deadline_of(self, request: Request) -> float | None:
        """The call's deadline: ``policy.deadline`` from now, or the request's own if
        it comes first."""
        deadline = request.deadline
        if self.policy.deadline is not None:
            ours = self._clock() + self.policy.deadline
            deadline = ours if deadline is None else min(deadline, ours)
        return deadline

    def _retries(
        self,
        request: Request,
        outcome: Response | TransportError,
        attempt: int,
        deadline: float | None,
        delay: float,
        decision: RetryDecision,
    ) -> bool:
        """Whether the failed attempt ``outcome`` is retried after ``delay`` (the budget
        then spent), told as a ``RetryScheduled`` or a ``RetryDeclined`` event."""
        cause = (
            outcome if isinstance(outcome, TransportError) else answer_error(outcome, request.root)
        )
        why_not = self._why_not_retry(attempt, deadline, delay, decision)
        if why_not is not None:
            self._events.retry_declined(
                RetryDeclined(
                    method=request.method,
                    url=outcome.url,
                    attempt=attempt,
                    reason=why_not,
                    cause=cause,
                    call=request.call,
                    route=request.route,
                )
            )
            return False
        self._events.retry_scheduled(
            RetryScheduled(
                method=request.method,
                url=outcome.url,
                attempt=attempt,
                delay=delay,
                cause=cause,
                retries=self.policy.max_attempts - 1,
                call=request.call,
                route=request.route,
            )
        )
        return True

    def _why_not_retry(
        self, attempt: int, deadline: float | None, delay: float, decision: RetryDecision
    ) -> str | None:
        if attempt >= self.policy.max_attempts:
            return "max_attempts reached"
        if deadline is not None and self._clock() + delay >= deadline:
            return "the call's deadline would pass"
        if not self.budget.spend(self.budget.cost(decision)):
            return "the client's retry budget is spent"
        return None


def _given_up(outcome: Response | TransportError) -> Response:
    """The last outcome, reported as it was: an answer returned, an exception raised."""
    if isinstance(outcome, Response):
        return outcome
    raise_unchained(outcome)
