"""The pacing policy: the ``RateLimit`` configuration and its pure arithmetic.

Nothing here has a clock or state of its own: :func:`window_wait` and
:func:`parse_retry_after` take ``now`` as an argument, :func:`cooldown_delay` its
jitter, so the backends and tests decide what time it is.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Protocol

import attrs

from .._checks import check_count, check_flag, check_number, describe
from .._errors import ValidationError
from ._backend import LimiterBackend

__all__ = [
    "EPSILON",
    "MAX_SECONDS",
    "MAX_WINDOW_REQUESTS",
    "Clock",
    "LimiterBackendFactory",
    "RateLimit",
    "convert_windows",
    "cooldown_delay",
    "parse_retry_after",
    "window_wait",
]

Clock = Callable[[], float]

# Waits shorter than this are rounding noise (a sleep that ends a hair early).
EPSILON = 1e-9

MAX_WINDOW_REQUESTS = 1_000_000
"""The most requests one window may count: a backend keeps one time per request."""

MAX_SECONDS = 86_400.0
"""The longest window period, cool-down and ``Retry-After`` cap accepted, a day: far
past any limit DigiCert has had, and short enough that a shared backend's integer
microseconds stay exact."""


# -- configuration -------------------------------------------------------------------------


def convert_windows(value: Iterable[tuple[int, float]]) -> tuple[tuple[int, float], ...]:
    field = "rate_limit.windows"
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(field, "must be a sequence of (requests, seconds) pairs")
    windows: list[tuple[int, float]] = []
    for index, pair in enumerate(value):
        where = f"{field}[{index}]"
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValidationError(
                where, f"must be a (requests, seconds) pair, not {describe(pair)}"
            )
        count, period = pair
        windows.append(
            (
                check_count(where, count, maximum=MAX_WINDOW_REQUESTS),
                check_number(where, period, allow_zero=False, maximum=MAX_SECONDS),
            )
        )
    return tuple(windows)


def _convert_margin(value: float) -> float:
    return check_number("rate_limit.safety_margin", value, allow_zero=True)


def _convert_cooldown_initial(value: float) -> float:
    return check_number("rate_limit.cooldown_initial", value, allow_zero=False, maximum=MAX_SECONDS)


def _convert_cooldown_max(value: float) -> float:
    return check_number("rate_limit.cooldown_max", value, allow_zero=False, maximum=MAX_SECONDS)


def _convert_retry_after_max(value: float) -> float:
    return check_number("rate_limit.retry_after_max", value, allow_zero=True, maximum=MAX_SECONDS)


def _check_adaptive(instance: object, attribute: object, value: bool) -> None:
    check_flag("rate_limit.adaptive", value)


def _check_backend(
    instance: object, attribute: object, value: LimiterBackendFactory | None
) -> None:
    if value is not None and not callable(getattr(value, "for_key", None)):
        raise ValidationError(
            "rate_limit.backend",
            "must be a limiter backend factory (with a for_key method), such as"
            f" SqliteLimiterBackend(path) or RedisLimiterBackend(url), not {type(value).__name__}",
        )


@attrs.frozen(kw_only=True)
class RateLimit:
    """How the client paces itself, and how it cools down after a 429.

    :param windows: ``(requests, seconds)`` pairs, all enforced at once as rolling
        windows. The default is DigiCert's documented limit per API key: 100 per 5 s
        and 1000 per 3 min. An empty sequence turns pacing off. A window counts at
        most a million requests over at most a day.
    :param safety_margin: the fraction by which each window's period is lengthened on
        the client side (0.01 makes 5 s into 5.05 s). A slot already counts from when
        its request is over, which is never earlier than DigiCert saw it arrive; the
        margin covers what is left: how the server rounds its window's edges.
    :param cooldown_initial: seconds of the first cool-down after a 429; also the
        floor of every cool-down (the gate never reopens sooner).
    :param cooldown_max: the cap of the exponential cool-down.
    :param retry_after_max: the cap applied to a server-sent ``Retry-After``.
        These three are seconds, at most a day.
    :param adaptive: treat ``windows`` as a ceiling and learn the rate actually allowed
        from 429s (on by default). Each 429 that begins a cool-down lowers the rate the
        client allows itself below the usage that was refused; without 429s it climbs
        back to ``windows``: to the refused level over two periods of the longest
        window, then on to the ceiling within one more. ``False``: ``windows`` are
        enforced as they are. With a shared ``backend`` the learned rate is shared too.
    :param backend: where the limiter state lives. ``None`` (the default): in this
        client only. A :class:`LimiterBackendFactory` shares the windows, the cool-down
        and the learned rate of one API key between every client (and process) that uses
        the same store: ``SqliteLimiterBackend(path)`` on one machine,
        ``RedisLimiterBackend(url)`` across machines; each client
        binds it to the sha256 of its key (:meth:`LimiterBackendFactory.for_key`).

    A 429 closes a gate shared by every request of the client: without
    ``Retry-After`` the gate stays closed ``max(cooldown_initial, uniform(0, cap))``
    seconds with ``cap = min(cooldown_max, cooldown_initial * 2 ** (n - 1))`` for the
    n-th 429 in a row (full jitter with a floor); with ``Retry-After`` its value,
    capped by ``retry_after_max``.

    >>> RateLimit().windows  # DigiCert's limits today
    ((100, 5.0), (1000, 180.0))
    >>> older = RateLimit(windows=[(100, 10.0), (1300, 3600.0)])
    >>> RateLimit(windows=[(0, 5.0)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    digicert_async.ValidationError: rate_limit.windows[0]: must be 1 or more, got 0
    """

    windows: Sequence[tuple[int, float]] = attrs.field(
        default=((100, 5.0), (1000, 180.0)), converter=convert_windows
    )
    safety_margin: float = attrs.field(default=0.01, converter=_convert_margin)
    cooldown_initial: float = attrs.field(default=1.0, converter=_convert_cooldown_initial)
    cooldown_max: float = attrs.field(default=60.0, converter=_convert_cooldown_max)
    retry_after_max: float = attrs.field(default=300.0, converter=_convert_retry_after_max)
    adaptive: bool = attrs.field(default=True, validator=_check_adaptive)
    backend: LimiterBackendFactory | None = attrs.field(default=None, validator=_check_backend)

    def __attrs_post_init__(self) -> None:
        if self.safety_margin > 1.0:
            raise ValidationError(
                "rate_limit.safety_margin", f"must be at most 1.0, not {self.safety_margin!r}"
            )
        if self.cooldown_max < self.cooldown_initial:
            raise ValidationError(
                "rate_limit.cooldown_max",
                f"must be at least cooldown_initial ({self.cooldown_initial}),"
                f" not {self.cooldown_max!r}",
            )

    @classmethod
    def disabled(cls) -> RateLimit:
        """No client-side pacing; a 429 still closes the shared cool-down gate. With no
        windows there is no ceiling and nothing to adapt.

        >>> RateLimit.disabled().windows
        ()
        """
        return cls(windows=())


# -- pure arithmetic -------------------------------------------------------------------------


def window_wait(
    now: float,
    windows: Sequence[tuple[int, float]],
    histories: Sequence[Sequence[float]],
    safety_margin: float = 0.0,
) -> float:
    """Seconds until one more request fits every rolling window (0.0: it fits now).

    ``histories[i]`` holds the send times of window ``i`` in ascending order; only
    its last ``count`` entries matter. A window of ``count`` requests per ``period``
    admits a request at ``now`` when fewer than ``count`` were sent in the last
    ``period * (1 + safety_margin)`` seconds.

    >>> window_wait(3.0, [(2, 5.0)], [[0.0, 1.0]])
    2.0
    """
    wait = 0.0
    for (count, period), history in zip(windows, histories, strict=True):
        if len(history) < count:
            continue
        oldest_that_counts = history[len(history) - count]
        free_at = oldest_that_counts + period * (1.0 + safety_margin)
        wait = max(wait, free_at - now)
    return wait if wait > EPSILON else 0.0


def cooldown_delay(strikes: int, initial: float, maximum: float, jitter: float) -> float:
    """The cool-down after the ``strikes``-th 429 in a row, full jitter with a floor.

    ``jitter`` is a uniform draw from [0, 1): the result is
    ``max(initial, jitter * min(maximum, initial * 2 ** (strikes - 1)))``.

    >>> cooldown_delay(3, 1.0, 60.0, 0.5)
    2.0
    >>> cooldown_delay(3, 1.0, 60.0, 0.1)
    1.0
    """
    exponent = min(max(strikes, 1) - 1, 64)  # 2**64 s is past any cap
    cap = min(maximum, initial * 2.0**exponent)
    return max(initial, jitter * cap)


_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def parse_retry_after(
    value: str | None, *, now: float | None = None, cap: float = math.inf
) -> float | None:
    """A ``Retry-After`` header as seconds from ``now``, capped; None if absent or garbage.

    Both forms are read: delta-seconds (``"120"``) and an HTTP-date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``), the latter against ``now`` (wall-clock
    seconds since the epoch, ``time.time()`` by default). A date in the past means 0.
    Negative or non-numeric values are garbage.

    >>> parse_retry_after("30")
    30.0
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=0.0)
    60.0
    >>> parse_retry_after("soon") is None
    True
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:  # "-0000": HTTP dates are GMT anyway
            when = when.replace(tzinfo=timezone.utc)
        stamp = when.timestamp()
        seconds = max(0.0, stamp - (time.time() if now is None else now))
    return min(seconds, cap)


# -- binding a configuration to an API key ---------------------------------------------------


class LimiterBackendFactory(Protocol):
    """Makes the :class:`LimiterBackend` of one API key (``RateLimit(backend=...)``).

    A client calls :meth:`for_key` once, with the hex sha256 of its API key (never
    the key itself), when it is created. If the backend it returns has an
    ``async aclose()`` method, the client awaits it in ``close()``.
    """

    def for_key(self, key_hash: str, rate_limit: RateLimit) -> LimiterBackend:
        """The backend holding the state of the key whose sha256 is ``key_hash``,
        paced per ``rate_limit`` (windows, margin, cool-down bounds)."""
        ...
