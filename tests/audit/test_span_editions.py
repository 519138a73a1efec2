"""The span sink writes the people's lists of edition 2 of the semantic conventions (one
string each), unless a pseudonym cannot be told apart in it or the tracer provider would cut
it short; then the arrays of edition 1. Either way the report reads back who was read and
which of their fields, exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import purposeful
from _records import ADMINISTRATOR, SERVICE_AGREEMENT
from purposeful import use
from purposeful.audit import PseudonymKey, TraceFileExporter
from purposeful.audit.conventions import CONVENTIONS_EDITION
from purposeful.audit.report import ScopeRecord, read_otlp_json
from purposeful.audit.spans import SpanSink


@purposeful.record(subject="client_id")
class EditionClient:
    client_id: str
    address: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})
    region: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})


def traced(
    pseudonymise: Any, people: int, path: Path | None = None, **limits: Any
) -> tuple[dict[str, Any], list[ScopeRecord]]:
    """Read the address of *people* clients, and the region of every other one, in one
    scope: the span's attributes, and the scope read back from its trace file."""
    provider = TracerProvider(shutdown_on_exit=False, span_limits=SpanLimits(**limits))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    records: list[ScopeRecord] = []
    if path is not None:
        provider.add_span_processor(SimpleSpanProcessor(TraceFileExporter(path)))
    with (
        purposeful.configured(sinks=[SpanSink(provider)], pseudonymise=pseudonymise),
        use("service-delivery", actor=ADMINISTRATOR),
    ):
        for n in range(people):
            person = EditionClient(f"C-{n}", "12 Cuba Street", "Wellington")
            assert person.address
            if n % 2:
                assert person.region
    provider.shutdown()
    (span,) = [s for s in memory.get_finished_spans() if s.name == "purposeful.use"]
    if path is not None:
        records = [e for e in read_otlp_json(path) if isinstance(e, ScopeRecord)]
    return dict(span.attributes or {}), records


def expected_reads(pseudonymise: Any, people: int) -> dict[str, tuple[str, ...]]:
    return {
        pseudonymise(f"C-{n}"): ("EditionClient.address", "EditionClient.region")[: 1 + n % 2]
        for n in range(people)
    }


def test_the_sink_writes_edition_2() -> None:
    assert CONVENTIONS_EDITION == 2


@settings(max_examples=15, deadline=None)
@given(people=st.integers(0, 12))
def test_a_keys_pseudonyms_are_one_string_read_back_exactly(
    tmp_path_factory: pytest.TempPathFactory, people: int
) -> None:
    key = PseudonymKey.generate()
    path = tmp_path_factory.mktemp("edition") / "traces.jsonl"
    attributes, (record,) = traced(key.pseudonym, people, path)
    listed = sorted(key.pseudonym(f"C-{n}") for n in range(people))
    assert attributes["purposeful.subjects"] == " ".join(listed)
    fields = attributes["purposeful.fields_read"]
    items = str(attributes["purposeful.subjects.fields"])
    assert len(items.split(",")) == people or (people == 0 and items == "")
    assert dict(zip(record.subjects, record.reads or (), strict=True)) == expected_reads(
        key.pseudonym, people
    )
    assert record.fields_read == fields


def _client_case(client_id: str) -> str:
    """A pseudonymiser of one's own whose pseudonyms hold a space."""
    return "client " + str(sum(map(ord, client_id)) * 7919)


def _bracketed(client_id: str) -> str:
    return "[" + str(sum(map(ord, client_id)) * 7919) + "]"


@pytest.mark.parametrize("pseudonymise", [_client_case, _bracketed])
def test_pseudonyms_the_string_cannot_hold_go_out_as_edition_1_arrays(
    tmp_path: Path, pseudonymise: Any
) -> None:
    attributes, (record,) = traced(pseudonymise, 3, tmp_path / "traces.jsonl")
    listed = tuple(sorted(pseudonymise(f"C-{n}") for n in range(3)))
    assert attributes["purposeful.subjects"] == listed
    assert isinstance(attributes["purposeful.subjects.fields"], tuple)
    assert dict(zip(record.subjects, record.reads or (), strict=True)) == expected_reads(
        pseudonymise, 3
    )


def test_a_length_limit_that_would_cut_the_string_gets_the_arrays_instead(
    tmp_path: Path,
) -> None:
    """``OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`` of 64: the string of 5 pseudonyms would be cut
    into a wrong list; each pseudonym as an item of its own is whole."""
    key = PseudonymKey.generate()
    attributes, (record,) = traced(
        key.pseudonym, 5, tmp_path / "traces.jsonl", max_span_attribute_length=64
    )
    listed = tuple(sorted(key.pseudonym(f"C-{n}") for n in range(5)))
    assert attributes["purposeful.subjects"] == listed
    assert dict(zip(record.subjects, record.reads or (), strict=True)) == expected_reads(
        key.pseudonym, 5
    )


def test_a_limit_the_string_fits_under_keeps_edition_2(tmp_path: Path) -> None:
    key = PseudonymKey.generate()
    attributes, _ = traced(key.pseudonym, 2, None, max_span_attribute_length=4096)
    assert isinstance(attributes["purposeful.subjects"], str)
