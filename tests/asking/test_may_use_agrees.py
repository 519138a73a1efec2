"""`may_use` agrees with a real read in a real scope: for every purpose of the default pack,
every field, every role and clearance, both modes, any agency kinds, with or without a
justification and a consent in force: an answer of yes is a value handed back, no is a
`PurposeViolation` (a would-deny in monitor mode), and a condition holds exactly when it is
met. Asked about the record's person in that scope, the answer is what the read then meets.
"""

from __future__ import annotations

from typing import Any

from _asking import FIELDS, ROLES, AskVisit, YesFor, visits
from hypothesis import event, given, settings
from hypothesis import strategies as st

import purposeful
from _records import RecordingSink
from purposeful import Mode, Outcome, PurposeViolation
from purposeful.asking import Verdict
from purposeful.testing.strategies import actors, purposes

AGENCY_KINDS = ("child-welfare-and-protection", "family-violence")


def _read(record: AskVisit, field: str) -> tuple[bool, Outcome]:
    """(value handed back, the outcome the scope recorded for it)."""
    scope = purposeful.current_scope()
    assert scope is not None
    try:
        value = getattr(record, field)
    except PurposeViolation as refused:
        return False, refused.decision.outcome
    assert isinstance(value, str)
    read = [d for d in scope.decisions if d.field == field and d.outcome is not Outcome.WITHHELD]
    return True, read[-1].outcome


def _expected(verdict: Verdict, *, justified: bool, consented: bool, needs_consent: bool) -> bool:
    """Whether a read is allowed, by the type's answer and the conditions met."""
    if verdict is Verdict.YES:
        return True
    if verdict is Verdict.WITH_CONSENT:
        return consented
    if verdict is Verdict.WITH_JUSTIFICATION:
        return justified and (consented or not needs_consent)
    return False


@st.composite
def field_and_purpose(draw: st.DrawFn) -> tuple[str, purposeful.Purpose]:
    """A field, and a purpose: any of the default pack, or (mostly) one the field is
    declared for or within one, so that every kind of answer is met."""
    field = draw(st.sampled_from(FIELDS))
    declared = list(purposeful.record_policy(AskVisit).fields[field].purposes)
    within = draw(st.sampled_from([None, *declared, *declared]))
    return field, draw(purposes(within=within))


@settings(max_examples=300)
@given(
    chosen=field_and_purpose(),
    actor=actors(roles=st.sampled_from(ROLES)),
    mode=st.sampled_from(Mode),
    kinds=st.lists(st.sampled_from(AGENCY_KINDS), unique=True, max_size=2),
    justification=st.sampled_from([None, "REF-123"]),
    consent=st.sampled_from(["in force", "not in force", "no checker"]),
    record=visits(),
)
def test_may_use_agrees_with_a_read_in_a_scope(
    chosen: tuple[str, purposeful.Purpose],
    actor: purposeful.Actor,
    mode: Mode,
    kinds: list[str],
    justification: str | None,
    consent: str,
    record: AskVisit,
) -> None:
    field, purpose = chosen
    subject = purposeful.record_policy(AskVisit).subject_of(record)  # no read: no scope
    checker = None if consent == "no checker" else YesFor([subject] * (consent == "in force"))
    sink = RecordingSink()
    with purposeful.configured(mode=mode, agency_kinds=kinds, consent=checker, sinks=[sink]):
        answer = purposeful.may_use(
            AskVisit, field, purpose, role=actor.role, clearance=actor.clearance
        )
        assert answer.mode is mode
        event(f"type: {answer.verdict.value}")
        assert (answer.verdict is Verdict.WOULD_DENY) <= (mode is Mode.MONITOR)
        assert (answer.verdict is Verdict.NO) <= (mode is Mode.ENFORCE)
        expected = _expected(
            answer.verdict,
            justified=justification is not None,
            consented=consent == "in force",
            needs_consent=answer.needs_consent,
        )
        with purposeful.use(purpose, actor=actor, justification=justification):
            about = purposeful.may_use(AskVisit, field, subject=subject)
            handed, outcome = _read(record, field)
        if expected:
            assert (handed, outcome) == (True, Outcome.ALLOWED)
        elif mode is Mode.MONITOR:
            assert (handed, outcome) == (True, Outcome.WOULD_DENY)
        else:
            assert (handed, outcome) == (False, Outcome.DENIED)
        # asked about the person in the scope, the answer is what the read met
        event(f"person: {about.verdict.value}")
        assert (about.verdict is Verdict.YES) == expected
        assert about.verdict is not Verdict.WITH_CONSENT
        if not expected:
            assert about.verdict in (Verdict.NO, Verdict.WOULD_DENY, Verdict.WITH_JUSTIFICATION)
            assert about.explanation.startswith(_refusal_words(record, field, about))
    _no_subject_id_in(sink.reports, subject)


def _refusal_words(record: AskVisit, field: str, about: Any) -> str:
    """The first words of the refusal's own explanation, which the answer repeats."""
    return about.decision.explain()[:40]


def _no_subject_id_in(reports: list[Any], subject: str) -> None:
    assert reports
    for report in reports:
        assert subject not in repr(report)
