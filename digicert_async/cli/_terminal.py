"""What the user sees at the terminal: the summary lines on stderr, the JSON lines on
stdout, the progress bar, and the exit statuses (Ctrl-C and SIGTERM: :mod:`._signals`).

Text for a person goes out through :func:`say` (and the bar's counts through
:func:`fit_counts`), which show control and bidi characters as escapes
(:func:`digicert_async._escape.visible`): a status, an error message or a file name
cannot drive the terminal. A message keeps its own line breaks; text from outside that
goes into one is escaped first (an exception's message already is), so it cannot start
a line of its own. The JSON lines on stdout need none of this: ``json.dumps`` writes
every control and non-ASCII character as a ``\\u`` escape."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from .._escape import visible
from ._parser import API_KEY_ENV as API_KEY_ENV  # the parser's; the commands show them too
from ._parser import PROG as PROG

if TYPE_CHECKING:
    from .._ratelimit import Pacer

EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT); SIGTERM gives 143: 128 + the signal's number
EXIT_TERMINATED = 143

_TQDM_HINT = (
    f"{PROG}: no progress bar: it needs tqdm (pip install 'digicert-async[cli]'); carrying on"
)


class UsageError(Exception):
    """Bad input from the command line: reported on stderr, exit status 2, nothing sent."""


# --------------------------------------------------------------------------- helpers


def isatty(stream: TextIO | None) -> bool:
    if stream is None:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def say(message: str) -> None:
    """A message on stderr (the summary channel; stdout carries only JSON lines), with
    every control and bidi character shown as its escape but the message's own line
    breaks."""
    print(visible(message, keep_newlines=True), file=sys.stderr, flush=True)


def counts_text(counts: Mapping[str, int]) -> str:
    """``name=n`` items, zeros left out; a name (a status the server sent) is escaped."""
    shown = [f"{visible(name)}={n}" for name, n in counts.items() if n]
    return ", ".join(shown) if shown else "nothing"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --------------------------------------------------------------------------- output


DEFAULT_COLUMNS = 80  # when the terminal does not say (or says 0, as some do)
_MIN_BAR = 10  # columns the bar itself keeps, however many counts there are to show


def terminal_columns(stream: TextIO | None) -> int:
    """The width of the terminal behind ``stream``; :data:`DEFAULT_COLUMNS` when unknown."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns if stream is not None else 0
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns if columns > 0 else DEFAULT_COLUMNS


def fit_counts(counts: Mapping[str, int], room: int) -> str:
    """``name=n`` items (zeros left out), in order, as many as fit in ``room`` columns,
    with ``...`` after them when some were left out (nothing rather than ``...`` alone).
    A name (a status the server sent) is escaped."""
    items = [f"{visible(name)}={n}" for name, n in counts.items() if n]
    for keep in range(len(items), 0, -1):
        text = ", ".join(items[:keep] if keep == len(items) else [*items[:keep], "..."])
        if len(text) <= room:
            return text
    return ""


class Progress:
    """A tqdm bar on ``stream`` (stderr) when asked for (stderr a terminal), else nothing.

    The line fits the terminal's width (80 columns when the terminal reports none, or
    0): the bar keeps at least ten columns, and the counts beside it are cut to what
    fits. ``width`` replaces the terminal's width (for tests).

    tqdm is imported only here, so the command works without the ``cli`` extra: on a
    terminal without it a one-line hint replaces the bar.
    """

    def __init__(
        self,
        *,
        total: int,
        description: str,
        unit: str,
        enabled: bool,
        stream: TextIO | None = None,
        width: Callable[[], int] | None = None,
    ) -> None:
        self._bar: Any = None
        self._tqdm: Any = None
        self._stream = stream if stream is not None else sys.stderr
        self._width = width if width is not None else lambda: terminal_columns(self._stream)
        if not enabled:
            return
        try:
            tqdm_module = importlib.import_module("tqdm")
        except ImportError:
            say(_TQDM_HINT)
            return
        self._tqdm = tqdm_module.tqdm
        self._bar = self._tqdm(
            total=total,
            desc=description,
            unit=unit,
            file=self._stream,
            ncols=self._columns(),
            leave=True,
        )

    def _columns(self) -> int:
        columns = self._width()
        return columns if columns > 0 else DEFAULT_COLUMNS

    @property
    def active(self) -> bool:
        return self._bar is not None

    def advance(self, n: int = 1) -> None:
        if self._bar is not None and n:
            self._bar.update(n)

    def show(self, counts: Mapping[str, int]) -> None:
        """Put the counts so far beside the bar (as many as fit)."""
        bar = self._bar
        if bar is None:
            return
        columns = self._columns()
        bar.ncols = columns  # the terminal may have been resized
        # The line without bar or counts; what is left, less the bar's share and a column
        # of slack (the rate and the times can grow before the next fit), is the counts'.
        bare = self._tqdm.format_meter(
            **{**bar.format_dict, "ncols": None, "postfix": None, "bar_format": "{l_bar}{r_bar}"}
        )
        room = columns - len(bare) - _MIN_BAR - len(", ") - 1
        bar.set_postfix_str(fit_counts(counts, room), refresh=False)

    def write(self, text: str, stream: TextIO) -> None:
        """Write a line to ``stream`` without tearing the bar (when both share a terminal)."""
        if self._bar is not None and isatty(stream):
            self._tqdm.write(text, file=stream)
            stream.flush()
        else:
            stream.write(text + "\n")
            stream.flush()

    def close(self) -> None:
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()


class JsonLines:
    """One JSON document per line on stdout, flushed at once.

    If the reader goes away (``| head``), ``on_broken`` is called once and later lines
    are dropped quietly.
    """

    def __init__(self, progress: Progress, on_broken: Callable[[], None]) -> None:
        self._progress = progress
        self._on_broken = on_broken
        self.broken = False

    def emit(self, document: Mapping[str, Any]) -> None:
        if self.broken:
            return
        try:
            self._progress.write(json.dumps(document), sys.stdout)
        except BrokenPipeError:
            self.broken = True
            try:  # later writes (and the flush at exit) go nowhere instead of failing
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass
            self._on_broken()


# --------------------------------------------------------------------------- the pace


def pace_summary(pacer: Pacer, command: str) -> list[str]:
    """The rate the client had learned from 429s by the end, when it is not the one
    configured (nothing otherwise)."""
    if pacer.windows == pacer.configured:
        return []

    def text(windows: tuple[tuple[int, float], ...]) -> str:
        return ", ".join(f"{count}/{period:g} s" for count, period in windows)

    return [
        f"{PROG} {command}: pacing learned from {plural(pacer.throttled, 'HTTP 429')}:"
        f" {text(pacer.windows)} ({pacer.scale:.0%} of the configured {text(pacer.configured)})"
    ]
