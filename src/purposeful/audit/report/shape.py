"""The relational shape of purpose spans and ledger lines: tables an analytical engine queries.

Every figure of ``purposeful audit report`` is a query (`purposeful.audit.report.sql`) over
the tables this module describes (`TABLES`): one row per part of a scope in `scope_parts`,
and child tables for what a part holds many of (fields read, people, per-person reads,
refusals, disclosures). `ShapeRows` fills them from what the report's readers yield,
validated, in input order, and decides once, as `purposeful.audit.report.ReportBuilder`
does, which parts make one scope (`scope_key`), which part is the first seen of its scope,
and whether a scope is complete; the queries then need no order-dependent logic.

An engine (`purposeful.audit.report.duckdb_engine`) loads the rows; another engine (a
trace store) may supply the same tables as views over its own schema instead.

What this module must not do: import an engine (it is plain Python); hold a subject
identifier or a field's value (the inputs have neither, only pseudonyms and names).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Final

import attrs

from ..history import _is_pseudonym  # the one test of a pseudonym's form
from .reading import ALSO_IN_A_LEDGER, LEDGER_INPUT
from .records import Entry, Ignored, LedgerParts, ScopeRecord, ScopesInParts

__all__ = [
    "TABLES",
    "Placed",
    "ShapeRows",
    "decode_reasons",
    "encode_reasons",
    "from_stored_text",
    "stored_text",
]

#: The tables of the shape: name, then (column, portable SQL type) in order.
TABLES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "sources": (
        ("source_no", "BIGINT"),
        ("path", "VARCHAR"),
        ("format", "VARCHAR"),
    ),
    "source_ignored": (
        ("source_no", "BIGINT"),
        ("position", "BIGINT"),
        ("what", "VARCHAR"),
        ("entries", "BIGINT"),
    ),
    "scope_parts": (
        ("part_key", "BIGINT"),
        ("source_no", "BIGINT"),
        ("kind", "VARCHAR"),
        ("scope_key", "BIGINT"),
        ("first_seen", "BOOLEAN"),
        ("scope_id", "VARCHAR"),
        ("part", "BIGINT"),
        ("final", "BOOLEAN"),
        ("opened", "TIMESTAMP"),
        ("closed", "TIMESTAMP"),
        ("purpose", "VARCHAR"),
        ("actor_id", "VARCHAR"),
        ("actor_role", "VARCHAR"),
        ("denied", "BIGINT"),
        ("would_deny", "BIGINT"),
        ("subjects_listed", "BOOLEAN"),
        ("subjects_len", "BIGINT"),
        ("subjects_other", "BOOLEAN"),
        ("subjects_count", "BIGINT"),
        ("subjects_overflow", "BIGINT"),
        ("subjects_said", "BOOLEAN"),
        ("reads_known", "BOOLEAN"),
        ("site_file", "VARCHAR"),
        ("site_function", "VARCHAR"),
        ("site_line", "BIGINT"),
        ("upstream_service", "VARCHAR"),
        ("upstream_scope_id", "VARCHAR"),
    ),
    "scopes": (
        ("scope_key", "BIGINT"),
        ("complete", "BOOLEAN"),
        ("settle_order", "BIGINT"),
    ),
    "part_record_types": (
        ("part_key", "BIGINT"),
        ("record_type", "VARCHAR"),
    ),
    "part_fields": (
        ("part_key", "BIGINT"),
        ("name", "VARCHAR"),
        ("record_type", "VARCHAR"),
        ("field", "VARCHAR"),
        ("counts_scope", "BOOLEAN"),
    ),
    "part_subjects": (
        ("part_key", "BIGINT"),
        ("position", "BIGINT"),
        ("pseudonym", "VARCHAR"),
        ("is_pseudonym", "BOOLEAN"),
        ("key_id", "VARCHAR"),
    ),
    "part_reads": (
        ("part_key", "BIGINT"),
        ("pseudonym", "VARCHAR"),
        ("name", "VARCHAR"),
    ),
    "part_refusals": (
        ("part_key", "BIGINT"),
        ("position", "BIGINT"),
        ("outcome", "VARCHAR"),
        ("record_type", "VARCHAR"),
        ("field", "VARCHAR"),
        ("reasons", "VARCHAR"),
        ("reads", "BIGINT"),
    ),
    "part_disclosures": (
        ("part_key", "BIGINT"),
        ("position", "BIGINT"),
        ("disclosure_id", "VARCHAR"),
        ("agreement", "VARCHAR"),
        ("recipient", "VARCHAR"),
        ("record_type", "VARCHAR"),
        ("statements", "BIGINT"),
        ("subject", "VARCHAR"),
        ("subject_key_id", "VARCHAR"),
    ),
    "disclosure_fields": (
        ("part_key", "BIGINT"),
        ("position", "BIGINT"),
        ("field", "VARCHAR"),
    ),
}

# reasons, a tuple of codes, as one string that groups and sorts as the tuple does: each
# code ends in \x01, and \x00-\x02 inside a code are escaped above \x01
_ESCAPES: Final = {"\x00": "\x02\x02", "\x01": "\x02\x03", "\x02": "\x02\x04"}
_UNESCAPES: Final = {value[1]: key for key, value in _ESCAPES.items()}


def encode_reasons(reasons: Iterable[str]) -> str:
    """*reasons* as one string whose byte order is the tuple's order (see `decode_reasons`)."""
    return "".join("".join(_ESCAPES.get(char, char) for char in code) + "\x01" for code in reasons)


def decode_reasons(encoded: str) -> tuple[str, ...]:
    """The reason codes `encode_reasons` made *encoded* of.

    Raises:
        ValueError: *encoded* is not what `encode_reasons` makes (an archive edited by hand:
            an escape cut short or unknown, a code not ended)."""
    codes: list[str] = []
    current: list[str] = []
    chars = iter(encoded)
    for char in chars:
        if char == "\x01":
            codes.append("".join(current))
            current = []
        elif char == "\x02":
            escaped = _UNESCAPES.get(next(chars, ""))
            if escaped is None:
                raise ValueError("reasons with an escape encode_reasons never writes")
            current.append(escaped)
        else:
            current.append(char)
    if current:
        raise ValueError("reasons whose last code is not ended as encode_reasons ends it")
    return tuple(codes)


# Text in the shape is UTF-8, which cannot hold a lone surrogate (JSON can, as an escape): a
# lone surrogate is stored as U+D7FF and a character from U+E000, and U+D7FF itself as U+D7FF
# and U+0001, so that stored text sorts and groups as the text does.
_SURROGATE_OR_MARK: Final = re.compile("[\ud7ff-\udfff]")
_STORED_MARK: Final = re.compile("\ud7ff(.?)", re.DOTALL)
_PRIVATE_FROM: Final = 0xE000 - 0xD800


def _store_one(found: re.Match[str]) -> str:
    char = found.group()
    return "\ud7ff\x01" if char == "\ud7ff" else "\ud7ff" + chr(ord(char) + _PRIVATE_FROM)


def _restore_one(found: re.Match[str]) -> str:
    char = found.group(1)
    if char == "\x01":
        return "\ud7ff"
    if not char or not 0xE000 <= ord(char) <= 0xE7FF:
        raise ValueError("text with a mark stored_text never writes")
    return chr(ord(char) - _PRIVATE_FROM)


def stored_text(text: str) -> str:
    """*text* as the shape stores it: UTF-8 always, sorting as *text* does."""
    if text.isascii():
        return text
    return _SURROGATE_OR_MARK.sub(_store_one, text)


def from_stored_text(text: str) -> str:
    """The text `stored_text` stored as *text*.

    Raises:
        ValueError: *text* holds U+D7FF before a character `stored_text` never puts after
            it (an archive edited by hand)."""
    if text.isascii():
        return text
    return _STORED_MARK.sub(_restore_one, text)


def _naive_utc(moment: datetime) -> datetime:
    """*moment* as a naive UTC datetime, as SQL's TIMESTAMP holds it."""
    return moment.astimezone(UTC).replace(tzinfo=None)


#: A time for a part `ShapeRows.add_placed` joins: only its id, number and finality matter.
_NOWHEN: Final = datetime(1970, 1, 1, tzinfo=UTC)


@attrs.define
class Placed:
    """What `ShapeRows.place` decided about some parts of a file.

    Attributes:
        runs: the parts that are each a scope written whole, in runs of consecutive parts,
            as (index among the parts of the first, how many, the first's scope key, the
            first's settle order): each next part of a run has the next key and the next
            settle order, and its `scopes` row (complete) is the engine's to add.
        parts: each other part, as (index among the parts, its scope's key, whether it is
            the first part of its scope seen); their `scopes` rows are in `ShapeRows.rows`.
        in_parts: the parts of scopes written in parts, as (index among the parts, the
            record types earlier parts of its scope read); see `ShapeRows.counting`.
    """

    runs: list[tuple[int, int, int, int]] = attrs.Factory(list)
    parts: list[tuple[int, int, bool]] = attrs.Factory(list)
    in_parts: list[tuple[int, set[str]]] = attrs.Factory(list)


@attrs.define
class _Kept:
    scope_key: int
    record_types: set[str] = attrs.Factory(set)


class ShapeRows:
    """The shape's rows, from the entries of one input file after another.

    Rows collect per table in `rows`; an engine takes them with `take` as often as it
    likes (to load in batches), then calls `finish` for the `scopes` table.

    As `purposeful.audit.report.ReportBuilder` does, it notes the parts of the ledgers
    (`ledger_parts`), which come first (`purposeful.audit.report.reading.report_inputs`),
    and leaves out a later trace file's part a ledger holds: it has no row, and counts in
    the file's `source_ignored` as ``"parts also in a ledger"``. A trace part of a scope a
    ledger holds only some parts of joins the ledger's parts (the same scope key).
    """

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[object, ...]]] = {name: [] for name in TABLES}
        self._sources = 0
        self._parts = 0
        self._scope_keys = 0
        self._settled = 0
        self._kind = ""
        self._open: ScopesInParts[_Kept] = ScopesInParts(lambda scope: _Kept(-1))
        # the (kind of file, scope id) of the scopes in _open, to tell a scope written whole
        self._open_ids: set[tuple[str, str]] = set()
        self.ledger_parts = LedgerParts()
        """The parts read from ledgers so far, whose trace copies are left out."""

    def add_source(
        self,
        path: str | os.PathLike[str],
        format: str,
        entries: Iterable[Entry],
        *,
        every: tuple[int, Callable[[ShapeRows], None]] | None = None,
    ) -> int:
        """Add every entry of one file; returns the source number it has in the tables.

        Args:
            every: (n, load): call *load* with these rows after every n scope parts, so that
                an engine can take them in batches.
        """
        source_no = self._sources
        self._sources += 1
        self.rows["sources"].append((source_no, str(path), format))
        ignored: Counter[str] = Counter()
        self._kind = format
        size, load = every if every is not None else (0, None)
        for entry in entries:
            if isinstance(entry, Ignored):
                ignored[entry.what] += 1
            elif format != LEDGER_INPUT and self.ledger_parts.holds(entry.scope_id, entry.part):
                ignored[ALSO_IN_A_LEDGER] += 1
            else:
                if format == LEDGER_INPUT:
                    self.ledger_parts.add(entry)
                self._add(source_no, entry)
                if load is not None and self._parts % size == 0:
                    load(self)
        for position, (what, count) in enumerate(ignored.items()):
            self.rows["source_ignored"].append((source_no, position, what, count))
        return source_no

    def take(self) -> Iterator[tuple[str, list[tuple[object, ...]]]]:
        """The rows collected since the last call, table by table, and forget them."""
        for name, rows in self.rows.items():
            if rows:
                self.rows[name] = []
                yield name, rows

    def finish(self) -> None:
        """Add the `scopes` rows of the scopes still missing parts: incomplete."""
        for parts in self._open:
            self.rows["scopes"].append((parts.kept.scope_key, False, self._settle()))

    def _settle(self) -> int:
        self._settled += 1
        return self._settled

    def add_placed(
        self, path: str | os.PathLike[str], format: str, ignored: Iterable[tuple[str, int]]
    ) -> tuple[int, int]:
        """Add a file whose rows an engine derives itself (`purposeful.audit.report.duckdb_json`);
        returns its source number and the key its first part gets. Then `place` its parts.

        Args:
            ignored: what the file held that is not a purpose scope, with how many, in the
                order first met.
        """
        source_no = self._sources
        self._sources += 1
        self.rows["sources"].append((source_no, str(path), format))
        self.rows["source_ignored"].extend(
            (source_no, position, what, count) for position, (what, count) in enumerate(ignored)
        )
        self._kind = format
        return source_no, self._parts

    def place(self, parts: Sequence[tuple[str | None, int, bool]]) -> Placed:
        """Decide, for the next parts of the file `add_placed` added, only what depends on
        the order parts were read in, as for any other file: their part keys (in turn),
        which parts make one scope, the first part of each, and the `scopes` rows of the
        scopes they complete (of runs of whole scopes, only the run: see `Placed`).

        Args:
            parts: each part's scope id, part number and whether it is the last, in reading
                order; none of them one a ledger holds (the engine leaves those out first).
        """
        placed = Placed()
        kind = self._kind
        joins = kind != LEDGER_INPUT  # a part may join the open scope of a ledger (`_joined`)
        open_ids = self._open_ids
        run = -1  # the index of the first part of the current run of whole scopes, if any
        for i, (scope_id, part, final) in enumerate(parts):
            if scope_id is None or (
                part == 0
                and final
                and (kind, scope_id) not in open_ids
                and not (joins and (LEDGER_INPUT, scope_id) in open_ids)
            ):
                # a scope written whole: the common case, decided without a ScopeRecord,
                # each its own part key, scope key and settle order, in turn
                if run < 0:
                    run, run_key, run_settled = i, self._scope_keys + 1, self._settled + 1
                self._parts += 1
                self._scope_keys += 1
                self._settled += 1
                continue
            if run >= 0:
                placed.runs.append((run, i - run, run_key, run_settled))
                run = -1
            record = ScopeRecord(
                opened=_NOWHEN,
                closed=_NOWHEN,
                purpose=None,
                actor_id=None,
                actor_role=None,
                record_types=(),
                fields_read=(),
                denied=0,
                would_deny=0,
                scope_id=scope_id,
                part=part,
                final=final,
            )
            _, scope_key, new, counted = self._place(record)
            placed.parts.append((i, scope_key, new))
            if counted is not None:
                placed.in_parts.append((i, counted))
        if run >= 0:
            placed.runs.append((run, len(parts) - run, run_key, run_settled))
        return placed

    @staticmethod
    def counting(counted: set[str], record_types: Iterable[str]) -> list[str]:
        """The record types a part of a scope counts the scope for in the accesses table:
        those of *record_types* (each once, in the order read) no earlier part of it read;
        notes them in *counted*, what the earlier parts read."""
        found = [name for name in record_types if name not in counted]
        counted.update(found)
        return found

    def _joined(self, scope_id: str) -> str:
        """The kind of file the parts of scope *scope_id* from this file are joined under:
        the file's own, but a ledger's while a ledger holds only some parts of it."""
        if self._kind != LEDGER_INPUT and (LEDGER_INPUT, scope_id) in self._open_ids:
            return LEDGER_INPUT
        return self._kind

    def _place(self, scope: ScopeRecord) -> tuple[int, int, bool, set[str] | None]:
        """Number *scope*, a part, and join it to its scope: its part key, its scope's key,
        whether it is the first part of it seen, and the record types earlier parts of its
        scope read (None for a scope written whole)."""
        part_key = self._parts
        self._parts += 1
        kind = self._kind if scope.scope_id is None else self._joined(scope.scope_id)
        parts, new = self._open.add(scope, kind)
        if parts is None:
            scope_key = self._new_scope()
            self.rows["scopes"].append((scope_key, True, self._settle()))
            return part_key, scope_key, new, None
        if new:
            parts.kept.scope_key = self._new_scope()
        open_key = (kind, scope.scope_id or "")
        if parts.complete:
            self.rows["scopes"].append((parts.kept.scope_key, True, self._settle()))
            self._open_ids.discard(open_key)
        else:
            self._open_ids.add(open_key)
        return part_key, parts.kept.scope_key, new, parts.kept.record_types

    def _add(self, source_no: int, scope: ScopeRecord) -> None:
        part_key, scope_key, new, counted = self._place(scope)
        site = scope.site or (None, None, None)
        upstream = scope.upstream or (None, None)
        said = scope.subjects is not None or scope.subjects_count is not None
        self.rows["scope_parts"].append(
            (
                part_key,
                source_no,
                self._kind,
                scope_key,
                new,
                scope.scope_id,
                scope.part,
                scope.final,
                _naive_utc(scope.opened),
                _naive_utc(scope.closed),
                scope.purpose,
                scope.actor_id,
                scope.actor_role,
                scope.denied,
                scope.would_deny,
                scope.subjects is not None,
                len(scope.subjects or ()),
                not all(map(_is_pseudonym, scope.subjects or ())),
                scope.subjects_count,
                scope.subjects_overflow,
                said,
                scope.reads is not None,
                *site,
                *upstream,
            )
        )
        self._children(part_key, scope, counted)

    def _new_scope(self) -> int:
        self._scope_keys += 1
        return self._scope_keys

    def _children(self, part_key: int, scope: ScopeRecord, counted: set[str] | None) -> None:
        """The part's child rows; *counted*: the record types earlier parts of its scope
        read (None for a scope written whole), so that a scope counts once per record type
        in the accesses table, in the first part that read it (``counts_scope``)."""
        rows = self.rows
        rows["part_record_types"].extend((part_key, name) for name in scope.record_types)
        fields = rows["part_fields"]
        first: set[str] = set()
        for name in dict.fromkeys(scope.fields_read):
            record_type, field = _split(name)
            counts = record_type not in first and (counted is None or record_type not in counted)
            first.add(record_type)
            fields.append((part_key, name, record_type, field, counts))
        if counted is not None:
            counted.update(first)
        if scope.subjects is not None:
            rows["part_subjects"].extend(
                (part_key, i, pseudonym, *_key_id(pseudonym))
                for i, pseudonym in enumerate(scope.subjects)
            )
            if scope.reads is not None:
                rows["part_reads"].extend(
                    {
                        (part_key, pseudonym, name): None
                        for pseudonym, names in zip(scope.subjects, scope.reads, strict=True)
                        for name in names
                    }
                )
        rows["part_refusals"].extend(
            (
                part_key,
                i,
                refusal.outcome,
                refusal.record_type,
                refusal.field,
                encode_reasons(refusal.reasons),
                refusal.count,
            )
            for i, refusal in enumerate(scope.refusals)
        )
        for i, disclosure in enumerate(scope.disclosures):
            rows["part_disclosures"].append(
                (
                    part_key,
                    i,
                    disclosure.disclosure_id,
                    disclosure.agreement,
                    disclosure.recipient,
                    disclosure.record_type,
                    disclosure.statements,
                    disclosure.subject,
                    None if disclosure.subject is None else _key_id(disclosure.subject)[1],
                )
            )
            rows["disclosure_fields"].extend((part_key, i, field) for field in disclosure.fields)


def _split(name: str) -> tuple[str, str]:
    record_type, _, field = name.rpartition(".")
    return record_type, field


def _key_id(subject: str) -> tuple[bool, str | None]:
    if _is_pseudonym(subject):
        return True, subject.partition(":")[0]
    return False, None
