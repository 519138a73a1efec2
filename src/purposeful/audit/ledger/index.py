"""The verified index of a ledger: which lines name each pseudonym, up to a signed checkpoint.

One person's access history needs only the lines that name them (and the few that every
answer needs). `verify_ledger` can write, beside the ledger, an index of what it verified:
for each pseudonym, the lines that name it, up to the newest signed checkpoint. The file
(``<ledger>.index`` by default, `default_index_path`)::

    {"digest":…,"end":…,"format":"purposeful-ledger-index/2","head":…,"key":"sha256:…",
     "key_ids":[…],"ledger":…,"line":…,"offset":…,"seq":…}
    <the line table: for seq 1 to seq, one line each of 12 hex digits of the line's offset
     and 32 of the BLAKE2b-128 of its bytes>
    * <the seqs of the lines every answer reads, comma-separated>
    -<the id of each scope written in parts, one a line>
    <one line per pseudonym, sorted: the pseudonym, a space, and its seqs, comma-separated>

A line names a pseudonym by listing it among its subjects, or as the person whose record one
of its disclosures was.

The header (canonical JSON) names the ledger (its id), the public key that verified it, the
checkpoint it covers (``seq``, its chain ``head``, the line's ``offset``, where it ``end``s and
the SHA-256 of its bytes, ``line``), the key ids of every pseudonym up to it, and the SHA-256
of the rest of the file (``digest``). The lines every answer reads are those of scopes
written in parts, those that do not list everyone they read, list nobody, or list
something that is not a pseudonym, and those with a disclosure that does not name the person
whose record it was by pseudonym (each answer counts those).

An index is used only when all of that still holds: the same format, the same ledger, the
same key, a rest of the file whose digest matches, and the checkpointed line still at its
offset with the same bytes. Each line read through it is checked against its digest, and
the ledger after the checkpoint is verified again. Anything else (missing, of another
version, damaged, stale, for a ledger rewritten under it) is rebuilt from a full
verification, never trusted.

What this module must not do: hold a subject identifier (only pseudonyms; a subject that is
not one makes its line one every answer reads, and is not kept); write an index of lines
that were not verified up to a signed checkpoint; leave a partial index (it is written
whole, or not at all).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final

import attrs

from ..._shared.files import atomic_file
from ..conventions import DisclosureAttribute, LedgerKey, LineType
from .format import canonical, decode, is_mac

__all__ = ["INDEX_FORMAT", "IndexBuilder", "LedgerIndex", "default_index_path", "read_index"]

#: The format an index names in its header; another is rebuilt (an index of format /1 does
#: not know the pseudonyms disclosures name).
INDEX_FORMAT: Final = "purposeful-ledger-index/2"

_DISCLOSED: Final = DisclosureAttribute.SUBJECT  # whose record a disclosure was
_RECORD: Final = 45  # 12 hex digits of offset, 32 of digest, a newline
_PSEUDONYM = re.compile(r"[0-9a-f]{8}:[0-9a-f]{32}\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def default_index_path(ledger: str | os.PathLike[str]) -> Path:
    """Where the index of *ledger* goes unless told otherwise: ``<ledger>.index``."""
    path = Path(ledger)
    return path.with_name(path.name + ".index")


def line_digest(raw: bytes) -> str:
    """What the line table holds of a line (its bytes, newline included): 32 hex digits."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


@attrs.frozen
class Mark:
    """The signed checkpoint an index covers, as the ledger holds it."""

    seq: int
    head: str
    offset: int
    end: int
    line: str


class IndexBuilder:
    """Takes every verified line of a ledger after its header; writes the index up to a
    signed checkpoint.

    Args:
        ledger_id: the id in the ledger's header.
        key: the digest of the public key the ledger was verified with (`key_digest`).
    """

    def __init__(self, ledger_id: str, key: str) -> None:
        self.ledger_id = ledger_id
        self.key = key
        self._table: list[bytes] = []
        self._people: dict[str, list[int]] = {}
        self._always: list[int] = []
        self._key_ids: dict[str, int] = {}  # key id: the first seq naming it
        self._parted: set[str] = set()  # scope ids of lines that are parts
        self._whole: dict[str, list[int]] = {}  # scope id: seqs of whole lines
        self._marks: dict[int, Mark] = {}

    @classmethod
    def extending(cls, index: LedgerIndex) -> IndexBuilder:
        """A builder that goes on from *index*, to take the lines after its checkpoint."""
        builder = cls(index.ledger_id, index.key)
        builder._table = [index.table[i : i + _RECORD] for i in range(0, len(index.table), _RECORD)]
        builder._people = {name: list(seqs) for name, seqs in index.people()}
        builder._always = list(index.always)
        builder._key_ids = dict.fromkeys(index.key_ids, 0)
        builder._parted = set(index.parted)
        builder._marks[index.mark.seq] = index.mark
        return builder

    def add(self, seq: int, offset: int, raw: bytes) -> None:
        """Note the line of *seq*, at *offset*, whose bytes (newline included) are *raw*."""
        self._table.append(f"{offset:012x}{line_digest(raw)}\n".encode("ascii"))
        document = json.loads(raw)  # verified: canonical JSON, an object
        if document.get(LedgerKey.TYPE) != LineType.SCOPE:
            return  # a format or recovery line: no scope, nobody named
        subjects = document.get(LedgerKey.SUBJECTS)
        always = not _whole_and_plain(document, subjects)
        scope = document.get(LedgerKey.SCOPE)
        if isinstance(scope, str) and scope:
            if _is_part(document):
                self._parted.add(scope)
                always = True
            else:
                self._whole.setdefault(scope, []).append(seq)
        named = list(subjects) if isinstance(subjects, list) else []
        disclosures = document.get(LedgerKey.DISCLOSURES, [])
        for disclosure in disclosures if isinstance(disclosures, list) else [None]:
            subject = disclosure.get(_DISCLOSED) if isinstance(disclosure, dict) else None
            if isinstance(subject, str) and _PSEUDONYM.match(subject):
                named.append(subject)
            else:
                always = True  # every answer counts the disclosures it cannot attribute
        if always:
            self._always.append(seq)
        for subject in dict.fromkeys(s for s in named if isinstance(s, str)):
            if _PSEUDONYM.match(subject):
                self._people.setdefault(subject, []).append(seq)
                self._key_ids.setdefault(subject.partition(":")[0], seq)

    def checkpointed(self, mark: Mark) -> None:
        """Note that the line of *mark.seq* is covered by a signed checkpoint."""
        self._marks[mark.seq] = mark

    def write(self, path: Path, newest: int | None) -> bool:
        """Write the index up to the newest checkpointed line at or before seq *newest*.

        Returns False, writing nothing, when no checkpoint covers a line; raises OSError
        when the file cannot be written.
        """
        covered = [seq for seq in self._marks if newest is None or seq <= newest]
        if not covered:
            return False
        mark = self._marks[max(covered)]
        upto = mark.seq
        parted_whole = [
            seq for scope in self._parted for seq in self._whole.get(scope, ()) if seq <= upto
        ]
        always = sorted({seq for seq in self._always if seq <= upto} | set(parted_whole))
        rows = [b"* " + ",".join(map(str, always)).encode("ascii") + b"\n"]
        rows += [b"-" + scope.encode("ascii", "replace") + b"\n" for scope in sorted(self._parted)]
        for name in sorted(self._people):
            seqs = [seq for seq in self._people[name] if seq <= upto]
            if seqs:
                rows.append(f"{name} {','.join(map(str, seqs))}\n".encode("ascii"))
        body = b"".join(self._table[:upto]) + b"".join(rows)
        header = {
            "digest": hashlib.sha256(body).hexdigest(),
            "end": mark.end,
            "format": INDEX_FORMAT,
            "head": mark.head,
            "key": self.key,
            "key_ids": sorted(key for key, seq in self._key_ids.items() if seq <= upto),
            "ledger": self.ledger_id,
            "line": mark.line,
            "offset": mark.offset,
            "seq": upto,
        }
        with atomic_file(path, overwrite=True) as file:
            file.write(canonical(header) + b"\n")
            file.write(body)
        return True


def _is_part(document: dict[str, Any]) -> bool:
    """True if the line is a part of a scope written in parts (not part 0 and last)."""
    return not (document.get(LedgerKey.PART) == 0 and document.get(LedgerKey.FINAL) is True)


def _whole_and_plain(document: dict[str, Any], subjects: object) -> bool:
    """True if the line can matter to an answer only by naming the person: it lists
    everyone it read, only pseudonyms, and is not a part of a longer scope."""
    if not isinstance(subjects, list) or not all(
        isinstance(subject, str) and _PSEUDONYM.match(subject) for subject in subjects
    ):
        return False
    in_parts = any(name in document for name in (LedgerKey.SCOPE, LedgerKey.PART, LedgerKey.FINAL))
    if in_parts and _is_part(document):
        return False
    overflow = document.get(LedgerKey.SUBJECTS_OVERFLOW)
    count = document.get(LedgerKey.SUBJECTS_COUNT)
    if overflow is None:
        return count is None or (type(count) is int and count <= len(subjects))
    return type(overflow) is int and overflow == 0


@attrs.frozen
class LedgerIndex:
    """An index read back, its header and digest checked (`read_index`).

    Attributes:
        ledger_id, key: the ledger's id and the digest of the public key it was verified
            with.
        mark: the signed checkpoint it covers.
        always: the seqs of the lines every answer reads.
        parted: the ids of scopes written in parts up to the checkpoint.
        key_ids: the key ids of the pseudonyms up to the checkpoint.
        table: the line table.
    """

    ledger_id: str
    key: str
    mark: Mark
    always: tuple[int, ...]
    parted: frozenset[str]
    key_ids: tuple[str, ...]
    table: bytes
    _people: bytes

    def seqs_of(self, pseudonyms: Iterable[str]) -> set[int]:
        """The seqs of the lines that name any of *pseudonyms*."""
        found: set[int] = set()
        for name in pseudonyms:
            if not _PSEUDONYM.match(name):
                continue
            needle = b"\n" + name.encode("ascii") + b" "
            at = (b"\n" + self._people).find(needle)
            if at < 0:
                continue
            start = at + len(needle) - 1
            end = self._people.index(b"\n", start)
            found.update(int(seq) for seq in self._people[start:end].split(b","))
        return found

    def people(self) -> Iterator[tuple[str, list[int]]]:
        """Every pseudonym and its seqs."""
        for row in self._people.splitlines():
            name, _, seqs = row.partition(b" ")
            yield name.decode("ascii"), [int(seq) for seq in seqs.split(b",")]

    def record(self, seq: int) -> tuple[int, str]:
        """The offset and digest of the line of *seq* (1 to `mark.seq`)."""
        row = self.table[(seq - 1) * _RECORD : seq * _RECORD]
        return int(row[:12], 16), row[12:44].decode("ascii")

    def read_lines(self, reader: BinaryIO, seqs: Iterable[int]) -> list[bytes] | None:
        """The lines of *seqs*, in order, each checked against its digest; None if one
        does not match (the ledger changed under the index)."""
        lines = []
        for seq in sorted(seqs):
            offset, digest = self.record(seq)
            reader.seek(offset)
            raw = reader.readline()
            if line_digest(raw) != digest:
                return None
            lines.append(raw)
        return lines

    def holds_for(self, reader: BinaryIO) -> bool:
        """True if the checkpointed line is still at its offset, with the same bytes."""
        reader.seek(self.mark.offset)
        raw = reader.read(self.mark.end - self.mark.offset)
        return (
            len(raw) == self.mark.end - self.mark.offset
            and raw.endswith(b"\n")
            and hashlib.sha256(raw).hexdigest() == self.mark.line
        )


def _count(value: object) -> int | None:
    return value if type(value) is int and value >= 0 else None


def read_index(path: Path, *, ledger_id: str, key: str) -> LedgerIndex | None:
    """The index at *path* if it is one of `INDEX_FORMAT`, whole, and for this ledger and
    key; None if it is missing or is anything else (it is then rebuilt)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    first, newline, body = data.partition(b"\n")
    header = decode(first) if newline else "is incomplete"
    if isinstance(header, str):
        return None
    seq, offset, end = (_count(header.get(name)) for name in ("seq", "offset", "end"))
    head, line, digest = (header.get(name) for name in ("head", "line", "digest"))
    key_ids = header.get("key_ids")
    if (
        header.get("format") != INDEX_FORMAT
        or header.get("ledger") != ledger_id
        or header.get("key") != key
        or seq is None
        or offset is None
        or end is None
        or not isinstance(head, str)
        or not is_mac(head)
        or not isinstance(line, str)
        or not _HEX64.match(line)
        or not isinstance(digest, str)
        or hashlib.sha256(body).hexdigest() != digest
        or not isinstance(key_ids, list)
        or not all(isinstance(key_id, str) for key_id in key_ids)
    ):
        return None
    table, rest = body[: seq * _RECORD], body[seq * _RECORD :]
    always_row, _, rest = rest.partition(b"\n")
    if len(table) != seq * _RECORD or not always_row.startswith(b"* "):
        return None
    parted: set[str] = set()
    while rest.startswith(b"-"):
        row, _, rest = rest.partition(b"\n")
        parted.add(row[1:].decode("ascii", "replace"))
    try:
        always = tuple(int(text) for text in always_row[2:].split(b",") if text)
    except ValueError:
        return None
    return LedgerIndex(
        ledger_id,
        key,
        Mark(seq, head, offset, end, line),
        always,
        frozenset(parted),
        tuple(key_ids),
        table,
        rest,
    )
