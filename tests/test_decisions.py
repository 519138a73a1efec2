"""Decisions: plain-language explanations, reason codes, and the exceptions that carry them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

import purposeful
from _records import (
    ADMINISTRATOR,
    CASE_MANAGEMENT,
    CASEWORKER,
    FUNDER_JOB,
    SERVICE_AGREEMENT,
    Case,
    NeverConsent,
    case,
)
from purposeful import (
    CONSENT,
    SENSITIVE,
    ConsentState,
    ConsentStatus,
    Decision,
    Mode,
    NoPurposeScope,
    Outcome,
    Purpose,
    PurposeViolation,
    Reason,
    carry_scope,
    use,
)


@purposeful.record(subject="client_id")
class Assessment:
    """``diagnosis`` is declared only for case management, as in the README."""

    client_id: str
    diagnosis: str = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, sensitivity=SENSITIVE, category="health"
    )
    risk_level: str = purposeful.field(
        purposes={
            CASE_MANAGEMENT: SERVICE_AGREEMENT,
            "care-and-protection": purposeful.ORANGA_TAMARIKI_ACT_S66C,
            "service-delivery.referral": CONSENT,
        }
    )


def refused(record: object, name: str, purpose: str | None, actor: Any = CASEWORKER) -> Any:
    """The PurposeViolation raised by reading *name* under *purpose* (None: no scope)."""
    if purpose is None:
        with pytest.raises(NoPurposeScope) as info:
            getattr(record, name)
        return info.value
    with use(purpose, actor=actor), pytest.raises(PurposeViolation) as info:
        getattr(record, name)
    return info.value


def allowed(record: object, name: str, purpose: str, actor: Any = CASEWORKER) -> Decision:
    with use(purpose, actor=actor) as scope:
        getattr(record, name)
    (decision,) = scope.decisions
    assert decision.outcome is Outcome.ALLOWED
    return decision


ASSESSMENT = Assessment("C-1001", "generalised anxiety", "medium")


# --- explain() --------------------------------------------------------------------------------


def test_explains_a_purpose_the_field_is_not_declared_for() -> None:
    decision = refused(ASSESSMENT, "diagnosis", "funder-reporting").decision
    assert decision.explain() == (
        "diagnosis may be used for case management, not for funder reporting."
    )


def test_explains_every_declared_purpose_as_alternatives() -> None:
    decision = refused(ASSESSMENT, "risk_level", "research").decision
    assert decision.explain() == (
        "risk level may be used for case management, care and protection or referral, "
        "not for research."
    )


def test_explains_two_declared_purposes_with_or() -> None:
    decision = refused(case(), "address", "research").decision
    assert decision.explain() == (
        "address may be used for service delivery or funder reporting, not for research."
    )


def test_explains_low_clearance_with_levels_and_role() -> None:
    decision = refused(ASSESSMENT, "diagnosis", CASE_MANAGEMENT, ADMINISTRATOR).decision
    assert decision.explain() == (
        "diagnosis is classified SENSITIVE, above the IN-CONFIDENCE clearance of the "
        "administrator role."
    )


def test_explains_consent_not_held() -> None:
    with (
        use(CASE_MANAGEMENT, actor=CASEWORKER, consent=NeverConsent()),
        pytest.raises(PurposeViolation) as info,
    ):
        _ = case().case_notes
    assert info.value.decision.explain() == (
        "case notes may be used for case management only with the person's consent, "
        "and none is in force."
    )


class WithdrawnInMarch:
    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        return False

    def consent_status(self, subject: str, purpose: Purpose, at: datetime) -> ConsentStatus:
        return ConsentStatus(
            in_force=False,
            state=ConsentState.WITHDRAWN,
            purpose="service-delivery",
            since=datetime(2026, 3, 3, 9, 30, tzinfo=UTC),
        )


def test_explains_which_consent_is_missing_and_when_it_ended() -> None:
    with (
        use(CASE_MANAGEMENT, actor=CASEWORKER, consent=WithdrawnInMarch()),
        pytest.raises(PurposeViolation) as info,
    ):
        _ = case().case_notes
    decision = info.value.decision
    assert decision.explain() == (
        "case notes may be used for case management only with the person's consent, "
        "and none is in force: consent was withdrawn (for service-delivery) on 3 March 2026."
    )
    assert decision.consent is not None
    assert decision.consent.state is ConsentState.WITHDRAWN
    assert "C-1001" not in decision.message()


def test_a_consent_status_of_the_wrong_type_is_a_configuration_error() -> None:
    class Sloppy(WithdrawnInMarch):
        def consent_status(self, subject: str, purpose: Purpose, at: datetime) -> ConsentStatus:
            return True  # type: ignore[return-value]

    with (
        use(CASE_MANAGEMENT, actor=CASEWORKER, consent=Sloppy()),
        pytest.raises(
            purposeful.ConfigurationError, match=r"must return a purposeful\.ConsentStatus"
        ),
    ):
        _ = case().case_notes


def test_explains_a_missing_consent_checker() -> None:
    decision = refused(case(), "case_notes", CASE_MANAGEMENT).decision
    assert decision.explain() == (
        "case notes needs the person's consent for case management, and no consent store "
        "is configured to check it."
    )


def test_explains_a_read_outside_any_scope() -> None:
    decision = refused(ASSESSMENT, "diagnosis", None).decision
    assert decision.explain() == "diagnosis was read without saying why: outside any purpose scope."


def test_explains_a_read_after_the_scope_closed() -> None:
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        late = carry_scope(lambda: ASSESSMENT.diagnosis)
    with pytest.raises(NoPurposeScope) as info:
        late()
    assert info.value.decision.explain() == "diagnosis was read after its purpose scope had closed."


def test_explains_several_reasons_in_order() -> None:
    decision = refused(ASSESSMENT, "diagnosis", "funder-reporting", FUNDER_JOB).decision
    assert decision.explain() == (
        "diagnosis may be used for case management, not for funder reporting. "
        "diagnosis is classified SENSITIVE, above the IN-CONFIDENCE clearance of the "
        "funder-reporting-job role."
    )


def test_explains_an_allowed_use_with_its_basis() -> None:
    decision = allowed(ASSESSMENT, "diagnosis", CASE_MANAGEMENT)
    assert decision.explain() == (
        "diagnosis may be used for case management on the basis of the service agreement "
        "'Service delivery agreement'."
    )


def test_explains_an_allowed_use_of_a_child_purpose_by_the_child_title() -> None:
    purposeful.configure(agency_kinds=["child-welfare-and-protection"])
    with use("care-and-protection", actor=CASEWORKER, justification="REF-1") as scope:
        _ = ASSESSMENT.risk_level
    (decision,) = scope.decisions
    assert decision.explain() == (
        "risk level may be used for care and protection on the basis of "
        "Oranga Tamariki Act 1989 s 66C."
    )


def test_monitor_mode_explains_the_would_be_refusal() -> None:
    purposeful.configure(mode=Mode.MONITOR)
    with use("funder-reporting", actor=CASEWORKER) as scope:
        _ = ASSESSMENT.diagnosis
    (decision,) = scope.decisions
    assert decision.outcome is Outcome.WOULD_DENY
    assert decision.explain() == (
        "diagnosis may be used for case management, not for funder reporting."
    )


# --- reason codes -------------------------------------------------------------------------------


def test_reason_codes_are_stable_strings() -> None:
    assert {r: r.value for r in Reason} == {
        Reason.PURPOSE_NOT_DECLARED: "purpose-not-declared",
        Reason.CLEARANCE_TOO_LOW: "clearance-too-low",
        Reason.CONSENT_NOT_HELD: "consent-not-held",
        Reason.NO_CONSENT_CHECKER: "no-consent-checker",
        Reason.CONSENT_CHECK_FAILED: "consent-check-failed",
        Reason.NO_SCOPE: "no-scope",
        Reason.SCOPE_CLOSED: "scope-closed",
        Reason.NOT_ENTITLED_TO_BASIS: "not-entitled-to-basis",
        Reason.JUSTIFICATION_MISSING: "justification-missing",
        Reason.REPRESENTATIVE_CONSENT_NEEDED: "representative-consent-needed",
        Reason.CARE_FLAGS_UNAVAILABLE: "care-flags-unavailable",
    }
    assert [o.value for o in Outcome] == ["allowed", "denied", "would-deny", "withheld"]
    assert [m.value for m in Mode] == ["enforce", "monitor"]


def test_decision_lists_its_reason_codes() -> None:
    decision = refused(ASSESSMENT, "diagnosis", "funder-reporting", FUNDER_JOB).decision
    assert decision.reason_codes == ("purpose-not-declared", "clearance-too-low")
    assert allowed(ASSESSMENT, "diagnosis", CASE_MANAGEMENT).reason_codes == ()


@pytest.mark.parametrize(
    ("outcome", "is_allowed", "is_violation"),
    [
        (Outcome.ALLOWED, True, False),
        (Outcome.DENIED, False, True),
        (Outcome.WOULD_DENY, False, True),
        (Outcome.WITHHELD, False, False),
    ],
)
def test_allowed_and_violation_follow_the_outcome(
    outcome: Outcome, is_allowed: bool, is_violation: bool
) -> None:
    decision = attrs.evolve(allowed(ASSESSMENT, "diagnosis", CASE_MANAGEMENT), outcome=outcome)
    assert decision.allowed is is_allowed
    assert decision.violation is is_violation


def test_decision_describes_the_field_without_its_value() -> None:
    decision = refused(ASSESSMENT, "diagnosis", "funder-reporting").decision
    assert decision.outcome is Outcome.DENIED
    assert decision.record_type == "Assessment"
    assert decision.field == "diagnosis"
    assert decision.purpose is not None
    assert decision.purpose.id == "funder-reporting"
    assert decision.actor is CASEWORKER
    assert decision.sensitivity == SENSITIVE
    assert decision.category is not None
    assert decision.category.id == "health"
    assert decision.basis is None
    assert [p.id for p in decision.declared] == [CASE_MANAGEMENT]


def test_decision_records_the_basis_of_an_allowed_read() -> None:
    assert allowed(ASSESSMENT, "diagnosis", CASE_MANAGEMENT).basis == SERVICE_AGREEMENT


def test_decision_of_a_nested_class_names_its_qualified_name() -> None:
    class Outer:
        @purposeful.record(subject="client_id")
        class Inner:
            client_id: str
            note: str = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})

    decision = refused(Outer.Inner("C-1", "n"), "note", "research").decision
    assert decision.record_type.endswith("Outer.Inner")


def test_decision_is_immutable() -> None:
    decision = refused(ASSESSMENT, "diagnosis", "funder-reporting").decision
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        decision.outcome = Outcome.ALLOWED  # type: ignore[misc]


def test_decision_repr_is_short_and_names_outcome_field_purpose_role_and_codes() -> None:
    decision = refused(ASSESSMENT, "diagnosis", "funder-reporting").decision
    assert repr(decision) == (
        "<Decision denied Assessment.diagnosis for 'funder-reporting' by caseworker: "
        "purpose-not-declared>"
    )
    assert repr(refused(ASSESSMENT, "diagnosis", None).decision) == (
        "<Decision denied Assessment.diagnosis for no scope: no-scope>"
    )
    assert repr(allowed(ASSESSMENT, "diagnosis", CASE_MANAGEMENT)) == (
        "<Decision allowed Assessment.diagnosis for 'service-delivery.case-management' "
        "by caseworker>"
    )


# --- PurposeViolation ---------------------------------------------------------------------------


def test_purpose_violation_carries_the_decision_recorded_in_the_scope() -> None:
    with (
        use("funder-reporting", actor=CASEWORKER) as scope,
        pytest.raises(PurposeViolation) as info,
    ):
        _ = ASSESSMENT.diagnosis
    assert info.value.decision is scope.decisions[0]


def test_purpose_violation_message_names_record_field_purpose_explanation_and_remedy() -> None:
    error = refused(ASSESSMENT, "diagnosis", "funder-reporting")
    message = str(error)
    assert message == error.decision.message()
    assert message.startswith("Assessment.diagnosis under 'funder-reporting': ")
    assert "diagnosis may be used for case management, not for funder reporting." in message
    assert message.endswith(
        "If this use is intended, declare the purpose on the field; otherwise read it under "
        "a declared purpose, or use purposeful.project() to get only what this purpose may see."
    )


@pytest.mark.parametrize(
    ("record", "name", "purpose", "actor", "remedy"),
    [
        (ASSESSMENT, "diagnosis", CASE_MANAGEMENT, ADMINISTRATOR, "cleared to at least SENSITIVE"),
        (case(), "case_notes", CASE_MANAGEMENT, CASEWORKER, "purposeful.configure(consent=...)"),
        (ASSESSMENT, "diagnosis", None, CASEWORKER, "with purposeful.use(purpose, actor=...)"),
    ],
    ids=["clearance", "no-consent-checker", "no-scope"],
)
def test_purpose_violation_message_suggests_a_remedy_for_each_reason(
    record: object, name: str, purpose: str | None, actor: Any, remedy: str
) -> None:
    error = refused(record, name, purpose, actor)
    assert remedy in str(error)
    assert error.decision.remedy() in str(error)
    assert error.decision.explain() in str(error)


def test_consent_not_held_remedy_says_to_record_consent() -> None:
    with (
        use(CASE_MANAGEMENT, actor=CASEWORKER, consent=NeverConsent()),
        pytest.raises(PurposeViolation) as info,
    ):
        _ = case().case_notes
    assert "Record the person's consent for this purpose first" in str(info.value)
    assert str(info.value).startswith("Case.case_notes under 'service-delivery.case-management': ")


def test_scope_closed_remedy_says_to_open_a_new_scope() -> None:
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        late = carry_scope(lambda: ASSESSMENT.diagnosis)
    with pytest.raises(NoPurposeScope) as info:
        late()
    assert "open a new scope" in str(info.value)


def test_no_scope_message_does_not_name_a_purpose() -> None:
    message = str(refused(ASSESSMENT, "diagnosis", None))
    assert message.startswith("Assessment.diagnosis: diagnosis was read without saying why")
    assert " under " not in message


def test_purpose_violation_is_a_permission_error_and_a_purposeful_error() -> None:
    error = refused(Case("C-1", "d", "a", "n"), "diagnosis", "research")
    assert isinstance(error, PermissionError)
    assert isinstance(error, purposeful.PurposefulError)
    assert not isinstance(error, NoPurposeScope)
