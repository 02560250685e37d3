"""digicert-async: an asynchronous client for DigiCert CertCentral Services API v2.

The public names all live here, imported from the private modules that define them;
this import list is their one registry (``__all__`` is read off it below).

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

from types import ModuleType as _ModuleType

from ._client import CertCentralClient as CertCentralClient
from ._converter import converter as converter
from ._errors import APIError as APIError
from ._errors import AuthenticationError as AuthenticationError
from ._errors import BadRequestError as BadRequestError
from ._errors import ClientClosedError as ClientClosedError
from ._errors import ConfigurationError as ConfigurationError
from ._errors import DigiCertError as DigiCertError
from ._errors import ErrorDetail as ErrorDetail
from ._errors import NotFoundError as NotFoundError
from ._errors import PermissionDeniedError as PermissionDeniedError
from ._errors import RateLimitError as RateLimitError
from ._errors import RedirectError as RedirectError
from ._errors import ResponseError as ResponseError
from ._errors import RouteNotFoundError as RouteNotFoundError
from ._errors import ServerError as ServerError
from ._errors import TransportError as TransportError
from ._errors import ValidationError as ValidationError
from ._exports import present_as as _present_as
from ._hooks import CallEnded as CallEnded
from ._hooks import CallStarted as CallStarted
from ._hooks import CooldownStarted as CooldownStarted
from ._hooks import Hooks as Hooks
from ._hooks import PaceChanged as PaceChanged
from ._hooks import RateLimitWait as RateLimitWait
from ._hooks import RequestSent as RequestSent
from ._hooks import ResponseReceived as ResponseReceived
from ._hooks import RetryDeclined as RetryDeclined
from ._hooks import RetryScheduled as RetryScheduled
from ._pipeline import DeadlineRefused as DeadlineRefused
from ._ratelimit import LimiterUnavailableError as LimiterUnavailableError
from ._ratelimit import Pacer as Pacer
from ._ratelimit import RateLimit as RateLimit
from ._ratelimit import RedisLimiterBackend as RedisLimiterBackend
from ._retry import RetryPolicy as RetryPolicy
from ._version import __version__ as __version__
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
from .bulk import cancel_orders as cancel_orders
from .bulk import download_certificates as download_certificates
from .bulk import poll_orders as poll_orders
from .bulk import reissue_orders as reissue_orders
from .models import CERTIFICATE_FORMATS as CERTIFICATE_FORMATS
from .models import CS_PROVISIONING_METHODS as CS_PROVISIONING_METHODS
from .models import DCV_METHODS as DCV_METHODS
from .models import DOCUMENT_SIGNING_PRODUCTS as DOCUMENT_SIGNING_PRODUCTS
from .models import ORDER_PRODUCTS as ORDER_PRODUCTS
from .models import ORDER_STATUSES as ORDER_STATUSES
from .models import PAYMENT_METHODS as PAYMENT_METHODS
from .models import REISSUE_SIGNATURE_HASHES as REISSUE_SIGNATURE_HASHES
from .models import REQUEST_STATUSES as REQUEST_STATUSES
from .models import REQUEST_TYPES as REQUEST_TYPES
from .models import REVOCATION_REASONS as REVOCATION_REASONS
from .models import SIGNATURE_HASHES as SIGNATURE_HASHES
from .models import TERMINAL_STATUSES as TERMINAL_STATUSES
from .models import ApprovalRequest as ApprovalRequest
from .models import CaCert as CaCert
from .models import CertificateChain as CertificateChain
from .models import CertificateDetails as CertificateDetails
from .models import CertificateOrder as CertificateOrder
from .models import CertificatePem as CertificatePem
from .models import CertValidity as CertValidity
from .models import ChainCertificate as ChainCertificate
from .models import Contact as Contact
from .models import Container as Container
from .models import ContainerRef as ContainerRef
from .models import CustomField as CustomField
from .models import CustomFieldValue as CustomFieldValue
from .models import DocumentSigningCertificate as DocumentSigningCertificate
from .models import DocumentSigningOrder as DocumentSigningOrder
from .models import DuplicateRequest as DuplicateRequest
from .models import HashType as HashType
from .models import Individual as Individual
from .models import IssuedCertificate as IssuedCertificate
from .models import Note as Note
from .models import NoteRequest as NoteRequest
from .models import Order as Order
from .models import OrderCertificate as OrderCertificate
from .models import OrderContact as OrderContact
from .models import OrderCreated as OrderCreated
from .models import OrderDomain as OrderDomain
from .models import OrderOrganization as OrderOrganization
from .models import OrderPrice as OrderPrice
from .models import OrderRequestSummary as OrderRequestSummary
from .models import OrderShipInfo as OrderShipInfo
from .models import OrderStatus as OrderStatus
from .models import OrderValidity as OrderValidity
from .models import OrganizationContact as OrganizationContact
from .models import OrganizationId as OrganizationId
from .models import OrganizationRef as OrganizationRef
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
from .models import ValidityPeriod as ValidityPeriod
from .models import unknown_fields as unknown_fields
from .resources._base import Listing as Listing


def _public_names() -> list[str]:
    """Every name imported above (the submodules that importing them binds aside)."""
    return sorted(
        name
        for name, value in globals().items()
        if not name.startswith("_") and not isinstance(value, _ModuleType)
    )


__all__ = [*_public_names(), "__version__"]  # pyright: ignore[reportUnsupportedDunderAll]

# Classes and functions say where users import them from (see _exports).
for _name in __all__:
    _value = globals()[_name]
    if callable(_value) and getattr(_value, "__module__", "").startswith(f"{__name__}."):
        _present_as(_value, __name__)
