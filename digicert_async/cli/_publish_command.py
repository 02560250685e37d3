"""A shell command as a DCV ``publish`` (or ``unpublish``) callable: the command is run
once per record, with the record in its environment, so that any DNS tool or script can
put the record in place (or take it away).

The environment it gets, beside the caller's own: ``DCV_ACTION`` (``publish`` or
``unpublish``), ``DCV_DOMAIN`` (the name validated), ``DCV_RECORD_TYPE`` (``TXT``,
``CNAME`` or ``HTTP``), ``DCV_RECORD_NAME`` (the DNS name, or the web host),
``DCV_RECORD_VALUE`` (the record's value, or the file's content), and for ``HTTP``
``DCV_RECORD_PATH`` and ``DCV_RECORD_URL``. A command that exits non-zero fails that
record (and the validation it belongs to).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .._escape import visible

if TYPE_CHECKING:
    from .. import DcvRecord

__all__ = ["PublishCommandFailed", "command_publisher", "record_environment"]

_OUTPUT_SHOWN = 400  # characters of the command's stderr kept in the error


class PublishCommandFailed(Exception):
    """The publish (or unpublish) command exited non-zero for a record."""


def record_environment(record: DcvRecord, action: str) -> dict[str, str]:
    """The variables that describe ``record`` to the command."""
    env = {
        "DCV_ACTION": action,
        "DCV_DOMAIN": record.domain,
        "DCV_RECORD_TYPE": record.type,
        "DCV_RECORD_NAME": record.name,
        "DCV_RECORD_VALUE": record.value,
    }
    if record.path is not None:
        env["DCV_RECORD_PATH"] = record.path
        env["DCV_RECORD_URL"] = record.url or ""
    return env


def command_publisher(command: str, action: str) -> Callable[[DcvRecord], Awaitable[None]]:
    """An ``async`` callable that runs ``command`` (through the shell) for one record."""

    async def run(record: DcvRecord) -> None:
        env = {**os.environ, **record_environment(record, action)}
        process = await asyncio.create_subprocess_shell(
            command,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await process.communicate()
        if process.returncode != 0:
            said = stderr.decode("utf-8", "replace").strip()[-_OUTPUT_SHOWN:]
            raise PublishCommandFailed(
                f"the {action} command exited with {process.returncode} for"
                f" {record.type} {visible(record.name)}" + (f": {visible(said)}" if said else "")
            )

    return run
