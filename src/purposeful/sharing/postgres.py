"""A PostgreSQL sharing store, for several services sharing one disclosure log.

Needs psycopg 3: ``pip install 'purposeful[postgres]'``. The store keeps its four tables in
one schema (``purposeful`` by default, which it can share with a `PostgresConsentStore`),
creates them when they are missing and migrates older ones forward; a store written by a
newer purposeful is refused, never downgraded. The connection, the version table,
migrations and errors are `purposeful._shared.postgres`'s (`PostgresSchema`); here are the tables,
their queries and the two rules that make a write happen once:

- a notice is inserted with ``ON CONFLICT DO NOTHING`` on its (disclosure, correction)
  pair, so of two services telling the same party of the same correction, one records it
  and the other is refused;
- a collection is read ``FOR UPDATE`` and changed only if it is still to be told, so of two
  services resolving it at once, the second waits, then finds it resolved.

What it must not do: hold a lock across two calls, write half of anything, put a subject
id, a record key, any text the caller stored or a password in an error message, or drop,
alter or read anything outside its schema's own tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, LiteralString

from .._shared.postgres import DEFAULT_TIMEOUT, Connection, PostgresSchema, lock_key, sql
from ..errors import SharingStoreError
from .store import (
    BaseSharingStore,
    duplicate_notice,
    refuse_another,
    statements_text,
    stored_statements,
)
from .values import Collection, CollectionStatus, CorrectionNotice, Disclosure, Provenance

__all__ = ["PostgresSharingStore"]

#: What the store is, for messages.
KIND = "sharing store"

#: The kind written in the version table: a table of that name without it is not ours.
STORE_KIND = f"purposeful {KIND}"

#: The table naming the kind and the schema version; the consent store's is
#: ``purposeful_store``, so both can share a schema.
VERSION_TABLE = "purposeful_sharing_store"

#: Forward migrations: entry *n* takes the tables from version *n* to *n* + 1. Statements
#: are formatted with the quoted schema name; every one is idempotent.
MIGRATIONS: tuple[tuple[LiteralString, ...], ...] = (
    (
        """
        CREATE TABLE IF NOT EXISTS {schema}.disclosures (
            seq bigserial PRIMARY KEY,
            id text NOT NULL,
            subject text NOT NULL,
            disclosed_at timestamptz NOT NULL,
            recipient text NOT NULL,
            agreement text NOT NULL,
            agreement_name text NOT NULL,
            purpose text NOT NULL,
            basis text NOT NULL,
            record_type text NOT NULL,
            record_key text NOT NULL,
            fields text[] NOT NULL,
            statements text[] NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT disclosures_id_unique UNIQUE (id)
        )
        """,
        """
        CREATE INDEX IF NOT EXISTS disclosures_by_subject
            ON {schema}.disclosures (subject, disclosed_at, seq)
        """,
        """
        CREATE INDEX IF NOT EXISTS disclosures_by_record
            ON {schema}.disclosures (subject, record_type, record_key)
        """,
        """
        CREATE TABLE IF NOT EXISTS {schema}.correction_notices (
            seq bigserial PRIMARY KEY,
            disclosure_id text NOT NULL,
            correction_id text NOT NULL,
            recipient text NOT NULL,
            told_at timestamptz NOT NULL,
            how text NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT correction_notices_once UNIQUE (disclosure_id, correction_id)
        )
        """,
        """
        CREATE INDEX IF NOT EXISTS correction_notices_by_correction
            ON {schema}.correction_notices (correction_id, told_at, seq)
        """,
        """
        CREATE TABLE IF NOT EXISTS {schema}.collections (
            seq bigserial PRIMARY KEY,
            id text NOT NULL,
            subject text NOT NULL,
            record_type text NOT NULL,
            record_key text NOT NULL,
            source text NOT NULL,
            purpose text NOT NULL,
            collected_at timestamptz NOT NULL,
            law text,
            status text NOT NULL,
            resolved_at timestamptz,
            how text,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT collections_id_unique UNIQUE (id)
        )
        """,
        """
        CREATE INDEX IF NOT EXISTS collections_by_subject
            ON {schema}.collections (subject, collected_at, seq)
        """,
        """
        CREATE INDEX IF NOT EXISTS collections_to_tell
            ON {schema}.collections (collected_at, seq) WHERE status = 'to-tell'
        """,
    ),
    # Version 2: where fields filled from a partner's referral came from.
    (
        """
        CREATE TABLE IF NOT EXISTS {schema}.provenance (
            seq bigserial PRIMARY KEY,
            id text NOT NULL,
            subject text NOT NULL,
            record_type text NOT NULL,
            record_key text NOT NULL,
            fields text[] NOT NULL,
            source text NOT NULL,
            agreement text NOT NULL,
            agreement_name text NOT NULL,
            purpose text NOT NULL,
            received_at timestamptz NOT NULL,
            referred_on date,
            reference text,
            collection text,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT provenance_id_unique UNIQUE (id)
        )
        """,
        """
        CREATE INDEX IF NOT EXISTS provenance_by_subject
            ON {schema}.provenance (subject, received_at, seq)
        """,
    ),
    # Version 3: for a person who needs more care, what a disclosure needed first and was
    # there, the second reviewer's id and the safety review's reference. Disclosures logged
    # before have none.
    (
        """
        ALTER TABLE {schema}.disclosures
            ADD COLUMN IF NOT EXISTS care_needs text[] NOT NULL DEFAULT '{{}}'
        """,
        "ALTER TABLE {schema}.disclosures ADD COLUMN IF NOT EXISTS second_reviewer text",
        "ALTER TABLE {schema}.disclosures ADD COLUMN IF NOT EXISTS safety_review text",
    ),
    # Version 4: the statements of correction that came with information from a partner,
    # with fields filled from a referral and with a collection (JSON text: an array of
    # [field, [statement, ...]] pairs). What was kept before has none.
    (
        """
        ALTER TABLE {schema}.provenance
            ADD COLUMN IF NOT EXISTS statements text NOT NULL DEFAULT '[]'
        """,
        """
        ALTER TABLE {schema}.collections
            ADD COLUMN IF NOT EXISTS statements text NOT NULL DEFAULT '[]'
        """,
    ),
)

#: The version this purposeful writes.
SCHEMA_VERSION = len(MIGRATIONS)

#: Each table's columns that hold a value, in the order of the value's attributes.
DISCLOSURE_COLUMNS = (
    "id",
    "subject",
    "disclosed_at",
    "recipient",
    "agreement",
    "agreement_name",
    "purpose",
    "basis",
    "record_type",
    "record_key",
    "fields",
    "statements",
    "care_needs",
    "second_reviewer",
    "safety_review",
)
NOTICE_COLUMNS = ("disclosure_id", "correction_id", "recipient", "told_at", "how")
COLLECTION_COLUMNS = (
    "id",
    "subject",
    "record_type",
    "record_key",
    "source",
    "purpose",
    "collected_at",
    "law",
    "status",
    "resolved_at",
    "how",
    "statements",
)
PROVENANCE_COLUMNS = (
    "id",
    "subject",
    "record_type",
    "record_key",
    "fields",
    "source",
    "agreement",
    "agreement_name",
    "purpose",
    "received_at",
    "referred_on",
    "reference",
    "collection",
    "statements",
)


class PostgresSharingStore(BaseSharingStore):
    """A sharing store in a PostgreSQL schema, shared by services and their threads.

    Args:
        dsn: a libpq connection string or URI, such as
            ``postgresql://sharing@db.internal:5432/agency``. Its password never appears in
            an error message.
        schema: the schema that holds the store's tables; created if missing. It can be the
            consent store's.
        timeout: seconds any one wait on the server may take (a statement, connecting, a
            server that does not answer at all), after which the call raises
            `StoreUnavailable` and the next one reconnects; see docs/failure-modes.md.
        connect_timeout: seconds to wait for the server when connecting; default: *timeout*.

    The database role needs USAGE on the schema, SELECT, INSERT and UPDATE on its tables and
    USAGE on their sequences; creating or migrating the tables also needs CREATE. A store
    opened before a fork may be used in the child, which opens connections of its own.

    Raises:
        ConfigurationError: a malformed DSN or schema name, or a timeout that is not positive.
        StoreUnavailable: the server cannot be reached or refused the connection.
        StoreCorrupt: the schema holds tables of these names that are not a sharing store.
        StoreVersionError: the tables were written by a newer purposeful.
        SharingStoreError: anything else PostgreSQL refused (a missing privilege, say).
    """

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
                owner="PostgresSharingStore",
                version_table=VERSION_TABLE,
                tables={
                    "disclosures": DISCLOSURE_COLUMNS,
                    "correction_notices": NOTICE_COLUMNS,
                    "collections": COLLECTION_COLUMNS,
                    "provenance": PROVENANCE_COLUMNS,
                },
                migrations=MIGRATIONS,
                error=SharingStoreError,
                privileges="SELECT, INSERT and UPDATE on its tables and USAGE on their sequences",
                timeout=timeout,
                connect_timeout=connect_timeout,
            )
        except BaseException:
            self._closed = True
            raise
        self._sql = _Statements(self._database)

    # --- the backend ---

    def _append_disclosures(self, disclosures: Sequence[Disclosure]) -> None:
        # every id's advisory lock first, in one order for every writer: two batches that
        # share ids in different orders would otherwise deadlock on the unique index (one
        # id cannot: its writer waits while holding no other)
        keys = sorted(
            {lock_key(f"disclosure\n{self._database.schema}\n{d.id}") for d in disclosures}
        )

        def append(connection: Connection) -> None:
            if len(keys) > 1:
                for key in keys:
                    connection.execute("SELECT pg_advisory_xact_lock(%s::bigint)", [key])
            for disclosure in disclosures:
                row = _disclosure_row(disclosure)
                if connection.execute(self._sql.log, row).fetchone() is None:
                    # logged already (perhaps by another writer, whose commit this waited for)
                    refuse_another(self._one_disclosure(connection, disclosure.id), disclosure)

        self._database.write(
            "logging a disclosure",
            append,
            unsure="a disclosure, so it may or may not be logged: log the same Disclosure "
            "again (a disclosure logged already is returned as it is, never stored twice)",
        )

    def _disclosures(
        self, subject: str, record_type: str | None = None, record_key: str | None = None
    ) -> list[Disclosure]:
        def read(connection: Connection) -> list[Disclosure]:
            if record_type is None or record_key is None:
                cursor = connection.execute(self._sql.of_subject, [subject])
            else:
                cursor = connection.execute(self._sql.of_record, [subject, record_type, record_key])
            return [self._disclosure(row) for row in cursor.fetchall()]

        return self._database.run("reading the disclosure log", read)

    def _append_notice(
        self,
        disclosure_id: str,
        correction_id: str,
        make: Callable[[Disclosure, CorrectionNotice | None], CorrectionNotice],
    ) -> CorrectionNotice | None:
        def append(connection: Connection) -> CorrectionNotice | None:
            row = connection.execute(self._sql.disclosure_by_id, [disclosure_id]).fetchone()
            if row is None:
                return None
            disclosure = self._disclosure(row)
            told = connection.execute(self._sql.notice_of, [disclosure_id, correction_id])
            found = told.fetchone()
            notice = make(disclosure, None if found is None else self._notice(found))
            if connection.execute(self._sql.tell, _notice_row(notice)).fetchone() is None:
                raise duplicate_notice(disclosure_id, correction_id)
            return notice

        return self._database.write(
            "recording a correction notice",
            append,
            unsure="a correction notice, so it may or may not be recorded: check notices() "
            "before recording it again",
        )

    def _notices(self, correction_id: str) -> list[CorrectionNotice]:
        def read(connection: Connection) -> list[CorrectionNotice]:
            rows = connection.execute(self._sql.notices, [correction_id]).fetchall()
            return [self._notice(row) for row in rows]

        return self._database.run("reading the correction notices", read)

    def _append_collection(self, collection: Collection) -> None:
        def append(connection: Connection) -> None:
            connection.execute(self._sql.collect, _collection_row(collection))

        self._database.write(
            "recording a collection",
            append,
            unsure="a collection, so it may or may not be recorded: check collections() "
            "before recording it again",
        )

    def _resolve(
        self, collection_id: str, change: Callable[[Collection], Collection]
    ) -> Collection | None:
        def resolve(connection: Connection) -> Collection | None:
            row = connection.execute(self._sql.collection_for_update, [collection_id]).fetchone()
            if row is None:
                return None
            current = self._collection(row)
            changed = change(current)
            values = _collection_row(changed)
            cursor = connection.execute(
                self._sql.resolve, [*values[8:11], collection_id, current.status.value]
            )
            if cursor.rowcount != 1:  # cannot happen under the row lock; never write twice
                raise SharingStoreError(
                    f"collection {collection_id} was resolved by another writer meanwhile; "
                    f"see collections()"
                )
            return changed

        return self._database.write(
            "resolving a collection",
            resolve,
            unsure="a collection's resolution, so it may or may not be recorded: check "
            "collections() before resolving it again",
        )

    def _collections(
        self, subject: str | None, status: CollectionStatus | None
    ) -> list[Collection]:
        def read(connection: Connection) -> list[Collection]:
            wanted = None if status is None else status.value
            if subject is not None:
                cursor = connection.execute(self._sql.of_subject_in, [subject, wanted, wanted])
            elif status is CollectionStatus.TO_TELL:
                cursor = connection.execute(self._sql.to_tell)
            else:
                cursor = connection.execute(self._sql.in_status, [wanted, wanted])
            return [self._collection(row) for row in cursor.fetchall()]

        return self._database.run("listing collections", read)

    def _append_provenance(self, provenance: Provenance, collection: Collection | None) -> None:
        def append(connection: Connection) -> None:
            if collection is not None:
                connection.execute(self._sql.collect, _collection_row(collection))
            connection.execute(self._sql.keep, _provenance_row(provenance))

        self._database.write(
            "recording where a referral's fields came from",
            append,
            unsure="a referral's provenance, so it may or may not be recorded: check "
            "provenance() before recording it again",
        )

    def _provenance(
        self, subject: str, record_type: str | None, record_key: str | None
    ) -> list[Provenance]:
        def read(connection: Connection) -> list[Provenance]:
            if record_type is None or record_key is None:
                cursor = connection.execute(self._sql.provenance_of, [subject])
            else:
                cursor = connection.execute(
                    self._sql.provenance_of_record, [subject, record_type, record_key]
                )
            return [self._provenance_of(row) for row in cursor.fetchall()]

        return self._database.run("reading where information came from", read)

    def _close(self) -> None:
        self._database.close()

    def _provenance_of(self, row: tuple[Any, ...]) -> Provenance:
        try:
            # the columns are named as the value's attributes
            kept = dict(zip(PROVENANCE_COLUMNS, row, strict=True))
            kept["statements"] = stored_statements(kept["statements"])
            return Provenance(**kept)
        except (ValueError, TypeError, OverflowError):
            raise self._database.corrupt("a provenance entry") from None

    # --- reading rows back ---

    def _one_disclosure(self, connection: Connection, disclosure_id: str) -> Disclosure:
        row = connection.execute(self._sql.disclosure_by_id, [disclosure_id]).fetchone()
        if row is None:  # the conflicting writer's row is committed: it is there
            raise self._database.corrupt("a disclosure")
        return self._disclosure(row)

    def _disclosure(self, row: tuple[Any, ...]) -> Disclosure:
        try:
            return Disclosure(*row)
        except (ValueError, TypeError, OverflowError):  # ConfigurationError is a ValueError
            raise self._database.corrupt("a disclosure") from None

    def _notice(self, row: tuple[Any, ...]) -> CorrectionNotice:
        try:
            return CorrectionNotice(*row)
        except (ValueError, TypeError, OverflowError):
            raise self._database.corrupt("a correction notice") from None

    def _collection(self, row: tuple[Any, ...]) -> Collection:
        try:
            (ident, subject, record_type, record_key, source, purpose, collected_at, law,
             status, resolved_at, how, statements) = row  # fmt: skip
            return Collection(
                ident, subject, record_type, record_key, source, purpose, collected_at, law,
                CollectionStatus(status), resolved_at, how, stored_statements(statements),
            )  # fmt: skip
        except (ValueError, TypeError, OverflowError):
            raise self._database.corrupt("a collection") from None


class _Statements:
    """The store's SQL, with its schema name quoted once."""

    def __init__(self, database: PostgresSchema) -> None:
        disclosures = database.table("disclosures")
        notices = database.table("correction_notices")
        collections = database.table("collections")
        provenance = database.table("provenance")
        kept = _columns(PROVENANCE_COLUMNS)
        self.keep = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            provenance, kept, _placeholders(PROVENANCE_COLUMNS)
        )
        self.provenance_of = sql.SQL(
            "SELECT {} FROM {} WHERE subject = %s ORDER BY received_at, seq"
        ).format(kept, provenance)
        self.provenance_of_record = sql.SQL(
            "SELECT {} FROM {} WHERE subject = %s AND record_type = %s AND record_key = %s "
            "ORDER BY received_at, seq"
        ).format(kept, provenance)
        disclosure = _columns(DISCLOSURE_COLUMNS)
        notice = _columns(NOTICE_COLUMNS)
        collection = _columns(COLLECTION_COLUMNS)
        self.log = sql.SQL(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO NOTHING RETURNING seq"
        ).format(disclosures, disclosure, _placeholders(DISCLOSURE_COLUMNS))
        self.disclosure_by_id = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(
            disclosure, disclosures
        )
        self.of_subject = sql.SQL(
            "SELECT {} FROM {} WHERE subject = %s ORDER BY disclosed_at, seq"
        ).format(disclosure, disclosures)
        self.of_record = sql.SQL(
            "SELECT {} FROM {} WHERE subject = %s AND record_type = %s AND record_key = %s "
            "ORDER BY disclosed_at, seq"
        ).format(disclosure, disclosures)
        self.tell = sql.SQL(
            "INSERT INTO {} ({}) VALUES ({}) "
            "ON CONFLICT (disclosure_id, correction_id) DO NOTHING RETURNING seq"
        ).format(notices, notice, _placeholders(NOTICE_COLUMNS))
        self.notice_of = sql.SQL(
            "SELECT {} FROM {} WHERE disclosure_id = %s AND correction_id = %s"
        ).format(notice, notices)
        self.notices = sql.SQL(
            "SELECT {} FROM {} WHERE correction_id = %s ORDER BY told_at, seq"
        ).format(notice, notices)
        self.collect = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            collections, collection, _placeholders(COLLECTION_COLUMNS)
        )
        self.collection_for_update = sql.SQL("SELECT {} FROM {} WHERE id = %s FOR UPDATE").format(
            collection, collections
        )
        # Resolved once: the row changes only if it is still in the status it was read in.
        self.resolve = sql.SQL(
            "UPDATE {} SET status = %s, resolved_at = %s, how = %s WHERE id = %s AND status = %s"
        ).format(collections)
        self.of_subject_in = sql.SQL(
            "SELECT {} FROM {} WHERE subject = %s AND (%s::text IS NULL OR status = %s::text) "
            "ORDER BY collected_at, seq"
        ).format(collection, collections)
        # Written out, not bound, so that even a generic plan uses the partial index.
        self.to_tell = sql.SQL(
            "SELECT {} FROM {} WHERE status = 'to-tell' ORDER BY collected_at, seq"
        ).format(collection, collections)
        self.in_status = sql.SQL(
            "SELECT {} FROM {} WHERE (%s::text IS NULL OR status = %s::text) "
            "ORDER BY collected_at, seq"
        ).format(collection, collections)


def _columns(names: tuple[str, ...]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


def _placeholders(names: tuple[str, ...]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Placeholder() * len(names))


def _disclosure_row(d: Disclosure) -> list[Any]:
    """*d* as the table's values, in `DISCLOSURE_COLUMNS` order."""
    return [
        d.id, d.subject, d.at, d.recipient, d.agreement, d.agreement_name, d.purpose, d.basis,
        d.record_type, d.record_key, list(d.fields), list(d.statements), list(d.care_needs),
        d.second_reviewer, d.safety_review,
    ]  # fmt: skip


def _notice_row(n: CorrectionNotice) -> list[Any]:
    """*n* as the table's values, in `NOTICE_COLUMNS` order."""
    return [n.disclosure_id, n.correction_id, n.recipient, n.told_at, n.how]


def _collection_row(c: Collection) -> list[Any]:
    """*c* as the table's values, in `COLLECTION_COLUMNS` order."""
    return [
        c.id, c.subject, c.record_type, c.record_key, c.source, c.purpose, c.collected_at,
        c.law, c.status.value, c.resolved_at, c.how, statements_text(c),
    ]  # fmt: skip


def _provenance_row(p: Provenance) -> list[Any]:
    """*p* as the table's values, in `PROVENANCE_COLUMNS` order."""
    return [
        p.id, p.subject, p.record_type, p.record_key, list(p.fields), p.source, p.agreement,
        p.agreement_name, p.purpose, p.received_at, p.referred_on, p.reference, p.collection,
        statements_text(p),
    ]  # fmt: skip
