"""A PostgreSQL hold register, for several services sharing one set of holds.

Needs psycopg 3: ``pip install 'purposeful[postgres]'``. The register keeps its table in one
schema (``purposeful`` by default, which it can share with the other stores), creates it
when it is missing and migrates an older one forward; a register written by a newer
purposeful is refused. The connection, the version table, migrations and errors are
`purposeful._shared.postgres`'s (`PostgresSchema`); here are the table and its queries. A
release reads the hold ``FOR UPDATE``, so two services releasing it at once release it once.

What it must not do: hold a lock across two calls, write half a hold, put a subject id, a
reason or a password in an error message, or touch anything outside its own table.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any, LiteralString

from .._shared.postgres import DEFAULT_TIMEOUT, Connection, PostgresSchema, sql
from ..errors import HoldStoreError
from .store import BaseHoldStore
from .values import Hold, HoldKind

__all__ = ["PostgresHoldStore"]

KIND = "hold register"
STORE_KIND = f"purposeful {KIND}"
#: The table naming the kind and the schema version (each store has its own, so all can
#: share a schema).
VERSION_TABLE = "purposeful_hold_register"

MIGRATIONS: tuple[tuple[LiteralString, ...], ...] = (
    (
        """
        CREATE TABLE IF NOT EXISTS {schema}.holds (
            seq bigserial PRIMARY KEY,
            id text NOT NULL,
            kind text NOT NULL,
            subject text,
            record_type text,
            reason text NOT NULL,
            placed_by text NOT NULL,
            placed_at timestamptz NOT NULL,
            until date,
            released_at timestamptz,
            released_by text,
            CONSTRAINT holds_id_unique UNIQUE (id)
        )
        """,
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
COLUMNS = (
    "id",
    "kind",
    "subject",
    "record_type",
    "reason",
    "placed_by",
    "placed_at",
    "until",
    "released_at",
    "released_by",
)


class PostgresHoldStore(BaseHoldStore):
    """A hold register in a PostgreSQL schema, shared by services and their threads.

    Args:
        dsn: a libpq connection string or URI; its password never appears in a message.
        schema: the schema that holds the table; created if missing.
        timeout: seconds any one wait on the server may take (see docs/failure-modes.md).
        connect_timeout: seconds to wait for the server when connecting; default *timeout*.

    Text holding a NUL character is refused with `ConfigurationError` before anything is
    written (PostgreSQL's text cannot keep one).

    Raises:
        ConfigurationError: a malformed DSN or schema name, or a timeout that is not positive.
        StoreUnavailable: the server cannot be reached or refused the connection.
        StoreCorrupt: the schema holds a table of this name that is not a hold register.
        StoreVersionError: the table was written by a newer purposeful.
        HoldStoreError: anything else PostgreSQL refused (a missing privilege, say).
    """

    _keeps_nul = False

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
                owner="PostgresHoldStore",
                version_table=VERSION_TABLE,
                tables={"holds": COLUMNS},
                migrations=MIGRATIONS,
                error=HoldStoreError,
                privileges="SELECT, INSERT and UPDATE on its tables and USAGE on their sequences",
                timeout=timeout,
                connect_timeout=connect_timeout,
            )
        except BaseException:
            self._closed = True
            raise
        table = self._database.table("holds")
        columns = sql.SQL(", ").join(sql.Identifier(name) for name in COLUMNS)
        self._insert_sql = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            table, columns, sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS))
        )
        self._by_id = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(columns, table)
        self._for_update = sql.SQL("SELECT {} FROM {} WHERE id = %s FOR UPDATE").format(
            columns, table
        )
        self._release = sql.SQL(
            "UPDATE {} SET released_at = %s, released_by = %s WHERE id = %s"
        ).format(table)
        self._everything = sql.SQL("SELECT {} FROM {} ORDER BY placed_at, seq").format(
            columns, table
        )

    def _insert(self, hold: Hold) -> None:
        def insert(connection: Connection) -> None:
            connection.execute(self._insert_sql, _row(hold))

        self._database.write(
            "placing a hold",
            insert,
            unsure="a hold, so it may or may not be placed: check holds() before placing it again",
        )

    def _load(self, hold_id: str) -> Hold | None:
        def load(connection: Connection) -> Hold | None:
            row = connection.execute(self._by_id, [hold_id]).fetchone()
            return None if row is None else self._hold(row)

        return self._database.run("reading a hold", load)

    def _change(self, hold_id: str, change: Callable[[Hold], Hold]) -> Hold | None:
        def release(connection: Connection) -> Hold | None:
            row = connection.execute(self._for_update, [hold_id]).fetchone()
            if row is None:
                return None
            changed = change(self._hold(row))
            connection.execute(self._release, [changed.released_at, changed.released_by, hold_id])
            return changed

        return self._database.write(
            "releasing a hold",
            release,
            unsure="a release, so it may or may not be recorded: get() the hold to see",
        )

    def _select(self) -> list[Hold]:
        def select(connection: Connection) -> list[Hold]:
            return [self._hold(row) for row in connection.execute(self._everything).fetchall()]

        return self._database.run("listing holds", select)

    def _close(self) -> None:
        self._database.close()

    def _hold(self, row: tuple[Any, ...]) -> Hold:
        try:
            ident, kind, subject, record_type, reason, by, placed, until, released, rby = row
            return Hold(
                id=ident,
                kind=HoldKind(kind),
                subject=subject,
                record_type=record_type,
                reason=reason,
                placed_by=by,
                placed_at=placed.astimezone(UTC),
                until=until,
                released_at=None if released is None else released.astimezone(UTC),
                released_by=rby,
            )
        except (ValueError, TypeError, AttributeError, OverflowError):
            raise self._database.corrupt("a hold") from None


def _row(hold: Hold) -> list[Any]:
    return [
        hold.id, hold.kind.value, hold.subject, hold.record_type, hold.reason, hold.placed_by,
        hold.placed_at, hold.until, hold.released_at, hold.released_by,
    ]  # fmt: skip
