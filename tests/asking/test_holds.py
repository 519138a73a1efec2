"""`purposeful.already_held`: "do we hold this already?", answered as a checked read.

The answer is whether a value is held, never the value; the read is decided and recorded
like any read of the field, and refused where the scope's purpose may not use it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import purposeful
from _records import RecordingSink
from purposeful import IN_CONFIDENCE, SENSITIVE, Actor, Mode, ServiceAgreement
from purposeful.errors import (
    AnnotationError,
    ConfigurationError,
    NoPurposeScope,
    PurposeViolation,
)

INTAKE = "service-delivery.eligibility-assessment"
SERVICE = ServiceAgreement("Service delivery agreement")
PHONE = "PHONE-027-555-0123-private"
WORKER = Actor("staff-3", "intake-worker", SENSITIVE)


@purposeful.record(subject="client_id")
class HeldIntake:
    client_id: str
    phone: str | None = purposeful.field(purposes={INTAKE: SERVICE}, default=None)
    languages: list[str] = purposeful.field(purposes={INTAKE: SERVICE}, factory=list)
    history: str | None = purposeful.field(
        purposes={"service-delivery.case-management": SERVICE}, default=None
    )
    secret: str | None = purposeful.field(
        purposes={INTAKE: SERVICE}, sensitivity=purposeful.RESTRICTED, default=None
    )


@purposeful.record(subject="client_id")
class HeldOther:
    client_id: str
    phone: str | None = purposeful.field(purposes={INTAKE: SERVICE}, default=None)


def test_a_held_value_is_true_and_nothing_of_it_comes_back(sink: RecordingSink) -> None:
    intake = HeldIntake("C-1", PHONE)
    with purposeful.use(INTAKE, actor=WORKER):
        answer = purposeful.already_held(intake, "phone")
    assert answer is True
    [report] = sink.reports
    assert [(d.field, d.outcome.value) for d in report.decisions] == [("phone", "allowed")]
    assert PHONE not in repr(report)


@given(st.none() | st.just("") | st.just(PHONE))
def test_none_and_empty_are_not_held(value: str | None) -> None:
    with purposeful.use(INTAKE, actor=WORKER):
        assert purposeful.already_held(HeldIntake("C-1", value), "phone") is bool(value)
        assert purposeful.already_held(HeldIntake("C-1", languages=[]), "languages") is False
        assert purposeful.already_held(HeldIntake("C-1", languages=["mi"]), "languages") is True


def test_outside_a_purpose_that_may_use_the_field_it_is_refused(sink: RecordingSink) -> None:
    intake = HeldIntake("C-1", history="(history)")
    with pytest.raises(PurposeViolation) as refused, purposeful.use(INTAKE, actor=WORKER):
        purposeful.already_held(intake, "history")
    assert "(history)" not in str(refused.value)
    [report] = sink.reports
    assert [d.outcome.value for d in report.decisions] == ["denied"]


def test_an_actor_without_the_clearance_is_refused() -> None:
    low = Actor("staff-9", "intake-worker", IN_CONFIDENCE)
    with pytest.raises(PurposeViolation), purposeful.use(INTAKE, actor=low):
        purposeful.already_held(HeldIntake("C-1", secret="x"), "secret")


def test_outside_any_scope_it_is_refused() -> None:
    with pytest.raises(NoPurposeScope):
        purposeful.already_held(HeldIntake("C-1", PHONE), "phone")


def test_in_monitor_mode_it_answers_and_records_a_would_deny(sink: RecordingSink) -> None:
    purposeful.configure(mode=Mode.MONITOR)
    with purposeful.use(INTAKE, actor=WORKER):
        assert purposeful.already_held(HeldIntake("C-1", history="x"), "history") is True
    [report] = sink.reports
    assert report.decisions[0].outcome.value == "would-deny"


def source(*records: object) -> object:
    def fetch(subject: str) -> Iterator[object]:
        assert subject == "C-1"
        yield from records

    return fetch


def test_a_data_source_is_looked_up_for_the_person(sink: RecordingSink) -> None:
    found = source(HeldOther("C-1", PHONE), HeldIntake("C-1"), HeldIntake("C-1", PHONE))
    with purposeful.use(INTAKE, actor=WORKER):
        assert purposeful.already_held(found, "HeldIntake.phone", subject="C-1") is True
        assert purposeful.already_held(found, "HeldIntake.languages", subject="C-1") is False
        assert (
            purposeful.already_held(
                source(HeldOther("C-1", PHONE)), "HeldIntake.phone", subject="C-1"
            )
            is False
        )
    fields = {(d.record_type, d.field) for d in sink.reports[0].decisions}
    assert ("HeldOther", "phone") not in fields  # records of other types are not read


def test_a_data_source_needs_a_subject_and_a_type_field() -> None:
    with purposeful.use(INTAKE, actor=WORKER):
        with pytest.raises(ConfigurationError, match="needs the person"):
            purposeful.already_held(source(), "HeldIntake.phone")
        with pytest.raises(ConfigurationError, match=r"'RecordType\.field'"):
            purposeful.already_held(source(), "phone", subject="C-1")
        with pytest.raises(ConfigurationError, match="subject= is for a data source"):
            purposeful.already_held(HeldIntake("C-1"), "phone", subject="C-1")


def test_a_field_that_is_not_managed_or_a_non_record_is_named() -> None:
    with purposeful.use(INTAKE, actor=WORKER):
        with pytest.raises(ConfigurationError, match="is not a managed field"):
            purposeful.already_held(HeldIntake("C-1"), "client_id")
        with pytest.raises(AnnotationError):
            purposeful.already_held(object(), "phone")


@pytest.mark.parametrize("fails", ["at the call", "while yielding"])
def test_a_data_source_that_fails_is_a_typed_error_without_its_message(fails: str) -> None:
    """A source's own exception (a dict's KeyError names the subject id) becomes a typed
    error naming its type only, with no cause or context that would show it."""

    def fetch(subject: str) -> Iterator[object]:
        if fails == "at the call":
            raise KeyError(subject)
        yield HeldIntake(subject)
        raise LookupError(f"the cursor for {subject} closed")

    with (
        purposeful.use(INTAKE, actor=WORKER),
        pytest.raises(ConfigurationError, match="the data source failed") as failed,
    ):
        purposeful.already_held(
            fetch if fails == "at the call" else (lambda s: fetch(s)),
            "HeldIntake.phone",
            subject="C-SECRET-44",
        )
    assert "C-SECRET-44" not in str(failed.value)
    assert failed.value.__cause__ is None
    assert failed.value.__context__ is None
