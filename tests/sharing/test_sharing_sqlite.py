"""The SQLite sharing store's file: reopening it, its marks and indexes, files that are not
a sharing store, rows changed outside purposeful, and several processes at once. The
behaviour every sharing store shares is in test_sharing_stores.py.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from _sharing import (
    DAY,
    KEY,
    NZ,
    OTHER,
    POLICE,
    SUBJECT,
    T0,
    collect,
    disclosure,
)

from purposeful.consent.sqlite import SQLiteConsentStore
from purposeful.errors import (
    StoreCorrupt,
)
from purposeful.sharing import (
    CollectionStatus,
)
from purposeful.sharing.ipp3a import IPP3AException
from purposeful.sharing.sqlite import APPLICATION_ID, SQLiteSharingStore
from purposeful.sharing.values import new_id

# --- the SQLite file ---


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_reopening_the_file_gives_back_everything_equal(sqlite_path: Path) -> None:
    with SQLiteSharingStore(sqlite_path) as store:
        made = store.log(disclosure(statements=(new_id(),), at=T0.astimezone(NZ)))
        theirs = store.log(disclosure(subject=OTHER, recipient=POLICE))
        correction = new_id()
        told = store.record_told(made.id, correction, how="email ☃", at=T0 + DAY)
        pending = collect(store)
        excepted = store.mark_exception(
            collect(store, at=T0 - DAY).id, exception=IPP3AException.ALREADY_AWARE
        )
    with SQLiteSharingStore(sqlite_path, synchronous="NORMAL") as store:
        assert store.path == sqlite_path.absolute()
        assert store.disclosures(SUBJECT) == [made]
        assert store.disclosures(OTHER) == [theirs]
        assert store.notices(correction) == [told]
        assert store.still_to_tell(correction, SUBJECT, "Note", KEY, "address") == []
        assert store.collections(SUBJECT) == [excepted, pending]
        assert store.still_to_be_told() == [pending]


def test_the_file_is_marked_as_a_sharing_store_and_its_indexes_are_used(
    sqlite_store: SQLiteSharingStore, sqlite_path: Path
) -> None:
    connection = raw(sqlite_path)
    try:
        assert connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 4
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        plans = [
            str(connection.execute(f"EXPLAIN QUERY PLAN {query}", parameters).fetchall())
            for query, parameters in [
                ("SELECT * FROM disclosures WHERE subject = ? ORDER BY at_us, seq", ("s",)),
                (
                    "SELECT * FROM disclosures WHERE subject = ? AND record_type = ? "
                    "AND record_key = ? ORDER BY at_us, seq",
                    ("s", "Note", "k"),
                ),
                (
                    "SELECT * FROM correction_notices WHERE correction_id = ? "
                    "ORDER BY told_us, seq",
                    ("c",),
                ),
                (
                    "SELECT * FROM collections WHERE subject = ? ORDER BY collected_us, seq",
                    ("s",),
                ),
                (
                    "SELECT * FROM collections WHERE status = 'to-tell' ORDER BY collected_us, seq",
                    (),
                ),
                (
                    "SELECT * FROM provenance WHERE subject = ? ORDER BY received_us, seq",
                    ("s",),
                ),
            ]
        ]
    finally:
        connection.close()
    for plan, index in zip(
        plans,
        [
            "disclosures_by_subject",
            "disclosures_by_record",
            "correction_notices_by_correction",
            "collections_by_subject",
            "collections_to_tell",
            "provenance_by_subject",
        ],
        strict=True,
    ):
        assert index in plan
    assert APPLICATION_ID.to_bytes(4, "big") == b"PuSh"


def test_a_consent_store_file_is_refused_and_left_alone(sqlite_path: Path) -> None:
    with SQLiteConsentStore(sqlite_path) as consent:
        consent.give(SUBJECT, "research", at=T0)
    before = sqlite_path.read_bytes()
    with pytest.raises(StoreCorrupt, match="not a purposeful sharing store") as caught:
        SQLiteSharingStore(sqlite_path)
    assert str(sqlite_path) in str(caught.value)
    assert sqlite_path.read_bytes() == before


def test_another_applications_database_is_refused_and_left_alone(sqlite_path: Path) -> None:
    connection = raw(sqlite_path)
    connection.execute("CREATE TABLE invoices (amount INTEGER)")
    connection.execute("INSERT INTO invoices VALUES (12)")
    connection.close()
    before = sqlite_path.read_bytes()
    with pytest.raises(StoreCorrupt, match="check the path"):
        SQLiteSharingStore(sqlite_path)
    assert sqlite_path.read_bytes() == before


def test_a_sharing_store_file_is_no_consent_store(sqlite_path: Path) -> None:
    SQLiteSharingStore(sqlite_path).close()
    before = sqlite_path.read_bytes()
    with pytest.raises(StoreCorrupt, match="not a purposeful consent store"):
        SQLiteConsentStore(sqlite_path)
    assert sqlite_path.read_bytes() == before


@pytest.mark.parametrize(
    ("tamper", "what"),
    [
        ("UPDATE disclosures SET fields = 'address ☃'", "a disclosure"),
        ("UPDATE disclosures SET fields = '[\"not a name ☃\"]'", "a disclosure"),
        ("UPDATE disclosures SET basis = x'e29883'", "a disclosure"),
        ("UPDATE correction_notices SET how = x'e29883'", "a correction notice"),
        ("UPDATE collections SET status = 'maybe-☃'", "a collection"),
        ("UPDATE collections SET how = 'told ☃'", "a collection"),
    ],
    ids=["fields", "field-name", "basis", "how", "status", "how-without-status"],
)
def test_a_row_changed_outside_purposeful_is_reported_without_its_content(
    sqlite_store: SQLiteSharingStore, sqlite_path: Path, tamper: str, what: str
) -> None:
    made = sqlite_store.log(disclosure())
    correction = new_id()
    sqlite_store.record_told(made.id, correction, how="email")
    collected = collect(sqlite_store)
    connection = raw(sqlite_path)
    connection.execute(tamper)
    connection.close()
    calls: dict[str, list[Callable[[], object]]] = {
        "a disclosure": [
            lambda: sqlite_store.disclosures(SUBJECT),
            lambda: sqlite_store.log(made),
            lambda: sqlite_store.record_told(made.id, new_id(), how="email"),
        ],
        "a correction notice": [lambda: sqlite_store.notices(correction)],
        "a collection": [
            lambda: sqlite_store.collections(SUBJECT),
            lambda: sqlite_store.mark_told(collected.id, how="letter"),
        ],
    }
    for call in calls[what]:
        with pytest.raises(StoreCorrupt, match=f"{what} that cannot be read") as caught:
            call()
        assert SUBJECT not in str(caught.value)
        assert "☃" not in str(caught.value)
        assert caught.value.__cause__ is None


WORKER = """
import sys

from purposeful.errors import SharingStoreError
from purposeful.sharing import IPP3AException
from purposeful.sharing.sqlite import SQLiteSharingStore

mode, path, *ids = sys.argv[1:]
with SQLiteSharingStore(path, timeout=20.0) as store:
    print("ready", flush=True)
    sys.stdin.readline()
    for ident in ids if mode == "told" else reversed(ids):
        try:
            if mode == "told":
                store.mark_told(ident, how="letter")
            else:
                store.mark_exception(ident, exception=IPP3AException.ALREADY_AWARE)
        except SharingStoreError:
            print("refused", ident, flush=True)
        else:
            print("won", ident, flush=True)
"""


def test_two_processes_resolving_the_same_collections_leave_one_winner_each(
    sqlite_path: Path, tmp_path: Path
) -> None:
    with SQLiteSharingStore(sqlite_path) as store:
        ids = [collect(store, record_key=f"R-{n}", at=T0).id for n in range(8)]
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
        for mode in ("told", "exception")
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
    assert won[0] | won[1] == set(ids)
    assert not won[0] & won[1]
    assert refused == [won[1], won[0]]
    with SQLiteSharingStore(sqlite_path) as store:
        assert store.still_to_be_told() == []
        for collected in store.collections(SUBJECT):
            expected = (
                CollectionStatus.TOLD if collected.id in won[0] else CollectionStatus.EXCEPTION
            )
            assert collected.status is expected
