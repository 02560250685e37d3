"""Validate many domains or orders' domains on the job runner, and account for each one."""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import AsyncIterator, Generator, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from .._checks import check_count, describe
from .._client import CertCentralClient
from .._dcv_driver import CheckSchedule, DcvDriver, DcvOutcome, Publisher, WakeFor
from .._errors import DigiCertError, NotFoundError, ValidationError
from .._send import CallRecord
from ..models import Domain, WebhookEvent
from ..webhooks import EventStream, WebhookReceiver
from ._common import check_deadline, stops_a_job
from ._outcomes import OutcomeCounts, describe_counts
from ._poll import _check_receiver
from ._runner import Cut, JobRunner

__all__ = [
    "ValidateJob",
    "ValidateOutcome",
    "ValidateReport",
    "ValidateResult",
    "validate_domains",
]

Target = int | str
"""An order id (an int) or a domain: its name (a str), or a ``dc.Domain``."""


class ValidateOutcome(str, enum.Enum):
    """What happened to one domain or order in a validation job."""

    VALIDATED = "validated"
    TIMED_OUT = "timed_out"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"

    def __str__(self) -> str:
        return self.value


_FROM_RUN = {
    DcvOutcome.VALIDATED: ValidateOutcome.VALIDATED,
    DcvOutcome.TIMED_OUT: ValidateOutcome.TIMED_OUT,
    DcvOutcome.FAILED: ValidateOutcome.FAILED,
}


@attrs.frozen
class ValidateResult:
    """One input's outcome: ``target`` as given (an order id, or a domain name or id),
    ``kind`` (``order`` or ``domain``), ``records`` published (and removed), ``checks``
    DigiCert was asked for, ``error`` behind a ``failed`` outcome."""

    target: Target
    outcome: ValidateOutcome
    kind: str = "order"
    records: tuple[Any, ...] = ()
    checks: int = 0
    error: BaseException | None = attrs.field(default=None, eq=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the command line prints one per input)."""
        line: dict[str, Any] = {
            "target": self.target,
            "kind": self.kind,
            "outcome": self.outcome.value,
        }
        if self.checks:
            line["checks"] = self.checks
        if self.error is not None:
            line["error"] = f"{type(self.error).__name__}: {self.error}"
        return line


@attrs.frozen
class ValidateReport:
    """Every input exactly once, in input order. ``duplicates`` maps an input given more
    than once to how many extra times it came (it was validated once); ``stopped_by`` is
    the error that stopped the job early (a refused key, a wrong base URL), or None."""

    results: list[ValidateResult]
    duplicates: Mapping[Target, int] = attrs.field(factory=dict)
    stopped_by: DigiCertError | None = attrs.field(default=None, eq=False)

    @property
    def counts(self) -> OutcomeCounts[ValidateOutcome]:
        """Outcome -> number of inputs, every outcome present (zero included)."""
        counts = OutcomeCounts({outcome: 0 for outcome in ValidateOutcome})
        for result in self.results:
            counts[result.outcome] += 1
        return counts

    def resume_targets(self) -> list[Target]:
        """What a later run should be given: every input not validated or not found."""
        done = {ValidateOutcome.VALIDATED, ValidateOutcome.NOT_FOUND}
        return [r.target for r in self.results if r.outcome not in done]


@attrs.frozen
class _Input:
    kind: str  # "order" or "domain"
    key: Target  # the order id; the domain's id, or its name (lower case)


def _inputs(items: object) -> tuple[list[_Input], dict[Target, int]]:
    """The inputs, checked, each once, and how many extra times a repeated one came."""
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise ValidationError(
            "domains_or_order_ids",
            f"expected a list of order ids or domains, got {describe(items)}",
        )
    unique: dict[_Input, None] = {}
    duplicates: dict[Target, int] = {}
    bad: list[str] = []
    for item in items:
        if isinstance(item, Domain):
            entry = _Input("domain", item.id)
        elif type(item) is int and item > 0:
            entry = _Input("order", item)
        elif isinstance(item, str) and item.strip().rstrip("."):
            entry = _Input("domain", item.strip().lower().rstrip("."))
        else:
            bad.append(describe(item))
            continue
        if entry in unique:
            duplicates[entry.key] = duplicates.get(entry.key, 0) + 1
        else:
            unique[entry] = None
    if bad:
        raise ValidationError(
            "domains_or_order_ids",
            f"not an order id, a domain name or a Domain: {', '.join(bad[:5])}",
        )
    return list(unique), duplicates


# The pushed event that says a domain passed DCV (DigiCert documents no order DCV event:
# an order's run is woken by the event about one of its names).
_VALIDATED_EVENT = "domain_validated"


def _covers(domain: str, name: str) -> bool:
    """Whether a validation of ``domain`` covers ``name`` (itself, a subdomain, a wildcard)."""
    name = name.lower().rstrip(".").removeprefix("*.")
    return name == domain or name.endswith("." + domain)


class _PushedValidations:
    """The runs of one job waiting on DCV, each with a flag, and the events that set them:
    a ``domain_validated`` push about a run's domain id or one of its names."""

    def __init__(self, receiver: WebhookReceiver) -> None:
        # Subscribed now, before anything is sent: an event that comes early waits here.
        self._stream: EventStream = receiver.events()
        self._waiting: dict[asyncio.Event, tuple[int | None, tuple[str, ...]]] = {}

    @contextlib.contextmanager
    def watch(self, domain_id: int | None, names: Sequence[str]) -> Iterator[asyncio.Event]:
        flag = asyncio.Event()
        self._waiting[flag] = (domain_id, tuple(names))
        try:
            yield flag
        finally:
            del self._waiting[flag]

    async def dispatch(self) -> None:
        """Set the flag of every run an event is about, until the stream ends."""
        async for event in self._stream:
            if event.event == _VALIDATED_EVENT:
                for flag, watched in self._waiting.items():
                    if _about(event, *watched):
                        flag.set()

    def close(self) -> None:
        self._stream.close()


def _about(event: WebhookEvent, domain_id: int | None, names: tuple[str, ...]) -> bool:
    data = event.data
    if data is None:
        return False
    if domain_id is not None and data.domain_id == domain_id:
        return True
    domain = (data.domain_name or "").lower().rstrip(".")
    return bool(domain) and any(_covers(domain, name) for name in names)


class ValidateJob:
    """A running validation: ``await`` it for the :class:`ValidateReport`, or
    ``async for`` it to receive each :class:`ValidateResult` as it completes."""

    def __init__(
        self,
        client: CertCentralClient,
        items: Iterable[object],
        driver: DcvDriver,
        *,
        concurrency: int,
        deadline: float | None,
        events: WebhookReceiver | None = None,
    ) -> None:
        check_count("concurrency", concurrency)
        check_deadline(deadline)
        self._client = client
        self._driver = driver
        self._inputs, self._duplicates = _inputs(items)
        self._pushed = None if events is None else _PushedValidations(events)
        self._runner: JobRunner[ValidateResult] = JobRunner(
            range(len(self._inputs)),
            attempt=self._validate_one,
            not_attempted=self._not_attempted,
            cut_short=self._cut_short,
            concurrency=concurrency,
            deadline=deadline,
            name="validate",
            summary=lambda: describe_counts(self.report.counts),
            hooks=client.hooks,
        )

    @property
    def report(self) -> ValidateReport:
        """The report as of now: every input, those not finished as not_attempted."""
        return ValidateReport(
            self._runner.results(), dict(self._duplicates), self._runner.stopped_by
        )

    def __await__(self) -> Generator[Any, None, ValidateReport]:
        return self._run_to_report().__await__()

    async def _run_to_report(self) -> ValidateReport:
        with self._dispatching():
            await self._runner.run()
        return self.report

    def __aiter__(self) -> AsyncIterator[ValidateResult]:
        return self._stream()

    async def _stream(self) -> AsyncIterator[ValidateResult]:
        with self._dispatching():
            async for result in self._runner.stream():
                yield result

    @contextlib.contextmanager
    def _dispatching(self) -> Iterator[None]:
        """Pushed events handed to the runs while the job runs; the subscription ends with it."""
        if self._pushed is None:
            yield
            return
        task = asyncio.ensure_future(self._pushed.dispatch())
        try:
            yield
        finally:
            self._pushed.close()
            task.cancel()

    def _result(self, index: int, outcome: ValidateOutcome, **more: Any) -> ValidateResult:
        entry = self._inputs[index]
        return ValidateResult(entry.key, outcome, entry.kind, **more)

    def _not_attempted(self, index: int) -> ValidateResult:
        return self._result(index, ValidateOutcome.NOT_ATTEMPTED)

    def _cut_short(self, index: int, cut: Cut) -> ValidateResult:
        error: BaseException = (
            TimeoutError("the job's deadline passed during validation")
            if cut is Cut.DEADLINE
            else asyncio.CancelledError("interrupted during validation")
        )
        return self._result(index, ValidateOutcome.FAILED, error=error)

    async def _validate_one(self, index: int, _call: CallRecord) -> ValidateResult:
        entry = self._inputs[index]
        target = entry.key
        try:
            if entry.kind == "order":
                assert isinstance(target, int)
                run = await self._driver.validate_order(self._client, target, wake=self._wake)
            else:
                domain_id = target if isinstance(target, int) else await self._domain_id(target)
                if domain_id is None:
                    return self._result(index, ValidateOutcome.NOT_FOUND)
                run = await self._driver.validate_domain(self._client, domain_id, wake=self._wake)
        except NotFoundError:
            return self._result(index, ValidateOutcome.NOT_FOUND)
        except (DigiCertError, ValidationError) as exc:
            if isinstance(exc, DigiCertError) and stops_a_job(exc):
                self._runner.stop(exc)
            return self._result(index, ValidateOutcome.FAILED, error=exc)
        return self._result(
            index, _FROM_RUN[run.outcome], records=run.records, checks=run.checks, error=run.error
        )

    @property
    def _wake(self) -> WakeFor | None:
        return None if self._pushed is None else self._pushed.watch

    async def _domain_id(self, name: str) -> int | None:
        """The id of the account's domain named ``name`` (DigiCert's search, then an
        exact match), or None."""
        async for domain in self._client.domains.list(filters={"search": name}, page_size=100):
            if (domain.name or "").lower().rstrip(".") == name:
                return domain.id
        return None


def validate_domains(
    client: CertCentralClient,
    domains_or_order_ids: Iterable[object],
    *,
    publish: Publisher | None = None,
    unpublish: Publisher | None = None,
    method: str = "dns-txt-token",
    driver: DcvDriver | None = None,
    schedule: CheckSchedule | None = None,
    timeout: float = 3600.0,
    concurrency: int = 10,
    deadline: float | None = None,
    events: WebhookReceiver | None = None,
) -> ValidateJob:
    """Pass DCV for many domains or orders, concurrently, on the one job runner.

    Each input is an order id (an ``int``: its names are validated together), a domain
    name (a ``str``, looked up among the account's domains) or a ``dc.Domain``. For each,
    the job gets the token, calls ``publish(record)`` for every
    :class:`~digicert_async.DcvRecord`, asks DigiCert to check on a schedule (the first
    check waits for DNS to propagate; a check that comes too early is waited on, never
    repeated in a tight loop) until it passes or ``timeout`` seconds have gone by, then
    calls ``unpublish(record)`` for every record it published. ``driver`` (a
    :class:`~digicert_async.DcvDriver`) may stand for ``publish``, ``unpublish``,
    ``method``, ``schedule`` and ``timeout``.

    ``report = await validate_domains(...)`` returns a :class:`ValidateReport` naming
    every input exactly once (duplicates validated once); ``async for`` streams each
    :class:`ValidateResult`. Inputs are checked first: one that is neither a positive
    int, a domain name nor a ``Domain`` fails the call before anything is sent.

    With ``events`` (a :class:`~digicert_async.WebhookReceiver`), a pushed
    ``domain_validated`` event about an input's domain (by its id or name, or one of an
    order's names) brings that input's next check forward, at once. The schedule's checks
    go on as they were, so every input ends as it would without pushes, even if every
    push is lost; pushes only end it sooner, and a repeated one costs one check at most.
    """
    receiver = _check_receiver(events)
    if driver is None:
        if publish is None:
            raise ValidationError("publish", "required (or a driver)")
        driver = DcvDriver(
            publish=publish, unpublish=unpublish, method=method, schedule=schedule, timeout=timeout
        )
    elif not isinstance(driver, DcvDriver):
        raise ValidationError("driver", f"must be a DcvDriver, not {describe(driver)}")
    return ValidateJob(
        client,
        domains_or_order_ids,
        driver,
        concurrency=concurrency,
        deadline=deadline,
        events=receiver,
    )
