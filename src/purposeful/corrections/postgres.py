"""A PostgreSQL correction store, for several services sharing one set of correction requests.

Needs psycopg 3: ``pip install 'purposeful[postgres]'``. The store keeps its table in one
schema (``purposeful`` by default, which it can share with the consent and sharing stores),
creates it when it is missing and migrates an older one forward; a store written by a newer
purposeful is refused, never downgraded. The connection, the version table, migrations and
errors are `purposeful._shared.postgres`'s (`PostgresSchema`); here are the table, its
queries and the rule that makes a decision happen once:

- a decision reads the request ``FOR UPDATE``, so of two services deciding it at once the
  second waits for the first to commit, then finds it decided (`InvalidCorrection`); the
  `apply` callback runs while the row is locked, inside the transaction that records the
  decision, and a failure anywhere rolls that transaction back. The row changes only if it
  is still in the state it was read in;
- once the callback has run, a lost connection is not retried behind the caller's back: the
  callback is called once per `apply`, as with every store.

What it must not do: hold a lock across two calls, write half of a request or a decision,
put a subject id, a record key, a requested value, a reason, a statement or a password in
an error message, or drop, alter or read anything outside its schema's own tables.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any, LiteralString

from .._shared.postgres import DEFAULT_TIMEOUT, Connection, PostgresSchema, sql
from ..errors import CorrectionStoreError, InvalidCorrection
from .store import BaseCorrectionStore
from .values import Correction, CorrectionStatus

__all__ = ["PostgresCorrectionStore"]

#: What the store is, for messages.
KIND = "correction store"

#: The kind written in the version table: a table of that name without it is not ours.
STORE_KIND = f"purposeful {KIND}"

#: The table naming the kind and the schema version; the consent store's is
#: ``purposeful_store`` and the sharing store's ``purposeful_sharing_store``, so all three
#: can share a schema.
VERSION_TABLE = "purposeful_correction_store"

#: Forward migrations: entry *n* takes the tables from version *n* to *n* + 1. Statements
#: are formatted with the quoted schema name; every one is idempotent.
MIGRATIONS: tuple[tuple[LiteralString, ...], ...] = (
    (
        """
        CREATE TABLE IF NOT EXISTS {schema}.corrections (
            seq bigserial PRIMARY KEY,
            id text NOT NULL,
            subject text NOT NULL,
            record_type text NOT NULL,
            record_key text NOT NULL,
            field text NOT NULL,
            requested text NOT NULL,
            reason text NOT NULL,
            requested_at timestamptz NOT NULL,
            status text NOT NULL,
            decided_at timestamptz,
            decided_by text,
            decision_note text,
            statement text,
            statement_at timestamptz,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT corrections_id_unique UNIQUE (id)
        )
        """,
        """
        CREATE INDEX IF NOT EXISTS corrections_by_subject
            ON {schema}.corrections (subject, requested_at, seq)
        """,
        """
        CREATE INDEX IF NOT EXISTS corrections_by_status
            ON {schema}.corrections (status, requested_at, seq)
        """,
    ),
)

#: The version this purposeful writes.
SCHEMA_VERSION = len(MIGRATIONS)

#: The table's columns that hold a `Correction`, in the order of its attributes.
COLUMNS = (
    "id",
    "subject",
    "record_type",
    "record_key",
    "field",
    "requested",
    "reason",
    "requested_at",
    "status",
    "decided_at",
    "decided_by",
    "decision_note",
    "statement",
    "statement_at",
)

#: Where the columns a decision changes start, in `COLUMNS`.
_DECISION = COLUMNS.index("status")


class PostgresCorrectionStore(BaseCorrectionStore):
    """A correction store in a PostgreSQL schema, shared by services and their threads.

    Args:
        dsn: a libpq connection string or URI, such as
            ``postgresql://corrections@db.internal:5432/agency``. Its password never appears
            in an error message.
        schema: the schema that holds the store's table; created if missing. It can be the
            consent or sharing store's.
        timeout: seconds any one wait on the server may take (a statement, connecting, a
            server that does not answer at all), after which the call raises
            `StoreUnavailable` and the next one reconnects; see docs/failure-modes.md.
        connect_timeout: seconds to wait for the server when connecting; default: *timeout*.

    The database role needs USAGE on the schema, SELECT, INSERT and UPDATE on its tables and
    USAGE on their sequence; creating or migrating the table also needs CREATE. A store
    opened before a fork may be used in the child, which opens connections of its own. An
    `apply` callback runs while one of the store's connections is busy: other threads use the
    others, and another process deciding the same request waits up to 30 seconds, then gets
    `StoreUnavailable`.

    Text holding a NUL character is refused with `InvalidCorrection` before anything is
    written (PostgreSQL's text cannot keep one; the SQLite and memory stores can), and
    looking up such a subject finds nothing.

    Raises:
        ConfigurationError: a malformed DSN or schema name, or a timeout that is not positive.
        StoreUnavailable: the server cannot be reached or refused the connection.
        StoreCorrupt: the schema holds tables of these names that are not a correction store.
        StoreVersionError: the table was written by a newer purposeful.
        CorrectionStoreError: anything else PostgreSQL refused (a missing privilege, say).
    """

    _keeps_nul = False  # PostgreSQL's text holds no NUL character

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "purposeful",
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float | None = None,
    ) -> None:
        super().__init__()
        try:
            self._database = PostgresSchema(
                dsn,
                schema=schema,
                kind=KIND,
                owner="PostgresCorrectionStore",
                version_table=VERSION_TABLE,
                tables={"corrections": COLUMNS},
                migrations=MIGRATIONS,
                error=CorrectionStoreError,
                privileges="SELECT, INSERT and UPDATE on its tables and USAGE on their sequences",
                timeout=timeout,
                connect_timeout=connect_timeout,
            )
        except BaseException:
            self._closed = True
            raise
        self._sql = _Statements(self._database)

    # --- the backend ---

    def _insert(self, correction: Correction) -> None:
        def insert(connection: Connection) -> None:
            connection.execute(self._sql.insert, _row(correction))

        self._database.write(
            "recording a correction request",
            insert,
            unsure="a correction request, so it may or may not be recorded: check "
            "for_subject() before recording it again",
        )

    def _load(self, correction_id: str) -> Correction | None:
        def load(connection: Connection) -> Correction | None:
            row = connection.execute(self._sql.by_id, [correction_id]).fetchone()
            return None if row is None else self._correction(row)

        return self._database.run("reading a correction request", load)

    def _change(
        self, correction_id: str, change: Callable[[Correction], Correction]
    ) -> Correction | None:
        changing = False

        def decide(connection: Connection) -> Correction | None:
            nonlocal changing
            row = connection.execute(self._sql.for_update, [correction_id]).fetchone()
            if row is None:
                return None
            current = self._correction(row)
            changing = True  # from here on the change (and an apply callback) has run
            changed = change(current)
            values = _row(changed)
            cursor = connection.execute(
                self._sql.decide, [*values[_DECISION:], correction_id, current.status.value]
            )
            if cursor.rowcount != 1:  # cannot happen under the row lock; never write twice
                raise InvalidCorrection(
                    f"correction {correction_id} was decided by another writer meanwhile; "
                    f"get() it to see the decision"
                )
            return changed

        return self._database.write(
            "deciding a correction request",
            decide,
            unsure="a decision on a correction request, so it may or may not be recorded: "
            "get() the request to see whether it is still pending before deciding it again",
            may_retry=lambda: not changing,
        )

    def _select(self, subject: str | None, status: CorrectionStatus | None) -> list[Correction]:
        def select(connection: Connection) -> list[Correction]:
            wanted = None if status is None else status.value
            if subject is not None:
                cursor = connection.execute(self._sql.of_subject, [subject, wanted, wanted])
            elif wanted is not None:
                cursor = connection.execute(self._sql.in_status, [wanted])
            else:
                cursor = connection.execute(self._sql.everything)
            return [self._correction(row) for row in cursor.fetchall()]

        return self._database.run("listing correction requests", select)

    def _close(self) -> None:
        self._database.close()

    # --- reading rows back ---

    def _correction(self, row: tuple[Any, ...]) -> Correction:
        try:
            (ident, subject, record_type, record_key, field, requested, reason, requested_at,
             status, decided_at, decided_by, note, statement, statement_at) = row  # fmt: skip
            return Correction(
                ident,
                subject,
                record_type,
                record_key,
                field,
                requested,
                reason,
                requested_at=requested_at.astimezone(UTC),
                status=CorrectionStatus(status),
                decided_at=None if decided_at is None else decided_at.astimezone(UTC),
                decided_by=decided_by,
                decision_note=note,
                statement=statement,
                statement_at=None if statement_at is None else statement_at.astimezone(UTC),
            )
        except (ValueError, TypeError, AttributeError, OverflowError):
            # `from None`: the cause would quote the stored content.
            raise self._database.corrupt("a correction") from None


class _Statements:
    """The store's SQL, with its schema name quoted once."""

    def __init__(self, database: PostgresSchema) -> None:
        table = database.table("corrections")
        columns = sql.SQL(", ").join(sql.Identifier(name) for name in COLUMNS)
        self.insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            table, columns, sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS))
        )
        self.by_id = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(columns, table)
        self.for_update = sql.SQL("SELECT {} FROM {} WHERE id = %s FOR UPDATE").format(
            columns, table
        )
        # Decided once: the row changes only if it is still in the state it was read in.
        self.decide = sql.SQL(
            "UPDATE {} SET status = %s, decided_at = %s, decided_by = %s, decision_note = %s, "
            "statement = %s, statement_at = %s "
            "WHERE id = %s AND status = %s AND statement IS NULL"
        ).format(table)
        self.of_subject = sql.SQL(
            "SELECT {} FROM {} WHERE subject = %s AND (%s::text IS NULL OR status = %s::text) "
            "ORDER BY requested_at, seq"
        ).format(columns, table)
        # pending(): the agency's queue, on the (status, requested_at, seq) index.
        self.in_status = sql.SQL(
            "SELECT {} FROM {} WHERE status = %s ORDER BY requested_at, seq"
        ).format(columns, table)
        self.everything = sql.SQL("SELECT {} FROM {} ORDER BY requested_at, seq").format(
            columns, table
        )


def _row(c: Correction) -> list[Any]:
    """*c* as the table's values, in `COLUMNS` order."""
    return [
        c.id, c.subject, c.record_type, c.record_key, c.field, c.requested, c.reason,
        c.requested_at, c.status.value, c.decided_at, c.decided_by, c.decision_note,
        c.statement, c.statement_at,
    ]  # fmt: skip
