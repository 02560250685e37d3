"""The 429 cool-down: one state machine, whichever backend holds the state.

DigiCert keeps a key blocked for a while after a 429 and sends no ``Retry-After``,
so the first 429 closes a gate that every request of the key waits behind, and
the requests that were already in flight (and are refused too) must not make
the wait any longer: one burst counts once.
"""

from __future__ import annotations

import math

import attrs

from ._policy import EPSILON, cooldown_delay

__all__ = ["Cooldown"]


@attrs.define
class Cooldown:
    """One API key's 429 cool-down: the gate, the epoch and the streak. Pure: every
    transition is told what time it is (any monotonic clock, in seconds).

    The rules. :class:`~._memory.InMemoryLimiterBackend` and the Redis backend's
    local fallback keep their state in this class; the Redis backend's Lua scripts
    (``lua/reserve.lua``, ``lua/throttled.lua``, ``lua/succeeded.lua``) make the same
    transitions on the same three fields, and the tests drive both through one
    table of cases.

    1. While the gate is closed (``now < gate_until``), nothing is sent.
    2. ``epoch`` counts the cool-downs begun so far; a request carries the epoch it
       was sent in to the 429 or the success it gets.
    3. A 429 of a request sent in the current epoch begins a cool-down: the epoch
       advances and the streak (``strikes``) grows by one. The gate closes for the
       server's ``Retry-After`` if it sent one (capped before it gets here), else for
       :func:`~._policy.cooldown_delay` of the streak.
    4. A 429 of a request sent in an earlier epoch belongs to a burst already
       counted: epoch and streak stay, and only a ``Retry-After`` of its own can
       extend the gate.
    5. The gate is never shortened.
    6. Any other answer to a request sent in the current epoch ends the streak; one
       sent in an earlier epoch says nothing (it left before the last 429 was known).

    >>> gate = Cooldown(initial=1.0, maximum=60.0)
    >>> gate.throttled(0, now=10.0, retry_after=None, jitter=0.5)  # the floor: 1 s
    1.0
    >>> gate.throttled(0, now=10.2, retry_after=None, jitter=0.9)  # same burst
    0.0
    >>> (gate.epoch, gate.strikes, gate.remaining(10.5))
    (1, 1, 0.5)
    """

    initial: float
    maximum: float
    gate_until: float = -math.inf
    epoch: int = 0
    strikes: int = 0

    def remaining(self, now: float) -> float:
        """Seconds until the gate reopens (0.0 when it is open)."""
        left = self.gate_until - now
        return left if left > EPSILON else 0.0

    def throttled(
        self, epoch: int, now: float, *, retry_after: float | None, jitter: float
    ) -> float:
        """A 429 came for a request sent in ``epoch``; ``jitter`` is a uniform draw from
        [0, 1). Returns the seconds the gate was newly closed for (0.0: unchanged)."""
        fresh = epoch == self.epoch
        if fresh:
            self.strikes += 1
            self.epoch += 1
        if retry_after is not None:
            delay = retry_after
        elif fresh:
            delay = cooldown_delay(self.strikes, self.initial, self.maximum, jitter)
        else:
            return 0.0
        if delay <= 0.0 or not self.hold(now + delay):
            return 0.0
        return delay

    def succeeded(self, epoch: int) -> None:
        """Another answer than 429 came for a request sent in ``epoch``."""
        if epoch == self.epoch:
            self.strikes = 0

    def hold(self, until: float) -> bool:
        """Keep the gate closed until ``until`` at least (a 429's delay, or a gate seen
        in a shared store); whether that moved it."""
        if until <= self.gate_until:
            return False
        self.gate_until = until
        return True
