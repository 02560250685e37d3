"""``client.certificates``: one certificate of an order, by its id (or, to revoke it,
its serial number): revoke it, download its files, read its chain."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TypeVar

from .._checks import check_id, describe
from .._decode import read_model
from .._errors import ResponseError, ValidationError, decode_text
from .._pem import PemError, check_pkcs7, read_blocks
from .._pipeline import Reader, Requester, Response
from .._zip import ZipError, check_zip
from ..models import ApprovalRequest
from ..models.certificates import CERTIFICATE_FORMATS, CertificateChain, CertificatePem
from . import _revoke

__all__ = ["CHAIN_MAX_BYTES", "CertificatesResource", "certificate_identifier", "check_format"]

_Read = TypeVar("_Read")

REVOKE = "/certificate/{certificate_identifier}/revoke"
DOWNLOAD = "/certificate/{certificate_id}/download/format/{format_type}"
DOWNLOAD_FOR_ORDER = "/certificate/download/order/{order_id}/format/{format_type}"
CHAIN = "/certificate/{certificate_id}/chain"
_CHAIN = read_model(CertificateChain)
# DigiCert's chain answers are a few KB (3.3 KB for two certificates); past this, a body
# is refused unread, rather than decoded into thousands of objects on the event loop.
CHAIN_MAX_BYTES = 256 * 1024
# Only a body this small is parsed to tell a JSON document from a file: the check serves
# the message alone (JSON can hold no PEM block, PKCS#7 or ZIP archive, so the format
# check refuses a larger one anyway), and DigiCert's JSON answers are small.
_JSON_SNIFF_BYTES = 256 * 1024
# The format's own type first, then anything: DigiCert's JSON error bodies must stay
# acceptable, and no server should answer 406 for a file it would have sent.
_ACCEPT = {name: {"Accept": f"{kind}, */*;q=0.1"} for name, kind in CERTIFICATE_FORMATS.items()}


def check_format(value: object, field: str = "format") -> str:
    """``value`` if it is one of :data:`~digicert_async.CERTIFICATE_FORMATS`, else the
    ``ValidationError`` listing them."""
    if isinstance(value, str) and value in CERTIFICATE_FORMATS:
        return value
    shown = repr(value[:40]) if isinstance(value, str) else describe(value)
    raise ValidationError(
        field, f"unknown certificate format {shown}; one of {', '.join(CERTIFICATE_FORMATS)}"
    )


def _not_a_file(response: Response, message: str, *, keep_body: bool = True) -> ResponseError:
    return ResponseError(
        message,
        method=response.method,
        url=response.url,
        status=response.status,
        body=decode_text(response.body) if keep_body else "",
    )


def read_file(response: Response) -> bytes:
    """A certificate file as it came, unless the 2xx body is plainly no file: empty, an
    HTML page (a proxy or a web site answered), or a JSON document (DigiCert's errors
    come with an error status; JSON with a 2xx is something else answering)."""
    body = response.body
    head = body.lstrip()[:1]
    if not head:
        raise _not_a_file(response, "an empty body, not a certificate file")
    headers = response.headers
    content_type = (headers.get("Content-Type") or headers.get("content-type") or "").lower()
    if head == b"<" or "html" in content_type:
        raise _not_a_file(response, "an HTML page, not a certificate file (a proxy?)")
    if head in (b"{", b"[") and len(body) <= _JSON_SNIFF_BYTES:
        try:
            json.loads(body)
        except (ValueError, RecursionError):
            pass
        else:
            raise _not_a_file(response, "a JSON document, not a certificate file")
    return body


def _unexpected_is_a_response_error(
    read: Callable[[Response], _Read],
) -> Callable[[Response], _Read]:
    """``read``, with any exception other than a ``ResponseError`` made one: whatever a
    server sends, a call ends in a result or a documented exception (defence in depth:
    the checks below raise only their own errors, and tests hold them to it)."""

    def guarded(response: Response) -> _Read:
        try:
            return read(response)
        except ResponseError:
            raise
        except Exception as exc:
            raise _not_a_file(
                response, f"the file could not be read (an unexpected {type(exc).__name__})"
            ) from exc

    guarded.__name__ = guarded.__qualname__ = read.__name__
    guarded.__doc__ = read.__doc__
    return guarded


@_unexpected_is_a_response_error
def read_pem(response: Response) -> CertificatePem:
    """A ``pem_all`` body split into certificate, intermediates and root."""
    text = _pem_text(response)
    try:
        return CertificatePem.from_bundle(text)
    except PemError as exc:
        raise _not_pem(response, text, exc) from None


def _pem_text(response: Response) -> str:
    try:
        return read_file(response).decode("ascii")
    except UnicodeDecodeError:
        raise _not_a_file(response, "not PEM text (bytes outside ASCII)") from None


def _not_pem(response: Response, text: str, problem: PemError) -> ResponseError:
    # The body is left out when it holds a key: an error is logged and shown.
    return _not_a_file(
        response,
        f"not a PEM certificate bundle: {problem}",
        keep_body="PRIVATE KEY" not in text,
    )


@_unexpected_is_a_response_error
def _read_pem_file(response: Response) -> bytes:
    text = _pem_text(response)
    try:
        read_blocks(text)
    except PemError as exc:
        raise _not_pem(response, text, exc) from None
    return response.body


@_unexpected_is_a_response_error
def _read_pkcs7_file(response: Response) -> bytes:
    body = read_file(response)
    try:
        check_pkcs7(body)
    except PemError as exc:
        raise _not_a_file(response, f"not a PKCS#7 bundle: {exc}") from None
    return body


@_unexpected_is_a_response_error
def _read_zip_file(response: Response) -> bytes:
    body = read_file(response)
    try:
        # The central directory sits at the end: a cut or foreign body has none. Nothing
        # is decompressed here.
        check_zip(body)
    except ZipError as exc:
        raise _not_a_file(response, f"not a ZIP archive of certificates: {exc}") from None
    return body


def _read_chain(response: Response) -> CertificateChain:
    if len(response.body) > CHAIN_MAX_BYTES:
        raise _not_a_file(
            response,
            f"a chain answer of {len(response.body)} bytes; DigiCert's are a few KB"
            f" (at most {CHAIN_MAX_BYTES} are read)",
        )
    return _CHAIN(response)


_READERS: dict[str, Reader[bytes]] = {
    "application/x-pem-file": _read_pem_file,
    "application/x-pkcs7-certificates": _read_pkcs7_file,
    "application/zip": _read_zip_file,
}
_FILE_READERS = {name: _READERS[kind] for name, kind in CERTIFICATE_FORMATS.items()}


# DigiCert writes serial numbers as hex (``0AE71279E5213729026AFE4BB58DE1AB``); RFC 5280
# caps them at 20 octets.
_SERIAL = re.compile(r"[0-9A-Fa-f]{1,40}")


def certificate_identifier(value: object, field: str = "certificate_id_or_serial") -> str:
    """The path segment that names a certificate: an int is its id, a str its serial
    number (hex digits, as DigiCert shows it; colons and spaces between bytes are
    dropped, so a serial copied from ``openssl x509 -serial`` or a browser works).

    The path does not say which of the two it holds, so a serial made only of decimal
    digits is ambiguous; prefer the id when both are at hand."""
    if isinstance(value, str):
        serial = re.sub(r"[:\s]", "", value)
        if not _SERIAL.fullmatch(serial):
            raise ValidationError(
                field, f"a serial number is 1 to 40 hex digits, got {value[:60]!r}"
            )
        return serial
    if type(value) is int:
        return str(check_id(field, value))
    raise ValidationError(
        field, f"expected a certificate id (int) or serial number (str), got {describe(value)}"
    )


class CertificatesResource:
    """Certificates: ``client.certificates``."""

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    async def revoke(
        self,
        certificate_id_or_serial: int | str,
        *,
        comments: str | None = None,
        revocation_reason: str | None = None,
        skip_approval: bool = False,
    ) -> ApprovalRequest | None:
        """Ask DigiCert to revoke one certificate of an order (a reissue or a duplicate,
        say), named by its id (an int) or its serial number (a hex str).

        Returns the approval request DigiCert opens (``status`` ``pending``: an
        administrator must approve it, see ``client.requests``), or None when DigiCert
        revokes at once: that happens with ``skip_approval=True`` and an API key with
        admin privileges (DigiCert then answers 204 with no body). Revoking is
        permanent. A certificate whose order has a pending reissue cannot be revoked
        (DigiCert answers 400). ``revocation_reason`` is one of
        :data:`~digicert_async.REVOCATION_REASONS` (TLS certificates only); ``comments``
        is kept on the approval request for the approver.

        The request is sent once: if its answer is lost, it is not repeated (look at
        the order or the pending requests to learn whether it arrived).
        """
        identifier = certificate_identifier(certificate_id_or_serial)
        return await _revoke.revoke(
            self._requester,
            REVOKE,
            {"certificate_identifier": identifier},
            comments=comments,
            revocation_reason=revocation_reason,
            skip_approval=skip_approval,
        )

    async def download(self, certificate_id: int, format: str = "pem_all") -> bytes:
        """One certificate's file, in ``format`` (one of
        :data:`~digicert_async.CERTIFICATE_FORMATS`), as the bytes DigiCert sends: PEM
        text, a PKCS#7 bundle or a ZIP archive.

        Use it for a reissue or a duplicate, which :meth:`download_for_order` does not
        reach. The answer is read under the client's ``max_response_bytes``. It is
        returned as sent, once its outer form is checked, so that a body cut short or
        something else sent in its place is a ``ResponseError``, not a broken file: PEM
        text must be whole ``CERTIFICATE`` blocks, a PKCS#7 bundle one whole DER
        structure (or one PEM ``PKCS7`` block), a ZIP archive must have its directory
        and a local header for each of its entries, at most 256 of them, none
        encrypted, each in a version and compression method ``zipfile`` reads. An
        empty body, an HTML page or JSON is a ``ResponseError`` too; so is anything
        else a check cannot read: no other exception comes out of a bad body.
        """
        check_id("certificate_id", certificate_id)
        format_type = check_format(format)
        return await self._requester.call(
            "GET",
            DOWNLOAD,
            _FILE_READERS[format_type],
            path_args={"certificate_id": certificate_id, "format_type": format_type},
            headers=_ACCEPT[format_type],
        )

    async def download_for_order(self, order_id: int, format: str = "pem_all") -> bytes:
        """The order's active certificate, in ``format``, as :meth:`download` gives it.

        DigiCert serves only the order's current certificate here: not its duplicates,
        nor the certificates its reissues replaced.
        """
        check_id("order_id", order_id)
        format_type = check_format(format)
        return await self._requester.call(
            "GET",
            DOWNLOAD_FOR_ORDER,
            _FILE_READERS[format_type],
            path_args={"order_id": order_id, "format_type": format_type},
            headers=_ACCEPT[format_type],
        )

    async def get_pem(self, certificate_id: int) -> CertificatePem:
        """One certificate with its chain, as PEM text split into its parts.

        Downloads ``pem_all`` and tells the blocks apart by their names, whatever their
        order: the certificate is the one that issues no other; the intermediates are
        its issuer path, up to the nearest self-signed root, which is ``root``. What is
        off that path (for a cross-signed order, the cross certificate and the older
        root that signed it) is kept in ``off_path``. A body that is not a bundle of
        certificates (a block of another kind, no leaf, two leaves) is a
        ``ResponseError``.
        """
        check_id("certificate_id", certificate_id)
        return await self._requester.call(
            "GET",
            DOWNLOAD,
            read_pem,
            path_args={"certificate_id": certificate_id, "format_type": "pem_all"},
            headers=_ACCEPT["pem_all"],
        )

    async def chain(self, certificate_id: int) -> CertificateChain:
        """The CA certificates above a certificate, as DigiCert lists them
        (``intermediates``, each with its ``subject_common_name`` and ``pem``).

        An answer past :data:`CHAIN_MAX_BYTES` (256 KiB; DigiCert's are a few KB) is a
        ``ResponseError``, refused before it is decoded."""
        check_id("certificate_id", certificate_id)
        return await self._requester.call(
            "GET", CHAIN, _read_chain, path_args={"certificate_id": certificate_id}
        )
