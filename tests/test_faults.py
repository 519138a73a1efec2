"""Faults under the durable stores: a writer killed mid-write, and a disk that fills.

Each SQLite store (consent, sharing, corrections) is written by a child process that prints
the id of each write once the store has returned, so the parent knows what was committed. The parent
kills the child with SIGKILL at a random moment, a bounded number of times, and after each
kill opens the same file afresh: it must open without help, pass its own full check
(`verify`), and hold every committed write exactly once. A second child writes under a file
size limit (``RLIMIT_FSIZE``, as a full disk does): the write that does not fit is a typed
error of `purposeful.errors`, and the file keeps every write before it, and verifies.

(The ledger's own crash tests are in tests/audit/test_ledger_recovery.py; a hung or
unreachable PostgreSQL server's in tests/_shared/test_postgres_timeouts.py.)
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from purposeful.consent import SQLiteConsentStore
from purposeful.corrections import SQLiteCorrectionStore
from purposeful.sharing import SQLiteSharingStore

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="SIGKILL and RLIMIT_FSIZE are POSIX"
)

KILLS = 6
#: What the child runs: writes for ever (or until a write fails), printing each id.
WRITER = """
import os, signal, sys, resource
from datetime import UTC, datetime
kind, path, run, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if limit:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from purposeful.errors import PurposefulError
if kind == "consent":
    from purposeful.consent import SQLiteConsentStore
    store = SQLiteConsentStore(path)
    def write(n):
        return store.give(f"C-{run}-{n}", "research", notice_version="v" * 200).event_id
elif kind == "corrections":
    import purposeful
    from purposeful.corrections import SQLiteCorrectionStore

    @purposeful.record(subject="client_id")
    class FaultNote:
        client_id: str
        text: str = purposeful.field(purposes={"service-delivery": purposeful.CONSENT})

    store = SQLiteCorrectionStore(path)
    def write(n):
        note = FaultNote(f"C-{run}-{n}", "as recorded")
        return store.request_correction(
            f"C-{run}-{n}", note, "text", requested="as it was", reason="r" * 200
        ).id
else:
    from purposeful.sharing import SQLiteSharingStore
    from purposeful.sharing.values import Disclosure
    from purposeful.sharing.values import new_id
    store = SQLiteSharingStore(path)
    def write(n):
        made = Disclosure(
            id=new_id(), subject=f"C-{run}-{n}", at=datetime.now(UTC), recipient="Kainga Ora",
            agreement="housing", agreement_name="Housing", purpose="service-delivery.referral",
            basis="IPP 11(1)(c)", record_type="Client", record_key=f"K-{n}",
            fields=("name",), statements=(),
        )
        return store.log(made).id
print("ready", flush=True)
n = 0
while True:
    try:
        ident = write(n)
    except PurposefulError as error:
        print("error", type(error).__name__, flush=True)
        break
    print(f"C-{run}-{n}", ident, flush=True)
    n += 1
"""


def _child(kind: str, path: Path, run: int, limit: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, kind, str(path), str(run), str(limit)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _committed(output: str) -> dict[str, str]:
    """subject → id of every write the child saw return (a torn last line is not one)."""
    found = {}
    for line in output.splitlines(keepends=True):
        parts = line.split()
        if line.endswith("\n") and len(parts) == 2 and parts[0].startswith("C-"):
            found[parts[0]] = parts[1]
    return found


def _held(kind: str, path: Path, subject: str) -> list[str]:
    if kind == "corrections":
        with SQLiteCorrectionStore(path) as corrections:
            corrections.verify()
            return [correction.id for correction in corrections.for_subject(subject)]
    if kind == "consent":
        with SQLiteConsentStore(path) as store:
            store.verify()
            return [event.event_id for event in store.history(subject)]
    with SQLiteSharingStore(path) as store:
        store.verify()
        return [disclosure.id for disclosure in store.disclosures(subject)]


@pytest.mark.parametrize("kind", ["consent", "sharing", "corrections"])
def test_a_writer_killed_at_any_moment_loses_and_doubles_no_committed_write(
    kind: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{kind}.sqlite3"
    rng = random.Random(20261202)
    committed: dict[str, str] = {}
    for run in range(KILLS):
        child = _child(kind, path, run)
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n", child.stderr.read() if child.stderr else ""
        time.sleep(rng.uniform(0.05, 0.4))
        os.kill(child.pid, signal.SIGKILL)
        output, _ = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        committed.update(_committed(output))
    assert committed, "no write was committed before a kill: the test proves nothing"
    for subject, ident in committed.items():
        assert _held(kind, path, subject) == [ident]


@pytest.mark.parametrize("kind", ["consent", "sharing", "corrections"])
def test_a_full_disk_is_a_typed_error_and_the_store_keeps_every_write_before_it(
    kind: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{kind}.sqlite3"
    opened = {
        "consent": SQLiteConsentStore,
        "sharing": SQLiteSharingStore,
        "corrections": SQLiteCorrectionStore,
    }[kind](path)
    opened.close()
    limit = path.stat().st_size + 256 * 1024
    child = _child(kind, path, 0, limit)
    output, errors = child.communicate(timeout=120)
    assert child.returncode == 0, errors[-2000:]
    last = output.splitlines()[-1].split()
    assert last[0] == "error", output[-500:]
    assert last[1] in {
        "ConsentStoreError",
        "SharingStoreError",
        "CorrectionStoreError",
        "StoreError",
        "StoreUnavailable",
    }
    assert "Traceback" not in errors
    committed = _committed(output)
    assert len(committed) > 10  # the limit left room for some writes first
    for subject, ident in committed.items():
        assert _held(kind, path, subject) == [ident]
