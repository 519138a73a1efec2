"""A bundle's zip must be framed exactly as the bundle writer frames it: bytes added before,
after or inside the zip (where a reader that scans the file from its start would read a
forged copy of every member) fail verification, though every member still matches."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from _bundles import PUBLIC_KEY, build_bundle, members
from cryptography.hazmat.primitives import serialization
from hypothesis import example, given, settings
from hypothesis import strategies as st

from purposeful.access import verify_bundle
from purposeful.access.encryption import MAGIC as AGE_MAGIC
from purposeful.cli import main
from purposeful.errors import BundleDecryptionError, BundleInvalid

END_RECORD = 22  # the end of central directory record, with no comment


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standard bundle (read-only: tests write their changed copies elsewhere)."""
    return build_bundle(tmp_path_factory.mktemp("framing") / "bundle.zip").path


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("framing-scratch")


def refused(path: Path) -> BundleInvalid:
    with pytest.raises(BundleInvalid) as caught:
        verify_bundle(path, PUBLIC_KEY)
    assert "do not trust it" in str(caught.value)
    return caught.value


def local_entries(blob: bytes) -> list[tuple[int, int]]:
    """Each local entry's (start, end) in *blob*, from the central directory."""
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        infos = sorted(archive.infolist(), key=lambda info: info.header_offset)
    spans = []
    for info in infos:
        start = info.header_offset
        name_length, extra_length = struct.unpack("<2H", blob[start + 26 : start + 30])
        spans.append((start, start + 30 + name_length + extra_length + info.compress_size))
    return spans


def forged_members(bundle: Path) -> bytes:
    """The local entries of a forged copy of every member, without a central directory:
    what a reader scanning from the start would take for the bundle."""
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as archive:
        for name, data in members(bundle).items():
            archive.writestr(name, data.replace(b"a", b"b"))
    raw = forged.getvalue()
    return raw[: raw.find(b"PK\x01\x02")]


def test_an_untouched_bundle_verifies(bundle: Path) -> None:
    assert verify_bundle(bundle, PUBLIC_KEY).records == {"CaseNote": 3, "Profile": 1}


@given(added=st.binary(min_size=1, max_size=2048))
@example(added=b"\0")
@example(added=b"PK\x03\x04")
@example(added=b"age-encryption.org/v1\n")
@settings(max_examples=60)
def test_bytes_before_the_zip_are_refused(scratch: Path, bundle: Path, added: bytes) -> None:
    changed = scratch / "prefixed.zip"
    changed.write_bytes(added + bundle.read_bytes())
    if changed.read_bytes().startswith(AGE_MAGIC):  # now an encrypted bundle's envelope:
        with pytest.raises(BundleDecryptionError):  # refused as one that is not readable
            verify_bundle(changed, PUBLIC_KEY)
        return
    assert "before the zip" in str(refused(changed))


@given(added=st.binary(min_size=1, max_size=2048))
@example(added=b"\0")
@example(added=b"PK\x05\x06" + bytes(18))  # a second, empty end record
@example(added=b"PK\x05\x06")  # a cut end record: zipfile cannot read the zip at all
@settings(max_examples=60)
def test_bytes_after_the_zip_are_refused(scratch: Path, bundle: Path, added: bytes) -> None:
    changed = scratch / "suffixed.zip"
    changed.write_bytes(bundle.read_bytes() + added)
    refused(changed)


@given(data=st.data(), added=st.binary(min_size=1, max_size=2048))
@settings(max_examples=60)
def test_bytes_inserted_between_entries_are_refused(
    scratch: Path, bundle: Path, data: st.DataObject, added: bytes
) -> None:
    """Inserted before any local entry or the central directory, with every offset in the
    central directory and the end record moved to match, so zipfile reads it as before."""
    blob = bundle.read_bytes()
    spans = local_entries(blob)
    at = data.draw(st.sampled_from([end for _, end in spans]), label="after the entry ending")
    changed = scratch / "inserted.zip"
    changed.write_bytes(inserted(blob, at, added))
    assert members(changed) == members(bundle)  # every member reads as before
    refused(changed)


def inserted(blob: bytes, at: int, added: bytes) -> bytes:
    """*blob* with *added* at *at*, the zip's offsets past it moved by its length."""
    shift = len(added)
    (signature, disk, disk_cd, on_disk, count, size, offset, comment) = struct.unpack(
        "<4s4H2LH", blob[-END_RECORD:]
    )
    directory = bytearray(blob[offset : offset + size])
    position = 0
    for _ in range(count):
        (local,) = struct.unpack("<L", directory[position + 42 : position + 46])
        if local >= at:
            directory[position + 42 : position + 46] = struct.pack("<L", local + shift)
        name_length, extra_length, comment_length = struct.unpack(
            "<3H", directory[position + 28 : position + 34]
        )
        position += 46 + name_length + extra_length + comment_length
    end = struct.pack(
        "<4s4H2LH", signature, disk, disk_cd, on_disk, count, size, offset + shift, comment
    )
    return blob[:at] + added + blob[at:offset] + bytes(directory) + end


def test_a_forged_copy_of_every_member_in_front_is_refused_by_the_cli(
    tmp_path: Path, bundle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    public = tmp_path / "agency.pub.pem"
    public.write_bytes(
        PUBLIC_KEY.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    changed = tmp_path / "forged.zip"
    changed.write_bytes(forged_members(bundle) + bundle.read_bytes())
    assert main(["bundle", "verify", str(changed), "--public-key", str(public)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("FAILED: ")
    assert "bytes come before the zip" in out
    assert len(out.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_zip_comment_is_refused(tmp_path: Path, bundle: Path) -> None:
    changed = tmp_path / "commented.zip"
    blob = bundle.read_bytes()
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        assert archive.comment == b""  # the writer writes none
    comment = b"read me"
    changed.write_bytes(blob[:-2] + struct.pack("<H", len(comment)) + comment)
    assert "zip comment" in str(refused(changed))


def test_a_local_header_that_disagrees_with_the_directory_is_refused(
    tmp_path: Path, bundle: Path
) -> None:
    blob = bytearray(bundle.read_bytes())
    start, _ = local_entries(bytes(blob))[0]
    size_field = start + 18  # the compressed size in the first local header
    (size,) = struct.unpack("<L", blob[size_field : size_field + 4])
    blob[size_field : size_field + 4] = struct.pack("<L", size + 1)
    changed = tmp_path / "disagrees.zip"
    changed.write_bytes(bytes(blob))
    assert "local header does not say" in str(refused(changed))


def test_zip64_framing_as_the_writer_writes_it_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large members get zip64 local headers, and a large zip zip64 end records: both as
    the writer frames them still verify (made small here by lowering zipfile's limits)."""
    monkeypatch.setattr("purposeful.access.bundle._ZIP64_ABOVE", -1)
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 64)
    info = build_bundle(tmp_path / "zip64.zip")
    blob = info.path.read_bytes()
    assert b"PK\x06\x06" in blob  # the zip64 end record
    assert b"PK\x06\x07" in blob  # and its locator
    assert verify_bundle(info.path, PUBLIC_KEY).records == {"CaseNote": 3, "Profile": 1}
    changed = tmp_path / "zip64-prefixed.zip"
    changed.write_bytes(b"x" + blob)
    refused(changed)


class Unseekable(io.BytesIO):
    def seek(self, offset: int, whence: int = 0) -> int:
        raise OSError("not seekable")


def test_a_zip_with_data_descriptors_is_refused(tmp_path: Path, bundle: Path) -> None:
    """zipfile writes a data descriptor after each member only to a stream it cannot seek
    back in; the bundle writer writes to a file, so a bundle never has one."""
    stream = Unseekable()
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members(bundle).items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    changed = tmp_path / "streamed.zip"
    changed.write_bytes(stream.getvalue())
    assert members(changed) == members(bundle)
    assert "data descriptor" in str(refused(changed))


def test_an_extra_field_the_writer_never_writes_is_refused(tmp_path: Path, bundle: Path) -> None:
    """Found by a red team: an Info-ZIP Unicode Path field (0x7075) names a member otherwise
    for the readers that honour it (``unzip``, 7-Zip, Python 3.12's zipfile), such as
    ``../../.bashrc``, while the header's name, which verify checked, stays the same."""

    def unicode_path(name: str, shown: str) -> bytes:
        body = b"\x01" + struct.pack("<L", zlib.crc32(name.encode())) + shown.encode()
        return struct.pack("<2H", 0x7075, len(body)) + body

    out = io.BytesIO()
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(out, "w") as copy:
        for info in source.infolist():
            again = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            again.compress_type = info.compress_type
            again.external_attr = info.external_attr
            again.extra = unicode_path(info.filename, "../../../home/user/.bashrc")
            copy.writestr(again, source.read(info))
    renamed = tmp_path / "renamed.zip"
    renamed.write_bytes(out.getvalue())
    assert "0x7075" in str(refused(renamed))
