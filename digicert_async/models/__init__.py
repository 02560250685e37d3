"""The attrs models of the wire format, one module per resource.

Field names are DigiCert's JSON names. Serialization lives in
``digicert_async._converter``, not here.
"""

from ._common import OrganizationSummary, Product, StrFlag, User
from .certificates import (
    CERTIFICATE_FORMATS,
    CertificateChain,
    CertificatePem,
    ChainCertificate,
)
from .document_signing import (
    DOCUMENT_SIGNING_PRODUCTS,
    ContainerRef,
    CustomField,
    DocumentSigningCertificate,
    DocumentSigningOrder,
    OrderCreated,
    OrganizationContact,
    OrganizationId,
    OrganizationRef,
    RequestStatus,
    ServerPlatformRef,
    ShipInfo,
    Subject,
)
from .notes import Note, NoteRequest
from .orders import (
    ORDER_STATUSES,
    TERMINAL_STATUSES,
    Container,
    Order,
    OrderCertificate,
    OrderRequestSummary,
    OrderStatus,
    Page,
    ServerPlatform,
    StatusChange,
    UpdateStatusRequest,
)
from .subaccounts import OrderPrice, Subaccount, SubaccountCertificate, SubaccountOrder

__all__ = [
    "CERTIFICATE_FORMATS",
    "DOCUMENT_SIGNING_PRODUCTS",
    "ORDER_STATUSES",
    "TERMINAL_STATUSES",
    "CertificateChain",
    "CertificatePem",
    "ChainCertificate",
    "Container",
    "ContainerRef",
    "CustomField",
    "DocumentSigningCertificate",
    "DocumentSigningOrder",
    "Note",
    "NoteRequest",
    "Order",
    "OrderCertificate",
    "OrderCreated",
    "OrderPrice",
    "OrderRequestSummary",
    "OrderStatus",
    "OrganizationContact",
    "OrganizationId",
    "OrganizationRef",
    "OrganizationSummary",
    "Page",
    "Product",
    "RequestStatus",
    "ServerPlatform",
    "ServerPlatformRef",
    "ShipInfo",
    "StatusChange",
    "StrFlag",
    "Subaccount",
    "SubaccountCertificate",
    "SubaccountOrder",
    "Subject",
    "UpdateStatusRequest",
    "User",
]
