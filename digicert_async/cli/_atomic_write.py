"""Files a command writes, each put in place whole: the resume file, and ``download``'s
certificates. Never through a symlink, and never half written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence

__all__ = ["write_file_atomically", "write_resume_file"]


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
