"""The checks of a new order's request, as DigiCert makes them: every problem found, in
field order, with DigiCert's codes; and what an accepted order's validity comes to."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from ._products import FakeProduct
from ._routing import invalid, non_empty_text, required
from ._state import FakeAccount, JSONDict, whole_number


@dataclass(frozen=True)
class Validity:
    """What an accepted order's validity came to: the order's days, the certificate's
    (shortened to the cap as DigiCert shortens it), and the years to bill."""

    order_days: int
    certificate_days: int
    years: int


_VALIDITY_UNITS = (
    ("custom_expiration_date", "custom_expiration_date"),
    ("days", "validity_days"),
    ("years", "validity_years"),
)


def _validity_span(
    values: JSONDict, prefix: str, today: date, problems: list[tuple[str, str]]
) -> tuple[str, int] | None:
    """``(field, days)`` of the unit that decides (DigiCert's precedence:
    ``custom_expiration_date``, days, years), or None when none is given."""
    for unit, top_level in _VALIDITY_UNITS:
        key = f"{prefix}{unit}" if prefix else top_level
        value = values.get(unit if prefix else top_level)
        if value is None:
            continue
        if unit == "custom_expiration_date":
            try:
                end = date.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                end = None
            if end is None or end <= today:
                problems.append(invalid(key, "Expected a future date as YYYY-MM-DD."))
                return None
            return key, (end - today).days
        if not whole_number(value) or value < 1:
            problems.append(invalid(key, "Expected a whole number from 1."))
            return None
        if unit == "days":
            return key, value
        return key, (_years_later(today, value) - today).days
    return None


def _years_later(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February
        return today.replace(year=today.year + years, day=28)


def check_certificate_order(
    product: FakeProduct, data: JSONDict, store: FakeAccount
) -> tuple[list[tuple[str, str]], Validity | None]:
    """DigiCert's checks of an order for ``product``: every problem found, in field
    order, with DigiCert's codes (``required_param:<field>``, ``invalid_value:<field>``,
    ``csr_invalid_cannot_parse``, ``cert_validity_exceeds_order_validity``)."""
    problems: list[tuple[str, str]] = []
    certificate = data.get("certificate")
    if not isinstance(certificate, dict):
        problems.append(required("certificate"))
        certificate = {}
    else:
        _check_certificate(product, certificate, problems)
    if product.tls and data.get("dcv_method") is not None:
        methods = _DV_DCV_METHODS if product.family == "dv" else _DCV_METHODS
        if data["dcv_method"] not in methods:
            problems.append(invalid("dcv_method", f"Allowed: {', '.join(sorted(methods))}."))
    organization = data.get("organization")
    if organization is None:
        if product.family in ("ov_ev", "private", "code_signing"):
            problems.append(required("organization"))
    elif not isinstance(organization, dict):
        problems.append(invalid("organization"))
    else:
        _check_organization(organization, problems)
    if (
        product.family == "code_signing"
        and data.get("cs_provisioning_method") == "email"
        and not non_empty_text(certificate.get("csr"))
    ):
        problems.append(required("certificate.csr"))
    renewal = data.get("renewal_of_order_id")
    if renewal is not None and not (whole_number(renewal) and renewal in store.orders):
        problems.append(invalid("renewal_of_order_id", "Expected the id of an order."))
    payment_method = data.get("payment_method")
    if payment_method is not None and payment_method not in ("balance", "card", "profile"):
        problems.append(invalid("payment_method", "Allowed: balance, card, profile."))
    validity = _check_validity(product, data, certificate, store.now().date(), problems)
    return problems, validity


_DCV_METHODS = frozenset(
    {"email", "dns-txt-token", "dns-cname-token", "http-token", "http-token-dynamic"}
)
_DV_DCV_METHODS = _DCV_METHODS - {"http-token-dynamic"}
_CSR_BLOCK = re.compile(
    r"-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]+)"
    r"-----END (?:NEW )?CERTIFICATE REQUEST-----"
)


def _parses_as_csr(text: str) -> bool:
    """A PEM certificate request whose DER is one SEQUENCE (the signature unchecked)."""
    match = _CSR_BLOCK.fullmatch(text.strip())
    if match is None:
        return False
    try:
        der = base64.b64decode("".join(match.group(1).split()), validate=True)
    except ValueError:
        return False
    if len(der) < 2 or der[0] != 0x30:
        return False
    size = der[1]
    offset = 2
    if size & 0x80:
        count = size & 0x7F
        if not 1 <= count <= 4:
            return False
        size = int.from_bytes(der[2 : 2 + count], "big")
        offset += count
    return offset + size == len(der)


def _check_certificate(
    product: FakeProduct, certificate: JSONDict, problems: list[tuple[str, str]]
) -> None:
    common_name = certificate.get("common_name")
    if product.name_id == "class1_smime":
        if common_name is not None:
            problems.append(invalid("certificate.common_name", "Set from the first email."))
    elif product.family in ("ov_ev", "dv", "private", "client") and not non_empty_text(common_name):
        problems.append(required("certificate.common_name"))
    dns_names = certificate.get("dns_names")
    names = [common_name] if non_empty_text(common_name) else []
    if dns_names is not None:
        if not isinstance(dns_names, list) or not all(non_empty_text(n) for n in dns_names):
            problems.append(invalid("certificate.dns_names", "Expected a list of names."))
        else:
            folded = [name.lower() for name in dns_names]
            if len(set(folded)) != len(folded):
                problems.append(invalid("certificate.dns_names", "Duplicate names."))
            names += dns_names
    if product.tls and not product.wildcard and any("*" in str(name) for name in names):
        field = "certificate.common_name" if "*" in str(common_name) else "certificate.dns_names"
        problems.append(invalid(field, f"{product.name} does not allow wildcard domains."))
    if product.family == "client" and not certificate.get("emails"):
        problems.append(required("certificate.emails"))
    csr = certificate.get("csr")
    if csr is None or csr == "":
        if product.csr_required:
            problems.append(required("certificate.csr"))
    elif not (isinstance(csr, str) and _parses_as_csr(csr)):
        problems.append(("csr_invalid_cannot_parse", "The CSR could not be parsed."))
    signature_hash = certificate.get("signature_hash")
    if signature_hash is None:
        problems.append(required("certificate.signature_hash"))
    elif signature_hash not in product.hashes:
        problems.append(
            invalid("certificate.signature_hash", f"Allowed: {', '.join(product.hashes)}.")
        )


def _check_validity(
    product: FakeProduct,
    data: JSONDict,
    certificate: JSONDict,
    today: date,
    problems: list[tuple[str, str]],
) -> Validity | None:
    order_validity = data.get("order_validity")
    if order_validity is not None:
        if not isinstance(order_validity, dict):
            problems.append(invalid("order_validity"))
            return None
        span = _validity_span(order_validity, "order_validity.", today, problems)
    else:
        span = _validity_span(data, "", today, problems)
    if span is None:
        if not any(key.startswith("invalid_value:") for key, _ in problems):
            problems.append(required("validity_years"))
        return None
    field, order_days = span
    # Since 2023-10-31 DigiCert refuses public TLS orders longer than 3 years, naming the
    # unit that was used (End of 4- to 6-year Multi-year Plans).
    longest = max(product.order_validity_years)
    if order_days > (_years_later(today, longest) - today).days:
        unit = dict(_VALIDITY_UNITS).get(field.removeprefix("order_validity."), field)
        problems.append((f"invalid_value:{unit}", f"{unit} contains an invalid value."))
        return None
    certificate_days = order_days
    cert_validity = certificate.get("cert_validity")
    if isinstance(cert_validity, dict):
        cert_span = _validity_span(cert_validity, "certificate.cert_validity.", today, problems)
        if cert_span is None:
            return None
        if cert_span[1] > order_days:
            problems.append(
                (
                    "cert_validity_exceeds_order_validity",
                    "The validity period of the certificate cannot exceed the validity"
                    " period of the order.",
                )
            )
            return None
        certificate_days = cert_span[1]
    cap = (_years_later(today, max(product.validity_years)) - today).days
    if product.public_tls:
        cap = min(cap, _tls_cap(today))
    # Billed in whole years: those asked for, else enough to cover the days.
    years = -(-order_days // 366)
    if field.endswith("years"):
        source: JSONDict = order_validity if isinstance(order_validity, dict) else data
        asked: Any = source.get("years" if source is order_validity else "validity_years")
        if whole_number(asked):
            years = asked
    return Validity(order_days, min(certificate_days, cap), years)


def _tls_cap(today: date) -> int:
    """The CA/Browser Forum's longest public TLS validity on ``today``, in days.

    Written again rather than imported from the client's checks: the fake stands in for
    DigiCert, and a test of those checks against it must not pass by construction."""
    for start, days in (
        (date(2029, 3, 15), 47),
        (date(2027, 3, 15), 100),
        (date(2026, 3, 15), 200),
    ):
        if today >= start:
            return days
    return 398


def check_document_signing(data: JSONDict) -> list[tuple[str, str]]:
    """Seed 3's request rules; every problem found, in field order."""
    problems: list[tuple[str, str]] = []
    certificate = data.get("certificate")
    if not isinstance(certificate, dict):
        problems.append(required("certificate"))
        certificate = {}
    else:
        _check_signing_certificate(certificate, problems)
    if data.get("cs_provisioning_method") == "email" and not non_empty_text(certificate.get("csr")):
        problems.append(required("certificate.csr"))

    validity_years = data.get("validity_years")
    if validity_years is None:
        problems.append(required("validity_years"))
    elif not (whole_number(validity_years) and 1 <= validity_years <= 3):
        problems.append(invalid("validity_years", "Allowed values: 1, 2, 3."))

    organization = data.get("organization")
    if not isinstance(organization, dict):
        problems.append(required("organization"))
    else:
        _check_organization(organization, problems)

    container = data.get("container")
    if container is not None and not (
        isinstance(container, dict) and whole_number(container.get("id"))
    ):
        problems.append(required("container.id"))
    _check_ship_info(data.get("ship_info"), problems)

    subject = data.get("subject")
    if not isinstance(subject, dict):
        problems.append(required("subject"))
    else:
        for key in ("name", "job_title", "phone", "email"):
            if not non_empty_text(subject.get(key)):
                problems.append(required(f"subject.{key}"))

    payment_method = data.get("payment_method")
    if payment_method is not None and payment_method not in ("balance", "card", "profile"):
        problems.append(invalid("payment_method", "Allowed: balance, card, profile."))
    return problems


def _check_signing_certificate(certificate: JSONDict, problems: list[tuple[str, str]]) -> None:
    signature_hash = certificate.get("signature_hash")
    if signature_hash is None:
        problems.append(required("certificate.signature_hash"))
    elif signature_hash != "sha256":
        problems.append(invalid("certificate.signature_hash", "Allowed value: sha256."))
    platform = certificate.get("server_platform")
    if platform is not None and not (
        isinstance(platform, dict) and whole_number(platform.get("id"))
    ):
        problems.append(required("certificate.server_platform.id"))


def _check_organization(organization: JSONDict, problems: list[tuple[str, str]]) -> None:
    """An organization named by its id, or given by its details (a name at least)."""
    if "id" in organization:
        if not whole_number(organization["id"]):
            problems.append(invalid("organization.id"))
    elif not non_empty_text(organization.get("name")):
        problems.append(required("organization.name"))


def _check_ship_info(ship_info: Any, problems: list[tuple[str, str]]) -> None:
    if ship_info is None:
        return
    if not isinstance(ship_info, dict):
        problems.append(invalid("ship_info"))
        return
    for key in ("name", "addr1", "city", "state", "zip", "country", "method"):
        if not non_empty_text(ship_info.get(key)):
            problems.append(required(f"ship_info.{key}"))
    method = ship_info.get("method")
    if non_empty_text(method) and method not in ("standard", "expedited"):
        problems.append(invalid("ship_info.method", "Allowed: standard, expedited."))
