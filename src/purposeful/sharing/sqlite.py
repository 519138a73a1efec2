"""The SQLite sharing store: the disclosure log in one durable file shared by processes.

`SQLiteSharingStore` keeps the disclosures, the correction notices, the IPP 3A
collections and the provenance of fields filled from referrals in one SQLite file, with the
standard library's `sqlite3` and nothing else. A file written before provenance was kept
(schema version 1), before a disclosure's care needs were kept (version 2), or before the
statements of correction that came with a referral were kept (version 3), is migrated
forward when it is opened. The file handling it shares with
the other stores (WAL, one transaction per write, several processes and threads, schema
versions and migrations, the same-file check, errors) is
`purposeful._shared.sqlite.SQLiteFile`'s; here are the tables, the queries and two rules:

- **Once.** A notice is recorded, and a collection resolved, under the write lock
  (``BEGIN IMMEDIATE``): the store reads what is there, checks, and writes in one
  transaction, and the write itself only succeeds if the row is still as read. Of two
  processes resolving the same collection, the second finds it resolved.
- **Exact.** Times are integer microseconds since the epoch (UTC), field names,
  correction ids and statements of correction JSON arrays, so values read back equal the
  values logged.

What this module must not do: put a subject id, a record key or any text the caller stored
in an error message. The rules and the messages live in `store`, shared by every backend.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from .._shared.sqlite import SQLiteBacked, SQLiteFile, micros, moment
from ..errors import SharingStoreError
from .store import (
    BaseSharingStore,
    duplicate_notice,
    refuse_another,
    statements_text,
    stored_json,
    stored_statements,
)
from .values import Collection, CollectionStatus, CorrectionNotice, Disclosure, Provenance

__all__ = ["APPLICATION_ID", "SQLiteSharingStore"]

#: ``PRAGMA application_id`` of a purposeful sharing store: "PuSh" in ASCII.
APPLICATION_ID = 0x50755368

_SCHEMA_V1 = (
    """
    CREATE TABLE disclosures (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        at_us INTEGER NOT NULL CHECK (typeof(at_us) = 'integer'),
        recipient TEXT NOT NULL,
        agreement TEXT NOT NULL,
        agreement_name TEXT NOT NULL,
        purpose TEXT NOT NULL,
        basis TEXT NOT NULL,
        record_type TEXT NOT NULL,
        record_key TEXT NOT NULL,
        fields TEXT NOT NULL,
        statements TEXT NOT NULL
    )
    """,
    # disclosures() and for_subject(): one subject's disclosures, oldest first.
    "CREATE INDEX disclosures_by_subject ON disclosures (subject, at_us, seq)",
    # recipients_of() and still_to_tell(): the disclosures of one record.
    "CREATE INDEX disclosures_by_record ON disclosures "
    "(subject, record_type, record_key, at_us, seq)",
    """
    CREATE TABLE correction_notices (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        disclosure_id TEXT NOT NULL,
        correction_id TEXT NOT NULL,
        recipient TEXT NOT NULL,
        told_us INTEGER NOT NULL CHECK (typeof(told_us) = 'integer'),
        how TEXT NOT NULL,
        UNIQUE (disclosure_id, correction_id)
    )
    """,
    # notices() and still_to_tell(): the parties told of one correction.
    "CREATE INDEX correction_notices_by_correction "
    "ON correction_notices (correction_id, told_us, seq)",
    """
    CREATE TABLE collections (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        record_type TEXT NOT NULL,
        record_key TEXT NOT NULL,
        source TEXT NOT NULL,
        purpose TEXT NOT NULL,
        collected_us INTEGER NOT NULL CHECK (typeof(collected_us) = 'integer'),
        law TEXT,
        status TEXT NOT NULL,
        resolved_us INTEGER CHECK (resolved_us IS NULL OR typeof(resolved_us) = 'integer'),
        how TEXT
    )
    """,
    # collections() and still_to_be_told(subject): one subject's collections, oldest first.
    "CREATE INDEX collections_by_subject ON collections (subject, collected_us, seq)",
    # still_to_be_told(): the agency's queue, oldest first.
    "CREATE INDEX collections_to_tell ON collections (collected_us, seq) WHERE status = 'to-tell'",
    f"PRAGMA application_id = {APPLICATION_ID}",
)

#: Version 2: where fields filled from a partner's referral came from.
_SCHEMA_V2 = (
    """
    CREATE TABLE provenance (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        record_type TEXT NOT NULL,
        record_key TEXT NOT NULL,
        fields TEXT NOT NULL,
        source TEXT NOT NULL,
        agreement TEXT NOT NULL,
        agreement_name TEXT NOT NULL,
        purpose TEXT NOT NULL,
        received_us INTEGER NOT NULL CHECK (typeof(received_us) = 'integer'),
        referred_on TEXT,
        reference TEXT,
        collection TEXT
    )
    """,
    # provenance(subject[, record]): one subject's, oldest first.
    "CREATE INDEX provenance_by_subject ON provenance (subject, received_us, seq)",
)

#: Version 3: for a person who needs more care, what a disclosure needed first and was
#: there (codes, a JSON array), the second reviewer's id and the safety review's reference.
#: Disclosures logged before have none: they are read back with none.
_SCHEMA_V3 = (
    "ALTER TABLE disclosures ADD COLUMN care_needs TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE disclosures ADD COLUMN second_reviewer TEXT",
    "ALTER TABLE disclosures ADD COLUMN safety_review TEXT",
)

#: Version 4: the statements of correction that came with information from a partner, with
#: fields filled from a referral and with a collection (a JSON array of [field, [statement,
#: ...]] pairs). What was kept before has none.
_SCHEMA_V4 = (
    "ALTER TABLE provenance ADD COLUMN statements TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE collections ADD COLUMN statements TEXT NOT NULL DEFAULT '[]'",
)

#: The forward migrations: step *n* (0-based) takes a file from schema version *n* to
#: *n + 1*. Version 1 is the initial schema. Append steps; never edit one that has shipped.
_MIGRATIONS: list[tuple[str, ...]] = [_SCHEMA_V1, _SCHEMA_V2, _SCHEMA_V3, _SCHEMA_V4]

_DISCLOSURE = (
    "id, subject, at_us, recipient, agreement, agreement_name, purpose, basis, record_type, "
    "record_key, fields, statements, care_needs, second_reviewer, safety_review"
)
_LOG = f"INSERT INTO disclosures ({_DISCLOSURE}) VALUES ({', '.join('?' * 15)})"
_DISCLOSURE_BY_ID = f"SELECT {_DISCLOSURE} FROM disclosures WHERE id = ?"
_OF_SUBJECT = f"SELECT {_DISCLOSURE} FROM disclosures WHERE subject = ? ORDER BY at_us, seq"
_OF_RECORD = (
    f"SELECT {_DISCLOSURE} FROM disclosures WHERE subject = ? AND record_type = ? "
    f"AND record_key = ? ORDER BY at_us, seq"
)

_NOTICE = "disclosure_id, correction_id, recipient, told_us, how"
_TELL = f"INSERT INTO correction_notices ({_NOTICE}) VALUES (?, ?, ?, ?, ?)"
_NOTICE_OF = (
    f"SELECT {_NOTICE} FROM correction_notices WHERE disclosure_id = ? AND correction_id = ?"
)
_NOTICES = f"SELECT {_NOTICE} FROM correction_notices WHERE correction_id = ? ORDER BY told_us, seq"

_COLLECTION = (
    "id, subject, record_type, record_key, source, purpose, collected_us, law, status, "
    "resolved_us, how, statements"
)
_COLLECT = f"INSERT INTO collections ({_COLLECTION}) VALUES ({', '.join('?' * 12)})"
_COLLECTION_BY_ID = f"SELECT {_COLLECTION} FROM collections WHERE id = ?"
# Resolved once: the row changes only if it is still in the status it was read in.
_RESOLVE = "UPDATE collections SET status = ?, resolved_us = ?, how = ? WHERE id = ? AND status = ?"

_PROVENANCE = (
    "id, subject, record_type, record_key, fields, source, agreement, agreement_name, purpose, "
    "received_us, referred_on, reference, collection, statements"
)
_KEEP = f"INSERT INTO provenance ({_PROVENANCE}) VALUES ({', '.join('?' * 14)})"
_PROVENANCE_OF = f"SELECT {_PROVENANCE} FROM provenance WHERE subject = ?"
_ORDER = " ORDER BY received_us, seq"


class SQLiteSharingStore(SQLiteBacked, BaseSharingStore):
    """A sharing store in one SQLite file, safe to share between threads and processes.

    Args:
        path: the database file. It is created if missing, but its directory must exist.
        synchronous: SQLite's ``synchronous`` setting: ``"FULL"`` (what was logged survives
            a power loss), ``"NORMAL"`` or ``"EXTRA"`` (see `SQLiteFile`).
        timeout: seconds to wait for the write lock held by another process or thread
            before giving up with `StoreUnavailable`.

    Raises:
        ConfigurationError: *synchronous* or *timeout* is not one of the accepted values.
        SharingStoreError: the directory does not exist (it is never created silently).
        StoreCorrupt: the file is not a SQLite database, or not a purposeful sharing store.
        StoreVersionError: the file was written by a newer version of purposeful.
        StoreUnavailable: the file cannot be opened, or stayed locked too long.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, synchronous: str = "FULL", timeout: float = 30.0
    ) -> None:
        super().__init__()
        self._file = SQLiteFile(
            path,
            kind="sharing store",
            owner="SQLiteSharingStore",
            application_id=APPLICATION_ID,
            migrations=_MIGRATIONS,
            table="disclosures",
            error=SharingStoreError,
            synchronous=synchronous,
            timeout=timeout,
        )

    # --- the backend ---

    def _append_disclosures(self, disclosures: Sequence[Disclosure]) -> None:
        with self._file.write("log a disclosure") as connection:
            for disclosure in disclosures:
                row = connection.execute(_DISCLOSURE_BY_ID, (disclosure.id,)).fetchone()
                if row is not None:
                    refuse_another(self._disclosure(row), disclosure)
                    continue
                connection.execute(_LOG, _disclosure_row(disclosure))

    def _disclosures(
        self, subject: str, record_type: str | None = None, record_key: str | None = None
    ) -> list[Disclosure]:
        parameters: tuple[str, ...]
        if record_type is None or record_key is None:
            sql, parameters = _OF_SUBJECT, (subject,)
        else:
            sql, parameters = _OF_RECORD, (subject, record_type, record_key)
        with self._file.use("read the disclosure log") as connection:
            rows = connection.execute(sql, parameters).fetchall()
        return [self._disclosure(row) for row in rows]

    def _append_notice(
        self,
        disclosure_id: str,
        correction_id: str,
        make: Callable[[Disclosure, CorrectionNotice | None], CorrectionNotice],
    ) -> CorrectionNotice | None:
        with self._file.write("record a correction notice") as connection:
            row = connection.execute(_DISCLOSURE_BY_ID, (disclosure_id,)).fetchone()
            if row is None:
                return None
            told = connection.execute(_NOTICE_OF, (disclosure_id, correction_id)).fetchone()
            notice = make(self._disclosure(row), None if told is None else self._notice(told))
            try:
                connection.execute(_TELL, _notice_row(notice))
            except sqlite3.IntegrityError:  # cannot happen under the write lock
                raise duplicate_notice(disclosure_id, correction_id) from None
            return notice

    def _notices(self, correction_id: str) -> list[CorrectionNotice]:
        with self._file.use("read the correction notices") as connection:
            rows = connection.execute(_NOTICES, (correction_id,)).fetchall()
        return [self._notice(row) for row in rows]

    def _append_collection(self, collection: Collection) -> None:
        with self._file.write("record a collection") as connection:
            connection.execute(_COLLECT, _collection_row(collection))

    def _resolve(
        self, collection_id: str, change: Callable[[Collection], Collection]
    ) -> Collection | None:
        with self._file.write("resolve a collection") as connection:
            row = connection.execute(_COLLECTION_BY_ID, (collection_id,)).fetchone()
            if row is None:
                return None
            current = self._collection(row)
            changed = change(current)
            values = _collection_row(changed)
            cursor = connection.execute(
                _RESOLVE, (*values[8:11], collection_id, current.status.value)
            )
            if cursor.rowcount != 1:  # cannot happen under the write lock; never write twice
                raise SharingStoreError(
                    f"collection {collection_id} was resolved by another writer meanwhile; "
                    f"see collections()"
                )
            return changed

    def _collections(
        self, subject: str | None, status: CollectionStatus | None
    ) -> list[Collection]:
        conditions: list[str] = []
        parameters: list[str] = []
        if subject is not None:
            conditions.append("subject = ?")
            parameters.append(subject)
        if status is not None:
            # Written out, not bound: SQLite uses the partial index of the to-tell queue only
            # for a literal. The values are the enum's own, never the caller's text.
            conditions.append(f"status = '{status.value}'")
        where = " AND ".join(conditions) or "1"
        sql = f"SELECT {_COLLECTION} FROM collections WHERE {where} ORDER BY collected_us, seq"
        with self._file.use("list collections") as connection:
            rows = connection.execute(sql, parameters).fetchall()
        return [self._collection(row) for row in rows]

    def _append_provenance(self, provenance: Provenance, collection: Collection | None) -> None:
        with self._file.write("record where a referral's fields came from") as connection:
            if collection is not None:
                connection.execute(_COLLECT, _collection_row(collection))
            connection.execute(_KEEP, _provenance_row(provenance))

    def _provenance(
        self, subject: str, record_type: str | None, record_key: str | None
    ) -> list[Provenance]:
        parameters: tuple[str, ...]
        if record_type is None or record_key is None:
            sql, parameters = _PROVENANCE_OF + _ORDER, (subject,)
        else:
            sql = _PROVENANCE_OF + " AND record_type = ? AND record_key = ?" + _ORDER
            parameters = (subject, record_type, record_key)
        with self._file.use("read where information came from") as connection:
            rows = connection.execute(sql, parameters).fetchall()
        return [self._provenance_of(row) for row in rows]

    def _provenance_of(self, row: tuple[Any, ...]) -> Provenance:
        try:
            (ident, subject, record_type, record_key, fields, source, agreement,
             agreement_name, purpose, received_us, referred_on, reference,
             collection, statements) = row  # fmt: skip
            return Provenance(
                id=ident,
                subject=subject,
                record_type=record_type,
                record_key=record_key,
                fields=_names(fields),
                source=source,
                agreement=agreement,
                agreement_name=agreement_name,
                purpose=purpose,
                received_at=moment(received_us),
                referred_on=None if referred_on is None else date.fromisoformat(referred_on),
                reference=reference,
                collection=collection,
                statements=stored_statements(statements),
            )
        except (ValueError, TypeError, OverflowError):
            raise self._file.corrupt("a provenance entry") from None

    # --- reading rows back ---

    def _disclosure(self, row: tuple[Any, ...]) -> Disclosure:
        try:
            (ident, subject, at_us, recipient, agreement, agreement_name, purpose, basis,
             record_type, record_key, fields, statements, care_needs, second_reviewer,
             safety_review) = row  # fmt: skip
            return Disclosure(
                id=ident,
                subject=subject,
                at=moment(at_us),
                recipient=recipient,
                agreement=agreement,
                agreement_name=agreement_name,
                purpose=purpose,
                basis=basis,
                record_type=record_type,
                record_key=record_key,
                fields=_names(fields),
                statements=_names(statements),
                care_needs=_names(care_needs),
                second_reviewer=second_reviewer,
                safety_review=safety_review,
            )
        except (ValueError, TypeError, OverflowError):  # ConfigurationError is a ValueError
            # `from None`: the cause would quote the stored content.
            raise self._file.corrupt("a disclosure") from None

    def _notice(self, row: tuple[Any, ...]) -> CorrectionNotice:
        try:
            disclosure_id, correction_id, recipient, told_us, how = row
            return CorrectionNotice(disclosure_id, correction_id, recipient, moment(told_us), how)
        except (ValueError, TypeError, OverflowError):
            raise self._file.corrupt("a correction notice") from None

    def _collection(self, row: tuple[Any, ...]) -> Collection:
        try:
            (ident, subject, record_type, record_key, source, purpose, collected_us, law,
             status, resolved_us, how, statements) = row  # fmt: skip
            return Collection(
                id=ident,
                subject=subject,
                record_type=record_type,
                record_key=record_key,
                source=source,
                purpose=purpose,
                collected_at=moment(collected_us),
                law=law,
                status=CollectionStatus(status),
                resolved_at=None if resolved_us is None else moment(resolved_us),
                how=how,
                statements=stored_statements(statements),
            )
        except (ValueError, TypeError, OverflowError):
            raise self._file.corrupt("a collection") from None


def _names(stored: object) -> tuple[str, ...]:
    """A JSON array of names, as stored; anything else is a TypeError (a damaged row)."""
    if not isinstance(stored, str):
        raise TypeError
    names = stored_json(stored)
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise TypeError
    return tuple(names)


def _disclosure_row(d: Disclosure) -> tuple[Any, ...]:
    """*d* as the table's values, in `_DISCLOSURE` order."""
    return (
        d.id, d.subject, micros(d.at), d.recipient, d.agreement, d.agreement_name, d.purpose,
        d.basis, d.record_type, d.record_key, json.dumps(list(d.fields)),
        json.dumps(list(d.statements)), json.dumps(list(d.care_needs)), d.second_reviewer,
        d.safety_review,
    )  # fmt: skip


def _notice_row(n: CorrectionNotice) -> tuple[Any, ...]:
    """*n* as the table's values, in `_NOTICE` order."""
    return (n.disclosure_id, n.correction_id, n.recipient, micros(n.told_at), n.how)


def _collection_row(c: Collection) -> tuple[Any, ...]:
    """*c* as the table's values, in `_COLLECTION` order."""
    return (
        c.id, c.subject, c.record_type, c.record_key, c.source, c.purpose,
        micros(c.collected_at), c.law, c.status.value,
        None if c.resolved_at is None else micros(c.resolved_at), c.how, statements_text(c),
    )  # fmt: skip


def _provenance_row(p: Provenance) -> tuple[Any, ...]:
    """*p* as the table's values, in `_PROVENANCE` order."""
    return (
        p.id, p.subject, p.record_type, p.record_key, json.dumps(list(p.fields)), p.source,
        p.agreement, p.agreement_name, p.purpose, micros(p.received_at),
        None if p.referred_on is None else p.referred_on.isoformat(), p.reference,
        p.collection, statements_text(p),
    )  # fmt: skip
