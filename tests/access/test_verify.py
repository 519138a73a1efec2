"""Verifying a subject-access bundle: a bundle as built verifies; any change to any member,
the signature, the key, the member list or the file itself fails with the member named;
crafted zips (unsafe names, repeated names, decompression bombs) are refused without being
read or extracted; encrypted bundles verify with their secret and only with it.

The attacker here works from the documented format alone (a zip of members, a JSON
manifest of SHA-256 hashes and sizes, an Ed25519 signature over its bytes) and the zip
format (PKWARE APPNOTE), never from the module's private helpers.
"""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import threading
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from _bundles import (
    AGENCY,
    CREATED,
    OTHER_SIGNING_KEY,
    PSEUDONYM_KEY,
    PUBLIC_KEY,
    REQUEST,
    SIGNING_KEY,
    SUBJECT,
    build_bundle,
    entry_of,
    members,
    resigned,
    signed,
    write_zip,
)
from cryptography.hazmat.primitives import serialization
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyrage.x25519 import Identity

from purposeful.access import (
    VerifiedBundle,
    decrypt_file,
    generate_recipient_keys,
    load_recipient_private_key,
    load_recipient_public_key,
    verify_bundle,
)
from purposeful.access.bundle import dumps, signature_document
from purposeful.access.encryption import MAGIC, decrypt_stream
from purposeful.access.verify import encrypted_bundle
from purposeful.audit import signing_key_id
from purposeful.cli import main
from purposeful.errors import BundleDecryptionError, BundleError, BundleInvalid

PASSPHRASE = "kōwhai blooms in spring"
BOMB = 50 << 20  # 50 MiB of zeros: about 50 KiB deflated
MiB = 1 << 20
# Offsets in a central directory file header (APPNOTE 4.3.12) and its fixed size.
CENTRAL_HEADER = 46
VERSION_NEEDED, FLAGS, METHOD, UNCOMPRESSED_SIZE = 6, 8, 10, 24
LOCAL_UNCOMPRESSED_SIZE = 22  # in a local file header (APPNOTE 4.3.7)


IDENTITY = Identity.generate()  # a recipient's age key pair


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standard bundle (read-only: tests write their changed copies elsewhere)."""
    return build_bundle(tmp_path_factory.mktemp("bundle") / "bundle.zip").path


@pytest.fixture(scope="module")
def original(bundle: Path) -> dict[str, bytes]:
    return members(bundle)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory hypothesis examples write their changed bundle into."""
    return tmp_path_factory.mktemp("scratch")


def invalid(path: Path) -> BundleInvalid:
    """The `BundleInvalid` verifying *path* raises."""
    with pytest.raises(BundleInvalid) as caught:
        verify_bundle(path, PUBLIC_KEY)
    return caught.value


def central_directory(blob: bytes) -> tuple[int, dict[str, int]]:
    """The central directory's offset, and each member's file header offset in it, read
    from the end of central directory record (no comment, no zip64: as bundles are)."""
    (signature, _, _, _, count, _, start, _) = struct.unpack("<4s4H2LH", blob[-22:])
    assert signature == b"PK\x05\x06"
    headers, offset = {}, start
    for _ in range(count):
        assert blob[offset : offset + 4] == b"PK\x01\x02"
        name_length, extra_length, comment_length = struct.unpack(
            "<3H", blob[offset + 28 : offset + 34]
        )
        name = blob[offset + CENTRAL_HEADER : offset + CENTRAL_HEADER + name_length].decode()
        headers[name] = offset
        offset += CENTRAL_HEADER + name_length + extra_length + comment_length
    return start, headers


def flipped(blob: bytes, position: int, mask: int) -> bytes:
    changed = bytearray(blob)
    changed[position] ^= mask
    return bytes(changed)


# --- a bundle as built -----------------------------------------------------------------------


def test_a_bundle_as_built_verifies_and_says_what_its_manifest_says(
    tmp_path: Path, bundle: Path, original: dict[str, bytes]
) -> None:
    info = build_bundle(tmp_path / "again.zip")
    verified = verify_bundle(bundle, PUBLIC_KEY)
    assert verified == VerifiedBundle(
        agency=AGENCY.name,
        request_id=REQUEST.request_id,
        subject=PSEUDONYM_KEY.pseudonym(SUBJECT),
        created=CREATED,
        key_id=signing_key_id(SIGNING_KEY),
        records={"CaseNote": 3, "Profile": 1},
        files=tuple(sorted(info.files, key=lambda entry: entry.name)),
        encrypted=False,
    )
    assert {entry.name for entry in verified.files} == set(original) - {
        "manifest.json",
        "manifest.sig",
    }
    assert SUBJECT not in repr(verified)


def test_the_public_key_can_be_given_as_its_pem_file(tmp_path: Path, bundle: Path) -> None:
    pem = tmp_path / "agency.pub.pem"
    pem.write_bytes(
        PUBLIC_KEY.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert verify_bundle(bundle, pem).key_id == signing_key_id(SIGNING_KEY)
    assert verify_bundle(str(bundle), str(pem)).request_id == REQUEST.request_id


def test_a_bundle_rezipped_with_the_same_contents_still_verifies(
    tmp_path: Path, original: dict[str, bytes]
) -> None:
    """Only content is signed: the zip container may be written again (the tests below
    rely on it when they change one member)."""
    rezipped = write_zip(tmp_path / "rezipped.zip", original.items())
    assert verify_bundle(rezipped, PUBLIC_KEY).records == {"CaseNote": 3, "Profile": 1}


# --- changed members -------------------------------------------------------------------------


@given(data=st.data())
@settings(max_examples=150)
def test_changing_any_byte_of_any_member_fails_naming_that_member(
    scratch: Path, original: dict[str, bytes], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(set(original) - {"manifest.sig"})), label="member")
    content = original[name]
    position = data.draw(st.integers(0, len(content) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="mask")
    changed = {**original, name: flipped(content, position, mask)}
    error = invalid(write_zip(scratch / "changed.zip", changed.items()))
    if name == "manifest.json":  # the manifest is what the signature covers
        assert error.member == "manifest.sig"
        assert "does not match manifest.json" in str(error)
    else:
        assert error.member == name
        assert str(error).startswith(f"{name}: ")
        assert "SHA-256" in str(error)


# An Ed25519 signature is 64 bytes: 88 base64 characters, the last two "==". Characters 0-84
# carry only signature bits; character 85 carries 2 bits and 4 padding bits.
SIGNATURE_BITS = 85
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@given(position=st.integers(0, SIGNATURE_BITS - 1), mask=st.integers(1, 255))
@settings(max_examples=60)
def test_changing_a_byte_of_the_signature_fails(
    scratch: Path, original: dict[str, bytes], position: int, mask: int
) -> None:
    document = json.loads(original["manifest.sig"])
    raw = bytearray(document["signature"].encode())
    raw[position] ^= mask
    document["signature"] = raw.decode("latin-1")
    changed = {**original, "manifest.sig": json.dumps(document, indent=2).encode() + b"\n"}
    error = invalid(write_zip(scratch / "signature.zip", changed.items()))
    assert error.member == "manifest.sig"


def changed_signature_file(original: dict[str, bytes], change: str) -> bytes:
    document = json.loads(original["manifest.sig"])
    if change == "key id":
        document["key_id"] = "0" * 8
    elif change == "padding bits":  # another base64 character for the same 64 bytes
        text = document["signature"]
        same = [
            c
            for c in BASE64
            if c != text[SIGNATURE_BITS]
            and base64.b64decode(text[:SIGNATURE_BITS] + c + text[SIGNATURE_BITS + 1 :])
            == base64.b64decode(text)
        ]
        document["signature"] = text[:SIGNATURE_BITS] + same[0] + text[SIGNATURE_BITS + 1 :]
    elif change == "layout":
        return json.dumps(document, separators=(",", ":")).encode()
    return json.dumps(document, indent=2).encode() + b"\n"


@pytest.mark.parametrize("change", ["key id", "padding bits", "layout"])
def test_changing_the_signature_file_in_any_way_fails(
    tmp_path: Path, original: dict[str, bytes], change: str
) -> None:
    signature = changed_signature_file(original, change)
    assert signature != original["manifest.sig"]
    changed = {**original, "manifest.sig": signature}
    assert invalid(write_zip(tmp_path / "b.zip", changed.items())).member == "manifest.sig"


def test_a_member_changed_and_its_manifest_entry_updated_fails_the_signature(
    tmp_path: Path, original: dict[str, bytes]
) -> None:
    forged = original["records.json"].replace(b"visit 1.", b"visit 9.")
    manifest = json.loads(original["manifest.json"])
    for item in manifest["files"]:
        if item["name"] == "records.json":
            item["sha256"] = entry_of("records.json", forged).sha256
    changed = {
        **original,
        "records.json": forged,
        "manifest.json": json.dumps(manifest, indent=2).encode() + b"\n",
    }
    error = invalid(write_zip(tmp_path / "b.zip", changed.items()))
    assert error.member == "manifest.sig"
    assert "the manifest was changed after signing" in str(error)


def test_a_bundle_re_signed_by_someone_else_fails_with_both_key_ids(
    tmp_path: Path, original: dict[str, bytes]
) -> None:
    contents = {k: v for k, v in original.items() if not k.startswith("manifest.")}
    contents["records.json"] = contents["records.json"].replace(b"visit 1.", b"visit 9.")
    forged = write_zip(tmp_path / "b.zip", resigned(contents, OTHER_SIGNING_KEY).items())
    error = invalid(forged)
    assert error.member == "manifest.sig"
    assert signing_key_id(OTHER_SIGNING_KEY) in str(error)
    assert signing_key_id(SIGNING_KEY) in str(error)
    assert verify_bundle(forged, OTHER_SIGNING_KEY.public_key()).key_id == signing_key_id(
        OTHER_SIGNING_KEY
    )


def test_the_wrong_public_key_fails_naming_both_keys(bundle: Path) -> None:
    with pytest.raises(BundleInvalid) as caught:
        verify_bundle(bundle, OTHER_SIGNING_KEY.public_key())
    assert caught.value.member == "manifest.sig"
    message = str(caught.value)
    assert f"signed with key {signing_key_id(SIGNING_KEY)}" in message
    assert f"not with the key given ({signing_key_id(OTHER_SIGNING_KEY)})" in message


# --- damaged files ---------------------------------------------------------------------------


CUTS: dict[str, Callable[[int], int]] = {
    "all but the last byte": lambda size: size - 1,
    "inside the end of central directory record": lambda size: size - 21,
    "just before that record": lambda size: size - 22,
    "inside the central directory": lambda size: size - 200,
    "half": lambda size: size // 2,
    "after the first member's header": lambda size: 300,
    "inside the first header": lambda size: 10,
    "one byte": lambda size: 1,
    "nothing": lambda size: 0,
}


@pytest.mark.parametrize("cut", list(CUTS))
def test_a_truncated_bundle_fails_as_cut_short(tmp_path: Path, bundle: Path, cut: str) -> None:
    blob = bundle.read_bytes()
    short = tmp_path / "short.zip"
    short.write_bytes(blob[: CUTS[cut](len(blob))])
    error = invalid(short)
    assert error.member is None
    assert "not a readable zip file" in str(error)
    assert "cut short" in str(error)


@given(position=st.integers(0, 1 << 30), mask=st.integers(1, 255))
@settings(max_examples=200)
def test_flipping_a_byte_of_the_members_in_the_file_fails_or_changes_nothing(
    scratch: Path, bundle: Path, original: dict[str, bytes], position: int, mask: int
) -> None:
    """Local headers and compressed data (everything before the central directory)."""
    blob = bundle.read_bytes()
    start, _ = central_directory(blob)
    damaged = scratch / "damaged.zip"
    damaged.write_bytes(flipped(blob, position % start, mask))
    try:
        verify_bundle(damaged, PUBLIC_KEY)
    except BundleInvalid:
        return
    assert members(damaged) == original  # only container fields that carry nothing changed


@given(back=st.integers(0, 1 << 30), mask=st.integers(1, 255))
@example(back=73, mask=0xFF)  # the version needed by manifest.sig, the last member
@example(back=71, mask=0x01)  # its "encrypted" flag
@example(back=69, mask=0xFF)  # its compression method
@settings(max_examples=200)
def test_flipping_any_byte_of_the_file_fails_or_changes_nothing(
    scratch: Path, bundle: Path, original: dict[str, bytes], back: int, mask: int
) -> None:
    """Any byte, counted from the end of the file (where the zip's directory is)."""
    blob = bundle.read_bytes()
    damaged = scratch / "damaged-anywhere.zip"
    damaged.write_bytes(flipped(blob, len(blob) - 1 - back % len(blob), mask))
    try:
        verify_bundle(damaged, PUBLIC_KEY)
    except BundleInvalid:
        return
    assert members(damaged) == original


@pytest.mark.parametrize(
    ("field", "offset", "mask"),
    [
        ("version needed to extract", VERSION_NEEDED, 0xFF),
        ("flags: encrypted", FLAGS, 0x01),
        ("flags: compressed patched data", FLAGS, 0x20),
        ("flags: strong encryption", FLAGS, 0x40),
        ("compression method", METHOD, 0x01),
    ],
)
def test_a_damaged_central_directory_header_fails_as_invalid(
    tmp_path: Path, bundle: Path, field: str, offset: int, mask: int
) -> None:
    blob = bundle.read_bytes()
    _, headers = central_directory(blob)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(flipped(blob, headers["records.json"] + offset, mask))
    invalid(damaged)


def test_a_file_that_is_not_a_zip_fails(tmp_path: Path) -> None:
    text = tmp_path / "bundle.zip"
    text.write_text("Dear Privacy Officer, here is my bundle.\n")
    assert "not a readable zip file" in str(invalid(text))


def test_a_missing_file_fails_as_unreadable(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="cannot read the bundle") as caught:
        verify_bundle(tmp_path / "missing.zip", PUBLIC_KEY)
    assert not isinstance(caught.value, BundleInvalid)


def public_pem(folder: Path) -> Path:
    pem = folder / "agency.pub.pem"
    pem.write_bytes(
        PUBLIC_KEY.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pem


def finishes(work: Callable[[], object], seconds: float = 20) -> object:
    """What *work* returns or raises, failing if it takes longer than *seconds*."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "blocked: it waited on something that never comes"
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_a_device_or_a_directory_is_refused_before_anything_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = tmp_path / "bundle.zip"
    os.mkfifo(pipe)  # opening it for reading would wait for a writer for ever
    refused = [pipe, tmp_path]
    if Path("/dev/zero").exists():
        refused.append(Path("/dev/zero"))  # reading it never ends
    for path in refused:
        error = finishes(lambda path=path: verify_bundle(path, PUBLIC_KEY))
        assert isinstance(error, BundleError)
        assert not isinstance(error, BundleInvalid)
        assert "is not a regular file" in str(error)
        error = finishes(lambda path=path: encrypted_bundle(path))
        assert isinstance(error, BundleError)
    pem = str(public_pem(tmp_path))
    assert finishes(lambda: main(["bundle", "verify", str(pipe), "--public-key", pem])) == 2
    err = capsys.readouterr().err
    assert err.startswith("purposeful: error: the bundle")
    assert "not a regular file" in err


def deep_bundle(folder: Path, manifest: bytes) -> Path:
    """A bundle whose manifest is *manifest*, signed with the agency's key."""
    signature = dumps(signature_document(manifest, SIGNING_KEY))
    return write_zip(
        folder / "deep.zip", [("manifest.json", manifest), ("manifest.sig", signature)]
    )


def test_a_signed_manifest_nested_too_deeply_is_invalid_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crafted = deep_bundle(tmp_path, b"[" * 100_000 + b"]" * 100_000)
    error = invalid(crafted)
    assert str(error).startswith("manifest.json: is signed but nested too deeply")
    pem = str(public_pem(tmp_path))
    assert main(["bundle", "verify", str(crafted), "--public-key", pem]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("FAILED: manifest.json: is signed but nested too deeply")
    assert err == ""


def test_a_signed_manifest_with_a_nested_file_entry_is_invalid(tmp_path: Path) -> None:
    nested = "[" * 900 + "]" * 900
    for field in ("name", "sha256", "size"):
        entry = {"name": "a.txt", "sha256": "0" * 64, "size": 1}
        document = json.loads(signed([]).get("manifest.json", b"{}"))
        text = json.dumps(entry).replace(json.dumps(entry[field]), nested, 1)
        document["files"] = "FILES"
        manifest = json.dumps(document).replace('"FILES"', f"[{text}]").encode()
        assert "lists its files in an unknown form" in str(invalid(deep_bundle(tmp_path, manifest)))


# --- the list of members ---------------------------------------------------------------------


def test_a_member_added_after_signing_fails_naming_it(
    tmp_path: Path, original: dict[str, bytes]
) -> None:
    added = [*original.items(), ("records/Extra.csv", b'"client_id"\r\n')]
    error = invalid(write_zip(tmp_path / "b.zip", added))
    assert error.member == "records/Extra.csv"
    assert "not listed in the signed manifest" in str(error)


@pytest.mark.parametrize("removed", ["withheld.json", "records/CaseNote.csv", "index.html"])
def test_a_member_removed_after_signing_fails_naming_it(
    tmp_path: Path, original: dict[str, bytes], removed: str
) -> None:
    kept = [(name, data) for name, data in original.items() if name != removed]
    error = invalid(write_zip(tmp_path / "b.zip", kept))
    assert error.member == removed
    assert "missing from the bundle" in str(error)


@pytest.mark.parametrize("removed", ["manifest.json", "manifest.sig"])
def test_a_bundle_without_its_manifest_or_signature_fails(
    tmp_path: Path, original: dict[str, bytes], removed: str
) -> None:
    kept = [(name, data) for name, data in original.items() if name != removed]
    error = invalid(write_zip(tmp_path / "b.zip", kept))
    assert error.member == removed
    assert "not a signed bundle" in str(error)


def test_a_member_named_twice_fails(tmp_path: Path, original: dict[str, bytes]) -> None:
    twice = [*original.items(), ("records.json", original["records.json"])]
    error = invalid(write_zip(tmp_path / "b.zip", twice))
    assert error.member == "records.json"
    assert "appears twice" in str(error)


UNSAFE_NAMES = [
    "../evil.sh",
    "records/../../evil.sh",
    "/etc/cron.d/evil",
    "C:/Windows/evil.exe",
    "records\\..\\evil.sh",
    "records//evil.csv",
    "records/",
    "evil\x07.csv",
]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_a_member_with_an_unsafe_name_is_refused_before_anything_is_read(
    tmp_path: Path,
    original: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    crafted = write_zip(tmp_path / "b.zip", [*original.items(), (name, b"#!/bin/sh\n")])

    def read(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member was read before every name was checked")

    monkeypatch.setattr(zipfile.ZipFile, "open", read)
    error = invalid(crafted)
    assert "unsafe member name" in str(error)
    assert repr(name) in str(error)


@pytest.mark.parametrize("name", ["../evil.sh", "/etc/cron.d/evil"])
def test_a_signed_manifest_listing_an_unsafe_name_is_refused(tmp_path: Path, name: str) -> None:
    """Even the agency's own key cannot make verify accept a path out of the bundle."""
    contents = {name: b"#!/bin/sh\n", "index.html": b"<!DOCTYPE html>"}
    manifest = signed([entry_of(n, d) for n, d in contents.items()])
    crafted = write_zip(tmp_path / "b.zip", [("index.html", b"<!DOCTYPE html>"), *manifest.items()])
    assert "unsafe member name" in str(invalid(crafted))


# --- decompression bombs ---------------------------------------------------------------------


def write_bomb(target: Path, original: dict[str, bytes], name: str) -> Path:
    """*original* with member *name* replaced by `BOMB` bytes of zeros (streamed in)."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in original.items():
            info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if member != name:
                archive.writestr(info, data)
                continue
            with archive.open(info, "w") as stream:
                for _ in range(BOMB // MiB):
                    stream.write(bytes(MiB))
    return target


def peak_while_failing(path: Path) -> tuple[BundleInvalid, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        error = invalid(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return error, peak


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory, original: dict[str, bytes]) -> Path:
    """records.json as 50 MiB of zeros, honestly sized in the zip; the signed manifest (the
    original, signed with the right key) says it is a few kilobytes."""
    return write_bomb(tmp_path_factory.mktemp("bomb") / "bomb.zip", original, "records.json")


def test_a_member_bigger_than_its_manifest_says_is_stopped_unread(
    bomb: Path, original: dict[str, bytes]
) -> None:
    error, peak = peak_while_failing(bomb)
    assert error.member == "records.json"
    assert f"{len(original['records.json']):,} in the signed manifest" in str(error)
    assert peak < 4 * MiB, peak


def test_a_bomb_whose_zip_headers_lie_about_its_size_is_stopped_without_reading_it_all(
    tmp_path: Path, bomb: Path, original: dict[str, bytes]
) -> None:
    """The zip's own headers claim the manifest's size; the deflated data holds 50 MiB."""
    blob = bytearray(bomb.read_bytes())
    claimed = struct.pack("<L", len(original["records.json"]))
    _, headers = central_directory(bytes(blob))
    central = headers["records.json"]
    (local,) = struct.unpack("<L", blob[central + 42 : central + 46])
    assert blob[local : local + 4] == b"PK\x03\x04"
    blob[local + LOCAL_UNCOMPRESSED_SIZE : local + LOCAL_UNCOMPRESSED_SIZE + 4] = claimed
    blob[central + UNCOMPRESSED_SIZE : central + UNCOMPRESSED_SIZE + 4] = claimed
    lying = tmp_path / "lying.zip"
    lying.write_bytes(bytes(blob))
    error, peak = peak_while_failing(lying)
    assert error.member == "records.json"
    assert peak < 4 * MiB, peak


def test_a_manifest_too_big_to_be_one_is_refused_before_it_is_read(
    tmp_path: Path, original: dict[str, bytes]
) -> None:
    error, peak = peak_while_failing(write_bomb(tmp_path / "b.zip", original, "manifest.json"))
    assert error.member == "manifest.json"
    assert "more than it can hold" in str(error)
    assert peak < 4 * MiB, peak


# --- nothing is extracted ---------------------------------------------------------------------


def test_verify_never_extracts_anything(
    tmp_path: Path, bundle: Path, original: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def extract(*args: object, **kwargs: object) -> None:
        raise AssertionError("verify extracted a member")

    monkeypatch.setattr(zipfile.ZipFile, "extract", extract)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", extract)
    crafted = write_zip(tmp_path / "crafted.zip", [*original.items(), ("../evil.sh", b"x")])
    changed = {**original, "index.html": original["index.html"] + b" "}
    tampered = write_zip(tmp_path / "tampered.zip", changed.items())
    encrypted = build_bundle(tmp_path / "encrypted.zip", encrypt_to=IDENTITY.to_public()).path
    empty = tmp_path / "cwd"
    empty.mkdir()
    monkeypatch.chdir(empty)
    verify_bundle(bundle, PUBLIC_KEY)
    verify_bundle(encrypted, PUBLIC_KEY, private_key=IDENTITY)
    for bad in (crafted, tampered):
        invalid(bad)
    assert list(empty.iterdir()) == []


# --- encrypted bundles ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standard bundle, encrypted to the passphrase (age's scrypt: about a second)."""
    info = build_bundle(
        tmp_path_factory.mktemp("encrypted") / "bundle.zip.age", encrypt_to=PASSPHRASE
    )
    assert info.encrypted is True
    return info.path


def test_a_bundle_encrypted_to_a_passphrase_verifies_with_it(encrypted: Path, bundle: Path) -> None:
    assert encrypted.read_bytes().startswith(MAGIC)
    assert not zipfile.is_zipfile(encrypted)
    verified = verify_bundle(encrypted, PUBLIC_KEY, passphrase=PASSPHRASE)
    assert verified.encrypted is True
    assert verified.records == {"CaseNote": 3, "Profile": 1}
    plain = io.BytesIO()
    with encrypted.open("rb") as source:
        decrypt_stream(source, plain, passphrase=PASSPHRASE)
    assert plain.getvalue() == bundle.read_bytes()  # the same bundle, encrypted


def test_a_bundle_encrypted_to_a_recipient_key_verifies_with_its_private_key(
    tmp_path: Path,
) -> None:
    private_file, public_file = generate_recipient_keys(tmp_path / "keys")
    target = tmp_path / "bundle.zip.age"
    info = build_bundle(target, encrypt_to=load_recipient_public_key(public_file))
    private = load_recipient_private_key(private_file)
    verified = verify_bundle(info.path, PUBLIC_KEY, private_key=private)
    assert (verified.encrypted, verified.request_id) == (True, REQUEST.request_id)
    other = Identity.generate()
    built = build_bundle(tmp_path / "other.age", encrypt_to=other.to_public())
    assert verify_bundle(built.path, PUBLIC_KEY, private_key=other).encrypted is True
    decrypted = decrypt_file(info.path, tmp_path / "decrypted.zip", private_key=private)
    assert verify_bundle(decrypted, PUBLIC_KEY).encrypted is False


def test_an_encrypted_bundle_needs_its_secret(encrypted: Path) -> None:
    with pytest.raises(BundleDecryptionError, match="is encrypted: give the passphrase"):
        verify_bundle(encrypted, PUBLIC_KEY)


@pytest.mark.parametrize(
    "secret",
    [{"passphrase": PASSPHRASE.upper()}, {"private_key": IDENTITY}],
    ids=["wrong", "a key instead"],
)
def test_an_encrypted_bundle_refuses_the_wrong_secret(
    encrypted: Path, secret: dict[str, object]
) -> None:
    with pytest.raises(BundleDecryptionError) as caught:
        verify_bundle(encrypted, PUBLIC_KEY, **secret)  # type: ignore[arg-type]
    assert PASSPHRASE not in str(caught.value)


def test_a_damaged_encrypted_bundle_fails_to_decrypt(tmp_path: Path) -> None:
    blob = build_bundle(tmp_path / "bundle.zip.age", encrypt_to=IDENTITY.to_public()).path
    damaged = tmp_path / "damaged.age"
    damaged.write_bytes(flipped(blob.read_bytes(), blob.stat().st_size // 2, 0x01))
    with pytest.raises(BundleDecryptionError, match="damaged"):
        verify_bundle(damaged, PUBLIC_KEY, private_key=IDENTITY)


# --- manifests the agency's key signed, in unexpected forms ----------------------------------


def test_a_manifest_of_another_format_version_asks_for_an_upgrade(
    tmp_path: Path, original: dict[str, bytes]
) -> None:
    contents = {k: v for k, v in original.items() if not k.startswith("manifest.")}
    entries = [entry_of(name, data) for name, data in contents.items()]
    manifest = signed(entries, format_version=2)
    error = invalid(write_zip(tmp_path / "b.zip", [*contents.items(), *manifest.items()]))
    assert error.member == "manifest.json"
    assert "upgrade purposeful" in str(error)


@pytest.mark.parametrize("missing", ["agency", "request_id"])
def test_a_signed_manifest_missing_a_field_fails_as_invalid(
    tmp_path: Path, original: dict[str, bytes], missing: str
) -> None:
    contents = {k: v for k, v in original.items() if not k.startswith("manifest.")}
    entries = [entry_of(name, data) for name, data in contents.items()]
    manifest = signed(entries, leave_out=[missing])
    assert missing.encode() not in manifest["manifest.json"]
    error = invalid(write_zip(tmp_path / "b.zip", [*contents.items(), *manifest.items()]))
    assert error.member == "manifest.json"
