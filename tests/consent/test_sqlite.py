"""What only the SQLite consent store must do: the file, its schema, processes and threads.

The behaviour every store shares (the effect-time rules, the helpers, expiry) is tested in
``test_stores.py`` through the ``store`` fixture.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purposeful.consent import (
    Agency,
    ConsentEvent,
    ConsentMethod,
    ConsentState,
    Incapacity,
    Relationship,
    Representative,
    export_records,
)
from purposeful.consent import sqlite as sqlite_module
from purposeful.consent.rules import check_fits, status_at
from purposeful.consent.sqlite import APPLICATION_ID, SQLiteConsentStore
from purposeful.errors import (
    ConfigurationError,
    ConsentStoreError,
    InvalidConsentEvent,
    StoreClosed,
    StoreCorrupt,
    StoreUnavailable,
    StoreVersionError,
)
from purposeful.testing.strategies import DEFAULT_SUBJECTS, consent_histories

WORKER = Path(__file__).with_name("_sqlite_worker.py")
SECRET = "subject-☃-private"  # a subject id that must never show in a message
T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection to the file, to look at what the store wrote."""
    return sqlite3.connect(path, isolation_level=None)


def pragma(path: Path, name: str) -> Any:
    connection = raw(path)
    try:
        return connection.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        connection.close()


def row_count(path: Path) -> int:
    connection = raw(path)
    try:
        count: int = connection.execute("SELECT count(*) FROM consent_events").fetchone()[0]
        return count
    finally:
        connection.close()


#: As the fixtures' stores (conftest): these tests record histories made up over the years.
FAR_AHEAD = timedelta(days=365 * 200)


@pytest.fixture
def opened(sqlite_path: Path) -> Iterator[Callable[..., SQLiteConsentStore]]:
    """Open stores on the test's file; every one is closed at the end."""
    stores: list[SQLiteConsentStore] = []

    def open_store(path: Path = sqlite_path, **options: Any) -> SQLiteConsentStore:
        options.setdefault("future_skew", FAR_AHEAD)  # histories made up over the years
        store = SQLiteConsentStore(path, **options)
        stores.append(store)
        return store

    yield open_store
    for store in stores:
        store.close()


def every_kind_of_event() -> list[ConsentEvent]:
    parent = Representative(
        Relationship.PARENT, "FAM-2024-485-000321", "staff-17", T0 - timedelta(days=2)
    )
    attorney = Representative(
        Relationship.PERSONAL_CARE_ATTORNEY,
        "EPA-2019-0042",
        "staff-17",
        T0.astimezone(timezone(timedelta(hours=13))),
        Incapacity(T0 - timedelta(days=30, microseconds=1), "cert:2025-0091"),
    )
    return [
        ConsentEvent(
            SECRET,
            "research",
            ConsentState.GIVEN,
            T0,
            by=parent,
            method=ConsentMethod.ONLINE,
            notice_version="2026-02",
            expires_at=T0 + timedelta(days=365, microseconds=1),
            evidence="form 7/123",
        ),
        ConsentEvent(
            SECRET,
            "research",
            ConsentState.RENEWED,
            T0.astimezone(timezone(timedelta(hours=13))) + timedelta(days=300),
            by=attorney,
            method=ConsentMethod.VERBAL_RECORDED_BY_STAFF,
            expires_at=T0 + timedelta(days=700),
        ),
        ConsentEvent(SECRET, "service-delivery.referral", ConsentState.REFUSED, T0),
        ConsentEvent(SECRET, "service-delivery", ConsentState.GIVEN, T0 - timedelta(days=1)),
        ConsentEvent(
            SECRET,
            "service-delivery",
            ConsentState.REVOKED,
            T0,
            by=Agency("staff-17", "consent was obtained without a current notice"),
        ),
        ConsentEvent(SECRET, "research", ConsentState.WITHDRAWN, T0 + timedelta(days=400)),
    ]


# --- the file ---


def test_the_file_is_in_wal_mode_with_schema_version_and_application_id(
    sqlite_store: SQLiteConsentStore, sqlite_path: Path
) -> None:
    assert pragma(sqlite_path, "journal_mode") == "wal"
    assert pragma(sqlite_path, "user_version") == len(sqlite_module._MIGRATIONS) == 2
    assert pragma(sqlite_path, "application_id") == APPLICATION_ID


@pytest.mark.parametrize(("synchronous", "level"), [("FULL", 2), ("normal", 1), ("EXTRA", 3)])
def test_synchronous_is_applied(
    opened: Callable[..., SQLiteConsentStore], synchronous: str, level: int
) -> None:
    store = opened(synchronous=synchronous)
    assert store._file._connection is not None
    assert store._file._connection.execute("PRAGMA synchronous").fetchone()[0] == level


@pytest.mark.parametrize(
    "options", [{"synchronous": "OFF"}, {"synchronous": 2}, {"timeout": -1}, {"timeout": "5"}]
)
def test_unsafe_or_malformed_settings_are_refused(sqlite_path: Path, options: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"SQLiteConsentStore\("):
        SQLiteConsentStore(sqlite_path, **options)
    assert not sqlite_path.exists()


def test_a_missing_directory_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "not-yet" / "consent.sqlite3"
    with pytest.raises(ConsentStoreError, match="does not exist; create it first") as caught:
        SQLiteConsentStore(path)
    assert str(path.parent) in str(caught.value)
    assert not path.parent.exists()


def test_a_directory_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(ConsentStoreError, match="it is a directory"):
        SQLiteConsentStore(tmp_path)


def test_status_and_expiry_queries_use_their_indexes(sqlite_store: SQLiteConsentStore) -> None:
    connection = sqlite_store._file._connection
    assert connection is not None

    def plan(sql: str, parameters: Sequence[Any]) -> str:
        rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters).fetchall()
        return " ".join(str(row[-1]) for row in rows)

    status = plan(sqlite_module._for_purposes(2), ("s", "a.b", "a"))
    assert "USING INDEX consent_events_by_subject (subject=? AND purpose=?)" in status
    assert "consent_events_by_expiry" in plan(sqlite_module._EXPIRING, (0, 1))


# --- what is stored ---


def test_reopening_the_file_gives_back_every_event_equal(
    opened: Callable[..., SQLiteConsentStore],
) -> None:
    events = every_kind_of_event()
    store = opened()
    for event in events:
        store.record(event)
    store.close()

    again = opened()
    assert again.history(SECRET) == events
    assert all(e.at.tzinfo is UTC for e in again.history(SECRET))
    assert again.export(SECRET) == export_records(events, again.registry)
    assert again.consent_status(SECRET, "service-delivery.referral", T0) == status_at(
        events, "service-delivery.referral", T0
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    at=st.datetimes(  # the times purposeful records: 1970 to 2199, less a lifetime
        min_value=datetime(1970, 1, 2),
        max_value=datetime(2188, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=12, minutes=45))]),
    ),
    lifetime=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=4000)),
)
def test_times_round_trip_to_the_microsecond(
    sqlite_store: SQLiteConsentStore, at: datetime, lifetime: timedelta
) -> None:
    event = ConsentEvent("someone", "research", ConsentState.GIVEN, at, expires_at=at + lifetime)
    sqlite_store.record(event)
    stored = sqlite_store.history("someone")[-1]
    assert stored == event
    assert stored.at == at
    assert stored.expires_at == at + lifetime


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=consent_histories(max_size=12))
def test_any_valid_history_reads_back_equal_after_reopening(
    tmp_path: Path, events: list[ConsentEvent]
) -> None:
    path = tmp_path / f"{uuid.uuid4().hex}.sqlite3"
    with SQLiteConsentStore(path, synchronous="NORMAL", future_skew=FAR_AHEAD) as store:
        for event in events:
            store.record(event)
    with SQLiteConsentStore(path) as again:
        for subject in DEFAULT_SUBJECTS:
            assert again.history(subject) == [e for e in events if e.subject == subject]


def test_expiry_bounds_are_exact_to_the_microsecond(sqlite_store: SQLiteConsentStore) -> None:
    within = timedelta(days=30)
    sqlite_store.give("just-inside", "research", at=T0, expires_at=T0 + within - timedelta(0, 0, 1))
    sqlite_store.give("at-the-end", "research", at=T0, expires_at=T0 + within)
    listed = sqlite_store.expiring(within, at=T0)
    assert [c.subject for c in listed] == ["just-inside"]


# --- schema versions ---


def test_a_version_0_file_is_migrated_to_the_current_schema(
    sqlite_path: Path, opened: Callable[..., SQLiteConsentStore]
) -> None:
    sqlite_path.touch()  # an empty file is a SQLite database at user_version 0
    store = opened()
    assert pragma(sqlite_path, "user_version") == len(sqlite_module._MIGRATIONS)
    store.give("someone", "research", at=T0)
    assert row_count(sqlite_path) == 1


def test_an_older_schema_is_migrated_forward_keeping_every_event(
    sqlite_path: Path, opened: Callable[..., SQLiteConsentStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = every_kind_of_event()
    store = opened()
    for event in events:
        store.record(event)
    store.close()
    step = ("CREATE TABLE consent_notes (note TEXT)", "CREATE INDEX notes ON consent_notes (note)")
    monkeypatch.setattr(sqlite_module, "_MIGRATIONS", [*sqlite_module._MIGRATIONS, step])

    again = opened()
    assert pragma(sqlite_path, "user_version") == len(sqlite_module._MIGRATIONS)
    assert again.history(SECRET) == events
    connection = raw(sqlite_path)
    names = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert {"consent_notes", "notes"} <= names


def test_a_failing_migration_changes_nothing(
    sqlite_path: Path, opened: Callable[..., SQLiteConsentStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened().give("someone", "research", at=T0)
    broken = ("CREATE TABLE consent_notes (note TEXT)", "THIS IS NOT SQL")

    current = len(sqlite_module._MIGRATIONS)
    monkeypatch.setattr(sqlite_module, "_MIGRATIONS", [*sqlite_module._MIGRATIONS, broken])

    with pytest.raises(ConsentStoreError, match=str(sqlite_path)):
        opened()
    assert pragma(sqlite_path, "user_version") == current
    connection = raw(sqlite_path)
    names = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert "consent_notes" not in names
    assert row_count(sqlite_path) == 1


def test_a_file_from_a_newer_purposeful_is_refused_and_left_alone(
    sqlite_path: Path, opened: Callable[..., SQLiteConsentStore]
) -> None:
    opened().close()
    connection = raw(sqlite_path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    before = sqlite_path.read_bytes()

    with pytest.raises(StoreVersionError, match="upgrade purposeful") as caught:
        SQLiteConsentStore(sqlite_path)
    assert str(sqlite_path) in str(caught.value)
    assert "schema version 99" in str(caught.value)
    assert sqlite_path.read_bytes() == before


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(sqlite_path: Path) -> None:
    sqlite_path.write_bytes(b"name,consent\n" + b"x" * 5000)
    before = sqlite_path.read_bytes()
    with pytest.raises(StoreCorrupt, match="not a purposeful consent store") as caught:
        SQLiteConsentStore(sqlite_path)
    assert str(sqlite_path) in str(caught.value)
    assert "check the path" in str(caught.value)
    assert sqlite_path.read_bytes() == before


@pytest.mark.parametrize(
    "setup",
    [
        ["CREATE TABLE invoices (amount INTEGER)"],  # someone else's database, version 0
        ["CREATE TABLE invoices (amount INTEGER)", "PRAGMA user_version = 1"],
        ["CREATE TABLE consent_events (x)", "PRAGMA user_version = 1"],  # no application id
        [f"PRAGMA application_id = {APPLICATION_ID}", "PRAGMA user_version = 1"],  # no table
        ["PRAGMA application_id = 7"],  # another application's file format
    ],
    ids=["other-tables", "other-versioned", "no-application-id", "no-table", "other-application"],
)
def test_a_database_that_is_not_a_consent_store_is_refused_and_left_alone(
    sqlite_path: Path, setup: list[str]
) -> None:
    connection = raw(sqlite_path)
    for statement in setup:
        connection.execute(statement)
    connection.close()
    before = sqlite_path.read_bytes()
    with pytest.raises(StoreCorrupt, match=str(sqlite_path)):
        SQLiteConsentStore(sqlite_path)
    assert sqlite_path.read_bytes() == before


# --- closed, and damaged underneath ---


def test_a_closed_store_raises_store_closed_for_everything(
    sqlite_store: SQLiteConsentStore,
) -> None:
    sqlite_store.give("someone", "research", at=T0)
    sqlite_store.close()
    sqlite_store.close()  # harmless
    calls: list[Callable[[], object]] = [
        lambda: sqlite_store.record(ConsentEvent("someone", "research", ConsentState.GIVEN, T0)),
        lambda: sqlite_store.give("someone", "research"),
        lambda: sqlite_store.history("someone"),
        lambda: sqlite_store.consent_status("someone", "research"),
        lambda: sqlite_store.consent_in_force("someone", "research"),
        lambda: sqlite_store.expiring(timedelta(days=1)),
        lambda: sqlite_store.export("someone"),
        lambda: sqlite_store._events("someone"),
        sqlite_store.__enter__,
    ]
    for call in calls:
        with pytest.raises(StoreClosed):
            call()


def test_a_file_deleted_underneath_gives_a_typed_error(
    sqlite_store: SQLiteConsentStore, sqlite_path: Path
) -> None:
    sqlite_store.give(SECRET, "research", at=T0)
    sqlite_path.unlink()
    for call in (
        lambda: sqlite_store.give(SECRET, "research"),
        lambda: sqlite_store.consent_status(SECRET, "research"),
        lambda: sqlite_store.history(SECRET),
    ):
        with pytest.raises(StoreUnavailable, match="deleted, moved or replaced") as caught:
            call()
        assert str(sqlite_path) in str(caught.value)
        assert SECRET not in str(caught.value)


def test_a_file_corrupted_underneath_gives_store_corrupt(
    sqlite_store: SQLiteConsentStore, sqlite_path: Path
) -> None:
    for number in range(50):
        sqlite_store.give(f"{SECRET}-{number}", "research", at=T0, evidence="x" * 500)
    connection = raw(sqlite_path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page into the main file
    connection.close()
    size = sqlite_path.stat().st_size
    with sqlite_path.open("r+b") as file:
        file.write(b"\xa5" * size)
    with pytest.raises(StoreCorrupt, match="restore the file from a backup") as caught:
        sqlite_store.give(SECRET, "research")
    assert str(sqlite_path) in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_row_changed_outside_purposeful_is_reported_without_its_content(
    sqlite_store: SQLiteConsentStore, sqlite_path: Path
) -> None:
    sqlite_store.give(SECRET, "research", at=T0)
    connection = raw(sqlite_path)
    connection.execute("UPDATE consent_events SET state = 'maybe-☄'")
    connection.close()
    with pytest.raises(StoreCorrupt, match="not a valid consent event") as caught:
        sqlite_store.history(SECRET)
    message = str(caught.value)
    assert str(sqlite_path) in message
    assert SECRET not in message
    assert "☄" not in message
    assert caught.value.__cause__ is None


def test_a_store_carried_across_a_fork_refuses_to_work(sqlite_store: SQLiteConsentStore) -> None:
    sqlite_store._file._pid -= 1
    with pytest.raises(ConsentStoreError, match="open a new SQLiteConsentStore in each process"):
        sqlite_store.history("someone")


# --- appends are atomic ---


def test_an_event_that_does_not_fit_writes_nothing(
    sqlite_store: SQLiteConsentStore, sqlite_path: Path
) -> None:
    with pytest.raises(InvalidConsentEvent, match="no consent for 'research' to renew"):
        sqlite_store.renew(SECRET, "research", at=T0)
    assert row_count(sqlite_path) == 0
    sqlite_store.give(SECRET, "research", at=T0)  # the store is not stuck in a transaction
    assert row_count(sqlite_path) == 1


def test_any_failure_inside_the_write_transaction_rolls_it_back(
    sqlite_store: SQLiteConsentStore, sqlite_path: Path
) -> None:
    def failing(history: Sequence[ConsentEvent]) -> None:
        raise KeyboardInterrupt

    event = ConsentEvent(SECRET, "research", ConsentState.GIVEN, T0)
    with pytest.raises(KeyboardInterrupt):
        sqlite_store._append(event, failing)
    assert row_count(sqlite_path) == 0
    assert sqlite_store._file._connection is not None
    assert not sqlite_store._file._connection.in_transaction


def test_a_repeated_event_id_is_refused_even_for_another_subject(
    sqlite_store: SQLiteConsentStore, sqlite_path: Path
) -> None:
    sqlite_store.record(ConsentEvent("one", "research", ConsentState.GIVEN, T0, event_id="e-1"))
    with pytest.raises(InvalidConsentEvent, match="'e-1' is already recorded") as caught:
        sqlite_store.record(
            ConsentEvent(SECRET, "research", ConsentState.GIVEN, T0, event_id="e-1")
        )
    assert SECRET not in str(caught.value)
    assert row_count(sqlite_path) == 1
    assert sqlite_store.history(SECRET) == []


def test_a_writer_that_cannot_get_the_lock_in_time_gets_store_unavailable(
    opened: Callable[..., SQLiteConsentStore], sqlite_path: Path
) -> None:
    store = opened(timeout=0.05)
    holder = raw(sqlite_path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="stayed locked by another writer") as caught:
            store.give(SECRET, "research", at=T0)
        assert str(sqlite_path) in str(caught.value)
        assert SECRET not in str(caught.value)
        assert store.history(SECRET) == []  # readers are not blocked by a writer (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.give(SECRET, "research", at=T0)
    assert len(store.history(SECRET)) == 1


# --- threads and processes ---


def test_threads_share_one_store(sqlite_store: SQLiteConsentStore) -> None:
    threads, each = 8, 25
    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(number: int) -> None:
        try:
            start.wait(timeout=10)
            for step in range(each):
                sqlite_store.give(f"own-{number}", "research", at=T0 + timedelta(seconds=step))
                sqlite_store.give("shared", "research", at=T0 + timedelta(seconds=step))
                assert sqlite_store.consent_in_force(f"own-{number}", "research", at=T0)
                sqlite_store.expiring(timedelta(days=1), at=T0)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not failures
    assert len(sqlite_store.history("shared")) == threads * each
    assert all(len(sqlite_store.history(f"own-{n}")) == each for n in range(threads))


def spawn(mode: str, path: Path, name: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, str(path), name, str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_writing_at_once_lose_nothing_and_keep_validation(
    sqlite_path: Path, opened: Callable[..., SQLiteConsentStore]
) -> None:
    count = 150
    # Both open the same new file at once: creating and migrating it is also a race.
    workers = [spawn("race", sqlite_path, name, count) for name in ("a", "b")]
    try:
        for worker in workers:
            assert worker.stdout is not None
            ready = worker.stdout.readline().strip()
            assert ready == "ready", worker.communicate(timeout=10)[1]
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
    printed = [out.split() for out, _ in results]
    assert [len(ids) for ids in printed] == [count, count]

    store = opened()
    stored = [
        e for subject in ("subject-0", "subject-1", "subject-2") for e in store.history(subject)
    ]
    ids = [e.event_id for e in stored]
    assert len(ids) == len(set(ids)) == 2 * count == row_count(sqlite_path)
    assert set(ids) == set(printed[0]) | set(printed[1])
    for subject in ("subject-0", "subject-1", "subject-2"):
        history = store.history(subject)
        for position, event in enumerate(history):
            check_fits(event, history[:position])  # each event fitted what came before it
    assert any(e.state is ConsentState.RENEWED for e in stored)


def test_a_process_killed_mid_write_loses_no_committed_event_and_leaves_no_partial_one(
    sqlite_path: Path, opened: Callable[..., SQLiteConsentStore]
) -> None:
    worker = spawn("loop", sqlite_path, "k", 100_000)
    printed: list[str] = []
    try:
        assert worker.stdout is not None
        while len(printed) < 40:
            line = worker.stdout.readline()
            assert line, worker.stderr.read() if worker.stderr else "worker ended"
            printed.append(line.strip())
        worker.kill()
        worker.wait(timeout=10)
        printed.extend(worker.stdout.read().split())  # printed before the kill landed
    finally:
        worker.kill()
        worker.wait(timeout=10)
        if worker.stdout is not None:
            worker.stdout.close()
        if worker.stderr is not None:
            worker.stderr.close()
        if worker.stdin is not None:
            worker.stdin.close()

    connection = raw(sqlite_path)
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    connection.close()
    store = opened()
    stored = [e for n in range(7) for e in store.history(f"subject-{n}")]  # every row loads
    assert len(stored) == row_count(sqlite_path)
    ids = {e.event_id for e in stored}
    assert set(printed) <= ids
    assert len(ids - set(printed)) <= 1  # at most the one committed but not yet printed
    for event in stored:
        number = int(event.event_id.removeprefix("k-"))
        assert event.evidence == ("e" * (number % 5 * 3000) or None)


def test_a_file_damaged_in_the_middle_opens_and_verify_refuses_it(sqlite_path: Path) -> None:
    store = SQLiteConsentStore(sqlite_path)
    for n in range(3000):
        store.give(f"subject-{n:05d}", "research", at=T0)
    store.verify()  # whole: nothing raised
    store.close()
    data = bytearray(sqlite_path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8192] = bytes(range(256)) * 32
    sqlite_path.write_bytes(bytes(data))
    store = SQLiteConsentStore(sqlite_path)  # the cheap check cannot see the middle
    try:
        with pytest.raises(StoreCorrupt, match="restore the file from a backup") as caught:
            store.verify()
        assert str(sqlite_path) in str(caught.value)
        assert "subject-" not in str(caught.value)
    finally:
        store.close()


def test_a_damaged_header_is_still_refused_when_opened(sqlite_path: Path) -> None:
    store = SQLiteConsentStore(sqlite_path)
    store.give("subject-1", "research", at=T0)
    store.close()
    data = bytearray(sqlite_path.read_bytes())
    data[:16] = b"not a database!!"
    sqlite_path.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupt, match=str(sqlite_path)):
        SQLiteConsentStore(sqlite_path)


def test_a_damaged_table_root_is_refused_when_opened(sqlite_path: Path) -> None:
    store = SQLiteConsentStore(sqlite_path)
    for n in range(200):
        store.give(f"subject-{n:05d}", "research", at=T0, evidence="x" * 200)
    store.close()
    connection = raw(sqlite_path)
    root = connection.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'consent_events'"
    ).fetchone()[0]
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray(sqlite_path.read_bytes())
    start = (root - 1) * page_size
    data[start : start + page_size] = b"\xa5" * page_size
    sqlite_path.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupt, match="restore the file from a backup"):
        SQLiteConsentStore(sqlite_path)


def test_verify_of_a_closed_store_is_refused(sqlite_path: Path) -> None:
    store = SQLiteConsentStore(sqlite_path)
    store.close()
    with pytest.raises(StoreClosed):
        store.verify()
