"""The one CSR check (``models/_csr.py``): what it takes and refuses, with the reasons its
docstring gives, and that every request carrying a CSR runs this same check.

The DER is built by hand here (a SEQUENCE holding a SEQUENCE is the outline the check
reads); real CSRs made with ``cryptography`` go through it in ``test_around.py`` and
``test_ordering.py``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

import digicert_async as dc
from digicert_async.bulk._reissue import check_csrs
from digicert_async.models._csr import MAX_CSR_CHARACTERS, check_csr, csr

# SEQUENCE { SEQUENCE { INTEGER 0 } }: the outline of a certificate request
OUTLINE = bytes.fromhex("3005300302 0100".replace(" ", ""))


def pem(
    der: bytes = OUTLINE,
    *,
    begin: str = "CERTIFICATE REQUEST",
    end: str | None = None,
    newline: str = "\n",
) -> str:
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return newline.join([f"-----BEGIN {begin}-----", *lines, f"-----END {end or begin}-----", ""])


def refusal(value: object) -> str:
    with pytest.raises(dc.ValidationError) as caught:
        check_csr("certificate.csr", value)
    assert caught.value.field == "certificate.csr"
    return caught.value.message


def test_the_docstrings_example_outline_is_a_request() -> None:
    assert check_csr("csr", pem()) == pem()


@pytest.mark.parametrize(
    "text",
    [
        pem(begin="NEW CERTIFICATE REQUEST"),  # Microsoft's label, on DigiCert's pages
        pem(newline="\r\n"),  # a file written on Windows
        "\n  " + pem() + "\n\n",  # whitespace around the block
        pem().rstrip("\n"),
        pem(newline="\n").replace("\n", "", 1).replace("-----M", "-----\nM"),
    ],
)
def test_what_a_csr_file_holds_is_taken_as_it_is(text: str) -> None:
    assert check_csr("csr", text) == text  # returned unchanged: sent as given


@pytest.mark.parametrize(
    ("begin", "end"),
    [
        ("NEW CERTIFICATE REQUEST", "CERTIFICATE REQUEST"),
        ("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"),
    ],
)
def test_begin_and_end_labels_must_be_the_same(begin: str, end: str) -> None:
    assert refusal(pem(begin=begin, end=end)) == "the BEGIN and END labels of the PEM block differ"


@pytest.mark.parametrize("escape", ["\\n", "\\r\\n", "\\"])
def test_a_literal_backslash_escape_is_refused(escape: str) -> None:
    # What a JSON example pasted into a raw string leaves: DigiCert asks for none.
    text = pem().replace("\n", escape)
    assert refusal(text.replace(escape + "-----END", "\n-----END")) == refusal(text)
    assert refusal(text) == (
        "holds a backslash escape (such as \\n): give the PEM text with real line breaks"
    )


def test_the_cap_is_64_kib_of_text() -> None:
    assert MAX_CSR_CHARACTERS == 64 * 1024
    longest = pem() + " " * (MAX_CSR_CHARACTERS - len(pem()))
    assert len(longest) == MAX_CSR_CHARACTERS
    assert check_csr("csr", longest) == longest
    assert refusal(longest + " ") == (
        f"is {MAX_CSR_CHARACTERS + 1} characters long, over {MAX_CSR_CHARACTERS}: a CSR is a few"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "expected a string, got null"),
        (b"-----BEGIN", "expected a string, got bytes"),
        ("", "must not be empty"),
        ("  \n", "must not be empty"),
    ],
)
def test_not_text_is_refused(value: object, reason: str) -> None:
    assert refusal(value) == reason


_SHAPE = (
    "must be one PEM block from '-----BEGIN CERTIFICATE REQUEST-----' to"
    " '-----END CERTIFICATE REQUEST-----' with base64 between, and nothing else"
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<csr>", "'<csr>'"),  # the placeholder of DigiCert's examples
        (" <csr>\n", "'<csr>'"),
        ("x" * 40, "'" + "x" * 40 + "'"),
        ("y" * 41, "'" + "y" * 37 + "...'"),
        (pem() + pem(), None),  # two blocks
        ("garbage" + pem(), None),
        (pem() + "garbage", None),
        (pem(begin="CERTIFICATE"), None),
        (pem(begin="PUBLIC KEY"), None),
        (pem().replace("MAU", "M-U"), None),
        (pem().replace("MAU", "M*U"), None),
    ],
)
def test_anything_but_one_block_is_refused_with_a_preview(text: str, shown: str | None) -> None:
    reason = refusal(text)
    assert reason.startswith(_SHAPE + " (got ")
    if shown is not None:
        assert reason == f"{_SHAPE} (got {shown})"


def test_an_empty_block_and_bad_base64_are_refused() -> None:
    assert refusal(pem(b"")) == "the PEM block is empty"
    assert refusal(pem().replace("AA==", "AA=")) == "the PEM block is not valid base64"
    assert refusal(pem().replace("MAU", "MA=U")) == "the PEM block is not valid base64"


@pytest.mark.parametrize(
    ("der", "problem"),
    [
        ("3103300102", "starts with tag 0x31, not a SEQUENCE"),
        ("30053003020100ffff", "2 bytes follow the SEQUENCE"),
        ("30", "truncated"),
        ("3006300302", "truncated"),
        ("3080300302010000", "indefinite length"),
        ("3085000000000530030201 00", "bad length"),
        ("3082", "bad length"),
        ("308200", "bad length"),
        ("3000", "its first element: truncated"),
        ("308100", "its first element: truncated"),
        ("30023005", "its first element: truncated"),
        ("3003020100", "its first element is not a SEQUENCE (the request's info)"),
        ("30043002300000", "1 bytes follow the SEQUENCE"),
    ],
)
def test_a_block_that_is_not_a_request_is_refused(der: str, problem: str) -> None:
    data = bytes.fromhex(der.replace(" ", ""))
    assert refusal(pem(data)) == f"the PEM block is not a DER certificate request: {problem}"


@pytest.mark.parametrize(
    "der",
    [
        # long-form lengths: one, two and four length bytes
        "3081" + "83" + "3081" + "80" + "0481" + "7d" + "00" * 125,
        "308200" + "05" + "3003020100",
        "3084000000" + "05" + "3003020100",
        # the info SEQUENCE may be followed by the algorithm and signature
        "300a" + "3003020100" + "3000" + "030100",
        "30023000",
    ],
)
def test_long_form_lengths_and_a_full_outline_are_taken(der: str) -> None:
    text = pem(bytes.fromhex(der))
    assert check_csr("csr", text) == text


def test_the_attrs_validator_runs_the_check() -> None:
    required, optional = csr("certificate.csr"), csr("certificate.csr", optional=True)
    optional(None, None, None)  # type: ignore[arg-type]
    optional(None, None, pem())  # type: ignore[arg-type]
    required(None, None, pem())  # type: ignore[arg-type]
    with pytest.raises(dc.ValidationError, match="expected a string"):
        required(None, None, None)  # type: ignore[arg-type]
    with pytest.raises(dc.ValidationError, match="backslash escape") as caught:
        optional(None, None, pem().replace("\n", "\\n"))  # type: ignore[arg-type]
    assert caught.value.field == "certificate.csr"


# --------------------------------------------------------------------------- one check


ESCAPED = pem().replace("\n", "\\n")
MISMATCHED = pem(begin="NEW CERTIFICATE REQUEST", end="CERTIFICATE REQUEST")
NO_INFO = pem(bytes.fromhex("3003020100"))

_ENTRIES: list[tuple[str, Callable[[str], Any]]] = [
    (
        "certificate.csr",
        lambda text: dc.CertificateDetails(csr=text, signature_hash="sha256"),
    ),
    ("certificate.csr", lambda text: dc.ReissueCertificate(csr=text)),
    (
        "certificate.csr",
        lambda text: dc.DuplicateRequest(certificate=dc.ReissueCertificate(csr=text)),
    ),
    ("csrs", lambda text: check_csrs({7: text})),
]


@pytest.mark.parametrize("bad", [ESCAPED, MISMATCHED, NO_INFO])
@pytest.mark.parametrize(("field", "build"), _ENTRIES)
def test_every_request_with_a_csr_gives_the_same_verdict(
    field: str, build: Callable[[str], Any], bad: str
) -> None:
    build(pem(begin="NEW CERTIFICATE REQUEST"))
    with pytest.raises(dc.ValidationError) as caught:
        build(bad)
    assert caught.value.field == field
    assert refusal(bad) in caught.value.message


@pytest.mark.parametrize("bad", [ESCAPED, MISMATCHED, NO_INFO])
async def test_the_calls_refuse_a_bad_csr_before_sending(bad: str) -> None:
    # port 9 on loopback: anything sent would fail with a connection error, not this
    client = dc.CertCentralClient("key", base_url="http://127.0.0.1:9/services/v2")
    order = {"certificate": {"common_name": "example.com", "csr": bad, "signature_hash": "sha256"}}
    async with client:
        for call in (
            client.orders.create("ssl_basic", order),
            client.orders.reissue(7, bad),
            client.orders.duplicate(7, {"certificate": {"csr": bad}}),
        ):
            with pytest.raises(dc.ValidationError) as caught:
                await call
            assert caught.value.field.endswith("csr")
        with pytest.raises(dc.ValidationError) as caught:
            dc.reissue_orders(client, {7: bad})
        assert caught.value.field == "csrs"
