"""Red team 5: the audit commands' arguments since ``--ledger`` takes several files."""

from __future__ import annotations

from pathlib import Path

import pytest

from _audit_inputs import HandPart, HandScope, write_traces
from purposeful.cli import main
from test_cli import _ledger_with_three_scopes


def test_a_trace_file_after_ledger_with_public_key_is_not_called_an_edited_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``audit report --ledger audit.jsonl traces.json --public-key K``: since --ledger takes
    several files, the trace file is swallowed as a ledger. Without --public-key the report
    says so ('is OTLP JSON, not a ledger line; pass trace files without --ledger'); with it
    the trace file is verified as a ledger and the operator is told a ledger may have been
    edited (exit 1), an accusation of tampering for an argument-order mistake."""
    ledger, public_key = _ledger_with_three_scopes(tmp_path)
    scope = HandScope("s-trace", (HandPart(reads={"p1": frozenset({"Case.diagnosis"})}),))
    traces = write_traces(tmp_path / "traces.json", [scope])
    capsys.readouterr()
    argv = ["audit", "report", "--ledger", str(ledger), str(traces)]
    status = main([*argv, "--public-key", str(public_key)])
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert "edited" not in said, said
    assert "changed after it was written" not in said
    assert "pass trace files without --ledger" in said
    assert status == 2
