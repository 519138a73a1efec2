"""Red team 8: ``audit report --ledger ... --public-key`` since a ledger is refused unless it
is a file and a trace file after --ledger is told only when verification
fails (`_trace_file`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from purposeful.audit.ledger import verify_ledger
from purposeful.cli import main
from test_cli import _ledger_with_three_scopes


def _report(ledger: Path, public_key: Path) -> int:
    """``audit report --ledger LEDGER --public-key KEY``'s exit status."""
    try:
        return main(["audit", "report", "--ledger", str(ledger), "--public-key", str(public_key)])
    except SystemExit as exc:  # a usage error
        return int(exc.code or 0)


def test_a_ledger_with_an_otlp_line_put_before_its_header_is_reported_as_edited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`_trace_file` calls a ledger that did not verify a trace file given after --ledger
    when its first line is a JSON object with ``resourceSpans`` and no ``type``: whoever
    edits the signed ledger chooses its first line as freely as any other. Putting
    ``{"resourceSpans":[]}`` before the header (or in place of it) makes ``audit verify``
    say the ledger does not verify (exit 1), while ``audit report --public-key`` answers
    'is OTLP JSON, not a ledger line; pass trace files without --ledger' (exit 2): a
    tampered ledger reported as an operator's argument-order slip, to automation that
    alerts on exit 1 and to a person who then drops the file from the report. The
    ledger's signed checkpoints file beside it (``audit.jsonl.checkpoints``) says it is a
    ledger."""
    ledger, public_key = _ledger_with_three_scopes(tmp_path)
    assert Path(f"{ledger}.checkpoints").is_file()
    ledger.write_bytes(b'{"resourceSpans":[]}\n' + ledger.read_bytes())
    capsys.readouterr()
    assert main(["audit", "verify", str(ledger), "--public-key", str(public_key)]) == 1
    capsys.readouterr()
    status = _report(ledger, public_key)
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert status == 1, said
    assert "may have been edited" in said, said


def test_a_pretty_printed_trace_file_after_ledger_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report reads an OTLP JSON trace file written as one indented document
    (``json.dump(..., indent=2)``, ``jq .`` output, a trace downloaded from a tracing
    UI): ``audit report traces.json`` exits 0. Given after --ledger by the argument-order
    slip `_trace_file` exists for, its first line is ``{``, not JSON on its own, so it is
    not recognised: the report says 'malformed: line 1 (the header) is not JSON' and 'No
    report: a ledger that does not verify may have been edited' (exit 1), a tampering
    alarm for a usage mistake, which trains operators to dismiss the real one."""
    _, public_key = _ledger_with_three_scopes(tmp_path)
    traces = tmp_path / "traces.json"
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "purposeful.scope",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000100000000",
        "attributes": [],
    }
    traces.write_text(
        json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}, indent=2) + "\n"
    )
    capsys.readouterr()
    assert main(["audit", "report", str(traces), "--engine", "stream"]) == 0  # a trace file
    capsys.readouterr()
    status = _report(traces, public_key)
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert status == 2, said
    assert "may have been edited" not in said, said
    assert len(captured.err.strip().splitlines()) == 1, said


def test_a_ledger_edited_after_its_verification_is_not_reported_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`verify_ledgers` verifies each ledger by path, and the report then opens the same
    path again and reads it a second time: what it reports is not what was verified. A
    ledger changed between the two readings (by whoever can write it, while a large
    ledger takes minutes to verify: a part already verified can be rewritten while the
    rest is still being read; or a service still appending) is reported under 'Ledgers:
    verified against their signed checkpoints before this report', although ``audit
    verify`` of the file as reported exits 1. Here the actor of one scope is changed just
    after the verification returns."""
    ledger, public_key = _ledger_with_three_scopes(tmp_path)

    def verify_then_the_file_changes(path: Any, *args: Any, **kwargs: Any) -> Any:
        result = verify_ledger(path, *args, **kwargs)
        data = Path(path).read_bytes()
        lines = data.splitlines(keepends=True)
        lines[2] = lines[2].replace(b'"staff-0042"', b'"staff-9999"', 1)
        Path(path).write_bytes(b"".join(lines))
        return result

    monkeypatch.setattr("purposeful.cli._ledgers.verify_ledger", verify_then_the_file_changes)
    capsys.readouterr()
    status = _report(ledger, public_key)
    said = capsys.readouterr().out
    monkeypatch.undo()
    assert main(["audit", "verify", str(ledger), "--public-key", str(public_key)]) == 1
    capsys.readouterr()
    claims = status == 0 and "staff-9999" in said and "verified against" in said
    assert not claims, said
