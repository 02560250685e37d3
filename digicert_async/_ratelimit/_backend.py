"""What a limiter backend is: the interface the middleware paces through.

A backend holds one API key's limiter state (send times, the 429 cool-down) in
this process or in a shared store. Only durations cross the interface, so a
backend may keep its own clock (Redis: its server time).
"""

from __future__ import annotations

import hashlib
from typing import Literal, Protocol

import attrs

__all__ = [
    "LimiterBackend",
    "PaceState",
    "Reservation",
    "WaitReason",
    "api_key_hash",
    "close_backend",
]

WaitReason = Literal["window", "cooldown"]


@attrs.frozen
class Reservation:
    """What :meth:`LimiterBackend.reserve` decided.

    ``wait == 0.0``: a slot was taken, send now. Otherwise nothing was taken; try
    again after ``wait`` seconds, ``reason`` says what is in the way. ``epoch``
    counts the 429 cool-downs so far: a request carries the epoch it was sent in
    back to :meth:`~LimiterBackend.throttled` and :meth:`~LimiterBackend.succeeded`.
    ``token`` identifies the slot to :meth:`~LimiterBackend.release` (backend-specific).
    ``usage`` is the fullest window's share of its configured count once the slot was
    taken (None when the backend does not adapt): a request carries it back to
    :meth:`~LimiterBackend.throttled`, as the level a 429 says is too much.
    """

    wait: float
    reason: WaitReason | None
    epoch: int
    token: object = None
    usage: float | None = None


@attrs.frozen
class PaceState:
    """The learned rate of one API key, as a backend last saw it.

    ``windows`` are the ``(requests, seconds)`` pairs in force, ``scale`` their share of
    the configured ones (1.0: the configuration as it is), ``lowered`` how many times a
    429 lowered the rate, and ``shared`` whether this state is the one every process of
    the key shares (a shared store that answers) rather than this process's alone.
    """

    windows: tuple[tuple[int, float], ...]
    scale: float
    lowered: int
    shared: bool


class LimiterBackend(Protocol):
    """Where one API key's limiter state lives: this process, or a shared store.

    Every method is one atomic step (a Lua script in Redis, a transaction in SQLite),
    and only durations cross the interface, so a backend may use its own clock (Redis:
    its server time) while the middleware compares against its own monotonic clock. The 429
    cool-down follows the rules of :class:`~._cooldown.Cooldown` in every backend.
    """

    async def reserve(self) -> Reservation:
        """Take a slot now if the gate is open and every window has room, else say how
        long to wait (and take nothing)."""
        ...

    async def throttled(
        self,
        epoch: int,
        *,
        retry_after: float | None,
        jitter: float,
        usage: float | None = None,
    ) -> float:
        """Record a 429 for a request sent in ``epoch`` and close the gate.

        If no cool-down began since that request was sent (``epoch`` is current),
        the 429 starts a new one: the streak grows, the epoch advances and the gate
        closes for ``retry_after`` if given, else :func:`~._policy.cooldown_delay` of
        the streak with ``jitter`` (a uniform draw from [0, 1)). A 429 from a request
        sent before the current cool-down began belongs to the same burst: it only
        extends the gate to its ``retry_after``, if it has one. The gate is never
        shortened. Returns the seconds the gate was newly closed for (0.0 if this
        call did not move it).

        A backend that adapts its rate also makes the transition of
        :class:`~._adaptive.Pacing` with the request's ``usage`` (its reservation's).
        """
        ...

    async def succeeded(self, epoch: int) -> None:
        """A request sent in ``epoch`` got an answer other than 429: if no cool-down
        began since, the streak of 429s is over."""
        ...

    @property
    def pace_step(self) -> int:
        """Grows each time the learned rate moves by a step worth telling (a cut, a tenth
        of the ceiling climbed, the return to the ceiling); read on every request."""
        ...

    def pace(self) -> PaceState:
        """The learned rate as this process last saw it (no I/O)."""
        ...

    async def release(self, reservation: Reservation, *, refused: bool = False) -> None:
        """The request of this slot is over (answered, failed or cancelled).

        From now on the slot counts from this moment rather than from when it was
        taken: DigiCert counts a request when it arrives, which is somewhere between
        the two, and only the later bound is safe whatever the connection set-up,
        the network or a busy event loop delayed.

        A backend that adapts its rate forgets the slot of a request ``refused``
        (HTTP 429) instead: the server did not serve it. Should the server count
        refusals all the same, the 429 that follows lowers the learned rate.
        """
        ...


def api_key_hash(api_key: str) -> str:
    """The name under which a shared backend stores an API key's state: its hex sha256.

    >>> api_key_hash("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


async def close_backend(backend: LimiterBackend) -> None:
    """Await ``backend.aclose()`` if it has one (connections it owns)."""
    aclose = getattr(backend, "aclose", None)
    if aclose is not None:
        await aclose()
