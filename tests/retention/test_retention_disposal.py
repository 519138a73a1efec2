"""Disposal: through the source's hook, with evidence written to the ledger before and
after each record; failures and crashes leave the evidence consistent, and the next run
finishes what a crash left."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from _retention import REGISTRY, DictSource, RetainedNote, RetainedVisit, sources_of
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import purposeful
from purposeful.audit import Ledger, PseudonymKey, verify_ledger
from purposeful.audit.ledger import read_disposals, unfinished_disposals
from purposeful.errors import ConfigurationError, DisposalFailed, LedgerClosed
from purposeful.holds import MemoryHoldStore
from purposeful.retention import DisposalMethod, dispose_due

TODAY = date(2026, 6, 1)
KEY = PseudonymKey.generate()


class _Killed(BaseException):
    """Stands for the process being killed inside the hook."""


def _setup(method: DisposalMethod = DisposalMethod.DELETE) -> tuple[DictSource, DictSource]:
    notes, visits = DictSource(method), DictSource()
    notes.add(RetainedNote("person-1", "n-1", "t"), date(2020, 1, 1))
    notes.add(RetainedNote("person-2", "n-2", "t"), date(2020, 1, 1))
    notes.add(RetainedNote("person-3", "n-3", "t"), date(2025, 1, 1))  # kept
    visits.add(RetainedVisit("person-1", "v-1", "t"), date(2019, 1, 1))
    return notes, visits


def _dispose(ledger: Ledger, notes: DictSource, visits: DictSource, **kwargs: object):
    return dispose_due(
        sources_of(notes=notes, visits=visits),
        ledger=ledger,
        by="staff-02",
        today=TODAY,
        registry=REGISTRY,
        pseudonymise=KEY.pseudonym,
        **kwargs,  # type: ignore[arg-type]
    )


def test_each_due_record_is_disposed_of_between_two_lines_of_evidence(tmp_path: Path) -> None:
    notes, visits = _setup(DisposalMethod.DE_IDENTIFY)
    signing = Ed25519PrivateKey.generate()
    holds = MemoryHoldStore()
    holds.place(reason="complaint", by="staff-1", subject="person-2")
    with Ledger(tmp_path / "audit.jsonl", signing_key=signing) as ledger:
        summary = _dispose(ledger, notes, visits, holds=holds, authority="DA 123")
    assert summary.disposed == {("notes", "RetainedNote"): 1, ("visits", "RetainedVisit"): 1}
    assert summary.held == {("notes", "RetainedNote"): 1}
    assert notes.disposed == [("person-1", "n-1", DisposalMethod.DE_IDENTIFY)]
    assert set(notes.rows) == {("person-2", "n-2"), ("person-3", "n-3")}
    evidence = list(read_disposals(tmp_path / "audit.jsonl"))
    assert [e.stage for e in evidence] == ["begun", "done", "begun", "done"]
    first = evidence[0]
    assert first.record_type == "RetainedNote"
    assert first.source == "notes"
    assert first.method == "de-identify"
    assert first.authority == "DA 123"
    assert first.actor == "staff-02"
    assert first.kept_until == date(2023, 1, 1)
    assert (
        first.rule
        == "service-delivery.case-management: 3 years after the case closes (from service-delivery)"
    )
    assert first.subject == KEY.pseudonym("person-1")
    assert first.disposal == evidence[1].disposal != evidence[2].disposal
    raw = (tmp_path / "audit.jsonl").read_text()
    assert "person-" not in raw
    assert "n-1" not in raw
    assert unfinished_disposals(tmp_path / "audit.jsonl") == []
    assert verify_ledger(tmp_path / "audit.jsonl", signing.public_key()).ok


def test_a_failing_hook_is_recorded_as_failed_and_stops_the_run(tmp_path: Path) -> None:
    notes, visits = _setup()
    notes.fail_on.add("n-1")
    signing = Ed25519PrivateKey.generate()
    with (
        Ledger(tmp_path / "audit.jsonl", signing_key=signing) as ledger,
        pytest.raises(DisposalFailed, match="OSError") as failed,
    ):
        _dispose(ledger, notes, visits)
    assert "person" not in str(failed.value)
    assert [e.stage for e in read_disposals(tmp_path / "audit.jsonl")] == ["begun", "failed"]
    assert [e.stage for e in unfinished_disposals(tmp_path / "audit.jsonl")] == ["failed"]
    assert visits.disposed == []  # nothing after the failure
    notes.fail_on.clear()  # the hook is mended: the next run disposes and closes it
    with Ledger(tmp_path / "audit.jsonl", signing_key=signing) as ledger:
        _dispose(ledger, notes, visits)
    assert unfinished_disposals(tmp_path / "audit.jsonl") == []
    assert len(visits.disposed) == 1


def test_a_crash_inside_the_hook_leaves_begun_evidence_that_the_next_run_finishes(
    tmp_path: Path,
) -> None:
    notes, visits = _setup()
    signing = Ed25519PrivateKey.generate()
    original = notes.dispose

    def killed(record: object, method: DisposalMethod) -> None:
        raise _Killed

    notes.source._dispose = killed  # type: ignore[attr-defined]
    with (
        Ledger(tmp_path / "audit.jsonl", signing_key=signing) as ledger,
        pytest.raises(_Killed),
    ):
        _dispose(ledger, notes, visits)
    open_ = unfinished_disposals(tmp_path / "audit.jsonl")
    assert [e.stage for e in open_] == ["begun"]
    assert ("person-1", "n-1") in notes.rows  # not disposed of, evidence says begun only
    assert verify_ledger(tmp_path / "audit.jsonl", signing.public_key()).ok

    notes.source._dispose = original  # type: ignore[attr-defined]
    with Ledger(tmp_path / "audit.jsonl", signing_key=signing) as ledger:
        _dispose(ledger, notes, visits)
    assert unfinished_disposals(tmp_path / "audit.jsonl") == []
    stages = [
        (e.disposal == open_[0].disposal, e.stage) for e in read_disposals(tmp_path / "audit.jsonl")
    ]
    assert stages[:3] == [(True, "begun"), (True, "begun"), (True, "done")]
    assert verify_ledger(tmp_path / "audit.jsonl", signing.public_key()).ok


def test_evidence_that_cannot_be_written_disposes_of_nothing(tmp_path: Path) -> None:
    notes, visits = _setup()
    ledger = Ledger(tmp_path / "audit.jsonl", signing_key=Ed25519PrivateKey.generate())
    ledger.close()
    with pytest.raises(LedgerClosed):
        _dispose(ledger, notes, visits)
    assert notes.disposed == []
    assert visits.disposed == []


def test_a_public_office_must_cite_a_disposal_authority(tmp_path: Path) -> None:
    notes, visits = _setup()
    with Ledger(tmp_path / "audit.jsonl", signing_key=Ed25519PrivateKey.generate()) as ledger:
        with pytest.raises(ConfigurationError, match="Public Records Act 2005"):
            _dispose(ledger, notes, visits, public_office=True)
        purposeful.configure(agency_kinds=["public-office"])
        with pytest.raises(ConfigurationError, match="disposal authority"):
            _dispose(ledger, notes, visits)
        summary = _dispose(ledger, notes, visits, authority="DA 661")
    assert summary.authority == "DA 661"
    assert notes.disposed


def test_disposal_needs_a_pseudonym_key_a_ledger_and_an_actor(tmp_path: Path) -> None:
    notes, visits = _setup()
    sources = sources_of(notes=notes, visits=visits)
    with Ledger(tmp_path / "audit.jsonl", signing_key=Ed25519PrivateKey.generate()) as ledger:
        with pytest.raises(ConfigurationError, match="pseudonym"):
            dispose_due(sources, ledger=ledger, by="staff-1", today=TODAY, registry=REGISTRY)
        purposeful.configure(pseudonymise=KEY.pseudonym)
        with pytest.raises(ConfigurationError, match="Ledger"):
            dispose_due(sources, ledger=object(), by="staff-1", today=TODAY)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="actor"):
            dispose_due(sources, ledger=ledger, by="", today=TODAY)
        with pytest.raises(ConfigurationError, match="aware"):
            dispose_due(sources, ledger=ledger, by="s", at=datetime(2026, 1, 1), registry=REGISTRY)
    assert notes.disposed == []


def test_a_disposal_line_with_a_missing_part_is_refused(tmp_path: Path) -> None:
    with Ledger(tmp_path / "audit.jsonl", signing_key=Ed25519PrivateKey.generate()) as ledger:
        with pytest.raises(ConfigurationError, match="stage, kept_until"):
            ledger.record_disposal(
                stage="gone", disposal="k", source="s", record_type="R", subject="k",
                rule="r", kept_until=datetime.now(UTC), method="delete", authority=None,
                actor="a", time=datetime.now(UTC),
            )  # fmt: skip
        assert ledger.seq == 0
