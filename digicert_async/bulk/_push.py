"""The wait between two looks of a poll, cut short by pushed events.

Without a receiver a poll sleeps its interval. With one, the same wait also ends as soon
as an event arrives about an order the poll still watches, so that order is read at
once; the interval's own look stays on its schedule, whatever is pushed or lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..webhooks import EventStream, WebhookReceiver

__all__ = ["IntervalWait"]


class IntervalWait:
    """Waits until ``interval`` seconds after the last look, or until a pushed event
    names an order ``watched`` accepts (then returns those orders' ids)."""

    def __init__(self, interval: float, receiver: WebhookReceiver | None) -> None:
        self._interval = interval
        # Subscribed now, before the first look: an event that comes during it waits here.
        self._stream: EventStream | None = None if receiver is None else receiver.events()
        self._next_look: float | None = None

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def looked(self) -> None:
        """The interval's look was made: the next one is ``interval`` from now."""
        self._next_look = None

    async def wait(self, watched: Callable[[int], bool]) -> set[int]:
        """The ids of watched orders pushed before the next look is due (then it is not
        due yet), or an empty set when it is due."""
        loop = asyncio.get_running_loop()
        if self._next_look is None:
            self._next_look = loop.time() + self._interval
        while True:
            remaining = self._next_look - loop.time()
            if remaining <= 0:
                return set()
            if self._stream is None:
                await asyncio.sleep(remaining)
                return set()
            try:
                event = await asyncio.wait_for(self._stream.get(), remaining)
            except asyncio.TimeoutError:
                return set()
            if event is None:  # the receiver closed: interval polling alone from now on
                self._stream = None
                continue
            pushed = self._pushed_ids(event.order_id, watched)
            if pushed:
                return pushed

    def _pushed_ids(self, first: int | None, watched: Callable[[int], bool]) -> set[int]:
        """``first`` and the orders of the events already queued behind it, if watched."""
        ids = {first} if first is not None and watched(first) else set()
        stream = self._stream
        while stream is not None and not stream.empty():
            event = stream.get_nowait()
            if event is None:
                self._stream = stream = None
            elif event.order_id is not None and watched(event.order_id):
                ids.add(event.order_id)
        return ids
