"""Recipient keys for encrypted bundles: age key pairs, in age's own files.

A bundle encrypted to a recipient (`purposeful.access.encryption`) is encrypted to an age
X25519 public key, ``age1...``; the recipient opens it with the matching identity,
``AGE-SECRET-KEY-1...``. `generate_recipient_keys` (``purposeful keys recipient DIR``)
writes the pair as age's tools do: an identity file as ``age-keygen`` writes it (optionally
encrypted to a passphrase, as ``age -p -a`` would, which ``age -d -i`` also reads) and a
public key file that ``age -R`` reads. The loaders read those files and files
``age-keygen`` wrote, so a recipient can use purposeful, age or rage, as they like.

Needs pyrage (``pip install 'purposeful[age]'``); without it every function here raises
`MissingExtra`.

What this module must not do: put key material or a passphrase in a message (errors name
the file and what is wrong, never quote a line of it); replace an existing key file; leave
a partly written key file; read a private key file that other users can open.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .._shared.key_files import read_key_file
from .._shared.keys import make_directory, passphrase_bytes, write_all
from ..errors import KeyFileError, PassphraseError
from .encryption import ARMOR_BEGIN, MAGIC, dearmor, passphrase_file_problem, require_age

if TYPE_CHECKING:
    from pyrage.x25519 import Identity, Recipient

__all__ = [
    "RECIPIENT_KEY_FILE",
    "RECIPIENT_PUBLIC_KEY_FILE",
    "generate_recipient_keys",
    "load_recipient_private_key",
    "load_recipient_public_key",
]

#: The recipient's age identity file (the private key) in a key directory (mode 0600).
RECIPIENT_KEY_FILE = "recipient-key.txt"
#: The recipient's age public key file in a key directory (mode 0644); give it to senders.
RECIPIENT_PUBLIC_KEY_FILE = "recipient-key.pub.txt"

_NEW_RECIPIENT_KEYS_HINT = "create a key pair with `purposeful keys recipient DIR` or age-keygen"


def generate_recipient_keys(
    directory: str | os.PathLike[str], *, passphrase: str | bytes | None = None
) -> tuple[Path, Path]:
    """Create a new age key pair for receiving encrypted bundles, in *directory*.

    Writes `RECIPIENT_KEY_FILE`, an age identity file as ``age-keygen`` writes it (mode
    0600; with *passphrase*, itself encrypted to it as an armored age file, which
    ``age -d -i`` also reads), and `RECIPIENT_PUBLIC_KEY_FILE`, the ``age1...`` public key
    (mode 0644), each through a synced temporary file, so a failure leaves no partial key
    file. The directory is created (mode 0700) if missing. Give the public key to whoever
    sends bundles; keep the private key to open them.

    Returns:
        The private key file and the public key file.

    Raises:
        MissingExtra: pyrage is not installed.
        KeyFileError: a key file already exists, or the directory cannot be created or
            written. Nothing was replaced.
        PassphraseError: *passphrase* is empty, not UTF-8, or neither str nor bytes.
    """
    require_age()
    import pyrage

    folder = Path(directory)
    secret = _key_passphrase(passphrase, folder)
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
    identity = pyrage.x25519.Identity.generate()
    public = str(identity.to_public())
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    private = f"# created: {created}\n# public key: {public}\n{identity}\n".encode("ascii")
    if secret is not None:
        private = pyrage.passphrase.encrypt(private, secret, armored=True)
    public_text = f"# an age public key: encrypt bundles to it\n{public}\n".encode("ascii")
    write_all(
        folder,
        [(private_file, (private, 0o600)), (public_file, (public_text, 0o644))],
        force=False,
    )
    return private_file, public_file


def load_recipient_public_key(path: str | os.PathLike[str]) -> Recipient:
    """Load a recipient's age public key (``age1...``) from a file, such as
    ``recipient-key.pub.txt`` or the output of ``age-keygen -y``.

    Blank lines and ``#`` comments are skipped; the file must hold exactly one key.

    Raises:
        MissingExtra: pyrage is not installed.
        KeyFileError: the file is missing or unreadable, holds a private key, no key or
            several, or something that is not an age X25519 public key.
    """
    require_age()
    from pyrage import RecipientError
    from pyrage.x25519 import Recipient

    file = Path(path)
    data = _read_recipient_key_file(file, private=False)
    lines = _key_lines(data)
    problem = _key_file_problem(data, lines, want="age1", other="AGE-SECRET-KEY-")
    if problem is None:
        try:
            return Recipient.from_str(lines[0])
        except RecipientError:
            problem = f"does not hold a valid age public key (damaged?); {_NEW_RECIPIENT_KEYS_HINT}"
    raise KeyFileError(f"{file} {problem}", source=file)


def load_recipient_private_key(
    path: str | os.PathLike[str], *, passphrase: str | bytes | None = None
) -> Identity:
    """Load a recipient's age identity (``AGE-SECRET-KEY-1...``) from a file, such as
    ``recipient-key.txt`` or one ``age-keygen`` wrote.

    The file must not be open to other users: on POSIX systems its mode must allow nothing
    to group and others (``chmod 600``). A file encrypted with a passphrase (as
    `generate_recipient_keys` writes with *passphrase*, or ``age -p``) needs it.

    Raises:
        MissingExtra: pyrage is not installed.
        KeyFileError: the file is missing, open to other users, damaged, or holds no age
            X25519 identity, or several.
        PassphraseError: the file is encrypted and *passphrase* is missing or wrong, or
            *passphrase* is given for a file that is not encrypted.
    """
    require_age()
    from pyrage import IdentityError
    from pyrage.x25519 import Identity

    file = Path(path)
    data = _read_recipient_key_file(file, private=True)
    secret = _key_passphrase(passphrase, file)
    data = _open_key_file(file, data, secret)
    lines = _key_lines(data)
    problem = _key_file_problem(data, lines, want="AGE-SECRET-KEY-1", other="age1")
    if problem is None:
        try:
            return Identity.from_str(lines[0])
        except IdentityError:
            problem = f"does not hold a valid age identity (damaged?); {_NEW_RECIPIENT_KEYS_HINT}"
    raise KeyFileError(f"{file} {problem}", source=file)


def _key_passphrase(passphrase: str | bytes | None, source: Path) -> str | None:
    """A key file's passphrase as text, or a `PassphraseError` (never quoting it)."""
    secret = passphrase_bytes(passphrase, source)
    if secret is None:
        return None
    try:
        return secret.decode("utf-8")
    except UnicodeDecodeError:
        pass
    raise PassphraseError(
        "a passphrase must be text (UTF-8), as age reads it; choose one that is", source=source
    )


def _open_key_file(file: Path, data: bytes, passphrase: str | None) -> bytes:
    """The identity file's text: *data*, decrypted with *passphrase* if it is an age file."""
    import pyrage

    armored = data.lstrip().startswith(ARMOR_BEGIN)
    encrypted = armored or data.startswith(MAGIC)
    if encrypted and passphrase is None:
        raise PassphraseError(
            f"{file} is encrypted with a passphrase; pass it as passphrase=", source=file
        )
    if not encrypted and passphrase is not None:
        raise PassphraseError(
            f"{file} is not encrypted, but a passphrase was given: the key is stored in the "
            "clear. Leave out the passphrase, or create keys with one "
            "(`purposeful keys recipient DIR --passphrase-env VAR`)",
            source=file,
        )
    if not encrypted or passphrase is None:
        return data
    binary = dearmor(data) if armored else data
    problem: str | None = "its armor is damaged"
    if binary is not None:
        problem = passphrase_file_problem(binary)
    if problem is not None or binary is None:
        raise KeyFileError(
            f"{file} is not a readable encrypted key file ({problem}); {_NEW_RECIPIENT_KEYS_HINT}",
            source=file,
        )
    try:
        return pyrage.passphrase.decrypt(binary, passphrase)
    except (pyrage.DecryptError, OSError, ValueError):
        pass
    raise PassphraseError(
        f"{file} could not be decrypted: the passphrase is wrong (or the key is damaged)",
        source=file,
    )


def _key_lines(data: bytes) -> list[str]:
    """The lines of a key file that are neither blank nor ``#`` comments."""
    text = data.decode("utf-8", "replace")
    return [line.strip() for line in text.splitlines() if line.strip() and line.strip()[0] != "#"]


def _key_file_problem(data: bytes, lines: list[str], *, want: str, other: str) -> str | None:
    """What is wrong with a key file that must hold one key starting *want*; None if not."""
    public = want == "age1"
    what = "age public key (age1...)" if public else "age identity (AGE-SECRET-KEY-1...)"
    if b"-----BEGIN" in data and not data.lstrip().startswith(ARMOR_BEGIN):
        return (
            f"is a PEM file (a signing key, or an older recipient key), not an {what}; "
            f"{_NEW_RECIPIENT_KEYS_HINT}"
        )
    if public and (data.startswith(MAGIC) or data.lstrip().startswith(ARMOR_BEGIN)):
        return (
            f"is an encrypted private key, not a public key; pass the {RECIPIENT_PUBLIC_KEY_FILE} "
            "that came with it"
        )
    if any(line.upper().startswith(other.upper()) for line in lines):
        if public:
            return (
                f"holds a private key, not a public key; pass the {RECIPIENT_PUBLIC_KEY_FILE} "
                "that came with it, and keep the private key where only its owner can read it"
            )
        return (
            f"holds a public key, not the private key; use {RECIPIENT_KEY_FILE} (the "
            f"{RECIPIENT_PUBLIC_KEY_FILE} is for load_recipient_public_key)"
        )
    keys = [line for line in lines if line.upper().startswith(want.upper())]
    if len(lines) == 1 and len(keys) == 1:
        return None
    if len(keys) > 1:
        return f"holds {len(keys)} keys; keep one {what} in the file"
    if keys:
        return f"holds other lines besides the {what}; keep only the key and # comments"
    if not public and any(line.startswith("AGE-PLUGIN-") for line in lines):
        return (
            "holds an age plugin identity; purposeful opens X25519 identities only: decrypt "
            "with age and the plugin"
        )
    return f"does not hold an {what}; {_NEW_RECIPIENT_KEYS_HINT}"


def _read_recipient_key_file(file: Path, *, private: bool) -> bytes:
    """`read_key_file`, its hints pointing at recipient keys rather than signing keys."""
    return read_key_file(file, private=private, hint=_NEW_RECIPIENT_KEYS_HINT, public=b"age1")
