"""What every resource group shares: input checks and offset/limit paging."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from .._errors import ResponseError, ValidationError
from ..models import Page
from ..models._common import check_text, validate_id

if TYPE_CHECKING:
    from .._client import CertCentralClient

_Item = TypeVar("_Item")
_Model = TypeVar("_Model")

MAX_PAGE_SIZE = 1000


def listing_params(
    *,
    status: str | None,
    filters: Mapping[str, object] | None,
    sort: str | None,
) -> tuple[tuple[str, str], ...]:
    """``filters[...]`` and ``sort`` query pairs in DigiCert's listing syntax."""
    params: list[tuple[str, str]] = []
    if status is not None:
        params.append(("filters[status]", check_text("status", status)))
    for name, value in (filters or {}).items():
        if not isinstance(name, str) or not name or "[" in name or "]" in name:
            raise ValidationError("filters", f"bad filter name {name!r}")
        if name == "status" and status is not None:
            raise ValidationError("filters", "status is given twice (status= and filters)")
        if value is None or isinstance(value, (dict, list, tuple, set)):
            raise ValidationError(f"filters[{name}]", "must be a single string or number")
        text = str(value).lower() if isinstance(value, bool) else str(value)
        params.append((f"filters[{name}]", text))
    if sort is not None:
        params.append(("sort", check_text("sort", sort)))
    return tuple(params)


class Listing(AsyncIterator[_Model]):
    """Every item of a paged listing, fetched page by page (``offset``/``limit``)
    until the ``page.total`` DigiCert announced is reached.

    ``total`` is that announced total, known once the first page has arrived (None
    before). A page that ends before the total it announced is a ``ResponseError``:
    an order silently skipped is worse than a loud failure.
    """

    def __init__(
        self,
        client: CertCentralClient,
        path: str,
        params: Sequence[tuple[str, str]],
        page_size: int,
        envelope: type[_Item],
        unpack: Callable[[_Item], tuple[Sequence[_Model], Page]],
    ) -> None:
        self.total: int | None = None
        self._items = self._fetch(client, path, tuple(params), page_size, envelope, unpack)

    def __aiter__(self) -> Listing[_Model]:
        return self

    async def __anext__(self) -> _Model:
        return await self._items.__anext__()

    async def aclose(self) -> None:
        """Stop early (what ``break`` in ``async for`` does once collected)."""
        await self._items.aclose()

    async def _fetch(
        self,
        client: CertCentralClient,
        path: str,
        params: tuple[tuple[str, str], ...],
        page_size: int,
        envelope: type[_Item],
        unpack: Callable[[_Item], tuple[Sequence[_Model], Page]],
    ) -> AsyncGenerator[_Model, None]:
        offset = 0
        while True:
            page_params = (*params, ("offset", str(offset)), ("limit", str(page_size)))
            document = await client.call("GET", path, params=page_params, model=envelope)
            items, page = unpack(document)
            self.total = page.total
            for item in items:
                yield item
            offset += len(items)
            if offset >= page.total:
                return
            if not items:
                raise ResponseError(
                    f"listing ended at {offset} of the {page.total} items it announced",
                    method="GET",
                    url=client.api_root + path,
                    status=200,
                    body="",
                )


def check_page_size(page_size: object) -> int:
    size = validate_id("page_size", page_size)
    if size > MAX_PAGE_SIZE:
        raise ValidationError("page_size", f"must be at most {MAX_PAGE_SIZE}")
    return size
