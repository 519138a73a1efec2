"""Encrypted bundles (age files): round trips in both modes, the wrong secret refused, every
kind of damage detected (changed bytes, truncation, extension, reordered chunks), hostile
headers refused before any costly work, atomic file helpers, memory that stays flat, and a
typed error when the extra is not installed.

age's passphrase mode costs about a second of scrypt here (rage picks the work factor that
takes a second on this machine), so few tests encrypt with a passphrase through
purposeful; the properties open passphrase files written by `_age` at work factor 2**10.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, cast

import _age
import pyrage
import pytest
from _bundles import build_bundle
from hypothesis import example, given, settings
from hypothesis import strategies as st

from purposeful.access import encryption, recipients
from purposeful.access.encryption import (
    MAGIC,
    MAX_SCRYPT_WORK_FACTOR,
    decrypt_file,
    decrypt_stream,
    encrypt_file,
    encrypt_stream,
    is_encrypted,
)
from purposeful.errors import (
    BundleDecryptionError,
    BundleError,
    ConfigurationError,
    SubjectAccessError,
)

CHUNK = 64 * 1024
SEALED_CHUNK = CHUNK + 16  # one full chunk of ciphertext: plaintext and tag
PASSPHRASE = "correct horse battery staple"
IDENTITY = pyrage.x25519.Identity.generate()
RECIPIENT = IDENTITY.to_public()
MODES = ["passphrase", "recipient"]


def sample(size: int) -> bytes:
    """*size* bytes that differ from chunk to chunk."""
    return hashlib.shake_256(b"bundle").digest(size) if size else b""


def encrypt(data: bytes, mode: str = "recipient") -> bytes:
    """*data* as an age file: to the recipient through purposeful, or to the passphrase
    at a cheap work factor (`_age`)."""
    if mode == "passphrase":
        return _age.passphrase_file(data, PASSPHRASE)
    target = io.BytesIO()
    encrypt_stream(io.BytesIO(data), target, recipient=RECIPIENT)
    return target.getvalue()


LARGE = sample(2 * CHUNK + 10)
LARGE_BLOB = encrypt(LARGE)
LARGE_PASSPHRASE_BLOB = encrypt(LARGE, "passphrase")
AGE_PUBLIC_KEY = str(RECIPIENT)


def from_secret(mode: str) -> dict[str, Any]:
    return {"passphrase": PASSPHRASE} if mode == "passphrase" else {"private_key": IDENTITY}


def decrypt(blob: bytes, mode: str = "recipient", **secret: Any) -> bytes:
    target = io.BytesIO()
    decrypt_stream(io.BytesIO(blob), target, **(secret or from_secret(mode)))
    return target.getvalue()


def header_length(blob: bytes) -> int:
    mac = blob.index(b"\n---")
    return blob.index(b"\n", mac + 1) + 1


def chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    """The header and payload nonce, and the sealed chunks."""
    start = header_length(blob) + 16
    body = blob[start:]
    return blob[:start], [body[i : i + SEALED_CHUNK] for i in range(0, len(body), SEALED_CHUNK)]


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@given(data=st.binary(max_size=3000))
@settings(max_examples=40)
def test_any_bundle_comes_back_unchanged(mode: str, data: bytes) -> None:
    blob = encrypt(data, mode)
    assert is_encrypted(blob)
    assert decrypt(blob, mode) == data


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 7])
def test_bundles_across_chunk_boundaries_come_back_unchanged(size: int) -> None:
    data = sample(size)
    assert decrypt(encrypt(data)) == data
    assert decrypt(encrypt(data, "passphrase"), "passphrase") == data


def test_a_passphrase_bundle_comes_back_unchanged_and_age_bounds_its_cost() -> None:
    data = sample(CHUNK + 5)
    target = io.BytesIO()
    encrypt_stream(io.BytesIO(data), target, passphrase=PASSPHRASE)
    blob = target.getvalue()
    stanza = blob.split(b"\n")[1].split(b" ")
    assert stanza[:2] == [b"->", b"scrypt"]
    assert 10 <= int(stanza[3]) <= MAX_SCRYPT_WORK_FACTOR
    assert decrypt(blob, passphrase=PASSPHRASE.encode()) == data  # bytes: the same UTF-8


class Trickle(io.RawIOBase):
    """A source that returns at most 7 bytes a read."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(min(len(buffer), 7))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("mode", MODES)
def test_short_reads_are_read_on_until_the_end(mode: str) -> None:
    data = sample(CHUNK + 100)
    blob = encrypt(data, mode)
    target = io.BytesIO()
    decrypt_stream(cast(BinaryIO, Trickle(blob)), target, **from_secret(mode))
    assert target.getvalue() == data
    if mode == "recipient":
        again = io.BytesIO()
        encrypt_stream(cast(BinaryIO, Trickle(data)), again, recipient=RECIPIENT)
        assert decrypt(again.getvalue()) == data


def test_the_same_bundle_encrypts_differently_each_time() -> None:
    assert encrypt(b"bundle") != encrypt(b"bundle")


def test_is_encrypted_needs_the_whole_magic() -> None:
    assert MAGIC == b"age-encryption.org/v1\n"
    assert is_encrypted(encrypt(b"x"))
    assert not is_encrypted(MAGIC[:-1])
    assert not is_encrypted(b"PK\x03\x04")


# --- secrets -------------------------------------------------------------------------------


def test_a_wrong_passphrase_is_refused() -> None:
    with pytest.raises(BundleDecryptionError, match="wrong passphrase"):
        decrypt(encrypt(b"bundle", "passphrase"), passphrase=PASSPHRASE + "!")


def test_a_wrong_private_key_is_refused() -> None:
    with pytest.raises(BundleDecryptionError, match="wrong key"):
        decrypt(encrypt(b"bundle"), private_key=pyrage.x25519.Identity.generate())


def test_a_passphrase_for_a_recipient_bundle_asks_for_the_private_key() -> None:
    with pytest.raises(BundleDecryptionError, match=r"recipient's age key.*private_key="):
        decrypt(encrypt(b"bundle"), passphrase=PASSPHRASE)


def test_a_private_key_for_a_passphrase_bundle_asks_for_the_passphrase() -> None:
    with pytest.raises(BundleDecryptionError, match=r"with a passphrase.*passphrase="):
        decrypt(encrypt(b"bundle", "passphrase"), private_key=IDENTITY)


@pytest.mark.parametrize(("mode", "needed"), [("passphrase", "passphrase="), ("recipient", "key")])
def test_no_secret_says_which_one_the_bundle_needs(mode: str, needed: str) -> None:
    with pytest.raises(BundleDecryptionError, match=f"none was given.*{needed}"):
        decrypt_stream(io.BytesIO(encrypt(b"bundle", mode)), io.BytesIO())


def test_a_bundle_encrypted_to_another_kind_of_key_is_named() -> None:
    blob = _age.header_asking(0, stanza_type=b"ssh-ed25519")
    with pytest.raises(BundleDecryptionError, match="kind of key purposeful does not open"):
        decrypt(blob)


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ({}, "exactly one"),
        ({"passphrase": "x", "recipient": RECIPIENT}, "exactly one"),
        ({"passphrase": ""}, "empty"),
        ({"passphrase": 42}, "str or bytes"),
        ({"passphrase": b"\xff\xfe"}, "UTF-8"),
        ({"passphrase": "\ud800"}, "UTF-8"),
        ({"passphrase": AGE_PUBLIC_KEY}, "is an age key"),
        ({"passphrase": str(IDENTITY)}, "is an age key"),
        ({"recipient": IDENTITY}, r"to_public\(\)"),
        ({"recipient": AGE_PUBLIC_KEY}, "not str"),
    ],
)
def test_encrypting_needs_exactly_one_usable_secret(secret: dict[str, Any], problem: str) -> None:
    target = io.BytesIO()
    with pytest.raises(ConfigurationError, match=problem) as caught:
        encrypt_stream(io.BytesIO(b"bundle"), target, **secret)
    assert target.getvalue() == b""
    assert str(IDENTITY) not in str(caught.value)


def test_a_key_from_cryptography_is_not_an_age_key() -> None:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    with pytest.raises(ConfigurationError, match=r"X25519PublicKey \(a cryptography key\)"):
        encrypt_stream(
            io.BytesIO(b"x"),
            io.BytesIO(),
            recipient=X25519PrivateKey.generate().public_key(),  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ({"passphrase": "x", "private_key": IDENTITY}, "not both"),
        ({"passphrase": ""}, "empty"),
        ({"private_key": RECIPIENT}, "must be an age identity"),
    ],
)
def test_decrypting_refuses_unusable_secrets(secret: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        decrypt(encrypt(b"bundle"), **secret)


# --- damage --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
@settings(max_examples=300)
def test_any_changed_byte_is_detected(mode: str, data: st.DataObject) -> None:
    plaintext = data.draw(st.binary(max_size=200), label="plaintext")
    blob = encrypt(plaintext, mode)
    # rage adds a "grease" stanza of random length: the length differs from file to file
    index = data.draw(st.integers(0, 1000), label="index") % len(blob)
    mask = data.draw(st.integers(1, 255), label="mask")
    damaged = bytearray(blob)
    damaged[index] ^= mask
    with pytest.raises(BundleDecryptionError):
        decrypt(bytes(damaged), mode)


@pytest.mark.parametrize("mode", MODES)
def test_every_flipped_bit_of_a_small_bundle_is_detected(mode: str) -> None:
    blob = encrypt(b"kia ora", mode)
    for index in range(len(blob)):
        for bit in range(8):
            damaged = bytearray(blob)
            damaged[index] ^= 1 << bit
            with pytest.raises(BundleDecryptionError):
                decrypt(bytes(damaged), mode)


@given(index=st.integers(0, 3 * SEALED_CHUNK), mask=st.integers(1, 255))
@settings(max_examples=30)
def test_a_changed_byte_anywhere_in_a_large_bundle_is_detected(index: int, mask: int) -> None:
    blob = bytearray(LARGE_BLOB)
    blob[index % len(blob)] ^= mask
    with pytest.raises(BundleDecryptionError):
        decrypt(bytes(blob))


def test_damage_after_the_first_chunk_says_damaged_not_wrong_key() -> None:
    header, sealed = chunks(LARGE_BLOB)
    damaged = bytearray(sealed[1])
    damaged[3] ^= 1
    target = io.BytesIO()
    with pytest.raises(BundleDecryptionError, match="damaged or cut short") as caught:
        decrypt_stream(
            io.BytesIO(header + sealed[0] + bytes(damaged) + sealed[2]),
            target,
            private_key=IDENTITY,
        )
    assert "wrong" not in str(caught.value)
    assert target.getvalue() == LARGE[:CHUNK]  # written, and to be discarded by the caller


@pytest.mark.parametrize("mode", MODES)
@given(cut=st.integers(0, 2 * CHUNK + 400))
@example(cut=0)
@settings(max_examples=80)
def test_a_bundle_cut_short_anywhere_is_detected(mode: str, cut: int) -> None:
    blob = LARGE_BLOB if mode == "recipient" else LARGE_PASSPHRASE_BLOB
    with pytest.raises(BundleDecryptionError):
        decrypt(blob[: cut % len(blob)], mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_bundle_cut_at_a_chunk_boundary_is_detected(mode: str) -> None:
    blob = LARGE_BLOB if mode == "recipient" else LARGE_PASSPHRASE_BLOB
    header, sealed = chunks(blob)
    for kept in range(len(sealed)):
        with pytest.raises(BundleDecryptionError):
            decrypt(header + b"".join(sealed[:kept]), mode)


@pytest.mark.parametrize("mode", MODES)
@given(extra=st.binary(min_size=1, max_size=100))
@settings(max_examples=30)
def test_bytes_appended_after_the_final_chunk_are_detected(mode: str, extra: bytes) -> None:
    blob = encrypt(sample(CHUNK + 3), mode)
    with pytest.raises(BundleDecryptionError):
        decrypt(blob + extra, mode)


@pytest.mark.parametrize(
    "reorder",
    [
        lambda s: [s[1], s[0], s[2]],
        lambda s: [s[0], s[2]],
        lambda s: [s[0], s[0], s[1], s[2]],
        lambda s: [s[0], s[1], s[1], s[2]],
        lambda s: [s[0], s[1]],
    ],
    ids=["swapped", "dropped", "first repeated", "middle repeated", "final dropped"],
)
def test_chunks_swapped_dropped_or_repeated_are_detected(
    reorder: Callable[[list[bytes]], list[bytes]],
) -> None:
    header, sealed = chunks(LARGE_BLOB)
    with pytest.raises(BundleDecryptionError):
        decrypt(header + b"".join(reorder(sealed)))


def test_chunks_of_another_bundle_are_detected() -> None:
    header, sealed = chunks(LARGE_BLOB)
    _, other = chunks(encrypt(LARGE))
    with pytest.raises(BundleDecryptionError):
        decrypt(header + sealed[0] + other[1] + sealed[2])


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty"),
        (b"PK\x03\x04" + bytes(100), "not an encrypted bundle"),
        (MAGIC[:10], "cut short"),
        (MAGIC + b"-> X25519 abc\n", "cut short"),
        (b"age-encryption.org/v2\n-> X25519 a\nb\n--- c\n", "not an encrypted bundle"),
        (b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n", "ASCII-armored"),
        (b"PURPOSEFUL-ENCRYPTED-BUNDLE\n\x01\x01", "not an encrypted bundle"),
    ],
)
def test_inputs_that_are_not_encrypted_bundles_are_named_so(data: bytes, problem: str) -> None:
    with pytest.raises(BundleDecryptionError, match=problem):
        decrypt(data)


class Counting(io.BytesIO):
    """A source that counts the bytes read from it."""

    taken = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.taken += len(data)
        return data


def test_a_header_that_never_ends_is_refused_after_64_kib() -> None:
    source = Counting(MAGIC + b"-> X25519 " + b"A" * (8 << 20))
    with pytest.raises(BundleDecryptionError, match="longer than 64 KiB"):
        decrypt_stream(source, io.BytesIO(), private_key=IDENTITY)
    assert source.taken < 80 << 10


@pytest.mark.parametrize("work_factor", [MAX_SCRYPT_WORK_FACTOR + 1, 22, 40, 63, 999])
def test_costly_scrypt_work_factors_are_refused_before_scrypt_runs(
    work_factor: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object) -> bytes:
        raise AssertionError("scrypt must not run")

    monkeypatch.setattr(pyrage.passphrase, "decrypt", never)
    started = time.perf_counter()
    with pytest.raises(BundleDecryptionError, match="too costly"):
        decrypt(_age.header_asking(work_factor), passphrase=PASSPHRASE)
    assert time.perf_counter() - started < 1


def test_a_work_factor_above_the_bound_is_refused_though_age_would_run_it() -> None:
    # rage accepts up to four more than the work factor it targets on this machine (2**22 or
    # more here: 4 GiB); purposeful stops at 2**20. Without the check this would run.
    blob = _age.passphrase_file(b"bundle", PASSPHRASE)
    costly = blob.replace(b" 10\n", f" {MAX_SCRYPT_WORK_FACTOR + 1}\n".encode(), 1)
    started = time.perf_counter()
    with pytest.raises(BundleDecryptionError, match=r"2\*\*21, more than the 2\*\*20"):
        decrypt(costly, "passphrase")
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("work_factor", [b"0", b"01", b"-1", b"1x", b"", b"10 extra"])
def test_malformed_scrypt_work_factors_are_refused(work_factor: bytes) -> None:
    with pytest.raises(BundleDecryptionError, match="malformed"):
        decrypt(_age.header_asking(work_factor), passphrase=PASSPHRASE)


def test_errors_hold_no_secret_or_plaintext_and_chain_nothing(tmp_path: Path) -> None:
    plaintext = b"Aroha Ngata, born 1987-03-02"
    blob = encrypt(plaintext, "passphrase")
    recipient_blob = encrypt(plaintext)
    damaged = recipient_blob[:-3] + bytes(3)
    source = tmp_path / "bundle.zip.age"
    source.write_bytes(damaged)
    attempts: list[Callable[[], object]] = [
        lambda: decrypt(blob, passphrase=PASSPHRASE + "!"),
        lambda: decrypt(blob[:-3] + bytes(3), passphrase=PASSPHRASE),
        lambda: decrypt(blob, private_key=IDENTITY),
        lambda: decrypt(damaged, private_key=IDENTITY),
        lambda: decrypt(recipient_blob, private_key=pyrage.x25519.Identity.generate()),
        lambda: decrypt_file(source, tmp_path / "out.zip", private_key=IDENTITY),
    ]
    for attempt in attempts:
        with pytest.raises(BundleDecryptionError) as caught:
            attempt()
        error = caught.value
        text = f"{error} {error.args!r}"
        for secret in (PASSPHRASE, "Aroha", str(IDENTITY), "age-encryption.org/v1\n"):
            assert secret not in text
        assert error.__cause__ is None
        assert error.__context__ is None


# --- the caller's streams ------------------------------------------------------------------


class Failing(io.RawIOBase):
    """A stream that fails with ENOSPC (writing) or EIO (reading) after *after* bytes."""

    def __init__(self, after: int, data: bytes = b"") -> None:
        self._left = after
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        chunk = self._data.read(min(len(buffer), self._left))
        self._left -= len(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def write(self, data: Any) -> int:
        if self._left <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._left -= len(data)
        return len(data)


@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
@pytest.mark.parametrize("side", ["source", "target"])
def test_a_failing_stream_raises_its_own_error(direction: str, side: str) -> None:
    data = LARGE if direction == "encrypt" else LARGE_BLOB
    source: Any = Failing(CHUNK, data) if side == "source" else io.BytesIO(data)
    target: Any = Failing(CHUNK) if side == "target" else io.BytesIO()
    expected = "Input/output error" if side == "source" else "No space left on device"
    run: Any = encrypt_stream if direction == "encrypt" else decrypt_stream
    secret = {"recipient": RECIPIENT} if direction == "encrypt" else {"private_key": IDENTITY}
    with pytest.raises(OSError, match=expected) as caught:
        run(source, target, **secret)
    assert not isinstance(caught.value, BundleError)


# --- files ---------------------------------------------------------------------------------


def only_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_files_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "bundle.zip"
    source.write_bytes(sample(CHUNK + 10))
    encrypted = encrypt_file(source, str(tmp_path / "bundle.zip.age"), recipient=RECIPIENT)
    assert encrypted == tmp_path / "bundle.zip.age"
    assert is_encrypted(encrypted.read_bytes())
    opened = decrypt_file(encrypted, tmp_path / "opened.zip", private_key=IDENTITY)
    assert opened.read_bytes() == source.read_bytes()
    assert only_files(tmp_path) == ["bundle.zip", "bundle.zip.age", "opened.zip"]
    if os.name == "posix":
        assert stat.S_IMODE(opened.stat().st_mode) == 0o600


@pytest.fixture
def encrypted_bundle(tmp_path: Path) -> Path:
    """A three-chunk bundle encrypted to the recipient, alone in its directory."""
    source = tmp_path / "bundle.zip.age"
    source.write_bytes(LARGE_BLOB)
    return source


def test_a_wrong_key_leaves_no_file_behind(encrypted_bundle: Path) -> None:
    folder = encrypted_bundle.parent
    wrong = pyrage.x25519.Identity.generate()
    with pytest.raises(BundleDecryptionError, match="wrong key") as caught:
        decrypt_file(encrypted_bundle, folder / "opened.zip", private_key=wrong)
    assert str(caught.value).startswith(f"{encrypted_bundle}: ")
    assert only_files(folder) == ["bundle.zip.age"]


def test_damage_found_after_writing_some_plaintext_leaves_no_file_behind(
    encrypted_bundle: Path,
) -> None:
    folder = encrypted_bundle.parent
    encrypted_bundle.write_bytes(LARGE_BLOB[:-20])  # the first two chunks still authenticate
    with pytest.raises(BundleDecryptionError, match="cut short"):
        decrypt_file(encrypted_bundle, folder / "opened.zip", private_key=IDENTITY)
    assert only_files(folder) == ["bundle.zip.age"]


def test_a_failed_write_leaves_no_file_behind(
    encrypted_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    folder = encrypted_bundle.parent
    with pytest.raises(BundleError, match="No space left on device"):
        decrypt_file(encrypted_bundle, folder / "opened.zip", private_key=IDENTITY)
    with pytest.raises(BundleError, match="nothing was written"):
        encrypt_file(encrypted_bundle, folder / "again.age", recipient=RECIPIENT)
    assert only_files(folder) == ["bundle.zip.age"]


@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
def test_an_existing_target_is_kept_unless_overwrite_is_given(
    encrypted_bundle: Path, direction: str
) -> None:
    folder = encrypted_bundle.parent
    target = folder / "target"
    target.write_bytes(b"keep me")
    secret: dict[str, Any] = (
        {"recipient": RECIPIENT} if direction == "encrypt" else {"private_key": IDENTITY}
    )
    run: Any = encrypt_file if direction == "encrypt" else decrypt_file
    with pytest.raises(BundleError, match="already exists; pass overwrite=True") as caught:
        run(encrypted_bundle, target, **secret)
    assert not isinstance(caught.value, BundleDecryptionError)
    assert target.read_bytes() == b"keep me"
    assert only_files(folder) == ["bundle.zip.age", "target"]
    run(encrypted_bundle, target, overwrite=True, **secret)
    assert target.read_bytes() != b"keep me"
    assert only_files(folder) == ["bundle.zip.age", "target"]


@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
def test_a_missing_source_is_named(tmp_path: Path, direction: str) -> None:
    run = encrypt_file if direction == "encrypt" else decrypt_file
    missing = tmp_path / "nowhere.zip"
    with pytest.raises(BundleError, match=f"{missing} does not exist"):
        run(missing, tmp_path / "out", passphrase=PASSPHRASE)
    assert only_files(tmp_path) == []


def test_a_missing_target_directory_is_named(encrypted_bundle: Path) -> None:
    target = encrypted_bundle.parent / "absent" / "opened.zip"
    with pytest.raises(BundleError, match=r"directory .*absent does not exist"):
        decrypt_file(encrypted_bundle, target, private_key=IDENTITY)


def test_a_missing_secret_is_refused_before_touching_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        encrypt_file(tmp_path / "nowhere.zip", tmp_path / "out")
    assert only_files(tmp_path) == []


# --- what a passphrase bundle may cost -----------------------------------------------------


def test_a_bundle_too_large_for_a_passphrase_is_refused_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encryption, "PASSPHRASE_BUNDLE_LIMIT", CHUNK)
    source = tmp_path / "bundle.zip"
    source.write_bytes(sample(CHUNK + 1))
    with pytest.raises(BundleError, match=r"larger than the 65,536 bytes .*recipient's age key"):
        encrypt_file(source, tmp_path / "bundle.zip.age", passphrase=PASSPHRASE)
    assert only_files(tmp_path) == ["bundle.zip"]
    encrypt_file(source, tmp_path / "bundle.zip.age", recipient=RECIPIENT)  # streams


def test_a_passphrase_file_larger_than_any_purposeful_makes_is_not_read_into_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blob = encrypt(sample(200_000), "passphrase")
    monkeypatch.setattr(encryption, "PASSPHRASE_BUNDLE_LIMIT", 0)
    monkeypatch.setattr(encryption, "_MAX_HEADER_BYTES", 1024)
    source = Counting(blob)
    with pytest.raises(BundleDecryptionError, match="larger than any bundle"):
        decrypt_stream(source, io.BytesIO(), passphrase=PASSPHRASE)
    assert source.taken <= 4096 + 1024 + 16 + 17  # a header read, then the limit and one byte


def test_a_passphrase_file_age_makes_too_costly_to_open_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encryption, "MAX_SCRYPT_WORK_FACTOR", 9)  # below what age picks
    source = tmp_path / "bundle.zip"
    source.write_bytes(b"bundle")
    with pytest.raises(BundleError, match="scrypt work factor above the 2\\*\\*9"):
        encrypt_file(source, tmp_path / "bundle.zip.age", passphrase=PASSPHRASE)
    assert only_files(tmp_path) == ["bundle.zip"]


# --- SubjectAccess.build(encrypt_to=...) --------------------------------------------------


@pytest.mark.parametrize(
    ("encrypt_to", "problem"),
    [
        (42, "takes a passphrase or a recipient's age public key, not int"),
        (AGE_PUBLIC_KEY, "is an age key, not a passphrase"),
        (IDENTITY, "not Identity"),
        ("", "empty"),
    ],
    ids=["int", "age public key as a passphrase", "identity", "empty"],
)
def test_build_refuses_what_it_cannot_encrypt_to_before_reading_records(
    tmp_path: Path, encrypt_to: object, problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        build_bundle(tmp_path / "bundle.zip.age", encrypt_to=encrypt_to)
    assert only_files(tmp_path) == []


def test_build_refuses_a_bundle_too_large_for_a_passphrase_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encryption, "PASSPHRASE_BUNDLE_LIMIT", 1000)
    with pytest.raises(SubjectAccessError, match=r"larger than the 1,000 bytes .*age key"):
        build_bundle(tmp_path / "bundle.zip.age", encrypt_to=PASSPHRASE)
    assert only_files(tmp_path) == []
    assert build_bundle(tmp_path / "bundle.zip.age", encrypt_to=RECIPIENT).encrypted


# --- memory, and the extra -----------------------------------------------------------------

MEMORY_SCRIPT = """
import hashlib, io, resource, sys
import pyrage
from purposeful.access.encryption import decrypt_stream, encrypt_stream

SIZE, BLOCK = 64 << 20, 64 << 10

PATTERN = hashlib.shake_256(b"pattern").digest(1 << 20) * 2

class Generated(io.RawIOBase):  # SIZE bytes made as they are read, each set by its position
    def __init__(self):
        self.done = 0
    def readable(self):
        return True
    def readinto(self, buffer):
        size = min(len(buffer), SIZE - self.done, BLOCK)
        start = self.done % (1 << 20)
        buffer[:size] = PATTERN[start : start + size]
        self.done += size
        return size

class Digest(io.RawIOBase):
    def __init__(self):
        self.hash, self.size = hashlib.sha256(), 0
    def writable(self):
        return True
    def write(self, data):
        self.hash.update(data)
        self.size += len(data)
        return len(data)

identity = pyrage.x25519.Identity.generate()
expected = Digest()
source = Generated()
while block := source.read(BLOCK):
    expected.write(block)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
path = sys.argv[1]
with open(path, "wb") as target:
    encrypt_stream(Generated(), target, recipient=identity.to_public())
plain = Digest()
with open(path, "rb") as encrypted:
    decrypt_stream(encrypted, plain, private_key=identity)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
assert plain.hash.digest() == expected.hash.digest() and plain.size == SIZE
print(grown)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB is Linux's")
def test_memory_stays_flat_for_a_large_bundle_to_a_recipient(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path / "large.age")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    grown_kib = int(done.stdout)
    assert grown_kib < 16 << 10  # 64 MiB through both ways; the process grew < 16 MiB


def test_without_pyrage_encryption_raises_missing_extra_and_plain_bundles_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from purposeful.errors import MissingExtra

    monkeypatch.setitem(sys.modules, "pyrage", None)  # import pyrage now fails
    calls: list[Callable[[], object]] = [
        lambda: encrypt_stream(io.BytesIO(b"x"), io.BytesIO(), passphrase=PASSPHRASE),
        lambda: decrypt_stream(io.BytesIO(LARGE_BLOB), io.BytesIO(), passphrase=PASSPHRASE),
        lambda: encrypt_file(tmp_path / "a", tmp_path / "b", passphrase=PASSPHRASE),
        lambda: decrypt_file(tmp_path / "a", tmp_path / "b", passphrase=PASSPHRASE),
        lambda: recipients.generate_recipient_keys(tmp_path / "keys"),
        lambda: recipients.load_recipient_public_key(tmp_path / "k"),
        lambda: recipients.load_recipient_private_key(tmp_path / "k"),
    ]
    for call in calls:
        with pytest.raises(MissingExtra, match=r"pip install 'purposeful\[age\]'") as caught:
            call()
        assert isinstance(caught.value, ImportError)
        assert caught.value.extra == "age"
        assert caught.value.__context__ is None
    assert only_files(tmp_path) == []
    assert not is_encrypted(b"PK\x03\x04")  # what plain bundles need still works


def test_importing_purposeful_and_its_access_package_loads_no_pyrage() -> None:
    script = (
        "import sys, purposeful, purposeful.access, purposeful.access.verify\n"
        "print('pyrage' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"
