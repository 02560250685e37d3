"""Ctrl-C and SIGTERM: a command's job cancelled cleanly, whenever the signal comes.

While a job runs, :class:`Interrupts` turns either signal into the cancellation of the
job's task, so that every order is still reported; outside an event loop, SIGTERM raises
:class:`Terminated` (as Ctrl-C raises ``KeyboardInterrupt``), which unwinds the command.
:func:`run_command` runs a command's coroutine with the handlers in place."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from ._terminal import EXIT_INTERRUPTED, EXIT_TERMINATED

__all__ = [
    "Interrupts",
    "Terminated",
    "forget_terminated",
    "raise_if_terminated",
    "raise_terminated",
    "run_command",
]


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
    # Noted in every case: an exception raised while a finaliser runs (the garbage
    # collector's, during the imports before the input is read) is printed and dropped,
    # and the signal with it, unless someone looks again (:func:`raise_if_terminated`).
    _Noted.sigterm = True
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise Terminated from None


def forget_terminated() -> None:
    """Forget a noted SIGTERM: the command it stopped is over."""
    _Noted.sigterm = False


def raise_if_terminated() -> None:
    """Raise :class:`Terminated` for a SIGTERM noted outside an event loop whose own
    exception was lost; called before a command blocks on its input."""
    if not _Noted.sigterm:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise Terminated from None


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
        forget_terminated()
