"""A service's own signing key for purpose claims, kept apart from the ledger and bundle keys.

Each service that calls another under a purpose signs its claims with an Ed25519 key of its
own: ``service-key.pem`` (private, mode 0600, optionally encrypted with a passphrase) and
``service-key.pub.pem`` (public: give it to the services that trust this one). It is never
the signing key of the audit ledger or of subject-access bundles: a leaked service key lets
someone assert purposes to the agency's services until it is rotated, and nothing more; it
cannot sign a bundle or a checkpoint. The signatures are also domain-separated (see
`purposeful.propagation.claims`), so a signature made for one use is never valid for another
even if an agency did reuse a key.

What this module must not do: print, log or put in a message any key material; replace an
existing key file unless asked; leave a partly written key file behind.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import attrs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .._shared.keys import (
    SIGNING_KEY_FILE,
    PrivateKeyKind,
    load_ed25519_public_key,
    load_private_key,
    make_directory,
    passphrase_bytes,
    signing_key_id,
    write_all,
)
from ..errors import ConfigurationError, KeyFileError

__all__ = [
    "SERVICE_KEY_ENV",
    "SERVICE_KEY_FILE",
    "SERVICE_PUBLIC_KEY_FILE",
    "ServiceKey",
    "generate_service_key",
    "load_service_key",
    "load_service_public_key",
]

#: The private service key's file name in a key directory (mode 0600).
SERVICE_KEY_FILE = "service-key.pem"
#: Its public key's file name (mode 0644): what the services that trust this one hold.
SERVICE_PUBLIC_KEY_FILE = "service-key.pub.pem"
#: The environment variable `load_service_key` reads by default: the PEM text of the key.
SERVICE_KEY_ENV = "PURPOSEFUL_SERVICE_KEY"

#: What a service key file must hold, and the words for when it does not.
_SERVICE_KEY_KIND = PrivateKeyKind(
    Ed25519PrivateKey,
    "service key",
    SERVICE_KEY_FILE,
    SERVICE_PUBLIC_KEY_FILE,
    "load_service_public_key",
    "not an Ed25519 key: purposeful signs purpose claims with Ed25519 only",
    "create one with `purposeful keys service DIR`",
    " (`purposeful keys service DIR --passphrase-env VAR`)",
    loader="load_service_key",
)

#: A service name, as a trust store names it: ASCII letters, digits, '-', '.' and '_'.
_NAME_LIMIT = 100
_NAME = re.compile(rf"[A-Za-z0-9._-]{{1,{_NAME_LIMIT}}}")


def check_service_name(name: object, what: str = "service name") -> str:
    """*name* if it is a usable service name, else raise `ConfigurationError`."""
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise ConfigurationError(
            f"a {what} must be 1 to {_NAME_LIMIT} ASCII letters, digits, '-', '.' or '_' "
            f"(for example 'case-management')"
        )
    return name


def _service_name(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    check_service_name(value)


def _private_key(
    instance: object, attribute: attrs.Attribute[Ed25519PrivateKey], value: object
) -> None:
    if not isinstance(value, Ed25519PrivateKey):
        raise ConfigurationError(
            f"ServiceKey.private_key must be an Ed25519 private key, not {type(value).__name__}; "
            f"load one with purposeful.propagation.load_service_key"
        )


@attrs.frozen(repr=False)
class ServiceKey:
    """The key a service signs its purpose claims with, and the service's name.

    Args:
        service: this service's name, as the services that trust it name it.
        private_key: an Ed25519 private key of this service's own.

    Attributes:
        key_id: the key's id, the first 8 hex digits of SHA-256 of its public key; the
            trust stores of other services find its public key by it.
    """

    service: str = attrs.field(validator=_service_name)
    private_key: Ed25519PrivateKey = attrs.field(validator=_private_key)
    #: the key's id, worked out once: every claim names it
    key_id: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "key_id", signing_key_id(self.private_key))

    @classmethod
    def generate(cls, service: str) -> ServiceKey:
        """A new key in memory (for tests and examples; production keys live in files)."""
        return cls(service, Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def __repr__(self) -> str:
        return f"ServiceKey(service={self.service!r}, key_id={self.key_id!r})"


def generate_service_key(
    directory: str | os.PathLike[str],
    *,
    passphrase: str | bytes | None = None,
    force: bool = False,
) -> tuple[Path, Path, str]:
    """Write a new service key pair to *directory*: `SERVICE_KEY_FILE` (mode 0600, encrypted
    with *passphrase* if given) and `SERVICE_PUBLIC_KEY_FILE` (mode 0644).

    Returns:
        the private key file, the public key file and the key id.

    Raises:
        KeyFileError: a key file exists (and *force* is false), or the directory cannot be
            created or written; nothing is left half-written.
        PassphraseError: *passphrase* is empty or neither str nor bytes.
    """
    folder = Path(directory)
    secret = passphrase_bytes(passphrase, folder)
    make_directory(folder)
    private, public = folder / SERVICE_KEY_FILE, folder / SERVICE_PUBLIC_KEY_FILE
    if not force:
        existing = [t.name for t in (private, public) if t.exists() or t.is_symlink()]
        if existing:
            raise KeyFileError(
                f"{folder} already holds {', '.join(existing)}; keep the old key (the services "
                f"that trust it need its public key until they trust the new one) and write the "
                f"new one elsewhere, or replace it (force=True in code, --force on the command "
                f"line)",
                source=folder,
            )
    key = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret)
        if secret is not None
        else serialization.NoEncryption()
    )
    files = [
        (
            public,
            (
                key.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                ),
                0o644,
            ),
        ),
        (
            private,
            (
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
                ),
                0o600,
            ),
        ),
    ]
    write_all(folder, files, force=force)
    return private, public, signing_key_id(key)


def load_service_key(
    service: str,
    path: str | os.PathLike[str] | None = None,
    *,
    passphrase: str | bytes | None = None,
    env: str | None = SERVICE_KEY_ENV,
) -> ServiceKey:
    """Load this service's key from *path* (``service-key.pem``), or else from the
    environment variable *env*, which holds the PEM text (as a secrets manager injects it).

    Raises:
        KeyFileError: the file or variable is missing, open to other users, not PEM, damaged
            or not an Ed25519 private key.
        PassphraseError: the key is encrypted and the passphrase is missing or wrong.
        ConfigurationError: *service* is not a usable service name.
    """
    check_service_name(service)
    if path is not None and Path(path).name == SIGNING_KEY_FILE:
        raise KeyFileError(
            f"{path} is the signing key of the audit ledger and subject-access bundles; a "
            f"service signs its purpose claims with a key of its own: create one with "
            f"`purposeful keys service DIR` and load its {SERVICE_KEY_FILE}",
            source=Path(path),
        )
    key = load_private_key(path, passphrase=passphrase, env=env, kind=_SERVICE_KEY_KIND)
    return ServiceKey(service, key)


def load_service_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Load another service's public key (its ``service-key.pub.pem``) for a trust store.

    Raises:
        KeyFileError: the file is missing, not PEM, damaged, a private key, or not Ed25519.
    """
    return load_ed25519_public_key(path, kind=_SERVICE_KEY_KIND)
