"""A PostgreSQL consent store, for several services sharing one consent history.

Needs psycopg 3: ``pip install 'purposeful[postgres]'``. The store keeps its tables in one
schema (``purposeful`` by default), creates them when they are missing and migrates older
ones forward; a store written by a newer purposeful is refused, never downgraded. The
connection, the version table, migrations and errors are `purposeful._shared.postgres`'s
(`PostgresSchema`); here are the events table, its queries and one rule.

What it must not do: hold a lock across two calls, write half an event, put a subject id,
an event's content or a password in an error message, or drop, alter or read anything
outside its schema's two tables.

How it stays correct with many writers:

- every process holds a small pool of connections, each lent to one call at a time, and
  no lock is held while a query runs;
- an append is one transaction that first takes a transaction-scoped advisory lock on the
  subject, then reads the subject's history, checks that the event fits and inserts it. Two
  services recording for the same person wait for each other; any error rolls it all back;
- creating and migrating the tables is one transaction under an advisory lock on the
  schema, so several processes can start at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, LiteralString

from .._shared.checks import storable
from .._shared.postgres import DEFAULT_TIMEOUT, Connection, PostgresSchema, lock_key, psycopg, sql
from ..errors import ConsentStoreError, InvalidConsentEvent
from ..purposes import PurposeRegistry
from .events import ConsentEvent, from_row, to_row
from .store import DEFAULT_FUTURE_SKEW, BaseConsentStore

__all__ = ["PostgresConsentStore"]

#: What the store is, for messages.
KIND = "consent store"

#: The kind written in the version table: a table of that name without it is not ours.
STORE_KIND = f"purposeful {KIND}"

#: The table naming the kind and the schema version (the first store's, so plain).
VERSION_TABLE = "purposeful_store"

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
    # Version 2: a representative's verification and, for an attorney for personal care
    # and welfare, the recorded lack of capacity. Rows of version 1 keep them empty and
    # read back as a `LegacyRepresentative`.
    (
        """
        ALTER TABLE {schema}.consent_events
            ADD COLUMN IF NOT EXISTS by_verified_by text,
            ADD COLUMN IF NOT EXISTS by_verified_at timestamptz,
            ADD COLUMN IF NOT EXISTS by_incapacity_at timestamptz,
            ADD COLUMN IF NOT EXISTS by_incapacity_evidence text
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
    "by_verified_by",
    "by_verified_at",
    "by_incapacity_at",
    "by_incapacity_evidence",
)


class PostgresConsentStore(BaseConsentStore):
    """A consent store in a PostgreSQL schema, shared by services and their threads.

    Args:
        dsn: a libpq connection string or URI, such as
            ``postgresql://consent@db.internal:5432/agency``. Its password never appears in
            an error message.
        schema: the schema that holds the store's tables; created if missing.
        registry: the purposes events may name; default: the configured registry.
        future_skew: how far ahead of this machine's clock an event's time may be; one
            dated further ahead is refused (default 5 minutes).
        timeout: seconds any one wait on the server may take (a statement, connecting, a
            server that does not answer at all), after which the call raises
            `StoreUnavailable` and the next one reconnects; see docs/failure-modes.md.
        connect_timeout: seconds to wait for the server when connecting; default: *timeout*.

    The database role needs USAGE on the schema, SELECT and INSERT on its tables and USAGE
    on the events sequence; creating or migrating the tables also needs CREATE. A store
    opened before a fork may be used in the child, which opens connections of its own.

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
        future_skew: timedelta = DEFAULT_FUTURE_SKEW,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float | None = None,
    ) -> None:
        super().__init__(registry=registry, future_skew=future_skew)
        try:
            self._database = PostgresSchema(
                dsn,
                schema=schema,
                kind=KIND,
                owner="PostgresConsentStore",
                version_table=VERSION_TABLE,
                tables={"consent_events": EVENT_COLUMNS},
                migrations=MIGRATIONS,
                error=ConsentStoreError,
                privileges="SELECT and INSERT on its tables and USAGE on its sequence",
                timeout=timeout,
                connect_timeout=connect_timeout,
            )
        except BaseException:
            self._closed = True
            raise
        self._schema = schema
        self._sql = _Statements(self._database)
        #: the advisory lock writers share and a reader of the stamp takes alone
        self._writers = lock_key(f"writers\n{schema}")

    # --- the backend ---

    def _append(self, event: ConsentEvent, fits: Callable[[Sequence[ConsentEvent]], None]) -> None:
        row = to_row(event)

        def append(connection: Connection) -> None:
            # shared with every other writer, exclusive with a reader of the stamp: see
            # `_version`
            connection.execute("SELECT pg_advisory_xact_lock_shared(%s::bigint)", [self._writers])
            self._database.advisory_lock(connection, f"subject\n{self._schema}\n{event.subject}")
            history = self._read(connection, event.subject, None)
            fits(history)
            try:
                connection.execute(self._sql.insert, row)
            except psycopg.errors.UniqueViolation as exc:
                if exc.diag.constraint_name != "consent_events_event_id_unique":
                    raise
                raise InvalidConsentEvent(
                    "a consent event with this event id is already recorded (for another "
                    "subject); events are never edited: record a new event with a new id"
                ) from None

        self._database.write(
            "recording a consent event",
            append,
            unsure="a consent event, so it may or may not be recorded: check history() "
            "before recording it again (the same event again is refused on its event id, "
            "never stored twice)",
        )

    def _events(self, subject: str, purposes: Sequence[str] | None = None) -> list[ConsentEvent]:
        if not storable(subject):
            return []  # no event can hold such a subject id
        wanted = None if purposes is None else list(purposes)
        return self._database.run(
            "reading a consent history",
            lambda connection: self._read(connection, subject, wanted),
        )

    def _events_of(
        self, subjects: Sequence[str], purposes: Sequence[str]
    ) -> dict[str, list[ConsentEvent]]:
        return self._database.run(
            "reading consent histories",
            lambda connection: self._read_many(connection, subjects, purposes),
        )

    def _version(self) -> object:
        def version(connection: Connection) -> object:
            with connection.transaction():
                return self._stamp(connection)

        return self._database.run("reading the consent store's version", version)

    def _expiring_candidates(self, start: datetime, end: datetime) -> Iterable[tuple[str, str]]:
        def candidates(connection: Connection) -> list[tuple[str, str]]:
            rows = connection.execute(self._sql.expiring, [start, end]).fetchall()
            return [(str(subject), str(purpose)) for subject, purpose in rows]

        return self._database.run("listing expiring consents", candidates)

    def _close(self) -> None:
        self._database.close()

    # --- reading ---

    def _read(
        self, connection: Connection, subject: str, purposes: list[str] | None
    ) -> list[ConsentEvent]:
        if purposes is None:
            rows = connection.execute(self._sql.history, [subject]).fetchall()
        else:
            rows = connection.execute(self._sql.history_about, [subject, purposes]).fetchall()
        return [self._event(row) for row in rows]

    def _stamp(self, connection: Connection) -> object:
        """The highest event ``seq``, or None while a writer is in flight (called in a
        transaction). Sequence numbers are handed out before commit, so a writer could
        commit an event below a max already read; every writer holds a shared advisory lock
        from before it takes its number until it commits, so while this transaction holds
        the exclusive one (tried, never waited for) every number handed out is settled."""
        (free,) = connection.execute(
            "SELECT pg_try_advisory_xact_lock(%s::bigint)", [self._writers]
        ).fetchone() or (False,)
        if not free:
            return None
        row = connection.execute(self._sql.stamp).fetchone()
        return -1 if row is None or row[0] is None else int(row[0])

    def _read_many(
        self, connection: Connection, subjects: Sequence[str], purposes: Sequence[str]
    ) -> dict[str, list[ConsentEvent]]:
        wanted = [s for s in subjects if storable(s)]
        found: dict[str, list[ConsentEvent]] = {}
        if not wanted:
            return found
        rows = connection.execute(self._sql.many, [wanted, list(purposes)]).fetchall()
        for row in rows:
            event = self._event(row)
            found.setdefault(event.subject, []).append(event)
        return found

    def _event(self, row: tuple[Any, ...]) -> ConsentEvent:
        try:
            return from_row(row)
        except (ValueError, TypeError):  # InvalidConsentEvent is a ValueError
            raise self._database.corrupt("a consent event") from None


class _Statements:
    """The store's SQL, with its schema name quoted once."""

    def __init__(self, database: PostgresSchema) -> None:
        table = database.table("consent_events")
        columns = sql.SQL(", ").join(sql.Identifier(name) for name in EVENT_COLUMNS)
        self.history = sql.SQL("SELECT {} FROM {} WHERE subject = %s ORDER BY seq").format(
            columns, table
        )
        self.history_about = sql.SQL(
            "SELECT {} FROM {} WHERE subject = %s AND purpose = ANY(%s::text[]) ORDER BY seq"
        ).format(columns, table)
        self.many = sql.SQL(
            "SELECT {} FROM {} WHERE subject = ANY(%s::text[]) AND purpose = ANY(%s::text[]) "
            "ORDER BY seq"
        ).format(columns, table)
        self.stamp = sql.SQL("SELECT max(seq) FROM {}").format(table)
        self.insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            table, columns, sql.SQL(", ").join(sql.Placeholder() * len(EVENT_COLUMNS))
        )
        self.expiring = sql.SQL(
            "SELECT DISTINCT subject, purpose FROM {} WHERE expires_at >= %s AND expires_at < %s"
        ).format(table)
