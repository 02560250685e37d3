"""What every bulk job shares: its logger, the errors that stop a job (and what a job
has learned of the server, which one of them needs), and the checks of the arguments
every job takes (the ids and the deadline)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Final

from .._checks import check_ids, check_number
from .._errors import (
    AuthenticationError,
    ClientClosedError,
    ConfigurationError,
    DigiCertError,
    PermissionDeniedError,
    TransportError,
)
from .._send import CallRecord, record_call

__all__ = [
    "UNCONNECTED_CALLS",
    "Reach",
    "call_in_job",
    "check_deadline",
    "check_order_ids",
    "logger",
    "never_connected",
    "stops_a_job",
]

# One logger for every job, named as before the jobs became a package.
logger = logging.getLogger("digicert_async.bulk")

UNCONNECTED_CALLS: Final = 2
"""How many of a job's calls may fail to connect, before any request of the job went on
the wire, until the job stops: the server cannot be reached at all."""


def never_connected(exc: BaseException) -> bool:
    """Whether ``exc`` is a call that never got a connection to the server (refused, a
    name DNS does not know, a TLS handshake refused), after its retries."""
    return isinstance(exc, TransportError) and not exc.request_sent


class Reach:
    """What one job has learned of the server: whether a request of it ever went on the
    wire (``reached``), and its calls that failed to connect before that.

    The rule it keeps: when :data:`UNCONNECTED_CALLS` (2) calls of a job have failed to
    connect, each after the client's retries, and no request of the job has gone on the
    wire, the server cannot be reached and the job stops with the last of those errors.
    Once one request reached the server, failures to connect are the orders' own.
    """

    def __init__(self) -> None:
        self.reached = False
        self._unconnected: list[BaseException] = []

    def note(self, call: CallRecord) -> None:
        """What ``call`` did on the wire: one send is enough to know the server is there."""
        if call.sends:
            self.reached = True

    def cannot_connect(self, exc: BaseException, call: CallRecord | None = None) -> bool:
        """Whether ``exc``, the failure of ``call``, shows the server cannot be reached:
        the rule above (each error counts once, however often it is asked about)."""
        if call is not None:
            self.note(call)
        if self.reached or not never_connected(exc):
            return False
        if not any(seen is exc for seen in self._unconnected):
            self._unconnected.append(exc)
        return len(self._unconnected) >= UNCONNECTED_CALLS


# The job and the call the current task is working on (set by call_in_job).
_IN_JOB: ContextVar[tuple[Reach, CallRecord] | None] = ContextVar("digicert_job", default=None)


@contextlib.contextmanager
def call_in_job(reach: Reach) -> Iterator[CallRecord]:
    """One call (or one id's calls) of the job whose server knowledge is ``reach``:
    records what its sends do (see :func:`~digicert_async._send.record_call`) and
    lets :func:`stops_a_job` apply the job's rule to what it raises."""
    with record_call() as call:
        token = _IN_JOB.set((reach, call))
        try:
            yield call
        finally:
            _IN_JOB.reset(token)
            reach.note(call)


def stops_a_job(exc: DigiCertError) -> bool:
    """Whether ``exc`` would fail every order alike, so a bulk job stops rather than
    spend the rate budget on the rest: the base URL is wrong, DigiCert does not accept
    the key at all, or the client was closed; or, inside a job, the server cannot be
    reached at all (:class:`Reach`: the job's first calls all failed to connect)."""
    if isinstance(exc, (AuthenticationError, ConfigurationError, ClientClosedError)):
        return True
    if isinstance(exc, PermissionDeniedError) and any(
        detail.qualifier == "access_denied_invalid_key" for detail in exc.errors
    ):
        return True
    current = _IN_JOB.get()
    return current is not None and current[0].cannot_connect(exc, current[1])


def check_order_ids(order_ids: Iterable[object]) -> list[int]:
    """Every id of a job, checked before anything is sent: one ``ValidationError``
    naming the bad ones (by position) otherwise."""
    return check_ids("order_ids", order_ids)


def check_deadline(deadline: object) -> None:
    """A job's ``deadline``: None (none), or a positive number of seconds (infinity too)."""
    if deadline is not None:
        check_number("deadline", deadline, allow_zero=False, allow_inf=True)
