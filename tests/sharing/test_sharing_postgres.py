"""What only the PostgreSQL sharing store must do: its tables, a schema shared with the
consent store, several services writing at once, lost connections, versions and damage. The
behaviour every sharing store shares is asked of this one too, in test_sharing_stores.py.
(Named so, not test_postgres.py: test modules need unique names, and the consent store has
that one.)

The server comes from PURPOSEFUL_TEST_POSTGRES_DSN (``bash .ci/run`` starts one); without it
these tests skip, except under CI, where they fail. Each test gets a schema of its own.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest

from purposeful.errors import (
    ConfigurationError,
    SharingStoreError,
    StoreClosed,
    StoreCorrupt,
    StoreUnavailable,
    StoreVersionError,
)
from purposeful.sharing import Collection, Disclosure
from purposeful.sharing.ipp3a import IPP3AException
from purposeful.sharing.values import new_id

try:
    import psycopg
    from psycopg import sql

    from purposeful.consent.postgres import PostgresConsentStore
    from purposeful.sharing.postgres import (
        SCHEMA_VERSION,
        STORE_KIND,
        VERSION_TABLE,
        PostgresSharingStore,
    )
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("psycopg is not installed: pip install -e '.[test]'", allow_module_level=True)

Admin = psycopg.Connection[tuple[object, ...]]

T0 = datetime(2026, 5, 4, 9, 30, 15, 123456, tzinfo=UTC)
DAY = timedelta(days=1)
NZ = timezone(timedelta(hours=12))
SECRET_SUBJECT = "C-\u2604-secret-subject"


@pytest.fixture
def admin(postgres_schema: tuple[str, str]) -> Iterator[Admin]:
    """A plain connection to the test database, for looking behind the store's back."""
    dsn, _ = postgres_schema
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection


def run(
    admin: Admin, schema: str, statement: str, params: Sequence[object] = ()
) -> list[tuple[object, ...]]:
    """Run *statement*, with ``{schema}`` standing for the quoted schema name; its rows."""
    cursor = admin.execute(sql.SQL(statement).format(schema=sql.Identifier(schema)), params)
    return cursor.fetchall() if cursor.description else []


def count(admin: Admin, schema: str, table: str) -> int:
    return int(run(admin, schema, f"SELECT count(*) FROM {{schema}}.{table}")[0][0])


def disclosure(subject: str = "C-1001", **changes: object) -> Disclosure:
    values: dict[str, object] = {
        "id": new_id(),
        "subject": subject,
        "at": T0,
        "recipient": "Kāinga Ora",
        "agreement": "housing-referrals",
        "agreement_name": "Housing referrals",
        "purpose": "service-delivery.referral",
        "basis": "approved information sharing agreement: Housing support referrals AISA",
        "record_type": "Note",
        "record_key": "N-1",
        "fields": ("address", "phone"),
    }
    values.update(changes)
    return Disclosure(**values)


def collect(store: PostgresSharingStore, subject: str = "C-1001", **changes: object) -> Collection:
    values: dict[str, object] = {
        "record_type": "Referral",
        "record_key": "R-1",
        "source": "NZ Police",
        "purpose": "service-delivery.referral",
        "law": "Family Violence Act 2018 s 20",
        "at": T0,
    }
    values.update(changes)
    return store.record_collection(subject, **values)


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


# --- the tables ---


def test_opening_creates_the_version_table_and_the_four_tables(
    postgres_schema: tuple[str, str], admin: Admin
) -> None:
    dsn, schema = postgres_schema
    with PostgresSharingStore(dsn, schema=schema):
        pass
    tables = admin.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]
    ).fetchall()
    assert tables == [
        ("collections",),
        ("correction_notices",),
        ("disclosures",),
        ("provenance",),
        (VERSION_TABLE,),
    ]
    assert run(admin, schema, f"SELECT kind, version FROM {{schema}}.{VERSION_TABLE}") == [
        (STORE_KIND, SCHEMA_VERSION)
    ]
    indexes = {
        name
        for (name,) in admin.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s", [schema]
        ).fetchall()
    }
    assert {
        "disclosures_by_subject",
        "disclosures_by_record",
        "disclosures_id_unique",
        "correction_notices_once",
        "correction_notices_by_correction",
        "collections_by_subject",
        "collections_to_tell",
        "collections_id_unique",
        "provenance_by_subject",
        "provenance_id_unique",
    } <= indexes


def test_a_consent_store_and_a_sharing_store_share_one_schema(
    postgres_schema: tuple[str, str], admin: Admin
) -> None:
    dsn, schema = postgres_schema
    opened = at_once(
        [
            lambda: PostgresConsentStore(dsn, schema=schema),
            lambda: PostgresSharingStore(dsn, schema=schema),
            lambda: PostgresConsentStore(dsn, schema=schema),
            lambda: PostgresSharingStore(dsn, schema=schema),
        ]
    )
    for store in opened:
        assert isinstance(store, PostgresConsentStore | PostgresSharingStore), store
        store.close()
    with (
        PostgresConsentStore(dsn, schema=schema) as consent,
        PostgresSharingStore(dsn, schema=schema) as sharing,
    ):
        given = consent.give("C-1001", "research", at=T0)
        made = sharing.log(disclosure())
        assert consent.history("C-1001") == [given]
        assert sharing.disclosures("C-1001") == [made]
    tables = {
        name
        for (name,) in admin.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema]
        ).fetchall()
    }
    assert tables == {
        "purposeful_store",
        "consent_events",
        VERSION_TABLE,
        "disclosures",
        "correction_notices",
        "collections",
        "provenance",
    }


def test_reopening_keeps_everything_exactly_as_written(postgres_schema: tuple[str, str]) -> None:
    dsn, schema = postgres_schema
    correction = new_id()
    with PostgresSharingStore(dsn, schema=schema) as store:
        made = store.log(disclosure(at=T0.astimezone(NZ), statements=(new_id(), new_id())))
        plain = store.log(disclosure(fields="address", recipient="NZ Police", at=T0 + DAY))
        told = store.record_told(made.id, correction, how="email ☃", at=T0 + DAY)
        pending = collect(store, law=None)
        excepted = store.mark_exception(
            collect(store, at=T0 - DAY).id, exception=IPP3AException.ALREADY_AWARE, at=T0
        )
    with PostgresSharingStore(dsn, schema=schema) as store:
        again = store.disclosures("C-1001")
        assert again == [made, plain]
        assert all(d.at.tzinfo is UTC for d in again)
        assert store.notices(correction) == [told]
        assert store.collections("C-1001") == [excepted, pending]
        assert store.still_to_be_told() == [pending]
        assert store.still_to_tell(correction, "C-1001", "Note", "N-1", "address") == [plain]


# --- several services at once ---


def test_two_services_resolving_the_same_collections_leave_one_winner_each(
    postgres_schema: tuple[str, str],
) -> None:
    dsn, schema = postgres_schema
    with (
        PostgresSharingStore(dsn, schema=schema) as first,
        PostgresSharingStore(dsn, schema=schema) as second,
    ):
        for n in range(5):
            collected = collect(first, record_key=f"R-{n}")
            outcomes = at_once(
                [
                    functools.partial(first.mark_told, collected.id, how="letter"),
                    functools.partial(
                        second.mark_exception, collected.id, exception=IPP3AException.ALREADY_AWARE
                    ),
                ]
            )
            won = [o for o in outcomes if isinstance(o, Collection)]
            lost = [o for o in outcomes if isinstance(o, SharingStoreError)]
            assert len(won) == len(lost) == 1, outcomes
            assert f"collection {collected.id} is resolved already: {won[0].status.value}" in str(
                lost[0]
            )
            assert second.collections("C-1001")[-1] == won[0]
        assert first.still_to_be_told() == []


def test_two_services_telling_one_party_at_once_record_it_once(
    postgres_schema: tuple[str, str], admin: Admin
) -> None:
    dsn, schema = postgres_schema
    with (
        PostgresSharingStore(dsn, schema=schema) as first,
        PostgresSharingStore(dsn, schema=schema) as second,
    ):
        made = first.log(disclosure())
        for _ in range(5):
            correction = new_id()
            outcomes = at_once(
                [
                    functools.partial(first.record_told, made.id, correction, how="email"),
                    functools.partial(second.record_told, made.id, correction, how="letter"),
                ]
            )
            assert sorted(type(o).__name__ for o in outcomes) == [
                "CorrectionNotice",
                "SharingStoreError",
            ], outcomes
            assert len(second.notices(correction)) == 1
    assert count(admin, schema, "correction_notices") == 5


def test_the_same_disclosure_logged_by_two_services_at_once_is_stored_once(
    postgres_schema: tuple[str, str], admin: Admin
) -> None:
    dsn, schema = postgres_schema
    with (
        PostgresSharingStore(dsn, schema=schema) as first,
        PostgresSharingStore(dsn, schema=schema) as second,
    ):
        for _ in range(5):
            made = disclosure()
            assert at_once(
                [functools.partial(first.log, made), functools.partial(second.log, made)]
            ) == [made, made]
    assert count(admin, schema, "disclosures") == 5


# --- connections ---


def test_a_lost_connection_is_replaced_on_the_next_call(
    postgres_store: PostgresSharingStore, admin: Admin
) -> None:
    made = postgres_store.log(disclosure())
    collected = collect(postgres_store)
    calls: list[Callable[[], object]] = [
        lambda: postgres_store.disclosures("C-1001"),
        lambda: postgres_store.log(disclosure(at=T0 + DAY)),
        lambda: postgres_store.record_told(made.id, new_id(), how="email"),
        lambda: postgres_store.mark_told(collected.id, how="letter"),
    ]
    for call in calls:
        connection = postgres_store._database._connection
        assert connection is not None
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.info.backend_pid])
        call()
    assert len(postgres_store.disclosures("C-1001")) == 2
    assert postgres_store.still_to_be_told() == []


def test_a_connection_lost_while_committing_says_the_outcome_is_unknown(
    postgres_store: PostgresSharingStore, postgres_schema: tuple[str, str], admin: Admin
) -> None:
    """A deferred trigger kills the store's own connection at COMMIT: the one moment at
    which it cannot know whether the write was kept. Logging the same disclosure again is
    then safe, as the message says."""
    _, schema = postgres_schema
    run(
        admin,
        schema,
        "CREATE FUNCTION {schema}.die() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$",
    )
    run(
        admin,
        schema,
        "CREATE CONSTRAINT TRIGGER die AFTER INSERT ON {schema}.disclosures "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {schema}.die()",
    )
    made = disclosure(SECRET_SUBJECT)
    with pytest.raises(StoreUnavailable, match="lost while committing a disclosure") as lost:
        postgres_store.log(made)
    assert "log the same Disclosure again" in str(lost.value)
    assert SECRET_SUBJECT not in str(lost.value)
    run(admin, schema, "DROP TRIGGER die ON {schema}.disclosures")
    assert postgres_store.log(made) == made
    assert postgres_store.log(made) == made
    assert postgres_store.disclosures(SECRET_SUBJECT) == [made]


def test_an_unreachable_server_is_unavailable_and_names_the_host() -> None:
    password = f"pw-{uuid.uuid4().hex}"
    dsn = f"postgresql://sharing:{password}@127.0.0.1:{free_port()}/agency"
    with pytest.raises(
        StoreUnavailable, match=r"PostgreSQL sharing store \(host 127\.0\.0\.1"
    ) as refusal:
        PostgresSharingStore(dsn, connect_timeout=2)
    assert password not in str(refusal.value)


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"dsn": "host='db.internal password=s3cret-value"}, "malformed"),
        ({"dsn": b"host=db"}, "PostgresSharingStore takes a DSN string"),
        ({"dsn": "host=db", "schema": ""}, "schema= must be a PostgreSQL schema name"),
        ({"dsn": "host=db", "connect_timeout": 0}, "connect_timeout must be a positive"),
    ],
)
def test_bad_settings_are_configuration_errors(arguments: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as refused:
        PostgresSharingStore(**arguments)
    assert "s3cret-value" not in str(refused.value)


# --- versions and damage ---


def test_a_store_written_by_a_newer_purposeful_is_refused(
    postgres_schema: tuple[str, str], admin: Admin
) -> None:
    dsn, schema = postgres_schema
    PostgresSharingStore(dsn, schema=schema).close()
    run(admin, schema, f"UPDATE {{schema}}.{VERSION_TABLE} SET version = version + 1")
    with pytest.raises(StoreVersionError, match=f"version {SCHEMA_VERSION + 1}"):
        PostgresSharingStore(dsn, schema=schema)


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
    with PostgresSharingStore(dsn, schema=schema) as store:
        store.log(disclosure())
    assert run(admin, schema, f"SELECT version FROM {{schema}}.{VERSION_TABLE}") == [
        (SCHEMA_VERSION,)
    ]


@pytest.mark.parametrize(
    "tables",
    [
        pytest.param(["CREATE TABLE {schema}.disclosures (id integer)"], id="no-version"),
        pytest.param(["CREATE TABLE {schema}.collections (id integer)"], id="no-version-2"),
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
                "CREATE TABLE {schema}.disclosures (seq bigint, subject text)",
            ],
            id="other-columns",
        ),
    ],
)
def test_tables_that_are_not_a_sharing_store_are_corrupt(
    postgres_schema: tuple[str, str], admin: Admin, tables: list[str]
) -> None:
    dsn, schema = postgres_schema
    run(admin, schema, "CREATE SCHEMA {schema}")
    for statement in tables:
        run(admin, schema, statement)
    with pytest.raises(StoreCorrupt, match="not a purposeful sharing store"):
        PostgresSharingStore(dsn, schema=schema)


def test_tables_dropped_under_an_open_store_are_corrupt_and_no_subject_is_named(
    postgres_store: PostgresSharingStore, postgres_schema: tuple[str, str], admin: Admin
) -> None:
    _, schema = postgres_schema
    made = postgres_store.log(disclosure(SECRET_SUBJECT))
    run(admin, schema, "DROP TABLE {schema}.disclosures, {schema}.collections")
    calls: list[Callable[[], object]] = [
        lambda: postgres_store.disclosures(SECRET_SUBJECT),
        lambda: postgres_store.log(disclosure(SECRET_SUBJECT)),
        lambda: postgres_store.record_told(made.id, new_id(), how="email"),
        lambda: collect(postgres_store, SECRET_SUBJECT),
        lambda: postgres_store.still_to_be_told(SECRET_SUBJECT),
    ]
    for call in calls:
        with pytest.raises(StoreCorrupt, match="sharing store's tables") as failure:
            call()
        assert SECRET_SUBJECT not in str(failure.value)
        assert failure.value.__cause__ is None
        assert failure.value.__suppress_context__


@pytest.mark.parametrize(
    ("tamper", "what"),
    [
        ("UPDATE {schema}.disclosures SET fields = ARRAY['not a field ☃']", "a disclosure"),
        ("UPDATE {schema}.collections SET status = 'maybe ☃'", "a collection"),
        ("UPDATE {schema}.correction_notices SET how = ''", "a correction notice"),
    ],
)
def test_a_row_changed_outside_purposeful_is_reported_without_its_content(
    postgres_store: PostgresSharingStore,
    postgres_schema: tuple[str, str],
    admin: Admin,
    tamper: str,
    what: str,
) -> None:
    _, schema = postgres_schema
    made = postgres_store.log(disclosure(SECRET_SUBJECT))
    correction = new_id()
    postgres_store.record_told(made.id, correction, how="email")
    collected = collect(postgres_store, SECRET_SUBJECT)
    run(admin, schema, tamper)
    calls: dict[str, list[Callable[[], object]]] = {
        "a disclosure": [
            lambda: postgres_store.disclosures(SECRET_SUBJECT),
            lambda: postgres_store.log(made),
        ],
        "a collection": [
            lambda: postgres_store.collections(SECRET_SUBJECT),
            lambda: postgres_store.mark_told(collected.id, how="letter"),
        ],
        "a correction notice": [lambda: postgres_store.notices(correction)],
    }
    for call in calls[what]:
        with pytest.raises(StoreCorrupt, match=f"{what} in schema .* cannot be read") as failure:
            call()
        assert SECRET_SUBJECT not in str(failure.value)
        assert "☃" not in str(failure.value)
        assert failure.value.__cause__ is None


def test_a_closed_store_raises_store_closed_and_lets_its_connection_go(
    postgres_schema: tuple[str, str],
) -> None:
    dsn, schema = postgres_schema
    store = PostgresSharingStore(dsn, schema=schema)
    with store:
        store.log(disclosure())
    assert store.closed
    assert store._database._connection is None
    assert store._database.closed
    with pytest.raises(StoreClosed):
        store.disclosures("C-1001")
    with pytest.raises(StoreClosed, match="this PostgresSharingStore is closed"):
        store._database.run("reading", lambda connection: None)
    store.close()  # closing twice is harmless
