"""Writing a subject-access bundle: one zip, streamed, signed, the same bytes every time.

`SubjectAccess.build` gathers what the agency holds about one person and hands it here.
The writer makes one pass over the records, however many there are:

1. each record is turned into its ``records.json`` entry and its CSV row at once, and both
   are appended to temporary files of its record type (unnamed, deleted on close), so
   memory holds one record at a time plus a few sample rows per type for the page;
2. the zip is then written member by member from those files, each member's SHA-256 and
   size taken as it is written;
3. ``manifest.json`` lists every member with its hash and size, and ``manifest.sig`` is an
   Ed25519 signature over the manifest's exact bytes, with the signer's key id;
4. the zip goes to a temporary file next to the target, is flushed to disk and renamed into
   place (or is first encrypted, from an unnamed temporary file), so a failure at any step
   leaves no bundle, not a partial one.

The same inputs give the same bytes: members are written in a fixed order, every member's
zip timestamp is 1980-01-01 00:00 (the zip epoch) and its permissions 0644, JSON keys come
in a fixed order, and the only time in the bundle is the *created* time the caller gives.

The person's data is untrusted input to every member: JSON keeps it exact (``json.dumps``
escapes what JSON must), CSV cells a spreadsheet would run as a formula are neutralised
(`neutralise`), the page escapes everything (`page`), and member names come from the
library and the record classes' names, never from data.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import json
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .._shared.document import neutralise
from .._shared.files import trail_writer
from .._shared.keys import signing_key_id
from .._version import __version__
from ..errors import SubjectAccessError
from ..records import RecordPolicy

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "SIGNATURE",
    "BundleInfo",
    "ManifestEntry",
    "neutralise",
]

#: The manifest's ``format``: what kind of file this is.
FORMAT = "purposeful-subject-access-bundle"
#: The manifest's ``format_version``; a reader refuses versions it does not know.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
RECORDS = "records.json"
CONSENTS = "consents.json"
DISCLOSURES = "disclosures.json"
CORRECTIONS = "corrections.json"
WITHHELD = "withheld.json"
ACCESS_HISTORY = "access-history.json"
INDEX = "index.html"

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_MODE = 0o100644 << 16
_UNIX = 3
_CHUNK = 1 << 20
_ZIP64_ABOVE = 1 << 30
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")
STATEMENTS_COLUMN = "statements of correction"


@attrs.frozen
class ManifestEntry:
    """One member of a bundle, as the manifest lists it.

    Attributes:
        name: the member's name in the zip.
        sha256: the SHA-256 of its content, in hex.
        size: its size in bytes (uncompressed).
    """

    name: str
    sha256: str
    size: int


@attrs.frozen
class BundleInfo:
    """What `SubjectAccess.build` wrote. Holds no personal value.

    Attributes:
        path: the bundle file.
        request_id: the request it answers.
        subject: the person's pseudonym (as in the manifest).
        created: the time the manifest gives.
        key_id: the id of the key that signed it.
        records: how many records it holds, by record type.
        withheld: how many records and field values were withheld.
        files: its members, as the manifest lists them.
        encrypted: whether the file is encrypted (verify needs the secret to read it).
        sha256: the SHA-256 of the file as written, to quote when it is delivered.
        draft: a draft for the agency's review, not for release (the manifest and the page
            say so).
    """

    path: Path
    request_id: str
    subject: str
    created: dt.datetime
    key_id: str
    records: Mapping[str, int]
    withheld: int
    files: tuple[ManifestEntry, ...]
    encrypted: bool
    sha256: str
    draft: bool = False


def to_json(value: object) -> Any:
    """*value* as JSON data, exactly where JSON can say it, as text where it cannot.

    Text, whole numbers, true/false and null as they are; finite floats as numbers (NaN and
    infinities as text); dates and times in ISO 8601; enums by value; decimals as text (so
    no digit is lost); bytes as base64; mappings, sequences and sets (sorted, for a fixed
    order), attrs classes and dataclasses as objects; anything else as ``str(value)``.
    """
    if value is None or isinstance(value, str | bool | int):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        items = [to_json(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if attrs.has(type(value)):
        names = [a.name for a in attrs.fields(type(value))]  # type: ignore[arg-type]
        return {name: to_json(getattr(value, name)) for name in names}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return str(value)


def dumps(document: object, *, pretty: bool = True) -> bytes:
    """*document* as UTF-8 JSON, keys in the order given, ending with a newline."""
    text = json.dumps(
        document,
        ensure_ascii=False,
        allow_nan=False,
        indent=2 if pretty else None,
        separators=(",", ": ") if pretty else (",", ":"),
    )
    return utf8(text + "\n")


def utf8(text: str) -> bytes:
    """*text* as UTF-8. A lone surrogate (text decoded badly somewhere upstream) has no
    UTF-8 form: it is written as its ``\\udXXX`` escape, which in a JSON string reads back
    as exactly the same value, and elsewhere shows what was there."""
    return text.encode("utf-8", "backslashreplace")


def member_names(policies: Iterable[RecordPolicy]) -> dict[RecordPolicy, str]:
    """``records/<type>.csv`` for each record type: the class name with anything but
    letters, digits, ``_``, ``.`` and ``-`` replaced by ``_``; a number added when two
    types would share a name (in order of module, then name)."""
    names: dict[RecordPolicy, str] = {}
    taken: set[str] = set()
    for policy in sorted(policies, key=lambda p: (p.cls.__module__, p.cls.__qualname__)):
        stem = _SAFE_NAME.sub("_", policy.name) or "records"
        candidate, number = stem, 1
        while candidate.lower() in taken:
            number += 1
            candidate = f"{stem}-{number}"
        taken.add(candidate.lower())
        names[policy] = f"records/{candidate}.csv"
    return names


# --- the zip ------------------------------------------------------------------------------


class ZipWriter:
    """Writes members in a fixed form and keeps each one's hash and size for the manifest."""

    def __init__(self, file: IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED)
        self.entries: list[ManifestEntry] = []

    def add(self, name: str, size: int, chunks: Iterable[bytes]) -> ManifestEntry:
        """Add member *name* (*size* bytes in all) from *chunks*."""
        info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = _UNIX
        info.external_attr = _ZIP_MODE
        digest = hashlib.sha256()
        written = 0
        with self._zip.open(info, "w", force_zip64=size > _ZIP64_ABOVE) as member:
            for chunk in chunks:
                digest.update(chunk)
                member.write(chunk)
                written += len(chunk)
        entry = ManifestEntry(name, digest.hexdigest(), written)
        self.entries.append(entry)
        return entry

    def add_bytes(self, name: str, data: bytes) -> ManifestEntry:
        return self.add(name, len(data), [data])

    def close(self) -> None:
        self._zip.close()

    def abandon(self) -> None:
        """Give up on a zip whose writing failed: the file it went to is being thrown away,
        so nothing more is written to it, now or when the object is collected."""
        self._zip.fp = None


def manifest_document(
    *,
    agency: str,
    request_id: str,
    received: dt.date,
    due: dt.date,
    created: dt.datetime,
    subject: str,
    records: Mapping[str, int],
    files: Sequence[ManifestEntry],
    draft: bool = False,
    requester: Mapping[str, Any] | None = None,
    answers: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The manifest: what the bundle is, for whom (a pseudonym), every member's hash, whether
    it is a draft, who asked and which s 57 checks were recorded (no references), and the
    answers besides giving and withholding (neither confirm nor deny, s 47; release on
    conditions or in another form, ss 54–56)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator": f"purposeful {__version__}",
        "agency": agency,
        "request_id": request_id,
        "received": received.isoformat(),
        "due": due.isoformat(),
        "created": utc_iso(created),
        "subject": subject,
        "records": dict(records),
        "draft": draft,
        "requester": dict(requester) if requester is not None else None,
        "answers": [dict(answer) for answer in answers],
        "files": [
            {"name": entry.name, "sha256": entry.sha256, "size": entry.size}
            for entry in sorted(files, key=lambda e: e.name)
        ],
    }


def utc_iso(moment: dt.datetime) -> str:
    """*moment* in UTC, ISO 8601 with a ``Z``: how every time in a bundle's JSON is written."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def signature_document(manifest: bytes, key: Ed25519PrivateKey) -> dict[str, str]:
    """``manifest.sig``: the Ed25519 signature over the manifest's bytes, and the key id."""
    return {
        "algorithm": "Ed25519",
        "key_id": signing_key_id(key),
        "signature": base64.b64encode(key.sign(manifest)).decode("ascii"),
    }


# --- putting the file in place -------------------------------------------------------------


def check_target(target: Path, overwrite: bool) -> None:
    """Raise unless a bundle can be written to *target*."""
    if not target.parent.is_dir():
        raise SubjectAccessError(
            f"cannot write the bundle to {target}: its directory does not exist; create it first"
        )
    if target.is_dir():
        raise SubjectAccessError(
            f"cannot write the bundle to {target}: it is a directory; give a file name such "
            f"as {target / 'bundle.zip'}"
        )
    if (target.exists() or target.is_symlink()) and not overwrite:  # a link to nothing too
        raise SubjectAccessError(
            f"{target} already exists; choose another name, or pass overwrite=True "
            f"(--overwrite) to replace it"
        )


def check_not_trail(target: Path) -> None:
    """Raise before anything is built if *target* is a file an audit sink writes
    (`trail_writer`): with ``overwrite``, a bundle there would replace the audit trail, and
    the release's record with it (`atomic_file` refuses it too, later)."""
    writer = trail_writer(target)
    if writer is not None:
        raise SubjectAccessError(
            f"cannot write the bundle to {target}: it is the file the audit sink {writer} "
            f"writes, and a bundle there would replace the audit trail, even with overwrite; "
            f"choose another name. Nothing was written"
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
