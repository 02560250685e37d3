"""A command's input: one reader for every command (a file, or stdin for ``-``).

- a line is a plain order id (blank lines and ``#`` comments ignored), or a JSON object
  with an ``order_id``: any command's output line, or ``reissue``'s input line. So every
  command reads every other command's output. ``cancel`` takes every order of its
  input; ``poll`` and ``download`` skip the orders whose line reports that its command
  did nothing to them (:data:`NOTHING_DONE`); ``reissue`` needs JSON lines with a
  ``csr`` (or a directory of ``<order_id>.csr`` files);
- only a regular file is read (a FIFO, a device or a directory is refused, never waited
  on), of at most :data:`MAX_INPUT_BYTES` (stdin too); a CSR file holds at most
  :data:`MAX_CSR_FILE_BYTES`, and may be a symlink only to a file inside its directory;
- text is UTF-8, or UTF-16 when it starts with that byte-order mark (what PowerShell's
  ``>`` writes); a UTF-8 byte-order mark is dropped;
- a bad line, an order given twice with two CSRs (``1.csr`` and ``001.csr`` too), a JSON
  line nested too deeply to read: one :class:`UsageError` naming them, nothing sent.

What a command writes is put in place by :mod:`._atomic_write`.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, NamedTuple

import attrs

from .._escape import visible
from ..models._csr import MAX_CSR_CHARACTERS
from ._terminal import PROG, UsageError, counts_text, isatty, plural, say

__all__ = [
    "MAX_CSR_FILE_BYTES",
    "MAX_INPUT_BYTES",
    "NOTHING_DONE",
    "InputLine",
    "Orders",
    "Problems",
    "parse_ids",
    "parse_lines",
    "parse_reissue_lines",
    "read_csr_directory",
    "read_ids",
    "read_orders",
    "read_regular_file",
    "read_reissue_input",
    "say_skipped",
]

MAX_INPUT_BYTES: Final = 64 * 1024 * 1024
"""The most a command reads from its input file or stdin (and from a directory of CSRs
in all): 64 MiB, some millions of ids or tens of thousands of CSRs. Split a bigger input."""
MAX_CSR_FILE_BYTES: Final = MAX_CSR_CHARACTERS + 4096
"""The most a ``<order_id>.csr`` file may hold: the longest CSR a request takes, and room
for a byte-order mark and blank lines."""
NOTHING_DONE: Final = frozenset({"failed", "not_attempted", "not_found", "not_reissuable"})
"""Outcomes that say a command did nothing to an order: ``poll`` and ``download`` skip
the orders whose input line reports one (a reissue that failed has no new certificate to
wait for or fetch). To retry them, give the command's ``--resume-file`` instead."""

_CSR_FILE = re.compile(r"([0-9]{1,20})\.csr")
_BOM = "\ufeff"
_MAX_ID_DIGITS = 20  # no order id is longer; larger numbers are refused as bad lines
_MAX_REPORTED_BAD_LINES = 5
_CHUNK = 1 << 20  # characters split into lines at once
_NO_IDS = "no order ids: name an IDS_FILE, or pipe the ids on stdin"
_NO_CSRS = (
    "no input: name a JSON-lines file or a directory of <order_id>.csr files,"
    " or pipe the JSON lines on stdin"
)


# --------------------------------------------------------------------------- bytes in


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a file"


def _too_big(where: str, limit: int) -> UsageError:
    return UsageError(f"{where}: more than {limit:,} bytes, more than this command reads; split it")


def read_regular_file(path: str, limit: int) -> bytes:
    """The bytes of ``path``, a regular file (or a symlink to one) of at most ``limit``
    bytes; else a :class:`UsageError` saying why.

    The file is opened without blocking, so a FIFO is refused rather than waited on, and
    checked once open (what is read is what was checked). At most ``limit`` + 1 bytes
    are read: a file that grows past the limit meanwhile is refused too.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"cannot read {path}: {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise _too_big(path, limit)
        with open(descriptor, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise _too_big(path, limit)
    return data


def _decode(data: bytes, where: str) -> str:
    """Text: UTF-8, or UTF-16 when it starts with that BOM; a UTF-8 BOM is dropped."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"cannot read {where}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None


def _read_stdin(missing: str) -> str:
    stdin = sys.stdin
    if stdin is None:
        raise UsageError(missing)
    from ._signals import raise_if_terminated  # here: --help needs this module, not asyncio

    raise_if_terminated()  # a pipe may stay open for ever: nothing would end the read
    try:
        # The bytes, where there are any, so that the BOM rule is the file's, whatever
        # encoding the locale gives the text stream.
        raw = getattr(stdin, "buffer", None)
        data = raw.read(MAX_INPUT_BYTES + 1) if raw is not None else stdin.read(MAX_INPUT_BYTES + 1)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read stdin: {exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise _too_big("stdin", MAX_INPUT_BYTES)
    return _decode(data, "stdin") if isinstance(data, bytes) else data


def read_text(source: str | None, missing: str) -> tuple[str, str]:
    """The text of ``source`` and its name for messages: the file, or stdin for ``-`` (and
    for no source when stdin is not a terminal; ``missing`` is the error otherwise)."""
    if source is None or source == "-":
        if source is None and (sys.stdin is None or isatty(sys.stdin)):
            raise UsageError(missing)
        return _read_stdin(missing), "stdin"
    return _decode(read_regular_file(source, MAX_INPUT_BYTES), source), source


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text``, split at newlines only (a JSON string may hold other line
    breaks), a chunk of about :data:`_CHUNK` characters at a time rather than a list of
    them all."""
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", min(start + _CHUNK, end))
        if stop < 0:
            stop = end
        yield from text[start:stop].split("\n")
        start = stop + 1


# --------------------------------------------------------------------------- lines


class InputLine(NamedTuple):
    """One order of a command's input: its line number, its id, and the JSON object the
    line holds (None for a plain id line). A tuple: an input holds millions of them."""

    number: int
    order_id: int
    fields: Mapping[str, Any] | None = None


def _order_id(value: object) -> int | None:
    if type(value) is int and value > 0 and len(str(value)) <= _MAX_ID_DIGITS:
        return value
    return None


def _json_line(text: str) -> Mapping[str, Any] | str:
    """The JSON object of a line, or what is wrong with it."""
    try:
        document = json.loads(text)
    except RecursionError:
        return "nested too deeply to read (not a line of this tool)"
    except ValueError:
        return "not a JSON object"
    if not isinstance(document, dict):
        return "not a JSON object"
    return document


def _plain_id(text: str) -> int | str:
    """The order id a plain line holds, or what is wrong with it."""
    # Length first: int() of more than 4300 digits raises instead of answering.
    if text.isascii() and text.isdigit() and 0 < len(digits := text.lstrip("0")) <= _MAX_ID_DIGITS:
        return int(digits)
    shown = text if len(text) <= 40 else text[:37] + "..."
    return f"{shown!r} is not an order id (a positive integer, at most {_MAX_ID_DIGITS} digits)"


class Problems:
    """The bad lines of an input, in the order they were found: the first few messages
    (what is shown) and how many there were in all (nothing more is kept)."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.shown) < _MAX_REPORTED_BAD_LINES:
            # one line each: a file name or a line of input must not start another
            self.shown.append(visible(message))

    def refuse(self) -> None:
        """One :class:`UsageError` naming the first few, if there were any."""
        if not self.count:
            return
        text = "\n".join(self.shown)
        if self.count > len(self.shown):
            text += f"\n... and {self.count - len(self.shown)} more bad lines"
        raise UsageError(text + "\nnothing was sent")


def parse_lines(
    lines: Iterable[str], source: str, problems: Problems, *, json_only: bool = False
) -> Iterator[InputLine]:
    """Each order line of ``lines`` (see the module's rules) as it comes; the bad ones go
    to ``problems``. A BOM before the first line is ignored. With ``json_only`` a plain
    line is a bad one."""
    for number, raw in enumerate(lines, start=1):
        text = (raw.removeprefix(_BOM) if number == 1 else raw).strip()
        if (
            not json_only
            and text.isdigit()
            and text.isascii()
            and 0 < len(text.lstrip("0")) <= _MAX_ID_DIGITS
        ):
            yield InputLine(number, int(text))  # the common line, taken first
            continue
        if not text or text[0] == "#":
            continue
        if text[0] == "{":
            fields = _json_line(text)
            if isinstance(fields, str):
                problems.add(f"{source} line {number}: {fields}")
                continue
            order_id = _order_id(fields.get("order_id"))
            if order_id is None:
                problems.add(f"{source} line {number}: order_id is not a positive whole number")
            else:
                yield InputLine(number, order_id, fields)
        elif json_only:
            problems.add(f"{source} line {number}: not a JSON object")
        else:
            found = _plain_id(text.split("#", 1)[0].rstrip() if "#" in text else text)
            if isinstance(found, str):
                problems.add(f"{source} line {number}: {found}")
            else:
                yield InputLine(number, found)


# --------------------------------------------------------------------------- orders


@attrs.frozen
class Orders:
    """The orders a command takes from its input: ``ids`` in input order; for those a
    ``reissue`` line gave, the certificate their reissue replaces (``replaced``); and how
    many orders were skipped for each outcome their line reports (``skipped``)."""

    ids: list[int]
    replaced: Mapping[int, Mapping[str, Any]]
    skipped: Mapping[str, int]


def _take(lines: Iterable[InputLine], *, follow: bool) -> Orders:
    ids: list[int] = []
    taken: set[int] = set()  # the orders given by JSON lines so far
    replaced: dict[int, Mapping[str, Any]] = {}
    skipped: dict[int, str] = {}
    for line in lines:
        if line.fields is None:  # a plain id, as given: a repeat is the job's duplicate
            ids.append(line.order_id)
            continue
        if line.order_id in taken:  # one order, several lines (poll's, say): once
            continue
        outcome = line.fields.get("outcome")
        if follow and isinstance(outcome, str) and outcome in NOTHING_DONE:
            skipped.setdefault(line.order_id, outcome)
            continue
        skipped.pop(line.order_id, None)
        taken.add(line.order_id)
        ids.append(line.order_id)
        previous = line.fields.get("replaced_certificate")
        if isinstance(previous, dict) and previous:
            replaced[line.order_id] = previous
    return Orders(ids, replaced, dict(Counter(skipped.values())))


def say_skipped(command: str, orders: Orders) -> None:
    """Tell which orders of the input ``command`` skips, and why (nothing otherwise)."""
    if orders.skipped:
        count = sum(orders.skipped.values())
        say(
            f"{PROG} {command}: {plural(count, 'order')} skipped, their input lines say"
            f" nothing was done to them ({counts_text(orders.skipped)}); to retry those,"
            " give their run's --resume-file"
        )


def parse_ids(lines: Iterable[str], source: str) -> list[int]:
    """Every order id of ``lines`` (plain ids, or any command's JSON lines); a
    :class:`UsageError` naming the bad lines (the first few of them)."""
    problems = Problems()
    orders = _take(parse_lines(lines, source, problems), follow=False)
    problems.refuse()
    return orders.ids


def read_orders(source: str | None, *, follow: bool) -> Orders:
    """The orders of ``source`` (stdin for ``-``): every one (``cancel``), or with
    ``follow`` those whose line does not report that nothing was done to them (``poll``,
    ``download``: see :data:`NOTHING_DONE`)."""
    text, where = read_text(source, _NO_IDS)
    problems = Problems()
    orders = _take(parse_lines(_lines(text), where, problems), follow=follow)
    problems.refuse()
    return orders


def read_ids(source: str | None) -> list[int]:
    """Every order id of ``source`` (stdin for ``-``, or for no source when piped)."""
    return read_orders(source, follow=False).ids


# --------------------------------------------------------------------------- CSRs


def parse_reissue_lines(lines: Iterable[str], source: str) -> dict[int, str]:
    """``{order_id: csr}`` from JSON lines ``{"order_id": 123, "csr": "-----BEGIN..."}``
    (other keys ignored, so the command's own lines can be fed back). A bad line, or an
    order given twice, is a :class:`UsageError` naming it. The CSRs themselves are
    checked by the job, before anything is sent."""
    problems = Problems()
    csrs: dict[int, str] = {}
    first_line: dict[int, int] = {}
    for line in parse_lines(lines, source, problems, json_only=True):
        csr = (line.fields or {}).get("csr")
        where = f"{source} line {line.number}"
        if not isinstance(csr, str):
            problems.add(f"{where}: csr is missing or not a string")
        elif line.order_id in csrs:
            given = first_line[line.order_id]
            problems.add(f"{where}: order {line.order_id} was given already (line {given})")
        else:
            csrs[line.order_id] = csr
            first_line[line.order_id] = line.number
    problems.refuse()
    return csrs


def _inside(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # another drive (Windows)
        return False


def read_csr_directory(directory: str) -> dict[int, str]:
    """``{order_id: csr}`` from the ``<order_id>.csr`` files of ``directory``.

    Refused, naming the files, before anything is sent: a ``.csr`` name that is not an
    order id; two files for one order (``1.csr`` and ``001.csr``); a symlink that leads
    out of the directory (the CSRs are what the directory holds, not what it points
    at); anything but a regular file of at most :data:`MAX_CSR_FILE_BYTES`; more than
    :data:`MAX_INPUT_BYTES` in all.
    """
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise UsageError(f"cannot read {directory}: {exc.strerror or exc}") from None
    home = os.path.realpath(directory)
    csrs: dict[int, str] = {}
    files: dict[int, list[str]] = {}
    problems = Problems()
    total = 0
    for name in names:
        if not name.endswith(".csr"):
            continue
        path = os.path.join(directory, name)
        match = _CSR_FILE.fullmatch(name)
        if match is None or int(match.group(1)) == 0:
            problems.add(f"{path}: not named <order_id>.csr")
            continue
        target = os.path.realpath(path)
        if not _inside(target, home):
            problems.add(f"{path}: a symlink out of {directory} (to {target}): refused")
            continue
        try:
            data = read_regular_file(target, MAX_CSR_FILE_BYTES)
            text = _decode(data, path)
        except UsageError as exc:
            problems.add(str(exc))
            continue
        total += len(data)
        if total > MAX_INPUT_BYTES:
            raise _too_big(f"the CSR files of {directory}", MAX_INPUT_BYTES)
        order_id = int(match.group(1))
        files.setdefault(order_id, []).append(path)
        csrs[order_id] = text
    for order_id, paths in files.items():
        if len(paths) > 1:
            problems.add(f"order {order_id} is given by {len(paths)} files: {', '.join(paths)}")
    problems.refuse()
    if not csrs:
        raise UsageError(f"no <order_id>.csr files in {directory}; nothing was sent")
    return csrs


def read_reissue_input(source: str | None) -> dict[int, str]:
    """The CSRs to reissue with: JSON lines from ``source`` (stdin for ``-``, or for no
    source when stdin is not a terminal), or a directory of ``<order_id>.csr`` files."""
    if source is not None and source != "-" and os.path.isdir(source):
        return read_csr_directory(source)
    text, where = read_text(source, _NO_CSRS)
    return parse_reissue_lines(_lines(text), where)
