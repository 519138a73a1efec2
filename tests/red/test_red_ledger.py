"""Red team: a side file planted beside a whole, closed ledger is recorded in the chain as a
torn line a crash set aside."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import purposeful
from purposeful import SENSITIVE, Actor, ServiceAgreement
from purposeful.audit import Ledger, verify_ledger

AGREEMENT = ServiceAgreement("Service delivery agreement")


@purposeful.record(subject="client_id")
class RedLedgerClient:
    client_id: str
    region: str = purposeful.field(purposes={"service-delivery": AGREEMENT})


def _closed_ledger(path: Path, key: Ed25519PrivateKey) -> int:
    ledger = Ledger(path, signing_key=key)
    purposeful.configure(sinks=[ledger])
    with purposeful.use("service-delivery", actor=Actor("staff-1", "caseworker", SENSITIVE)):
        _ = RedLedgerClient("C-1", "x").region
    purposeful.configure(sinks=[])
    ledger.close()
    return len(path.read_bytes().splitlines())


def _types(path: Path) -> list[str]:
    return [json.loads(line)["type"] for line in path.read_text().splitlines()]


def test_red_planted_side_file_beside_a_closed_ledger_is_not_recorded_as_a_crash(
    tmp_path: Path,
) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "audit.jsonl"
    next_seq = _closed_ledger(path, key)
    # no crash: the ledger is whole and its writer closed it. Someone who can write in the
    # folder plants a "torn line" of their choosing for the next seq.
    (tmp_path / f"audit.jsonl.torn-{next_seq}-planted").write_bytes(
        b'{"actor":"staff-0042","purpose":"care-and-protection","decisions":[{"field":"risk"'
    )
    with Ledger(path, signing_key=key):
        pass
    # the chain must not say that a writer set aside a torn line after a crash
    assert "recovery" not in _types(path)
    result = verify_ledger(path, key.public_key())
    assert not result.notes, result.notes


def test_red_several_side_files_for_one_torn_seq_are_not_all_recorded(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "audit.jsonl"
    next_seq = _closed_ledger(path, key)
    for n in range(3):  # one seq can have been torn once at most
        (tmp_path / f"audit.jsonl.torn-{next_seq}-{n}").write_bytes(b'{"actor":"x%d"' % n)
    with Ledger(path, signing_key=key):
        pass
    assert _types(path).count("recovery") <= 1
