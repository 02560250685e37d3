"""``client.orders``: certificate orders, their notes and status."""

from __future__ import annotations

import builtins
import functools
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs

from .._checks import check_id, describe
from .._converter import WireConverter, converter, make_converter
from .._decode import read_identified, read_model, read_nothing
from .._errors import ValidationError
from .._pipeline import Requester
from ..models import (
    DOCUMENT_SIGNING_PRODUCTS,
    ORDER_STATUSES,
    ApprovalRequest,
    CertificateOrder,
    DcvRandomValue,
    DocumentSigningOrder,
    DuplicateRequest,
    IssuedCertificate,
    Note,
    NoteRequest,
    Order,
    OrderCreated,
    OrderDcvCheck,
    ProductDetails,
    ReissueCertificate,
    ReissueRequest,
    StatusChange,
    UpdateStatusRequest,
)
from ..models._common import response_model
from ..models._product_check import check_for_product
from ..models.reissues import change_from_order, needs_order
from . import _order_dcv, _revoke
from ._base import Listing, check_page_size, listing_params
from .products import PRODUCT, check_name_id, read_product

__all__ = ["OrdersResource"]

# Production clients report that the status-changes filter is read as US Mountain
# time, not UTC; starting the window this much earlier never misses a change.
STATUS_CHANGES_EARLY_MARGIN = timedelta(hours=7)
STATUS_CHANGES_MAX_SPAN = timedelta(days=7)


@response_model
@attrs.frozen(kw_only=True)
class _NoteList:
    notes: list[Note] = attrs.field(factory=list)


@response_model
@attrs.frozen(kw_only=True)
class _StatusChangeList:
    orders: list[StatusChange] = attrs.field(factory=list)


@response_model
@attrs.frozen(kw_only=True)
class _CertificateList:
    certificates: list[IssuedCertificate] = attrs.field(factory=list)


# The routes, as path templates.
ORDERS = "/order/certificate"
ORDER = "/order/certificate/{order_id}"
CREATE = "/order/certificate/{product}"
NOTES = "/order/certificate/{order_id}/note"
NOTE = "/order/certificate/{order_id}/note/{note_id}"
STATUS = "/order/certificate/{order_id}/status"
STATUS_CHANGES = "/order/certificate/status-changes"
REISSUE = "/order/certificate/{order_id}/reissue"
DUPLICATE = "/order/certificate/{order_id}/duplicate"
REVOKE = "/order/certificate/{order_id}/revoke"

# Answers about one object: the route's id names it (see Identified).
_ORDER = read_identified(Order, "order_id")
_NOTE = read_identified(Note, "note_id")
_NOTE_ADDED = read_identified(Note)
_NOTE_LIST = read_model(_NoteList)
_ORDER_CREATED = read_identified(OrderCreated)
_ORDER_CHANGED = read_identified(OrderCreated, "order_id")  # a reissue or a duplicate: its order
_STATUS_CHANGE_LIST = read_model(_StatusChangeList)
_CERTIFICATE_LIST = read_model(_CertificateList)

logger = logging.getLogger("digicert_async")

_RequestModel = TypeVar(
    "_RequestModel", CertificateOrder, DocumentSigningOrder, ReissueRequest, DuplicateRequest
)


def _request_model(value: object, cls: type[_RequestModel], field: str) -> _RequestModel:
    """``value`` as the request model ``cls``: the model itself, or its wire form as a
    mapping, validated before anything is sent."""
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        # Read with unknown keys refused, at every depth: a misspelt key would
        # otherwise be dropped without a word and the request sent without it.
        return _strict_converter().structure(dict(value), cls)
    raise ValidationError(field, f"must be a {cls.__name__} or a mapping, not {describe(value)}")


_Change = TypeVar("_Change", ReissueRequest, DuplicateRequest)


def _change_request(request: object, cls: type[_Change]) -> _Change:
    """A reissue or duplicate request; a str is a PEM CSR alone."""
    if isinstance(request, str):
        return cls(certificate=ReissueCertificate(csr=request))
    return _request_model(request, cls, "request")


def _status_filter_time(moment: datetime) -> str:
    # DigiCert's form is "YYYY-MM-DD HH:MM:SS"; the query encoder writes the space as "+".
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _check_aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError(field, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(field, "must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return value


def _check_create_arguments(
    product_name_id: str, order: object, product: object, check_product: object
) -> None:
    """What ``orders.create`` refuses of its arguments, for any product but document
    signing (which takes its own order class)."""
    if isinstance(order, DocumentSigningOrder):
        raise ValidationError(
            "order", f"a DocumentSigningOrder is for document signing, not {product_name_id}"
        )
    if product is not None and not isinstance(product, ProductDetails):
        raise ValidationError("product", f"must be a ProductDetails, not {type(product).__name__}")
    if product is not None and product.name_id != product_name_id:
        raise ValidationError("product", f"describes {product.name_id!r}, not {product_name_id!r}")
    if not isinstance(check_product, bool):
        raise ValidationError("check_product", "must be True or False")


@functools.cache
def _strict_converter() -> WireConverter:
    return make_converter(strict=True)


def _today() -> date:
    """The UTC date the validity schedule is read on."""
    return datetime.now(timezone.utc).date()


class OrdersResource:
    """Certificate orders: ``client.orders``."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def add_note(self, order_id: int, text: str) -> Note:
        """Add a note to an order; returns the note as stored (its ``id`` is the note's)."""
        check_id("order_id", order_id)
        body = converter.unstructure(NoteRequest(text=text))
        return await self._requester.call(
            "POST", NOTES, _NOTE_ADDED, path_args={"order_id": order_id}, json=body
        )

    async def list_notes(self, order_id: int) -> builtins.list[Note]:
        """Every note on an order, oldest first."""
        check_id("order_id", order_id)
        listing = await self._requester.call(
            "GET", NOTES, _NOTE_LIST, path_args={"order_id": order_id}
        )
        return listing.notes

    async def get_note(self, order_id: int, note_id: int) -> Note:
        """One note on an order, by the note's id."""
        check_id("order_id", order_id)
        check_id("note_id", note_id)
        return await self._requester.call(
            "GET", NOTE, _NOTE, path_args={"order_id": order_id, "note_id": note_id}
        )

    async def update_status(
        self, order_id: int, status: str = "CANCELED", *, note: str | None = None
    ) -> None:
        """Change an order's status: ``CANCELED`` (the seed's spelling) or ``canceled``,
        ``renewed``, ``not_renewed`` (newer pages'), case-sensitive.

        ``note`` is required to cancel, whichever spelling, and optional otherwise. Only
        orders in ``pending`` or ``waiting_pickup`` can be canceled; any other status gets
        an ``APIError`` (a 4xx) from the server.
        """
        check_id("order_id", order_id)
        body = converter.unstructure(UpdateStatusRequest(status=status, note=note))
        await self._requester.call(
            "PUT", STATUS, read_nothing, path_args={"order_id": order_id}, json=body
        )

    async def cancel(self, order_id: int, *, note: str) -> None:
        """Cancel a ``pending`` or ``waiting_pickup`` order, with a note saying why."""
        await self.update_status(order_id, "CANCELED", note=note)

    async def create_document_signing(
        self,
        order: DocumentSigningOrder | Mapping[str, Any],
        product: str = "document_signing_org_1",
    ) -> OrderCreated:
        """Order a document signing certificate (``document_signing_org_1`` or ``_2``).

        ``order`` may also be the request body as a mapping; it is validated the same
        way before anything is sent. The order is sent exactly once: a POST is never
        re-sent unless the first attempt certainly did not reach DigiCert.
        """
        if product not in DOCUMENT_SIGNING_PRODUCTS:
            raise ValidationError(
                "product", f"must be one of {', '.join(DOCUMENT_SIGNING_PRODUCTS)}, not {product!r}"
            )
        body = converter.unstructure(_request_model(order, DocumentSigningOrder, "order"))
        return await self._requester.call(
            "POST", CREATE, _ORDER_CREATED, path_args={"product": product}, json=body
        )

    async def create(
        self,
        product_name_id: str,
        order: CertificateOrder | DocumentSigningOrder | Mapping[str, Any],
        *,
        product: ProductDetails | None = None,
        check_product: bool = False,
    ) -> OrderCreated:
        """Order a certificate of any product (``POST /order/certificate/{product_name_id}``).

        ``order`` is a :class:`CertificateOrder` or the request body as a mapping (its
        keys DigiCert's; one the model does not know is a ``ValidationError`` rather than
        dropped). It is checked before anything is sent: the CSR's PEM and DER, the
        signature hash, duplicate ``dns_names``, ``dcv_method`` and ``payment_method``,
        and what the product requires (a wildcard only where it is allowed, a CSR,
        an organization, the validity). Validity follows DigiCert's precedence
        (``custom_expiration_date``, then ``validity_days``, then ``validity_years``,
        a WARNING logged for each one overridden); a certificate asked for longer than
        the cap (the product's, else the CA/Browser Forum's schedule for public TLS:
        200 days from 2026-03-15, 100 from 2027-03-15, 47 from 2029-03-15) is logged
        as a WARNING and sent: DigiCert shortens it rather than refusing it.

        ``product`` (a :class:`ProductDetails` from ``client.products``) checks the
        order against the product's details too: allowed hashes, validity, whether a
        CSR is required. ``check_product=True`` reads them first (one ``GET``).

        Document signing products (``document_signing_org_1``/``_2``) take a
        :class:`DocumentSigningOrder` and go to :meth:`create_document_signing`, which
        checks them by their own table (``product`` and ``check_product`` do not apply).
        A product identifier not among ``dc.ORDER_PRODUCTS`` is sent with the checks
        every order gets. The order is sent once: a POST is never re-sent unless the
        first attempt certainly did not reach DigiCert.
        """
        check_name_id("product_name_id", product_name_id)
        if product_name_id in DOCUMENT_SIGNING_PRODUCTS:
            if isinstance(order, CertificateOrder):
                raise ValidationError(
                    "order", f"{product_name_id} takes a DocumentSigningOrder (document signing)"
                )
            return await self.create_document_signing(order, product_name_id)
        _check_create_arguments(product_name_id, order, product, check_product)
        certificate_order = _request_model(order, CertificateOrder, "order")
        if product is None and check_product:
            product = await self._requester.call(
                "GET", PRODUCT, read_product, path_args={"name_id": product_name_id}
            )
        check_for_product(certificate_order, product_name_id, product, today=_today())
        body = converter.unstructure(certificate_order)
        return await self._requester.call(
            "POST", CREATE, _ORDER_CREATED, path_args={"product": product_name_id}, json=body
        )

    async def get(self, order_id: int) -> Order:
        """One order's details."""
        check_id("order_id", order_id)
        return await self._requester.call("GET", ORDER, _ORDER, path_args={"order_id": order_id})

    def list(
        self,
        *,
        status: str | None = None,
        filters: Mapping[str, object] | None = None,
        sort: str | None = None,
        page_size: int = 1000,
    ) -> Listing[Order]:
        """Iterate over every matching order, fetching ``page_size`` per request.

        ``filters={"common_name": "example.com"}`` becomes ``filters[common_name]=...``;
        ``sort="-date_created"`` sorts descending.
        """
        params = listing_params(status=status, filters=filters, sort=sort, statuses=ORDER_STATUSES)
        size = check_page_size(page_size)
        return Listing(self._requester, ORDERS, params, size, "orders", Order)

    async def status_changes(
        self, since: datetime, until: datetime | None = None
    ) -> builtins.list[StatusChange]:
        """Orders whose status changed between ``since`` and ``until`` (now by default).

        One request however many orders changed: the cheap way to watch many orders.
        DigiCert keeps 7 days of changes. The window sent starts 7 hours before
        ``since`` because the server reads the filter in US Mountain time, so the
        answer may include somewhat older changes, never fewer.
        """
        _check_aware(since, "since")
        end = datetime.now(timezone.utc) if until is None else _check_aware(until, "until")
        if end <= since:
            raise ValidationError("until", "must be later than since")
        if end - since > STATUS_CHANGES_MAX_SPAN:
            raise ValidationError("since", "DigiCert keeps status changes for 7 days only")
        window = (
            f"{_status_filter_time(since - STATUS_CHANGES_EARLY_MARGIN)}"
            f"...{_status_filter_time(end)}"
        )
        listing = await self._requester.call(
            "GET",
            STATUS_CHANGES,
            _STATUS_CHANGE_LIST,
            params=(("filters[status_last_updated]", window),),
        )
        return listing.orders

    # ------------------------------------------------------------------ around an order

    async def reissue(
        self,
        order_id: int,
        request: ReissueRequest | Mapping[str, Any] | str,
        *,
        order: Order | None = None,
    ) -> OrderCreated:
        """Reissue an order's certificate: a new certificate (a new key, from the CSR)
        replaces the current one. The order becomes ``reissue_pending`` until DigiCert
        issues it.

        ``request`` is a :class:`~digicert_async.ReissueRequest`, its wire form as a
        mapping, or just the PEM CSR (a str). DigiCert needs the common name, the names
        and the signature hash besides the CSR: whichever of ``common_name``,
        ``dns_names``, ``signature_hash`` (and ``server_platform``) is left out is taken
        from the order, which is read first (one GET; none when all three are given, or
        when ``order``, the order as ``get`` returned it, is passed). So a CSR alone
        keeps the names; ``dns_names=[]`` drops the other names. For a
        code signing, EV code signing, document signing or VMC order, DigiCert wants no
        ``common_name``: none is filled in there (only the hash is).

        Returns DigiCert's answer: ``id`` is the order's, ``requests[0].id`` the
        approval request opened for the reissue. The POST is sent once: it is never
        repeated after it may have reached DigiCert (a reset, a timeout, a 502/503/504
        raise instead), since a second one would reissue twice.
        """
        check_id("order_id", order_id)
        change = await self._completed(order_id, _change_request(request, ReissueRequest), order)
        return await self._requester.call(
            "POST",
            REISSUE,
            _ORDER_CHANGED,
            path_args={"order_id": order_id},
            json=converter.unstructure(change),
        )

    async def duplicate(
        self,
        order_id: int,
        request: DuplicateRequest | Mapping[str, Any] | str,
        *,
        order: Order | None = None,
    ) -> OrderCreated:
        """Add a duplicate certificate to an order: another certificate with the same
        validity, for another server and key, beside the current one (which stays valid).

        ``request`` is a :class:`~digicert_async.DuplicateRequest`, its wire form, or a
        PEM CSR alone; what it leaves out of the names and hash is taken from the order
        as for :meth:`reissue`. Sent once, like every POST. Returns the order's ``id``
        and the approval ``requests`` opened.
        """
        check_id("order_id", order_id)
        change = await self._completed(order_id, _change_request(request, DuplicateRequest), order)
        return await self._requester.call(
            "POST",
            DUPLICATE,
            _ORDER_CHANGED,
            path_args={"order_id": order_id},
            json=converter.unstructure(change),
        )

    async def list_reissues(self, order_id: int) -> builtins.list[IssuedCertificate]:
        """The certificates reissues of an order produced (pending ones included)."""
        check_id("order_id", order_id)
        listing = await self._requester.call(
            "GET", REISSUE, _CERTIFICATE_LIST, path_args={"order_id": order_id}
        )
        return listing.certificates

    async def list_duplicates(self, order_id: int) -> builtins.list[IssuedCertificate]:
        """The duplicate certificates of an order."""
        check_id("order_id", order_id)
        listing = await self._requester.call(
            "GET", DUPLICATE, _CERTIFICATE_LIST, path_args={"order_id": order_id}
        )
        return listing.certificates

    async def revoke(
        self,
        order_id: int,
        *,
        comments: str | None = None,
        revocation_reason: str | None = None,
        skip_approval: bool = False,
    ) -> ApprovalRequest | None:
        """Ask DigiCert to revoke every certificate of an order (reissues and
        duplicates included); ``client.certificates.revoke`` revokes one.

        Returns the approval request DigiCert opens (``type`` ``revoke``, ``status``
        ``pending``: an administrator approves it, see ``client.requests``), or None
        when DigiCert revokes at once: that happens with ``skip_approval=True`` and an
        API key with admin privileges (DigiCert then answers 204 with no body).
        Revoking is permanent. ``revocation_reason`` is one of
        :data:`~digicert_async.REVOCATION_REASONS` (TLS orders only; DigiCert records
        ``unspecified`` without it); ``comments`` is kept on the approval request.

        Sent once: a PUT that opens a request is never repeated after it may have
        reached DigiCert; if its answer is lost the call raises, and the order's status
        or ``client.requests.list(status="pending")`` tells what happened.
        """
        check_id("order_id", order_id)
        return await _revoke.revoke(
            self._requester,
            REVOKE,
            {"order_id": order_id},
            comments=comments,
            revocation_reason=revocation_reason,
            skip_approval=skip_approval,
        )

    # ------------------------------------------------------------------ DCV of an order

    async def check_dcv(self, order_id: int) -> OrderDcvCheck:
        """Ask DigiCert to check the order's DCV now (``PUT .../check-dcv``).

        The answer says it as a whole (``dcv_status``: ``valid`` once passed) and, in
        newer answers, name by name (``dns_name_validations``). A check before the
        record is visible is an answer (``pending``), not an error."""
        return await _order_dcv.check_dcv(self._requester, order_id)

    async def dcv_random_value(self, order_id: int) -> DcvRandomValue:
        """The random value (the token) the order's DCV looks for, and its expiry.

        It is a ``PUT``: DigiCert may make a new value each time it is called, and the
        value published before then no longer counts. Call it once per validation, and
        publish what it returns."""
        return await _order_dcv.dcv_random_value(self._requester, order_id)

    async def change_dcv_method(self, order_id: int, method: str) -> DcvRandomValue | None:
        """Change the order's DCV method to ``email``, ``dns-txt-token`` or
        ``http-token`` (:data:`~digicert_async.ORDER_DCV_METHODS`; anything else is a
        ``ValidationError`` before sending). For a token method the answer is the new
        random value to publish; for ``email`` it is None."""
        return await _order_dcv.change_dcv_method(self._requester, order_id, method)

    async def resend_dcv_emails(self, order_id: int) -> None:
        """Send the order's DCV emails again. Sent once: if its answer is lost the call
        raises rather than mail every approver twice."""
        await _order_dcv.resend_dcv_emails(self._requester, order_id)

    async def _completed(self, order_id: int, change: _Change, order: Order | None) -> _Change:
        """``change`` with what it leaves out taken from the order: ``order`` when given
        (it must be this one), else read (one GET, none when nothing is left out)."""
        if not needs_order(change):
            return change
        if order is None:
            order = await self.get(order_id)
        elif not isinstance(order, Order):
            raise ValidationError("order", f"must be an Order, not {describe(order)}")
        elif order.id is not None and order.id != order_id:
            raise ValidationError("order", f"is order {order.id}, not order {order_id}")
        logger.debug("order %s: names and hash not given are taken from the order", order_id)
        return change_from_order(change, order, order_id)
