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
from .reissues import (
    CS_PROVISIONING_METHODS,
    REISSUE_SIGNATURE_HASHES,
    DuplicateRequest,
    IssuedCertificate,
    ReissueCertificate,
    ReissueRequest,
)
from .requests import (
    REQUEST_STATUSES,
    REQUEST_TYPES,
    REVOCATION_REASONS,
    ApprovalRequest,
    RevokeRequest,
    UpdateRequestStatus,
)
from .subaccounts import OrderPrice, Subaccount, SubaccountCertificate, SubaccountOrder

__all__ = [
    "CERTIFICATE_FORMATS",
    "CS_PROVISIONING_METHODS",
    "DOCUMENT_SIGNING_PRODUCTS",
    "ORDER_STATUSES",
    "REISSUE_SIGNATURE_HASHES",
    "REQUEST_STATUSES",
    "REQUEST_TYPES",
    "REVOCATION_REASONS",
    "TERMINAL_STATUSES",
    "ApprovalRequest",
    "CertificateChain",
    "CertificatePem",
    "ChainCertificate",
    "Container",
    "ContainerRef",
    "CustomField",
    "DocumentSigningCertificate",
    "DocumentSigningOrder",
    "DuplicateRequest",
    "IssuedCertificate",
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
    "ReissueCertificate",
    "ReissueRequest",
    "RequestStatus",
    "RevokeRequest",
    "ServerPlatform",
    "ServerPlatformRef",
    "ShipInfo",
    "StatusChange",
    "StrFlag",
    "Subaccount",
    "SubaccountCertificate",
    "SubaccountOrder",
    "Subject",
    "UpdateRequestStatus",
    "UpdateStatusRequest",
    "User",
]
