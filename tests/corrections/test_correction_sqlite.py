"""The SQLite correction store's file: reopening it, its marks and indexes, files that are
not a correction store, rows changed outside purposeful, and several processes deciding at
once. The behaviour every correction store shares is in test_correction_stores.py.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from _corrections import (
    DAY,
    NZ,
    OFFICER,
    OTHER,
    SUBJECT,
    T0,
    ask,
    note,
    nothing,
)

from purposeful.consent.sqlite import SQLiteConsentStore
from purposeful.corrections import (
    CorrectionStatus,
    SQLiteCorrectionStore,
)
from purposeful.corrections.sqlite import APPLICATION_ID
from purposeful.errors import (
    StoreCorrupt,
)

# --- the SQLite file ---


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_reopening_the_file_gives_back_every_correction_equal(sqlite_path: Path) -> None:
    with SQLiteCorrectionStore(sqlite_path) as store:
        pending = ask(store, at=T0.astimezone(NZ))
        applied = store.apply(ask(store).id, nothing, by=OFFICER, note="done", at=T0 + DAY)
        declined = store.decline(
            ask(store, at=T0 + timedelta(microseconds=1)).id,
            by=OFFICER,
            reason="verified",
            at=T0 + DAY,
        )
        stated = store.attach_statement(declined.id, "I disagree ☃", at=T0 + 2 * DAY)
        theirs = ask(store, note(OTHER), subject=OTHER)
    with SQLiteCorrectionStore(sqlite_path, synchronous="NORMAL") as store:
        assert store.path == sqlite_path.absolute()
        assert store.for_subject(SUBJECT) == [pending, applied, stated]
        assert store.for_subject(OTHER) == [theirs]
        assert store.pending() == [pending, theirs]
        assert store.statements(SUBJECT) == [stated]
        assert store.get(stated.id).statement_at == T0 + 2 * DAY


def test_the_file_is_marked_as_a_correction_store(
    sqlite_store: SQLiteCorrectionStore, sqlite_path: Path
) -> None:
    connection = raw(sqlite_path)
    try:
        assert connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 1
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        plan = connection.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM corrections WHERE subject = ? "
            "ORDER BY requested_us, seq",
            (SUBJECT,),
        ).fetchall()
    finally:
        connection.close()
    assert "corrections_by_subject" in str(plan)
    assert APPLICATION_ID.to_bytes(4, "big") == b"PuCr"


def test_a_consent_store_file_is_refused_and_left_alone(sqlite_path: Path) -> None:
    with SQLiteConsentStore(sqlite_path) as consent:
        consent.give(SUBJECT, "research", at=T0)
    before = sqlite_path.read_bytes()
    with pytest.raises(StoreCorrupt, match="not a purposeful correction store") as caught:
        SQLiteCorrectionStore(sqlite_path)
    assert str(sqlite_path) in str(caught.value)
    assert sqlite_path.read_bytes() == before


def test_another_applications_database_is_refused_and_left_alone(sqlite_path: Path) -> None:
    connection = raw(sqlite_path)
    connection.execute("CREATE TABLE invoices (amount INTEGER)")
    connection.execute("INSERT INTO invoices VALUES (12)")
    connection.close()
    before = sqlite_path.read_bytes()
    with pytest.raises(StoreCorrupt, match="check the path"):
        SQLiteCorrectionStore(sqlite_path)
    assert sqlite_path.read_bytes() == before


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE corrections SET status = 'maybe-☃'",
        "UPDATE corrections SET reason = x'e29883'",
        "UPDATE corrections SET decided_by = x'e29883'",
    ],
    ids=["status", "reason", "decided-by"],
)
def test_a_row_changed_outside_purposeful_is_reported_without_its_content(
    sqlite_store: SQLiteCorrectionStore, sqlite_path: Path, tamper: str
) -> None:
    made = ask(sqlite_store)
    connection = raw(sqlite_path)
    connection.execute(tamper)
    connection.close()
    for call in (lambda: sqlite_store.get(made.id), lambda: sqlite_store.for_subject(SUBJECT)):
        with pytest.raises(StoreCorrupt, match="a correction that cannot be read") as caught:
            call()
        assert SUBJECT not in str(caught.value)
        assert "☃" not in str(caught.value)
        assert caught.value.__cause__ is None


WORKER = """
import sys
import time

from purposeful.corrections import SQLiteCorrectionStore
from purposeful.errors import InvalidCorrection


def update(correction):
    print("updated", correction.id, flush=True)
    time.sleep(0.02)


mode, path, *ids = sys.argv[1:]
with SQLiteCorrectionStore(path, timeout=20.0) as store:
    print("ready", flush=True)
    sys.stdin.readline()
    for ident in ids if mode == "apply" else reversed(ids):
        try:
            if mode == "apply":
                store.apply(ident, update, by="staff-apply")
            else:
                store.decline(ident, by="staff-decline", reason="accurate as it stands")
        except InvalidCorrection:
            print("refused", ident, flush=True)
        else:
            print("won", ident, flush=True)
"""


def test_two_processes_deciding_the_same_requests_leave_exactly_one_winner_each(
    sqlite_path: Path, tmp_path: Path
) -> None:
    with SQLiteCorrectionStore(sqlite_path) as store:
        ids = [ask(store, note(note_id=f"N-{n}")).id for n in range(6)]
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), mode, str(sqlite_path), *ids],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("apply", "decline")
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready", worker.communicate(timeout=10)
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = [worker.communicate(timeout=60) for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=10)
    assert [worker.returncode for worker in workers] == [0, 0], [err for _, err in results]
    lines = [[line.split() for line in out.splitlines()] for out, _ in results]
    won = [{ident for word, ident in printed if word == "won"} for printed in lines]
    refused = [{ident for word, ident in printed if word == "refused"} for printed in lines]
    updated = {ident for word, ident in lines[0] if word == "updated"}
    assert won[0] | won[1] == set(ids)
    assert not won[0] & won[1]
    assert refused == [won[1], won[0]]
    assert updated == won[0]  # the applier's callback ran exactly where it won
    with SQLiteCorrectionStore(sqlite_path) as store:
        for ident in ids:
            decided = store.get(ident)
            expected = CorrectionStatus.APPLIED if ident in won[0] else CorrectionStatus.DECLINED
            assert decided.status is expected
