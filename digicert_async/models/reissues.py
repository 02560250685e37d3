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
from typing import Any, Final, TypeVar

import attrs

from digicert_async._checks import check_text, describe
from digicert_async._errors import ValidationError

from ._common import (
    ResponseModel,
    StrFlag,
    Validator,
    a_date,
    boolean,
    choice,
    instance_of,
    response_model,
    text,
)
from ._csr import csr
from .document_signing import ServerPlatformRef
from .orders import Order, OrderCertificate, ServerPlatform

__all__ = [
    "CS_PROVISIONING_METHODS",
    "REISSUE_SIGNATURE_HASHES",
    "DuplicateRequest",
    "IssuedCertificate",
    "ReissueCertificate",
    "ReissueRequest",
    "change_from_order",
    "needs_order",
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
        default=None, validator=a_date("custom_expiration_date")
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


# --------------------------------------------------------------------------- from the order

_Change = TypeVar("_Change", ReissueRequest, DuplicateRequest)

# Products whose certificates name no host: DigiCert's Reissue page says to leave
# common_name out for them (code signing, EV code signing, document signing, VMC).
_NO_HOST_PRODUCTS = ("code_signing", "document_signing", "vmc", "verified_mark")


def needs_order(change: ReissueRequest | DuplicateRequest) -> bool:
    """Whether ``change`` leaves out the common name, the names or the hash: what
    :func:`change_from_order` then takes from the order."""
    wanted = change.certificate
    return None in (wanted.common_name, wanted.dns_names, wanted.signature_hash)


def change_from_order(change: _Change, order: Order, order_id: int) -> _Change:
    """The one way a reissue or duplicate is completed from its order: ``change`` with
    the ``common_name``, ``dns_names``, ``signature_hash`` and ``server_platform`` it
    leaves out taken from ``order`` (the names each once), unchanged when it leaves out
    none of the first three.

    For a product whose certificate names no host (code signing, document signing,
    VMC), only the hash is filled in: DigiCert wants no ``common_name`` there. A
    ``ValidationError`` naming ``request.certificate.*`` when the order does not show
    what is needed (no common name, a hash DigiCert no longer issues with).
    """
    if not needs_order(change):
        return change
    wanted = change.certificate
    current = order.certificate
    if wanted.common_name is None and _names_no_host(order):
        signature_hash = wanted.signature_hash or _order_hash(order_id, current)
        return attrs.evolve(change, certificate=attrs.evolve(wanted, signature_hash=signature_hash))
    common_name = wanted.common_name
    if common_name is None:
        common_name = None if current is None else current.common_name
        if common_name is None:
            raise ValidationError(
                "request.certificate.common_name",
                f"not given, and order {order_id} shows none to keep; nothing was sent",
            )
    signature_hash = wanted.signature_hash or _order_hash(order_id, current)
    dns_names = wanted.dns_names
    if dns_names is None and current is not None:
        dns_names = _kept_names(current.dns_names)
    server_platform = wanted.server_platform
    if server_platform is None and current is not None:
        server_platform = _platform_ref(current.server_platform)
    certificate = attrs.evolve(
        wanted,
        common_name=common_name,
        dns_names=dns_names,
        signature_hash=signature_hash,
        server_platform=server_platform,
    )
    return attrs.evolve(change, certificate=certificate)


def _names_no_host(order: Order) -> bool:
    product = order.product
    if product is None:
        return False
    names = f"{product.name_id or ''} {product.type or ''}".lower()
    return any(kind in names for kind in _NO_HOST_PRODUCTS)


def _order_hash(order_id: int, current: OrderCertificate | None) -> str:
    """The order's signature hash, as a reissue or duplicate sends it back."""
    shown = None if current is None else current.signature_hash
    signature_hash = None if shown is None else shown.lower()
    if signature_hash not in REISSUE_SIGNATURE_HASHES:
        raise ValidationError(
            "request.certificate.signature_hash",
            f"not given, and order {order_id} shows {shown!r}, which DigiCert no"
            " longer issues with; nothing was sent",
        )
    return signature_hash


def _kept_names(names: list[str] | None) -> list[str] | None:
    # The order's names as DigiCert lists them, each once (the request model refuses
    # a name listed twice, and DigiCert's own lists repeat the common name at times).
    if names is None:
        return None
    seen: set[str] = set()
    kept = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            kept.append(name)
    return kept


def _platform_ref(platform: ServerPlatform | None) -> ServerPlatformRef | None:
    if platform is None or platform.id is None:
        return None
    try:
        return ServerPlatformRef(id=platform.id)
    except ValidationError:  # an id DigiCert would not take back: leave it out
        return None


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
