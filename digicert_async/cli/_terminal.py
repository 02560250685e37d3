"""What the user sees and does at the terminal: the summary lines on stderr, the JSON
lines on stdout, the progress bar, exit statuses, and Ctrl-C and SIGTERM.

Text for a person goes out through :func:`say` (and the bar's counts through
:func:`fit_counts`), which show control and bidi characters as escapes
(:func:`digicert_async._escape.visible`): a status, an error message or a file name
cannot drive the terminal. A message keeps its own line breaks; text from outside that
goes into one is escaped first (an exception's message already is), so it cannot start
a line of its own. The JSON lines on stdout need none of this: ``json.dumps`` writes
every control and non-ASCII character as a ``\\u`` escape."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Collection, Coroutine, Mapping
from typing import Any, TextIO

from .._escape import visible
from .._ratelimit import Pacer
from ..bulk import NOT_FOUND_STATUS, CancelReport
from ._parser import API_KEY_ENV as API_KEY_ENV  # the parser's; the commands show them too
from ._parser import PROG as PROG

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


class Terminated(BaseException):
    """SIGTERM while no job runs (before the event loop's handler is in place): like
    ``KeyboardInterrupt`` for Ctrl-C, it unwinds the command instead of killing it."""


class _Noted:
    """A SIGTERM that came while an event loop ran without a job's handler in place."""

    sigterm = False


def raise_terminated(signum: int, frame: object) -> None:
    """SIGTERM's handler while no job's handler is in place.

    Outside an event loop it raises :class:`Terminated`, which unwinds the command. Inside
    a running one (just before :class:`Interrupts` is installed, or after it is gone) an
    exception would land in whatever callback runs, which asyncio logs as a traceback and
    carries on from, the signal lost: there the signal is noted instead, and the next
    :meth:`Interrupts.install` acts on it.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise Terminated from None
    _Noted.sigterm = True


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


def _after(head: str) -> str:
    return "in" if head == "done" else "after"


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


# --------------------------------------------------------------------------- Ctrl-C, SIGTERM


# What stops a command from outside: Ctrl-C, and what kill, systemd and Kubernetes send.
_STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """Turns Ctrl-C (SIGINT) and SIGTERM into the cancellation of the running job.

    Handlers are installed on the event loop for the whole command (so a second signal
    while the report is written does not tear it); the job then runs as its own task,
    which the handler cancels. :meth:`stop` does the same from code (stdout gone).
    """

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self.stopped = False
        self._task: asyncio.Future[None] | None = None
        self._restore: list[Callable[[], None]] = []

    @property
    def interrupted(self) -> bool:
        """Whether a signal (Ctrl-C or SIGTERM) cut the command short."""
        return self.signal is not None

    @property
    def exit_status(self) -> int:
        """130 after Ctrl-C, 143 after SIGTERM (the shell's 128 + the signal's number)."""
        return EXIT_TERMINATED if self.signal == signal.SIGTERM else EXIT_INTERRUPTED

    def install(self) -> None:
        for signum in _STOP_SIGNALS:
            self._install(signum)
        if _Noted.sigterm:  # it came as the loop started: the job is stopped before it starts
            _Noted.sigterm = False
            self._on_signal(signal.SIGTERM)

    def _install(self, signum: signal.Signals) -> None:
        loop = asyncio.get_running_loop()
        before = signal.getsignal(signum)
        try:
            loop.add_signal_handler(signum, self._on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):
            # No add_signal_handler (Windows loops) or not the main thread: a plain
            # handler that hands the work to the loop thread-safely.
            def handler(number: int, frame: object) -> None:
                loop.call_soon_threadsafe(self._on_signal, signum)

            try:
                previous = signal.signal(signum, handler)
            except (ValueError, OSError):  # not the main thread: leave the signal alone
                return

            def restore_previous() -> None:
                signal.signal(signum, previous)

            self._restore.append(restore_previous)
        else:

            def remove_handler() -> None:
                loop.remove_signal_handler(signum)
                # The loop leaves SIG_DFL behind (for SIGTERM: die at once); put back what
                # was there, so a signal while the command winds down is still handled.
                if before is not None:
                    with contextlib.suppress(ValueError, OSError):
                        signal.signal(signum, before)

            self._restore.append(remove_handler)

    def uninstall(self) -> None:
        restore, self._restore = self._restore, []
        for undo in reversed(restore):
            undo()

    def _on_signal(self, signum: signal.Signals) -> None:
        if self.signal is None:
            self.signal = signum
            self._cancel()

    def describe(self) -> str:
        """How the job ended, for the summary line."""
        if self.signal == signal.SIGTERM:
            return "interrupted by SIGTERM"
        if self.interrupted:
            return "interrupted"
        return "stopped (stdout was closed)" if self.stopped else "done"

    def stop(self) -> None:
        """Stop the running job as Ctrl-C would, without counting as an interruption."""
        self.stopped = True
        self._cancel()

    def _cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def run(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work``; returns normally when it was cut short by :meth:`stop` or a signal."""
        if self.interrupted or self.stopped:
            work.close()
            return
        task = asyncio.ensure_future(work)
        self._task = task
        try:
            await task
        except asyncio.CancelledError:
            if not ((self.interrupted or self.stopped) and task.cancelled()):
                raise
        finally:
            self._task = None


async def _with_interrupts(command: Callable[[Interrupts], Coroutine[Any, Any, int]]) -> int:
    interrupts = Interrupts()
    interrupts.install()
    try:
        return await command(interrupts)
    finally:
        interrupts.uninstall()


def run_command(command: Callable[[Interrupts], Coroutine[Any, Any, int]]) -> int:
    """Run ``command`` in a new event loop, with Ctrl-C and SIGTERM turned into the
    cancellation of the job it runs (see :class:`Interrupts`).

    A SIGTERM while the loop winds down, the command's work done, changes nothing."""
    try:
        return asyncio.run(_with_interrupts(command))
    finally:
        _Noted.sigterm = False


# --------------------------------------------------------------------------- summaries


def cancel_summary(
    report: CancelReport,
    *,
    elapsed: float,
    head: str,
    resume_file: str | None,
) -> list[str]:
    counts = {outcome.value: n for outcome, n in report.counts.items()}
    lines = [
        f"{PROG} cancel: {head} {_after(head)} {elapsed:.1f} s:"
        f" {plural(len(report.results), 'order')}: {counts_text(counts)}"
    ]
    if report.stopped_by is not None:
        lines.append(f"{PROG} cancel: stopped early, every order would fail: {report.stopped_by}")
    extra = sum(report.duplicates.values())
    if extra:
        lines.append(
            f"{PROG} cancel: {plural(extra, 'duplicate id')} ignored"
            f" ({plural(len(report.duplicates), 'order')} listed more than once, each sent once)"
        )
    left = report.resume_ids()
    if left:
        where = (
            f"their ids are in {resume_file}; resume with `{PROG} cancel {resume_file} --note ...`"
            if resume_file
            else "their ids are the stdout lines whose outcome is failed or not_attempted;"
            " add --resume-file PATH to have them written to a file"
        )
        lines.append(f"{PROG} cancel: {plural(len(left), 'order')} left to do: {where}")
    return lines


def poll_summary(
    statuses: Mapping[int, str | None],
    until: frozenset[str],
    *,
    ended: Collection[int] = (),
    elapsed: float,
    head: str,
    resume_file: str | None,
) -> list[str]:
    """The poll's summary; ``ended`` are the orders in a status that never reaches
    ``until`` (``3 ended canceled, never issued``)."""
    wanted = "/".join(sorted(until))
    reached = Counter(s for s in statuses.values() if s is not None and s in until)
    not_found = sum(1 for s in statuses.values() if s == NOT_FOUND_STATUS and s not in until)
    ends = Counter(s for i, s in statuses.items() if i in ended and s is not None)
    left = Counter(
        s or "not_seen"
        for i, s in statuses.items()
        if not (s is not None and s in until) and s != NOT_FOUND_STATUS and i not in ended
    )
    parts = [f"{sum(reached.values())} reached {wanted}"]
    if reached:
        parts[0] += f" ({counts_text(dict(sorted(reached.items())))})"
    if ends:
        parts.append(
            ", ".join(f"{n} ended {status}" for status, n in sorted(ends.items()))
            + f", never {wanted}"
        )
    if not_found:
        parts.append(f"{not_found} not found")
    parts.append(f"{sum(left.values())} left")
    if left:
        parts[-1] += f" ({counts_text(dict(sorted(left.items())))})"
    lines = [
        f"{PROG} poll: {head} {_after(head)} {elapsed:.1f} s: {plural(len(statuses), 'order')}:"
        f" {', '.join(parts)}"
    ]
    if left:
        if resume_file:
            lines.append(f"{PROG} poll: the ids left are in {resume_file}")
        else:
            lines.append(f"{PROG} poll: add --resume-file PATH to have the ids left written out")
    return lines


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
