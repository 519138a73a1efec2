"""The privacy team's report: who used which information, for what, and what was refused.

``purposeful audit report`` turns what the audit sinks wrote into the answers a privacy team
is asked for. It reads two kinds of file, one line at a time, so large inputs fit in memory:

- **OTLP JSON trace files**, as the OpenTelemetry file exporters write them (one
  ``ExportTraceServiceRequest`` object a line, or a single such document): only the
  ``purposeful.use`` and ``purposeful.unscoped_read`` spans (see the semantic conventions
  page) are read, and everything else is counted as ignored;
- **ledger files** written by `purposeful.audit.Ledger`: one scope line a line.

Both formats have two generations. Older inputs say, for each scope, which fields it read
and whom it read, but not which fields it read for whom. Newer ones (ledger format 2, spans
with ``purposeful.scope.id``) say which fields were read from each listed person's records,
and write a long scope in *parts*, each holding what is new since the part before, joined
back into one scope by its id. Reads outside any scope may come aggregated, one report for
many reads from one call site, with counts.

The work is a pipeline of small pieces that can be used and tested alone:

1. the readers, `read_otlp_json` and `read_ledger`, yield one normalised `ScopeRecord` per
   scope, or an `Ignored` marker for anything else, and raise `ReportInputError` (naming the
   file and line) for input they cannot read;
2. `ReportBuilder` folds the records into a `Report`, one at a time, joining the parts of a
   scope: its memory grows with the number of distinct purposes, fields, actors, call sites
   and people, and of scopes written in parts whose parts have not all been seen, not with
   the number of scopes;
3. the renderers, `render_text` and `render_html`, turn the `Report` into a page.

`build_report` runs the pipeline over files; `SubjectQuery` asks "who read this person's
information?" by computing the person's pseudonyms locally, with each pseudonym key given.

What this module must not do: hold, return or print a subject identifier (a `SubjectQuery`
keeps only pseudonyms; the inputs hold nothing else) or a field's value (the inputs have
none); print anything it did not read as a name or code (a foreign span's name may hold
anything, so it is counted, never shown); skip input silently; keep every scope in memory;
import the OpenTelemetry SDK (it reads JSON). Renderers escape everything they print.
"""

from __future__ import annotations

import html
import json
import os
import re
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Final, Literal, NoReturn, TextIO, TypeAlias

import attrs

from .._shared.keys import PseudonymKey
from ..errors import ConfigurationError, ReportInputError
from .spans import DENIED_EVENT, SPAN_NAME, UNSCOPED_SPAN_NAME, WOULD_DENY_EVENT

__all__ = [
    "AccessRow",
    "ActorRow",
    "Entry",
    "Ignored",
    "ProgressBar",
    "Refusal",
    "RefusalRow",
    "Report",
    "ReportBuilder",
    "ScopeRecord",
    "SiteRow",
    "SourceSummary",
    "SubjectAccess",
    "SubjectAnswer",
    "SubjectQuery",
    "TimeBucket",
    "build_report",
    "read_ledger",
    "read_otlp_json",
    "render_html",
    "render_text",
    "render_would_deny_gate",
]

RefusalOutcome: TypeAlias = Literal["denied", "would-deny"]
"""A refused read (enforce mode) or one monitor mode let through."""
Progress: TypeAlias = Callable[[int, int], None]
"""Told ``(bytes read, bytes in all)`` as the input is read."""

#: How many actors the "busiest actors" table shows.
BUSIEST_ACTORS: Final = 10
#: How many call sites the "reads outside any scope" table shows.
BUSIEST_SITES: Final = 10
#: A report covering at most this long is charted per hour; a longer one per day.
HOURLY_UP_TO: Final = timedelta(hours=48)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR: Final = timedelta(hours=1)
_DAY: Final = timedelta(days=1)
# Numbers no longer than an int64's 19 digits: a longer one is malformed here, and would
# cost int() quadratic time (or Python's 4,300-digit limit, a bare ValueError).
_INTEGER = re.compile(r"-?[0-9]{1,19}\Z")
_INDEXES = re.compile(r" *(?:[0-9]{1,19}(?: +[0-9]{1,19})*)? *\Z")
_OTLP_HINT: Final = "each line must be one OTLP JSON ExportTraceServiceRequest object"
_LEDGER_HINT: Final = "a ledger has one JSON object a line, as purposeful.audit.Ledger writes"


# --- what the readers yield ----------------------------------------------------------------


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
class ScopeRecord:
    """One purpose scope, or one part of it, or reads outside any scope, from either file.

    A long scope is written in parts that share `scope_id`, each holding what is new since
    the part before: its reads, refusals, people and counts. `ReportBuilder` joins them.

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


@attrs.frozen
class Ignored:
    """Something in an input that is not a purpose scope: counted and reported, never shown.

    Attributes:
        what: what it was, in the plural form the report uses, e.g. ``"other spans"``.
    """

    what: str


Entry: TypeAlias = ScopeRecord | Ignored
"""What a reader yields for each thing it reads."""


# --- reading files -------------------------------------------------------------------------


@attrs.frozen
class _Where:
    """A place in an input file, to raise a `ReportInputError` at."""

    path: Path
    line: int | None

    def fail(self, problem: str, at: str = "") -> NoReturn:
        raise ReportInputError(
            f"{at}: {problem}" if at else problem, path=self.path, line=self.line
        )


def _open(path: Path) -> BinaryIO:
    problem = None
    try:
        return path.open("rb")
    except FileNotFoundError:
        problem = "does not exist; check the path"
    except IsADirectoryError:
        problem = "is a directory; pass the file itself"
    except PermissionError:
        problem = "cannot be read by this process (permission denied); check its owner"
    except OSError as exc:
        problem = f"cannot be opened ({exc.strerror}); check the path"
    raise ReportInputError(problem, path=path)


def _lines(
    path: Path, file: BinaryIO, on_bytes: Callable[[int], None] | None
) -> Iterator[tuple[int, str]]:
    """The numbered lines of *file* as text, telling *on_bytes* how much was read."""
    for number, raw in enumerate(file, start=1):
        if on_bytes is not None:
            on_bytes(len(raw))
        try:
            text: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:  # raised outside the handler: the error holds the bytes
            text = None
        if text is None:
            _Where(path, number).fail("is not UTF-8 text; the file is damaged or not JSON")
        yield number, text


@attrs.frozen
class _NotJSON:
    """Where text that should be JSON is not, and why, by position only."""

    line: int
    problem: str


def _parse(text: str) -> object:
    """The JSON value *text* holds, or a `_NotJSON`.

    The decoder's error is dropped here, so that the caller raises its own outside any
    handler: nothing chained to it carries the input, which the decoder's error quotes.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        return _NotJSON(error.lineno, f"is not valid JSON (column {error.colno}: {error.msg})")
    except RecursionError:
        return _NotJSON(1, "is nested too deeply to be an OTLP or ledger line")
    except ValueError:  # a number over Python's limit of 4,300 digits
        return _NotJSON(1, "holds a number too long to be one an OTLP or ledger line has")


def read_otlp_json(
    path: str | os.PathLike[str], *, on_bytes: Callable[[int], None] | None = None
) -> Iterator[Entry]:
    """The purpose scopes in an OTLP JSON trace file, one `ScopeRecord` per purposeful span.

    The file holds one ``ExportTraceServiceRequest`` a line (JSON lines, as the
    OpenTelemetry file exporters write), or one such document over many lines. Other spans,
    and events on a purposeful span that are not refusals, are yielded as `Ignored`.

    Args:
        path: the file.
        on_bytes: told how many bytes each line had, as it is read.

    Raises:
        ReportInputError: the file is missing or unreadable, is not JSON, or holds
            something other than OTLP JSON traces of purposeful's spans; names the line.
    """
    file_path = Path(path)
    with _open(file_path) as file:
        lines = _lines(file_path, file, on_bytes)
        first = True
        for number, text in lines:
            if not text.strip():
                continue
            document = _parse(text.rstrip("\r\n"))
            if isinstance(document, _NotJSON) and first:
                # Not a line of its own: the file may be one document over many lines.
                document = _parse(text + "".join(rest for _, rest in lines))
                if isinstance(document, _NotJSON):
                    number += document.line - 1
            if isinstance(document, _NotJSON):
                _Where(file_path, number).fail(f"{document.problem}; {_OTLP_HINT}")
            first = False
            where = _Where(file_path, number)
            for at, span in _spans(document, where):
                yield from _span_entries(span, where, at)


def _spans(document: object, where: _Where) -> Iterator[tuple[str, Mapping[str, object]]]:
    """The spans of an ``ExportTraceServiceRequest``, each with its JSON path."""
    if not isinstance(document, dict):
        where.fail(f"is a JSON {_kind(document)}, not an object; {_OTLP_HINT}")
    if "resourceSpans" not in document:
        if "resourceLogs" in document or "resourceMetrics" in document:
            where.fail("holds OTLP logs or metrics, not traces; pass trace files only")
        if "type" in document:
            where.fail("is a ledger line, not OTLP JSON; pass ledger files with --ledger")
        if document:
            where.fail(f"has no resourceSpans; {_OTLP_HINT}")
    for r, resource in enumerate(_list(document, "resourceSpans", where, "")):
        resource_at = f"resourceSpans[{r}]"
        scopes = _list(_object(resource, where, resource_at), "scopeSpans", where, resource_at)
        for s, scope in enumerate(scopes):
            scope_at = f"{resource_at}.scopeSpans[{s}]"
            for n, span in enumerate(
                _list(_object(scope, where, scope_at), "spans", where, scope_at)
            ):
                span_at = f"{scope_at}.spans[{n}]"
                yield span_at, _object(span, where, span_at)


def _span_entries(span: Mapping[str, object], where: _Where, at: str) -> Iterator[Entry]:
    name = span.get("name")
    if not isinstance(name, str):
        where.fail("has no name (a string)", at)
    if name not in (SPAN_NAME, UNSCOPED_SPAN_NAME):
        yield Ignored("other spans")
        return
    attributes = _Attributes(span.get("attributes", []), where, f"{at}.attributes")
    refusals: list[Refusal] = []
    events = _list(span, "events", where, at)
    for e, raw_event in enumerate(events):
        event_at = f"{at}.events[{e}]"
        event = _object(raw_event, where, event_at)
        event_name = event.get("name")
        outcome: RefusalOutcome
        if event_name == DENIED_EVENT:
            outcome = "denied"
        elif event_name == WOULD_DENY_EVENT:
            outcome = "would-deny"
        else:
            yield Ignored("other events on purposeful spans")
            continue
        details = _Attributes(event.get("attributes", []), where, f"{event_at}.attributes")
        reads = details.optional_integer("purposeful.reads.count")
        if reads == 0:
            details.fail("purposeful.reads.count must be a whole number, 1 or more")
        refusals.append(
            Refusal(
                outcome,
                details.string("purposeful.record_type"),
                details.string("purposeful.field"),
                details.strings("purposeful.reason_codes"),
                1 if reads is None else reads,
            )
        )
    scoped = name == SPAN_NAME
    # read in the order they are checked in, so the first problem is the one named
    opened = _from_nanoseconds(span.get("startTimeUnixNano"), where, f"{at}.startTimeUnixNano")
    closed = _from_nanoseconds(span.get("endTimeUnixNano"), where, f"{at}.endTimeUnixNano")
    purpose = attributes.string("purposeful.purpose") if scoped else None
    actor_id = attributes.optional_string("purposeful.actor.id")
    actor_role = attributes.optional_string("purposeful.actor.role")
    decided = attributes.strings("purposeful.record_types")
    fields_read = attributes.strings("purposeful.fields_read")
    subjects = attributes.optional_strings("purposeful.subjects")
    count = attributes.optional_integer("purposeful.subjects.count")
    overflow = attributes.optional_integer("purposeful.subjects.overflow")
    scope_id, part, final = _span_part(attributes)
    yield ScopeRecord(
        opened=opened,
        closed=closed,
        purpose=purpose,
        actor_id=actor_id,
        actor_role=actor_role,
        record_types=_record_types(decided, fields_read),
        fields_read=fields_read,
        denied=attributes.integer("purposeful.denied.count"),
        would_deny=attributes.integer("purposeful.would_deny.count"),
        refusals=tuple(refusals),
        subjects=subjects,
        subjects_count=count,
        subjects_overflow=_overflow(subjects, count, overflow),
        scope_id=scope_id,
        part=part,
        final=final,
        reads=_span_reads(attributes, subjects, fields_read),
        site=_span_site(attributes),
    )


def _record_types(decided: Iterable[str], fields_read: Iterable[str]) -> tuple[str, ...]:
    """The record types decided about or read: a later part may read without deciding."""
    return tuple(sorted({*decided, *(name.rpartition(".")[0] for name in fields_read)}))


_PART_KEYS: Final = ("purposeful.scope.id", "purposeful.scope.part", "purposeful.scope.final")


def _span_part(attributes: _Attributes) -> tuple[str | None, int, bool]:
    """The span's scope id, part number and whether it is the last; a whole scope if none.

    An empty id is read as none on a scope written whole (a report made by hand has one).
    """
    scope_id = attributes.optional_string(_PART_KEYS[0])
    part = attributes.optional_integer(_PART_KEYS[1])
    final = attributes.optional_boolean(_PART_KEYS[2])
    if scope_id is None and part is None and final is None:
        return None, 0, True
    if scope_id is None or part is None or final is None:
        attributes.fail(
            f"has some of {', '.join(_PART_KEYS)} but not all: a part of a scope needs all "
            "three; is this a span purposeful made?"
        )
    if not scope_id and (part or not final):
        attributes.fail(f"{_PART_KEYS[0]} must be the scope's id, not empty, on a part")
    return scope_id or None, part, final


def _span_reads(
    attributes: _Attributes, subjects: tuple[str, ...] | None, fields_read: tuple[str, ...]
) -> tuple[tuple[str, ...], ...] | None:
    """``purposeful.subjects.fields``: the fields read from each listed person's records."""
    key = "purposeful.subjects.fields"
    items = attributes.optional_strings(key)
    if items is None:
        return None
    if subjects is None or len(items) != len(subjects):
        listed = 0 if subjects is None else len(subjects)
        attributes.fail(
            f"{key} must have one item for each of purposeful.subjects ({listed}), not {len(items)}"
        )
    reads = []
    for i, item in enumerate(items):
        indexes = [int(index) for index in item.split()] if _INDEXES.match(item) else None
        if indexes is None or any(index >= len(fields_read) for index in indexes):
            attributes.fail(
                f"{key}[{i}] must be indexes into purposeful.fields_read, whole numbers "
                f"below {len(fields_read)} separated by spaces"
            )
        reads.append(tuple(sorted({fields_read[index] for index in indexes})))
    return tuple(reads)


_SITE_KEYS: Final = ("code.file.path", "code.function.name", "code.line.number")


def _span_site(attributes: _Attributes) -> tuple[str, str, int] | None:
    """The call site of reads outside any scope, from the ``code.*`` attributes."""
    file = attributes.optional_string(_SITE_KEYS[0])
    function = attributes.optional_string(_SITE_KEYS[1])
    line = attributes.optional_integer(_SITE_KEYS[2])
    if file is None and function is None and line is None:
        return None
    if file is None or function is None or line is None:
        attributes.fail(f"has some of {', '.join(_SITE_KEYS)} but not all: a call site needs all")
    return file, function, line


def _overflow(subjects: tuple[str, ...] | None, count: int | None, overflow: int | None) -> int:
    """How many people a scope read but does not list; 0 when it does not say whom it read."""
    if overflow is not None:
        return overflow
    if subjects is not None and count is not None:
        return max(0, count - len(subjects))
    return 0


_ATTRIBUTE_KINDS: Final = {
    "stringValue": "a string (stringValue)",
    "intValue": "a whole number (intValue)",
    "boolValue": "true or false (boolValue)",
    "arrayValue": "an array of strings (arrayValue)",
}


class _Attributes:
    """A list of OTLP JSON ``{"key": …, "value": {<kind>Value: …}}``, read by key and type.

    Values are decoded only when asked for, so attributes the report does not read (another
    library's, say) can have any form.
    """

    def __init__(self, raw: object, where: _Where, at: str) -> None:
        self._where, self._at = where, at
        self._values: dict[str, object] = {}
        if not isinstance(raw, list):
            where.fail(f"is a JSON {_kind(raw)}, not a list of key-value objects", at)
        for i, item in enumerate(raw):
            pair = _object(item, where, f"{at}[{i}]")
            key = pair.get("key")
            if not isinstance(key, str):
                where.fail("has no key (a string)", f"{at}[{i}]")
            self._values[key] = pair.get("value")

    def _value(self, key: str, kind: str) -> tuple[bool, object]:
        """Whether *key* is present, and the content of its *kind* value."""
        if key not in self._values:
            return False, None
        value = self._values[key]
        if not isinstance(value, dict) or kind not in value:
            found = " or ".join(map(str, value)) if isinstance(value, dict) else _kind(value)
            self._where.fail(f"{key} must be {_ATTRIBUTE_KINDS[kind]}, not {found}", self._at)
        return True, value[kind]

    def fail(self, problem: str) -> NoReturn:
        """Raise a `ReportInputError` about these attributes."""
        self._where.fail(problem, self._at)

    def _missing(self, key: str) -> NoReturn:
        self._where.fail(f"has no {key}; is this a span purposeful made?", self._at)

    def optional_boolean(self, key: str) -> bool | None:
        present, value = self._value(key, "boolValue")
        if present and not isinstance(value, bool):
            self._where.fail(f"{key} must be true or false", self._at)
        return value if isinstance(value, bool) else None

    def optional_string(self, key: str) -> str | None:
        present, value = self._value(key, "stringValue")
        if present and not isinstance(value, str):
            self._where.fail(f"{key} must be a string", self._at)
        return value if isinstance(value, str) else None

    def string(self, key: str) -> str:
        value = self.optional_string(key)
        if value is None:
            self._missing(key)
        return value

    def optional_integer(self, key: str) -> int | None:
        present, value = self._value(key, "intValue")
        if not present:
            return None
        number = _integer(value)
        if number is None or number < 0:
            self._where.fail(f"{key} must be a whole number, 0 or more", self._at)
        return number

    def integer(self, key: str) -> int:
        value = self.optional_integer(key)
        if value is None:
            self._missing(key)
        return value

    def optional_strings(self, key: str) -> tuple[str, ...] | None:
        present, value = self._value(key, "arrayValue")
        if not present:
            return None
        array = value if isinstance(value, dict) else None
        items = array.get("values", []) if array is not None else None
        if not isinstance(items, list):
            self._where.fail(f"{key} must be an array of strings", self._at)
        strings: list[str] = []
        for item in items:
            text = item.get("stringValue") if isinstance(item, dict) else None
            if not isinstance(text, str):
                self._where.fail(f"{key} must be an array of strings", self._at)
            strings.append(text)
        return tuple(strings)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.optional_strings(key)
        if value is None:
            self._missing(key)
        return value


def read_ledger(
    path: str | os.PathLike[str], *, on_bytes: Callable[[int], None] | None = None
) -> Iterator[Entry]:
    """The purpose scopes in a ledger file, one `ScopeRecord` per scope line.

    The header line, and the line that marks where a newer version went on with an older
    ledger in format 2, are yielded as `Ignored`. Lines of either format are read. The
    ledger is not verified: run ``purposeful audit verify`` for that.

    Args:
        path: the ledger file.
        on_bytes: told how many bytes each line had, as it is read.

    Raises:
        ReportInputError: the file is missing or unreadable, is a checkpoint file, or has a
            line that is not a ledger line; names the line.
    """
    file_path = Path(path)
    with _open(file_path) as file:
        for number, text in _lines(file_path, file, on_bytes):
            if not text.strip():
                continue
            where = _Where(file_path, number)
            line = _parse(text.rstrip("\r\n"))
            if isinstance(line, _NotJSON):
                where.fail(f"{line.problem}; {_LEDGER_HINT}")
            if not isinstance(line, dict):
                where.fail(f"is a JSON {_kind(line)}, not an object; {_LEDGER_HINT}")
            kind = line.get("type")
            if kind == "scope":
                yield _ledger_scope(line, where)
            elif kind == "header":
                yield Ignored("ledger headers")
            elif kind == "format":
                yield Ignored("ledger format changes")
            elif kind == "checkpoint":
                where.fail("is a checkpoint, not a ledger line; pass the ledger file itself")
            elif "resourceSpans" in line:
                where.fail("is OTLP JSON, not a ledger line; pass trace files without --ledger")
            elif isinstance(kind, str):
                yield Ignored("other ledger lines")
            else:
                where.fail(f"has no type; {_LEDGER_HINT}")


def _ledger_scope(line: Mapping[str, object], where: _Where) -> ScopeRecord:
    """A scope line of either format: format 2 adds the part, per-person reads and counts."""
    record_types: set[str] = set()
    decided_read: set[str] = set()
    refusals: list[Refusal] = []
    for d, raw in enumerate(_list(line, "decisions", where, "")):
        at = f"decisions[{d}]"
        decision = _object(raw, where, at)
        outcome = decision.get("outcome")
        record = _text(decision, "record", where, at)
        field = _text(decision, "field", where, at)
        count = decision.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            where.fail("count must be a whole number, 1 or more", at)
        record_types.add(record)
        if outcome in ("allowed", "would-deny"):
            decided_read.add(f"{record}.{field}")
        if outcome == "denied" or outcome == "would-deny":
            reasons = _strings(_list(decision, "reasons", where, at), where, "reasons", at)
            refusals.append(Refusal(outcome, record, field, reasons, count))
        elif outcome not in ("allowed", "withheld"):
            where.fail("outcome must be allowed, denied, would-deny or withheld", at)
    subjects: tuple[str, ...] | None = None
    if "subjects" in line:
        subjects = _strings(_list(line, "subjects", where, ""), where, "subjects")
    fields: tuple[str, ...] | None = None
    if "fields" in line:
        fields = _strings(_list(line, "fields", where, ""), where, "fields")
    fields_read = tuple(sorted(decided_read)) if fields is None else fields
    count = _optional_count(line, "subjects_count", where)
    scope_id, part, final = _ledger_part(line, where)
    return ScopeRecord(
        opened=_from_iso(line.get("opened"), where, "opened"),
        closed=_from_iso(line.get("time"), where, "time"),
        purpose=_optional_text(line, "purpose", where),
        actor_id=_optional_text(line, "actor", where),
        actor_role=_optional_text(line, "role", where),
        record_types=_record_types(record_types, fields_read),
        fields_read=fields_read,
        denied=sum(r.count for r in refusals if r.outcome == "denied"),
        would_deny=sum(r.count for r in refusals if r.outcome == "would-deny"),
        refusals=tuple(refusals),
        subjects=subjects,
        subjects_count=count,
        subjects_overflow=_overflow(
            subjects, count, _optional_count(line, "subjects_overflow", where)
        ),
        scope_id=scope_id,
        part=part,
        final=final,
        reads=_ledger_reads(line, subjects, fields, where),
        site=_ledger_site(line, where),
    )


def _ledger_part(line: Mapping[str, object], where: _Where) -> tuple[str | None, int, bool]:
    """The line's scope id, part number and whether it is the last; a whole scope if none.

    An empty id is read as none on a scope written whole (a report made by hand has one).
    """
    keys = ("scope", "part", "final")
    present = [key for key in keys if key in line]
    if not present:
        return None, 0, True
    if len(present) < len(keys):
        where.fail(
            f"has {' and '.join(present)} but not "
            f"{' and '.join(key for key in keys if key not in line)}: "
            f"a part of a scope needs its scope id, part number and whether it is the last; "
            f"{_LEDGER_HINT}"
        )
    scope_id, part, final = line["scope"], line["part"], line["final"]
    if not isinstance(scope_id, str):
        where.fail("scope must be the scope's id, a string")
    if isinstance(part, bool) or not isinstance(part, int) or part < 0:
        where.fail("part must be a whole number, 0 or more")
    if not isinstance(final, bool):
        where.fail("final must be true or false")
    if not scope_id and (part or not final):
        where.fail("scope must be the scope's id, not empty, on a part")
    return scope_id or None, part, final


def _ledger_reads(
    line: Mapping[str, object],
    subjects: tuple[str, ...] | None,
    fields: tuple[str, ...] | None,
    where: _Where,
) -> tuple[tuple[str, ...], ...] | None:
    """``reads``: for each listed person, the indexes into ``fields`` of what was read."""
    if "reads" not in line:
        return None
    raw = _list(line, "reads", where, "")
    if subjects is None or fields is None:
        where.fail(f"reads needs subjects and fields beside it; {_LEDGER_HINT}")
    if len(raw) != len(subjects):
        where.fail(
            f"reads must have one list for each of subjects ({len(subjects)}), not {len(raw)}"
        )
    reads = []
    for i, item in enumerate(raw):
        indexes = _indexes(item, len(fields))
        if indexes is None:
            where.fail(
                f"must be an array of indexes into fields, whole numbers from 0 to below "
                f"{len(fields)}",
                f"reads[{i}]",
            )
        reads.append(tuple(sorted({fields[index] for index in indexes})))
    return tuple(reads)


def _indexes(value: object, size: int) -> list[int] | None:
    """*value* as a list of indexes into a list of *size*; None if it is not one."""
    if not isinstance(value, list):
        return None
    indexes = [index for index in value if type(index) is int and 0 <= index < size]
    return indexes if len(indexes) == len(value) else None


def _ledger_site(line: Mapping[str, object], where: _Where) -> tuple[str, str, int] | None:
    """``site``: where in the code reads outside any scope came from."""
    raw = line.get("site")
    if raw is None:
        return None
    site = _object(raw, where, "site")
    number = site.get("line")
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        where.fail("line must be a whole number, 0 or more", "site")
    return _text(site, "file", where, "site"), _text(site, "function", where, "site"), number


# --- JSON shapes ---------------------------------------------------------------------------


def _kind(value: object) -> str:
    """The JSON name of *value*'s type, for a message that must not quote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _object(value: object, where: _Where, at: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        where.fail(f"is a JSON {_kind(value)}, not an object", at)
    return value


def _list(container: Mapping[str, object], key: str, where: _Where, at: str) -> list[object]:
    """The list under *key*; a missing key is an empty list, as OTLP JSON leaves them out."""
    value = container.get(key, [])
    if not isinstance(value, list):
        where.fail(f"{key} is a JSON {_kind(value)}, not an array", at)
    return value


def _strings(values: list[object], where: _Where, key: str, at: str = "") -> tuple[str, ...]:
    strings = tuple(value for value in values if isinstance(value, str))
    if len(strings) != len(values):
        where.fail(f"{key} must be an array of strings", at)
    return strings


def _text(container: Mapping[str, object], key: str, where: _Where, at: str = "") -> str:
    value = container.get(key)
    if not isinstance(value, str):
        where.fail(f"{key} is missing or not a string", at)
    return value


def _optional_text(container: Mapping[str, object], key: str, where: _Where) -> str | None:
    if key not in container:
        where.fail(f"{key} is missing; {_LEDGER_HINT}")
    value = container[key]
    if value is not None and not isinstance(value, str):
        where.fail(f"{key} must be a string or null")
    return value


def _optional_count(container: Mapping[str, object], key: str, where: _Where) -> int | None:
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        where.fail(f"{key} must be a whole number, 0 or more")
    return value


def _integer(value: object) -> int | None:
    """An OTLP JSON int64: a decimal string, or (from lenient writers) a JSON number."""
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


#: The first nanosecond past what a datetime can hold (year 9999): later is malformed.
_LAST_NANOSECOND = 253_402_300_800 * 1_000_000_000


def _from_nanoseconds(value: object, where: _Where, at: str) -> datetime:
    nanoseconds = _integer(value)
    if nanoseconds is None or nanoseconds < 0 or nanoseconds >= _LAST_NANOSECOND:
        where.fail("must be nanoseconds since the Unix epoch (a decimal string)", at)
    return _EPOCH + timedelta(microseconds=nanoseconds // 1000)


def _from_iso(value: object, where: _Where, key: str) -> datetime:
    moment = None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None:
        where.fail(f"{key} must be an ISO 8601 time, such as 2026-03-05T01:02:03.000004Z")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- asking about one person ---------------------------------------------------------------


@attrs.frozen
class SubjectQuery:
    """ "Who read this person's information?", held as the person's pseudonyms only.

    Make one with `SubjectQuery.for_subject`; the identifier itself is not kept.

    Attributes:
        pseudonyms: the person's pseudonym under each key, ``"<key id>:<hex>"``.
    """

    pseudonyms: tuple[str, ...]

    @classmethod
    def for_subject(cls, subject: str, keys: Iterable[PseudonymKey]) -> SubjectQuery:
        """The query for *subject*, with its pseudonym under each of *keys*.

        Give every key of the period the inputs cover: after a key rotation, older scopes
        hold pseudonyms made with the older key.

        Raises:
            ConfigurationError: *subject* is not a non-empty string, or no key was given.
        """
        if not isinstance(subject, str) or not subject:
            raise ConfigurationError("the subject to look for must be a non-empty string")
        pseudonyms = tuple(dict.fromkeys(key.pseudonym(subject) for key in keys))
        if not pseudonyms:
            raise ConfigurationError(
                "looking for a subject needs the pseudonym key (or keys) the inputs were "
                "written with: pass each key file with --key-file"
            )
        return cls(pseudonyms)

    @property
    def key_ids(self) -> frozenset[str]:
        """The ids of the keys the pseudonyms were made with."""
        return frozenset(_key_id(pseudonym) for pseudonym in self.pseudonyms)


def _key_id(pseudonym: str) -> str:
    return pseudonym.partition(":")[0]


# --- the report ----------------------------------------------------------------------------


@attrs.frozen
class SourceSummary:
    """One input file: what it was, how many scopes it held and what it ignored.

    Attributes:
        path: the file.
        format: ``"OTLP JSON"`` or ``"ledger"``.
        scopes: the purpose scopes first seen in it (a scope written in parts counts in the
            file its first part seen came from).
        ignored: what was not a purpose scope, as (what, how many), e.g. ``("other spans", 4)``.
    """

    path: str
    format: str
    scopes: int
    ignored: tuple[tuple[str, int], ...]


@attrs.frozen
class AccessRow:
    """The scopes of one purpose, record type and actor, and the fields they read.

    Attributes:
        purpose: the purpose id; None for reads outside any scope.
        record_type: the record type.
        actor_id, actor_role: who; None outside any scope.
        scopes: how many scopes decided something about the record type.
        fields_read: the fields of the record type whose values were handed back.
    """

    purpose: str | None
    record_type: str
    actor_id: str | None
    actor_role: str | None
    scopes: int
    fields_read: tuple[str, ...]


@attrs.frozen
class RefusalRow:
    """Refused or monitored reads of one field under one purpose, for the same reasons.

    Attributes:
        outcome: ``"denied"`` or ``"would-deny"``.
        purpose: the purpose id; None for reads outside any scope.
        record_type, field: the field.
        reasons: the reason codes.
        count: how many such reads.
    """

    outcome: RefusalOutcome
    purpose: str | None
    record_type: str
    field: str
    reasons: tuple[str, ...]
    count: int


@attrs.frozen
class ActorRow:
    """One actor's scopes and how many distinct people they read: a browsing signal.

    Attributes:
        actor_id: the actor.
        roles: the roles the actor acted in.
        scopes: how many scopes.
        people_at_least, people_at_most: how many distinct people the actor's scopes read.
            They differ when some scopes read more people than they list.
        scopes_without_subjects: scopes that do not say whom they read (older inputs).
    """

    actor_id: str
    roles: tuple[str, ...]
    scopes: int
    people_at_least: int
    people_at_most: int
    scopes_without_subjects: int


@attrs.frozen
class SiteRow:
    """Reads outside any scope that came from one place in the code.

    Attributes:
        site: the call site, as (file, function, line); None for reads whose input does
            not say (older inputs, which write each read alone).
        fields_read: the fields read there, as ``RecordType.field``: handed back (monitor
            mode) or refused.
        reads: how many reads: each one refused, or let through by monitor mode.
    """

    site: tuple[str, str, int] | None
    fields_read: tuple[str, ...]
    reads: int


@attrs.frozen
class TimeBucket:
    """One hour or day of the timeline, by the time scopes opened.

    Attributes:
        start: the start of the hour or day (UTC).
        scopes: scopes opened in it.
        denied, would_deny: reads in those scopes that were refused, or let through by
            monitor mode.
    """

    start: datetime
    scopes: int
    denied: int
    would_deny: int


@attrs.frozen
class SubjectAccess:
    """One scope that read the person asked about.

    Attributes:
        opened, closed: when the scope opened and closed (UTC).
        purpose: the purpose id; None for a read outside any scope.
        actor_id, actor_role: who.
        fields_read: the fields read from this person's records, as far as the inputs say;
            never another person's.
        fields_known: False when the scope (or a part of it) lists the person but does not
            say which fields it read for whom (inputs written before purposeful recorded
            that): more of the person's information may have been read.
        parts_missing: True when some parts of the scope's record are missing (the process
            ended abruptly, or the scope was still running): it may have read more of the
            person's information than *fields_read* says.
    """

    opened: datetime
    closed: datetime
    purpose: str | None
    actor_id: str | None
    actor_role: str | None
    fields_read: tuple[str, ...]
    fields_known: bool = True
    parts_missing: bool = False


@attrs.frozen
class SubjectAnswer:
    """Who read one person's information, when, for what purpose, and which of it.

    Attributes:
        pseudonyms: the person's pseudonyms, one per key given.
        accesses: the scopes that list one of them, oldest first.
        overflowed_scopes: scopes that read more people than they list, in a part that
            does not list this person: any of them may have read the person (or more of
            their information) too.
        unlisted_scopes: scopes that read people but list none of them, because the
            service that made them had no pseudonymiser configured.
        scopes_without_subjects: scopes that do not say whom they read (older inputs).
        other_key_ids: ids of keys the inputs' pseudonyms were made with that none of the
            keys given has: scopes written under those keys cannot be matched.
        unitemised_scopes: scopes that list the person but do not say which fields they
            read for whom (older inputs); their accesses have ``fields_known`` False.
        incomplete_scopes: scopes written in parts of which some are missing (no last part,
            or a gap): each may have read the person, or more of their information, in a
            part that is not there.
    """

    pseudonyms: tuple[str, ...]
    accesses: tuple[SubjectAccess, ...]
    overflowed_scopes: int
    unlisted_scopes: int
    scopes_without_subjects: int
    other_key_ids: tuple[str, ...]
    unitemised_scopes: int = 0
    incomplete_scopes: int = 0

    @property
    def complete(self) -> bool:
        """True when every scope that could have read the person says which of their
        information it read, and every part of every scope is there."""
        return not (
            self.overflowed_scopes
            or self.unlisted_scopes
            or self.scopes_without_subjects
            or self.other_key_ids
            or self.unitemised_scopes
            or self.incomplete_scopes
        )


@attrs.frozen
class Report:
    """What the inputs say: accesses, refusals, busy actors, a timeline, one person's reads.

    A scope written in parts counts once everywhere: in `scopes`, in the accesses and
    actors tables and in the timeline (by its opening); its reads and refusals are those
    of all its parts.

    Attributes:
        sources: each input file, in the order read.
        first, last: the earliest opening and latest closing of a scope; None if none.
        scopes: how many scopes, reads outside any scope included.
        unscoped_reads: how many of them were reads outside any scope (each a read, or a
            group of reads from one call site; `unscoped_sites` counts the reads).
        denied, would_deny: how many reads were refused, or let through by monitor mode,
            counted from the scopes' totals.
        unitemised_denied, unitemised_would_deny: how many of those have no event to say
            which field and why (span events cut short by the SDK's limits).
        accesses: by purpose, record type and actor.
        refusals: by outcome, purpose, field and reasons; the most frequent first.
        busiest_actors: the actors who read the most distinct people, most first.
        bucket: ``"hour"`` or ``"day"``, the step of `timeline`.
        timeline: every hour or day from the first scope to the last, empty ones included.
        subject: the answer about one person, when one was asked about.
        incomplete_scopes: scopes written in parts of which some are missing (no last part,
            or a gap in the part numbers): they may have read more than is recorded.
        unscoped_sites: reads outside any scope by call site, the most reads first, at
            most `BUSIEST_SITES` of them.
        unscoped_site_count: how many call sites there are in all.
    """

    sources: tuple[SourceSummary, ...]
    first: datetime | None
    last: datetime | None
    scopes: int
    unscoped_reads: int
    denied: int
    would_deny: int
    unitemised_denied: int
    unitemised_would_deny: int
    accesses: tuple[AccessRow, ...]
    refusals: tuple[RefusalRow, ...]
    busiest_actors: tuple[ActorRow, ...]
    bucket: Literal["hour", "day"]
    timeline: tuple[TimeBucket, ...]
    subject: SubjectAnswer | None = None
    incomplete_scopes: int = 0
    unscoped_sites: tuple[SiteRow, ...] = ()
    unscoped_site_count: int = 0

    @property
    def would_deny_rows(self) -> tuple[RefusalRow, ...]:
        """The monitor-mode reads enforce mode would refuse, most frequent first."""
        return tuple(row for row in self.refusals if row.outcome == "would-deny")


#: What refusals are counted by: outcome, purpose, record type, field and reasons.
_RefusalKey: TypeAlias = tuple[RefusalOutcome, str | None, str, str, tuple[str, ...]]


@attrs.define
class _AccessTally:
    scopes: int = 0
    fields: set[str] = attrs.Factory(set)


@attrs.define
class _ActorTally:
    roles: set[str] = attrs.Factory(set)
    scopes: int = 0
    people: set[str] = attrs.Factory(set)
    largest_scope: int = 0
    overflow: int = 0
    without_subjects: int = 0


@attrs.define
class _SiteTally:
    fields: set[str] = attrs.Factory(set)
    reads: int = 0


@attrs.define
class _Sightings:
    """What the parts of one scope say about the person asked about, until it is settled."""

    listed: bool = False
    fields: set[str] = attrs.Factory(set)
    fields_known: bool = True
    overflowed: bool = False
    unlisted: bool = False
    without_subjects: bool = False

    def add(self, scope: ScopeRecord, wanted: frozenset[str]) -> None:
        """Note what one scope record (a whole scope, or a part) says about the person."""
        if scope.subjects is None:
            self.without_subjects = True
            return
        at = [i for i, pseudonym in enumerate(scope.subjects) if pseudonym in wanted]
        if at:
            self.listed = True
            if scope.reads is None:  # older inputs: whose fields they were is not known
                self.fields_known = False
            else:
                for i in at:
                    self.fields.update(scope.reads[i])
        elif scope.subjects_overflow and scope.subjects:
            self.overflowed = True
        elif scope.subjects_overflow:
            self.unlisted = True


@attrs.define
class _ScopeIdentity:
    """What every part of a scope shares, and when its latest part was written."""

    opened: datetime
    closed: datetime
    purpose: str | None
    actor_id: str | None
    actor_role: str | None

    @classmethod
    def of(cls, scope: ScopeRecord) -> _ScopeIdentity:
        return cls(scope.opened, scope.closed, scope.purpose, scope.actor_id, scope.actor_role)


@attrs.define
class _AnswerTally:
    """The answer about one person, as the scopes are settled."""

    accesses: list[SubjectAccess] = attrs.Factory(list)
    overflowed: int = 0
    unlisted: int = 0
    without_subjects: int = 0
    unitemised: int = 0
    incomplete: int = 0

    def settle(self, seen: _Sightings, scope: _ScopeIdentity, *, parts_missing: bool) -> None:
        """Count one whole scope, all of whose parts have been seen (or all there will be)."""
        self.incomplete += parts_missing
        if seen.without_subjects:
            self.without_subjects += 1
        if seen.listed:
            self.unitemised += not seen.fields_known
            self.accesses.append(
                SubjectAccess(
                    scope.opened,
                    scope.closed,
                    scope.purpose,
                    scope.actor_id,
                    scope.actor_role,
                    tuple(sorted(seen.fields)),
                    fields_known=seen.fields_known,
                    parts_missing=parts_missing,
                )
            )
        if seen.unlisted:
            self.unlisted += 1
        elif seen.overflowed:
            self.overflowed += 1


@attrs.define
class _OpenScope:
    """A scope written in parts, until every part from 0 to the last has been seen.

    Parts usually come in order; *ahead* holds the numbers of any seen before a part
    below them, so that memory stays small for a scope of thousands of parts.
    """

    identity: _ScopeIdentity
    next_part: int = 0  # every part below it has been seen
    ahead: set[int] = attrs.Factory(set)
    last_part: int | None = None
    record_types: set[str] = attrs.Factory(set)  # counted in the accesses table
    sightings: _Sightings = attrs.Factory(_Sightings)

    def note(self, scope: ScopeRecord) -> None:
        """Note that *scope*, one of the parts, has been seen."""
        self.identity.closed = max(self.identity.closed, scope.closed)
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


class ReportBuilder:
    """Folds scope records into a `Report`, one at a time, joining the parts of a scope.

    A scope written whole (older inputs, or a scope that needed one part) is counted as it
    comes and not kept. A scope written in parts is kept, small, until its parts from 0 to
    the last have all been seen; one still missing some when the report is built is
    counted as it is, and noted as incomplete. Parts are joined by scope id within each
    kind of file: a scope sent to both a `SpanSink` and a `Ledger` is counted twice, as a
    scope written whole is.

    Args:
        subject: the person to answer about, if any.
    """

    def __init__(self, subject: SubjectQuery | None = None) -> None:
        self._query = subject
        self._wanted = frozenset(subject.pseudonyms) if subject is not None else frozenset()
        self._sources: list[SourceSummary] = []
        self._format = ""
        self._scopes = self._unscoped = self._denied = self._would_deny = 0
        self._itemised: Counter[RefusalOutcome] = Counter()
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._accesses: dict[tuple[str | None, str, str | None, str | None], _AccessTally] = {}
        self._refusals: Counter[_RefusalKey] = Counter()
        self._actors: dict[str, _ActorTally] = {}
        self._sites: dict[tuple[str, str, int] | None, _SiteTally] = {}
        self._hours: dict[datetime, list[int]] = {}
        self._open: dict[tuple[str, str], _OpenScope] = {}
        self._answer = _AnswerTally()
        self._key_ids: set[str] = set()

    def add_source(
        self, path: str | os.PathLike[str], format: str, entries: Iterable[Entry]
    ) -> None:
        """Read every entry of one input file, and note the file among the sources.

        The file's scopes are those first seen in it: the later parts of a scope begun in
        an earlier file count there.
        """
        scopes = 0
        ignored: Counter[str] = Counter()
        self._format = format
        try:
            for entry in entries:
                if isinstance(entry, Ignored):
                    ignored[entry.what] += 1
                else:
                    scopes += self._add(entry)
        finally:
            self._format = ""
        self._sources.append(SourceSummary(str(path), format, scopes, tuple(ignored.items())))

    def add(self, scope: ScopeRecord) -> None:
        """Count one scope, or one part of a scope."""
        self._add(scope)

    def _add(self, scope: ScopeRecord) -> bool:
        """Count *scope*; True if it is a scope not seen before (not a later part)."""
        parts, new = self._parts(scope)
        if new:
            self._scopes += 1
            self._unscoped += scope.purpose is None
        self._denied += scope.denied
        self._would_deny += scope.would_deny
        if self._first is None or scope.opened < self._first:
            self._first = scope.opened
        if self._last is None or scope.closed > self._last:
            self._last = scope.closed
        hour = self._hours.setdefault(
            scope.opened.replace(minute=0, second=0, microsecond=0), [0, 0, 0]
        )
        hour[0] += new
        hour[1] += scope.denied
        hour[2] += scope.would_deny
        self._count_accesses(scope, parts.record_types if parts is not None else None)
        for refusal in scope.refusals:
            self._itemised[refusal.outcome] += refusal.count
            self._refusals[
                (
                    refusal.outcome,
                    scope.purpose,
                    refusal.record_type,
                    refusal.field,
                    refusal.reasons,
                )
            ] += refusal.count
        if scope.actor_id is not None:
            self._count_actor(scope.actor_id, scope, new)
        if scope.purpose is None:
            self._count_site(scope)
        if self._query is not None:
            self._match(scope, parts)
        if parts is not None and parts.complete:
            if self._query is not None:
                self._answer.settle(parts.sightings, parts.identity, parts_missing=False)
            del self._open[(self._format, scope.scope_id or "")]
        return new

    def _parts(self, scope: ScopeRecord) -> tuple[_OpenScope | None, bool]:
        """The scope *scope* is a part of, noted as seen (None for a scope written whole),
        and whether *scope* is the first of it seen."""
        if scope.scope_id is None:
            return None, True
        key = (self._format, scope.scope_id)
        parts = self._open.get(key)
        new = parts is None
        if parts is None:
            if scope.part == 0 and scope.final:
                return None, True
            parts = self._open[key] = _OpenScope(_ScopeIdentity.of(scope))
        parts.note(scope)
        return parts, new

    def _count_accesses(self, scope: ScopeRecord, counted: set[str] | None) -> None:
        """Count the scope's reads by record type; *counted*: the types its earlier parts
        counted, so that a scope counts once per record type."""
        fields: dict[str, set[str]] = {}
        for name in scope.fields_read:
            record_type, _, field = name.rpartition(".")
            fields.setdefault(record_type, set()).add(field)
        # an access is a read: a record type the scope only refused or withheld is counted in
        # the refusals table, not here
        for record_type, read in fields.items():
            key = (scope.purpose, record_type, scope.actor_id, scope.actor_role)
            tally = self._accesses.get(key)
            if tally is None:
                tally = self._accesses[key] = _AccessTally()
            if counted is None or record_type not in counted:
                tally.scopes += 1
                if counted is not None:
                    counted.add(record_type)
            tally.fields.update(read)

    def _count_actor(self, actor_id: str, scope: ScopeRecord, new: bool) -> None:
        tally = self._actors.get(actor_id)
        if tally is None:
            tally = self._actors[actor_id] = _ActorTally()
        tally.scopes += new
        if scope.actor_role is not None:
            tally.roles.add(scope.actor_role)
        if scope.subjects is None and scope.subjects_count is None:
            tally.without_subjects += new
            return
        if scope.subjects is not None:
            tally.people.update(scope.subjects)
        # a part's count is a lower bound of its scope's; the sum of the parts' overflows
        # an upper bound of the people it does not list
        tally.largest_scope = max(tally.largest_scope, scope.subjects_count or 0)
        tally.overflow += scope.subjects_overflow

    def _count_site(self, scope: ScopeRecord) -> None:
        tally = self._sites.get(scope.site)
        if tally is None:
            tally = self._sites[scope.site] = _SiteTally()
        tally.fields.update(scope.fields_read)
        tally.fields.update(f"{r.record_type}.{r.field}" for r in scope.refusals)
        tally.reads += scope.denied + scope.would_deny

    def _match(self, scope: ScopeRecord, parts: _OpenScope | None) -> None:
        if scope.subjects is not None:
            self._key_ids.update(_key_id(pseudonym) for pseudonym in scope.subjects)
        if parts is not None:
            parts.sightings.add(scope, self._wanted)
            return
        seen = _Sightings()
        seen.add(scope, self._wanted)
        self._answer.settle(seen, _ScopeIdentity.of(scope), parts_missing=False)

    def build(self) -> Report:
        """The report of everything added so far.

        Scopes whose parts have not all been seen are counted as they are, as incomplete.
        """
        bucket: Literal["hour", "day"] = "hour"
        if self._first is not None and self._last is not None:
            bucket = "hour" if self._last - self._first <= HOURLY_UP_TO else "day"
        sites = sorted(
            self._sites.items(),
            key=lambda item: (-item[1].reads, item[0] is None, item[0] or ("", "", 0)),
        )
        return Report(
            sources=tuple(self._sources),
            first=self._first,
            last=self._last,
            scopes=self._scopes,
            unscoped_reads=self._unscoped,
            denied=self._denied,
            would_deny=self._would_deny,
            unitemised_denied=max(0, self._denied - self._itemised["denied"]),
            unitemised_would_deny=max(0, self._would_deny - self._itemised["would-deny"]),
            accesses=self._access_rows(),
            refusals=tuple(
                RefusalRow(*key, count=count)
                for key, count in sorted(self._refusals.items(), key=_refusal_order)
            ),
            busiest_actors=self._busiest_actors(),
            bucket=bucket,
            timeline=self._timeline(bucket),
            subject=self._answer_now(),
            incomplete_scopes=len(self._open),
            unscoped_sites=tuple(
                SiteRow(site, tuple(sorted(tally.fields)), tally.reads)
                for site, tally in sites[:BUSIEST_SITES]
            ),
            unscoped_site_count=len(sites),
        )

    def _access_rows(self) -> tuple[AccessRow, ...]:
        rows = [
            AccessRow(
                purpose, record_type, actor_id, role, tally.scopes, tuple(sorted(tally.fields))
            )
            for (purpose, record_type, actor_id, role), tally in self._accesses.items()
        ]
        return tuple(
            sorted(
                rows,
                key=lambda row: (
                    row.purpose is None,
                    row.purpose or "",
                    row.record_type,
                    row.actor_id or "",
                    row.actor_role or "",
                ),
            )
        )

    def _busiest_actors(self) -> tuple[ActorRow, ...]:
        rows = []
        for actor_id, tally in self._actors.items():
            at_least = max(len(tally.people), tally.largest_scope)
            rows.append(
                ActorRow(
                    actor_id,
                    tuple(sorted(tally.roles)),
                    tally.scopes,
                    at_least,
                    max(at_least, len(tally.people) + tally.overflow),
                    tally.without_subjects,
                )
            )
        rows.sort(
            key=lambda row: (-row.people_at_least, -row.people_at_most, -row.scopes, row.actor_id)
        )
        return tuple(rows[:BUSIEST_ACTORS])

    def _timeline(self, bucket: Literal["hour", "day"]) -> tuple[TimeBucket, ...]:
        if not self._hours:
            return ()
        step = _HOUR if bucket == "hour" else _DAY
        totals: dict[datetime, list[int]] = {}
        for hour, counts in self._hours.items():
            start = hour if bucket == "hour" else hour.replace(hour=0)
            total = totals.setdefault(start, [0, 0, 0])
            for i, count in enumerate(counts):
                total[i] += count
        buckets = []
        start, end = min(totals), max(totals)
        while start <= end:
            scopes, denied, would_deny = totals.get(start, (0, 0, 0))
            buckets.append(TimeBucket(start, scopes, denied, would_deny))
            start += step
        return tuple(buckets)

    def _answer_now(self) -> SubjectAnswer | None:
        """The answer about the person, with the scopes still missing parts settled as
        they are, into a copy: more parts may yet be added."""
        if self._query is None:
            return None
        answer = attrs.evolve(self._answer, accesses=list(self._answer.accesses))
        for parts in self._open.values():
            answer.settle(parts.sightings, parts.identity, parts_missing=True)
        return SubjectAnswer(
            pseudonyms=self._query.pseudonyms,
            accesses=tuple(sorted(answer.accesses, key=lambda access: access.opened)),
            overflowed_scopes=answer.overflowed,
            unlisted_scopes=answer.unlisted,
            scopes_without_subjects=answer.without_subjects,
            other_key_ids=tuple(sorted(self._key_ids - self._query.key_ids)),
            unitemised_scopes=answer.unitemised,
            incomplete_scopes=answer.incomplete,
        )


def _refusal_order(item: tuple[_RefusalKey, int]) -> tuple[object, ...]:
    (outcome, purpose, record_type, field, reasons), count = item
    return (-count, outcome, purpose or "", record_type, field, reasons)


def build_report(
    traces: Iterable[str | os.PathLike[str]] = (),
    ledgers: Iterable[str | os.PathLike[str]] = (),
    *,
    subject: SubjectQuery | None = None,
    progress: Progress | None = None,
) -> Report:
    """Read the trace files, then the ledger files, and report on every scope in them.

    A scope sent to both a `SpanSink` and a `Ledger` is in both kinds of file: give one kind
    or the other for a period, or it is counted twice.

    Args:
        traces: OTLP JSON trace files (see `read_otlp_json`).
        ledgers: ledger files (see `read_ledger`).
        subject: the person to answer about, if any.
        progress: told ``(bytes read, bytes in all)`` as the files are read, for a
            progress bar; last told the total when everything has been read.

    Raises:
        ReportInputError: a file is missing or unreadable (found before anything is read),
            or holds something that cannot be read; names the file and line.
    """
    inputs = [(Path(p), "OTLP JSON", read_otlp_json) for p in traces]
    inputs += [(Path(p), "ledger", read_ledger) for p in ledgers]
    total = sum(_size(path) for path, _, _ in inputs)
    done = 0

    def advance(size: int) -> None:
        nonlocal done
        done += size
        if progress is not None:
            progress(done, total)

    builder = ReportBuilder(subject)
    for path, format, reader in inputs:
        builder.add_source(path, format, reader(path, on_bytes=advance))
    if progress is not None:
        progress(max(done, total), max(done, total))
    return builder.build()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        _open(path).close()  # raises the error that says what is wrong
        return 0


class ProgressBar:
    """A progress bar for a terminal, ``reading  42% [############                ]``.

    Redrawn in place only when the percentage changes, and wiped when reading is done, so
    it leaves nothing behind. Give it a stream that is a terminal.

    Args:
        stream: where to draw it, usually ``sys.stderr``.
        width: how many characters the bar has.
    """

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self._stream = stream
        self._width = width
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        if percent == self._shown:
            return
        self._shown = percent
        filled = self._width * percent // 100
        line = f"reading {percent:3d}% [{'#' * filled}{' ' * (self._width - filled)}]"
        self._stream.write("\r" + line)
        if done >= total:
            self._stream.write("\r" + " " * len(line) + "\r")
        self._stream.flush()


# --- rendering -----------------------------------------------------------------------------

_NO_SCOPE: Final = "(outside any scope)"
_TEXT_WIDTH: Final = 96
_UNKNOWN: Final = "-"


@attrs.frozen
class _Table:
    """A titled table, which both renderers draw; notes follow it."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    empty: str = "None."


def _printable(text: str) -> str:
    """*text* with control and other unprintable characters shown as escapes.

    Names come from files anyone could have written: a terminal must not act on them.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else _UNKNOWN


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _scopes(count: int, one: str, many: str) -> str:
    """``1 scope <one>`` or ``<count> scopes <many>``."""
    return f"1 scope {one}" if count == 1 else f"{count} scopes {many}"


def _summary(report: Report) -> list[str]:
    lines = [
        f"Period: {_time(report.first)} to {_time(report.last)} (UTC)",
        f"Scopes: {report.scopes}"
        + (
            f", of which {report.unscoped_reads} outside any scope" if report.unscoped_reads else ""
        ),
    ]
    if report.subject is None:
        lines.append(
            f"Refused reads: {report.denied} denied (enforce mode), "
            f"{report.would_deny} would-deny (monitor mode)"
        )
    if report.incomplete_scopes:
        scopes = _scopes(
            report.incomplete_scopes,
            "is missing parts of its record",
            "are missing parts of their record",
        )
        lines.append(
            f"Note: {scopes} (no last part, or a gap): a "
            "process ended abruptly, or a scope was still running. They may have read more "
            "than is recorded."
        )
    formats = {source.format for source in report.sources}
    if len(formats) > 1:
        lines.append(
            "Note: both trace files and ledgers were read; a scope sent to both sinks is "
            "counted twice."
        )
    return lines


def _tables(report: Report) -> list[_Table]:
    """The report's tables, in order, for either renderer.

    The answer about one person comes alone (with the sources it rests on): it may be
    handed on, and must not carry what other people's scopes say.
    """
    if report.subject is not None:
        return [_sources_table(report), _subject_table(report.subject)]
    return [
        _sources_table(report),
        _accesses_table(report),
        _refusals_table(report),
        _actors_table(report),
        _sites_table(report),
    ]


def _sources_table(report: Report) -> _Table:
    return _Table(
        "Sources",
        ("file", "format", "scopes", "ignored"),
        tuple(
            (
                source.path,
                source.format,
                str(source.scopes),
                ", ".join(f"{count} {what}" for what, count in source.ignored) or "nothing",
            )
            for source in report.sources
        ),
        notes=("Only purposeful.use and purposeful.unscoped_read spans are read.",)
        if any(source.format == "OTLP JSON" for source in report.sources)
        else (),
    )


def _accesses_table(report: Report) -> _Table:
    return _Table(
        "Accesses by purpose, record type and actor",
        ("purpose", "record type", "actor", "role", "scopes", "fields read"),
        tuple(
            (
                row.purpose or _NO_SCOPE,
                row.record_type,
                row.actor_id or _UNKNOWN,
                row.actor_role or _UNKNOWN,
                str(row.scopes),
                ", ".join(row.fields_read) or "(none)",
            )
            for row in report.accesses
        ),
    )


def _refusals_table(report: Report) -> _Table:
    notes = []
    if report.unitemised_denied or report.unitemised_would_deny:
        notes.append(
            f"{report.unitemised_denied} denied and {report.unitemised_would_deny} would-deny "
            "reads are counted but not itemised: their spans had more events than the SDK "
            "keeps (OTEL_SPAN_EVENT_COUNT_LIMIT)."
        )
    return _Table(
        "Denials and would-denies",
        ("outcome", "purpose", "record type", "field", "reasons", "count"),
        tuple(_refusal_cells(row) for row in report.refusals),
        notes=tuple(notes),
    )


def _refusal_cells(row: RefusalRow) -> tuple[str, ...]:
    return (
        row.outcome,
        row.purpose or _NO_SCOPE,
        row.record_type,
        row.field,
        ", ".join(row.reasons) or _UNKNOWN,
        str(row.count),
    )


def _actors_table(report: Report) -> _Table:
    notes: tuple[str, ...] = ()
    if report.busiest_actors:
        notes = (
            "People are counted by pseudonym. A range means some scopes read more people than "
            "they list; after a key rotation one person has two pseudonyms.",
        )
    return _Table(
        "Busiest actors, by distinct people read",
        ("actor", "roles", "scopes", "people", "scopes not saying whom"),
        tuple(
            (
                row.actor_id,
                ", ".join(row.roles) or _UNKNOWN,
                str(row.scopes),
                _people(row),
                str(row.scopes_without_subjects),
            )
            for row in report.busiest_actors
        ),
        notes=notes,
    )


def _people(row: ActorRow) -> str:
    if row.scopes_without_subjects == row.scopes:
        return "unknown"
    if row.people_at_least == row.people_at_most:
        return str(row.people_at_least)
    return f"{row.people_at_least}-{row.people_at_most}"


def _sites_table(report: Report) -> _Table:
    notes: tuple[str, ...] = ()
    if report.unscoped_site_count > len(report.unscoped_sites):
        more = report.unscoped_site_count - len(report.unscoped_sites)
        notes = (f"And {_plural(more, 'more call site')}, with fewer reads.",)
    return _Table(
        "Reads outside any scope, by call site",
        ("call site", "function", "fields read", "reads"),
        tuple(
            (
                f"{row.site[0]}:{row.site[2]}" if row.site else "(not recorded)",
                row.site[1] if row.site else _UNKNOWN,
                ", ".join(row.fields_read) or "(none)",
                str(row.reads),
            )
            for row in report.unscoped_sites
        ),
        notes=notes,
    )


#: After the fields of an access that cannot say which were this person's.
_NOT_KNOWN: Final = " (not all recorded for this person)"
#: After the fields of an access whose record is missing parts.
_CUT_SHORT: Final = " +"


def _subject_table(answer: SubjectAnswer) -> _Table:
    notes = []
    if answer.overflowed_scopes:
        scopes = _scopes(
            answer.overflowed_scopes,
            "read more people than it lists",
            "read more people than they list",
        )
        notes.append(
            f"Incomplete: {scopes}, and may have read this person (or more of their "
            "information) too."
        )
    if answer.unlisted_scopes:
        scopes = _scopes(
            answer.unlisted_scopes,
            "lists none of the people it read",
            "list none of the people they read",
        )
        notes.append(
            f"Incomplete: {scopes}: configure purposeful.configure(pseudonymise=key.pseudonym) "
            "in the services."
        )
    if answer.scopes_without_subjects:
        scopes = _scopes(
            answer.scopes_without_subjects, "does not say whom it read", "do not say whom they read"
        )
        notes.append(f"Incomplete: {scopes} (written before purposeful recorded subjects).")
    if answer.other_key_ids:
        notes.append(
            "Incomplete: some scopes hold pseudonyms made with keys not given "
            f"({', '.join(answer.other_key_ids)}); pass those key files too."
        )
    if answer.unitemised_scopes:
        scopes = _scopes(
            answer.unitemised_scopes,
            "lists this person but does not say which fields it read for whom",
            "list this person but do not say which fields they read for whom",
        )
        notes.append(
            f"Incomplete: {scopes} (written before purposeful recorded that): for those, "
            f"which of this person's information was read is not known."
        )
    if answer.incomplete_scopes:
        scopes = _scopes(
            answer.incomplete_scopes,
            "is missing parts of its record",
            "are missing parts of their record",
        )
        notes.append(
            f"Incomplete: {scopes} (a process ended abruptly, or a scope was still running), "
            "and may have read this person, or more of their information, in a part that "
            f"is not there. Those listing this person are marked{_CUT_SHORT}."
        )
    if answer.complete:
        notes.append(
            "Complete: every scope read says whom it read, and which of this person's information."
        )
    notes.append(
        "Fields read are the fields read from this person's records; other people's are "
        "never shown."
    )
    return _Table(
        f"Who read the person with pseudonym {' or '.join(answer.pseudonyms)}",
        ("opened", "closed", "actor", "role", "purpose", "fields read"),
        tuple(
            (
                _time(access.opened),
                _time(access.closed),
                access.actor_id or _UNKNOWN,
                access.actor_role or _UNKNOWN,
                access.purpose or _NO_SCOPE,
                (", ".join(access.fields_read) or ("(none)" if access.fields_known else ""))
                + ("" if access.fields_known else _NOT_KNOWN)
                + (_CUT_SHORT if access.parts_missing else ""),
            )
            for access in answer.accesses
        ),
        notes=tuple(notes),
        empty="No scope lists this person.",
    )


def _text_table(table: _Table) -> list[str]:
    lines = ["", table.title, "-" * len(table.title)]
    if not table.rows:
        lines.append(table.empty)
    else:
        cells = [table.columns, *(tuple(map(_printable, row)) for row in table.rows)]
        widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]
        for row in cells:
            padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
            lines.append("  ".join([*padded, row[-1]]).rstrip())
    lines.extend(textwrap.fill(note, width=_TEXT_WIDTH) for note in table.notes)
    return lines


def render_text(report: Report) -> str:
    """The report as plain text, for a terminal or a file; ends with a newline.

    With a subject asked about, only the sources and the answer: what other people's scopes
    say stays out of a page that may be handed on.
    """
    title = "purposeful audit report"
    lines = [title, "=" * len(title), *_summary(report)]
    for table in _tables(report):
        lines.extend(_text_table(table))
    return "\n".join(lines) + "\n"


def render_would_deny_gate(report: Report) -> str:
    """The would-deny reads, for a check before turning on enforce mode; ends with a newline.

    Says there are none, or lists each (purpose, record type, field, reasons, count) under
    a line giving the total.
    """
    if not report.would_deny:
        return "Would-deny gate: passed, no monitor-mode read would be refused.\n"
    table = _Table(
        f"Would-deny gate: failed, enforce mode would refuse {_plural(report.would_deny, 'read')}",
        ("purpose", "record type", "field", "reasons", "count"),
        tuple(_refusal_cells(row)[1:] for row in report.would_deny_rows),
        notes=(f"and {report.unitemised_would_deny} more not itemised (span event limit)",)
        if report.unitemised_would_deny
        else (),
    )
    return "\n".join(_text_table(table)[1:]) + "\n"


_CSS: Final = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2433;
margin:2rem auto;max-width:72rem;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #d8dde6;vertical-align:top}
th{background:#f0f3f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
p.note{color:#4a5568;margin:.3rem 0}.summary p{margin:.1rem 0}
svg text{font:12px system-ui,sans-serif;fill:#1d2433}
""".strip()
_COLOURS: Final = (("scopes", "#3f6fb5"), ("denied", "#c0392b"), ("would-deny", "#d99a00"))


def _escape(text: str) -> str:
    return html.escape(_printable(text), quote=True)


def _html_table(table: _Table) -> list[str]:
    parts = [f"<h2>{_escape(table.title)}</h2>"]
    if not table.rows:
        parts.append(f'<p class="note">{_escape(table.empty)}</p>')
    else:
        parts.append("<table><thead><tr>")
        parts.extend(f"<th>{_escape(column)}</th>" for column in table.columns)
        parts.append("</tr></thead><tbody>")
        for row in table.rows:
            cells = (
                f'<td class="n">{_escape(cell)}</td>'
                if cell.isdigit()
                else f"<td>{_escape(cell)}</td>"
                for cell in row
            )
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table>")
    parts.extend(f'<p class="note">{_escape(note)}</p>' for note in table.notes)
    return parts


def _bucket_label(report: Report, start: datetime) -> str:
    return start.strftime("%Y-%m-%d %H:00" if report.bucket == "hour" else "%Y-%m-%d")


def _chart(report: Report) -> str:
    """An inline SVG bar chart: scopes, denied and would-deny reads per hour or day."""
    width, height = 960, 300
    left, right, top, bottom = 48, 56, 34, 40
    plot_width, plot_height = width - left - right, height - top - bottom
    baseline = top + plot_height
    buckets = report.timeline
    highest = max(max(b.scopes, b.denied, b.would_deny) for b in buckets) or 1
    title = f"Scopes and refused reads per {report.bucket} (UTC)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{_escape(title)}">',
        f"<title>{_escape(title)}</title>",
    ]
    for fraction in (0.0, 0.5, 1.0):
        value = round(highest * fraction)
        y = baseline - plot_height * value / highest
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{"#8a94a6" if value == 0 else "#e3e7ee"}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    slot = min(plot_width / len(buckets), 72)  # a few buckets get bars, not walls
    bar = slot * 0.8 / len(_COLOURS)
    # Labels are about 7 px a character, with a gap: label only every so many slots.
    label_width = 7 * len(_bucket_label(report, buckets[0].start)) + 24
    label_every = -(-len(buckets) * label_width // plot_width)
    for i, bucket in enumerate(buckets):
        label = _bucket_label(report, bucket.start)
        counts = (bucket.scopes, bucket.denied, bucket.would_deny)
        for j, ((name, colour), value) in enumerate(zip(_COLOURS, counts, strict=True)):
            bar_height = plot_height * value / highest
            parts.append(
                f'<rect x="{left + i * slot + slot * 0.1 + j * bar:.2f}" '
                f'y="{baseline - bar_height:.2f}" width="{bar:.2f}" height="{bar_height:.2f}" '
                f'fill="{colour}"><title>{_escape(f"{label}: {value} {name}")}</title></rect>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{left + (i + 0.5) * slot:.1f}" y="{baseline + 18}" '
                f'text-anchor="middle">{_escape(label)}</text>'
            )
    for j, (name, colour) in enumerate(_COLOURS):
        parts.append(
            f'<rect x="{left + j * 120}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + j * 120 + 18}" y="18">{_escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page: inline CSS and SVG, no script, no links.

    The same tables as `render_text`, after a chart of scopes and refused reads over time
    (left out of the answer about one person). Everything read from the inputs is escaped.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>purposeful audit report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>purposeful audit report</h1>",
        '<div class="summary">',
        *(f"<p>{_escape(line)}</p>" for line in _summary(report)),
        "</div>",
    ]
    if report.subject is None:
        parts.append(f"<h2>Over time, per {report.bucket}</h2>")
        parts.append(_chart(report) if report.timeline else '<p class="note">No scopes.</p>')
    for table in _tables(report):
        parts.extend(_html_table(table))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
