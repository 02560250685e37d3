"""What ``_pem``'s docstrings promise that no other test held.

Names are compared as the DER bytes of the two ``Name`` values, so the same text in
another string type is another name: a block whose issuer and subject differ only so is
not self-signed, and a block is not linked to an issuer whose name is written so. Without
a way to a root the path follows the bundle's order, each block taken once, so a loop of
issuers above the leaf ends. (Mutation testing, mutmut 3.8.1 on ``_pem.py``, left only
equivalent mutants; these are the docstrings' own promises.)
"""

from __future__ import annotations

import pytest

from digicert_async._pem import PemError, certificate_names, read_blocks, split_bundle

from .test_hostile_parse import block, der, name, tiny_certificate

PRINTABLE_STRING, UTF8_STRING = 0x13, 0x0C


def printable_name(common_name: str) -> bytes:
    """``name(common_name)`` with the common name a PrintableString, not a UTF8String."""
    attribute = der(0x30, der(0x06, b"\x55\x04\x03") + der(PRINTABLE_STRING, common_name.encode()))
    return der(0x30, der(0x31, attribute))


def certificate(issuer: bytes, subject: bytes, serial: int = 1) -> bytes:
    """``tiny_certificate`` with the issuer's and subject's DER given as they are."""
    tbs = der(
        0x30,
        der(0xA0, der(0x02, b"\x02"))
        + der(0x02, bytes([serial]))
        + der(0x30, b"")
        + issuer
        + der(0x30, b"")
        + subject,
    )
    return der(0x30, tbs + der(0x30, b"") + der(0x03, b"\x00"))


def test_names_are_their_der_bytes_not_their_text() -> None:
    assert name("CA") != printable_name("CA")  # the same text, two names
    issuer, subject = certificate_names(certificate(name("CA"), printable_name("CA")))
    assert (issuer, subject) == (name("CA"), printable_name("CA"))
    (only,) = read_blocks(block(certificate(name("CA"), printable_name("CA"))))
    assert not only.self_signed
    (root,) = read_blocks(block(certificate(name("CA"), name("CA"))))
    assert root.self_signed


def test_an_issuer_is_found_by_its_name_as_encoded() -> None:
    root = block(tiny_certificate("Root", "Root"))
    ca = block(tiny_certificate("Root", "CA"))  # its subject a UTF8String
    leaf = block(certificate(printable_name("CA"), name("leaf")))  # names a PrintableString
    # the leaf's issuer is not the CA: two blocks issue nothing, two leaves
    with pytest.raises(PemError, match=r"^2 certificates issue nothing in the bundle"):
        split_bundle(leaf + ca + root)
    linked = block(certificate(name("CA"), name("leaf")))
    assert split_bundle(linked + ca + root) == (linked, [ca], root, [])


def test_a_lookalike_root_is_no_root() -> None:
    # issuer and subject alike in text, not in bytes: an intermediate whose issuer is absent
    lookalike = block(certificate(name("Root"), printable_name("Root")))
    leaf = block(certificate(printable_name("Root"), name("leaf")))
    assert split_bundle(leaf + lookalike) == (leaf, [lookalike], None, [])


def test_without_a_root_a_loop_of_issuers_is_walked_once() -> None:
    # the leaf's issuer A was issued by B, and B by A: no root, and the path ends
    a = block(tiny_certificate("B", "A"))
    b = block(tiny_certificate("A", "B"))
    leaf = block(tiny_certificate("A", "leaf"))
    assert split_bundle(leaf + a + b) == (leaf, [a, b], None, [])
    assert split_bundle(b + leaf + a) == (leaf, [a, b], None, [])


def test_without_a_root_the_path_follows_the_bundle_order_among_equals() -> None:
    first = block(tiny_certificate("Gone", "CA", serial=1))
    second = block(tiny_certificate("Elsewhere", "CA", serial=2))
    leaf = block(tiny_certificate("CA", "leaf"))
    assert split_bundle(leaf + first + second) == (leaf, [first], None, [second])
    assert split_bundle(second + leaf + first) == (leaf, [second], None, [first])
