"""The report on ClickHouse: the figure queries, over the OpenTelemetry Collector's ClickHouse
exporter schema, run by ClickHouse's own engine in process (chDB), print the same page, byte
for byte, as the DuckDB engine on the same spans; the client's errors are typed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _audit_inputs import (
    MONDAY,
    PERSON_REASONS,
    HandPart,
    HandScope,
    attribute,
    hand_parts,
    in_edition,
    span,
    traces_text,
)
from purposeful.audit.history import SubjectQuery
from purposeful.audit.report import ReportDatabase, build_report, render_text
from purposeful.audit.report.clickhouse_engine import (
    _DIALECT,
    PASSWORD_VARIABLE,
    connect,
    report_on_clickhouse,
    shape_ctes,
)
from purposeful.cli import main
from purposeful.errors import ConfigurationError, ReportInputError

chdb_session = pytest.importorskip("chdb.session")

PEOPLE = tuple(f"{key}:{n:032x}" for key in ("0a0b0c0d", "1a2b3c4d") for n in (1, 2, 3))
NAMES = ("Case.diagnosis", "Case.address", "Note.text", "plain", "Case.nom\u00e9")

#: The exporter's table, as its traces_table.sql template creates it (the default engine).
EXPORTER_DDL = """
CREATE TABLE otel_traces (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
"""


def exported(value: Mapping[str, Any]) -> str:
    """An OTLP attribute value as the exporter stores it: pcommon's ``Value.AsString``."""
    kind, raw = next(iter(value.items()))
    if kind == "boolValue":
        return "true" if raw else "false"
    if kind == "arrayValue":
        items = [item["stringValue"] for item in raw.get("values", [])]
        return json.dumps(items, separators=(",", ":"), ensure_ascii=False)
    return str(raw)


def attributes(pairs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {pair["key"]: exported(pair["value"]) for pair in pairs}


def nanoseconds(since_epoch: int) -> str:
    """A DateTime64(9) value in JSONEachRow: UTC, to the nanosecond."""
    seconds = datetime.fromtimestamp(since_epoch // 10**9, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{seconds}.{since_epoch % 10**9:09d}"


def row(found: Mapping[str, Any], number: int) -> dict[str, Any]:
    """One span as the exporter's row (JSONEachRow): its span id made unique, as a real
    span's is."""
    start, end = int(found["startTimeUnixNano"]), int(found["endTimeUnixNano"])
    events = found.get("events", [])
    return {
        "Timestamp": nanoseconds(start),
        "TraceId": found["traceId"],
        "SpanId": f"{number:016x}",
        "SpanName": found["name"],
        "ServiceName": "case-service",
        "ScopeName": "purposeful",
        "SpanAttributes": attributes(found.get("attributes", [])),
        "Duration": end - start,
        "Events.Timestamp": [nanoseconds(int(event["timeUnixNano"])) for event in events],
        "Events.Name": [event["name"] for event in events],
        "Events.Attributes": [attributes(event.get("attributes", [])) for event in events],
    }


class Store:
    """An ``otel_traces`` table in chDB, and a `ClickHouseRun` over it."""

    def __init__(self) -> None:
        self.session = chdb_session.Session()
        self.session.query("SET session_timezone = 'UTC'")
        self.session.query("CREATE DATABASE IF NOT EXISTS otel ENGINE = Atomic")
        self.session.query("USE otel")
        self.session.query("DROP TABLE IF EXISTS otel_traces")
        self.session.query(EXPORTER_DDL)
        self.queries: list[str] = []

    def insert(self, spans: Sequence[Mapping[str, Any]]) -> None:
        if spans:
            lines = "\n".join(json.dumps(row(found, n)) for n, found in enumerate(spans))
            self.session.query(f"INSERT INTO otel_traces FORMAT JSONEachRow\n{lines}")

    def run(self, sql: str, parameters: Mapping[str, str]) -> Sequence[Sequence[Any]]:
        self.queries.append(sql)
        table = self.session.query(sql, "ArrowTable", params=dict(parameters))
        columns = [column.to_pylist() for column in table.columns]
        return list(zip(*columns, strict=True))

    def close(self) -> None:
        self.session.close()


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    found = Store()
    yield found
    found.close()


def both(store: Store, spans: list[dict[str, Any]], folder: Path, person: str | None) -> str:
    """The page from DuckDB over the spans' file, checked equal to ClickHouse's and to the
    streaming report's."""
    traces = folder / "traces.jsonl"
    traces.write_text(traces_text(spans) if spans else "")
    store.session.query("TRUNCATE TABLE otel_traces")
    store.insert(spans)
    subject = None if person is None else SubjectQuery((person,))
    with ReportDatabase.from_files([traces]) as database:
        expected = render_text(database.report(subject=subject))
    found = render_text(report_on_clickhouse(store.run, source=str(traces), subject=subject))
    assert found == expected
    assert render_text(build_report([traces], subject=subject)) == expected
    return found


def disclosure_event(
    disclosure_id: str,
    recipient: str,
    subject: str | None = None,
    fields: Sequence[str] = ("address", "diagnosis"),
) -> dict[str, object]:
    """A disclosure event; *subject*: the pseudonym it names (None: an older one, naming
    nobody)."""
    named = [] if subject is None else [attribute("purposeful.disclosure.subject", subject)]
    return {
        "timeUnixNano": "0",
        "name": "purposeful.disclosure",
        "attributes": [
            attribute("purposeful.disclosure.id", disclosure_id),
            attribute("purposeful.disclosure.agreement", "AISA-2026"),
            attribute("purposeful.disclosure.recipient", recipient),
            attribute("purposeful.disclosure.record_type", "Case"),
            attribute("purposeful.disclosure.fields", list(fields)),
            attribute("purposeful.disclosure.statements.count", 1),
            *named,
        ],
    }


@st.composite
def hand_scope(draw: st.DrawFn, scope_id: str, minutes: int) -> HandScope:
    purpose = draw(st.sampled_from(["case-management", "funder-reporting", None]))
    scoped = purpose is not None
    return HandScope(
        scope_id=scope_id,
        parts=tuple(draw(st.lists(hand_parts(NAMES, PEOPLE), min_size=1, max_size=3))),
        opened=MONDAY + timedelta(minutes=minutes),
        purpose=purpose,
        actor=draw(st.sampled_from(["staff-1", "staff-2", ""])) if scoped else None,
        role=draw(st.sampled_from(["caseworker", "auditor", None])) if scoped else None,
        final=draw(st.booleans()),
        site=None if scoped else draw(st.sampled_from([None, ("app.py", "run", 7)])),
    )


@st.composite
def stored_spans(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Spans of generated scopes (each its own id, as a store's are), parts in order, some
    parts of a scope missing, disclosures and other spans among them."""
    # each opened at its own minute: scopes opened at the same microsecond are listed in the
    # order files were read on DuckDB, in the order they closed on ClickHouse (no file order)
    opened = draw(st.lists(st.integers(0, 4 * 24 * 60), max_size=6, unique=True))
    scopes = [draw(hand_scope(f"scope-{n}", minutes)) for n, minutes in enumerate(opened)]
    spans: list[dict[str, Any]] = []
    for scope in scopes:
        numbers = range(len(scope.parts))
        if len(scope.parts) > 1 and draw(st.booleans()):
            numbers = range(1, len(scope.parts))  # part 0 never arrived
        for number in numbers:
            found = span(scope, number, edition=draw(st.sampled_from([1, 2])))
            for _ in range(draw(st.integers(0, 2))):
                recipient = draw(st.sampled_from(["MSD", "IR"]))
                subject = draw(st.sampled_from([None, *PEOPLE, "raw-identifier"]))
                fields = draw(st.lists(st.sampled_from(["address", "diagnosis", "nom\u00e9"])))
                found["events"].append(
                    disclosure_event(f"d{len(found['events'])}", recipient, subject, fields)
                )
            spans.append(found)
    if spans and draw(st.booleans()):
        other = dict(spans[0], name="GET /cases", attributes=[], events=[])
        spans.append(other)
    return spans


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spans=stored_spans(), person=st.sampled_from([None, *PEOPLE]))
def test_clickhouse_prints_the_duckdb_page_byte_for_byte_on_generated_spans(
    store: Store,
    tmp_path_factory: pytest.TempPathFactory,
    spans: list[dict[str, Any]],
    person: str | None,
) -> None:
    both(store, spans, tmp_path_factory.mktemp("generated"), person)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spans=stored_spans(), person=st.sampled_from([None, *PEOPLE]))
def test_spans_of_either_edition_print_the_same_page_on_every_engine(
    store: Store,
    tmp_path_factory: pytest.TempPathFactory,
    spans: list[dict[str, Any]],
    person: str | None,
) -> None:
    """The people's lists as arrays (edition 1) or one string each (edition 2): the same
    page on ClickHouse, DuckDB and the streaming report."""
    folder = tmp_path_factory.mktemp("editions")
    pages = []
    for edition in (1, 2):
        (folder / str(edition)).mkdir()
        rewritten = [in_edition(found, edition) for found in spans]
        pages.append(both(store, rewritten, folder / str(edition), person))
    first, second = pages
    assert first.replace(str(folder / "1"), "") == second.replace(str(folder / "2"), "")


def test_every_engine_marks_the_reads_enforce_mode_would_refuse(
    store: Store, tmp_path: Path
) -> None:
    """The purpose's would-deny in part 0 covers the person's read in part 1; a consent
    would-deny is theirs where they are the only one the part lists reading the field,
    and nobody's where it lists two and one was refused."""
    me, other = PEOPLE[0], PEOPLE[1]
    purpose = HandScope(
        "mark-1",
        (
            HandPart({other: frozenset({"Case.diagnosis"})},
                     refusals=(("would-deny", "Case.diagnosis", 1),)),
            HandPart({me: frozenset({"Case.diagnosis", "Case.address"})}),
        ),
    )  # fmt: skip
    consent = HandScope(
        "mark-2",
        (
            HandPart({me: frozenset({"Note.text"})}, refusals=(("would-deny", "Note.text", 1),),
                     reasons=PERSON_REASONS),
            HandPart({me: frozenset({"Case.address"}), other: frozenset({"Case.address"})},
                     refusals=(("would-deny", "Case.address", 1),), reasons=PERSON_REASONS),
        ),
        opened=MONDAY + timedelta(hours=1),
    )  # fmt: skip
    spans = [span(scope, n) for scope in (purpose, consent) for n in range(2)]
    page = both(store, spans, tmp_path, me)
    mark = " (read in monitor mode: enforce mode would refuse)"
    assert f"Case.address, Case.diagnosis{mark}" in page
    assert f"Case.address, Note.text{mark}" in page
    assert page.count(mark) == 2


def test_a_week_of_scopes_is_reported_whole_with_people_refusals_and_disclosures(
    store: Store, tmp_path: Path
) -> None:
    person, other = PEOPLE[0], PEOPLE[3]
    scopes = [
        HandScope(
            "long",
            (
                HandPart(reads={person: frozenset({"Case.address"})}),
                HandPart(
                    reads={person: frozenset({"Case.diagnosis"}), other: frozenset({"Note.text"})},
                    refusals=(("would-deny", "Case.diagnosis", 2),),
                ),
            ),
        ),
        HandScope(
            "short",
            (HandPart(reads={other: frozenset({"Case.address"})}, unlisted=3),),
            opened=MONDAY + timedelta(days=2),
            actor="staff-0007",
        ),
        HandScope(
            "loose",
            (HandPart(refusals=(("denied", "Case.diagnosis", 1),)),),
            purpose=None,
            actor=None,
            role=None,
            site=("app/views.py", "case_detail", 42),
        ),
    ]
    spans = [span(scope, n) for scope in scopes for n in range(len(scope.parts))]
    spans[0]["events"].append(disclosure_event("d1", "MSD"))
    spans[1]["events"].append(disclosure_event("d2", "IR", person, ["address"]))
    spans[2]["events"].append(disclosure_event("d3", "MSD", PEOPLE[1]))  # not this person
    page = both(store, spans, tmp_path, None)
    assert "Scopes: 3" in page
    assert "staff-0007" in page
    assert "MSD" in page
    (tmp_path / "person").mkdir()
    page = both(store, spans, tmp_path / "person", person)
    assert "Case.address, Case.diagnosis" in page
    assert "shared with IR under AISA-2026: address" in page
    assert page.count("shared with") == 1
    assert "Incomplete: 1 disclosure to other agencies does not say whose record it was" in (
        " ".join(page.split())
    )
    # every figure ran on the server: the views and the figure's text, nothing in Python
    assert all(sql.startswith("WITH\nspans AS (") for sql in store.queries)


def test_the_figure_text_is_sql_py_s_unchanged_after_the_views(store: Store) -> None:
    from purposeful.audit.report.sql import FIGURES

    store.queries.clear()
    report_on_clickhouse(store.run, source="store")
    figures = set(FIGURES.values())
    ctes = shape_ctes()
    for sql in store.queries:
        body = sql.removeprefix(ctes).removesuffix(_DIALECT)
        assert body in figures


@pytest.mark.parametrize("table", ["otel_traces; DROP TABLE x", "", "a.b.c", "1table"])
def test_a_table_that_is_not_a_name_is_refused(table: str) -> None:
    with pytest.raises(ConfigurationError, match="must be a name"):
        shape_ctes(table)


def refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again: nothing listens there


def test_a_refused_connection_is_a_report_input_error_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("clickhouse_connect")
    port = refused_port()
    monkeypatch.setenv(PASSWORD_VARIABLE, "hunter2-secret")
    with pytest.raises(ReportInputError) as raised:
        connect(f"http://auditor@127.0.0.1:{port}/otel")
    assert f"http://127.0.0.1:{port}/otel" in str(raised.value)
    assert "hunter2" not in str(raised.value)
    assert PASSWORD_VARIABLE in str(raised.value)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://host/otel", "takes a URL"),
        ("clickhouse.example", "takes a URL"),
        ("http://user:secret@host/otel", "must not hold a password"),
        ("http://host:port/otel", "port must be a number"),
    ],
)
def test_a_url_that_cannot_be_used_is_refused_before_connecting(url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem) as raised:
        connect(url)
    assert "secret" not in str(raised.value)


def test_the_cli_exits_2_with_one_line_on_a_refused_connection(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("clickhouse_connect")
    monkeypatch.setenv(PASSWORD_VARIABLE, "hunter2-secret")
    port = refused_port()
    status = main(["audit", "report", "--clickhouse", f"http://127.0.0.1:{port}/otel"])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1
    assert "cannot reach ClickHouse" in err
    assert "hunter2" not in err


def test_the_cli_refuses_a_password_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["audit", "report", "--clickhouse", "https://me:pw@host/otel"])
    err = capsys.readouterr().err
    assert status == 2
    assert "must not hold a password" in err
    assert ":pw@" not in err


def test_the_cli_refuses_files_with_clickhouse(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["audit", "report", "--clickhouse", "https://host/otel", "traces.jsonl"])
    assert status == 2
    assert "--clickhouse" in capsys.readouterr().err


def test_without_clickhouse_connect_the_cli_names_the_extra_and_exits_2() -> None:
    script = (
        "import sys; sys.modules['clickhouse_connect'] = None\n"
        "from purposeful.cli import main\n"
        "sys.exit(main(['audit', 'report', '--clickhouse', 'http://127.0.0.1:9/otel']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "pip install 'purposeful[clickhouse]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_engine_and_the_cli_load_no_clickhouse_client_until_connecting() -> None:
    script = (
        "import sys, purposeful.cli, purposeful.audit.report.clickhouse_engine\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('clickhouse_connect', 'chdb')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
