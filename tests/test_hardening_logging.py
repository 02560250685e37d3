"""The library stays quiet when logging is not configured (a NullHandler on its logger,
as the logging HOWTO asks of libraries), and speaks when it is."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_retry_warnings_do_not_reach_stderr_when_logging_is_unconfigured() -> None:
    """A fresh interpreter, logging untouched: retries and a 429 cool-down log WARNINGs,
    which must not come out through Python's last-resort handler."""
    script = textwrap.dedent(
        """
        import asyncio, logging
        import digicert_async as dc
        from digicert_async.testing import FakeCertCentral, Fault

        async def main():
            async with FakeCertCentral(rate_limits=None, orders=2) as fake:
                fake.inject(Fault.SERVICE_UNAVAILABLE_HTML, times=1)
                fake.inject(Fault.RATE_LIMITED, times=1)
                async with dc.CertCentralClient(
                    api_key=fake.api_key,
                    base_url=fake.base_url,
                    rate_limit=dc.RateLimit(windows=(), cooldown_initial=0.01, cooldown_max=0.01),
                    retry=dc.RetryPolicy(backoff_initial=0.01, backoff_max=0.01),
                    hooks=dc.Hooks(on_retry=[lambda e: print("retry", e.attempt)]),
                ) as client:
                    await client.orders.get(fake.order_ids[0])
            handlers = logging.getLogger("digicert_async").handlers
            print("handlers", [type(h).__name__ for h in handlers])

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "retry 1" in done.stdout and "retry 2" in done.stdout  # there was something to log
    assert "handlers ['NullHandler']" in done.stdout
    assert done.stderr == ""


def test_a_configured_application_still_sees_the_warnings() -> None:
    script = textwrap.dedent(
        """
        import logging
        logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
        from digicert_async._hooks import logger
        logger.warning("a retry")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert "digicert_async WARNING a retry" in done.stderr
