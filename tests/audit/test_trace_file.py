"""The trace file exporter: OTLP JSON lines the report reads, the official encoder's mapping
on every line, a batch whole or not at all, rotation that keeps every span once, and
failures that are results, not exceptions.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.json_format import MessageToDict
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)

import purposeful
from _records import ADMINISTRATOR, CASE_MANAGEMENT, CASEWORKER, FUNDER_JOB, case
from purposeful import Mode, PurposeViolation, use
from purposeful.audit import TraceFileExporter
from purposeful.audit.ledger import Ledger
from purposeful.audit.report import ScopeRecord, build_report, read_otlp_json
from purposeful.audit.spans import SpanSink
from purposeful.errors import ConfigurationError, ReportInputError

# --- reading the file back -----------------------------------------------------------------


def lines(*paths: Path) -> list[str]:
    """The lines of the files: split at newlines only, as the report reads them."""
    return [
        line
        for path in paths
        for line in path.read_bytes().decode("utf-8").removesuffix("\n").split("\n")
    ]


def _hex_ids(mapped: Any) -> None:
    """protobuf's json_format writes bytes in base64; OTLP JSON writes the ids in hex."""
    if isinstance(mapped, dict):
        for key in ("traceId", "spanId", "parentSpanId"):
            if isinstance(mapped.get(key), str):
                mapped[key] = base64.b64decode(mapped[key]).hex()
        for value in mapped.values():
            _hex_ids(value)
    elif isinstance(mapped, list):
        for value in mapped:
            _hex_ids(value)


def reference(spans: Sequence[ReadableSpan]) -> Any:
    """The official encoder's request for *spans* in OTLP JSON, as parsed JSON."""
    mapped = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    _hex_ids(mapped)
    return mapped


def span_ids(line: str) -> list[str]:
    return [
        span["spanId"]
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]


def only_span(line: str) -> dict[str, Any]:
    (resource,) = json.loads(line)["resourceSpans"]
    (scope,) = resource["scopeSpans"]
    (span,) = scope["spans"]
    return cast(dict[str, Any], span)


# --- making spans --------------------------------------------------------------------------


class Spans:
    """A tracer provider whose spans go to an in-memory exporter and to *exporter*."""

    def __init__(
        self,
        exporter: TraceFileExporter | None = None,
        *,
        batch: bool = False,
        resource: Resource | None = None,
    ) -> None:
        self.provider = TracerProvider(shutdown_on_exit=False, resource=resource)
        self.memory = InMemorySpanExporter()
        self.provider.add_span_processor(SimpleSpanProcessor(self.memory))
        if exporter is not None:
            typed = cast(SpanExporter, exporter)  # duck-typed: the processors call 3 methods
            processor = BatchSpanProcessor(typed) if batch else SimpleSpanProcessor(typed)
            self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("test_trace_file")

    def make(self, count: int, **attributes: Any) -> Sequence[ReadableSpan]:
        """*count* ended spans, taken back from the in-memory exporter."""
        for number in range(count):
            with self.tracer.start_as_current_span(f"span-{number}", attributes=attributes):
                pass
        return self.taken()

    def taken(self) -> Sequence[ReadableSpan]:
        made = self.memory.get_finished_spans()
        self.memory.clear()
        return made


@pytest.fixture
def spans() -> Spans:
    return Spans()


@contextlib.contextmanager
def _folder() -> Iterator[Path]:
    """A temporary directory for one example (hypothesis reuses a test's fixtures)."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


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
    tracing = Spans(TraceFileExporter(path), batch=batch)
    ledger_path = tmp_path / "audit.jsonl"
    with Ledger(ledger_path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        purposeful.configure(sinks=[SpanSink(tracing.provider), ledger])
        purposeful_scopes()
        purposeful.audit.flush()
    tracing.provider.shutdown()  # a batch processor exports what it holds

    saw = [span for span in tracing.memory.get_finished_spans() if span.name == "purposeful.use"]
    records = [entry for entry in read_otlp_json(path) if isinstance(entry, ScopeRecord)]
    assert len(records) == len(saw) == 4
    by_start = {span.start_time: span for span in saw}
    for record in records:
        span = by_start[int(record.opened.timestamp() * 1_000_000) * 1000]
        attributes = span.attributes or {}
        assert record.purpose == attributes["purposeful.purpose"]
        assert record.actor_id == attributes["purposeful.actor.id"]
        assert record.fields_read == attributes["purposeful.fields_read"]
        listed = str(attributes["purposeful.subjects"])  # edition 2: one string
        assert record.subjects == (tuple(listed.split(" ")) if listed else ())
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
    for line in lines(path):  # every line is the official encoder's, purposeful's spans too
        assert json.loads(line)["resourceSpans"]


def test_each_line_is_the_official_encoders_request_in_otlp_json(
    tmp_path: Path, spans: Spans
) -> None:
    tracer = spans.tracer
    remote = SpanContext(0xAB, 0xCD, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    with (
        tracer.start_as_current_span("request", kind=SpanKind.SERVER) as parent,
        tracer.start_as_current_span(
            "child", links=[Link(parent.get_span_context(), {"why": "because"})]
        ) as child,
    ):
        child.set_status(StatusCode.ERROR, "refused")
        child.add_event("noted", {"count": 3})
    with tracer.start_as_current_span(
        "from afar", context=set_span_in_context(NonRecordingSpan(remote))
    ):
        pass
    made = spans.taken()
    exporter = TraceFileExporter(tmp_path / "t.jsonl")
    assert exporter.export(made) is True

    (line,) = lines(exporter.path)
    raw = json.loads(line)
    child_json, parent_json, remote_json = raw["resourceSpans"][0]["scopeSpans"][0]["spans"]
    # OTLP JSON, not protobuf's generic mapping: hex ids, integer enums, camelCase keys
    assert parent_json["spanId"] == f"{made[1].context.span_id:016x}"
    assert parent_json["traceId"] == f"{made[1].context.trace_id:032x}"
    assert child_json["parentSpanId"] == parent_json["spanId"]
    assert child_json["links"][0]["spanId"] == parent_json["spanId"]
    assert parent_json["kind"] == 2  # SPAN_KIND_SERVER
    assert child_json["kind"] == 1  # SPAN_KIND_INTERNAL
    assert child_json["status"] == {"code": 2, "message": "refused"}
    assert child_json["startTimeUnixNano"] == str(made[0].start_time)
    assert child_json["events"][0]["attributes"] == [{"key": "count", "value": {"intValue": "3"}}]
    assert remote_json["parentSpanId"] == "00000000000000cd"
    assert remote_json["flags"] == 0x300  # the parent is known to be remote
    assert parent_json["flags"] == 0x100
    assert raw == reference(made)


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_FLOATS = st.floats(allow_nan=True, allow_infinity=True)
_SCALARS = st.one_of(st.booleans(), _INT64, _FLOATS, _TEXT, st.binary(max_size=8))
_ATTRIBUTE_VALUES = st.one_of(
    _SCALARS,
    st.lists(st.booleans(), max_size=3),
    st.lists(_INT64, max_size=3),
    st.lists(_FLOATS, max_size=3),
    st.lists(_TEXT, max_size=3),
    # the SDK (1.45) takes any AnyValue: nested lists and mappings, None
    st.recursive(
        st.one_of(st.none(), _SCALARS),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(min_size=1, max_size=4), inner, max_size=3)
        ),
        max_leaves=8,
    ),
)
_ATTRIBUTES = st.dictionaries(st.text(min_size=1, max_size=8), _ATTRIBUTE_VALUES, max_size=4)


@st.composite
def _span_shapes(draw: st.DrawFn) -> list[dict[str, Any]]:
    return draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "name": _TEXT,
                    "kind": st.sampled_from(list(SpanKind)),
                    "attributes": _ATTRIBUTES,
                    "events": st.lists(st.tuples(_TEXT, _ATTRIBUTES), max_size=2),
                    "status": st.sampled_from([None, StatusCode.OK, StatusCode.ERROR]),
                    "description": _TEXT,
                    "child": st.booleans(),
                    "link": st.booleans(),
                    "tracer": st.sampled_from(["a", "b"]),
                    "version": st.sampled_from([None, "1.0"]),
                }
            ),
            min_size=1,
            max_size=4,
        )
    )


@settings(max_examples=80)
@given(
    shapes=_span_shapes(),
    resource=st.dictionaries(st.text(min_size=1, max_size=6), _SCALARS, max_size=2),
)
def test_any_span_shape_and_attribute_value_is_the_official_encoders_line(
    shapes: list[dict[str, Any]], resource: dict[str, Any]
) -> None:
    providers = [Spans(), Spans(resource=Resource.create(resource))]
    made: list[ReadableSpan] = []
    for number, shape in enumerate(shapes):
        spans = providers[number % 2]
        tracer = spans.provider.get_tracer(shape["tracer"], shape["version"])
        links = [Link(SpanContext(1, 2, is_remote=True), {"n": number})] if shape["link"] else []
        with contextlib.ExitStack() as stack:
            if shape["child"]:
                stack.enter_context(tracer.start_as_current_span("outer"))
            with tracer.start_as_current_span(
                shape["name"], kind=shape["kind"], attributes=shape["attributes"], links=links
            ) as span:
                for event_name, event_attributes in shape["events"]:
                    span.add_event(event_name, event_attributes)
                if shape["status"] is not None:
                    described = shape["status"] is StatusCode.ERROR
                    span.set_status(shape["status"], shape["description"] if described else None)
        made += spans.taken()
    with _folder() as folder:
        exporter = TraceFileExporter(folder / "t.jsonl")
        assert exporter.export(made) is True
        written = exporter.path.read_bytes()
        (line,) = lines(exporter.path)
        assert list(read_otlp_json(exporter.path))  # the report reads it
    assert written.count(b"\n") == 1
    assert len(written.decode("utf-8").splitlines()) == 1  # no character any reader splits at
    assert json.loads(line) == reference(made)


def test_values_otlp_cannot_carry_are_dropped_and_counted_and_the_line_stays_readable(
    tmp_path: Path, spans: Spans
) -> None:
    deep: Any = "bottom"
    for _ in range(40):
        deep = [deep]
    made = spans.make(
        1,
        kept=1,
        huge=2**64,
        huge_inside=[1, 2**70],
        deep=deep,
        text="lone \ud800 surrogate",
        **{"purposeful.purpose": "x"},
    )
    exporter = TraceFileExporter(tmp_path / "t.jsonl")
    assert exporter.export(made) is True
    (line,) = lines(exporter.path)
    span = only_span(line)
    assert span["droppedAttributesCount"] == 3
    assert {pair["key"]: pair["value"] for pair in span["attributes"]} == {
        "kept": {"intValue": "1"},
        "text": {"stringValue": "lone \ufffd surrogate"},
        "purposeful.purpose": {"stringValue": "x"},
    }
    assert list(read_otlp_json(exporter.path))
    # nested as deep as is kept, a value is still within protobuf's parser's limits
    kept: Any = "bottom"
    for level in range(15):  # 16 deep, lists and mappings in turn
        kept = {"k": kept} if level % 2 else [kept]
    nested = spans.make(1, kept=kept)
    assert exporter.export(nested) is True
    last = lines(exporter.path)[-1]
    assert "droppedAttributesCount" not in only_span(last)
    assert json.loads(last) == reference(nested)
    assert len(list(read_otlp_json(exporter.path))) == 2


# --- writing -------------------------------------------------------------------------------


def test_a_batch_is_one_line_and_batches_append(tmp_path: Path, spans: Spans) -> None:
    exporter = TraceFileExporter(tmp_path / "t.jsonl")
    first, second = spans.make(3), spans.make(2)
    assert exporter.export(first) is True
    assert exporter.export(second) is True
    assert [len(span_ids(line)) for line in lines(exporter.path)] == [3, 2]


def test_the_file_is_made_for_its_owner_only_and_an_empty_batch_writes_nothing(
    tmp_path: Path, spans: Spans
) -> None:
    exporter = TraceFileExporter(tmp_path / "t.jsonl")
    assert exporter.export([]) is True
    assert not exporter.path.exists()
    exporter.export(spans.make(1))
    assert exporter.path.stat().st_mode & 0o777 == 0o600


def test_after_shutdown_a_batch_is_refused_and_logged_once(
    tmp_path: Path, spans: Spans, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = TraceFileExporter(tmp_path / "t.jsonl")
    assert exporter.export(spans.make(1)) is True
    before = exporter.path.read_bytes()
    assert exporter.force_flush() is True
    exporter.shutdown()
    exporter.shutdown()  # idempotent
    with caplog.at_level(logging.ERROR, logger="purposeful"):
        assert exporter.export(spans.make(1)) is False
        assert exporter.export(spans.make(1)) is False
    (logged,) = caplog.records
    assert "shut down" in logged.getMessage()
    assert exporter.path.read_bytes() == before


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"max_bytes": 0}, "max_bytes must be 1 or more"),
        ({"max_bytes": True}, "max_bytes must be 1 or more"),
        ({"backup_count": 0}, "backup_count must be 1 or more"),
    ],
)
def test_rotation_settings_are_checked(
    tmp_path: Path, options: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        TraceFileExporter(tmp_path / "t.jsonl", **options)


def test_threads_exporting_at_once_write_whole_lines(tmp_path: Path, spans: Spans) -> None:
    exporter = TraceFileExporter(tmp_path / "t.jsonl")
    batches = [spans.make(20, padding="x" * 4000) for _ in range(8)]
    start = threading.Barrier(4)
    results: list[bool] = []

    def export(mine: list[Sequence[ReadableSpan]]) -> None:
        start.wait(timeout=30)
        for _ in range(5):
            results.extend(exporter.export(batch) for batch in mine)

    threads = [threading.Thread(target=export, args=(batches[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [True] * 40
    written = lines(exporter.path)
    assert sorted(len(span_ids(line)) for line in written) == [20] * 40


# --- rotation ------------------------------------------------------------------------------


def test_rotation_by_size_keeps_every_span_exactly_once(tmp_path: Path, spans: Spans) -> None:
    path = tmp_path / "traces.jsonl"
    exporter = TraceFileExporter(path, max_bytes=2500, backup_count=50)
    made: list[str] = []
    for size in (1, 3, 2, 5, 1, 4, 2, 3, 1, 6):
        batch = spans.make(size)
        made += [f"{span.context.span_id:016x}" for span in batch]
        assert exporter.export(batch) is True
    files = [path, *exporter.backups()]
    assert len(files) > 2
    assert exporter.backups()[0] == tmp_path / "traces.1.jsonl"
    for file in files:
        content = file.read_bytes()
        assert len(content) <= 2500 or content.count(b"\n") == 1  # a big batch stands alone
        assert content.endswith(b"\n")
        assert file.stat().st_mode & 0o777 == 0o600
    found = [span_id for line in lines(*files) for span_id in span_ids(line)]
    assert sorted(found) == sorted(made)
    report = build_report(files)
    assert sum(count for source in report.sources for _, count in source.ignored) == len(made)


def test_rotation_keeps_the_newest_backups_and_drops_the_oldest(
    tmp_path: Path, spans: Spans
) -> None:
    path = tmp_path / "t.jsonl"
    exporter = TraceFileExporter(path, max_bytes=1, backup_count=2)
    batches = [spans.make(1) for _ in range(5)]
    for batch in batches:
        assert exporter.export(batch) is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.1.jsonl", "t.2.jsonl", "t.jsonl"]

    def only(file: Path) -> str:
        (line,) = lines(file)
        return str(only_span(line)["spanId"])

    newest = [f"{batch[0].context.span_id:016x}" for batch in batches[-3:]]
    assert [only(tmp_path / n) for n in ("t.2.jsonl", "t.1.jsonl", "t.jsonl")] == newest


def test_a_file_moved_away_by_another_tool_is_made_afresh(tmp_path: Path, spans: Spans) -> None:
    path = tmp_path / "t.jsonl"
    exporter = TraceFileExporter(path)
    exporter.export(spans.make(1))
    path.rename(tmp_path / "t.jsonl.old")  # what logrotate does
    exporter.export(spans.make(2))
    assert [len(span_ids(line)) for line in lines(path)] == [2]
    assert [len(span_ids(line)) for line in lines(tmp_path / "t.jsonl.old")] == [1]


def test_exporters_sharing_a_file_rotate_in_turn_and_lose_no_span(
    tmp_path: Path, spans: Spans
) -> None:
    # two exporters on one file take turns through the file's lock, as two processes do
    path = tmp_path / "t.jsonl"
    exporters = [TraceFileExporter(path, max_bytes=3000, backup_count=500) for _ in range(2)]
    batches = [spans.make(2) for _ in range(60)]
    start = threading.Barrier(2)

    def export(exporter: TraceFileExporter, mine: list[Sequence[ReadableSpan]]) -> None:
        start.wait(timeout=30)
        for batch in mine:
            assert exporter.export(batch) is True

    threads = [
        threading.Thread(target=export, args=(exporters[i], batches[i::2])) for i in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    files = [path, *exporters[0].backups()]
    assert len(files) > 3
    found = sorted(span_id for line in lines(*files) for span_id in span_ids(line))
    assert found == sorted(f"{s.context.span_id:016x}" for batch in batches for s in batch)


# --- failures ------------------------------------------------------------------------------


def test_a_removed_directory_fails_the_batch_and_logs_once_without_span_content(
    tmp_path: Path, spans: Spans, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "traces"
    folder.mkdir()
    exporter = TraceFileExporter(folder / "t.jsonl")
    assert exporter.export(spans.make(1)) is True
    (folder / "t.jsonl").unlink()
    folder.rmdir()
    secret = spans.make(1, client="C-SECRET")
    with caplog.at_level(logging.ERROR, logger="purposeful"):
        assert exporter.export(secret) is False
        assert exporter.export(secret) is False
    (logged,) = caplog.records
    assert "No such file or directory" in logged.getMessage()
    assert "C-SECRET" not in caplog.text
    assert "client" not in caplog.text
    assert "span-0" not in caplog.text

    folder.mkdir()  # back again: the next batch is written, and a new failure is logged
    assert exporter.export(secret) is True
    folder.joinpath("t.jsonl").unlink()
    folder.rmdir()
    with caplog.at_level(logging.ERROR, logger="purposeful"):
        assert exporter.export(secret) is False
    assert len(caplog.records) == 2


def test_a_path_that_is_a_directory_or_under_a_file_fails_the_batch(
    tmp_path: Path, spans: Spans
) -> None:
    assert TraceFileExporter(tmp_path).export(spans.make(1)) is False
    (tmp_path / "file").write_text("not a directory")
    assert TraceFileExporter(tmp_path / "file" / "t.jsonl").export(spans.make(1)) is False
    assert (tmp_path / "file").read_text() == "not a directory"


def test_a_span_without_a_name_is_read_as_another_span(tmp_path: Path, spans: Spans) -> None:
    with spans.tracer.start_as_current_span(""):
        pass
    exporter = TraceFileExporter(tmp_path / "t.jsonl")
    assert exporter.export(spans.taken()) is True
    assert "name" not in only_span(lines(exporter.path)[0])  # OTLP JSON leaves it out
    assert [type(entry).__name__ for entry in read_otlp_json(exporter.path)] == ["Ignored"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes any file")
def test_an_unwritable_directory_or_file_fails_the_batch_and_leaves_the_file_as_it_was(
    tmp_path: Path, spans: Spans
) -> None:
    exporter = TraceFileExporter(tmp_path / "t.jsonl")
    exporter.export(spans.make(1))
    before = exporter.path.read_bytes()
    exporter.path.chmod(0o400)
    assert exporter.export(spans.make(1)) is False
    assert exporter.path.read_bytes() == before
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o500)
    assert TraceFileExporter(closed / "t.jsonl").export(spans.make(1)) is False


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_fails_the_batch_without_raising(
    spans: Spans, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = TraceFileExporter("/dev/full", max_bytes=1)  # a device is never rotated
    with caplog.at_level(logging.ERROR, logger="purposeful"):
        assert exporter.export(spans.make(2)) is False
    assert "No space left on device" in caplog.text


_CUT_SHORT = textwrap.dedent(
    """
    import json, os, resource, sys
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from purposeful.audit import TraceFileExporter

    provider = TracerProvider(shutdown_on_exit=False)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("cut")

    def made(count):
        for _ in range(count):
            with tracer.start_as_current_span("s", attributes={"padding": "x" * 500}):
                pass
        spans = memory.get_finished_spans()
        memory.clear()
        return spans

    exporter = TraceFileExporter(sys.argv[1])
    results = [exporter.export(made(1))]
    size = os.path.getsize(sys.argv[1])
    # room for one more 1-span line, not for a 5-span one: that write is cut short part way
    limit = 2 * size + 100
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    results.append(exporter.export(made(5)))
    results.append(exporter.export(made(5)))
    results.append(exporter.export(made(1)))
    print(json.dumps(results))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_write_cut_short_by_the_file_size_limit_leaves_no_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", _CUT_SHORT, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout) == [True, False, False, True]
    assert "spans were not written" in done.stderr
    assert "padding" not in done.stderr
    assert [len(span_ids(line)) for line in lines(path)] == [1, 1]
    assert path.stat().st_size < 2 * len(lines(path)[0]) + 100 + 2


# --- what the report says of other files ---------------------------------------------------


@pytest.mark.parametrize("count", [1, 3])
def test_the_console_exporters_output_is_refused_naming_the_trace_file_exporter(
    tmp_path: Path, count: int
) -> None:
    path = tmp_path / "console.txt"
    with path.open("w") as out:
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=out)))
        for _ in range(count):
            with provider.get_tracer("t").start_as_current_span("s", attributes={"a": "C-1"}):
                pass
        provider.shutdown()
    with pytest.raises(ReportInputError) as caught:
        list(read_otlp_json(path))
    message = str(caught.value)
    assert "ConsoleSpanExporter" in message
    assert "purposeful.audit.TraceFileExporter" in message
    assert "C-1" not in message
    assert caught.value.line == 1
