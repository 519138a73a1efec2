"""The ledger's disposal lines (IPP 9 evidence): written between scope lines, chained and
checkpointed like them, verified (an edit is caught), indexed past, read quickly like any
line, read back, and skipped by the audit report and a person's access history."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import purposeful
from _records import CASEWORKER, case
from purposeful import use
from purposeful.audit import Ledger, PseudonymKey
from purposeful.audit.conventions import LedgerKey
from purposeful.audit.history import SubjectQuery, access_history
from purposeful.audit.ledger import (
    VerifyReason,
    default_index_path,
    read_disposals,
    unfinished_disposals,
    verify_ledger,
)
from purposeful.audit.ledger.format import _decoded_entry, chained_entry
from purposeful.audit.report import build_report
from purposeful.errors import LedgerCorrupt, LedgerError

KEY = PseudonymKey.generate()


def _evidence(stage: str, n: int = 1, **changes: Any) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "stage": stage,
        "disposal": KEY.pseudonym(f"record-{n}"),
        "source": "case-notes",
        "record_type": "Case",
        "subject": KEY.pseudonym(f"person-{n}"),
        "rule": "service-delivery: 7 years after your last contact with the service",
        "kept_until": date(2026, 3, 1),
        "method": "delete",
        "authority": None,
        "actor": "records-officer",
        "time": datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
    }
    return evidence | changes


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, Ed25519PrivateKey]:
    path = tmp_path / "audit.jsonl"
    signing = Ed25519PrivateKey.generate()
    with Ledger(path, signing_key=signing, checkpoint_every=3) as ledger:
        purposeful.configure(sinks=[ledger], pseudonymise=KEY.pseudonym)
        with use("service-delivery.case-management", actor=CASEWORKER):
            _ = case().diagnosis
        ledger.record_disposal(**_evidence("begun"))
        ledger.record_disposal(**_evidence("done"))
        ledger.record_disposal(**_evidence("begun", 2, authority="DA 123"))
        with use("service-delivery.case-management", actor=CASEWORKER):
            _ = case().diagnosis
        purposeful.configure(sinks=[])
    return path, signing


def test_disposal_lines_verify_and_their_keys_are_the_conventions(
    written: tuple[Path, Ed25519PrivateKey],
) -> None:
    path, signing = written
    result = verify_ledger(path, signing.public_key(), index=default_index_path(path))
    assert result.ok, result.message
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["type"] for line in lines] == [
        "header", "scope", "disposal", "disposal", "disposal", "scope",
    ]  # fmt: skip
    assert set(lines[2]) <= {v for k, v in vars(LedgerKey).items() if k.isupper()}


def test_an_edited_disposal_line_is_found(written: tuple[Path, Ed25519PrivateKey]) -> None:
    path, signing = written
    text = path.read_text()
    path.write_text(text.replace('"kept_until":"2026-03-01"', '"kept_until":"2029-03-01"', 1))
    result = verify_ledger(path, signing.public_key())
    assert result.reason is VerifyReason.EDITED
    assert result.line == 3


def test_evidence_reads_back_and_what_is_unfinished_is_named(
    written: tuple[Path, Ed25519PrivateKey],
) -> None:
    path, _ = written
    evidence = list(read_disposals(path))
    assert [(e.seq, e.stage, e.authority) for e in evidence] == [
        (2, "begun", None),
        (3, "done", None),
        (4, "begun", "DA 123"),
    ]
    assert [e.subject for e in unfinished_disposals(path)] == [KEY.pseudonym("person-2")]


def test_a_person_s_history_and_the_report_skip_disposal_lines(
    written: tuple[Path, Ed25519PrivateKey],
) -> None:
    path, signing = written
    answer = access_history(
        SubjectQuery.for_subject("C-1001", [KEY]), [path], public_key=signing.public_key()
    )
    assert len(answer.accesses) == 2
    assert build_report(ledgers=[path]).scopes == 2
    duckdb = pytest.importorskip("duckdb")
    assert duckdb is not None
    from purposeful.audit.report.duckdb_engine import ReportDatabase

    with ReportDatabase.from_files(ledgers=[path]) as database:
        assert database.report().scopes == 2


def test_disposal_lines_of_one_shape_are_read_quickly_and_the_same(
    written: tuple[Path, Ed25519PrivateKey],
) -> None:
    path, _ = written
    raws = [line.encode() for line in path.read_text().splitlines()[2:5]]
    for raw in raws:
        assert chained_entry(raw) == _decoded_entry(raw)


def test_a_damaged_disposal_line_or_a_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"mac":"00","seq":1,"stage":"done","type":"disposal"}\n')
    with pytest.raises(LedgerCorrupt, match="line 1"):
        list(read_disposals(path))
    with pytest.raises(LedgerError, match="cannot read"):
        list(read_disposals(tmp_path / "missing.jsonl"))
