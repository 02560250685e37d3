"""Download the certificates of many orders concurrently, on the job runner, and yield
one item per order: its file, or why there is none."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping

import attrs

from .._checks import check_count
from .._client import CertCentralClient
from .._errors import DigiCertError
from .._send import CallRecord
from ..resources.certificates import check_format
from ._common import check_deadline, check_order_ids, logger, stops_a_job
from ._runner import Cut, JobRunner

__all__ = ["CertificateDownload", "DownloadJob", "download_certificates"]

_DEADLINE_IN_FLIGHT = "the job's deadline passed while this download was in flight"
_DEADLINE_NOT_STARTED = "the job's deadline passed before this download was started"
_INTERRUPTED = "the job was interrupted while this download was in flight"


def _short_bytes(data: bytes | None) -> str:
    return "None" if data is None else f"<{len(data)} bytes>"


@attrs.frozen
class CertificateDownload:
    """One order's certificate file (``data``), or the exception that kept it from
    being downloaded (``error``); exactly one of the two is set.

    An order the job never got to (its deadline passed, or an error that would fail
    every order stopped it) has ``error`` set too: a ``TimeoutError`` for the
    deadline, else the error that stopped the job; ``attempted`` is False then.
    """

    order_id: int
    data: bytes | None = attrs.field(default=None, repr=_short_bytes)
    error: BaseException | None = attrs.field(default=None, eq=False)
    attempted: bool = True

    @property
    def ok(self) -> bool:
        """Whether the file was downloaded."""
        return self.data is not None


class DownloadJob:
    """A running bulk download: ``async for item in job`` yields one
    :class:`CertificateDownload` per distinct order id, as each completes (ids never
    started come last). It can be iterated once.

    ``duplicates`` maps an id given more than once to how many extra times it came (it
    is downloaded and yielded once); ``stopped_by`` is the error that stopped the job
    early, failing every order alike (a refused key, a wrong base URL), or None.
    """

    def __init__(
        self,
        client: CertCentralClient,
        order_ids: Iterable[int],
        *,
        format: str,
        concurrency: int,
        deadline: float | None,
    ) -> None:
        self._format = check_format(format)
        check_count("concurrency", concurrency)
        check_deadline(deadline)
        self._client = client
        self._runner: JobRunner[CertificateDownload] = JobRunner(
            check_order_ids(order_ids),
            attempt=self._download_one,
            not_attempted=self._not_attempted,
            cut_short=_cut_short,
            concurrency=concurrency,
            deadline=deadline,
            keep_results=False,  # the files go to the caller; none is held here
            hooks=client.hooks,
            job="download",
        )
        self._iterated = False

    @property
    def duplicates(self) -> Mapping[int, int]:
        return dict(self._runner.duplicates)

    @property
    def stopped_by(self) -> DigiCertError | None:
        return self._runner.stopped_by

    def __aiter__(self) -> AsyncIterator[CertificateDownload]:
        if self._iterated:
            raise RuntimeError("a bulk download runs once; start a new one")
        self._iterated = True
        return self._items()

    async def _items(self) -> AsyncIterator[CertificateDownload]:
        runner = self._runner
        seen: set[int] = set()
        stream = runner.stream()
        try:
            async for item in stream:
                seen.add(item.order_id)
                yield item
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        # Ids the job never got to still get their item: every id exactly once.
        for order_id in runner.ids:
            if order_id not in seen:
                yield self._not_attempted(order_id)

    async def _download_one(self, order_id: int, sends: CallRecord) -> CertificateDownload:
        try:
            data = await self._client.certificates.download_for_order(order_id, format=self._format)
        except DigiCertError as exc:
            if stops_a_job(exc):
                self._runner.stop(exc)
                if sends.sends == 0:
                    return CertificateDownload(order_id, error=exc, attempted=False)
            return CertificateDownload(order_id, error=exc)
        except Exception as exc:  # defence in depth: one order's surprise is its own
            logger.warning(
                "download of order %d failed with an unexpected %s; the job goes on",
                order_id,
                type(exc).__name__,
            )
            return CertificateDownload(order_id, error=exc)
        return CertificateDownload(order_id, data=data)

    def _not_attempted(self, order_id: int) -> CertificateDownload:
        runner = self._runner
        error: BaseException
        if runner.stopped_by is not None:
            error = runner.stopped_by
        elif runner.timed_out:
            error = TimeoutError(_DEADLINE_NOT_STARTED)
        else:
            error = asyncio.CancelledError(_INTERRUPTED)
        return CertificateDownload(order_id, error=error, attempted=False)


def _cut_short(order_id: int, cut: Cut) -> CertificateDownload:
    error: BaseException = (
        TimeoutError(_DEADLINE_IN_FLIGHT)
        if cut is Cut.DEADLINE
        else asyncio.CancelledError(_INTERRUPTED)
    )
    return CertificateDownload(order_id, error=error)


def download_certificates(
    client: CertCentralClient,
    order_ids: Iterable[int],
    *,
    format: str = "pem_all",
    concurrency: int = 20,
    deadline: float | None = None,
) -> DownloadJob:
    """Download the active certificate of each order, ``concurrency`` at a time.

    ``async for item in download_certificates(client, ids): ...`` yields one
    :class:`CertificateDownload` per distinct id, as each completes: ``item.data``
    holds the file (``client.certificates.download_for_order(order_id, format)``), or
    ``item.error`` the exception (a ``NotFoundError`` for an unknown order, a
    ``BadRequestError`` for one not issued yet, a ``ResponseError`` for a body that is
    no file...); one order's failure never stops the rest, whatever the exception (one
    the library does not document is logged as a warning and kept on its item too).
    An error that would fail every order alike (the key refused, a wrong base URL)
    stops the job: the orders not yet started come with that error.

    The ids, ``format`` (one of :data:`~digicert_async.CERTIFICATE_FORMATS`),
    ``concurrency`` and ``deadline`` are checked when this is called, before anything
    is sent. Duplicate ids are downloaded once. No file is kept by the job: each is
    the caller's once yielded.

    :param deadline: seconds after which no download starts and those in flight are
        cut short; their items carry a ``TimeoutError``.
    """
    return DownloadJob(client, order_ids, format=format, concurrency=concurrency, deadline=deadline)
