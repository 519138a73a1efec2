"""Verifying a subject-access bundle: every member's hash, and the signature over them.

`verify_bundle` (``purposeful bundle verify``) answers "is this the bundle the agency made,
unchanged?", for the agency before it sends one, for the person, or for the Privacy
Commissioner. It trusts nothing in the file until the signature is checked:

1. the file must be a regular file (a pipe, a device or a directory is refused before
   anything is read from it: reading one could block for ever or never end), so nothing
   read goes past its size; it is opened as a zip; an encrypted bundle (an age file,
   `purposeful.access.encryption`) is first decrypted into a spooled temporary file (memory
   up to 64 MiB, then an unnamed file). Nothing is ever extracted to disk;
2. every member name is checked before any member is read: no ``..``, no absolute path, no
   backslash, no name twice. A zip that breaks these rules is refused outright;
3. ``manifest.sig`` and ``manifest.json`` are read (each capped in size) and the Ed25519
   signature is checked over the manifest's exact bytes with the public key given; a
   manifest or signature nested too deeply to parse is refused as malformed;
4. the members must be exactly those the manifest lists, plus the manifest and signature;
5. the zip must be framed exactly as the bundle writer frames it (`._framing`): starting at
   byte 0, each member's local entry directly after the one before, each local header
   saying what the central directory says, and the end record the file's last 22 bytes
   (no zip comment), so no bytes can be added before, after or inside the zip for a reader
   that scans the file from its start to see as members;
6. each member is read in chunks and hashed; reading stops as soon as a member grows past
   the size the manifest gives, so a zip bomb cannot exhaust memory; its size and SHA-256
   must match the manifest.

The first failure raises `BundleInvalid` naming the member and what is wrong with it.

What is covered: the content of every member, and where in the file each one lies. What is
not: the zip container's own fields (timestamps, attributes), which carry none of the
bundle's information.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .._shared.keys import load_public_key, signing_key_id
from ..errors import BundleDecryptionError, BundleError, BundleInvalid
from ._framing import check_framing
from .bundle import FORMAT, FORMAT_VERSION, MANIFEST, SIGNATURE, ManifestEntry, dumps
from .encryption import MAGIC, decrypt_stream, is_encrypted

if TYPE_CHECKING:
    from pyrage.x25519 import Identity

__all__ = ["VerifiedBundle", "encrypted_bundle", "verify_bundle"]

_KEY_ID = re.compile(r"[0-9a-f]{8}")
_MANIFEST_LIMIT = 4 << 20
_SIGNATURE_LIMIT = 4096
_MEMBER_LIMIT = 10_000
_CHUNK = 1 << 20
_SPOOL = 64 << 20


@attrs.frozen
class VerifiedBundle:
    """A bundle that verified: what its signed manifest says.

    Attributes:
        agency: the agency that made it.
        request_id: the request it answers.
        subject: the person's pseudonym.
        created: when it was made.
        key_id: the id of the key that signed it.
        records: how many records of each type it holds.
        files: every member the manifest lists, checked.
        encrypted: whether the file was encrypted.
        draft: the manifest says the bundle is a draft, not an answer to give anyone.
    """

    agency: str
    request_id: str
    subject: str
    created: datetime
    key_id: str
    records: Mapping[str, int]
    files: tuple[ManifestEntry, ...]
    encrypted: bool
    draft: bool = False


def verify_bundle(
    bundle: str | os.PathLike[str],
    public_key: Ed25519PublicKey | str | os.PathLike[str],
    *,
    passphrase: str | bytes | None = None,
    private_key: Identity | None = None,
) -> VerifiedBundle:
    """Check every member's hash and the signature over them; raise at the first failure.

    Args:
        bundle: the bundle file.
        public_key: the agency's public signing key, or its PEM file.
        passphrase, private_key: the secret an encrypted bundle (an age file) was encrypted
            to; the private key as `purposeful.access.load_recipient_private_key` loads it.

    Raises:
        BundleInvalid: the bundle is not a zip, is cut short, has bytes added before, after
            or inside the zip, has a member that is unsafe, added, missing, resized or
            changed, or a signature that does not match; the message names the member.
        BundleDecryptionError: the bundle is encrypted and the secret is missing or wrong,
            or the encrypted file was changed or cut short.
        MissingExtra: the bundle is encrypted and pyrage is not installed.
        BundleError: the file cannot be read.
        KeyFileError: *public_key* is a file that is not an Ed25519 public key.
    """
    key = public_key if isinstance(public_key, Ed25519PublicKey) else load_public_key(public_key)
    path = Path(bundle)
    source = _open_file(path)
    with source, tempfile.SpooledTemporaryFile(max_size=_SPOOL) as plain:
        encrypted = is_encrypted(source.read(len(MAGIC)))
        source.seek(0)
        if encrypted:
            if passphrase is None and private_key is None:
                raise BundleDecryptionError(
                    f"{path} is encrypted: give the passphrase (passphrase=...) or the "
                    f"recipient's private key (private_key=...) it was encrypted to"
                )
            decrypt_stream(
                source,
                cast(BinaryIO, _Scratch(plain)),
                passphrase=passphrase,
                private_key=private_key,
            )
            plain.seek(0)
            readable: IO[bytes] = cast(IO[bytes], plain)
        else:
            readable = source
        return _verify(readable, key, encrypted)


class _Scratch:
    """Where the decrypted bundle goes: memory, then a temporary file past `_SPOOL`; a write
    the temporary directory cannot take (full, missing, read-only) is a `BundleError`."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target

    def write(self, data: bytes) -> int:
        try:
            return self._target.write(data)
        except OSError as exc:
            raise BundleError(
                f"cannot hold the decrypted bundle in the temporary directory "
                f"{tempfile.gettempdir()} ({exc.strerror or type(exc).__name__}): free space "
                f"there, or point TMPDIR at a disk with room, and verify again"
            ) from None


def encrypted_bundle(bundle: str | os.PathLike[str]) -> bool:
    """True if *bundle* is an encrypted bundle (an age file), by its first bytes.

    Raises:
        BundleError: the file cannot be read, or is not a regular file.
    """
    with _open_file(Path(bundle)) as source:
        return is_encrypted(source.read(len(MAGIC)))


#: Opening a pipe for reading waits for a writer: open without waiting, then look.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def _open_file(path: Path) -> BinaryIO:
    """*path* open for reading, if it is a regular file: what is read from it is bounded by
    its size. A pipe (which could block for ever), a device (``/dev/zero`` never ends) or a
    directory is refused before anything is read.

    Raises:
        BundleError: the file cannot be opened, or is not a regular file.
    """
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise BundleError(
            f"cannot read the bundle {path}: {exc.strerror or exc}; check the path"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise BundleError(
                f"the bundle {path} is not a regular file (a pipe, a device or a directory): "
                f"give the path of the bundle file itself"
            )
        if _OPEN_FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _verify(file: IO[bytes], key: Ed25519PublicKey, encrypted: bool) -> VerifiedBundle:
    try:
        archive = zipfile.ZipFile(file)
    except (*_ZIP_ERRORS, zipfile.LargeZipFile) as exc:
        raise BundleInvalid(
            f"not a readable zip file ({exc}): the bundle is cut short, altered or not a "
            f"bundle; do not trust it"
        ) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > _MEMBER_LIMIT:
            raise BundleInvalid(f"holds {len(infos):,} members, more than any bundle has")
        seen: set[str] = set()
        for info in infos:
            _check_name(info.filename)
            _check_form(info)
            if info.filename in seen:
                raise BundleInvalid("appears twice in the zip", member=info.filename)
            seen.add(info.filename)
        check_framing(file, infos)
        by_name = {info.filename: info for info in infos}
        for required in (MANIFEST, SIGNATURE):
            if required not in by_name:
                raise BundleInvalid("is missing: this is not a signed bundle", member=required)
        signature = _read(archive, by_name[SIGNATURE], _SIGNATURE_LIMIT)
        manifest = _read(archive, by_name[MANIFEST], _MANIFEST_LIMIT)
        key_id = _check_signature(manifest, signature, key)
        document = _manifest(manifest)
        files = _entries(document)
        listed = {entry.name for entry in files}
        for name in sorted(by_name):
            if name not in listed and name not in (MANIFEST, SIGNATURE):
                raise BundleInvalid(
                    "is not listed in the signed manifest: it was added after signing",
                    member=name,
                )
        for entry in files:
            found = by_name.get(entry.name)
            if found is None:
                raise BundleInvalid(
                    "is listed in the signed manifest but missing from the bundle",
                    member=entry.name,
                )
            _check_member(archive, found, entry)
    return VerifiedBundle(
        agency=str(document["agency"]),
        request_id=str(document["request_id"]),
        subject=str(document["subject"]),
        created=_created(document),
        key_id=key_id,
        records=dict(document.get("records") or {}),
        files=files,
        encrypted=encrypted,
        draft=document.get("draft") is True,
    )


# What zipfile raises for a damaged zip: BadZipFile mostly, but also NotImplementedError (an
# unknown compression method or zip version) and RuntimeError (an encryption flag).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
_ENCRYPTED_OR_PATCHED = 0x1 | 0x20 | 0x40  # general purpose flag bits 0, 5 and 6
#: What a member's Unix mode in the zip makes it, for the message refusing it.
_FILE_TYPES = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
}


def _check_form(info: zipfile.ZipInfo) -> None:
    """Refuse a member stored in a way a bundle never is (before reading anything)."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind not in (0, stat.S_IFREG):  # 0: no Unix mode recorded, as other zip tools write
        raise BundleInvalid(
            f"is stored as {_FILE_TYPES.get(kind, 'a special file')}, not a regular file: "
            f"unzip would make it one, and a bundle never holds one; the file was crafted",
            member=info.filename,
        )
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise BundleInvalid(
            f"uses compression method {info.compress_type}, which a bundle never does: the "
            f"file was changed or damaged",
            member=info.filename,
        )
    if info.flag_bits & _ENCRYPTED_OR_PATCHED:
        raise BundleInvalid(
            "is marked encrypted or patched, which a bundle member never is: the file was "
            "changed or damaged",
            member=info.filename,
        )


def _check_name(name: str) -> None:
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or ".." in parts
        or "" in parts
        or (len(name) > 1 and name[1] == ":")
        or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name)
    ):
        raise BundleInvalid(
            f"unsafe member name {name!r} (absolute, '..', or a backslash): a bundle never "
            f"has one; the file was crafted or damaged"
        )


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise BundleInvalid(
            f"claims {info.file_size:,} bytes, more than it can hold", member=info.filename
        )
    return b"".join(_chunks(archive, info, limit))


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> Any:
    """The member's content in chunks, stopping with an error past *limit* bytes."""
    read = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(min(_CHUNK, limit + 1 - read)):
                read += len(chunk)
                if read > limit:
                    raise BundleInvalid(
                        f"holds more than the {limit:,} bytes the manifest gives: it was "
                        f"changed, or is a decompression bomb",
                        member=info.filename,
                    )
                yield chunk
    except BundleInvalid:
        raise
    except _ZIP_ERRORS as exc:
        raise BundleInvalid(f"is damaged ({exc})", member=info.filename) from None


def _check_signature(manifest: bytes, signature: bytes, key: Ed25519PublicKey) -> str:
    try:
        document = json.loads(signature)
        raw = base64.b64decode(document["signature"], validate=True)
        signer = str(document["key_id"])
        if not _KEY_ID.fullmatch(signer):  # untrusted until the signature holds: not shown
            signer = "(not a key id)"
        algorithm = document["algorithm"]
    except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):
        raise BundleInvalid(
            "is not a signature file purposeful wrote (malformed)", member=SIGNATURE
        ) from None
    if algorithm != "Ed25519":
        raise BundleInvalid(f"uses algorithm {algorithm!r}, not Ed25519", member=SIGNATURE)
    given = signing_key_id(key)
    try:
        key.verify(raw, manifest)
    except InvalidSignature:
        if signer != given:
            raise BundleInvalid(
                f"the bundle says it was signed with key {signer}, not with the key given "
                f"({given}); verify with the agency's public key {signer}, or the bundle "
                f"was re-signed by someone else",
                member=SIGNATURE,
            ) from None
        raise BundleInvalid(
            "does not match manifest.json: the manifest was changed after signing",
            member=SIGNATURE,
        ) from None
    # The signature holds; the file around it must be exactly what the writer made, so that
    # no byte of any member can change without verify noticing.
    canonical = {"algorithm": "Ed25519", "key_id": given, "signature": _b64(raw)}
    if signature != dumps(canonical):
        raise BundleInvalid(
            "is not the file purposeful wrote around this signature (its key id or form was "
            "changed)",
            member=SIGNATURE,
        )
    return given


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _manifest(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except ValueError:
        raise BundleInvalid("is signed but is not JSON", member=MANIFEST) from None
    except RecursionError:
        raise BundleInvalid(
            "is signed but nested too deeply to be a manifest purposeful wrote: the file "
            "was crafted; do not trust it",
            member=MANIFEST,
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BundleInvalid("is not a purposeful bundle manifest", member=MANIFEST)
    if document.get("format_version") != FORMAT_VERSION:
        raise BundleInvalid(
            f"has format version {document.get('format_version')!r}; this purposeful reads "
            f"version {FORMAT_VERSION}: upgrade purposeful",
            member=MANIFEST,
        )
    for name in ("agency", "request_id", "subject", "created"):
        if not isinstance(document.get(name), str):
            raise BundleInvalid(f"has no {name}, or not as text", member=MANIFEST)
    records = document.get("records", {})
    if not isinstance(records, dict) or not all(
        isinstance(count, int) and not isinstance(count, bool) for count in records.values()
    ):
        raise BundleInvalid("gives its record counts in an unknown form", member=MANIFEST)
    if not isinstance(document.get("files"), list):
        raise BundleInvalid("has no list of files", member=MANIFEST)
    return document


def _entries(document: Mapping[str, Any]) -> tuple[ManifestEntry, ...]:
    entries = []
    for item in document["files"]:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("sha256"), str)
            and isinstance(item.get("size"), int)
            and not isinstance(item.get("size"), bool)
        ):
            raise BundleInvalid("lists its files in an unknown form", member=MANIFEST)
        entries.append(ManifestEntry(item["name"], item["sha256"], item["size"]))
    for entry in entries:
        _check_name(entry.name)
    return tuple(entries)


def _check_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, entry: ManifestEntry) -> None:
    if info.file_size != entry.size:
        raise BundleInvalid(
            f"is {info.file_size:,} bytes in the zip but {entry.size:,} in the signed "
            f"manifest: it was changed",
            member=entry.name,
        )
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(archive, info, entry.size):
        digest.update(chunk)
        size += len(chunk)
    if size != entry.size:
        raise BundleInvalid(
            f"holds {size:,} bytes, not the {entry.size:,} the signed manifest gives: it was "
            f"cut short",
            member=entry.name,
        )
    if digest.hexdigest() != entry.sha256:
        raise BundleInvalid(
            "does not match its SHA-256 in the signed manifest: it was changed",
            member=entry.name,
        )


def _created(document: Mapping[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(document["created"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        raise BundleInvalid("has no valid created time", member=MANIFEST) from None
