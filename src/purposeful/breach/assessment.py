"""What the audit trail says a compromise reached: `assess` and its `Assessment`.

`assess` asks a `Trail` the queries of `purposeful.breach._queries` and gathers the
answers: how many distinct people, which record types and fields were read or disclosed
(names, never values), for which purposes, by whom, what was refused, and what the trail
cannot see. The categories and sensitivity of what was read come from the record classes'
declarations (the trail holds names only): pass them as *records*.

The people themselves stay pseudonyms (`Assessment.pseudonyms`, kept out of its repr):
`purposeful.breach.name_people` turns them into the list of people to contact, in a file.

What this module must not do: decide whether serious harm is likely (a person decides;
the assessment gives them what to weigh); hold or show a subject identifier; print.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs

from ..errors import UnknownCompromised
from ..records import record_policy
from ._queries import Queries
from .compromise import Compromise
from .trail import Trail

__all__ = ["Assessment", "DisclosedRow", "FieldRead", "RefusedRow", "RunBy", "assess"]


@attrs.frozen
class FieldRead:
    """A field read in the scopes in question, for one purpose.

    Attributes:
        record_type: the record type's name.
        field: the field's name.
        purpose: the purpose it was read for (None: outside any scope).
        scopes: how many scopes read it.
        sensitivity: its declared level's name, if its record class was given.
        category: its declared data category (id), if any.
        category_title: that category's plain-language title.
        sensitivity_rank: the level's rank on its scale (higher is more sensitive).
    """

    record_type: str
    field: str
    purpose: str | None
    scopes: int
    sensitivity: str | None = None
    category: str | None = None
    category_title: str | None = None
    sensitivity_rank: int | None = None


@attrs.frozen
class DisclosedRow:
    """Disclosures to one recipient, under one agreement, of one record type.

    Attributes:
        recipient: who received them.
        agreement: the agreement they were made under.
        record_type: the record type disclosed.
        fields: the fields given, sorted.
        disclosures: how many.
        unattributed: how many name no person (a pseudonym of whose record it was).
    """

    recipient: str | None
    agreement: str | None
    record_type: str | None
    fields: tuple[str, ...]
    disclosures: int
    unattributed: int


@attrs.frozen
class RefusedRow:
    """Reads of one field refused in the scopes in question (nothing was given)."""

    record_type: str
    field: str
    reads: int


@attrs.frozen
class RunBy:
    """Who ran scopes in question: an actor, a role and a service, and how many scopes."""

    actor: str | None
    role: str | None
    service: str | None
    scopes: int


@attrs.frozen
class Assessment:
    """What the audit trail shows a compromise reached; never whether harm is serious.

    Attributes:
        compromise: what was asked.
        source: what the trail was read from.
        engine: the engine that answered.
        people: distinct people whose records were read or disclosed (listed pseudonyms).
        pseudonyms: their pseudonyms (hidden from repr; see `name_people`).
        people_unlisted_at_most: people read but not listed by a scope (over its cap):
            at most this many more.
        scopes_listing_nobody: scopes in question that say nothing of whom they read.
        scopes_with_identifiers: scopes listing a subject that is not a pseudonym (written
            without a pseudonym key); those entries are not counted as people.
        scopes_listing_all_people: with record types named, scopes whose people were
            counted whole (they do not say which fields were read of whom).
        scopes: scopes in question.
        first_read: when the first of them opened; None if none.
        last_read: when the last of them closed.
        reads: what was read, field by field and purpose by purpose.
        disclosures: what was disclosed to other agencies.
        refused: what was tried and refused.
        run_by: who ran the scopes.
        let_through: reads monitor mode let through (recorded; counted in *reads*).
        outside_scopes: groups of reads made outside any purpose scope.
        incomplete_scopes: scopes missing parts (spans lost, or still running).
        trail_from: the first moment the whole trail holds; None for an empty trail.
        trail_to: the last.
        never_seen: actors and services named that the trail never recorded.
        ledgers_verified: whether the ledgers were verified first (None: not said).
    """

    compromise: Compromise
    source: str
    engine: str
    people: int
    pseudonyms: frozenset[str] = attrs.field(repr=False)
    people_unlisted_at_most: int
    scopes_listing_nobody: int
    scopes_with_identifiers: int
    scopes_listing_all_people: int
    scopes: int
    first_read: datetime | None
    last_read: datetime | None
    reads: tuple[FieldRead, ...]
    disclosures: tuple[DisclosedRow, ...]
    refused: tuple[RefusedRow, ...]
    run_by: tuple[RunBy, ...]
    let_through: int
    outside_scopes: int
    incomplete_scopes: int
    trail_from: datetime | None
    trail_to: datetime | None
    never_seen: tuple[str, ...]
    ledgers_verified: bool | None

    @property
    def purposes(self) -> tuple[str | None, ...]:
        """The purposes information was read for, sorted (None last: outside any scope)."""
        found = {read.purpose for read in self.reads}
        return (*sorted(p for p in found if p is not None), *([None] if None in found else []))

    @property
    def record_types(self) -> tuple[str, ...]:
        """The record types read or disclosed, sorted."""
        found = {read.record_type for read in self.reads}
        found.update(row.record_type for row in self.disclosures if row.record_type)
        return tuple(sorted(found))

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field read or disclosed, as ``Type.field``, sorted."""
        found = {f"{read.record_type}.{read.field}" for read in self.reads}
        found.update(f"{row.record_type}.{name}" for row in self.disclosures for name in row.fields)
        return tuple(sorted(found))

    @property
    def categories(self) -> tuple[str, ...]:
        """The declared data categories of what was read, sorted."""
        return tuple(sorted({read.category for read in self.reads if read.category}))

    @property
    def category_titles(self) -> tuple[str, ...]:
        """The plain-language titles of those categories, sorted."""
        return tuple(sorted({r.category_title for r in self.reads if r.category_title}))

    @property
    def sensitivities(self) -> tuple[str, ...]:
        """The declared sensitivity levels of what was read, the highest first."""
        ranks = {r.sensitivity: r.sensitivity_rank or 0 for r in self.reads if r.sensitivity}
        return tuple(sorted(ranks, key=lambda name: (-ranks[name], name)))

    @property
    def undeclared_fields(self) -> tuple[str, ...]:
        """Fields read whose declaration was not given (pass their record classes)."""
        return tuple(
            sorted({f"{r.record_type}.{r.field}" for r in self.reads if r.sensitivity is None})
        )

    @property
    def pseudonym_keys(self) -> int:
        """How many pseudonym keys the people's pseudonyms were made with: more than one
        after a key rotation, when one person can be counted once per key."""
        return len({pseudonym.partition(":")[0] for pseudonym in self.pseudonyms})

    @property
    def people_exact(self) -> bool:
        """True if the count of people is exact: every scope said whom it read, and how,
        under one pseudonym key."""
        return not (
            self.pseudonym_keys > 1
            or self.people_unlisted_at_most
            or self.scopes_listing_nobody
            or self.scopes_with_identifiers
            or self.scopes_listing_all_people
            or self.incomplete_scopes
        )

    @property
    def window_outside_trail(self) -> bool:
        """True if part of the window is before the trail's first or after its last moment."""
        if self.trail_from is None or self.trail_to is None:
            return True
        return self.compromise.start < self.trail_from or self.compromise.end > self.trail_to

    @property
    def window_misses_trail(self) -> bool:
        """True if no moment of the window is in the trail: it ends before the trail's first
        moment or starts after its last (or the trail is empty), so the trail says nothing
        about it; a count of people found in it is not a finding. The window's end is not in
        it (a scope is in the window when it opened before the end): a window ending as the
        trail's first scope opens misses the trail too."""
        if self.trail_from is None or self.trail_to is None:
            return True
        return self.compromise.end <= self.trail_from or self.compromise.start > self.trail_to


_Declared = tuple[str | None, str | None, str | None, int | None]


def _declarations(records: Iterable[type]) -> dict[tuple[str, str], _Declared]:
    """(record type, field) → (sensitivity level name, category id, category title, level
    rank), from the record classes."""
    found: dict[tuple[str, str], _Declared] = {}
    for cls in records:
        policy = record_policy(cls)
        for name, field in policy.fields.items():
            category = field.category
            found[(policy.name, name)] = (
                field.sensitivity.name,
                None if category is None else category.id,
                None if category is None else category.title,
                field.sensitivity.rank,
            )
    return found


def _check_known(name: str, what: str, asked: Iterable[str], known: Sequence[str]) -> None:
    for wanted in sorted(asked):
        if wanted not in known:
            close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.6)
            hint = (
                f"did you mean {', '.join(repr(c) for c in close)}?"
                if close
                else f"the trail records {len(known)} {what}"
                + (f", such as {', '.join(repr(k) for k in known[:3])}" if known else "")
            )
            raise UnknownCompromised(
                f"the audit trail never recorded the {name} {wanted!r}: {hint}"
            )


def _count(value: Any) -> int:
    return int(value or 0)


def assess(trail: Trail, compromise: Compromise, *, records: Iterable[type] = ()) -> Assessment:
    """What *trail* shows *compromise* reached.

    Args:
        trail: the audit trail (`Trail`).
        compromise: the window and what was compromised.
        records: the record classes, for the categories and sensitivity of what was read.

    Raises:
        UnknownCompromised: a role or record type named is one the trail never recorded
            (the message suggests close names).
        AnnotationError: a class of *records* is not a purposeful record.
        ReportInputError: the engine could not answer (ClickHouse).
    """
    declared = _declarations(records)
    queries = Queries(trail, compromise)
    run = trail.query
    roles = [str(role) for (role,) in run(queries.known("actor_role"))]
    _check_known("role", "roles", compromise.roles, roles)
    record_types = [str(name) for (name,) in run(queries.known_record_types())]
    _check_known("record type", "record types", compromise.record_types, record_types)
    actors = {str(actor) for (actor,) in run(queries.known("actor_id"))}
    services = {str(service) for (service,) in run(queries.known("upstream_service"))}
    never_seen = tuple(
        [f"actor {a}" for a in sorted(compromise.actors - actors)]
        + [f"service {s}" for s in sorted(compromise.services - services)]
    )
    trail_from, trail_to, _ = run(queries.coverage())[0]
    row = run(queries.scopes())[0]
    scopes, first, last, unlisted, nobody, identifiers, whole, let_through, outside = row
    pseudonyms = frozenset(str(pseudonym) for (pseudonym,) in run(queries.people()))
    reads = tuple(
        FieldRead(
            record_type,
            field,
            purpose,
            int(n),
            *declared.get((record_type, field), (None, None, None, None)),
        )
        for purpose, record_type, field, n in run(queries.reads())
    )
    given: dict[tuple[Any, Any, Any], list[str]] = {}
    for recipient, agreement, record_type, field in run(queries.disclosed_fields()):
        given.setdefault((recipient, agreement, record_type), []).append(field)
    disclosures = tuple(
        DisclosedRow(
            recipient,
            agreement,
            record_type,
            tuple(given.get((recipient, agreement, record_type), ())),
            int(n),
            _count(unattributed),
        )
        for recipient, agreement, record_type, n, unattributed in run(queries.disclosures())
    )
    return Assessment(
        compromise=compromise,
        source=trail.label,
        engine=trail.engine,
        people=len(pseudonyms),
        pseudonyms=pseudonyms,
        people_unlisted_at_most=_count(unlisted),
        scopes_listing_nobody=_count(nobody),
        scopes_with_identifiers=_count(identifiers),
        scopes_listing_all_people=_count(whole),
        scopes=_count(scopes),
        first_read=Trail.time(first),
        last_read=Trail.time(last),
        reads=reads,
        disclosures=disclosures,
        refused=tuple(RefusedRow(t, f, int(n)) for t, f, n in run(queries.refused())),
        run_by=tuple(RunBy(a, r, s, int(n)) for a, r, s, n in run(queries.principals())),
        let_through=_count(let_through),
        outside_scopes=_count(outside),
        incomplete_scopes=_count(run(queries.incomplete())[0][0]),
        trail_from=Trail.time(trail_from),
        trail_to=Trail.time(trail_to),
        never_seen=never_seen,
        ledgers_verified=trail.ledgers_verified,
    )
