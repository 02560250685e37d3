"""Hostile bodies through the certificate calls' parsers: time per MiB at 1, 2, 4, 8 MiB.

Each case is a body a hostile server could send (8 MiB is the client's default
``max_response_bytes``), handed to the public call that reads it: ``get_pem``,
``download`` in a PEM, PKCS#7 or ZIP format, ``chain``, and an error answer's JSON. The
call runs on a stub requester that answers at once with the body, so what is timed is
the reading alone: synchronous work, during which the event loop runs nothing else. Its
time per MiB must stay flat as the body grows (linear), and 8 MiB well under a second.

    python benchmarks/bench_hostile_parse.py [--quick] [--cases error-json,dashes]

Each figure is the best of three runs, in milliseconds of CPU time (``process_time``:
this machine is shared, and the reading is all CPU) per MiB of body. A case whose run
passes 20 s is not run at the larger sizes (shown as "-").
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import io
import struct
import time
import zipfile
from collections.abc import Callable, Mapping
from typing import Any

from _common import header, table

import digicert_async as dc
from digicert_async import _pem
from digicert_async._decode import decode
from digicert_async._pipeline import Request, Response
from digicert_async.resources.certificates import CertificatesResource

MiB = 1024 * 1024
# (a library without the bound, measured with --sizes-kib for comparison, gets the same)
MAX_BLOCKS: int = getattr(_pem, "MAX_BLOCKS", 64)
_GIVE_UP_SECONDS = 20.0

# --------------------------------------------------------------------------- bodies


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def _name(common_name: str) -> bytes:
    attribute = _der(0x30, _der(0x06, b"\x55\x04\x03") + _der(0x0C, common_name.encode()))
    return _der(0x30, _der(0x31, attribute))


def _certificate(issuer: str, subject: str, padding: int = 0) -> bytes:
    """The least DER that reads as a certificate's header (unsigned: nothing checks)."""
    tbs = _der(
        0x30,
        _der(0xA0, _der(0x02, b"\x02"))
        + _der(0x02, b"\x01")
        + _der(0x30, b"")
        + _name(issuer)
        + _der(0x30, b"")
        + _name(subject),
    )
    return _der(0x30, tbs + _der(0x30, b"") + _der(0x03, bytes(1 + padding)))


def _block(der: bytes, label: str = "CERTIFICATE") -> str:
    encoded = base64.b64encode(der).decode()
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----\n"])


def _repeat(unit: bytes, size: int) -> bytes:
    return unit * max(1, size // len(unit))


def _long_chain(size: int, blocks: int | None = None) -> bytes:
    """A leaf under CAs, bundled root first and top down (the order that made the old
    issuer walk scan the whole list at every step): as many tiny blocks as fit in
    ``size``, or ``blocks`` blocks padded to fill it."""
    padding = 0 if blocks is None else size * 3 // 4 // blocks
    cas: list[str] = []
    total = 0
    while (total < size) if blocks is None else (len(cas) < blocks - 2):
        level = len(cas)
        cas.append(_block(_certificate(f"CA {level + 1}", f"CA {level}", padding)))
        total += len(cas[-1])
    top = len(cas)
    root = _block(_certificate(f"CA {top}", f"CA {top}", padding))
    leaf = _block(_certificate("CA 0", "leaf", padding))
    return "".join([root, *cas[::-1], leaf]).encode()


def _twins(size: int) -> bytes:
    """``MAX_BLOCKS - 1`` CAs of one subject, padded to fill ``size``, and their leaf."""
    count = MAX_BLOCKS - 1
    twin = _block(_certificate("Absent Root", "Twin CA", size * 3 // 4 // count))
    return (twin * count + _block(_certificate("Twin CA", "leaf"))).encode()


def _one_huge_certificate(size: int) -> bytes:
    # one block whose DER uses long lengths (3 and 4 octets) around a large signature
    return _block(_certificate("Root", "leaf", padding=size * 3 // 4)).encode()


def _text_around_a_real_bundle(size: int) -> bytes:
    bundle = _block(_certificate("Root", "CA")) + _block(_certificate("CA", "leaf"))
    junk = _repeat(b"subject=/CN=www.example.com issuer=/CN=Some CA -- notes\n", size)
    return junk + bundle.encode() + junk


def _pkcs7_of_many(size: int) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs7

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "bench")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    one = len(certificate.public_bytes(serialization.Encoding.DER))
    return pkcs7.serialize_certificates(
        [certificate] * max(1, size // one), serialization.Encoding.DER
    )


def _zip_directory(size: int, *, count: int | None = None, extra: bytes = b"") -> bytes:
    """A stored file, then as many directory entries pointing at it as fit in ``size``."""
    name, data = b"a.crt", b"x"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 1, 1, len(name), 0)
    local += name + data
    central = struct.pack(
        "<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 1, 1, len(name),
        len(extra), 0, 0, 0, 0, 0,
    ) + name + extra  # fmt: skip
    entries = max(1, size // len(central))
    listed = min(entries, 0xFFFE) if count is None else count
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, listed, listed, len(central) * entries, len(local), 0
    )
    return local + central * entries + end


def _zip_one_big_file(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("big.crt", bytes(size), compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def _zip_bogus(size: int) -> bytes:
    # end-record signatures all through the last 64 KiB, none of them whole
    return bytes(size - 65536) + _repeat(b"PK\x05\x06", 65536)


def _chain_answer(size: int) -> bytes:
    item = b'{"subject_common_name":"CA","pem":"x"},'
    return b'{"intermediates":[' + _repeat(item, size)[:-1] + b"]}"


def _error_answer(size: int) -> bytes:
    item = b'{"code":"invalid_value","message":"bad"},'
    return b'{"errors":[' + _repeat(item, size)[:-1] + b"]}"


BEGIN = b"-----BEGIN CERTIFICATE-----\n"
# (case, what it stresses, call, body of a given size)
CASES: list[tuple[str, str, str, Callable[[int], bytes]]] = [
    ("begin-flood", "BEGIN lines, no END (quadratic on main)", "get_pem",
     lambda n: _repeat(BEGIN, n)),
    ("begin-flood-p7b", "the same, as an armored PKCS#7", "download:p7b",
     lambda n: _repeat(BEGIN.replace(b"CERTIFICATE", b"PKCS7"), n)),
    ("many-blocks", "tiny blocks, one long issuer path (quadratic on main)", "get_pem",
     _long_chain),
    ("long-chain", f"{MAX_BLOCKS} large blocks, one issuer path", "get_pem",
     lambda n: _long_chain(n, MAX_BLOCKS)),
    ("twins", f"{MAX_BLOCKS} large blocks, the CAs of one subject", "get_pem", _twins),
    ("one-huge-block", "one certificate, long DER lengths", "get_pem", _one_huge_certificate),
    ("dashes", "dashes only", "get_pem", lambda n: b"-" * n),
    ("open-labels", "BEGIN with a label that never closes", "get_pem",
     lambda n: _repeat(b"-----BEGIN " + b"A" * 1000 + b"\n", n)),
    ("newlines", "CRLF only", "download:pem_all", lambda n: _repeat(b"\r\n", n)),
    ("text-around", "a real bundle in text", "download:pem_noroot", _text_around_a_real_bundle),
    ("p7b-many", "DER PKCS#7 of thousands of certificates", "download:p7b", _pkcs7_of_many),
    ("zip-entries", "a directory of 8 MiB of entries", "download:default", _zip_directory),
    ("zip-lying-count", "the same, end record says 2", "download:default",
     lambda n: _zip_directory(n, count=2)),
    ("zip-extra", "64 KiB extra fields (quadratic in zipfile)", "download:apache",
     lambda n: _zip_directory(n, extra=_repeat(b"\x99\x99\x00\x00", 65532))),
    ("zip-big-file", "one stored file of the whole size", "download:default_pem",
     _zip_one_big_file),
    ("zip-bogus", "end-record signatures, none whole", "download:default", _zip_bogus),
    ("json-flat", "a JSON array for a PEM file", "download:pem_all",
     lambda n: b"[" + _repeat(b"0,", n) + b"0]"),
    ("json-deep", "nested JSON arrays", "download:pem_all", lambda n: b"[" * n),
    ("chain-json", "a chain answer of tiny entries", "chain", _chain_answer),
    ("error-json", "a 400 with that many error details", "error", _error_answer),
]  # fmt: skip


# --------------------------------------------------------------------------- calls


class _Answering:
    """A requester that reads ``body`` with the call's own reader, at once."""

    def __init__(self, body: bytes, content_type: str) -> None:
        self.body = body
        self.content_type = content_type

    async def call(self, method: str, route: str, read: Callable[[Response], Any],
                   **kwargs: Any) -> Any:  # fmt: skip
        return read(_response(200, self.body, self.content_type))


def _response(status: int, body: bytes, content_type: str) -> Response:
    return Response(
        status=status,
        headers={"Content-Type": content_type},
        body=body,
        method="GET",
        url="https://127.0.0.1/services/v2/certificate/1/download/format/x",
    )


def _run(call: str, body: bytes) -> str:
    """Read ``body`` as ``call`` would; what came out (a type name)."""
    try:
        if call == "error":
            decode(_response(400, body, "application/json"), Request(method="GET", path="/"))
            return "result"
        kind, _, format_type = call.partition(":")
        content_type: Mapping[str, str] = dc.CERTIFICATE_FORMATS
        resource = CertificatesResource(_Answering(body, content_type.get(format_type, "")))
        if kind == "get_pem":
            coroutine: Any = resource.get_pem(1)
        elif kind == "chain":
            coroutine = resource.chain(1)
        else:
            coroutine = resource.download(1, format=format_type)
        asyncio.run(coroutine)
        return "result"
    except dc.DigiCertError as exc:
        return type(exc).__name__


def _best_of(runs: int, call: str, body: bytes) -> tuple[float, str]:
    best, outcome = float("inf"), ""
    for _ in range(runs):
        started = time.process_time()
        outcome = _run(call, body)
        best = min(best, time.process_time() - started)
        if best > _GIVE_UP_SECONDS:
            break
    return best, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 2 MiB only (a smoke run)")
    parser.add_argument(
        "--sizes-kib",
        help="comma-separated sizes in KiB instead of 1, 2, 4, 8 MiB (to measure old code)",
    )
    parser.add_argument("--cases", help="comma-separated case names (all by default)")
    args = parser.parse_args()
    wanted = set(args.cases.split(",")) if args.cases else {name for name, *_ in CASES}
    sizes = [1024, 2048] if args.quick else [1024, 2048, 4096, 8192]
    if args.sizes_kib:
        sizes = [int(value) for value in args.sizes_kib.split(",")]
    header("hostile bodies through the certificate calls' parsers", args.quick, server=False)
    print("   CPU ms per MiB of body, best of 3; the outcome is what the call gave")
    rows = []
    for name, what, call, make in CASES:
        if name not in wanted:
            continue
        row: list[object] = [name, what, call]
        outcome, gave_up = "", False
        for kib in sizes:
            if gave_up:
                row.append("-")
                continue
            body = make(kib * 1024)
            seconds, outcome = _best_of(3, call, body)
            row.append(seconds * 1000 / (len(body) / MiB))
            gave_up = seconds > _GIVE_UP_SECONDS
        rows.append([*row, outcome, f"{seconds * 1000:.0f}"])
    size_names = [f"{kib // 1024} MiB" if kib % 1024 == 0 else f"{kib} KiB" for kib in sizes]
    table(["case", "body", "call", *size_names, "outcome", "ms, largest"], rows)


if __name__ == "__main__":
    main()
