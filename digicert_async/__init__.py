"""digicert-async: an asynchronous client for DigiCert CertCentral Services API v2.

The public names all live here, each defined in a private module: ``_HOMES`` below is
their one registry (``__all__`` is read off it). A name's module is imported the first
time the name is used, so ``import digicert_async`` alone (as the command line's
``--help`` and the pytest plugin do) loads none of the library; the imports under
``TYPE_CHECKING`` tell type checkers the same names (a test holds the two equal).

>>> import asyncio
>>> import digicert_async as dc
>>> from digicert_async.testing import FakeCertCentral
>>> async def main() -> str | None:
...     async with FakeCertCentral(orders=3) as fake:  # DigiCert's API, on loopback
...         async with dc.CertCentralClient(fake.api_key, base_url=fake.base_url) as client:
...             order = await client.orders.get(fake.order_ids[0])
...             return order.status
>>> asyncio.run(main())
'pending'
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__

if TYPE_CHECKING:
    from ._client import CertCentralClient as CertCentralClient
    from ._converter import converter as converter
    from ._dcv import DcvInstructions as DcvInstructions
    from ._dcv import DcvRecord as DcvRecord
    from ._dcv import dcv_instructions as dcv_instructions
    from ._dcv_driver import CheckSchedule as CheckSchedule
    from ._dcv_driver import DcvDriver as DcvDriver
    from ._dcv_driver import DcvOutcome as DcvOutcome
    from ._dcv_driver import DcvRun as DcvRun
    from ._errors import APIError as APIError
    from ._errors import AuthenticationError as AuthenticationError
    from ._errors import BadRequestError as BadRequestError
    from ._errors import ClientClosedError as ClientClosedError
    from ._errors import ConfigurationError as ConfigurationError
    from ._errors import DigiCertError as DigiCertError
    from ._errors import ErrorDetail as ErrorDetail
    from ._errors import InvalidKeyError as InvalidKeyError
    from ._errors import NotFoundError as NotFoundError
    from ._errors import PermissionDeniedError as PermissionDeniedError
    from ._errors import RateLimitError as RateLimitError
    from ._errors import RedirectError as RedirectError
    from ._errors import ResponseError as ResponseError
    from ._errors import RouteNotFoundError as RouteNotFoundError
    from ._errors import ServerError as ServerError
    from ._errors import TransportError as TransportError
    from ._errors import ValidationError as ValidationError
    from ._hooks import CallEnded as CallEnded
    from ._hooks import CallStarted as CallStarted
    from ._hooks import CooldownStarted as CooldownStarted
    from ._hooks import Hooks as Hooks
    from ._hooks import JobEnded as JobEnded
    from ._hooks import JobStarted as JobStarted
    from ._hooks import PaceChanged as PaceChanged
    from ._hooks import RateLimitWait as RateLimitWait
    from ._hooks import RequestSent as RequestSent
    from ._hooks import ResponseReceived as ResponseReceived
    from ._hooks import RetryDeclined as RetryDeclined
    from ._hooks import RetryScheduled as RetryScheduled
    from ._pipeline import DeadlineRefused as DeadlineRefused
    from ._pipeline import Request as Request
    from ._pipeline import Response as Response
    from ._ratelimit import LimiterUnavailableError as LimiterUnavailableError
    from ._ratelimit import Pacer as Pacer
    from ._ratelimit import RateLimit as RateLimit
    from ._ratelimit import RedisLimiterBackend as RedisLimiterBackend
    from ._ratelimit import SqliteLimiterBackend as SqliteLimiterBackend
    from ._retry import RetryPolicy as RetryPolicy
    from .bulk import CancelJob as CancelJob
    from .bulk import CancelOutcome as CancelOutcome
    from .bulk import CancelReport as CancelReport
    from .bulk import CancelResult as CancelResult
    from .bulk import CertificateDownload as CertificateDownload
    from .bulk import DownloadJob as DownloadJob
    from .bulk import OrderUpdate as OrderUpdate
    from .bulk import OutcomeCounts as OutcomeCounts
    from .bulk import ReissueJob as ReissueJob
    from .bulk import ReissueOutcome as ReissueOutcome
    from .bulk import ReissueReport as ReissueReport
    from .bulk import ReissueResult as ReissueResult
    from .bulk import ValidateJob as ValidateJob
    from .bulk import ValidateOutcome as ValidateOutcome
    from .bulk import ValidateReport as ValidateReport
    from .bulk import ValidateResult as ValidateResult
    from .bulk import cancel_orders as cancel_orders
    from .bulk import download_certificates as download_certificates
    from .bulk import poll_orders as poll_orders
    from .bulk import reissue_orders as reissue_orders
    from .bulk import validate_domains as validate_domains
    from .models import CERTIFICATE_FORMATS as CERTIFICATE_FORMATS
    from .models import CS_PROVISIONING_METHODS as CS_PROVISIONING_METHODS
    from .models import DCV_METHODS as DCV_METHODS
    from .models import DOCUMENT_SIGNING_PRODUCTS as DOCUMENT_SIGNING_PRODUCTS
    from .models import DOMAIN_DCV_METHODS as DOMAIN_DCV_METHODS
    from .models import NOTIFICATION_FREQUENCIES as NOTIFICATION_FREQUENCIES
    from .models import ORDER_DCV_METHODS as ORDER_DCV_METHODS
    from .models import ORDER_PRODUCTS as ORDER_PRODUCTS
    from .models import ORDER_STATUSES as ORDER_STATUSES
    from .models import PAYMENT_METHODS as PAYMENT_METHODS
    from .models import REISSUE_SIGNATURE_HASHES as REISSUE_SIGNATURE_HASHES
    from .models import REQUEST_STATUSES as REQUEST_STATUSES
    from .models import REQUEST_TYPES as REQUEST_TYPES
    from .models import REVOCATION_REASONS as REVOCATION_REASONS
    from .models import SIGNATURE_HASHES as SIGNATURE_HASHES
    from .models import TERMINAL_STATUSES as TERMINAL_STATUSES
    from .models import WEBHOOK_EVENTS as WEBHOOK_EVENTS
    from .models import ApprovalRequest as ApprovalRequest
    from .models import CaCert as CaCert
    from .models import CertificateChain as CertificateChain
    from .models import CertificateDetails as CertificateDetails
    from .models import CertificateOrder as CertificateOrder
    from .models import CertificatePem as CertificatePem
    from .models import CertValidity as CertValidity
    from .models import ChainCertificate as ChainCertificate
    from .models import ChangeDcvMethodRequest as ChangeDcvMethodRequest
    from .models import Contact as Contact
    from .models import Container as Container
    from .models import ContainerRef as ContainerRef
    from .models import CustomField as CustomField
    from .models import CustomFieldValue as CustomFieldValue
    from .models import DcvExpiration as DcvExpiration
    from .models import DcvInvitation as DcvInvitation
    from .models import DcvRandomValue as DcvRandomValue
    from .models import DocumentSigningCertificate as DocumentSigningCertificate
    from .models import DocumentSigningOrder as DocumentSigningOrder
    from .models import Domain as Domain
    from .models import DomainCreated as DomainCreated
    from .models import DomainDcv as DomainDcv
    from .models import DomainDcvCheck as DomainDcvCheck
    from .models import DomainDcvToken as DomainDcvToken
    from .models import DomainOrganization as DomainOrganization
    from .models import DuplicateRequest as DuplicateRequest
    from .models import EventCertificate as EventCertificate
    from .models import HashType as HashType
    from .models import Individual as Individual
    from .models import IssuedCertificate as IssuedCertificate
    from .models import NameValidation as NameValidation
    from .models import NewDomain as NewDomain
    from .models import NewOrganization as NewOrganization
    from .models import NewOrganizationContact as NewOrganizationContact
    from .models import Note as Note
    from .models import NoteRequest as NoteRequest
    from .models import Order as Order
    from .models import OrderCertificate as OrderCertificate
    from .models import OrderContact as OrderContact
    from .models import OrderCreated as OrderCreated
    from .models import OrderDcvCheck as OrderDcvCheck
    from .models import OrderDomain as OrderDomain
    from .models import OrderOrganization as OrderOrganization
    from .models import OrderPrice as OrderPrice
    from .models import OrderRequestSummary as OrderRequestSummary
    from .models import OrderShipInfo as OrderShipInfo
    from .models import OrderStatus as OrderStatus
    from .models import OrderValidity as OrderValidity
    from .models import Organization as Organization
    from .models import OrganizationContact as OrganizationContact
    from .models import OrganizationContactDetails as OrganizationContactDetails
    from .models import OrganizationCreated as OrganizationCreated
    from .models import OrganizationId as OrganizationId
    from .models import OrganizationRef as OrganizationRef
    from .models import OrganizationRefById as OrganizationRefById
    from .models import OrganizationSummary as OrganizationSummary
    from .models import Page as Page
    from .models import Product as Product
    from .models import ProductDetails as ProductDetails
    from .models import ReissueCertificate as ReissueCertificate
    from .models import ReissueRequest as ReissueRequest
    from .models import RequestStatus as RequestStatus
    from .models import RevokeRequest as RevokeRequest
    from .models import ServerPlatform as ServerPlatform
    from .models import ServerPlatformRef as ServerPlatformRef
    from .models import ShipInfo as ShipInfo
    from .models import Shipping as Shipping
    from .models import SignatureHashTypes as SignatureHashTypes
    from .models import StatusChange as StatusChange
    from .models import StrFlag as StrFlag
    from .models import Subaccount as Subaccount
    from .models import SubaccountCertificate as SubaccountCertificate
    from .models import SubaccountOrder as SubaccountOrder
    from .models import Subject as Subject
    from .models import UpdateRequestStatus as UpdateRequestStatus
    from .models import UpdateStatusRequest as UpdateStatusRequest
    from .models import User as User
    from .models import Validation as Validation
    from .models import ValidationType as ValidationType
    from .models import ValidityPeriod as ValidityPeriod
    from .models import Webhook as Webhook
    from .models import WebhookCreated as WebhookCreated
    from .models import WebhookEvent as WebhookEvent
    from .models import WebhookEventData as WebhookEventData
    from .models import WebhookSettings as WebhookSettings
    from .models import WebhookSettingsShown as WebhookSettingsShown
    from .models import unknown_fields as unknown_fields
    from .resources._base import Listing as Listing
    from .webhooks import EventStream as EventStream
    from .webhooks import WebhookReceiver as WebhookReceiver

# Each private module and the public names it defines.
_HOMES: dict[str, tuple[str, ...]] = {
    "._client": ("CertCentralClient",),
    "._converter": ("converter",),
    "._dcv": ("DcvInstructions", "DcvRecord", "dcv_instructions"),
    "._dcv_driver": ("CheckSchedule", "DcvDriver", "DcvOutcome", "DcvRun"),
    "._errors": (
        "APIError",
        "AuthenticationError",
        "BadRequestError",
        "ClientClosedError",
        "ConfigurationError",
        "DigiCertError",
        "ErrorDetail",
        "InvalidKeyError",
        "NotFoundError",
        "PermissionDeniedError",
        "RateLimitError",
        "RedirectError",
        "ResponseError",
        "RouteNotFoundError",
        "ServerError",
        "TransportError",
        "ValidationError",
    ),
    "._hooks": (
        "CallEnded",
        "CallStarted",
        "CooldownStarted",
        "Hooks",
        "JobEnded",
        "JobStarted",
        "PaceChanged",
        "RateLimitWait",
        "RequestSent",
        "ResponseReceived",
        "RetryDeclined",
        "RetryScheduled",
    ),
    "._pipeline": ("DeadlineRefused", "Request", "Response"),
    "._ratelimit": (
        "LimiterUnavailableError",
        "Pacer",
        "RateLimit",
        "RedisLimiterBackend",
        "SqliteLimiterBackend",
    ),
    "._retry": ("RetryPolicy",),
    ".bulk": (
        "CancelJob",
        "CancelOutcome",
        "CancelReport",
        "CancelResult",
        "CertificateDownload",
        "DownloadJob",
        "OrderUpdate",
        "OutcomeCounts",
        "ReissueJob",
        "ReissueOutcome",
        "ReissueReport",
        "ReissueResult",
        "cancel_orders",
        "download_certificates",
        "poll_orders",
        "reissue_orders",
        "ValidateJob",
        "ValidateOutcome",
        "ValidateReport",
        "ValidateResult",
        "validate_domains",
    ),
    ".models": (
        "CERTIFICATE_FORMATS",
        "CS_PROVISIONING_METHODS",
        "DCV_METHODS",
        "DOCUMENT_SIGNING_PRODUCTS",
        "ORDER_PRODUCTS",
        "ORDER_STATUSES",
        "PAYMENT_METHODS",
        "REISSUE_SIGNATURE_HASHES",
        "REQUEST_STATUSES",
        "REQUEST_TYPES",
        "REVOCATION_REASONS",
        "SIGNATURE_HASHES",
        "TERMINAL_STATUSES",
        "ApprovalRequest",
        "CaCert",
        "CertificateChain",
        "CertificateDetails",
        "CertificateOrder",
        "CertificatePem",
        "CertValidity",
        "ChainCertificate",
        "Contact",
        "Container",
        "ContainerRef",
        "CustomField",
        "CustomFieldValue",
        "DocumentSigningCertificate",
        "DocumentSigningOrder",
        "DuplicateRequest",
        "HashType",
        "Individual",
        "IssuedCertificate",
        "Note",
        "NoteRequest",
        "Order",
        "OrderCertificate",
        "OrderContact",
        "OrderCreated",
        "OrderDomain",
        "OrderOrganization",
        "OrderPrice",
        "OrderRequestSummary",
        "OrderShipInfo",
        "OrderStatus",
        "OrderValidity",
        "OrganizationContact",
        "OrganizationId",
        "OrganizationRef",
        "OrganizationSummary",
        "Page",
        "Product",
        "ProductDetails",
        "ReissueCertificate",
        "ReissueRequest",
        "RequestStatus",
        "RevokeRequest",
        "ServerPlatform",
        "ServerPlatformRef",
        "ShipInfo",
        "Shipping",
        "SignatureHashTypes",
        "StatusChange",
        "StrFlag",
        "Subaccount",
        "SubaccountCertificate",
        "SubaccountOrder",
        "Subject",
        "UpdateRequestStatus",
        "UpdateStatusRequest",
        "User",
        "ValidityPeriod",
        "NewOrganization",
        "NewOrganizationContact",
        "Organization",
        "OrganizationContactDetails",
        "OrganizationCreated",
        "Validation",
        "ValidationType",
        "DOMAIN_DCV_METHODS",
        "DcvExpiration",
        "DcvInvitation",
        "Domain",
        "DomainCreated",
        "DomainDcv",
        "DomainDcvCheck",
        "DomainDcvToken",
        "DomainOrganization",
        "NewDomain",
        "OrganizationRefById",
        "ORDER_DCV_METHODS",
        "ChangeDcvMethodRequest",
        "DcvRandomValue",
        "NameValidation",
        "OrderDcvCheck",
        "unknown_fields",
        "NOTIFICATION_FREQUENCIES",
        "WEBHOOK_EVENTS",
        "EventCertificate",
        "Webhook",
        "WebhookCreated",
        "WebhookEvent",
        "WebhookEventData",
        "WebhookSettings",
        "WebhookSettingsShown",
    ),
    ".resources._base": ("Listing",),
    ".webhooks": ("EventStream", "WebhookReceiver"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted([*_HOME_OF, "__version__"])


def _bind_loaded() -> None:
    """Bind every public name whose module is loaded (so ``__getattr__`` is asked once),
    each class and function saying where users import it from, in reprs, tracebacks and
    pickles (as httpx does): digicert_async.ValidationError, not the private module."""
    namespace = globals()
    for name, home in _HOME_OF.items():
        module = sys.modules.get(__name__ + home)
        if name in namespace or module is None or _loading(module):
            continue
        value = getattr(module, name)
        if home == ".models" and hasattr(value, "__attrs_attrs__"):
            import attrs  # loaded already: the models are attrs classes

            # A string annotation is read in the namespace __module__ names: read the
            # models' while that is still their own module (the converter needs them).
            attrs.resolve_types(value)
        if callable(value) and getattr(value, "__module__", "").startswith(f"{__name__}."):
            from ._exports import present_as

            present_as(value, __name__)
        namespace[name] = value


def _loading(module: ModuleType) -> bool:
    """Whether ``module`` is still being imported (a cycle came back to this package)."""
    return getattr(getattr(module, "__spec__", None), "_initializing", False) is True


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if not TYPE_CHECKING:  # for type checkers an unknown name stays an error

    def __getattr__(name: str) -> Any:
        """Import a public name's module on first use (or a subpackage: ``dc.models``)."""
        home = _HOME_OF.get(name)
        try:
            module = importlib.import_module(home or f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if home is not None or exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        if home is None:
            return module
        _bind_loaded()
        return getattr(module, name)
