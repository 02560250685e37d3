"""The fake account's state: orders, their certificates, notes, approval requests,
organizations, status history, ids and the clocks.

No I/O and no HTTP here: the endpoint modules read and change this state, and
``FakeCertCentral``'s helpers do the same from a test. Everything is synchronous, so one
request is applied atomically.

Two clocks. Dates in the documents (``date_created``, ``date_issued``, the status history
that status-changes reads) are wall-clock UTC, as a client comparing them with its own
clock expects. *When* an order moves on (``pending`` -> ``issued``, ``reissue_pending`` ->
``issued`` with a new certificate, a duplicate issued) is decided by the lifecycle clock,
which only the test moves (``advance``), unless it runs in real time. What falls due is
applied, stamped with the wall clock, before the next request is served.

The rooms, composed by ``FakeAccount`` (``_account``):

- ``_records``: the records (``StoredOrder``, ``StoredCertificate``, ``StoredRequest``)
  and the constants of the documents;
- ``_orders``, ``_certificates``, ``_requests``, ``_organizations``: one book per kind of
  record, a dictionary by id with its next id (the certificate book holds the fake CA);
- ``_clock``: the lifecycle clock and what falls due on it;
- ``_lifecycle``: ``Lifecycle``, the status machine that changes the books.

A new kind of record (domains and their validations, a fake DNS) is a book of its own here,
made and held by ``FakeAccount``; an account option that changes when orders issue is read
by ``Lifecycle._order_falls_due``.
"""

from ._account import FakeAccount
from ._certificates import CertificateBook
from ._clock import LifecycleClock
from ._lifecycle import Lifecycle
from ._orders import OrderBook
from ._organizations import OrganizationBook
from ._records import (
    CERTIFICATE_EXISTS,
    DEFAULT_ORGANIZATION,
    DV_PRODUCTS,
    IMMEDIATE_SUBACCOUNT,
    MOUNTAIN,
    NESTED_SUBACCOUNT,
    NOTE_USER,
    OPEN_REQUEST,
    PRODUCTS,
    UTC,
    JSONDict,
    NewOrder,
    StoredCertificate,
    StoredOrder,
    StoredRequest,
    iso,
    max_validity_days,
    whole_number,
)
from ._requests import RequestBook

__all__ = [
    "CERTIFICATE_EXISTS",
    "DEFAULT_ORGANIZATION",
    "DV_PRODUCTS",
    "IMMEDIATE_SUBACCOUNT",
    "MOUNTAIN",
    "NESTED_SUBACCOUNT",
    "NOTE_USER",
    "OPEN_REQUEST",
    "PRODUCTS",
    "UTC",
    "CertificateBook",
    "FakeAccount",
    "JSONDict",
    "Lifecycle",
    "LifecycleClock",
    "NewOrder",
    "OrderBook",
    "OrganizationBook",
    "RequestBook",
    "StoredCertificate",
    "StoredOrder",
    "StoredRequest",
    "iso",
    "max_validity_days",
    "whole_number",
]
