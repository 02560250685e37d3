"""Document signing certificate orders (seed 3).

``POST /order/certificate/{document_signing_org_1|document_signing_org_2}`` with a
:class:`DocumentSigningOrder` body answers with an :class:`OrderCreated`.
Every nested request class names its fields by their full wire path in errors
(``ship_info.method``), since each is only ever sent inside this body.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

import attrs

from digicert_async._checks import check_id
from digicert_async._errors import ResponseError, ValidationError

from ._common import (
    ResponseModel,
    boolean,
    choice,
    identifier,
    instance_of,
    integer,
    list_of,
    response_model,
    text,
)
from ._organization import OrganizationDetails
from .certificates import CertificatePem, ChainCertificate

__all__ = [
    "DOCUMENT_SIGNING_PRODUCTS",
    "ContainerRef",
    "CustomField",
    "DocumentSigningCertificate",
    "DocumentSigningOrder",
    "OrderCreated",
    "OrderDomain",
    "OrganizationContact",
    "OrganizationId",
    "OrganizationRef",
    "RequestStatus",
    "ServerPlatformRef",
    "ShipInfo",
    "Subject",
]

DOCUMENT_SIGNING_PRODUCTS: Final = ("document_signing_org_1", "document_signing_org_2")
"""The product identifiers (``document_certificate_id``) this body is sent to."""

SIGNATURE_HASHES: Final = frozenset({"sha256"})
SHIP_METHODS: Final = frozenset({"standard", "expedited"})
PAYMENT_METHODS: Final = frozenset({"balance", "card", "profile"})
VALIDITY_YEARS: Final = frozenset({1, 2, 3})
SERVER_PLATFORM_OTHER: Final = -1
"""DigiCert's server platform id for "other" (the default)."""


# --------------------------------------------------------------------------- request


@attrs.frozen(kw_only=True)
class ServerPlatformRef:
    """``certificate.server_platform``: a positive id, or -1 for "other"."""

    id: int = attrs.field(
        validator=identifier("certificate.server_platform.id", allow=(SERVER_PLATFORM_OTHER,))
    )


@attrs.frozen(kw_only=True)
class DocumentSigningCertificate:
    """``certificate``. ``csr`` is required when ``cs_provisioning_method`` is ``email``."""

    csr: str | None = attrs.field(default=None, validator=text("certificate.csr", optional=True))
    server_platform: ServerPlatformRef | None = attrs.field(
        default=None,
        validator=instance_of("certificate.server_platform", ServerPlatformRef, optional=True),
    )
    signature_hash: str = attrs.field(
        validator=choice("certificate.signature_hash", SIGNATURE_HASHES)
    )


@attrs.frozen(kw_only=True)
class OrganizationContact:
    """``organization.organization_contact``, for a new organization."""

    first_name: str = attrs.field(validator=text("organization.organization_contact.first_name"))
    last_name: str = attrs.field(validator=text("organization.organization_contact.last_name"))
    email: str = attrs.field(validator=text("organization.organization_contact.email"))
    telephone: str = attrs.field(validator=text("organization.organization_contact.telephone"))
    job_title: str | None = attrs.field(
        default=None,
        validator=text("organization.organization_contact.job_title", optional=True),
    )


@attrs.frozen(kw_only=True)
class OrganizationRef(OrganizationDetails):
    """``organization``: an existing organization by ``id``, or the details of a new one
    (``name``, ``address``, ``city``, ``state``, ``zip``, ``country`` and
    ``organization_contact`` are then required)."""

    NEW_ORGANIZATION: ClassVar[tuple[str, ...]] = (
        *OrganizationDetails.NEW_ORGANIZATION,
        "organization_contact",
    )

    organization_contact: OrganizationContact | None = attrs.field(
        default=None,
        validator=instance_of(
            "organization.organization_contact", OrganizationContact, optional=True
        ),
    )


@attrs.frozen(kw_only=True)
class ContainerRef:
    """``container``: the container to place the order under."""

    id: int = attrs.field(validator=identifier("container.id"))


@attrs.frozen(kw_only=True)
class ShipInfo:
    """``ship_info``: where the token is shipped."""

    name: str = attrs.field(validator=text("ship_info.name"))
    addr1: str = attrs.field(validator=text("ship_info.addr1"))
    addr2: str | None = attrs.field(
        default=None, validator=text("ship_info.addr2", optional=True, non_empty=False)
    )
    city: str = attrs.field(validator=text("ship_info.city"))
    state: str = attrs.field(validator=text("ship_info.state"))
    zip: str = attrs.field(validator=text("ship_info.zip"))
    country: str = attrs.field(validator=text("ship_info.country"))
    method: str = attrs.field(validator=choice("ship_info.method", SHIP_METHODS))


@attrs.frozen(kw_only=True)
class Subject:
    """``subject``: the person the certificate is issued to."""

    name: str = attrs.field(validator=text("subject.name"))
    job_title: str = attrs.field(validator=text("subject.job_title"))
    phone: str = attrs.field(validator=text("subject.phone"))
    email: str = attrs.field(validator=text("subject.email"))


@attrs.frozen(kw_only=True)
class CustomField:
    """One entry of ``custom_fields`` (account-specific metadata)."""

    metadata_id: int = attrs.field(validator=identifier("custom_fields.metadata_id"))
    value: str = attrs.field(validator=text("custom_fields.value", non_empty=False))


def _user_id(path: str, value: Any) -> None:
    check_id(path, value)


def _custom_field(path: str, value: Any) -> None:
    if not isinstance(value, CustomField):
        raise ValidationError(path, f"expected CustomField, got {type(value).__name__}")


@attrs.frozen(kw_only=True)
class DocumentSigningOrder:
    """The seed 3 request body, its fields declared in the seed example's order (on the
    wire, the required ones come first: JSON objects are unordered)."""

    certificate: DocumentSigningCertificate = attrs.field(
        validator=instance_of("certificate", DocumentSigningCertificate)
    )
    cs_provisioning_method: str | None = attrs.field(
        default=None, validator=text("cs_provisioning_method", optional=True)
    )
    use_org_as_common_name: bool | None = attrs.field(
        default=None, validator=boolean("use_org_as_common_name", optional=True)
    )
    validity_years: int = attrs.field(validator=integer("validity_years", allowed=VALIDITY_YEARS))
    comments: str | None = attrs.field(
        default=None, validator=text("comments", optional=True, non_empty=False)
    )
    organization: OrganizationRef = attrs.field(
        validator=instance_of("organization", OrganizationRef)
    )
    container: ContainerRef | None = attrs.field(
        default=None, validator=instance_of("container", ContainerRef, optional=True)
    )
    ship_info: ShipInfo | None = attrs.field(
        default=None, validator=instance_of("ship_info", ShipInfo, optional=True)
    )
    subject: Subject = attrs.field(validator=instance_of("subject", Subject))
    custom_fields: list[CustomField] | None = attrs.field(
        default=None, validator=list_of("custom_fields", _custom_field, optional=True)
    )
    user_id_assignments: list[int] | None = attrs.field(
        default=None, validator=list_of("user_id_assignments", _user_id, optional=True)
    )
    csa_agreed_to: int | None = attrs.field(
        default=None, validator=integer("csa_agreed_to", optional=True)
    )
    skip_approval: bool | None = attrs.field(
        default=None, validator=boolean("skip_approval", optional=True)
    )
    payment_method: str | None = attrs.field(
        default=None, validator=choice("payment_method", PAYMENT_METHODS, optional=True)
    )

    def __attrs_post_init__(self) -> None:
        if self.cs_provisioning_method == "email" and self.certificate.csr is None:
            raise ValidationError(
                "certificate.csr", "required when cs_provisioning_method is 'email'"
            )


# --------------------------------------------------------------------------- response


@response_model
@attrs.frozen(kw_only=True)
class RequestStatus(ResponseModel):
    """One entry of ``requests`` in an order creation answer."""

    id: int | None = None
    status: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrganizationId(ResponseModel):
    """``organization`` in an order creation answer (only when one was created)."""

    id: int | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrderDomain(ResponseModel):
    """One entry of ``domains`` in an order creation answer: a domain the order made or
    uses, by its id and name."""

    id: int | None = None
    name: str | None = None


@response_model
@attrs.frozen(kw_only=True)
class OrderCreated(ResponseModel):
    """201 answer of an order creation (and of a reissue or a duplicate).

    ``certificate_id`` comes once approved. An order approved and issued at once also
    brings its certificate: ``certificate_chain`` lists the certificate and the CA
    certificates above it, each by its subject's common name and its PEM text, and
    :meth:`certificate_pem` splits them as ``client.certificates.get_pem`` would, with no
    second request. ``dcv_random_value`` is the token a domain check publishes, when the
    order's DCV method needs one; ``domains`` the domains the order uses.
    """

    id: int
    requests: list[RequestStatus] | None = None
    certificate_id: int | None = None
    certificate_chain: list[ChainCertificate] | None = None
    organization: OrganizationId | None = None
    domains: list[OrderDomain] | None = None
    dcv_random_value: str | None = None

    def certificate_pem(self) -> CertificatePem | None:
        """The issued certificate with its chain, split into certificate, intermediates
        and root; None when the answer brought no ``certificate_chain`` (the order is not
        issued yet: download it once it is).

        A chain whose PEM texts do not form one chain (no leaf, two, a block that is not
        a certificate) is a :class:`~digicert_async.ResponseError` naming
        ``certificate_chain``.
        """
        if not self.certificate_chain:
            return None
        bundle = "".join(item.pem for item in self.certificate_chain)
        try:
            return CertificatePem.from_bundle(bundle)
        except ValueError as exc:
            raise ResponseError(
                f"certificate_chain of order {self.id} is not one chain of certificates: {exc}",
                method="POST",
                url="",
                status=201,
                body="",
                field="certificate_chain",
            ) from None
