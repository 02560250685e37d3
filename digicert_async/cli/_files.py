"""The files a job command reads and writes: the order ids in (a file or stdin), the
ids left to do out (written all at once, never through a symlink)."""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence

from ._terminal import UsageError, isatty

_ID_LINE = re.compile(r"[0-9]+")
_BOM = "\ufeff"
_MAX_ID_DIGITS = 20  # no order id is longer; larger numbers are refused as bad lines
_MAX_REPORTED_BAD_LINES = 5


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
        if stdin is None or (ids_file is None and isatty(stdin)):
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


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask


def write_file_atomically(path: str, data: str | bytes, *, replace: bool = True) -> None:
    """Put a file holding ``data`` (text as UTF-8) at ``path``, all at once.

    The data goes to a new file made in the same directory (created exclusively, under a
    random name, so nothing planted there is opened), which is then renamed over
    ``path``. A rename replaces a symlink at ``path`` instead of writing through it, and
    a reader of ``path`` sees the old file or the complete new one, never part of it.

    With ``replace=False`` an existing ``path`` (a symlink too) is left alone and
    ``FileExistsError`` raised: the new file is linked in under its name, which fails
    when the name is taken, rather than renamed over it.
    """
    directory, name = os.path.split(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp's 0600 would be a surprise for a file the user asked for: the usual
        # mode of a new file instead.
        with contextlib.suppress(AttributeError, OSError):  # no fchmod on Windows
            os.fchmod(descriptor, 0o666 & ~_umask())
        content = data.encode("utf-8") if isinstance(data, str) else data
        with open(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # FileExistsError when the name is taken
            os.unlink(temporary)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_resume_file(path: str, ids: Sequence[int]) -> None:
    """Write ``ids`` one per line to ``path``, safely (see :func:`write_file_atomically`)."""
    write_file_atomically(path, "".join(f"{order_id}\n" for order_id in ids))
