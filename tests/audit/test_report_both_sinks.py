"""A service with both audit sinks writes every scope part twice, as a span and as a ledger
line: a report (or archive) given both kinds of file counts each part once, from the
ledger, in every engine, and lists the trace copies it left out among what the trace file
ignored.

The files are written twice over: by a real `Ledger` and `SpanSink` (through the
OpenTelemetry SDK and purposeful's `TraceFileExporter`), and by hand from generated scopes
(`_audit_inputs`), whose parts each kind of file holds only some of, as a sampler or a
missing ledger file would leave them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import purposeful
from _audit_inputs import (
    MONDAY,
    HandPart,
    HandScope,
    hand_parts,
    ledger_line,
    ledger_text,
    span,
    traces_text,
)
from _records import ADMINISTRATOR, CASE_MANAGEMENT, CASEWORKER, case
from purposeful import PurposeViolation, use
from purposeful.audit import PseudonymKey, TraceFileExporter
from purposeful.audit.history import SubjectQuery
from purposeful.audit.ledger import Ledger
from purposeful.audit.report import Report, ReportDatabase, build_report, render_text
from purposeful.audit.report.reading import LEDGER_INPUT, OTLP_JSON_INPUT
from purposeful.audit.report.records import ScopeRecord
from purposeful.audit.spans import SpanSink
from purposeful.breach import Trail
from purposeful.cli import main

#: What a trace file's parts a ledger holds are listed as, among what the file ignored.
ALSO_IN_A_LEDGER = "parts also in a ledger"
PEOPLE = tuple(f"{key}:{n:032x}" for key in ("0a0b0c0d", "1a2b3c4d") for n in (1, 2, 3))
NAMES = ("Case.diagnosis", "Case.address", "Note.text")


def figures(report: Report) -> Report:
    """*report* without its sources: what it counts."""
    return attrs.evolve(report, sources=())


def every_engine(
    traces: Sequence[Path],
    ledgers: Sequence[Path],
    archive: Path,
    subject: SubjectQuery | None = None,
) -> Report:
    """The report of the files from the streaming reader; DuckDB, from the files and from
    an archive of them, must give the same (about one person, what its page shows)."""
    streamed = build_report(traces, ledgers, subject=subject)
    with ReportDatabase.from_files(traces, ledgers) as database:
        queried = database.report(subject=subject)
        database.to_parquet(archive)
    with ReportDatabase.from_parquet(archive) as database:
        archived = database.report(subject=subject)
    for other in (queried, archived):
        if subject is None:
            assert other == streamed
        else:
            assert other.subject == streamed.subject
            assert (other.sources, other.scopes, other.refusals) == (
                streamed.sources,
                streamed.scopes,
                streamed.refusals,
            )
        assert render_text(other) == render_text(streamed)
    return streamed


# --- real sinks ------------------------------------------------------------------------------


@pytest.fixture
def both_sinks(tmp_path: Path) -> tuple[Path, Path, PseudonymKey]:
    """Scopes written by a service with both sinks: a trace file and a ledger."""
    traces = tmp_path / "traces.jsonl"
    ledger_path = tmp_path / "audit.jsonl"
    pseudonyms = PseudonymKey.generate()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(TraceFileExporter(traces)))
    with Ledger(ledger_path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        purposeful.configure(
            sinks=[SpanSink(tracer_provider=provider), ledger],
            pseudonymise=pseudonyms.pseudonym,
        )
        try:
            with use(CASE_MANAGEMENT, actor=CASEWORKER):
                _ = case(client_id="C-1001").diagnosis  # type: ignore[attr-defined]
            with use(CASE_MANAGEMENT, actor=CASEWORKER):
                _ = case(client_id="C-1002").diagnosis  # type: ignore[attr-defined]
            with (
                use("service-delivery", actor=ADMINISTRATOR),
                contextlib.suppress(PurposeViolation),
            ):
                record = case(client_id="C-1001")
                _ = record.address  # type: ignore[attr-defined]
                _ = record.diagnosis  # type: ignore[attr-defined]
        finally:
            purposeful.reset_configuration()
    provider.shutdown()
    return traces, ledger_path, pseudonyms


def test_a_scope_sent_to_both_sinks_counts_once_from_the_ledger_in_every_engine(
    both_sinks: tuple[Path, Path, PseudonymKey], tmp_path: Path
) -> None:
    traces, ledger, _ = both_sinks
    alone = every_engine([], [ledger], tmp_path / "alone")
    both = every_engine([traces], [ledger], tmp_path / "both")
    assert alone.scopes == 3
    assert figures(both) == figures(alone)
    assert [(s.format, s.scopes, s.ignored) for s in both.sources] == [
        (LEDGER_INPUT, 3, (("ledger headers", 1),)),
        (OTLP_JSON_INPUT, 0, ((ALSO_IN_A_LEDGER, 3),)),
    ]
    text = " ".join(render_text(both).split())
    assert "3 parts also in a ledger" in text
    assert "counted once, from the ledger" in text
    assert "counted twice" not in text


def test_the_command_and_an_archive_count_each_scope_once(
    both_sinks: tuple[Path, Path, PseudonymKey],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    traces, ledger, _ = both_sinks
    for engine in ("duckdb", "stream"):
        assert (
            main(["audit", "report", str(traces), "--ledger", str(ledger), "--engine", engine]) == 0
        )
        assert "\nScopes: 3\n" in capsys.readouterr().out
    archive = tmp_path / "archive"
    assert (
        main(["audit", "convert", str(traces), "--ledger", str(ledger), "--to", str(archive)]) == 0
    )
    capsys.readouterr()
    assert main(["audit", "report", "--from", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "\nScopes: 3\n" in out
    assert "3 parts also in a ledger" in out


def test_one_persons_accesses_count_once(
    both_sinks: tuple[Path, Path, PseudonymKey], tmp_path: Path
) -> None:
    traces, ledger, pseudonyms = both_sinks
    person = SubjectQuery((pseudonyms.pseudonym("C-1001"),))
    alone = every_engine([], [ledger], tmp_path / "alone", person)
    both = every_engine([traces], [ledger], tmp_path / "both", person)
    assert alone.subject is not None
    assert len(alone.subject.accesses) == 2
    assert both.subject == alone.subject


def test_a_ledger_given_twice_counts_twice_and_its_trace_copies_not_at_all(
    both_sinks: tuple[Path, Path, PseudonymKey], tmp_path: Path
) -> None:
    traces, ledger, _ = both_sinks
    twice = every_engine([], [ledger, ledger], tmp_path / "twice")
    both = every_engine([traces], [ledger, ledger], tmp_path / "both")
    assert twice.scopes == 6  # as before: a file given twice is read twice
    assert figures(both) == figures(twice)
    assert both.sources[-1].ignored == ((ALSO_IN_A_LEDGER, 3),)


def test_a_trace_file_given_twice_has_every_copy_left_out(
    both_sinks: tuple[Path, Path, PseudonymKey], tmp_path: Path
) -> None:
    traces, ledger, _ = both_sinks
    alone = every_engine([], [ledger], tmp_path / "alone")
    both = every_engine([traces, traces], [ledger], tmp_path / "both")
    assert figures(both) == figures(alone)
    assert [s.ignored for s in both.sources[1:]] == [((ALSO_IN_A_LEDGER, 3),)] * 2


def test_the_breach_trail_counts_each_scope_once_on_both_engines(
    both_sinks: tuple[Path, Path, PseudonymKey],
) -> None:
    traces, ledger, _ = both_sinks
    counted = []
    for engine in ("duckdb", "stdlib"):
        with contextlib.closing(Trail.from_files([traces], [ledger], engine=engine)) as trail:
            counted.append(
                trail.query("SELECT count(*), count(DISTINCT scope_key) FROM scope_parts")
            )
    assert counted[0] == counted[1]
    assert tuple(counted[0][0]) == (3, 3)


# --- generated scopes, each kind of file holding some of their parts -------------------------


@st.composite
def scopes(draw: st.DrawFn) -> list[HandScope]:
    """Scopes with distinct ids, of one to three parts, the last marked or not."""
    ids = draw(st.lists(st.sampled_from(["s1", "s2", "s3", "s4", "s5"]), unique=True, max_size=5))
    found = []
    for scope_id in ids:
        scoped = draw(st.booleans()) or scope_id != "s5"
        found.append(
            HandScope(
                scope_id=scope_id,
                parts=tuple(draw(st.lists(hand_parts(NAMES, PEOPLE), min_size=1, max_size=3))),
                opened=MONDAY + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60))),
                purpose=CASE_MANAGEMENT if scoped else None,
                actor=draw(st.sampled_from(["staff-1", "staff-2"])) if scoped else None,
                role="caseworker" if scoped else None,
                final=draw(st.booleans()),
                site=None if scoped else ("app.py", "run", 7),
            )
        )
    return found


@attrs.frozen
class Files:
    """Which parts each kind of file holds: (scope, part number) in the order written."""

    ledger: list[tuple[HandScope, int]]
    traces: list[tuple[HandScope, int]]
    old_spans: list[HandScope]  # spans with no scope id, as written before ids


@st.composite
def files(draw: st.DrawFn, *, traces_in_ledger: bool = False) -> Files:
    """The ledger holds most parts; the traces a sample of them, and parts no ledger
    holds (unless *traces_in_ledger*), in drawn orders."""
    found = draw(scopes())
    parts = [(scope, n) for scope in found for n in range(len(scope.parts))]
    in_ledger = [part for part in parts if draw(st.integers(0, 4))]  # a ledger file missing
    sample = parts if not traces_in_ledger else in_ledger
    in_traces = [part for part in sample if draw(st.booleans())]
    old = draw(st.lists(st.sampled_from(found), max_size=2)) if found else []
    return Files(
        draw(st.permutations(in_ledger)),
        draw(st.permutations(in_traces)),
        [attrs.evolve(scope, parts=scope.parts[:1], final=True) for scope in old],
    )


def write(folder: Path, found: Files) -> tuple[Path, Path]:
    traces, ledger = folder / "traces.jsonl", folder / "audit.jsonl"
    spans = [span(scope, n) for scope, n in found.traces]
    spans += [span(scope, 0, per_person=False) for scope in found.old_spans]
    traces.write_text(traces_text(spans[: len(spans) // 2]) + traces_text(spans[len(spans) // 2 :]))
    lines = [ledger_line(scope, n, seq) for seq, (scope, n) in enumerate(found.ledger, start=1)]
    ledger.write_text(ledger_text(lines))
    return traces, ledger


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(found=files(traces_in_ledger=True), person=st.sampled_from(PEOPLE))
def test_traces_of_parts_a_ledger_holds_add_nothing_in_every_engine(
    tmp_path_factory: pytest.TempPathFactory, found: Files, person: str
) -> None:
    folder = tmp_path_factory.mktemp("generated")
    traces, ledger = write(folder, attrs.evolve(found, old_spans=[]))
    alone = every_engine([], [ledger], folder / "alone")
    both = every_engine([traces], [ledger], folder / "both")
    assert figures(both) == figures(alone)
    assert both.sources[1].scopes == 0
    assert both.sources[1].ignored == (
        ((ALSO_IN_A_LEDGER, len(found.traces)),) if found.traces else ()
    )
    asked = SubjectQuery((person,))
    alone = every_engine([], [ledger], folder / "alone-asked", asked)
    both = every_engine([traces], [ledger], folder / "both-asked", asked)
    assert both.subject == alone.subject


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(found=files(), person=st.sampled_from(PEOPLE))
def test_every_engine_agrees_when_each_kind_holds_some_parts(
    tmp_path_factory: pytest.TempPathFactory, found: Files, person: str
) -> None:
    folder = tmp_path_factory.mktemp("generated")
    traces, ledger = write(folder, found)
    report = every_engine([traces], [ledger], folder / "all")
    every_engine([traces], [ledger], folder / "asked", SubjectQuery((person,)))
    every_engine([traces, traces], [ledger, ledger], folder / "twice")
    left_out = sum(
        (scope.scope_id, n) in {(s.scope_id, m) for s, m in found.ledger}
        for scope, n in found.traces
    )
    assert dict(report.sources[1].ignored).get(ALSO_IN_A_LEDGER, 0) == left_out
    # a scope counts once whichever kind of file its parts came from, and spans with no
    # scope id (older inputs) are never taken for a ledger's: each counts
    ids = {scope.scope_id for scope, _ in [*found.ledger, *found.traces]}
    assert report.scopes >= len(ids) + len(found.old_spans)


def hand_part(n: int = 0) -> HandPart:
    """A part that read one field of one person, *n* hours after its scope opened."""
    return HandPart(
        reads={PEOPLE[n % len(PEOPLE)]: frozenset({NAMES[n % len(NAMES)]})},
        after=timedelta(hours=n + 1),
    )


def record(scope_id: str | None, part: int) -> ScopeRecord:
    return ScopeRecord(
        opened=MONDAY,
        closed=MONDAY,
        purpose=None,
        actor_id=None,
        actor_role=None,
        record_types=(),
        fields_read=(),
        denied=0,
        would_deny=0,
        scope_id=scope_id,
        part=part,
        final=False,
    )


def test_a_scope_a_ledger_holds_only_some_parts_of_is_completed_by_the_traces(
    tmp_path: Path,
) -> None:
    scope = HandScope("s1", tuple(hand_part(n) for n in range(3)))
    (tmp_path / "whole").mkdir()
    (tmp_path / "cut").mkdir()
    _, ledger = write(tmp_path / "whole", Files([(scope, n) for n in range(3)], [], []))
    # the last part's ledger line is in a file not given; the traces hold every part
    traces, partial = write(
        tmp_path / "cut", Files([(scope, 0), (scope, 1)], [(scope, n) for n in range(3)], [])
    )
    expected = every_engine([], [ledger], tmp_path / "expected")
    both = every_engine([traces], [partial], tmp_path / "both")
    assert (both.scopes, both.incomplete_scopes) == (1, 0)
    assert figures(both) == figures(expected)
    assert both.sources[1].ignored == ((ALSO_IN_A_LEDGER, 2),)
    assert (both.sources[0].scopes, both.sources[1].scopes) == (1, 0)


def test_a_span_with_no_scope_id_is_never_taken_for_a_ledgers_part(tmp_path: Path) -> None:
    scope = HandScope("s1", (hand_part(),))
    traces, ledger = write(tmp_path, Files([(scope, 0)], [], [scope]))
    report = every_engine([traces], [ledger], tmp_path / "archive")
    assert report.scopes == 2
    assert report.sources[1].ignored == ()


def test_ledger_parts_are_found_by_id_and_number_only() -> None:
    from purposeful.audit.report.records import LedgerParts

    parts = LedgerParts()
    assert not parts.holds("s1", 0)
    for scope_id, part in [("s1", 0), ("s1", 2), ("\udcff\u00e9", 1)]:
        parts.add(record(scope_id, part))
    parts.add(record(None, 0))  # no id: never noted
    assert len(parts) == 3
    assert [parts.holds(*key) for key in [("s1", 0), ("s1", 2), ("\udcff\u00e9", 1)]] == [True] * 3
    assert [parts.holds(*key) for key in [("s1", 1), ("s2", 0), (None, 0), ("0:s1", 0)]] == [
        False
    ] * 4
    parts.add(record("s2", 0))  # noted after a lookup: found too
    assert parts.holds("s2", 0)
