"""One PostgreSQL schema owned by purposeful stores: connecting, preparing, migrating, failing.

The consent, correction and sharing stores can keep their tables in PostgreSQL, for
several services sharing one store. What they share is here, in `PostgresSchema`; what each stores
(tables, queries, rules) stays in the store:

- **A small pool of connections per process** (`purposeful._shared.postgres_pool`), at most
  `POOL_SIZE`, each lent to one call at a time and never under a lock held across a query:
  a thread whose query hangs holds its own connection only, and every other thread goes on
  with another. Each connection is in autocommit mode with READ COMMITTED transactions, the
  session's time zone set to UTC, a lock timeout and a statement timeout. A connection that
  was idle and turns out to be gone (the server restarted, an idle timeout) is replaced,
  and the work run once more if nothing can have been written. Connections are closed by
  `PostgresSchema.close`; a forked child forgets the ones it inherited and opens its own.
- **Every wait on the server is bounded by the store's timeout** (``timeout=``,
  `DEFAULT_TIMEOUT` seconds): the server cancels a statement that runs longer
  (``statement_timeout``); a server that does not answer at all (stopped, or cut off by the
  network) is caught by the client, whose watchdog shuts the connection down once the
  timeout and `GRACE` have passed; connecting gives up after the timeout
  (``connect_timeout``); TCP keepalives find a peer gone while a connection is idle. Each
  is a `StoreUnavailable` saying what timed out and what to check; the connection is closed
  and the next call opens a new one, so the store recovers by itself.
- **Writes are whole or absent.** `PostgresSchema.write` runs the work in one transaction;
  a failure rolls it all back. A connection lost while committing is the one case where
  the outcome is unknown, and the error says so and what to check.
- **Versioned.** Each kind of store has a version table in its schema, with one row naming
  the kind and its schema version. Opening creates the schema and the tables if missing and
  applies the store's forward migrations, in one transaction under an advisory lock on the
  schema, so several processes can start at once. Tables of the store's names that are not
  a store of that kind, and a store written by a newer purposeful, are refused before
  anything is written. Stores of different kinds can share a schema: each has its own
  version table and tables.
- **Errors without content.** Every `psycopg.Error` becomes a `StoreError` that names the
  server (host, port, database: never the password), the schema and what to do. The
  server's own text is never quoted, except libpq's connection message with any password
  cut out: PostgreSQL's details can quote the values of a row, and so a subject id.

Why a pool of our own rather than a connection per thread: threads come and go (a web
server's workers), and a connection per thread would open one for every thread ever seen
and close none until the store closes; the pool opens one per call under way, keeps them
for the next calls and never opens more than `POOL_SIZE` (a call that finds them all busy
waits, within its timeout, for one). psycopg_pool is not a dependency, and what is needed
(two lists, a condition and a deadline per wait) is small.

What this module must not do: hold a lock across a query, leave a transaction open, put
a password or any stored content in a message, or drop, alter or read anything outside
its schema's own tables.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, LiteralString, TypeAlias, TypeVar

from ..errors import (
    ConfigurationError,
    MissingExtra,
    StoreClosed,
    StoreCorrupt,
    StoreError,
    StoreUnavailable,
    StoreVersionError,
)
from .checks import storable

try:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
except ImportError:
    _missing = True
else:
    _missing = False
if _missing:  # raised outside the handler: one line, no chained ImportError
    raise MissingExtra(
        "the PostgreSQL stores need psycopg; install it with pip install 'purposeful[postgres]'",
        extra="postgres",
    )

from .postgres_pool import Pool, Session, WatchedConnection

__all__ = [
    "DEFAULT_TIMEOUT",
    "POOL_SIZE",
    "Connection",
    "PostgresSchema",
    "check_timeout",
    "lock_key",
    "psycopg",
    "sql",
]

T = TypeVar("T")
Connection: TypeAlias = psycopg.Connection[tuple[Any, ...]]

#: How long a statement waits for another writer's lock (the statement timeout, if shorter,
#: ends the wait first).
LOCK_TIMEOUT = "30s"

#: Seconds a call waits for the server before it fails with `StoreUnavailable`: the stores'
#: ``timeout=`` default. Long enough for any query a store makes on a loaded server, short
#: enough that a hung server refuses a consent check rather than holding the request.
DEFAULT_TIMEOUT = 5.0

#: The most seconds ``timeout=`` may be (a day).
LONGEST_TIMEOUT = 86_400

#: Seconds the client waits past the timeout before it gives up on a server that has not
#: answered: a live server's own statement timeout arrives first, and leaves the connection
#: usable.
GRACE = 1.0

#: The most connections one store holds open in a process: as many calls as this run at
#: once; one more waits (within its timeout) for a connection to come back.
POOL_SIZE = 8

# SQLSTATEs, by what they mean for the caller.
_LOCK_TIMED_OUT = "55P03"  # lock_not_available: lock_timeout
_CANCELLED = "57014"  # query_canceled: statement_timeout, or an administrator
_GONE = {"57P01", "57P02", "57P03", "53300"}  # shutdown, crash, cannot connect now, too many
_NOT_OURS = {"42P01", "42703", "3F000", "42809"}  # no table, no column, no schema, wrong kind
_NOT_ALLOWED = {"42501"}


def check_timeout(value: object, name: str = "timeout") -> float:
    """*value* as seconds, if it is a usable timeout.

    Raises:
        ConfigurationError: *value* is not a number of seconds above 0 and at most a day.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= LONGEST_TIMEOUT  # NaN fails this too
    ):
        shown = repr(value) if isinstance(value, int | float) else type(value).__name__
        raise ConfigurationError(
            f"{name} must be a positive number of seconds, at most {LONGEST_TIMEOUT} (a "
            f"day), not {shown}; the default is {DEFAULT_TIMEOUT:g}"
        )
    return float(value)


class PostgresSchema:
    """The connections to one store's schema, shared by the threads of one process.

    Args:
        dsn: a libpq connection string or URI. Its password never appears in a message.
        schema: the schema that holds the store's tables; created if missing.
        kind: what the store is, for messages and its version row: ``"consent store"``.
        owner: the class users open, for messages: ``"PostgresConsentStore"``.
        version_table: the table that names the kind and its schema version; each kind
            has its own, so stores of different kinds can share a schema.
        tables: each table the store owns, with the columns every version has (checked
            on open).
        migrations: the forward migrations: entry *n* takes the tables from version *n* to
            *n* + 1. Statements are formatted with ``{schema}``, the quoted schema name;
            each must be idempotent. Append entries; never edit one that has shipped.
        error: the store's own error class, for failures that are none of the shared leaves.
        privileges: what the database role needs on the tables, besides USAGE on the
            schema, for the message when it lacks them: ``"SELECT and INSERT on its
            tables and USAGE on its sequence"``.
        timeout: seconds any one call waits for the server (see the module's docstring):
            the statement timeout, the client's bound on a server that does not answer
            (plus `GRACE`), the connect timeout and the keepalives follow from it.
        connect_timeout: seconds to wait for the server when connecting; default:
            *timeout*.
        pool_size: the most connections held open at once.

    Raises:
        ConfigurationError: a malformed DSN or schema name, or a timeout that is not a
            positive number of seconds.
        StoreUnavailable: the server cannot be reached, refused the connection or did not
            answer within the timeout.
        StoreCorrupt: the schema holds tables of these names that are not a store of *kind*.
        StoreVersionError: the tables were written by a newer purposeful.
        StoreError (*error*): anything else PostgreSQL refused (a missing privilege, say).
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str,
        kind: str,
        owner: str,
        version_table: str,
        tables: Mapping[str, Sequence[str]],
        migrations: Sequence[Sequence[LiteralString]],
        error: type[StoreError],
        privileges: str,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float | None = None,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self._kind = kind
        self._owner = owner
        self._dsn = dsn
        self._params = _parse_dsn(dsn, owner)
        self.schema = _check_schema(schema)
        self.timeout = check_timeout(timeout)
        connecting = self.timeout if connect_timeout is None else connect_timeout
        # libpq takes whole seconds and treats anything under 2 as 2.
        self._connect_timeout = max(2, math.ceil(check_timeout(connecting, "connect_timeout")))
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise ConfigurationError("pool_size must be a whole number of connections above 0")
        self.where = _describe_server(self._params)
        self._version_table = version_table
        self._tables = {name: tuple(columns) for name, columns in tables.items()}
        self._migrations = tuple(tuple(step) for step in migrations)
        self._error = error
        self._privileges = privileges
        self._identifier = sql.Identifier(self.schema)
        self._pool = Pool(
            self._connect,
            pool_size,
            self.timeout + GRACE,
            closed=self._closed_error,
            exhausted=self._exhausted,
        )
        try:
            self.run(f"opening the {kind}", self._prepare)
        except BaseException:
            self._pool.close()
            raise

    @property
    def closed(self) -> bool:
        """True once `close` has been called."""
        return self._pool.closed

    @property
    def version(self) -> int:
        """The schema version this purposeful writes (the number of migrations)."""
        return len(self._migrations)

    @property
    def _connection(self) -> Connection | None:
        """The connection the last call used, while it is open (for tests that end its
        session behind the store's back)."""
        session = self._pool.last
        if session is None or session.connection.closed:
            return None
        return session.connection

    def close(self) -> None:
        """Close the idle connections, and each busy one when its call ends; using the
        schema afterwards raises `StoreClosed`."""
        self._pool.close()

    # --- statements ---

    def format(self, statement: LiteralString) -> sql.Composed:
        """*statement* with ``{schema}`` replaced by the quoted schema name."""
        return sql.SQL(statement).format(schema=self._identifier)

    def table(self, name: str) -> sql.Composed:
        """The quoted, schema-qualified name of the table *name*."""
        return sql.SQL("{}.{}").format(self._identifier, sql.Identifier(name))

    def advisory_lock(self, connection: Connection, name: str) -> None:
        """Take the transaction-scoped advisory lock called *name* (the same key in every
        process); it is released when the transaction ends."""
        connection.execute("SELECT pg_advisory_xact_lock(%s::bigint)", [lock_key(name)])

    def corrupt(self, what: str) -> StoreCorrupt:
        """The error for a row that cannot be read back: *what* says what it should be."""
        return StoreCorrupt(
            f"{what} in schema {self.schema!r} cannot be read back: its row was changed "
            f"outside purposeful; restore it from a backup"
        )

    # --- running work ---

    def run(
        self,
        action: str,
        work: Callable[[Connection], T],
        *,
        may_retry: Callable[[], bool] = lambda: True,
    ) -> T:
        """Run *work* on a connection of the pool, translating PostgreSQL's errors.

        *action* says what is done, for messages: ``"reading a consent history"``. Each
        wait on the server ends within the timeout (and `GRACE`): past it, the connection
        is shut down and the call raises `StoreUnavailable`; so do waiting that long for a
        free connection, and connecting (`connect_timeout`). A connection that
        was idle and turns out to be gone is replaced and *work* run once more, if
        *may_retry* says nothing can have been written yet. Anything *work* raises that is
        not a `psycopg.Error` propagates unchanged.
        """
        deadline = time.monotonic() + self.timeout
        session = self._pool.checkout(action, deadline)
        try:
            try:
                return self._attempt(session, work)
            except psycopg.Error as exc:
                if (
                    session.expired
                    or session.fresh
                    or not session.connection.broken
                    or not may_retry()
                ):
                    raise self._failed(exc, action, session) from None
            # The server dropped an idle connection (restarted, say): the other idle ones
            # are as stale, so they go too, and the work runs once more on a new one.
            self._pool.drop_idle()
            self._pool.checkin(session)
            session = self._pool.checkout(action, deadline)
            try:
                return self._attempt(session, work)
            except psycopg.Error as exc:
                raise self._failed(exc, action, session) from None
        finally:
            self._pool.checkin(session)

    def write(
        self,
        action: str,
        work: Callable[[Connection], T],
        *,
        unsure: str,
        may_retry: Callable[[], bool] = lambda: True,
    ) -> T:
        """`run` *work* inside one transaction: committed when it returns, rolled back if
        it raises (anything), so a write is whole or absent.

        A connection lost before the commit is retried as `run` does (the server rolled
        the transaction back), if *may_retry* agrees: say no once *work* has done what must
        not be done twice (called the application's code, say). One lost while committing
        (or whose server stopped answering then) raises `StoreUnavailable` saying the
        connection was lost while committing *unsure*: say what was written and how to
        find out whether it was, e.g. ``"a consent event, so it may or may not be recorded:
        check history() before recording it again"``.
        """
        committing = False

        def transaction(connection: Connection) -> T:
            nonlocal committing
            committing = False
            with connection.transaction():
                result = work(connection)
                committing = True
            return result

        try:
            return self.run(action, transaction, may_retry=lambda: not committing and may_retry())
        except StoreUnavailable:
            if not committing:
                raise
            raise StoreUnavailable(
                f"the connection to the PostgreSQL {self._kind} ({self.where}) was lost while "
                f"committing {unsure}"
            ) from None

    def _attempt(self, session: Session, work: Callable[[Connection], T]) -> T:
        """*work* on *session*'s connection, its session set up first if it is new."""
        connection = session.connection
        if not session.ready:
            connection.execute(
                "SELECT set_config('TimeZone', 'UTC', false), "
                "set_config('lock_timeout', %s, false), "
                "set_config('statement_timeout', %s, false)",
                [LOCK_TIMEOUT, f"{max(1, round(self.timeout * 1000))}ms"],
            )
            session.ready = True
        return work(connection)

    # --- creating and migrating the tables ---

    def _prepare(self, connection: Connection) -> None:
        with connection.transaction():
            self.advisory_lock(connection, f"schema\n{self.schema}")
            found = connection.execute(
                "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s)", [self.schema]
            ).fetchone()
            if not (found and found[0]):
                connection.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(self._identifier)
                )
            tables = self._relations(connection)
            versions = self.table(self._version_table)
            if self._version_table in tables:
                version = self._version(connection, tables[self._version_table])
            else:
                for name in self._tables:
                    if name in tables:
                        raise self._not_ours(
                            f"a {name} table without a {self._version_table} table"
                        )
                connection.execute(
                    sql.SQL(
                        """
                        CREATE TABLE IF NOT EXISTS {} (
                            only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                            kind text NOT NULL,
                            version integer NOT NULL
                        )
                        """
                    ).format(versions)
                )
                connection.execute(
                    sql.SQL(
                        "INSERT INTO {} (kind, version) VALUES (%s, 0) ON CONFLICT DO NOTHING"
                    ).format(versions),
                    [self._version_kind],
                )
                version = 0
            if version > self.version:
                raise StoreVersionError(
                    f"the {self._kind} in schema {self.schema!r} is at version {version}, "
                    f"written by a newer purposeful than this one (which reads up to version "
                    f"{self.version}); upgrade purposeful to use it"
                )
            for statements in self._migrations[version:]:
                for statement in statements:
                    connection.execute(self.format(statement))
            if version < self.version:
                connection.execute(
                    sql.SQL("UPDATE {} SET version = %s").format(versions), [self.version]
                )
            self._check_columns(connection)

    @property
    def _version_kind(self) -> str:
        """The kind written in the version table: a table of that name without it is not
        ours."""
        return f"purposeful {self._kind}"

    def _relations(self, connection: Connection) -> dict[str, str]:
        rows = connection.execute(
            """
            SELECT c.relname, c.relkind FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relname = ANY(%s::text[])
            """,
            [self.schema, [self._version_table, *self._tables]],
        ).fetchall()
        return {str(name): str(kind) for name, kind in rows}

    def _version(self, connection: Connection, relkind: str) -> int:
        name = self._version_table
        if relkind not in ("r", "p"):
            raise self._not_ours(f"{name} is not a table")
        try:
            rows = connection.execute(
                sql.SQL("SELECT kind, version FROM {}").format(self.table(name))
            ).fetchall()
        except psycopg.errors.UndefinedColumn:
            raise self._not_ours(f"{name} has other columns") from None
        if (
            len(rows) != 1
            or rows[0][0] != self._version_kind
            or not isinstance(rows[0][1], int)
            or isinstance(rows[0][1], bool)
        ):
            raise self._not_ours(f"{name} does not name a {self._version_kind}")
        version: int = rows[0][1]
        return version

    def _check_columns(self, connection: Connection) -> None:
        rows = connection.execute(
            """
            SELECT c.relname, a.attname FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relname = ANY(%s::text[]) AND c.relkind IN ('r', 'p')
              AND a.attnum > 0 AND NOT a.attisdropped
            """,
            [self.schema, list(self._tables)],
        ).fetchall()
        found: dict[str, set[str]] = {}
        for table, column in rows:
            found.setdefault(str(table), set()).add(str(column))
        for table, columns in self._tables.items():
            missing = set(columns) - found.get(table, set())
            if missing:
                raise self._not_ours(f"{table} lacks the columns {', '.join(sorted(missing))}")

    def _not_ours(self, what: str) -> StoreCorrupt:
        return StoreCorrupt(
            f"schema {self.schema!r} holds tables that are not a purposeful {self._kind} "
            f"({what}); give the store a schema of its own with schema=..."
        )

    # --- the connection ---

    def _connect(self) -> WatchedConnection:
        """A new connection, in autocommit mode with READ COMMITTED transactions; its
        session is set up by its first call (`_attempt`), under that call's deadline."""
        extra: dict[str, Any] = {}
        if "application_name" not in self._params and "PGAPPNAME" not in os.environ:
            extra["application_name"] = f"purposeful {self._kind}"
        # TCP keepalives: a peer gone while the connection was idle is found within about
        # twice the timeout, rather than the system's two hours. The DSN's own win.
        idle = max(1, math.ceil(self.timeout))
        for name, value in (
            ("keepalives", 1),
            ("keepalives_idle", idle),
            ("keepalives_interval", max(1, math.ceil(idle / 3))),
            ("keepalives_count", 3),
        ):
            if name not in self._params:
                extra[name] = value
        try:
            connection = WatchedConnection.connect(
                self._dsn,
                autocommit=True,
                connect_timeout=self._connect_timeout,
                client_encoding="UTF8",
                **extra,
            )
        except (psycopg.Error, OSError) as exc:
            if isinstance(exc, psycopg.errors.ConnectionTimeout):
                raise StoreUnavailable(
                    f"connecting to the PostgreSQL {self._kind} ({self.where}) got no answer "
                    f"within {self._connect_timeout} s; check that the server is up, not "
                    f"overloaded and reachable from this host, or give the {self._owner} a "
                    f"longer timeout="
                ) from None
            raise StoreUnavailable(
                f"cannot reach the PostgreSQL {self._kind} ({self.where}): "
                f"{self._scrub(str(exc))}; check that the server is up and that the DSN's "
                f"host, port, user and password are right"
            ) from None
        connection.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        return connection

    def _failed(self, exc: psycopg.Error, action: str, session: Session) -> StoreError:
        """The error for *exc* raised by a call on *session*: a timeout if the watchdog
        ended it."""
        if session.expired:
            return StoreUnavailable(
                f"{action} got no answer from the PostgreSQL {self._kind} ({self.where}) "
                f"within the {self._owner}'s timeout of {self.timeout:g} s, so its connection "
                f"was closed and the next call opens a new one; check that the server is up, "
                f"not stopped or overloaded, and reachable from this host (a network "
                f"partition), or give the store a longer timeout="
            )
        return self.failure(exc, action, session.connection)

    def _closed_error(self) -> StoreClosed:
        return StoreClosed(f"this {self._owner} is closed; open the store again to use it")

    def _exhausted(self, action: str, size: int) -> StoreUnavailable:
        return StoreUnavailable(
            f"{action} waited {self.timeout:g} s for one of the {size} connections to the "
            f"PostgreSQL {self._kind} ({self.where}) and every one stayed busy; check that the "
            f"server is answering (slow or unanswered calls hold them), or give the "
            f"{self._owner} a longer timeout="
        )

    def failure(self, exc: psycopg.Error, action: str, connection: Connection) -> StoreError:
        """A purposeful error for *exc*, without its text: PostgreSQL's details can quote
        the values of a row, and so a subject id. Raise it ``from None``."""
        state = exc.sqlstate
        name = type(exc).__name__
        if state == _LOCK_TIMED_OUT:
            return StoreUnavailable(
                f"{action} timed out after {LOCK_TIMEOUT} waiting for another writer's lock "
                f"on the PostgreSQL {self._kind} ({self.where}) ({name}); nothing was written: "
                f"try again, and if it keeps failing look for a long transaction holding locks"
            )
        if state == _CANCELLED:
            self._pool.discard(connection)
            return StoreUnavailable(
                f"{action} was cancelled by the PostgreSQL {self._kind} ({self.where}) after "
                f"the {self._owner}'s timeout of {self.timeout:g} s (statement_timeout) or by an "
                f"administrator ({name}); nothing was written: check the server's load and any "
                f"long transaction holding locks, or give the store a longer timeout="
            )
        if (
            connection.broken
            or (isinstance(exc, psycopg.OperationalError) and state is None)
            or (state is not None and state.startswith("08"))
            or state in _GONE
        ):
            self._pool.discard(connection)
            return StoreUnavailable(
                f"{action} failed: the connection to the PostgreSQL {self._kind} "
                f"({self.where}) was lost ({name}); the next call reconnects"
            )
        if state in _NOT_OURS:
            return StoreCorrupt(
                f"{action} failed: the {self._kind}'s tables in schema {self.schema!r} are "
                f"missing or not a purposeful {self._kind} ({name}); restore them, or open "
                f"the store on an empty schema to create them"
            )
        if state in _NOT_ALLOWED:
            return self._error(
                f"{action} failed: the database role may not use the {self._kind} in schema "
                f"{self.schema!r}; grant it USAGE on the schema, {self._privileges} (and "
                f"CREATE, to create or migrate them)"
            )
        return self._error(
            f"{action} failed in PostgreSQL ({name}, SQLSTATE {state or 'none'}); nothing was "
            f"written"
        )

    def _scrub(self, text: str) -> str:
        """A libpq message on one line, with any password cut out."""
        for password in (self._params.get("password"), os.environ.get("PGPASSWORD")):
            if password:
                text = text.replace(password, "***")
        return " ".join(text.split())


def lock_key(name: str) -> int:
    """A stable 64-bit advisory-lock key for *name* (the same in every process)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8, person=b"purposeful").digest()
    return int.from_bytes(digest, "big", signed=True)


def _parse_dsn(dsn: object, owner: str) -> dict[str, Any]:
    if not isinstance(dsn, str):
        raise ConfigurationError(f"{owner} takes a DSN string, not {type(dsn).__name__}")
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
        or not storable(schema)
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
