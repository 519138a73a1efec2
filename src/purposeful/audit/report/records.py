"""What the report's readers yield: one normalised `ScopeRecord` per scope or part of one.

Both kinds of input, OTLP JSON traces and ledgers, in both their generations, are read into
the same values, so that what folds them (`purposeful.audit.report.building` for the report,
`purposeful.audit.history` for one person's access history) does not care where a scope
came from. A long scope is written in *parts*; `ScopesInParts` keeps track of which parts
of each such scope have been seen, so that a fold can tell when a scope is whole.

What this module must not do: read a file (`purposeful.audit.report.reading` does); hold a
subject identifier or a field's value (the inputs have neither).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from datetime import datetime
from hashlib import blake2b
from typing import Generic, Literal, TypeAlias, TypeVar

import attrs

__all__ = [
    "Disclosure",
    "Entry",
    "Ignored",
    "LedgerParts",
    "Refusal",
    "RefusalOutcome",
    "ScopeInParts",
    "ScopeRecord",
    "ScopesInParts",
]

RefusalOutcome: TypeAlias = Literal["denied", "would-deny"]
"""A refused read (enforce mode) or one monitor mode let through."""


@attrs.frozen
class Refusal:
    """One refused or monitored read, as a span event or ledger decision records it.

    Attributes:
        outcome: ``"denied"`` (enforce mode) or ``"would-deny"`` (monitor mode).
        record_type: the record class's qualified name.
        field: the field's name.
        reasons: the reason codes, in the order found.
        count: how many reads it stands for: 1 in a scope; for reads outside any scope,
            reported in aggregate, how many there were.
    """

    outcome: RefusalOutcome
    record_type: str
    field: str
    reasons: tuple[str, ...]
    count: int = 1


@attrs.frozen
class Disclosure:
    """A disclosure to another agency (`purposeful.disclose`) made in a scope: names only.

    Attributes:
        disclosure_id: the disclosure's id, as the sharing register holds it.
        agreement: the sharing agreement it was made under.
        recipient: the party it was made to.
        record_type: the record type disclosed.
        fields: the fields disclosed.
        statements: how many statements (dispute notes) went with it.
        subject: the pseudonym of the person whose record it was; None when the input
            does not say (no pseudonymiser, or written before purposeful recorded it).
    """

    disclosure_id: str
    agreement: str
    recipient: str
    record_type: str
    fields: tuple[str, ...]
    statements: int
    subject: str | None = None


@attrs.frozen
class ScopeRecord:
    """One purpose scope, or one part of it, or reads outside any scope, from either file.

    A long scope is written in parts that share `scope_id`, each holding what is new since
    the part before: its reads, refusals, people and counts. `ReportBuilder` and
    `SubjectHistory` join them.

    Attributes:
        opened: when the scope opened (UTC), the same on every part.
        closed: when the scope closed or, for a part that is not the last, when the part
            was written (UTC).
        purpose: the purpose id; None for reads outside any scope.
        actor_id, actor_role: who acted; None outside any scope.
        record_types: the record types the scope (this part) decided anything about or read.
        fields_read: the fields whose value was handed back, as ``RecordType.field``.
        denied, would_deny: how many reads were refused, or let through by monitor mode.
        refusals: those reads, one per field and reasons, each with how many reads it stands
            for. A span's events can be cut short by the SDK's limits, so their counts may
            add up to less than *denied* + *would_deny*.
        subjects: the pseudonyms of the people whose records were read, sorted and capped;
            None when the input does not say (files from before subjects were recorded).
        subjects_count: how many distinct people were read; None when not known.
        subjects_overflow: how many of them *subjects* leaves out because of its cap.
        scope_id: the scope's id, shared by its parts; None in older inputs, which write
            each scope whole.
        part: the part's number, from 0.
        final: True on the scope's last part (and on a scope written whole).
        reads: aligned with *subjects*: the fields (``RecordType.field``) read from each
            listed person's records. None when the input does not say per person (older
            inputs): then only *fields_read*, for anyone, is known.
        site: for reads outside any scope, where in the code they came from, as (file,
            function, line); None when not recorded.
        upstream: the scope in another service this one worked for, as (service, scope
            id); None when it was opened in this service alone.
        disclosures: the disclosures to other agencies made in the scope (this part).
    """

    opened: datetime
    closed: datetime
    purpose: str | None
    actor_id: str | None
    actor_role: str | None
    record_types: tuple[str, ...]
    fields_read: tuple[str, ...]
    denied: int
    would_deny: int
    refusals: tuple[Refusal, ...] = ()
    subjects: tuple[str, ...] | None = None
    subjects_count: int | None = None
    subjects_overflow: int = 0
    scope_id: str | None = None
    part: int = 0
    final: bool = True
    reads: tuple[tuple[str, ...], ...] | None = None
    site: tuple[str, str, int] | None = None
    upstream: tuple[str, str] | None = None
    disclosures: tuple[Disclosure, ...] = ()


@attrs.frozen
class Ignored:
    """Something in an input that is not a purpose scope: counted and reported, never shown.

    Attributes:
        what: what it was, in the plural form the report uses, e.g. ``"other spans"``.
    """

    what: str


Entry: TypeAlias = ScopeRecord | Ignored
"""What a reader yields for each thing it reads."""


# --- joining the parts of a scope ----------------------------------------------------------

T = TypeVar("T")


@attrs.define
class ScopeInParts(Generic[T]):
    """A scope written in parts, until every part from 0 to the last has been seen.

    Parts usually come in order; *ahead* holds the numbers of any seen before a part
    below them, so that memory stays small for a scope of thousands of parts.

    Attributes:
        kept: what the fold keeps about the scope while its parts come in.
        next_part: every part below it has been seen.
        ahead: parts seen above *next_part*.
        last_part: the number of the final part, once seen.
    """

    kept: T
    next_part: int = 0
    ahead: set[int] = attrs.Factory(set)
    last_part: int | None = None

    def note(self, scope: ScopeRecord) -> None:
        """Note that *scope*, one of the parts, has been seen."""
        if scope.final:
            self.last_part = scope.part
        if scope.part == self.next_part:
            self.next_part += 1
            while self.next_part in self.ahead:
                self.ahead.remove(self.next_part)
                self.next_part += 1
        elif scope.part > self.next_part:
            self.ahead.add(scope.part)

    @property
    def complete(self) -> bool:
        """Whether parts 0 to the last, and no others, have all been seen."""
        last = self.last_part
        return last is not None and self.next_part == last + 1 and not self.ahead


class ScopesInParts(Generic[T]):
    """The scopes written in parts whose parts have not all been seen yet.

    A scope is known by the kind of file it came from and its id: parts are joined within
    each kind of file, unless the caller names, as the kind, the kind of an open scope of
    the same id (`is_open`), as the report does for a trace part of a scope a ledger holds
    only some parts of. A scope written whole (no id, or a first part that is also the
    last) is never kept.

    Args:
        keep: makes what the fold keeps about a scope, from the first part seen.
    """

    def __init__(self, keep: Callable[[ScopeRecord], T]) -> None:
        self._keep = keep
        self._open: dict[tuple[str, str], ScopeInParts[T]] = {}

    def add(self, scope: ScopeRecord, source: str = "") -> tuple[ScopeInParts[T] | None, bool]:
        """Note *scope*, read from a file of kind *source* (such as ``"ledger"``).

        Returns the scope it is a part of (None for a scope written whole), and whether
        *scope* is the first part of it seen. A scope whose parts are now all seen is
        returned one last time, complete, and no longer kept.
        """
        if scope.scope_id is None:
            return None, True
        key = (source, scope.scope_id)
        parts = self._open.get(key)
        new = parts is None
        if parts is None:
            if scope.part == 0 and scope.final:
                return None, True
            parts = self._open[key] = ScopeInParts(self._keep(scope))
        parts.note(scope)
        if parts.complete:
            del self._open[key]
        return parts, new

    def is_open(self, source: str, scope_id: str) -> bool:
        """Whether the scope *scope_id* from files of kind *source* is still missing parts."""
        return (source, scope_id) in self._open

    def __len__(self) -> int:
        return len(self._open)

    def __iter__(self) -> Iterator[ScopeInParts[T]]:
        """The scopes still missing parts."""
        return iter(self._open.values())


# --- the parts a ledger holds -------------------------------------------------------------


class LedgerParts:
    """The scope parts read from ledgers, by scope id and part number, to count each once.

    A service with both a `SpanSink` and a `Ledger` writes every part twice. The report
    reads the ledgers first, noting each part here, and then skips a trace part found here:
    the ledger's copy is the one counted, being complete and verifiable against signed
    checkpoints, where traces may be sampled. A part with no scope id (older inputs) is
    never noted, nor found.

    A million ledger parts must not take a million Python objects: each part is kept as an
    8-byte digest (BLAKE2b of its id and number) in one of 256 arrays, sorted once the
    ledgers are read and searched by bisection: 8 bytes a part, 8 MB at a million, where a
    set of (id, part) tuples would take well over 100. Two different parts share a digest
    with a chance of one in 2**64: at a million parts on each side, about one report in
    twenty million would skip one trace part it should count. The digest is the same in
    every process, so every engine decides the same.
    """

    def __init__(self) -> None:
        self._buckets = [array("q") for _ in range(256)]
        self._unsorted: set[int] = set()
        self._count = 0

    @staticmethod
    def _digest(scope_id: str, part: int) -> tuple[int, int]:
        """(the bucket, the key) of one part."""
        text = f"{part}:{scope_id}".encode("utf-8", "surrogatepass")
        digest = blake2b(text, digest_size=9).digest()
        return digest[0], int.from_bytes(digest[1:], "little", signed=True)

    def add(self, scope: ScopeRecord) -> None:
        """Note *scope*, a part read from a ledger (a part without an id is not noted)."""
        if scope.scope_id is None:
            return
        bucket, key = self._digest(scope.scope_id, scope.part)
        self._buckets[bucket].append(key)
        self._unsorted.add(bucket)
        self._count += 1

    def holds(self, scope_id: str | None, part: int) -> bool:
        """Whether a ledger held part *part* of scope *scope_id*; never for no id."""
        if scope_id is None or not self._count:
            return False
        bucket, key = self._digest(scope_id, part)
        if self._unsorted:
            for i in self._unsorted:
                self._buckets[i] = array("q", sorted(self._buckets[i]))
            self._unsorted.clear()
        keys = self._buckets[bucket]
        at = bisect_left(keys, key)
        return at < len(keys) and keys[at] == key

    def __len__(self) -> int:
        """How many parts were noted (a part given twice counts twice)."""
        return self._count
