"""Which pushed events were seen already: DigiCert's events carry no id, so a repeated
delivery is recognised by what it is about, within a time window (pure, with an
injectable clock)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["DuplicateWindow", "event_key"]


def event_key(name: str, order_id: int | None, certificate_id: int | None, data: Any) -> Hashable:
    """What makes two deliveries the same event: ``(event, order_id, certificate_id)``.

    An event that names neither id (a validation event, the challenge) is identified by
    its whole ``data`` instead, or two different domains' ``domain_validated`` would look
    alike."""
    if order_id is not None or certificate_id is not None:
        return (name, order_id, certificate_id)
    return (name, json.dumps(data, sort_keys=True, default=str))


class DuplicateWindow:
    """Remembers each key for ``seconds`` after it was first seen, and at most
    ``max_keys`` keys (the oldest forgotten first), so memory stays bounded whatever
    arrives. A key seen again within its window is a duplicate; the repeat does not
    extend the window (a delivery retried forever is let through once per window)."""

    def __init__(
        self, seconds: float, *, max_keys: int = 100_000, clock: Callable[[], float]
    ) -> None:
        self._seconds = seconds
        self._max_keys = max_keys
        self._clock = clock
        self._first_seen: OrderedDict[Hashable, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._first_seen)

    def is_duplicate(self, key: Hashable) -> bool:
        """Whether ``key`` was seen within the window; remembers it if not."""
        now = self._clock()
        self._forget_before(now - self._seconds)
        if key in self._first_seen:
            return True
        self._first_seen[key] = now
        while len(self._first_seen) > self._max_keys:
            self._first_seen.popitem(last=False)
        return False

    def _forget_before(self, cutoff: float) -> None:
        first_seen = self._first_seen
        while first_seen:
            key, seen_at = next(iter(first_seen.items()))
            if seen_at > cutoff:
                return
            del first_seen[key]
