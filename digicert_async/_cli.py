"""The ``digicert-async`` command line: bulk cancel and poll from the shell, and a demo.

``cancel`` and ``poll`` read order ids (a file or stdin, one per line), run the bulk
job of :mod:`digicert_async.bulk` and write one JSON line per order on stdout; a
summary (and, on a terminal, a progress bar) goes to stderr. ``demo`` runs both jobs
against the embedded fake server, so it needs neither a key nor a network;
``fake-server`` serves that fake until stopped, to try the other commands on.

The API key is read from ``DIGICERT_API_KEY`` only (never from the command line, where
other users and shell histories would see it) and is never printed (``fake-server``
prints the fake's own, made-up key). Ctrl-C and SIGTERM stop a job cleanly: every id
is still reported and the resume file written, with exit status 130 or 143.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import importlib
import json
import os
import platform
import re
import signal
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import aiohttp

from ._version import __version__

if TYPE_CHECKING:
    from ._client import CertCentralClient
    from .bulk import CancelReport

__all__ = ["API_KEY_ENV", "main"]

PROG = "digicert-async"
API_KEY_ENV = "DIGICERT_API_KEY"

EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT); SIGTERM gives 143: 128 + the signal's number
EXIT_TERMINATED = 143

# The demo's rate limits: DigiCert's windows (100 per 5 s, 1000 per 3 min), five times faster.
DEMO_WINDOWS: tuple[tuple[int, float], ...] = ((100, 1.0), (1000, 36.0))

_ID_LINE = re.compile(r"[0-9]+")
_BOM = "\ufeff"
_MAX_ID_DIGITS = 20  # no order id is longer; larger numbers are refused as bad lines
_MAX_REPORTED_BAD_LINES = 5
_TQDM_HINT = (
    f"{PROG}: no progress bar: it needs tqdm (pip install 'digicert-async[cli]'); carrying on"
)


class UsageError(Exception):
    """Bad input from the command line: reported on stderr, exit status 2, nothing sent."""


class _Terminated(BaseException):
    """SIGTERM while no job runs (before the event loop's handler is in place): like
    ``KeyboardInterrupt`` for Ctrl-C, it unwinds the command instead of killing it."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated


# --------------------------------------------------------------------------- helpers


def _isatty(stream: TextIO | None) -> bool:
    if stream is None:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _say(message: str) -> None:
    """One line on stderr (the summary channel; stdout carries only JSON lines)."""
    print(message, file=sys.stderr, flush=True)


def _counts_text(counts: Mapping[str, int]) -> str:
    shown = [f"{name}={n}" for name, n in counts.items() if n]
    return ", ".join(shown) if shown else "nothing"


def _after(head: str) -> str:
    return "in" if head == "done" else "after"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def parse_ids(lines: Iterable[str], source: str) -> list[int]:
    """Order ids from text lines: one per line, blank lines and ``#`` comments ignored.

    A byte-order mark before the first line (Windows editors write one) is ignored too.
    Raises :class:`UsageError` naming each bad line (the first few of them).
    """
    ids: list[int] = []
    bad: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.removeprefix(_BOM) if number == 1 else raw
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        digits = text.lstrip("0")
        # Length first: int() of more than 4300 digits raises instead of answering.
        if _ID_LINE.fullmatch(text) and 0 < len(digits) <= _MAX_ID_DIGITS:
            ids.append(int(digits))
        else:
            shown = text if len(text) <= 40 else text[:37] + "..."
            bad.append(
                f"{source} line {number}: {shown!r} is not an order id"
                f" (a positive integer, at most {_MAX_ID_DIGITS} digits)"
            )
    if bad:
        message = "\n".join(bad[:_MAX_REPORTED_BAD_LINES])
        if len(bad) > _MAX_REPORTED_BAD_LINES:
            message += f"\n... and {len(bad) - _MAX_REPORTED_BAD_LINES} more bad lines"
        raise UsageError(message + "\nnothing was sent")
    return ids


def _decode_ids(data: bytes) -> str:
    """The text of an ids file: UTF-8, or UTF-16 when it starts with that BOM (what
    PowerShell's ``>`` writes); a UTF-8 BOM is dropped."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def read_ids(ids_file: str | None) -> list[int]:
    """Read ids from ``ids_file``, or from stdin for ``-`` (or no file and piped stdin)."""
    if ids_file is None or ids_file == "-":
        stdin = sys.stdin
        if stdin is None or (ids_file is None and _isatty(stdin)):
            raise UsageError("no order ids: name an IDS_FILE, or pipe the ids on stdin")
        try:
            raw = getattr(stdin, "buffer", None)
            # The bytes, where there are any, so that the BOM rule is the file's, whatever
            # encoding the locale gives the text stream.
            lines = _decode_ids(raw.read()).splitlines() if raw is not None else stdin
            return parse_ids(lines, "stdin")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read ids from stdin: {exc}") from None
    try:
        with open(ids_file, "rb") as handle:
            data = handle.read()
        return parse_ids(_decode_ids(data).splitlines(), ids_file)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read ids from {ids_file}: {exc}") from None


def api_key_from_env() -> str:
    """The key from ``DIGICERT_API_KEY``; a :class:`UsageError` when it is unset or blank."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise UsageError(
            f"{API_KEY_ENV} is not set: export your CertCentral API key in it"
            " (the key is taken from the environment only)"
        )
    return key


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


def write_file_atomically(path: str, text: str) -> None:
    """Replace ``path`` with a file holding ``text`` (UTF-8), all at once.

    The text goes to a new file made in the same directory (created exclusively, under a
    random name, so nothing planted there is opened), which is then renamed over
    ``path``. A rename replaces a symlink at ``path`` instead of writing through it, and
    a reader of ``path`` sees the old file or the complete new one, never part of it.
    """
    directory, name = os.path.split(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp's 0600 would be a surprise for a file the user asked for: the usual
        # mode of a new file instead.
        with contextlib.suppress(AttributeError, OSError):  # no fchmod on Windows
            os.fchmod(descriptor, 0o666 & ~_umask())
        with open(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_resume_file(path: str, ids: Sequence[int]) -> None:
    """Write ``ids`` one per line to ``path``, safely (see :func:`write_file_atomically`)."""
    write_file_atomically(path, "".join(f"{order_id}\n" for order_id in ids))


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
    with ``...`` after them when some were left out (nothing rather than ``...`` alone)."""
    items = [f"{name}={n}" for name, n in counts.items() if n]
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
            _say(_TQDM_HINT)
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
        if self._bar is not None and _isatty(stream):
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


def _run(command: Callable[[Interrupts], Coroutine[Any, Any, int]]) -> int:
    return asyncio.run(_with_interrupts(command))


# --------------------------------------------------------------------------- client


def _make_client(args: argparse.Namespace, api_key: str) -> CertCentralClient:
    from ._client import CertCentralClient
    from ._errors import ValidationError

    try:
        client = CertCentralClient(
            api_key=api_key,
            region=args.region,
            base_url=args.base_url,
            trust_env=args.trust_env,
        )
    except ValidationError as exc:
        raise UsageError(str(exc)) from None
    if not args.trust_env:
        _warn_unused_proxy(client.api_root)
    return client


def _warn_unused_proxy(api_root: str) -> None:
    """Say so when the environment names a proxy for ``api_root`` that will not be used."""
    parts = urllib.parse.urlsplit(api_root)
    proxies = urllib.request.getproxies()
    if parts.scheme in proxies and not urllib.request.proxy_bypass(parts.hostname or ""):
        variable = f"{parts.scheme.upper()}_PROXY"
        _say(f"{PROG}: {variable} is set but not used; add --trust-env to go through it")


# --------------------------------------------------------------------------- cancel


def _cancel_summary(
    report: CancelReport,
    *,
    elapsed: float,
    head: str,
    resume_file: str | None,
) -> list[str]:
    counts = {outcome.value: n for outcome, n in report.counts.items()}
    lines = [
        f"{PROG} cancel: {head} {_after(head)} {elapsed:.1f} s:"
        f" {_plural(len(report.results), 'order')}: {_counts_text(counts)}"
    ]
    if report.stopped_by is not None:
        lines.append(f"{PROG} cancel: stopped early, every order would fail: {report.stopped_by}")
    extra = sum(report.duplicates.values())
    if extra:
        lines.append(
            f"{PROG} cancel: {_plural(extra, 'duplicate id')} ignored"
            f" ({_plural(len(report.duplicates), 'order')} listed more than once, each sent once)"
        )
    left = report.resume_ids()
    if left:
        where = (
            f"their ids are in {resume_file}; resume with `{PROG} cancel {resume_file} --note ...`"
            if resume_file
            else "their ids are the stdout lines whose outcome is failed or not_attempted;"
            " add --resume-file PATH to have them written to a file"
        )
        lines.append(f"{PROG} cancel: {_plural(len(left), 'order')} left to do: {where}")
    return lines


async def _cancel_command(
    args: argparse.Namespace, ids: list[int], api_key: str, interrupts: Interrupts
) -> int:
    from ._errors import ValidationError
    from .bulk import CancelOutcome, cancel_orders

    client = _make_client(args, api_key)
    try:
        try:
            job = cancel_orders(
                client,
                ids,
                note=args.note,
                concurrency=args.concurrency,
                deadline=args.deadline,
            )
        except ValidationError as exc:
            raise UsageError(str(exc)) from None
        total = len(job.report.results)
        progress = Progress(total=total, description="cancel", unit="order", enabled=args.progress)
        output = JsonLines(progress, interrupts.stop)
        printed: set[int] = set()
        tally: Counter[CancelOutcome] = Counter()
        # failures first: on a narrow terminal they are the count to keep in sight
        shown_order = sorted(CancelOutcome, key=lambda o: o is not CancelOutcome.FAILED)
        started = time.monotonic()
        failure: BaseException | None = None

        async def consume() -> None:
            async for result in job:
                printed.add(result.order_id)
                tally[result.outcome] += 1
                output.emit(result.to_json())
                progress.show({o.value: tally[o] for o in shown_order})
                progress.advance()

        try:
            await interrupts.run(consume())
        except Exception as exc:  # reported below; every id is still written out
            failure = exc
        progress.close()
        report = job.report
        for result in report.results:  # what was cut short: in flight or never started
            if result.order_id not in printed:
                output.emit(result.to_json())
        if failure is not None:
            _say(f"{PROG} cancel: error: {type(failure).__name__}: {failure}")
        head = interrupts.describe()
        if (
            head == "done"
            and args.deadline is not None
            and report.counts[CancelOutcome.NOT_ATTEMPTED]
        ):
            head = f"deadline of {args.deadline:g} s reached"
        for line in _cancel_summary(
            report,
            elapsed=time.monotonic() - started,
            head=head,
            resume_file=args.resume_file,
        ):
            _say(line)
        status = EXIT_OK if report.complete and failure is None else EXIT_INCOMPLETE
        return _finish("cancel", args, status, report.resume_ids(), interrupts)
    finally:
        await client.close()


def _finish(
    command: str, args: argparse.Namespace, status: int, left: Sequence[int], interrupts: Interrupts
) -> int:
    """Write the resume file, if asked for, and pick the exit status."""
    if args.resume_file:
        try:
            write_resume_file(args.resume_file, left)
        except OSError as exc:
            _say(f"{PROG} {command}: cannot write {args.resume_file}: {exc}")
            status = EXIT_INCOMPLETE
    return interrupts.exit_status if interrupts.interrupted else status


def _cmd_cancel(args: argparse.Namespace) -> int:
    api_key = api_key_from_env()
    ids = read_ids(args.ids_file)
    return _run(lambda interrupts: _cancel_command(args, ids, api_key, interrupts))


# --------------------------------------------------------------------------- poll


def _poll_summary(
    statuses: Mapping[int, str | None],
    until: frozenset[str],
    *,
    elapsed: float,
    head: str,
    resume_file: str | None,
) -> list[str]:
    from .bulk import NOT_FOUND_STATUS

    reached = Counter(s for s in statuses.values() if s is not None and s in until)
    not_found = sum(1 for s in statuses.values() if s == NOT_FOUND_STATUS and s not in until)
    left = Counter(
        s or "not_seen"
        for s in statuses.values()
        if not (s is not None and s in until) and s != NOT_FOUND_STATUS
    )
    parts = [f"{sum(reached.values())} reached {'/'.join(sorted(until))}"]
    if reached:
        parts[0] += f" ({_counts_text(dict(sorted(reached.items())))})"
    if not_found:
        parts.append(f"{not_found} not found")
    parts.append(f"{sum(left.values())} left")
    if left:
        parts[-1] += f" ({_counts_text(dict(sorted(left.items())))})"
    lines = [
        f"{PROG} poll: {head} {_after(head)} {elapsed:.1f} s: {_plural(len(statuses), 'order')}:"
        f" {', '.join(parts)}"
    ]
    if left:
        if resume_file:
            lines.append(f"{PROG} poll: the ids left are in {resume_file}")
        else:
            lines.append(f"{PROG} poll: add --resume-file PATH to have the ids left written out")
    return lines


async def _poll_command(
    args: argparse.Namespace, ids: list[int], api_key: str, interrupts: Interrupts
) -> int:
    from .bulk import NOT_FOUND_STATUS, poll_orders

    until: frozenset[str] = args.until
    client = _make_client(args, api_key)
    try:
        statuses: dict[int, str | None] = dict.fromkeys(ids)
        progress = Progress(
            total=len(statuses), description="poll", unit="order", enabled=args.progress
        )
        output = JsonLines(progress, interrupts.stop)
        started = time.monotonic()
        failure: BaseException | None = None

        def done(status: str | None) -> bool:
            return status is not None and (status in until or status == NOT_FOUND_STATUS)

        async def consume() -> None:
            updates = poll_orders(
                client, list(statuses), until=until, interval=args.interval, deadline=args.deadline
            )
            async for update in updates:
                was_done = done(statuses[update.order_id])
                statuses[update.order_id] = update.status
                output.emit(
                    {
                        "order_id": update.order_id,
                        "status": update.status,
                        "previous_status": update.previous_status,
                    }
                )
                progress.show(Counter(s for s in statuses.values() if s is not None))
                if done(update.status) and not was_done:
                    progress.advance()

        try:
            await interrupts.run(consume())
        except Exception as exc:
            failure = exc
        progress.close()
        if failure is not None:
            _say(f"{PROG} poll: error: {type(failure).__name__}: {failure}")
        head = interrupts.describe()
        if head == "done" and args.deadline is not None and not all(map(done, statuses.values())):
            head = f"deadline of {args.deadline:g} s reached"
        for line in _poll_summary(
            statuses,
            until,
            elapsed=time.monotonic() - started,
            head=head,
            resume_file=args.resume_file,
        ):
            _say(line)
        left = [i for i, s in statuses.items() if not done(s)]
        reached_all = all(s is not None and s in until for s in statuses.values())
        status = EXIT_OK if reached_all and failure is None else EXIT_INCOMPLETE
        return _finish("poll", args, status, left, interrupts)
    finally:
        await client.close()


def _cmd_poll(args: argparse.Namespace) -> int:
    api_key = api_key_from_env()
    ids = read_ids(args.ids_file)
    return _run(lambda interrupts: _poll_command(args, ids, api_key, interrupts))


# --------------------------------------------------------------------------- demo


class _DemoOutput:
    """The demo's narration on stdout; ``detail`` lines are left out with ``--quiet``."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.progress: Progress | None = None

    def say(self, text: str = "") -> None:
        if self.progress is not None:
            self.progress.write(text, sys.stdout)
        else:
            print(text, flush=True)

    def detail(self, text: str) -> None:
        if not self.quiet:
            self.say(text)

    def section(self, title: str) -> None:
        self.say()
        self.say(f"== {title} ==")


async def _ticker(show: _DemoOutput, describe: Callable[[], str]) -> None:
    """Without a bar, a progress line each second, so a piped demo still shows progress."""
    started = time.monotonic()
    while True:
        await asyncio.sleep(1.0)
        show.detail(f"  ... {time.monotonic() - started:4.1f} s: {describe()}")


def _expected_outcome(status: str | None) -> str:
    if status is None:
        return "not_found"
    if status in ("pending", "waiting_pickup"):
        return "canceled"
    if status == "canceled":
        return "already_canceled"
    return "not_cancelable"


async def _demo_cancel(
    args: argparse.Namespace,
    show: _DemoOutput,
    fake: Any,
    client: CertCentralClient,
    interrupts: Interrupts,
) -> bool:
    from .bulk import cancel_orders

    existing: list[int] = fake.order_ids
    statuses: dict[int, str | None] = {i: fake.order(i)["status"] for i in existing}
    missing = [existing[-1] + 1000 + n if existing else 900001 + n for n in range(3)]
    ids = list(existing)
    for n, order_id in enumerate(missing, start=1):
        ids.insert(n * len(ids) // 4, order_id)
    duplicate = ids[0]
    ids.insert(len(ids) // 3, duplicate)
    for order_id in missing:
        statuses[order_id] = None
    concurrency = 20

    show.section("1/2  Bulk cancellation: cancel_orders(client, ids, note=..., concurrency=20)")
    mix = Counter(s for s in statuses.values() if s is not None)
    show.say(f"The fake holds {_plural(len(existing), 'order')}: {_counts_text(dict(mix))}.")
    show.say(
        f"Cancelling {len(ids)} ids: every order, {len(missing)} ids that do not exist"
        f" ({', '.join(map(str, missing))}) and order {duplicate} listed twice."
    )
    show.say(
        "Expected: pending/waiting_pickup -> canceled, canceled -> already_canceled,"
        " other statuses -> not_cancelable (read back after the refusal), missing -> not_found."
    )
    job = cancel_orders(
        client, ids, note="digicert-async demo: decommissioned", concurrency=concurrency
    )
    progress = Progress(
        total=len(job.report.results), description="cancel", unit="order", enabled=args.progress
    )
    show.progress = progress
    tally: Counter[str] = Counter()
    first_lines: list[dict[str, Any]] = []
    started = time.monotonic()

    async def consume() -> None:
        async for result in job:
            tally[result.outcome.value] += 1
            if len(first_lines) < 4:
                first_lines.append(result.to_json())
            progress.show(tally)
            progress.advance()

    def describe() -> str:
        done = sum(tally.values())
        rate = done / max(time.monotonic() - started, 1e-6)
        return f"{done}/{len(job.report.results)} orders done, {rate:.0f} per second"

    ticker = None if progress.active else asyncio.ensure_future(_ticker(show, describe))
    try:
        await interrupts.run(consume())
    finally:
        if ticker is not None:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
        progress.close()
        show.progress = None
    elapsed = time.monotonic() - started
    report = job.report

    head = "Interrupted" if interrupts.interrupted else "Report"
    show.say(f"{head} after {elapsed:.1f} s (each id once, the duplicate sent once):")
    for outcome, n in report.counts.items():
        show.say(f"  {outcome.value:<17} {n:>5}")
    for order_id, extra in report.duplicates.items():
        show.say(f"  duplicates: order {order_id} given {extra + 1} times, sent once")
    if first_lines:
        show.detail(f"As `{PROG} cancel` prints them (first {len(first_lines)} JSON lines):")
        for line in first_lines:
            show.detail(f"  {json.dumps(line)}")
    show.say(
        f"Rate limits: {len(fake.requests)} requests; at most {fake.max_in_window(1.0)} in any"
        f" 1 s (limit 100) and {fake.max_in_window(36.0)} in any 36 s (limit 1000);"
        f" {fake.rate_limited_count} answered 429."
    )
    if interrupts.interrupted:
        show.say(f"{_plural(len(report.resume_ids()), 'order')} left to do.")
        return False
    wrong = [
        result
        for result in report.results
        if result.outcome.value != _expected_outcome(statuses.get(result.order_id))
    ]
    for result in wrong[:5]:
        show.say(
            f"  unexpected: order {result.order_id} was {statuses.get(result.order_id)},"
            f" outcome {result.outcome.value}"
        )
    show.say(
        "Check: every outcome as expected." if not wrong else f"Check: {len(wrong)} unexpected."
    )
    return not wrong and report.complete


async def _demo_poll(
    show: _DemoOutput,
    fake: Any,
    client: CertCentralClient,
    interrupts: Interrupts,
) -> bool:
    from .bulk import poll_orders
    from .models import TERMINAL_STATUSES

    count, step, interval = 8, 0.4, 0.5
    ids = [
        fake.add_order("pending", common_name=f"poll{n}.example.com") for n in range(1, count + 1)
    ]
    show.section(f"2/2  Polling: poll_orders(client, ids, interval={interval})")
    show.say(
        f"Placed {count} new pending orders ({ids[0]}..{ids[-1]}). A background task plays the"
        f" CA and issues one every {step} s; the poll waits for a terminal status"
        f" ({', '.join(sorted(TERMINAL_STATUSES))})."
    )
    fake.clear_requests()
    started = time.monotonic()
    statuses: dict[int, str | None] = dict.fromkeys(ids)

    async def play_ca() -> None:
        for order_id in ids:
            await asyncio.sleep(step)
            fake.set_status(order_id, "issued")

    async def consume() -> None:
        async for update in poll_orders(client, ids, interval=interval):
            statuses[update.order_id] = update.status
            when = f"{time.monotonic() - started:5.1f} s"
            if update.previous_status is None:
                show.detail(f"  {when}  order {update.order_id}  first seen: {update.status}")
            else:
                change = f"{update.previous_status} -> {update.status}"
                show.detail(f"  {when}  order {update.order_id}  {change}")

    ca = asyncio.ensure_future(play_ca())
    try:
        await interrupts.run(consume())
    finally:
        ca.cancel()
        await asyncio.gather(ca, return_exceptions=True)
    elapsed = time.monotonic() - started
    reached = sum(1 for s in statuses.values() if s in TERMINAL_STATUSES)
    show.say(
        f"{reached} of {count} orders reached a terminal status after {elapsed:.1f} s, with"
        f" {len(fake.requests)} requests (a first look, then one status-changes listing"
        " per interval and a read of each order that moved)."
    )
    return reached == count and not interrupts.interrupted


async def _demo_command(args: argparse.Namespace, interrupts: Interrupts) -> int:
    from ._client import CertCentralClient
    from ._ratelimit import RateLimit
    from .testing import FakeCertCentral

    show = _DemoOutput(quiet=args.quiet)
    started = time.monotonic()
    show.say(f"{PROG} {__version__} demo: both bulk jobs against the embedded fake CertCentral")
    async with FakeCertCentral(
        orders=args.orders, rate_limits=DEMO_WINDOWS, block_seconds=1.0
    ) as fake:
        show.say(
            f"Fake server at {fake.base_url}; rate limits 100 requests per 1 s and 1000 per 36 s"
            " (DigiCert's 100 per 5 s and 1000 per 3 min, five times faster), paced by the"
            " client's RateLimit(windows=[(100, 1.0), (1000, 36.0)])."
        )
        async with CertCentralClient(
            api_key=fake.api_key,
            base_url=fake.base_url,
            rate_limit=RateLimit(windows=DEMO_WINDOWS),
        ) as client:
            cancel_ok = await _demo_cancel(args, show, fake, client, interrupts)
            poll_ok = False
            if not interrupts.interrupted:
                poll_ok = await _demo_poll(show, fake, client, interrupts)
    elapsed = time.monotonic() - started
    if interrupts.interrupted:
        show.section(f"Interrupted after {elapsed:.1f} s")
        return interrupts.exit_status
    verdict = "both jobs accounted for every order" if cancel_ok and poll_ok else "problems above"
    show.section(f"Done in {elapsed:.1f} s: {verdict}")
    show.detail(
        f"Against the real API: export {API_KEY_ENV}=...; then"
        f" `{PROG} cancel ids.txt --note 'why' > results.jsonl`"
        f" or `{PROG} poll ids.txt --until issued`."
    )
    return EXIT_OK if cancel_ok and poll_ok else EXIT_INCOMPLETE


def _cmd_demo(args: argparse.Namespace) -> int:
    return _run(lambda interrupts: _demo_command(args, interrupts))


# --------------------------------------------------------------------------- fake-server

# How often the running fake forgets the requests it recorded (it keeps each one for its
# tests' sake): a server left running for days stays small.
_FAKE_LOG_SECONDS = 60.0


def _id_ranges(ids: Sequence[int]) -> str:
    """``100001..100030`` for consecutive ids, else the first and last few."""
    if not ids:
        return "none"
    if ids[-1] - ids[0] == len(ids) - 1:
        return f"{ids[0]}..{ids[-1]}" if len(ids) > 1 else str(ids[0])
    return ", ".join(map(str, ids[:3])) + f", ... {ids[-1]}"


async def _fake_server_command(args: argparse.Namespace, interrupts: Interrupts) -> int:
    from .testing import FakeCertCentral

    fake = FakeCertCentral(orders=args.orders, port=args.port)
    try:
        await fake.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1 port {args.port}: {exc}") from None
    started = time.monotonic()
    served = 0
    try:
        # stdout carries only these two lines, so that a script can read them
        print(f"base_url: {fake.base_url}", flush=True)
        print(f"api_key: {fake.api_key}", flush=True)
        ids = fake.order_ids
        mix = Counter(fake.order(i)["status"] for i in ids)  # type: ignore[index]
        _say(
            f"{PROG} fake-server: a fake CertCentral with {_plural(len(ids), 'order')}"
            f" (ids {_id_ranges(ids)}: {_counts_text(dict(sorted(mix.items())))})"
            " and DigiCert's rate limits; Ctrl-C or SIGTERM stops it. Try it with:"
        )
        _say(f"  export {API_KEY_ENV}={fake.api_key}")
        _say(
            f"  seq {ids[0] if ids else 100001} {ids[-1] if ids else 100010}"
            f" | {PROG} cancel --note test --base-url {fake.base_url}"
        )

        async def serve() -> None:
            nonlocal served
            while True:
                await asyncio.sleep(_FAKE_LOG_SECONDS)
                served += len(fake.requests)
                fake.clear_requests()

        await interrupts.run(serve())
    finally:
        served += len(fake.requests)
        await fake.close()
    how = "stopped by SIGTERM" if interrupts.signal == signal.SIGTERM else "stopped"
    _say(
        f"{PROG} fake-server: {how} after {time.monotonic() - started:.1f} s;"
        f" {_plural(served, 'request')} answered"
    )
    return EXIT_OK


def _cmd_fake_server(args: argparse.Namespace) -> int:
    return _run(lambda interrupts: _fake_server_command(args, interrupts))


# --------------------------------------------------------------------------- arguments


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _demo_order_count(text: str) -> int:
    value = _positive_int(text)
    if value > 2000:
        raise argparse.ArgumentTypeError(f"at most 2000, not {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {value}")
    return value


def _fake_order_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"0 to 100000, not {value}")
    return value


def _status_set(text: str) -> frozenset[str]:
    """One order status or several, comma-separated: each a documented one."""
    from ._checks import check_statuses
    from ._errors import ValidationError
    from .models import ORDER_STATUSES

    parts = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("name at least one status, e.g. issued,canceled")
    try:
        return check_statuses("--until", parts, ORDER_STATUSES)
    except ValidationError as exc:
        # argparse names the option already; the message lists the valid statuses
        raise argparse.ArgumentTypeError(exc.message) from None


_DESCRIPTION = """\
Bulk jobs on DigiCert CertCentral (Services API v2): cancel or watch many orders at once,
paced to DigiCert's rate limits (100 requests per 5 s, 1000 per 3 min).

`cancel` and `poll` read order ids from IDS_FILE or stdin, one per line (blank lines and
# comments ignored), and write one JSON line per order on stdout; a summary, and on a
terminal a progress bar, go to stderr. The API key is read from $DIGICERT_API_KEY."""

_EPILOG = """\
examples:
  digicert-async demo
  digicert-async fake-server --port 8080   # then --base-url http://127.0.0.1:8080/services/v2
  export DIGICERT_API_KEY=...
  digicert-async cancel ids.txt --note "host decommissioned" > results.jsonl
  sort -u new-orders.txt | digicert-async poll --until issued --interval 30

exit status: 0 all orders ended well, 1 some did not (see the command's help),
2 bad usage (nothing sent), 130 interrupted by Ctrl-C, 143 by SIGTERM."""

_CANCEL_EPILOG = """\
output: one JSON line per input id (a duplicate id is reported and sent once):
  {"order_id": 123, "outcome": "canceled", "status": "canceled"}
outcomes: canceled; already_canceled; not_cancelable (the order's status is given);
not_found; failed (with "error"); not_attempted (deadline hit or interrupted).

exit status: 0 when every order has a final outcome (canceled, already_canceled,
not_cancelable and not_found are final: there is nothing left to do); 1 when any
order is failed or not_attempted; 2 bad usage (nothing sent); 130 on Ctrl-C,
143 on SIGTERM.

Ctrl-C (or SIGTERM) stops the job: orders in flight are reported failed (their request may have
landed), the others not_attempted, so every id still gets its line; stderr tells how
many are left. With --resume-file PATH those ids are written to PATH, one per line:
  digicert-async cancel PATH --note "..." resumes the job."""

_POLL_EPILOG = """\
output: one JSON line each time an order is seen in a new status (the first look too):
  {"order_id": 123, "status": "issued", "previous_status": "pending"}
An id that does not exist is reported once with status "not_found".

exit status: 0 when every order reached an --until status; 1 otherwise (deadline,
not found, error); 2 bad usage (nothing sent); 130 on Ctrl-C, 143 on SIGTERM (stderr
tells how many orders got there and how many are left; --resume-file PATH receives the
ids left)."""


def build_parser() -> argparse.ArgumentParser:
    """The ``digicert-async`` argument parser."""
    from .models import TERMINAL_STATUSES

    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG, description=_DESCRIPTION, epilog=_EPILOG, formatter_class=formatter
    )
    parser.add_argument(
        "--version",
        action="version",
        version=(
            f"{PROG} {__version__} (Python {platform.python_version()},"
            f" aiohttp {aiohttp.__version__})"
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    commands.required = True

    job = argparse.ArgumentParser(add_help=False)
    job.add_argument(
        "ids_file",
        nargs="?",
        metavar="IDS_FILE",
        help="file of order ids, one per line; '-' or omitted: read stdin (when it is not"
        " a terminal)",
    )
    job.add_argument(
        "--deadline",
        type=_positive_seconds,
        metavar="SECONDS",
        help="stop after this many seconds; what is left is reported (exit status 1)",
    )
    job.add_argument(
        "--resume-file",
        metavar="PATH",
        help="write the ids left to do to PATH, one per line (an empty file when none are"
        " left); give PATH as IDS_FILE to resume",
    )
    job.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="no progress bar (there is one only when stderr is a terminal)",
    )
    api = job.add_argument_group("API")
    api.add_argument(
        "--region",
        choices=("us", "eu"),
        default="us",
        help="which CertCentral to call (default: us)",
    )
    api.add_argument(
        "--base-url",
        metavar="URL",
        help="the API root instead of the region's, e.g. a proxy's .../services/v2"
        " (plain http only for localhost)",
    )
    api.add_argument(
        "--trust-env",
        action="store_true",
        help="use the proxy named by HTTPS_PROXY (HTTP_PROXY for an http base URL), except"
        " for the hosts in NO_PROXY, and credentials from ~/.netrc; without it they are"
        " ignored",
    )

    cancel = commands.add_parser(
        "cancel",
        parents=[job],
        formatter_class=formatter,
        help="cancel many orders concurrently",
        description="Cancel the given orders (pending and waiting_pickup ones can be), with a\n"
        "note saying why. Each refusal is settled by reading the order back.",
        epilog=_CANCEL_EPILOG,
    )
    cancel.add_argument(
        "--note", required=True, metavar="TEXT", help="why: the note DigiCert records (required)"
    )
    cancel.add_argument(
        "--concurrency",
        type=_positive_int,
        default=20,
        metavar="N",
        help="cancellations in flight at once (default: 20); the rate limit paces them anyway",
    )
    cancel.set_defaults(handler=_cmd_cancel)

    default_until = ",".join(sorted(TERMINAL_STATUSES))
    poll = commands.add_parser(
        "poll",
        parents=[job],
        formatter_class=formatter,
        help="watch many orders until they reach a status",
        description="Report each status change of the given orders until every one is in an\n"
        "--until status. After a first look, one status-changes request per interval says\n"
        "which orders moved, and only those are read.",
        epilog=_POLL_EPILOG,
    )
    poll.add_argument(
        "--until",
        type=_status_set,
        default=frozenset(TERMINAL_STATUSES),
        metavar="STATUS,...",
        help=f"the statuses to wait for, comma-separated (default: {default_until})",
    )
    poll.add_argument(
        "--interval",
        type=_positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="seconds between looks (default: 60)",
    )
    poll.set_defaults(handler=_cmd_poll)

    demo = commands.add_parser(
        "demo",
        formatter_class=formatter,
        help="run both jobs against an embedded fake server (no key, no network)",
        description="Start the embedded fake CertCentral with rate limits on (DigiCert's\n"
        "windows, five times faster), cancel a mixed set of ids concurrently, then poll new\n"
        "orders while a background task issues them. Takes about ten seconds.",
    )
    demo.add_argument(
        "--orders",
        type=_demo_order_count,
        default=300,
        metavar="N",
        help="orders in the fake (default: 300; above about 500 the 1000-per-36-s window"
        " paces the cancellation too)",
    )
    demo.add_argument(
        "--quiet", action="store_true", help="headings and reports only: no progress, no detail"
    )
    demo.set_defaults(handler=_cmd_demo)

    fake_server = commands.add_parser(
        "fake-server",
        formatter_class=formatter,
        help="run the fake CertCentral on loopback until stopped, to try the commands on",
        description="Serve the bundled fake CertCentral (orders with statuses, notes,\n"
        "cancellation rules and DigiCert's rate limits) on 127.0.0.1 until Ctrl-C or\n"
        "SIGTERM. stdout gets two lines, 'base_url: URL' (ending in /services/v2) and\n"
        "'api_key: KEY' (the fake's own key, made up at start); stderr tells how to try it.",
        epilog="exit status: 0 once stopped by Ctrl-C or SIGTERM; 2 when the port cannot be had.",
    )
    fake_server.add_argument(
        "--port",
        type=_port,
        default=0,
        metavar="N",
        help="the loopback port to listen on (default: 0, any free port)",
    )
    fake_server.add_argument(
        "--orders",
        type=_fake_order_count,
        default=100,
        metavar="N",
        help="orders to start with, in a mix of statuses (default: 100)",
    )
    fake_server.set_defaults(handler=_cmd_fake_server)
    return parser


def _exit_status(code: object) -> int:
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return EXIT_INCOMPLETE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``digicert-async`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status: 0 every order ended well, 1 some did not, 2 bad usage
    (nothing sent), 130 interrupted by Ctrl-C, 143 by SIGTERM.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_status(exc.code)
    # A bar only on a terminal, and not when switched off (--no-progress, demo --quiet).
    wanted = getattr(args, "progress", True) and not getattr(args, "quiet", False)
    args.progress = wanted and _isatty(sys.stderr)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        previous_sigterm = signal.signal(signal.SIGTERM, _raise_terminated)
    except (ValueError, OSError):  # not the main thread: SIGTERM is not ours to handle
        previous_sigterm = None
    try:
        return handler(args)
    except UsageError as exc:
        _say(f"{PROG} {args.command}: error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say(f"{PROG}: interrupted")
        return EXIT_INTERRUPTED
    except _Terminated:
        _say(f"{PROG}: interrupted by SIGTERM")
        return EXIT_TERMINATED
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
