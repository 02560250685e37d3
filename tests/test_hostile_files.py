"""Whatever the server sends, the certificate calls give a result or a documented
exception: every format check fuzzed with hypothesis, from random bytes and from
mutations (bit flips, truncations, splices, cut and repeated runs) of the real files
``FakeCertCentral`` serves; then a sample of those mutations served over loopback to
``download``, ``download_for_order``, ``get_pem``, ``chain`` and
``dc.download_certificates``."""

from __future__ import annotations

import contextlib
import io
import json
import random
import struct
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import digicert_async as dc
from digicert_async._pem import PemError, check_pkcs7, read_blocks, split_bundle
from digicert_async._pipeline import Response
from digicert_async._zip import ZipError, check_zip
from digicert_async.resources import certificates as certificates_module

pytest.importorskip("cryptography.x509")

from digicert_async.testing._downloads import certificate_file
from digicert_async.testing._state import StoredCertificate
from digicert_async.testing._x509 import FakeAuthority

from .test_downloads import served
from .test_hostile_parse import zip_archive, zip_entry


def served_files() -> tuple[dict[str, bytes], bytes]:
    """The fake's file in every format, for one certificate of a cross-signed chain with
    two intermediates, and its chain answer."""
    authority = FakeAuthority(2, cross_signed=True)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    leaf = authority.issue(
        serial_number=0x1234567,
        common_name="fuzz.example.com",
        dns_names=["www.fuzz.example.com"],
        not_before=now,
        not_after=now + timedelta(days=90),
    )
    stored = StoredCertificate(
        id=1,
        order_id=1,
        kind="original",
        common_name="fuzz.example.com",
        dns_names=[],
        status="issued",
        pem=leaf.pem,
        chain=leaf.chain,
    )
    files = {name: certificate_file(stored, name).data for name in dc.CERTIFICATE_FORMATS}
    chain = json.dumps(
        {"intermediates": [{"subject_common_name": "CA", "pem": pem} for pem in leaf.chain]}
    ).encode()
    return files, chain


FILES, CHAIN = served_files()
ALL_BODIES = [*FILES.values(), CHAIN]
FORMATS = list(dc.CERTIFICATE_FORMATS)
INTERESTING = [0x00, 0x0A, 0x0D, 0x20, 0x2D, 0x30, 0x7F, 0x80, 0x81, 0x84, 0xFF]


def mutate(rng: random.Random, original: bytes, steps: int) -> bytes:
    """``original`` after ``steps`` mutations drawn from ``rng``."""
    data = bytearray(original)
    for _ in range(steps):
        kind = rng.choice(("flip", "byte", "truncate", "splice", "cut", "repeat"))
        at = rng.randrange(len(data) + 1)
        if kind == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] ^= 1 << rng.randrange(8)
        elif kind == "byte" and data:
            data[min(at, len(data) - 1)] = rng.choice(INTERESTING)
        elif kind == "truncate":
            del data[at:]
        elif kind == "splice":
            other = rng.choice(ALL_BODIES)
            start = rng.randrange(len(other))
            data[at:at] = other[start : start + rng.randrange(1, 200)]
        elif kind == "cut":
            del data[at : at + rng.randrange(1, 64)]
        elif kind == "repeat":
            data[at:at] = data[at : at + rng.randrange(1, 64)] * rng.randrange(1, 4)
    return bytes(data)


mutations = st.builds(
    lambda seed, steps: (seed, steps), st.integers(0, 2**32 - 1), st.integers(1, 6)
)


def response(body: bytes, content_type: str) -> Response:
    return Response(
        status=200,
        headers={"Content-Type": content_type},
        body=body,
        method="GET",
        url="https://127.0.0.1/services/v2/certificate/1/download/format/x",
    )


def read_as(format_type: str, body: bytes) -> object:
    """What the format's check makes of ``body``: the file, or ``ResponseError``."""
    reader = certificates_module._FILE_READERS[format_type]
    try:
        return reader(response(body, dc.CERTIFICATE_FORMATS[format_type]))
    except dc.ResponseError as exc:
        assert "an unexpected" not in str(exc), exc  # the guard is a guard, never the path
        return exc


# --------------------------------------------------------------------------- the checks


def test_the_served_files_pass_their_own_checks() -> None:
    for format_type in FORMATS:
        assert read_as(format_type, FILES[format_type]) == FILES[format_type], format_type
    pem = certificates_module.read_pem(response(FILES["pem_all"], "application/x-pem-file"))
    assert pem.root is not None and len(pem.intermediates) == 2 and len(pem.off_path) == 2


@pytest.mark.parametrize("format_type", FORMATS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutation=mutations)
def test_a_mutated_file_is_the_file_or_a_response_error(
    format_type: str, mutation: tuple[int, int]
) -> None:
    seed, steps = mutation
    body = mutate(random.Random(seed), FILES[format_type], steps)
    read_as(format_type, body)


@settings(max_examples=300, deadline=None)
@given(mutation=mutations)
def test_a_mutated_bundle_splits_or_is_a_response_error(mutation: tuple[int, int]) -> None:
    seed, steps = mutation
    body = mutate(random.Random(seed), FILES["pem_all"], steps)
    try:
        pem = certificates_module.read_pem(response(body, "application/x-pem-file"))
    except dc.ResponseError as exc:
        assert "an unexpected" not in str(exc), exc
        return
    # nothing is lost or made up: every block of the body is in exactly one place
    parts = [pem.certificate, *pem.intermediates, *pem.off_path]
    parts += [pem.root] if pem.root is not None else []
    assert sorted(parts) == sorted(block.pem for block in read_blocks(body.decode("ascii")))


@settings(max_examples=300, deadline=None)
@given(mutation=mutations)
def test_a_mutated_chain_answer_is_a_chain_or_a_response_error(mutation: tuple[int, int]) -> None:
    seed, steps = mutation
    body = mutate(random.Random(seed), CHAIN, steps)
    try:
        chain = certificates_module._read_chain(response(body, "application/json"))
    except dc.ResponseError:
        return
    assert isinstance(chain, dc.CertificateChain)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=2000), format_type=st.sampled_from(FORMATS))
def test_random_bytes_are_a_file_or_a_response_error(body: bytes, format_type: str) -> None:
    read_as(format_type, body)
    with contextlib.suppress(dc.ResponseError):
        certificates_module.read_pem(response(body, "application/x-pem-file"))


@settings(max_examples=200, deadline=None)
@given(mutation=mutations)
def test_the_parsers_raise_only_their_own_errors(mutation: tuple[int, int]) -> None:
    seed, steps = mutation
    rng = random.Random(seed)
    for parse, original in (
        (check_zip, FILES["default"]),
        (check_pkcs7, FILES["p7b"]),
        (lambda data: split_bundle(data.decode("latin-1")), FILES["pem_all"]),
    ):
        with contextlib.suppress(PemError, ZipError):
            parse(mutate(rng, original, steps))


# --------------------------------------------------------------------------- ZIP agreement


def opens_in_zipfile(data: bytes) -> int:
    """How many members ``zipfile`` lists, each opened (its local header read)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        for info in infos:
            archive.open(info).close()
        return len(infos)


@pytest.mark.parametrize("format_type", ["default", "apache", "default_cer", "default_pem"])
@settings(max_examples=150, deadline=None)
@given(mutation=mutations)
# One byte of the first entry's compressed size changed: its data overlaps the next entry's
# local header, which zipfile refuses on newer Pythons ("Overlapped entries"; 3.13, not 3.12.1).
@example(mutation=(728, 1))
def test_an_archive_the_check_accepts_opens_in_zipfile(
    format_type: str, mutation: tuple[int, int]
) -> None:
    seed, steps = mutation
    body = mutate(random.Random(seed), FILES[format_type], steps)
    try:
        count = check_zip(body)
    except ZipError:
        return
    assert opens_in_zipfile(body) == count


extra_fields = st.lists(
    st.tuples(st.sampled_from([0x0001, 0x5455, 0x7875, 0x9999]), st.binary(max_size=40)),
    max_size=4,
).map(lambda fields: b"".join(k.to_bytes(2, "little") + len(v).to_bytes(2, "little") + v
                              for k, v in fields))  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    entries=st.lists(
        st.fixed_dictionaries(
            {
                "name": st.binary(min_size=0, max_size=12),
                # readable values more often than not, so that both sides are reached
                "version": st.sampled_from([20, 20, 20, 10, 45, 63, 64, 255]),
                "flags": st.sampled_from([0, 0, 0, 0x8, 0x800, 0x1, 0x20, 0x40]),
                "method": st.sampled_from([0, 0, 8, 8, 12, 14, 1, 9, 99]),
                "extra": extra_fields | st.binary(max_size=12),
                "data": st.binary(max_size=20),
            }
        ),
        min_size=0,
        max_size=4,
    ),
    count_delta=st.sampled_from([0, 0, 0, -1, 1]),
    wrong_offset=st.sampled_from([0, 0, 0, 1, 3]),
)
# The last directory entry's extra field ends in a ZIP64 locator's signature, just before
# the end record: zipfile reads the locator (and refuses its disk count), so must the check.
@example(
    entries=[
        {
            "name": b"",
            "version": 20,
            "flags": 0,
            "method": 0,
            "extra": b"\x01\x00\x04\x00PK\x06\x07\x01\x00\x04\x00\x00\x00\x00\x00"
            b"\x01\x00\x04\x00\x00\x00\x00\x00",
            "data": b"",
        }
    ],
    count_delta=0,
    wrong_offset=0,
)
def test_an_archive_built_from_any_fields_is_checked_as_zipfile_reads_it(
    entries: list[dict[str, object]], count_delta: int, wrong_offset: int
) -> None:
    built = []
    offset = 0
    for number, fields in enumerate(entries):
        shift = wrong_offset if number == 0 else 0
        local, central = zip_entry(offset=offset + shift, **fields)  # type: ignore[arg-type]
        built.append((local, central))
        offset += len(local)
    body = zip_archive(built, count=max(0, len(built) + count_delta))
    try:
        count = check_zip(body)
    except ZipError:
        return
    assert opens_in_zipfile(body) == count == len(entries)


def zip_with_comment(comment: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.crt", "x")
        archive.comment = comment
    return buffer.getvalue()


def test_an_archive_may_follow_other_bytes_and_end_in_a_comment() -> None:
    body = b"#!/bin/sh stub\n" + zip_with_comment(b"made for a test")
    assert check_zip(body) == opens_in_zipfile(body) == 1
    # the end record is the last one, as zipfile finds it: a comment that holds one too
    # is unreadable to both
    confusing = zip_with_comment(b"PK\x05\x06 looks like an end record")
    with pytest.raises(ZipError):
        check_zip(confusing)
    with pytest.raises(zipfile.BadZipFile):
        opens_in_zipfile(confusing)


def test_a_zip64_end_record_is_read() -> None:
    archive = FILES["default"]
    end = archive.rfind(b"PK\x05\x06")
    entries, size, offset = (
        int.from_bytes(archive[end + 10 : end + 12], "little"),
        int.from_bytes(archive[end + 12 : end + 16], "little"),
        int.from_bytes(archive[end + 16 : end + 20], "little"),
    )
    record = (
        b"PK\x06\x06"
        + (44).to_bytes(8, "little")
        + (45).to_bytes(2, "little") * 2
        + bytes(8)
        + entries.to_bytes(8, "little") * 2
        + size.to_bytes(8, "little")
        + offset.to_bytes(8, "little")
    )
    locator = b"PK\x06\x07" + bytes(4) + end.to_bytes(8, "little") + (1).to_bytes(4, "little")
    wide_end = b"PK\x05\x06" + bytes(4) + b"\xff\xff" * 2 + b"\xff\xff\xff\xff" * 2 + bytes(2)
    body = archive[:end] + record + locator + wide_end
    assert check_zip(body) == opens_in_zipfile(body) == entries


# --------------------------------------------------------------------------- over HTTP


def sample(format_type: str, count: int) -> list[bytes]:
    rng = random.Random(f"served {format_type}")
    return [mutate(rng, FILES[format_type], rng.randrange(1, 5)) for _ in range(count)]


@pytest.mark.parametrize("format_type", FORMATS)
async def test_mutated_files_over_http_give_a_file_or_a_documented_error(
    format_type: str,
) -> None:
    kind = dc.CERTIFICATE_FORMATS[format_type]
    bodies = sample(format_type, 12)
    async with served() as (server, client):
        for number, body in enumerate(bodies, start=1):
            server.answer(f"/certificate/{number}/download/format/{format_type}", body, kind)
            server.answer(f"/certificate/download/order/{number}/format/{format_type}", body, kind)
            server.answer(f"/certificate/{number}/download/format/pem_all", body)
            server.answer(f"/certificate/{number}/chain", body, "application/json")
        for number in range(1, len(bodies) + 1):
            for call in (
                client.certificates.download(number, format=format_type),
                client.certificates.download_for_order(number, format=format_type),
                client.certificates.get_pem(number),
                client.certificates.chain(number),
            ):
                try:
                    result = await call
                except dc.DigiCertError as exc:
                    assert "an unexpected" not in str(exc), exc
                else:
                    assert result is not None
        job = dc.download_certificates(client, range(1, len(bodies) + 1), format=format_type)
        items = [item async for item in job]
    assert job.stopped_by is None
    assert sorted(item.order_id for item in items) == list(range(1, len(bodies) + 1))
    for item, body in zip(sorted(items, key=lambda item: item.order_id), bodies, strict=True):
        assert item.attempted
        if item.ok:
            assert item.data == body
        else:
            assert isinstance(item.error, dc.ResponseError), item.error


def _two_entries() -> tuple[bytes, int, int]:
    """A stored archive of two files (the first with an extra field); where its
    directory's two entries begin."""
    buffer = io.BytesIO()
    first_file = zipfile.ZipInfo("a.crt", date_time=(2026, 1, 1, 0, 0, 0))
    first_file.extra = struct.pack("<2H", 0x9999, 4) + b"abcd"
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(first_file, b"first file")
        archive.writestr("b.crt", b"second file")
    body = buffer.getvalue()
    first = body.index(b"PK\x01\x02")
    return body, first, body.index(b"PK\x01\x02", first + 1)


def _patched(body: bytes, at: int, value: int) -> bytes:
    return body[:at] + struct.pack("<L", value) + body[at + 4 :]


def test_entries_that_overlap_are_refused_as_zipfile_refuses_them() -> None:
    body, first, second = _two_entries()
    assert check_zip(body) == opens_in_zipfile(body) == 2
    second_local = struct.unpack_from("<L", body, second + 42)[0]
    name_length, extra_length = struct.unpack_from("<2H", body, 26)  # the first local header
    first_data = 30 + name_length + extra_length
    # its data reaching up to the second's local header, and not into it
    fits = _patched(body, first + 20, second_local - first_data)
    assert check_zip(fits) == opens_in_zipfile(fits) == 2
    cases = {
        # the first entry's data reaches into the second's local header (sizes at +20), by
        # one byte, then by the whole header
        "its data overlaps the next entry": _patched(
            body, first + 20, second_local - first_data + 1
        ),
        "overlaps the next entry": _patched(body, first + 20, second_local),
        # the second entry, renamed as the first, points at the first's local header
        # (offset at +42, name at +46)
        "share one local header": _patched(
            body[: second + 46] + b"a.crt" + body[second + 51 :], second + 42, 0
        ),
    }
    zipfile_checks = hasattr(zipfile.ZipInfo(), "_end_offset")  # newer Pythons, 3.13 among them
    for reason, overlapping in cases.items():
        with pytest.raises(ZipError, match=reason):
            check_zip(overlapping)
        if zipfile_checks:
            with pytest.raises(zipfile.BadZipFile, match="Overlapped entries"):
                opens_in_zipfile(overlapping)


def _with_zip64_end(disks: int) -> bytes:
    """A one-file archive whose end record is preceded by ZIP64 end records, the
    locator's disk count being ``disks``."""
    plain = zip_with_comment(b"")
    end = len(plain) - 22
    size, offset = struct.unpack_from("<2L", plain, end + 12)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 1, 1, size, offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, end, disks)
    return plain[:end] + record + locator + plain[end:]


def test_zip64_end_records_are_read_as_zipfile_reads_them() -> None:
    body = _with_zip64_end(disks=1)
    assert check_zip(body) == opens_in_zipfile(body) == 1
    body = _with_zip64_end(disks=2)
    with pytest.raises(zipfile.BadZipFile, match="multiple disks"):
        opens_in_zipfile(body)
    with pytest.raises(ZipError, match="spans several disks"):
        check_zip(body)
