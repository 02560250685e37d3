"""Plain value types of the fake server: cheap to import (standard library only)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy, MultiMapping

__all__ = ["Fault", "RecordedRequest"]


class Fault(str, enum.Enum):
    """A misbehaviour the fake server can inject into one request.

    Whether the request still takes effect on the fake's state ("applied") depends on the kind:
    the refusals and ``RESET_BEFORE`` never apply it, the others apply it and then spoil the
    answer.
    """

    SERVICE_UNAVAILABLE_HTML = "service_unavailable_html"
    """503 with an HTML body, as a proxy or a maintenance page sends it. Not applied."""
    INTERNAL_ERROR = "internal_error"
    """500 with a DigiCert-shaped JSON error body. Not applied."""
    BAD_GATEWAY = "bad_gateway"
    """502 with an HTML body. Not applied."""
    RESET_BEFORE = "reset_before"
    """The connection is closed without an answer; the request is not applied."""
    RESET_AFTER = "reset_after"
    """The request is applied, then the connection is closed without an answer."""
    SLOW = "slow"
    """The request is applied, and the answer is held back for ``slow_seconds``."""
    TRUNCATED_JSON = "truncated_json"
    """The request is applied; the JSON body of the answer is cut in half."""
    MALFORMED_JSON = "malformed_json"
    """The request is applied; the 2xx answer carries a body that is not JSON."""
    RATE_LIMITED = "rate_limited"
    """A 429 with DigiCert's body, without starting a block. Not applied."""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake server received, in the order of arrival.

    ``answered_status`` is ``None`` when the connection was closed without an answer (or while
    the request is still being answered). ``applied`` is true when the request reached the
    endpoint logic and succeeded there (it changed or read the fake's state), whatever happened
    to the answer afterwards.
    """

    method: str
    path: str
    """The path without the query string, e.g. ``/services/v2/order/certificate/100001``."""
    query: MultiMapping[str]
    """Query parameters (a read-only multidict: ``get``, ``getall``, ``items``)."""
    headers: CIMultiDictProxy[str]
    """Request headers; lookups are case-insensitive."""
    body: bytes
    """The body as received; empty for a request refused for its key (never read)."""
    time: float
    """``time.monotonic()`` when the request was received."""
    answered_status: int | None = None
    applied: bool = False
    fault: Fault | None = None

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is empty or not JSON (or nested
        deeper than the stack). Parsed on each read: the log keeps only the bytes, whose
        size it bounds, not what they parse into (many times larger for some bodies)."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return None
