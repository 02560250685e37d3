"""``resources/certificates.py``'s details that mutation testing found unchecked, and
promises of its docstrings that no test held.

The checks' messages show the value refused (cut short) and what is allowed; a body that
is plainly no file is named for what it is, whichever way its ``Content-Type`` header is
written and whatever whitespace leads it, and its error keeps the request, the status and
(unless it holds a key) the body; the JSON sniff and the chain's cap hold at their exact
bounds; the guard around the readers keeps the reader's name and turns the unexpected into
a ``ResponseError`` about the same answer; a revocation whose answer is lost is not sent
again. Readers are fed ``Response`` values (a transport may hand any mapping of headers);
the revocation runs against ``FakeCertCentral``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

import digicert_async as dc
from digicert_async._pipeline import Response
from digicert_async.resources import certificates as module
from digicert_async.resources.certificates import (
    CHAIN_MAX_BYTES,
    certificate_identifier,
    check_format,
    read_file,
    read_pem,
)
from digicert_async.testing import FakeCertCentral, Fault

URL = "https://127.0.0.1/services/v2/certificate/1/download/format/pem_all"
FORMATS = (
    "default, apache, default_cer, default_pem, cer, p7b, pem_all, pem_nointermediate, pem_noroot"
)


def answer(body: bytes, headers: Mapping[str, str] | None = None, status: int = 200) -> Response:
    return Response(
        status=status,
        headers={"Content-Type": "application/x-pem-file"} if headers is None else headers,
        body=body,
        method="GET",
        url=URL,
    )


EMPTY = "an empty body, not a certificate file"
HTML = "an HTML page, not a certificate file (a proxy?)"
JSON = "a JSON document, not a certificate file"


def said(error: dc.ResponseError) -> str:
    """The message of ``error``, after the request and status it names."""
    return str(error).split(f" -> HTTP {error.status}: ", 1)[1]


def refusal(response: Response) -> dc.ResponseError:
    with pytest.raises(dc.ResponseError) as caught:
        read_file(response)
    return caught.value


# --------------------------------------------------------------------------- the checks


def test_an_unknown_format_is_shown_cut_and_the_formats_listed() -> None:
    with pytest.raises(dc.ValidationError) as caught:
        check_format("x" * 50)
    assert caught.value.field == "format"
    assert caught.value.message == f"unknown certificate format {'x' * 40!r}; one of {FORMATS}"
    with pytest.raises(dc.ValidationError) as caught:
        check_format(7, "formats[2]")
    assert caught.value.field == "formats[2]"
    assert caught.value.message == f"unknown certificate format int; one of {FORMATS}"


def test_a_bad_serial_is_shown_cut_and_a_bad_type_named() -> None:
    with pytest.raises(dc.ValidationError) as caught:
        certificate_identifier("g" * 70)
    assert caught.value.field == "certificate_id_or_serial"
    assert caught.value.message == f"a serial number is 1 to 40 hex digits, got {'g' * 60!r}"
    with pytest.raises(dc.ValidationError) as caught:
        certificate_identifier(1.5)
    assert caught.value.message == (
        "expected a certificate id (int) or serial number (str), got float"
    )
    with pytest.raises(dc.ValidationError, match="got bool"):
        certificate_identifier(True)  # a bool is no id


def test_a_serial_copied_with_colons_and_spaces_is_the_bare_hex() -> None:
    assert certificate_identifier("0a:e7:12 79\te5") == "0ae71279e5"
    assert certificate_identifier(" 0A E7 ") == "0AE7"
    assert certificate_identifier(12) == "12"


# --------------------------------------------------------------------------- no file


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (b"", None, EMPTY),
        (b" \r\n\t ", None, EMPTY),
        (b"<html>login</html>", None, HTML),
        (b"\n  <!doctype html>", None, HTML),
        (b"Sign in", {"Content-Type": "text/html"}, HTML),
        (b"Sign in", {"content-type": "text/html"}, HTML),  # a plain mapping, written so
        (b"Sign in", {"Content-Type": "Text/HTML; charset=utf-8"}, HTML),
        (b'  {"errors": []}', None, JSON),
        (b"[1, 2]", {}, JSON),
    ],
)
def test_what_is_plainly_no_file_is_named(
    body: bytes, headers: Mapping[str, str] | None, message: str
) -> None:
    assert said(refusal(answer(body, headers))) == message


@pytest.mark.parametrize("headers", [{}, {"Content-Type": "application/x-pem-file"}])
def test_a_file_is_returned_as_sent_whatever_its_headers(headers: Mapping[str, str]) -> None:
    body = b"  -----BEGIN CERTIFICATE-----\n"  # read_file checks no form, only plain non-files
    assert read_file(answer(body, headers)) is body


def test_the_refusal_keeps_the_request_the_status_and_the_body() -> None:
    response = Response(status=203, headers={}, body=b"<html>proxy</html>", method="GET", url=URL)
    error = refusal(response)
    assert (error.method, error.url, error.status) == ("GET", URL, 203)
    assert error.body == "<html>proxy</html>"


def test_a_body_that_is_no_pem_bundle_is_kept_unless_it_holds_a_key() -> None:
    with pytest.raises(dc.ResponseError) as caught:
        read_pem(answer(b"neither PEM nor anything"))
    assert said(caught.value) == "not a PEM certificate bundle: no PEM CERTIFICATE block"
    assert caught.value.body == "neither PEM nor anything"
    secret = b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n"
    with pytest.raises(dc.ResponseError, match="'PRIVATE KEY' block") as caught:
        read_pem(answer(secret))
    assert caught.value.body == ""


def test_bytes_outside_ascii_are_no_pem_text() -> None:
    with pytest.raises(dc.ResponseError) as caught:
        read_pem(answer("-----BEGIN CERTIFICATE-----\né".encode()))
    assert said(caught.value) == "not PEM text (bytes outside ASCII)"


def test_json_is_sniffed_up_to_its_bound_exactly() -> None:
    bound = module._JSON_SNIFF_BYTES
    at_bound = b"[" + b" " * (bound - 2) + b"]"
    assert len(at_bound) == bound and json.loads(at_bound) == []
    assert said(refusal(answer(at_bound))) == "a JSON document, not a certificate file"
    past = b"[" + b" " * (bound - 1) + b"]"
    assert read_file(answer(past)) is past  # not parsed: the format's own check refuses it


def test_a_deeply_nested_body_is_no_json_nor_an_unexpected_error() -> None:
    deep = b"[" * 100_000
    assert read_file(answer(deep)) is deep
    with pytest.raises(dc.ResponseError) as caught:
        read_pem(answer(deep))
    assert "an unexpected" not in str(caught.value)


# --------------------------------------------------------------------------- the chain


def test_a_chain_answer_at_the_cap_is_read_and_one_byte_more_is_refused() -> None:
    document = b'{"intermediates": []}'
    at_cap = document + b" " * (CHAIN_MAX_BYTES - len(document))
    chain = module._read_chain(answer(at_cap, {"Content-Type": "application/json"}))
    assert chain.intermediates == []
    with pytest.raises(dc.ResponseError) as caught:
        module._read_chain(answer(at_cap + b" ", {"Content-Type": "application/json"}))
    assert said(caught.value) == (
        f"a chain answer of {CHAIN_MAX_BYTES + 1} bytes; DigiCert's are a few KB"
        f" (at most {CHAIN_MAX_BYTES} are read)"
    )


# --------------------------------------------------------------------------- the guard


def test_the_guard_keeps_each_readers_name_and_doc() -> None:
    assert read_pem.__name__ == read_pem.__qualname__ == "read_pem"
    assert (read_pem.__doc__ or "").startswith("A ``pem_all`` body split into certificate")
    assert module._read_zip_file.__name__ == "_read_zip_file"

    def documented(response: Response) -> int:
        """Reads a number."""
        return response.status

    guarded = module._unexpected_is_a_response_error(documented)
    assert (guarded.__name__, guarded.__doc__) == ("documented", "Reads a number.")


def test_the_guard_hands_the_answer_on_and_makes_the_unexpected_a_response_error() -> None:
    seen: list[Response] = []

    def reader(response: Response) -> int:
        seen.append(response)
        return len(seen)

    def broken(response: Response) -> int:
        raise KeyError(response.status)

    given = answer(b"file", status=200)
    assert module._unexpected_is_a_response_error(reader)(given) == 1 and seen == [given]
    with pytest.raises(dc.ResponseError) as caught:
        module._unexpected_is_a_response_error(broken)(given)
    error = caught.value
    assert said(error) == "the file could not be read (an unexpected KeyError)"
    assert (error.method, error.url, error.status, error.body) == ("GET", URL, 200, "file")
    assert isinstance(error.__cause__, KeyError)


# --------------------------------------------------------------------------- revoke


async def test_a_revocation_whose_answer_is_lost_is_not_sent_again() -> None:
    retry = dc.RetryPolicy(max_attempts=4, backoff_initial=0.001)
    async with FakeCertCentral(rate_limits=None) as fake:
        order_id = fake.add_order("issued")
        certificate_id = fake.order(order_id)["certificate"]["id"]  # type: ignore[index]
        async with dc.CertCentralClient(
            api_key=fake.api_key,
            base_url=fake.base_url,
            retry=retry,
            rate_limit=dc.RateLimit.disabled(),
        ) as client:
            # the same fault on a GET is sent again: the retry policy is on
            fake.inject(Fault.RESET_AFTER, method="GET", path_contains="/download/")
            await client.certificates.download(certificate_id)
            fake.inject(Fault.RESET_AFTER, method="PUT", path_contains="/revoke")
            with pytest.raises(dc.DigiCertError):
                await client.certificates.revoke(certificate_id, comments="lost")
        downloads = [r for r in fake.requests if "/download/" in r.path]
        revocations = [r for r in fake.requests if r.path.endswith("/revoke")]
    assert len(downloads) == 2
    assert len(revocations) == 1 and revocations[0].fault is Fault.RESET_AFTER
