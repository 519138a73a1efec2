"""A correction request's clock (ss 62, 63 and 65) and the decision read from it (s 63; on
a statement of correction, s 64), with every store: the decision is what the store already
records, so it reads back the same after the store is reopened."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from _corrections import OFFICER, SUBJECT, ask

from purposeful.access import Extension, ExtensionGround, RequestKind, ResponseClock, TimeLimit
from purposeful.corrections import (
    BaseCorrectionStore,
    CorrectionDecision,
    CorrectionStatus,
    SQLiteCorrectionStore,
)

#: Thursday 10 December 2026, 9:00 am NZDT: the worked example's day.
RECEIVED_AT = datetime(2026, 12, 9, 20, 0, tzinfo=UTC)


def at_nz_noon(day: date) -> datetime:
    """Noon on *day* in New Zealand summer time, in UTC."""
    return datetime(day.year, day.month, day.day, 23, 0, tzinfo=UTC) - timedelta(days=1)


def test_a_pending_request_has_no_decision_and_counts_from_its_new_zealand_day(
    store: BaseCorrectionStore,
) -> None:
    pending = ask(store, at=RECEIVED_AT)
    assert pending.decision is None
    assert pending.received_on == date(2026, 12, 10)  # 9 December in UTC
    clock = ResponseClock.for_correction(pending)
    assert clock.kind is RequestKind.CORRECTION
    assert (clock.transfer_due, clock.due) == (date(2026, 12, 24), date(2027, 1, 29))


def test_an_applied_request_records_that_the_correction_was_made(
    store: BaseCorrectionStore,
) -> None:
    asked = ask(store, at=RECEIVED_AT)
    applied = store.apply(asked.id, lambda c: None, by=OFFICER, at=at_nz_noon(date(2027, 1, 29)))
    decision = applied.decision
    assert decision == CorrectionDecision(corrected=True, decided_on=date(2027, 1, 29))
    assert decision.statement_attached is None
    assert not ResponseClock.for_correction(applied).is_overdue(decision.decided_on)


def test_a_declined_request_says_whether_the_statement_of_correction_is_attached(
    store: BaseCorrectionStore,
) -> None:
    asked = ask(store, at=RECEIVED_AT)
    declined = store.decline(
        asked.id, by=OFFICER, reason="as reported", at=at_nz_noon(date(2027, 2, 1))
    )
    decision = declined.decision
    assert decision is not None
    assert decision.corrected is False
    assert decision.decided_on == date(2027, 2, 1)
    assert decision.statement_attached is False
    assert decision.statement_attached_on is None
    # decided on the first working day after the 20th: late, without an extension (s 63)
    assert ResponseClock.for_correction(declined).is_overdue(decision.decided_on)
    attached = store.attach_statement(asked.id, "I moved in May", at=at_nz_noon(date(2027, 2, 3)))
    assert attached.decision == CorrectionDecision(
        corrected=False,
        decided_on=date(2027, 2, 1),
        statement_attached=True,
        statement_attached_on=date(2027, 2, 3),
    )


def test_a_statement_given_with_the_decline_is_attached_that_day(
    store: BaseCorrectionStore,
) -> None:
    asked = ask(store, at=RECEIVED_AT)
    declined = store.decline(
        asked.id,
        by=OFFICER,
        reason="as reported",
        statement="I moved in May",
        at=at_nz_noon(date(2027, 1, 20)),
    )
    assert declined.decision == CorrectionDecision(
        corrected=False,
        decided_on=date(2027, 1, 20),
        statement_attached=True,
        statement_attached_on=date(2027, 1, 20),
    )


def test_the_decision_day_is_new_zealands_not_utcs(store: BaseCorrectionStore) -> None:
    asked = ask(store, at=RECEIVED_AT)
    # 29 January 2027, 11:30 pm UTC is 30 January 12:30 pm in New Zealand: a Saturday
    applied = store.apply(
        asked.id, lambda c: None, by=OFFICER, at=datetime(2027, 1, 29, 23, 30, tzinfo=UTC)
    )
    assert applied.decision is not None
    assert applied.decision.decided_on == date(2027, 1, 30)
    assert ResponseClock.for_correction(applied).is_overdue(applied.decision.decided_on)


def test_an_extension_under_section_65_moves_the_decision(store: BaseCorrectionStore) -> None:
    asked = ask(store, at=RECEIVED_AT)
    extension = Extension(
        TimeLimit.DECISION, ExtensionGround.CONSULTATIONS, 10, notice_sent=date(2027, 1, 20)
    )
    clock = ResponseClock.for_correction(asked, extensions=[extension])
    assert clock.due == date(2027, 2, 15)
    declined = store.decline(
        asked.id, by=OFFICER, reason="as reported", at=at_nz_noon(date(2027, 2, 12))
    )
    assert declined.decision is not None
    assert not clock.is_overdue(declined.decision.decided_on)
    notice = clock.notice(extension)
    assert "your request to correct your personal information" in notice
    assert "section 65 of the Privacy Act 2020" in notice
    assert "(section 65(1)(b))" in notice
    late = attrs.evolve(extension, notice_sent=date(2027, 2, 1))
    with pytest.raises(ValueError, match=r"s 65\(3\)"):
        ResponseClock.for_correction(asked, extensions=[late])


def test_the_decision_reads_back_the_same_from_a_reopened_store(tmp_path: Path) -> None:
    path = tmp_path / "corrections.sqlite3"
    with SQLiteCorrectionStore(path) as store:
        asked = ask(store, at=RECEIVED_AT)
        declined = store.decline(
            asked.id,
            by=OFFICER,
            reason="as reported",
            statement="I moved in May",
            at=at_nz_noon(date(2027, 1, 20)),
        )
    with SQLiteCorrectionStore(path) as reopened:
        again = reopened.get(asked.id)
        assert again.status is CorrectionStatus.DECLINED
        assert again.decision == declined.decision
        assert again.received_on == declined.received_on


def test_the_decision_holds_nothing_personal(store: BaseCorrectionStore) -> None:
    asked = ask(store, at=RECEIVED_AT)
    declined = store.decline(
        asked.id,
        by=OFFICER,
        reason="a private reason",
        statement="a private statement",
        at=at_nz_noon(date(2027, 1, 20)),
    )
    shown = repr(declined.decision)
    for personal in (SUBJECT, "a private reason", "a private statement", OFFICER.id):
        assert personal not in shown
    assert "CorrectionDecision(corrected=False" in shown
