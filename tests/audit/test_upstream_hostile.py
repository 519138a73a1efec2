"""An upstream scope read from a trace file or a ledger is what `Upstream` accepts, or the
input is refused: no free text reaches the report through it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, case
from purposeful import use
from purposeful.audit import Ledger
from purposeful.audit.conventions import LedgerKey
from purposeful.audit.report import build_report
from purposeful.decisions import Upstream
from purposeful.errors import ReportInputError


@pytest.mark.parametrize(
    "upstream",
    [
        {"service": "", "scope": ""},
        {"service": "intake", "scope": ""},
        {"service": "in\ntake", "scope": "x" * 5000},
    ],
)
def test_a_ledger_upstream_the_span_reader_or_upstream_would_refuse_is_an_input_error(
    tmp_path: Path, upstream: dict[str, str]
) -> None:
    """A ledger line's upstream must be one `Upstream` accepts, as in a span: an empty, multi-line
    or overlong one is a ReportInputError."""
    path = tmp_path / "audit.jsonl"
    with Ledger(path, signing_key=Ed25519PrivateKey.generate()) as ledger:
        purposeful.configure(sinks=[ledger])
        with use(CASE_MANAGEMENT, actor=CASEWORKER) as caller:  # a real scope id
            pass
        with use(CASE_MANAGEMENT, actor=CASEWORKER, upstream=Upstream("intake", caller.id)):
            _ = case(client_id="C-1").diagnosis
    damaged = [json.loads(line) for line in path.read_text().splitlines()]
    for line in damaged:
        if line.get(LedgerKey.TYPE) == "scope":
            line[LedgerKey.UPSTREAM] = upstream
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(json.dumps(line) + "\n" for line in damaged))
    with pytest.raises(ReportInputError):
        build_report(ledgers=[broken])
