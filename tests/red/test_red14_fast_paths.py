"""Red team 14: the enforcement path's shortcuts (a scope's plan found when it opens, a first
read taking a planned decision without `Scope.decide`, the usual exit returning at once).

Each test is an attempt to get a managed value without the right decision, to lose a
refusal at a scope's exit, or to make the audit report wrong, through the public API. None
found a difference from the commit before the shortcuts (the same attempts, and a seeded
differential run of random scopes, configurations, reads and projections, gave the same
outcomes, decisions and reports on both); they are kept as regression tests:

- a decision planned under one actor, purpose, justification, mode, agency kinds or
  configuration is never reused for another, whether the configuration changes before or
  after a scope opens (`configure` and `configured`), and a scope keeps deciding under the
  configuration it opened with;
- a projection's WITHHELD refusal followed by a direct read of the field is refused, even
  when the field's denial is already planned by an earlier scope;
- a field that needs consent is asked per scope's checker, never taken from the plan;
- nested scopes, threads and asyncio tasks sharing one `use`, and a generator's scope each
  decide for themselves;
- a refusal swallowed in the block, one behind a framework's wrapper, and an error raised in
  the block: the swallowed refusal's frames are cleared at the exit, and no refusal is kept
  in `refusal_var` past the outermost scope;
- every decision appears once in ``scope.decisions`` and in the sink's report, when first
  reads go through the plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import purposeful
from _records import (
    CASE_MANAGEMENT,
    CASEWORKER,
    FUNDER_JOB,
    SUPERVISOR,
    AlwaysConsent,
    NeverConsent,
    RecordingSink,
    case,
)
from purposeful import (
    ORANGA_TAMARIKI_ACT_S66C,
    SENSITIVE,
    Actor,
    Mode,
    Outcome,
    PurposeViolation,
    ServiceAgreement,
    use,
)
from purposeful._refusals import refusal_var
from purposeful.minimisation import project

CARE = "care-and-protection"
CHILD_WELFARE = "child-welfare-and-protection"
PRACTITIONER = Actor("staff-0051", "social-worker", SENSITIVE)
AGREEMENT = ServiceAgreement("Red 14 agreement")
#: Made at run time, so no constant of a test's code holds it.
SUBJECT = "".join(["C-", "9914", "-NZ"])
NAME = "".join(["Mere ", "Tawhiri"])


@purposeful.record(subject="client_id")
class Red14Concern:
    client_id: str
    child_concern: str = purposeful.field(
        purposes={CARE: ORANGA_TAMARIKI_ACT_S66C}, sensitivity=SENSITIVE
    )


@purposeful.record(subject="client_id")
class Red14Bulk:
    client_id: str
    name: str = purposeful.field(purposes={"service-delivery": AGREEMENT})
    diagnosis: str = purposeful.field(purposes={CASE_MANAGEMENT: AGREEMENT})


def _outcome(cls_or_record: Any, field: str, scope_use: use) -> Outcome:
    """Read *field* in a fresh scope of *scope_use*: its decision's outcome."""
    with scope_use as scope:
        try:
            getattr(cls_or_record, field)
        except PurposeViolation as refusal:
            return refusal.decision.outcome
    (decision,) = [d for d in scope.decisions if d.field == field]
    return decision.outcome


def _locals_text(error: BaseException) -> str:
    return "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())


# --- a planned decision reused for the wrong scope ---------------------------------------------


def test_a_planned_allowed_decision_is_not_reused_for_another_actor_or_purpose() -> None:
    record = case()
    assert _outcome(record, "diagnosis", use(CASE_MANAGEMENT, actor=CASEWORKER)) is Outcome.ALLOWED
    # the plan of (case management, caseworker) holds an allowed diagnosis now
    assert _outcome(record, "diagnosis", use(CASE_MANAGEMENT, actor=FUNDER_JOB)) is Outcome.DENIED
    assert _outcome(record, "diagnosis", use("service-delivery", actor=CASEWORKER)) is (
        Outcome.DENIED
    )
    assert _outcome(record, "diagnosis", use(CASE_MANAGEMENT, actor=SUPERVISOR)) is Outcome.ALLOWED


def test_a_planned_decision_is_not_reused_without_the_justification() -> None:
    purposeful.configure(agency_kinds=[CHILD_WELFARE])
    concern = Red14Concern(SUBJECT, "concern text")
    justified = use(CARE, actor=CASEWORKER, justification="REF-14")
    assert _outcome(concern, "child_concern", justified) is Outcome.ALLOWED
    with pytest.raises(PurposeViolation) as refused, use(CARE, actor=CASEWORKER):
        concern.child_concern  # noqa: B018
    assert refused.value.decision.reason_codes == ("justification-missing",)


def test_a_scope_opened_before_a_change_decides_under_its_own_configuration() -> None:
    """The plan is found when the scope opens: a change of mode, agency kinds or registry
    after that leaves the open scope deciding as it opened, and a scope opened after it
    decides under the new one; neither takes the other's planned decision."""
    record = case()
    concern = Red14Concern(SUBJECT, "concern text")
    before = use("service-delivery", actor=CASEWORKER)
    with before as first:
        purposeful.configure(mode=Mode.MONITOR, agency_kinds=[CHILD_WELFARE])
        with use("service-delivery", actor=CASEWORKER) as second:  # nested, under the new one
            assert record.diagnosis == "generalised anxiety"  # would-deny, planned in monitor
        with pytest.raises(PurposeViolation):  # the outer scope opened in enforce mode
            record.diagnosis  # noqa: B018
    assert [d.outcome for d in second.decisions] == [Outcome.WOULD_DENY]
    assert [d.outcome for d in first.decisions] == [Outcome.DENIED]

    purposeful.configure(mode=Mode.ENFORCE, agency_kinds=[])
    with use(CARE, actor=PRACTITIONER, justification="REF-1") as third:
        with purposeful.configured(agency_kinds=[CHILD_WELFARE]):
            with use(CARE, actor=PRACTITIONER, justification="REF-1"):
                assert concern.child_concern == "concern text"
            with pytest.raises(PurposeViolation) as refused:
                concern.child_concern  # noqa: B018  (the outer scope: no agency kind)
        with pytest.raises(PurposeViolation):
            concern.child_concern  # noqa: B018
    assert refused.value.decision.reason_codes == ("not-entitled-to-basis",)
    assert [d.outcome for d in third.decisions] == [Outcome.DENIED]


def test_a_scope_opened_inside_configured_keeps_its_mode_after_the_block() -> None:
    record = case()
    with purposeful.configured(mode=Mode.MONITOR):
        monitored = use("service-delivery", actor=CASEWORKER)
        scope = monitored.__enter__()
    try:
        with use("service-delivery", actor=CASEWORKER), pytest.raises(PurposeViolation):
            record.diagnosis  # noqa: B018  (enforce: plans a denial for this purpose and actor)
        assert record.diagnosis == "generalised anxiety"  # the monitored scope's own decision
    finally:
        monitored.__exit__(None, None, None)
    assert [d.outcome for d in scope.decisions] == [Outcome.WOULD_DENY]


def test_a_new_registry_between_opening_and_reading_is_decided_under_the_scopes_own() -> None:
    record = case()
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        purposeful.configure(registry=purposeful.PurposeRegistry.default())
        assert record.diagnosis == "generalised anxiety"
    with use(CASE_MANAGEMENT, actor=FUNDER_JOB), pytest.raises(PurposeViolation):
        record.diagnosis  # noqa: B018
    assert [d.outcome for d in scope.decisions] == [Outcome.ALLOWED]


# --- projections and consent --------------------------------------------------------------------


def test_a_withheld_projection_then_a_direct_read_is_refused_when_the_denial_is_planned() -> None:
    record = case()
    with use("funder-reporting", actor=FUNDER_JOB), pytest.raises(PurposeViolation):
        record.diagnosis  # noqa: B018  (plans the denial)
    with use("funder-reporting", actor=FUNDER_JOB) as scope:
        projection = project(record)
        assert "diagnosis" not in projection
        with pytest.raises(PurposeViolation) as refused:
            record.diagnosis  # noqa: B018
    assert refused.value.decision.outcome is Outcome.DENIED
    outcomes = [(d.field, d.outcome) for d in scope.decisions]
    assert outcomes.count(("diagnosis", Outcome.WITHHELD)) == 1
    assert outcomes.count(("diagnosis", Outcome.DENIED)) == 1


def test_a_field_that_needs_consent_is_asked_of_each_scopes_checker() -> None:
    record = case()
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=AlwaysConsent()):
        assert record.case_notes == "met at home"
    never = use(CASE_MANAGEMENT, actor=CASEWORKER, consent=NeverConsent())
    with never as scope, pytest.raises(PurposeViolation):
        record.case_notes  # noqa: B018
    assert [d.reason_codes for d in scope.decisions] == [("consent-not-held",)]


# --- nested scopes, threads, tasks, generators -----------------------------------------------


def test_a_nested_scope_of_another_actor_does_not_take_the_outer_scopes_decision() -> None:
    record = case()
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert record.diagnosis == "generalised anxiety"
        with use(CASE_MANAGEMENT, actor=FUNDER_JOB), pytest.raises(PurposeViolation):
            record.diagnosis  # noqa: B018
        assert record.diagnosis == "generalised anxiety"


def test_threads_sharing_a_use_each_decide_and_report_once() -> None:
    sink = RecordingSink()
    purposeful.configure(sinks=[sink])
    shared = use(CASE_MANAGEMENT, actor=CASEWORKER)
    other = use(CASE_MANAGEMENT, actor=FUNDER_JOB)
    results: dict[str, list[Any]] = {"allowed": [], "refused": []}
    barrier = threading.Barrier(4)

    def worker(which: use, key: str) -> None:
        barrier.wait(timeout=10)
        with which:
            try:
                results[key].append(case(client_id=f"C-{threading.get_ident()}").diagnosis)
            except PurposeViolation as refusal:
                results[key].append(refusal.decision.outcome)

    threads = [threading.Thread(target=worker, args=(shared, "allowed")) for _ in range(2)]
    threads += [threading.Thread(target=worker, args=(other, "refused")) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results["allowed"] == ["generalised anxiety"] * 2
    assert results["refused"] == [Outcome.DENIED] * 2
    assert sorted(len(report.decisions) for report in sink.reports) == [1, 1, 1, 1]


def test_asyncio_tasks_sharing_a_use_each_decide_once() -> None:
    shared = use(CASE_MANAGEMENT, actor=CASEWORKER)

    async def task(n: int) -> tuple[str, int]:
        async with shared as scope:
            await asyncio.sleep(0)
            value = case(client_id=f"C-{n}").diagnosis
            await asyncio.sleep(0)
            value = case(client_id=f"C-{n}").diagnosis
        return value, len(scope.decisions)

    async def main() -> list[tuple[str, int]]:
        return await asyncio.gather(*(task(n) for n in range(5)))

    assert asyncio.run(main()) == [("generalised anxiety", 1)] * 5


def test_a_generators_scope_answers_nothing_to_its_consumer() -> None:
    record = case()

    def rows() -> Iterator[str]:
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            yield record.diagnosis
            yield record.diagnosis

    consumer = use(CASE_MANAGEMENT, actor=FUNDER_JOB)
    with consumer:
        values = []
        for value in rows():
            values.append(value)
            with pytest.raises(PurposeViolation):
                record.diagnosis  # noqa: B018
    assert values == ["generalised anxiety"] * 2


# --- refusals at the exit --------------------------------------------------------------------


def test_a_refusal_swallowed_in_the_block_leaves_no_value_in_its_frames() -> None:
    record = Red14Bulk(SUBJECT, NAME, "anxiety")
    with use("service-delivery", actor=CASEWORKER):  # no sink: the usual exit's conditions
        try:
            attrs.asdict(record)
        except PurposeViolation as refusal:
            swallowed = refusal
    text = _locals_text(swallowed)
    assert SUBJECT not in text
    assert NAME not in text
    assert refusal_var.get() is None


def test_a_refusal_swallowed_in_a_nested_scope_is_let_go_at_the_outermost_exit() -> None:
    record = Red14Bulk(SUBJECT, NAME, "anxiety")
    with use("service-delivery", actor=CASEWORKER):
        with use("service-delivery", actor=FUNDER_JOB):
            try:
                attrs.asdict(record)
            except PurposeViolation as refusal:
                swallowed = refusal
        assert refusal_var.get() is swallowed  # inside the outer scope, still there
    assert refusal_var.get() is None
    text = _locals_text(swallowed)
    assert SUBJECT not in text
    assert NAME not in text


def test_a_refusal_wrapped_by_pydantic_is_raised_at_the_exit() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Out(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(from_attributes=True)
        client_id: str
        diagnosis: str

    record = case()
    with pytest.raises(PurposeViolation), use("service-delivery", actor=CASEWORKER):
        Out.model_validate(record)
    assert refusal_var.get() is None


def test_an_error_raised_in_the_block_keeps_its_own_type_and_lets_the_refusal_go() -> None:
    record = Red14Bulk(SUBJECT, NAME, "anxiety")

    def block() -> None:
        with contextlib.suppress(PurposeViolation):
            attrs.asdict(record)  # the refusal swallowed, then another error raised
        raise KeyError("other")

    with pytest.raises(KeyError) as raised, use("service-delivery", actor=CASEWORKER):
        block()
    assert refusal_var.get() is None
    assert SUBJECT not in _locals_text(raised.value)


# --- the audit report -------------------------------------------------------------------------


FIELDS_READ = ("diagnosis", "address", "case_notes", "case_notes", "case_notes")


@pytest.fixture
def recording() -> RecordingSink:
    sink = RecordingSink()
    purposeful.configure(sinks=[sink])
    return sink


def test_planned_first_reads_are_each_in_the_decisions_and_the_report_once(
    recording: RecordingSink,
) -> None:
    records = [case(client_id=f"C-{n}") for n in range(3)]
    for _ in range(3):  # the first scope plans, the next two take the plan
        with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=AlwaysConsent()) as scope:
            for record in records:
                assert record.diagnosis == "generalised anxiety"
                assert record.address == "12 Cuba Street"
                assert record.case_notes == "met at home"
            project(records[0])
        # a field that needs consent is decided once per person (semantic-conventions.md)
        assert [d.field for d in scope.decisions] == ["diagnosis", "address"] + ["case_notes"] * 3
    assert len(recording.reports) == 3
    for report in recording.reports:
        assert [d.field for d in report.decisions] == list(FIELDS_READ)
        assert report.subject_counts == {"Case": 3}


def test_a_planned_refusal_is_in_the_report_once(recording: RecordingSink) -> None:
    record = case()
    for _ in range(2):
        with use("funder-reporting", actor=FUNDER_JOB) as scope:
            for _ in range(3):
                with pytest.raises(PurposeViolation):
                    record.diagnosis  # noqa: B018
            assert record.address == "12 Cuba Street"
        assert [(d.field, d.outcome) for d in scope.decisions] == [
            ("diagnosis", Outcome.DENIED),
            ("address", Outcome.ALLOWED),
        ]
    assert [len(report.decisions) for report in recording.reports] == [2, 2]


def test_the_usual_exit_changes_nothing_another_scope_reports(recording: RecordingSink) -> None:
    """A scope with no report (a sink removed inside ``configured``) exits the usual way;
    the scope around it still reports every decision."""
    record = case()
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as outer:
        with purposeful.configured(sinks=[]), use(CASE_MANAGEMENT, actor=CASEWORKER) as inner:
            assert record.diagnosis == "generalised anxiety"
        assert record.diagnosis == "generalised anxiety"
    assert [d.field for d in inner.decisions] == ["diagnosis"]
    assert [d.field for d in outer.decisions] == ["diagnosis"]
    (report,) = recording.reports
    assert [d.field for d in report.decisions] == ["diagnosis"]
