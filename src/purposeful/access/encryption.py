"""Encrypting a whole subject-access bundle for delivery, as an age file.

A bundle (a zip file, possibly tens of megabytes) is encrypted in the **age** format
(age-encryption.org/v1), a published standard for file encryption with command-line tools
on every platform (age, rage), so whoever receives a bundle can open it without purposeful:

- to a **recipient's age key** (X25519): the public key is an ``age1...`` line, the private
  key an ``AGE-SECRET-KEY-1...`` line in an identity file (`purposeful.access.recipients`:
  ``purposeful keys recipient DIR``, or ``age-keygen``). Without purposeful:
  ``age -d -i recipient-key.txt bundle.zip.age > bundle.zip``;
- to a **passphrase** (age's scrypt recipient), told to the requester by another channel.
  Without purposeful: ``age -d bundle.zip.age > bundle.zip`` asks for it.

The work is done by pyrage, the Python binding of rage (age in Rust): install it with
``pip install 'purposeful[age]'``. Without it, every function here raises `MissingExtra`;
importing this module, and building or verifying a bundle that is not encrypted, do not
need it.

`encrypt_stream` and `decrypt_stream` work on binary streams the caller opens;
`encrypt_file` and `decrypt_file` work on paths and write atomically. The rest of the
access package also uses `bundle_secret` and `write_encrypted` (``SubjectAccess.build(
encrypt_to=...)``), and,
for encrypted identity files, `require_age`, `dearmor` and `passphrase_file_problem`.

Memory. To a recipient key, both directions stream through age's 64 KiB chunks, so memory
stays flat however large the bundle. To a passphrase, pyrage offers whole-buffer functions
only: the bundle is held in memory (about three times its size at the peak, besides
scrypt's own memory), so a passphrase bundle may hold at most `PASSPHRASE_BUNDLE_LIMIT`
bytes (128 MiB); encrypt a larger one to a recipient key.

Hostile input. Before anything is given to age, the header is read (at most 64 KiB) and
checked: it must be an age v1 header, and an scrypt stanza may ask for a work factor of at
most 2**`MAX_SCRYPT_WORK_FACTOR` (2**20: 1 GiB of memory and a few seconds), whatever age
itself would accept on this machine. Every way a file can be wrong (another format, a
header or chunk changed, a file cut short or extended, the wrong passphrase or key) raises
`BundleDecryptionError`; age authenticates every chunk and marks the last, so none of them
can go unnoticed.

What this module must not do: put a passphrase, key material or plaintext in a message
(errors name the file and what to do, never quote age's own text); leave a half-written
output file (`encrypt_file`, `decrypt_file`); replace an existing file unless asked; let a
header ask for more scrypt work than the bound; import pyrage before encryption is used.
The stream functions write plaintext as soon as age has authenticated it, so on an error
the target holds part of it: the caller must discard it, as the file functions do.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO, cast

from typing_extensions import Buffer, override

from .._shared.files import atomic_file
from ..errors import BundleDecryptionError, BundleError, ConfigurationError, MissingExtra

if TYPE_CHECKING:
    from pyrage.x25519 import Identity, Recipient

__all__ = [
    "MAGIC",
    "MAX_SCRYPT_WORK_FACTOR",
    "PASSPHRASE_BUNDLE_LIMIT",
    "decrypt_file",
    "decrypt_stream",
    "encrypt_file",
    "encrypt_stream",
    "is_encrypted",
]

#: The first bytes of every encrypted bundle: age's version line.
MAGIC = b"age-encryption.org/v1\n"
#: The largest bundle, in bytes, that is encrypted to a passphrase (held in memory).
PASSPHRASE_BUNDLE_LIMIT = 128 << 20
#: The largest scrypt work factor (log2 of N) a passphrase header may ask for: 1 GiB.
MAX_SCRYPT_WORK_FACTOR = 20

_MAX_HEADER_BYTES = 64 << 10
_READ_BYTES = 4096
_CHUNK_BYTES = 64 << 10
_TAG_BYTES = 16
_NONCE_BYTES = 16
#: The first line of an ASCII-armored age file.
ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
_ARMOR_END = b"-----END AGE ENCRYPTED FILE-----"
_SCRYPT = b"scrypt"
_X25519 = b"X25519"
# age public keys and identities: Bech32, so a passphrase that looks like one is a mistake.
_AGE_KEY = re.compile(r"(age1[02-9ac-hj-np-z]{58}|AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58})\Z")
_WORK_FACTOR = re.compile(rb"[1-9][0-9]{0,2}\Z")

_DISCARD = "discard any output and get the file again"
_EXTRA = (
    "encrypting and decrypting bundles needs pyrage, the Python binding of the age format; "
    "install it with pip install 'purposeful[age]'"
)


def require_age() -> None:
    """Raise `MissingExtra` if pyrage cannot be imported (for `purposeful.access.recipients`
    too)."""
    try:
        import pyrage  # noqa: F401
    except ImportError:
        missing = True
    else:
        missing = False
    if missing:  # raised outside the handler: one line, no chained ImportError
        raise MissingExtra(_EXTRA, extra="age")


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
    recipient: Recipient | None = None,
) -> None:
    """Encrypt everything *source* holds into *target*, as an age file.

    Args:
        source: read to its end.
        target: written from its current position; not closed or flushed.
        passphrase: encrypt with this passphrase (bytes must be UTF-8).
        recipient: encrypt to this age public key (`load_recipient_public_key`).

    Raises:
        MissingExtra: pyrage is not installed.
        ConfigurationError: not exactly one of *passphrase* and *recipient* was given, the
            passphrase is empty, not UTF-8 or an age key, or *recipient* is not an age
            public key. Nothing was read or written.
        BundleError: the bundle is larger than `PASSPHRASE_BUNDLE_LIMIT` and *passphrase*
            was given; nothing was written.
        OSError: reading *source* or writing *target* failed; *target* holds part of the
            output and must be discarded.
    """
    _encrypt(source, target, _encryption_secret(passphrase, recipient))


def decrypt_stream(
    source: BinaryIO,
    target: BinaryIO,
    *,
    passphrase: str | bytes | None = None,
    private_key: Identity | None = None,
) -> None:
    """Decrypt an encrypted bundle (an age file) from *source* into *target*.

    Plaintext is written once age has authenticated it, so on an error *target* holds part
    of it: the caller must discard it (`decrypt_file` does). Success means the whole bundle
    was read, unchanged and complete.

    Args:
        source: read to its end.
        target: written from its current position; not closed or flushed.
        passphrase: for a bundle encrypted with a passphrase.
        private_key: for a bundle encrypted to a recipient (`load_recipient_private_key`).

    Raises:
        MissingExtra: pyrage is not installed.
        ConfigurationError: both *passphrase* and *private_key* were given, the passphrase
            is empty or not UTF-8, or *private_key* is not an age identity.
        BundleDecryptionError: *source* is not an age file, needs the other kind of secret
            (or none was given), is encrypted to a kind of key purposeful does not open,
            asks for more scrypt work than `MAX_SCRYPT_WORK_FACTOR`, or fails
            authentication: the wrong passphrase or key, or a file that was changed, cut
            short or extended.
        OSError: reading *source* or writing *target* failed.
    """
    _decrypt(source, target, _decryption_secret(passphrase, private_key))


def bundle_secret(encrypt_to: object) -> str | Recipient:
    """What ``SubjectAccess.build(encrypt_to=...)`` encrypts to: a passphrase or an age key.

    Raises:
        MissingExtra: pyrage is not installed.
        ConfigurationError: *encrypt_to* is neither a passphrase (str, or UTF-8 bytes) nor
            an age public key, or the passphrase is empty or is an age key.
    """
    require_age()
    from pyrage.x25519 import Recipient

    if isinstance(encrypt_to, Recipient):
        return encrypt_to
    if isinstance(encrypt_to, str | bytes):
        return _passphrase_text(encrypt_to)
    raise ConfigurationError(
        f"build(encrypt_to=...) takes a passphrase or a recipient's age public key, not "
        f"{_kind(encrypt_to)}; load a key file with "
        "purposeful.access.load_recipient_public_key(path)"
    )


def write_encrypted(
    plain: IO[bytes],
    target: Path,
    secret: str | Recipient,
    *,
    overwrite: bool,
    before_in_place: Callable[[], None] | None = None,
) -> None:
    """Encrypt the bundle *plain* holds (from its position) into *target*, whole or not at
    all, to *secret* from `bundle_secret`; *before_in_place* as for `atomic_file`.

    Raises:
        BundleError: the bundle is too large for a passphrase; nothing was written.
        FileExistsError: *target* exists and *overwrite* is false; nothing was written.
        OSError: writing failed; nothing was written.
    """
    with atomic_file(target, overwrite=overwrite, before_in_place=before_in_place) as writer:
        _encrypt(cast(BinaryIO, plain), writer, secret)


def _encryption_secret(
    passphrase: str | bytes | None, recipient: Recipient | None
) -> str | Recipient:
    require_age()
    from pyrage.x25519 import Identity, Recipient

    if (passphrase is None) == (recipient is None):
        raise ConfigurationError(
            "give exactly one of passphrase= (to encrypt with a passphrase) or recipient= "
            "(to encrypt to a recipient's age public key)"
        )
    if recipient is None:
        return _passphrase_text(passphrase)
    if not isinstance(recipient, Recipient):
        hint = (
            "pass its public key (private_key.to_public()); the private key stays with the "
            "recipient"
            if isinstance(recipient, Identity)
            else "load the recipient's public key file with load_recipient_public_key"
        )
        raise ConfigurationError(
            f"recipient= must be an age public key (pyrage.x25519.Recipient), not "
            f"{_kind(recipient)}; {hint}"
        )
    return recipient


def _decryption_secret(
    passphrase: str | bytes | None, private_key: Identity | None
) -> str | Identity | None:
    require_age()
    from pyrage.x25519 import Identity

    if passphrase is not None and private_key is not None:
        raise ConfigurationError(
            "give one of passphrase= or private_key=, not both: a bundle is encrypted to one"
        )
    if passphrase is not None:
        return _passphrase_text(passphrase)
    if private_key is not None and not isinstance(private_key, Identity):
        raise ConfigurationError(
            f"private_key= must be an age identity (pyrage.x25519.Identity), not "
            f"{_kind(private_key)}; load the recipient's private key file with "
            "load_recipient_private_key"
        )
    return private_key


def _passphrase_text(passphrase: object) -> str:
    """*passphrase* as the text age takes, or a `ConfigurationError` (never quoting it)."""
    text = None
    if isinstance(passphrase, bytes):
        try:
            text = passphrase.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    elif isinstance(passphrase, str):
        text = passphrase if _encodes(passphrase) else None
    else:
        raise ConfigurationError(
            f"a passphrase must be a str or bytes, not {type(passphrase).__name__}"
        )
    if text is None:
        raise ConfigurationError(
            "a passphrase must be text (UTF-8), as age reads it; choose one that is"
        )
    if not text:
        raise ConfigurationError("the passphrase is empty, which protects nothing; give one")
    if _AGE_KEY.match(text.strip()):
        raise ConfigurationError(
            "the passphrase is an age key, not a passphrase: to encrypt to a recipient, pass "
            "their public key, loaded with load_recipient_public_key; never send a private key"
        )
    return text


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _kind(value: object) -> str:
    name = type(value).__name__
    if name.startswith(("X25519", "Ed25519")):
        return (
            f"{name} (a cryptography key): bundles are age files, encrypted to age keys "
            "(age1..., AGE-SECRET-KEY-1...)"
        )
    return name


# --- encrypting and decrypting -------------------------------------------------------------


class _Reader(io.BufferedIOBase):
    """What age reads: *prefix*, then *source*. Keeps what *source* raised, if anything."""

    def __init__(self, source: BinaryIO, prefix: bytes = b"") -> None:
        super().__init__()
        self._source = source
        self._prefix = prefix
        self.error: BaseException | None = None

    @override
    def read(self, size: int | None = -1) -> bytes:
        size = -1 if size is None else size
        if self._prefix:
            size = len(self._prefix) if size < 0 else size
            part, self._prefix = self._prefix[:size], self._prefix[size:]
            return part
        try:
            return self._source.read(size) or b""
        except BaseException as exc:
            self.error = exc
            raise


class _Writer(io.BufferedIOBase):
    """What age writes to: *target*. Counts what it wrote, and keeps what it raised."""

    def __init__(self, target: BinaryIO) -> None:
        super().__init__()
        self._target = target
        self.written = 0
        self.error: BaseException | None = None

    @override
    def write(self, data: Buffer, /) -> int:
        try:
            count = self._target.write(data)
        except BaseException as exc:
            self.error = exc
            raise
        count = len(memoryview(data)) if count is None else count
        self.written += count
        return count

    @override
    def flush(self) -> None:
        """The caller flushes *target*, not age."""


def _raise_stream_error(reader: _Reader, writer: _Writer) -> None:
    """Raise again what the caller's streams raised while age used them, if anything."""
    for error in (reader.error, writer.error):
        if error is not None:
            raise error


def _encrypt(source: BinaryIO, target: BinaryIO, secret: str | Recipient) -> None:
    import pyrage

    if isinstance(secret, str):
        limit = PASSPHRASE_BUNDLE_LIMIT
        plaintext = _read_up_to(source, limit + 1)
        if len(plaintext) > limit:
            raise BundleError(
                f"the bundle is larger than the {_size(limit)} a bundle encrypted to a "
                "passphrase may hold (age's passphrase mode holds it in memory); encrypt it "
                "to a recipient's age key instead, which streams; nothing was written"
            )
        ciphertext = pyrage.passphrase.encrypt(plaintext, secret)
        _check_own_work_factor(ciphertext)
        target.write(ciphertext)
        return
    reader, writer = _Reader(source), _Writer(target)
    failed = False
    try:
        pyrage.encrypt_io(reader, writer, [secret])
    except (pyrage.EncryptError, OSError):
        failed = True
    _raise_stream_error(reader, writer)
    if failed:
        raise BundleError("age could not encrypt the bundle; nothing usable was written")


def _check_own_work_factor(ciphertext: bytes) -> None:
    """Refuse to write a passphrase file that `decrypt_stream` would refuse to open.

    age picks the scrypt work factor that takes about a second on this machine (2**18 to
    2**19 on most); only a machine fast enough to pick more than the bound could fail here.
    """
    end = _header_end(ciphertext)
    asked = _scrypt_work_factor(ciphertext[:end] if end is not None else b"")
    if asked is None or asked > MAX_SCRYPT_WORK_FACTOR:
        raise BundleError(
            f"age chose an scrypt work factor above the 2**{MAX_SCRYPT_WORK_FACTOR} that "
            "purposeful opens, as this machine is very fast; encrypt to a recipient's age "
            "key instead; nothing was written"
        )


def _decrypt(source: BinaryIO, target: BinaryIO, secret: str | Identity | None) -> None:
    import pyrage

    start, needs = _read_header(source)
    _check_secret_fits(needs, secret)
    if isinstance(secret, str):
        limit = _passphrase_file_limit()
        ciphertext = start + _read_up_to(source, limit + 1 - len(start))
        if len(ciphertext) > limit:
            raise BundleDecryptionError(
                f"the encrypted bundle is larger than any bundle purposeful encrypts to a "
                f"passphrase ({_size(PASSPHRASE_BUNDLE_LIMIT)}), and is not opened in "
                "memory; if it is genuine, decrypt it with age (age -d)"
            )
        try:
            plaintext = pyrage.passphrase.decrypt(ciphertext, secret)
        except (pyrage.DecryptError, OSError, ValueError):
            plaintext = None
        if plaintext is None:
            raise BundleDecryptionError(
                "could not decrypt the bundle: wrong passphrase, or the file is damaged or cut "
                "short; check the passphrase, and if it is right, get the file again"
            )
        target.write(plaintext)
        return
    assert secret is not None  # _check_secret_fits: a recipient file needs the key
    reader, writer = _Reader(source, start), _Writer(target)
    failure = None
    try:
        pyrage.decrypt_io(reader, writer, [secret])
    except pyrage.DecryptError:
        failure = (
            "could not decrypt the bundle: wrong key, or the file's header is damaged; "
            "check the key, and if it is right, get the file again"
        )
    except OSError:  # age reports a chunk that fails authentication, or is missing, so
        failure = (
            f"the encrypted bundle is damaged or cut short: its content fails "
            f"authentication after {writer.written:,} bytes; {_DISCARD}"
        )
    _raise_stream_error(reader, writer)
    if failure is not None:
        raise BundleDecryptionError(failure)


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit:,} bytes"


def _passphrase_file_limit() -> int:
    """The largest age file `PASSPHRASE_BUNDLE_LIMIT` bytes of bundle can make."""
    chunks = PASSPHRASE_BUNDLE_LIMIT // _CHUNK_BYTES + 1
    return _MAX_HEADER_BYTES + _NONCE_BYTES + PASSPHRASE_BUNDLE_LIMIT + chunks * _TAG_BYTES


def _check_secret_fits(needs: bytes, secret: str | Identity | None) -> None:
    """Raise if the header asks for another kind of secret than *secret*."""
    given = (
        "none was given"
        if secret is None
        else ("a passphrase was given" if isinstance(secret, str) else "a private key was given")
    )
    if needs == _SCRYPT and not isinstance(secret, str):
        raise BundleDecryptionError(
            f"the bundle is encrypted with a passphrase, but {given}; pass the passphrase as "
            "passphrase="
        )
    if needs == _X25519 and (secret is None or isinstance(secret, str)):
        raise BundleDecryptionError(
            f"the bundle is encrypted to a recipient's age key, but {given}; pass the "
            "recipient's private key (their identity file, such as recipient-key.txt, loaded "
            "with load_recipient_private_key) as private_key="
        )
    if needs not in (_SCRYPT, _X25519):
        raise BundleDecryptionError(
            "the bundle is an age file encrypted to a kind of key purposeful does not open "
            "(an SSH key or a plugin's), or its header is damaged; decrypt it with age or rage "
            "and that key"
        )


# --- the header ----------------------------------------------------------------------------


def _read_header(source: BinaryIO) -> tuple[bytes, bytes]:
    """What was read of *source* (the whole age header, perhaps more), and the stanza type
    whose secret opens it: ``b"scrypt"``, ``b"X25519"`` or another.

    Raises:
        BundleDecryptionError: not an age file, a header cut short, longer than 64 KiB or
            malformed, or an scrypt work factor above the bound.
    """
    data = bytearray()
    while (end := _header_end(data)) is None:
        if len(data) > _MAX_HEADER_BYTES:
            raise BundleDecryptionError(
                f"the encrypted bundle's header is longer than {_MAX_HEADER_BYTES >> 10} KiB, "
                f"more than any age file needs: it is damaged or crafted; {_DISCARD}"
            )
        chunk = source.read(_READ_BYTES)
        if not chunk:
            raise BundleDecryptionError(_not_age(bytes(data)))
        data += chunk
        if not data.startswith(MAGIC[: len(data)]):
            raise BundleDecryptionError(_not_age(bytes(data)))
    header = bytes(data[:end])
    stanzas = _stanzas(header)
    types = {stanza[0] for stanza in stanzas}
    if _SCRYPT in types:
        asked = _scrypt_work_factor(header)
        if asked is None:
            raise BundleDecryptionError(
                f"the encrypted bundle's scrypt stanza is malformed: the file is damaged; "
                f"{_DISCARD}"
            )
        if asked > MAX_SCRYPT_WORK_FACTOR:
            raise BundleDecryptionError(
                f"the encrypted bundle's header asks for scrypt work factor 2**{asked}, more "
                f"than the 2**{MAX_SCRYPT_WORK_FACTOR} (1 GiB of memory) purposeful accepts: "
                "too costly, refused so that a crafted file cannot exhaust memory. The file "
                "is damaged or was not made by purposeful"
            )
        return bytes(data), _SCRYPT
    return bytes(data), _X25519 if _X25519 in types else b"other"


def passphrase_file_problem(data: bytes) -> str | None:
    """What is wrong with *data* as an age file encrypted to a passphrase (such as an
    encrypted identity file), checked as `decrypt_stream` checks a header; None if nothing."""
    try:
        _, needs = _read_header(io.BytesIO(data))
    except BundleDecryptionError as exc:
        return str(exc).replace("the encrypted bundle", "the age file")
    return None if needs == _SCRYPT else "it is encrypted to a key, not to a passphrase"


def dearmor(data: bytes) -> bytes | None:
    """The binary age file inside ASCII armor, or None if the armor is malformed."""
    lines = [line.strip() for line in data.strip().splitlines()]
    if len(lines) < 2 or lines[0] != ARMOR_BEGIN or lines[-1] != _ARMOR_END:
        return None
    try:
        return base64.b64decode(b"".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        return None


def _header_end(data: bytes | bytearray) -> int | None:
    """Where the age header in *data* ends (after its MAC line), or None if not yet."""
    mac = data.find(b"\n---", len(MAGIC) - 1)
    if mac < 0:
        return None
    newline = data.find(b"\n", mac + 1)
    return None if newline < 0 else newline + 1


def _stanzas(header: bytes) -> list[list[bytes]]:
    """The arguments of each stanza of an age header (its ``-> type args...`` lines)."""
    return [line[3:].split(b" ") for line in header.split(b"\n") if line.startswith(b"-> ")]


def _scrypt_work_factor(header: bytes) -> int | None:
    """The work factor the header's scrypt stanza asks for, or None if it is malformed."""
    for stanza in _stanzas(header):
        if stanza[0] == _SCRYPT:
            if len(stanza) != 3 or not _WORK_FACTOR.match(stanza[2]):
                return None
            return int(stanza[2])
    return None


def _not_age(start: bytes) -> str:
    if not start:
        return "the input is empty: not an encrypted bundle; check the path"
    if start.startswith(MAGIC) or MAGIC.startswith(start):
        return f"the encrypted bundle is cut short: it ends inside its header; {_DISCARD}"
    if start.startswith(ARMOR_BEGIN[: len(start)]):
        return (
            "the input is an ASCII-armored age file; purposeful reads binary ones: decrypt it "
            "with age -d, or ask for the file without armor (no -a)"
        )
    return (
        "the input is not an encrypted bundle (it does not start with age-encryption.org/v1); "
        "if it is a plain bundle (a zip file), open it without decrypting"
    )


def _read_up_to(source: BinaryIO, size: int) -> bytes:
    """*size* bytes from *source*, or fewer only at its end (a read may return less)."""
    parts = []
    missing = size
    while missing > 0:
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
    recipient: Recipient | None = None,
    overwrite: bool = False,
) -> Path:
    """Encrypt the file *source* into a new age file *target*, as `encrypt_stream` does.

    The output goes to a temporary file next to *target* (mode 0600), is flushed to disk
    and renamed into place, so *target* is either complete or untouched.

    Returns:
        *target* as a `Path`.

    Raises:
        MissingExtra, ConfigurationError: as for `encrypt_stream`; nothing was read or
            written.
        BundleError: *source* is missing, unreadable or too large for a passphrase,
            *target* is *source* (even with *overwrite*), *target* exists and *overwrite*
            is false, or *target* cannot be written. Nothing was written.
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
    private_key: Identity | None = None,
    overwrite: bool = False,
) -> Path:
    """Decrypt the encrypted bundle *source* into a new file *target*, as `decrypt_stream`.

    The plaintext goes to a temporary file next to *target* (mode 0600: it holds personal
    information), is flushed to disk and renamed into place only once age has authenticated
    all of it. On any error the temporary file is removed: no partial plaintext stays.

    Returns:
        *target* as a `Path`.

    Raises:
        MissingExtra, ConfigurationError: as for `decrypt_stream`; nothing was read or
            written.
        BundleDecryptionError: as for `decrypt_stream`, the message starting with *source*.
        BundleError: *source* is missing or unreadable, *target* is *source* (even with
            *overwrite*), *target* exists and *overwrite* is false, or *target* cannot be
            written. Nothing was written.
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
        if _same_file(origin, destination):
            raise BundleError(
                f"{destination} is the file to {verb} itself: writing there would replace "
                f"{origin} with its {'plaintext' if verb == 'decrypt' else 'ciphertext'}; "
                "choose another path for the output; nothing was written"
            )
        try:
            with atomic_file(destination, overwrite=overwrite) as writer:
                transform(reader, writer)
        except FileExistsError:
            problem = BundleError(exists)
        except BundleDecryptionError as exc:
            problem = BundleDecryptionError(f"{origin}: {exc}")
        except BundleError as exc:
            problem = BundleError(f"{origin}: {exc}")
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


def _same_file(origin: Path, destination: Path) -> bool:
    """Whether *destination* names *origin*: the same path once links are followed, or
    the same file by another name (a hard link)."""
    try:
        if origin.resolve() == destination.resolve():
            return True
        return destination.exists() and os.path.samefile(origin, destination)
    except OSError:  # a path that cannot be resolved or statted is not the source
        return False


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
