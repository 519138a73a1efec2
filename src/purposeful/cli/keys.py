"""``purposeful keys new|recipient|service``: the audit trail's signing and pseudonym keys, an
age key pair that subject-access bundles can be encrypted to, and a service's own key for
the purpose claims it sends to the agency's other services.

What this module must not do: print a key or a passphrase (only paths and key ids), or hold
logic the library does not offer to code.
"""

from __future__ import annotations

import argparse

from ..audit import generate_keys
from ._common import CommandGroup, secret_from_env

__all__ = ["GROUP"]


def _keys_new(args: argparse.Namespace) -> int:
    passphrase = secret_from_env(args.passphrase_env, "the signing key")
    files = generate_keys(args.directory, passphrase=passphrase, force=args.force)
    protection = "encrypted with the passphrase" if files.encrypted else "not encrypted"
    print(f"signing key:   {files.signing_key} (key id {files.signing_key_id}, {protection})")
    print(f"public key:    {files.public_key} (key id {files.signing_key_id})")
    print(f"pseudonym key: {files.pseudonym_key} (key id {files.pseudonym_key_id})")
    print(
        "Keep the signing and pseudonym keys secret; give the public key to whoever "
        "verifies checkpoints and bundles."
    )
    return 0


def _add_keys_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    new = commands.add_parser(
        "new",
        help="create a signing key pair and a pseudonym key",
        description=(
            "Create an Ed25519 signing key pair (signing-key.pem, mode 0600, and "
            "signing-key.pub.pem, mode 0644) and a pseudonym key (pseudonym.key, mode 0600) "
            "in DIR. Existing keys are never replaced without --force."
        ),
    )
    new.add_argument("directory", metavar="DIR", help="where to write the keys")
    new.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="encrypt the signing key with the passphrase in environment variable VAR",
    )
    new.add_argument(
        "--force", action="store_true", help="replace existing key files (keep the old ones!)"
    )
    new.set_defaults(run=_keys_new)

    recipient = commands.add_parser(
        "recipient",
        help="create an age key pair that subject-access bundles can be encrypted to",
        description=(
            "Create an age key pair in DIR: recipient-key.txt (the private key, "
            "AGE-SECRET-KEY-1..., mode 0600, as age-keygen writes it) and "
            "recipient-key.pub.txt (the public key, age1...). Give the public key to whoever "
            "encrypts bundles for you (purposeful bundle build --encrypt-to); keep the private "
            "key to decrypt them, with purposeful or with age -d -i. Needs purposeful[age]."
        ),
    )
    recipient.add_argument("directory", metavar="DIR", help="where to write the keys")
    recipient.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="encrypt the private key with the passphrase in environment variable VAR "
        "(age -d -i asks for it too)",
    )
    recipient.set_defaults(run=_keys_recipient)

    service = commands.add_parser(
        "service",
        help="create a service's key pair for signing the purpose claims it sends",
        description=(
            "Create an Ed25519 key pair in DIR that this service signs its purpose claims "
            "with: service-key.pem (mode 0600) and service-key.pub.pem (mode 0644). Give the "
            "public key to the services that trust this one (their TrustStore). It is a key "
            "of its own, never the ledger or bundle signing key. Existing keys are never "
            "replaced without --force."
        ),
    )
    service.add_argument("directory", metavar="DIR", help="where to write the keys")
    service.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="encrypt the private key with the passphrase in environment variable VAR",
    )
    service.add_argument(
        "--force", action="store_true", help="replace existing key files (keep the old ones!)"
    )
    service.set_defaults(run=_keys_service)


def _keys_recipient(args: argparse.Namespace) -> int:
    from ..access.recipients import generate_recipient_keys

    private, public = generate_recipient_keys(
        args.directory, passphrase=secret_from_env(args.passphrase_env, "the private key")
    )
    print(f"private key: {private} (keep it secret: it decrypts bundles)")
    print(f"public key:  {public} (give it to whoever encrypts bundles for you)")
    return 0


def _keys_service(args: argparse.Namespace) -> int:
    from ..propagation import generate_service_key

    private, public, key_id = generate_service_key(
        args.directory,
        passphrase=secret_from_env(args.passphrase_env, "the service key"),
        force=args.force,
    )
    print(f"service key: {private} (key id {key_id}; keep it secret: it signs purpose claims)")
    print(f"public key:  {public} (key id {key_id}; give it to the services that trust this one)")
    return 0


GROUP = CommandGroup(
    "keys", "create signing, pseudonym, recipient and service keys", _add_keys_commands
)
