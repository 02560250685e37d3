"""ZIP archives of certificates, checked without being opened (pure).

A certificate download in a ZIP format is returned as sent, once it is known to be a
whole archive that :mod:`zipfile` can read: its end record, every entry of its central
directory and the local header each entry points at. Nothing is decompressed.

The archive comes from a server, so it is read here rather than by :mod:`zipfile`,
which raises ``NotImplementedError`` for a version it does not know and spends time
quadratic in an entry's extra field. Every step below is bounded: the end record is
looked for in the last 64 KiB, and a certificate archive holds a few files, so more
than :data:`MAX_ENTRIES` entries, or more than :data:`MAX_EXTRA_FIELDS` extra fields in
one entry, is refused before any of them is read. Every problem is a :class:`ZipError`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["MAX_ENTRIES", "MAX_EXTRA_FIELDS", "ZipError", "check_zip"]

MAX_ENTRIES = 256
"""The most files accepted in one archive (a certificate archive holds a few)."""
MAX_EXTRA_FIELDS = 64
"""The most extra fields accepted on one entry (archivers write a handful)."""

_END = b"PK\x05\x06"
_END_SIZE = 22
_END_FORMAT = struct.Struct("<4x4H2LH")
_MAX_COMMENT = 0xFFFF
_LOCATOR = b"PK\x06\x07"
_LOCATOR_SIZE = 20
_LOCATOR_FORMAT = struct.Struct("<4sLQL")
_END64 = b"PK\x06\x06"
_END64_SIZE = 56
_END64_FORMAT = struct.Struct("<4xQ2H2L4Q")
_CENTRAL = b"PK\x01\x02"
_CENTRAL_FORMAT = struct.Struct("<4x4B4HL2L5H2L")
_LOCAL = b"PK\x03\x04"
_LOCAL_FORMAT = struct.Struct("<4x2B4HL2L2H")
_EXTRA_HEADER = struct.Struct("<2H")
_ZIP64_EXTRA = 0x0001
_UTF8_NAME = 0x800
# encrypted (bit 0), compressed patched data (5), strong encryption (6)
_UNREADABLE = 0x0001 | 0x0020 | 0x0040
_MAX_VERSION = 63  # the newest "version needed to extract" zipfile reads
# stored, deflated, bzip2, lzma: the methods zipfile can decompress
_METHODS = frozenset({0, 8, 12, 14})
_FFFF = 0xFFFF
_FFFFFFFF = 0xFFFF_FFFF


class ZipError(ValueError):
    """The bytes are not a whole ZIP archive that can be read (the message says why)."""


def check_zip(data: bytes) -> int:
    """The number of files in ``data``, a whole ZIP archive; else :class:`ZipError`.

    Bytes before the archive (a self-extractor's stub) are allowed, as :mod:`zipfile`
    allows them. An archive that spans disks, holds no file or more than
    :data:`MAX_ENTRIES`, whose directory does not match its end record, whose entry
    points at no local header of the same name, whose entry's data overlaps the next
    entry (a ZIP bomb's trick, which :mod:`zipfile` refuses on newer Pythons, 3.13 among
    them), or whose entry is encrypted or needs a ZIP version or a compression method
    :mod:`zipfile` does not read, is refused.
    """
    entries, size, offset, end = _end_record(data)
    if entries == 0:
        raise ZipError("the archive is empty")
    if entries > MAX_ENTRIES:
        raise ZipError(f"{entries} entries; a certificate archive holds a few")
    archive = _Archive(data, start=end - size, end=end, shift=end - size - offset)
    if archive.start < 0 or archive.shift < 0:
        raise ZipError("the central directory lies outside the file")
    position = archive.start
    spans: list[tuple[int, int, int]] = []  # (local header, end of its data, entry number)
    for number in range(1, entries + 1):
        if position >= end:
            raise ZipError(
                f"the directory holds {number - 1} entries, its end record says {entries}"
            )
        position, span = _central_entry(archive, position, number)
        spans.append((*span, number))
    if position != end:
        raise ZipError(f"the directory holds more than the {entries} entries its end record says")
    _no_overlap(spans, archive.start)
    return entries


def _no_overlap(spans: list[tuple[int, int, int]], directory: int) -> None:
    """Each entry's data ends before the next local header (or the directory) begins."""
    spans.sort()
    for (at, data_end, number), (next_at, _, next_number) in zip(
        spans, [*spans[1:], (directory, directory, 0)], strict=True
    ):
        if next_at == at:
            raise ZipError(f"entries {number} and {next_number} share one local header")
        if data_end > next_at:
            raise ZipError(f"entry {number}: its data overlaps the next entry")


@dataclass(frozen=True)
class _Archive:
    data: bytes
    start: int
    """Where the central directory starts (the file data lies before it)."""
    end: int
    """Where it ends: the end record, or its ZIP64 form."""
    shift: int
    """Bytes before the archive, added to every offset it gives."""


def _end_record(data: bytes) -> tuple[int, int, int, int]:
    """(entries, directory size, directory offset, where the directory ends) from the
    end of central directory record, or its ZIP64 form."""
    floor = max(0, len(data) - _END_SIZE - _MAX_COMMENT)
    position = data.rfind(_END, floor)
    while position >= 0 and position + _END_SIZE > len(data):
        position = data.rfind(_END, floor, position)
    if position < 0:
        raise ZipError("no end of central directory record (not a ZIP archive, or cut short)")
    disk, directory_disk, disk_entries, entries, size, offset, comment = _END_FORMAT.unpack_from(
        data, position
    )
    if position + _END_SIZE + comment > len(data):
        raise ZipError("the archive's comment runs past the end of the file")
    # zipfile takes the ZIP64 records whenever their locator sits before the end record,
    # whatever the end record holds: so must this check, or the two could disagree.
    locator = position - _LOCATOR_SIZE
    if (
        _FFFF in (disk, directory_disk, disk_entries, entries)
        or _FFFFFFFF in (size, offset)
        or (locator >= 0 and data[locator : locator + 4] == _LOCATOR)
    ):
        return _end_record64(data, position)
    if disk or directory_disk or disk_entries != entries:
        raise ZipError("an archive that spans several disks")
    return entries, size, offset, position


def _end_record64(data: bytes, end: int) -> tuple[int, int, int, int]:
    locator = end - _LOCATOR_SIZE
    record = locator - _END64_SIZE
    if record < 0 or data[locator : locator + 4] != _LOCATOR or data[record : record + 4] != _END64:
        raise ZipError("the ZIP64 end record is missing")
    _, locator_disk, _, disks = _LOCATOR_FORMAT.unpack_from(data, locator)
    if locator_disk or disks > 1:
        raise ZipError("an archive that spans several disks")
    _, _, _, disk, directory_disk, disk_entries, entries, size, offset = _END64_FORMAT.unpack_from(
        data, record
    )
    if disk or directory_disk or disk_entries != entries:
        raise ZipError("an archive that spans several disks")
    return entries, size, offset, record


def _central_entry(archive: _Archive, position: int, number: int) -> tuple[int, tuple[int, int]]:
    """Check entry ``number`` of the directory at ``position``: where the next begins, and
    where its local header begins and its data ends."""
    data = archive.data
    fixed_end = position + _CENTRAL_FORMAT.size
    if fixed_end > archive.end or data[position : position + 4] != _CENTRAL:
        raise ZipError(f"entry {number}: not a central directory entry")
    (_, _, version, _, flags, method, _, _, _, compressed, size, name_length, extra_length,
     comment_length, _, _, _, local) = _CENTRAL_FORMAT.unpack_from(data, position)  # fmt: skip
    after: int = fixed_end + name_length + extra_length + comment_length
    if after > archive.end:
        raise ZipError(f"entry {number}: runs past the directory")
    if version > _MAX_VERSION:
        raise ZipError(f"entry {number}: needs ZIP version {version / 10:.1f}, past 6.3")
    if method not in _METHODS:
        raise ZipError(f"entry {number}: compression method {method}, which zipfile cannot read")
    if flags & _UNREADABLE:
        raise ZipError(f"entry {number}: encrypted or patched (flags 0x{flags:04x})")
    name = data[fixed_end : fixed_end + name_length]
    if flags & _UTF8_NAME:
        try:
            name.decode("utf-8")
        except UnicodeDecodeError:
            raise ZipError(f"entry {number}: its name is not UTF-8 as its flags say") from None
    extra = fixed_end + name_length
    wide = iter(_zip64_values(data, extra, extra + extra_length, number))
    if size == _FFFFFFFF:
        size = _widened(wide, number, "size")
    if compressed == _FFFFFFFF:
        compressed = _widened(wide, number, "compressed size")
    if local == _FFFFFFFF:
        local = _widened(wide, number, "local header offset")
    at = archive.shift + local
    return after, (at, _local_header(archive, at, name, compressed, number))


def _widened(values: Iterator[int], number: int, what: str) -> int:
    value = next(values, None)
    if value is None:
        raise ZipError(f"entry {number}: its ZIP64 extra field lacks the {what}")
    return value


def _zip64_values(data: bytes, start: int, end: int, number: int) -> list[int]:
    """The 8-byte values of the entry's ZIP64 extra field (none without one), once the
    extra fields are known to fit the space they are given."""
    values: list[int] = []
    position = start
    for _ in range(MAX_EXTRA_FIELDS):
        if end - position < _EXTRA_HEADER.size:
            return values
        kind, length = _EXTRA_HEADER.unpack_from(data, position)
        body = position + _EXTRA_HEADER.size
        if body + length > end:
            raise ZipError(f"entry {number}: an extra field runs past its entry")
        if kind == _ZIP64_EXTRA:
            values = [
                int.from_bytes(data[at : at + 8], "little")
                for at in range(body, body + length - 7, 8)
            ]
        position = body + length
    if end - position >= _EXTRA_HEADER.size:
        raise ZipError(f"entry {number}: more than {MAX_EXTRA_FIELDS} extra fields")
    return values


def _local_header(archive: _Archive, at: int, name: bytes, compressed: int, number: int) -> int:
    """Check the local header an entry points at: there, of the same name, and its data
    before the central directory; where its data ends."""
    data = archive.data
    fixed_end = at + _LOCAL_FORMAT.size
    if fixed_end > archive.start or data[at : at + 4] != _LOCAL:
        raise ZipError(f"entry {number}: no local header where the directory says")
    name_length, extra_length = _LOCAL_FORMAT.unpack_from(data, at)[-2:]
    if data[fixed_end : fixed_end + name_length] != name:
        raise ZipError(f"entry {number}: its local header names another file")
    data_end: int = fixed_end + name_length + extra_length + compressed
    if data_end > archive.start:
        raise ZipError(f"entry {number}: its data runs past the start of the directory")
    return data_end
