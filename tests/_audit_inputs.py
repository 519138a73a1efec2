"""Audit inputs written by hand, in the formats the report reads, for the report's and the
bundle's tests: ledger lines (format 1 and 2) and OTLP JSON spans.

They are built here from a small model, not by the writers (`Ledger`, `SpanSink`), so that
the readers are tested against the formats themselves: a `HandScope` is one purpose scope
(or a group of reads outside any scope), made of `HandPart` values, each saying which
fields it read from which person's records. The same scope can be written as ledger lines
(`ledger_line`, `ledger_v1_line`) or as spans (`span`), and a test can check that both read
back alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import attrs
from hypothesis import strategies as st

#: A reason code for refusals written here: one that holds for every read of the field.
REASON = "purpose-not-declared"
#: Reason codes of a decision that turned on the person whose record was read.
PERSON_REASONS = ("consent-not-held",)
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@attrs.frozen
class HandPart:
    """What one part of a scope read and refused.

    Attributes:
        reads: for each listed person (by pseudonym), the fields (``Type.field``) read from
            their records in this part.
        unlisted: people read in this part that the part does not list (over the cap, or no
            pseudonymiser).
        unlisted_fields: fields read only from unlisted people's records.
        refusals: (outcome, ``Type.field``, count) for each refusal in this part.
        after: how long after the scope opened this part was written.
        reasons: the reason codes of every refusal in this part: by default one that holds
            for everyone the scope reads (`REASON`); `PERSON_REASONS` turn on the person.
    """

    reads: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    unlisted: int = 0
    unlisted_fields: frozenset[str] = frozenset()
    refusals: tuple[tuple[str, str, int], ...] = ()
    after: timedelta = timedelta(seconds=1)
    reasons: tuple[str, ...] = (REASON,)

    @property
    def fields(self) -> list[str]:
        """Every field read in this part, for anyone: the format's ``fields``."""
        read = set(self.unlisted_fields).union(*self.reads.values())
        read.update(name for outcome, name, _ in self.refusals if outcome == "would-deny")
        return sorted(read)


@attrs.frozen
class HandScope:
    """One scope, written in `parts` (one part: a scope written whole).

    Attributes:
        scope_id: the scope's id, shared by its parts.
        parts: its parts, in order.
        opened: when it opened.
        purpose, actor, role: None for reads outside any scope.
        final: whether the last of *parts* is marked the last (False: the scope was cut
            short, or is still running).
        site: the call site of reads outside any scope, as (file, function, line).
    """

    scope_id: str
    parts: tuple[HandPart, ...]
    opened: datetime = MONDAY
    purpose: str | None = "service-delivery.case-management"
    actor: str | None = "staff-0042"
    role: str | None = "caseworker"
    final: bool = True
    site: tuple[str, str, int] | None = None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _nanoseconds(moment: datetime) -> str:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return str((delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000)


def _decisions(scope: HandScope, number: int) -> list[tuple[str, str, str, int]]:
    """(outcome, record type, field, count) for the decisions first made in part *number*."""
    earlier = {name for part in scope.parts[:number] for name in part.fields}
    part = scope.parts[number]
    refused = {name for _, name, _ in part.refusals}
    decided = [("allowed", name, 1) for name in part.fields if name not in earlier | refused]
    return [(outcome, *_split(name), count) for outcome, name, count in [*decided, *part.refusals]]


def _split(name: str) -> tuple[str, str]:
    record, _, field = name.rpartition(".")
    return record, field


def _people(part: HandPart) -> tuple[list[str], list[list[int]], list[str]]:
    """The part's subjects, reads (as indexes into fields) and fields."""
    fields = part.fields
    subjects = sorted(part.reads)
    reads = [sorted(fields.index(name) for name in part.reads[who]) for who in subjects]
    return subjects, reads, fields


def ledger_line(scope: HandScope, number: int, seq: int = 1) -> dict[str, Any]:
    """Part *number* of *scope* as a format-2 ledger scope line (without a valid mac)."""
    part = scope.parts[number]
    subjects, reads, fields = _people(part)
    line: dict[str, Any] = {
        "actor": scope.actor,
        "decisions": [
            {
                "basis": None,
                "category": None,
                "count": count,
                "field": field,
                "outcome": outcome,
                "reasons": [] if outcome == "allowed" else list(part.reasons),
                "record": record,
                "sensitivity": "SENSITIVE",
            }
            for outcome, record, field, count in _decisions(scope, number)
        ],
        "failed": False,
        "fields": fields,
        "final": scope.final and number == len(scope.parts) - 1,
        "mac": "0" * 64,
        "opened": _iso(scope.opened),
        "part": number,
        "purpose": scope.purpose,
        "reads": reads,
        "role": scope.role,
        "scope": scope.scope_id,
        "seq": seq,
        "subjects": subjects,
        "subjects_count": len(subjects) + part.unlisted,
        "subjects_overflow": part.unlisted,
        "time": _iso(scope.opened + part.after),
        "type": "scope",
    }
    if scope.site is not None:
        file, function, number_ = scope.site
        line["site"] = {"file": file, "function": function, "line": number_}
    return line


def ledger_v1_line(scope: HandScope, seq: int = 1) -> dict[str, Any]:
    """*scope*, written whole, as a format-1 ledger line: it says whom it read, and which
    fields, but not which fields for whom."""
    line = ledger_line(attrs.evolve(scope, parts=(merged(scope),)), 0, seq)
    for key in ("fields", "reads", "scope", "part", "final", "site"):
        line.pop(key, None)
    for decision in line["decisions"]:
        del decision["count"]
    return line


def merged(scope: HandScope) -> HandPart:
    """The parts of *scope* as one part: what the whole scope read."""
    reads: dict[str, set[str]] = {}
    for part in scope.parts:
        for who, fields in part.reads.items():
            reads.setdefault(who, set()).update(fields)
    return HandPart(
        reads={who: frozenset(fields) for who, fields in reads.items()},
        unlisted=max((part.unlisted for part in scope.parts), default=0),
        unlisted_fields=frozenset().union(*(part.unlisted_fields for part in scope.parts)),
        refusals=tuple(refusal for part in scope.parts for refusal in part.refusals),
        after=max(part.after for part in scope.parts),
        reasons=tuple(dict.fromkeys(code for part in scope.parts for code in part.reasons)),
    )


def ledger_text(lines: Iterable[Mapping[str, Any]], *, format: int = 2) -> str:
    """A ledger file: a header of *format*, then *lines*."""
    header = {
        "created": _iso(MONDAY),
        "format": f"purposeful-ledger/{format}",
        "key": "sha256:" + "0" * 64,
        "ledger": "0" * 32,
        "mac": "0" * 64,
        "seq": 0,
        "type": "header",
    }
    return "".join(json.dumps(line) + "\n" for line in [header, *lines])


def write_ledger(path: Path, scopes: Iterable[HandScope]) -> Path:
    """Every part of every scope, in order, as a format-2 ledger at *path*."""
    lines = [ledger_line(scope, number) for scope in scopes for number in range(len(scope.parts))]
    path.write_text(ledger_text(lines), encoding="utf-8")
    return path


def attribute(name: str, value: object) -> dict[str, Any]:
    """One OTLP JSON attribute, as the file exporters write it."""
    if isinstance(value, bool):
        return {"key": name, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": name, "value": {"intValue": str(value)}}
    if isinstance(value, list):
        items = [{"stringValue": item} for item in value]
        return {"key": name, "value": {"arrayValue": {"values": items} if items else {}}}
    return {"key": name, "value": {"stringValue": value}}


def span(
    scope: HandScope, number: int, *, per_person: bool = True, edition: int = 1
) -> dict[str, Any]:
    """Part *number* of *scope* as a ``purposeful.use`` (or ``purposeful.unscoped_read``)
    span in OTLP JSON; without the part and per-person attributes if not *per_person*.
    *edition* 1 writes ``purposeful.subjects`` and ``purposeful.subjects.fields`` as
    arrays, 2 as one string each (the semantic conventions' editions)."""
    part = scope.parts[number]
    subjects, reads, fields = _people(part)
    items = [" ".join(map(str, indexes)) for indexes in reads]
    listed: object = subjects if edition == 1 else " ".join(subjects)
    positions: object = items if edition == 1 else ",".join(items)
    decisions = _decisions(scope, number)
    attributes = [
        *([attribute("purposeful.purpose", scope.purpose)] if scope.purpose else []),
        *([attribute("purposeful.actor.id", scope.actor)] if scope.actor else []),
        *([attribute("purposeful.actor.role", scope.role)] if scope.role else []),
        attribute("purposeful.decisions.count", len(decisions)),
        attribute("purposeful.denied.count", sum(c for o, _, _, c in decisions if o == "denied")),
        attribute(
            "purposeful.would_deny.count",
            sum(c for o, _, _, c in decisions if o == "would-deny"),
        ),
        attribute("purposeful.record_types", sorted({r for _, r, _, _ in decisions})),
        attribute("purposeful.fields_read", fields),
        attribute("purposeful.subjects", listed),
        attribute("purposeful.subjects.count", len(subjects) + part.unlisted),
        attribute("purposeful.subjects.overflow", part.unlisted),
    ]
    if per_person:
        attributes += [
            attribute("purposeful.scope.id", scope.scope_id),
            attribute("purposeful.scope.part", number),
            attribute("purposeful.scope.final", scope.final and number == len(scope.parts) - 1),
            attribute("purposeful.subjects.fields", positions),
        ]
    if scope.site is not None:
        file, function, line = scope.site
        attributes += [
            attribute("code.file.path", file),
            attribute("code.function.name", function),
            attribute("code.line.number", line),
        ]
    events = [
        {
            "timeUnixNano": _nanoseconds(scope.opened),
            "name": "purposeful.denied" if outcome == "denied" else "purposeful.would_deny",
            "attributes": [
                attribute("purposeful.record_type", record),
                attribute("purposeful.field", field),
                attribute("purposeful.reason_codes", list(part.reasons)),
                *([attribute("purposeful.reads.count", count)] if per_person else []),
            ],
        }
        for outcome, record, field, count in decisions
        if outcome != "allowed"
    ]
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": f"{number:016x}",
        "name": "purposeful.use" if scope.purpose else "purposeful.unscoped_read",
        "kind": 1,
        "startTimeUnixNano": _nanoseconds(scope.opened),
        "endTimeUnixNano": _nanoseconds(scope.opened + part.after),
        "attributes": attributes,
        "events": events,
        "status": {},
    }


def in_edition(found: Mapping[str, Any], edition: int) -> dict[str, Any]:
    """A copy of the span *found* (as `span` writes one, in either edition) with its
    ``purposeful.subjects`` and ``purposeful.subjects.fields`` in *edition*'s form."""
    values = {pair["key"]: pair["value"] for pair in found["attributes"]}
    subjects = _items(values.get(SUBJECTS), " ", True)
    items = {
        SUBJECTS: subjects,
        SUBJECTS_FIELDS: _items(values.get(SUBJECTS_FIELDS), ",", not subjects),
    }
    separators = {SUBJECTS: " ", SUBJECTS_FIELDS: ","}
    attributes = []
    for pair in found["attributes"]:
        key = pair["key"]
        if key in items:
            pair = attribute(key, items[key] if edition == 1 else separators[key].join(items[key]))
        attributes.append(pair)
    return {**found, "attributes": attributes}


SUBJECTS: Final = "purposeful.subjects"
SUBJECTS_FIELDS: Final = "purposeful.subjects.fields"


def _items(value: Mapping[str, Any] | None, separator: str, none_when_empty: bool) -> list[str]:
    if value is None:
        return []
    if "arrayValue" in value:
        return [item["stringValue"] for item in value["arrayValue"].get("values", [])]
    text: str = value["stringValue"]
    return [] if not text and none_when_empty else text.split(separator)


def traces_text(spans: Sequence[Mapping[str, Any]]) -> str:
    """One OTLP JSON ``ExportTraceServiceRequest`` line holding *spans*."""
    request = {
        "resourceSpans": [
            {"resource": {}, "scopeSpans": [{"scope": {"name": "purposeful"}, "spans": spans}]}
        ]
    }
    return json.dumps(request) + "\n"


def write_traces(path: Path, scopes: Iterable[HandScope], *, edition: int = 1) -> Path:
    """Every part of every scope, in order, as spans in one OTLP JSON line at *path*."""
    spans = [
        span(scope, number, edition=edition)
        for scope in scopes
        for number in range(len(scope.parts))
    ]
    path.write_text(traces_text(spans), encoding="utf-8")
    return path


@st.composite
def hand_parts(draw: st.DrawFn, names: Sequence[str], people: Sequence[str]) -> HandPart:
    """A scope part made by hand: reads of *people* (and one raw identifier) over *names*,
    people read but not listed, up to two refusals (for reasons that hold for everyone, or
    that turn on the person), and how long after the scope opened."""
    refusal = st.tuples(
        st.sampled_from(["denied", "would-deny"]), st.sampled_from(names), st.integers(1, 3)
    )
    return HandPart(
        reads=draw(
            st.dictionaries(
                st.sampled_from([*people, "raw-identifier"]),
                st.frozensets(st.sampled_from(names), min_size=1),
                max_size=3,
            )
        ),
        unlisted=draw(st.integers(0, 2)),
        unlisted_fields=draw(st.frozensets(st.sampled_from(names), max_size=2)),
        refusals=tuple(draw(st.lists(refusal, max_size=2, unique_by=lambda r: r[1]))),
        after=timedelta(seconds=draw(st.integers(1, 3 * 86_400))),
        reasons=draw(st.sampled_from([(REASON,), PERSON_REASONS, (*PERSON_REASONS, REASON)])),
    )
