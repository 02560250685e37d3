"""What every resource group shares: input checks and offset/limit paging."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Collection, Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any, Generic, TypeVar

import attrs

from .._checks import check_count, check_statuses, check_text, describe
from .._decode import read_json, structure_answer
from .._errors import ResponseError, ValidationError
from .._pipeline import Reader, Requester, Response
from ..models import Page
from ..models._common import response_model

_Model = TypeVar("_Model")

MAX_PAGE_SIZE = 1000


def listing_params(
    *,
    status: str | None,
    filters: Mapping[str, object] | None,
    sort: str | None,
    statuses: Collection[str],
) -> tuple[tuple[str, str], ...]:
    """``filters[...]`` and ``sort`` query pairs in DigiCert's listing syntax.

    ``status`` is one of ``statuses``; a filter value is a string, an int, a date
    (``YYYY-MM-DD``) or a timezone-aware datetime (``YYYY-MM-DD HH:MM:SS`` in UTC).
    """
    params: list[tuple[str, str]] = []
    if status is not None:
        if not isinstance(status, str):
            raise ValidationError("status", f"expected one status, got {describe(status)}")
        params.append(("filters[status]", status))
        check_statuses("status", status, statuses)
    for name, value in (filters or {}).items():
        if not isinstance(name, str) or not name or "[" in name or "]" in name:
            raise ValidationError("filters", f"bad filter name {name!r}")
        if name == "status" and status is not None:
            raise ValidationError("filters", "status is given twice (status= and filters)")
        params.append((f"filters[{name}]", _filter_value(f"filters[{name}]", value)))
    if sort is not None:
        params.append(("sort", check_text("sort", sort)))
    return tuple(params)


def _filter_value(field: str, value: object) -> str:
    if isinstance(value, str):
        return check_text(field, value)
    if type(value) is int:
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(field, "a datetime must be timezone-aware")
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    raise ValidationError(
        field, f"must be a string, an int, a date or a datetime, got {describe(value)}"
    )


_ENVELOPES: dict[str, type[Any]] = {}


def _envelope(item_key: str) -> type[Any]:
    """The class of one page as DigiCert sends it, with its list under ``item_key``
    (``orders``, ``requests``...) and the items left raw: each is read on its own, so
    that a bad one can be named (and, by the poller, set aside)."""
    cls = _ENVELOPES.get(item_key)
    if cls is None:
        cls = response_model(
            attrs.make_class(
                f"_{item_key.title()}Page",
                {
                    item_key: attrs.field(factory=list, type=list[Any]),
                    "page": attrs.field(default=None, type=Page | None),  # type: ignore[arg-type]
                },
                frozen=True,
                slots=True,
                kw_only=True,
            )
        )
        _ENVELOPES[item_key] = cls
    return cls


@attrs.frozen
class ItemFailure:
    """A listed item that did not decode: the raw item and why."""

    raw: Any
    error: ResponseError


@attrs.frozen
class PageRead(Generic[_Model]):
    """One page of a listing: the items that decoded, those that did not, or (with
    ``error`` set) a page that could not be read at all."""

    offset: int
    total: int | None = None
    items: list[_Model] = attrs.field(factory=list)
    failures: list[ItemFailure] = attrs.field(factory=list)
    error: ResponseError | None = None
    url: str = ""

    def paging_error(self, message: str) -> ResponseError:
        """The error of a listing whose pages do not add up, after this page."""
        return ResponseError(message, method="GET", url=self.url, status=200, body="")


class Listing(AsyncIterator[_Model]):
    """Every item of a paged listing, fetched page by page (``offset``/``limit``)
    until the ``page.total`` DigiCert announced is reached.

    ``total`` is that announced total, known once the first page has arrived (None
    before). A page that ends before the total it announced is a ``ResponseError``:
    an order silently skipped is worse than a loud failure. A page without a
    ``page`` object is the last one when it holds fewer items than were asked for;
    a full page without one is a ``ResponseError`` (nothing says whether more follow).
    An item that does not decode makes the whole listing a ``ResponseError`` naming
    it (``orders[3].certificate.valid_till``).
    """

    def __init__(
        self,
        requester: Requester,
        route: str,
        params: Sequence[tuple[str, str]],
        page_size: int,
        item_key: str,
        item_model: type[_Model],
    ) -> None:
        self.total: int | None = None
        self._requester = requester
        self._route = route
        self._params = tuple(params)
        self._page_size = page_size
        self._item_key = item_key
        self._item_model = item_model
        self._items = self._iterate()

    def __aiter__(self) -> Listing[_Model]:
        return self

    async def __anext__(self) -> _Model:
        return await self._items.__anext__()

    async def aclose(self) -> None:
        """Stop early (what ``break`` in ``async for`` does once collected)."""
        await self._items.aclose()

    async def _iterate(self) -> AsyncGenerator[_Model, None]:
        pages = self.pages()
        try:
            async for page in pages:
                if page.error is not None:
                    raise page.error
                for item in page.items:
                    yield item
                if page.failures:
                    raise page.failures[0].error
        finally:
            await pages.aclose()

    async def pages(
        self, *, past_bad_pages: bool = False
    ) -> AsyncGenerator[PageRead[_Model], None]:
        """The listing page by page, each item decoded on its own.

        A page that cannot be read at all comes as a ``PageRead`` with ``error`` set;
        with ``past_bad_pages`` the listing then goes on at the next page when the
        total announced earlier says there is one, else it ends there.
        """
        offset = 0
        size = self._page_size
        while True:
            page_params = (*self._params, ("offset", str(offset)), ("limit", str(size)))
            try:
                read = await self._requester.call(
                    "GET", self._route, self._page_reader(offset), params=page_params
                )
            except ResponseError as exc:
                yield PageRead(offset, error=exc)
                if past_bad_pages and self.total is not None and offset + size < self.total:
                    offset += size
                    continue
                return
            if read.total is not None:
                self.total = read.total
            count = len(read.items) + len(read.failures)
            yield read
            offset += count
            if self.total is None:
                if count < size:  # no total anywhere: a short page is the last one
                    self.total = offset
                    return
                raise read.paging_error(f"a full page of {count} came without a total")
            if offset >= self.total:
                return
            if not count:
                raise read.paging_error(
                    f"listing ended at {offset} of the {self.total} items it announced"
                )

    def _page_reader(self, offset: int) -> Reader[PageRead[_Model]]:
        item_key, item_model = self._item_key, self._item_model
        envelope_class = _envelope(item_key)

        def read_page(response: Response) -> PageRead[_Model]:
            envelope = structure_answer(read_json(response), envelope_class, response)
            page: Page | None = envelope.page
            read: PageRead[_Model] = PageRead(
                offset, None if page is None else page.total, url=response.url
            )
            for index, raw in enumerate(getattr(envelope, item_key)):
                try:
                    item = structure_answer(raw, item_model, response, path=f"{item_key}[{index}]")
                except ResponseError as exc:
                    read.failures.append(ItemFailure(raw, exc))
                else:
                    read.items.append(item)
            return read

        return read_page


def check_page_size(page_size: object) -> int:
    return check_count("page_size", page_size, maximum=MAX_PAGE_SIZE)
