"""What only the PostgreSQL correction store must do: its table, a schema shared with the
consent and sharing stores, several services deciding at once, lost connections (never
calling an update callback twice), versions and damage. The behaviour every correction store
shares is asked of this one too, in test_correction_stores.py.

The server comes from PURPOSEFUL_TEST_POSTGRES_DSN (``bash .ci/run`` starts one); without it
these tests skip, except under CI, where they fail. Each test gets a schema of its own.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC

import pytest
from _corrections import DAY, NZ, OFFICER, SUBJECT, T0, ask, note, nothing

from purposeful.corrections import Correction, CorrectionStatus
from purposeful.errors import (
    ConfigurationError,
    InvalidCorrection,
    StoreClosed,
    StoreCorrupt,
    StoreUnavailable,
    StoreVersionError,
)

try:
    import psycopg
    from psycopg import sql

    from purposeful.consent.postgres import PostgresConsentStore
    from purposeful.corrections.postgres import (
        SCHEMA_VERSION,
        STORE_KIND,
        VERSION_TABLE,
        PostgresCorrectionStore,
    )
    from purposeful.sharing.postgres import PostgresSharingStore
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("psycopg is not installed: pip install -e '.[test]'", allow_module_level=True)

Admin = psycopg.Connection[tuple[object, ...]]

SECRET_SUBJECT = "C-\u2604-secret-subject"


@pytest.fixture
def admin(postgres_schema: tuple[str, str]) -> Iterator[Admin]:
    """A plain connection to the test database, for looking behind the store's back."""
    dsn, _ = postgres_schema
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection


@pytest.fixture
def postgres_store(postgres_schema: tuple[str, str]) -> Iterator[PostgresCorrectionStore]:
    dsn, schema = postgres_schema
    store = PostgresCorrectionStore(dsn, schema=schema)
    yield store
    store.close()


def run(
    admin: Admin, schema: str, statement: str, params: Sequence[object] = ()
) -> list[tuple[object, ...]]:
    """Run *statement*, with ``{schema}`` standing for the quoted schema name; its rows."""
    cursor = admin.execute(sql.SQL(statement).format(schema=sql.Identifier(schema)), params)
    return cursor.fetchall() if cursor.description else []


def count(admin: Admin, schema: str) -> int:
    return int(run(admin, schema, "SELECT count(*) FROM {schema}.corrections")[0][0])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run every call on a thread of its own, all at the same moment; each one's result, or
    the exception it raised."""
    start = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def work(n: int) -> None:
        start.wait()
        try:
            results[n] = calls[n]()
        except BaseException as exc:  # returned to the test
            results[n] = exc

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


# --- the table ---


def test_opening_creates_the_version_table_and_the_corrections_table(
    postgres_schema: tuple[str, str], admin: Admin
) -> None:
    dsn, schema = postgres_schema
    with PostgresCorrectionStore(dsn, schema=schema):
        pass
    tables = admin.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]
    ).fetchall()
    assert tables == [("corrections",), (VERSION_TABLE,)]
    assert run(admin, schema, f"SELECT kind, version FROM {{schema}}.{VERSION_TABLE}") == [
        (STORE_KIND, SCHEMA_VERSION)
    ]
    indexes = {
        name
        for (name,) in admin.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s", [schema]
        ).fetchall()
    }
    assert {"corrections_by_subject", "corrections_by_status", "corrections_id_unique"} <= indexes


def test_the_consent_sharing_and_correction_stores_share_one_schema(
    postgres_schema: tuple[str, str], admin: Admin
) -> None:
    dsn, schema = postgres_schema
    opened = at_once(
        [
            lambda: PostgresCorrectionStore(dsn, schema=schema),
            lambda: PostgresConsentStore(dsn, schema=schema),
            lambda: PostgresSharingStore(dsn, schema=schema),
            lambda: PostgresCorrectionStore(dsn, schema=schema),
        ]
    )
    for store in opened:
        assert isinstance(
            store, PostgresCorrectionStore | PostgresConsentStore | PostgresSharingStore
        ), store
        store.close()
    with (
        PostgresConsentStore(dsn, schema=schema) as consent,
        PostgresCorrectionStore(dsn, schema=schema) as corrections,
    ):
        given = consent.give(SUBJECT, "research", at=T0)
        made = ask(corrections)
        assert consent.history(SUBJECT) == [given]
        assert corrections.for_subject(SUBJECT) == [made]
    tables = {
        name
        for (name,) in admin.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema]
        ).fetchall()
    }
    assert {"purposeful_store", "purposeful_sharing_store", VERSION_TABLE, "corrections"} <= tables


def test_reopening_keeps_every_correction_exactly_as_recorded(
    postgres_schema: tuple[str, str],
) -> None:
    dsn, schema = postgres_schema
    with PostgresCorrectionStore(dsn, schema=schema) as store:
        pending = ask(store, at=T0.astimezone(NZ))
        applied = store.apply(ask(store).id, nothing, by=OFFICER, note="done", at=T0 + DAY)
        declined = store.decline(ask(store).id, by=OFFICER, reason="verified", at=T0 + DAY)
        stated = store.attach_statement(declined.id, "I disagree ☃", at=T0 + 2 * DAY)
    with PostgresCorrectionStore(dsn, schema=schema) as store:
        again = store.for_subject(SUBJECT)
        assert again == [pending, applied, stated]
        assert all(c.requested_at.tzinfo is UTC for c in again)
        assert store.get(stated.id).statement_at == T0 + 2 * DAY
        assert store.pending() == [pending]
        assert store.statements(SUBJECT, note(), "address") == [stated]


# --- several services at once ---


def test_two_services_deciding_the_same_requests_leave_one_winner_each(
    postgres_schema: tuple[str, str],
) -> None:
    """The applier's callback is slow: the decliner waits on the row, then finds it decided;
    the callback runs exactly where the applier won."""
    dsn, schema = postgres_schema
    updated: list[str] = []

    def slow(correction: Correction) -> None:
        time.sleep(0.05)
        updated.append(correction.id)

    with (
        PostgresCorrectionStore(dsn, schema=schema) as first,
        PostgresCorrectionStore(dsn, schema=schema) as second,
    ):
        for n in range(5):
            made = ask(first, note(note_id=f"N-{n}"))
            outcomes = at_once(
                [
                    functools.partial(first.apply, made.id, slow, by="staff-apply"),
                    functools.partial(
                        second.decline, made.id, by="staff-decline", reason="accurate"
                    ),
                ]
            )
            won = [o for o in outcomes if isinstance(o, Correction)]
            lost = [o for o in outcomes if isinstance(o, InvalidCorrection)]
            assert len(won) == len(lost) == 1, outcomes
            assert f"correction {made.id} was already {won[0].status.value}" in str(lost[0])
            assert second.get(made.id) == won[0]
        applied = {c.id for c in first.for_subject(SUBJECT) if c.status is CorrectionStatus.APPLIED}
    assert sorted(updated) == sorted(applied)  # once each, and only where apply() won


def test_threads_sharing_one_store_lose_nothing(postgres_store: PostgresCorrectionStore) -> None:
    made = at_once(
        [functools.partial(ask, postgres_store, note(note_id=f"N-{n}")) for n in range(8)]
    )
    assert all(isinstance(m, Correction) for m in made), made
    assert sorted(c.id for c in postgres_store.pending()) == sorted(
        m.id for m in made if isinstance(m, Correction)
    )


# --- connections ---


def test_a_lost_connection_is_replaced_on_the_next_call(
    postgres_store: PostgresCorrectionStore, admin: Admin
) -> None:
    made = ask(postgres_store)
    later = ask(postgres_store)
    calls: list[Callable[[], object]] = [
        lambda: postgres_store.for_subject(SUBJECT),
        lambda: ask(postgres_store),
        lambda: postgres_store.get(made.id),
        lambda: postgres_store.apply(made.id, nothing, by=OFFICER),
        lambda: postgres_store.decline(later.id, by=OFFICER, reason="verified"),
    ]
    for call in calls:
        connection = postgres_store._database._connection
        assert connection is not None
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.info.backend_pid])
        call()
    assert [c.status for c in postgres_store.for_subject(SUBJECT)] == [
        CorrectionStatus.APPLIED,
        CorrectionStatus.DECLINED,
        CorrectionStatus.REQUESTED,
    ]


def test_a_connection_lost_after_the_update_ran_is_not_retried(
    postgres_store: PostgresCorrectionStore, admin: Admin
) -> None:
    """The callback is called once per apply(): a connection lost once it has run fails the
    call, leaves the request pending, and the next call reconnects."""
    made = ask(postgres_store, subject=SECRET_SUBJECT, record=note(SECRET_SUBJECT))
    calls: list[Correction] = []

    def update(correction: Correction) -> None:
        calls.append(correction)
        connection = postgres_store._database._connection
        assert connection is not None
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.info.backend_pid])

    with pytest.raises(StoreUnavailable, match="was lost") as lost:
        postgres_store.apply(made.id, update, by=OFFICER)
    assert calls == [made]
    assert SECRET_SUBJECT not in str(lost.value)
    assert postgres_store.get(made.id) == made
    assert postgres_store.apply(made.id, nothing, by=OFFICER).status is CorrectionStatus.APPLIED


def test_a_connection_lost_while_committing_says_the_outcome_is_unknown(
    postgres_store: PostgresCorrectionStore, postgres_schema: tuple[str, str], admin: Admin
) -> None:
    """A deferred trigger kills the store's own connection at COMMIT: the one moment at
    which it cannot know whether the decision was kept."""
    _, schema = postgres_schema
    made = ask(postgres_store, subject=SECRET_SUBJECT, record=note(SECRET_SUBJECT))
    run(
        admin,
        schema,
        "CREATE FUNCTION {schema}.die() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$",
    )
    run(
        admin,
        schema,
        "CREATE CONSTRAINT TRIGGER die AFTER UPDATE ON {schema}.corrections "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {schema}.die()",
    )
    calls: list[Correction] = []
    with pytest.raises(StoreUnavailable, match="lost while committing a decision") as lost:
        postgres_store.apply(made.id, calls.append, by=OFFICER)
    assert "get() the request" in str(lost.value)
    assert SECRET_SUBJECT not in str(lost.value)
    assert calls == [made]
    run(admin, schema, "DROP TRIGGER die ON {schema}.corrections")
    if postgres_store.get(made.id).status is CorrectionStatus.REQUESTED:  # it was not kept
        postgres_store.apply(made.id, calls.append, by=OFFICER)
    assert postgres_store.get(made.id).status is CorrectionStatus.APPLIED


def test_an_unreachable_server_is_unavailable_and_names_the_host() -> None:
    password = f"pw-{uuid.uuid4().hex}"
    dsn = f"postgresql://corrections:{password}@127.0.0.1:{free_port()}/agency"
    with pytest.raises(
        StoreUnavailable, match=r"PostgreSQL correction store \(host 127\.0\.0\.1"
    ) as refusal:
        PostgresCorrectionStore(dsn, connect_timeout=2)
    assert password not in str(refusal.value)


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"dsn": "host='db.internal password=s3cret-value"}, "malformed"),
        ({"dsn": b"host=db"}, "PostgresCorrectionStore takes a DSN string"),
        ({"dsn": "host=db", "schema": ""}, "schema= must be a PostgreSQL schema name"),
        ({"dsn": "host=db", "connect_timeout": 0}, "connect_timeout must be a positive"),
    ],
)
def test_bad_settings_are_configuration_errors(arguments: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as refused:
        PostgresCorrectionStore(**arguments)
    assert "s3cret-value" not in str(refused.value)


# --- versions and damage ---


def test_a_store_written_by_a_newer_purposeful_is_refused(
    postgres_schema: tuple[str, str], admin: Admin
) -> None:
    dsn, schema = postgres_schema
    PostgresCorrectionStore(dsn, schema=schema).close()
    run(admin, schema, f"UPDATE {{schema}}.{VERSION_TABLE} SET version = version + 1")
    with pytest.raises(StoreVersionError, match=f"version {SCHEMA_VERSION + 1}"):
        PostgresCorrectionStore(dsn, schema=schema)


def test_an_older_store_is_migrated_forward(postgres_schema: tuple[str, str], admin: Admin) -> None:
    dsn, schema = postgres_schema
    run(admin, schema, "CREATE SCHEMA {schema}")
    run(
        admin,
        schema,
        f"CREATE TABLE {{schema}}.{VERSION_TABLE} (only_row boolean PRIMARY KEY DEFAULT true "
        "CHECK (only_row), kind text NOT NULL, version integer NOT NULL)",
    )
    run(admin, schema, f"INSERT INTO {{schema}}.{VERSION_TABLE} VALUES (true, %s, 0)", [STORE_KIND])
    with PostgresCorrectionStore(dsn, schema=schema) as store:
        ask(store)
    assert run(admin, schema, f"SELECT version FROM {{schema}}.{VERSION_TABLE}") == [
        (SCHEMA_VERSION,)
    ]


@pytest.mark.parametrize(
    "tables",
    [
        pytest.param(["CREATE TABLE {schema}.corrections (id integer)"], id="no-version"),
        pytest.param(
            [
                f"CREATE TABLE {{schema}}.{VERSION_TABLE} (kind text, version integer)",
                f"INSERT INTO {{schema}}.{VERSION_TABLE} VALUES ('purposeful consent store', 1)",
            ],
            id="another-kind",
        ),
        pytest.param([f"CREATE VIEW {{schema}}.{VERSION_TABLE} AS SELECT 1 AS x"], id="a-view"),
        pytest.param(
            [
                f"CREATE TABLE {{schema}}.{VERSION_TABLE} (kind text, version integer)",
                f"INSERT INTO {{schema}}.{VERSION_TABLE} VALUES ('{STORE_KIND}', 1)",
                "CREATE TABLE {schema}.corrections (seq bigint, subject text)",
            ],
            id="other-columns",
        ),
    ],
)
def test_tables_that_are_not_a_correction_store_are_corrupt(
    postgres_schema: tuple[str, str], admin: Admin, tables: list[str]
) -> None:
    dsn, schema = postgres_schema
    run(admin, schema, "CREATE SCHEMA {schema}")
    for statement in tables:
        run(admin, schema, statement)
    with pytest.raises(StoreCorrupt, match="not a purposeful correction store"):
        PostgresCorrectionStore(dsn, schema=schema)


def test_a_table_dropped_under_an_open_store_is_corrupt_and_no_subject_is_named(
    postgres_store: PostgresCorrectionStore, postgres_schema: tuple[str, str], admin: Admin
) -> None:
    _, schema = postgres_schema
    made = ask(postgres_store, subject=SECRET_SUBJECT, record=note(SECRET_SUBJECT))
    run(admin, schema, "DROP TABLE {schema}.corrections")
    calls: list[Callable[[], object]] = [
        lambda: postgres_store.for_subject(SECRET_SUBJECT),
        lambda: ask(postgres_store, subject=SECRET_SUBJECT, record=note(SECRET_SUBJECT)),
        lambda: postgres_store.get(made.id),
        lambda: postgres_store.decline(made.id, by=OFFICER, reason="verified"),
        lambda: postgres_store.pending(),
    ]
    for call in calls:
        with pytest.raises(StoreCorrupt, match="correction store's tables") as failure:
            call()
        assert SECRET_SUBJECT not in str(failure.value)
        assert failure.value.__cause__ is None
        assert failure.value.__suppress_context__


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE {schema}.corrections SET status = 'maybe ☃'",
        "ALTER TABLE {schema}.corrections ALTER COLUMN requested_at TYPE text USING 'soon ☃'",
    ],
    ids=["status", "requested-at"],
)
def test_a_row_changed_outside_purposeful_is_reported_without_its_content(
    postgres_store: PostgresCorrectionStore,
    postgres_schema: tuple[str, str],
    admin: Admin,
    tamper: str,
) -> None:
    _, schema = postgres_schema
    made = ask(postgres_store, subject=SECRET_SUBJECT, record=note(SECRET_SUBJECT))
    run(admin, schema, tamper)
    calls: list[Callable[[], object]] = [
        lambda: postgres_store.get(made.id),
        lambda: postgres_store.for_subject(SECRET_SUBJECT),
        lambda: postgres_store.apply(made.id, nothing, by=OFFICER),
    ]
    for call in calls:
        with pytest.raises(
            StoreCorrupt, match=r"a correction in schema .* cannot be read"
        ) as caught:
            call()
        assert SECRET_SUBJECT not in str(caught.value)
        assert "☃" not in str(caught.value)
        assert caught.value.__cause__ is None


def test_a_closed_store_raises_store_closed_and_lets_its_connection_go(
    postgres_schema: tuple[str, str],
) -> None:
    dsn, schema = postgres_schema
    store = PostgresCorrectionStore(dsn, schema=schema)
    with store:
        ask(store)
    assert store.closed
    assert store._database._connection is None
    assert store._database.closed
    with pytest.raises(StoreClosed):
        store.for_subject(SUBJECT)
    with pytest.raises(StoreClosed, match="this PostgresCorrectionStore is closed"):
        store._database.run("reading", lambda connection: None)
