"""``purposeful audit report``: what it reads (OTLP JSON traces and ledgers), what it prints
(tables, one person's answer, an HTML page, the would-deny gate), how it fails (one line
naming the file and line, exit 2), and that a subject id never appears in anything it says.

The traces are real spans: made by `SpanSink` through the OpenTelemetry SDK, with the
people read pseudonymised by the test's keys (``configure(pseudonymise=key.pseudonym)``),
exported to memory, then written as OTLP JSON lines by `otlp_json`, which encodes them as
the OTLP file exporters do (the OTLP/JSON encoding of an ``ExportTraceServiceRequest``:
lowerCamelCase keys, hex ids, 64-bit integers as decimal strings, enums as integers, empty
lists left out).
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util.types import AttributeValue

import purposeful
from _records import ADMINISTRATOR, CASE_MANAGEMENT, CASEWORKER, FUNDER_JOB, case
from purposeful import Mode, PurposeViolation, use
from purposeful.audit import PseudonymKey, generate_keys, load_pseudonym_key
from purposeful.audit.history import SubjectQuery
from purposeful.audit.ledger import Ledger
from purposeful.audit.report import (
    Refusal,
    ReportBuilder,
    ScopeRecord,
    build_report,
    read_ledger,
    read_otlp_json,
    render_text,
)
from purposeful.audit.report.building import BUSIEST_ACTORS, ActorRow
from purposeful.audit.spans import SpanSink
from purposeful.cli import main
from purposeful.errors import ReportInputError

SUBJECT_MARK = "\u2604"  # in no name or code purposeful prints: found in output = a leak


# --- writing OTLP JSON as the file exporters do ---------------------------------------------


def any_value(value: AttributeValue) -> dict[str, Any]:
    """An attribute value as an OTLP JSON ``AnyValue``."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}  # int64: a decimal string
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    values = [any_value(item) for item in value]
    return {"arrayValue": {"values": values} if values else {}}  # an empty list is left out


def key_values(attributes: Mapping[str, AttributeValue] | None) -> list[dict[str, Any]]:
    return [{"key": key, "value": any_value(value)} for key, value in (attributes or {}).items()]


def encode_span(span: ReadableSpan, *, subjects: bool) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None
    attributes = dict(span.attributes or {})
    if not subjects:  # as a span from before subjects were recorded
        attributes = {k: v for k, v in attributes.items() if not k.startswith("purposeful.subj")}
    encoded: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
        "name": span.name,
        "kind": span.kind.value + 1,  # the SDK counts from INTERNAL = 0, OTLP from 1
        "startTimeUnixNano": str(span.start_time),
        "endTimeUnixNano": str(span.end_time),
        "attributes": key_values(attributes),
        "status": {},
    }
    if span.parent is not None:
        encoded["parentSpanId"] = f"{span.parent.span_id:016x}"
    if span.events:
        encoded["events"] = [
            {
                "timeUnixNano": str(event.timestamp),
                "name": event.name,
                "attributes": key_values(event.attributes),
            }
            for event in span.events
        ]
    if span.status.status_code.value:
        encoded["status"] = {"code": span.status.status_code.value}
        if span.status.description:
            encoded["status"]["message"] = span.status.description
    return encoded


def otlp_json(spans: Sequence[ReadableSpan], *, subjects: bool = True) -> str:
    """One ``ExportTraceServiceRequest`` of *spans* as one line of OTLP JSON."""
    scopes: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for span in spans:
        scope = span.instrumentation_scope
        key = (scope.name, scope.version) if scope is not None else ("", None)
        scopes.setdefault(key, []).append(encode_span(span, subjects=subjects))
    resource = spans[0].resource.attributes if spans else {}
    request = {
        "resourceSpans": [
            {
                "resource": {"attributes": key_values(resource)},
                "scopeSpans": [
                    {"scope": {"name": name, "version": version}, "spans": encoded}
                    for (name, version), encoded in scopes.items()
                ],
            }
        ]
    }
    return json.dumps(request, separators=(",", ":")) + "\n"


class Tracing:
    """A tracer provider with `SpanSink` configured as the only sink, and its exporter."""

    def __init__(self, *, max_subjects: int = 100, **provider_options: Any) -> None:
        self.provider = TracerProvider(shutdown_on_exit=False, **provider_options)
        self.exporter = InMemorySpanExporter()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        purposeful.configure(sinks=[SpanSink(self.provider, max_subjects=max_subjects)])

    def write(self, path: Path, *, subjects: bool = True) -> Path:
        path.write_text(otlp_json(self.exporter.get_finished_spans(), subjects=subjects))
        self.exporter.clear()
        return path


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """Two pseudonym key files: an old one and the one it was rotated to."""
    return (
        generate_keys(tmp_path / "old-keys").pseudonym_key,
        generate_keys(tmp_path / "new-keys").pseudonym_key,
    )


def key(path: Path) -> PseudonymKey:
    return load_pseudonym_key(path, env=None)


@pytest.fixture
def traces(tmp_path: Path, keys: tuple[Path, Path]) -> Path:
    """A trace file of four purposeful scopes and a request span, across a key rotation.

    1. staff-0042 (caseworker), case management, reads C-1001's and C-1002's diagnosis
       (old key);
    2. the same again for C-1001 (new key);
    3. staff-0099 (administrator), service delivery, reads C-1001's address and is refused
       the diagnosis (new key);
    4. svc-funder, funder reporting in monitor mode, reads C-1003's address and diagnosis,
       a would-deny (new key).
    """
    tracing = Tracing()
    request = tracing.provider.get_tracer("kowhai-support")
    with request.start_as_current_span("GET /clients/C-1001", attributes={"client": "C-1001"}):
        purposeful.configure(pseudonymise=key(keys[0]).pseudonym)
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case(client_id="C-1001").diagnosis  # type: ignore[attr-defined]
            _ = case(client_id="C-1002").diagnosis  # type: ignore[attr-defined]
        purposeful.configure(pseudonymise=key(keys[1]).pseudonym)  # the key is rotated
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case(client_id="C-1001").diagnosis  # type: ignore[attr-defined]
        with use("service-delivery", actor=ADMINISTRATOR), contextlib.suppress(PurposeViolation):
            record = case(client_id="C-1001")
            _ = record.address  # type: ignore[attr-defined]
            _ = record.diagnosis  # type: ignore[attr-defined]
    purposeful.configure(purpose_modes={"funder-reporting": Mode.MONITOR})
    with use("funder-reporting", actor=FUNDER_JOB):
        record = case(client_id="C-1003")
        _ = record.address  # type: ignore[attr-defined]
        _ = record.diagnosis  # type: ignore[attr-defined]
    purposeful.reset_configuration()
    return tracing.write(tmp_path / "traces.jsonl")


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    status = main(["audit", "report", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def section(out: str, title: str) -> str:
    """One section of the text report, after a newline: its title, underline, table and
    notes, up to the next section's title, without the blank lines between them."""
    lines = out.splitlines()
    start = lines.index(title)
    end = next(
        (
            i
            for i in range(start + 2, len(lines) - 1)
            if lines[i] and set(lines[i + 1]) == {"-"} and len(lines[i + 1]) == len(lines[i])
        ),
        len(lines),
    )
    return "\n" + "\n".join(line for line in lines[start:end] if line)


# --- the text report -----------------------------------------------------------------------


def test_the_text_report_tables_accesses_refusals_and_busiest_actors(
    traces: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, traces)
    assert (status, err) == (0, "")
    assert "Scopes: 4\n" in out
    assert "Refusals: 1 denied (enforce mode), 1 would-deny (monitor mode)" in out

    accesses = section(out, "Accesses by purpose, record type and actor").splitlines()
    # the rows need not add up to Scopes: the table says why
    assert accesses[7].startswith("A scope counts once for each record type it read a field")
    assert [line.split() for line in accesses[4:7]] == [
        ["funder-reporting", "Case", "svc-funder", "funder-reporting-job", "1", "address,",
         "diagnosis"],
        ["service-delivery", "Case", "staff-0099", "administrator", "1", "address"],
        [CASE_MANAGEMENT, "Case", "staff-0042", "caseworker", "2", "diagnosis"],
    ]  # fmt: skip

    refusals = section(out, "Denials and would-denies").splitlines()
    assert refusals[3].split() == [
        "outcome",
        "purpose",
        "record",
        "type",
        "field",
        "reasons",
        "count",
    ]
    assert refusals[4].split() == [
        "denied", "service-delivery", "Case", "diagnosis",
        "purpose-not-declared,", "clearance-too-low", "1",
    ]  # fmt: skip
    assert refusals[5].split() == [
        "would-deny", "funder-reporting", "Case", "diagnosis",
        "purpose-not-declared,", "clearance-too-low", "1",
    ]  # fmt: skip
    # a count is of decisions (one for the field in the scope), not of the reads refused
    assert refusals[6].startswith("Counted by decision: one for each field a scope was refused")

    busiest = section(out, "Busiest actors, by distinct people read").splitlines()
    # staff-0042 read C-1001 under two keys and C-1002: three pseudonyms
    assert [line.split()[:4] for line in busiest[4:7]] == [
        ["staff-0042", "caseworker", "2", "3"],
        ["staff-0099", "administrator", "1", "1"],
        ["svc-funder", "funder-reporting-job", "1", "1"],
    ]


@pytest.mark.parametrize("actors", [BUSIEST_ACTORS - 1, BUSIEST_ACTORS])
def test_busiest_actors_says_when_it_shows_only_the_busiest(traces: Path, actors: int) -> None:
    report = build_report([traces])
    rows = tuple(ActorRow(f"staff-{n}", ("caseworker",), 1, 1, 1, 0) for n in range(actors))
    text = render_text(attrs.evolve(report, busiest_actors=rows))
    said = f"The {BUSIEST_ACTORS} actors who read the most people; any other read fewer"
    assert (said in " ".join(text.split())) is (actors == BUSIEST_ACTORS)


def test_foreign_spans_are_counted_as_ignored_and_never_shown(
    traces: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, traces)
    sources = section(out, "Sources")
    assert f"{traces}  OTLP JSON       4  1 other spans" in sources
    assert "purposeful.use and purposeful.unscoped_read" in sources
    assert "GET /clients" not in out
    assert "C-100" not in out


def test_ledger_files_are_read_like_traces(
    tmp_path: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ledger_path = tmp_path / "audit.jsonl"
    new = key(keys[1])
    with Ledger(ledger_path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        purposeful.configure(sinks=[ledger], pseudonymise=new.pseudonym)
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case(client_id="C-1001").diagnosis  # type: ignore[attr-defined]
        with use("service-delivery", actor=ADMINISTRATOR), contextlib.suppress(PurposeViolation):
            record = case(client_id="C-1002")
            _ = record.address  # type: ignore[attr-defined]
            _ = record.diagnosis  # type: ignore[attr-defined]
        purposeful.reset_configuration()

    status, out, err = run(capsys, "--ledger", ledger_path)
    assert (status, err) == (0, "")
    assert f"{ledger_path}  ledger       2  1 ledger headers" in section(out, "Sources")
    assert "Refusals: 1 denied (enforce mode), 0 would-deny" in out
    assert "service-delivery  Case         diagnosis" in section(out, "Denials and would-denies")

    _, out, _ = run(capsys, "--ledger", ledger_path, "--subject", "C-1001", "--key-file", keys[1])
    answer = section(out, f"Who read the person with pseudonym {new.pseudonym('C-1001')}")
    (access,) = answer.splitlines()[4:5]
    assert access.split()[4:] == ["staff-0042", "caseworker", CASE_MANAGEMENT, "Case.diagnosis"]
    assert "Complete: every scope read says whom it read, and which of this person" in answer
    # what a person's answer never lists, said where it may be handed on
    assert "a read refused is counted in the whole report (Refusals), never against a person" in (
        " ".join(answer.split())
    )
    assert "C-1001" not in out


def test_the_person_can_be_named_by_an_environment_variable(
    traces: Path,
    keys: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--subject-env VAR``, as bundle build has: the id stays out of the process list."""
    by_argument = run(capsys, traces, "--subject", "C-1001", "--key-file", keys[1])
    monkeypatch.setenv("WHO", "C-1001")
    by_variable = run(capsys, traces, "--subject-env", "WHO", "--key-file", keys[1])
    assert by_variable == by_argument
    assert by_variable[0] == 0
    assert "C-1001" not in by_variable[1]
    monkeypatch.setenv("EMPTY", "")
    for argv, said in [
        (["--subject-env", "EMPTY", "--key-file", keys[1]], "$EMPTY is not set or is empty"),
        (["--subject-env", "WHO", "--subject", "C-1001", "--key-file", keys[1]], "not both"),
        (["--subject-env", "WHO"], "--key-file go together"),
    ]:
        status, out, err = run(capsys, traces, *argv)
        assert (status, out, err.count("\n")) == (2, "", 1)
        assert said in err
        assert "C-1001" not in err


# --- one person ----------------------------------------------------------------------------


def test_the_subject_answer_finds_scopes_under_both_rotated_keys(
    traces: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        capsys, traces, "--subject", "C-1001", "--key-file", keys[0], "--key-file", keys[1]
    )
    assert (status, err) == (0, "")
    old, new = key(keys[0]).pseudonym("C-1001"), key(keys[1]).pseudonym("C-1001")
    answer = section(out, f"Who read the person with pseudonym {old} or {new}")
    rows = [line.split()[4:] for line in answer.splitlines()[4:7]]
    assert rows == [
        ["staff-0042", "caseworker", CASE_MANAGEMENT, "Case.diagnosis"],
        ["staff-0042", "caseworker", CASE_MANAGEMENT, "Case.diagnosis"],
        ["staff-0099", "administrator", "service-delivery", "Case.address"],
    ]
    assert "Complete: every scope read says whom it read, and which of this person" in answer
    # what a person's answer never lists, said where it may be handed on
    assert "a read refused is counted in the whole report (Refusals), never against a person" in (
        " ".join(answer.split())
    )
    assert "C-1001" not in out


def test_the_answer_comes_alone_without_what_other_scopes_say(
    traces: Path, tmp_path: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ask = ["--subject", "C-1003", "--key-file", keys[1]]
    _, out, _ = run(capsys, traces, *ask)
    titles = [line for line, under in pairwise(out.splitlines()) if set(under) == {"-"}]
    assert titles == [
        "Sources",
        f"Who read the person with pseudonym {key(keys[1]).pseudonym('C-1003')}",
    ]
    for elsewhere in ("staff-0042", "staff-0099", "Refusals: "):
        assert elsewhere not in out
    page = tmp_path / "answer.html"
    run(capsys, traces, *ask, "--html", page)
    text = page.read_text(encoding="utf-8")
    assert "svc-funder" in text
    assert "staff-0042" not in text
    assert "<svg" not in text


def test_with_one_key_the_answer_names_the_key_ids_it_could_not_match(
    traces: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, traces, "--subject", "C-1001", "--key-file", keys[1])
    answer = section(out, f"Who read the person with pseudonym {key(keys[1]).pseudonym('C-1001')}")
    assert len(answer.splitlines()) >= 6
    assert [line.split()[4] for line in answer.splitlines()[4:6]] == ["staff-0042", "staff-0099"]
    said = " ".join(answer.split())  # notes are wrapped
    assert f"keys not given ({key(keys[0]).key_id}); pass those key files too" in said
    assert "Complete" not in answer


def test_the_answer_says_when_capped_subject_lists_may_hide_the_person(
    tmp_path: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    new = key(keys[1])
    tracing = Tracing(max_subjects=1)
    purposeful.configure(pseudonymise=new.pseudonym)
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        for client in ("C-1001", "C-1002", "C-1003"):
            _ = case(client_id=client).diagnosis  # type: ignore[attr-defined]
    path = tracing.write(tmp_path / "capped.jsonl")
    listed = min(new.pseudonym(c) for c in ("C-1001", "C-1002", "C-1003"))
    absent = next(c for c in ("C-1001", "C-1002", "C-1003") if new.pseudonym(c) != listed)

    _, out, _ = run(capsys, path, "--subject", absent, "--key-file", keys[1])
    assert "No scope lists this person." in out
    # an empty answer says what to check before it is passed on as "nobody"
    flat = " ".join(out.split())
    assert "check that the identifier was given exactly as the services' records hold it" in flat
    assert "cover the period asked about" in flat
    assert "Incomplete: 1 scope read more people than it lists" in out
    _, out, _ = run(capsys, path)
    busiest = section(out, "Busiest actors, by distinct people read").splitlines()
    assert busiest[4].split()[:4] == ["staff-0042", "caseworker", "1", "3"]  # count, not list


def test_the_answer_says_when_scopes_were_made_without_a_pseudonymiser(
    tmp_path: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    tracing = Tracing()
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case().diagnosis  # type: ignore[attr-defined]
    path = tracing.write(tmp_path / "unlisted.jsonl")
    _, out, _ = run(capsys, path, "--subject", "C-1001", "--key-file", keys[0])
    said = " ".join(out.split())
    assert "Incomplete: 1 scope lists none of the people it read: configure" in said
    assert "Complete" not in said


def test_inputs_without_subjects_still_report_and_say_they_are_unknown(
    tmp_path: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    tracing = Tracing()
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case().diagnosis  # type: ignore[attr-defined]
    path = tracing.write(tmp_path / "old.jsonl", subjects=False)
    assert "purposeful.subj" not in path.read_text()

    status, out, _ = run(capsys, path, "--subject", "C-1001", "--key-file", keys[0])
    assert status == 0
    assert "Incomplete: 1 scope does not say whom it read" in out
    _, out, _ = run(capsys, path)
    busiest = section(out, "Busiest actors, by distinct people read").splitlines()
    assert busiest[4].split() == ["staff-0042", "caseworker", "1", "unknown", "1"]


# --- HTML ----------------------------------------------------------------------------------


def test_the_html_page_is_self_contained_with_a_chart_and_escapes_names(
    traces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = hand_written_span(actor="<script>alert('x')</script>", role='a"b&c', purpose="p<q")
    forged = tmp_path / "forged.jsonl"
    forged.write_text(json.dumps(otlp_request([hostile])) + "\n")
    page = tmp_path / "report.html"

    status, out, err = run(capsys, traces, forged, "--html", page)
    assert (status, err) == (0, "")
    assert out == f"report: {page} (5 scopes)\n"
    if os.name == "posix":
        assert stat.S_IMODE(page.stat().st_mode) == 0o600
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<svg" in text
    assert "<rect" in text
    assert "<script" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "a&quot;b&amp;c" in text
    assert "p&lt;q" in text
    for external in ("http://", "https://", "src=", "href=", "@import", "url("):
        assert external not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "Accesses by purpose, record type and actor" in text
    assert "staff-0042" in text


def test_control_characters_in_names_are_shown_escaped_in_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(otlp_request([hand_written_span(actor="x\x1b[2Jy\nz")])) + "\n")
    _, out, _ = run(capsys, path)
    assert "\x1b" not in out
    assert "x\\x1b[2Jy\\nz" in out


def test_a_name_with_an_override_or_a_lone_surrogate_is_shown_escaped_on_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.jsonl"
    span = hand_written_span(actor="staff\u202e0042", role="case\ud800worker\n")
    path.write_text(json.dumps(otlp_request([span])) + "\n")  # JSON writes \ud800 as an escape
    page = tmp_path / "report.html"
    status, _, err = run(capsys, path, "--html", page)
    assert (status, err) == (0, "")
    text = page.read_text(encoding="utf-8")
    assert "<td>staff\\u202e0042</td>" in text
    assert "<td>case\\ud800worker\\n</td>" in text
    assert "\u202e" not in text


def test_the_timeline_is_hourly_for_a_short_period_and_daily_for_a_long_one() -> None:
    start = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    def timeline(*offsets: timedelta) -> ReportBuilder:
        builder = ReportBuilder()
        for offset in offsets:
            builder.add(scope_record(start + offset, denied=1))
        return builder

    short = timeline(timedelta(0), timedelta(hours=3)).build()
    assert short.bucket == "hour"
    assert [(b.start.hour, b.scopes, b.denied) for b in short.timeline] == [
        (9, 1, 1), (10, 0, 0), (11, 0, 0), (12, 1, 1),
    ]  # fmt: skip
    long = timeline(timedelta(0), timedelta(hours=1), timedelta(days=3)).build()
    assert long.bucket == "day"
    assert [(b.start.day, b.scopes) for b in long.timeline] == [(2, 2), (3, 0), (4, 0), (5, 1)]


# --- the would-deny gate -------------------------------------------------------------------


def test_fail_on_would_deny_lists_them_and_exits_1(
    traces: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, traces, "--fail-on-would-deny")
    assert status == 1
    gate = out[out.index("Would-deny gate: failed, 1 would-deny decision:") :]
    assert gate.splitlines()[3].split() == [
        "purpose",
        "record",
        "type",
        "field",
        "reasons",
        "count",
    ]
    assert gate.splitlines()[4].split() == [
        "funder-reporting", "Case", "diagnosis", "purpose-not-declared,", "clearance-too-low", "1",
    ]  # fmt: skip


def test_fail_on_would_deny_passes_without_them_also_with_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracing = Tracing()
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case().diagnosis  # type: ignore[attr-defined]
    path = tracing.write(tmp_path / "t.jsonl")
    status, out, _ = run(capsys, path, "--fail-on-would-deny", "--html", tmp_path / "r.html")
    assert status == 0
    assert out.endswith("Would-deny gate: passed, no monitor-mode read would be refused.\n")


def test_would_denies_beyond_the_span_event_limit_still_fail_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracing = Tracing(span_limits=SpanLimits(max_events=1))
    purposeful.configure(mode=Mode.MONITOR)
    with use("service-delivery", actor=ADMINISTRATOR):
        record = case()
        _ = record.diagnosis  # type: ignore[attr-defined]
        _ = record.case_notes  # type: ignore[attr-defined]
    path = tracing.write(tmp_path / "t.jsonl")
    status, out, _ = run(capsys, path, "--fail-on-would-deny")
    assert status == 1
    assert "0 denied and 1 would-deny decisions are counted but not itemised" in out
    assert "failed, 2 would-deny decisions" in out
    assert "and 1 more not itemised (span event limit)" in out


# --- bad input -----------------------------------------------------------------------------


def hand_written_span(
    *, actor: str = "staff-0042", role: str = "caseworker", purpose: str = CASE_MANAGEMENT
) -> dict[str, Any]:
    """A ``purposeful.use`` span in OTLP JSON, written by hand."""
    attributes: dict[str, AttributeValue] = {
        "purposeful.purpose": purpose,
        "purposeful.actor.id": actor,
        "purposeful.actor.role": role,
        "purposeful.decisions.count": 1,
        "purposeful.denied.count": 0,
        "purposeful.would_deny.count": 0,
        "purposeful.withheld.count": 0,
        "purposeful.record_types": ["Case"],
        "purposeful.fields_read": ["Case.diagnosis"],
        "purposeful.scope.failed": False,
    }
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "purposeful.use",
        "kind": 1,
        "startTimeUnixNano": "1772442000000000000",
        "endTimeUnixNano": "1772442000250000000",
        "attributes": key_values(attributes),
        "status": {},
    }


def otlp_request(spans: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": spans}]}]}


def good_line() -> str:
    return json.dumps(otlp_request([hand_written_span()])) + "\n"


def with_attribute(name: str, value: dict[str, Any]) -> str:
    span = hand_written_span()
    for pair in span["attributes"]:
        if pair["key"] == name:
            pair["value"] = value
    return json.dumps(otlp_request([span])) + "\n"


@pytest.mark.parametrize(
    ("third_line", "message"),
    [
        ('{"resourceSpans": [\n', "3: is not valid JSON (column 20: Expecting value)"),
        ("[1, 2]\n", "3: is a JSON array, not an object"),
        ('{"resourceLogs": []}\n', "3: holds OTLP logs or metrics, not traces"),
        ('{"type": "scope"}\n', "3: is a ledger line, not OTLP JSON; pass ledger files with"),
        ('{"resourceSpans": {}}\n', "3: resourceSpans is a JSON object, not an array"),
        (
            with_attribute("purposeful.denied.count", {"stringValue": "one"}),
            "3: resourceSpans[0].scopeSpans[0].spans[0].attributes: purposeful.denied.count "
            "must be a whole number (intValue), not stringValue",
        ),
        (
            with_attribute("purposeful.purpose", {"intValue": "7"}),
            "3: resourceSpans[0].scopeSpans[0].spans[0].attributes: purposeful.purpose must "
            "be a string (stringValue), not intValue",
        ),
        (
            json.dumps(otlp_request([hand_written_span() | {"attributes": []}])) + "\n",
            "3: resourceSpans[0].scopeSpans[0].spans[0].attributes: has no purposeful.purpose",
        ),
        (
            good_line().replace('"1772442000000000000"', '"soon"'),
            "3: resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: must be nanoseconds",
        ),
    ],
    ids=[
        "bad-json", "array", "logs", "ledger-line", "not-a-list", "int-as-string",
        "string-as-int", "missing-attribute", "bad-time",
    ],
)  # fmt: skip
def test_a_malformed_line_exits_2_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], third_line: str, message: str
) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text(good_line() + "\n" + third_line + good_line())
    status, out, err = run(capsys, path)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(f"purposeful: error: {path}:{message}")
    assert "Traceback" not in err


def test_bytes_that_are_not_utf_8_are_named_by_line_and_chain_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(good_line().encode() + b'{"name": "\xff\xfe C-1001"}\n')
    with pytest.raises(ReportInputError, match=r":2: is not UTF-8 text") as caught:
        list(read_otlp_json(path))
    assert caught.value.line == 2
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None


def test_a_json_error_chains_nothing_that_could_quote_the_input(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"type": "scope", "actor": "C-1001" oops}\n')
    with pytest.raises(ReportInputError) as caught:
        list(read_ledger(path))
    assert caught.value.__context__ is None
    assert "C-1001" not in str(caught.value)


def test_a_missing_file_exits_2_before_anything_is_read(
    tmp_path: Path, traces: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.jsonl"
    status, out, err = run(capsys, traces, "--ledger", missing)
    assert (status, out) == (2, "")
    assert err == f"purposeful: error: {missing}: does not exist; check the path\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"type": "checkpoint"}\n', "1: is a checkpoint, not a ledger line"),
        (good_line(), "1: is OTLP JSON, not a ledger line"),
        ('{"type": "scope", "opened": "x"}\n', "1: opened must be an ISO 8601 time"),
        (
            '{"type": "scope", "decisions": [{"record": "Case", "field": "f", "outcome": "ok"}]}\n',
            "1: decisions[0]: outcome must be allowed, denied, would-deny or withheld",
        ),
    ],
    ids=["checkpoints", "otlp", "bad-time", "bad-outcome"],
)
def test_a_malformed_ledger_line_exits_2_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text(content)
    status, _, err = run(capsys, "--ledger", path)
    assert status == 2
    assert err.startswith(f"purposeful: error: {path}:{message}")


def test_a_single_pretty_printed_document_is_read_too(
    traces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(traces.read_text()), indent=2))
    assert pretty.read_text().count("\n") > 100
    status, out, _ = run(capsys, pretty)
    assert status == 0
    assert "Scopes: 4\n" in out


def test_an_error_deep_in_a_pretty_printed_document_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = json.dumps(otlp_request([hand_written_span()]), indent=2).splitlines()
    lines[20] += ","  # a trailing comma
    path = tmp_path / "pretty.json"
    path.write_text("\n".join(lines))
    status, _, err = run(capsys, path)
    assert status == 2
    assert err.startswith(f"purposeful: error: {path}:2")
    assert "is not valid JSON" in err


@pytest.mark.parametrize(
    "argv",
    [[], ["t.jsonl", "--subject", "C-1"], ["t.jsonl", "--key-file", "k"]],
    ids=["no-input", "subject-without-key", "key-without-subject"],
)
def test_usage_mistakes_are_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("purposeful: error:")
    assert "C-1" not in err


def test_report_input_error_pickles_with_its_path_and_line() -> None:
    error = ReportInputError("is not valid JSON", path=Path("t.jsonl"), line=3)
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.path, copy.line) == ("t.jsonl:3: is not valid JSON", Path("t.jsonl"), 3)


# --- progress ------------------------------------------------------------------------------


def test_a_progress_bar_is_drawn_on_a_terminal_and_wiped(
    traces: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    status, out, err = run(capsys, traces)
    assert status == 0
    assert "reading 100% [##############################]" in err
    assert err.endswith("\r")
    assert "\n" not in err
    assert "Scopes: 4" in out


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    traces: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    _, _, err = run(capsys, traces)
    assert err == ""


def test_progress_is_told_bytes_read_and_ends_at_the_total(traces: Path) -> None:
    seen: list[tuple[int, int]] = []
    build_report([traces], progress=lambda done, total: seen.append((done, total)))
    size = traces.stat().st_size
    assert seen[-1] == (size, size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


# --- the readers on their own --------------------------------------------------------------


def test_the_readers_yield_the_same_scope_from_a_span_and_a_ledger_line(tmp_path: Path) -> None:
    ledger_path = tmp_path / "audit.jsonl"
    tracing = Tracing()
    with Ledger(ledger_path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        purposeful.configure(sinks=[*purposeful.get_configuration().sinks, ledger])
        with use("service-delivery", actor=ADMINISTRATOR), contextlib.suppress(PurposeViolation):
            record = case()
            _ = record.address  # type: ignore[attr-defined]
            _ = record.diagnosis  # type: ignore[attr-defined]
    traces = tracing.write(tmp_path / "t.jsonl")
    (from_span,) = [e for e in read_otlp_json(traces) if isinstance(e, ScopeRecord)]
    (from_ledger,) = [e for e in read_ledger(ledger_path) if isinstance(e, ScopeRecord)]
    assert from_span == from_ledger
    assert from_span.record_types == ("Case",)
    assert from_span.fields_read == ("Case.address",)
    assert from_span.denied == 1


def test_a_ledger_line_from_before_subjects_reads_as_unknown(tmp_path: Path) -> None:
    line = {
        "type": "scope",
        "seq": 1,
        "opened": "2026-03-02T09:00:00.000000Z",
        "time": "2026-03-02T09:00:01.000000Z",
        "purpose": None,
        "actor": None,
        "role": None,
        "failed": False,
        "decisions": [
            {
                "record": "Case",
                "field": "diagnosis",
                "outcome": "would-deny",
                "reasons": ["no-scope"],
            }
        ],
    }
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(line) + "\n")
    (scope,) = read_ledger(path)
    assert scope == ScopeRecord(
        opened=datetime(2026, 3, 2, 9, tzinfo=UTC),
        closed=datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC),
        purpose=None,
        actor_id=None,
        actor_role=None,
        record_types=("Case",),
        fields_read=("Case.diagnosis",),
        denied=0,
        would_deny=1,
        refusals=(Refusal("would-deny", "Case", "diagnosis", ("no-scope",)),),
    )
    assert scope.subjects is None


def test_subject_query_needs_a_key_and_keeps_no_subject_id() -> None:
    pseudonym_key = PseudonymKey.generate()
    query = SubjectQuery.for_subject("C-1001", [pseudonym_key, pseudonym_key])
    assert query.pseudonyms == (pseudonym_key.pseudonym("C-1001"),)
    assert "C-1001" not in repr(query)
    with pytest.raises(purposeful.ConfigurationError, match="--key-file"):
        SubjectQuery.for_subject("C-1001", [])


def scope_record(opened: datetime, **changes: Any) -> ScopeRecord:
    values: dict[str, Any] = {
        "opened": opened,
        "closed": opened + timedelta(seconds=1),
        "purpose": CASE_MANAGEMENT,
        "actor_id": "staff-0042",
        "actor_role": "caseworker",
        "record_types": ("Case",),
        "fields_read": ("Case.diagnosis",),
        "denied": 0,
        "would_deny": 0,
    }
    return ScopeRecord(**(values | changes))


# --- no subject id, ever -------------------------------------------------------------------

subject_ids = st.text(min_size=1, max_size=12).map(lambda text: f"{SUBJECT_MARK}{text}")


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_keys(tmp_path_factory.mktemp("keys")).pseudonym_key


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scopes=st.lists(st.lists(subject_ids, min_size=1, max_size=4), min_size=1, max_size=4),
    cap=st.integers(min_value=0, max_value=3),
    data=st.data(),
)
def test_no_subject_id_ever_appears_in_any_output(
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
    scopes: list[list[str]],
    cap: int,
    data: st.DataObject,
) -> None:
    everyone = [subject for subjects in scopes for subject in subjects]
    asked = data.draw(st.one_of(st.sampled_from(everyone), subject_ids), label="asked")
    pseudonym_key = key(key_file)
    spans = []
    for subjects in scopes:
        span = hand_written_span()
        pseudonyms = sorted({pseudonym_key.pseudonym(subject) for subject in subjects})
        span["attributes"] += key_values(
            {
                "purposeful.subjects": pseudonyms[:cap],
                "purposeful.subjects.count": len(pseudonyms),
                "purposeful.subjects.overflow": len(pseudonyms) - len(pseudonyms[:cap]),
            }
        )
        spans.append(span)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.jsonl"
        path.write_text(json.dumps(otlp_request(spans)) + "\n")
        page = Path(folder) / "r.html"
        ask = ["--subject", asked, "--key-file", str(key_file)]
        said = [
            run(capsys, path, *ask),
            run(capsys, path, *ask, "--html", page, "--fail-on-would-deny"),
        ]
        said_text = "".join(out + err for _, out, err in said) + page.read_text(encoding="utf-8")
    assert all(status == 0 for status, _, _ in said)
    for subject in [*everyone, asked]:
        for form in (subject, html.escape(subject), json.dumps(subject)[1:-1]):
            assert form not in said_text
    assert SUBJECT_MARK not in said_text


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"purposeful.use",'
            '"startTimeUnixNano":"99999999999999999999999",'
            '"endTimeUnixNano":"99999999999999999999999"}]}]}]}',
            "1: resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: must be nanoseconds",
        ),
        ('{"resourceSpans":' * 3000 + "[]" + "}" * 3000, "1: is nested too deeply"),
    ],
    ids=["time-past-year-9999", "nested-too-deeply"],
)
def test_input_that_python_cannot_hold_is_malformed_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text(line + "\n")
    status, out, err = run(capsys, path)
    assert (status, out) == (2, "")
    assert err.startswith(f"purposeful: error: {path}:{message}")
    assert "Traceback" not in err


def test_a_scope_that_only_refused_is_a_refusal_not_an_access(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracing = Tracing()
    for _ in range(3):
        with use("funder-reporting", actor=FUNDER_JOB), contextlib.suppress(PurposeViolation):
            _ = case(client_id="C-1001").diagnosis  # type: ignore[attr-defined]
    purposeful.reset_configuration()
    status, out, _ = run(capsys, tracing.write(tmp_path / "traces.jsonl"))
    assert status == 0
    accesses = section(out, "Accesses by purpose, record type and actor")
    assert "funder-reporting" not in accesses
    assert "funder-reporting" in section(out, "Denials and would-denies")
