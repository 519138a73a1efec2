"""Keys: creating them (modes, encryption, no overwrite, atomic writes), loading them from
files and environment variables with typed errors, and pseudonyms.

Secrets never leak: the property tests feed random secrets and passphrases through every
error path and look for any 8-character piece of them in messages, arguments, reprs and
chained exceptions.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import hmac
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from purposeful.audit import (
    PSEUDONYM_KEY_ENV,
    PSEUDONYM_KEY_FILE,
    PUBLIC_KEY_FILE,
    SIGNING_KEY_ENV,
    SIGNING_KEY_FILE,
    KeyFiles,
    PseudonymKey,
    generate_keys,
    load_pseudonym_key,
    load_public_key,
    load_signing_key,
    signing_key_id,
)
from purposeful.errors import ConfigurationError, KeyFileError, PassphraseError, PurposefulError

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")

PSEUDONYM = re.compile(r"[0-9a-f]{8}:[0-9a-f]{32}\Z")
PSEUDONYM_ALPHABET = set("0123456789abcdef:")
KEY_IDS = st.text("0123456789abcdef", min_size=8, max_size=8)
SECRETS = st.binary(min_size=32, max_size=64)
# A marker that appears in no message purposeful writes, so finding it means a leak.
MARK = "\u2603"


@pytest.fixture(autouse=True)
def _no_key_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start with neither key variable set, whatever the developer's shell holds."""
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    monkeypatch.delenv(PSEUDONYM_KEY_ENV, raising=False)


@pytest.fixture
def keys(tmp_path: Path) -> KeyFiles:
    """Keys without a passphrase, in ``tmp_path / "keys"``."""
    return generate_keys(tmp_path / "keys")


@pytest.fixture
def encrypted_keys(tmp_path: Path) -> KeyFiles:
    """Keys whose signing key is encrypted with the passphrase ``"correct horse"``."""
    return generate_keys(tmp_path / "encrypted", passphrase="correct horse")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def write_secret_file(path: Path, data: str | bytes) -> Path:
    """A file only its owner can open, as a key file should be."""
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(0o600)
    return path


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def pieces(secret: str, size: int = 8) -> set[str]:
    """Every *size*-character piece of *secret*: any of them in a message is a leak."""
    return {secret[i : i + size] for i in range(max(1, len(secret) - size + 1))}


def everything_said(error: BaseException) -> str:
    """The message, arguments and repr of an error and of every error chained to it."""
    said: list[str] = []
    current: BaseException | None = error
    while current is not None:
        said += [str(current), repr(current), *map(repr, current.args)]
        current = current.__cause__ or current.__context__
    return "\n".join(said)


def assert_no_leak(error: BaseException, *secrets: str) -> None:
    said = everything_said(error)
    for secret in secrets:
        leaked = [piece for piece in pieces(secret) if piece in said]
        assert not leaked, f"{leaked[0]!r} of a secret appears in: {said}"


# --- creating keys -------------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_new_keys_have_documented_modes_whatever_the_umask(tmp_path: Path, mask: int) -> None:
    with umask(mask):
        files = generate_keys(tmp_path / "keys")
    assert mode(files.signing_key) == 0o600
    assert mode(files.public_key) == 0o644
    assert mode(files.pseudonym_key) == 0o600


@posix_only
def test_new_directory_is_private_to_its_owner(tmp_path: Path) -> None:
    files = generate_keys(tmp_path / "a" / "b")
    assert files.signing_key.parent == tmp_path / "a" / "b"
    assert mode(tmp_path / "a" / "b") == 0o700


def test_new_keys_are_written_under_the_documented_names(keys: KeyFiles) -> None:
    folder = keys.signing_key.parent
    assert keys.signing_key == folder / SIGNING_KEY_FILE == folder / "signing-key.pem"
    assert keys.public_key == folder / PUBLIC_KEY_FILE == folder / "signing-key.pub.pem"
    assert keys.pseudonym_key == folder / PSEUDONYM_KEY_FILE == folder / "pseudonym.key"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [SIGNING_KEY_FILE, PUBLIC_KEY_FILE, PSEUDONYM_KEY_FILE]
    )


def test_signing_key_without_passphrase_is_plain_pkcs8_and_signs(keys: KeyFiles) -> None:
    assert keys.signing_key.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")
    assert not keys.encrypted
    private = load_signing_key(keys.signing_key)
    public = load_public_key(keys.public_key)
    public.verify(private.sign(b"checkpoint"), b"checkpoint")
    assert signing_key_id(private) == signing_key_id(public) == keys.signing_key_id


def test_signing_key_with_passphrase_is_encrypted(encrypted_keys: KeyFiles) -> None:
    text = encrypted_keys.signing_key.read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert encrypted_keys.encrypted
    for passphrase in ["correct horse", b"correct horse"]:
        private = load_signing_key(encrypted_keys.signing_key, passphrase=passphrase)
        assert signing_key_id(private) == encrypted_keys.signing_key_id


def test_signing_key_id_is_the_start_of_the_public_key_hash(keys: KeyFiles) -> None:
    private = load_signing_key(keys.signing_key)
    assert keys.signing_key_id == hashlib.sha256(public_bytes(private)).hexdigest()[:8]


def test_pseudonym_key_file_is_the_documented_json(keys: KeyFiles) -> None:
    document = json.loads(keys.pseudonym_key.read_text())
    assert set(document) == {"key_id", "secret"}
    assert re.fullmatch(r"[0-9a-f]{8}", document["key_id"])
    assert document["key_id"] == keys.pseudonym_key_id
    assert len(base64.b64decode(document["secret"], validate=True)) == 32
    key = load_pseudonym_key(keys.pseudonym_key)
    assert key.key_id == keys.pseudonym_key_id
    assert base64.b64encode(key.secret).decode() == document["secret"]


def test_every_new_key_is_different(tmp_path: Path) -> None:
    first, second = generate_keys(tmp_path / "1"), generate_keys(tmp_path / "2")
    assert first.signing_key_id != second.signing_key_id
    assert first.pseudonym_key_id != second.pseudonym_key_id
    assert first.pseudonym_key.read_text() != second.pseudonym_key.read_text()


def test_key_files_hold_no_key_material(keys: KeyFiles) -> None:
    secret = base64.b64encode(load_pseudonym_key(keys.pseudonym_key).secret).decode()
    assert secret not in repr(keys)
    assert "PRIVATE" not in repr(keys)


@pytest.mark.parametrize("passphrase", ["", b""])
def test_empty_passphrase_is_refused_before_anything_is_written(
    tmp_path: Path, passphrase: str | bytes
) -> None:
    with pytest.raises(PassphraseError, match="empty"):
        generate_keys(tmp_path / "keys", passphrase=passphrase)
    assert not (tmp_path / "keys").exists()


def test_existing_keys_are_never_replaced_without_force(keys: KeyFiles) -> None:
    folder = keys.signing_key.parent
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(KeyFileError, match="--force") as caught:
        generate_keys(folder)
    assert caught.value.source == folder
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.parametrize("name", [SIGNING_KEY_FILE, PUBLIC_KEY_FILE, PSEUDONYM_KEY_FILE])
def test_one_existing_key_file_stops_all_three(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("an old key\n")
    with pytest.raises(KeyFileError, match=re.escape(name)):
        generate_keys(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert (tmp_path / name).read_text() == "an old key\n"


def test_a_dangling_symlink_counts_as_an_existing_key(tmp_path: Path) -> None:
    (tmp_path / SIGNING_KEY_FILE).symlink_to(tmp_path / "elsewhere.pem")
    with pytest.raises(KeyFileError, match="already holds"):
        generate_keys(tmp_path)
    assert not (tmp_path / "elsewhere.pem").exists()


def test_force_replaces_every_key(keys: KeyFiles) -> None:
    replaced = generate_keys(keys.signing_key.parent, force=True)
    assert replaced.signing_key_id != keys.signing_key_id
    assert replaced.pseudonym_key_id != keys.pseudonym_key_id
    assert load_pseudonym_key(replaced.pseudonym_key).key_id == replaced.pseudonym_key_id
    assert signing_key_id(load_public_key(replaced.public_key)) == replaced.signing_key_id


def test_a_file_where_the_directory_should_be_is_a_key_file_error(tmp_path: Path) -> None:
    (tmp_path / "keys").write_text("not a directory")
    with pytest.raises(KeyFileError, match="not a directory"):
        generate_keys(tmp_path / "keys")


# --- atomic writes -------------------------------------------------------------------------


def fail_on_call(number: int, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make ``os.<name>`` fail with ENOSPC on its *number*-th call (1-based)."""
    real = getattr(os, name)
    calls = 0

    def failing(*args: object) -> object:
        nonlocal calls
        calls += 1
        if calls == number:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args)

    monkeypatch.setattr(os, name, failing)


@pytest.mark.parametrize("failing_write", [1, 2, 3])
def test_a_failed_write_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_write: int
) -> None:
    fail_on_call(failing_write, monkeypatch, "fsync")
    with pytest.raises(KeyFileError, match="No space left on device") as caught:
        generate_keys(tmp_path)
    assert "no key file was written" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_partial_write_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up in the middle of the secret: not one byte of it is left on disk."""
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, *args: object, **kwargs: object) -> None:
            self._file = real_fdopen(*args, **kwargs)  # type: ignore[call-overload]

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self._file.close()

        def fileno(self) -> int:
            return int(self._file.fileno())

        def write(self, data: bytes) -> int:
            self._file.write(data[: len(data) // 2])
            self._file.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fdopen", HalfWriter)
    with pytest.raises(KeyFileError, match="no key file was written"):
        generate_keys(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failing_link", [1, 2, 3])
def test_a_failure_putting_keys_in_place_removes_the_new_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_link: int
) -> None:
    fail_on_call(failing_link, monkeypatch, "link")
    monkeypatch.setattr(os, "replace", _refuse_replace)
    with pytest.raises(KeyFileError, match="no key file was written"):
        generate_keys(tmp_path)
    assert list(tmp_path.iterdir()) == []


def _refuse_replace(*args: object) -> None:
    raise OSError(errno.EIO, os.strerror(errno.EIO))


def test_a_failed_forced_write_keeps_the_old_keys(
    keys: KeyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = keys.signing_key.parent
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    fail_on_call(3, monkeypatch, "fsync")
    with pytest.raises(KeyFileError):
        generate_keys(folder, force=True)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_keys_are_written_without_hard_links_where_the_file_system_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*args: object) -> None:
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", no_links)
    files = generate_keys(tmp_path)
    assert load_pseudonym_key(files.pseudonym_key).key_id == files.pseudonym_key_id
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [SIGNING_KEY_FILE, PUBLIC_KEY_FILE, PSEUDONYM_KEY_FILE]
    )


# --- loading from files --------------------------------------------------------------------


@pytest.mark.parametrize("load", [load_signing_key, load_pseudonym_key, load_public_key])
def test_a_missing_file_says_how_to_create_keys(tmp_path: Path, load: object) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(KeyFileError, match=r"does not exist.*purposeful keys new") as caught:
        load(missing)  # type: ignore[operator]
    assert caught.value.source == missing


@pytest.mark.parametrize("load", [load_signing_key, load_pseudonym_key, load_public_key])
def test_a_directory_is_not_a_key_file(tmp_path: Path, load: object) -> None:
    with pytest.raises(KeyFileError, match="not a regular file"):
        load(tmp_path)  # type: ignore[operator]


@posix_only
@pytest.mark.parametrize("file_mode", [0o644, 0o640, 0o604, 0o660, 0o606])
@pytest.mark.parametrize("which", ["signing_key", "pseudonym_key"])
def test_a_secret_key_file_open_to_other_users_is_refused(
    keys: KeyFiles, which: str, file_mode: int
) -> None:
    path: Path = getattr(keys, which)
    path.chmod(file_mode)
    load = load_signing_key if which == "signing_key" else load_pseudonym_key
    with pytest.raises(KeyFileError, match=re.escape(f"run `chmod 600 {path}`")) as caught:
        load(path)
    assert f"mode {file_mode:04o}" in str(caught.value)


@posix_only
@pytest.mark.parametrize("file_mode", [0o400, 0o600, 0o700])
def test_a_secret_key_file_only_its_owner_can_open_is_loaded(
    keys: KeyFiles, file_mode: int
) -> None:
    keys.signing_key.chmod(file_mode)
    keys.pseudonym_key.chmod(file_mode)
    load_signing_key(keys.signing_key)
    load_pseudonym_key(keys.pseudonym_key)


@posix_only
def test_a_public_key_file_may_be_read_by_anyone(keys: KeyFiles) -> None:
    keys.public_key.chmod(0o644)
    load_public_key(keys.public_key)


def test_an_encrypted_key_without_passphrase_asks_for_it(encrypted_keys: KeyFiles) -> None:
    with pytest.raises(PassphraseError, match="encrypted with a passphrase"):
        load_signing_key(encrypted_keys.signing_key)


def test_a_wrong_passphrase_is_a_passphrase_error(encrypted_keys: KeyFiles) -> None:
    with pytest.raises(PassphraseError, match="passphrase is wrong") as caught:
        load_signing_key(encrypted_keys.signing_key, passphrase="battery staple")
    assert "battery" not in str(caught.value)
    assert isinstance(caught.value, KeyFileError)
    assert isinstance(caught.value, ConfigurationError)


def test_a_passphrase_for_a_key_stored_in_the_clear_is_refused(keys: KeyFiles) -> None:
    with pytest.raises(PassphraseError, match="not encrypted"):
        load_signing_key(keys.signing_key, passphrase="correct horse")


def test_a_passphrase_of_the_wrong_type_is_refused(encrypted_keys: KeyFiles) -> None:
    with pytest.raises(PassphraseError, match="str or bytes"):
        load_signing_key(encrypted_keys.signing_key, passphrase=42)  # type: ignore[arg-type]


def _pem_private(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem_public(key: object) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda: ec.generate_private_key(ec.SECP256R1()), "elliptic-curve"),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSA"),
    ],
    ids=["ec", "rsa"],
)
def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path, make: object, kind: str) -> None:
    key = make()  # type: ignore[operator]
    private = write_secret_file(tmp_path / "other.pem", _pem_private(key))
    public = write_secret_file(tmp_path / "other.pub.pem", _pem_public(key))
    with pytest.raises(KeyFileError, match=f"holds an? {kind}.*not an Ed25519 key"):
        load_signing_key(private)
    with pytest.raises(KeyFileError, match=f"holds an? {kind}.*not an Ed25519 public key"):
        load_public_key(public)


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("", "not a PEM file"),
        ("just some words\n", "not a PEM file"),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not a readable"),
        ("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2Vw\n", "not a readable"),
    ],
    ids=["empty", "words", "bad-body", "truncated"],
)
def test_garbage_in_a_signing_key_file_is_a_key_file_error(
    tmp_path: Path, content: str, complaint: str
) -> None:
    path = write_secret_file(tmp_path / "signing-key.pem", content)
    with pytest.raises(KeyFileError, match=complaint) as caught:
        load_signing_key(path)
    assert not isinstance(caught.value, PassphraseError)


def test_a_damaged_encrypted_key_is_blamed_on_passphrase_or_damage(
    encrypted_keys: KeyFiles,
) -> None:
    lines = encrypted_keys.signing_key.read_text().splitlines()
    lines[2] = lines[2][::-1]
    encrypted_keys.signing_key.write_text("\n".join(lines) + "\n")
    with pytest.raises(PassphraseError, match="damaged"):
        load_signing_key(encrypted_keys.signing_key, passphrase="correct horse")


def test_a_public_key_given_as_signing_key_says_which_file_to_use(keys: KeyFiles) -> None:
    write_secret_file(keys.public_key, keys.public_key.read_bytes())
    with pytest.raises(KeyFileError, match=f"holds a public key.*use {SIGNING_KEY_FILE}"):
        load_signing_key(keys.public_key)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_public_key_file_as_written_given_as_signing_key_says_so_not_chmod(
    keys: KeyFiles,
) -> None:
    assert keys.public_key.stat().st_mode & 0o044
    with pytest.raises(KeyFileError, match="holds a public key, not the private key") as caught:
        load_signing_key(keys.public_key)
    assert "chmod" not in str(caught.value)


def test_a_signing_key_given_as_public_key_is_refused_without_echoing_it(
    keys: KeyFiles,
) -> None:
    with pytest.raises(KeyFileError, match=f"holds a private key.*{PUBLIC_KEY_FILE}") as caught:
        load_public_key(keys.signing_key)
    body = keys.signing_key.read_text().splitlines()[1]
    assert_no_leak(caught.value, body)


@pytest.mark.parametrize(
    "content",
    ["", "just some words\n", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"],
    ids=["empty", "words", "bad-body"],
)
def test_garbage_in_a_public_key_file_is_a_key_file_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "signing-key.pub.pem"
    path.write_text(content)
    with pytest.raises(KeyFileError, match="public key"):
        load_public_key(path)


def test_a_huge_file_is_not_a_key(tmp_path: Path) -> None:
    path = write_secret_file(tmp_path / "big.pem", b"-----BEGIN PRIVATE KEY-----\n" * 5000)
    with pytest.raises(KeyFileError, match="too large"):
        load_signing_key(path)


GOOD_SECRET = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ("{", "not valid JSON \\(line 1, column 2"),
        ('["1a2b3c4d"]', "holds a JSON list, not an object"),
        ('{"key_id": "1a2b3c4d"}', "is missing secret"),
        (f'{{"secret": "{GOOD_SECRET}"}}', "is missing key_id"),
        (f'{{"key_id": "1a2b3c4d", "secret": "{GOOD_SECRET}", "x": 1}}', "other than"),
        (f'{{"key_id": "1A2B3C4D", "secret": "{GOOD_SECRET}"}}', "key_id that is not 8"),
        (f'{{"key_id": 12345678, "secret": "{GOOD_SECRET}"}}', "key_id that is not 8"),
        ('{"key_id": "1a2b3c4d", "secret": 7}', "secret that is not a string"),
        ('{"key_id": "1a2b3c4d", "secret": "not base64!"}', "not base64"),
        ('{"key_id": "1a2b3c4d", "secret": "c2hvcnQ="}', "secret of 5 bytes, fewer than 32"),
    ],
    ids=[
        "truncated",
        "list",
        "no-secret",
        "no-key-id",
        "extra-field",
        "upper-case-id",
        "number-id",
        "number-secret",
        "not-base64",
        "short-secret",
    ],
)
def test_a_malformed_pseudonym_key_says_what_it_must_hold(
    tmp_path: Path, document: str, complaint: str
) -> None:
    path = write_secret_file(tmp_path / PSEUDONYM_KEY_FILE, document)
    with pytest.raises(KeyFileError, match=complaint) as caught:
        load_pseudonym_key(path)
    assert str(caught.value).startswith(f"{path} ")
    assert '{"key_id": "<8 hex digits>", "secret": "<base64' in str(caught.value)
    assert_no_leak(caught.value, GOOD_SECRET)


def test_a_pseudonym_key_that_is_not_text_is_a_key_file_error(tmp_path: Path) -> None:
    path = write_secret_file(tmp_path / PSEUDONYM_KEY_FILE, b'{"key_id": "\xc3\x28"}')
    with pytest.raises(KeyFileError, match="is not UTF-8 text"):
        load_pseudonym_key(path)


def test_the_signing_key_given_as_the_pseudonym_key_is_named_as_such(keys: KeyFiles) -> None:
    """A privacy team's likeliest slip (``--key-file signing-key.pem``): told which file it
    gave and which it needs, not that a PEM file is not valid JSON; no key bytes quoted."""
    for pem in (keys.signing_key, keys.public_key):
        with pytest.raises(KeyFileError) as caught:
            load_pseudonym_key(pem)
        assert str(caught.value).startswith(f"{pem} is a PEM key (the signing key or its public")
        assert "pass pseudonym.key" in str(caught.value)
        assert "BEGIN" not in str(caught.value)
    # a copy made private, with a byte-order mark and a comment line first: named the same
    pem = write_secret_file(
        keys.signing_key.parent / "copy.pem",
        b"\xef\xbb\xbf# the agency's signing key\n" + keys.public_key.read_bytes(),
    )
    with pytest.raises(KeyFileError, match="is a PEM key"):
        load_pseudonym_key(pem)


# --- loading from environment variables ----------------------------------------------------


def test_signing_key_is_loaded_from_pem_text_in_the_environment(
    keys: KeyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIGNING_KEY_ENV, keys.signing_key.read_text())
    from_env = load_signing_key()
    assert public_bytes(from_env) == public_bytes(load_signing_key(keys.signing_key))


def test_pem_text_with_escaped_line_breaks_is_accepted(
    keys: KeyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIGNING_KEY_ENV, keys.signing_key.read_text().replace("\n", "\\n"))
    assert signing_key_id(load_signing_key()) == keys.signing_key_id


def test_an_encrypted_signing_key_in_the_environment_needs_its_passphrase(
    encrypted_keys: KeyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIGNING_KEY_ENV, encrypted_keys.signing_key.read_text())
    with pytest.raises(PassphraseError, match=re.escape(f"${SIGNING_KEY_ENV} is encrypted")):
        load_signing_key()
    key = load_signing_key(passphrase="correct horse")
    assert signing_key_id(key) == encrypted_keys.signing_key_id


def test_a_path_in_the_signing_key_variable_is_refused_with_the_reason(
    keys: KeyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SIGNING_KEY_ENV, str(keys.signing_key))
    with pytest.raises(KeyFileError, match="not to a file path") as caught:
        load_signing_key()
    assert caught.value.source == f"${SIGNING_KEY_ENV}"


def test_no_key_at_all_names_the_variable_and_the_command() -> None:
    with pytest.raises(KeyFileError, match=f"set \\${SIGNING_KEY_ENV}.*purposeful keys new"):
        load_signing_key()
    with pytest.raises(KeyFileError, match=f"set \\${PSEUDONYM_KEY_ENV}.*purposeful keys new"):
        load_pseudonym_key()


@pytest.mark.parametrize("value", ["", "  \n"])
def test_an_empty_variable_says_it_is_empty(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, value)
    with pytest.raises(KeyFileError, match="set but empty"):
        load_pseudonym_key()


def test_a_path_argument_wins_over_the_environment(
    keys: KeyFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = generate_keys(tmp_path / "other")
    monkeypatch.setenv(SIGNING_KEY_ENV, other.signing_key.read_text())
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, other.pseudonym_key.read_text())
    assert signing_key_id(load_signing_key(keys.signing_key)) == keys.signing_key_id
    assert load_pseudonym_key(keys.pseudonym_key).key_id == keys.pseudonym_key_id


def test_another_variable_can_be_named_and_none_reads_no_variable(
    keys: KeyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVICE_PSEUDONYM_KEY", keys.pseudonym_key.read_text())
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, keys.pseudonym_key.read_text())
    assert load_pseudonym_key(env="SERVICE_PSEUDONYM_KEY").key_id == keys.pseudonym_key_id
    with pytest.raises(KeyFileError, match="no pseudonym key given") as caught:
        load_pseudonym_key(env=None)
    assert caught.value.source is None


def test_pseudonym_key_is_loaded_from_json_in_the_environment(
    keys: KeyFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, keys.pseudonym_key.read_text())
    assert load_pseudonym_key() == load_pseudonym_key(keys.pseudonym_key)


def test_bad_json_in_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PSEUDONYM_KEY_ENV, "/run/secrets/pseudonym.key")
    with pytest.raises(KeyFileError, match=re.escape(f"${PSEUDONYM_KEY_ENV} is not valid JSON")):
        load_pseudonym_key()


# --- pseudonyms ----------------------------------------------------------------------------


def test_pseudonym_is_the_key_id_and_a_truncated_hmac() -> None:
    key = PseudonymKey("1a2b3c4d", bytes(range(32)))
    expected = hmac.new(bytes(range(32)), b"C-1001", hashlib.sha256).digest()[:16].hex()
    assert key.pseudonym("C-1001") == f"1a2b3c4d:{expected}"


def test_pseudonyms_are_stable_across_loads(keys: KeyFiles) -> None:
    first = load_pseudonym_key(keys.pseudonym_key).pseudonym("C-1001")
    second = load_pseudonym_key(keys.pseudonym_key).pseudonym("C-1001")
    assert first == second
    assert PSEUDONYM.match(first)
    assert first.startswith(f"{keys.pseudonym_key_id}:")


def test_repr_shows_the_key_id_and_hides_the_secret() -> None:
    key = PseudonymKey("1a2b3c4d", bytes(range(32)))
    assert repr(key) == "PseudonymKey(key_id='1a2b3c4d', secret=<hidden>)"
    assert str(key) == repr(key)


def test_a_subject_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(TypeError, match="must be a str, not int"):
        PseudonymKey.generate().pseudonym(1001)  # type: ignore[arg-type]


def test_derived_keys_are_32_bytes_and_differ_by_label() -> None:
    key = PseudonymKey.generate()
    ledger, reports = key.derive(b"purposeful/ledger/v1"), key.derive(b"purposeful/reports/v1")
    assert len(ledger) == len(reports) == 32
    assert ledger != reports
    assert key.derive(b"purposeful/ledger/v1") == ledger
    assert ledger != key.secret


def test_a_derived_key_is_never_the_hash_behind_a_pseudonym() -> None:
    key = PseudonymKey.generate()
    behind_pseudonym = hmac.new(key.secret, b"C-1001", hashlib.sha256).digest()
    assert key.derive(b"C-1001") != behind_pseudonym


@pytest.mark.parametrize(
    ("label", "error"), [("ledger", TypeError), (b"", ValueError)], ids=["str", "empty"]
)
def test_a_derive_label_must_be_non_empty_bytes(label: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        PseudonymKey.generate().derive(label)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key_id", "secret", "complaint"),
    [
        ("1a2b3c4", bytes(32), "8 lower-case hex digits"),
        ("1A2B3C4D", bytes(32), "8 lower-case hex digits"),
        ("1a2b3c4d:", bytes(32), "8 lower-case hex digits"),
        (12345678, bytes(32), "8 lower-case hex digits"),
        ("1a2b3c4d", bytes(31), "at least 32 random bytes, got 31"),
        ("1a2b3c4d", GOOD_SECRET, "must be bytes, not str"),
    ],
)
def test_a_malformed_pseudonym_key_is_a_configuration_error(
    key_id: object, secret: object, complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match=complaint) as caught:
        PseudonymKey(key_id, secret)  # type: ignore[arg-type]
    assert_no_leak(caught.value, GOOD_SECRET)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(subject=st.text(), key_id=KEY_IDS, secret=SECRETS)
def test_a_pseudonym_is_never_the_subject(subject: str, key_id: str, secret: bytes) -> None:
    pseudonym = PseudonymKey(key_id, secret).pseudonym(subject)
    assert PSEUDONYM.match(pseudonym)
    assert pseudonym != subject


@settings(max_examples=200, deadline=None)
@given(
    subject=st.text(min_size=1).filter(lambda s: not set(s) <= PSEUDONYM_ALPHABET),
    key_id=KEY_IDS,
    secret=SECRETS,
)
def test_a_pseudonym_never_contains_the_subject(subject: str, key_id: str, secret: bytes) -> None:
    """Any subject with a character a pseudonym cannot hold (all but ``0-9a-f:``, so every
    real identifier) never shows in its pseudonym. A subject made of those characters only,
    such as "7", can of course turn up in the hex digits by chance."""
    assert subject not in PseudonymKey(key_id, secret).pseudonym(subject)


@settings(max_examples=200, deadline=None)
@given(
    subject=st.text(),
    ids=st.lists(KEY_IDS, min_size=2, max_size=2),
    secrets=st.lists(SECRETS, min_size=2, max_size=2, unique=True),
)
def test_two_keys_give_different_pseudonyms(
    subject: str, ids: list[str], secrets: list[bytes]
) -> None:
    first = PseudonymKey(ids[0], secrets[0]).pseudonym(subject)
    second = PseudonymKey(ids[1], secrets[1]).pseudonym(subject)
    assert first.split(":")[1] != second.split(":")[1]


@settings(max_examples=200, deadline=None)
@given(subjects=st.lists(st.text(), min_size=2, max_size=2, unique=True), secret=SECRETS)
def test_one_key_gives_one_pseudonym_per_subject(subjects: list[str], secret: bytes) -> None:
    key = PseudonymKey("1a2b3c4d", secret)
    assert key.pseudonym(subjects[0]) == key.pseudonym(subjects[0])
    assert key.pseudonym(subjects[0]) != key.pseudonym(subjects[1])


def _secret_forms(secret: bytes) -> list[str]:
    return [base64.b64encode(secret).decode(), secret.hex(), repr(secret)[2:-1]]


@settings(max_examples=100, deadline=None)
@given(key_id=KEY_IDS, secret=SECRETS)
def test_repr_never_shows_the_secret(key_id: str, secret: bytes) -> None:
    shown = repr(PseudonymKey(key_id, secret))
    assert shown == f"PseudonymKey(key_id={key_id!r}, secret=<hidden>)"
    shown = shown.replace(key_id, "")  # the id is not secret, and may look like the secret
    for form in _secret_forms(secret):
        assert not any(piece in shown for piece in pieces(form))


def _broken_documents(key_id: str, encoded: str) -> list[str]:
    """Pseudonym key documents holding the secret, each wrong in a different way."""
    whole = json.dumps({"key_id": key_id, "secret": encoded})
    return [
        whole[:-1],  # truncated
        whole.replace(key_id, key_id.upper() + "x"),  # bad key id
        json.dumps({"key_id": key_id, "secret": encoded, "note": encoded}),  # extra field
        json.dumps({"key": key_id, "secret": encoded}),  # misspelt field
        json.dumps({"key_id": key_id, "secret": encoded[:-4] + "!!!!"}),  # not base64
        json.dumps({"key_id": key_id, "secret": encoded[:20]}),  # too short
        json.dumps([key_id, encoded]),  # not an object
        "secret: " + encoded,  # not JSON
    ]


@settings(max_examples=50, deadline=None)
@given(key_id=KEY_IDS, secret=SECRETS)
def test_no_pseudonym_key_error_shows_the_secret(key_id: str, secret: bytes) -> None:
    encoded = base64.b64encode(secret).decode()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / PSEUDONYM_KEY_FILE
        for document in _broken_documents(key_id, encoded):
            write_secret_file(path, document)
            with pytest.raises(KeyFileError) as caught:
                load_pseudonym_key(path)
            assert_no_leak(caught.value, *_secret_forms(secret))
            with pytest.raises(KeyFileError) as caught:
                _load_from_variable(document)
            assert_no_leak(caught.value, *_secret_forms(secret))
        if os.name == "posix":
            write_secret_file(path, json.dumps({"key_id": key_id, "secret": encoded}))
            path.chmod(0o644)
            with pytest.raises(KeyFileError) as caught:
                load_pseudonym_key(path)
            assert_no_leak(caught.value, *_secret_forms(secret))


def _load_from_variable(document: str) -> PseudonymKey:
    name = "PURPOSEFUL_TEST_PSEUDONYM_KEY"
    os.environ[name] = document
    try:
        return load_pseudonym_key(env=name)
    finally:
        del os.environ[name]


@settings(max_examples=25, deadline=None)
@given(
    passphrase=st.text(min_size=1).map(lambda p: p + MARK),
    wrong=st.text(min_size=1).map(lambda p: MARK + p + MARK),
)
def test_no_signing_key_error_shows_the_key_or_a_passphrase(passphrase: str, wrong: str) -> None:
    key = Ed25519PrivateKey.generate()
    plain = _pem_private(key).decode()
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8", "surrogatepass")),
    ).decode()
    damaged = plain.replace(plain.splitlines()[1], plain.splitlines()[1][::-1])
    bodies = [line for pem in (plain, encrypted) for line in pem.splitlines()[1:-1]]
    attempts: list[tuple[str, str | None]] = [
        (encrypted, wrong),
        (encrypted, None),
        (plain, wrong),
        (damaged, None),
        (plain.replace("-----BEGIN", "-----BEGIX"), None),
    ]
    for pem, given_passphrase in attempts:
        with pytest.raises(KeyFileError) as caught:
            _load_signing_key_from_variable(pem, given_passphrase)
        assert MARK not in everything_said(caught.value)
        assert_no_leak(caught.value, *bodies)
    assert signing_key_id(_load_signing_key_from_variable(encrypted, passphrase)) == (
        signing_key_id(key)
    )


def _load_signing_key_from_variable(pem: str, passphrase: str | None) -> Ed25519PrivateKey:
    name = "PURPOSEFUL_TEST_SIGNING_KEY"
    os.environ[name] = pem
    try:
        return load_signing_key(env=name, passphrase=passphrase)
    finally:
        del os.environ[name]


def test_every_key_error_is_a_purposeful_configuration_error() -> None:
    assert issubclass(KeyFileError, ConfigurationError)
    assert issubclass(KeyFileError, ValueError)
    assert issubclass(PassphraseError, KeyFileError)
    assert issubclass(PassphraseError, PurposefulError)
