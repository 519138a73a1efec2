"""Encrypting a whole subject-access bundle for delivery, to a passphrase or to a recipient key.

A bundle (a zip file, possibly tens of megabytes) is encrypted either to a **passphrase**
(scrypt, then AES-256-GCM), told to the requester by another channel, or to a recipient's
**X25519 public key** (an ephemeral X25519 key agreement and HKDF-SHA256, then AES-256-GCM),
made with `generate_recipient_keys`. Both directions stream: the bundle goes through in
64 KiB segments, so memory stays flat however large it is.

`encrypt_stream` and `decrypt_stream` work on binary streams the caller opens;
`encrypt_file` and `decrypt_file` work on paths and write atomically.

File format, version 1
----------------------

All integers are unsigned, big-endian::

    offset  size  field
    0       28    magic: b"PURPOSEFUL-ENCRYPTED-BUNDLE\\n" (`MAGIC`)
    28      1     format version: 1
    29      1     mode: 1 = passphrase, 2 = X25519 recipient
    30      ...   the mode's parameters:
                    mode 1: 16-byte random salt, then scrypt's log2(n), r and p, 1 byte each
                            (header: 49 bytes)
                    mode 2: the 32-byte raw ephemeral X25519 public key, then a 16-byte
                            random salt (header: 78 bytes)
    header  ...   segments, each the AES-256-GCM encryption of 64 KiB of plaintext followed
                  by its 16-byte tag (65 552 bytes), except the last

The 32-byte AES key is derived directly, and is unique per file (a fresh random salt, and
in mode 2 a fresh ephemeral key):

- mode 1: ``scrypt(passphrase as UTF-8, salt, n = 2**log2_n, r, p)``. New files use
  log2(n) = 15, r = 8, p = 1: about 32 MiB of memory and well under a second, enough that
  guessing a passphrase costs real work while a caseworker's laptop opens a bundle at once.
  The parameters travel in the header, so a later version can use stronger ones (up to
  log2(n) = 20 with r = 8: 1 GiB and a few seconds) without breaking old files.
  Decryption refuses log2(n) > 20, r > 16 or p > 4, so a crafted header can ask for at
  most 2 GiB (128 * r * n) rather than exhaust the reader's memory.
- mode 2: ``HKDF-SHA256(ikm = shared || ephemeral public || recipient public, salt,
  info = b"purposeful bundle v1")``, where *shared* is the X25519 agreement of the ephemeral
  private key with the recipient's public key (the recipient computes it from its private
  key and the ephemeral public key). Binding both public keys ties the key to this pair.

Segments follow the STREAM construction (as in age and Tink). Segment *i* (from 0) is
encrypted under the nonce ``i as 11 bytes || final flag`` (1 byte: 0x01 on the last
segment, 0x00 on every other), with the whole header as associated data. Every segment but
the last holds exactly 64 KiB of plaintext; the last holds less, possibly nothing (an empty
bundle, or one whose size is a multiple of 64 KiB, ends with a segment that is only a tag).
So a reader knows the last segment by its size and checks it with the flag: a header that
was changed, a segment flipped, moved, dropped or repeated, a file cut short (even at a
segment boundary) or extended past its last segment all fail authentication or end without
a final segment, and decryption raises `BundleDecryptionError`.

What this module must not do: put a passphrase, key material or plaintext in a message
(errors name the file, the segment and what to do); leave a half-written output file
(`encrypt_file`, `decrypt_file`); replace an existing file unless asked; run scrypt with
parameters that could exhaust memory. The stream functions write each segment as soon as
it is authenticated, so on an error the target holds partial plaintext: the caller must
discard it, as the file functions do.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .._files import atomic_file
from .._shared.keys import (
    NEW_KEYS_HINT,
    PrivateKeyKind,
    describe_key,
    load_pem,
    make_directory,
    parse_private_key,
    passphrase_bytes,
    read_key_file,
    write_all,
)
from ..errors import (
    BundleDecryptionError,
    BundleError,
    ConfigurationError,
    KeyFileError,
)

__all__ = [
    "MAGIC",
    "RECIPIENT_KEY_FILE",
    "RECIPIENT_PUBLIC_KEY_FILE",
    "decrypt_file",
    "decrypt_stream",
    "encrypt_file",
    "encrypt_stream",
    "generate_recipient_keys",
    "is_encrypted",
    "load_recipient_private_key",
    "load_recipient_public_key",
]

#: The first bytes of every encrypted bundle.
MAGIC = b"PURPOSEFUL-ENCRYPTED-BUNDLE\n"
#: The recipient's private key file name in a key directory (mode 0600).
RECIPIENT_KEY_FILE = "recipient-key.pem"
#: The recipient's public key file name in a key directory (mode 0644); give it to senders.
RECIPIENT_PUBLIC_KEY_FILE = "recipient-key.pub.pem"

_VERSION = 1
_MODE_PASSPHRASE = 1
_MODE_RECIPIENT = 2
_SALT_BYTES = 16
_KEY_BYTES = 32
_PUBLIC_KEY_BYTES = 32
_SEGMENT_BYTES = 64 * 1024
_TAG_BYTES = 16
_COUNTER_BYTES = 11
_HKDF_INFO = b"purposeful bundle v1"

# scrypt cost for new files: n = 2**15, r = 8 takes 128 * r * n = 32 MiB and ~0.1 s.
_SCRYPT_LOG2_N = 15
_SCRYPT_R = 8
_SCRYPT_P = 1
# The most a header may ask of a reader.
_MAX_SCRYPT_LOG2_N = 20
_MAX_SCRYPT_R = 16
_MAX_SCRYPT_P = 4

_NEW_RECIPIENT_KEYS_HINT = "create a key pair with generate_recipient_keys(DIR)"
_DISCARD = "discard any output and get the file again"

# What decrypting needs: a passphrase, a private key, or (not known yet) nothing.
_Secret = bytes | X25519PrivateKey | None


def is_encrypted(prefix: bytes) -> bool:
    """Whether *prefix*, the first bytes of a file, starts like an encrypted bundle.

    Read at least ``len(MAGIC)`` bytes; a shorter prefix is never taken for one.
    """
    return prefix.startswith(MAGIC)


# --- streams -------------------------------------------------------------------------------


def encrypt_stream(
    source: BinaryIO,
    target: BinaryIO,
    *,
    passphrase: str | bytes | None = None,
    recipient: X25519PublicKey | None = None,
) -> None:
    """Encrypt everything *source* holds into *target*, a segment at a time.

    Args:
        source: read to its end.
        target: written from its current position; not closed or flushed.
        passphrase: encrypt with this passphrase (a str is taken as UTF-8).
        recipient: encrypt to this X25519 public key (`load_recipient_public_key`).

    Raises:
        ConfigurationError: not exactly one of *passphrase* and *recipient* was given, the
            passphrase is empty, or *recipient* is not an X25519 public key. Nothing was
            read or written.
        OSError: reading *source* or writing *target* failed; *target* holds part of the
            output and must be discarded.
    """
    _encrypt(source, target, _encryption_secret(passphrase, recipient))


def _encrypt(source: BinaryIO, target: BinaryIO, secret: bytes | X25519PublicKey) -> None:
    header, key = _new_header(secret)
    target.write(header)
    aead = AESGCM(key)
    counter = 0
    while True:
        chunk = _read_up_to(source, _SEGMENT_BYTES)
        final = len(chunk) < _SEGMENT_BYTES
        target.write(aead.encrypt(_nonce(counter, final=final), chunk, header))
        if final:
            return
        counter += 1


def decrypt_stream(
    source: BinaryIO,
    target: BinaryIO,
    *,
    passphrase: str | bytes | None = None,
    private_key: X25519PrivateKey | None = None,
) -> None:
    """Decrypt an encrypted bundle from *source* into *target*, a segment at a time.

    Each segment is written once it is authenticated, so on an error *target* holds part
    of the plaintext: the caller must discard it (`decrypt_file` does). Success means the
    whole bundle was read, unchanged and complete.

    Args:
        source: read to its end.
        target: written from its current position; not closed or flushed.
        passphrase: for a bundle encrypted with a passphrase.
        private_key: for a bundle encrypted to a recipient (`load_recipient_private_key`).

    Raises:
        ConfigurationError: both *passphrase* and *private_key* were given, the passphrase
            is empty, or *private_key* is not an X25519 private key.
        BundleDecryptionError: *source* is not an encrypted bundle, has a version or mode
            this version cannot read, needs the other kind of secret (or none was given),
            asks for scrypt parameters too costly to run, or fails authentication: the
            wrong passphrase or key, or a file that was changed, cut short or extended.
        OSError: reading *source* or writing *target* failed.
    """
    _decrypt(source, target, _decryption_secret(passphrase, private_key))


def _decrypt(source: BinaryIO, target: BinaryIO, secret: _Secret) -> None:
    header, key = _read_header(source, secret)
    aead = AESGCM(key)
    counter = 0
    while True:
        chunk = _read_up_to(source, _SEGMENT_BYTES + _TAG_BYTES)
        final = len(chunk) < _SEGMENT_BYTES + _TAG_BYTES
        if final and len(chunk) < _TAG_BYTES:
            raise BundleDecryptionError(_cut_short_message(counter, ended_cleanly=not chunk))
        plaintext = _open_segment(aead, counter, chunk, header, final=final)
        if plaintext is None:
            raise BundleDecryptionError(_authentication_message(counter))
        target.write(plaintext)
        if final:
            return
        counter += 1


def _encryption_secret(
    passphrase: str | bytes | None, recipient: X25519PublicKey | None
) -> bytes | X25519PublicKey:
    if (passphrase is None) == (recipient is None):
        raise ConfigurationError(
            "give exactly one of passphrase= (to encrypt with a passphrase) or recipient= "
            "(to encrypt to a recipient's X25519 public key)"
        )
    if recipient is None:
        return _passphrase_secret(passphrase)
    if not isinstance(recipient, X25519PublicKey):
        hint = (
            "pass its public key (private_key.public_key()); the private key stays with the "
            "recipient"
            if isinstance(recipient, X25519PrivateKey)
            else f"load the recipient's {RECIPIENT_PUBLIC_KEY_FILE} with load_recipient_public_key"
        )
        raise ConfigurationError(
            f"recipient= must be an X25519 public key, not {_kind(recipient)}; {hint}"
        )
    return recipient


def _decryption_secret(
    passphrase: str | bytes | None, private_key: X25519PrivateKey | None
) -> _Secret:
    if passphrase is not None and private_key is not None:
        raise ConfigurationError(
            "give one of passphrase= or private_key=, not both: a bundle is encrypted to one"
        )
    if passphrase is not None:
        return _passphrase_secret(passphrase)
    if private_key is not None and not isinstance(private_key, X25519PrivateKey):
        raise ConfigurationError(
            f"private_key= must be an X25519 private key, not {_kind(private_key)}; load the "
            f"recipient's {RECIPIENT_KEY_FILE} with load_recipient_private_key"
        )
    return private_key


def _passphrase_secret(passphrase: object) -> bytes:
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8", "surrogatepass")
    if not isinstance(passphrase, bytes):
        raise ConfigurationError(
            f"a passphrase must be a str or bytes, not {type(passphrase).__name__}"
        )
    if not passphrase:
        raise ConfigurationError("the passphrase is empty, which protects nothing; give one")
    return passphrase


def _kind(key: object) -> str:
    if isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        return "an Ed25519 key (a signing key)"
    if isinstance(key, X25519PrivateKey):
        return "an X25519 private key"
    description = describe_key(key)
    return description if description != "a key of another kind" else type(key).__name__


def _new_header(secret: bytes | X25519PublicKey) -> tuple[bytes, bytes]:
    """A new file's header and its AES key."""
    salt = secrets.token_bytes(_SALT_BYTES)
    start = MAGIC + bytes([_VERSION])
    if isinstance(secret, bytes):
        log2_n, r, p = _SCRYPT_LOG2_N, _SCRYPT_R, _SCRYPT_P
        header = start + bytes([_MODE_PASSPHRASE]) + salt + bytes([log2_n, r, p])
        return header, _scrypt(secret, salt, log2_n, r, p)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    try:
        shared = ephemeral.exchange(secret)
    except ValueError:
        shared = None
    if shared is None:  # raised outside the handler: nothing chained
        raise ConfigurationError(
            "the recipient's public key is not usable (a degenerate X25519 point); ask the "
            f"recipient for the {RECIPIENT_PUBLIC_KEY_FILE} written by generate_recipient_keys"
        )
    header = start + bytes([_MODE_RECIPIENT]) + ephemeral_public + salt
    return header, _hkdf(shared, ephemeral_public, secret.public_bytes_raw(), salt)


def _read_header(source: BinaryIO, secret: _Secret) -> tuple[bytes, bytes]:
    """The header read from *source*, and the AES key *secret* gives for it."""
    start = _read_up_to(source, len(MAGIC) + 2)
    if not start:
        raise BundleDecryptionError(
            "the input is empty: not an encrypted purposeful bundle; check the path"
        )
    if not start.startswith(MAGIC):
        if len(start) < len(MAGIC) and MAGIC.startswith(start):
            raise BundleDecryptionError(_header_cut_short())
        raise BundleDecryptionError(
            "the input is not an encrypted purposeful bundle (it does not start with "
            "PURPOSEFUL-ENCRYPTED-BUNDLE); if it is a plain bundle (a zip file), open it "
            "without decrypting"
        )
    if len(start) < len(MAGIC) + 2:
        raise BundleDecryptionError(_header_cut_short())
    version, mode = start[len(MAGIC)], start[len(MAGIC) + 1]
    if version != _VERSION:
        raise BundleDecryptionError(
            f"the encrypted bundle has format version {version}, which this version of "
            f"purposeful cannot read (it reads version {_VERSION}); upgrade purposeful, or the "
            "file is damaged"
        )
    if mode == _MODE_PASSPHRASE:
        parameters = _read_up_to(source, _SALT_BYTES + 3)
        if len(parameters) < _SALT_BYTES + 3:
            raise BundleDecryptionError(_header_cut_short())
        if not isinstance(secret, bytes):
            given = "a private key was given" if secret is not None else "none was given"
            raise BundleDecryptionError(
                f"the bundle is encrypted with a passphrase, but {given}; pass the "
                "passphrase as passphrase="
            )
        salt = parameters[:_SALT_BYTES]
        log2_n, r, p = parameters[_SALT_BYTES:]
        return start + parameters, _scrypt_for_reading(secret, salt, log2_n, r, p)
    if mode == _MODE_RECIPIENT:
        parameters = _read_up_to(source, _PUBLIC_KEY_BYTES + _SALT_BYTES)
        if len(parameters) < _PUBLIC_KEY_BYTES + _SALT_BYTES:
            raise BundleDecryptionError(_header_cut_short())
        if not isinstance(secret, X25519PrivateKey):
            given = "a passphrase was given" if secret is not None else "none was given"
            raise BundleDecryptionError(
                f"the bundle is encrypted to a recipient's X25519 key, but {given}; pass the "
                f"recipient's private key ({RECIPIENT_KEY_FILE}, loaded with "
                "load_recipient_private_key) as private_key="
            )
        ephemeral_public = parameters[:_PUBLIC_KEY_BYTES]
        salt = parameters[_PUBLIC_KEY_BYTES:]
        try:
            shared = secret.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        except ValueError:
            shared = None
        if shared is None:
            raise BundleDecryptionError(
                f"the encrypted bundle's header holds an unusable ephemeral key: the file is "
                f"damaged; {_DISCARD}"
            )
        recipient_public = secret.public_key().public_bytes_raw()
        return start + parameters, _hkdf(shared, ephemeral_public, recipient_public, salt)
    raise BundleDecryptionError(
        f"the encrypted bundle uses encryption mode {mode}, which this version of purposeful "
        "does not know; upgrade purposeful, or the file is damaged"
    )


def _scrypt(passphrase: bytes, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=_KEY_BYTES, n=1 << log2_n, r=r, p=p).derive(passphrase)


def _scrypt_for_reading(passphrase: bytes, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    """`_scrypt` under a header's parameters, if they are sound and affordable."""
    asked = f"log2 n = {log2_n}, r = {r}, p = {p}"
    if min(log2_n, r, p) < 1:
        raise BundleDecryptionError(
            f"the encrypted bundle's scrypt parameters are invalid ({asked}): the file is "
            f"damaged; {_DISCARD}"
        )
    if log2_n > _MAX_SCRYPT_LOG2_N or r > _MAX_SCRYPT_R or p > _MAX_SCRYPT_P:
        raise BundleDecryptionError(
            f"scrypt parameters too costly; refusing to avoid exhausting memory: the "
            f"encrypted bundle's header asks for {asked}, and at most log2 n = "
            f"{_MAX_SCRYPT_LOG2_N}, r = {_MAX_SCRYPT_R}, p = {_MAX_SCRYPT_P} are accepted. "
            "The file is damaged or was not written by purposeful"
        )
    try:
        return _scrypt(passphrase, salt, log2_n, r, p)
    except MemoryError:
        pass  # OpenSSL also refuses parameters that do not fit together (r = 1, n > 2**15)
    raise BundleDecryptionError(
        f"could not derive the key with the encrypted bundle's scrypt parameters ({asked}): "
        "not enough memory, or parameters that do not fit together. The file is damaged, "
        "or needs a machine with more memory"
    )


def _hkdf(shared: bytes, ephemeral_public: bytes, recipient_public: bytes, salt: bytes) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=salt, info=_HKDF_INFO)
    return kdf.derive(shared + ephemeral_public + recipient_public)


def _nonce(counter: int, *, final: bool) -> bytes:
    return counter.to_bytes(_COUNTER_BYTES, "big") + (b"\x01" if final else b"\x00")


def _open_segment(
    aead: AESGCM, counter: int, chunk: bytes, header: bytes, *, final: bool
) -> bytes | None:
    """The plaintext of one segment, or None if it fails authentication."""
    try:
        return aead.decrypt(_nonce(counter, final=final), chunk, header)
    except InvalidTag:
        return None


def _authentication_message(counter: int) -> str:
    if counter == 0:
        return (
            "could not decrypt the bundle: wrong passphrase or key, or the file is damaged; "
            "check the secret, and if it is right, get the file again"
        )
    return (
        f"the encrypted bundle is damaged or cut short: segment {counter + 1} failed "
        f"authentication; {_DISCARD}"
    )


def _cut_short_message(counter: int, *, ended_cleanly: bool) -> str:
    where = (
        f"after segment {counter} without its final segment"
        if ended_cleanly and counter > 0
        else f"inside segment {counter + 1}"
    )
    return f"the encrypted bundle is cut short: it ends {where}; {_DISCARD}"


def _header_cut_short() -> str:
    return f"the encrypted bundle is cut short: it ends inside its header; {_DISCARD}"


def _read_up_to(source: BinaryIO, size: int) -> bytes:
    """*size* bytes from *source*, or fewer only at its end (a read may return less)."""
    data = source.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    missing = size - len(data)
    while missing:
        more = source.read(missing)
        if not more:
            break
        parts.append(more)
        missing -= len(more)
    return b"".join(parts)


# --- files ---------------------------------------------------------------------------------


def encrypt_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    passphrase: str | bytes | None = None,
    recipient: X25519PublicKey | None = None,
    overwrite: bool = False,
) -> Path:
    """Encrypt the file *source* into a new file *target*, as `encrypt_stream` does.

    The output goes to a temporary file next to *target* (mode 0600), is flushed to disk
    and renamed into place, so *target* is either complete or untouched.

    Returns:
        *target* as a `Path`.

    Raises:
        ConfigurationError: as for `encrypt_stream`; nothing was read or written.
        BundleError: *source* is missing or unreadable, *target* exists and *overwrite* is
            false, or *target* cannot be written. Nothing was written.
    """
    secret = _encryption_secret(passphrase, recipient)
    return _transform_file(
        source,
        target,
        lambda reader, writer: _encrypt(reader, writer, secret),
        verb="encrypt",
        overwrite=overwrite,
    )


def decrypt_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    passphrase: str | bytes | None = None,
    private_key: X25519PrivateKey | None = None,
    overwrite: bool = False,
) -> Path:
    """Decrypt the encrypted bundle *source* into a new file *target*, as `decrypt_stream`.

    The plaintext goes to a temporary file next to *target* (mode 0600: it holds personal
    information), is flushed to disk and renamed into place only once every segment is
    authenticated. On any error the temporary file is removed: no partial plaintext stays.

    Returns:
        *target* as a `Path`.

    Raises:
        ConfigurationError: as for `decrypt_stream`; nothing was read or written.
        BundleDecryptionError: as for `decrypt_stream`, the message starting with *source*.
        BundleError: *source* is missing or unreadable, *target* exists and *overwrite* is
            false, or *target* cannot be written. Nothing was written.
    """
    secret = _decryption_secret(passphrase, private_key)
    return _transform_file(
        source,
        target,
        lambda reader, writer: _decrypt(reader, writer, secret),
        verb="decrypt",
        overwrite=overwrite,
    )


def _transform_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    transform: Callable[[BinaryIO, BinaryIO], None],
    *,
    verb: str,
    overwrite: bool,
) -> Path:
    """Run *transform* from *source* into a temporary file, then put it in place at *target*."""
    origin, destination = Path(source), Path(target)
    exists = (
        f"{destination} already exists; pass overwrite=True to replace it, or choose another path"
    )
    problem: BundleError | None = None  # raised outside the handlers: nothing chained
    with _open_source(origin) as reader:
        try:
            with atomic_file(destination, overwrite=overwrite) as writer:
                transform(reader, writer)
        except FileExistsError:
            problem = BundleError(exists)
        except BundleDecryptionError as exc:
            problem = BundleDecryptionError(f"{origin}: {exc}")
        except FileNotFoundError:
            problem = BundleError(
                f"cannot write {destination}: the directory {destination.parent} does not "
                "exist; create it or choose another path"
            )
        except OSError as exc:
            problem = BundleError(
                f"could not {verb} {origin} into {destination} "
                f"({exc.strerror or type(exc).__name__}); check free space and permissions, "
                "then try again; nothing was written"
            )
    if problem is not None:
        raise problem
    return destination


def _open_source(origin: Path) -> BinaryIO:
    """*origin* opened for reading, or a `BundleError` naming it."""
    try:
        return open(origin, "rb")
    except FileNotFoundError:
        problem = "does not exist; check the path"
    except IsADirectoryError:
        problem = "is a directory; pass the bundle file itself"
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror}); check its permissions"
    raise BundleError(f"{origin} {problem}")


# --- recipient keys ------------------------------------------------------------------------


def generate_recipient_keys(
    directory: str | os.PathLike[str], *, passphrase: str | bytes | None = None
) -> tuple[Path, Path]:
    """Create a new X25519 key pair for receiving encrypted bundles, in *directory*.

    Writes `RECIPIENT_KEY_FILE` (PKCS#8 PEM, mode 0600; encrypted with *passphrase* if
    given, with cryptography's best available encryption) and `RECIPIENT_PUBLIC_KEY_FILE`
    (SubjectPublicKeyInfo PEM, mode 0644), each through a synced temporary file, so a
    failure leaves no partial key file. The directory is created (mode 0700) if missing.
    Give the public key to whoever sends bundles; keep the private key to open them.

    Returns:
        The private key file and the public key file.

    Raises:
        KeyFileError: a key file already exists, or the directory cannot be created or
            written. Nothing was replaced.
        PassphraseError: *passphrase* is empty or neither str nor bytes.
    """
    folder = Path(directory)
    secret = passphrase_bytes(passphrase, folder)
    private_file, public_file = folder / RECIPIENT_KEY_FILE, folder / RECIPIENT_PUBLIC_KEY_FILE
    make_directory(folder)
    existing = [f.name for f in (private_file, public_file) if f.exists() or f.is_symlink()]
    if existing:
        raise KeyFileError(
            f"{folder} already holds {', '.join(existing)}: recipient keys are never replaced "
            "by accident, as bundles encrypted to the old key need its private key. Move the "
            "old keys away, or choose another directory",
            source=folder,
        )
    key = X25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret)
        if secret is not None
        else serialization.NoEncryption()
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    write_all(
        folder,
        [(private_file, (private_pem, 0o600)), (public_file, (public_pem, 0o644))],
        force=False,
    )
    return private_file, public_file


def load_recipient_public_key(path: str | os.PathLike[str]) -> X25519PublicKey:
    """Load a recipient's public key from its PEM file (``recipient-key.pub.pem``).

    Raises:
        KeyFileError: the file is missing or unreadable, not PEM, damaged, or does not hold
            an X25519 public key.
    """
    file = Path(path)
    pem = _read_recipient_key_file(file, private=False)
    if b"PRIVATE KEY-----" in pem:
        problem = (
            f"holds a private key, not a public key; pass the {RECIPIENT_PUBLIC_KEY_FILE} "
            "that came with it, and keep the private key where only its owner can read it"
        )
    elif b"-----BEGIN" not in pem:
        problem = f"is not a PEM public key file; pass a {RECIPIENT_PUBLIC_KEY_FILE}"
    else:
        key = load_pem(serialization.load_pem_public_key, pem)
        if key is None:
            problem = f"is not a readable PEM public key (damaged?); {_NEW_RECIPIENT_KEYS_HINT}"
        elif not isinstance(key, X25519PublicKey):
            problem = f"holds {_kind(key)}, but an X25519 key is needed to encrypt bundles"
            problem += f"; {_NEW_RECIPIENT_KEYS_HINT}"
        else:
            return key
    raise KeyFileError(f"{file} {problem}", source=file)


def load_recipient_private_key(
    path: str | os.PathLike[str], *, passphrase: str | bytes | None = None
) -> X25519PrivateKey:
    """Load a recipient's private key from its PEM file (``recipient-key.pem``).

    The file must not be open to other users: on POSIX systems its mode must allow nothing
    to group and others (``chmod 600``).

    Raises:
        KeyFileError: the file is missing, open to other users, not PEM, damaged, or does
            not hold an X25519 private key.
        PassphraseError: the key is encrypted and *passphrase* is missing or wrong, or
            *passphrase* is given for a key that is not encrypted.
    """
    file = Path(path)
    pem = _read_recipient_key_file(file, private=True)
    key: X25519PrivateKey = parse_private_key(
        pem,
        passphrase,
        _RECIPIENT_KEY_KIND,
        source=file,
        name=str(file),
        not_pem=f"is not a PEM file; pass the {RECIPIENT_KEY_FILE} of the recipient key pair",
        describe=_kind,
    )
    return key


_RECIPIENT_KEY_KIND = PrivateKeyKind(
    X25519PrivateKey,
    "private key",
    RECIPIENT_KEY_FILE,
    RECIPIENT_PUBLIC_KEY_FILE,
    "load_recipient_public_key",
    "but an X25519 key is needed to decrypt bundles",
    _NEW_RECIPIENT_KEYS_HINT,
)


def _read_recipient_key_file(file: Path, *, private: bool) -> bytes:
    """`read_key_file`, its hints pointing at recipient keys rather than signing keys."""
    try:
        return read_key_file(file, private=private)
    except KeyFileError as exc:
        message = str(exc).replace(NEW_KEYS_HINT, _NEW_RECIPIENT_KEYS_HINT)
    raise KeyFileError(message, source=file)  # outside the handler: nothing chained
