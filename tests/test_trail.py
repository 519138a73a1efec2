"""The audit trail tells the truth: per person, within the flush bounds, whatever fails.

- which fields of which person's records a scope read, as its reports, spans and ledger
  lines say, for every purpose, every field and every record kind (a property);
- a long scope sends parts: never more than ``flush_reads`` new reads wait, and none waits
  longer than ``flush_seconds``;
- a failing pseudonymiser or sink costs the failing part only, and is reported;
- monitor mode's reads outside any scope are counted in windows, not one report each.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import purposeful
from _records import (
    CASE_CLASSES,
    CASE_MANAGEMENT,
    CASEWORKER,
    FUNDER_JOB,
    SUPERVISOR,
    AlwaysConsent,
    Case,
    Contact,
    Dossier,
    FailingSink,
    FakeConsent,
    Household,
    RecordingSink,
    case,
)
from purposeful import Mode, PurposeViolation, ScopeReport, cli, record_policy, use
from purposeful.audit import Ledger, PseudonymKey, SpanSink
from purposeful.errors import AuditSinkError, ConfigurationError

KEY = PseudonymKey.generate()
SIGNING = Ed25519PrivateKey.generate()
PURPOSES = tuple(p.id for p in purposeful.get_configuration().registry)
ACTORS = (CASEWORKER, SUPERVISOR, FUNDER_JOB)


def _dossier(subject: str) -> object:
    return Dossier(subject, "d", "a", "s", "p", "i", "f")


#: record kind → (a maker taking a subject id, the managed fields)
KINDS: dict[str, tuple[Callable[[str], object], tuple[str, ...]]] = {
    **{
        cls.__qualname__: (
            lambda subject, cls=cls: case(cls, client_id=subject),
            ("diagnosis", "address", "case_notes"),
        )
        for cls in CASE_CLASSES
    },
    "Contact": (lambda subject: Contact(subject, "021", "a@b"), ("phone", "email")),
    "Household": (lambda subject: Household(subject, "two"), ("members",)),
    "Dossier": (
        _dossier,
        ("client_id", "diagnosis", "address", "story", "safety_plan", "income", "feedback"),
    ),
}


def per_person(reports: Iterable[ScopeReport]) -> dict[str, set[str]]:
    """pseudonym → every field the reports say was read from that person's records."""
    found: dict[str, set[str]] = defaultdict(set)
    for report in reports:
        assert set(report.reads) == set(report.subjects)
        for pseudonym, fields in report.reads.items():
            found[pseudonym] |= fields
    return dict(found)


def from_ledger(path: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for line in path.read_text().splitlines():
        document = json.loads(line)
        if document["type"] != "scope":
            continue
        for pseudonym, positions in zip(document["subjects"], document["reads"], strict=True):
            found[pseudonym] |= {document["fields"][i] for i in positions}
    return dict(found)


def from_spans(exporter: InMemorySpanExporter) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for span in exporter.get_finished_spans():
        attributes = dict(span.attributes or {})
        fields = attributes["purposeful.fields_read"]
        people = str(attributes["purposeful.subjects"]).split(" ")  # edition 2: one string
        items = str(attributes["purposeful.subjects.fields"]).split(",")
        if people == [""]:
            people, items = [], []
        for pseudonym, positions in zip(people, items, strict=True):
            found[pseudonym] |= {fields[int(i)] for i in str(positions).split()}
    return dict(found)


reads_strategy = st.lists(
    st.tuples(
        st.integers(0, 5),  # which person
        st.sampled_from(sorted(KINDS)),
        st.integers(0, 6),  # which field of the kind (modulo)
    ),
    max_size=40,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    reads=reads_strategy,
    purpose=st.sampled_from(PURPOSES),
    actor=st.sampled_from(ACTORS),
    mode=st.sampled_from([Mode.ENFORCE, Mode.MONITOR]),
    flush_reads=st.integers(1, 12),
)
def test_each_persons_history_lists_exactly_the_fields_read_from_their_records(
    reads: list[tuple[int, str, int]],
    purpose: str,
    actor: purposeful.Actor,
    mode: Mode,
    flush_reads: int,
) -> None:
    """For random scopes reading random fields of random people's records, in every record
    kind, under every purpose: the reports, the spans and the ledger each say, per person,
    exactly the fields read from that person's records (never another's), joined over the
    scope's parts."""
    recording = RecordingSink()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    records: dict[tuple[int, str], object] = {}
    truth: dict[str, set[str]] = defaultdict(set)
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(Path(folder) / "audit.jsonl", signing_key=SIGNING)
        with (
            purposeful.configured(
                sinks=[recording, SpanSink(provider), ledger],
                pseudonymise=KEY.pseudonym,
                consent=FakeConsent({("P-1", purpose), ("P-3", purpose)}),
                mode=mode,
                flush_reads=flush_reads,
            ),
            use(purpose, actor=actor),
        ):
            for person, kind, which in reads:
                make, fields = KINDS[kind]
                subject = f"P-{person}"
                record = records.setdefault((person, kind), make(subject))
                field = fields[which % len(fields)]
                try:
                    getattr(record, field)
                except PurposeViolation:
                    continue
                name = record_policy(type(record)).name
                truth[KEY.pseudonym(subject)].add(f"{name}.{field}")
        ledger.close()
        assert from_ledger(Path(folder) / "audit.jsonl") == truth
    assert per_person(recording.reports) == truth
    assert from_spans(exporter) == truth
    parts = [report.part for report in recording.reports]
    assert parts == list(range(len(parts)))
    assert [report.final for report in recording.reports] == [False] * (len(parts) - 1) + [True]
    assert len({report.scope_id for report in recording.reports}) == 1


def test_a_second_person_is_not_said_to_have_had_the_first_persons_field_read(
    sink: RecordingSink,
) -> None:
    """The reported bug: B's history listed A's health note."""
    purposeful.configure(pseudonymise=KEY.pseudonym)
    a, b = case(client_id="A-1"), case(client_id="B-2")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = a.diagnosis, a.address, b.address
    (report,) = sink.reports
    assert report.reads == {
        KEY.pseudonym("A-1"): {"Case.diagnosis", "Case.address"},
        KEY.pseudonym("B-2"): {"Case.address"},
    }
    assert report.fields_read == {"Case.diagnosis", "Case.address"}


def test_a_projection_notes_the_fields_it_handed_out(sink: RecordingSink) -> None:
    purposeful.configure(pseudonymise=KEY.pseudonym)
    with use("service-delivery", actor=CASEWORKER):
        purposeful.project(case(client_id="A-1"))
    (report,) = sink.reports
    assert report.reads == {KEY.pseudonym("A-1"): {"Case.address"}}


def test_a_refused_read_is_not_a_read(sink: RecordingSink) -> None:
    purposeful.configure(pseudonymise=KEY.pseudonym)
    with use("service-delivery", actor=CASEWORKER), pytest.raises(PurposeViolation):
        _ = case(client_id="A-1").diagnosis
    (report,) = sink.reports
    assert (report.reads, report.fields_read, report.subject_count) == ({}, frozenset(), 0)


def test_without_a_pseudonymiser_a_report_counts_people_but_cannot_say_whose(
    sink: RecordingSink,
) -> None:
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case(client_id="A-1").diagnosis, case(client_id="B-2").address
    (report,) = sink.reports
    assert (report.subject_count, report.subjects, report.reads) == (2, frozenset(), {})
    assert report.fields_read == {"Case.diagnosis", "Case.address"}


# --- the count bound ---------------------------------------------------------------------


def test_no_more_than_flush_reads_new_reads_ever_wait(sink: RecordingSink) -> None:
    """After every read returns, fewer than flush_reads of the scope's new reads (a field of
    a person's records read for the first time) are still unsent."""
    purposeful.configure(pseudonymise=KEY.pseudonym, flush_reads=7)
    people = [Contact(f"P-{n}", "021", "a@b") for n in range(30)]
    read: set[tuple[int, str]] = set()
    noted = 0
    with use("service-delivery", actor=CASEWORKER):
        for person in people:
            for field in ("phone", "email", "phone"):
                getattr(person, field)
                read.add((id(person), field))
                noted = sum(len(fields) for fields in per_person(sink.reports).values())
                assert len(read) - noted < 7
    noted = sum(len(fields) for fields in per_person(sink.reports).values())
    assert noted == 60
    assert len(sink.reports) >= 60 // 7
    assert per_person(sink.reports) == {
        KEY.pseudonym(f"P-{n}"): {"Contact.phone", "Contact.email"} for n in range(30)
    }


def test_parts_hold_only_what_is_new_and_join_to_the_scope(sink: RecordingSink) -> None:
    purposeful.configure(pseudonymise=KEY.pseudonym, flush_reads=1)
    person, other = case(client_id="A-1"), case(client_id="B-2")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        for _ in range(3):
            _ = person.diagnosis, person.address, other.address
    parts = sink.reports
    assert [(r.part, r.final) for r in parts] == [
        (n, n == len(parts) - 1) for n in range(len(parts))
    ]
    assert per_person(parts) == {
        KEY.pseudonym("A-1"): {"Case.diagnosis", "Case.address"},
        KEY.pseudonym("B-2"): {"Case.address"},
    }
    listed = [(p, f) for r in parts for p, fields in r.reads.items() for f in fields]
    assert len(listed) == len(set(listed)) == 3  # each read in one part only
    assert sum(len(r.decisions) for r in parts) == 2  # each decision in one part only
    assert sum(r.subject_count for r in parts) == 3  # people counted in their part


# --- the time bound ----------------------------------------------------------------------


def test_a_read_reaches_the_sinks_within_flush_seconds_while_the_scope_is_open(
    sink: RecordingSink,
) -> None:
    purposeful.configure(pseudonymise=KEY.pseudonym, flush_seconds=0.2)
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case(client_id="A-1").diagnosis
        read_at = time.monotonic()
        deadline = read_at + 5  # bounded: the bound is 0.2 s, the machine may be busy
        while not sink.reports and time.monotonic() < deadline:
            time.sleep(0.01)
        sent_after = time.monotonic() - read_at
        (part,) = sink.reports
    assert (part.part, part.final) == (0, False)
    assert part.reads == {KEY.pseudonym("A-1"): {"Case.diagnosis"}}
    assert sent_after < 1.0  # 0.2 s, and room for a loaded CI core
    assert (sink.reports[-1].part, sink.reports[-1].final) == (1, True)


def test_the_flush_bounds_are_checked(sink: RecordingSink) -> None:
    for wrong in (0, -1, 1.5, True, "100", 10**7):
        with pytest.raises(ConfigurationError, match="flush_reads= takes a whole number"):
            purposeful.configure(flush_reads=wrong)
    for wrong_seconds in (0, -1, 0.001, float("nan"), True, "1", 10**6):
        with pytest.raises(ConfigurationError, match="flush_seconds= takes a number"):
            purposeful.configure(flush_seconds=wrong_seconds)
    assert purposeful.configure(flush_reads=5, flush_seconds=2).flush_seconds == 2.0


# --- failures cost the failing part only -------------------------------------------------


def test_a_failing_pseudonymiser_loses_the_people_not_the_reads(sink: RecordingSink) -> None:
    calls = []

    def flaky(subject: str) -> str:
        calls.append(1)
        if len(calls) > 1:  # the configure probe passes, every later call fails
            raise OSError("the key store is down")
        return KEY.pseudonym(subject)

    purposeful.configure(pseudonymise=flaky)
    with (
        pytest.raises(AuditSinkError, match="pseudonymiser failed") as failure,
        use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        assert case(client_id="A-1").diagnosis == "generalised anxiety"
    (report,) = sink.reports
    assert report.fields_read == {"Case.diagnosis"}
    assert (report.subject_count, report.subjects, report.reads) == (1, frozenset(), {})
    assert "A-1" not in str(failure.value)


def test_a_sink_failing_on_a_part_never_stops_a_read_and_is_raised_at_close() -> None:
    failing, recording = FailingSink(), RecordingSink()
    purposeful.configure(sinks=[failing, recording], flush_reads=1)
    person = case(client_id="A-1")
    values = []

    def read_two() -> None:
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            values.append(person.diagnosis)  # a part is sent, and fails
            values.append(person.address)

    with pytest.raises(AuditSinkError, match="failed to take a scope report") as failure:
        read_two()
    assert values == ["generalised anxiety", "12 Cuba Street"]
    assert failing.calls == len(recording.reports) >= 3
    assert any("more part(s)" in note for note in failure.value.__notes__)


def test_a_failing_sink_does_not_stop_the_flusher(sink: RecordingSink) -> None:
    failing = FailingSink()
    purposeful.configure(sinks=[failing, sink], flush_seconds=0.05)
    with contextlib.suppress(AuditSinkError), use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case().diagnosis
        deadline = time.monotonic() + 5
        while not sink.reports and time.monotonic() < deadline:
            time.sleep(0.01)
    with (  # a later scope is still looked after
        contextlib.suppress(AuditSinkError),
        use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        _ = case().diagnosis
        deadline = time.monotonic() + 5
        before = len(sink.reports)
        while len(sink.reports) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(sink.reports) > before


# --- monitor mode outside any scope ----------------------------------------------------------


def _legacy_export(people: list[Any]) -> list[str]:
    return [person.address for person in people]  # no scope: one call site


def test_ten_thousand_legacy_reads_cost_a_few_reports_and_count_exactly(
    sink: RecordingSink,
) -> None:
    purposeful.configure(mode=Mode.MONITOR, pseudonymise=KEY.pseudonym)
    people = [case(client_id=f"P-{n}") for n in range(50)]
    for _ in range(200):
        _legacy_export(people)
    purposeful.audit.flush()
    assert 1 <= len(sink.reports) <= 3
    total = sum(
        report.count_of(i) for report in sink.reports for i, _ in enumerate(report.decisions)
    )
    assert total == 10_000
    assert all(report.site is not None for report in sink.reports)
    site = sink.reports[0].site
    assert site is not None
    assert (site.function, site.file) == ("_legacy_export", __file__)
    assert per_person(sink.reports) == {
        KEY.pseudonym(f"P-{n}"): {"Case.address"} for n in range(50)
    }


def test_unscoped_reads_reach_the_ledger_and_the_would_deny_gate_counts_each(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "audit.jsonl", signing_key=SIGNING)
    purposeful.configure(mode=Mode.MONITOR, sinks=[ledger])
    people = [case(client_id=f"P-{n}") for n in range(10)]
    for _ in range(1000):
        _legacy_export(people)
    purposeful.audit.flush()
    ledger.close()
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    scopes = [line for line in lines if line["type"] == "scope"]
    assert len(scopes) <= 3
    assert sum(d["count"] for line in scopes for d in line["decisions"]) == 10_000
    assert {line["site"]["function"] for line in scopes} == {"_legacy_export"}


def test_the_would_deny_gate_counts_ten_thousand_legacy_reads_from_the_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end: 10,000 monitor-mode reads outside any scope, a ledger, and
    ``purposeful audit report --fail-on-would-deny`` reporting all 10,000."""
    ledger = Ledger(tmp_path / "audit.jsonl", signing_key=SIGNING)
    purposeful.configure(mode=Mode.MONITOR, sinks=[ledger])
    people = [case(client_id=f"P-{n}") for n in range(100)]
    for _ in range(100):
        _legacy_export(people)
    purposeful.audit.flush()
    ledger.close()
    purposeful.configure(sinks=[])
    code = cli.main(
        ["audit", "report", "--ledger", str(tmp_path / "audit.jsonl"), "--fail-on-would-deny"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "Would-deny gate: failed, 10000 would-deny decisions: enforce mode would" in out
    assert "_legacy_export" in out  # the call-site table says where they come from


def test_an_unscoped_window_is_sent_within_flush_seconds(sink: RecordingSink) -> None:
    purposeful.configure(mode=Mode.MONITOR, flush_seconds=0.2)
    _ = case().address
    read_at = time.monotonic()
    deadline = read_at + 5
    while not sink.reports and time.monotonic() < deadline:
        time.sleep(0.01)
    assert time.monotonic() - read_at < 1.0
    (report,) = sink.reports
    assert (report.purpose, report.counts, report.final) == (None, (1,), True)


def test_opening_a_scope_sends_the_reads_made_before_it_first(sink: RecordingSink) -> None:
    purposeful.configure(mode=Mode.MONITOR)
    _ = case().address
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case().diagnosis
    assert [report.purpose for report in sink.reports] == [
        None,
        purposeful.get_configuration().registry.get(CASE_MANAGEMENT),
    ]


def test_unscoped_reads_of_many_people_are_bounded_per_report(sink: RecordingSink) -> None:
    purposeful.configure(mode=Mode.MONITOR, pseudonymise=KEY.pseudonym, flush_reads=10)
    people = [case(client_id=f"P-{n}") for n in range(95)]
    _legacy_export(people)
    purposeful.audit.flush()
    assert [len(report.subjects) for report in sink.reports] == [10] * 9 + [5]
    assert per_person(sink.reports) == {
        KEY.pseudonym(f"P-{n}"): {"Case.address"} for n in range(95)
    }


def test_consent_fields_are_noted_per_person(sink: RecordingSink) -> None:
    purposeful.configure(pseudonymise=KEY.pseudonym, consent=AlwaysConsent())
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        a, b = Case("A-1", "d", "a", "n"), Case("B-2", "d", "a", "n")
        _ = a.case_notes, a.case_notes, b.diagnosis, a.case_notes
    (report,) = sink.reports
    assert report.reads == {
        KEY.pseudonym("A-1"): {"Case.case_notes"},
        KEY.pseudonym("B-2"): {"Case.diagnosis"},
    }


def test_a_long_scope_keeps_a_bounded_number_of_people_and_stays_true(
    sink: RecordingSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    from purposeful import _scope as scope_module

    monkeypatch.setattr(scope_module, "_PEOPLE_KEPT", 20)
    purposeful.configure(pseudonymise=KEY.pseudonym, flush_reads=10)
    people = [Contact(f"P-{n}", "021", "a@b") for n in range(200)]
    with use("service-delivery", actor=CASEWORKER) as scope:
        for person in people:
            _ = person.phone
        kept = len(scope._seen)
        for person in people[:5]:  # read again after being forgotten: listed again, no harm
            _ = person.phone, person.email
    assert kept <= 20 + 10
    assert per_person(sink.reports) == {
        KEY.pseudonym(f"P-{n}"): {"Contact.phone", "Contact.email"} if n < 5 else {"Contact.phone"}
        for n in range(200)
    }


def test_a_forgotten_persons_record_is_not_readable_after_the_scope_closes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from purposeful import _scope as scope_module

    monkeypatch.setattr(scope_module, "_PEOPLE_KEPT", 2)
    people = [Contact(f"P-{n}", "021", "a@b") for n in range(10)]
    for sinks in ([RecordingSink()], []):
        purposeful.configure(sinks=sinks, flush_reads=1)
        with use("service-delivery", actor=CASEWORKER):
            elsewhere = contextvars.copy_context()  # a task's context: it shares the scope
            assert elsewhere.run(lambda: people[0].phone) == "021"  # its hot path: P-0's set
            for person in people:
                _ = person.phone  # P-0 is forgotten along the way
        with pytest.raises(purposeful.NoPurposeScope):
            elsewhere.run(lambda: people[0].phone)


@purposeful.record(subject="client_id")
class ValidatedIntake:
    client_id: str
    code: str = purposeful.field(
        purposes={CASE_MANAGEMENT: purposeful.ServiceAgreement("Agreement")},
        validator=attrs.validators.in_(["a", "b"]),
    )
    note: str = purposeful.field(purposes={"research": purposeful.CONSENT}, default="n")


def test_construction_that_validates_a_managed_field_is_not_a_read(sink: RecordingSink) -> None:
    """attrs' __init__ reads a validated field back: construction, never a read on record,
    even under a purpose the field is not declared for."""
    purposeful.configure(pseudonymise=KEY.pseudonym)
    with use("service-delivery", actor=CASEWORKER):
        record = ValidatedIntake("A-1", "a")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert record.code == "a"
        ValidatedIntake("B-2", "b")
    first, second = sink.reports
    assert (first.reads, first.decisions) == ({}, ())
    assert second.reads == {KEY.pseudonym("A-1"): {"ValidatedIntake.code"}}


def test_a_part_the_flusher_sends_is_sent_outside_the_scope(sink: RecordingSink) -> None:
    """A sink runs in the context the scope was opened in: the current span is the same,
    but the scope itself is not in force there."""
    in_force: list[object] = []

    class Looking:
        def emit(self, report: ScopeReport) -> None:
            in_force.append(purposeful.current_scope())

    purposeful.configure(sinks=[Looking(), sink], flush_seconds=0.05)
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case().diagnosis
        deadline = time.monotonic() + 5
        while not in_force and time.monotonic() < deadline:
            time.sleep(0.01)
    assert in_force[0] is None


def test_a_scope_reading_many_fields_of_one_record_is_one_report(sink: RecordingSink) -> None:
    """Each field decided for the first time takes the slow path; none of them may count
    as more than one read, or a short scope would be sent in parts."""
    record = Dossier("A-1", "d", "a", "s", "p", "i", "f")
    with use("service-delivery", actor=CASEWORKER):
        for _ in range(3):
            for field in ("client_id", "address", "feedback"):
                with contextlib.suppress(PurposeViolation):
                    getattr(record, field)
    assert [(r.part, r.final) for r in sink.reports] == [(0, True)]
    purposeful.configure(flush_reads=3, pseudonymise=KEY.pseudonym)
    people = [Contact(f"P-{n}", "021", "a@b") for n in range(6)]
    sink.reports.clear()
    with use("service-delivery", actor=CASEWORKER):
        for person in people:
            _ = person.phone, person.email, person.phone
    # 12 new reads, at most 3 waiting: a part whenever a record could bring it to 3
    sizes = [sum(len(fields) for fields in r.reads.values()) for r in sink.reports]
    assert sum(sizes) == 12
    assert len(sizes) <= 6
    assert all(size >= 2 for size in sizes[:-1])


_CONTACT_FIELDS = ("phone", "email")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    reads=st.lists(
        st.tuples(
            st.sampled_from(["P-1", "P-2", "P-3", "", "p-1"]),
            st.lists(st.sampled_from(_CONTACT_FIELDS), max_size=3),
            st.booleans(),
        ),
        max_size=12,
    )
)
def test_a_keys_pseudonyms_say_what_any_pseudonymiser_says(
    sink: RecordingSink, reads: list[tuple[str, list[str], bool]]
) -> None:
    """A `PseudonymKey`'s own method is pseudonymised for everyone at once (`_all_keyed`:
    everyone read every field, or a set of names per distinct set); any other callable
    person by person. Both say the same of every person, whatever each read, for one or
    many records of a person, the same fields or not, ids that are empty or a str
    subclass, and a person only asked about."""

    class Id(str):
        pass

    def session() -> dict[str, set[str]]:
        sink.reports.clear()
        with use("service-delivery", actor=CASEWORKER):
            for subject, fields, subclass in reads:
                person = Contact(Id(subject) if subclass else subject, "021", "a@b")
                if not fields and subject:
                    purposeful.may_use(Contact, "phone", subject=subject)
                for field in fields:
                    getattr(person, field)
        return per_person(sink.reports)

    purposeful.configure(sinks=[sink], pseudonymise=KEY.pseudonym)
    keyed = session()
    purposeful.configure(sinks=[sink], pseudonymise=lambda subject: KEY.pseudonym(subject))
    assert keyed == session()
    expected: dict[str, set[str]] = defaultdict(set)
    for subject, fields, _ in reads:
        if subject:
            expected[KEY.pseudonym(subject)].update(f"Contact.{f}" for f in fields)
    asked_only = {p for p, fields in expected.items() if not fields}
    assert {p: f for p, f in keyed.items() if p not in asked_only} == {
        p: f for p, f in expected.items() if p not in asked_only
    }
    assert set(keyed) <= set(expected)
