"""The span sink's output, pinned byte for byte: the exported spans of fixed reports.

`SpanSink.emit` is tuned for speed; these tests make sure no tuning changes what a span
carries. Each report below is built by hand (so the pinned spans depend on the sink only,
not on how a scope decides or summarises), sent through a `SpanSink` on an SDK tracer
provider, and the exported span (name, times, attributes in order, events with their
attributes and times, status) is compared with ``spans_exported.json``, written from the
sink before it was tuned. The file changes only with a deliberate change of the semantic
conventions (docs/semantic-conventions.md).

To rewrite the file after such a change: ``PURPOSEFUL_WRITE_SPANS=1 pytest
tests/audit/test_spans_exported.py``, and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from purposeful import (
    IN_CONFIDENCE,
    RESTRICTED,
    SENSITIVE,
    Actor,
    Consent,
    DataCategory,
    Decision,
    Mode,
    Outcome,
    Purpose,
    ScopeReport,
    ServiceAgreement,
    Statute,
)
from purposeful.audit.spans import SpanSink
from purposeful.decisions import CallSite, Reason, Upstream

PINNED = Path(__file__).with_name("spans_exported.json")

OPENED = datetime(2026, 3, 14, 1, 2, 3, 456789, tzinfo=UTC)
CLOSED = OPENED + timedelta(microseconds=1234)

CASE_MANAGEMENT = Purpose(
    "service-delivery.case-management",
    "Case management",
    "Managing a client's case.",
    "Clients get the services they need.",
)
RESEARCH = Purpose("research", "Research", "Studying outcomes.", "Better services.")
CASEWORKER = Actor("staff-0042", "caseworker", SENSITIVE)
HEALTH = DataCategory("health", "Health")
CONTACT = DataCategory("contact", "Contact details")
AGREEMENT = ServiceAgreement("Service delivery agreement")
CONSENTED = Consent()
STATUTE = Statute("Oranga Tamariki Act 1989", "66C")


def decision(
    outcome: Outcome,
    record_type: str,
    field: str,
    *,
    category: DataCategory | None = None,
    basis: Any = None,
    reasons: tuple[Reason, ...] = (),
    purpose: Purpose | None = CASE_MANAGEMENT,
    actor: Actor | None = CASEWORKER,
) -> Decision:
    level = SENSITIVE if category is HEALTH else IN_CONFIDENCE
    return Decision(outcome, record_type, field, purpose, actor, level, category, basis, reasons)


def pseudonym(n: int) -> str:
    return f"1a2b3c4d:{n:032x}"


def reports() -> dict[str, tuple[ScopeReport, int]]:
    """Named (report, max_subjects) pairs covering every attribute, event and status."""
    people = {pseudonym(n): frozenset({"Case.address", "Case.diagnosis"}) for n in (7, 3, 5)}
    people[pseudonym(9)] = frozenset({"Household.members"})
    people[pseudonym(1)] = frozenset({"Case.address", "Household.members", "Case.notes"})
    full = ScopeReport(
        CASE_MANAGEMENT,
        CASEWORKER,
        OPENED,
        CLOSED,
        (
            decision(Outcome.ALLOWED, "Case", "address", category=CONTACT, basis=AGREEMENT),
            decision(Outcome.ALLOWED, "Case", "diagnosis", category=HEALTH, basis=CONSENTED),
            decision(Outcome.ALLOWED, "Case", "notes", basis=STATUTE),
            decision(
                Outcome.DENIED,
                "Case",
                "history",
                category=HEALTH,
                reasons=(Reason.PURPOSE_NOT_DECLARED, Reason.CLEARANCE_TOO_LOW),
            ),
            decision(
                Outcome.WOULD_DENY,
                "Household",
                "members",
                reasons=(Reason.CONSENT_NOT_HELD,),
            ),
            decision(
                Outcome.WITHHELD, "Referral", "reason", reasons=(Reason.PURPOSE_NOT_DECLARED,)
            ),
        ),
        failed=True,
        subject_counts={"Case": 4, "Household": 2},
        subject_count=6,
        subjects=frozenset(people),
        mode=Mode.ENFORCE,
        disclosures=(
            {
                "purposeful.disclosure.id": "d-1",
                "purposeful.disclosure.agreement": "Approved information sharing agreement",
                "purposeful.disclosure.recipient": "partner-agency",
                "purposeful.disclosure.record_type": "Case",
                "purposeful.disclosure.fields": ("address", "diagnosis"),
                "purposeful.disclosure.statements.count": 0,
                "purposeful.disclosure.subject": pseudonym(7),
            },
        ),
        scope_id="0123456789abcdef00000001",
        fields_read=frozenset({"Case.address", "Contact.phone"}),
        reads=people,
        upstream=Upstream("intake", "fedcba987654321000000002"),
    )
    many = {pseudonym(n): frozenset({"Case.address"}) for n in range(20, 0, -3)}
    overflow = ScopeReport(
        CASE_MANAGEMENT,
        CASEWORKER,
        OPENED,
        CLOSED,
        (decision(Outcome.ALLOWED, "Case", "address", category=CONTACT, basis=AGREEMENT),),
        subject_counts={"Case": len(many) + 2},
        subject_count=len(many) + 2,
        subjects=frozenset(many),
        mode=Mode.MONITOR,
        scope_id="0123456789abcdef00000003",
        part=2,
        final=False,
        fields_read=frozenset({"Case.address"}),
        reads=many,
    )
    refused = tuple(
        decision(
            Outcome.DENIED,
            "Case",
            f"field_{n % 7}",
            reasons=(Reason.CONSENT_CHECK_FAILED,) if n % 2 else (Reason.NO_CONSENT_CHECKER,),
            category=HEALTH if n % 3 else None,
        )
        for n in range(12)
    )
    many_refused = ScopeReport(
        RESEARCH,
        Actor("svc-research", "research-job", RESTRICTED),
        OPENED,
        OPENED,
        refused,
        mode=Mode.ENFORCE,
        scope_id="0123456789abcdef00000004",
    )
    unscoped = ScopeReport(
        None,
        None,
        OPENED,
        CLOSED + timedelta(seconds=2),
        (
            decision(
                Outcome.WOULD_DENY,
                "Case",
                "diagnosis",
                category=HEALTH,
                reasons=(Reason.NO_SCOPE,),
                purpose=None,
                actor=None,
            ),
            decision(
                Outcome.WOULD_DENY,
                "Case",
                "address",
                reasons=(Reason.NO_SCOPE,),
                purpose=None,
                actor=None,
            ),
        ),
        subject_counts={"Case": 2},
        subject_count=2,
        subjects=frozenset({pseudonym(2), pseudonym(4)}),
        scope_id="0123456789abcdef00000005",
        fields_read=frozenset({"Case.diagnosis", "Case.address"}),
        reads={
            pseudonym(2): frozenset({"Case.diagnosis", "Case.address"}),
            pseudonym(4): frozenset({"Case.address"}),
        },
        counts=(41, 3),
        site=CallSite("/srv/app/legacy.py", "export_all", 120),
    )
    refused_alone = ScopeReport(
        None,
        None,
        OPENED,
        OPENED,
        (
            decision(
                Outcome.DENIED,
                "Case",
                "diagnosis",
                reasons=(Reason.SCOPE_CLOSED,),
                purpose=None,
                actor=None,
            ),
        ),
        scope_id="0123456789abcdef00000006",
    )
    empty = ScopeReport(
        CASE_MANAGEMENT,
        CASEWORKER,
        OPENED,
        CLOSED,
        (),
        mode=Mode.ENFORCE,
        scope_id="0123456789abcdef00000007",
    )
    naive = attrs.evolve(
        empty,
        opened_at=OPENED.replace(tzinfo=None),
        closed_at=CLOSED.replace(tzinfo=None),
        scope_id="0123456789abcdef00000008",
    )
    return {
        "full": (full, 100),
        "overflow": (overflow, 3),
        "no subjects listed": (overflow, 0),
        "many refused": (many_refused, 100),
        "unscoped": (unscoped, 100),
        "refused alone": (refused_alone, 100),
        "empty": (empty, 100),
        "naive times": (naive, 100),
    }


def plain(value: Any) -> Any:
    """An attribute value as JSON keeps it, with its type: tuples and lists apart."""
    if isinstance(value, tuple | list):
        return {type(value).__name__: [plain(v) for v in value]}
    return {type(value).__name__: value}


def exported(span: ReadableSpan) -> dict[str, Any]:
    return {
        "name": span.name,
        "kind": span.kind.name,
        "start": span.start_time,
        "end": span.end_time,
        "attributes": [[k, plain(v)] for k, v in (span.attributes or {}).items()],
        "events": [
            {
                "name": event.name,
                "timestamp": event.timestamp,
                "attributes": [[k, plain(v)] for k, v in (event.attributes or {}).items()],
            }
            for event in span.events
        ],
        "status": [span.status.status_code.name, span.status.description],
    }


def export_all() -> dict[str, Any]:
    spans = {}
    for name, (report, max_subjects) in reports().items():
        provider = TracerProvider(shutdown_on_exit=False)
        memory = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        SpanSink(provider, max_subjects=max_subjects).emit(report)
        (span,) = memory.get_finished_spans()
        spans[name] = exported(span)
    return spans


def test_the_exported_spans_of_fixed_reports_are_the_pinned_ones() -> None:
    spans = export_all()
    if os.environ.get("PURPOSEFUL_WRITE_SPANS"):
        PINNED.write_text(json.dumps(spans, indent=1, ensure_ascii=False) + "\n")
    pinned = json.loads(PINNED.read_text())
    assert list(spans) == list(pinned)
    for name in pinned:
        assert spans[name] == pinned[name], name


def test_the_pinned_spans_cover_every_kind_of_output() -> None:
    """The fixed reports reach every branch of the sink, so the pin can fail."""
    spans = json.loads(PINNED.read_text())
    events = {event["name"] for span in spans.values() for event in span["events"]}
    assert events == {"purposeful.denied", "purposeful.would_deny", "purposeful.disclosure"}
    event_keys = {
        key for span in spans.values() for e in span["events"] for key, _ in e["attributes"]
    }
    assert "purposeful.disclosure.subject" in event_keys
    statuses = {span["status"][0] for span in spans.values()}
    assert statuses == {"ERROR", "UNSET"}
    assert any("more" in (span["status"][1] or "") for span in spans.values())
    names = {span["name"] for span in spans.values()}
    assert names == {"purposeful.use", "purposeful.unscoped_read"}
    keys = {key for span in spans.values() for key, _ in span["attributes"]}
    assert {
        "purposeful.scope.upstream.service",
        "code.file.path",
        "purposeful.subjects.overflow",
        "purposeful.subjects.fields",
    } <= keys


@pytest.mark.parametrize("name", ["full", "overflow"])
def test_a_report_sent_twice_makes_the_same_span_twice(name: str) -> None:
    """Nothing the sink keeps from one span changes the next (caches of positions, say)."""
    first = export_all()[name]
    assert export_all()[name] == first
