"""``python -m digicert_async``: the ``digicert-async`` command line."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
