"""Recipient keys for encrypted bundles: age key pairs written and read as age's own tools
write and read them, passphrase-protected identity files, and every kind of wrong file
named without quoting it."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import _age
import pyrage
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from purposeful.access.encryption import decrypt_stream, encrypt_stream
from purposeful.access.recipients import (
    RECIPIENT_KEY_FILE,
    RECIPIENT_PUBLIC_KEY_FILE,
    generate_recipient_keys,
    load_recipient_private_key,
    load_recipient_public_key,
)
from purposeful.errors import KeyFileError, PassphraseError

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def only_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def write_key(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    path.chmod(0o600)
    return path


def round_trip(public: pyrage.x25519.Recipient, private: pyrage.x25519.Identity) -> bytes:
    sealed, opened = io.BytesIO(), io.BytesIO()
    encrypt_stream(io.BytesIO(b"bundle"), sealed, recipient=public)
    decrypt_stream(io.BytesIO(sealed.getvalue()), opened, private_key=private)
    return opened.getvalue()


def test_recipient_keys_are_written_as_age_keygen_writes_them(tmp_path: Path) -> None:
    private_file, public_file = generate_recipient_keys(tmp_path / "keys")
    assert (private_file.name, public_file.name) == (RECIPIENT_KEY_FILE, RECIPIENT_PUBLIC_KEY_FILE)
    if os.name == "posix":
        assert stat.S_IMODE(private_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(public_file.stat().st_mode) == 0o644
    created, public_line, secret = private_file.read_text().splitlines()
    assert created.startswith("# created: ")
    recipient = public_file.read_text().splitlines()[-1]
    assert public_line == f"# public key: {recipient}"
    assert recipient.startswith("age1")
    assert len(recipient) == 62
    assert secret.startswith("AGE-SECRET-KEY-1")
    assert len(secret) == 74
    private_key = load_recipient_private_key(private_file)
    public_key = load_recipient_public_key(public_file)
    assert str(private_key.to_public()) == str(public_key) == recipient
    assert round_trip(public_key, private_key) == b"bundle"


def test_keys_written_by_age_keygen_load(tmp_path: Path) -> None:
    identity = pyrage.x25519.Identity.generate()
    recipient = identity.to_public()
    private_file = write_key(
        tmp_path / "key.txt",
        f"# created: 2026-12-02T10:00:00Z\n# public key: {recipient}\n{identity}\n",
    )
    public_file = write_key(tmp_path / "key.pub", f"{recipient}\n")  # age-keygen -y
    assert round_trip(
        load_recipient_public_key(public_file), load_recipient_private_key(private_file)
    )


def test_a_passphrase_protected_recipient_key_needs_its_passphrase(tmp_path: Path) -> None:
    private_file, public_file = generate_recipient_keys(tmp_path, passphrase="kia kaha")
    content = private_file.read_bytes()
    assert content.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")  # as `age -p -a` writes
    with pytest.raises(PassphraseError, match="pass it as passphrase="):
        load_recipient_private_key(private_file)
    with pytest.raises(PassphraseError, match="passphrase is wrong") as caught:
        load_recipient_private_key(private_file, passphrase="kia ora")
    assert "kia" not in str(caught.value)
    key = load_recipient_private_key(private_file, passphrase=b"kia kaha")
    assert round_trip(load_recipient_public_key(public_file), key) == b"bundle"


def test_an_identity_file_encrypted_by_age_loads_with_its_passphrase(tmp_path: Path) -> None:
    identity = pyrage.x25519.Identity.generate()
    binary = _age.passphrase_file(f"{identity}\n".encode(), "kia kaha")  # age -p, no armor
    private_file = write_key(tmp_path / "key.age", binary)
    loaded = load_recipient_private_key(private_file, passphrase="kia kaha")
    assert str(loaded.to_public()) == str(identity.to_public())


def test_a_hostile_encrypted_identity_file_is_refused_before_scrypt_runs(tmp_path: Path) -> None:
    private_file = write_key(tmp_path / "key.age", _age.header_asking(40))
    with pytest.raises(KeyFileError, match="too costly") as caught:
        load_recipient_private_key(private_file, passphrase="kia kaha")
    assert not isinstance(caught.value, PassphraseError)


def test_a_passphrase_for_a_clear_recipient_key_is_refused(tmp_path: Path) -> None:
    private_file, _ = generate_recipient_keys(tmp_path)
    with pytest.raises(PassphraseError, match="not encrypted"):
        load_recipient_private_key(private_file, passphrase="kia kaha")


@pytest.mark.parametrize(
    ("passphrase", "problem"), [("", "empty"), (b"\xff", "UTF-8"), ("\udc80", "UTF-8")]
)
def test_an_unusable_passphrase_for_new_keys_is_refused(
    tmp_path: Path, passphrase: str | bytes, problem: str
) -> None:
    with pytest.raises(PassphraseError, match=problem):
        generate_recipient_keys(tmp_path, passphrase=passphrase)
    assert only_files(tmp_path) == []


def test_recipient_keys_are_never_replaced(tmp_path: Path) -> None:
    private_file, public_file = generate_recipient_keys(tmp_path)
    before = private_file.read_bytes(), public_file.read_bytes()
    with pytest.raises(KeyFileError, match="never replaced"):
        generate_recipient_keys(tmp_path)
    assert (private_file.read_bytes(), public_file.read_bytes()) == before
    assert only_files(tmp_path) == sorted([RECIPIENT_KEY_FILE, RECIPIENT_PUBLIC_KEY_FILE])


def test_a_signing_key_is_not_a_recipient_key(tmp_path: Path) -> None:
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
    with pytest.raises(KeyFileError, match=r"PEM file .*not an age identity") as caught:
        load_recipient_private_key(private_file)
    assert private_pem.decode().splitlines()[1] not in str(caught.value)
    with pytest.raises(KeyFileError, match=r"PEM file .*not an age public key"):
        load_recipient_public_key(public_file)


IDENTITY = pyrage.x25519.Identity.generate()
SECRET_LINE = str(IDENTITY)
OTHER = pyrage.x25519.Identity.generate()
# What the files below hold (not in the test ids: they differ from run to run).
KEYS = {
    "secret": SECRET_LINE,
    "public": str(IDENTITY.to_public()),
    "other_secret": str(OTHER),
    "other_public": str(OTHER.to_public()),
    "damaged_secret": SECRET_LINE[:-1] + ("Q" if SECRET_LINE[-1] != "Q" else "P"),
}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "does not hold an age identity"),
        ("not a key\n", "does not hold an age identity"),
        ("# only a comment\n", "does not hold an age identity"),
        ("{secret}\n{other_secret}\n", "holds 2 keys"),
        ("{secret}\nsomething else\n", "other lines besides"),
        ("{damaged_secret}\n", "not hold a valid"),
        ("AGE-PLUGIN-YUBIKEY-1QQQQQQ\n", "plugin identity"),
        ("{public}\n", "holds a public key"),
    ],
)
def test_malformed_identity_files_are_named_without_quoting_them(
    tmp_path: Path, content: str, problem: str
) -> None:
    key_file = write_key(tmp_path / "key.txt", content.format(**KEYS))
    with pytest.raises(KeyFileError, match=problem) as caught:
        load_recipient_private_key(key_file)
    assert caught.value.source == key_file
    assert "AGE-SECRET-KEY" not in str(caught.value).replace("AGE-SECRET-KEY-1...", "")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "does not hold an age public key"),
        ("{public}\n{other_public}\n", "holds 2 keys"),
        ("age1" + "q" * 58 + "\n", "not hold a valid"),
        ("{secret}\n", "holds a private key"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA\n", "does not hold an age public key"),
    ],
)
def test_malformed_public_key_files_are_named(tmp_path: Path, content: str, problem: str) -> None:
    key_file = write_key(tmp_path / "key.pub", content.format(**KEYS))
    with pytest.raises(KeyFileError, match=problem) as caught:
        load_recipient_public_key(key_file)
    assert SECRET_LINE not in str(caught.value)


def test_missing_key_files_point_at_recipient_keys(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    with pytest.raises(KeyFileError, match=r"does not exist.*purposeful keys recipient") as caught:
        load_recipient_private_key(missing)
    assert "purposeful keys new" not in str(caught.value)
    assert caught.value.source == missing
    with pytest.raises(KeyFileError, match="does not exist"):
        load_recipient_public_key(missing)


def test_the_public_and_private_files_cannot_be_confused(tmp_path: Path) -> None:
    private_file, public_file = generate_recipient_keys(tmp_path / "clear")
    # As a private key file, it must be readable by its owner only to be read at all.
    public_copy = write_key(tmp_path / "copy.txt", public_file.read_bytes())
    with pytest.raises(KeyFileError, match="holds a public key"):
        load_recipient_private_key(public_copy)
    with pytest.raises(KeyFileError, match="holds a private key"):
        load_recipient_public_key(private_file)
    encrypted = write_key(tmp_path / "key.age", _age.passphrase_file(b"x", "kia kaha"))
    with pytest.raises(KeyFileError, match="encrypted private key, not a public key"):
        load_recipient_public_key(encrypted)


@posix_only
def test_the_public_file_as_written_given_as_the_private_key_says_so_not_chmod(
    tmp_path: Path,
) -> None:
    _, public_file = generate_recipient_keys(tmp_path)
    assert public_file.stat().st_mode & 0o044  # readable by others, as a public key may be
    with pytest.raises(KeyFileError, match="holds a public key, not the private key") as caught:
        load_recipient_private_key(public_file)
    assert "chmod" not in str(caught.value)


@posix_only
def test_a_private_key_others_can_read_is_refused(tmp_path: Path) -> None:
    private_file, _ = generate_recipient_keys(tmp_path)
    private_file.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_recipient_private_key(private_file)
