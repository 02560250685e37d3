"""Certificate orders for any product: ``POST /order/certificate/{product_name_id}``.

The request body, :class:`CertificateOrder`, mirrors the request tables of DigiCert's
ordering pages, which share one shape:

- "Order Basic OV" / "Basic EV" / "Secure Site OV" / "Secure Site EV" / "Secure Site Pro
  (EV) SSL" (``ssl_basic``, ``ssl_ev_basic``, ``ssl_securesite_flex``,
  ``ssl_ev_securesite_flex``, ``ssl_securesite_pro``, ``ssl_ev_securesite_pro``),
  https://dev.digicert.com/en/certcentral-apis/services-api/orders/order-basic-ov.html and
  its siblings;
- "Order OV/EV SSL" (the legacy ``ssl_plus``, ``ssl_wildcard``, ``ssl_multi_domain``,
  ``ssl_ev_plus``, ``ssl_ev_multi_domain``, ``ssl_cloud_wildcard``),
  https://dev.digicert.com/services-api/orders/order-ov-ev-ssl/;
- "Order DV SSL" (``ssl_dv_geotrust``, ``ssl_dv_rapidssl``, ``wildcard_dv_geotrust``,
  ``wildcard_dv_rapidssl``, ``cloud_dv_geotrust``);
- "Order Private SSL" (``private_ssl_flex``, ``private_ssl_plus``, ``private_ssl_wildcard``,
  ``private_ssl_multi_domain``);
- "Order client certificate" (``client_premium``, ``client_digital_signature_plus``,
  ``client_email_security_plus``, ``class1_smime``, ``client_authentication_plus``);
- "Order code signing certificate" (``code_signing``, ``code_signing_ev``);
- "Order Multi-year Plan" (``order_validity``, ``certificate.cert_validity``) and "End of 4-
  to 6-year Multi-year Plans" (a public TLS order longer than 3 years is refused with
  ``invalid_value:<unit>``).

=============================== ======== ==============================================
name                            type     rule checked here
=============================== ======== ==============================================
certificate                     object   required
.. common_name                  string   required for TLS; never for ``class1_smime``
.. dns_names                    array    no duplicates (DNS names ignore case)
.. emails                       array    client certificates: required
.. csr                          string   a PEM ``CERTIFICATE REQUEST`` block of DER
.. signature_hash               string   required: sha256, sha384, sha512
.. organization_units           array    strings
.. server_platform.id           int      a positive id, or -1 ("other")
.. ca_cert_id                   string   private SSL: the issuing CA
.. cert_validity                object   years | days | custom_expiration_date
.. common_name_indicator        string   S/MIME: given_name_surname, pseudonym
.. individual                   object   S/MIME: first_name, last_name, pseudonym
organization                    object   ``id``, or a new organization's details;
                                         ``contacts`` [{contact_type, user_id | name...}]
container.id                    int      positive
validity_years                  int      1 or more
validity_days                   int      1 or more
custom_expiration_date          date     ``YYYY-MM-DD``
order_validity                  object   years | days | custom_expiration_date
renewal_of_order_id             int      an order id
dcv_method                      string   email, dns-txt-token, dns-cname-token,
                                         http-token, http-token-dynamic (OV/EV only)
payment_method                  string   balance, card, profile
auto_renew, auto_reissue        int      0 or more
skip_approval, disable_ct,      bool     true or false
disable_renewal_notifications
cs_provisioning_method          string   code signing; ``email`` needs a ``csr``
ship_info                       object   code signing token: ``method`` standard |
                                         expedited (any case, as DigiCert's example)
custom_fields                   array    {metadata_id, value}
=============================== ======== ==============================================

Validity follows DigiCert's precedence: ``custom_expiration_date``, then ``validity_days``,
then ``validity_years`` (the same inside ``order_validity`` and ``cert_validity``). What
depends on the product (wildcards, hashes, CSR, the validity cap) is checked by
:func:`~digicert_async.models._product_check.check_for_product`, which
``client.orders.create`` runs before sending; the CSR by
:func:`~digicert_async.models._csr.check_csr`, which every request carrying one runs.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

import attrs

from digicert_async._checks import check_id, check_text, describe
from digicert_async._errors import ValidationError

from ._common import a_date, boolean, choice, identifier, instance_of, list_of, text
from ._csr import csr
from ._organization import OrganizationDetails
from .document_signing import ContainerRef, CustomField, ServerPlatformRef

__all__ = [
    "DCV_METHODS",
    "PAYMENT_METHODS",
    "SIGNATURE_HASHES",
    "CertValidity",
    "CertificateDetails",
    "CertificateOrder",
    "Individual",
    "OrderContact",
    "OrderOrganization",
    "OrderShipInfo",
    "OrderValidity",
]

SIGNATURE_HASHES: Final = frozenset({"sha256", "sha384", "sha512"})
"""Glossary, Hash types: what ``certificate.signature_hash`` may be."""
DCV_METHODS: Final = frozenset(
    {"email", "dns-txt-token", "dns-cname-token", "http-token", "http-token-dynamic"}
)
"""DCV methods an OV/EV order may name; DV orders do not take ``http-token-dynamic``."""
PAYMENT_METHODS: Final = frozenset({"balance", "card", "profile"})
SHIP_METHODS: Final = frozenset({"standard", "expedited"})


# --------------------------------------------------------------------------- field checks


def _name(path: str, value: Any) -> None:
    check_text(path, value)


def _email(path: str, value: Any) -> None:
    email = check_text(path, value)
    if "@" not in email.strip("@"):
        raise ValidationError(path, f"not an email address: {email!r}")


def _user_id(path: str, value: Any) -> None:
    check_id(path, value)


def _custom_field(path: str, value: Any) -> None:
    if not isinstance(value, CustomField):
        raise ValidationError(path, f"expected CustomField, got {describe(value)}")


def _non_negative(path: str, *, optional: bool = False) -> Any:
    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if type(value) is not int:
            raise ValidationError(path, f"expected an integer, got {describe(value)}")
        if value < 0:
            raise ValidationError(path, f"must be 0 or more, got {value}")

    return check


def _positive(path: str) -> Any:
    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if type(value) is not int:
            raise ValidationError(path, f"expected an integer, got {describe(value)}")
        if value < 1:
            raise ValidationError(path, f"must be 1 or more, got {value}")

    return check


# --------------------------------------------------------------------------- validity


def _validity_fields(prefix: str) -> tuple[Any, Any, Any]:
    return (
        attrs.field(default=None, validator=_positive(f"{prefix}years")),
        attrs.field(default=None, validator=_positive(f"{prefix}days")),
        attrs.field(default=None, validator=a_date(f"{prefix}custom_expiration_date")),
    )


def _require_one(prefix: str, years: Any, days: Any, custom: Any) -> None:
    if years is None and days is None and custom is None:
        raise ValidationError(
            prefix.rstrip("."), "give years, days or custom_expiration_date (one is enough)"
        )


_ORDER_VALIDITY = _validity_fields("order_validity.")
_CERT_VALIDITY = _validity_fields("certificate.cert_validity.")


@attrs.frozen(kw_only=True)
class OrderValidity:
    """``order_validity``: how long the order (a Multi-year Plan's coverage) lasts."""

    years: int | None = _ORDER_VALIDITY[0]
    days: int | None = _ORDER_VALIDITY[1]
    custom_expiration_date: date | None = _ORDER_VALIDITY[2]

    def __attrs_post_init__(self) -> None:
        _require_one("order_validity.", self.years, self.days, self.custom_expiration_date)


@attrs.frozen(kw_only=True)
class CertValidity:
    """``certificate.cert_validity``: how long the first certificate of the order lasts
    (at most as long as the order)."""

    years: int | None = _CERT_VALIDITY[0]
    days: int | None = _CERT_VALIDITY[1]
    custom_expiration_date: date | None = _CERT_VALIDITY[2]

    def __attrs_post_init__(self) -> None:
        _require_one(
            "certificate.cert_validity.", self.years, self.days, self.custom_expiration_date
        )


# --------------------------------------------------------------------------- request


@attrs.frozen(kw_only=True)
class Individual:
    """``certificate.individual`` (S/MIME): the person the certificate names."""

    first_name: str | None = attrs.field(
        default=None, validator=text("certificate.individual.first_name", optional=True)
    )
    last_name: str | None = attrs.field(
        default=None, validator=text("certificate.individual.last_name", optional=True)
    )
    pseudonym: str | None = attrs.field(
        default=None, validator=text("certificate.individual.pseudonym", optional=True)
    )


@attrs.frozen(kw_only=True)
class CertificateDetails:
    """``certificate``: what the certificate says. ``signature_hash`` is required for
    every product; the rest depends on it (see :func:`check_for_product`)."""

    common_name: str | None = attrs.field(
        default=None, validator=text("certificate.common_name", optional=True)
    )
    dns_names: list[str] | None = attrs.field(
        default=None, validator=list_of("certificate.dns_names", _name, optional=True)
    )
    emails: list[str] | None = attrs.field(
        default=None, validator=list_of("certificate.emails", _email, optional=True)
    )
    csr: str | None = attrs.field(default=None, validator=csr("certificate.csr", optional=True))
    signature_hash: str = attrs.field(
        validator=choice("certificate.signature_hash", SIGNATURE_HASHES)
    )
    organization_units: list[str] | None = attrs.field(
        default=None, validator=list_of("certificate.organization_units", _name, optional=True)
    )
    server_platform: ServerPlatformRef | None = attrs.field(
        default=None,
        validator=instance_of("certificate.server_platform", ServerPlatformRef, optional=True),
    )
    ca_cert_id: str | None = attrs.field(
        default=None, validator=text("certificate.ca_cert_id", optional=True)
    )
    cert_validity: CertValidity | None = attrs.field(
        default=None,
        validator=instance_of("certificate.cert_validity", CertValidity, optional=True),
    )
    common_name_indicator: str | None = attrs.field(
        default=None, validator=text("certificate.common_name_indicator", optional=True)
    )
    individual: Individual | None = attrs.field(
        default=None, validator=instance_of("certificate.individual", Individual, optional=True)
    )

    def __attrs_post_init__(self) -> None:
        seen: dict[str, int] = {}
        for index, name in enumerate(self.dns_names or ()):
            key = name.strip().rstrip(".").lower()
            if key in seen:
                raise ValidationError(
                    f"certificate.dns_names[{index}]",
                    f"{name!r} is already dns_names[{seen[key]}] (DNS names ignore case)",
                )
            seen[key] = index


@attrs.frozen(kw_only=True)
class OrderContact:
    """A contact of the order: an entry of ``organization.contacts`` (with its
    ``contact_type``: ``organization_contact``, ``technical_contact``, ``ev_approver``...),
    or the ``organization_contact`` / ``technical_contact`` of a client certificate
    order. Either an existing user (``user_id``) or a person by name and email."""

    contact_type: str | None = None
    user_id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    telephone: str | None = None
    email: str | None = None


def _check_contact(path: str, contact: Any, *, typed: bool) -> None:
    if not isinstance(contact, OrderContact):
        raise ValidationError(path, f"expected OrderContact, got {describe(contact)}")
    if typed or contact.contact_type is not None:
        check_text(f"{path}.contact_type", contact.contact_type)
    for name in ("first_name", "last_name", "job_title", "telephone"):
        value = getattr(contact, name)
        if value is not None:
            check_text(f"{path}.{name}", value)
    if contact.email is not None:
        _email(f"{path}.email", contact.email)
    if contact.user_id is not None:
        check_id(f"{path}.user_id", contact.user_id)
        return
    for name in ("first_name", "last_name", "email"):
        if getattr(contact, name) is None:
            raise ValidationError(
                f"{path}.{name}", "required unless the contact is an existing user (user_id)"
            )


def _contacts(path: str, value: Any) -> None:
    _check_contact(path, value, typed=True)


@attrs.frozen(kw_only=True)
class OrderOrganization(OrganizationDetails):
    """``organization``: an existing organization by ``id``, or a new one by its
    details (``name``, ``address``, ``city``, ``state``, ``zip``, ``country``), with
    the order's ``contacts``."""

    contacts: list[OrderContact] | None = attrs.field(
        default=None, validator=list_of("organization.contacts", _contacts, optional=True)
    )


def _ship_method(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
    # DigiCert's own code signing example sends "EXPEDITED"; the table says lowercase.
    if not isinstance(value, str) or value.lower() not in SHIP_METHODS:
        raise ValidationError(
            "ship_info.method", f"must be standard or expedited (any case), got {value!r}"
        )


@attrs.frozen(kw_only=True)
class OrderShipInfo:
    """``ship_info``: where DigiCert ships a code signing token (``ship_token``)."""

    name: str = attrs.field(validator=text("ship_info.name"))
    addr1: str = attrs.field(validator=text("ship_info.addr1"))
    addr2: str | None = attrs.field(
        default=None, validator=text("ship_info.addr2", optional=True, non_empty=False)
    )
    city: str = attrs.field(validator=text("ship_info.city"))
    state: str = attrs.field(validator=text("ship_info.state"))
    zip: str = attrs.field(validator=text("ship_info.zip"))
    country: str = attrs.field(validator=text("ship_info.country"))
    method: str = attrs.field(validator=_ship_method)


def _optional_contact(path: str) -> Any:
    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            _check_contact(path, value, typed=False)

    return check


@attrs.frozen(kw_only=True)
class CertificateOrder:
    """The body of ``POST /order/certificate/{product_name_id}`` for any product but
    document signing (:class:`DocumentSigningOrder`). Fields are DigiCert's; see the
    module's table. Only ``certificate`` (with its ``signature_hash``) is required of
    every order: what else a product needs is checked by :func:`check_for_product`.

    Give the order's validity once: ``validity_years``, ``validity_days`` or
    ``custom_expiration_date`` at the top, or an ``order_validity`` object (a
    Multi-year Plan), not both.
    """

    certificate: CertificateDetails = attrs.field(
        validator=instance_of("certificate", CertificateDetails)
    )
    organization: OrderOrganization | None = attrs.field(
        default=None, validator=instance_of("organization", OrderOrganization, optional=True)
    )
    container: ContainerRef | None = attrs.field(
        default=None, validator=instance_of("container", ContainerRef, optional=True)
    )
    validity_years: int | None = attrs.field(default=None, validator=_positive("validity_years"))
    validity_days: int | None = attrs.field(default=None, validator=_positive("validity_days"))
    custom_expiration_date: date | None = attrs.field(
        default=None, validator=a_date("custom_expiration_date")
    )
    order_validity: OrderValidity | None = attrs.field(
        default=None, validator=instance_of("order_validity", OrderValidity, optional=True)
    )
    comments: str | None = attrs.field(
        default=None, validator=text("comments", optional=True, non_empty=False)
    )
    auto_renew: int | None = attrs.field(
        default=None, validator=_non_negative("auto_renew", optional=True)
    )
    auto_reissue: int | None = attrs.field(
        default=None, validator=_non_negative("auto_reissue", optional=True)
    )
    custom_renewal_message: str | None = attrs.field(
        default=None, validator=text("custom_renewal_message", optional=True, non_empty=False)
    )
    disable_renewal_notifications: bool | None = attrs.field(
        default=None, validator=boolean("disable_renewal_notifications", optional=True)
    )
    additional_emails: list[str] | None = attrs.field(
        default=None, validator=list_of("additional_emails", _email, optional=True)
    )
    renewal_of_order_id: int | None = attrs.field(
        default=None, validator=identifier("renewal_of_order_id", optional=True)
    )
    renewed_thumbprint: str | None = attrs.field(
        default=None, validator=text("renewed_thumbprint", optional=True)
    )
    dcv_method: str | None = attrs.field(
        default=None, validator=choice("dcv_method", DCV_METHODS, optional=True)
    )
    locale: str | None = attrs.field(default=None, validator=text("locale", optional=True))
    skip_approval: bool | None = attrs.field(
        default=None, validator=boolean("skip_approval", optional=True)
    )
    disable_ct: bool | None = attrs.field(
        default=None, validator=boolean("disable_ct", optional=True)
    )
    payment_method: str | None = attrs.field(
        default=None, validator=choice("payment_method", PAYMENT_METHODS, optional=True)
    )
    custom_fields: list[CustomField] | None = attrs.field(
        default=None, validator=list_of("custom_fields", _custom_field, optional=True)
    )
    user_id_assignments: list[int] | None = attrs.field(
        default=None, validator=list_of("user_id_assignments", _user_id, optional=True)
    )
    cs_provisioning_method: str | None = attrs.field(
        default=None, validator=text("cs_provisioning_method", optional=True)
    )
    ship_info: OrderShipInfo | None = attrs.field(
        default=None, validator=instance_of("ship_info", OrderShipInfo, optional=True)
    )
    organization_contact: OrderContact | None = attrs.field(
        default=None, validator=_optional_contact("organization_contact")
    )
    technical_contact: OrderContact | None = attrs.field(
        default=None, validator=_optional_contact("technical_contact")
    )

    def __attrs_post_init__(self) -> None:
        top = [
            name
            for name in ("custom_expiration_date", "validity_days", "validity_years")
            if getattr(self, name) is not None
        ]
        if self.order_validity is not None and top:
            raise ValidationError(
                top[0],
                "give the order's validity once: order_validity or the top-level"
                " validity_years/validity_days/custom_expiration_date, not both",
            )
