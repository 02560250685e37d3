"""``client.products``: the products the account can order, and each one's details."""

from __future__ import annotations

import builtins
import re
from typing import Any

import attrs

from .._checks import check_text
from .._decode import Identified, read_json, read_model, structure_answer
from .._errors import ResponseError, ValidationError, decode_text
from .._pipeline import Reader, Requester, Response
from ..models import ProductDetails
from ..models._common import response_model

__all__ = ["ProductsResource", "check_name_id", "read_product"]

PRODUCTS = "/product"
PRODUCT = "/product/{name_id}"

# A product identifier goes into the URL path as it is: letters, digits, "_" and "-"
# (every documented one is lowercase with "_"), so that it can never name another path.
_NAME_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


def check_name_id(field: str, value: object) -> str:
    """``value`` if it can be a product identifier (``ssl_basic``), else raise."""
    name_id = check_text(field, value)
    if not _NAME_ID.fullmatch(name_id):
        raise ValidationError(
            field, f"a product identifier is letters, digits, '_' and '-', not {name_id!r}"
        )
    return name_id


@response_model
@attrs.frozen(kw_only=True)
class _ProductList:
    # The items stay raw: each is read on its own, so that a bad one is named.
    products: list[Any] = attrs.field(factory=list)


def _checked(product: ProductDetails, response: Response, path: str) -> ProductDetails:
    """``product``, once its year lists read as years (see ``models.products``)."""
    for read in (product.validity_years, product.order_validity_years):
        try:
            read()
        except ValueError as exc:
            field, _, message = str(exc).partition(": ")
            where = f"{path}.{field}" if path else field
            raise ResponseError(
                f"body does not match ProductDetails: {where}: {message}",
                method=response.method,
                url=response.url,
                status=response.status,
                body=decode_text(response.body),
                field=where,
            ) from None
    return product


_PRODUCT = read_model(ProductDetails)


def _read_product(response: Response) -> ProductDetails:
    """The answer of ``GET /product/{name_id}``, its year lists checked."""
    return _checked(_PRODUCT(response), response, "")


read_product = Identified(_read_product, "name_id", field="name_id")
"""The answer of ``GET /product/{name_id}``: that product, its year lists checked."""


def _read_products(response: Response) -> builtins.list[ProductDetails]:
    envelope = structure_answer(read_json(response), _ProductList, response)
    return [
        _checked(
            structure_answer(raw, ProductDetails, response, path=f"products[{index}]"),
            response,
            f"products[{index}]",
        )
        for index, raw in enumerate(envelope.products)
    ]


_READ_PRODUCTS: Reader[builtins.list[ProductDetails]] = _read_products


class ProductsResource:
    """Products: ``client.products``."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def list(self) -> builtins.list[ProductDetails]:
        """Every product enabled for the account (``GET /product``), in DigiCert's order.

        DigiCert answers with one list and no paging; a product that does not read
        makes the call a ``ResponseError`` naming it (``products[3].name_id``).
        """
        return await self._requester.call("GET", PRODUCTS, _READ_PRODUCTS)

    async def get(self, name_id: str) -> ProductDetails:
        """One product's details (``GET /product/{name_id}``): allowed validity,
        signature hashes, issuing CAs, whether a CSR is required. An identifier the
        account does not have is a ``NotFoundError`` (``not_found|product``)."""
        check_name_id("name_id", name_id)
        return await self._requester.call(
            "GET", PRODUCT, read_product, path_args={"name_id": name_id}
        )
