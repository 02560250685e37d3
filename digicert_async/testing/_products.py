"""Products: the list and each product's details, and what ordering each one requires.

The catalog is the fake account's: every product DigiCert's ordering pages document,
enabled, with details shaped like DigiCert's answers. The list writes year lists as
numbers (as the Product list example does) and the details as strings (as the Product
info example does: ``"allowed_validity_years": ["1"]``), so that a client meets both.
The identifiers of issuing CAs are the fake's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._routing import Answer, Call, Routes, found
from ._state import FakeAccount, JSONDict

__all__ = ["CATALOG", "FakeProduct", "product_summary"]

TLS_HASHES = ("sha256", "sha384", "sha512")
_HASH_NAMES = {"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512"}
FAKE_CONTAINER_ID = 334455


@dataclass(frozen=True)
class FakeProduct:
    """One product of the fake account and the rules its orders follow."""

    name_id: str
    name: str
    group_name: str
    validation_type: str
    family: str
    """``ov_ev``, ``dv``, ``private``, ``client``, ``code_signing`` or ``document_signing``."""
    wildcard: bool = False
    hashes: tuple[str, ...] = TLS_HASHES
    validity_years: tuple[int, ...] = (1,)
    order_validity_years: tuple[int, ...] = (1, 2, 3)
    csr_required: bool = True
    price: int = 100

    @property
    def public_tls(self) -> bool:
        return self.family in ("ov_ev", "dv")

    @property
    def tls(self) -> bool:
        return self.family in ("ov_ev", "dv", "private")


def _products(*products: FakeProduct) -> dict[str, FakeProduct]:
    return {product.name_id: product for product in products}


def _ov(name_id: str, name: str, *, wildcard: bool, price: int) -> FakeProduct:
    return FakeProduct(name_id, name, "ssl_certificate", "OV", "ov_ev", wildcard, price=price)


def _ev(name_id: str, name: str, *, price: int) -> FakeProduct:
    return FakeProduct(name_id, name, "ssl_certificate", "EV", "ov_ev", price=price)


def _dv(name_id: str, name: str, *, wildcard: bool) -> FakeProduct:
    return FakeProduct(name_id, name, "ssl_certificate", "DV", "dv", wildcard, price=149)


def _private(name_id: str, name: str, *, wildcard: bool) -> FakeProduct:
    return FakeProduct(
        name_id,
        name,
        "private_ssl_certificate",
        "Private SSL",
        "private",
        wildcard,
        validity_years=(1, 2, 3),
        price=90,
    )


def _client(name_id: str, name: str) -> FakeProduct:
    return FakeProduct(
        name_id,
        name,
        "client_certificate",
        "OV",
        "client",
        validity_years=(1, 2, 3),
        csr_required=False,
        price=60,
    )


def _code_signing(name_id: str, name: str, validation: str) -> FakeProduct:
    return FakeProduct(
        name_id,
        name,
        "code_signing_certificate",
        validation,
        "code_signing",
        hashes=("sha256",),
        validity_years=(1, 2, 3),
        csr_required=False,
        price=474,
    )


def _document_signing(name_id: str, name: str) -> FakeProduct:
    return FakeProduct(
        name_id,
        name,
        "document_signing_certificate",
        "DS",
        "document_signing",
        hashes=("sha256",),
        validity_years=(1, 2, 3),
        csr_required=False,
        price=469,
    )


CATALOG: dict[str, FakeProduct] = _products(
    _ov("ssl_basic", "Basic OV", wildcard=True, price=358),
    _ev("ssl_ev_basic", "Basic EV", price=495),
    _ov("ssl_securesite_flex", "Secure Site OV", wildcard=True, price=399),
    _ev("ssl_ev_securesite_flex", "Secure Site EV", price=995),
    _ov("ssl_securesite_pro", "Secure Site Pro SSL", wildcard=True, price=1099),
    _ev("ssl_ev_securesite_pro", "Secure Site Pro EV SSL", price=1499),
    _ov("ssl_plus", "Standard SSL", wildcard=False, price=198),
    _ov("ssl_wildcard", "WildCard SSL", wildcard=True, price=688),
    _ov("ssl_multi_domain", "Multi-Domain SSL", wildcard=False, price=299),
    _ov("ssl_cloud_wildcard", "Cloud SSL", wildcard=True, price=475),
    _ev("ssl_ev_plus", "EV SSL", price=344),
    _ev("ssl_ev_multi_domain", "EV Multi-Domain SSL", price=599),
    _dv("ssl_dv_geotrust", "GeoTrust Standard DV", wildcard=False),
    _dv("ssl_dv_rapidssl", "RapidSSL Standard DV", wildcard=False),
    _dv("wildcard_dv_geotrust", "GeoTrust Wildcard DV", wildcard=True),
    _dv("wildcard_dv_rapidssl", "RapidSSL Wildcard DV", wildcard=True),
    _dv("cloud_dv_geotrust", "GeoTrust Cloud DV", wildcard=True),
    _private("private_ssl_flex", "Private SSL OV", wildcard=True),
    _private("private_ssl_plus", "Private SSL Plus", wildcard=False),
    _private("private_ssl_wildcard", "Private SSL Wildcard", wildcard=True),
    _private("private_ssl_multi_domain", "Private SSL Multi-Domain", wildcard=False),
    _client("client_premium", "Premium"),
    _client("client_digital_signature_plus", "Digital Signature Plus"),
    _client("client_email_security_plus", "Email Security Plus"),
    _client("class1_smime", "Class 1 S/MIME"),
    _client("client_authentication_plus", "Authentication Plus"),
    _code_signing("code_signing", "Code Signing", "CS"),
    _code_signing("code_signing_ev", "EV Code Signing", "EV CS"),
    _document_signing("document_signing_org_1", "Document Signing - Organization (2000)"),
    _document_signing("document_signing_org_2", "Document Signing - Organization (5000)"),
)


# What product info lists for a TLS product; DigiCert's own list is longer.
SERVER_PLATFORMS: tuple[JSONDict, ...] = (
    {"id": -1, "name": "OTHER"},
    {"id": 2, "name": "Apache"},
    {"id": 45, "name": "nginx"},
)
LICENSE_AGREEMENT = "FakeCertCentral subscriber agreement: nothing issued here is trusted."


def _hash_types(product: FakeProduct) -> JSONDict:
    return {
        "allowed_hash_types": [{"id": h, "name": _HASH_NAMES[h]} for h in product.hashes],
        "default_hash_type_id": product.hashes[0],
    }


def product_summary(product: FakeProduct) -> JSONDict:
    """The product as an item of ``GET /product`` (year lists as numbers)."""
    return {
        "group_name": product.group_name,
        "name_id": product.name_id,
        "name": product.name,
        "type": product.group_name,
        "allowed_container_ids": [FAKE_CONTAINER_ID],
        "allowed_validity_years": list(product.validity_years),
        "allowed_order_validity_years": list(product.order_validity_years),
        "signature_hash_types": _hash_types(product),
        "csr_required": product.csr_required,
    }


def product_details(product: FakeProduct) -> JSONDict:
    """The product as ``GET /product/{name_id}`` shows it (year lists as strings)."""
    details: JSONDict = {
        "group_name": product.group_name,
        "name_id": product.name_id,
        "name": product.name,
        "type": product.group_name,
        "validation_type": product.validation_type,
        "duplicates_allowed": product.tls,
        "allowed_validity_years": [str(years) for years in product.validity_years],
        "allowed_order_validity_years": [str(years) for years in product.order_validity_years],
        "signature_hash_types": _hash_types(product),
        "csr_required": product.csr_required,
        "allowed_container_ids": [FAKE_CONTAINER_ID],
    }
    if product.public_tls:
        details["max_multi_year_order_validity_years"] = max(product.order_validity_years)
    if product.tls:
        details.update(
            additional_dns_names_allowed=True,
            custom_expiration_date_allowed=True,
            allow_auto_renew=True,
            server_platforms=[dict(platform) for platform in SERVER_PLATFORMS],
            license_agreement=LICENSE_AGREEMENT,
        )
        details["allowed_ca_certs"] = [
            {
                "id": "FA4E0000C0DE0001",
                "name": "Fake CertCentral TLS RSA SHA256 CA1",
                "chain_info": "Fake CertCentral TLS RSA SHA256 CA1 (SHA2-256)"
                " > Fake CertCentral Root (SHA2-256)",
            }
        ]
    return details


routes = Routes()


@routes.get("/product")
def list_products(store: FakeAccount, call: Call) -> Answer:
    # DigiCert's listing of products has no page object: one list, every product.
    return 200, {"products": [product_summary(product) for product in CATALOG.values()]}


# The placeholder is named like the ordering route's, {product}: one name for one thing.
@routes.get("/product/{product}")
def product_info(store: FakeAccount, call: Call) -> Answer:
    name_id = call.params["product"]
    return 200, product_details(found(CATALOG.get(name_id), "product", name_id))
