"""One SQLite file owned by a purposeful store: opening, checking, migrating, sharing.

The consent, correction and sharing stores each keep their records in a SQLite file of
their own, with the standard library's `sqlite3` and nothing else. What they share is here,
in `SQLiteFile`; what each stores (tables, queries, rules) stays in the store:

- **Durable.** The file is in WAL journal mode; each write is one transaction, so a
  committed write survives the process being killed (and, with ``synchronous="FULL"``, the
  machine losing power), and a write whose transaction did not commit never appears, not
  even in part. A writer takes the write lock first (``BEGIN IMMEDIATE``), so it can check
  what is there and write in one transaction.
- **Several processes.** Each process opens its own store on the same file. A writer that
  finds the file locked waits up to *timeout* seconds, then gets `StoreUnavailable`.
- **Several threads.** One file object holds one connection (``check_same_thread=False``)
  behind one lock, so the threads of a process take turns. A thread that waits longer than
  *timeout* for its turn also gets `StoreUnavailable`. A store must not cross a `fork`.
- **Versioned.** ``PRAGMA user_version`` is the schema version and ``PRAGMA application_id``
  marks the file as a purposeful store of one kind. Opening an older file applies the
  store's forward migrations, in order, in one transaction. A file that is not a store of
  that kind, or was written by a newer purposeful, is refused before anything is written.
- **The same file.** SQLite in WAL mode keeps using a deleted or replaced file without a
  word; every use checks the path still names the file that was opened.

Times are stored as integer microseconds since the epoch (UTC), so comparisons in SQL are
exact (`micros`, `moment`).

What this module must not do: create directories, leak a raw `sqlite3` exception, or put any
stored content in an error message. Every `sqlite3.Error` becomes a `StoreError` naming the
file and what to do; SQLite's own message is never quoted (it could one day carry content).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import (
    ConfigurationError,
    StoreClosed,
    StoreCorrupt,
    StoreError,
    StoreUnavailable,
    StoreVersionError,
)
from .checks import EPOCH

__all__ = [
    "UNIQUE_VIOLATION",
    "SQLiteBacked",
    "SQLiteFile",
    "application_id",
    "micros",
    "moment",
    "rollback",
    "verify_file",
]

_SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")

# Primary result codes (https://sqlite.org/rescode.html), and the one extended code we name.
_SQLITE_ERROR = 1
_SQLITE_PERM = 3
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26
_BUSY = (_SQLITE_BUSY, _SQLITE_LOCKED)

#: The extended result code of a UNIQUE constraint violation (SQLITE_CONSTRAINT_UNIQUE).
UNIQUE_VIOLATION = 2067

_MICROSECOND = timedelta(microseconds=1)


class SQLiteFile:
    """The connection to one store's SQLite file, shared by the threads of one process.

    Args:
        path: the database file. It is created if missing, but its directory must exist.
        kind: what the file is, for messages: ``"consent store"``.
        owner: the class users open, for messages: ``"SQLiteConsentStore"``.
        application_id: the ``PRAGMA application_id`` that marks a file of this kind; the
            first migration sets it.
        migrations: the forward migrations: step *n* (0-based) takes a file from schema
            version *n* to *n + 1*; version 1 is the initial schema. Append steps; never
            edit one that has shipped.
        table: the table every version has, checked on open.
        error: the store's own error class, for failures that are none of the shared leaves.
        synchronous: SQLite's ``synchronous`` setting: ``"FULL"`` (committed writes survive
            a power loss), ``"NORMAL"`` (they survive the process being killed; a power loss
            may lose the last few, never corrupting the file) or ``"EXTRA"``.
        timeout: seconds to wait for the write lock held by another process or thread.

    Raises:
        ConfigurationError: *synchronous* or *timeout* is not one of the accepted values.
        StoreError (*error*): the directory does not exist, or the path is a directory.
        StoreCorrupt: the file is not a SQLite database, or not a store of this kind.
        StoreVersionError: the file was written by a newer version of purposeful.
        StoreUnavailable: the file cannot be opened, or stayed locked too long.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        kind: str,
        owner: str,
        application_id: int,
        migrations: Sequence[Sequence[str]],
        table: str,
        error: type[StoreError],
        synchronous: str = "FULL",
        timeout: float = 30.0,
    ) -> None:
        if not isinstance(synchronous, str) or synchronous.upper() not in _SYNCHRONOUS:
            raise ConfigurationError(
                f"{owner}(synchronous=...) takes 'FULL', 'NORMAL' or 'EXTRA', not {synchronous!r}"
            )
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
            raise ConfigurationError(f"{owner}(timeout=...) takes a number of seconds, 0 or more")
        # Absolute, so a later chdir() neither moves the store nor fools the file check.
        self.path = Path(path).absolute()
        self._kind = kind
        self._owner = owner
        self._application_id = application_id
        self._migrations = [tuple(step) for step in migrations]
        self._table = table
        self._error = error
        self._synchronous = synchronous.upper()
        self._timeout = float(timeout)
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._file_id = (0, 0)
        self._connection: sqlite3.Connection | None = self._open()

    @property
    def closed(self) -> bool:
        """True once `close` has been called."""
        return self._connection is None

    def close(self) -> None:
        """Close the connection; using the file afterwards raises `StoreClosed`."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(sqlite3.Error):
                connection.close()

    @contextlib.contextmanager
    def use(self, doing: str) -> Iterator[sqlite3.Connection]:
        """The connection, held by this thread alone; sqlite3 errors become store errors.

        *doing* says what the caller does, for messages: ``"record a consent event"``.
        """
        connection = self._acquire(doing)
        try:
            yield connection
        except sqlite3.Error as exc:
            raise self.failure(exc, doing) from exc
        finally:
            self._lock.release()

    def one(self, sql: str, doing: str) -> tuple[Any, ...] | None:
        """The first row of *sql* (no parameters), or None: `use` for a one-row read that a
        scope makes (a stamp), without a generator's cost."""
        connection = self._acquire(doing)
        try:
            row: tuple[Any, ...] | None = connection.execute(sql).fetchone()
            return row
        except sqlite3.Error as exc:
            raise self.failure(exc, doing) from exc
        finally:
            self._lock.release()

    def _acquire(self, doing: str) -> sqlite3.Connection:
        """Take the lock and return the open connection, checked (`use`); on a failed
        check the lock is released and the check's error raised."""
        if not self._lock.acquire(timeout=self._timeout):
            raise StoreUnavailable(
                f"could not {doing} in the {self._kind} {self.path}: other threads of this "
                f"process held it for more than {self._timeout:g} s; try again, or open the "
                f"store with a longer timeout="
            )
        try:
            connection = self._connection
            if connection is None:
                raise StoreClosed(
                    f"this {self._owner} ({self.path}) is closed; open the store again to use it"
                )
            if os.getpid() != self._pid:
                raise self._error(
                    f"this {self._owner} ({self.path}) was opened in another process "
                    f"(before a fork); open a new {self._owner} in each process"
                )
            self._check_same_file(doing)
        except BaseException:
            self._lock.release()
            raise
        return connection

    @contextlib.contextmanager
    def write(self, doing: str) -> Iterator[sqlite3.Connection]:
        """`use`, inside one ``BEGIN IMMEDIATE`` transaction: committed when the block ends,
        rolled back if it raises (anything), so a write is whole or absent."""
        with self.use(doing) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                rollback(connection)
                raise

    def corrupt(self, what: str) -> StoreCorrupt:
        """The error for a row that cannot be read back: *what* says what it should be."""
        return StoreCorrupt(
            f"the {self._kind} {self.path} holds {what} that cannot be read (its row was "
            f"changed outside purposeful); restore the file from a backup"
        )

    def failure(self, exc: sqlite3.Error, doing: str) -> StoreError:
        """The purposeful error for a sqlite3 error; the sqlite3 error stays the cause."""
        return _failure(exc, doing, self.path, self._kind, self._error, self._timeout)

    # --- the same file ---

    def _check_same_file(self, doing: str) -> None:
        """Raise unless the path is still the file the connection has open (one stat)."""
        try:
            found = os.stat(self.path)
        except OSError:
            found = None
        if found is None or (found.st_dev, found.st_ino) != self._file_id:
            raise StoreUnavailable(
                f"could not {doing}: the {self._kind} {self.path} was deleted, moved or "
                f"replaced while the store was open; put the file back (or restore it), then "
                f"open the store again"
            )

    # --- opening and migrating ---

    def _open(self) -> sqlite3.Connection:
        if not self.path.parent.is_dir():
            raise self._error(
                f"cannot open the {self._kind} {self.path}: its directory "
                f"{self.path.parent} does not exist; create it first (purposeful does not "
                f"create directories)"
            )
        if self.path.is_dir():
            raise self._error(
                f"cannot open the {self._kind} {self.path}: it is a directory; give the path "
                f"of a file in it, for example {self.path / (self._kind.split()[0] + '.sqlite3')}"
            )
        try:  # a new file is the owner's alone (SQLite gives its -wal and -shm the same mode)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass  # an existing file keeps the mode its owner gave it
        except OSError:
            pass  # SQLite says what is wrong, below
        try:
            connection = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self.failure(exc, "open the file") from exc
        try:
            self._prepare(connection)
            found = os.stat(self.path)
        except BaseException as exc:
            connection.close()
            if isinstance(exc, OSError):
                raise StoreUnavailable(
                    f"cannot open the {self._kind} {self.path}: the file vanished while it "
                    f"was being opened; check what else manages that path, then try again"
                ) from exc
            raise
        self._file_id = (found.st_dev, found.st_ino)
        return connection

    def _prepare(self, connection: sqlite3.Connection) -> None:
        """Check the file is ours and not newer, then WAL mode, then migrate if needed.

        Nothing is written before the checks pass, so a file that is not a store of this
        kind, or is from a newer purposeful, is left exactly as it was.
        """
        deadline = time.monotonic() + self._timeout
        pause = 0.001
        while True:
            try:
                connection.execute(f"PRAGMA synchronous = {self._synchronous}")
                connection.execute("BEGIN")
                try:
                    version = self._version(connection)
                    if version:
                        self._check_header(connection)
                finally:
                    rollback(connection)
                mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreUnavailable(
                        f"cannot open the {self._kind} {self.path}: SQLite could not put it "
                        f"in WAL mode (it stays in {mode!r}); keep the file on a local file "
                        f"system"
                    )
                if version < len(self._migrations):
                    self._migrate(connection)
                return
            except sqlite3.Error as exc:
                # Two processes switching a new file to WAL at once: SQLite answers one of
                # them "busy" at once, without waiting (it would deadlock). Every step
                # above can simply be tried again.
                if _primary_code(exc) not in _BUSY or time.monotonic() >= deadline:
                    raise self.failure(exc, "open the file") from exc
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def verify(self) -> None:
        """Run SQLite's full ``PRAGMA integrity_check`` on the file; raise if it is damaged.

        Opening checks only the header, the application id, the schema version and the
        table (a few pages, whatever the size); a page damaged in the middle of the file is
        found here, or when a read touches it. It reads the whole file on a connection of
        its own, so the store stays usable meanwhile (about 1 s per million events).

        Raises:
            StoreCorrupt: the integrity check failed; restore the file from a backup.
            StoreClosed: the store is closed.
            StoreUnavailable: the file cannot be read.
        """
        with self.use("verify the file"):
            pass  # closed, forked, replaced: refused as any other use
        verify_file(self.path, kind=self._kind, error=self._error)

    def _check_header(self, connection: sqlite3.Connection) -> None:
        """The cheap check on open: the table reads (its root page and the schema parse),
        on top of `_version`'s header, application id and schema version. A file damaged
        elsewhere is refused by `verify`, or by the read that touches the damaged page (a
        full check here cost 0.93 s per open at a million people)."""
        connection.execute(f"SELECT * FROM {self._table} NOT INDEXED LIMIT 1").fetchall()

    def _migrate(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Again under the write lock: another process may have migrated meanwhile.
            version = self._version(connection)
            for number, step in enumerate(self._migrations[version:], start=version + 1):
                for statement in step:
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {number}")
            connection.execute("COMMIT")
        except BaseException:
            rollback(connection)
            raise

    def _version(self, connection: sqlite3.Connection) -> int:
        """The file's schema version; raise unless it is a store of this kind that this code
        can read (or an empty file that will become one)."""
        version: int = connection.execute("PRAGMA user_version").fetchone()[0]
        application: int = connection.execute("PRAGMA application_id").fetchone()[0]
        tables = {
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            )
        }
        not_ours = (
            f"{self.path} is a SQLite database but not a purposeful {self._kind}; check the "
            f"path, and give the {self._kind} a file of its own"
        )
        if version == 0 and application == 0:
            if tables:
                raise StoreCorrupt(not_ours)
            return 0
        if application != self._application_id or version == 0:
            raise StoreCorrupt(not_ours)
        if version > len(self._migrations):
            raise StoreVersionError(
                f"the {self._kind} {self.path} was written by a newer version of purposeful "
                f"(schema version {version}; this version reads up to "
                f"{len(self._migrations)}); upgrade purposeful to use it"
            )
        if self._table not in tables:
            raise StoreCorrupt(
                f"the {self._kind} {self.path} has lost its {self._table} table; restore "
                f"the file from a backup"
            )
        return version


def application_id(path: Path, error: type[StoreError]) -> int:
    """The ``PRAGMA application_id`` of the SQLite file *path*, read-only (0: none).

    Raises:
        StoreCorrupt: the file is not a SQLite database.
        StoreUnavailable: the file does not exist or cannot be read.
    """
    if not path.is_file():
        raise StoreUnavailable(f"{path} is not a file; give the path of a purposeful store file")
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            found: int = connection.execute("PRAGMA application_id").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise _failure(exc, "read the file", path, "store", error, 0.0) from exc
    return found


def has_table(path: Path, table: str, error: type[StoreError]) -> bool:
    """Whether the SQLite file *path* holds *table*, read-only.

    Raises:
        StoreCorrupt: the file is not a SQLite database SQLite can read.
        StoreUnavailable: the file cannot be opened for reading.
    """
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            row = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise _failure(exc, "read the file", path, "store", error, 0.0) from exc
    return row is not None


class SQLiteBacked:
    """What every store kept in a `SQLiteFile` (its ``_file``) offers alike: the file's
    path, the full check, and the close. Listed before the store's base class, so that its
    ``_close`` is the one `ClosableStore.close` calls."""

    __slots__ = ()
    _file: SQLiteFile

    @property
    def path(self) -> Path:
        """The database file (absolute)."""
        return self._file.path

    def verify(self) -> None:
        """Check the whole file with SQLite's integrity check (opening checks only its
        header and schema); ``purposeful store verify PATH`` does the same.

        Raises:
            StoreCorrupt: the file is damaged; restore it from a backup.
            StoreClosed: the store is closed.
            StoreUnavailable: the file cannot be read.
        """
        self._file.verify()

    def _close(self) -> None:
        self._file.close()


def verify_file(path: Path, *, kind: str, error: type[StoreError]) -> None:
    """SQLite's full ``PRAGMA integrity_check`` of the store file *path*, read-only.

    Raises:
        StoreCorrupt: the check failed, or the file is not a SQLite database.
        StoreUnavailable: the file cannot be opened for reading.
    """
    doing = "verify the file"
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _failure(exc, doing, path, kind, error, 0.0) from exc
    try:
        verdict = connection.execute("PRAGMA integrity_check(1)").fetchone()[0]
    except sqlite3.Error as exc:
        raise _failure(exc, doing, path, kind, error, 0.0) from exc
    finally:
        connection.close()
    if verdict != "ok":
        raise StoreCorrupt(
            f"the {kind} {path} is damaged (SQLite's integrity check failed); restore the "
            f"file from a backup"
        )


def _failure(
    exc: sqlite3.Error, doing: str, path: Path, kind: str, error: type[StoreError], timeout: float
) -> StoreError:
    """`SQLiteFile.failure`, for a file that may not be open as a store (`verify_file`)."""
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    where = f"the {kind} {path}"
    primary = _primary_code(exc)
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or (
        primary == _SQLITE_ERROR and str(exc).startswith(("no such table", "no such column"))
    ):
        return StoreCorrupt(
            f"could not {doing}: {where} is damaged or is not a purposeful {kind} "
            f"({name}); check the path, or restore the file from a backup"
        )
    if primary in _BUSY:
        return StoreUnavailable(
            f"could not {doing}: {where} stayed locked by another writer for more than "
            f"{timeout:g} s ({name}); try again, or open the store with a longer timeout="
        )
    if primary in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_CANTOPEN, _SQLITE_IOERR):
        return StoreUnavailable(
            f"could not {doing}: {where} could not be read or written ({name}); check that "
            f"the file exists and that this process may read and write it and its directory"
        )
    if primary == _SQLITE_FULL:
        return StoreUnavailable(
            f"could not {doing}: the disk holding {where} is full ({name}); free some space "
            f"and try again"
        )
    return error(
        f"could not {doing}: {where} failed ({name}); nothing was written. If it "
        f"persists, check the file with `purposeful store verify {path}`"
    )


def _primary_code(exc: BaseException) -> int:
    """SQLite's primary result code for *exc*, or 0 if it has none (Python's own errors)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else 0


def micros(moment: datetime) -> int:
    """Microseconds since the epoch: exact, for an aware datetime."""
    return (moment - EPOCH) // _MICROSECOND


def moment(micros: int) -> datetime:
    """The instant *micros* microseconds after the epoch, in UTC: the inverse of `micros`."""
    return EPOCH + timedelta(microseconds=micros)


def rollback(connection: sqlite3.Connection) -> None:
    """Roll back the open transaction, if any; the error being handled matters more."""
    if connection.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
