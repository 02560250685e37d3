"""Hostile bodies that used to cost time quadratic in their size, or escaped as a builtin
exception: checked by the work done (comparisons counted, entries read, bytes parsed),
never by a clock. The speed itself is measured in ``benchmarks/bench_hostile_parse.py``.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

import digicert_async as dc
from digicert_async import _pem, _zip
from digicert_async._pipeline import Response
from digicert_async._zip import MAX_ENTRIES, MAX_EXTRA_FIELDS, ZipError, check_zip
from digicert_async.resources import certificates as certificates_module

from .test_downloads import a_zip, served

ZIP_TYPE = "application/zip"
MiB = 1024 * 1024


# --------------------------------------------------------------------------- helpers


def der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def name(common_name: str) -> bytes:
    """A ``Name`` with one common name (SET { SEQUENCE { OID 2.5.4.3, UTF8String } })."""
    attribute = der(0x30, der(0x06, b"\x55\x04\x03") + der(0x0C, common_name.encode()))
    return der(0x30, der(0x31, attribute))


def tiny_certificate(issuer: str, subject: str, serial: int = 1) -> bytes:
    """The least DER that reads as a certificate's header: what ``_pem`` reads of one
    (nothing here is signed; the parser checks no signature)."""
    tbs = der(
        0x30,
        der(0xA0, der(0x02, b"\x02"))
        + der(0x02, bytes([serial]))
        + der(0x30, b"")
        + name(issuer)
        + der(0x30, b"")
        + name(subject),
    )
    return der(0x30, tbs + der(0x30, b"") + der(0x03, b"\x00"))


def block(data: bytes) -> str:
    encoded = base64.b64encode(data).decode()
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    return "\n".join(["-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----\n"])


def file_response(body: bytes, content_type: str = "application/x-pem-file") -> Response:
    return Response(
        status=200,
        headers={"Content-Type": content_type},
        body=body,
        method="GET",
        url="https://127.0.0.1/services/v2/certificate/1/download/format/x",
    )


# --------------------------------------------------------------------------- PEM armor

_FLOOD = textwrap.dedent(
    """
    import sys
    from digicert_async._pem import PemError, check_pkcs7, read_blocks
    size = 8 * 1024 * 1024
    line = "-----BEGIN CERTIFICATE-----\\n"
    flood = line * (size // len(line))
    outcomes = []
    for parse, body in ((read_blocks, flood), (check_pkcs7, flood.encode())):
        try:
            parse(body)
        except PemError as exc:
            outcomes.append(str(exc))
    print("|".join(outcomes))
    """
)


@pytest.mark.slow
def test_an_8_mib_flood_of_begin_lines_without_end_is_refused() -> None:
    # On main the block regex rescanned to the end for each of these 300,000 BEGIN lines:
    # hours of work. Linear, it is one pass. The timeout only keeps a regression from
    # hanging the suite; nothing here measures speed (the benchmark does).
    done = subprocess.run(
        [sys.executable, "-c", _FLOOD], capture_output=True, text=True, timeout=600, check=True
    )
    assert done.stdout.strip().split("|") == ["a BEGIN line without its END line"] * 2


class CountingName(bytes):
    """A name that counts how often it is compared or hashed: the chain walk's work."""

    work: ClassVar[int] = 0

    def __eq__(self, other: object) -> bool:
        CountingName.work += 1
        return bytes.__eq__(self, other)  # type: ignore[no-any-return]

    def __ne__(self, other: object) -> bool:
        CountingName.work += 1
        return bytes.__ne__(self, other)  # type: ignore[no-any-return]

    def __hash__(self) -> int:
        CountingName.work += 1
        return bytes.__hash__(self)


@pytest.fixture
def counted_names(monkeypatch: pytest.MonkeyPatch) -> type[CountingName]:
    # The walk is linear whatever the number of blocks: the bound on blocks is raised
    # here so that the walk itself is what is counted.
    monkeypatch.setattr(_pem, "MAX_BLOCKS", 10 * BLOCKS)
    real = _pem.certificate_names

    def counting(data: bytes) -> tuple[bytes, bytes]:
        issuer, subject = real(data)
        return CountingName(issuer), CountingName(subject)

    monkeypatch.setattr(_pem, "certificate_names", counting)
    CountingName.work = 0
    return CountingName


BLOCKS = 3000


def long_chain(*, with_root: bool) -> tuple[list[str], str]:
    """A leaf under ``BLOCKS`` CAs, each issued by the next, the bundle given top down
    (the order that made the old walk scan the whole list at every step)."""
    names = [f"CA {level}" for level in range(BLOCKS)]
    cas = [block(tiny_certificate(names[i + 1], names[i])) for i in range(BLOCKS - 1)]
    root = block(tiny_certificate(names[-1], names[-1]))
    leaf = block(tiny_certificate(names[0], "leaf"))
    top_down = [*cas[::-1], leaf]
    return ([root] if with_root else []) + top_down, leaf


@pytest.mark.parametrize("with_root", [True, False], ids=["to-a-root", "no-root"])
def test_the_chain_walk_compares_names_a_bounded_number_of_times_per_block(
    counted_names: type[CountingName], with_root: bool
) -> None:
    bundle, leaf = long_chain(with_root=with_root)
    parts = _pem.split_bundle("".join(bundle))
    assert parts.leaf == leaf
    assert len(parts.intermediates) == BLOCKS - 1 and parts.off_path == []
    assert (parts.root is not None) is with_root
    # quadratic on main: about BLOCKS**2 / 2 = 4.5 million comparisons
    assert counted_names.work <= 30 * len(bundle)


def test_many_twins_of_one_name_cost_no_more(counted_names: type[CountingName]) -> None:
    # every CA has the same subject and issuer: a fan the walk must not rescan
    twins = [block(tiny_certificate("Absent Root", "Twin CA")) for _ in range(BLOCKS)]
    leaf = block(tiny_certificate("Twin CA", "leaf"))
    parts = _pem.split_bundle("".join([*twins, leaf]))
    assert parts.leaf == leaf and parts.root is None
    assert len(parts.intermediates) + len(parts.off_path) == BLOCKS
    assert counted_names.work <= 30 * (BLOCKS + 1)


def test_more_blocks_than_the_bound_are_refused_before_any_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[str] = []
    real = _pem._decode_body

    def counting(body: str, what: str) -> bytes:
        decoded.append(what)
        return real(body, what)

    monkeypatch.setattr(_pem, "_decode_body", counting)
    bundle, _ = long_chain(with_root=True)
    with pytest.raises(_pem.PemError, match=f"more than {_pem.MAX_BLOCKS} PEM blocks"):
        _pem.read_blocks("".join(bundle))
    assert decoded == []
    assert len(_pem.read_blocks("".join(bundle[-_pem.MAX_BLOCKS :]))) == _pem.MAX_BLOCKS


@pytest.mark.parametrize(
    "text",
    [
        "-----BEGIN " + "A" * 100_000 + "\n",  # a label that never closes
        "-----BEGIN " + "A" * 65 + "-----\nAAAA\n-----END " + "A" * 65 + "-----\n",
        "-----BEGIN CERTIFICATE\n-----END CERTIFICATE-----\n",
        "-----END CERTIFICATE",
    ],
    ids=["open-label", "long-label", "begin-cut", "end-cut"],
)
def test_a_begin_or_end_that_is_no_boundary_is_refused(text: str) -> None:
    with pytest.raises(_pem.PemError, match=r"not RFC 7468's|END line without its BEGIN"):
        _pem.read_armor(text + block(tiny_certificate("CA", "leaf")))


# --------------------------------------------------------------------------- ZIP


def zip_entry(
    name: bytes = b"a.crt",
    *,
    version: int = 20,
    flags: int = 0,
    method: int = 0,
    extra: bytes = b"",
    data: bytes = b"x",
    offset: int = 0,
) -> tuple[bytes, bytes]:
    """(local header with data, central directory entry) of one stored file whose local
    header is at ``offset``."""
    crc = zlib.crc32(data)
    local = (
        struct.pack("<4s5H3L2H", b"PK\x03\x04", version, flags, method, 0, 0, crc, len(data),
                    len(data), len(name), 0)
        + name
        + data
    )  # fmt: skip
    central = (
        struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, version, 0, flags, method, 0, 0, crc,
                    len(data), len(data), len(name), len(extra), 0, 0, 0, 0, offset)
        + name
        + extra
    )  # fmt: skip
    return local, central


def zip_archive(entries: list[tuple[bytes, bytes]], *, count: int | None = None) -> bytes:
    locals_ = b"".join(local for local, _ in entries)
    directory = b"".join(central for _, central in entries)
    count = len(entries) if count is None else count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(directory),
                      len(locals_), 0)  # fmt: skip
    return locals_ + directory + end


def test_the_hand_made_archives_are_real_ones() -> None:
    archive = zip_archive([zip_entry()])
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert opened.read("a.crt") == b"x"
    assert check_zip(archive) == 1


async def test_a_zip_asking_for_an_unknown_version_is_a_response_error() -> None:
    # zipfile raised NotImplementedError here, and it escaped the call on main
    archive = zip_archive([zip_entry(version=64)])
    async with served() as (server, client):
        server.answer("/certificate/7/download/format/default", archive, ZIP_TYPE)
        server.answer("/certificate/download/order/9/format/default", archive, ZIP_TYPE)
        with pytest.raises(dc.ResponseError, match=r"needs ZIP version 6\.4"):
            await client.certificates.download(7, format="default")
        with pytest.raises(dc.ResponseError, match=r"needs ZIP version 6\.4"):
            await client.certificates.download_for_order(9, format="default")


def test_a_directory_of_many_entries_is_refused_before_any_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[int] = []
    real = _zip._central_entry

    def counting(archive: Any, position: int, number: int) -> int:
        read.append(number)
        return real(archive, position, number)

    monkeypatch.setattr(_zip, "_central_entry", counting)
    # 8 MiB of directory entries, every one pointing at the same local header
    local, central = zip_entry()
    entries = (8 * MiB) // len(central)
    many = local + central * entries
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(central) * entries,
                      len(local), 0)  # fmt: skip
    with pytest.raises(ZipError, match="ZIP64 end record is missing"):
        check_zip(many + end)
    honest = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 60000, 60000, len(central) * entries,
                         len(local), 0)  # fmt: skip
    with pytest.raises(ZipError, match="60000 entries; a certificate archive holds a few"):
        check_zip(many + honest)
    # an end record that says 2 while the directory runs on: read stops at 3
    lying = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 2, 2, len(central) * entries,
                        len(local), 0)  # fmt: skip
    with pytest.raises(ZipError, match="more than the 2 entries"):
        check_zip(many + lying)
    assert read == [1, 2]


def test_an_entry_with_endless_extra_fields_is_refused_at_the_bound() -> None:
    # zipfile's walk of an extra field copies the rest at every field: quadratic in it
    empty_fields = b"\x99\x99\x00\x00" * (65532 // 4)
    archive = zip_archive([zip_entry(extra=empty_fields)])
    with pytest.raises(ZipError, match=f"more than {MAX_EXTRA_FIELDS} extra fields"):
        check_zip(archive)
    # as many as the bound is fine, and zipfile agrees
    archive = zip_archive([zip_entry(extra=b"\x99\x99\x00\x00" * MAX_EXTRA_FIELDS)])
    assert check_zip(archive) == 1


def test_as_many_entries_as_the_bound_are_accepted() -> None:
    entries = []
    offset = 0
    for number in range(MAX_ENTRIES):
        local, central = zip_entry(f"{number}.crt".encode(), offset=offset)
        entries.append((local, central))
        offset += len(local)
    assert check_zip(zip_archive(entries)) == MAX_ENTRIES
    local, central = zip_entry(offset=offset)
    with pytest.raises(ZipError, match=f"{MAX_ENTRIES + 1} entries"):
        check_zip(zip_archive([*entries, (local, central)]))


async def test_zipfile_is_not_what_reads_a_downloaded_archive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = a_zip(**{"www_example_com.crt": "x", "TrustedRoot.crt": "y"})

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("zipfile.ZipFile was called")

    async with served() as (server, client):
        server.answer("/certificate/7/download/format/default", archive, ZIP_TYPE)
        monkeypatch.setattr(zipfile, "ZipFile", refuse)
        assert await client.certificates.download(7, format="default") == archive


# --------------------------------------------------------------------------- JSON


def test_a_large_json_body_is_not_parsed_to_name_it(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[int] = []
    real = json.loads

    def counting(data: Any, **kwargs: Any) -> Any:
        parsed.append(len(data))
        return real(data, **kwargs)

    monkeypatch.setattr(certificates_module.json, "loads", counting)
    small, large = b"[0]", b"[" + b"0," * (600 * 1024) + b"0]"
    read = certificates_module._FILE_READERS["pem_all"]
    with pytest.raises(dc.ResponseError, match="a JSON document"):
        read(file_response(small))
    with pytest.raises(dc.ResponseError, match="no PEM CERTIFICATE block"):
        read(file_response(large))
    assert parsed == [len(small)]  # 1.2 MB of JSON was not parsed to be refused


async def test_a_chain_answer_past_its_bound_is_refused_unread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    item = {"subject_common_name": "CA", "pem": "x" * 1000}
    at_bound = {"intermediates": [item] * 200}
    past = {"intermediates": [item] * 300}
    assert len(json.dumps(at_bound)) < certificates_module.CHAIN_MAX_BYTES < len(json.dumps(past))
    async with served() as (server, client):
        server.answer("/certificate/7/chain", at_bound, "application/json")
        server.answer("/certificate/8/chain", past, "application/json")
        assert len((await client.certificates.chain(7)).intermediates) == 200
        decoded: list[object] = []
        monkeypatch.setattr(certificates_module, "_CHAIN", decoded.append)
        with pytest.raises(dc.ResponseError, match=r"a chain answer of \d+ bytes"):
            await client.certificates.chain(8)
        assert decoded == []


# --------------------------------------------------------------------------- bulk


async def test_a_bad_archive_fails_its_own_item_and_the_job_goes_on() -> None:
    good = a_zip(**{"x.crt": "x"})
    bad = zip_archive([zip_entry(version=64)])
    async with served() as (server, client):
        for order_id in range(1, 7):
            body = bad if order_id % 2 else good
            server.answer(f"/certificate/download/order/{order_id}/format/default", body, ZIP_TYPE)
        job = dc.download_certificates(client, range(1, 7), format="default", concurrency=2)
        items = {item.order_id: item async for item in job}
    assert job.stopped_by is None
    assert sorted(items) == list(range(1, 7))
    for order_id, item in items.items():
        if order_id % 2:
            assert isinstance(item.error, dc.ResponseError) and item.attempted
        else:
            assert item.data == good


async def test_an_unexpected_exception_stays_on_its_item(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with served() as (server, client):
        for order_id in range(1, 5):
            server.answer(f"/certificate/download/order/{order_id}/format/pem_all", b"-")
        real: Callable[..., Any] = client.certificates.download_for_order

        async def surprising(order_id: int, format: str = "pem_all") -> bytes:
            if order_id == 2:
                raise KeyError("\x1b[2Jsecret text")
            return b"file"

        assert real is not None
        monkeypatch.setattr(client.certificates, "download_for_order", surprising)
        job = dc.download_certificates(client, range(1, 5), concurrency=1)
        items = {item.order_id: item async for item in job}
    assert sorted(items) == [1, 2, 3, 4] and job.stopped_by is None
    assert isinstance(items[2].error, KeyError) and items[2].attempted
    assert all(items[order_id].data == b"file" for order_id in (1, 3, 4))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "order 2" in warnings[0].getMessage() and "KeyError" in warnings[0].getMessage()
    assert "secret" not in caplog.text and "\x1b" not in caplog.text  # type only, no text


# --------------------------------------------------------------------------- the promises


def test_a_label_of_64_characters_is_a_boundary() -> None:
    label = "A" * 64
    text = f"-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n"
    assert _pem.read_armor(text) == [(label, "AAAA\n")]
    with pytest.raises(_pem.PemError, match="not a CERTIFICATE"):
        _pem.read_blocks(text)


def test_each_part_is_written_anew_in_rfc_7468_form() -> None:
    # lines of 76 with CRLF and spaces before the BEGIN line: the same DER, written anew
    encoded = base64.b64encode(tiny_certificate("Some CA", "a leaf with a longer name")).decode()
    wide = "\r\n".join(
        ["-----BEGIN CERTIFICATE-----", *(encoded[i : i + 76] for i in range(0, len(encoded), 76)),
         "-----END CERTIFICATE-----", ""]
    )  # fmt: skip
    (written,) = (found.pem for found in _pem.read_blocks("  \t" + wide))
    lines = written.splitlines()
    assert lines[0] == "-----BEGIN CERTIFICATE-----" and lines[-1] == "-----END CERTIFICATE-----"
    assert all(len(line) == 64 for line in lines[1:-2]) and 0 < len(lines[-2]) <= 64
    assert "".join(lines[1:-1]) == encoded and written.endswith("-----\n")


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"flags": 0x1}, "encrypted"),
        ({"method": 9}, "compression method 9"),
        ({"offset": 1}, "no local header"),
        ({"flags": 0x800, "name": b"\xff.crt"}, "not UTF-8"),
    ],
)
def test_an_archive_zipfile_could_not_read_is_refused(fields: dict[str, Any], says: str) -> None:
    with pytest.raises(ZipError, match=says):
        check_zip(zip_archive([zip_entry(**fields)]))


async def test_anything_else_a_check_raises_is_a_response_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(data: bytes) -> int:
        raise KeyError("a bug, not the body")

    monkeypatch.setattr(certificates_module, "check_zip", broken)
    async with served() as (server, client):
        server.answer("/certificate/7/download/format/default", a_zip(x="y"), ZIP_TYPE)
        with pytest.raises(dc.ResponseError, match="an unexpected KeyError") as caught:
            await client.certificates.download(7, format="default")
    assert isinstance(caught.value.__cause__, KeyError)
