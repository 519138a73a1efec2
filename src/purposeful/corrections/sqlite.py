"""The SQLite correction store: the embedded default, one durable file shared by processes.

`SQLiteCorrectionStore` keeps the correction requests in one SQLite file, with the standard
library's `sqlite3` and nothing else. The file handling it shares with the other stores
(WAL, one transaction per write, several processes and threads, schema versions and
migrations, the same-file check, errors) is `purposeful._shared.sqlite.SQLiteFile`'s; here
are the table, the queries and one rule:

- **Decided once.** A decision takes the write lock first (``BEGIN IMMEDIATE``), reads the
  request, calls the `apply` callback, then changes the row with one ``UPDATE … WHERE id = ?
  AND status = ?`` and commits: of two processes deciding the same request, the second
  finds it decided and gets `InvalidCorrection`.

Times are stored as integer microseconds since the epoch (UTC), so values read back equal
the values recorded.

What this module must not do: put a subject id, a requested value, a reason or a statement
in an error message. The rules and the messages live in `store`, shared by every backend.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .._shared.sqlite import SQLiteBacked, SQLiteFile, micros, moment
from ..errors import CorrectionStoreError, InvalidCorrection
from .store import BaseCorrectionStore
from .values import Correction, CorrectionStatus

__all__ = ["APPLICATION_ID", "SQLiteCorrectionStore"]

#: ``PRAGMA application_id`` of a purposeful correction store: "PuCr" in ASCII.
APPLICATION_ID = 0x50754372

_SCHEMA_V1 = (
    """
    CREATE TABLE corrections (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        record_type TEXT NOT NULL,
        record_key TEXT NOT NULL,
        field TEXT NOT NULL,
        requested TEXT NOT NULL,
        reason TEXT NOT NULL,
        requested_us INTEGER NOT NULL CHECK (typeof(requested_us) = 'integer'),
        status TEXT NOT NULL,
        decided_us INTEGER CHECK (decided_us IS NULL OR typeof(decided_us) = 'integer'),
        decided_by TEXT,
        decision_note TEXT,
        statement TEXT,
        statement_us INTEGER CHECK (statement_us IS NULL OR typeof(statement_us) = 'integer')
    )
    """,
    # for_subject() and statements(): one subject's requests, oldest first.
    "CREATE INDEX corrections_by_subject ON corrections (subject, requested_us, seq)",
    # pending(): the queue, oldest first.
    "CREATE INDEX corrections_by_status ON corrections (status, requested_us, seq)",
    f"PRAGMA application_id = {APPLICATION_ID}",
)

#: The forward migrations: step *n* (0-based) takes a file from schema version *n* to
#: *n + 1*. Version 1 is the initial schema. Append steps; never edit one that has shipped.
_MIGRATIONS: list[tuple[str, ...]] = [_SCHEMA_V1]

_COLUMNS = (
    "id, subject, record_type, record_key, field, requested, reason, requested_us, status, "
    "decided_us, decided_by, decision_note, statement, statement_us"
)
_INSERT = f"INSERT INTO corrections ({_COLUMNS}) VALUES ({', '.join('?' * 14)})"
_GET = f"SELECT {_COLUMNS} FROM corrections WHERE id = ?"
# Decided once: the row changes only if it is still in the state the change was made from.
_DECIDE = (
    "UPDATE corrections SET status = ?, decided_us = ?, decided_by = ?, decision_note = ?, "
    "statement = ?, statement_us = ? WHERE id = ? AND status = ? AND statement IS NULL"
)


class SQLiteCorrectionStore(SQLiteBacked, BaseCorrectionStore):
    """A correction store in one SQLite file, safe to share between threads and processes.

    A decision takes the write lock first (``BEGIN IMMEDIATE``), reads the request, calls the
    `apply` callback, then changes the row and commits: of two processes deciding the same
    request, the second finds it decided and gets `InvalidCorrection`.

    Args:
        path: the database file. It is created if missing, but its directory must exist.
        synchronous: SQLite's ``synchronous`` setting: ``"FULL"``, ``"NORMAL"`` or
            ``"EXTRA"`` (see `SQLiteFile`).
        timeout: seconds to wait for the write lock held by another process or thread
            (including one running an `apply` callback).

    Raises:
        ConfigurationError: *synchronous* or *timeout* is not one of the accepted values.
        CorrectionStoreError: the directory does not exist (it is never created silently).
        StoreCorrupt: the file is not a SQLite database, or not a purposeful correction store.
        StoreVersionError: the file was written by a newer version of purposeful.
        StoreUnavailable: the file cannot be opened, or stayed locked too long.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, synchronous: str = "FULL", timeout: float = 30.0
    ) -> None:
        super().__init__()
        self._file = SQLiteFile(
            path,
            kind="correction store",
            owner="SQLiteCorrectionStore",
            application_id=APPLICATION_ID,
            migrations=_MIGRATIONS,
            table="corrections",
            error=CorrectionStoreError,
            synchronous=synchronous,
            timeout=timeout,
        )

    def _insert(self, correction: Correction) -> None:
        with self._file.write("record a correction request") as connection:
            connection.execute(_INSERT, _row(correction))

    def _load(self, correction_id: str) -> Correction | None:
        with self._file.use("read a correction request") as connection:
            row = connection.execute(_GET, (correction_id,)).fetchone()
        return None if row is None else self._correction(row)

    def _change(
        self, correction_id: str, change: Callable[[Correction], Correction]
    ) -> Correction | None:
        with self._file.write("decide a correction request") as connection:
            row = connection.execute(_GET, (correction_id,)).fetchone()
            if row is None:
                return None
            current = self._correction(row)
            changed = change(current)
            values = _row(changed)
            cursor = connection.execute(_DECIDE, (*values[8:], correction_id, current.status.value))
            if cursor.rowcount != 1:  # cannot happen under the write lock; never write twice
                raise InvalidCorrection(
                    f"correction {correction_id} was decided by another writer meanwhile; "
                    f"get() it to see the decision"
                )
            return changed

    def _select(self, subject: str | None, status: CorrectionStatus | None) -> list[Correction]:
        conditions: list[str] = []
        parameters: list[str] = []
        if subject is not None:
            conditions.append("subject = ?")
            parameters.append(subject)
        if status is not None:
            conditions.append("status = ?")
            parameters.append(status.value)
        where = " AND ".join(conditions) or "1"
        sql = f"SELECT {_COLUMNS} FROM corrections WHERE {where} ORDER BY requested_us, seq"
        with self._file.use("list correction requests") as connection:
            rows = connection.execute(sql, parameters).fetchall()
        return [self._correction(row) for row in rows]

    def _correction(self, row: tuple[Any, ...]) -> Correction:
        try:
            (ident, subject, record_type, record_key, field, requested, reason, requested_us,
             status, decided_us, decided_by, note, statement, statement_us) = row  # fmt: skip
            texts = (ident, subject, record_type, record_key, field, requested, reason)
            if not all(isinstance(t, str) for t in texts) or not all(
                t is None or isinstance(t, str) for t in (decided_by, note, statement)
            ):
                raise TypeError
            return Correction(
                *texts,
                requested_at=moment(requested_us),
                status=CorrectionStatus(status),
                decided_at=None if decided_us is None else moment(decided_us),
                decided_by=decided_by,
                decision_note=note,
                statement=statement,
                statement_at=None if statement_us is None else moment(statement_us),
            )
        except (ValueError, TypeError, OverflowError):
            # `from None`: the cause would quote the stored content.
            raise self._file.corrupt("a correction") from None


def _row(c: Correction) -> tuple[Any, ...]:
    """*c* as the table's values, in `_COLUMNS` order, with times as microseconds."""
    return (
        c.id, c.subject, c.record_type, c.record_key, c.field, c.requested, c.reason,
        micros(c.requested_at), c.status.value,
        None if c.decided_at is None else micros(c.decided_at), c.decided_by, c.decision_note,
        c.statement, None if c.statement_at is None else micros(c.statement_at),
    )  # fmt: skip
