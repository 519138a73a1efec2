"""The trace file exporter: OTLP JSON lines the report reads, the official encoder's message
on every line, a batch whole or not at all, rotation that keeps every span once, and
failures that are results, not exceptions.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.json_format import ParseDict
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, StatusCode

import purposeful
from _records import ADMINISTRATOR, CASE_MANAGEMENT, CASEWORKER, FUNDER_JOB, case
from purposeful import Mode, PurposeViolation, use
from purposeful.audit import OTLPFileSpanExporter
from purposeful.audit.ledger import Ledger
from purposeful.audit.report import ScopeRecord, build_report, read_otlp_json
from purposeful.audit.spans import SpanSink
from purposeful.errors import ConfigurationError

# --- reading the file back -----------------------------------------------------------------


def lines(*paths: Path) -> list[str]:
    """The lines of the files: split at newlines only, as the report reads them."""
    return [
        line
        for path in paths
        for line in path.read_bytes().decode("utf-8").removesuffix("\n").split("\n")
    ]


def _base64_ids(mapped: dict[str, Any]) -> None:
    for key in ("traceId", "spanId", "parentSpanId"):
        if key in mapped:
            assert mapped[key] == mapped[key].lower()
            assert len(mapped[key]) == (32 if key == "traceId" else 16)
            mapped[key] = base64.b64encode(bytes.fromhex(mapped[key])).decode()


def parse_line(line: str) -> ExportTraceServiceRequest:
    """An OTLP JSON line as a message: hex ids back to the base64 protobuf's parser reads."""
    document = json.loads(line)
    for resource in document.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                _base64_ids(span)
                for link in span.get("links", []):
                    _base64_ids(link)
    request = ExportTraceServiceRequest()
    ParseDict(document, request)
    return request


def span_names(request: ExportTraceServiceRequest) -> list[str]:
    return [
        f"{span.span_id.hex()} {span.name}"
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


# --- making spans --------------------------------------------------------------------------


class Spans:
    """A tracer provider whose spans go to an in-memory exporter and to *exporter*."""

    def __init__(self, exporter: OTLPFileSpanExporter | None = None, *, batch: bool = False):
        self.provider = TracerProvider(shutdown_on_exit=False)
        self.memory = InMemorySpanExporter()
        self.provider.add_span_processor(SimpleSpanProcessor(self.memory))
        if exporter is not None:
            processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
            self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("test_otlp_file")

    def make(self, count: int, **attributes: Any) -> Sequence[ReadableSpan]:
        """*count* ended spans, taken back from the in-memory exporter."""
        for number in range(count):
            with self.tracer.start_as_current_span(f"span-{number}", attributes=attributes):
                pass
        made = self.memory.get_finished_spans()
        self.memory.clear()
        return made


@pytest.fixture
def spans() -> Spans:
    return Spans()


def purposeful_scopes() -> None:
    """Four scopes: reads, a refusal (enforce mode) and a would-deny (monitor mode)."""
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case(client_id="C-1001").diagnosis  # type: ignore[attr-defined]
        _ = case(client_id="C-1002").diagnosis  # type: ignore[attr-defined]
    with use("service-delivery", actor=ADMINISTRATOR), contextlib.suppress(PurposeViolation):
        record = case(client_id="C-1001")
        _ = record.address  # type: ignore[attr-defined]
        _ = record.diagnosis  # type: ignore[attr-defined]
    purposeful.configure(purpose_modes={"funder-reporting": Mode.MONITOR})
    with use("funder-reporting", actor=FUNDER_JOB):
        record = case(client_id="C-1003")
        _ = record.address  # type: ignore[attr-defined]
        _ = record.diagnosis  # type: ignore[attr-defined]
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case(client_id="C-1003").diagnosis  # type: ignore[attr-defined]


# --- the round trip ------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [False, True], ids=["simple", "batch"])
def test_the_report_reads_from_the_file_what_the_sdk_exported(tmp_path: Path, batch: bool) -> None:
    path = tmp_path / "traces.jsonl"
    tracing = Spans(OTLPFileSpanExporter(path), batch=batch)
    ledger_path = tmp_path / "audit.jsonl"
    with Ledger(ledger_path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        purposeful.configure(sinks=[SpanSink(tracing.provider), ledger])
        purposeful_scopes()
        purposeful.audit.flush()
    tracing.provider.shutdown()  # a batch processor exports what it holds

    saw = {
        span.context.span_id: span
        for span in tracing.memory.get_finished_spans()
        if span.name == "purposeful.use"
    }
    records = [entry for entry in read_otlp_json(path) if isinstance(entry, ScopeRecord)]
    assert len(records) == len(saw) == 4
    by_start = {span.start_time: span for span in saw.values()}
    for record in records:
        span = by_start[int(record.opened.timestamp() * 1_000_000) * 1000]
        attributes = span.attributes or {}
        assert record.purpose == attributes["purposeful.purpose"]
        assert record.actor_id == attributes["purposeful.actor.id"]
        assert record.fields_read == attributes["purposeful.fields_read"]
        assert record.subjects == attributes["purposeful.subjects"]
        assert record.denied == attributes["purposeful.denied.count"]
        assert record.would_deny == attributes["purposeful.would_deny.count"]
        refused = [(e.name, (e.attributes or {})["purposeful.field"]) for e in span.events]
        assert [
            ("purposeful.denied" if r.outcome == "denied" else "purposeful.would_deny", r.field)
            for r in record.refusals
        ] == refused

    from_traces = build_report([path])
    from_ledger = build_report(ledgers=[ledger_path])
    assert from_traces.scopes == from_ledger.scopes == 4
    assert from_traces.accesses == from_ledger.accesses
    assert from_traces.refusals == from_ledger.refusals
    assert (from_traces.denied, from_traces.would_deny) == (1, 1)


def test_each_line_is_the_official_encoders_request_in_otlp_json(
    tmp_path: Path, spans: Spans
) -> None:
    tracer = spans.tracer
    with (
        tracer.start_as_current_span("request", kind=SpanKind.SERVER) as parent,
        tracer.start_as_current_span(
            "child", links=[Link(parent.get_span_context(), {"why": "because"})]
        ) as child,
    ):
        child.set_status(StatusCode.ERROR, "refused")
        child.add_event("noted", {"count": 3})
    made = spans.make(0)
    exporter = OTLPFileSpanExporter(tmp_path / "t.jsonl")
    assert exporter.export(made) is SpanExportResult.SUCCESS

    (line,) = lines(exporter.path)
    raw = json.loads(line)
    child_json, parent_json = raw["resourceSpans"][0]["scopeSpans"][0]["spans"]
    # OTLP JSON, not protobuf's generic mapping: hex ids, integer enums, camelCase keys
    assert parent_json["spanId"] == f"{made[1].context.span_id:016x}"
    assert parent_json["traceId"] == f"{made[1].context.trace_id:032x}"
    assert child_json["parentSpanId"] == parent_json["spanId"]
    assert child_json["links"][0]["spanId"] == parent_json["spanId"]
    assert parent_json["kind"] == 2  # SPAN_KIND_SERVER
    assert child_json["status"] == {"code": 2, "message": "refused"}
    assert child_json["startTimeUnixNano"] == str(made[0].start_time)
    assert child_json["events"][0]["attributes"] == [{"key": "count", "value": {"intValue": "3"}}]
    assert parse_line(line) == encode_spans(made)


_ATTRIBUTE_VALUES = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(st.characters(exclude_categories=["Cs"])),
    st.lists(st.text(st.characters(exclude_categories=["Cs"])), max_size=3),
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=3),
)
_ATTRIBUTES = st.dictionaries(st.text(min_size=1, max_size=8), _ATTRIBUTE_VALUES, max_size=4)


@settings(max_examples=60)
@given(
    name=st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
    attributes=_ATTRIBUTES,
    events=st.lists(st.tuples(st.text(max_size=8), _ATTRIBUTES), max_size=3),
)
def test_any_attributes_and_events_round_trip_through_a_line(
    name: str, attributes: dict[str, Any], events: list[tuple[str, dict[str, Any]]]
) -> None:
    spans = Spans()
    with spans.tracer.start_as_current_span(name, attributes=attributes) as span:
        for event_name, event_attributes in events:
            span.add_event(event_name, event_attributes)
    made = spans.make(0)
    with _folder() as folder:
        exporter = OTLPFileSpanExporter(folder / "t.jsonl")
        assert exporter.export(made) is SpanExportResult.SUCCESS
        (line,) = lines(exporter.path)
    assert parse_line(line) == encode_spans(made)


@contextlib.contextmanager
def _folder() -> Iterator[Path]:
    """A temporary directory for one example (hypothesis reuses a test's fixtures)."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


# --- writing -------------------------------------------------------------------------------


def test_a_batch_is_one_line_and_batches_append(tmp_path: Path, spans: Spans) -> None:
    exporter = OTLPFileSpanExporter(tmp_path / "t.jsonl")
    first, second = spans.make(3), spans.make(2)
    assert exporter.export(first) is SpanExportResult.SUCCESS
    assert exporter.export(second) is SpanExportResult.SUCCESS
    assert [len(span_names(parse_line(line))) for line in lines(exporter.path)] == [3, 2]


def test_the_file_is_made_for_its_owner_only_and_an_empty_batch_writes_nothing(
    tmp_path: Path, spans: Spans
) -> None:
    exporter = OTLPFileSpanExporter(tmp_path / "t.jsonl")
    assert exporter.export([]) is SpanExportResult.SUCCESS
    assert not exporter.path.exists()
    exporter.export(spans.make(1))
    assert exporter.path.stat().st_mode & 0o777 == 0o600


def test_after_shutdown_a_batch_fails_and_flush_has_nothing_to_wait_for(
    tmp_path: Path, spans: Spans
) -> None:
    exporter = OTLPFileSpanExporter(tmp_path / "t.jsonl")
    assert exporter.force_flush() is True
    exporter.shutdown()
    assert exporter.export(spans.make(1)) is SpanExportResult.FAILURE
    assert not exporter.path.exists()


@pytest.mark.parametrize(
    ("options", "problem"),
    [({"max_bytes": 0}, "max_bytes must be 1 or more"), ({"backups": 0}, "backups must be 1")],
)
def test_rotation_settings_are_checked(
    tmp_path: Path, options: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        OTLPFileSpanExporter(tmp_path / "t.jsonl", **options)


def test_two_threads_exporting_never_interleave_lines(tmp_path: Path, spans: Spans) -> None:
    exporter = OTLPFileSpanExporter(tmp_path / "t.jsonl")
    batches = [spans.make(20, padding="x" * 4000) for _ in range(8)]
    start = threading.Barrier(2)

    def export(mine: list[Sequence[ReadableSpan]]) -> None:
        start.wait()
        for _ in range(10):
            for batch in mine:
                assert exporter.export(batch) is SpanExportResult.SUCCESS

    threads = [threading.Thread(target=export, args=(batches[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = lines(exporter.path)
    assert len(written) == 80
    assert sorted(len(span_names(parse_line(line))) for line in written) == [20] * 80


# --- rotation ------------------------------------------------------------------------------


def test_rotation_by_size_keeps_every_span_exactly_once(tmp_path: Path, spans: Spans) -> None:
    path = tmp_path / "t.jsonl"
    exporter = OTLPFileSpanExporter(path, max_bytes=2500, backups=50)
    made: list[str] = []
    for size in (1, 3, 2, 5, 1, 4, 2, 3, 1, 6):
        batch = spans.make(size)
        made += [f"{span.context.span_id:016x} {span.name}" for span in batch]
        assert exporter.export(batch) is SpanExportResult.SUCCESS
    files = [path, *sorted(tmp_path.glob("t.jsonl.*"))]
    assert len(files) > 2
    for file in files:
        content = file.read_bytes()
        assert len(content) <= 2500 or content.count(b"\n") == 1  # a big batch stands alone
        assert content.endswith(b"\n")
        assert file.stat().st_mode & 0o777 == 0o600
    found = [name for line in lines(*files) for name in span_names(parse_line(line))]
    assert sorted(found) == sorted(made)
    report = build_report(files)
    assert sum(count for source in report.sources for _, count in source.ignored) == len(made)


def test_rotation_keeps_the_newest_backups_and_drops_the_oldest(
    tmp_path: Path, spans: Spans
) -> None:
    path = tmp_path / "t.jsonl"
    exporter = OTLPFileSpanExporter(path, max_bytes=1, backups=2)
    batches = [spans.make(1) for _ in range(5)]
    for batch in batches:
        exporter.export(batch)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl", "t.jsonl.1", "t.jsonl.2"]

    def only(file: Path) -> int:
        (line,) = lines(file)
        (name,) = span_names(parse_line(line))
        return int(name.split()[0], 16)

    newest = [batch[0].context.span_id for batch in batches[-3:]]
    assert [only(tmp_path / n) for n in ("t.jsonl.2", "t.jsonl.1", "t.jsonl")] == newest


# --- failures ------------------------------------------------------------------------------


def test_a_removed_directory_fails_the_batch_and_logs_once_without_span_content(
    tmp_path: Path, spans: Spans, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "traces"
    folder.mkdir()
    exporter = OTLPFileSpanExporter(folder / "t.jsonl")
    assert exporter.export(spans.make(1)) is SpanExportResult.SUCCESS
    (folder / "t.jsonl").unlink()
    folder.rmdir()
    secret = spans.make(1, client="C-SECRET")
    with caplog.at_level(logging.ERROR, logger="purposeful"):
        assert exporter.export(secret) is SpanExportResult.FAILURE
        assert exporter.export(secret) is SpanExportResult.FAILURE
    (logged,) = caplog.records
    assert "No such file or directory" in logged.getMessage()
    assert "C-SECRET" not in caplog.text
    assert "span-0" not in caplog.text

    folder.mkdir()  # back again: the next batch is written, and a new failure is logged
    assert exporter.export(secret) is SpanExportResult.SUCCESS
    folder.joinpath("t.jsonl").unlink()
    folder.rmdir()
    with caplog.at_level(logging.ERROR, logger="purposeful"):
        assert exporter.export(secret) is SpanExportResult.FAILURE
    assert len(caplog.records) == 2


def test_a_path_that_is_a_directory_fails_the_batch(tmp_path: Path, spans: Spans) -> None:
    exporter = OTLPFileSpanExporter(tmp_path)
    assert exporter.export(spans.make(1)) is SpanExportResult.FAILURE


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes any file")
def test_a_read_only_file_fails_the_batch_and_is_left_as_it_was(
    tmp_path: Path, spans: Spans
) -> None:
    exporter = OTLPFileSpanExporter(tmp_path / "t.jsonl")
    exporter.export(spans.make(1))
    before = exporter.path.read_bytes()
    exporter.path.chmod(0o400)
    assert exporter.export(spans.make(1)) is SpanExportResult.FAILURE
    assert exporter.path.read_bytes() == before


@pytest.mark.parametrize("then_raise", [False, True], ids=["short write", "error mid-write"])
def test_a_write_cut_short_leaves_no_partial_line(
    tmp_path: Path, spans: Spans, monkeypatch: pytest.MonkeyPatch, then_raise: bool
) -> None:
    exporter = OTLPFileSpanExporter(tmp_path / "t.jsonl")
    exporter.export(spans.make(2))
    before = exporter.path.read_bytes()
    real_write = os.write

    def half(descriptor: int, data: bytes) -> int:
        written = real_write(descriptor, data[: len(data) // 2])
        if then_raise:
            raise OSError(errno.ENOSPC, "No space left on device")
        return written

    monkeypatch.setattr(os, "write", half)
    assert exporter.export(spans.make(3)) is SpanExportResult.FAILURE
    monkeypatch.undo()
    assert exporter.path.read_bytes() == before
    assert exporter.export(spans.make(1)) is SpanExportResult.SUCCESS
    assert [len(span_names(parse_line(line))) for line in lines(exporter.path)] == [2, 1]


def test_without_the_otel_extra_the_import_names_it() -> None:
    script = (
        "import sys; sys.modules['opentelemetry.sdk'] = None\n"
        "from purposeful.errors import MissingExtra\n"
        "import purposeful.audit\n"
        "try:\n"
        "    purposeful.audit.OTLPFileSpanExporter\n"
        "except MissingExtra as error:\n"
        "    print(error.extra, '|', error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.startswith("otel | ")
    assert "pip install 'purposeful[otel]'" in out
