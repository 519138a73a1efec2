"""The SQLite hold register: the embedded default, one durable file shared by processes.

`SQLiteHoldStore` keeps the holds in one SQLite file. The file handling it shares with the
other stores (WAL, one transaction per write, several processes, schema versions, errors)
is `purposeful._shared.sqlite.SQLiteFile`'s; here are the table and the queries. Times are
integer microseconds since the epoch (UTC); days are ISO dates.

What this module must not do: put a subject id or a reason in an error message. The rules
and the messages live in `store`, shared by every backend.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from typing import Any

from .._shared.sqlite import SQLiteBacked, SQLiteFile, micros, moment
from ..errors import HoldStoreError
from .store import BaseHoldStore
from .values import Hold, HoldKind

__all__ = ["APPLICATION_ID", "SQLiteHoldStore"]

#: ``PRAGMA application_id`` of a purposeful hold register: "PuHo" in ASCII.
APPLICATION_ID = 0x5075486F

_SCHEMA_V1 = (
    """
    CREATE TABLE holds (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        subject TEXT,
        record_type TEXT,
        reason TEXT NOT NULL,
        placed_by TEXT NOT NULL,
        placed_us INTEGER NOT NULL CHECK (typeof(placed_us) = 'integer'),
        until TEXT,
        released_us INTEGER CHECK (released_us IS NULL OR typeof(released_us) = 'integer'),
        released_by TEXT
    )
    """,
    f"PRAGMA application_id = {APPLICATION_ID}",
)
_MIGRATIONS: list[tuple[str, ...]] = [_SCHEMA_V1]

_COLUMNS = (
    "id, kind, subject, record_type, reason, placed_by, placed_us, until, released_us, released_by"
)
_INSERT = f"INSERT INTO holds ({_COLUMNS}) VALUES ({', '.join('?' * 10)})"
_GET = f"SELECT {_COLUMNS} FROM holds WHERE id = ?"
_RELEASE = "UPDATE holds SET released_us = ?, released_by = ? WHERE id = ?"


class SQLiteHoldStore(SQLiteBacked, BaseHoldStore):
    """A hold register in one SQLite file, safe to share between threads and processes.

    Args:
        path: the database file. It is created if missing, but its directory must exist.
        synchronous: SQLite's ``synchronous`` setting (see `SQLiteFile`).
        timeout: seconds to wait for the write lock held by another process or thread.

    Raises:
        ConfigurationError: *synchronous* or *timeout* is not one of the accepted values.
        HoldStoreError: the directory does not exist.
        StoreCorrupt: the file is not a SQLite database, or not a purposeful hold register.
        StoreVersionError: the file was written by a newer version of purposeful.
        StoreUnavailable: the file cannot be opened, or stayed locked too long.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, synchronous: str = "FULL", timeout: float = 30.0
    ) -> None:
        super().__init__()
        self._file = SQLiteFile(
            path,
            kind="hold register",
            owner="SQLiteHoldStore",
            application_id=APPLICATION_ID,
            migrations=_MIGRATIONS,
            table="holds",
            error=HoldStoreError,
            synchronous=synchronous,
            timeout=timeout,
        )

    def _insert(self, hold: Hold) -> None:
        with self._file.write("place a hold") as connection:
            connection.execute(_INSERT, _row(hold))

    def _load(self, hold_id: str) -> Hold | None:
        with self._file.use("read a hold") as connection:
            row = connection.execute(_GET, (hold_id,)).fetchone()
        return None if row is None else self._hold(row)

    def _change(self, hold_id: str, change: Callable[[Hold], Hold]) -> Hold | None:
        with self._file.write("release a hold") as connection:
            row = connection.execute(_GET, (hold_id,)).fetchone()
            if row is None:
                return None
            changed = change(self._hold(row))
            released = None if changed.released_at is None else micros(changed.released_at)
            connection.execute(_RELEASE, (released, changed.released_by, hold_id))
            return changed

    def _select(self) -> list[Hold]:
        with self._file.use("list holds") as connection:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM holds ORDER BY placed_us, seq"
            ).fetchall()
        return [self._hold(row) for row in rows]

    def _hold(self, row: tuple[Any, ...]) -> Hold:
        try:
            ident, kind, subject, record_type, reason, by, placed, until, released, rby = row
            if not all(isinstance(t, str) for t in (ident, reason, by)) or not all(
                t is None or isinstance(t, str) for t in (subject, record_type, until, rby)
            ):
                raise TypeError
            return Hold(
                id=ident,
                kind=HoldKind(kind),
                subject=subject,
                record_type=record_type,
                reason=reason,
                placed_by=by,
                placed_at=moment(placed),
                until=None if until is None else date.fromisoformat(until),
                released_at=None if released is None else moment(released),
                released_by=rby,
            )
        except (ValueError, TypeError, OverflowError):
            raise self._file.corrupt("a hold") from None


def _row(hold: Hold) -> tuple[Any, ...]:
    return (
        hold.id, hold.kind.value, hold.subject, hold.record_type, hold.reason, hold.placed_by,
        micros(hold.placed_at), None if hold.until is None else hold.until.isoformat(),
        None if hold.released_at is None else micros(hold.released_at), hold.released_by,
    )  # fmt: skip
