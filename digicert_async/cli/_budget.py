"""The key's rate budget between runs: what the command line shares through a file.

DigiCert counts a key's requests over the last five seconds and three minutes, whichever
process sent them, so a command run right after another (or beside it) must start from
what the other spent. Every command that sends keeps the key's budget in an SQLite file
in the user's state directory (:class:`~digicert_async.SqliteLimiterBackend`), unless
``--no-shared-budget``:

- ``$XDG_STATE_HOME/digicert-async/ratelimit.sqlite3`` when ``XDG_STATE_HOME`` is set (an
  absolute path), on any system;
- else ``~/.local/state/digicert-async/ratelimit.sqlite3`` (Linux and other Unixes),
  ``~/Library/Application Support/digicert-async/ratelimit.sqlite3`` (macOS),
  ``%LOCALAPPDATA%\\digicert-async\\ratelimit.sqlite3`` (Windows).

When the file cannot be used (a read-only home, say), the run paces itself alone at the
full windows, as it would with ``--no-shared-budget``, and says so at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .. import CertCentralClient, RateLimit, SqliteLimiterBackend
from ._terminal import PROG

__all__ = ["budget_summary", "shared_budget", "state_directory"]

APP = "digicert-async"
BUDGET_FILE = "ratelimit.sqlite3"


def state_directory(
    environ: Mapping[str, str] | None = None,
    system: str = sys.platform,
    home: Path | None = None,
) -> Path:
    """Where the command line keeps its state on this system (see the module).

    >>> str(state_directory({"XDG_STATE_HOME": "/var/lib/me"}, "linux"))
    '/var/lib/me/digicert-async'
    >>> str(state_directory({}, "linux", Path("/home/me")))
    '/home/me/.local/state/digicert-async'
    """
    environ = os.environ if environ is None else environ
    xdg = environ.get("XDG_STATE_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec: a relative path is to be ignored
        return Path(xdg) / APP
    home = Path.home() if home is None else home
    if system == "darwin":
        return home / "Library" / "Application Support" / APP
    if system == "win32":
        local = environ.get("LOCALAPPDATA", "")
        return (Path(local) if os.path.isabs(local) else home / "AppData" / "Local") / APP
    return home / ".local" / "state" / APP


def shared_budget(args: argparse.Namespace) -> RateLimit | None:
    """The rate limit of a command that sends: DigiCert's windows, shared with the other
    runs on this machine through the budget file unless ``--no-shared-budget``."""
    if not args.shared_budget:
        return None
    try:
        folder = state_directory()
    except RuntimeError:  # no home directory to be found: nothing to share through
        return None
    # A run that cannot use the file paces itself alone at the full windows: the same
    # as --no-shared-budget, rather than a quarter of them.
    backend = SqliteLimiterBackend(folder / BUDGET_FILE, fallback_fraction=1.0)
    return RateLimit(backend=backend)


def budget_summary(client: CertCentralClient, command: str) -> list[str]:
    """A line for stderr when the budget file was configured but not in use at the end."""
    backend = client.rate_limit.backend
    if not isinstance(backend, SqliteLimiterBackend) or client.pacer.shared:
        return []
    return [
        f"{PROG} {command}: the shared rate budget ({backend.where}) could not be used;"
        " this run paced itself alone"
    ]
