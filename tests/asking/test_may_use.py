"""`may_use`: the answer's verdict, basis, words and law; a question about a type reads and
records nothing; one about a person is an audited use of the scope it is asked in, recorded
without the person's id; every mistake is a typed error that says how to fix it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from _asking import ANALYST, CASE_MANAGEMENT, CASEWORKER, REFERRAL, AskVisit, YesFor, visit

import purposeful
from _records import RecordingSink
from purposeful import (
    IN_CONFIDENCE,
    RESTRICTED,
    SENSITIVE,
    Actor,
    Mode,
    Outcome,
    PurposeViolation,
)
from purposeful.asking import Answer, Verdict, law_for, who_may_see
from purposeful.consent import MemoryConsentStore
from purposeful.errors import AnnotationError, ConfigurationError, UnknownPurpose

SUBJECT = "C-7Q4X-private"


@pytest.fixture
def recording() -> RecordingSink:
    sink = RecordingSink()
    purposeful.configure(sinks=[sink])
    return sink


@pytest.fixture
def consent() -> Iterator[MemoryConsentStore]:
    store = MemoryConsentStore()
    purposeful.configure(consent=store)
    yield store
    store.close()


def _refusal(record: AskVisit, field: str, purpose: str, actor: Actor) -> PurposeViolation:
    with pytest.raises(PurposeViolation) as caught, purposeful.use(purpose, actor=actor):
        getattr(record, field)
    return caught.value


def test_a_yes_names_the_basis_and_the_law() -> None:
    answer = purposeful.may_use(AskVisit, "name", "funder-reporting", actor=ANALYST)
    assert answer.verdict is Verdict.YES
    assert answer.allowed
    assert answer.basis == purposeful.ServiceAgreement("Funding agreement")
    assert answer.explanation == (
        "name may be used for funder reporting on the basis of the service agreement "
        "'Funding agreement'."
    )
    assert answer.law == ("Privacy Act 2020, IPP 10",)
    assert answer.reasons == ()


def test_a_no_uses_the_refusals_own_words() -> None:
    answer = purposeful.may_use(
        AskVisit, "health_notes", "funder-reporting", role="analyst", clearance=IN_CONFIDENCE
    )
    refused = _refusal(visit(), "health_notes", "funder-reporting", ANALYST)
    assert answer.verdict is Verdict.NO
    assert answer.explanation == refused.decision.explain()
    assert answer.reasons == refused.decision.reason_codes
    assert answer.reasons == ("purpose-not-declared", "clearance-too-low")


def test_a_field_that_needs_consent_is_answered_with_consent() -> None:
    answer = purposeful.may_use(AskVisit, "health_notes", CASE_MANAGEMENT, actor=CASEWORKER)
    assert answer.verdict is Verdict.WITH_CONSENT
    assert answer.needs_consent
    assert answer.law == ("Privacy Act 2020, IPP 10(1)(c)",)
    assert "only for a person whose consent is in force" in answer.explanation
    # consent asked on a directly related purpose: the basis is IPP 10(1)(a), consent on top
    referral = purposeful.may_use(AskVisit, "referral_reason", REFERRAL, actor=CASEWORKER)
    assert referral.verdict is Verdict.WITH_CONSENT
    assert referral.law == ("Privacy Act 2020, IPP 10(1)(a)",)


def test_without_a_consent_store_the_condition_says_a_read_is_refused() -> None:
    answer = purposeful.may_use(AskVisit, "health_notes", CASE_MANAGEMENT, actor=CASEWORKER)
    assert "No consent store is configured" in answer.explanation
    purposeful.configure(consent=YesFor())
    answer = purposeful.may_use(AskVisit, "health_notes", CASE_MANAGEMENT, actor=CASEWORKER)
    assert "No consent store" not in answer.explanation


class _Broken:
    def consent_in_force(self, subject: str, purpose: purposeful.Purpose, at: datetime) -> bool:
        raise OSError(f"store down while asking about {subject}")


def test_a_consent_store_that_fails_refuses_the_person_and_logs_no_id(
    recording: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    purposeful.configure(consent=_Broken())
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        answer = purposeful.may_use(AskVisit, "health_notes", subject=SUBJECT)
    assert answer.verdict is Verdict.NO
    assert answer.reasons == ("consent-check-failed",)
    assert "the consent store could not be asked" in answer.explanation
    assert SUBJECT not in caplog.text
    assert SUBJECT not in repr(recording.reports)


def test_a_question_in_a_scope_that_has_closed_is_not_asked_there() -> None:
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        carried = purposeful.carry_scope(purposeful.may_use)
    with pytest.raises(ConfigurationError, match="audited use"):
        carried(AskVisit, "health_notes", subject=SUBJECT)


def test_a_basis_that_needs_a_belief_on_reasonable_grounds_is_answered_with_a_justification() -> (
    None
):
    answer = purposeful.may_use(AskVisit, "threat", "care-and-protection", actor=CASEWORKER)
    assert answer.verdict is Verdict.WITH_JUSTIFICATION
    assert answer.needs_justification
    assert answer.law == ("Privacy Act 2020, IPP 10(1)(f)",)
    assert "justification" in answer.explanation
    assert answer.reasons == ("justification-missing",)


def test_a_statute_only_some_may_rely_on_is_a_no_for_anyone_else() -> None:
    answer = purposeful.may_use(AskVisit, "concern", "care-and-protection", actor=CASEWORKER)
    assert answer.verdict is Verdict.NO
    assert answer.law == ("Oranga Tamariki Act 1989 s 66C",)
    assert "child welfare and protection agencies and independent persons" in answer.explanation
    purposeful.configure(agency_kinds=["child-welfare-and-protection"])
    entitled = purposeful.may_use(AskVisit, "concern", "care-and-protection", actor=CASEWORKER)
    assert entitled.verdict is Verdict.WITH_JUSTIFICATION


def test_in_monitor_mode_a_no_is_a_would_deny_that_says_so() -> None:
    purposeful.configure(record_modes={AskVisit: Mode.MONITOR})
    answer = purposeful.may_use(AskVisit, "address", "service-delivery", actor=CASEWORKER)
    assert answer.verdict is Verdict.WOULD_DENY
    assert answer.mode is Mode.MONITOR
    assert answer.explanation.startswith("address is classified RESTRICTED")
    assert "monitor mode" in answer.explanation


def test_a_question_about_a_type_reads_nothing_and_records_nothing(
    recording: RecordingSink,
) -> None:
    for field in purposeful.record_policy(AskVisit).fields:
        purposeful.may_use(AskVisit, field, CASE_MANAGEMENT, actor=CASEWORKER)
    assert purposeful.current_scope() is None
    purposeful.audit.flush()
    assert recording.reports == []


def test_a_type_is_found_by_its_name() -> None:
    by_name = purposeful.may_use("AskVisit", "name", "service-delivery", actor=ANALYST)
    assert by_name == purposeful.may_use(AskVisit, "name", "service-delivery", actor=ANALYST)


def test_a_question_about_a_person_asks_their_consent_in_the_scope_and_records_no_id(
    recording: RecordingSink, consent: MemoryConsentStore
) -> None:
    consent.give(SUBJECT, CASE_MANAGEMENT, at=datetime(2026, 3, 3, tzinfo=UTC))
    consent.withdraw(SUBJECT, CASE_MANAGEMENT, at=datetime(2026, 3, 10, tzinfo=UTC))
    consent.give("C-other", CASE_MANAGEMENT, at=datetime(2026, 3, 3, tzinfo=UTC))
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        withdrawn = purposeful.may_use(AskVisit, "health_notes", subject=SUBJECT)
        given = purposeful.may_use(AskVisit, "health_notes", subject="C-other")
        assert all(d.outcome is not Outcome.DENIED for d in scope.decisions)
    assert withdrawn.verdict is Verdict.NO
    assert withdrawn.reasons == ("consent-not-held",)
    assert withdrawn.consent is not None
    assert not withdrawn.consent.in_force
    assert "consent was withdrawn (for service-delivery.case-management) on 10 March 2026" in (
        withdrawn.explanation
    )
    assert given.verdict is Verdict.YES
    assert "The person's consent is in force: consent was given" in given.explanation
    (report,) = recording.reports
    # nothing was read: both are withheld, with the reasons a read would have met
    assert [d.outcome for d in report.decisions] == [Outcome.WITHHELD, Outcome.WITHHELD]
    assert [d.reason_codes for d in report.decisions] == [("consent-not-held",), ()]
    assert report.violations == ()  # asking is not a refused read
    assert report.fields_read == frozenset()  # nor a read at all
    assert SUBJECT not in repr(report)
    assert SUBJECT not in repr(withdrawn)
    assert SUBJECT not in json.dumps(withdrawn.to_dict())


def test_on_the_span_a_question_is_neither_a_read_nor_a_violation() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from purposeful.audit import SpanSink
    from purposeful.audit.conventions import SpanAttribute

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    purposeful.configure(sinks=[SpanSink(provider)], consent=YesFor([SUBJECT]))
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert purposeful.may_use(AskVisit, "health_notes", subject=SUBJECT).allowed
        assert not purposeful.may_use(AskVisit, "health_notes", subject="C-other").allowed
    (span,) = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert attributes[SpanAttribute.FIELDS_READ] == ()
    assert attributes[SpanAttribute.DENIED_COUNT] == 0
    assert attributes[SpanAttribute.WITHHELD_COUNT] == 2
    assert SUBJECT not in repr(attributes)


def test_a_question_about_a_person_opens_its_own_scope_from_purpose_and_actor(
    recording: RecordingSink,
) -> None:
    purposeful.configure(consent=YesFor([SUBJECT]))
    answer = purposeful.may_use(
        AskVisit, "referral_reason", REFERRAL, actor=CASEWORKER, subject=SUBJECT
    )
    assert answer.verdict is Verdict.YES
    (report,) = recording.reports
    assert report.purpose is not None
    assert report.purpose.id == REFERRAL
    assert report.actor == CASEWORKER
    assert [d.field for d in report.decisions] == ["referral_reason"]


def test_a_question_about_a_person_asks_once_per_scope_and_the_read_reuses_the_answer() -> None:
    checker = YesFor([SUBJECT])
    purposeful.configure(consent=checker)
    record = visit(SUBJECT)
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        purposeful.may_use(AskVisit, "health_notes", subject=SUBJECT)
        purposeful.may_use(AskVisit, "health_notes", subject=SUBJECT)
        assert record.health_notes == f"health_notes of {SUBJECT}"
    assert checker.asked == [CASE_MANAGEMENT]


def test_a_question_about_a_person_needs_a_scope_or_a_purpose_and_an_actor() -> None:
    with pytest.raises(ConfigurationError, match="audited use") as caught:
        purposeful.may_use(AskVisit, "health_notes", CASE_MANAGEMENT, subject=SUBJECT)
    assert SUBJECT not in str(caught.value)
    with pytest.raises(ConfigurationError, match="not with role= and clearance="):
        purposeful.may_use(
            AskVisit,
            "health_notes",
            CASE_MANAGEMENT,
            role="x",
            clearance=SENSITIVE,
            subject=SUBJECT,
        )
    with pytest.raises(ConfigurationError, match="person's id as text"):
        purposeful.may_use(AskVisit, "health_notes", subject=42)  # type: ignore[arg-type]


def test_a_question_for_another_purpose_inside_a_scope_is_asked_in_a_scope_of_its_own(
    recording: RecordingSink,
) -> None:
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        purposeful.may_use(AskVisit, "name", "funder-reporting", actor=ANALYST, subject=SUBJECT)
    inner, outer = recording.reports
    assert inner.purpose is not None
    assert inner.purpose.id == "funder-reporting"
    assert outer.decisions == ()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"record_type": "NoSuchType"}, "no declared record type is called 'NoSuchType'"),
        ({"field": "no_such"}, r"AskVisit.no_such is not a field of AskVisit"),
        ({"field": "visit_id"}, "is not a managed field of AskVisit"),
        ({"role": "caseworker"}, "not both"),
        ({"actor": None}, "pass role= and clearance="),
        ({"purpose": None}, "needs the purpose"),
        ({"actor": "caseworker"}, "takes a purposeful.Actor"),
    ],
)
def test_every_mistake_is_a_configuration_error_that_says_what_to_do(
    arguments: dict[str, object], message: str
) -> None:
    asked: dict[str, object] = {
        "record_type": AskVisit,
        "field": "name",
        "purpose": "service-delivery",
        "actor": CASEWORKER,
    }
    asked.update(arguments)
    with pytest.raises(ConfigurationError, match=message):
        purposeful.may_use(**asked)  # type: ignore[arg-type]


def test_an_unknown_purpose_or_a_class_that_is_not_a_record_is_refused() -> None:
    with pytest.raises(UnknownPurpose):
        purposeful.may_use(AskVisit, "name", "no-such-purpose", actor=CASEWORKER)
    with pytest.raises(AnnotationError, match="not a purposeful record"):
        purposeful.may_use(dict, "name", "service-delivery", actor=CASEWORKER)


def test_the_answer_as_json_names_everything_and_holds_no_value() -> None:
    answer = purposeful.may_use(AskVisit, "threat", "care-and-protection", actor=CASEWORKER)
    found = answer.to_dict()
    assert found == json.loads(json.dumps(found))
    assert found["verdict"] == "with-justification"
    assert found["basis"] == "serious-threat"
    assert found["law"] == ["Privacy Act 2020, IPP 10(1)(f)"]
    assert found["clearance"] == "SENSITIVE"


@pytest.mark.parametrize(
    ("basis", "use", "disclosure"),
    [
        (purposeful.DIRECTLY_RELATED_PURPOSE, "IPP 10(1)(a)", "IPP 11(1)(a)"),
        (purposeful.AUTHORISED_BY_PERSON, "IPP 10(1)(c)", "IPP 11(1)(c)"),
        (purposeful.NON_IDENTIFYING, "IPP 10(1)(b)", "IPP 11(1)(h)"),
        (purposeful.SERIOUS_THREAT, "IPP 10(1)(f)", "IPP 11(1)(f)"),
    ],
)
def test_the_everyday_bases_cite_their_paragraphs_of_ipp_10_and_11(
    basis: purposeful.LawfulBasis, use: str, disclosure: str
) -> None:
    assert law_for(basis) == (f"Privacy Act 2020, {use}",)
    assert law_for(basis, disclosure=True) == (f"Privacy Act 2020, {disclosure}",)


def test_other_bases_cite_their_act_or_part() -> None:
    assert law_for(purposeful.FAMILY_VIOLENCE_ACT_S20) == ("Family Violence Act 2018 s 20",)
    isa = purposeful.InformationSharingAgreement("Housing AISA")
    assert law_for(isa, disclosure=True) == ("Privacy Act 2020 Part 7",)
    assert law_for(None, disclosure=True) == ("Privacy Act 2020, IPP 11",)


def test_who_may_see_answers_every_field_purpose_and_role() -> None:
    roles = {"caseworker": SENSITIVE, "analyst": IN_CONFIDENCE, "manager": RESTRICTED}
    table = who_may_see(AskVisit, roles=roles)
    fields = purposeful.record_policy(AskVisit).fields
    declared = {p for f in fields.values() for p in f.purposes}
    assert len(table) == len(fields) * len(declared) * len(roles)
    assert all(isinstance(answer, Answer) for answer in table)
    for answer in table:
        again = purposeful.may_use(
            AskVisit, answer.field, answer.purpose, role=answer.role, clearance=answer.clearance
        )
        assert answer == again
    address = {(a.purpose.id, a.role): a.verdict for a in table if a.field == "address"}
    assert address[("service-delivery", "manager")] is Verdict.YES
    assert address[("service-delivery", "caseworker")] is Verdict.NO


def test_who_may_see_needs_roles() -> None:
    with pytest.raises(ConfigurationError, match="each role with its clearance"):
        who_may_see(AskVisit, roles={})
