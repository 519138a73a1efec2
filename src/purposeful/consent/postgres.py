"""A PostgreSQL consent store, for several services sharing one consent history.

Needs psycopg 3: ``pip install 'purposeful[postgres]'``. The store keeps its tables in one
schema (``purposeful`` by default), creates them when they are missing and migrates older
ones forward; a store written by a newer purposeful is refused, never downgraded.

What it must not do: hold a lock across two calls, write half an event, put a subject id,
an event's content or a password in an error message, or drop, alter or read anything
outside its schema's two tables.

How it stays correct with many writers:

- every process holds one connection, shared by its threads under a lock;
- an append is one transaction that first takes a transaction-scoped advisory lock on the
  subject, then reads the subject's history, checks that the event fits and inserts it. Two
  services recording for the same person wait for each other; any error rolls it all back;
- creating and migrating the tables is one transaction under an advisory lock on the
  schema, so several processes can start at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, LiteralString, TypeAlias, TypeVar

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from ..errors import (
    ConfigurationError,
    ConsentStoreError,
    InvalidConsentEvent,
    StoreCorrupt,
    StoreError,
    StoreUnavailable,
    StoreVersionError,
)
from ..purposes import PurposeRegistry
from .events import ConsentEvent, from_row, to_row
from .store import BaseConsentStore

__all__ = ["PostgresConsentStore"]

T = TypeVar("T")
Connection: TypeAlias = psycopg.Connection[tuple[Any, ...]]

#: The kind written in the version table: a table of that name without it is not ours.
STORE_KIND = "purposeful consent store"

#: How long an append waits for another writer's lock on the same subject.
LOCK_TIMEOUT = "30s"

#: Forward migrations: entry *n* takes the tables from version *n* to *n* + 1. Statements
#: are formatted with the quoted schema name; every one is idempotent.
MIGRATIONS: tuple[tuple[LiteralString, ...], ...] = (
    (
        """
        CREATE TABLE IF NOT EXISTS {schema}.consent_events (
            seq bigserial PRIMARY KEY,
            event_id text NOT NULL,
            subject text NOT NULL,
            purpose text NOT NULL,
            state text NOT NULL,
            expressed_at timestamptz NOT NULL,
            by_kind text NOT NULL,
            by_relationship text,
            by_authority text,
            by_detail text,
            by_actor text,
            by_reason text,
            method text NOT NULL,
            notice_version text NOT NULL,
            expires_at timestamptz,
            evidence text,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT consent_events_event_id_unique UNIQUE (event_id)
        )
        """,
        """
        CREATE INDEX IF NOT EXISTS consent_events_history
            ON {schema}.consent_events (subject, purpose, seq)
        """,
        """
        CREATE INDEX IF NOT EXISTS consent_events_expiry
            ON {schema}.consent_events (expires_at) WHERE expires_at IS NOT NULL
        """,
    ),
)

#: The version this purposeful writes.
SCHEMA_VERSION = len(MIGRATIONS)

#: The events table's columns that hold a `ConsentEvent`, in `events.ROW_FIELDS` order.
EVENT_COLUMNS = (
    "event_id",
    "subject",
    "purpose",
    "state",
    "expressed_at",
    "expires_at",
    "by_kind",
    "by_relationship",
    "by_authority",
    "by_detail",
    "by_actor",
    "by_reason",
    "method",
    "notice_version",
    "evidence",
)

# SQLSTATEs, by what they mean for the caller.
_TIMED_OUT = {"55P03", "57014"}  # lock_not_available, query_canceled
_GONE = {"57P01", "57P02", "57P03", "53300"}  # shutdown, crash, cannot connect now, too many
_NOT_OURS = {"42P01", "42703", "3F000", "42809"}  # no table, no column, no schema, wrong kind
_NOT_ALLOWED = {"42501"}


class PostgresConsentStore(BaseConsentStore):
    """A consent store in a PostgreSQL schema, shared by services and their threads.

    Args:
        dsn: a libpq connection string or URI, such as
            ``postgresql://consent@db.internal:5432/agency``. Its password never appears in
            an error message.
        schema: the schema that holds the store's tables; created if missing.
        registry: the purposes events may name; default: the configured registry.
        connect_timeout: seconds to wait for the server when connecting.

    The database role needs USAGE on the schema, SELECT and INSERT on its tables and USAGE
    on the events sequence; creating or migrating the tables also needs CREATE. Open the
    store after forking, not before: a connection must not cross a fork.

    Raises:
        ConfigurationError: a malformed DSN or schema name, or a timeout that is not positive.
        StoreUnavailable: the server cannot be reached or refused the connection.
        StoreCorrupt: the schema holds tables of these names that are not a consent store.
        StoreVersionError: the tables were written by a newer purposeful.
        ConsentStoreError: anything else PostgreSQL refused (a missing privilege, say).
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "purposeful",
        registry: PurposeRegistry | None = None,
        connect_timeout: float = 10,
    ) -> None:
        super().__init__(registry=registry)
        self._dsn = dsn
        self._params = _parse_dsn(dsn)
        self._schema = _check_schema(schema)
        if (
            isinstance(connect_timeout, bool)
            or not isinstance(connect_timeout, int | float)
            or not connect_timeout > 0
        ):
            raise ConfigurationError("connect_timeout must be a positive number of seconds")
        # libpq takes whole seconds and treats anything under 2 as 2.
        self._connect_timeout = max(2, math.ceil(connect_timeout))
        self._where = _describe_server(self._params)
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._sql = _Statements(schema)
        try:
            self._run("opening the consent store", self._prepare)
        except BaseException:
            self._discard()
            self._closed = True
            raise

    # --- the backend ---

    def _append(self, event: ConsentEvent, fits: Callable[[Sequence[ConsentEvent]], None]) -> None:
        row = to_row(event)
        progress = _Progress()

        def append(connection: Connection) -> None:
            progress.stage = "locking"
            with connection.transaction():
                connection.execute(
                    self._sql.lock, [_lock_key(f"subject\n{self._schema}\n{event.subject}")]
                )
                history = self._read(connection, event.subject, None)
                fits(history)
                progress.stage = "writing"
                try:
                    connection.execute(self._sql.insert, row)
                except psycopg.errors.UniqueViolation as exc:
                    if exc.diag.constraint_name != "consent_events_event_id_unique":
                        raise
                    raise InvalidConsentEvent(
                        "a consent event with this event id is already recorded (for another "
                        "subject); events are never edited: record a new event with a new id"
                    ) from None
                progress.stage = "committing"

        try:
            self._run(
                "recording a consent event",
                append,
                may_retry=lambda: progress.stage == "locking",
            )
        except StoreUnavailable:
            if progress.stage != "committing":
                raise
            raise StoreUnavailable(
                f"the connection to the PostgreSQL consent store ({self._where}) was lost "
                f"while committing a consent event, so it may or may not be recorded: check "
                f"history() before recording it again (the same event again is refused on its "
                f"event id, never stored twice)"
            ) from None

    def _events(self, subject: str, purposes: Sequence[str] | None = None) -> list[ConsentEvent]:
        if not _storable(subject):
            return []  # no event can hold such a subject id
        wanted = None if purposes is None else list(purposes)
        return self._run(
            "reading a consent history",
            lambda connection: self._read(connection, subject, wanted),
        )

    def _expiring_candidates(self, start: datetime, end: datetime) -> Iterable[tuple[str, str]]:
        def candidates(connection: Connection) -> list[tuple[str, str]]:
            rows = connection.execute(self._sql.expiring, [start, end]).fetchall()
            return [(str(subject), str(purpose)) for subject, purpose in rows]

        return self._run("listing expiring consents", candidates)

    def _close(self) -> None:
        with self._lock:
            self._discard()

    # --- reading and writing ---

    def _read(
        self, connection: Connection, subject: str, purposes: list[str] | None
    ) -> list[ConsentEvent]:
        if purposes is None:
            rows = connection.execute(self._sql.history, [subject]).fetchall()
        else:
            rows = connection.execute(self._sql.history_about, [subject, purposes]).fetchall()
        return [self._event(row) for row in rows]

    def _event(self, row: tuple[Any, ...]) -> ConsentEvent:
        try:
            return from_row(row)
        except (ValueError, TypeError):  # InvalidConsentEvent is a ValueError
            raise StoreCorrupt(
                f"a consent event in schema {self._schema!r} cannot be read back: its row was "
                f"changed outside purposeful; restore it from a backup"
            ) from None

    # --- creating and migrating the tables ---

    def _prepare(self, connection: Connection) -> None:
        with connection.transaction():
            connection.execute(self._sql.lock, [_lock_key(f"schema\n{self._schema}")])
            found = connection.execute(
                "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)", [self._schema]
            ).fetchone()
            if not (found and found[0]):
                connection.execute(self._sql.create_schema)
            tables = self._tables(connection)
            if "purposeful_store" in tables:
                version = self._version(connection, tables["purposeful_store"])
            elif "consent_events" in tables:
                raise self._not_ours("a consent_events table without a purposeful_store table")
            else:
                connection.execute(self._sql.create_version_table)
                connection.execute(self._sql.insert_version, [STORE_KIND])
                version = 0
            if version > SCHEMA_VERSION:
                raise StoreVersionError(
                    f"the consent store in schema {self._schema!r} is at version {version}, "
                    f"written by a newer purposeful than this one (which reads up to version "
                    f"{SCHEMA_VERSION}); upgrade purposeful to use it"
                )
            for statements in MIGRATIONS[version:]:
                for statement in statements:
                    connection.execute(self._sql.format(statement))
            if version < SCHEMA_VERSION:
                connection.execute(self._sql.set_version, [SCHEMA_VERSION])
            self._check_events_table(connection)

    def _tables(self, connection: Connection) -> dict[str, str]:
        rows = connection.execute(
            """
            SELECT c.relname, c.relkind FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relname IN ('purposeful_store', 'consent_events')
            """,
            [self._schema],
        ).fetchall()
        return {str(name): str(kind) for name, kind in rows}

    def _version(self, connection: Connection, relkind: str) -> int:
        if relkind not in ("r", "p"):
            raise self._not_ours("purposeful_store is not a table")
        try:
            rows = connection.execute(self._sql.select_version).fetchall()
        except psycopg.errors.UndefinedColumn:
            raise self._not_ours("purposeful_store has other columns") from None
        if (
            len(rows) != 1
            or rows[0][0] != STORE_KIND
            or not isinstance(rows[0][1], int)
            or isinstance(rows[0][1], bool)
        ):
            raise self._not_ours("purposeful_store does not name a purposeful consent store")
        version: int = rows[0][1]
        return version

    def _check_events_table(self, connection: Connection) -> None:
        rows = connection.execute(
            """
            SELECT a.attname FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relname = 'consent_events' AND c.relkind IN ('r', 'p')
              AND a.attnum > 0 AND NOT a.attisdropped
            """,
            [self._schema],
        ).fetchall()
        missing = set(EVENT_COLUMNS) - {str(name) for (name,) in rows}
        if missing:
            raise self._not_ours(f"consent_events lacks the columns {', '.join(sorted(missing))}")

    def _not_ours(self, what: str) -> StoreCorrupt:
        return StoreCorrupt(
            f"schema {self._schema!r} holds tables that are not a purposeful consent store "
            f"({what}); give the store a schema of its own with schema=..."
        )

    # --- the connection ---

    def _run(
        self,
        action: str,
        work: Callable[[Connection], T],
        *,
        may_retry: Callable[[], bool] = lambda: True,
    ) -> T:
        """Run *work* on the connection, under the lock, translating PostgreSQL's errors.

        A connection that was idle and turns out to be gone (the server restarted, an idle
        timeout) is replaced and *work* run once more, if *may_retry* says nothing was
        written yet.
        """
        with self._lock:
            connection, fresh = self._session()
            try:
                return work(connection)
            except psycopg.Error as exc:
                if fresh or not connection.broken or not may_retry():
                    raise self._failure(exc, action, connection) from None
            self._discard()
            connection, _ = self._session()
            try:
                return work(connection)
            except psycopg.Error as exc:
                raise self._failure(exc, action, connection) from None

    def _session(self) -> tuple[Connection, bool]:
        """The open connection, and whether it was opened just now."""
        self._check_open()
        connection = self._connection
        if connection is not None and (
            connection.broken or connection.info.transaction_status != TransactionStatus.IDLE
        ):
            self._discard()
            connection = None
        if connection is not None:
            return connection, False
        self._connection = self._connect()
        return self._connection, True

    def _connect(self) -> Connection:
        extra: dict[str, Any] = {}
        if "application_name" not in self._params and "PGAPPNAME" not in os.environ:
            extra["application_name"] = "purposeful consent store"
        try:
            connection = psycopg.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=self._connect_timeout,
                client_encoding="UTF8",
                **extra,
            )
        except (psycopg.Error, OSError) as exc:
            raise StoreUnavailable(
                f"cannot reach the PostgreSQL consent store ({self._where}): "
                f"{self._scrub(str(exc))}; check that the server is up and that the DSN's "
                f"host, port, user and password are right"
            ) from None
        try:
            connection.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
            connection.execute(
                "SELECT set_config('TimeZone', 'UTC', false), "
                "set_config('lock_timeout', %s, false)",
                [LOCK_TIMEOUT],
            )
        except psycopg.Error as exc:
            failure = self._failure(exc, "starting a session", connection)
            connection.close()
            raise failure from None
        return connection

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(psycopg.Error):  # it is gone either way
                connection.close()

    def _failure(self, exc: psycopg.Error, action: str, connection: Connection) -> StoreError:
        """A purposeful error for *exc*, without its text: PostgreSQL's details can quote
        the values of a row, and so a subject id."""
        state = exc.sqlstate
        name = type(exc).__name__
        if state in _TIMED_OUT:
            return StoreUnavailable(
                f"{action} timed out waiting for another writer or the server ({name}); try again"
            )
        if (
            connection.broken
            or (isinstance(exc, psycopg.OperationalError) and state is None)
            or (state is not None and state.startswith("08"))
            or state in _GONE
        ):
            self._discard()
            return StoreUnavailable(
                f"{action} failed: the connection to the PostgreSQL consent store "
                f"({self._where}) was lost ({name}); the next call reconnects"
            )
        if state in _NOT_OURS:
            return StoreCorrupt(
                f"{action} failed: the consent store's tables in schema {self._schema!r} are "
                f"missing or not a purposeful consent store ({name}); restore them, or open "
                f"the store on an empty schema to create them"
            )
        if state in _NOT_ALLOWED:
            return ConsentStoreError(
                f"{action} failed: the database role may not use the consent store in schema "
                f"{self._schema!r}; grant it USAGE on the schema, SELECT and INSERT on its "
                f"tables and USAGE on its sequence (and CREATE, to create or migrate them)"
            )
        return ConsentStoreError(
            f"{action} failed in PostgreSQL ({name}, SQLSTATE {state or 'none'}); nothing was "
            f"written"
        )

    def _scrub(self, text: str) -> str:
        """A libpq message on one line, with any password cut out."""
        for password in (self._params.get("password"), os.environ.get("PGPASSWORD")):
            if password:
                text = text.replace(password, "***")
        return " ".join(text.split())


class _Progress:
    """How far an append got: whether a failure can have written anything."""

    stage = "starting"


class _Statements:
    """The store's SQL, with its schema name quoted once."""

    def __init__(self, schema: str) -> None:
        self.schema = sql.Identifier(schema)
        table = sql.SQL("{}.consent_events").format(self.schema)
        columns = sql.SQL(", ").join(sql.Identifier(name) for name in EVENT_COLUMNS)
        self.lock = sql.SQL("SELECT pg_advisory_xact_lock(%s::bigint)")
        self.create_schema = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(self.schema)
        self.create_version_table = self.format(
            """
            CREATE TABLE IF NOT EXISTS {schema}.purposeful_store (
                only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                kind text NOT NULL,
                version integer NOT NULL
            )
            """
        )
        self.insert_version = self.format(
            "INSERT INTO {schema}.purposeful_store (kind, version) VALUES (%s, 0) "
            "ON CONFLICT DO NOTHING"
        )
        self.select_version = self.format("SELECT kind, version FROM {schema}.purposeful_store")
        self.set_version = self.format("UPDATE {schema}.purposeful_store SET version = %s")
        self.history = sql.SQL("SELECT {} FROM {} WHERE subject = %s ORDER BY seq").format(
            columns, table
        )
        self.history_about = sql.SQL(
            "SELECT {} FROM {} WHERE subject = %s AND purpose = ANY(%s::text[]) ORDER BY seq"
        ).format(columns, table)
        self.insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            table, columns, sql.SQL(", ").join(sql.Placeholder() * len(EVENT_COLUMNS))
        )
        self.expiring = sql.SQL(
            "SELECT DISTINCT subject, purpose FROM {} WHERE expires_at >= %s AND expires_at < %s"
        ).format(table)

    def format(self, statement: LiteralString) -> sql.Composed:
        return sql.SQL(statement).format(schema=self.schema)


def _storable(text: str) -> bool:
    """True if PostgreSQL can store *text* (UTF-8 without NUL)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lock_key(name: str) -> int:
    """A stable 64-bit advisory-lock key for *name* (the same in every process)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8, person=b"purposeful").digest()
    return int.from_bytes(digest, "big", signed=True)


def _parse_dsn(dsn: object) -> dict[str, Any]:
    if not isinstance(dsn, str):
        raise ConfigurationError(
            f"PostgresConsentStore takes a DSN string, not {type(dsn).__name__}"
        )
    try:
        return conninfo_to_dict(dsn)
    except psycopg.Error:
        raise ConfigurationError(
            "the PostgreSQL DSN is malformed (it is not shown: it may hold a password); use "
            "'postgresql://user@host:5432/database' or 'host=... dbname=...'"
        ) from None


def _check_schema(schema: object) -> str:
    if (
        not isinstance(schema, str)
        or not schema.strip()
        or not _storable(schema)
        or len(schema.encode("utf-8")) > 63
    ):
        raise ConfigurationError(
            "schema= must be a PostgreSQL schema name: a non-empty string of at most 63 bytes"
        )
    return schema


def _describe_server(params: dict[str, Any]) -> str:
    """Host, port and database for messages (never the user's password)."""
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    database = params.get("dbname") or os.environ.get("PGDATABASE") or "the default database"
    return f"host {host}, port {port}, database {database}"
