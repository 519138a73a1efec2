"""The report on ClickHouse: the figure queries run where an agency's traces already live.

The OpenTelemetry Collector's ClickHouse exporter writes every span into one table,
``otel_traces`` (``SpanName``, ``Timestamp``, ``Duration``, ``SpanAttributes``, a
``Map(LowCardinality(String), String)`` in which an array attribute is its JSON text, and
the ``Events`` nested columns). `SHAPE_CTES` turns the ``purposeful.use`` and
``purposeful.unscoped_read`` rows of it into the tables of the relational shape
(`purposeful.audit.report.shape`), as common table expressions, and `report_on_clickhouse`
runs the figure queries of `purposeful.audit.report.sql` after them, unchanged: the server
does every aggregation, and only the figures' rows come back.

`report_on_clickhouse` takes a `ClickHouseRun`, "run this SQL with these parameters and
give me its rows": `connect` makes one from ``clickhouse-connect`` (``pip install
'purposeful[clickhouse]'``), and the tests make one from chDB, ClickHouse's engine in
process, so that the dialect and the exporter's schema are tested for real.

How the store differs from files, decided here once:

- a part is known by ``TraceId || SpanId`` (an OTLP span's identity), and parts join into
  a scope by ``purposeful.scope.id`` alone; the first part of a scope is the one with the
  lowest part number (a file's order does not exist in a table), which is where files put
  it too when parts come in order;
- a scope is complete when its parts 0 to the final one are all there, whenever they came;
- the spans are read as the exporter wrote them, not validated one by one: a value that
  does not parse as its attribute's type counts as absent (or 0). An index of
  ``purposeful.subjects.fields`` is digits, as the validating reader takes it: ``-2`` would
  otherwise be ClickHouse's index from the end of ``purposeful.fields_read``.

The differences of dialect, in one place (`_DIALECT`, appended to every query): ClickHouse
fills an unmatched ``LEFT JOIN`` row with default values unless ``join_use_nulls`` is set,
and gives ``MIN`` over no rows a default value unless ``aggregate_functions_null_for_empty``
is; the figure queries expect NULL for both, as SQL has them. Counts in the views are
``UInt64``, as ``COUNT`` is, since ClickHouse has no common type for a signed and an
unsigned count in ``GREATEST``. A scope's ``settle_order`` is ``(closed, scope_key)``: a
table has no reading order, so scopes opened in the same microsecond are listed in the order
they closed.

What this module must not do: put an input's value into SQL text (the source's label and
the person's pseudonyms are query parameters; the table's name is checked to be an
identifier first); import ``clickhouse_connect`` before `connect` is called.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeAlias
from urllib.parse import unquote, urlsplit

from ...errors import ConfigurationError, MissingExtra, ReportInputError
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
from ..history import SubjectQuery
from .building import Report
from .reading import OTLP_JSON_INPUT
from .shape import from_stored_text
from .sql import report_from

__all__ = [
    "PASSWORD_VARIABLE",
    "SHAPE_CTES",
    "ClickHouseRun",
    "connect",
    "report_on_clickhouse",
    "shape_ctes",
]

ClickHouseRun: TypeAlias = Callable[[str, Mapping[str, str]], Sequence[Sequence[Any]]]
"""Runs one query on ClickHouse, with its ``{name:String}`` parameters, and returns its rows."""

#: The environment variable `connect` reads the password from (never the URL or a flag).
PASSWORD_VARIABLE: Final = "PURPOSEFUL_CLICKHOUSE_PASSWORD"

#: The one difference of dialect, appended to every figure query (see the module's note).
_DIALECT: Final = "\nSETTINGS join_use_nulls = 1, aggregate_functions_null_for_empty = 1"

_TABLE_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\Z")


def _q(text: str) -> str:
    """One of this library's own names (a span, attribute or event name) as a literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _attr(key: str) -> str:
    return f"a[{_q(key)}]"


def _has(key: str) -> str:
    return f"mapContains(a, {_q(key)})"


def _optional(key: str) -> str:
    return f"if({_has(key)}, {_attr(key)}, NULL)"


def _optional_int(key: str) -> str:
    return f"if({_has(key)}, toUInt64OrNull({_attr(key)}), NULL)"


def _strings(value: str) -> str:
    return f"JSONExtract({value}, 'Array(String)')"


def _listed(value: str, separator: str, none_when_empty: str) -> str:
    """A list attribute of either edition: edition 1's array is its JSON text in the map
    (which starts with ``[``; edition 2's never does), edition 2's one string is split at
    *separator*, an empty one being no item where *none_when_empty* holds."""
    return (
        f"multiIf(startsWith({value}, '['), {_strings(value)}, "
        f"{value} = '' AND {none_when_empty}, CAST([] AS Array(String)), "
        f"splitByString({_q(separator)}, {value}))"
    )


def _is_pseudonym(text: str) -> str:
    """Whether *text* has the form of a pseudonym (`purposeful.audit.history`'s test)."""
    return f"match({text}, '^[0-9a-f]{{8}}:[0-9a-f]{{32}}$')"


def _split_name(name: str) -> tuple[str, str]:
    """(record type, field) of a ``Type.field`` name, as `str.rpartition` splits it."""
    return (
        f"if(position({name}, '.') > 0, substring({name}, 1, length({name}) - "
        f"position(reverse({name}), '.')), '')",
        f"if(position({name}, '.') > 0, substring({name}, length({name}) - "
        f"position(reverse({name}), '.') + 2), {name})",
    )


def _encode_reasons(codes: str) -> str:
    """`purposeful.audit.report.shape.encode_reasons`, in ClickHouse."""
    escaped = "replaceAll(replaceAll(replaceAll(c, '\\x02', '\\x02\\x04'), '\\x00', '\\x02\\x02'), '\\x01', '\\x02\\x03')"  # noqa: E501
    return f"arrayStringConcat(arrayMap(c -> concat({escaped}, '\\x01'), {codes}))"


def shape_ctes(table: str = "otel_traces") -> str:
    """The ``WITH`` clause that supplies the shape's tables from the exporter's *table*.

    Raises:
        ConfigurationError: *table* is not a name (``table`` or ``database.table``).
    """
    if not _TABLE_NAME.match(table):
        raise ConfigurationError(
            f"the trace table must be a name such as otel_traces or otel.otel_traces, not "
            f"{len(table)} characters of something else"
        )
    s = SpanAttribute
    subjects = "subjects_listed_as"
    items = "subjects_fields_as"
    count = _optional_int(s.SUBJECTS_COUNT)
    site = (s.CODE_FILE_PATH, s.CODE_FUNCTION_NAME, s.CODE_LINE_NUMBER)
    has_site = " AND ".join(_has(key) for key in site)
    pseudonym = _is_pseudonym("x")
    record_type, field = _split_name("name")
    event = EventAttribute
    disclosure = DisclosureAttribute
    whose = f"e[{_q(disclosure.SUBJECT)}]"  # the person whose record a disclosure was
    has_whose = f"mapContains(e, {_q(disclosure.SUBJECT)})"
    refusal_names = f"({_q(DENIED_EVENT)}, {_q(WOULD_DENY_EVENT)})"
    whole = (
        f"NOT {_has(s.SCOPE_ID)} OR {_attr(s.SCOPE_ID)} = '' "
        f"OR (toInt64OrZero({_attr(s.SCOPE_PART)}) = 0 AND {_attr(s.SCOPE_FINAL)} = 'true')"
    )
    return f"""WITH
spans AS (
  SELECT concat(TraceId, SpanId) AS part_key, SpanName AS span_name, SpanAttributes AS a,
         Events.Name AS event_names, Events.Attributes AS event_attributes,
         fromUnixTimestamp64Micro(intDiv(toUnixTimestamp64Nano(Timestamp), 1000), 'UTC')
           AS opened,
         fromUnixTimestamp64Micro(intDiv(toUnixTimestamp64Nano(Timestamp) + Duration, 1000),
           'UTC') AS closed,
         if({whole}, concat('w', part_key), concat('p', {_attr(s.SCOPE_ID)})) AS scope_key,
         if({_has(s.SCOPE_ID)} AND {_attr(s.SCOPE_ID)} != '', {_attr(s.SCOPE_ID)}, NULL)
           AS scope_id,
         toInt64OrZero({_attr(s.SCOPE_PART)}) AS part,
         NOT {_has(s.SCOPE_FINAL)} OR {_attr(s.SCOPE_FINAL)} = 'true' AS final,
         JSONExtract(if({_has(s.FIELDS_READ)}, {_attr(s.FIELDS_READ)}, '[]'), 'Array(String)')
           AS fields_read,
         {_listed(_attr(s.SUBJECTS), SUBJECTS_SEPARATOR, "true")} AS {subjects},
         {_listed(_attr(s.SUBJECTS_FIELDS), SUBJECTS_FIELDS_SEPARATOR, f"empty({subjects})")}
           AS {items}
  FROM {table}
  WHERE SpanName IN ({_q(SPAN_NAME)}, {_q(UNSCOPED_SPAN_NAME)})
),
scope_parts AS (
  SELECT part_key, toInt64(0) AS source_no, {_q(OTLP_JSON_INPUT)} AS kind, scope_key,
         startsWith(scope_key, 'w') OR part_key IN (
           SELECT argMin(part_key, (part, part_key)) FROM spans
           WHERE startsWith(scope_key, 'p') GROUP BY scope_key) AS first_seen,
         scope_id, part, final, opened, closed,
         if(span_name = {_q(SPAN_NAME)}, {_attr(s.PURPOSE)}, NULL) AS purpose,
         {_optional(s.ACTOR_ID)} AS actor_id, {_optional(s.ACTOR_ROLE)} AS actor_role,
         toUInt64OrZero({_attr(s.DENIED_COUNT)}) AS denied,
         toUInt64OrZero({_attr(s.WOULD_DENY_COUNT)}) AS would_deny,
         {_has(s.SUBJECTS)} AS subjects_listed,
         length({subjects}) AS subjects_len,
         NOT arrayAll(x -> {pseudonym}, {subjects}) AS subjects_other,
         {count} AS subjects_count,
         multiIf({_has(s.SUBJECTS_OVERFLOW)}, toUInt64OrZero({_attr(s.SUBJECTS_OVERFLOW)}),
                 subjects_listed AND {count} IS NOT NULL AND assumeNotNull({count}) > subjects_len,
                 toUInt64(assumeNotNull({count}) - subjects_len), toUInt64(0))
           AS subjects_overflow,
         subjects_listed OR {count} IS NOT NULL AS subjects_said,
         {_has(s.SUBJECTS_FIELDS)} AS reads_known,
         if({has_site}, {_attr(site[0])}, NULL) AS site_file,
         if({has_site}, {_attr(site[1])}, NULL) AS site_function,
         if({has_site}, toInt64OrNull({_attr(site[2])}), NULL) AS site_line,
         {_optional(s.UPSTREAM_SERVICE)} AS upstream_service,
         {_optional(s.UPSTREAM_SCOPE_ID)} AS upstream_scope_id
  FROM spans
),
scopes AS (
  SELECT scope_key,
         startsWith(scope_key, 'w') OR (countIf(final) > 0 AND min(part) = 0
           AND max(part) = maxIf(part, final) AND uniqExact(part) = max(part) + 1)
           AS complete,
         (max(closed), scope_key) AS settle_order
  FROM spans GROUP BY scope_key
),
field_rows AS (
  SELECT part_key, scope_key, part, name, position, {record_type} AS record_type,
         {field} AS field, arrayMap(name -> {record_type}, arrayDistinct(fields_read)) AS types
  FROM spans ARRAY JOIN arrayDistinct(fields_read) AS name,
                        arrayEnumerate(arrayDistinct(fields_read)) AS position
),
part_fields AS (
  SELECT part_key, name, record_type, field,
         if(startsWith(scope_key, 'w'), indexOf(types, record_type) = position,
            (part_key, position) IN (
              SELECT argMin((part_key, position), (part, part_key, position)) FROM field_rows
              WHERE startsWith(scope_key, 'p') GROUP BY scope_key, record_type))
           AS counts_scope
  FROM field_rows
),
part_subjects AS (
  SELECT part_key, toInt64(position - 1) AS position, x AS pseudonym, {pseudonym} AS is_pseudonym,
         if(is_pseudonym, splitByChar(':', x)[1], NULL) AS key_id
  FROM spans ARRAY JOIN {subjects} AS x, arrayEnumerate({subjects}) AS position
),
part_reads AS (
  SELECT DISTINCT part_key, pseudonym, fields_read[toInt64(i) + 1] AS name
  FROM (SELECT part_key, fields_read, x AS pseudonym, item
        FROM spans ARRAY JOIN {subjects} AS x, {items} AS item
        WHERE {_has(s.SUBJECTS_FIELDS)})
  ARRAY JOIN splitByChar(' ', item) AS i
  WHERE match(i, '^[0-9]{{1,19}}$') AND toUInt64OrNull(i) < length(fields_read)
),
events AS (
  SELECT part_key, toInt64(position - 1) AS position, event_name, e
  FROM spans ARRAY JOIN event_names AS event_name, event_attributes AS e,
                        arrayEnumerate(event_names) AS position
),
part_refusals AS (
  SELECT part_key, position,
         if(event_name = {_q(DENIED_EVENT)}, 'denied', 'would-deny') AS outcome,
         e[{_q(event.RECORD_TYPE)}] AS record_type, e[{_q(event.FIELD)}] AS field,
         {_encode_reasons(_strings(f"e[{_q(event.REASON_CODES)}]"))} AS reasons,
         if(mapContains(e, {_q(event.READS_COUNT)}), toUInt64OrZero(e[{_q(event.READS_COUNT)}]),
            toUInt64(1)) AS reads
  FROM events WHERE event_name IN {refusal_names}
),
part_disclosures AS (
  SELECT part_key, position, e[{_q(disclosure.ID)}] AS disclosure_id,
         e[{_q(disclosure.AGREEMENT)}] AS agreement, e[{_q(disclosure.RECIPIENT)}] AS recipient,
         e[{_q(disclosure.RECORD_TYPE)}] AS record_type,
         toUInt64OrZero(e[{_q(disclosure.STATEMENTS_COUNT)}]) AS statements,
         if({has_whose}, {whose}, NULL) AS subject,
         if({has_whose} AND {_is_pseudonym(whose)}, splitByChar(':', {whose})[1], NULL)
           AS subject_key_id
  FROM events WHERE event_name = {_q(DISCLOSURE_EVENT)}
),
disclosure_fields AS (
  SELECT part_key, position, field FROM events
  ARRAY JOIN {_strings(f"e[{_q(disclosure.FIELDS)}]")} AS field
  WHERE event_name = {_q(DISCLOSURE_EVENT)}
),
sources AS (
  SELECT toInt64(0) AS source_no, {{source:String}} AS path, {_q(OTLP_JSON_INPUT)} AS format
),
source_ignored AS (
  SELECT toInt64(0) AS source_no, position, what, entries FROM (
    SELECT toInt64(0) AS position, 'other spans' AS what, toInt64(count()) AS entries
    FROM {table} WHERE SpanName NOT IN ({_q(SPAN_NAME)}, {_q(UNSCOPED_SPAN_NAME)})
    UNION ALL
    SELECT toInt64(1), 'other events on purposeful spans', toInt64(count()) FROM events
    WHERE event_name NOT IN ({_q(DENIED_EVENT)}, {_q(WOULD_DENY_EVENT)},
                             {_q(DISCLOSURE_EVENT)}))
  WHERE entries > 0
),
wanted AS (
  SELECT arrayJoin(splitByChar(' ', {{wanted:String}})) AS pseudonym
)
"""


#: The shape's tables over the exporter's default table, ``otel_traces``.
SHAPE_CTES: Final = shape_ctes()


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return from_stored_text(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def report_on_clickhouse(
    run: ClickHouseRun,
    *,
    source: str,
    table: str = "otel_traces",
    subject: SubjectQuery | None = None,
) -> Report:
    """The report over the purpose spans in the exporter's *table*, every figure run by *run*.

    Args:
        run: runs a query on the server (`connect` makes one).
        source: how the report's sources line names the table (a URL without its password).
        table: the exporter's traces table, ``otel_traces`` unless configured otherwise.
        subject: the person to answer about, if any.

    Raises:
        ConfigurationError: *table* is not a table's name.
    """
    ctes = shape_ctes(table)
    parameters = {
        "source": source,
        "wanted": "" if subject is None else " ".join(sorted(subject.pseudonyms)),
    }

    def figure(sql: str) -> Sequence[Sequence[Any]]:
        rows = run(ctes + sql + _DIALECT, parameters)
        return [tuple(_plain(value) for value in row) for row in rows]

    return report_from(figure, subject=subject, ledgers_verified=None)


def connect(url: str, *, env: Mapping[str, str] | None = None) -> tuple[ClickHouseRun, str]:
    """A `ClickHouseRun` on the server at *url*, and the URL to name it by (no password).

    *url* is ``http(s)://user@host:port/database``; the password comes from the environment
    variable `PASSWORD_VARIABLE`, never from the URL.

    Raises:
        MissingExtra: ``clickhouse-connect`` is not installed.
        ConfigurationError: *url* is not such a URL, or holds a password.
        ReportInputError: the server cannot be reached, or refuses the login.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            "--clickhouse takes a URL such as https://user@clickhouse.example:8443/otel "
            "(http or https, a host, and the database the exporter writes to)"
        )
    if parts.password is not None:
        raise ConfigurationError(
            f"the ClickHouse URL must not hold a password: set {PASSWORD_VARIABLE} instead"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError("the ClickHouse URL's port must be a number") from None
    try:
        import clickhouse_connect
    except ImportError:
        raise MissingExtra(
            "the audit report on ClickHouse needs clickhouse-connect: "
            "pip install 'purposeful[clickhouse]'",
            extra="clickhouse",
        ) from None
    environment = os.environ if env is None else env
    database = parts.path.strip("/") or "default"
    label = f"{parts.scheme}://{parts.hostname}{'' if port is None else f':{port}'}/{database}"
    try:
        client: Any = clickhouse_connect.get_client(
            host=parts.hostname,
            port=port or (8443 if parts.scheme == "https" else 8123),
            username=unquote(parts.username or "default"),
            password=environment.get(PASSWORD_VARIABLE, ""),
            database=database,
            secure=parts.scheme == "https",
            connect_timeout=10,
        )
    except Exception as error:  # the client's errors have no common base but Exception
        raise ReportInputError(
            f"cannot reach ClickHouse ({type(error).__name__}); check the URL, that the "
            f"server is running, and {PASSWORD_VARIABLE}",
            path=label,
        ) from None

    def run(sql: str, parameters: Mapping[str, str]) -> Sequence[Sequence[Any]]:
        try:
            rows: Sequence[Sequence[Any]] = client.query(
                sql, parameters=dict(parameters)
            ).result_rows
            return rows
        except Exception as error:
            raise ReportInputError(
                f"ClickHouse could not answer a figure's query ({type(error).__name__}); "
                "check that the table is the Collector's ClickHouse exporter's otel_traces",
                path=label,
            ) from None

    return run, label
