"""Interrupted disposals (a ``begun`` line with no ``done`` after it) are reported by
`retention due` and finished by the next disposal run, never left open for good: the record
disposed of again if it is still there and due, ``done`` written if it is gone."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from _retention import REGISTRY, DictSource, RetainedNote, sources_of
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from purposeful.audit import Ledger, PseudonymKey, verify_ledger
from purposeful.audit.ledger import read_disposals, unfinished_disposals
from purposeful.errors import ConfigurationError
from purposeful.holds import MemoryHoldStore
from purposeful.retention import (
    DisposalSummary,
    Interrupted,
    dispose_due,
    due_csv,
    due_json,
    due_text,
    retention_due,
)

TODAY = date(2026, 6, 1)
KEY = PseudonymKey.generate()
SIGNING = Ed25519PrivateKey.generate()


class _DoneLost:
    """A ledger whose ``done`` lines cannot be written (a full disk just then)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def record_disposal(self, **evidence: Any) -> None:
        if evidence["stage"] == "done":
            raise OSError("no space left on device")
        self.ledger.record_disposal(**evidence)

    def unfinished_disposals(self) -> list[Any]:
        return self.ledger.unfinished_disposals()


def _notes() -> DictSource:
    notes = DictSource()
    notes.add(RetainedNote("person-1", "n-1", "t"), date(2020, 1, 1))
    notes.add(RetainedNote("person-2", "n-2", "t"), date(2020, 1, 1))
    return notes


def _run(ledger: Any, notes: DictSource, **kwargs: Any) -> DisposalSummary:
    return dispose_due(
        sources_of(notes=notes), ledger=ledger, by="staff-02", today=TODAY,
        registry=REGISTRY, pseudonymise=kwargs.pop("pseudonymise", KEY.pseudonym), **kwargs,
    )  # fmt: skip


def _lose_done(path: Path, notes: DictSource) -> None:
    with Ledger(path, signing_key=SIGNING) as ledger, pytest.raises(OSError, match="no space left"):
        _run(_DoneLost(ledger), notes)


def test_a_lost_done_line_is_reported_as_interrupted_and_finished_by_the_next_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    notes = _notes()
    _lose_done(path, notes)
    assert notes.disposed == [("person-1", "n-1", notes.source.method)]  # the hook ran
    (stopped,) = unfinished_disposals(path)
    report = retention_due(
        sources_of(notes=notes), today=TODAY, registry=REGISTRY,
        interrupted=unfinished_disposals(path),
    )  # fmt: skip
    assert report.interrupted == (Interrupted.of(stopped),)
    assert report.interrupted[0].record_type == "RetainedNote"
    assert "1 disposals were interrupted" in " ".join(due_text(report).split())
    assert "interrupted,notes,RetainedNote" in due_csv(report)
    assert '"interrupted": 1' in due_json(report)
    assert "person-1" not in due_text(report, pseudonymise=KEY.pseudonym)
    assert stopped.subject in due_csv(report, pseudonymise=KEY.pseudonym)

    with Ledger(path, signing_key=SIGNING) as ledger:
        summary = _run(ledger, notes)
    assert summary.finished == {("notes", "RetainedNote"): 1}
    assert summary.interrupted == 0
    assert summary.disposed == {("notes", "RetainedNote"): 1}  # person-2's, due all along
    assert unfinished_disposals(path) == []
    assert [d[:2] for d in notes.disposed] == [("person-1", "n-1"), ("person-2", "n-2")]
    done = [e for e in read_disposals(path) if e.disposal == stopped.disposal]
    assert [e.stage for e in done] == ["begun", "done"]
    assert done[1].rule == stopped.rule
    assert done[1].actor == "staff-02"
    assert verify_ledger(path, SIGNING.public_key()).ok


def test_an_interrupted_record_held_now_stays_open_until_the_hold_is_released(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    notes = _notes()
    hook = notes.source._dispose  # type: ignore[attr-defined]

    def crash(record: object, method: object) -> None:
        raise KeyboardInterrupt  # the process stopped inside the hook

    notes.source._dispose = crash  # type: ignore[attr-defined]
    with Ledger(path, signing_key=SIGNING) as ledger, pytest.raises(KeyboardInterrupt):
        _run(ledger, notes)
    notes.source._dispose = hook  # type: ignore[attr-defined]
    holds = MemoryHoldStore()
    hold = holds.place(reason="complaint", by="staff-1", subject="person-1")
    with Ledger(path, signing_key=SIGNING) as ledger:
        summary = _run(ledger, notes, holds=holds)
    assert summary.interrupted == 1
    assert summary.finished == {}
    assert ("person-1", "n-1") in notes.rows
    assert len(unfinished_disposals(path)) == 1
    holds.release(hold.id, by="staff-1")
    with Ledger(path, signing_key=SIGNING) as ledger:
        summary = _run(ledger, notes, holds=holds)
    assert summary.finished == {("notes", "RetainedNote"): 1}
    assert unfinished_disposals(path) == []
    assert ("person-1", "n-1") not in notes.rows


def test_evidence_under_another_pseudonym_key_is_never_closed_by_guess(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    notes = _notes()
    _lose_done(path, notes)
    other = PseudonymKey.generate()
    with Ledger(path, signing_key=SIGNING) as ledger:
        summary = _run(ledger, notes, pseudonymise=other.pseudonym)
    assert summary.interrupted == 0  # not counted: it cannot be matched under this key
    assert len(unfinished_disposals(path)) == 1


def test_interrupted_takes_disposal_evidence() -> None:
    with pytest.raises(ConfigurationError, match="interrupted= takes the disposal evidence"):
        retention_due(sources_of(notes=_notes()), today=TODAY, registry=REGISTRY,
                      interrupted=["begun"])  # fmt: skip
