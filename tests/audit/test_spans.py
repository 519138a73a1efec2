"""The span sink: one span per scope, with the documented names, attributes, events and
status, parented where the application's tracing says, and never a value or a subject id.

The tests export through the OpenTelemetry SDK (an in-memory exporter behind a simple span
processor) and compare against literal names, not the module's constants, so they also pin
the contract in docs/semantic-conventions.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import StatusCode
from opentelemetry.util._once import Once

import purposeful
from _records import (
    ADMINISTRATOR,
    CASE_MANAGEMENT,
    CASEWORKER,
    AlwaysConsent,
    Case,
    Dossier,
    FakeConsent,
    Household,
    NeverConsent,
    RecordingSink,
    case,
)
from purposeful import (
    CONSENT,
    IN_CONFIDENCE,
    SENSITIVE,
    TOP_SECRET,
    Actor,
    Mode,
    NoPurposeScope,
    PurposeRegistry,
    PurposeViolation,
    project,
    use,
)
from purposeful.audit import PseudonymKey
from purposeful.audit.spans import SpanSink
from purposeful.errors import ConfigurationError
from purposeful.typing import AuditSink

CONVENTIONS = Path(__file__).resolve().parents[2] / "docs" / "semantic-conventions.md"


def sdk_provider(**options: Any) -> tuple[TracerProvider, InMemorySpanExporter]:
    provider = TracerProvider(shutdown_on_exit=False, **options)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


@pytest.fixture
def provider_and_exporter() -> tuple[TracerProvider, InMemorySpanExporter]:
    return sdk_provider()


@pytest.fixture
def exporter(provider_and_exporter: tuple[TracerProvider, InMemorySpanExporter]) -> Any:
    """The exporter of a provider whose `SpanSink` is configured as the only sink."""
    provider, exported = provider_and_exporter
    purposeful.configure(sinks=[SpanSink(provider)])
    return exported


@pytest.fixture
def provider(provider_and_exporter: tuple[TracerProvider, InMemorySpanExporter]) -> Any:
    return provider_and_exporter[0]


@pytest.fixture
def no_global_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenTelemetry's global tracer provider as a fresh process has it: not set."""
    monkeypatch.delenv("OTEL_PYTHON_TRACER_PROVIDER", raising=False)
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())


def ours(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    """The spans purposeful made, in the order they ended."""
    return [s for s in exporter.get_finished_spans() if s.name.startswith("purposeful.")]


def nanoseconds(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000) * 1_000


def event_dicts(span: ReadableSpan) -> list[tuple[str, dict[str, Any]]]:
    return [(e.name, dict(e.attributes or {})) for e in span.events]


# --- the sink itself ---


def test_span_sink_is_an_audit_sink() -> None:
    assert isinstance(SpanSink(), AuditSink)


def test_a_provider_that_is_not_a_tracer_provider_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"TracerProvider.*not InMemorySpanExporter"):
        SpanSink(InMemorySpanExporter())  # type: ignore[arg-type]


def test_the_tracer_is_purposefuls_own(exporter: InMemorySpanExporter) -> None:
    with use("service-delivery", actor=CASEWORKER):
        _ = case().address
    (span,) = ours(exporter)
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "purposeful"
    assert span.instrumentation_scope.version == purposeful.__version__
    assert span.kind is trace.SpanKind.INTERNAL


# --- one span per scope, timed by the scope ---


def test_exactly_one_span_per_scope(exporter: InMemorySpanExporter) -> None:
    record = case()
    for _ in range(3):
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            for _ in range(50):
                _ = record.diagnosis
                _ = record.address
    with use("service-delivery", actor=CASEWORKER):
        pass
    spans = ours(exporter)
    assert [s.name for s in spans] == ["purposeful.use"] * 4
    assert [(s.attributes or {})["purposeful.decisions.count"] for s in spans] == [2, 2, 2, 0]


def test_the_span_runs_from_opening_to_closing(exporter: InMemorySpanExporter) -> None:
    recording = RecordingSink()
    purposeful.configure(sinks=[*purposeful.get_configuration().sinks, recording])
    with use("service-delivery", actor=CASEWORKER), contextlib.suppress(PurposeViolation):
        _ = case().diagnosis
    (report,) = recording.reports
    (span,) = ours(exporter)
    assert span.start_time == nanoseconds(report.opened_at)
    assert span.end_time == nanoseconds(report.closed_at)
    assert span.start_time <= span.end_time
    assert [e.timestamp for e in span.events] == [span.end_time]


def test_the_attributes_of_a_known_scope(exporter: InMemorySpanExporter) -> None:
    """The full attribute dict, the events and the status, as the conventions page says."""
    household = Household("C-1001", "two adults, one child")
    record = case()
    purposeful.configure(consent=NeverConsent(), record_modes={Household: Mode.MONITOR})
    with use("service-delivery", actor=ADMINISTRATOR):
        assert record.address == "12 Cuba Street"  # allowed
        with pytest.raises(PurposeViolation):
            _ = record.diagnosis  # denied: case management only, and SENSITIVE
        assert household.members  # would-deny: no consent, let through by monitor mode
        projection = project(record)  # case_notes withheld
        assert set(projection.withheld) == {"diagnosis", "case_notes"}
    (span,) = ours(exporter)
    assert span.name == "purposeful.use"
    attributes = dict(span.attributes or {})
    assert re.fullmatch(r"[0-9a-f]{24}", str(attributes.pop("purposeful.scope.id")))
    assert attributes == {
        "purposeful.scope.part": 0,
        "purposeful.scope.final": True,
        "purposeful.purpose": "service-delivery",
        "purposeful.actor.id": "staff-0099",
        "purposeful.actor.role": "administrator",
        "purposeful.mode": "enforce",  # Household's own monitor mode shows in its outcome
        "purposeful.decisions.count": 4,
        "purposeful.denied.count": 1,
        "purposeful.would_deny.count": 1,
        "purposeful.withheld.count": 1,
        "purposeful.record_types": ("Case", "Household"),
        "purposeful.fields_read": ("Case.address", "Household.members"),
        "purposeful.categories": ("contact", "household"),
        "purposeful.basis.kinds": ("service-agreement",),
        "purposeful.scope.failed": False,
        # one person (C-1001) in both record types; no pseudonymiser configured, so the
        # person is counted but not listed, nor what was read from whose records
        "purposeful.subjects": "",
        "purposeful.subjects.fields": "",
        "purposeful.subjects.count": 1,
        "purposeful.subjects.overflow": 1,
        "purposeful.record_types.subject_counts": (1, 1),
    }
    assert event_dicts(span) == [
        (
            "purposeful.denied",
            {
                "purposeful.record_type": "Case",
                "purposeful.field": "diagnosis",
                "purposeful.reason_codes": ("purpose-not-declared", "clearance-too-low"),
                "purposeful.sensitivity": "SENSITIVE",
                "purposeful.reads.count": 1,
                "purposeful.category": "health",
            },
        ),
        (
            "purposeful.would_deny",
            {
                "purposeful.record_type": "Household",
                "purposeful.field": "members",
                "purposeful.reason_codes": ("consent-not-held",),
                "purposeful.sensitivity": "IN-CONFIDENCE",
                "purposeful.reads.count": 1,
                "purposeful.category": "household",
            },
        ),
    ]
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == (
        "refused Case.diagnosis (purpose-not-declared, clearance-too-low)"
    )


def test_every_attribute_and_event_name_is_documented(exporter: InMemorySpanExporter) -> None:
    documented = set(
        re.findall(r"`((?:purposeful|code)\.[a-z_.]+)`", CONVENTIONS.read_text("utf-8"))
    )
    purposeful.configure(mode=Mode.MONITOR)
    with use("service-delivery", actor=ADMINISTRATOR):
        _ = case().diagnosis
    _ = case().address  # unscoped
    purposeful.configure(mode=Mode.ENFORCE)
    with pytest.raises(PurposeViolation), use("research", actor=CASEWORKER):
        _ = case().address
    names: set[str] = set()
    for span in ours(exporter):
        names |= {span.name, *(span.attributes or {})}
        for event in span.events:
            names |= {event.name, *(event.attributes or {})}
    assert "purposeful.denied" in names
    assert "purposeful.would_deny" in names
    assert "purposeful.unscoped_read" in names
    assert names <= documented, f"undocumented: {sorted(names - documented)}"
    assert "purposeful.subjects.count" in names


def test_an_empty_scope_still_has_every_count_and_list(exporter: InMemorySpanExporter) -> None:
    with use("research", actor=CASEWORKER):
        pass
    (span,) = ours(exporter)
    attributes = dict(span.attributes or {})
    assert attributes["purposeful.decisions.count"] == 0
    assert attributes["purposeful.fields_read"] == ()
    assert attributes["purposeful.basis.kinds"] == ()
    assert span.events == ()
    assert span.status.status_code is StatusCode.UNSET


def test_a_field_decided_per_person_is_read_once_in_the_lists(
    exporter: InMemorySpanExporter,
) -> None:
    """Consent is decided per subject: the counts say how many decisions, the lists name
    the field once."""
    consent = FakeConsent({("C-1", CASE_MANAGEMENT), ("C-2", CASE_MANAGEMENT)})
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=consent):
        for client in ("C-1", "C-2", "C-3"):
            with contextlib.suppress(PurposeViolation):
                _ = case(client_id=client).case_notes
    (span,) = ours(exporter)
    attributes = dict(span.attributes or {})
    assert attributes["purposeful.decisions.count"] == 3
    assert attributes["purposeful.denied.count"] == 1
    assert attributes["purposeful.fields_read"] == ("Case.case_notes",)
    assert attributes["purposeful.basis.kinds"] == ("consent",)
    assert span.status.description == "refused Case.case_notes (consent-not-held)"


# --- status ---


def test_an_enforced_denial_sets_the_status_to_error(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(PurposeViolation), use("funder-reporting", actor=CASEWORKER):
        _ = case().diagnosis
    (span,) = ours(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "refused Case.diagnosis (purpose-not-declared)"
    assert span.attributes is not None
    assert span.attributes["purposeful.scope.failed"] is True


def test_monitor_mode_leaves_the_status_unset(exporter: InMemorySpanExporter) -> None:
    purposeful.configure(mode=Mode.MONITOR)
    with use("funder-reporting", actor=CASEWORKER):
        _ = case().diagnosis
    (span,) = ours(exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert [e.name for e in span.events] == ["purposeful.would_deny"]


def test_a_denial_caught_inside_the_scope_still_sets_error(
    exporter: InMemorySpanExporter,
) -> None:
    with use("funder-reporting", actor=CASEWORKER), contextlib.suppress(PurposeViolation):
        _ = case().diagnosis
    (span,) = ours(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["purposeful.scope.failed"] is False


def test_a_scope_that_fails_without_a_denial_keeps_the_status_unset(
    exporter: InMemorySpanExporter,
) -> None:
    def work() -> None:
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case().diagnosis
            raise KeyError("something else went wrong")

    with pytest.raises(KeyError):
        work()
    (span,) = ours(exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes is not None
    assert span.attributes["purposeful.scope.failed"] is True


def test_withheld_fields_are_counted_not_evented(exporter: InMemorySpanExporter) -> None:
    with use("funder-reporting", actor=CASEWORKER):
        projection = project(case())
    assert set(projection.withheld) == {"diagnosis", "case_notes"}
    (span,) = ours(exporter)
    assert span.events == ()
    assert span.status.status_code is StatusCode.UNSET
    attributes = dict(span.attributes or {})
    assert attributes["purposeful.withheld.count"] == 2
    assert attributes["purposeful.fields_read"] == ("Case.address",)


@purposeful.record(subject="client_id")
class Survey:
    """Seven fields for research only: read under anything else, all seven are refused."""

    client_id: str
    q1: str = purposeful.field(purposes={"research": CONSENT})
    q2: str = purposeful.field(purposes={"research": CONSENT})
    q3: str = purposeful.field(purposes={"research": CONSENT})
    q4: str = purposeful.field(purposes={"research": CONSENT})
    q5: str = purposeful.field(purposes={"research": CONSENT})
    q6: str = purposeful.field(purposes={"research": CONSENT})
    q7: str = purposeful.field(purposes={"research": CONSENT})


def test_the_status_names_five_refused_fields_and_counts_the_rest(
    exporter: InMemorySpanExporter,
) -> None:
    survey = Survey("C-1", "a", "b", "c", "d", "e", "f", "g")
    with use("service-delivery", actor=CASEWORKER):
        for name in ("q1", "q2", "q3", "q4", "q5", "q6", "q7"):
            with pytest.raises(PurposeViolation):
                getattr(survey, name)
    (span,) = ours(exporter)
    assert span.status.description == (
        "refused Survey.q1 (purpose-not-declared); Survey.q2 (purpose-not-declared); "
        "Survey.q3 (purpose-not-declared); Survey.q4 (purpose-not-declared); "
        "Survey.q5 (purpose-not-declared); and 2 more"
    )
    assert len(span.events) == 7


# --- reads outside any scope ---


def test_an_unscoped_monitor_read_is_an_unscoped_read_span(
    exporter: InMemorySpanExporter,
) -> None:
    purposeful.configure(mode=Mode.MONITOR)
    for _ in range(3):
        assert case().address == "12 Cuba Street"  # one call site: one window
    purposeful.audit.flush()
    (span,) = ours(exporter)
    assert span.name == "purposeful.unscoped_read"
    attributes = dict(span.attributes or {})
    assert "purposeful.purpose" not in attributes
    assert "purposeful.actor.id" not in attributes
    assert attributes["purposeful.would_deny.count"] == 3
    assert attributes["code.file.path"] == __file__
    assert attributes["code.function.name"] == (
        "test_an_unscoped_monitor_read_is_an_unscoped_read_span"
    )
    assert isinstance(attributes["code.line.number"], int)
    assert attributes["purposeful.fields_read"] == ("Case.address",)
    assert event_dicts(span) == [
        (
            "purposeful.would_deny",
            {
                "purposeful.record_type": "Case",
                "purposeful.field": "address",
                "purposeful.reason_codes": ("no-scope",),
                "purposeful.sensitivity": "IN-CONFIDENCE",
                "purposeful.category": "contact",
                "purposeful.reads.count": 3,
            },
        )
    ]
    assert span.status.status_code is StatusCode.UNSET
    assert span.start_time <= span.end_time


def test_an_unscoped_enforced_read_is_an_error(exporter: InMemorySpanExporter) -> None:
    with pytest.raises(NoPurposeScope):
        _ = case().address
    (span,) = ours(exporter)
    assert span.name == "purposeful.unscoped_read"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "refused Case.address (no-scope)"


def test_a_carried_read_after_the_scope_closed_is_an_unscoped_read(
    exporter: InMemorySpanExporter,
) -> None:
    record = case()
    with use("service-delivery", actor=CASEWORKER):
        late = purposeful.carry_scope(lambda: record.address)
    with pytest.raises(NoPurposeScope):
        late()
    scope_span, late_span = ours(exporter)
    assert scope_span.name == "purposeful.use"
    assert late_span.name == "purposeful.unscoped_read"
    assert late_span.status.description == "refused Case.address (scope-closed)"


# --- where the span goes in the trace ---


def test_nested_scopes_give_two_spans_under_the_application_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    record = case()
    tracer = provider.get_tracer("kowhai-support")
    with (
        tracer.start_as_current_span("GET /clients/{id}") as request,
        use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        _ = record.diagnosis
        with use("service-delivery", actor=CASEWORKER):
            _ = record.address
    inner, outer = ours(exporter)
    assert inner.attributes is not None
    assert outer.attributes is not None
    assert inner.attributes["purposeful.purpose"] == "service-delivery"
    assert outer.attributes["purposeful.purpose"] == CASE_MANAGEMENT
    context = request.get_span_context()
    for span in (inner, outer):
        assert span.parent is not None
        assert span.parent.span_id == context.span_id
        assert span.context is not None
        assert span.context.trace_id == context.trace_id
    assert inner.start_time is not None
    assert outer.start_time is not None
    assert outer.start_time <= inner.start_time
    assert inner.end_time is not None
    assert outer.end_time is not None
    assert inner.end_time <= outer.end_time


def test_without_an_application_span_each_scope_is_a_root(
    exporter: InMemorySpanExporter,
) -> None:
    with use(CASE_MANAGEMENT, actor=CASEWORKER), use("service-delivery", actor=CASEWORKER):
        pass
    assert [s.parent for s in ours(exporter)] == [None, None]


def test_an_async_scope_is_parented_to_the_tasks_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracer = provider.get_tracer("kowhai-support")
    record = case()

    async def handle(name: str) -> None:
        with tracer.start_as_current_span(name):
            async with use("service-delivery", actor=CASEWORKER):
                await asyncio.sleep(0)
                _ = record.address

    async def main() -> None:
        await asyncio.gather(handle("first"), handle("second"))

    asyncio.run(main())
    by_id = {s.context.span_id: s.name for s in exporter.get_finished_spans() if s.context}
    parents = sorted(by_id[s.parent.span_id] for s in ours(exporter) if s.parent)
    assert parents == ["first", "second"]


# --- which tracer provider ---


def test_a_tracer_provider_passed_in_is_used(no_global_provider: None) -> None:
    provider, exported = sdk_provider()
    global_provider, global_exported = sdk_provider()
    trace.set_tracer_provider(global_provider)
    purposeful.configure(sinks=[SpanSink(provider)])
    with use("service-delivery", actor=CASEWORKER):
        _ = case().address
    assert len(ours(exported)) == 1
    assert ours(global_exported) == []


def test_without_a_provider_the_global_one_is_used(no_global_provider: None) -> None:
    provider, exported = sdk_provider()
    trace.set_tracer_provider(provider)
    purposeful.configure(sinks=[SpanSink()])
    with use("service-delivery", actor=CASEWORKER):
        _ = case().address
    assert [s.name for s in ours(exported)] == ["purposeful.use"]


def test_a_global_provider_set_after_the_sink_is_made_is_used(no_global_provider: None) -> None:
    sink = SpanSink()
    purposeful.configure(sinks=[sink])
    provider, exported = sdk_provider()
    trace.set_tracer_provider(provider)
    with use("service-delivery", actor=CASEWORKER):
        _ = case().address
    assert len(ours(exported)) == 1


def test_the_no_op_global_provider_is_harmless(no_global_provider: None) -> None:
    purposeful.configure(sinks=[SpanSink()], mode=Mode.MONITOR)
    record = case()
    with use("service-delivery", actor=CASEWORKER):
        assert record.address == "12 Cuba Street"
        assert record.diagnosis == "generalised anxiety"  # would-deny: events on a no-op span
    assert record.address == "12 Cuba Street"
    purposeful.configure(sinks=[SpanSink(trace.NoOpTracerProvider())], mode=Mode.ENFORCE)
    with pytest.raises(PurposeViolation), use("service-delivery", actor=CASEWORKER):
        _ = record.diagnosis  # a denial is still a PurposeViolation, not a sink failure


def test_a_sampled_out_scope_exports_nothing_and_breaks_nothing() -> None:
    provider, exported = sdk_provider(sampler=ALWAYS_OFF)
    purposeful.configure(sinks=[SpanSink(provider)])
    with pytest.raises(PurposeViolation), use("funder-reporting", actor=CASEWORKER):
        _ = case().diagnosis
    assert exported.get_finished_spans() == ()


# --- never a value, never a subject id ---

VALUE_MARK = "\u2603"
SUBJECT_MARK = "\u2604"
#: The marks as they are, and as JSON escapes them (``ReadableSpan.to_json``).
MARKS = (VALUE_MARK, SUBJECT_MARK, "\\u2603", "\\u2604")

REGISTRY = PurposeRegistry.default()
PURPOSE_IDS = tuple(p.id for p in REGISTRY)


CASEFILE_FIELDS = tuple(a.name for a in attrs.fields(Dossier))
CASE_FIELDS = ("diagnosis", "address", "case_notes")
ACTORS = (
    Actor("staff-0042", "caseworker", SENSITIVE),
    Actor("staff-0099", "administrator", IN_CONFIDENCE),
    Actor("staff-0007", "practice-lead", TOP_SECRET),
)

LEAK_PROVIDER, LEAK_EXPORTER = sdk_provider()
LEAK_SINK = SpanSink(LEAK_PROVIDER)

values = st.text(min_size=1).map(lambda s: f"{VALUE_MARK}{s}{VALUE_MARK}")
subjects = st.text(min_size=1).map(lambda s: f"{SUBJECT_MARK}{s}{SUBJECT_MARK}")


def checker_for(choice: str, subject: str) -> Any:
    if choice == "always":
        return AlwaysConsent()
    if choice == "never":
        return NeverConsent()
    if choice == "this-subject":
        return FakeConsent({(subject, p) for p in PURPOSE_IDS})
    return None


def read_everything(records: Sequence[tuple[object, Sequence[str]]]) -> None:
    for record, names in records:
        for name in names:
            with contextlib.suppress(PurposeViolation):
                getattr(record, name)


def span_texts(span: ReadableSpan) -> list[str]:
    """Everything a tracing backend would receive of *span*."""
    texts = [span.name, span.to_json(), str(span.status.description)]
    for key, value in (span.attributes or {}).items():
        texts += [key, str(value), *(str(v) for v in _items(value))]
    for event in span.events:
        texts.append(event.name)
        for key, value in (event.attributes or {}).items():
            texts += [key, str(value), *(str(v) for v in _items(value))]
    return texts


def _items(value: object) -> tuple[object, ...]:
    return tuple(value) if isinstance(value, tuple) else ()


LEAK_KEY = PseudonymKey.generate()


@settings(max_examples=100)
@given(
    casefile_values=st.fixed_dictionaries(dict.fromkeys(CASEFILE_FIELDS[1:], values)),
    case_values=st.fixed_dictionaries(dict.fromkeys(CASE_FIELDS, values)),
    subject=subjects,
    other_subject=subjects,
    mode=st.sampled_from([Mode.ENFORCE, Mode.MONITOR]),
    actor=st.sampled_from(ACTORS),
    consent=st.sampled_from(["none", "always", "never", "this-subject"]),
)
def test_no_span_holds_a_value_or_a_subject_id(
    casefile_values: dict[str, str],
    case_values: dict[str, str],
    subject: str,
    other_subject: str,
    mode: Mode,
    actor: Actor,
    consent: str,
) -> None:
    """Every purpose of the default registry, in enforce and monitor mode, with and without
    consent, inside and outside a scope: no exported span holds a value or a subject id."""
    LEAK_EXPORTER.clear()
    casefile = Dossier(client_id=subject, **casefile_values)
    client = Case(other_subject, **case_values)
    records = [(casefile, CASEFILE_FIELDS), (client, CASE_FIELDS)]
    secrets = [subject, other_subject, *casefile_values.values(), *case_values.values()]
    with purposeful.configured(
        mode=mode,
        sinks=[LEAK_SINK],
        consent=checker_for(consent, subject),
        pseudonymise=LEAK_KEY.pseudonym,  # the path that puts people on spans
    ):
        for purpose in PURPOSE_IDS:
            with use(purpose, actor=actor):
                read_everything(records)
                project(casefile)
                project(client)
        read_everything(records)  # outside any scope
        purposeful.audit.flush()
    spans = LEAK_EXPORTER.get_finished_spans()
    scoped = [s for s in spans if s.name == "purposeful.use"]
    unscoped = [s for s in spans if s.name == "purposeful.unscoped_read"]
    assert len(scoped) == len(PURPOSE_IDS)
    reads = len(CASEFILE_FIELDS) + len(CASE_FIELDS)
    if mode is Mode.ENFORCE:  # each refusal is reported alone
        assert len(unscoped) == reads
        assert all(s.status.status_code is StatusCode.ERROR for s in unscoped)
    else:  # monitor mode's reads outside any scope, counted in their window
        assert sum(int(s.attributes["purposeful.would_deny.count"]) for s in unscoped) == reads
        assert any(e.name == "purposeful.would_deny" for s in scoped for e in s.events)
    for span in spans:
        for text in span_texts(span):
            for mark in MARKS:
                assert mark not in text, f"{mark!r} leaked into {span.name}: {text!r}"
            for secret in secrets:
                assert secret not in text


def test_subjects_appear_only_as_pseudonyms_capped_with_an_overflow_count(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    key = PseudonymKey.generate()
    purposeful.configure(sinks=[SpanSink(provider, max_subjects=2)], pseudonymise=key.pseudonym)
    people = [case(client_id=f"C-{n}") for n in range(5)]
    with use("service-delivery", actor=ADMINISTRATOR):
        for person in people:
            assert person.address == "12 Cuba Street"
            assert person.address == "12 Cuba Street"  # read again: still one person
    (span,) = ours(exporter)
    attributes = dict(span.attributes or {})
    expected = sorted(key.pseudonym(f"C-{n}") for n in range(5))[:2]
    assert attributes["purposeful.subjects"] == " ".join(expected)
    assert attributes["purposeful.subjects.count"] == 5
    assert attributes["purposeful.subjects.overflow"] == 3
    assert attributes["purposeful.record_types.subject_counts"] == (5,)
    text = repr(attributes)
    assert not any(f"C-{n}" in text.replace(key.key_id, "") for n in range(5))


@settings(max_examples=30, deadline=None)
@given(
    scopes=st.lists(
        st.lists(st.sampled_from(["address", "diagnosis", "region"]), max_size=3), max_size=6
    )
)
def test_scopes_that_share_their_decisions_each_get_their_own_counts(
    scopes: list[list[str]],
) -> None:
    """The sink works out what a set of decisions says once per set (scopes of one purpose
    and actor share decision objects): each span still says what its own scope decided."""
    provider, exporter = sdk_provider()
    with purposeful.configured(sinks=[SpanSink(provider)]):
        for names in scopes:
            with use("service-delivery", actor=ADMINISTRATOR):
                record = case()
                for name in names:
                    with contextlib.suppress(PurposeViolation):
                        getattr(record, name)
    spans = ours(exporter)
    assert len(spans) == len(scopes)
    for names, span in zip(scopes, spans, strict=True):
        attributes = dict(span.attributes or {})
        managed = {name for name in names if name != "region"}
        assert attributes["purposeful.decisions.count"] == len(managed)
        assert attributes["purposeful.denied.count"] == int("diagnosis" in managed)
        assert attributes["purposeful.fields_read"] == (
            ("Case.address",) if "address" in managed else ()
        )
        assert attributes["purposeful.record_types"] == (("Case",) if managed else ())
