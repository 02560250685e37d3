"""Splitting PEM bundles (the pure ``_pem`` module): real DigiCert bundles and chains made
here with ``cryptography``, in any order, with CRLF or LF line ends."""

from __future__ import annotations

import base64
import contextlib
import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from digicert_async._pem import (
    PemError,
    certificate_names,
    check_pkcs7,
    read_blocks,
    split_bundle,
)

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "real"


def real_bytes(name: str) -> bytes:
    """A body from ``../shared/reference/real`` (outside the repository): skip without
    the folder, fail on CI, where it must be."""
    if not REAL.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("the real bodies are missing: ../shared/reference/real must exist on CI")
        pytest.skip("../shared/reference/real is absent, as in a fresh clone")
    return (REAL / name).read_bytes()


# --------------------------------------------------------------------------- chains


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chain Test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.now(timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


@dataclass(frozen=True)
class Chain:
    """A leaf, its intermediates (nearest first) and the root, as PEM text each."""

    leaf: str
    intermediates: list[str]
    root: str
    leaf_key: ec.EllipticCurvePrivateKey

    @property
    def blocks(self) -> list[str]:
        return [self.leaf, *self.intermediates, self.root]

    def bundle(self, order: list[str] | None = None, *, crlf: bool = False) -> str:
        text = "".join(self.blocks if order is None else order)
        return text.replace("\n", "\r\n") if crlf else text

    def key_pem(self) -> str:
        return self.leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()


def pem_of(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def make_chain(intermediates: int = 1, *, label: str = "Test") -> Chain:
    """A real chain: a self-signed root, ``intermediates`` CAs below it, and a leaf."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{label} Root CA")
    root = _certificate(root_name, root_key, root_name, root_key, ca=True)
    issuer_name, issuer_key = root_name, root_key
    cas: list[str] = []
    for level in range(intermediates):
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(f"{label} Intermediate CA {level + 1}")
        cas.append(pem_of(_certificate(name, key, issuer_name, issuer_key, ca=True)))
        issuer_name, issuer_key = name, key
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(_name("www.example.com"), leaf_key, issuer_name, issuer_key, ca=False)
    return Chain(pem_of(leaf), cas[::-1], pem_of(root), leaf_key)


@pytest.fixture(scope="module")
def chain3() -> Chain:
    return make_chain(3)


# --------------------------------------------------------------------------- tests


def test_names_are_the_der_of_issuer_and_subject(chain3: Chain) -> None:
    for pem in chain3.blocks:
        parsed = x509.load_pem_x509_certificate(pem.encode())
        issuer, subject = certificate_names(parsed.public_bytes(serialization.Encoding.DER))
        assert issuer == parsed.issuer.public_bytes()
        assert subject == parsed.subject.public_bytes()


def test_a_bundle_in_order_splits_into_its_parts(chain3: Chain) -> None:
    leaf, intermediates, root, off_path = split_bundle(chain3.bundle())
    assert leaf == chain3.leaf
    assert off_path == []
    assert intermediates == chain3.intermediates
    assert len(intermediates) == 3
    assert root == chain3.root


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("crlf", [False, True])
def test_any_order_and_line_ends_give_the_same_parts(chain3: Chain, seed: int, crlf: bool) -> None:
    shuffled = chain3.blocks[:]
    random.Random(seed).shuffle(shuffled)
    parts = split_bundle(chain3.bundle(shuffled, crlf=crlf))
    assert parts == (chain3.leaf, chain3.intermediates, chain3.root, [])


def test_the_root_is_found_by_its_names_not_its_place(chain3: Chain) -> None:
    # The root first, then the leaf: position says nothing.
    order = [chain3.root, chain3.leaf, *chain3.intermediates[::-1]]
    leaf, intermediates, root, _ = split_bundle(chain3.bundle(order))
    assert root == chain3.root and leaf == chain3.leaf
    assert intermediates == chain3.intermediates


def test_bundles_without_a_root_or_intermediates() -> None:
    chain = make_chain(2)
    assert split_bundle("".join([chain.intermediates[1], chain.leaf, chain.intermediates[0]])) == (
        chain.leaf,
        chain.intermediates,
        None,
        [],
    )
    assert split_bundle(chain.leaf) == (chain.leaf, [], None, [])  # pem_nointermediate
    assert split_bundle(chain.root + chain.leaf + "".join(chain.intermediates))[2] == chain.root


def test_text_around_the_blocks_and_odd_whitespace_are_tolerated(chain3: Chain) -> None:
    padded = "subject=/CN=www.example.com\n\n" + "\n\n".join(
        "  " + block.replace("\n", "  \n") for block in chain3.blocks
    )
    assert split_bundle(padded) == (chain3.leaf, chain3.intermediates, chain3.root, [])


def test_the_real_digicert_bundles() -> None:
    for name, common_name in (
        ("lc_pem_all_ribose.pem", "test.ribosetest.com"),
        ("lc_pem_all_ribose_crlf.pem", "*.ribosetest.com"),
    ):
        text = real_bytes(name).decode("ascii")
        leaf, intermediates, root, off_path = split_bundle(text)
        assert len(intermediates) == 1 and root is not None and off_path == [], name
        names = [
            x509.load_pem_x509_certificate(pem.encode()).subject.rfc4514_string()
            for pem in (leaf, intermediates[0], root)
        ]
        assert f"CN={common_name}" in names[0], names
        assert "CN=DigiCert SHA2 Secure Server CA" in names[1], names
        assert "CN=DigiCert Global Root CA" in names[2], names
        # each part is the bundle's own block, line ends made LF
        normalized = text.replace("\r\n", "\n")
        assert all(part in normalized for part in (leaf, intermediates[0], root))
        reversed_text = "".join(reversed(read_blocks_pems(text)))
        assert split_bundle(reversed_text) == (leaf, intermediates, root, [])


def read_blocks_pems(text: str) -> list[str]:
    return [block.pem for block in read_blocks(text)]


# --------------------------------------------------------------------------- refusals


def _der_block(der: bytes) -> str:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join(["-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----\n"])


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no PEM CERTIFICATE block"),
        ("hello", "no PEM CERTIFICATE block"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n", "BEGIN line without its END"),
        ("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "base64"),
        (_der_block(b"\x30\x03\x02\x01\x01"), "not an X.509 certificate"),
        (_der_block(b"\x30\x80\x00\x00"), "indefinite length"),
        (_der_block(b"\x30\x84\xff\xff\xff\xff"), "not an X.509 certificate"),
        (_der_block(b"\x04\x02ab"), "expected tag 0x30"),
        (_der_block(b""), "not an X.509 certificate"),
    ],
)
def test_what_is_not_a_certificate_bundle_is_refused(text: str, says: str) -> None:
    with pytest.raises(PemError, match=says):
        split_bundle(text)


def test_trailing_bytes_after_a_certificate_are_refused(chain3: Chain) -> None:
    der = x509.load_pem_x509_certificate(chain3.leaf.encode()).public_bytes(
        serialization.Encoding.DER
    )
    with pytest.raises(PemError, match="bytes after the certificate"):
        split_bundle(_der_block(der + b"\x00"))
    for cut in (1, 10, len(der) // 2, len(der) - 1):
        with pytest.raises(PemError):
            split_bundle(_der_block(der[:cut]))


def test_a_private_key_block_is_refused_without_showing_it(chain3: Chain) -> None:
    key = chain3.key_pem()
    secret = key.splitlines()[1]
    with pytest.raises(PemError) as caught:
        split_bundle(chain3.leaf + key)
    assert "'PRIVATE KEY' block" in str(caught.value)
    assert secret not in str(caught.value) and secret[:16] not in repr(caught.value)


def test_no_leaf_or_two_leaves_are_refused() -> None:
    one, two = make_chain(1, label="One"), make_chain(1, label="Two")
    with pytest.raises(PemError, match="2 certificates issue nothing"):
        split_bundle(one.leaf + two.leaf + one.intermediates[0])
    with pytest.raises(PemError, match="2 self-signed blocks and no leaf"):
        split_bundle(one.root + two.root)


def test_a_root_off_the_path_is_kept_apart() -> None:
    one, two = make_chain(1, label="One"), make_chain(1, label="Two")
    # another chain's root: not where the leaf's path ends, so not the root
    assert split_bundle(two.root + one.bundle()) == (
        one.leaf, one.intermediates, one.root, [two.root]
    )  # fmt: skip
    # without its own root, the path ends at the intermediate: no root at all
    assert split_bundle(one.leaf + one.intermediates[0] + two.root) == (
        one.leaf, one.intermediates, None, [two.root]
    )  # fmt: skip


def test_a_cycle_has_no_leaf() -> None:
    # Two CAs that issued each other: each issues another block, so neither is a leaf.
    key_a, key_b = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    name_a, name_b = _name("Cycle A"), _name("Cycle B")
    a = pem_of(_certificate(name_a, key_a, name_b, key_b, ca=True))
    b = pem_of(_certificate(name_b, key_b, name_a, key_a, ca=True))
    with pytest.raises(PemError, match="no leaf"):
        split_bundle(a + b)


def test_a_cross_signed_twin_is_kept_off_the_path_wherever_it_stands() -> None:
    chain = make_chain(1)
    # A second intermediate with the same subject (a cross-signed copy): it issued the
    # leaf just as well, so it is no leaf; its root is absent, so the path goes through
    # the intermediate whose root is here, wherever the twin stands in the bundle.
    other_root_key = ec.generate_private_key(ec.SECP256R1())
    intermediate = x509.load_pem_x509_certificate(chain.intermediates[0].encode())
    twin_key = ec.generate_private_key(ec.SECP256R1())
    twin = pem_of(
        _certificate(intermediate.subject, twin_key, _name("Other Root"), other_root_key, ca=True)
    )
    expected = (chain.leaf, chain.intermediates, chain.root, [twin])
    assert split_bundle(chain.bundle() + twin) == expected
    assert split_bundle(twin + chain.bundle()) == expected
    # with no root at all, the first of the two in the bundle is on the path
    assert split_bundle(chain.leaf + twin + chain.intermediates[0]) == (
        chain.leaf, [twin], None, chain.intermediates
    )  # fmt: skip


# --------------------------------------------------------------------------- robustness


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_in_a_block_are_a_certificate_or_a_pem_error(der: bytes) -> None:
    with contextlib.suppress(PemError):
        split_bundle(_der_block(der))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_damaged_certificate_is_a_pem_error_never_another_exception(data: st.DataObject) -> None:
    der = bytearray(_LEAF_DER)
    for _ in range(data.draw(st.integers(1, 4))):
        der[data.draw(st.integers(0, len(der) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(der)))
    try:
        issuer, subject = certificate_names(bytes(der[:cut]))
    except PemError:
        return
    assert isinstance(issuer, bytes) and isinstance(subject, bytes)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_check_pkcs7_raises_only_pem_error(data: bytes) -> None:
    for candidate in (data, b"-----BEGIN PKCS7-----\n" + data + b"\n-----END PKCS7-----\n"):
        with contextlib.suppress(PemError):
            check_pkcs7(candidate)


_LEAF_DER = x509.load_pem_x509_certificate(make_chain(1).leaf.encode()).public_bytes(
    serialization.Encoding.DER
)
