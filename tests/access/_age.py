"""A small age writer for tests: passphrase files at a cheap scrypt work factor.

rage picks the scrypt work factor that takes about a second on the machine it runs on, so a
property test that opens hundreds of damaged copies of a passphrase bundle uses files
written here instead: real age files (age-encryption.org/v1), written to the spec with
cryptography's primitives, at work factor 2**10 (1 MiB, a few milliseconds). purposeful
opens them through pyrage like any other age file, which also shows it reads age files
that purposeful did not write.
"""

from __future__ import annotations

import base64
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

CHUNK = 64 * 1024
CHEAP_WORK_FACTOR = 10


def b64(data: bytes) -> bytes:
    """age's base64: the standard alphabet, without padding."""
    return base64.b64encode(data).rstrip(b"=")


def _hkdf(key: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def _body(encoded: bytes) -> bytes:
    """A stanza body: lines of 64 columns, the last one shorter (perhaps empty)."""
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    if not lines or len(lines[-1]) == 64:
        lines.append(b"")
    return b"".join(line + b"\n" for line in lines)


def _text(value: bytes | int) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("ascii")


def scrypt_stanza(salt: bytes, work_factor: bytes | int, body: bytes) -> bytes:
    """An scrypt stanza, its work factor written as given (so tests can write bad ones)."""
    return b"-> scrypt " + b64(salt) + b" " + _text(work_factor) + b"\n" + body


def passphrase_file(
    plaintext: bytes, passphrase: str, *, work_factor: int = CHEAP_WORK_FACTOR
) -> bytes:
    """*plaintext* encrypted to *passphrase* as age does it, at 2**work_factor."""
    file_key = os.urandom(16)
    salt = os.urandom(16)
    wrapping = Scrypt(
        salt=b"age-encryption.org/v1/scrypt" + salt, length=32, n=1 << work_factor, r=8, p=1
    ).derive(passphrase.encode("utf-8"))
    wrapped = ChaCha20Poly1305(wrapping).encrypt(bytes(12), file_key, None)
    header = (
        b"age-encryption.org/v1\n" + scrypt_stanza(salt, work_factor, _body(b64(wrapped))) + b"---"
    )
    mac = hmac.digest(_hkdf(file_key, b"", b"header"), header, "sha256")
    nonce = os.urandom(16)
    payload = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    chunks = [plaintext[i : i + CHUNK] for i in range(0, len(plaintext), CHUNK)] or [b""]
    sealed = [
        payload.encrypt(i.to_bytes(11, "big") + bytes([i == len(chunks) - 1]), chunk, None)
        for i, chunk in enumerate(chunks)
    ]
    return header + b" " + b64(mac) + b"\n" + nonce + b"".join(sealed)


def header_asking(work_factor: bytes | int, *, stanza_type: bytes = b"scrypt") -> bytes:
    """A well-formed age header (its MAC made up) whose one stanza asks for *work_factor*."""
    arguments = b" " + b64(bytes(16)) + b" " + _text(work_factor)
    if stanza_type != b"scrypt":
        arguments = b" " + b64(bytes(32))
    stanza = b"-> " + stanza_type + arguments + b"\n" + _body(b64(bytes(32)))
    return b"age-encryption.org/v1\n" + stanza + b"--- " + b64(bytes(32)) + b"\n" + bytes(48)
