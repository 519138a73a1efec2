"""Benchmarks for the ledger: verifying it, and one person's access history from it.

    python benchmarks/ledger_bench.py              # "small": seconds, for CI
    python benchmarks/ledger_bench.py --scale full # the issue's sizes

What is measured:

- ``ledger_verify_lines_per_s``: `purposeful.audit.verify_ledger` over a ledger of scope
  lines of about 1.1 KB (each names a caseworker, a purpose, 4 decisions, 4 people of a
  fixed population and what was read from each), written by the library's own `Ledger`
  with a checkpoint every 1,000 lines: lines verified per second, the median of
  ``repeat`` runs;
- ``bundle_access_history_ms``: one person's access history for a subject-access bundle
  (`purposeful.audit.access_history` with the ledger's public key, as
  `purposeful.access.SubjectAccess` asks it when given ``ledger_public_key``) against that
  ledger, once its index was written (as ``audit verify`` writes it; the first history
  writes it too, at the cost of a full verification): milliseconds, the median of
  ``repeat`` runs, each for another person. Each run still verifies what the index does
  not cover and checks every line it reads.

"small" is a ledger of 5,000 lines; "full" is 100,000 lines (about 110 MB). The ledgers
are written once and cached in the system's temporary directory
(``purposeful-ledger-bench-<lines>``), keys included, so later runs measure only reading.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from purposeful import SENSITIVE, Actor, Decision, Outcome, Purpose, ScopeReport
from purposeful.audit import Ledger, PseudonymKey, verify_ledger
from purposeful.audit.history import SubjectQuery, access_history
from purposeful.audit.ledger import default_index_path

SCALES: Final = {"small": 5_000, "full": 100_000}
PEOPLE: Final = 20_000
STAFF: Final = 200
PER_SCOPE: Final = 4
FIELDS: Final = (
    "CaseNote.text",
    "Client.address",
    "Client.date_of_birth",
    "Client.name",
    "Health.diagnosis",
    "Health.medication",
)


_PURPOSES: Final = tuple(
    Purpose(id, title=title, description=title, benefit=title)
    for id, title in (
        ("service-delivery.case-management", "Case management"),
        ("service-delivery.assessment", "Assessment"),
    )
)


def _report(number: int, key: PseudonymKey, start: datetime) -> ScopeReport:
    purpose = _PURPOSES[number % 2]
    actor = Actor(f"staff-{number % STAFF:04d}", role="caseworker", clearance=SENSITIVE)
    people = [f"client-{(number * 7919 + i * 104_729) % PEOPLE:06d}" for i in range(PER_SCOPE)]
    pseudonyms = [key.pseudonym(person) for person in people]
    decisions = tuple(
        Decision(
            outcome=Outcome.ALLOWED,
            record_type=field.partition(".")[0],
            field=field.partition(".")[2],
            purpose=purpose,
            actor=actor,
            sensitivity=SENSITIVE,
        )
        for field in FIELDS[number % 3 : number % 3 + 3]
    )
    read = frozenset(FIELDS[number % 3 : number % 3 + 3])
    opened = start + timedelta(seconds=number)
    return ScopeReport(
        purpose=purpose,
        actor=actor,
        opened_at=opened,
        closed_at=opened + timedelta(milliseconds=40),
        decisions=decisions,
        subject_count=len(pseudonyms),
        subjects=frozenset(pseudonyms),
        scope_id=f"{number:032x}",
        fields_read=read,
        reads=dict.fromkeys(pseudonyms, read),
    )


class _Ledger:
    """A cached benchmark ledger: its file, its keys, and the people it names."""

    def __init__(self, lines: int) -> None:
        self.folder = Path(tempfile.gettempdir()) / f"purposeful-ledger-bench-{lines}"
        self.path = self.folder / "audit.jsonl"
        self.lines = lines
        done = self.folder / "complete"
        if not done.exists():
            self._write()
            done.write_text("ok\n")
        keys = json.loads((self.folder / "keys.json").read_text())
        self.pseudonym_key = PseudonymKey(keys["key_id"], bytes.fromhex(keys["secret"]))
        self.public_key = serialization.load_pem_public_key(keys["public"].encode())

    def _write(self) -> None:
        self.folder.mkdir(exist_ok=True)
        for stale in self.folder.iterdir():
            stale.unlink()
        signing = Ed25519PrivateKey.generate()
        key = PseudonymKey.generate()
        public = signing.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        keys = {"key_id": key.key_id, "secret": key.secret.hex(), "public": public.decode()}
        (self.folder / "keys.json").write_text(json.dumps(keys))
        start = datetime(2026, 7, 1, tzinfo=UTC)
        with Ledger(self.path, signing_key=signing, fsync="checkpoint") as ledger:
            for number in range(1, self.lines + 1):
                ledger.emit(_report(number, key, start))

    def person(self, number: int) -> str:
        """A person the ledger names (the one of scope *number*)."""
        return f"client-{(number * 7919) % PEOPLE:06d}"


def measure(scale: str = "small", repeat: int = 5) -> dict[str, float]:
    """``ledger_verify_lines_per_s`` and ``bundle_access_history_ms`` (module docstring)."""
    ledger = _Ledger(SCALES[scale])
    rates = []
    for _ in range(max(repeat, 3)):
        began = time.perf_counter()
        result = verify_ledger(ledger.path, ledger.public_key)
        rates.append(result.lines_checked / (time.perf_counter() - began))
        assert result.ok, result.describe()
    assert verify_ledger(ledger.path, ledger.public_key, index=default_index_path(ledger.path)).ok
    times = []
    for run in range(max(repeat, 3)):
        query = SubjectQuery.for_subject(ledger.person(run + 1), [ledger.pseudonym_key])
        began = time.perf_counter()
        answer = access_history(query, [ledger.path], public_key=ledger.public_key)
        times.append((time.perf_counter() - began) * 1000)
        assert answer.accesses, "the person asked about is in the ledger"
    return {
        "ledger_verify_lines_per_s": round(statistics.median(rates)),
        "bundle_access_history_ms": round(statistics.median(times), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(measure(args.scale, args.repeat), indent=2))


if __name__ == "__main__":
    main()
