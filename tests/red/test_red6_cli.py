"""Red team 6: ``audit report --ledger ... --public-key`` since the ledgers' first lines are
read before any is verified (`_looks_like_a_ledger`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from purposeful.cli import main
from test_cli import _ledger_with_three_scopes


@pytest.mark.parametrize("damage", ["truncated", "edited"])
def test_a_ledger_with_a_damaged_header_is_reported_as_not_verifying(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """A signed ledger whose header line was cut short or edited into invalid JSON is a
    ledger that does not verify (``audit verify``: 'malformed', exit 1), and before the
    fifth round ``audit report --public-key`` said so too ('may have been edited', exit
    1). `_looks_like_a_ledger` now reads the first line before verifying, and the parse
    error is raised as a usage error (exit 2) telling the operator 'a ledger has one JSON
    object a line', as if they had passed the wrong file: a damaged ledger is no longer
    called one, and automation that alerts on exit 1 sees a typo."""
    ledger, public_key = _ledger_with_three_scopes(tmp_path)
    lines = ledger.read_bytes().splitlines(keepends=True)
    if damage == "truncated":
        lines[0] = lines[0][: len(lines[0]) // 2] + b"\n"
    else:
        lines[0] = lines[0].replace(b'"', b"'", 1)
    ledger.write_bytes(b"".join(lines))
    capsys.readouterr()
    assert main(["audit", "verify", str(ledger), "--public-key", str(public_key)]) == 1
    capsys.readouterr()
    status = main(["audit", "report", "--ledger", str(ledger), "--public-key", str(public_key)])
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert status == 1, said
    assert "may have been edited" in said, said
