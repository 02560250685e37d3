"""Reissues and duplicates of an order's certificate: the request bodies and the
certificates their listings show.

``POST /order/certificate/{order_id}/reissue`` takes a :class:`ReissueRequest`,
``POST /order/certificate/{order_id}/duplicate`` a :class:`DuplicateRequest`; both
answer like an order creation (an :class:`~digicert_async.models.OrderCreated`: the
order's ``id`` and the approval ``requests`` opened). ``GET .../reissue`` and
``GET .../duplicate`` list :class:`IssuedCertificate` items under ``certificates``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

import attrs

from digicert_async._checks import check_text, describe
from digicert_async._errors import ValidationError

from ._common import (
    ResponseModel,
    StrFlag,
    Validator,
    boolean,
    choice,
    instance_of,
    response_model,
    text,
)
from ._csr import csr
from .document_signing import ServerPlatformRef
from .orders import ServerPlatform

__all__ = [
    "CS_PROVISIONING_METHODS",
    "REISSUE_SIGNATURE_HASHES",
    "DuplicateRequest",
    "IssuedCertificate",
    "ReissueCertificate",
    "ReissueRequest",
]

REISSUE_SIGNATURE_HASHES: Final = frozenset({"sha256", "sha384", "sha512"})
"""The signature hashes DigiCert issues public TLS certificates with (SHA-1 is gone)."""
CS_PROVISIONING_METHODS: Final = frozenset({"client_app", "email", "ship_token"})
"""How a reissued code signing certificate is delivered (``cs_provisioning_method``)."""


def _dns_names(path: str) -> Validator:
    """A list of distinct non-empty names (None passes: the order's names are kept)."""

    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            raise ValidationError(path, f"expected a list of names, got {describe(value)}")
        seen: set[str] = set()
        for index, name in enumerate(value):
            check_text(f"{path}[{index}]", name)
            if name.lower() in seen:
                raise ValidationError(f"{path}[{index}]", f"{name!r} is listed twice")
            seen.add(name.lower())

    return check


def _a_date(path: str) -> Validator:
    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if type(value) is not date:  # a datetime is a date too, and would lose its time
            raise ValidationError(path, f"expected a date, got {describe(value)}")

    return check


# --------------------------------------------------------------------------- request


@attrs.frozen(kw_only=True)
class ReissueCertificate:
    """``certificate`` of a reissue (and of a duplicate): what the new certificate holds.

    Every field may be left out. ``orders.reissue`` and ``orders.duplicate`` fill
    ``common_name``, ``dns_names``, ``signature_hash`` and ``server_platform`` from the
    order when they are None, so a CSR alone reissues the same names with a new key.
    ``dns_names=[]`` (not None) asks for no other names. ``csr`` is a PEM certificate
    request (DigiCert requires one to reissue a TLS certificate).
    """

    csr: str | None = attrs.field(default=None, validator=csr("certificate.csr", optional=True))
    common_name: str | None = attrs.field(
        default=None, validator=text("certificate.common_name", optional=True)
    )
    dns_names: list[str] | None = attrs.field(
        default=None, validator=_dns_names("certificate.dns_names")
    )
    signature_hash: str | None = attrs.field(
        default=None,
        validator=choice("certificate.signature_hash", REISSUE_SIGNATURE_HASHES, optional=True),
    )
    server_platform: ServerPlatformRef | None = attrs.field(
        default=None,
        validator=instance_of("certificate.server_platform", ServerPlatformRef, optional=True),
    )
    ca_cert_id: str | None = attrs.field(
        default=None, validator=text("certificate.ca_cert_id", optional=True)
    )


@attrs.frozen(kw_only=True)
class ReissueRequest:
    """Body of ``POST /order/certificate/{order_id}/reissue``.

    ``custom_expiration_date`` sets the new certificate's end within a Multi-year Plan;
    ``cs_provisioning_method`` chooses how a code signing certificate is delivered
    (the order's current method when left out). ``skip_approval`` needs an admin key.
    """

    certificate: ReissueCertificate = attrs.field(
        validator=instance_of("certificate", ReissueCertificate)
    )
    comments: str | None = attrs.field(default=None, validator=text("comments", optional=True))
    skip_approval: bool | None = attrs.field(
        default=None, validator=boolean("skip_approval", optional=True)
    )
    custom_expiration_date: date | None = attrs.field(
        default=None, validator=_a_date("custom_expiration_date")
    )
    cs_provisioning_method: str | None = attrs.field(
        default=None,
        validator=choice("cs_provisioning_method", CS_PROVISIONING_METHODS, optional=True),
    )


@attrs.frozen(kw_only=True)
class DuplicateRequest:
    """Body of ``POST /order/certificate/{order_id}/duplicate``: the ``certificate`` of
    the duplicate, which shares the order's validity (same fields as a reissue's)."""

    certificate: ReissueCertificate = attrs.field(
        validator=instance_of("certificate", ReissueCertificate)
    )
    comments: str | None = attrs.field(default=None, validator=text("comments", optional=True))


# --------------------------------------------------------------------------- response


@response_model
@attrs.frozen(kw_only=True)
class IssuedCertificate(ResponseModel):
    """One certificate of an order as the reissue and duplicate listings show it.

    ``status`` is a plain string (``pending`` until DigiCert issues it, then ``issued``;
    the duplicates example says ``approved``). DigiCert's answers disagree on types,
    decided here rather than coerced silently:

    - ``archived`` is ``0`` in the reissue listing and ``"0"`` in the duplicate one: it
      is a :data:`~digicert_async.models.StrFlag`, read from either (a bool);
    - ``ca_cert_id``, ``sub_id``, ``receipt_id`` and the ``purchased_*`` counts come
      as strings (``"1005"``, ``"2"``) and are kept as the strings sent; a number there
      is a ``ResponseError`` naming the field, like any other wrong type.
    """

    id: int
    thumbprint: str | None = None
    serial_number: str | None = None
    common_name: str | None = None
    dns_names: list[str] | None = None
    status: str | None = None
    date_created: datetime | None = None
    date_issued: datetime | None = None
    valid_from: date | None = None
    valid_till: date | None = None
    days_remaining: int | None = None
    csr: str | None = None
    server_platform: ServerPlatform | None = None
    signature_hash: str | None = None
    key_size: int | None = None
    ca_cert_id: str | None = None
    sub_id: str | None = None
    public_id: str | None = None
    archived: StrFlag | None = None
    user_id: int | None = None
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    receipt_id: str | None = None
    purchased_dns_names: str | None = None
    purchased_wildcard_names: str | None = None
