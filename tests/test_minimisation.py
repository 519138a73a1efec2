"""Projections: only what a purpose may see of a record, with what was withheld and why."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import pytest

import purposeful
from _records import (
    ADMINISTRATOR,
    CASE_CLASSES,
    CASE_MANAGEMENT,
    CASEWORKER,
    FUNDER_JOB,
    AlwaysConsent,
    FakeConsent,
    RecordingSink,
    case,
)
from purposeful import (
    ConfigurationError,
    Mode,
    Outcome,
    PurposeViolation,
    Reason,
    current_scope,
    project,
    use,
)
from purposeful.errors import AnnotationError, UnknownPurpose


@pytest.mark.parametrize("cls", CASE_CLASSES, ids=lambda c: c.__name__)
def test_projection_holds_allowed_and_plain_fields_only(cls: type) -> None:
    projection = project(case(cls), "funder-reporting", actor=FUNDER_JOB)
    assert dict(projection) == {
        "client_id": "C-1001",
        "address": "12 Cuba Street",
        "region": "Wellington",
    }
    assert list(projection) == ["client_id", "address", "region"]
    assert len(projection) == 3
    assert set(projection.withheld) == {"diagnosis", "case_notes"}


def test_withheld_fields_carry_withheld_decisions_with_reasons() -> None:
    projection = project(case(), "funder-reporting", actor=FUNDER_JOB)
    diagnosis = projection.withheld["diagnosis"]
    assert diagnosis.outcome is Outcome.WITHHELD
    assert diagnosis.reasons == (Reason.PURPOSE_NOT_DECLARED, Reason.CLEARANCE_TOO_LOW)
    assert diagnosis.field == "diagnosis"
    assert not diagnosis.violation
    assert not diagnosis.allowed
    notes = projection.withheld["case_notes"]
    assert notes.outcome is Outcome.WITHHELD
    assert notes.reasons == (Reason.PURPOSE_NOT_DECLARED,)
    assert (
        notes.explain() == "case notes may be used for case management, not for funder reporting."
    )


def test_projection_withholds_a_field_above_the_actor_clearance() -> None:
    projection = project(case(), CASE_MANAGEMENT, actor=ADMINISTRATOR)
    assert "diagnosis" not in projection
    assert projection.withheld["diagnosis"].reasons == (Reason.CLEARANCE_TOO_LOW,)
    assert projection["address"] == "12 Cuba Street"


def test_projection_withholds_a_field_that_needs_consent_without_a_checker() -> None:
    projection = project(case(), CASE_MANAGEMENT, actor=CASEWORKER)
    assert projection.withheld["case_notes"].reasons == (Reason.NO_CONSENT_CHECKER,)
    assert projection["diagnosis"] == "generalised anxiety"


def test_projection_includes_a_consented_field_for_that_subject_only() -> None:
    purposeful.configure(consent=FakeConsent({("C-yes", CASE_MANAGEMENT)}))
    consented = project(case(client_id="C-yes"), CASE_MANAGEMENT, actor=CASEWORKER)
    refused = project(case(client_id="C-no"), CASE_MANAGEMENT, actor=CASEWORKER)
    assert consented["case_notes"] == "met at home"
    assert consented.withheld == {}
    assert "case_notes" not in refused
    assert refused.withheld["case_notes"].reasons == (Reason.CONSENT_NOT_HELD,)


def test_projection_under_a_parent_purpose_withholds_child_only_fields() -> None:
    projection = project(case(), "service-delivery", actor=CASEWORKER)
    assert set(projection) == {"client_id", "address", "region"}
    assert set(projection.withheld) == {"diagnosis", "case_notes"}


def test_projection_is_a_read_only_mapping() -> None:
    projection = project(case(), "funder-reporting", actor=FUNDER_JOB)
    assert isinstance(projection, Mapping)
    assert isinstance(projection, purposeful.Projection)
    with pytest.raises(KeyError):
        _ = projection["diagnosis"]
    with pytest.raises(TypeError):
        projection["diagnosis"] = "x"  # type: ignore[index]
    assert projection.get("diagnosis") is None
    assert projection.record_type == "Case"
    assert projection.purpose.id == "funder-reporting"


def test_projection_values_are_plain_values_usable_outside_any_scope() -> None:
    projection = project(case(), "funder-reporting", actor=FUNDER_JOB)
    assert current_scope() is None
    assert projection["address"].upper() == "12 CUBA STREET"


def test_projection_does_not_raise_in_enforce_mode_for_refused_fields() -> None:
    assert purposeful.get_configuration().mode is Mode.ENFORCE
    projection = project(case(), "research", actor=FUNDER_JOB)
    assert set(projection) == {"client_id", "region"}
    assert all(d.outcome is Outcome.WITHHELD for d in projection.withheld.values())


def test_projection_withholds_in_monitor_mode_too() -> None:
    purposeful.configure(mode=Mode.MONITOR)
    projection = project(case(), "funder-reporting", actor=FUNDER_JOB)
    assert "diagnosis" not in projection
    assert projection.withheld["diagnosis"].outcome is Outcome.WITHHELD


# --- defaults from the scope ---


def test_projection_inside_a_scope_takes_its_purpose_and_actor() -> None:
    record = case()
    with use(CASE_MANAGEMENT, actor=ADMINISTRATOR) as scope:
        projection = project(record)
        assert current_scope() is scope
    assert projection.purpose is scope.purpose
    assert projection.withheld["diagnosis"].actor == ADMINISTRATOR
    assert projection.withheld["diagnosis"].reasons == (Reason.CLEARANCE_TOO_LOW,)


def test_projection_inside_a_scope_uses_that_scope_consent_checker() -> None:
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=AlwaysConsent()):
        projection = project(case())
    assert projection["case_notes"] == "met at home"
    assert projection.withheld == {}


def test_projections_inside_a_scope_with_the_same_purpose_join_its_report_once_each_field(
    sink: RecordingSink,
) -> None:
    with use("funder-reporting", actor=FUNDER_JOB) as scope:
        project(case())
        project(case(), "funder-reporting", actor=FUNDER_JOB)
    (report,) = sink.reports
    assert report.decisions == scope.decisions
    assert [(d.field, d.outcome) for d in report.decisions] == [
        ("diagnosis", Outcome.WITHHELD),
        ("address", Outcome.ALLOWED),
        ("case_notes", Outcome.WITHHELD),
    ]
    assert report.violations == ()


def test_withheld_field_read_directly_afterwards_is_decided_as_a_read() -> None:
    record = case()
    with use("funder-reporting", actor=FUNDER_JOB) as scope:
        assert "diagnosis" in project(record).withheld
        with pytest.raises(PurposeViolation) as info:
            _ = record.diagnosis
    assert info.value.decision.outcome is Outcome.DENIED
    assert [d.outcome for d in scope.decisions if d.field == "diagnosis"] == [
        Outcome.WITHHELD,
        Outcome.DENIED,
    ]


def test_withheld_field_read_directly_afterwards_in_monitor_mode_is_would_deny() -> None:
    purposeful.configure(mode=Mode.MONITOR)
    record = case()
    with use("funder-reporting", actor=FUNDER_JOB) as scope:
        project(record)
        assert record.diagnosis == "generalised anxiety"
    assert scope.decisions[-1].outcome is Outcome.WOULD_DENY


def test_projection_after_a_refused_read_in_the_scope_lists_it_as_withheld() -> None:
    record = case()
    with use("funder-reporting", actor=FUNDER_JOB):
        with pytest.raises(PurposeViolation):
            _ = record.diagnosis
        projection = project(record)
    assert "diagnosis" not in projection
    withheld = projection.withheld["diagnosis"]
    assert withheld.reasons == (Reason.PURPOSE_NOT_DECLARED, Reason.CLEARANCE_TOO_LOW)
    assert withheld.outcome is Outcome.WITHHELD
    assert not withheld.violation


def test_projection_after_an_allowed_read_reuses_the_scope_decision() -> None:
    record = case()
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        assert record.diagnosis == "generalised anxiety"
        projection = project(record)
    assert projection["diagnosis"] == "generalised anxiety"
    assert [d.field for d in scope.decisions].count("diagnosis") == 1


def test_projection_for_another_purpose_inside_a_scope_is_a_scope_of_its_own(
    sink: RecordingSink,
) -> None:
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        _ = case().diagnosis
        projection = project(case(), "funder-reporting")
        assert current_scope() is scope
    assert projection.purpose.id == "funder-reporting"
    assert [d.field for d in scope.decisions] == ["diagnosis"]
    assert [r.purpose.id for r in sink.reports if r.purpose] == [
        "funder-reporting",
        CASE_MANAGEMENT,
    ]


def test_projection_for_another_actor_inside_a_scope_is_a_scope_of_its_own(
    sink: RecordingSink,
) -> None:
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        projection = project(case(), actor=ADMINISTRATOR)
    assert scope.decisions == ()
    assert projection.withheld["diagnosis"].reasons == (Reason.CLEARANCE_TOO_LOW,)
    assert [r.actor for r in sink.reports] == [ADMINISTRATOR, CASEWORKER]


def test_explicit_purpose_overrides_the_scope_purpose() -> None:
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        projection = project(case(), "funder-reporting")
    assert projection.purpose.id == "funder-reporting"
    assert "diagnosis" in projection.withheld


# --- errors ---


def test_projection_without_purpose_outside_a_scope_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="needs a purpose and an actor"):
        project(case(), actor=CASEWORKER)


def test_projection_without_actor_outside_a_scope_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="needs a purpose and an actor"):
        project(case(), "funder-reporting")


def test_projection_of_a_plain_attrs_instance_is_an_annotation_error() -> None:
    @attrs.define
    class Plain:
        value: str

    with pytest.raises(AnnotationError):
        project(Plain("x"), "funder-reporting", actor=CASEWORKER)


def test_projection_under_an_unknown_purpose_is_refused() -> None:
    with pytest.raises(UnknownPurpose):
        project(case(), "no-such-purpose", actor=CASEWORKER)


# --- repr and audit ---


def test_projection_repr_lists_names_only() -> None:
    projection = project(case(), "funder-reporting", actor=FUNDER_JOB)
    assert repr(projection) == (
        "<Projection of Case for 'funder-reporting': "
        "fields=['client_id', 'address', 'region'] withheld=['diagnosis', 'case_notes']>"
    )
    for value in ("12 Cuba Street", "generalised anxiety", "met at home", "C-1001"):
        assert value not in repr(projection)


def test_projection_report_reaches_sinks_with_withheld_not_violations(
    sink: RecordingSink,
) -> None:
    project(case(), "funder-reporting", actor=FUNDER_JOB)
    (report,) = sink.reports
    assert report.purpose is not None
    assert report.purpose.id == "funder-reporting"
    assert report.actor is FUNDER_JOB
    assert not report.failed
    assert [(d.field, d.outcome) for d in report.decisions] == [
        ("diagnosis", Outcome.WITHHELD),
        ("address", Outcome.ALLOWED),
        ("case_notes", Outcome.WITHHELD),
    ]
    assert report.violations == ()


def test_a_failing_consent_checker_leaves_no_value_or_subject_id_in_library_frames() -> None:
    class Broken:
        def consent_in_force(self, subject: str, purpose: object, at: object) -> bool:
            return True

        def consent_status(self, subject: str, purpose: object, at: object) -> str:
            return "not a status"

    record = case(client_id="C-FRAME-1", case_notes="FRAME-SECRET-NOTE")
    with (
        pytest.raises(purposeful.ConfigurationError) as info,
        use(CASE_MANAGEMENT, actor=CASEWORKER, consent=Broken()),
    ):
        purposeful.project(record)
    tb = info.value.__traceback__
    while tb is not None:
        if "purposeful" in tb.tb_frame.f_code.co_filename:
            texts = [repr(v) for v in tb.tb_frame.f_locals.values()]
            assert not [t for t in texts if "C-FRAME-1" in t or "FRAME-SECRET" in t]
        tb = tb.tb_next
