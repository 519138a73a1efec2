"""Encrypted bundles: round trips in both modes, the wrong secret refused, every kind of damage
detected (flipped bytes, truncation, extension, reordering), costly scrypt headers refused,
atomic file helpers, recipient keys, and memory that stays flat however large the bundle.

Most tests run scrypt at log2 n = 10 (1 MiB, a few milliseconds); one checks that new files
use the real default.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from purposeful.access import encryption
from purposeful.access.encryption import (
    MAGIC,
    RECIPIENT_KEY_FILE,
    RECIPIENT_PUBLIC_KEY_FILE,
    decrypt_file,
    decrypt_stream,
    encrypt_file,
    encrypt_stream,
    generate_recipient_keys,
    is_encrypted,
    load_recipient_private_key,
    load_recipient_public_key,
)
from purposeful.errors import (
    BundleDecryptionError,
    BundleError,
    ConfigurationError,
    KeyFileError,
    PassphraseError,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")

SEGMENT = 64 * 1024
CHUNK = SEGMENT + 16  # one full segment of ciphertext: plaintext and tag
HEADER = {"passphrase": len(MAGIC) + 2 + 16 + 3, "recipient": len(MAGIC) + 2 + 32 + 16}
SCRYPT_PARAMETERS = len(MAGIC) + 2 + 16  # offset of log2 n, r, p in a passphrase header
PASSPHRASE = "correct horse battery staple"
RECIPIENT = X25519PrivateKey.generate()
MODES = ["passphrase", "recipient"]
# Read before the module fixture lowers it.
DEFAULT_LOG2_N = encryption._SCRYPT_LOG2_N


@pytest.fixture(autouse=True, scope="module")
def _cheap_scrypt() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(encryption, "_SCRYPT_LOG2_N", 10)
        yield


def to_secret(mode: str) -> dict[str, Any]:
    if mode == "passphrase":
        return {"passphrase": PASSPHRASE}
    return {"recipient": RECIPIENT.public_key()}


def from_secret(mode: str) -> dict[str, Any]:
    if mode == "passphrase":
        return {"passphrase": PASSPHRASE}
    return {"private_key": RECIPIENT}


def encrypt(data: bytes, mode: str = "recipient") -> bytes:
    target = io.BytesIO()
    encrypt_stream(io.BytesIO(data), target, **to_secret(mode))
    return target.getvalue()


def decrypt(blob: bytes, mode: str = "recipient", **secret: Any) -> bytes:
    target = io.BytesIO()
    decrypt_stream(io.BytesIO(blob), target, **(secret or from_secret(mode)))
    return target.getvalue()


def sample(size: int) -> bytes:
    """*size* bytes that differ from segment to segment."""
    return hashlib.shake_256(b"bundle").digest(size) if size else b""


def segments(blob: bytes, mode: str) -> tuple[bytes, list[bytes]]:
    body = blob[HEADER[mode] :]
    return blob[: HEADER[mode]], [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@given(data=st.binary(max_size=3000))
@settings(max_examples=40)
def test_any_bundle_comes_back_unchanged(mode: str, data: bytes) -> None:
    blob = encrypt(data, mode)
    assert is_encrypted(blob)
    assert decrypt(blob, mode) == data


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT, 3 * SEGMENT + 5]
)
def test_bundles_across_segment_boundaries_come_back_unchanged(mode: str, size: int) -> None:
    data = sample(size)
    blob = encrypt(data, mode)
    # A full segment is never the last: a multiple of 64 KiB ends with an empty segment.
    assert len(blob) == HEADER[mode] + size + 16 * (size // SEGMENT + 1)
    assert decrypt(blob, mode) == data


class Trickle(io.RawIOBase):
    """A source that hands out at most *step* bytes per read, as pipes and sockets do."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._step, len(self._data))
        buffer[:size] = self._data[:size]
        self._data = self._data[size:]
        return size


@pytest.mark.parametrize("mode", MODES)
def test_short_reads_are_read_on_until_the_end(mode: str) -> None:
    data = sample(2 * SEGMENT + 100)
    ciphertext = io.BytesIO()
    encrypt_stream(cast(BinaryIO, Trickle(data, 1000)), ciphertext, **to_secret(mode))
    plaintext = io.BytesIO()
    decrypt_stream(
        cast(BinaryIO, Trickle(ciphertext.getvalue(), 999)), plaintext, **from_secret(mode)
    )
    assert plaintext.getvalue() == data


@pytest.mark.parametrize("mode", MODES)
def test_the_same_bundle_encrypts_differently_each_time(mode: str) -> None:
    data = sample(100)
    first, second = encrypt(data, mode), encrypt(data, mode)
    assert first != second
    assert data not in first


def test_new_files_use_the_default_scrypt_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encryption, "_SCRYPT_LOG2_N", DEFAULT_LOG2_N)
    blob = encrypt(b"bundle", "passphrase")
    assert blob[len(MAGIC) : len(MAGIC) + 2] == bytes([1, 1])
    assert tuple(blob[SCRYPT_PARAMETERS : SCRYPT_PARAMETERS + 3]) == (15, 8, 1)
    assert decrypt(blob, "passphrase") == b"bundle"


def test_a_recipient_header_holds_the_ephemeral_key() -> None:
    blob = encrypt(b"bundle", "recipient")
    assert blob[len(MAGIC) : len(MAGIC) + 2] == bytes([1, 2])
    ephemeral = blob[len(MAGIC) + 2 : len(MAGIC) + 34]
    assert ephemeral != RECIPIENT.public_key().public_bytes_raw()


def test_is_encrypted_needs_the_whole_magic() -> None:
    assert is_encrypted(MAGIC)
    assert not is_encrypted(MAGIC[:-1])
    assert not is_encrypted(b"PK\x03\x04")
    assert not is_encrypted(b"")


# --- the wrong secret ----------------------------------------------------------------------


def test_a_wrong_passphrase_is_refused() -> None:
    blob = encrypt(b"bundle", "passphrase")
    target = io.BytesIO()
    with pytest.raises(BundleDecryptionError, match="wrong passphrase or key"):
        decrypt_stream(io.BytesIO(blob), target, passphrase="Correct horse battery staple")
    assert target.getvalue() == b""


def test_a_wrong_private_key_is_refused() -> None:
    blob = encrypt(b"bundle", "recipient")
    with pytest.raises(BundleDecryptionError, match="wrong passphrase or key"):
        decrypt(blob, private_key=X25519PrivateKey.generate())


def test_a_passphrase_as_bytes_opens_what_the_str_encrypted() -> None:
    blob = encrypt(b"bundle", "passphrase")
    assert decrypt(blob, passphrase=PASSPHRASE.encode()) == b"bundle"


def test_a_passphrase_for_a_recipient_bundle_asks_for_the_private_key() -> None:
    blob = encrypt(b"bundle", "recipient")
    with pytest.raises(BundleDecryptionError, match=r"a passphrase was given.*private_key="):
        decrypt(blob, passphrase=PASSPHRASE)


def test_a_private_key_for_a_passphrase_bundle_asks_for_the_passphrase() -> None:
    blob = encrypt(b"bundle", "passphrase")
    with pytest.raises(BundleDecryptionError, match=r"a private key was given.*passphrase="):
        decrypt(blob, private_key=RECIPIENT)


@pytest.mark.parametrize(
    ("mode", "needed"), [("passphrase", "passphrase="), ("recipient", "private_key=")]
)
def test_no_secret_says_which_one_the_bundle_needs(mode: str, needed: str) -> None:
    blob = encrypt(b"bundle", mode)
    target = io.BytesIO()
    with pytest.raises(BundleDecryptionError, match=f"none was given.*{needed}"):
        decrypt_stream(io.BytesIO(blob), target)
    assert target.getvalue() == b""


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ({}, "exactly one"),
        ({"passphrase": PASSPHRASE, "recipient": RECIPIENT.public_key()}, "exactly one"),
        ({"passphrase": ""}, "empty"),
        ({"passphrase": b""}, "empty"),
        ({"passphrase": 1234}, "str or bytes, not int"),
        ({"recipient": RECIPIENT}, r"private_key\.public_key\(\)"),
        ({"recipient": Ed25519PrivateKey.generate().public_key()}, "Ed25519"),
    ],
)
def test_encrypting_needs_exactly_one_usable_secret(secret: dict[str, Any], problem: str) -> None:
    target = io.BytesIO()
    with pytest.raises(ConfigurationError, match=problem):
        encrypt_stream(io.BytesIO(b"bundle"), target, **secret)
    assert target.getvalue() == b""


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ({"passphrase": PASSPHRASE, "private_key": RECIPIENT}, "not both"),
        ({"passphrase": ""}, "empty"),
        ({"private_key": RECIPIENT.public_key()}, "X25519 private key"),
        ({"private_key": Ed25519PrivateKey.generate()}, "Ed25519"),
    ],
)
def test_decrypting_refuses_unusable_secrets(secret: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        decrypt(encrypt(b"bundle"), **secret)


# --- damage --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_every_flipped_bit_of_a_small_bundle_is_detected(mode: str) -> None:
    blob = encrypt(b"tiny", mode)
    for index in range(len(blob)):
        for bit in range(8):
            damaged = bytearray(blob)
            damaged[index] ^= 1 << bit
            with pytest.raises(BundleDecryptionError):
                decrypt(bytes(damaged), mode)


@pytest.mark.parametrize("mode", MODES)
def test_every_inverted_byte_of_a_small_bundle_is_detected(mode: str) -> None:
    blob = encrypt(b"", mode)
    for index in range(len(blob)):
        damaged = bytearray(blob)
        damaged[index] ^= 0xFF
        with pytest.raises(BundleDecryptionError):
            decrypt(bytes(damaged), mode)


LARGE = sample(3 * SEGMENT + 100)
LARGE_BLOB = encrypt(LARGE, "recipient")


@given(index=st.integers(0, len(LARGE_BLOB) - 1), mask=st.integers(1, 255))
@settings(max_examples=60)
def test_a_changed_byte_anywhere_in_a_large_bundle_is_detected(index: int, mask: int) -> None:
    damaged = bytearray(LARGE_BLOB)
    damaged[index] ^= mask
    with pytest.raises(BundleDecryptionError):
        decrypt(bytes(damaged))


def test_damage_after_the_first_segment_says_damaged_not_wrong_key() -> None:
    damaged = bytearray(LARGE_BLOB)
    damaged[HEADER["recipient"] + 2 * CHUNK + 7] ^= 1
    with pytest.raises(BundleDecryptionError, match="damaged or cut short: segment 3") as caught:
        decrypt(bytes(damaged))
    assert "wrong" not in str(caught.value)


def cut_points() -> list[int]:
    header = HEADER["recipient"]
    boundaries = [header + k * CHUNK for k in range(4)]
    middles = [header + k * CHUNK + CHUNK // 2 for k in range(3)]
    return [
        0,
        1,
        len(MAGIC) - 1,
        len(MAGIC),
        header - 1,
        *boundaries,
        *middles,
        header + 3 * CHUNK + 50,
    ]


@pytest.mark.parametrize("length", cut_points())
def test_a_bundle_cut_short_anywhere_is_detected(length: int) -> None:
    assert length < len(LARGE_BLOB)
    with pytest.raises(BundleDecryptionError):
        decrypt(LARGE_BLOB[:length])


@pytest.mark.parametrize("mode", MODES)
def test_a_bundle_cut_at_a_segment_boundary_says_its_final_segment_is_missing(mode: str) -> None:
    blob = encrypt(sample(2 * SEGMENT), mode)  # two full segments, then an empty final one
    assert len(blob) == HEADER[mode] + 2 * CHUNK + 16
    with pytest.raises(BundleDecryptionError, match="after segment 2 without its final segment"):
        decrypt(blob[:-16], mode)
    with pytest.raises(BundleDecryptionError, match="cut short"):
        decrypt(blob[: HEADER[mode]], mode)


@given(extra=st.binary(min_size=1, max_size=CHUNK + 10))
@settings(max_examples=30)
def test_bytes_appended_after_the_final_segment_are_detected(extra: bytes) -> None:
    with pytest.raises(BundleDecryptionError):
        decrypt(LARGE_BLOB + extra)


@pytest.mark.parametrize(
    "rearrange",
    [
        pytest.param(lambda s: [s[1], s[0], *s[2:]], id="first two swapped"),
        pytest.param(lambda s: [s[0], s[2], s[1], s[3]], id="middle two swapped"),
        pytest.param(lambda s: [s[0], s[1], s[3], s[2]], id="final moved up"),
        pytest.param(lambda s: [s[0], *s[2:]], id="middle dropped"),
        pytest.param(lambda s: [s[0], s[1], s[1], *s[2:]], id="segment repeated"),
        pytest.param(lambda s: [*s, s[-1]], id="final repeated"),
        pytest.param(lambda s: s[:-1], id="final dropped"),
    ],
)
def test_segments_swapped_dropped_or_repeated_are_detected(
    rearrange: Callable[[list[bytes]], list[bytes]],
) -> None:
    header, parts = segments(LARGE_BLOB, "recipient")
    assert [len(p) for p in parts] == [CHUNK, CHUNK, CHUNK, 116]
    with pytest.raises(BundleDecryptionError):
        decrypt(header + b"".join(rearrange(parts)))


def test_segments_of_another_bundle_are_detected() -> None:
    other = encrypt(LARGE, "recipient")
    header, _ = segments(LARGE_BLOB, "recipient")
    _, parts = segments(other, "recipient")
    with pytest.raises(BundleDecryptionError, match="wrong passphrase or key"):
        decrypt(header + b"".join(parts))


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"PK\x03\x04" + bytes(100), "not an encrypted purposeful bundle"),
        (b"", "empty"),
        (MAGIC[:10], "ends inside its header"),
        (MAGIC, "ends inside its header"),
        (MAGIC + b"\x01\x01" + bytes(10), "ends inside its header"),
        (MAGIC + b"\x02\x01" + bytes(60), "format version 2"),
        (MAGIC + b"\x01\x07" + bytes(60), "encryption mode 7"),
    ],
)
def test_inputs_that_are_not_encrypted_bundles_are_named_so(data: bytes, problem: str) -> None:
    with pytest.raises(BundleDecryptionError, match=problem):
        decrypt(data, passphrase=PASSPHRASE)


def passphrase_header(log2_n: int, r: int, p: int) -> bytes:
    return MAGIC + b"\x01\x01" + bytes(16) + bytes([log2_n, r, p]) + bytes(CHUNK)


@pytest.mark.parametrize(
    ("log2_n", "r", "p"), [(21, 8, 1), (15, 17, 1), (15, 8, 5), (255, 255, 255)]
)
def test_costly_scrypt_parameters_are_refused_before_running_scrypt(
    log2_n: int, r: int, p: int
) -> None:
    with pytest.raises(BundleDecryptionError, match="too costly; refusing to avoid exhausting"):
        decrypt(passphrase_header(log2_n, r, p), passphrase=PASSPHRASE)


@pytest.mark.parametrize(("log2_n", "r", "p"), [(0, 8, 1), (10, 0, 1), (10, 8, 0)])
def test_invalid_scrypt_parameters_are_refused(log2_n: int, r: int, p: int) -> None:
    with pytest.raises(BundleDecryptionError, match="invalid"):
        decrypt(passphrase_header(log2_n, r, p), passphrase=PASSPHRASE)


def test_scrypt_parameters_that_do_not_fit_together_are_refused() -> None:
    # n must be below 2**(16 r): with r = 1, log2 n = 16 cannot run.
    with pytest.raises(BundleDecryptionError, match="could not derive the key"):
        decrypt(passphrase_header(16, 1, 1), passphrase=PASSPHRASE)


def test_a_degenerate_ephemeral_key_is_damage() -> None:
    blob = MAGIC + b"\x01\x02" + bytes(32) + bytes(16) + bytes(16)
    with pytest.raises(BundleDecryptionError, match="unusable ephemeral key"):
        decrypt(blob)


def test_errors_hold_no_secret_or_plaintext_and_chain_nothing(tmp_path: Path) -> None:
    plaintext = b"Aroha Ngata, born 1987-03-02"
    blob = encrypt(plaintext, "passphrase")
    damaged = blob[:-3] + bytes(3)
    source = tmp_path / "bundle.zip.enc"
    source.write_bytes(damaged)
    errors: list[BaseException] = []
    attempts: list[Callable[[], object]] = [
        lambda: decrypt(blob, passphrase=PASSPHRASE + "!"),
        lambda: decrypt(damaged, passphrase=PASSPHRASE),
        lambda: decrypt(blob, private_key=RECIPIENT),
        lambda: decrypt_file(source, tmp_path / "out.zip", passphrase=PASSPHRASE),
        lambda: decrypt_file(source, tmp_path / "out.zip", passphrase=PASSPHRASE + "!"),
    ]
    for attempt in attempts:
        with pytest.raises(BundleDecryptionError) as caught:
            attempt()
        errors.append(caught.value)
    for error in errors:
        text = f"{error} {error.args!r}"
        assert PASSPHRASE not in text
        assert "Aroha" not in text
        assert error.__cause__ is None
        assert error.__context__ is None


# --- files ---------------------------------------------------------------------------------


def only_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("mode", MODES)
def test_files_round_trip(tmp_path: Path, mode: str) -> None:
    source = tmp_path / "bundle.zip"
    source.write_bytes(sample(SEGMENT + 10))
    encrypted = encrypt_file(source, str(tmp_path / "bundle.zip.enc"), **to_secret(mode))
    assert encrypted == tmp_path / "bundle.zip.enc"
    assert is_encrypted(encrypted.read_bytes())
    opened = decrypt_file(encrypted, tmp_path / "opened.zip", **from_secret(mode))
    assert opened.read_bytes() == source.read_bytes()
    assert only_files(tmp_path) == ["bundle.zip", "bundle.zip.enc", "opened.zip"]
    if os.name == "posix":
        assert stat.S_IMODE(opened.stat().st_mode) == 0o600


@pytest.fixture
def encrypted_bundle(tmp_path: Path) -> Path:
    """A three-segment bundle encrypted with the passphrase, alone in its directory."""
    source = tmp_path / "bundle.zip.enc"
    source.write_bytes(encrypt(sample(2 * SEGMENT + 10), "passphrase"))
    return source


def test_a_wrong_passphrase_leaves_no_file_behind(encrypted_bundle: Path) -> None:
    folder = encrypted_bundle.parent
    with pytest.raises(BundleDecryptionError, match="wrong passphrase") as caught:
        decrypt_file(encrypted_bundle, folder / "opened.zip", passphrase="wrong")
    assert str(caught.value).startswith(f"{encrypted_bundle}: ")
    assert only_files(folder) == ["bundle.zip.enc"]


def test_damage_found_after_writing_some_plaintext_leaves_no_file_behind(
    encrypted_bundle: Path,
) -> None:
    folder = encrypted_bundle.parent
    blob = encrypted_bundle.read_bytes()
    encrypted_bundle.write_bytes(blob[:-20])  # the first two segments still authenticate
    with pytest.raises(BundleDecryptionError, match="cut short"):
        decrypt_file(encrypted_bundle, folder / "opened.zip", passphrase=PASSPHRASE)
    assert only_files(folder) == ["bundle.zip.enc"]


def test_a_failed_write_leaves_no_file_behind(
    encrypted_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    folder = encrypted_bundle.parent
    with pytest.raises(BundleError, match="No space left on device"):
        decrypt_file(encrypted_bundle, folder / "opened.zip", passphrase=PASSPHRASE)
    with pytest.raises(BundleError, match="nothing was written"):
        encrypt_file(encrypted_bundle, folder / "again.enc", passphrase=PASSPHRASE)
    assert only_files(folder) == ["bundle.zip.enc"]


@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
def test_an_existing_target_is_kept_unless_overwrite_is_given(
    encrypted_bundle: Path, direction: str
) -> None:
    folder = encrypted_bundle.parent
    target = folder / "target"
    target.write_bytes(b"keep me")
    run = encrypt_file if direction == "encrypt" else decrypt_file
    with pytest.raises(BundleError, match="already exists; pass overwrite=True") as caught:
        run(encrypted_bundle, target, passphrase=PASSPHRASE)
    assert not isinstance(caught.value, BundleDecryptionError)
    assert target.read_bytes() == b"keep me"
    assert only_files(folder) == ["bundle.zip.enc", "target"]
    run(encrypted_bundle, target, passphrase=PASSPHRASE, overwrite=True)
    assert target.read_bytes() != b"keep me"
    assert only_files(folder) == ["bundle.zip.enc", "target"]


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
        decrypt_file(encrypted_bundle, target, passphrase=PASSPHRASE)


def test_a_missing_secret_is_refused_before_touching_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        encrypt_file(tmp_path / "nowhere.zip", tmp_path / "out")
    assert only_files(tmp_path) == []


# --- recipient keys ------------------------------------------------------------------------


def test_recipient_keys_round_trip(tmp_path: Path) -> None:
    private_file, public_file = generate_recipient_keys(tmp_path / "keys")
    assert (private_file.name, public_file.name) == (RECIPIENT_KEY_FILE, RECIPIENT_PUBLIC_KEY_FILE)
    if os.name == "posix":
        assert stat.S_IMODE(private_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(public_file.stat().st_mode) == 0o644
    assert b"BEGIN PRIVATE KEY" in private_file.read_bytes()
    private_key = load_recipient_private_key(private_file)
    public_key = load_recipient_public_key(public_file)
    assert public_key.public_bytes_raw() == private_key.public_key().public_bytes_raw()
    blob = io.BytesIO()
    encrypt_stream(io.BytesIO(b"bundle"), blob, recipient=public_key)
    assert decrypt(blob.getvalue(), private_key=private_key) == b"bundle"


def test_a_passphrase_protected_recipient_key_needs_its_passphrase(tmp_path: Path) -> None:
    private_file, _ = generate_recipient_keys(tmp_path, passphrase="kia kaha")
    pem = private_file.read_bytes()
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in pem
    with pytest.raises(PassphraseError, match="pass it as passphrase="):
        load_recipient_private_key(private_file)
    with pytest.raises(PassphraseError, match="passphrase is wrong") as caught:
        load_recipient_private_key(private_file, passphrase="kia ora")
    assert pem.decode().splitlines()[1] not in str(caught.value)
    key = load_recipient_private_key(private_file, passphrase=b"kia kaha")
    assert isinstance(key, X25519PrivateKey)


def test_a_passphrase_for_a_clear_recipient_key_is_refused(tmp_path: Path) -> None:
    private_file, _ = generate_recipient_keys(tmp_path)
    with pytest.raises(PassphraseError, match="not encrypted"):
        load_recipient_private_key(private_file, passphrase="kia kaha")


def test_an_empty_passphrase_for_new_keys_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PassphraseError, match="empty"):
        generate_recipient_keys(tmp_path, passphrase="")
    assert only_files(tmp_path) == []


def test_recipient_keys_are_never_replaced(tmp_path: Path) -> None:
    private_file, public_file = generate_recipient_keys(tmp_path)
    before = private_file.read_bytes(), public_file.read_bytes()
    with pytest.raises(KeyFileError, match="never replaced"):
        generate_recipient_keys(tmp_path)
    assert (private_file.read_bytes(), public_file.read_bytes()) == before
    assert only_files(tmp_path) == [RECIPIENT_KEY_FILE, RECIPIENT_PUBLIC_KEY_FILE]


def write_key(path: Path, pem: bytes) -> Path:
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


def test_an_ed25519_key_is_not_a_recipient_key(tmp_path: Path) -> None:
    signing = Ed25519PrivateKey.generate()
    private_pem = signing.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = signing.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_file = write_key(tmp_path / "signing-key.pem", private_pem)
    public_file = write_key(tmp_path / "signing-key.pub.pem", public_pem)
    with pytest.raises(KeyFileError, match=r"Ed25519 .*an X25519 key is needed") as caught:
        load_recipient_private_key(private_file)
    assert private_pem.decode().splitlines()[1] not in str(caught.value)
    with pytest.raises(KeyFileError, match=r"Ed25519 .*an X25519 key is needed"):
        load_recipient_public_key(public_file)


def test_missing_and_malformed_recipient_key_files_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(KeyFileError, match=r"does not exist.*generate_recipient_keys") as caught:
        load_recipient_private_key(missing)
    assert "purposeful keys new" not in str(caught.value)
    assert caught.value.source == missing
    with pytest.raises(KeyFileError, match="does not exist"):
        load_recipient_public_key(missing)
    garbage = write_key(tmp_path / "garbage.pem", b"not a key")
    with pytest.raises(KeyFileError, match="not a PEM"):
        load_recipient_private_key(garbage)
    with pytest.raises(KeyFileError, match="not a PEM"):
        load_recipient_public_key(garbage)
    damaged = write_key(tmp_path / "damaged.pem", b"-----BEGIN PUBLIC KEY-----\nAAAA\n")
    with pytest.raises(KeyFileError, match="not a readable PEM public key"):
        load_recipient_public_key(damaged)


def test_the_public_and_private_files_cannot_be_confused(tmp_path: Path) -> None:
    private_file, public_file = generate_recipient_keys(tmp_path)
    # As a private key file, it must be readable by its owner only to be read at all.
    public_copy = write_key(tmp_path / "copy.pem", public_file.read_bytes())
    with pytest.raises(KeyFileError, match="holds a public key"):
        load_recipient_private_key(public_copy)
    with pytest.raises(KeyFileError, match="holds a private key"):
        load_recipient_public_key(private_file)


@posix_only
def test_a_private_key_others_can_read_is_refused(tmp_path: Path) -> None:
    private_file, _ = generate_recipient_keys(tmp_path)
    private_file.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_recipient_private_key(private_file)


# --- memory --------------------------------------------------------------------------------


class Generated(io.RawIOBase):
    """*size* bytes made as they are read: a 64 KiB pattern stamped with a block number."""

    PATTERN = hashlib.shake_256(b"pattern").digest(SEGMENT)

    def __init__(self, size: int) -> None:
        self._left = size
        self._block = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._left, SEGMENT)
        buffer[:size] = self.PATTERN[:size]
        buffer[: min(size, 8)] = self._block.to_bytes(8, "big")[: min(size, 8)]
        self._block += 1
        self._left -= size
        return size


class Digest(io.RawIOBase):
    """A sink that keeps only a SHA-256 of what it is given."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.hash.update(data)
        return len(data)


def test_memory_stays_flat_for_a_large_bundle(tmp_path: Path) -> None:
    size = 32 * 1024 * 1024
    expected = Digest()
    source = Generated(size)
    while block := source.read(SEGMENT):
        expected.write(block)
    ciphertext = tmp_path / "large.enc"
    plaintext = Digest()
    tracemalloc.start()
    try:
        with ciphertext.open("wb") as target:
            encrypt_stream(
                cast(BinaryIO, Generated(size)), target, recipient=RECIPIENT.public_key()
            )
        with ciphertext.open("rb") as encrypted:
            decrypt_stream(encrypted, cast(BinaryIO, plaintext), private_key=RECIPIENT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024
    assert plaintext.hash.digest() == expected.hash.digest()
    assert ciphertext.stat().st_size == HEADER["recipient"] + size + 16 * (size // SEGMENT + 1)
