"""Holds are asked again just before each record is disposed of: a hold placed at any point
of a run (or a correction requested) stops the records it covers that have not gone yet."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from _retention import REGISTRY, DictSource, RetainedNote, sources_of
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purposeful.audit import Ledger, PseudonymKey
from purposeful.audit.ledger import read_disposals
from purposeful.holds import MemoryHoldStore
from purposeful.retention import DisposalMethod, dispose_due

TODAY = date(2026, 6, 1)
KEY = PseudonymKey.generate()
PEOPLE = [f"person-{n}" for n in range(4)]


def _notes() -> DictSource:
    notes = DictSource()
    for person in PEOPLE:
        for n in range(2):
            notes.add(RetainedNote(person, f"{person}-n{n}", "t"), date(2020, 1, 1))
    return notes


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    after=st.integers(min_value=1, max_value=7),
    person=st.sampled_from(PEOPLE),
    every_type=st.booleans(),
)
def test_a_hold_placed_during_a_run_stops_the_records_it_covers(
    tmp_path: Path, after: int, person: str, every_type: bool
) -> None:
    notes = _notes()
    holds = MemoryHoldStore()
    hook = notes.source._dispose  # type: ignore[attr-defined]
    gone: list[str] = []

    def dispose(record: object, method: DisposalMethod) -> None:
        hook(record, method)
        gone.append(record.person)  # type: ignore[attr-defined]
        if len(gone) == after:  # a person places a hold while the run goes on
            holds.place(
                reason="complaint",
                by="staff-1",
                subject=person,
                record_type=None if every_type else "RetainedNote",
            )

    notes.source._dispose = dispose  # type: ignore[attr-defined]
    ledger_path = Path(tempfile.mkdtemp(dir=tmp_path)) / "audit.jsonl"
    with Ledger(ledger_path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        summary = dispose_due(
            sources_of(notes=notes),
            ledger=ledger,
            by="staff-02",
            today=TODAY,
            registry=REGISTRY,
            pseudonymise=KEY.pseudonym,
            holds=holds,
        )
    # nothing of the held person's went after the hold; everyone else's went
    assert gone[after:].count(person) == 0
    left = set(notes.rows)
    assert {p for p, _ in left} <= {person}
    assert len(left) == 2 - gone[:after].count(person)
    assert sum(summary.disposed.values()) + sum(summary.held.values()) == 8
    assert sum(summary.held.values()) == len(left)
    stages = [e.stage for e in read_disposals(ledger_path)]
    assert stages.count("begun") == stages.count("done") == len(gone)


def test_hold_values_given_as_a_generator_are_read_by_every_check(tmp_path: Path) -> None:
    from purposeful.holds import Hold, HoldKind
    from purposeful.holds.values import new_hold_id

    hold = Hold(
        id=new_hold_id(), kind=HoldKind.LEGAL, subject="person-1", record_type=None,
        reason="court order", placed_by="staff-1", placed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    notes = _notes()
    with Ledger(tmp_path / "audit.jsonl", signing_key=Ed25519PrivateKey.generate()) as ledger:
        summary = dispose_due(
            sources_of(notes=notes), ledger=ledger, by="staff-02", today=TODAY,
            registry=REGISTRY, pseudonymise=KEY.pseudonym, holds=(h for h in [hold]),
        )  # fmt: skip
    assert summary.held == {("notes", "RetainedNote"): 2}
    assert {p for p, _ in notes.rows} == {"person-1"}
