"""One API key, many workers: the limiter state in Redis, shared by every process.

DigiCert counts requests per API key, so processes that share a key must share
one budget. :class:`RedisLimiterBackend` is a :class:`LimiterBackendFactory`:
``RateLimit(backend=RedisLimiterBackend(url))`` makes every client bind it to
the sha256 of its API key, and every client (in any process) bound to the same
key and Redis paces against the same windows and waits out the same 429
cool-down.

How the state is kept (four Lua scripts in ``lua/``, each one atomic step):

- ``<prefix>:{<sha256>}:log``, a sorted set of slot times (microseconds of the
  Redis server's clock, ``TIME``, so the workers' clocks never matter). Taking a
  slot trims the entries older than the longest window, looks at the ``count``-th
  most recent entry of each window (the :func:`window_wait` arithmetic) and adds
  the new entry only if every window has room; when the slot's request is over,
  its entry moves to the server's present time (as in the in-process limiter, a
  slot counts from when its request is over);
- ``<prefix>:{<sha256>}:flight``, a sorted set of the log's entries whose requests are
  not over yet, by the time their slot was taken. Such a slot counts as taken now in
  every window, however long ago it was taken (DigiCert counts the request when it
  arrives), until its request is over; a slot held longer than
  :data:`~._shared.IN_FLIGHT_SECONDS` belongs to a process that is gone, and goes;
- ``<prefix>:{<sha256>}:state``, a hash with the fields of
  :class:`~._cooldown.Cooldown`: the gate's reopening time, the epoch (cool-downs
  so far) and the streak of 429s (the exponent of the back-off); and, with adaptive
  pacing, those of :class:`~._adaptive.Pacing`: the learned rate every process of the
  key paces to (the refused level, the time of the last cut on the server's clock,
  the cuts so far). The scripts make their transitions, by their rules; the local
  fallback uses the classes themselves (each process then adapts alone).

The ``{...}`` hash tag keeps the three keys in one Redis Cluster slot. The API key
itself is never sent to Redis, and the URL's password is never shown (see
:mod:`._redis_url`).

When Redis is slow, gone, or answers what the scripts never return, the rules of
:mod:`._shared` apply (``on_unavailable``: a local fallback at ``fallback_fraction``
of the windows, or :class:`LimiterUnavailableError`).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import ValidationError
from ._adaptive import CUT, DEEPEST, FLOOR, climb_seconds
from ._backend import LimiterBackend, WaitReason
from ._policy import LimiterBackendFactory, RateLimit
from ._redis_url import RedisUrl
from ._shared import (
    IN_FLIGHT_SECONDS,
    OnUnavailable,
    ReserveAnswer,
    SharedKeyLimiter,
    SharedOptions,
    ThrottleAnswer,
    UnreadableAnswer,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisKeyLimiter", "RedisLimiterBackend"]

_T = TypeVar("_T")
_MICRO = 1_000_000
_STATE_TTL_MS = 24 * 3600 * 1000  # the gate, epoch and streak of a key idle for a day go
_SCRIPTS = ("reserve", "throttled", "succeeded", "release")


@functools.cache
def _lua(name: str) -> str:
    """The Lua script ``lua/<name>.lua`` of this package, after the helpers it shares."""
    folder = resources.files(__name__.rpartition(".")[0]).joinpath("lua")
    prelude = folder.joinpath("prelude.lua").read_text(encoding="utf-8")
    return prelude + "\n" + folder.joinpath(f"{name}.lua").read_text(encoding="utf-8")


def _import_redis() -> Any:
    try:
        import redis.asyncio
        import redis.asyncio.connection
        import redis.asyncio.retry
        import redis.backoff
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModuleNotFoundError(
            "RedisLimiterBackend needs redis-py: pip install 'digicert-async[redis]'",
            name="redis",
        ) from exc
    return redis


class RedisLimiterBackend:
    """A rate-limit backend factory on Redis: one budget per API key, shared by processes.

    ::

        limit = dc.RateLimit(backend=dc.RedisLimiterBackend("redis://localhost:6379/0"))
        async with dc.CertCentralClient(api_key=key, rate_limit=limit) as client:
            ...

    Needs redis-py (the ``redis`` extra) and Redis 5 or later. Each client makes its
    own connection pool (closed by ``client.close()``) unless ``client`` is given.

    :param url: a ``redis://``, ``rediss://`` or ``unix://`` URL. Its password (in the
        userinfo or a ``?password=`` parameter) never shows in ``repr``, ``where``,
        logs or errors.
    :param key_prefix: the start of every key name (``<prefix>:{<sha256 of the API
        key>}:log``, ``...:flight`` and ``...:state``).
    :param timeout: seconds allowed to each Redis operation (connecting included).
    :param on_unavailable: what happens when Redis does not answer in time, or answers
        what cannot be read: ``"fallback"`` paces this process alone at
        ``fallback_fraction`` of the windows (one WARNING per outage, one INFO when
        Redis is back); ``"fail"`` raises :class:`LimiterUnavailableError` before sending.
    :param fallback_fraction: the share of each window's count one process may use
        while Redis is unavailable; at most ``1 / workers`` keeps all of them within
        the budget.
    :param probe_interval: seconds between background checks of an unavailable Redis.
    :param client: a ``redis.asyncio.Redis`` the caller owns, used instead of ``url``
        and never closed by this library (its own timeouts and retries apply, inside
        ``timeout``).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        key_prefix: str = "digicert-async",
        timeout: float = 0.5,
        on_unavailable: OnUnavailable = "fallback",
        fallback_fraction: float = 0.25,
        probe_interval: float = 1.0,
        client: Redis | None = None,
    ) -> None:
        # Before anything can raise: the URL (and its password) leaves this frame's
        # locals, where a traceback of a refused argument would show it.
        try:
            given = None if url is None else RedisUrl(url)
        finally:
            del url
        field = "rate_limit.backend"
        if (given is None) == (client is None):
            raise ValidationError(field, "give either url or client")
        self._redis = _import_redis()
        problem = None if given is None else given.problem(self._redis)
        if problem is not None:
            raise ValidationError(f"{field}.url", problem)
        if not isinstance(key_prefix, str) or not key_prefix or any(c in key_prefix for c in "{}"):
            raise ValidationError(
                f"{field}.key_prefix", "must be a non-empty string without braces"
            )
        self.options = SharedOptions(
            timeout=timeout,
            on_unavailable=on_unavailable,
            fallback_fraction=fallback_fraction,
            probe_interval=probe_interval,
        )
        self.key_prefix = key_prefix
        self._url = given
        self._client = client

    @property
    def timeout(self) -> float:
        return self.options.timeout

    @property
    def on_unavailable(self) -> OnUnavailable:
        return self.options.on_unavailable

    @property
    def fallback_fraction(self) -> float:
        return self.options.fallback_fraction

    @property
    def probe_interval(self) -> float:
        return self.options.probe_interval

    def __repr__(self) -> str:
        where = "client=<given>" if self._url is None else f"url={self._url.shown!r}"
        return (
            f"RedisLimiterBackend({where}, key_prefix={self.key_prefix!r},"
            f" timeout={self.timeout}, on_unavailable={self.on_unavailable!r},"
            f" fallback_fraction={self.fallback_fraction})"
        )

    @property
    def where(self) -> str:
        """The Redis URL with every password masked (``<client>`` for a given client)."""
        return "<client>" if self._url is None else self._url.shown

    def scrub(self, text: str) -> str:
        """``text`` with the URL's secrets masked."""
        return text if self._url is None else self._url.scrub(text)

    def _connect(self) -> tuple[Redis, bool]:
        """A Redis client for one binding and whether the binding owns it."""
        if self._client is not None:
            return self._client, False
        redis = self._redis
        assert self._url is not None
        # The URL was checked as redis-py reads it when this factory was made.
        client: Redis = redis.asyncio.Redis.from_url(
            self._url.reveal(),
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            # One quick retry hides a pooled connection that Redis closed (a restart);
            # the whole operation stays within ``timeout`` regardless.
            retry=redis.asyncio.retry.Retry(redis.backoff.NoBackoff(), 1),
            # RESP2 unless the URL asks otherwise: the scripts' replies read the same under
            # every redis-py (8.2 moved its default to RESP3), and no HELLO handshake
            # whose garbage answer redis-py cannot survive.
            protocol=2,
        )
        return client, True

    def for_key(self, key_hash: str, rate_limit: RateLimit) -> RedisKeyLimiter:
        """The limiter of the API key whose hex sha256 is ``key_hash``."""
        return RedisKeyLimiter(self, key_hash, rate_limit)


class RedisKeyLimiter(SharedKeyLimiter):
    """The :class:`LimiterBackend` of one API key on Redis, with its local fallback.

    Made by :meth:`RedisLimiterBackend.for_key`; ``available`` tells whether the
    shared state is in use right now. ``clock`` is any monotonic clock in seconds
    (for the local fallback only; shared pacing uses the Redis server's clock).
    """

    def __init__(
        self,
        factory: RedisLimiterBackend,
        key_hash: str,
        rate_limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(factory.options, rate_limit, clock=clock)
        self._factory = factory
        base = f"{factory.key_prefix}:{{{key_hash}}}"
        self.log_key = base + ":log"
        self.flight_key = base + ":flight"
        self.state_key = base + ":state"
        margin = rate_limit.safety_margin
        self._window_args: list[int] = [
            round(IN_FLIGHT_SECONDS * _MICRO),
            len(rate_limit.windows),
        ]
        for count, period in rate_limit.windows:
            self._window_args += [count, math.ceil(period * (1.0 + margin) * _MICRO)]
        climb = climb_seconds(self._windows)
        self._pacing_args: list[int | str] = [
            round(climb * _MICRO) if self._adaptive else 0,
            repr(CUT),
            repr(FLOOR),
        ]
        self._client: Redis | None = None
        self._owns_client = False
        self._scripts: tuple[Any, Any, Any, Any] | None = None

    def __repr__(self) -> str:
        return (
            f"RedisKeyLimiter({self._factory.where!r}, key={self.state_key.rpartition(':')[0]!r},"
            f" available={self.available})"
        )

    @property
    def where(self) -> str:
        return f"Redis {self._factory.where}"

    def _scrub(self, text: str) -> str:
        return self._factory.scrub(text)

    # -- Redis plumbing ---------------------------------------------------------------------

    def _connected(self) -> tuple[Any, Any, Any, Any]:
        if self._scripts is None:
            client, owned = self._factory._connect()
            self._client, self._owns_client = client, owned
            reserve, throttled, succeeded, release = (
                client.register_script(_lua(name)) for name in _SCRIPTS
            )
            self._scripts = (reserve, throttled, succeeded, release)
        return self._scripts

    async def _run(self, script: Any, keys: list[str], args: Sequence[int | float | str]) -> Any:
        return await _read(script(keys=keys, args=list(args)))

    def _store_errors(self) -> tuple[type[BaseException], ...]:
        return (self._factory._redis.RedisError,)

    async def _store_reserve(self, ages: list[float]) -> ReserveAnswer:
        reply = await self._run(
            self._connected()[0],
            [self.log_key, self.state_key, self.flight_key],
            [
                _STATE_TTL_MS,
                *self._pacing_args,
                *self._window_args,
                *(round(age * _MICRO) for age in ages),
            ],
        )
        return _reserve_answer(reply)

    async def _store_throttled(
        self, epoch: int, retry_after: float | None, jitter: float, usage: float | None
    ) -> ThrottleAnswer:
        limit = self._rate_limit
        reply = await self._run(
            self._connected()[1],
            [self.state_key],
            [
                epoch,
                -1 if retry_after is None else round(retry_after * _MICRO),
                repr(float(jitter)),
                round(limit.cooldown_initial * _MICRO),
                round(limit.cooldown_max * _MICRO),
                _STATE_TTL_MS,
                -1 if usage is None else repr(float(usage)),
                *self._pacing_args,
                repr(DEEPEST),
            ],
        )
        return _throttle_answer(reply)

    async def _store_succeeded(self, epoch: int) -> None:
        await self._run(self._connected()[2], [self.state_key], [epoch, _STATE_TTL_MS])

    async def _store_release(self, member: object, drop: bool) -> None:
        ttl_ms = math.ceil(self._longest * 1000) + 1000
        args: list[Any] = [member, ttl_ms, 1 if drop else 0]
        await self._run(self._connected()[3], [self.log_key, self.flight_key], args)

    async def _store_ping(self) -> None:
        # A script, not PING: a Redis that pongs but cannot run the scripts (or answers
        # them with garbage) is still unavailable. No epoch is -1: this one changes nothing.
        reply = await self._run(self._connected()[2], [self.state_key], [-1, _STATE_TTL_MS])
        _whole(reply, "succeeded", "the epoch")

    async def _store_close(self) -> None:
        client, self._client = self._client, None
        self._scripts = None
        if client is not None and self._owns_client:
            await client.aclose()


async def _read(reply: Awaitable[_T]) -> _T:
    """``reply``, or :class:`UnreadableAnswer` when redis-py could not parse it (a
    number that is not one, an array nested too deep, a handshake answered with a status
    where a map belongs...)."""
    try:
        return await reply
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, RecursionError) as exc:
        problem = f"redis-py could not parse the reply ({type(exc).__name__})"
    raise UnreadableAnswer(problem)  # outside the handler: nothing of the reply chained


# -- what the scripts return, read strictly: anything else is an unreadable answer --------


def _items(reply: object, step: str, count: int) -> list[object]:
    if not isinstance(reply, list) or len(reply) != count:
        size = f" of {len(reply)}" if isinstance(reply, list) else ""
        kind = f"a {type(reply).__name__}{size}"
        raise UnreadableAnswer(f"the answer to {step} is not a list of {count} values ({kind})")
    return reply


def _whole(value: object, step: str, name: str, least: int = 0) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= least:
        return value
    raise UnreadableAnswer(f"{step}: {name} is not a whole number of {least} or more")


def _text(value: object, step: str, name: str) -> str:
    if isinstance(value, bytes) and value.isascii():
        return value.decode("ascii")
    if isinstance(value, str) and value.isascii():
        return value
    raise UnreadableAnswer(f"{step}: {name} is not ASCII text")


def _share(value: object, step: str, name: str, *, empty: bool = False) -> float | None:
    """A float the scripts write as text (``fl``): finite, not negative."""
    text = _text(value, step, name)
    if empty and text == "":
        return None
    try:
        number = float(text) if len(text) <= 32 else math.nan
    except ValueError:
        number = math.nan
    if not 0.0 <= number < math.inf:
        raise UnreadableAnswer(f"{step}: {name} is not a number of 0 or more")
    return number


def _since(value: object, step: str) -> float | None:
    since_us = _whole(value, step, "the time since the cut", least=-1)
    return None if since_us < 0 else since_us / _MICRO


def _reserve_answer(reply: object) -> ReserveAnswer:
    wait_us, reason, epoch, strikes, member, peak, since_us, lowered, usage = _items(
        reply, "reserve", 9
    )
    step = "reserve"
    why = _text(reason, step, "the reason")
    if why not in ("", "window", "cooldown"):
        raise UnreadableAnswer(f"{step}: the reason is not 'window' or 'cooldown'")
    wait = _whole(wait_us, step, "the wait") / _MICRO
    taken = wait <= 0.0
    _text(member, step, "the slot's name")
    return ReserveAnswer(
        wait=wait,
        reason=None if taken else _REASONS[why],
        epoch=_whole(epoch, step, "the epoch"),
        strikes=_whole(strikes, step, "the streak"),
        member=member or None,
        peak=_share(peak, step, "the refused level") or 0.0,
        since=_since(since_us, step),
        lowered=_whole(lowered, step, "the cuts"),
        usage=_share(usage, step, "the usage", empty=True),
    )


_REASONS: dict[str, WaitReason] = {"": "window", "window": "window", "cooldown": "cooldown"}


def _throttle_answer(reply: object) -> ThrottleAnswer:
    step = "throttled"
    closed_us, gate_us, epoch, strikes, peak, since_us, lowered = _items(reply, step, 7)
    return ThrottleAnswer(
        closed=_whole(closed_us, step, "the delay") / _MICRO,
        gate=_whole(gate_us, step, "the gate") / _MICRO,
        epoch=_whole(epoch, step, "the epoch"),
        strikes=_whole(strikes, step, "the streak"),
        peak=_share(peak, step, "the refused level") or 0.0,
        since=_since(since_us, step),
        lowered=_whole(lowered, step, "the cuts"),
    )


if TYPE_CHECKING:  # both protocols are met (checked by mypy, never run)
    _FACTORY: LimiterBackendFactory = RedisLimiterBackend("redis://localhost")
    _BACKEND: LimiterBackend = RedisLimiterBackend("redis://localhost").for_key("", RateLimit())
