"""What is due: across sources and people, one person's, holds from the register and from
pending correction requests, and the report as text, CSV and JSON without a subject id."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from _retention import REGISTRY, DictSource, RetainedNote, RetainedVisit, sources_of

from purposeful.corrections import MemoryCorrectionStore
from purposeful.errors import ConfigurationError
from purposeful.holds import MemoryHoldStore
from purposeful.retention import (
    Dated,
    RetentionSource,
    RetentionSources,
    RetentionStatus,
    due_csv,
    due_json,
    due_text,
    retention_due,
)

TODAY = date(2026, 6, 1)


def _sources() -> tuple[RetentionSources, DictSource, DictSource]:
    notes, visits = DictSource(), DictSource()
    notes.add(RetainedNote("secret-person-1", "n-1", "t"), date(2020, 1, 1))  # due
    notes.add(RetainedNote("secret-person-2", "n-2", "t"), date(2020, 1, 1))  # due
    notes.add(RetainedNote("secret-person-3", "n-3", "t"), date(2025, 1, 1))  # kept
    visits.add(RetainedVisit("secret-person-1", "v-1", "t"), date(2019, 1, 1))  # due
    return sources_of(case_notes=notes, visits=visits), notes, visits


def test_due_lists_what_is_past_retention_and_counts_what_is_kept() -> None:
    sources, _, _ = _sources()
    report = retention_due(sources, today=TODAY, registry=REGISTRY)
    assert [(i.source, i.record_type) for i in report.due] == [
        ("case-notes", "RetainedNote"),
        ("case-notes", "RetainedNote"),
        ("visits", "RetainedVisit"),
    ]
    assert report.held == ()
    assert report.kept == {("case-notes", "RetainedNote"): 1}
    assert "secret-person" not in repr(report) + repr(report.items)


def test_a_legal_hold_and_a_pending_correction_hold_their_persons_records() -> None:
    sources, _, _ = _sources()
    holds = MemoryHoldStore()
    legal = holds.place(reason="Smith v Agency", by="staff-1", record_type="RetainedVisit")
    corrections = MemoryCorrectionStore()
    corrections.request_correction(
        "secret-person-2", RetainedNote("secret-person-2", "n-2", "t"), "text", "new", "wrong"
    )
    report = retention_due(
        sources, today=TODAY, registry=REGISTRY, holds=holds, corrections=corrections
    )
    held = {(i.record_type, i.holds[0].kind.value) for i in report.held}
    assert held == {("RetainedVisit", "legal"), ("RetainedNote", "correction-request")}
    assert len(report.due) == 1
    again = retention_due(
        sources, today=TODAY, registry=REGISTRY, holds=holds, corrections=corrections
    )
    ids = [{h.id for i in r.held for h in i.holds} for r in (report, again)]
    assert ids[0] == ids[1]  # a pending request holds under the same id in every report
    holds.release(legal.id, by="staff-1")
    assert len(retention_due(sources, today=TODAY, registry=REGISTRY, holds=holds).due) == 3


def test_a_hold_ends_after_its_last_day() -> None:
    sources, _, _ = _sources()
    holds = MemoryHoldStore()
    placed = datetime(2026, 5, 20, tzinfo=UTC)  # the hold was placed before its last day
    holds.place(reason="inquiry", by="staff-1", until=TODAY, at=placed)
    assert len(retention_due(sources, today=TODAY, registry=REGISTRY, holds=holds).held) == 3
    after = date(2026, 6, 2)
    assert len(retention_due(sources, today=after, registry=REGISTRY, holds=holds).held) == 0


def test_a_hold_that_ends_before_the_day_it_is_placed_is_refused() -> None:
    """A mistyped year would hold nothing and say nothing: refused, naming both days."""
    holds = MemoryHoldStore()
    placed = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)  # 00:30 on 2 June in New Zealand
    with pytest.raises(ConfigurationError, match=r"\(2026-06-01\) is before .*\(2026-06-02\)"):
        holds.place(reason="inquiry", by="staff-1", until=date(2026, 6, 1), at=placed)
    assert holds.holds() == []
    hold = holds.place(reason="inquiry", by="staff-1", until=date(2026, 6, 2), at=placed)
    assert hold.until == date(2026, 6, 2)  # its last day may be the day it is placed


def test_one_persons_records_only() -> None:
    sources, _, _ = _sources()
    report = retention_due(sources, today=TODAY, registry=REGISTRY, subject="secret-person-1")
    assert len(report.due) == 2
    assert report.kept == {}


def test_a_source_with_a_listing_for_one_person_is_asked_for_that_person_only() -> None:
    asked: list[str] = []

    def of_subject(subject: str) -> list[Dated]:
        asked.append(subject)
        return [Dated(RetainedNote(subject, "n-9", "t"), date(2020, 1, 1))]

    sources = RetentionSources()
    sources.register("notes", RetentionSource(list, lambda r, m: None, of_subject=of_subject))
    report = retention_due(sources, today=TODAY, registry=REGISTRY, subject="p-9")
    assert asked == ["p-9"]
    assert len(report.due) == 1


@pytest.mark.parametrize(
    ("yielded", "message"),
    [
        (RetainedNote("p", "n", "t"), "yield Dated"),
        (Dated(object(), date(2020, 1, 1)), "not a purposeful record"),
        (Dated(RetainedNote("p", "n", "t"), "2020-01-01"), "must be a date"),  # type: ignore[arg-type]
    ],
)
def test_a_source_yielding_something_else_is_a_configuration_error(
    yielded: object, message: str
) -> None:
    sources = RetentionSources()
    sources.register("bad", RetentionSource(lambda: [yielded], lambda r, m: None))
    with pytest.raises(ConfigurationError, match=message):
        retention_due(sources, today=TODAY, registry=REGISTRY)


def test_sources_are_checked_when_registered() -> None:
    sources = RetentionSources()
    with pytest.raises(ConfigurationError, match="lower-case"):
        sources.register("Case Notes", RetentionSource(list, lambda r, m: None))
    with pytest.raises(ConfigurationError, match="dated"):
        sources.register("notes", object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="callable"):
        RetentionSource([], lambda r, m: None)  # type: ignore[arg-type]
    sources.register("notes", RetentionSource(list, lambda r, m: None))
    with pytest.raises(ConfigurationError, match="already"):
        sources.register("notes", RetentionSource(list, lambda r, m: None))
    with pytest.raises(ConfigurationError, match="RetentionSources"):
        retention_due(object(), today=TODAY)  # type: ignore[arg-type]


def test_the_outputs_show_counts_rules_and_holds_never_a_subject_id() -> None:
    sources, _, _ = _sources()
    holds = MemoryHoldStore()
    holds.place(reason="secret reason", by="staff-1", subject="secret-person-1")
    report = retention_due(sources, today=TODAY, registry=REGISTRY, holds=holds)
    text, csv, js = due_text(report), due_csv(report), due_json(report)
    for output in (text, csv, js):
        assert "secret" not in output
    assert (
        "On 1 June 2026: 1 past retention and due for disposal, 2 past retention but held" in text
    )
    assert (
        "service-delivery.case-management: 3 years after the case closes (from service-delivery)"
        in text
    )
    assert "legal hold" in text
    document = json.loads(js)
    assert (document["due"], document["held"], document["kept"]) == (1, 2, 1)
    statuses = sorted((row["status"], row["count"]) for row in document["rows"])
    assert statuses == [("due", 1), ("held", 1), ("held", 1), ("kept", 1)]
    assert csv.splitlines()[0] == "status,source,record_type,rule,kept_until,holds,count"


def test_with_a_pseudonym_function_each_record_is_listed_under_its_pseudonym() -> None:
    sources, _, _ = _sources()
    report = retention_due(sources, today=TODAY, registry=REGISTRY)

    def pseudonym(subject: str) -> str:
        return "k1:" + str(sorted({"secret-person-1", "secret-person-2"}).index(subject))

    document = json.loads(due_json(report, pseudonymise=pseudonym))
    assert sorted(row.get("subject", "") for row in document["rows"]) == [
        "",
        "k1:0",
        "k1:0",
        "k1:1",
    ]
    assert "secret" not in due_csv(report, pseudonymise=pseudonym)
    assert "k1:1" in due_text(report, pseudonymise=pseudonym)


def test_today_defaults_to_the_new_zealand_day() -> None:
    sources, _, _ = _sources()
    report = retention_due(sources, registry=REGISTRY)
    assert report.today >= date(2026, 1, 1)
    stamped = retention_due(
        sources, today=datetime(2026, 5, 31, 12, 0, tzinfo=UTC), registry=REGISTRY
    )
    assert stamped.today == TODAY  # midnight in New Zealand
    assert all(i.status is RetentionStatus.DUE for i in stamped.due)


def test_a_start_date_for_an_undeclared_purpose_is_an_error_not_ignored() -> None:
    from purposeful.errors import UnknownPurpose

    source = DictSource()
    source.add(RetainedNote("p", "n", "t"), date(2020, 1, 1), reportng=date(2021, 1, 1))
    with pytest.raises(UnknownPurpose):
        retention_due(sources_of(notes=source), today=TODAY, registry=REGISTRY)


def test_a_corrections_argument_without_pending_requests_is_refused() -> None:
    sources, _, _ = _sources()
    with pytest.raises(ConfigurationError, match="correction store"):
        retention_due(sources, today=TODAY, registry=REGISTRY, corrections=object())  # type: ignore[arg-type]


def test_holds_that_are_not_holds_are_refused() -> None:
    sources, _, _ = _sources()
    with pytest.raises(ConfigurationError, match="Hold values"):
        retention_due(sources, today=TODAY, registry=REGISTRY, holds=["legal"])  # type: ignore[list-item]
