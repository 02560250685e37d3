"""Collection rules for the docstring examples in ``digicert_async/`` (the tests' own
fixtures are in ``tests/conftest.py``)."""

from __future__ import annotations

import importlib.util

# Modules whose docstrings need an optional extra: collected only where it is installed.
_NEEDS_EXTRA = {
    "digicert_async/_ratelimit/_redis.py": "redis",
    "digicert_async/cli/_terminal.py": "tqdm",
    "digicert_async/telemetry.py": "opentelemetry",
}

collect_ignore = [
    "digicert_async/__main__.py",  # running it is the command line, not an example
    *(path for path, extra in _NEEDS_EXTRA.items() if importlib.util.find_spec(extra) is None),
]
