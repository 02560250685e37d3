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
:func:`check_for_product`, which ``client.orders.create`` runs before sending.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

import attrs

from digicert_async._checks import check_id, check_text, describe
from digicert_async._errors import ValidationError

from ._common import boolean, choice, identifier, instance_of, list_of, text
from .document_signing import ContainerRef, CustomField, ServerPlatformRef
from .products import ProductDetails, year_counts

__all__ = [
    "DCV_METHODS",
    "ORDER_PRODUCTS",
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
    "ProductRules",
    "check_csr",
    "check_for_product",
    "tls_validity_cap",
]

logger = logging.getLogger("digicert_async.orders")

SIGNATURE_HASHES: Final = frozenset({"sha256", "sha384", "sha512"})
"""Glossary, Hash types: what ``certificate.signature_hash`` may be."""
DCV_METHODS: Final = frozenset(
    {"email", "dns-txt-token", "dns-cname-token", "http-token", "http-token-dynamic"}
)
"""DCV methods an OV/EV order may name; DV orders do not take ``http-token-dynamic``."""
PAYMENT_METHODS: Final = frozenset({"balance", "card", "profile"})
SHIP_METHODS: Final = frozenset({"standard", "expedited"})
MAX_CSR_CHARACTERS: Final = 64 * 1024
"""A CSR is a few kilobytes; anything this long is not one."""
MAX_PUBLIC_TLS_ORDER_YEARS: Final = 3
"""Since 2023-10-31 DigiCert refuses public TLS orders longer than 3 years."""

# The CA/Browser Forum's schedule (Baseline Requirements, ballot SC-081): the longest a
# publicly trusted TLS certificate issued on or after each date may be valid, in days.
TLS_VALIDITY_SCHEDULE: Final = (
    (date(2029, 3, 15), 47),
    (date(2027, 3, 15), 100),
    (date(2026, 3, 15), 200),
)
TLS_VALIDITY_BEFORE_SCHEDULE: Final = 398


def tls_validity_cap(on: date) -> int:
    """The longest validity, in days, of a public TLS certificate issued ``on`` that day."""
    for start, days in TLS_VALIDITY_SCHEDULE:
        if on >= start:
            return days
    return TLS_VALIDITY_BEFORE_SCHEDULE


# --------------------------------------------------------------------------- products


@attrs.frozen
class ProductRules:
    """What DigiCert's ordering page for a product says an order must be."""

    family: str
    """``ov_ev``, ``dv``, ``private``, ``client`` or ``code_signing``."""
    wildcard: bool
    """Whether a ``*.`` name is allowed in ``common_name`` and ``dns_names``."""
    public_tls: bool = False
    """Publicly trusted TLS: the CA/Browser Forum's validity schedule applies."""

    @property
    def tls(self) -> bool:
        """Whether the product's family issues TLS certificates (``ov_ev``, ``dv``, ``private``)."""
        return self.family in ("ov_ev", "dv", "private")


_OV_EV_WILDCARD = ProductRules("ov_ev", wildcard=True, public_tls=True)
_OV_EV_SINGLE = ProductRules("ov_ev", wildcard=False, public_tls=True)
_DV_WILDCARD = ProductRules("dv", wildcard=True, public_tls=True)
_DV_SINGLE = ProductRules("dv", wildcard=False, public_tls=True)
_PRIVATE_WILDCARD = ProductRules("private", wildcard=True)
_PRIVATE_SINGLE = ProductRules("private", wildcard=False)
_CLIENT = ProductRules("client", wildcard=False)
_CODE_SIGNING = ProductRules("code_signing", wildcard=False)

PRODUCT_RULES: Final[Mapping[str, ProductRules]] = {
    # Flexible OV products replace the single, multi-domain and wildcard ones, so they
    # take wildcards; EV never does (EV Guidelines). Secure Site Pro SSL is read as
    # flexible like Secure Site OV (its page's table does not survive in full).
    "ssl_basic": _OV_EV_WILDCARD,
    "ssl_securesite_flex": _OV_EV_WILDCARD,
    "ssl_securesite_pro": _OV_EV_WILDCARD,
    "ssl_ev_basic": _OV_EV_SINGLE,
    "ssl_ev_securesite_flex": _OV_EV_SINGLE,
    "ssl_ev_securesite_pro": _OV_EV_SINGLE,
    # Legacy products, still ordered by name.
    "ssl_plus": _OV_EV_SINGLE,
    "ssl_multi_domain": _OV_EV_SINGLE,
    "ssl_wildcard": _OV_EV_WILDCARD,
    "ssl_cloud_wildcard": _OV_EV_WILDCARD,
    "ssl_ev_plus": _OV_EV_SINGLE,
    "ssl_ev_multi_domain": _OV_EV_SINGLE,
    "ssl_dv_geotrust": _DV_SINGLE,
    "ssl_dv_rapidssl": _DV_SINGLE,
    "wildcard_dv_geotrust": _DV_WILDCARD,
    "wildcard_dv_rapidssl": _DV_WILDCARD,
    "cloud_dv_geotrust": _DV_WILDCARD,
    "private_ssl_flex": _PRIVATE_WILDCARD,
    "private_ssl_plus": _PRIVATE_SINGLE,
    "private_ssl_wildcard": _PRIVATE_WILDCARD,
    "private_ssl_multi_domain": _PRIVATE_SINGLE,
    "client_premium": _CLIENT,
    "client_digital_signature_plus": _CLIENT,
    "client_email_security_plus": _CLIENT,
    "class1_smime": _CLIENT,
    "client_authentication_plus": _CLIENT,
    "code_signing": _CODE_SIGNING,
    "code_signing_ev": _CODE_SIGNING,
}

ORDER_PRODUCTS: Final[frozenset[str]] = frozenset(PRODUCT_RULES)
"""The product identifiers whose ordering pages ``orders.create`` checks an order
against. Any other identifier is sent with only the checks every order gets."""

_ORGANIZATION_REQUIRED: Final = frozenset({"ov_ev", "private", "code_signing"})


# --------------------------------------------------------------------------- field checks


_PEM_CSR = re.compile(
    r"-----BEGIN (NEW )?CERTIFICATE REQUEST-----"
    r"([A-Za-z0-9+/=\s]*)"
    r"-----END (NEW )?CERTIFICATE REQUEST-----"
)


def check_csr(path: str, value: object) -> str:
    """``value`` if it is one PEM ``CERTIFICATE REQUEST`` block (``NEW CERTIFICATE
    REQUEST``, Microsoft's older label, too) whose base64 decodes to a DER SEQUENCE
    that holds a SEQUENCE (the request's info) and nothing after it; else raise.

    The structure is checked, not the signature: that takes a crypto library, and
    DigiCert checks it anyway. A placeholder such as ``"<csr>"`` is refused.
    """
    csr = check_text(path, value)
    if len(csr) > MAX_CSR_CHARACTERS:
        raise ValidationError(path, f"is {len(csr)} characters long; a CSR is a few thousand")
    match = _PEM_CSR.fullmatch(csr.strip())
    if match is None:
        raise ValidationError(
            path,
            "must be one PEM block from '-----BEGIN CERTIFICATE REQUEST-----' to"
            " '-----END CERTIFICATE REQUEST-----' with base64 between, and nothing else"
            f" (got {_preview(csr)})",
        )
    if match.group(1) != match.group(3):
        raise ValidationError(path, "the BEGIN and END labels of the PEM block differ")
    encoded = "".join(match.group(2).split())
    if not encoded:
        raise ValidationError(path, "the PEM block is empty")
    try:
        der = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(path, "the PEM block is not valid base64") from None
    problem = _der_request_problem(der)
    if problem is not None:
        raise ValidationError(path, f"the PEM block is not a DER certificate request: {problem}")
    return csr


def _preview(text: str) -> str:
    shown = text.strip()
    return repr(shown if len(shown) <= 40 else shown[:37] + "...")


def _der_header(der: bytes, offset: int) -> tuple[int, int, int] | str:
    """``(tag, content start, content end)`` of the DER element at ``offset``, or why
    there is none (indefinite and overlong lengths are not DER)."""
    if offset + 2 > len(der):
        return "truncated"
    tag = der[offset]
    first = der[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0:
            return "indefinite length"
        if count > 4 or start + count > len(der):
            return "bad length"
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    end = start + length
    if end > len(der):
        return "truncated"
    return tag, start, end


def _der_request_problem(der: bytes) -> str | None:
    outer = _der_header(der, 0)
    if isinstance(outer, str):
        return outer
    tag, start, end = outer
    if tag != 0x30:
        return f"starts with tag 0x{tag:02x}, not a SEQUENCE"
    if end != len(der):
        return f"{len(der) - end} bytes follow the SEQUENCE"
    inner = _der_header(der, start)
    if isinstance(inner, str):
        return f"its first element: {inner}"
    if inner[0] != 0x30:
        return "its first element is not a SEQUENCE (the request's info)"
    return None


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


def _a_date(path: str) -> Any:
    def check(_instance: Any, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        # a datetime is a date too, but it would be sent with its time
        if type(value) is not date:
            raise ValidationError(path, f"expected a date (YYYY-MM-DD), got {describe(value)}")

    return check


# --------------------------------------------------------------------------- validity


def _validity_fields(prefix: str) -> tuple[Any, Any, Any]:
    return (
        attrs.field(default=None, validator=_positive(f"{prefix}years")),
        attrs.field(default=None, validator=_positive(f"{prefix}days")),
        attrs.field(default=None, validator=_a_date(f"{prefix}custom_expiration_date")),
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
    csr: str | None = attrs.field(default=None)
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

    @csr.validator
    def _check_csr(self, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            check_csr("certificate.csr", value)

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


def _org_text(name: str) -> Any:
    return attrs.field(default=None, validator=text(f"organization.{name}", optional=True))


_NEW_ORGANIZATION: Final = ("name", "address", "city", "state", "zip", "country")


@attrs.frozen(kw_only=True)
class OrderOrganization:
    """``organization``: an existing organization by ``id``, or a new one by its
    details (``name``, ``address``, ``city``, ``state``, ``zip``, ``country``), with
    the order's ``contacts``."""

    id: int | None = attrs.field(
        default=None, validator=identifier("organization.id", optional=True)
    )
    skip_duplicate_org_check: bool | None = attrs.field(
        default=None, validator=boolean("organization.skip_duplicate_org_check", optional=True)
    )
    name: str | None = _org_text("name")
    assumed_name: str | None = _org_text("assumed_name")
    address: str | None = _org_text("address")
    address2: str | None = _org_text("address2")
    city: str | None = _org_text("city")
    state: str | None = _org_text("state")
    zip: str | None = _org_text("zip")
    country: str | None = _org_text("country")
    telephone: str | None = _org_text("telephone")
    contacts: list[OrderContact] | None = attrs.field(
        default=None, validator=list_of("organization.contacts", _contacts, optional=True)
    )

    def __attrs_post_init__(self) -> None:
        if self.id is not None:
            return
        missing = [name for name in _NEW_ORGANIZATION if getattr(self, name) is None]
        if len(missing) == len(_NEW_ORGANIZATION):
            raise ValidationError(
                "organization.id",
                "required unless the details of a new organization are given"
                f" ({', '.join(_NEW_ORGANIZATION)})",
            )
        if missing:
            raise ValidationError(
                f"organization.{missing[0]}",
                "required for a new organization (when organization.id is not given)",
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
        default=None, validator=_a_date("custom_expiration_date")
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


# --------------------------------------------------------------------------- product check


_Span = tuple[str, int]  # (the field that decided, days from today)


def _years_later(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February
        return today.replace(year=today.year + years, day=28)


def _span(
    where: str,
    years: int | None,
    days: int | None,
    custom: date | None,
    today: date,
) -> _Span | None:
    """Which of ``custom_expiration_date``, ``days``, ``years`` decides (DigiCert's
    precedence), and how many days from ``today`` it means; logs what it overrides."""
    given = [
        (name, value)
        for name, value in (
            ("custom_expiration_date", custom),
            ("days", days),
            ("years", years),
        )
        if value is not None
    ]
    if not given:
        return None
    (winner, value), ignored = given[0], given[1:]
    field = f"{where}{winner}" if where else _top_level(winner)
    for name, _ in ignored:
        logger.warning(
            "%s is ignored: %s (%s) takes precedence over it, as DigiCert applies them",
            f"{where}{name}" if where else _top_level(name),
            field,
            value,
        )
    if winner == "custom_expiration_date":
        assert isinstance(value, date)
        if value <= today:
            raise ValidationError(field, f"must be after today ({today.isoformat()})")
        return field, (value - today).days
    if winner == "days":
        assert isinstance(value, int)
        return field, value
    assert isinstance(value, int)
    return field, (_years_later(today, value) - today).days


def _top_level(name: str) -> str:
    return name if name == "custom_expiration_date" else f"validity_{name}"


def _product_years(details: ProductDetails, attribute: str) -> list[int]:
    try:
        years = year_counts(getattr(details, attribute), attribute)
    except ValueError as exc:
        raise ValidationError(f"product.{attribute}", str(exc).split(": ", 1)[-1]) from None
    return years


def check_for_product(
    order: CertificateOrder,
    product_name_id: str,
    details: ProductDetails | None = None,
    *,
    today: date,
) -> None:
    """Check ``order`` against what ordering ``product_name_id`` requires: its page's
    rules (:data:`PRODUCT_RULES`, for the products listed there) and, when given, the
    product's ``details`` (allowed hashes, validity, whether a CSR is required).

    Raises ``ValidationError`` for what DigiCert would refuse. Validity past the cap
    (the product's, else the CA/Browser Forum's schedule for public TLS on ``today``)
    is logged as a WARNING, not refused: DigiCert shortens such a certificate.
    """
    rules = PRODUCT_RULES.get(product_name_id)
    certificate = order.certificate
    _check_names(order, product_name_id, rules)
    _check_csr_needed(order, product_name_id, rules, details)
    if details is not None:
        allowed = details.hash_ids()
        if allowed and certificate.signature_hash not in allowed:
            raise ValidationError(
                "certificate.signature_hash",
                f"{product_name_id} allows {', '.join(sorted(allowed))},"
                f" not {certificate.signature_hash!r}",
            )
    if rules is not None:
        if order.dcv_method == "http-token-dynamic" and rules.family == "dv":
            raise ValidationError("dcv_method", "DV orders take http-token, not http-token-dynamic")
        if rules.family in _ORGANIZATION_REQUIRED and order.organization is None:
            raise ValidationError("organization", f"required to order {product_name_id}")
    _check_validity(order, product_name_id, rules, details, today)


def _check_names(order: CertificateOrder, product: str, rules: ProductRules | None) -> None:
    certificate = order.certificate
    if rules is None:
        return
    if product == "class1_smime":
        if certificate.common_name is not None:
            raise ValidationError(
                "certificate.common_name",
                "class1_smime takes no common_name: DigiCert sets it to the first email",
            )
    elif certificate.common_name is None and rules.family != "code_signing":
        # A code signing certificate names the organization: its page takes no common_name.
        raise ValidationError("certificate.common_name", f"required to order {product}")
    if rules.family == "client" and not certificate.emails:
        raise ValidationError("certificate.emails", f"required to order {product}")
    if not rules.tls:
        return
    names: list[tuple[str, str]] = []
    if certificate.common_name is not None:
        names.append(("certificate.common_name", certificate.common_name))
    names += [
        (f"certificate.dns_names[{index}]", name)
        for index, name in enumerate(certificate.dns_names or ())
    ]
    for field, name in names:
        if "*" not in name:
            continue
        labels = name.strip().split(".")
        if labels[0] != "*" or "*" in ".".join(labels[1:]) or len(labels) < 3:
            raise ValidationError(
                field, f"{name!r}: a wildcard is '*' as the whole leftmost label (*.example.com)"
            )
        if not rules.wildcard:
            raise ValidationError(field, f"{product} does not allow a wildcard ({name!r})")


def _check_csr_needed(
    order: CertificateOrder,
    product: str,
    rules: ProductRules | None,
    details: ProductDetails | None,
) -> None:
    if order.certificate.csr is not None:
        return
    if details is not None and details.csr_required is True:
        raise ValidationError("certificate.csr", f"required by {product} (csr_required)")
    if rules is None:
        return
    if rules.tls:
        raise ValidationError("certificate.csr", f"required to order {product}")
    if rules.family == "code_signing" and order.cs_provisioning_method == "email":
        raise ValidationError(
            "certificate.csr", "required when cs_provisioning_method is 'email' (install on HSM)"
        )


def _check_validity(
    order: CertificateOrder,
    product: str,
    rules: ProductRules | None,
    details: ProductDetails | None,
    today: date,
) -> None:
    ordered = order.order_validity
    if ordered is not None:
        span = _span(
            "order_validity.", ordered.years, ordered.days, ordered.custom_expiration_date, today
        )
    else:
        span = _span(
            "", order.validity_years, order.validity_days, order.custom_expiration_date, today
        )
    if span is None:
        if rules is not None:
            raise ValidationError(
                "validity_years",
                f"required to order {product}: give validity_years, validity_days,"
                " custom_expiration_date or order_validity",
            )
        return
    order_field, order_days = span

    # How long DigiCert lets the order run: it refuses longer ones.
    limits: list[tuple[int, str]] = []
    if rules is not None and rules.public_tls:
        limits.append((MAX_PUBLIC_TLS_ORDER_YEARS, "public TLS orders"))
    if details is not None:
        order_years = _product_years(details, "allowed_order_validity_years")
        if order_years:
            limits.append((max(order_years), f"{product}'s allowed_order_validity_years"))
        elif details.max_multi_year_order_validity_years is not None:
            limits.append(
                (
                    details.max_multi_year_order_validity_years,
                    f"{product}'s max_multi_year_order_validity_years",
                )
            )
        else:
            cert_years = _product_years(details, "allowed_validity_years")
            if cert_years:
                limits.append((max(cert_years), f"{product}'s allowed_validity_years"))
    for limit, source in limits:
        longest = (_years_later(today, limit) - today).days
        if order_days > longest:
            raise ValidationError(
                order_field,
                f"{order_days} days is longer than {limit} year(s), the most {source} allow",
            )

    certificate_span = span
    cert_validity = order.certificate.cert_validity
    if cert_validity is not None:
        certificate_span = (
            _span(
                "certificate.cert_validity.",
                cert_validity.years,
                cert_validity.days,
                cert_validity.custom_expiration_date,
                today,
            )
            or span
        )
        if certificate_span[1] > order_days:
            raise ValidationError(
                certificate_span[0],
                f"the certificate ({certificate_span[1]} days) cannot outlast the order"
                f" ({order_days} days): DigiCert refuses it"
                " (cert_validity_exceeds_order_validity)",
            )
    _warn_past_cap(certificate_span, product, rules, details, today)


def _warn_past_cap(
    span: _Span,
    product: str,
    rules: ProductRules | None,
    details: ProductDetails | None,
    today: date,
) -> None:
    field, days = span
    caps: list[tuple[int, str]] = []
    if details is not None:
        years = _product_years(details, "allowed_validity_years")
        if years:
            longest = (_years_later(today, max(years)) - today).days
            caps.append((longest, f"{product}'s allowed_validity_years ({max(years)} year(s))"))
    # The schedule binds every publicly trusted TLS certificate, whatever a product's
    # details still say; when the details are not known it is the only cap.
    if rules is not None and rules.public_tls:
        caps.append(
            (tls_validity_cap(today), f"the CA/Browser Forum's limit from {today.isoformat()}")
        )
    if not caps:
        return
    cap, source = min(caps)
    if days > cap:
        logger.warning(
            "%s asks for a certificate valid %d days, past %s: %d days;"
            " DigiCert issues it for at most %d days (the order's coverage is unchanged)",
            field,
            days,
            source,
            cap,
            cap,
        )
