"""What only the PostgreSQL store must do: its tables, several services and processes sharing
them, connection failures, versions and damage. The behaviour every store shares is asked of
this one too, in test_stores.py.

The server comes from PURPOSEFUL_TEST_POSTGRES_DSN (``bash .ci/run`` starts one); without it
these tests skip, except under CI, where they fail. Each test gets a schema of its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from purposeful.consent import (
    Agency,
    ConsentEvent,
    ConsentMethod,
    ConsentState,
    Incapacity,
    LegacyRepresentative,
    Relationship,
    Representative,
)
from purposeful.errors import (
    ConfigurationError,
    InvalidConsentEvent,
    StoreClosed,
    StoreCorrupt,
    StoreUnavailable,
    StoreVersionError,
)

try:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    from purposeful.consent.postgres import (
        MIGRATIONS,
        SCHEMA_VERSION,
        STORE_KIND,
        PostgresConsentStore,
    )
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("psycopg is not installed: pip install -e '.[test]'", allow_module_level=True)

MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NZDT = timezone(timedelta(hours=13))
SECRET_SUBJECT = "C-\u2604-secret-subject"


@pytest.fixture
def admin(postgres_schema: tuple[str, str]) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A plain connection to the test database, for looking behind the store's back."""
    dsn, _ = postgres_schema
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection


def run(
    admin: psycopg.Connection[tuple[object, ...]],
    schema: str,
    statement: str,
    params: Sequence[object] = (),
) -> list[tuple[object, ...]]:
    """Run *statement*, with ``{schema}`` standing for the quoted schema name; its rows."""
    cursor = admin.execute(sql.SQL(statement).format(schema=sql.Identifier(schema)), params)
    return cursor.fetchall() if cursor.description else []


def count(admin: psycopg.Connection[tuple[object, ...]], schema: str) -> int:
    return int(run(admin, schema, "SELECT count(*) FROM {schema}.consent_events")[0][0])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the tables ---


def test_opening_creates_the_schema_the_version_table_and_the_events_table(
    postgres_schema: tuple[str, str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    dsn, schema = postgres_schema
    with PostgresConsentStore(dsn, schema=schema):
        pass
    tables = admin.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]
    ).fetchall()
    assert tables == [("consent_events",), ("purposeful_store",)]
    assert run(admin, schema, "SELECT kind, version FROM {schema}.purposeful_store") == [
        (STORE_KIND, SCHEMA_VERSION)
    ]
    indexes = {
        name
        for (name,) in admin.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s", [schema]
        ).fetchall()
    }
    assert {
        "consent_events_history",
        "consent_events_expiry",
        "consent_events_event_id_unique",
    } <= indexes


def test_reopening_keeps_every_event_exactly_as_recorded(
    postgres_schema: tuple[str, str],
) -> None:
    dsn, schema = postgres_schema
    welfare_guardian = Representative(
        Relationship.WELFARE_GUARDIAN,
        "FAM-2021-485-000123",
        "staff-0311",
        MARCH - timedelta(days=2),
    )
    attorney = Representative(
        Relationship.PERSONAL_CARE_ATTORNEY,
        "EPA-2019-0042",
        "staff-0007",
        MARCH - timedelta(days=1),
        Incapacity(MARCH - timedelta(days=40), "cert:2026-0091"),
    )
    with PostgresConsentStore(dsn, schema=schema) as store:
        recorded = [
            store.give(
                "C-1001",
                "research",
                at=MARCH,
                by=welfare_guardian,
                method=ConsentMethod.VERBAL_RECORDED_BY_STAFF,
                notice_version="2026-01",
                expires_at=MARCH + timedelta(days=365, microseconds=7),
                evidence="recording 2026-03-02/17",
            ),
            store.renew("C-1001", "research", at=MARCH + timedelta(days=30), by=attorney),
            store.revoke(
                "C-1001",
                "research",
                at=MARCH + timedelta(days=31),
                by=Agency("staff-17", "consent was obtained without a current notice"),
            ),
            store.refuse(
                "C-1001", "service-delivery.referral", at=MARCH, method=ConsentMethod.ONLINE
            ),
            store.record(
                ConsentEvent(
                    "C-1001",
                    "funder-reporting",
                    ConsentState.WITHDRAWN,
                    datetime(2026, 3, 3, 11, 0, tzinfo=NZDT),
                )
            ),
        ]
    with PostgresConsentStore(dsn, schema=schema) as reopened:
        again = reopened.history("C-1001")
    assert again == recorded
    assert all(e.at.tzinfo is UTC for e in again)


def test_two_services_see_each_others_events(postgres_schema: tuple[str, str]) -> None:
    dsn, schema = postgres_schema
    with (
        PostgresConsentStore(dsn, schema=schema) as intake,
        PostgresConsentStore(dsn, schema=schema) as research,
    ):
        given = intake.give("C-1001", "research", at=MARCH)
        assert research.history("C-1001") == [given]
        assert research.consent_in_force("C-1001", "research", MARCH)
        research.withdraw("C-1001", "research", at=MARCH + timedelta(hours=1))
        assert not intake.consent_in_force("C-1001", "research", MARCH + timedelta(hours=2))
        with pytest.raises(InvalidConsentEvent):
            intake.renew("C-1001", "research", at=MARCH + timedelta(hours=3))


# --- many writers ---

WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path

    from purposeful.consent.postgres import PostgresConsentStore
    from purposeful.errors import InvalidConsentEvent

    dsn, schema, name, how_many, go = sys.argv[1:]
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    recorded = 0
    with PostgresConsentStore(dsn, schema=schema) as store:
        print("ready", flush=True)
        while not Path(go).exists():
            time.sleep(0.002)
        for n in range(int(how_many)):
            if name == "giver":
                store.give("C-shared", "research", at=at, evidence=f"{name}-{n}")
            else:
                # Renew and withdraw in turn; a renewal fits only straight after a grant.
                action = store.renew if n % 2 == 0 else store.withdraw
                try:
                    action("C-shared", "research", at=at, evidence=f"{name}-{n}")
                except InvalidConsentEvent:
                    continue
            recorded += 1
    print(recorded, flush=True)
    """
)


def run_writers(dsn: str, schema: str, names: list[str], how_many: int, tmp_path: Path) -> int:
    """Start one process per name, let them all write at once, and return how many events
    they recorded between them."""
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, dsn, schema, name, str(how_many), str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        go.touch()
        outputs = [process.communicate(timeout=120)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert [process.returncode for process in processes] == [0] * len(processes)
    return sum(int(output.split()[-1]) for output in outputs)


def test_two_processes_writing_at_once_lose_nothing(
    postgres_schema: tuple[str, str], tmp_path: Path
) -> None:
    dsn, schema = postgres_schema
    with PostgresConsentStore(dsn, schema=schema) as store:
        assert run_writers(dsn, schema, ["giver", "giver"], 40, tmp_path) == 80
        history = store.history("C-shared")
    assert len(history) == 80
    assert len({e.event_id for e in history}) == 80


def test_concurrent_appends_each_check_the_history_they_extend(
    postgres_schema: tuple[str, str], tmp_path: Path
) -> None:
    """A renewal is recorded only right after a grant, even with another process giving
    and a third withdrawing at the same instant: the check and the insert are one step."""
    dsn, schema = postgres_schema
    with PostgresConsentStore(dsn, schema=schema) as store:
        recorded = run_writers(dsn, schema, ["giver", "renewer", "renewer"], 60, tmp_path)
        history = store.history("C-shared")
    assert len(history) == recorded
    previous: ConsentEvent | None = None
    for event in history:
        if event.state is ConsentState.RENEWED:
            assert previous is not None
            assert previous.state.in_force
        previous = event


def test_threads_sharing_one_store_lose_nothing(postgres_schema: tuple[str, str]) -> None:
    dsn, schema = postgres_schema
    with PostgresConsentStore(dsn, schema=schema) as store:
        start = threading.Barrier(4)

        def write(worker: int) -> None:
            start.wait()
            for n in range(15):
                store.give(f"C-{n % 3}", "research", at=MARCH, evidence=f"{worker}-{n}")

        threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(len(store.history(f"C-{n}")) for n in range(3)) == 60


def test_stores_opening_at_once_on_a_new_schema_all_open(
    postgres_schema: tuple[str, str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    dsn, schema = postgres_schema
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def open_one() -> None:
        start.wait()
        try:
            PostgresConsentStore(dsn, schema=schema).close()
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert run(admin, schema, "SELECT version FROM {schema}.purposeful_store") == [
        (SCHEMA_VERSION,)
    ]


# --- nothing half-written ---


def test_an_event_that_does_not_fit_writes_nothing(
    postgres_store: PostgresConsentStore,
    postgres_schema: tuple[str, str],
    admin: psycopg.Connection[tuple[object, ...]],
) -> None:
    _, schema = postgres_schema
    with pytest.raises(InvalidConsentEvent):
        postgres_store.renew("C-1001", "research", at=MARCH)

    def refuse(history: object) -> None:
        raise RuntimeError("the check failed")

    event = ConsentEvent("C-1001", "research", ConsentState.GIVEN, MARCH)
    with pytest.raises(RuntimeError, match="the check failed"):
        postgres_store._append(event, refuse)
    assert count(admin, schema) == 0
    assert postgres_store.history("C-1001") == []


def test_a_repeated_event_id_for_another_subject_writes_nothing(
    postgres_store: PostgresConsentStore,
    postgres_schema: tuple[str, str],
    admin: psycopg.Connection[tuple[object, ...]],
) -> None:
    _, schema = postgres_schema
    first = postgres_store.give("C-1001", "research", at=MARCH)
    copy = ConsentEvent(
        SECRET_SUBJECT, "research", ConsentState.GIVEN, MARCH, event_id=first.event_id
    )
    with pytest.raises(InvalidConsentEvent, match="already recorded") as refusal:
        postgres_store.record(copy)
    assert SECRET_SUBJECT not in str(refusal.value)
    assert count(admin, schema) == 1
    assert postgres_store.history(SECRET_SUBJECT) == []


def test_text_postgresql_cannot_hold_is_refused_before_writing(
    postgres_store: PostgresConsentStore,
    postgres_schema: tuple[str, str],
    admin: psycopg.Connection[tuple[object, ...]],
) -> None:
    _, schema = postgres_schema
    with pytest.raises(InvalidConsentEvent, match="NUL"):
        postgres_store.give("C-\x001001", "research", at=MARCH)
    with pytest.raises(InvalidConsentEvent, match="surrogate"):
        postgres_store.give("C-1001", "research", at=MARCH, evidence="form \ud800")
    assert count(admin, schema) == 0
    assert postgres_store.history("C-\x001001") == []


# --- connections ---


def test_a_wrong_password_is_unavailable_and_never_shows_the_password(
    postgres_schema: tuple[str, str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    dsn, schema = postgres_schema
    role = f"purposeful_test_{uuid.uuid4().hex[:12]}"
    password = f"right-{uuid.uuid4().hex}"
    wrong = f"wrong-{uuid.uuid4().hex}"
    try:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
    except psycopg.Error:
        pytest.skip("the test server's user may not create roles (.ci/run's server lets it)")
    try:
        database = admin.info.dbname
        admin.execute(
            sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
                sql.Identifier(database), sql.Identifier(role)
            )
        )
        try:
            psycopg.connect(make_conninfo(dsn, user=role, password=wrong)).close()
        except psycopg.OperationalError:
            pass
        else:
            pytest.skip("the test server trusts every user; .ci/run's server asks for passwords")

        with pytest.raises(StoreUnavailable) as refusal:
            PostgresConsentStore(make_conninfo(dsn, user=role, password=wrong), schema=schema)
        message = str(refusal.value)
        assert wrong not in message
        assert password not in message
        assert refusal.value.__cause__ is None
        assert refusal.value.__suppress_context__

        # The right password opens it, with a role that may create the schema and no more.
        with PostgresConsentStore(
            make_conninfo(dsn, user=role, password=password), schema=schema
        ) as store:
            store.give("C-1001", "research", at=MARCH)
            assert len(store.history("C-1001")) == 1
    finally:
        admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_an_unreachable_server_is_unavailable_and_names_the_host() -> None:
    password = f"pw-{uuid.uuid4().hex}"
    dsn = f"postgresql://consent:{password}@127.0.0.1:{free_port()}/agency"
    with pytest.raises(StoreUnavailable, match=r"host 127\.0\.0\.1") as refusal:
        PostgresConsentStore(dsn, connect_timeout=2)
    assert password not in str(refusal.value)


def test_a_malformed_dsn_is_a_configuration_error_that_hides_the_dsn() -> None:
    with pytest.raises(ConfigurationError, match="malformed") as refusal:
        PostgresConsentStore("host='db.internal password=s3cret-value")
    assert "s3cret-value" not in str(refusal.value)


def test_a_lost_connection_is_replaced_on_the_next_call(
    postgres_store: PostgresConsentStore, admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    given = postgres_store.give("C-1001", "research", at=MARCH)
    for call in (
        lambda: postgres_store.history("C-1001"),
        lambda: postgres_store.withdraw("C-1001", "research", at=MARCH + timedelta(hours=1)),
    ):
        connection = postgres_store._database._connection
        assert connection is not None
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.info.backend_pid])
        call()
    assert [e.state for e in postgres_store.history("C-1001")] == [
        given.state,
        ConsentState.WITHDRAWN,
    ]


# --- versions and damage ---


def test_a_store_written_by_a_newer_purposeful_is_refused(
    postgres_schema: tuple[str, str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    dsn, schema = postgres_schema
    PostgresConsentStore(dsn, schema=schema).close()
    run(admin, schema, "UPDATE {schema}.purposeful_store SET version = version + 1")
    with pytest.raises(StoreVersionError, match=f"version {SCHEMA_VERSION + 1}"):
        PostgresConsentStore(dsn, schema=schema)


def test_an_older_store_is_migrated_forward(
    postgres_schema: tuple[str, str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    dsn, schema = postgres_schema
    run(admin, schema, "CREATE SCHEMA {schema}")
    run(
        admin,
        schema,
        "CREATE TABLE {schema}.purposeful_store (only_row boolean PRIMARY KEY DEFAULT true "
        "CHECK (only_row), kind text NOT NULL, version integer NOT NULL)",
    )
    run(admin, schema, "INSERT INTO {schema}.purposeful_store VALUES (true, %s, 0)", [STORE_KIND])
    with PostgresConsentStore(dsn, schema=schema) as store:
        store.give("C-1001", "research", at=MARCH)
    assert run(admin, schema, "SELECT version FROM {schema}.purposeful_store") == [
        (SCHEMA_VERSION,)
    ]
    assert count(admin, schema) == 1


def test_a_version_1_store_reads_its_representatives_back_as_legacy(
    postgres_schema: tuple[str, str], admin: psycopg.Connection[tuple[object, ...]]
) -> None:
    dsn, schema = postgres_schema
    run(admin, schema, "CREATE SCHEMA {schema}")
    run(
        admin,
        schema,
        "CREATE TABLE {schema}.purposeful_store (only_row boolean PRIMARY KEY DEFAULT true "
        "CHECK (only_row), kind text NOT NULL, version integer NOT NULL)",
    )
    run(admin, schema, "INSERT INTO {schema}.purposeful_store VALUES (true, %s, 1)", [STORE_KIND])
    for statement in MIGRATIONS[0]:
        run(admin, schema, statement)
    run(
        admin,
        schema,
        "INSERT INTO {schema}.consent_events (event_id, subject, purpose, state, expressed_at, "
        "by_kind, by_relationship, by_authority, by_detail, method, notice_version) VALUES "
        "('e1', 'C-1001', 'research', 'given', %s, 'representative', 'attorney', "
        "'EPA 2019/42', NULL, 'written', 'unversioned'), "
        "('e2', 'C-1001', 'research', 'withdrawn', %s, 'representative', 'other', "
        "'named at intake', 'kuia', 'written', 'unversioned')",
        [MARCH, MARCH + timedelta(days=1)],
    )
    attorney = Representative(
        Relationship.PERSONAL_CARE_ATTORNEY,
        "EPA-2019-0042",
        "staff-0007",
        MARCH,
        Incapacity(MARCH - timedelta(days=40), "cert:2026-0091"),
    )
    with PostgresConsentStore(dsn, schema=schema) as store:
        assert [event.by for event in store.history("C-1001")] == [
            LegacyRepresentative(Relationship.ATTORNEY, "EPA 2019/42"),
            LegacyRepresentative(Relationship.OTHER, "named at intake", "kuia"),
        ]
        store.give("C-1001", "research", at=MARCH + timedelta(days=2), by=attorney)
        assert store.consent_in_force("C-1001", "research", MARCH + timedelta(days=2))
    assert run(admin, schema, "SELECT version FROM {schema}.purposeful_store") == [
        (SCHEMA_VERSION,)
    ]
    with PostgresConsentStore(dsn, schema=schema) as again:
        assert again.history("C-1001")[-1].by == attorney


@pytest.mark.parametrize(
    "tables",
    [
        pytest.param(["CREATE TABLE {schema}.consent_events (id integer)"], id="no-version"),
        pytest.param(
            [
                "CREATE TABLE {schema}.purposeful_store (kind text, version integer)",
                "INSERT INTO {schema}.purposeful_store VALUES ('billing ledger', 1)",
            ],
            id="another-kind",
        ),
        pytest.param(
            ["CREATE TABLE {schema}.purposeful_store (name text)"], id="other-version-columns"
        ),
        pytest.param(["CREATE VIEW {schema}.purposeful_store AS SELECT 1 AS x"], id="a-view"),
        pytest.param(
            [
                "CREATE TABLE {schema}.purposeful_store (kind text, version integer)",
                f"INSERT INTO {{schema}}.purposeful_store VALUES ('{STORE_KIND}', 1)",
                "CREATE TABLE {schema}.consent_events (seq bigint, subject text)",
            ],
            id="other-event-columns",
        ),
    ],
)
def test_tables_that_are_not_a_consent_store_are_corrupt(
    postgres_schema: tuple[str, str],
    admin: psycopg.Connection[tuple[object, ...]],
    tables: list[str],
) -> None:
    dsn, schema = postgres_schema
    run(admin, schema, "CREATE SCHEMA {schema}")
    for statement in tables:
        run(admin, schema, statement)
    with pytest.raises(StoreCorrupt, match="not a purposeful consent store"):
        PostgresConsentStore(dsn, schema=schema)


def test_tables_dropped_under_an_open_store_are_corrupt_and_no_subject_is_named(
    postgres_store: PostgresConsentStore,
    postgres_schema: tuple[str, str],
    admin: psycopg.Connection[tuple[object, ...]],
) -> None:
    _, schema = postgres_schema
    postgres_store.give(SECRET_SUBJECT, "research", at=MARCH)
    run(admin, schema, "DROP TABLE {schema}.consent_events")
    for call in (
        lambda: postgres_store.history(SECRET_SUBJECT),
        lambda: postgres_store.give(SECRET_SUBJECT, "research", at=MARCH),
    ):
        with pytest.raises(StoreCorrupt) as failure:
            call()
        assert SECRET_SUBJECT not in str(failure.value)
        assert failure.value.__cause__ is None
        assert failure.value.__suppress_context__


def test_a_closed_store_raises_store_closed(postgres_schema: tuple[str, str]) -> None:
    dsn, schema = postgres_schema
    store = PostgresConsentStore(dsn, schema=schema)
    with store:
        store.give("C-1001", "research", at=MARCH)
    assert store.closed
    for call in (
        lambda: store.history("C-1001"),
        lambda: store.give("C-1001", "research", at=MARCH),
        lambda: store.consent_in_force("C-1001", "research", MARCH),
        lambda: store.expiring(timedelta(days=30), at=MARCH),
    ):
        with pytest.raises(StoreClosed):
            call()
    store.close()  # closing twice is harmless
    assert store._database._connection is None
