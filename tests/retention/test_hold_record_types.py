"""A hold's record type names what it holds: a record type or the source it is read from
holds those records; a name that matches neither would hold nothing, so disposal refuses
to run rather than destroy what the hold was placed for."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pytest
from _retention import AGREEMENT, REGISTRY, DictSource, RetainedNote, RetainedVisit, sources_of
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from purposeful.audit import Ledger, PseudonymKey
from purposeful.audit.ledger import read_disposals
from purposeful.errors import ConfigurationError
from purposeful.holds import MemoryHoldStore
from purposeful.records import record_policy
from purposeful.retention import DisposalSummary, dispose_due, retention_due

TODAY = date(2026, 6, 1)
KEY = PseudonymKey.generate()


def _sources() -> tuple[DictSource, DictSource]:
    notes, visits = DictSource(), DictSource()
    for n in range(3):
        notes.add(RetainedNote(f"P-{n}", f"n{n}", "t"), date(2020, 1, 1))
        visits.add(RetainedVisit(f"P-{n}", f"v{n}", "t"), date(2020, 1, 1))
    return notes, visits


@pytest.mark.parametrize("typed", ["case-notes", "case_notes", "Case Notes"])
def test_a_hold_naming_the_source_holds_its_records(typed: str) -> None:
    notes, visits = _sources()
    holds = MemoryHoldStore()
    holds.place(reason="inquiry", by="staff-1", record_type=typed)
    report = retention_due(
        sources_of(case_notes=notes, visits=visits), today=TODAY, registry=REGISTRY, holds=holds
    )
    assert {item.record_type for item in report.held} == {"RetainedNote"}
    assert {item.record_type for item in report.due} == {"RetainedVisit"}


def _dispose(
    tmp_path: Path, notes: DictSource, visits: DictSource, holds: object
) -> DisposalSummary:
    with Ledger(tmp_path / "audit.jsonl", signing_key=Ed25519PrivateKey.generate()) as ledger:
        return dispose_due(
            sources_of(case_notes=notes, visits=visits),
            ledger=ledger,
            by="records-officer",
            today=TODAY,
            registry=REGISTRY,
            holds=holds,  # type: ignore[arg-type]
            pseudonymise=KEY.pseudonym,
        )


@given(typed=st.sampled_from(["CaseNotez", "Notez", "RetainedNotes", "visitz"]))
def test_a_hold_whose_record_type_matches_nothing_stops_the_run(typed: str) -> None:
    folder = Path(tempfile.mkdtemp())
    notes, visits = _sources()
    holds = MemoryHoldStore()
    hold = holds.place(reason="inquiry", by="staff-1", record_type=typed)
    with pytest.raises(ConfigurationError) as refused:
        _dispose(folder, notes, visits, holds)
    message = str(refused.value)
    assert hold.id in message
    assert "nothing was disposed of" in message
    assert "RetainedNote" in message
    assert "case-notes" in message
    assert "inquiry" not in message
    assert "P-0" not in message
    assert notes.disposed == []
    assert visits.disposed == []
    assert list(read_disposals(folder / "audit.jsonl")) == []


def test_a_released_or_matching_hold_lets_the_run_go_ahead(tmp_path: Path) -> None:
    notes, visits = _sources()
    holds = MemoryHoldStore()
    slip = holds.place(reason="inquiry", by="staff-1", record_type="Notes")
    holds.release(slip.id, by="staff-1")
    holds.place(reason="inquiry", by="staff-1", record_type="RetainedNote")
    summary = _dispose(tmp_path, notes, visits, list(holds.holds()))
    assert dict(summary.held) == {("case-notes", "RetainedNote"): 3}
    assert len(visits.disposed) == 3
    assert notes.disposed == []


def test_nothing_due_is_not_refused_for_a_hold_that_matches_nothing(tmp_path: Path) -> None:
    notes, visits = DictSource(), DictSource()
    notes.add(RetainedNote("P-1", "n1", "t"), date(2026, 1, 1))  # kept
    holds = MemoryHoldStore()
    holds.place(reason="inquiry", by="staff-1", record_type="Notes")
    summary = _dispose(tmp_path, notes, visits, holds)
    assert not summary.disposed


def test_a_hold_on_a_declared_record_type_with_no_records_today_still_holds(
    tmp_path: Path,
) -> None:
    """A legal hold on a record type none of whose records a source holds today (its
    records not yet migrated, say) is a hold all the same: it does not stop the run as a
    slip would."""
    import purposeful

    @purposeful.record(subject="person", key="ref", registry=REGISTRY)
    class WhanauPlan:
        person: str
        ref: str
        summary: str = purposeful.field(purposes={"service-delivery.case-management": AGREEMENT})

    notes, visits = _sources()
    holds = MemoryHoldStore()
    name = record_policy(WhanauPlan).name  # as the audit trail names it (a local class)
    holds.place(reason="inquiry", by="staff-1", record_type=name)
    summary = _dispose(tmp_path, notes, visits, holds)
    assert len(notes.disposed) == len(visits.disposed) == 3
    assert not summary.held
