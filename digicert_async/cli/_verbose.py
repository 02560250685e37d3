"""``-v`` / ``--debug``: the library's log on stderr, for the length of one command.

The library logs under ``digicert_async`` (retries, 429 cool-downs, pacing, what a bulk job
skips or gives up on, and at DEBUG each answer) and never the API key: its messages hold
the method, the URL and what happened, and the key travels only in a header.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

__all__ = ["LOGGER_NAME", "level_for", "logging_to_stderr"]

LOGGER_NAME = "digicert_async"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def level_for(verbosity: int) -> int | None:
    """The level ``-v`` (INFO) or ``-vv`` / ``--debug`` (DEBUG) asks for; None without."""
    if verbosity <= 0:
        return None
    return logging.INFO if verbosity == 1 else logging.DEBUG


@contextlib.contextmanager
def logging_to_stderr(verbosity: int) -> Iterator[None]:
    """Inside the block, the library's records at the level ``verbosity`` asks for go to
    stderr, one line each; the logger is put back as it was afterwards."""
    level = level_for(verbosity)
    if level is None:
        yield
        return
    logger = logging.getLogger(LOGGER_NAME)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT, "%H:%M:%S"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
