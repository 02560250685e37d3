"""What every bulk job shares: its logger, the errors that stop a job, and the checks of
the arguments every job takes (the ids and the deadline)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .._checks import check_ids, check_number
from .._errors import (
    AuthenticationError,
    ClientClosedError,
    ConfigurationError,
    DigiCertError,
    PermissionDeniedError,
)

__all__ = ["check_deadline", "check_order_ids", "logger", "stops_a_job"]

# One logger for every job, named as before the jobs became a package.
logger = logging.getLogger("digicert_async.bulk")


def stops_a_job(exc: DigiCertError) -> bool:
    """Whether ``exc`` would fail every order alike, so a bulk job stops rather than
    spend the rate budget on the rest: the base URL is wrong, DigiCert does not accept
    the key at all, or the client was closed."""
    if isinstance(exc, (AuthenticationError, ConfigurationError, ClientClosedError)):
        return True
    return isinstance(exc, PermissionDeniedError) and any(
        detail.qualifier == "access_denied_invalid_key" for detail in exc.errors
    )


def check_order_ids(order_ids: Iterable[object]) -> list[int]:
    """Every id of a job, checked before anything is sent: one ``ValidationError``
    naming the bad ones (by position) otherwise."""
    return check_ids("order_ids", order_ids)


def check_deadline(deadline: object) -> None:
    """A job's ``deadline``: None (none), or a positive number of seconds (infinity too)."""
    if deadline is not None:
        check_number("deadline", deadline, allow_zero=False, allow_inf=True)
