"""What DigiCert's ordering page for each product says an order must be, and the
validity schedule of publicly trusted TLS certificates: the tables
:func:`~digicert_async.models._product_check.check_for_product` reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

import attrs

__all__ = [
    "MAX_PUBLIC_TLS_ORDER_YEARS",
    "ORDER_PRODUCTS",
    "PRODUCT_RULES",
    "TLS_VALIDITY_SCHEDULE",
    "ProductRules",
    "tls_validity_cap",
    "years_later",
]

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


def years_later(today: date, years: int) -> date:
    """The same day ``years`` on (28 February for a 29 February that year lacks)."""
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February
        return today.replace(year=today.year + years, day=28)


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
