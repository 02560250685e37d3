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
- ``<prefix>:{<sha256>}:state``, a hash with the fields of
  :class:`~._cooldown.Cooldown`: the gate's reopening time, the epoch (cool-downs
  so far) and the streak of 429s (the exponent of the back-off); and, with adaptive
  pacing, those of :class:`~._adaptive.Pacing`: the learned rate every process of the
  key paces to (the refused level, the time of the last cut on the server's clock,
  the cuts so far). The scripts make their transitions, by their rules; the local
  fallback uses the classes themselves (each process then adapts alone).

The ``{...}`` hash tag keeps both keys in one Redis Cluster slot. The API key
itself is never sent to Redis.

When Redis is slow or gone (no answer within ``timeout``), ``on_unavailable``
decides:

- ``"fallback"`` (the default): the client paces itself in this process at
  ``fallback_fraction`` of every window's count (25 of 100 per 5 s at 0.25),
  counting its own recent sends, keeps the last cool-down it saw, logs one
  WARNING for the outage and, probing Redis in the background every
  ``probe_interval`` seconds, one INFO when Redis answers again; the sends it made
  meanwhile are then written into the shared log. With ``n`` workers,
  ``n * fallback_fraction <= 1`` keeps them within the budget;
- ``"fail"``: taking a slot raises :class:`LimiterUnavailableError` (nothing is
  sent). Once Redis has failed to answer, every call fails at once, without waiting
  out a ``timeout`` of its own (calls queued for a slot would otherwise fail one
  ``timeout`` after another), until the background probe, every ``probe_interval``
  seconds, gets an answer.

Either way a request that was already sent is never resent or lost because of
Redis: recording its answer (a 429 or a success) never raises, and falls back to
the local state when Redis cannot take it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from .._checks import check_number
from .._errors import DigiCertError, ValidationError
from .._hooks import logger
from ._adaptive import CUT, DEEPEST, FLOOR, Pacing, climb_seconds, scale_windows
from ._backend import LimiterBackend, PaceState, Reservation
from ._memory import InMemoryLimiterBackend
from ._policy import LimiterBackendFactory, RateLimit

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["LimiterUnavailableError", "RedisKeyLimiter", "RedisLimiterBackend"]

OnUnavailable = Literal["fallback", "fail"]
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


if sys.version_info >= (3, 11):

    async def _within(awaitable: Awaitable[_T], seconds: float) -> _T:
        async with asyncio.timeout(seconds):  # no extra task, unlike wait_for before 3.12
            return await awaitable

else:  # pragma: no cover - Python 3.10

    async def _within(awaitable: Awaitable[_T], seconds: float) -> _T:
        return await asyncio.wait_for(awaitable, seconds)


class LimiterUnavailableError(DigiCertError):
    """The shared rate limiter (Redis) did not answer in time, and
    ``on_unavailable="fail"`` says not to send without it. Nothing was sent."""


def _redact(url: str) -> str:
    """``url`` without its password, for logs and ``repr``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable url>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")[2]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


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

    :param url: a ``redis://``, ``rediss://`` or ``unix://`` URL.
    :param key_prefix: the start of every key name (``<prefix>:{<sha256 of the API
        key>}:log`` and ``...:state``).
    :param timeout: seconds allowed to each Redis operation (connecting included).
    :param on_unavailable: what happens when Redis does not answer in time:
        ``"fallback"`` paces this process alone at ``fallback_fraction`` of the
        windows (one WARNING per outage, one INFO when Redis is back); ``"fail"``
        raises :class:`LimiterUnavailableError` before sending.
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
        field = "rate_limit.backend"
        if (url is None) == (client is None):
            raise ValidationError(field, "give either url or client")
        self._redis = _import_redis()
        if url is not None:
            if not isinstance(url, str) or urlsplit(url).scheme not in (
                "redis",
                "rediss",
                "unix",
            ):
                raise ValidationError(
                    f"{field}.url", "must be a redis://, rediss:// or unix:// URL"
                )
            try:
                self._redis.asyncio.connection.parse_url(url)
            except (ValueError, TypeError) as exc:
                raise ValidationError(f"{field}.url", str(exc)) from None
        if not isinstance(key_prefix, str) or not key_prefix or any(c in key_prefix for c in "{}"):
            raise ValidationError(
                f"{field}.key_prefix", "must be a non-empty string without braces"
            )
        if on_unavailable not in ("fallback", "fail"):
            raise ValidationError(
                f"{field}.on_unavailable", f"must be 'fallback' or 'fail', not {on_unavailable!r}"
            )
        self.timeout = check_number(f"{field}.timeout", timeout, allow_zero=False)
        self.fallback_fraction = check_number(
            f"{field}.fallback_fraction", fallback_fraction, allow_zero=False
        )
        if self.fallback_fraction > 1.0:
            raise ValidationError(
                f"{field}.fallback_fraction", f"must be at most 1.0, not {fallback_fraction!r}"
            )
        self.probe_interval = check_number(
            f"{field}.probe_interval", probe_interval, allow_zero=False
        )
        self.key_prefix = key_prefix
        self.on_unavailable: OnUnavailable = on_unavailable
        self._url = url
        self._client = client

    def __repr__(self) -> str:
        where = "client=<given>" if self._url is None else f"url={_redact(self._url)!r}"
        return (
            f"RedisLimiterBackend({where}, key_prefix={self.key_prefix!r},"
            f" timeout={self.timeout}, on_unavailable={self.on_unavailable!r},"
            f" fallback_fraction={self.fallback_fraction})"
        )

    @property
    def where(self) -> str:
        """The Redis URL without its password (``<client>`` for a given client)."""
        return "<client>" if self._url is None else _redact(self._url)

    def _connect(self) -> tuple[Redis, bool]:
        """A Redis client for one binding and whether the binding owns it."""
        if self._client is not None:
            return self._client, False
        redis = self._redis
        assert self._url is not None
        try:
            client: Redis = redis.asyncio.Redis.from_url(
                self._url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                # One quick retry hides a pooled connection that Redis closed (a restart);
                # the whole operation stays within ``timeout`` regardless.
                retry=redis.asyncio.retry.Retry(redis.backoff.NoBackoff(), 1),
            )
        except (ValueError, TypeError) as exc:
            raise ValidationError("rate_limit.backend.url", str(exc)) from None
        return client, True

    def for_key(self, key_hash: str, rate_limit: RateLimit) -> RedisKeyLimiter:
        """The limiter of the API key whose hex sha256 is ``key_hash``."""
        return RedisKeyLimiter(self, key_hash, rate_limit)


class RedisKeyLimiter:
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
        self._factory = factory
        self._clock = clock
        base = f"{factory.key_prefix}:{{{key_hash}}}"
        self.log_key = base + ":log"
        self.state_key = base + ":state"
        margin = rate_limit.safety_margin
        self._rate_limit = rate_limit
        self._window_args: list[int] = [len(rate_limit.windows)]
        for count, period in rate_limit.windows:
            self._window_args += [count, math.ceil(period * (1.0 + margin) * _MICRO)]
        self._longest = max((p * (1.0 + margin) for _, p in rate_limit.windows), default=0.0)
        self._windows = tuple(rate_limit.windows)
        self._adaptive = rate_limit.adaptive and bool(self._windows)
        climb = climb_seconds(self._windows)
        self._pacing_args: list[int | str] = [
            round(climb * _MICRO) if self._adaptive else 0,
            repr(CUT),
            repr(FLOOR),
        ]
        # The shared learned rate as the last answer from Redis told it.
        self._shared = Pacing(climb)
        self.fallback_windows: tuple[tuple[int, float], ...] = tuple(
            (max(1, math.floor(count * factory.fallback_fraction)), period)
            for count, period in rate_limit.windows
        )
        # This process's own recent sends (shared or not) on the fallback's windows, and
        # the last gate seen in Redis: what paces it when Redis is unavailable.
        self._local = InMemoryLimiterBackend(
            self.fallback_windows,
            margin,
            clock,
            cooldown_initial=rate_limit.cooldown_initial,
            cooldown_max=rate_limit.cooldown_max,
            adaptive=rate_limit.adaptive,
        )
        self._unshared: deque[float] = deque(
            maxlen=max((count for count, _ in rate_limit.windows), default=1)
        )
        self._outage_epoch = 0  # the local epoch when Redis went away
        self._remote_epoch = 0
        self._remote_strikes = 0
        self._calm_epoch: int | None = None  # an epoch seen with no streak: succeeded() is moot
        self._client: Redis | None = None
        self._owns_client = False
        self._scripts: tuple[Any, Any, Any, Any] | None = None
        self.available = True
        self._outage_reason = ""
        self._next_probe = -math.inf
        self._probe: asyncio.Task[None] | None = None
        self._closed = False
        self.fallback_sends = 0  # sends paced locally, over the object's life

    def __repr__(self) -> str:
        return (
            f"RedisKeyLimiter({self._factory.where!r}, key={self.state_key.rpartition(':')[0]!r},"
            f" available={self.available})"
        )

    # -- Redis plumbing ---------------------------------------------------------------------

    def _connected(self) -> tuple[Any, Any, Any, Any]:
        if self._closed:
            raise RuntimeError("this limiter is closed")
        if self._scripts is None:
            client, owned = self._factory._connect()
            self._client, self._owns_client = client, owned
            reserve, throttled, succeeded, release = (
                client.register_script(_lua(name)) for name in _SCRIPTS
            )
            self._scripts = (reserve, throttled, succeeded, release)
        return self._scripts

    async def _run(self, script: Any, keys: list[str], args: Sequence[int | float | str]) -> Any:
        return await _within(script(keys=keys, args=list(args)), self._factory.timeout)

    def _unavailable_errors(self) -> tuple[type[BaseException], ...]:
        return (self._factory._redis.RedisError, OSError, asyncio.TimeoutError)

    def _went_down(self, exc: BaseException) -> None:
        self._next_probe = self._clock() + self._factory.probe_interval
        if not self.available:
            return
        self.available = False
        self._outage_reason = type(exc).__name__
        self._outage_epoch = self._local.epoch
        self._local.cooldown.strikes = self._remote_strikes  # the streak goes on locally
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if self._factory.on_unavailable == "fail":
            then = (
                "requests fail with LimiterUnavailableError until it answers a probe"
                f" (every {self._factory.probe_interval:g} s)"
            )
        else:
            share = self._factory.fallback_fraction
            then = (
                f"this process paces itself alone at {share:.0%} of the windows"
                f" {list(self.fallback_windows)} until it answers"
            )
        logger.warning(
            "shared rate limiter unavailable (Redis %s: %s): %s",
            self._factory.where,
            reason,
            then,
        )

    def _came_back(self) -> None:
        if self.available:
            return
        self.available = True
        logger.info(
            "shared rate limiter available again (Redis %s): shared pacing resumes",
            self._factory.where,
        )

    def _start_probe(self) -> None:
        now = self._clock()
        if now < self._next_probe or (self._probe is not None and not self._probe.done()):
            return
        self._next_probe = now + self._factory.probe_interval
        self._probe = asyncio.get_running_loop().create_task(self._ping())

    async def _ping(self) -> None:
        self._connected()
        assert self._client is not None
        try:
            await _within(self._client.ping(), self._factory.timeout)
        except self._unavailable_errors():
            return
        self._came_back()

    # -- LimiterBackend ---------------------------------------------------------------------

    def _unavailable(self, reason: str) -> LimiterUnavailableError:
        return LimiterUnavailableError(
            f"the shared rate limiter (Redis {self._factory.where}) did not answer"
            f" within {self._factory.timeout} s ({reason}); not sent"
        )

    async def reserve(self) -> Reservation:
        if not self.available:
            # Whichever the mode, Redis is asked again only by the probe: a caller never
            # waits out a timeout for a Redis known to be gone.
            self._start_probe()
            if self._factory.on_unavailable == "fail":
                raise self._unavailable(self._outage_reason)
            return self._reserve_locally()
        reserve_script = self._connected()[0]
        now = self._clock()
        ages = [
            round((now - sent) * _MICRO) for sent in self._unshared if now - sent < self._longest
        ]
        try:
            answer = await self._run(
                reserve_script,
                [self.log_key, self.state_key],
                [_STATE_TTL_MS, *self._pacing_args, *self._window_args, *ages],
            )
        except self._unavailable_errors() as exc:
            self._went_down(exc)
            if self._factory.on_unavailable == "fail":
                raise self._unavailable(self._outage_reason) from exc
            return self._reserve_locally()
        wait_us, reason, epoch, strikes, member, peak, since_us, lowered, usage = answer
        self._unshared.clear()  # written into the shared log by that call
        self._came_back()
        self._note_remote(int(epoch), int(strikes))
        self._adopt(peak, since_us, lowered)
        wait = int(wait_us) / _MICRO
        now = self._clock()
        if wait <= 0.0:
            return Reservation(
                0.0,
                None,
                int(epoch),
                (self._local.take(now), member or None),
                float(usage) if usage else None,
            )
        text = reason.decode() if isinstance(reason, bytes) else str(reason)
        if text == "cooldown":
            self._local.cooldown.hold(now + wait)
            return Reservation(wait, "cooldown", int(epoch))
        return Reservation(wait, "window", int(epoch))

    async def throttled(
        self,
        epoch: int,
        *,
        retry_after: float | None,
        jitter: float,
        usage: float | None = None,
    ) -> float:
        if self.available:
            throttled_script = self._connected()[1]
            remote_epoch = epoch if epoch >= 0 else self._remote_epoch
            limit = self._rate_limit
            try:
                closed_us, gate_us, new_epoch, strikes, peak, since_us, lowered = await self._run(
                    throttled_script,
                    [self.state_key],
                    [
                        remote_epoch,
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
            except self._unavailable_errors() as exc:
                self._went_down(exc)  # never raises: the request was sent already
            else:
                self._came_back()
                self._note_remote(int(new_epoch), int(strikes))
                self._adopt(peak, since_us, lowered)
                self._local.cooldown.hold(self._clock() + int(gate_us) / _MICRO)
                return int(closed_us) / _MICRO
        return await self._local.throttled(
            self._local_epoch_of(epoch),
            retry_after=retry_after,
            jitter=jitter,
            # a usage is a share of the windows it was taken under: the shared ones or
            # the fallback's
            usage=usage if epoch < 0 else None,
        )

    async def succeeded(self, epoch: int) -> None:
        if epoch < 0:
            await self._local.succeeded(self._local_epoch_of(epoch))
            return
        if epoch == self._calm_epoch:
            return  # no streak when it was sent; any 429 since has moved the epoch on
        if self.available:
            try:
                await self._run(self._connected()[2], [self.state_key], [epoch, _STATE_TTL_MS])
            except self._unavailable_errors() as exc:
                self._went_down(exc)
            else:
                self._came_back()
                return
        await self._local.succeeded(self._local_epoch_of(epoch))

    async def release(self, reservation: Reservation, *, refused: bool = False) -> None:
        token = reservation.token
        if not isinstance(token, tuple):
            return
        taken_at, member = token
        self._local.finish(taken_at, refused)
        if member is None or not self.available:
            return
        ttl_ms = math.ceil(self._longest * 1000) + 1000
        drop = 1 if refused and self._adaptive else 0
        try:
            await self._run(self._connected()[3], [self.log_key], [member, ttl_ms, drop])
        except self._unavailable_errors() as exc:
            self._went_down(exc)  # never raises: the request is over already

    async def aclose(self) -> None:
        """Stop the background probe and close the connections this limiter opened."""
        self._closed = True
        probe, self._probe = self._probe, None
        if probe is not None and not probe.done():
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe
        client, self._client = self._client, None
        self._scripts = None
        if client is not None and self._owns_client:
            await client.aclose()

    def _adopt(self, peak: bytes | str, since_us: int, lowered: int) -> None:
        if self._adaptive:
            since = None if int(since_us) < 0 else int(since_us) / _MICRO
            self._shared.adopt(float(peak), since, int(lowered), self._clock())

    @property
    def pace_step(self) -> int:
        return self._shared.step + self._local.pace_step

    def pace(self) -> PaceState:
        if not self.available:
            return self._local.pace()
        shared = self._shared
        if not self._adaptive or shared.at_ceiling:
            return PaceState(self._windows, 1.0, shared.lowered, True)
        scale = shared.scale(self._clock())
        if scale >= 1.0:
            return PaceState(self._windows, 1.0, shared.lowered, True)
        return PaceState(scale_windows(self._windows, scale), scale, shared.lowered, True)

    # -- the local fallback -----------------------------------------------------------------

    def _note_remote(self, epoch: int, strikes: int) -> None:
        self._remote_epoch = epoch
        self._remote_strikes = strikes
        if strikes == 0:
            self._calm_epoch = epoch

    def _reserve_locally(self) -> Reservation:
        local = self._local.reserve_now()
        tag = -1 - local.epoch  # local epochs are negative, Redis's are not
        if local.wait > 0.0:
            return Reservation(local.wait, local.reason, tag)
        taken_at = cast(float, local.token)
        self._unshared.append(taken_at)
        self.fallback_sends += 1
        return Reservation(0.0, None, tag, (taken_at, None), local.usage)

    def _local_epoch_of(self, epoch: int) -> int:
        """The local cool-down's epoch of a request sent in ``epoch``.

        A request paced locally carries ``-1 - epoch``. One sent under Redis is of the
        current local epoch only if it was sent in the last Redis epoch seen and no
        local cool-down began since Redis went away; else it is of an earlier one.
        """
        if epoch < 0:
            return -1 - epoch
        if epoch == self._remote_epoch and self._local.epoch == self._outage_epoch:
            return self._local.epoch
        return -1

    @property
    def _local_strikes(self) -> int:
        """The streak of 429s as this process counts it while Redis is unavailable."""
        return self._local.strikes


if TYPE_CHECKING:  # both protocols are met (checked by mypy, never run)
    _FACTORY: LimiterBackendFactory = RedisLimiterBackend("redis://localhost")
    _BACKEND: LimiterBackend = RedisLimiterBackend("redis://localhost").for_key("", RateLimit())
