"""Key handling, shared by the audit trail and subject access.

- The **signing key** (``signing-key.pem``, Ed25519, PKCS#8 PEM, optionally encrypted with a
  passphrase) signs ledger checkpoints and subject-access bundles; its **public key**
  (``signing-key.pub.pem``) is what anyone checking them needs, and is not secret.
- The **pseudonym key** (``pseudonym.key``, JSON with a key id and 32 random bytes) turns a
  subject identifier into a keyed hash, `PseudonymKey.pseudonym`, so that spans and reports
  can say "the same person" without saying who.

`generate_keys` writes all three files (``purposeful keys new DIR`` calls it); the
``load_*`` functions read them back, from a file or, for the secret ones, from an
environment variable filled by a secrets manager. Users meet these names in
`purposeful.audit`, which re-exports them.

The rest is for other rooms that keep keys of their own (the recipient keys of encrypted
bundles, in `purposeful.access.encryption`): `make_directory` and `write_all` put new key
files in place, and `passphrase_bytes` checks a passphrase; `key_files.read_key_file`
reads a key file safely.

What this module must not do: log, print or put in an exception message any key material
(private key bytes, PEM text, passphrases, pseudonym secrets) — errors name the file or
variable and what to do, and are raised outside the handler of the underlying error so no
chained exception carries the text either; keep subject ids anywhere but a key's bounded
pseudonym cache (`pseudonym_cache`); replace an existing key file unless asked; leave
a partly written key file behind; read a private key file that other users can open; import
a room (audit, access, cli).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ..errors import ConfigurationError, KeyFileError, PassphraseError
from .files import put_in_place, sync_directory, write_temporary
from .key_files import NEW_KEYS_HINT as _NEW_KEYS_HINT
from .key_files import read_key_file, starts_with
from .pseudonym_cache import DEFAULT_CACHE_SIZE, PseudonymCache, check_cache_size

__all__ = [
    "PSEUDONYM_KEY_ENV",
    "PSEUDONYM_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "SIGNING_KEY_ENV",
    "SIGNING_KEY_FILE",
    "SIGNING_KEY_KIND",
    "KeyFiles",
    "PrivateKeyKind",
    "PseudonymKey",
    "generate_keys",
    "load_ed25519_public_key",
    "load_private_key",
    "load_pseudonym_key",
    "load_public_key",
    "load_signing_key",
    "signing_key_id",
]

#: The private signing key's file name in a key directory (mode 0600).
SIGNING_KEY_FILE = "signing-key.pem"
#: The public key's file name in a key directory (mode 0644).
PUBLIC_KEY_FILE = "signing-key.pub.pem"
#: The pseudonym key's file name in a key directory (mode 0600).
PSEUDONYM_KEY_FILE = "pseudonym.key"
#: The environment variable `load_signing_key` reads by default: the PEM text of the key.
SIGNING_KEY_ENV = "PURPOSEFUL_SIGNING_KEY"
#: The environment variable `load_pseudonym_key` reads by default: the JSON of the key.
PSEUDONYM_KEY_ENV = "PURPOSEFUL_PSEUDONYM_KEY"

_SECRET_BYTES = 32
_PSEUDONYM_BYTES = 16
_KEY_ID = re.compile(r"[0-9a-f]{8}\Z")
# No str encodes (UTF-8, even with surrogatepass) to bytes holding 0xff, so a derived key
# can never be the HMAC behind a pseudonym.
_DERIVE_PREFIX = b"\xff"


def _hidden(_: object) -> str:
    return "<hidden>"


def _check_key_id(_: object, __: attrs.Attribute[str], key_id: object) -> None:
    if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
        got = f"{len(key_id)} characters" if isinstance(key_id, str) else type(key_id).__name__
        raise ConfigurationError(
            f"a pseudonym key id must be 8 lower-case hex digits, such as '1a2b3c4d' "
            f"(got {got}); use PseudonymKey.generate() or {_NEW_KEYS_HINT}"
        )


def _check_secret(_: object, __: attrs.Attribute[bytes], secret: object) -> None:
    if not isinstance(secret, bytes):
        raise ConfigurationError(
            f"a pseudonym key's secret must be bytes, not {type(secret).__name__}; "
            f"use PseudonymKey.generate() or {_NEW_KEYS_HINT}"
        )
    if len(secret) < _SECRET_BYTES:
        raise ConfigurationError(
            f"a pseudonym key's secret must be at least {_SECRET_BYTES} random bytes, "
            f"got {len(secret)}; use PseudonymKey.generate() or {_NEW_KEYS_HINT}"
        )


@attrs.frozen
class PseudonymKey:
    """A key that turns subject identifiers into pseudonyms, and derives sub-keys.

    ``repr()`` shows the key id and hides the secret. Load one with `load_pseudonym_key`,
    or make a new one with `PseudonymKey.generate()`.

    Rotation: a new key has a new key id, and every pseudonym starts with the id of the key
    that made it, so pseudonyms made under the old key stay valid (and keep meaning the same
    person) under the old key. Keep the old key file as long as its pseudonyms are kept;
    a report over a period that spans a rotation takes every key file of that period.

    The key remembers the pseudonyms of the *cache_size* subjects it pseudonymised last
    (in memory only, never shown, pickled or copied), so a person read scope after scope
    costs one HMAC, not one per scope; `clear_cache` forgets them.

    Attributes:
        key_id: 8 lower-case hex digits naming the key; not secret.
        secret: at least 32 random bytes; never shown.
        cache_size: how many subject ids to remember (default 4096); 0 for none. Not part
            of the key's equality: two keys with the same id and secret are the same key.

    Raises:
        ConfigurationError: the key id, the secret or the cache size has the wrong form.
    """

    key_id: str = attrs.field(validator=_check_key_id)
    secret: bytes = attrs.field(repr=_hidden, validator=_check_secret)
    cache_size: int = attrs.field(
        default=DEFAULT_CACHE_SIZE, kw_only=True, eq=False, repr=False, validator=check_cache_size
    )
    _cache: PseudonymCache = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:  # after the validators
        object.__setattr__(self, "_cache", self._new_cache())

    def _new_cache(self) -> PseudonymCache:
        return PseudonymCache(f"{self.key_id}:", self.secret, _PSEUDONYM_BYTES, self.cache_size)

    @classmethod
    def generate(cls) -> PseudonymKey:
        """A new key: a random key id and 32 bytes from `secrets.token_bytes`."""
        return cls(secrets.token_hex(4), secrets.token_bytes(_SECRET_BYTES))

    def pseudonym(self, subject: str) -> str:
        """The pseudonym of *subject*: ``"<key id>:<32 hex digits>"``.

        The hex digits are the first 16 bytes of HMAC-SHA256 of the subject's UTF-8 bytes
        under the secret: the same subject always gets the same pseudonym under one key,
        and without the secret nobody can tell whose it is or make one. Not on the hot path:
        it runs when a scope reports, not on a field read; ~0.1 us for a subject among the
        last *cache_size*, ~1 us for one not (Python 3.11).

        Raises:
            TypeError: *subject* is not a str (convert ids with ``str()`` first).
        """
        if not isinstance(subject, str):
            raise TypeError(
                f"a subject id to pseudonymise must be a str, not {type(subject).__name__}; "
                "convert it with str() first"
            )
        return self._cache.pseudonym(subject)

    def clear_cache(self) -> None:
        """Forget the subject ids this key remembers and their pseudonyms (the only raw
        subject ids purposeful keeps after a scope has reported). Pseudonyms made later are
        the same; they cost an HMAC again."""
        self._cache.clear()

    def __getstate__(self) -> dict[str, object]:
        # The key, never its cache of subject ids: a copy or a pickle starts empty.
        return {"key_id": self.key_id, "secret": self.secret, "cache_size": self.cache_size}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_cache", self._new_cache())

    def derive(self, label: bytes) -> bytes:
        """A 32-byte sub-key for one use, named by *label*, such as ``b"purposeful/ledger/v1"``.

        Different labels give independent keys, so one secret can serve several uses
        without one use's key revealing another's. The sub-key is HMAC-SHA256 under the
        secret of a byte that no subject id's UTF-8 can start with, then *label*: a derived
        key is never the hash behind a pseudonym, whatever the label.

        Raises:
            TypeError: *label* is not bytes.
            ValueError: *label* is empty.
        """
        if not isinstance(label, bytes):
            raise TypeError(f"a sub-key label must be bytes, not {type(label).__name__}")
        if not label:
            raise ValueError("a sub-key label must not be empty; name the use, e.g. b'ledger'")
        return hmac.digest(self.secret, _DERIVE_PREFIX + label, "sha256")


@attrs.frozen
class KeyFiles:
    """Where `generate_keys` wrote the keys, and their ids. Holds no key material.

    Attributes:
        signing_key: the private signing key file (mode 0600).
        public_key: the public key file (mode 0644).
        pseudonym_key: the pseudonym key file (mode 0600).
        signing_key_id: `signing_key_id` of the new signing key.
        pseudonym_key_id: the new pseudonym key's id.
        encrypted: whether the signing key file is encrypted with a passphrase.
    """

    signing_key: Path
    public_key: Path
    pseudonym_key: Path
    signing_key_id: str
    pseudonym_key_id: str
    encrypted: bool


def signing_key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """A short id for a signing key pair: the first 8 hex digits of SHA-256 of the public key.

    The private key and its public key have the same id. It tells keys apart (which key
    signed this checkpoint?); it is a label, not a check: verify with the public key itself.
    """
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:8]


# --- generating ----------------------------------------------------------------------------


def generate_keys(
    directory: str | os.PathLike[str], *, passphrase: str | bytes | None = None, force: bool = False
) -> KeyFiles:
    """Create a new signing key pair and pseudonym key in *directory*.

    Writes `SIGNING_KEY_FILE` (mode 0600; encrypted with *passphrase* if given, with
    cryptography's best available encryption), `PUBLIC_KEY_FILE` (mode 0644) and
    `PSEUDONYM_KEY_FILE` (mode 0600). The directory is created (mode 0700) if missing.

    Every file is written to a temporary file in the same directory, flushed to disk and
    renamed into place, so a failure leaves no partial key file. All three are written
    before any is put in place; if putting one in place fails, the new files already in
    place are removed again (unless *force* replaced old ones).

    Args:
        directory: where to write the keys.
        passphrase: encrypts the signing key; give it again to `load_signing_key`.
        force: replace existing key files. Keep the old ones first if anything was signed
            or pseudonymised with them.

    Raises:
        KeyFileError: a key file already exists (and *force* is false), or the directory
            cannot be created or written. Nothing was replaced, except if *force* was
            given and putting the files in place failed part way: the message then names
            the files already replaced.
        PassphraseError: *passphrase* is empty or neither str nor bytes.
    """
    folder = Path(directory)
    secret_passphrase = passphrase_bytes(passphrase, folder)
    targets = [folder / PSEUDONYM_KEY_FILE, folder / PUBLIC_KEY_FILE, folder / SIGNING_KEY_FILE]
    make_directory(folder)
    if not force:
        existing = [t.name for t in targets if t.exists() or t.is_symlink()]
        if existing:
            raise KeyFileError(_exists_message(folder, existing), source=folder)

    signing = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret_passphrase)
        if secret_passphrase is not None
        else serialization.NoEncryption()
    )
    pseudonym = PseudonymKey.generate()
    contents = [
        (_pseudonym_key_json(pseudonym), 0o600),
        (
            signing.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            0o644,
        ),
        (
            signing.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            ),
            0o600,
        ),
    ]
    write_all(folder, list(zip(targets, contents, strict=True)), force=force)
    return KeyFiles(
        signing_key=targets[2],
        public_key=targets[1],
        pseudonym_key=targets[0],
        signing_key_id=signing_key_id(signing),
        pseudonym_key_id=pseudonym.key_id,
        encrypted=secret_passphrase is not None,
    )


def _exists_message(folder: Path, names: list[str]) -> str:
    return (
        f"{folder} already holds {', '.join(names)}: keys are never replaced by accident. "
        "Keep the old keys if anything was signed or pseudonymised with them, then replace "
        "them with `purposeful keys new --force` (force=True in code), or choose another "
        "directory"
    )


def _pseudonym_key_json(key: PseudonymKey) -> bytes:
    secret = base64.b64encode(key.secret).decode("ascii")
    return (json.dumps({"key_id": key.key_id, "secret": secret}) + "\n").encode("ascii")


def make_directory(folder: Path) -> None:
    """Create *folder* for keys (mode 0700) if missing, or raise a `KeyFileError` naming it."""
    problem = None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        problem = "exists but is not a directory; choose a directory for the keys"
    except OSError as exc:
        problem = f"cannot be created ({exc.strerror}); check the path and its permissions"
    if problem is not None:
        raise KeyFileError(f"{folder} {problem}", source=folder)


def write_all(folder: Path, files: list[tuple[Path, tuple[bytes, int]]], *, force: bool) -> None:
    """Write every ``(target, (data, mode))`` to a synced temporary file, then put each in place.

    Raises:
        KeyFileError: a target exists (and *force* is false) or a write failed; the files
            already put in place are removed again, unless *force* replaced old ones (the
            message then names them).
    """
    temporaries: list[Path] = []
    placed: list[Path] = []
    problem = None
    try:
        for target, (data, mode) in files:
            temporaries.append(write_temporary(folder, target.name, data, mode))
        for temporary, (target, _) in zip(temporaries, files, strict=True):
            if not put_in_place(temporary, target, force=force):
                problem = _exists_message(folder, [target.name])
                break
            placed.append(target)
    except OSError as exc:
        problem = (
            f"could not write the keys to {folder} ({exc.strerror or type(exc).__name__}); "
            "check free space and permissions, then try again"
        )
    finally:
        for temporary in temporaries:
            with contextlib.suppress(OSError):
                temporary.unlink()
    if problem is not None:
        if force and placed:
            names = ", ".join(p.name for p in placed)
            problem += f". Already replaced with new keys: {names}; run again to finish"
        else:
            for target in placed:
                with contextlib.suppress(OSError):
                    target.unlink()
            problem += "; no key file was written"
        raise KeyFileError(problem, source=folder)
    sync_directory(folder)


# --- loading -------------------------------------------------------------------------------


def load_signing_key(
    path: str | os.PathLike[str] | None = None,
    *,
    passphrase: str | bytes | None = None,
    env: str | None = SIGNING_KEY_ENV,
) -> Ed25519PrivateKey:
    """Load the private signing key from *path*, or else from the environment variable *env*.

    The variable holds the key's PEM text, the content of ``signing-key.pem`` (as secrets
    managers and container platforms inject it), not a file path; a literal ``\\n`` in it is
    read as a line break, for platforms that cannot hold multi-line values. A file must not
    be open to other users: on POSIX systems its mode must allow nothing to group and
    others (``chmod 600``).

    Args:
        path: the PEM file; when given, the environment is not read.
        passphrase: the passphrase the key was encrypted with, if it was.
        env: the variable to read when *path* is None; None to never read one.

    Raises:
        KeyFileError: no key was given, or the file or variable is missing, open to other
            users, not PEM, damaged, or holds a key that is not an Ed25519 private key.
        PassphraseError: the key is encrypted and *passphrase* is missing or wrong, or
            *passphrase* is given for a key that is not encrypted.
    """
    return load_private_key(path, passphrase=passphrase, env=env, kind=SIGNING_KEY_KIND)


def load_private_key(
    path: str | os.PathLike[str] | None,
    *,
    passphrase: str | bytes | None,
    env: str | None,
    kind: PrivateKeyKind,
) -> Ed25519PrivateKey:
    """`load_signing_key` for any Ed25519 key pair of *kind*: its messages name the kind's
    files and the command that makes them."""
    if path is not None:
        file = Path(path)
        pem = read_key_file(
            file, private=True, hint=kind.hint, public=b"-----BEGIN PUBLIC KEY-----"
        )
        return _parse_signing_key(pem, passphrase, source=file, name=str(file), kind=kind)
    text = _read_env(env, what=kind.what, form=f"the PEM text of {kind.file}", hint=kind.hint)
    text = text.replace("\\n", "\n") if "\n" not in text else text
    pem = text.encode("utf-8", "replace")
    return _parse_signing_key(pem, passphrase, source=f"${env}", name=f"${env}", kind=kind)


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Load the public key of a signing key pair from its PEM file (``signing-key.pub.pem``).

    Raises:
        KeyFileError: the file is missing or unreadable, not PEM, damaged, or does not hold
            an Ed25519 public key.
    """
    return load_ed25519_public_key(path, kind=SIGNING_KEY_KIND)


def load_ed25519_public_key(
    path: str | os.PathLike[str], *, kind: PrivateKeyKind
) -> Ed25519PublicKey:
    """`load_public_key` for the public half of any key pair of *kind*."""
    file = Path(path)
    pem = read_key_file(file, private=False, hint=kind.hint)
    problem = None
    if b"PRIVATE KEY-----" in pem:
        problem = (
            f"holds a private key, not a public key; pass the public key file "
            f"({kind.public_file}), and keep the private one where only its owner can read it"
        )
    elif b"-----BEGIN" not in pem:
        problem = f"is not a PEM public key file; pass the {kind.public_file} that came with it"
    else:
        key = _load_pem(serialization.load_pem_public_key, pem)
        if key is None:
            problem = f"is not a readable PEM public key (damaged?); {kind.hint}"
        elif not isinstance(key, Ed25519PublicKey):
            problem = (
                f"holds {_describe_key(key)}, not an Ed25519 public key: purposeful signs "
                f"with Ed25519 only; {kind.hint}"
            )
        else:
            return key
    raise KeyFileError(f"{file} {problem}", source=file)


def load_pseudonym_key(
    path: str | os.PathLike[str] | None = None, *, env: str | None = PSEUDONYM_KEY_ENV
) -> PseudonymKey:
    """Load the pseudonym key from *path*, or else from the environment variable *env*.

    Both hold the JSON that ``purposeful keys new`` writes to ``pseudonym.key``:
    ``{"key_id": "<8 hex digits>", "secret": "<base64 of 32 or more random bytes>"}``.
    A file must not be open to other users (``chmod 600``), as for `load_signing_key`.

    Args:
        path: the key file; when given, the environment is not read.
        env: the variable to read when *path* is None; None to never read one.

    Raises:
        KeyFileError: no key was given, or the file or variable is missing, open to other
            users, or does not hold a pseudonym key in that form.
    """
    if path is not None:
        file = Path(path)
        data = read_key_file(file, private=True, public=_PEM, public_problem=_PEM_NOT_PSEUDONYM)
        return _parse_pseudonym_key(data, source=file, name=str(file))
    text = _read_env(env, what="pseudonym key", form="the JSON of pseudonym.key")
    return _parse_pseudonym_key(text.encode("utf-8", "replace"), source=f"${env}", name=f"${env}")


def _read_env(env: str | None, *, what: str, form: str, hint: str = _NEW_KEYS_HINT) -> str:
    """The value of the variable *env*, or a `KeyFileError` saying how to give the key."""
    value = os.environ.get(env) if env is not None else None
    if value is not None and value.strip():
        return value
    if env is None:
        message = f"no {what} given: pass the path of its file"
    elif value is None:
        message = f"no {what} given: pass the path of its file, or set ${env} to {form} ({hint})"
    else:
        message = f"${env} is set but empty: set it to {form}, or pass the path of the file"
    raise KeyFileError(message, source=f"${env}" if env is not None else None)


def _parse_signing_key(
    pem: bytes,
    passphrase: str | bytes | None,
    *,
    source: Path | str,
    name: str,
    kind: PrivateKeyKind,
) -> Ed25519PrivateKey:
    in_env = isinstance(source, str)
    not_pem = (
        f"does not hold PEM text: set it to the content of {kind.file} "
        f"(-----BEGIN PRIVATE KEY----- ...), not to a file path; to load a file, pass its "
        f"path to {kind.loader}"
        if in_env
        else f"is not a PEM file; pass the {kind.file} ({kind.hint})"
    )
    key: Ed25519PrivateKey = _parse_private_key(
        pem, passphrase, kind, source=source, name=name, not_pem=not_pem
    )
    return key


@attrs.frozen
class PrivateKeyKind:
    """What a private key file must hold, and the words for when it does not.

    Attributes:
        cls: the private key class expected.
        what: what the key is, e.g. ``"private signing key"``.
        file, public_file: the names of the key pair's files.
        public_loader: the function that loads the public half.
        wrong_kind: said after "holds <the key found>, " when the key is of another kind.
        hint: how to make a new key pair.
        clear_hint: how to make an encrypted key, for a key stored in the clear.
        loader: the function that loads the private key (named when a variable holds a
            path instead of the key).
    """

    cls: type
    what: str
    file: str
    public_file: str
    public_loader: str
    wrong_kind: str
    hint: str
    clear_hint: str = ""
    loader: str = "load_signing_key"


#: The ledger and bundle signing key, as `load_signing_key` reads it.
SIGNING_KEY_KIND = PrivateKeyKind(
    Ed25519PrivateKey,
    "private signing key",
    SIGNING_KEY_FILE,
    PUBLIC_KEY_FILE,
    "load_public_key",
    "not an Ed25519 key: purposeful signs with Ed25519 only",
    _NEW_KEYS_HINT,
    " (`purposeful keys new DIR --passphrase-env VAR`)",
)


def _parse_private_key(
    pem: bytes,
    passphrase: str | bytes | None,
    kind: PrivateKeyKind,
    *,
    source: Path | str,
    name: str,
    not_pem: str,
    describe: Callable[[object], str] | None = None,
) -> Any:
    """The private key of *kind* in *pem*, or a `KeyFileError`/`PassphraseError` saying what
    is wrong with *name* (a file or a variable) and what to do."""
    secret_passphrase = passphrase_bytes(passphrase, source)
    encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem or b"4,ENCRYPTED" in pem
    error: type[KeyFileError] = KeyFileError
    if b"-----BEGIN" not in pem:
        problem = not_pem
    elif b"PRIVATE KEY-----" not in pem and b"PUBLIC KEY-----" in pem:
        problem = (
            f"holds a public key, not the {kind.what}; use {kind.file} "
            f"(the {kind.public_file} is for {kind.public_loader})"
        )
    elif encrypted and secret_passphrase is None:
        error = PassphraseError
        problem = "is encrypted with a passphrase; pass it as passphrase="
    elif not encrypted and secret_passphrase is not None:
        error = PassphraseError
        problem = (
            "is not encrypted, but a passphrase was given: the key is stored in the clear. "
            f"Leave out the passphrase, or create keys with one{kind.clear_hint}"
        )
    else:
        key = _load_pem(serialization.load_pem_private_key, pem, secret_passphrase)
        if key is None and encrypted:
            error = PassphraseError
            problem = "could not be decrypted: the passphrase is wrong (or the key is damaged)"
        elif key is None:
            problem = f"is not a readable PEM private key (damaged?); {kind.hint}"
        elif not isinstance(key, kind.cls):
            found = (describe or _describe_key)(key)
            problem = f"holds {found}, {kind.wrong_kind}; {kind.hint}"
        else:
            return key
    raise error(f"{name} {problem}", source=source)


def _load_pem(loader: Any, *args: Any) -> Any:
    """*loader*'s key, or None if it fails.

    The error is dropped here, so the caller raises its own outside any handler and nothing
    chained to it can carry key material.
    """
    try:
        return loader(*args)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None


_KEY_KINDS: tuple[tuple[tuple[type, ...], str], ...] = (
    ((rsa.RSAPrivateKey, rsa.RSAPublicKey), "an RSA key"),
    ((ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey), "an elliptic-curve (ECDSA) key"),
    ((dsa.DSAPrivateKey, dsa.DSAPublicKey), "a DSA key"),
    ((ed448.Ed448PrivateKey, ed448.Ed448PublicKey), "an Ed448 key"),
    ((x25519.X25519PrivateKey, x25519.X25519PublicKey), "an X25519 key"),
    ((x448.X448PrivateKey, x448.X448PublicKey), "an X448 key"),
    ((Ed25519PublicKey,), "an Ed25519 public key"),
)


def _describe_key(key: object) -> str:
    for kinds, description in _KEY_KINDS:
        if isinstance(key, kinds):
            return description
    return "a key of another kind"


def passphrase_bytes(passphrase: str | bytes | None, source: Path | str) -> bytes | None:
    """A key's passphrase as bytes (a str as UTF-8), or None for none.

    Raises:
        PassphraseError: *passphrase* is empty, or neither str nor bytes; names *source*.
    """
    if passphrase is None:
        return None
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8", "surrogatepass")
    if not isinstance(passphrase, bytes):
        raise PassphraseError(
            f"a passphrase must be a str or bytes, not {type(passphrase).__name__}",
            source=source,
        )
    if not passphrase:
        raise PassphraseError(
            "the passphrase is empty, which protects nothing; give a non-empty one, or none",
            source=source,
        )
    return passphrase


#: What a pseudonym key file holds, as its errors say.
_PSEUDONYM_FORM: Final = '{"key_id": "<8 hex digits>", "secret": "<base64 of 32 random bytes>"}'
#: How a PEM file starts: the signing key, or its public key, given for the pseudonym key.
_PEM: Final = b"-----BEGIN"
_PEM_NOT_PSEUDONYM: Final = (
    "is a PEM key (the signing key or its public key?), not the pseudonym key: pass "
    f"{PSEUDONYM_KEY_FILE}, which holds {_PSEUDONYM_FORM}"
)


def _parse_pseudonym_key(data: bytes, *, source: Path | str, name: str) -> PseudonymKey:
    form = _PSEUDONYM_FORM
    problem = None
    document: object = None
    if starts_with(data, _PEM):
        raise KeyFileError(f"{name} {_PEM_NOT_PSEUDONYM}", source=source)
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        # The position only: the error itself holds the whole document, secret included.
        problem = f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    except ValueError:
        problem = "is not UTF-8 text"
    except RecursionError:
        problem = "nests arrays or objects too deeply to be a pseudonym key"
    if problem is None:
        problem = _pseudonym_key_problem(document)
    if problem is None:
        assert isinstance(document, dict)
        return PseudonymKey(document["key_id"], base64.b64decode(document["secret"]))
    raise KeyFileError(f"{name} {problem}; it must hold {form}", source=source)


def _pseudonym_key_problem(document: object) -> str | None:
    """What is wrong with a parsed pseudonym key document, never quoting the secret."""
    if not isinstance(document, dict):
        return f"holds a JSON {type(document).__name__}, not an object"
    if set(document) != {"key_id", "secret"}:
        missing = sorted({"key_id", "secret"} - set(document))
        if missing:
            return f"is missing {' and '.join(missing)}"
        return "has fields other than key_id and secret"
    key_id, secret = document["key_id"], document["secret"]
    if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
        return "has a key_id that is not 8 lower-case hex digits"
    if not isinstance(secret, str):
        return "has a secret that is not a string"
    try:
        raw = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        return "has a secret that is not base64"
    if len(raw) < _SECRET_BYTES:
        return f"has a secret of {len(raw)} bytes, fewer than {_SECRET_BYTES}"
    return None
