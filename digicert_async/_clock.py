"""The clock the policy layers read by default, and the shapes of an injected one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["Clock", "Sleep", "loop_time"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


def loop_time() -> float:
    """The running event loop's monotonic time, the scale of ``Request.deadline``
    (``time.monotonic()`` outside a loop, where a policy is built or tested)."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()
