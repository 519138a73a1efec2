"""Red team 7: ``audit report --ledger ... --public-key`` since the ledgers' first lines are
sniffed for OTLP JSON before any is verified (`_looks_like_a_ledger`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from purposeful.cli import main
from test_cli import _ledger_with_three_scopes


def test_an_edited_ledger_whose_header_names_resource_spans_is_reported_as_edited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`_looks_like_a_ledger` calls any file whose first line contains the bytes
    ``"resourceSpans"`` OTLP JSON, a usage error (exit 2), before verifying. Whoever edits
    a signed ledger can add that key to its header line: ``audit verify`` says the ledger
    was edited (exit 1), but ``audit report --public-key`` answers 'is OTLP JSON, not a
    ledger line; pass trace files without --ledger' (exit 2), and automation that alerts on
    exit 1 sees an operator's typo instead of a tampered ledger."""
    ledger, public_key = _ledger_with_three_scopes(tmp_path)
    lines = ledger.read_bytes().splitlines(keepends=True)
    assert lines[0].startswith(b'{"created"')
    lines[0] = b'{"resourceSpans":[],' + lines[0][1:]
    ledger.write_bytes(b"".join(lines))
    capsys.readouterr()
    assert main(["audit", "verify", str(ledger), "--public-key", str(public_key)]) == 1
    capsys.readouterr()
    status = main(["audit", "report", "--ledger", str(ledger), "--public-key", str(public_key)])
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert status == 1, said
    assert "may have been edited" in said, said


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/dev/fd of a pipe: Linux")
def test_a_ledger_read_from_a_pipe_is_not_reported_verified_and_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``audit report --ledger <(zcat audit.jsonl.gz) --public-key key.pub``: the shell
    passes ``/dev/fd/63``, a pipe. `_looks_like_a_ledger` opens it and its buffered
    ``readline`` drains the pipe (a whole small ledger); the verification that follows
    opens the same pipe, finds it empty, and an empty ledger verifies ('not-started'). The
    report then says 'Ledgers: verified against their signed checkpoints' over 0 scopes,
    exit 0, for a ledger of 3 scopes that, read whole, does not verify here (no
    checkpoints beside it: ``audit verify`` exits 1)."""
    ledger, public_key = _ledger_with_three_scopes(tmp_path)
    data = ledger.read_bytes()
    assert len(data) < 60_000  # fits in the pipe's buffer: no writer thread needed
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, data)
        os.close(write_end)
        write_end = -1
        capsys.readouterr()
        status = main(
            ["audit", "report", "--ledger", f"/dev/fd/{read_end}", "--public-key", str(public_key)]
        )
        said = capsys.readouterr().out
    finally:
        os.close(read_end)
        if write_end != -1:
            os.close(write_end)
    claims_verified_and_empty = status == 0 and "Scopes: 0" in said and "verified" in said
    assert not claims_verified_and_empty, said
