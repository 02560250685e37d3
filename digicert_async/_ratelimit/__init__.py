"""Client-side pacing to DigiCert's rolling windows, and the shared 429 cool-down gate.

DigiCert counts requests per API key in rolling windows (today 100 per 5 s and
1000 per 3 min), sends no ``Retry-After`` and keeps a key blocked for a while
after a 429. So the client paces itself, and when a 429 comes anyway every task
of the client waits out one shared cool-down instead of colliding again.

From pure to I/O:

- ``_policy``: the :class:`RateLimit` configuration and its arithmetic
  (:func:`window_wait`, :func:`cooldown_delay`, :func:`parse_retry_after`), no
  clock or state of their own;
- ``_cooldown``: :class:`Cooldown`, the 429 state machine (gate, epoch, streak),
  pure, with the time passed in;
- ``_adaptive``: :class:`Pacing`, the rate learned from 429s (the configured windows
  are a ceiling), pure, fed by the same transitions (a 429 that begins a cool-down)
  and handing the backends the windows they pass to :func:`window_wait`;
- ``_backend``: what a :class:`LimiterBackend` is (``reserve``, ``release``,
  ``throttled``, ``succeeded``);
- ``_memory``: :class:`InMemoryLimiterBackend`, the state in this process (the
  default);
- ``_shared``: :class:`SharedKeyLimiter`, one key's state in a shared store, and the
  rules when the store fails (a local fallback, or :class:`LimiterUnavailableError`);
- ``_sqlite``: :class:`SqliteLimiterBackend`, one key's state in an SQLite file, shared
  by the processes of one machine (the command line's default);
- ``_redis`` and ``lua/``: :class:`RedisLimiterBackend`, one key's state in Redis,
  shared by processes on any machine, through Lua scripts shipped as package files
  (``_redis_url``: its URL, passwords masked);
- ``_middleware``: :class:`RateLimitMiddleware`, the step of the request chain that
  queues requests in arrival order, sleeps, and feeds answers back to the backend;
- ``_pacer``: :class:`Pacer`, ``client.pacer``, the live view of what is in force.
"""

from ._adaptive import Pacing, climb_seconds, scale_windows
from ._backend import (
    LimiterBackend,
    PaceState,
    Reservation,
    WaitReason,
    api_key_hash,
    close_backend,
)
from ._cooldown import Cooldown
from ._memory import InMemoryLimiterBackend, SlotLog
from ._middleware import RateLimitMiddleware
from ._middleware import _FifoTurn as _FifoTurn  # the tests' handle on the queue
from ._pacer import Pacer
from ._policy import (
    Clock,
    LimiterBackendFactory,
    RateLimit,
    cooldown_delay,
    parse_retry_after,
    window_wait,
)
from ._redis import RedisKeyLimiter, RedisLimiterBackend
from ._shared import LimiterUnavailableError, SharedKeyLimiter
from ._sqlite import SqliteKeyLimiter, SqliteLimiterBackend

__all__ = [
    "Clock",
    "Cooldown",
    "InMemoryLimiterBackend",
    "LimiterBackend",
    "LimiterBackendFactory",
    "LimiterUnavailableError",
    "PaceState",
    "Pacer",
    "Pacing",
    "RateLimit",
    "RateLimitMiddleware",
    "RedisKeyLimiter",
    "RedisLimiterBackend",
    "Reservation",
    "SharedKeyLimiter",
    "SlotLog",
    "SqliteKeyLimiter",
    "SqliteLimiterBackend",
    "WaitReason",
    "api_key_hash",
    "climb_seconds",
    "close_backend",
    "cooldown_delay",
    "parse_retry_after",
    "scale_windows",
    "window_wait",
]
