"""Products: ``GET /product`` (Product list) and ``GET /product/{name_id}`` (Product info).

Both answer with the same description of a product; the list gives fewer fields per
product. Fields, from DigiCert's "Product info" response table
(https://dev.digicert.com/en/certcentral-apis/services-api/products/product-info.html), its
older example (https://dev.digicert.com/services-api/products/product-info/, ``ssl_plus``)
and the "Product list" example
(https://dev.digicert.com/pt-br/services-api/products/product-list/):

=================================== ======= ============================================
field                               type    meaning
=================================== ======= ============================================
group_name                          string  product group (``ssl_certificate``, ...)
name_id                             string  product identifier (``ssl_basic``, ...)
name                                string  display name
type                                string  product type
validation_type                     string  DV, OV, EV, EV CS, CS, DS, Private SSL (not for all)
duplicates_allowed                  boolean whether the product supports duplicates
allowed_validity_years              array   certificate validity periods, in years
allowed_order_validity_years        array   order (Multi-year Plan) validity periods, years
max_multi_year_order_validity_years int     longest Multi-year Plan, in years
signature_hash_types                object  ``allowed_hash_types`` [{id, name}], default id
allowed_ca_certs                    array   issuing CAs: {id, name, chain_info}
csr_required                        boolean whether an order must carry a CSR
allowed_container_ids               array   containers the product is enabled in
additional_dns_names_allowed        boolean whether an order may add names (``dns_names``)
increased_compatibility_allowed     boolean whether the increased-compatibility chain is offered
custom_expiration_date_allowed      boolean whether an order may set its own expiry date
allow_auto_renew                    boolean whether an order may renew itself
server_platforms                    array   server platforms to choose from: {id, name,
                                            install_url, csr_url}
license_agreement                   string  the agreement an order accepts
=================================== ======= ============================================

The two year lists come as numbers in the Product list example (``[1, 2, 3]``) and as
strings in the Product info example (``["1"]``), and the Product limits endpoint writes
its year lists as strings too. They are kept as sent, each an int or a string of digits;
:meth:`ProductDetails.validity_years` and :meth:`ProductDetails.order_validity_years`
read them as numbers, and anything else (``"one"``, ``1.5``, ``true``) is refused, never
coerced: reading through ``client.products`` raises ``ResponseError`` naming the value.
"""

from __future__ import annotations

from typing import Any

import attrs

from ._common import ResponseModel, ServerPlatform, response_model

__all__ = [
    "CaCert",
    "HashType",
    "ProductDetails",
    "SignatureHashTypes",
    "year_counts",
]


def year_counts(values: list[Any] | None, field: str) -> list[int]:
    """``values`` (a year list as DigiCert sends it) as numbers of years.

    Each item must be a positive int or a string of ASCII digits (``"1"``); anything
    else raises ``ValueError`` naming ``field`` and the item's index.
    """
    years: list[int] = []
    for index, value in enumerate(values or ()):
        if type(value) is int:
            number = value
        elif type(value) is str and value.isascii() and value.isdigit():
            number = int(value)
        else:
            raise ValueError(
                f"{field}[{index}]: expected a number of years (an integer or a string of"
                f" digits), got {value!r}"
            )
        if number < 1:
            raise ValueError(f"{field}[{index}]: a number of years is 1 or more, got {value!r}")
        years.append(number)
    return years


@response_model
@attrs.frozen(kw_only=True)
class HashType(ResponseModel):
    """One entry of ``signature_hash_types.allowed_hash_types``."""

    id: str | None = None
    name: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class SignatureHashTypes(ResponseModel):
    """``signature_hash_types``: the hashes an order for the product may ask for."""

    allowed_hash_types: list[HashType] = attrs.field(factory=list)
    default_hash_type_id: str | None = None

    def ids(self) -> frozenset[str]:
        """The ``id`` of every allowed hash type (``sha256``, ...)."""
        return frozenset(entry.id for entry in self.allowed_hash_types if entry.id)


@response_model
@attrs.frozen(kw_only=True)
class CaCert(ResponseModel):
    """One entry of ``allowed_ca_certs``: an issuing CA an order may choose."""

    id: str | None = None
    name: str | None = None
    chain_info: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class ProductDetails(ResponseModel):
    """A product as ``GET /product/{name_id}`` (and each item of ``GET /product``)
    describes it. Only ``name_id`` is required; the year lists are kept as sent (see
    the module's documentation) and read with :meth:`validity_years`."""

    name_id: str
    group_name: str | None = None
    name: str | None = None
    type: str | None = None
    validation_type: str | None = None
    duplicates_allowed: bool | None = None
    allowed_validity_years: list[Any] | None = None
    allowed_order_validity_years: list[Any] | None = None
    max_multi_year_order_validity_years: int | None = None
    signature_hash_types: SignatureHashTypes | None = None
    allowed_ca_certs: list[CaCert] | None = None
    csr_required: bool | None = None
    allowed_container_ids: list[int] | None = None
    additional_dns_names_allowed: bool | None = None
    increased_compatibility_allowed: bool | None = None
    custom_expiration_date_allowed: bool | None = None
    allow_auto_renew: bool | None = None
    server_platforms: list[ServerPlatform] | None = None
    license_agreement: str | None = None

    def validity_years(self) -> list[int]:
        """``allowed_validity_years`` as numbers (``["1"]`` is ``[1]``); ``ValueError``
        for an item that is neither an int nor a string of digits."""
        return year_counts(self.allowed_validity_years, "allowed_validity_years")

    def order_validity_years(self) -> list[int]:
        """``allowed_order_validity_years`` as numbers, like :meth:`validity_years`."""
        return year_counts(self.allowed_order_validity_years, "allowed_order_validity_years")

    def hash_ids(self) -> frozenset[str]:
        """The signature hashes the product allows (empty when not said)."""
        return frozenset() if self.signature_hash_types is None else self.signature_hash_types.ids()
