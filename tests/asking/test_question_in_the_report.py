"""A question about a named person's consent (`may_use(..., subject=)`) is found by a review
of who looked at that person: their pseudonym is listed in the scope's span and ledger line
with no field read, and the report about them shows the scope, from traces and ledgers, by
the streaming reader and by DuckDB alike."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, Case, FakeConsent
from purposeful.asking import Verdict
from purposeful.audit import Ledger, PseudonymKey, SpanSink, TraceFileExporter
from purposeful.audit.history import SubjectQuery
from purposeful.audit.report import build_report, render_text

KEY = PseudonymKey("feed0019", hashlib.sha256(b"purposeful tests: asked about").digest())
ASKED = "C-ASKED-7781"
READ = "C-READ-7782"


@pytest.fixture
def audited(tmp_path: Path) -> dict[str, list[Path]]:
    traces, ledger_path = tmp_path / "traces.jsonl", tmp_path / "audit.jsonl"
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(TraceFileExporter(traces)))
    ledger = Ledger(ledger_path, signing_key=Ed25519PrivateKey.generate())
    consent = FakeConsent([(ASKED, CASE_MANAGEMENT), (READ, CASE_MANAGEMENT)])
    with (
        purposeful.configured(
            sinks=[SpanSink(provider), ledger], pseudonymise=KEY.pseudonym, consent=consent
        ),
        purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        answer = purposeful.may_use(Case, "case_notes", subject=ASKED)
        assert answer.verdict is Verdict.YES
        assert Case(READ, "d", "a", "notes").case_notes == "notes"
    ledger.close()
    provider.shutdown()
    return {"traces": [traces], "ledgers": [ledger_path]}


@pytest.mark.parametrize("kind", ["traces", "ledgers"])
def test_the_person_asked_about_finds_the_question(
    audited: dict[str, list[Path]], kind: str
) -> None:
    subject = SubjectQuery.for_subject(ASKED, [KEY])
    reports = [build_report(**{kind: audited[kind]}, subject=subject)]
    pytest.importorskip("duckdb")
    from purposeful.audit.report import ReportDatabase

    with ReportDatabase.from_files(**{kind: audited[kind]}) as database:
        reports.append(database.report(subject=subject))
    texts = [render_text(report) for report in reports]
    assert texts[0] == texts[1]
    answer = reports[0].subject
    assert answer is not None
    (access,) = answer.accesses  # the scope that asked
    assert access.fields_read == ()  # and no field of theirs was read in it
    assert access.fields_known
    assert "(none)" in texts[0]
    for text in texts:
        assert ASKED not in text
        assert READ not in text
        assert KEY.pseudonym(READ) not in text


def test_the_person_read_is_not_shown_the_question(audited: dict[str, list[Path]]) -> None:
    """The other person's answer shows what was read from their record, and nothing of the
    question about someone else."""
    report = build_report(audited["traces"], subject=SubjectQuery.for_subject(READ, [KEY]))
    text = render_text(report)
    assert "Case.case_notes" in text
    assert KEY.pseudonym(ASKED) not in text
