"""The report's readers: OTLP JSON trace files and ledger files, one line at a time.

`read_otlp_json` and `read_ledger` yield one normalised `ScopeRecord` per scope (or part of
one), or an `Ignored` marker for anything else, and raise `ReportInputError` (naming the
file and line) for input they cannot read. They read a file one line at a time, so large
inputs fit in memory.

- **OTLP JSON trace files**, as the OpenTelemetry file exporters write them (one
  ``ExportTraceServiceRequest`` object a line, or a single such document): only the
  ``purposeful.use`` and ``purposeful.unscoped_read`` spans (see the semantic conventions
  page) are read, and everything else is counted as ignored;
- **ledger files** written by `purposeful.audit.Ledger`: one scope line a line. The ledger
  is not verified here (``purposeful audit verify`` does that).

Both formats have two generations. Older inputs say, for each scope, which fields it read
and whom it read, but not which fields it read for whom. Newer ones (ledger format 2, spans
with ``purposeful.scope.id``) say which fields were read from each listed person's records,
and write a long scope in *parts*. Reads outside any scope may come aggregated, one report
for many reads from one call site, with counts.

Span names, attribute keys and ledger keys come from `purposeful.audit.conventions`, and
the ledger's line kinds and times from `purposeful.audit.ledger.format`: they are spelled
there once, for the writers and the readers alike.

What this module must not do: quote the input in an error (a foreign span's name, or a
malformed line, may hold anything: errors name a place and a problem); skip input
silently; keep more than one line in memory; import the OpenTelemetry SDK (it reads JSON).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO, Final, TypeAlias

import attrs

from ...decisions import Outcome, Upstream
from ...errors import ConfigurationError, ReportInputError
from ..conventions import (
    DENIED_EVENT,
    DISCLOSURE_EVENT,
    SPAN_NAME,
    SUBJECTS_FIELDS_SEPARATOR,
    SUBJECTS_SEPARATOR,
    UNSCOPED_SPAN_NAME,
    WOULD_DENY_EVENT,
    DecisionKey,
    DisclosureAttribute,
    EventAttribute,
    LedgerKey,
    LineType,
    SiteKey,
    SpanAttribute,
    UpstreamKey,
)
from ._json import Where as _Where
from ._json import from_iso as _from_iso
from ._json import from_nanoseconds as _from_nanoseconds
from ._json import json_kind as _kind
from ._json import json_list as _list
from ._json import json_object as _object
from ._json import optional_count as _optional_count
from ._json import strings as _strings
from ._json import text as _text
from ._otlp_attributes import Attributes as _Attributes
from .records import Disclosure, Entry, Ignored, Refusal, RefusalOutcome, ScopeRecord

__all__ = [
    "ALSO_IN_A_LEDGER",
    "LEDGER_INPUT",
    "OTLP_JSON_INPUT",
    "Reader",
    "input_size",
    "read_ledger",
    "read_otlp_json",
    "report_inputs",
]

#: The kind of input `read_otlp_json` reads, as a report's sources name it.
OTLP_JSON_INPUT: Final = "OTLP JSON"
#: The kind of input `read_ledger` reads, as a report's sources name it.
LEDGER_INPUT: Final = "ledger"
#: What a trace file's parts that a ledger also holds are, among the things a report's
#: sources say it ignored: each is counted once, from the ledger (see `report_inputs`).
ALSO_IN_A_LEDGER: Final = "parts also in a ledger"

Reader: TypeAlias = Callable[..., Iterator[Entry]]
"""`read_otlp_json` or `read_ledger`: called with a path and ``on_bytes=``."""

# Numbers no longer than an int64's 19 digits: a longer one is malformed here, and would
# cost int() quadratic time (or Python's 4,300-digit limit, a bare ValueError).
_INDEXES = re.compile(r" *(?:[0-9]{1,19}(?: +[0-9]{1,19})*)? *\Z")
_OTLP_HINT: Final = "each line must be one OTLP JSON ExportTraceServiceRequest object"
_CONSOLE: Final = (
    "is the OpenTelemetry SDK's ConsoleSpanExporter output, not OTLP JSON; write trace files "
    "with purposeful.audit.TraceFileExporter (or the Collector's file exporter) instead"
)
_LEDGER_HINT: Final = "a ledger has one JSON object a line, as purposeful.audit.Ledger writes"
_OUTCOMES: Final = {outcome.value: outcome for outcome in Outcome}
_REFUSED: Final[Mapping[Outcome, RefusalOutcome]] = {
    Outcome.DENIED: "denied",
    Outcome.WOULD_DENY: "would-deny",
}
#: The key of an OTLP JSON ``ExportTraceServiceRequest``'s spans.
_RESOURCE_SPANS: Final = "resourceSpans"


#: While `files_read` is in force: for each path a reader opened, the files it found there,
#: as (device, inode).
_read: dict[str, set[tuple[int, int]]] | None = None


@contextlib.contextmanager
def files_read() -> Iterator[dict[str, set[tuple[int, int]]]]:
    """Note, for the block, which file (device, inode) the readers open for each path: a
    ledger verified before its report is compared with the file the report read (a
    directory on its path renamed meanwhile leads a reading elsewhere)."""
    global _read
    outer, _read = _read, {}
    try:
        yield _read
    finally:
        _read = outer


def _open(path: Path) -> BinaryIO:
    problem = None
    try:
        file = path.open("rb")
        if _read is not None:
            found = os.fstat(file.fileno())
            _read.setdefault(str(path), set()).add((found.st_dev, found.st_ino))
        return file
    except FileNotFoundError:
        problem = "does not exist; check the path"
    except IsADirectoryError:
        problem = "is a directory; pass the file itself"
    except PermissionError:
        problem = "cannot be read by this process (permission denied); check its owner"
    except OSError as exc:
        problem = f"cannot be opened ({exc.strerror}); check the path"
    raise ReportInputError(problem, path=path)


def input_size(path: str | os.PathLike[str]) -> int:
    """How many bytes the input file *path* holds, to tell a progress bar.

    Raises:
        ReportInputError: the file is missing or cannot be opened: found before anything is
            read.
    """
    file_path = Path(path)
    try:
        return file_path.stat().st_size
    except OSError:
        _open(file_path).close()  # raises the error that says what is wrong
        return 0


def report_inputs(
    traces: Iterable[str | os.PathLike[str]], ledgers: Iterable[str | os.PathLike[str]]
) -> list[tuple[Path, str, Reader]]:
    """A report's input files, with their kind and reader, in the order they are read: the
    ledgers, then the trace files, each kind in the order given.

    A service with both sinks writes every scope part to a ledger and as a span. Reading
    the ledgers first lets a report note the (scope id, part) of each of their parts
    compactly (`purposeful.audit.report.records.LedgerParts`, 8 bytes a part) and skip
    the trace copies as it meets them (counted as `ALSO_IN_A_LEDGER`), in one pass over
    each file: nothing else is kept, and no file is read twice. Every engine reads in this
    order, so the sources are listed in it too.
    """
    found = [(Path(p), LEDGER_INPUT, read_ledger) for p in ledgers]
    found += [(Path(p), OTLP_JSON_INPUT, read_otlp_json) for p in traces]
    return found


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


def _first_value(text: str) -> object:
    """The first JSON value in *text*, which may hold more after it; None if none."""
    try:
        return json.JSONDecoder().raw_decode(text.lstrip())[0]
    except (ValueError, RecursionError):
        return None


def _is_console_span(document: object) -> bool:
    """Whether *document* is a span as the SDK's ``ConsoleSpanExporter`` prints one."""
    if not isinstance(document, dict):
        return False
    context = document.get("context")
    return isinstance(context, dict) and "span_id" in context and "name" in document


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
                whole = text + "".join(rest for _, rest in lines)
                document = _parse(whole)
                if isinstance(document, _NotJSON):
                    if _is_console_span(_first_value(whole)):
                        _Where(file_path, number).fail(_CONSOLE)
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
    if _RESOURCE_SPANS not in document:
        if "resourceLogs" in document or "resourceMetrics" in document:
            where.fail("holds OTLP logs or metrics, not traces; pass trace files only")
        if _is_console_span(document):
            where.fail(_CONSOLE)
        if LedgerKey.TYPE in document:
            where.fail("is a ledger line, not OTLP JSON; pass ledger files with --ledger")
        if document:
            where.fail(f"has no resourceSpans; {_OTLP_HINT}")
    for r, resource in enumerate(_list(document, _RESOURCE_SPANS, where, "")):
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
    name = span.get("name", "")  # OTLP JSON leaves an empty name out
    if not isinstance(name, str):
        where.fail("has a name that is not a string", at)
    if name not in (SPAN_NAME, UNSCOPED_SPAN_NAME):
        yield Ignored("other spans")
        return
    attributes = _Attributes(span.get("attributes", []), where, f"{at}.attributes")
    refusals: list[Refusal] = []
    disclosures: list[Disclosure] = []
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
        elif event_name == DISCLOSURE_EVENT:
            found = _Attributes(event.get("attributes", []), where, f"{event_at}.attributes")
            disclosures.append(_span_disclosure(found))
            continue
        else:
            yield Ignored("other events on purposeful spans")
            continue
        details = _Attributes(event.get("attributes", []), where, f"{event_at}.attributes")
        reads = details.optional_integer(EventAttribute.READS_COUNT)
        if reads == 0:
            details.fail(f"{EventAttribute.READS_COUNT} must be a whole number, 1 or more")
        refusals.append(
            Refusal(
                outcome,
                details.string(EventAttribute.RECORD_TYPE),
                details.string(EventAttribute.FIELD),
                details.strings(EventAttribute.REASON_CODES),
                1 if reads is None else reads,
            )
        )
    scoped = name == SPAN_NAME
    # read in the order they are checked in, so the first problem is the one named
    opened = _from_nanoseconds(span.get("startTimeUnixNano"), where, f"{at}.startTimeUnixNano")
    closed = _from_nanoseconds(span.get("endTimeUnixNano"), where, f"{at}.endTimeUnixNano")
    purpose = attributes.string(SpanAttribute.PURPOSE) if scoped else None
    actor_id = attributes.optional_string(SpanAttribute.ACTOR_ID)
    actor_role = attributes.optional_string(SpanAttribute.ACTOR_ROLE)
    decided = attributes.strings(SpanAttribute.RECORD_TYPES)
    fields_read = attributes.strings(SpanAttribute.FIELDS_READ)
    subjects = _span_subjects(attributes)
    count = attributes.optional_integer(SpanAttribute.SUBJECTS_COUNT)
    overflow = attributes.optional_integer(SpanAttribute.SUBJECTS_OVERFLOW)
    scope_id, part, final = _span_part(attributes)
    yield ScopeRecord(
        opened=opened,
        closed=closed,
        purpose=purpose,
        actor_id=actor_id,
        actor_role=actor_role,
        record_types=_record_types(decided, fields_read),
        fields_read=fields_read,
        denied=attributes.integer(SpanAttribute.DENIED_COUNT),
        would_deny=attributes.integer(SpanAttribute.WOULD_DENY_COUNT),
        refusals=tuple(refusals),
        subjects=subjects,
        subjects_count=count,
        subjects_overflow=_overflow(subjects, count, overflow),
        scope_id=scope_id,
        part=part,
        final=final,
        reads=_span_reads(attributes, subjects, fields_read),
        site=_span_site(attributes),
        upstream=_span_upstream(attributes),
        disclosures=tuple(disclosures),
    )


def _span_disclosure(attributes: _Attributes) -> Disclosure:
    """A ``purposeful.disclosure`` event's attributes (`DisclosureAttribute`)."""
    return Disclosure(
        attributes.string(DisclosureAttribute.ID),
        attributes.string(DisclosureAttribute.AGREEMENT),
        attributes.string(DisclosureAttribute.RECIPIENT),
        attributes.string(DisclosureAttribute.RECORD_TYPE),
        attributes.strings(DisclosureAttribute.FIELDS),
        attributes.integer(DisclosureAttribute.STATEMENTS_COUNT),
        attributes.optional_string(DisclosureAttribute.SUBJECT),
    )


def _record_types(decided: Iterable[str], fields_read: Iterable[str]) -> tuple[str, ...]:
    """The record types decided about or read: a later part may read without deciding."""
    return tuple(sorted({*decided, *(name.rpartition(".")[0] for name in fields_read)}))


_PART_KEYS: Final = (SpanAttribute.SCOPE_ID, SpanAttribute.SCOPE_PART, SpanAttribute.SCOPE_FINAL)


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


def _span_subjects(attributes: _Attributes) -> tuple[str, ...] | None:
    """``purposeful.subjects``: the listed pseudonyms, an array (edition 1) or one string
    of them separated by single spaces (edition 2)."""
    key = SpanAttribute.SUBJECTS
    text = attributes.optional_text_or_strings(key)
    if not isinstance(text, str):
        return text
    if not text:
        return ()
    listed = tuple(text.split(SUBJECTS_SEPARATOR))
    if "" in listed or text[0] == "[":
        attributes.fail(
            f"{key} must be pseudonyms separated by single spaces, the first not starting with '['"
        )
    return listed


def _span_reads(
    attributes: _Attributes, subjects: tuple[str, ...] | None, fields_read: tuple[str, ...]
) -> tuple[tuple[str, ...], ...] | None:
    """``purposeful.subjects.fields``: the fields read from each listed person's records,
    an array of items (edition 1) or one string of them separated by commas (edition 2),
    as many as there are people listed (so an empty string is no item when none is listed,
    and one empty item when one is)."""
    key = SpanAttribute.SUBJECTS_FIELDS
    text = attributes.optional_text_or_strings(key)
    if text is None:
        return None
    if isinstance(text, str):
        items = tuple(text.split(SUBJECTS_FIELDS_SEPARATOR)) if text or subjects else ()
    else:
        items = text
    if subjects is None or len(items) != len(subjects):
        listed = 0 if subjects is None else len(subjects)
        attributes.fail(
            f"{key} must have one item for each of {SpanAttribute.SUBJECTS} ({listed}), "
            f"not {len(items)}"
        )
    reads = []
    for i, item in enumerate(items):
        indexes = [int(index) for index in item.split()] if _INDEXES.match(item) else None
        if indexes is None or any(index >= len(fields_read) for index in indexes):
            attributes.fail(
                f"{key}[{i}] must be indexes into {SpanAttribute.FIELDS_READ}, whole numbers "
                f"below {len(fields_read)} separated by spaces"
            )
        reads.append(tuple(sorted({fields_read[index] for index in indexes})))
    return tuple(reads)


_SITE_KEYS: Final = (
    SpanAttribute.CODE_FILE_PATH,
    SpanAttribute.CODE_FUNCTION_NAME,
    SpanAttribute.CODE_LINE_NUMBER,
)


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


def _span_upstream(attributes: _Attributes) -> tuple[str, str] | None:
    """The scope in another service this one worked for, from ``purposeful.scope.upstream.*``."""
    keys = (SpanAttribute.UPSTREAM_SERVICE, SpanAttribute.UPSTREAM_SCOPE_ID)
    service, scope_id = (attributes.optional_string(key) for key in keys)
    if service is None and scope_id is None:
        return None
    problem = _upstream_problem(service, scope_id)
    if problem is not None:
        attributes.fail(f"{' and '.join(keys)}: {problem}")
    return service, scope_id  # type: ignore[return-value]


def _upstream_problem(service: object, scope_id: object) -> str | None:
    """Why (service, scope id) is not an upstream scope as `Upstream` takes one, or None."""
    try:
        Upstream(service, scope_id)  # type: ignore[arg-type]
    except ConfigurationError as error:
        return str(error)
    return None


def _overflow(subjects: tuple[str, ...] | None, count: int | None, overflow: int | None) -> int:
    """How many people a scope read but does not list; 0 when it does not say whom it read."""
    if overflow is not None:
        return overflow
    if subjects is not None and count is not None:
        return max(0, count - len(subjects))
    return 0


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
            kind = line.get(LedgerKey.TYPE)
            if kind == LineType.SCOPE:
                yield _ledger_scope(line, where)
            elif kind == LineType.HEADER:
                yield Ignored("ledger headers")
            elif kind == LineType.FORMAT:
                yield Ignored("ledger format changes")
            elif kind == LineType.CHECKPOINT:
                where.fail("is a checkpoint, not a ledger line; pass the ledger file itself")
            elif _RESOURCE_SPANS in line:
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
    for d, raw in enumerate(_list(line, LedgerKey.DECISIONS, where, "")):
        at = f"{LedgerKey.DECISIONS}[{d}]"
        decision = _object(raw, where, at)
        outcome = _outcome(decision.get(DecisionKey.OUTCOME))
        record = _text(decision, DecisionKey.RECORD, where, at)
        field = _text(decision, DecisionKey.FIELD, where, at)
        count = decision.get(DecisionKey.COUNT, 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            where.fail(f"{DecisionKey.COUNT} must be a whole number, 1 or more", at)
        record_types.add(record)
        if outcome is Outcome.ALLOWED or outcome is Outcome.WOULD_DENY:
            decided_read.add(f"{record}.{field}")
        if outcome is Outcome.DENIED or outcome is Outcome.WOULD_DENY:
            reasons = _strings(
                _list(decision, DecisionKey.REASONS, where, at), where, DecisionKey.REASONS, at
            )
            refusals.append(Refusal(_REFUSED[outcome], record, field, reasons, count))
        elif outcome is None:
            *others, last = _OUTCOMES
            where.fail(f"{DecisionKey.OUTCOME} must be {', '.join(others)} or {last}", at)
    subjects: tuple[str, ...] | None = None
    if LedgerKey.SUBJECTS in line:
        subjects = _strings(_list(line, LedgerKey.SUBJECTS, where, ""), where, LedgerKey.SUBJECTS)
    fields: tuple[str, ...] | None = None
    if LedgerKey.FIELDS in line:
        fields = _strings(_list(line, LedgerKey.FIELDS, where, ""), where, LedgerKey.FIELDS)
    fields_read = tuple(sorted(decided_read)) if fields is None else fields
    count = _optional_count(line, LedgerKey.SUBJECTS_COUNT, where)
    scope_id, part, final = _ledger_part(line, where)
    return ScopeRecord(
        opened=_from_iso(line.get(LedgerKey.OPENED), where, LedgerKey.OPENED),
        closed=_from_iso(line.get(LedgerKey.TIME), where, LedgerKey.TIME),
        purpose=_optional_text(line, LedgerKey.PURPOSE, where),
        actor_id=_optional_text(line, LedgerKey.ACTOR, where),
        actor_role=_optional_text(line, LedgerKey.ROLE, where),
        record_types=_record_types(record_types, fields_read),
        fields_read=fields_read,
        denied=sum(r.count for r in refusals if r.outcome == "denied"),
        would_deny=sum(r.count for r in refusals if r.outcome == "would-deny"),
        refusals=tuple(refusals),
        subjects=subjects,
        subjects_count=count,
        subjects_overflow=_overflow(
            subjects, count, _optional_count(line, LedgerKey.SUBJECTS_OVERFLOW, where)
        ),
        scope_id=scope_id,
        part=part,
        final=final,
        reads=_ledger_reads(line, subjects, fields, where),
        site=_ledger_site(line, where),
        upstream=_ledger_upstream(line, where),
        disclosures=_ledger_disclosures(line, where),
    )


def _ledger_disclosures(line: Mapping[str, object], where: _Where) -> tuple[Disclosure, ...]:
    """``disclosures``: the disclosures to other agencies made in the scope."""
    found = []
    for d, raw in enumerate(_list(line, LedgerKey.DISCLOSURES, where, "")):
        at = f"{LedgerKey.DISCLOSURES}[{d}]"
        entry = _object(raw, where, at)
        fields = _list(entry, DisclosureAttribute.FIELDS, where, at)
        statements = entry.get(DisclosureAttribute.STATEMENTS_COUNT)
        if isinstance(statements, bool) or not isinstance(statements, int) or statements < 0:
            where.fail(
                f"{DisclosureAttribute.STATEMENTS_COUNT} must be a whole number, 0 or more", at
            )
        found.append(
            Disclosure(
                _text(entry, DisclosureAttribute.ID, where, at),
                _text(entry, DisclosureAttribute.AGREEMENT, where, at),
                _text(entry, DisclosureAttribute.RECIPIENT, where, at),
                _text(entry, DisclosureAttribute.RECORD_TYPE, where, at),
                _strings(fields, where, DisclosureAttribute.FIELDS, at),
                statements,
                _optional_subject(entry, where, at),
            )
        )
    return tuple(found)


def _optional_subject(entry: Mapping[str, object], where: _Where, at: str) -> str | None:
    """A disclosure's subject pseudonym: absent from older lines, a string when present."""
    if DisclosureAttribute.SUBJECT not in entry:
        return None
    return _text(entry, DisclosureAttribute.SUBJECT, where, at)


def _outcome(value: object) -> Outcome | None:
    """The outcome a ledger decision's ``outcome`` names; None if it names none."""
    return _OUTCOMES.get(value) if isinstance(value, str) else None


def _ledger_part(line: Mapping[str, object], where: _Where) -> tuple[str | None, int, bool]:
    """The line's scope id, part number and whether it is the last; a whole scope if none.

    An empty id is read as none on a scope written whole (a report made by hand has one).
    """
    keys = (LedgerKey.SCOPE, LedgerKey.PART, LedgerKey.FINAL)
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
    scope_id, part, final = (line[key] for key in keys)
    if not isinstance(scope_id, str):
        where.fail(f"{LedgerKey.SCOPE} must be the scope's id, a string")
    if isinstance(part, bool) or not isinstance(part, int) or part < 0:
        where.fail(f"{LedgerKey.PART} must be a whole number, 0 or more")
    if not isinstance(final, bool):
        where.fail(f"{LedgerKey.FINAL} must be true or false")
    if not scope_id and (part or not final):
        where.fail(f"{LedgerKey.SCOPE} must be the scope's id, not empty, on a part")
    return scope_id or None, part, final


def _ledger_reads(
    line: Mapping[str, object],
    subjects: tuple[str, ...] | None,
    fields: tuple[str, ...] | None,
    where: _Where,
) -> tuple[tuple[str, ...], ...] | None:
    """``reads``: for each listed person, the indexes into ``fields`` of what was read."""
    key, listed, names = LedgerKey.READS, LedgerKey.SUBJECTS, LedgerKey.FIELDS
    if key not in line:
        return None
    raw = _list(line, key, where, "")
    if subjects is None or fields is None:
        where.fail(f"{key} needs {listed} and {names} beside it; {_LEDGER_HINT}")
    if len(raw) != len(subjects):
        where.fail(
            f"{key} must have one list for each of {listed} ({len(subjects)}), not {len(raw)}"
        )
    reads = []
    for i, item in enumerate(raw):
        indexes = _indexes(item, len(fields))
        if indexes is None:
            where.fail(
                f"must be an array of indexes into {names}, whole numbers from 0 to below "
                f"{len(fields)}",
                f"{key}[{i}]",
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
    raw = line.get(LedgerKey.SITE)
    if raw is None:
        return None
    at = LedgerKey.SITE
    site = _object(raw, where, at)
    number = site.get(SiteKey.LINE)
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        where.fail(f"{SiteKey.LINE} must be a whole number, 0 or more", at)
    return _text(site, SiteKey.FILE, where, at), _text(site, SiteKey.FUNCTION, where, at), number


def _ledger_upstream(line: Mapping[str, object], where: _Where) -> tuple[str, str] | None:
    """``upstream``: the scope in another service this one worked for."""
    at = LedgerKey.UPSTREAM
    if line.get(at) is None:
        return None
    found = _object(line[at], where, at)
    service, scope_id = found.get(UpstreamKey.SERVICE), found.get(UpstreamKey.SCOPE)
    problem = _upstream_problem(service, scope_id)
    if problem is not None:
        where.fail(problem, at)
    return service, scope_id  # type: ignore[return-value]


# --- JSON shapes ---------------------------------------------------------------------------


def _optional_text(container: Mapping[str, object], key: str, where: _Where) -> str | None:
    if key not in container:
        where.fail(f"{key} is missing; {_LEDGER_HINT}")
    value = container[key]
    if value is not None and not isinstance(value, str):
        where.fail(f"{key} must be a string or null")
    return value
