"""OTLP JSON trace files read by DuckDB itself: the shape's rows derived in SQL, checked in SQL.

`ReportDatabase.from_files` reads a trace file here first. DuckDB's JSON reader parses each
line (one ``ExportTraceServiceRequest``) into the columns the report needs; the
``purposeful.use`` and ``purposeful.unscoped_read`` spans are flattened into one row each
(`PARTS`, numbered in reading order), and every rule of the validating reader
(`purposeful.audit.report.read_otlp_json`) is a condition on that row: the type of each
attribute the report reads, every attribute's key a string, counts whole and not negative,
a part's id, number and finality together, ``purposeful.subjects.fields`` one item a person
with indexes into ``purposeful.fields_read``, a call site whole, an upstream scope as
`purposeful.Upstream` takes one, a refusal's reads 1 or more.

DuckDB's parser is more lenient than the standard library's in a few ways that never reach
those columns: it accepts trailing commas, ``nan`` and ``inf`` in any case, integers of any
length, JSON nested any depth, and a null where a list may be absent. A first pass over the
file's text looks for them, and for a line whose first key is not ``resourceSpans``: one
regular expression a line for the depth, nulls, nans, infs and long integers (`_STRICT`,
which knows what is inside a string), and cheap ones for the rest (`_SUSPICIOUS`). It is
conservative (a trailing comma inside a string, or a run of 64 digits in a fraction, sends
the file to the validating reader too), which costs speed, never a wrong answer. A line
longer than `_LARGEST_LINE` is left to the validating reader too.

When anything fails (DuckDB cannot parse a line, a line holds what the first pass looks for,
a span breaks a rule) `read_file` returns None, and the caller reads that file with the
validating reader, which raises the `ReportInputError` naming the file and line. The same
file therefore gives the same tables, or the same error, on either path.

A part a ledger read before holds is left out first, as from the validating reader
(`purposeful.audit.report.duckdb_left_out`): it is not numbered in `_ORDER`.

Which parts make one scope, which part is its first, and when a scope is complete depend on
the order parts were read in, across files; `purposeful.audit.report.shape.ShapeRows`
decides that in Python, from each part's id, number and finality only (`SqlFile.skeleton`;
a run of scopes written whole comes back as one row, `add_keys`), and the rows are then
inserted in SQL.

What this module must not do: put an input's value into SQL text (only the file's path,
quoted, and this library's own names are spelled into statements); quote the input in an
error (it raises none: the validating reader does).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from ..conventions import (
    DENIED_EVENT,
    DISCLOSURE_EVENT,
    SPAN_NAME,
    SUBJECTS_FIELDS_SEPARATOR,
    SUBJECTS_SEPARATOR,
    UNSCOPED_SPAN_NAME,
    WOULD_DENY_EVENT,
    DisclosureAttribute,
    EventAttribute,
    SpanAttribute,
)
from ._json import LAST_NANOSECOND
from .duckdb_left_out import leave_out
from .reading import ALSO_IN_A_LEDGER
from .records import LedgerParts
from .shape import Placed

__all__ = ["PARTS", "SqlFile", "add_keys", "drop", "insert_rows", "path_literal", "read_file"]

#: The temporary table of one file's purpose spans, one row each, ``seq`` in reading order.
PARTS: Final = "otlp_parts"
_SPANS: Final = "otlp_spans"
_ORDER: Final = "otlp_order"
_SKELETON: Final = "otlp_skeleton"
_COUNTING: Final = "otlp_counting"
# A span's place in the file as one number: line, then resource, scope and span in it, each
# below 2 ** 23 (a line of `_LARGEST_LINE` bytes cannot hold more elements)
_SCOPE: Final = 2**23
_RESOURCE: Final = 2**46
_LINE: Final = 2**69
_KEYS: Final = "otlp_keys"
_RUNS: Final = "otlp_runs"
_LEFT_OUT: Final = "otlp_left_out"
#: The largest line DuckDB reads (one export request); a longer one goes to the reader.
_LARGEST_LINE: Final = 16 * 1024 * 1024
_BOM: Final = b"\xef\xbb\xbf"

_VALUE: Final = (
    'STRUCT(stringValue JSON, intValue JSON, boolValue JSON, arrayValue STRUCT("values" '
    "STRUCT(stringValue JSON)[]))"
)
_ATTRIBUTES: Final = f"STRUCT(key JSON, value {_VALUE})[]"
_SPAN: Final = (
    f"STRUCT(name JSON, startTimeUnixNano JSON, endTimeUnixNano JSON, attributes {_ATTRIBUTES}, "
    f"events STRUCT(name JSON, attributes {_ATTRIBUTES})[])"
)
_COLUMNS: Final = f"{{'resourceSpans': 'STRUCT(scopeSpans STRUCT(spans {_SPAN}[])[])[]'}}"

# What DuckDB's parser takes and the standard library's refuses, or reads differently, that
# `_STRICT` does not rule out: a trailing comma; U+D7FF, which the shape stores escaped
# (`purposeful.audit.report.shape.stored_text`); a line that is not one request.
_SUSPICIOUS: Final = (
    "NOT regexp_matches(line, "
    "'^(?:[ \\t\\r]*$|[ \\t\\r]*\\{[ \\t\\r]*\"resourceSpans\"[ \\t\\r]*:)') OR "
    "regexp_matches(line, ',\\s*[\\]}]') OR contains(line, chr(55295))"
)


def _strict(depth: int) -> str:
    """A regular expression of JSON text nested *depth* deep at most, with, outside its
    strings, no letter n, N, i or I and no run of 64 digits.

    The standard library refuses JSON nested deeper than its recursion limit, and an
    integer of more than 4,300 digits, and reads ``null`` where DuckDB cannot tell it from
    an absent list; DuckDB reads any depth, any length, ``nan`` and ``inf`` spelled any way.
    Outside strings, JSON's only letters are those of ``true``, ``false``, ``null`` and an
    exponent's ``e``: a line this matches holds none of those cases (one pass over the
    text: each case a regular expression of its own took as long again).
    """
    other, string, digits = r'[^\[\]{}"nNiI0-9]', r'"(?:[^"\\]|\\.)*"', "[0-9]{1,63}"

    def level(inner: str | None) -> str:
        # each run of digits is followed by something else, so that two never make one
        item = f"(?:{other}|{string}" + (f"|[\\[{{]{inner}[\\]}}])" if inner else ")")
        return f"(?:(?:{digits})?{item})*(?:{digits})?"

    found = level(None)
    for _ in range(depth):
        found = level(found)
    return found


#: JSON nested 32 deep at most (a line of spans is about 12), without the letters or digit
#: runs `_strict` rules out: anything else goes to the validating reader.
_STRICT: Final = _strict(32)


def _literal(text: str | Path) -> str:
    """*text* as a SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def path_literal(path: str | Path) -> str:
    """*path* as a SQL string literal that DuckDB's readers (``read_json``,
    ``read_parquet``) read as that one file: they read ``*``, ``?`` and ``[`` as a pattern
    (``traces[1].jsonl`` would read ``traces1.jsonl``, ``audit-?`` every ``audit-`` folder
    of one more letter), so each is written as a class of itself (``[?]``)."""
    return _literal("".join(f"[{c}]" if c in "*?[" else c for c in str(path)))


def _key(name: str) -> str:
    """One of this library's names as the JSON text DuckDB keeps of it, a SQL literal."""
    return _literal(f'"{name}"')


def _text(json: str) -> str:
    """The string a JSON string's text *json* holds."""
    return (
        f"CASE WHEN contains({json}, '\\') THEN json_extract_string({json}, '$') "
        f"ELSE substr({json}, 2, length({json}) - 2) END"
    )


def _is_text(json: str) -> str:
    return f"coalesce(starts_with({json}, '\"'), false)"


def _whole(json: str) -> tuple[str, str]:
    """A JSON int64 as OTLP writes one (a decimal string of up to 19 digits, or a JSON
    number): (its value, a HUGEINT; whether it is one). A number written other than as
    DuckDB writes it back (a leading zero, say) is not one here, which sends the file to the
    validating reader."""
    digits = (
        f"CASE WHEN starts_with({json}, '\"') THEN substr({json}, 2, length({json}) - 2) "
        f"ELSE {json} END"
    )
    value = f"TRY_CAST({digits} AS HUGEINT)"
    valid = (
        f"(CAST({value} AS VARCHAR) = {digits} "
        f"AND (NOT starts_with({json}, '\"') OR length({json}) <= 21))"
    )
    return value, valid


class _Attributes:
    """SQL over one list of OTLP attributes (`purposeful.audit.report._otlp_attributes.Attributes`).

    *source* is the SQL of the list; the map of it is column *name*; each check ANDs into
    `ok`.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.checks: list[str] = []

    def map(self, source: str) -> str:
        return (
            f"map_from_entries(list_transform(coalesce({source}, []), "
            f"lambda p: {{'k': p.key, 'v': p.value}}))"
        )

    @staticmethod
    def keys_ok(source: str) -> str:
        return (
            f"coalesce(list_bool_and(list_transform(coalesce({source}, []), "
            f"lambda p: {_is_text('p.key')})), true)"
        )

    def has(self, key: str) -> str:
        return f"map_contains({self.name}, {_key(key)})"

    def _value(self, key: str, kind: str) -> str:
        return f"{self.name}[{_key(key)}].{kind}"

    def optional_string(self, key: str) -> str:
        value = self._value(key, "stringValue")
        self.checks.append(f"(NOT {self.has(key)} OR {_is_text(value)})")
        return f"CASE WHEN {self.has(key)} THEN {_text(value)} END"

    def string(self, key: str) -> str:
        self.checks.append(self.has(key))
        return self.optional_string(key)

    def _integer(self, key: str) -> tuple[str, str]:
        return _whole(self._value(key, "intValue"))

    def optional_integer(self, key: str) -> str:
        number, valid = self._integer(key)
        self.checks.append(
            f"(NOT {self.has(key)} OR coalesce({valid} "
            f"AND {number} BETWEEN 0 AND 9223372036854775807, false))"
        )
        return f"CASE WHEN {self.has(key)} THEN TRY_CAST({number} AS BIGINT) END"

    def integer(self, key: str) -> str:
        self.checks.append(self.has(key))
        return self.optional_integer(key)

    def optional_boolean(self, key: str) -> str:
        value = self._value(key, "boolValue")
        self.checks.append(
            f"(NOT {self.has(key)} OR coalesce({value} IN ('true', 'false'), false))"
        )
        return f"CASE WHEN {self.has(key)} THEN {value} = 'true' END"

    def optional_strings(self, key: str) -> str:
        array = self._value(key, "arrayValue")
        items = f'coalesce({array}."values", [])'
        self.checks.append(
            f"(NOT {self.has(key)} OR ({array} IS NOT NULL AND coalesce(list_bool_and("
            f"list_transform({items}, lambda i: {_is_text('i.stringValue')})), true)))"
        )
        return (
            f"CASE WHEN {self.has(key)} THEN list_transform({items}, "
            f"lambda i: {_text('i.stringValue')}) END"
        )

    def strings(self, key: str) -> str:
        self.checks.append(self.has(key))
        return self.optional_strings(key)

    def optional_listed(
        self, key: str, separator: str, *, none_when_empty: str = "true", pseudonyms: bool = False
    ) -> str:
        """An array of strings (edition 1), or one string of them separated by *separator*
        (edition 2), as `purposeful.audit.report.reading` reads either: an empty string is
        no item where *none_when_empty* holds, else one empty item; with *pseudonyms*, no
        item is empty and the string does not start with ``[``."""
        array = self._value(key, "arrayValue")
        text_json = self._value(key, "stringValue")
        items = f'coalesce({array}."values", [])'
        text = _text(text_json)
        split = f"string_split({text}, {_literal(separator)})"
        text_ok = _is_text(text_json)
        if pseudonyms:
            text_ok = (
                f"({text_ok} AND ({text} = '' OR (NOT starts_with({text}, '[') "
                f"AND NOT list_contains({split}, ''))))"
            )
        self.checks.append(
            f"(NOT {self.has(key)} OR ({array} IS NOT NULL AND coalesce(list_bool_and("
            f"list_transform({items}, lambda i: {_is_text('i.stringValue')})), true)) "
            f"OR ({array} IS NULL AND {text_ok}))"
        )
        return (
            f"CASE WHEN NOT {self.has(key)} THEN NULL "
            f"WHEN {array} IS NOT NULL THEN list_transform({items}, "
            f"lambda i: {_text('i.stringValue')}) "
            f"WHEN {text} = '' AND {none_when_empty} THEN CAST([] AS VARCHAR[]) "
            f"ELSE {split} END"
        )

    def ok(self) -> str:
        return "(" + " AND ".join(self.checks) + ")" if self.checks else "true"


class _SpanAttributes(_Attributes):
    """SQL over a span's attributes, each key the report reads found once, as columns:
    ``h<n>`` whether it is there, ``v<n>_<kind>`` the part of its value the report reads
    (only those: extracting a whole value would copy its array too); `columns` spells
    them."""

    def __init__(self) -> None:
        super().__init__("")
        self.keys: dict[str, int] = {}
        self.kinds: dict[int, list[str]] = {}
        self.typed: dict[str, str] = {}

    def _number(self, key: str) -> int:
        return self.keys.setdefault(key, len(self.keys))

    def has(self, key: str) -> str:
        return f"h{self._number(key)}"

    def _read(self, n: int, kind: str) -> str:
        kinds = self.kinds.setdefault(n, [])
        if kind not in kinds:
            kinds.append(kind)
        return f"v{n}_{kind}"

    def _value(self, key: str, kind: str) -> str:
        column = self._read(self._number(key), kind)
        self.typed[column] = column
        return column

    def _integer(self, key: str) -> tuple[str, str]:
        n = self._number(key)
        value, valid = _whole(self._read(n, "intValue"))
        self.typed[f"n{n}"] = value
        self.typed[f"w{n}"] = valid
        return f"n{n}", f"w{n}"

    def positions(self) -> str:
        """Where the last of each key is (a later one wins, as in a dict), from the end."""
        return ", ".join(
            f"list_position(keys, {_key(key)}) AS i{n}" for key, n in self.keys.items()
        )

    def columns(self) -> str:
        return ", ".join(
            f"i{n} IS NOT NULL AS h{n}"
            + "".join(
                f", span.attributes[len(keys) + 1 - i{n}].value.{kind} AS v{n}_{kind}"
                for kind in self.kinds.get(n, ())
            )
            for n in self.keys.values()
        )

    def typed_columns(self) -> str:
        return ", ".join(f"{sql} AS {name}" for name, sql in self.typed.items())


def _refusals() -> str:
    """The span's refusal events, each a struct with its own ``ok``."""
    e = _Attributes("x.m")
    event = EventAttribute
    record_type = e.string(event.RECORD_TYPE)
    field = e.string(event.FIELD)
    reasons = e.strings(event.REASON_CODES)
    reads = e.optional_integer(event.READS_COUNT)
    names = f"({_key(DENIED_EVENT)}, {_key(WOULD_DENY_EVENT)})"
    return f"""list_transform(
      list_transform(list_filter(coalesce(events, []), lambda e: e.name IN {names}),
                     lambda e: {{'name': e.name, 'keys_ok': {e.keys_ok("e.attributes")},
                                 'm': {e.map("e.attributes")}}}),
      lambda x: {{'outcome': CASE WHEN x.name = {_key(DENIED_EVENT)} THEN 'denied'
                                  ELSE 'would-deny' END,
                  'record_type': {record_type}, 'field': {field},
                  'reasons': {reasons}, 'reads': coalesce({reads}, 1),
                  'ok': x.keys_ok AND {e.ok()} AND coalesce({reads}, 1) <> 0}})"""


def _disclosures() -> str:
    """The span's disclosure events, each a struct with its own ``ok``."""
    e = _Attributes("x.m")
    d = DisclosureAttribute
    values = {
        "id": e.string(d.ID),
        "agreement": e.string(d.AGREEMENT),
        "recipient": e.string(d.RECIPIENT),
        "record_type": e.string(d.RECORD_TYPE),
        "fields": e.strings(d.FIELDS),
        "statements": e.integer(d.STATEMENTS_COUNT),
        "subject": e.optional_string(d.SUBJECT),
    }
    spelled = ", ".join(f"'{name}': {sql}" for name, sql in values.items())
    return f"""list_transform(
      list_transform(list_filter(coalesce(events, []),
                                 lambda e: e.name = {_key(DISCLOSURE_EVENT)}),
                     lambda e: {{'keys_ok': {e.keys_ok("e.attributes")},
                                 'm': {e.map("e.attributes")}}}),
      lambda x: {{{spelled}, 'ok': x.keys_ok AND {e.ok()}}})"""


def _spans_sql(path: Path) -> str:
    """The statement that reads *path* into `_SPANS`: one row a span, ``ord`` its place.

    (The first pass has made sure that each line has ``resourceSpans`` and no null.)
    """
    s = SpanAttribute
    a = _SpanAttributes()
    purpose = a.string(s.PURPOSE)
    purpose_ok = a.checks.pop()  # read on scoped spans only
    purpose_present = a.checks.pop()
    subjects = a.optional_listed(s.SUBJECTS, SUBJECTS_SEPARATOR, pseudonyms=True)
    values = {
        "actor_id": a.optional_string(s.ACTOR_ID),
        "actor_role": a.optional_string(s.ACTOR_ROLE),
        "decided": a.strings(s.RECORD_TYPES),
        "fields": a.strings(s.FIELDS_READ),
        "subjects": subjects,
        "subjects_count": a.optional_integer(s.SUBJECTS_COUNT),
        "overflow_given": a.optional_integer(s.SUBJECTS_OVERFLOW),
        "scope_id_given": a.optional_string(s.SCOPE_ID),
        "part_given": a.optional_integer(s.SCOPE_PART),
        "final_given": a.optional_boolean(s.SCOPE_FINAL),
        "items": a.optional_listed(
            s.SUBJECTS_FIELDS,
            SUBJECTS_FIELDS_SEPARATOR,
            none_when_empty=f"coalesce(len({subjects}), 0) = 0",
        ),
        "denied": a.integer(s.DENIED_COUNT),
        "would_deny": a.integer(s.WOULD_DENY_COUNT),
        "site_file": a.optional_string(s.CODE_FILE_PATH),
        "site_function": a.optional_string(s.CODE_FUNCTION_NAME),
        "site_line": a.optional_integer(s.CODE_LINE_NUMBER),
        "up_service": a.optional_string(s.UPSTREAM_SERVICE),
        "up_scope": a.optional_string(s.UPSTREAM_SCOPE_ID),
    }
    ours = f"({_key(SPAN_NAME)}, {_key(UNSCOPED_SPAN_NAME)})"
    other_events = f"({_key(DENIED_EVENT)}, {_key(WOULD_DENY_EVENT)}, {_key(DISCLOSURE_EVENT)})"
    spelled = ",\n           ".join(f"{sql} AS {name}" for name, sql in values.items())
    start, end = (_whole(column) for column in ("start_text", "end_text"))
    # the typed columns are computed once: DuckDB would otherwise inline them in each use
    return f"""
CREATE OR REPLACE TEMPORARY TABLE {_SPANS} AS
WITH typed AS MATERIALIZED ({_typed_sql(path, a, ours)})
SELECT CAST(line AS HUGEINT) * {_LINE} + CAST(r AS HUGEINT) * {_RESOURCE} + s * {_SCOPE} + n
         AS ord,
       missing,
       name IS NULL OR starts_with(name, '"') AS name_ok,
       CASE WHEN ours THEN 1 ELSE 0 END AS kind,
       {start[0]} AS opened_ns, {start[1]} AS opened_ok,
       {end[0]} AS closed_ns, {end[1]} AS closed_ok,
       NOT regexp_matches(chr(1) || array_to_string(keys, chr(1)), '\x01[^"]')
         AND len(list_filter(keys, lambda k: k IS NULL)) = 0 AS keys_ok,
       {a.ok()} AS attributes_ok,
       CASE WHEN name = {_key(SPAN_NAME)} THEN {purpose} END AS purpose,
       name <> {_key(SPAN_NAME)} OR ({purpose_present} AND {purpose_ok}) AS purpose_ok,
       len(list_filter(coalesce(events, []),
                       lambda e: coalesce(e.name NOT IN {other_events}, true)))
         AS other_events,
       CASE WHEN ours THEN {_refusals()} END AS refusals,
       CASE WHEN ours THEN {_disclosures()} END AS disclosures,
       {spelled}
FROM typed
"""


def _typed_sql(path: Path, a: _SpanAttributes, ours: str) -> str:
    return f"""
  SELECT line, r, s, n, span IS NULL AS missing, span.name AS name,
         span.startTimeUnixNano AS start_text, span.endTimeUnixNano AS end_text,
         span.events AS events, ours, keys, {", ".join(f"h{n}" for n in a.keys.values())},
         {a.typed_columns()}
  FROM (
  SELECT line, r, s, n, span, ours, keys, {a.columns()}
  FROM (
    SELECT line, r, s, n, span, ours, keys, {a.positions()}
    FROM (
      SELECT line, r, s, n, span, coalesce(span.name IN {ours}, false) AS ours,
             CASE WHEN span.name IN {ours} THEN coalesce(list_reverse(
               list_transform(span.attributes, lambda p: p.key)), []) END AS keys
      FROM (
        SELECT line, r, s, UNNEST(range(len(spans))) AS n, UNNEST(spans) AS span FROM (
          SELECT line, r, s, scope.spans AS spans
          FROM (
            SELECT line, r, UNNEST(range(len(scopes))) AS s, UNNEST(scopes) AS scope FROM (
              SELECT line, r, resource.scopeSpans AS scopes FROM (
                SELECT line, UNNEST(range(len(resources))) AS r,
                       UNNEST(resources) AS resource FROM (
                  SELECT ordinality AS line, resourceSpans AS resources
                  FROM read_json({path_literal(path)}, format = 'newline_delimited',
                                 records = 'true', columns = {_COLUMNS},
                                 maximum_object_size = {_LARGEST_LINE})
                  WITH ORDINALITY)))))))))
"""


#: The checks of one purpose span, over the columns of `_SPANS`.
_SPAN_OK: Final = f"""
  keys_ok AND attributes_ok AND purpose_ok
  AND opened_ok AND opened_ns BETWEEN 0 AND {LAST_NANOSECOND - 1}
  AND closed_ok AND closed_ns BETWEEN 0 AND {LAST_NANOSECOND - 1}
  AND ((scope_id_given IS NULL AND part_given IS NULL AND final_given IS NULL)
       OR (scope_id_given IS NOT NULL AND part_given IS NOT NULL AND final_given IS NOT NULL
           AND (scope_id_given <> '' OR (part_given = 0 AND final_given))))
  AND (items IS NULL OR (subjects IS NOT NULL AND len(items) = len(subjects)
       AND coalesce(list_bool_and(list_transform(items, lambda i:
             regexp_full_match(i, ' *(?:[0-9]{{1,19}}(?: +[0-9]{{1,19}})*)? *')
             AND coalesce(list_bool_and(list_transform(
                   list_filter(string_split(i, ' '), lambda x: x <> ''),
                   lambda x: coalesce(TRY_CAST(x AS HUGEINT) < len(fields), false))),
               true))), true)))
  AND ((site_file IS NULL AND site_function IS NULL AND site_line IS NULL)
       OR (site_file IS NOT NULL AND site_function IS NOT NULL AND site_line IS NOT NULL))
  AND ((up_service IS NULL AND up_scope IS NULL)
       OR (coalesce(regexp_full_match(up_service, '[A-Za-z0-9._-]{{1,100}}'), false)
           AND coalesce(regexp_full_match(up_scope, '[0-9a-f]{{8,64}}'), false)))
  AND coalesce(list_bool_and(list_transform(refusals, lambda r: r.ok)), true)
  AND coalesce(list_bool_and(list_transform(disclosures, lambda d: d.ok)), true)
"""

_PARTS_SQL: Final = f"""
CREATE OR REPLACE TEMPORARY VIEW {PARTS} AS
SELECT o.seq,
       make_timestamp(CAST(opened_ns // 1000 AS BIGINT)) AS opened,
       make_timestamp(CAST(closed_ns // 1000 AS BIGINT)) AS closed,
       purpose, actor_id, actor_role, decided, fields, denied, would_deny, subjects,
       subjects_count,
       CASE WHEN overflow_given IS NOT NULL THEN overflow_given
            WHEN subjects IS NOT NULL AND subjects_count IS NOT NULL
              THEN greatest(0, subjects_count - len(subjects))
            ELSE 0 END AS overflow,
       CASE WHEN scope_id_given = '' THEN NULL ELSE scope_id_given END AS scope_id,
       coalesce(part_given, 0) AS part, coalesce(final_given, true) AS final,
       CASE WHEN items IS NOT NULL THEN list_transform(items, lambda i: list_transform(
              list_filter(string_split(i, ' '), lambda x: x <> ''),
              lambda x: CAST(x AS BIGINT))) END AS reads,
       site_file, site_function, site_line,
       up_service, up_scope, refusals, disclosures
FROM {_SPANS} AS x JOIN {_ORDER} AS o ON o.ord = x.ord
"""


@attrs.frozen
class SqlFile:
    """One trace file read in SQL: its purpose spans are in `PARTS`.

    Attributes:
        parts: how many purpose spans (rows of `PARTS`).
        ignored: what the file held that is not a purpose scope, in the order it was first
            met, with how many, as `purposeful.audit.report.records.Ignored` counts it.
    """

    parts: int
    ignored: tuple[tuple[str, int], ...]

    @staticmethod
    def skeleton(connection: Any, start: int, size: int) -> list[tuple[Any, ...]]:
        """The scope id, part number and finality of *size* parts from the *start*-th, in
        reading order."""
        rows: list[tuple[Any, ...]] = connection.execute(
            f"""SELECT scope_id, part, final FROM {_SKELETON}
                WHERE seq >= ? AND seq < ? ORDER BY seq""",
            [start, start + size],
        ).fetchall()
        return rows

    @staticmethod
    def record_types(connection: Any, seqs: Sequence[int]) -> list[list[str]]:
        """For the parts *seqs* (ascending), the record types of their fields read, each
        once, in the order first read."""
        rows = connection.execute(
            f"""SELECT list_filter(t, lambda x, i: list_position(t, x) = i) FROM (
                  SELECT p.seq, list_transform(p.fields, lambda n: {_record_type("n")}) AS t
                  FROM {PARTS} AS p
                  JOIN (SELECT UNNEST(CAST(? AS BIGINT[])) AS seq) AS w ON w.seq = p.seq)
                ORDER BY seq""",
            [list(seqs)],
        ).fetchall()
        return [list(row[0]) for row in rows]


def read_file(
    connection: Any, path: Path, ledger_parts: LedgerParts | None = None
) -> SqlFile | None:
    """Read the trace file *path* into `PARTS`; None if it must go to the validating reader.

    Args:
        ledger_parts: the parts of the ledgers read before: a part of the file among them
            is left out, and counted in `SqlFile.ignored` as ``"parts also in a ledger"``.

    Raises:
        duckdb.Error: DuckDB could not read it (the caller falls back the same way).
    """
    try:
        with path.open("rb") as file:
            if file.read(len(_BOM)) == _BOM:
                return None
    except OSError:  # the validating reader says what is wrong with the path
        return None
    suspicious = connection.execute(
        f"""SELECT count(*) FROM (
              SELECT json AS line FROM read_json_objects({path_literal(path)},
                format = 'newline_delimited', maximum_object_size = {_LARGEST_LINE}))
            WHERE {_SUSPICIOUS} OR NOT regexp_full_match(line, ?)""",
        [_STRICT],
    ).fetchone()
    if suspicious is None or suspicious[0]:
        return None
    connection.execute(_spans_sql(path))
    (bad,) = connection.execute(
        f"""SELECT count(*) FROM {_SPANS}
            WHERE missing OR NOT coalesce(name_ok, false)
               OR (kind = 1 AND NOT coalesce({_SPAN_OK}, false))"""
    ).fetchone()
    if bad:
        return None
    first_other, others, first_events, events = connection.execute(
        f"""SELECT min(ord) FILTER (WHERE kind = 0), count(*) FILTER (WHERE kind = 0),
                   min(ord) FILTER (WHERE kind = 1 AND other_events > 0),
                   coalesce(sum(other_events) FILTER (WHERE kind = 1), 0)
            FROM {_SPANS}"""
    ).fetchone()
    first_left_out, left_out = leave_out(connection, _SPANS, _LEFT_OUT, ledger_parts)
    # in the order first met; on one span, its other events before the span itself, as the
    # validating reader yields them (a stable sort keeps this list's order on a tie)
    found = [
        (at, what, count)
        for at, what, count in (
            (first_other, "other spans", others),
            (first_events, "other events on purposeful spans", events),
            (first_left_out, ALSO_IN_A_LEDGER, left_out),
        )
        if count
    ]
    connection.execute(
        f"""CREATE OR REPLACE TEMPORARY TABLE {_ORDER} AS
            SELECT ord, row_number() OVER (ORDER BY ord) - 1 AS seq FROM {_SPANS}
            WHERE kind = 1 AND ord NOT IN (SELECT ord FROM {_LEFT_OUT})"""
    )
    connection.execute(_PARTS_SQL)
    connection.execute(
        f"""CREATE OR REPLACE TEMPORARY TABLE {_SKELETON} AS
            SELECT seq, scope_id, part, final FROM {PARTS}"""
    )
    connection.execute(
        f"CREATE OR REPLACE TEMPORARY TABLE {_KEYS} "
        "(seq BIGINT, scope_key BIGINT, first_seen BOOLEAN)"
    )
    (parts,) = connection.execute(f"SELECT count(*) FROM {_ORDER}").fetchone()
    return SqlFile(
        parts, tuple((what, int(count)) for _, what, count in sorted(found, key=lambda x: x[0]))
    )


def _record_type(name: str) -> str:
    """The record type of a ``Type.field`` name, as `str.rpartition` splits it: what comes
    before the last dot, or nothing (one regular expression: three splits cost more)."""
    return f"regexp_extract({name}, '(?s)^(.*)\\.', 1)"


def _field(name: str) -> str:
    return f"string_split({name}, '.')[-1]"


def _encode_reasons(codes: str) -> str:
    """`purposeful.audit.report.shape.encode_reasons`, in DuckDB."""
    escaped = (
        "replace(replace(replace(c, chr(2), chr(2) || chr(4)), chr(0), chr(2) || chr(2)), "
        "chr(1), chr(2) || chr(3))"
    )
    return f"array_to_string(list_transform({codes}, lambda c: {escaped} || chr(1)), '')"


def add_keys(connection: Any, start: int, placed: Placed) -> None:
    """Note, for the parts from the *start*-th on, their scope's key and whether each is the
    first part of its scope seen (`purposeful.audit.report.shape.ShapeRows.place`), and add
    the `scopes` rows of its runs of whole scopes (each complete, settled in turn)."""
    if placed.runs:
        runs = list(zip(*placed.runs, strict=True))
        connection.execute(
            f"""CREATE OR REPLACE TEMPORARY TABLE {_RUNS} AS
               SELECT UNNEST(CAST($1 AS BIGINT[])) AS first, UNNEST(CAST($2 AS BIGINT[])) AS n,
                      UNNEST(CAST($3 AS BIGINT[])) AS scope_key,
                      UNNEST(CAST($4 AS BIGINT[])) AS settled""",
            [list(column) for column in runs],
        )
        each = f"SELECT first, scope_key, settled, UNNEST(range(n)) AS j FROM {_RUNS}"
        connection.execute(
            f"INSERT INTO {_KEYS} SELECT {start} + first + j, scope_key + j, true FROM ({each})"
        )
        connection.execute(
            f"INSERT INTO scopes SELECT scope_key + j, true, settled + j FROM ({each})"
        )
        connection.execute(f"DROP TABLE {_RUNS}")
    if placed.parts:
        seqs, keys, first_seen = zip(*placed.parts, strict=True)
        connection.execute(
            f"""INSERT INTO {_KEYS}
                SELECT $1 + UNNEST(CAST($2 AS BIGINT[])), UNNEST(CAST($3 AS BIGINT[])),
                       UNNEST(CAST($4 AS BOOLEAN[]))""",
            [start, list(seqs), list(keys), list(first_seen)],
        )


def insert_rows(
    connection: Any,
    *,
    source_no: int,
    kind: str,
    first_part_key: int,
    counting: Sequence[tuple[int, list[str]]],
) -> None:
    """Insert the shape's rows of the parts in `PARTS` (see `purposeful.audit.report.shape`),
    once `add_keys` has noted every part's scope.

    Args:
        source_no, kind: the file's source number and kind of input.
        first_part_key: the part key of the first part; the others follow in reading order.
        counting: for the parts of scopes written in parts, (the part's number in reading
            order, the record types it is the first part of its scope to read); a part of
            a scope written whole counts each record type it read.
    """
    connection.execute(
        f"""CREATE OR REPLACE TEMPORARY TABLE {_COUNTING} AS
            SELECT UNNEST(CAST($1 AS BIGINT[])) AS seq,
                   UNNEST(CAST($2 AS VARCHAR[][])) AS counting""",
        [[i for i, _ in counting], [found for _, found in counting]],
    )
    key = f"{first_part_key} + p.seq"
    pseudonym = "regexp_full_match(x, '[0-9a-f]{8}:[0-9a-f]{32}')"
    statements = [
        f"""INSERT INTO scope_parts
            SELECT {key}, {source_no}, {_literal(kind)}, k.scope_key, k.first_seen, p.scope_id,
                   p.part, p.final, p.opened, p.closed, p.purpose, p.actor_id, p.actor_role,
                   p.denied, p.would_deny, p.subjects IS NOT NULL,
                   len(coalesce(p.subjects, [])),
                   NOT coalesce(list_bool_and(list_transform(p.subjects, lambda x: {pseudonym})),
                                true),
                   p.subjects_count, p.overflow,
                   p.subjects IS NOT NULL OR p.subjects_count IS NOT NULL, p.reads IS NOT NULL,
                   p.site_file, p.site_function,
                   p.site_line, p.up_service, p.up_scope
            FROM {PARTS} AS p JOIN {_KEYS} AS k ON k.seq = p.seq""",
        f"""INSERT INTO part_record_types
            SELECT DISTINCT {key}, t FROM (
              SELECT seq, UNNEST(list_concat(decided, list_transform(fields,
                       lambda n: {_record_type("n")}))) AS t
              FROM {PARTS}) AS p""",
        f"""INSERT INTO part_fields
            SELECT {first_part_key} + f.seq, f.name, {_record_type("f.name")}, {_field("f.name")},
                   f.first AND (k.counting IS NULL
                                OR list_contains(k.counting, {_record_type("f.name")}))
            FROM (SELECT seq, UNNEST(names) AS name, UNNEST(firsts) AS first FROM (
                    SELECT seq, names, list_transform(names, lambda n, i:
                             list_position(types, {_record_type("n")}) = i) AS firsts
                    FROM (SELECT seq, names, list_transform(names, lambda n: {_record_type("n")})
                                   AS types
                          FROM (SELECT seq, list_filter(fields, lambda n, i:
                                         list_position(fields, n) = i) AS names
                                FROM {PARTS})))) AS f
            LEFT JOIN {_COUNTING} AS k ON k.seq = f.seq""",
        f"""INSERT INTO part_subjects
            SELECT {key}, p.position, p.x, {pseudonym},
                   CASE WHEN {pseudonym} THEN split_part(p.x, ':', 1) END
            FROM (SELECT seq, UNNEST(range(len(subjects))) AS position, UNNEST(subjects) AS x
                  FROM {PARTS} WHERE subjects IS NOT NULL) AS p""",
        f"""INSERT INTO part_reads
            SELECT DISTINCT {key}, p.x, p.fields[p.i + 1] FROM (
              SELECT seq, fields, x, UNNEST(indexes) AS i FROM (
                SELECT seq, fields, UNNEST(subjects) AS x, UNNEST(reads) AS indexes
                FROM {PARTS} WHERE reads IS NOT NULL)) AS p""",
        f"""INSERT INTO part_refusals
            SELECT {key}, p.position, p.r.outcome, p.r.record_type, p.r.field,
                   {_encode_reasons("p.r.reasons")}, p.r.reads
            FROM (SELECT seq, UNNEST(range(len(refusals))) AS position, UNNEST(refusals) AS r
                  FROM {PARTS}) AS p""",
        f"""INSERT INTO part_disclosures
            SELECT {key}, p.position, p.d.id, p.d.agreement, p.d.recipient, p.d.record_type,
                   p.d.statements, p.d.subject,
                   CASE WHEN regexp_full_match(p.d.subject, '[0-9a-f]{{8}}:[0-9a-f]{{32}}')
                        THEN split_part(p.d.subject, ':', 1) END
            FROM (SELECT seq, UNNEST(range(len(disclosures))) AS position,
                         UNNEST(disclosures) AS d
                  FROM {PARTS}) AS p""",
        f"""INSERT INTO disclosure_fields
            SELECT {key}, p.position, UNNEST(p.d.fields)
            FROM (SELECT seq, UNNEST(range(len(disclosures))) AS position,
                         UNNEST(disclosures) AS d
                  FROM {PARTS}) AS p""",
    ]
    for statement in statements:
        connection.execute(statement)
    drop(connection)


def drop(connection: Any) -> None:
    """Drop what `read_file` and `insert_rows` made."""
    connection.execute(f"DROP VIEW IF EXISTS {PARTS}")
    for table in (_COUNTING, _RUNS, _KEYS, _SKELETON, _ORDER, _LEFT_OUT, _SPANS):
        connection.execute(f"DROP TABLE IF EXISTS {table}")
