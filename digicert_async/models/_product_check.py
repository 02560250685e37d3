"""The business checks of an order against its product, run by ``orders.create``
before anything is sent: what DigiCert would refuse is a ``ValidationError``; what it
would quietly change (a field overridden by DigiCert's precedence, a certificate asked
for past the validity cap) is logged as a WARNING.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Final

from digicert_async._errors import ValidationError

from ._product_rules import (
    MAX_PUBLIC_TLS_ORDER_YEARS,
    PRODUCT_RULES,
    ProductRules,
    tls_validity_cap,
    years_later,
)
from .certificate_order import CertificateOrder
from .products import ProductDetails, year_counts

__all__ = ["check_for_product"]

logger = logging.getLogger("digicert_async.orders")

_ORGANIZATION_REQUIRED: Final = frozenset({"ov_ev", "private", "code_signing"})

_Span = tuple[str, int]  # (the field that decided, days from today)


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
    return field, (years_later(today, value) - today).days


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

    for limit, source in _order_limits(product, rules, details):
        longest = (years_later(today, limit) - today).days
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


def _order_limits(
    product: str, rules: ProductRules | None, details: ProductDetails | None
) -> list[tuple[int, str]]:
    """How many years DigiCert lets the order run, and who says so: it refuses longer."""
    limits: list[tuple[int, str]] = []
    if rules is not None and rules.public_tls:
        limits.append((MAX_PUBLIC_TLS_ORDER_YEARS, "public TLS orders"))
    if details is None:
        return limits
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
    return limits


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
            longest = (years_later(today, max(years)) - today).days
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
