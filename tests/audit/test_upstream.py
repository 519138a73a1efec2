"""A scope opened for a request from another service (`use(..., upstream=...)`) names the
calling service and its scope id in its report, its span and its ledger line, and the report
reads it back, so a privacy team can follow one request across services."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, RecordingSink, case
from purposeful import use
from purposeful.audit import Ledger, PseudonymKey, SpanSink
from purposeful.audit.conventions import LedgerKey, SpanAttribute
from purposeful.audit.history import SubjectQuery, access_history
from purposeful.audit.report import build_report, render_text
from purposeful.decisions import Upstream
from purposeful.errors import ConfigurationError, ReportInputError

KEY = PseudonymKey("feed0042", hashlib.sha256(b"purposeful tests: upstream").digest())
FROM_INTAKE = Upstream(service="intake", scope_id="0af7651916cd43dd8448eb211c80319c")


def test_the_report_span_and_ledger_line_name_the_upstream_scope(tmp_path: Path) -> None:
    recording = RecordingSink()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    path = tmp_path / "audit.jsonl"
    with Ledger(path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        sinks = [recording, SpanSink(tracer_provider=provider), ledger]
        purposeful.configure(sinks=sinks, pseudonymise=KEY.pseudonym)
        with use(CASE_MANAGEMENT, actor=CASEWORKER, upstream=FROM_INTAKE):
            _ = case(client_id="C-1").diagnosis
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case(client_id="C-1").diagnosis
    assert [report.upstream for report in recording.reports] == [FROM_INTAKE, None]
    first, second = exporter.get_finished_spans()
    assert first.attributes is not None
    assert second.attributes is not None
    assert first.attributes[SpanAttribute.UPSTREAM_SERVICE] == "intake"
    assert first.attributes[SpanAttribute.UPSTREAM_SCOPE_ID] == FROM_INTAKE.scope_id
    assert SpanAttribute.UPSTREAM_SERVICE not in second.attributes
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    scopes = [line for line in lines if line.get(LedgerKey.TYPE) == "scope"]
    assert scopes[0][LedgerKey.UPSTREAM] == {"scope": FROM_INTAKE.scope_id, "service": "intake"}
    assert LedgerKey.UPSTREAM not in scopes[1]
    answer = access_history(SubjectQuery.for_subject("C-1", [KEY]), [path])
    assert [access.upstream for access in answer.accesses] == [
        ("intake", FROM_INTAKE.scope_id),
        None,
    ]
    text = render_text(build_report(ledgers=[path], subject=SubjectQuery.for_subject("C-1", [KEY])))
    assert f"intake (scope {FROM_INTAKE.scope_id})" in text


def test_a_decorated_function_carries_the_upstream_into_each_call() -> None:
    recording = RecordingSink()
    purposeful.configure(sinks=[recording])

    @use(CASE_MANAGEMENT, actor=CASEWORKER, upstream=FROM_INTAKE)
    def read() -> str:
        return case(client_id="C-2").diagnosis

    read()
    assert recording.reports[-1].upstream == FROM_INTAKE


@pytest.mark.parametrize(
    ("service", "scope_id"), [("", "x"), ("intake", ""), ("in\ntake", "x"), ("x" * 201, "x")]
)
def test_an_upstream_must_be_short_printable_names(service: str, scope_id: str) -> None:
    with pytest.raises(ConfigurationError, match="Upstream"):
        Upstream(service=service, scope_id=scope_id)


def test_use_refuses_an_upstream_that_is_not_one() -> None:
    with pytest.raises(ConfigurationError, match=r"purposeful\.Upstream"):
        use(CASE_MANAGEMENT, actor=CASEWORKER, upstream=("intake", "x"))  # type: ignore[arg-type]


def test_a_ledger_line_with_a_malformed_upstream_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with Ledger(path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        purposeful.configure(sinks=[ledger])
        with use(CASE_MANAGEMENT, actor=CASEWORKER, upstream=FROM_INTAKE):
            _ = case(client_id="C-1").diagnosis
    lines = path.read_text().splitlines()
    damaged = [json.loads(line) for line in lines]
    for line in damaged:
        if line.get(LedgerKey.TYPE) == "scope":
            line[LedgerKey.UPSTREAM] = {"service": 7}
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(json.dumps(line) + "\n" for line in damaged))
    with pytest.raises(ReportInputError, match="service"):
        build_report(ledgers=[broken])
