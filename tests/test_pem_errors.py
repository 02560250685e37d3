"""What ``_pem`` says about a text that is not a bundle of certificates, element by
element and boundary by boundary (the messages name a block by its position and a DER
element by its ASN.1 name, never by content), and the edges of what it accepts."""

from __future__ import annotations

import base64
import re

import pytest

from digicert_async._pem import (
    MAX_BLOCKS,
    PemError,
    certificate_names,
    check_pkcs7,
    read_armor,
    read_blocks,
    split_bundle,
)

from .test_hostile_parse import block, der, name, tiny_certificate


def says(message: str) -> str:
    """A ``match`` pattern for exactly ``message``."""
    return f"^{re.escape(message)}$"


def armored(data: bytes, label: str = "CERTIFICATE") -> str:
    return f"-----BEGIN {label}-----\n{base64.b64encode(data).decode()}\n-----END {label}-----\n"


# --------------------------------------------------------------------------- DER elements

VERSION = der(0xA0, der(0x02, b"\x02"))
SERIAL = der(0x02, b"\x01")
ALGORITHM = der(0x30, b"")
ISSUER, SUBJECT = name("CA"), name("leaf")
VALIDITY = der(0x30, b"")
TAIL = der(0x30, b"") + der(0x03, b"\x00")


def certificate(*parts: bytes, tail: bytes = TAIL) -> bytes:
    return der(0x30, der(0x30, b"".join(parts)) + tail)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Certificate: the DER ends early"),
        (b"\x04\x00", "Certificate: expected tag 0x30, found 0x04"),
        (der(0x30, b"") + b"\x00", "Certificate: bytes after the certificate"),
        (der(0x30, b""), "tbsCertificate: the DER ends early"),
        (der(0x30, der(0x31, b"")), "tbsCertificate: expected tag 0x30, found 0x31"),
        (certificate(tail=b""), "tbsCertificate.version: the DER ends early"),
        (certificate(VERSION, tail=b""), "tbsCertificate.serialNumber: the DER ends early"),
        (certificate(VERSION, der(0x04, b"")),
         "tbsCertificate.serialNumber: expected tag 0x02, found 0x04"),
        (certificate(SERIAL, der(0x31, b"")),
         "tbsCertificate.signature: expected tag 0x30, found 0x31"),
        (certificate(SERIAL, ALGORITHM, der(0x31, b"")),
         "tbsCertificate.issuer: expected tag 0x30, found 0x31"),
        (certificate(SERIAL, ALGORITHM, ISSUER, der(0x31, b"")),
         "tbsCertificate.validity: expected tag 0x30, found 0x31"),
        (certificate(SERIAL, ALGORITHM, ISSUER, VALIDITY, der(0x31, b"")),
         "tbsCertificate.subject: expected tag 0x30, found 0x31"),
        (der(0x30, der(0x30, SERIAL + ALGORITHM + ISSUER + VALIDITY)[:2] + SERIAL + ALGORITHM
             + ISSUER + VALIDITY + SUBJECT),
         "tbsCertificate: the subject runs past its end"),
        (b"\x1f\x00", "Certificate: a high tag number, not in a certificate's header"),
        (b"\x3f\x00", "Certificate: a high tag number, not in a certificate's header"),
        (b"\x30\x80", "Certificate: an indefinite length, which DER does not allow"),
        (b"\x30\x85\x00\x00\x00\x00\x00", "Certificate: a bad length"),
        (b"\x30\x82\x01", "Certificate: a bad length"),
        (b"\x30\x01", "Certificate: the DER ends inside an element"),
    ],
)  # fmt: skip
def test_each_der_problem_names_its_element(data: bytes, message: str) -> None:
    with pytest.raises(PemError, match=says(message)):
        certificate_names(data)
    with pytest.raises(PemError, match=says(f"block 1 is not an X.509 certificate ({message})")):
        read_blocks(armored(data))


def test_a_certificate_without_a_version_and_every_length_form_is_read() -> None:
    # no [0] version (a v1 certificate); the names are the whole elements
    assert certificate_names(certificate(SERIAL, ALGORITHM, ISSUER, VALIDITY, SUBJECT)) == (
        ISSUER, SUBJECT
    )  # fmt: skip
    issuer = der(0x30, der(0x31, der(0x30, der(0x0C, b"x" * 300))))  # a 2-octet length
    assert (
        certificate_names(certificate(VERSION, SERIAL, ALGORITHM, issuer, VALIDITY, SUBJECT))[0]
        == issuer
    )
    content = VERSION + SERIAL + ALGORITHM + ISSUER + VALIDITY + SUBJECT
    four = b"\x30\x84" + len(content).to_bytes(4, "big") + content  # the longest form read
    assert certificate_names(der(0x30, four + TAIL)) == (ISSUER, SUBJECT)


@pytest.mark.parametrize(
    "data",
    [b"\x30\x00", b"\x30\x81\x00", b"\x30\x84\x00\x00\x00\x01\x00", b"\x30\x82\x00\x01\x00"],
)
def test_a_whole_content_info_at_the_very_end_of_the_bytes_is_accepted(data: bytes) -> None:
    check_pkcs7(data)
    check_pkcs7(armored(data, "PKCS7").encode())
    check_pkcs7(b"\r\n  " + armored(data, "CMS").encode())  # spaces and CMS's label too


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x30", "ContentInfo: the DER ends early"),
        (b"\x04\x00", "ContentInfo: expected tag 0x30, found 0x04"),
        (b"\x30\x00\x00", "ContentInfo: bytes after the bundle"),
        (b"-----BEGIN PKCS7-----\n\xff\n-----END PKCS7-----\n", "bytes outside ASCII in PEM text"),
        (b"-----BEGIN PKCS7-----\n!!!!\n-----END PKCS7-----\n",
         "the PKCS7 block: its base64 does not decode"),
        (armored(b"\x30\x00", "CERTIFICATE").encode(), "a 'CERTIFICATE' block, not PKCS7"),
        ((armored(b"\x30\x00", "PKCS7") * 2).encode(), "expected one PEM PKCS7 block, found 2"),
        (b"-----BEGIN", "expected one PEM PKCS7 block, found 0"),
    ],
)  # fmt: skip
def test_what_is_no_pkcs7_bundle_is_named(data: bytes, message: str) -> None:
    with pytest.raises(PemError, match=says(message)):
        check_pkcs7(data)


# --------------------------------------------------------------------------- the armor

LEAF = block(tiny_certificate("CA", "leaf"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no PEM CERTIFICATE block"),
        ("-----END CERTIFICATE-----\n", "an END line without its BEGIN line"),
        (LEAF + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n",
         "block 2: its END line names another label"),
        ("-----BEGIN CERTIFICATE-----\n" + LEAF, "a BEGIN line without its END line"),
        (LEAF + "-----BEGIN CERTIFICATE-----\nAAAA\n", "a BEGIN line without its END line"),
        (LEAF + "-----BEGIN certificate-----\nAAAA\n-----END certificate-----\n",
         "block 2: a label that is not RFC 7468's"),
        (LEAF + "-----BEGIN CERTIFICATE----- AAAA\n-----END CERTIFICATE-----\n",
         "block 2: text after its BEGIN line"),
        (LEAF + "-----BEGIN  CERTIFICATE", "a BEGIN or END line that is not RFC 7468's"),
        (LEAF + "-----BEGIN -----\nAAAA\n-----END -----\n",
         "block 2 is an unlabelled block, not a CERTIFICATE"),
        (LEAF + armored(b"", "PRIVATE KEY"), "block 2 is a 'PRIVATE KEY' block, not a CERTIFICATE"),
        (LEAF + "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
         "block 2: its base64 does not decode"),
        (LEAF + armored(b"\x30\x00"),
         "block 2 is not an X.509 certificate (tbsCertificate: the DER ends early)"),
    ],
)  # fmt: skip
def test_each_armor_problem_is_named(text: str, message: str) -> None:
    with pytest.raises(PemError, match=says(message)):
        read_blocks(text)


def test_a_long_label_is_shown_cut() -> None:
    label = "K" * 60
    with pytest.raises(PemError, match=says(f"block 1 is a '{'K' * 40}' block, not a CERTIFICATE")):
        read_blocks(armored(b"", label))


def test_the_bound_on_blocks_is_exact() -> None:
    blocks = [block(tiny_certificate(f"CA {n}", f"CA {n}", serial=n % 100)) for n in range(70)]
    assert len(read_armor("".join(blocks[:MAX_BLOCKS]))) == MAX_BLOCKS
    message = f"more than {MAX_BLOCKS} PEM blocks; a certificate bundle holds a few"
    with pytest.raises(PemError, match=says(message)):
        read_armor("".join(blocks[: MAX_BLOCKS + 1]))


# --------------------------------------------------------------------------- the chain


def test_equals_on_the_path_are_taken_in_bundle_order() -> None:
    root = block(tiny_certificate("Root", "Root"))
    first = block(tiny_certificate("Root", "CA", serial=1))
    second = block(tiny_certificate("Root", "CA", serial=2))
    leaf = block(tiny_certificate("CA", "leaf"))
    assert split_bundle(leaf + first + second + root) == (leaf, [first], root, [second])
    assert split_bundle(root + second + leaf + first) == (leaf, [second], root, [first])


def test_the_nearest_root_wins_over_a_longer_way() -> None:
    # leaf <- CA; CA has two issuers' copies: one under Old (via Cross) and one under New
    new = block(tiny_certificate("New", "New"))
    old = block(tiny_certificate("Old", "Old"))
    cross = block(tiny_certificate("Old", "Mid"))
    under_cross = block(tiny_certificate("Mid", "CA", serial=1))
    under_new = block(tiny_certificate("New", "CA", serial=2))
    leaf = block(tiny_certificate("CA", "leaf"))
    bundle = leaf + under_cross + cross + old + under_new + new
    assert split_bundle(bundle) == (leaf, [under_new], new, [under_cross, cross, old])


def test_no_leaf_is_named() -> None:
    a, b = block(tiny_certificate("B", "A")), block(tiny_certificate("A", "B"))
    no_leaf = "no leaf: every certificate issues another one in the bundle"
    with pytest.raises(PemError, match=says(no_leaf)):
        split_bundle(a + b)
    root = block(tiny_certificate("R", "R"))
    with pytest.raises(PemError, match=says("2 self-signed blocks and no leaf")):
        split_bundle(root + block(tiny_certificate("S", "S")))
    two = "2 certificates issue nothing in the bundle; one leaf expected"
    with pytest.raises(PemError, match=says(two)):
        split_bundle(LEAF + block(tiny_certificate("CA", "other leaf")))


def test_a_lone_self_signed_certificate_is_the_leaf() -> None:
    root = block(tiny_certificate("R", "R"))
    assert split_bundle(root) == (root, [], None, [])
