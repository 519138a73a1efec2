"""Nothing lost in a crash: a batch killed with SIGKILL at random points has every read that
returned before the last flush bound in its ledger.

The batch runs in a child process with a `Ledger` sink. After each read returns it writes
one line (person, field, monotonic time) to its stdout; the parent kills it at a random
moment, then checks the ledger against what the child said it read:

- the count bound: all but the last ``flush_reads - 1`` reads are in the ledger;
- the time bound: every read older than ``flush_seconds`` (and a margin for a loaded
  machine) at the kill is in the ledger. The batch pauses now and then, so some kills land
  where only the time bound can have sent the newest reads.

Bounded: a few kills, each within a few seconds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path

import pytest

from purposeful.audit import PseudonymKey

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

FLUSH_READS = 40
FLUSH_SECONDS = 0.3
#: how late the flusher may be on a loaded 2-core machine, beyond the bound itself
MARGIN = 0.7
KILLS = 6

BATCH = textwrap.dedent(
    """
    import sys, time
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    import purposeful
    from purposeful import SENSITIVE, Actor, ServiceAgreement
    from purposeful.audit import Ledger, PseudonymKey

    AGREEMENT = ServiceAgreement("Service delivery agreement")
    PURPOSE = "service-delivery.case-management"

    @purposeful.record(subject="client_id")
    class Client:
        client_id: str
        name: str = purposeful.field(purposes={PURPOSE: AGREEMENT})
        email: str = purposeful.field(purposes={PURPOSE: AGREEMENT})
        notes: str = purposeful.field(purposes={PURPOSE: AGREEMENT}, sensitivity=SENSITIVE)

    ledger_path, key_id, key_hex, flush_reads, flush_seconds = sys.argv[1:6]
    key = PseudonymKey(key_id, bytes.fromhex(key_hex))
    ledger = Ledger(ledger_path, signing_key=Ed25519PrivateKey.generate())
    purposeful.configure(
        sinks=[ledger],
        pseudonymise=key.pseudonym,
        flush_reads=int(flush_reads),
        flush_seconds=float(flush_seconds),
    )
    out = sys.stdout
    actor = Actor("batch-1", "batch", SENSITIVE)
    with purposeful.use(PURPOSE, actor=actor):
        for n in range(100_000):
            client = Client(f"P-{n}", "Aroha", "a@example.nz", "notes")
            for field in ("name", "email", "notes"):
                getattr(client, field)
                out.write(f"{n} {field} {time.monotonic()}\\n")
            out.flush()
            if n % 50 == 49:
                time.sleep(0.6)  # only the time bound can send what was read just before
            else:
                time.sleep(0.001)
    """
)


def _ledger_reads(path: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for raw in path.read_bytes().splitlines(keepends=True):
        if not raw.endswith(b"\n"):
            continue  # a line the kill cut short: it was never recorded
        line = json.loads(raw)
        if line["type"] == "scope":
            for pseudonym, positions in zip(line["subjects"], line["reads"], strict=True):
                found[pseudonym] |= {line["fields"][i] for i in positions}
    return found


def test_a_killed_batch_has_every_read_before_the_flush_bound_in_its_ledger(
    tmp_path: Path,
) -> None:
    key = PseudonymKey.generate()
    script = tmp_path / "batch.py"
    script.write_text(BATCH)
    rng = random.Random(20261202)
    checked = 0
    for kill in range(KILLS):
        ledger = tmp_path / f"audit-{kill}.jsonl"
        child = subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(ledger),
                key.key_id,
                key.secret.hex(),
                str(FLUSH_READS),
                str(FLUSH_SECONDS),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        wanted = rng.randrange(100, 900)  # reads before the kill: inside a pause, or not
        reads: list[tuple[int, str, float]] = []
        deadline = time.monotonic() + 30
        while len(reads) < wanted and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            n, field, at = line.split()
            reads.append((int(n), field, float(at)))
        time.sleep(rng.uniform(0, 0.8))
        killed_at = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
        rest, errors = child.communicate(timeout=30)
        for line in rest.splitlines():  # written before the kill, read after it
            n, field, at = line.split()
            reads.append((int(n), field, float(at)))
        assert child.returncode == -signal.SIGKILL, errors
        assert len(reads) >= 100, errors
        recorded = _ledger_reads(ledger)
        for index, (n, field, at) in enumerate(reads):
            due = index < len(reads) - (FLUSH_READS - 1) or at < killed_at - (
                FLUSH_SECONDS + MARGIN
            )
            if due:
                assert f"Client.{field}" in recorded.get(key.pseudonym(f"P-{n}"), set()), (
                    f"kill {kill}: read {index} of {len(reads)} (person {n}, {field}, "
                    f"{killed_at - at:.2f} s before the kill) is not in the ledger"
                )
                checked += 1
    assert checked > KILLS * 50
