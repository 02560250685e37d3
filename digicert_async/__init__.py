"""digicert-async: an asynchronous client for DigiCert CertCentral Services API v2.

>>> import digicert_async as dc
>>> async def main() -> None:
...     async with dc.CertCentralClient(api_key="...") as client:
...         order = await client.orders.get(123456)
"""

from ._client import CertCentralClient
from ._converter import converter
from ._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    DigiCertError,
    ErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseError,
    ServerError,
    TransportError,
    ValidationError,
)
from ._hooks import Hooks, RateLimitWait, RequestSent, ResponseReceived, RetryScheduled
from ._ratelimit import RateLimit
from ._retry import RetryPolicy
from ._version import __version__
from .models import *  # noqa: F403  (the models package's __all__ is the public model list)
from .models import __all__ as _model_names

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "CertCentralClient",
    "DigiCertError",
    "ErrorDetail",
    "Hooks",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "RateLimitWait",
    "RequestSent",
    "ResponseError",
    "ResponseReceived",
    "RetryPolicy",
    "RetryScheduled",
    "ServerError",
    "TransportError",
    "ValidationError",
    "__version__",
    "converter",
    *_model_names,
]
