"""The zip container of a bundle must be framed exactly as the bundle writer frames it.

`zipfile` reads a zip from its end (the end of central directory record, then the central
directory) and forgives bytes before the zip, after it and between its entries. A reader
that scans the file from its start (a streaming unzip) reads the local entries instead. So
bytes added around or inside a bundle could hold a forged copy of every member that such a
reader sees, while the members `verify_bundle` hashes are the genuine ones. The bundle
writer (`purposeful.access.bundle.ZipWriter`, Python's `zipfile` writing to a seekable
file) frames every bundle the same way, and this module refuses any other framing:

* the first local entry starts at byte 0 of the file;
* each local entry (header, name, extra field, compressed data) is followed directly by the
  next one, and the last by the central directory: no gaps, no overlaps, no data
  descriptors (a seekable writer writes none);
* each local header says what its central directory entry says (flags, method, CRC and
  sizes), so a reader of either reads the same bytes;
* the central directory is followed directly by the end records (the zip64 end record and
  its locator, when the writer wrote them), and the end of central directory record is the
  last 22 bytes of the file: no zip comment (the writer writes none), nothing after it.

What this module must not do: read a member's content (`verify` hashes it); trust an
offset without checking it lies inside the file.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Sequence
from typing import IO, Final

from ..errors import BundleInvalid

__all__ = ["check_framing"]

_END: Final = struct.Struct("<4s4H2LH")  # end of central directory record, no comment
_END_SIGNATURE: Final = b"PK\x05\x06"
_LOCATOR: Final = struct.Struct("<4sLQL")  # zip64 end of central directory locator
_LOCATOR_SIGNATURE: Final = b"PK\x06\x07"
_END64: Final = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record
_END64_SIGNATURE: Final = b"PK\x06\x06"
_LOCAL: Final = struct.Struct("<4s5H3L2H")  # local file header (APPNOTE 4.3.7)
_LOCAL_SIGNATURE: Final = b"PK\x03\x04"
_ZIP64_EXTRA: Final = 0x0001
_DATA_DESCRIPTOR: Final = 0x08
_ALL_ONES: Final = 0xFFFFFFFF
_CHANGED: Final = (
    "the file was changed after it was made; do not trust it, and ask the agency for it again"
)


def check_framing(file: IO[bytes], infos: Sequence[zipfile.ZipInfo]) -> None:
    """Refuse a bundle whose zip is not framed exactly as the bundle writer frames it.

    Raises:
        BundleInvalid: bytes before, after or inside the zip, a zip comment, a data
            descriptor, or a local header that disagrees with the central directory.
    """
    size = file.seek(0, 2)
    directory_end, directory_size, directory_offset, count = _end_records(file, size)
    added = directory_end - directory_size - directory_offset
    if added > 0:
        raise BundleInvalid(
            f"{added:,} bytes come before the zip in the file: a reader that scans it from "
            f"the start would read them as the bundle's members; {_CHANGED}"
        )
    if added < 0:
        raise BundleInvalid(f"the zip's central directory is not where it says it is; {_CHANGED}")
    if count != len(infos):
        raise BundleInvalid(
            f"the zip's end record counts {count:,} members but its directory lists "
            f"{len(infos):,}; {_CHANGED}"
        )
    position = 0
    for info in sorted(infos, key=lambda info: info.header_offset):
        if info.header_offset != position:
            raise BundleInvalid(
                f"{abs(info.header_offset - position):,} bytes "
                f"{'lie between' if info.header_offset > position else 'overlap'} this "
                f"member's entry and the one before it in the zip: a reader that scans it "
                f"from the start would read them as members; {_CHANGED}",
                member=info.filename,
            )
        position = _local_entry_end(file, info, directory_offset)
    if position != directory_offset:
        raise BundleInvalid(
            f"{directory_offset - position:,} bytes lie between the zip's last member and its "
            f"central directory: a reader that scans it from the start would read them as "
            f"members; {_CHANGED}"
        )


def _end_records(file: IO[bytes], size: int) -> tuple[int, int, int, int]:
    """Where the end records start, and the central directory's size, offset and entry
    count they give."""
    if size < _END.size:
        raise BundleInvalid(f"is too short to be a zip; {_CHANGED}")
    file.seek(size - _END.size)
    signature, _, _, _, count, directory_size, directory_offset, comment = _END.unpack(
        file.read(_END.size)
    )
    if signature != _END_SIGNATURE or comment:
        raise BundleInvalid(
            f"the zip's end record is not the last 22 bytes of the file: bytes (or a zip "
            f"comment, which a bundle never has) were added after it; {_CHANGED}"
        )
    end = size - _END.size
    locator_at = end - _LOCATOR.size
    if locator_at < 0:
        return end, directory_size, directory_offset, count
    file.seek(locator_at)
    locator = _LOCATOR.unpack(file.read(_LOCATOR.size))
    if locator[0] != _LOCATOR_SIGNATURE:
        return end, directory_size, directory_offset, count
    record_at = locator[2]
    if not 0 <= record_at <= locator_at - _END64.size:
        raise BundleInvalid(f"the zip64 end record is not where its locator says; {_CHANGED}")
    file.seek(record_at)
    record = _END64.unpack(file.read(_END64.size))
    if record[0] != _END64_SIGNATURE or record_at + 12 + record[1] != locator_at:
        raise BundleInvalid(f"the zip64 end record is not directly before its locator; {_CHANGED}")
    _, _, _, _, _, _, _, count64, directory_size64, directory_offset64 = record
    return record_at, directory_size64, directory_offset64, count64


def _local_entry_end(file: IO[bytes], info: zipfile.ZipInfo, limit: int) -> int:
    """Where the local entry of *info* ends, once its header is checked against the
    central directory's."""
    if info.flag_bits & _DATA_DESCRIPTOR:
        raise BundleInvalid(
            f"has a data descriptor, which a bundle member never has; {_CHANGED}",
            member=info.filename,
        )
    header_end = info.header_offset + _LOCAL.size
    if header_end > limit:
        raise BundleInvalid(
            f"its local header runs into the central directory; {_CHANGED}", member=info.filename
        )
    file.seek(info.header_offset)
    (signature, _, flags, method, _, _, crc, compressed, size, name_length, extra_length) = (
        _LOCAL.unpack(file.read(_LOCAL.size))
    )
    extra = file.read(name_length + extra_length)[name_length:]
    _only_zip64(extra, info)
    _only_zip64(info.extra, info)
    if compressed == _ALL_ONES and size == _ALL_ONES:
        size, compressed = _zip64_sizes(extra, info)
    if (
        signature != _LOCAL_SIGNATURE
        or flags != info.flag_bits
        or method != info.compress_type
        or crc != info.CRC
        or compressed != info.compress_size
        or size != info.file_size
    ):
        raise BundleInvalid(
            f"its local header does not say what the zip's central directory says: a reader "
            f"that scans the file from the start would read another member; {_CHANGED}",
            member=info.filename,
        )
    end: int = header_end + name_length + extra_length + info.compress_size
    if end > limit:
        raise BundleInvalid(
            f"its data runs into the zip's central directory; {_CHANGED}", member=info.filename
        )
    return end


def _only_zip64(extra: bytes, info: zipfile.ZipInfo) -> None:
    """Refuse an extra field that holds anything but zip64 fields, the only ones the bundle
    writer writes: another (an Info-ZIP Unicode Path field, 0x7075) would give the member
    another name, or other contents, in the readers that honour it."""
    offset = 0
    while offset < len(extra):
        if offset + 4 > len(extra):
            raise BundleInvalid(f"its extra field is cut short; {_CHANGED}", member=info.filename)
        kind, length = struct.unpack_from("<2H", extra, offset)
        if kind != _ZIP64_EXTRA or offset + 4 + length > len(extra):
            raise BundleInvalid(
                f"its header carries an extra field (0x{kind:04x}) the bundle writer never "
                f"writes, which some readers take as another name or other contents; "
                f"{_CHANGED}",
                member=info.filename,
            )
        offset += 4 + length


def _zip64_sizes(extra: bytes, info: zipfile.ZipInfo) -> tuple[int, int]:
    """The uncompressed and compressed sizes a local header's zip64 extra field gives."""
    offset = 0
    while offset + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, offset)
        if kind == _ZIP64_EXTRA and length >= 16:
            size, compressed = struct.unpack_from("<2Q", extra, offset + 4)
            return size, compressed
        offset += 4 + length
    raise BundleInvalid(
        f"its local header gives no sizes, not even in a zip64 field; {_CHANGED}",
        member=info.filename,
    )
