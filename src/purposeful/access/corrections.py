"""Correction requests (IPP 7): what a person asked to change, what the agency decided, and
the statement of correction that travels with a field the agency would not change.

IPP 7 of the Privacy Act 2020 gives a person the right to ask an agency to correct
information about them. The agency either corrects it, or declines; when it declines, the
person may give a statement of the correction they sought, and the agency must attach it so
that it is read with the information whenever the information is used. Where reasonably
practicable, the agency also tells the parties it disclosed the information to; that is the
disclosure log's job, not this module's.

A correction store keeps one `Correction` per request: who asked (the subject), which
field of which record (the record class's name, its key and the field's name), the value
they asked for and why, and then the decision: applied or declined, when, by which member
of staff, with the agency's note; and, for a declined request, the person's statement.
`BaseCorrectionStore.statements` gives the statements that must be shown with a record's
fields, for subject-access bundles and disclosures.

The store does not hold the application's data. `BaseCorrectionStore.apply` calls the
application's *update* callback, which changes its own data source, while the store holds
its write lock (``BEGIN IMMEDIATE`` in SQLite), and records the request as applied only
after the callback returned: a request is decided once, even by two processes at once. If
the callback raises, nothing is recorded; if recording fails after the callback succeeded,
the request stays pending with the application's change made, so the callback must be
idempotent: retrying `apply` calls it again.

What this module must not do: put a subject id, a requested value, a reason or a statement
in an error message or a repr. Messages name record types, fields, correction ids, statuses
and dates only.
"""

from __future__ import annotations

import enum
import os
import re
import threading
import uuid
from abc import abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from .._shared.sqlite import SQLiteFile, micros, moment
from .._shared.store import ClosableStore
from ..actors import Actor
from ..errors import (
    AnnotationError,
    CorrectionStoreError,
    InvalidCorrection,
    UnknownCorrection,
)
from ..records import RecordPolicy, record_policy

__all__ = [
    "BaseCorrectionStore",
    "Correction",
    "CorrectionStatus",
    "MemoryCorrectionStore",
    "SQLiteCorrectionStore",
]

_ID = re.compile(r"[0-9a-f]{32}")


class CorrectionStatus(enum.Enum):
    """Where a correction request stands; the values are stable machine names."""

    REQUESTED = "requested"
    APPLIED = "applied"
    DECLINED = "declined"


@attrs.frozen
class Correction:
    """One correction request and its decision, as a store recorded it.

    Holds the subject id, the value asked for, the reason and the statement, all personal:
    its repr shows only the id, record type, field and status.

    Attributes:
        requested: the value the person asks for; ``""`` asks for the value to be removed.
        decided_by: the id of the member of staff (`Actor.id`) who decided.
        decision_note: why the agency declined, or what it changed.
        statement: the person's statement of correction, for a declined request: it must be
            read with the field (`BaseCorrectionStore.statements`).
    """

    id: str
    subject: str
    record_type: str
    record_key: str
    field: str
    requested: str
    reason: str
    requested_at: datetime
    status: CorrectionStatus
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    statement: str | None = None
    statement_at: datetime | None = None

    def applies_to(self, record_type: str, record_key: str, field: str | None = None) -> bool:
        """True if the request is about the record *record_type*/*record_key* (and *field*)."""
        return (
            self.record_type == record_type
            and self.record_key == record_key
            and (field is None or self.field == field)
        )

    def __repr__(self) -> str:
        return (
            f"Correction(id={self.id!r}, record_type={self.record_type!r}, "
            f"field={self.field!r}, status={self.status})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """hypothesis and IPython print through this; keep them to the safe repr."""
        printer.text(repr(self))


class _UpdateFailed(Exception):
    """Carries the application's exception out of a backend, so that nothing on the way
    (`SQLiteFile` turns any `sqlite3.Error` into a store error) mistakes it for its own."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


class BaseCorrectionStore(ClosableStore):
    """Shared behaviour of the correction stores: use `MemoryCorrectionStore` or
    `SQLiteCorrectionStore`.

    Every method raises `StoreClosed` after `close()`, and `CorrectionStoreError` when
    called from inside an `apply` callback (the store is locked until the callback returns).
    A store can be used as a context manager, which closes it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._updating = threading.local()

    # --- what a backend implements ---

    @abstractmethod
    def _insert(self, correction: Correction) -> None:
        """Store a new request."""

    @abstractmethod
    def _load(self, correction_id: str) -> Correction | None:
        """The request with that id, or None."""

    @abstractmethod
    def _change(
        self, correction_id: str, change: Callable[[Correction], Correction]
    ) -> Correction | None:
        """Atomically, holding the write lock throughout: load the request (return None if
        there is none), call *change* with it (which raises to refuse), and store what it
        returns in its place. Nothing is written if anything raises."""

    @abstractmethod
    def _select(self, subject: str | None, status: CorrectionStatus | None) -> list[Correction]:
        """The requests of *subject* and/or in *status* (None: any), oldest first (by
        requested_at, then in the order recorded)."""

    # --- the store's interface ---

    def request_correction(
        self,
        subject: str,
        record: object,
        field: str,
        requested: str,
        reason: str,
        *,
        at: datetime | None = None,
    ) -> Correction:
        """Record that *subject* asks for *field* of *record* to be changed to *requested*.

        Args:
            record: the instance of a `purposeful.record` class the request is about; it
                must be about *subject*.
            field: the name of any of its fields, managed or not.
            requested: the value asked for; ``""`` asks for the value to be removed.
            reason: why the person asks, in their words; not empty.
            at: when the request was received (aware); default now.

        Raises:
            InvalidCorrection: any argument is not as described.
        """
        self._check_open()
        subject = _text(subject, "subject", "the person's identifier")
        policy = _policy(record, "request_correction")
        _check_subject(policy, record, subject)
        _check_field(policy, field)
        if not isinstance(requested, str):
            raise InvalidCorrection(
                f"requested= takes the value asked for as a string ('' asks for it to be "
                f"removed), not {type(requested).__name__}"
            )
        correction = Correction(
            id=uuid.uuid4().hex,
            subject=subject,
            record_type=policy.name,
            record_key=policy.key_of(record),
            field=field,
            requested=requested,
            reason=_text(reason, "reason", "why the person asks for the correction"),
            requested_at=_when(at),
            status=CorrectionStatus.REQUESTED,
        )
        self._insert(correction)
        return correction

    def apply(
        self,
        correction_id: str,
        update: Callable[[Correction], object],
        *,
        by: Actor | str,
        note: str | None = None,
        at: datetime | None = None,
    ) -> Correction:
        """Make the correction through *update*, then record the request as applied.

        *update* is called once, with the pending `Correction`, while the store holds its
        write lock: it changes the application's own data, must not use this store, and
        should be quick and idempotent (if recording fails after it returned, the request
        stays pending and a retry calls it again). If it raises, the request stays pending
        and its exception propagates unchanged.

        Args:
            by: the member of staff who decided (or their id).
            note: what was changed, if more than the requested value.
            at: when it was decided (aware, not before the request); default now.

        Raises:
            UnknownCorrection: no request has that id.
            InvalidCorrection: the request was decided already, or an argument is wrong.
        """
        self._check_open()
        if not callable(update):
            raise InvalidCorrection(
                "apply() takes an update callback that changes the application's data"
            )
        decided_by, when = _actor(by), _when(at)
        note = None if note is None else _text(note, "note", "what the agency changed")

        def change(current: Correction) -> Correction:
            _check_decidable(current, when)
            self._updating.active = True
            try:
                update(current)
            except Exception as exc:
                raise _UpdateFailed(exc) from None
            finally:
                self._updating.active = False
            return attrs.evolve(
                current,
                status=CorrectionStatus.APPLIED,
                decided_at=when,
                decided_by=decided_by,
                decision_note=note,
            )

        try:
            return self._decide(correction_id, change)
        except _UpdateFailed as failed:
            error = failed.error
        raise error

    def decline(
        self,
        correction_id: str,
        *,
        by: Actor | str,
        reason: str,
        statement: str | None = None,
        at: datetime | None = None,
    ) -> Correction:
        """Record that the agency declined the request, and why.

        Args:
            by: the member of staff who decided (or their id).
            reason: why the agency declined; tell the person, and that they may give a
                statement of correction.
            statement: the person's statement of correction, if they have given it already
                (otherwise `attach_statement` later).
            at: when it was decided (aware, not before the request); default now.

        Raises:
            UnknownCorrection: no request has that id.
            InvalidCorrection: the request was decided already, or an argument is wrong.
        """
        self._check_open()
        decided_by, when = _actor(by), _when(at)
        reason = _text(reason, "reason", "why the agency declined")
        if statement is not None:
            statement = _text(statement, "statement", "the person's statement of correction")

        def change(current: Correction) -> Correction:
            _check_decidable(current, when)
            return attrs.evolve(
                current,
                status=CorrectionStatus.DECLINED,
                decided_at=when,
                decided_by=decided_by,
                decision_note=reason,
                statement=statement,
                statement_at=None if statement is None else when,
            )

        return self._decide(correction_id, change)

    def attach_statement(
        self, correction_id: str, statement: str, *, at: datetime | None = None
    ) -> Correction:
        """Attach the person's statement of correction to a declined request, once.

        Raises:
            UnknownCorrection: no request has that id.
            InvalidCorrection: the request is not declined, already has a statement, or
                *at* is before the decision.
        """
        self._check_open()
        statement = _text(statement, "statement", "the person's statement of correction")
        when = _when(at)

        def change(current: Correction) -> Correction:
            if current.status is not CorrectionStatus.DECLINED or current.statement is not None:
                state = (
                    f"is {current.status.value}"
                    if current.status is not CorrectionStatus.DECLINED
                    else f"has had one since {_day(current.statement_at)}"
                )
                raise InvalidCorrection(
                    f"correction {current.id} {state}: a statement of correction is attached "
                    f"to a declined request, once; record a new request to change it"
                )
            if current.decided_at is not None and when < current.decided_at:
                raise InvalidCorrection(
                    f"correction {current.id} was declined on {_day(current.decided_at)}; "
                    f"pass at= on or after the decision"
                )
            return attrs.evolve(current, statement=statement, statement_at=when)

        return self._decide(correction_id, change)

    def get(self, correction_id: str) -> Correction:
        """The request with that id.

        Raises:
            UnknownCorrection: no request has that id.
        """
        self._check_open()
        found = self._load(correction_id) if isinstance(correction_id, str) else None
        if found is None:
            raise _unknown(correction_id)
        return found

    def for_subject(self, subject: str) -> list[Correction]:
        """Every request *subject* made, oldest first."""
        self._check_open()
        return self._select(_text(subject, "subject", "the person's identifier"), None)

    def statements(
        self, subject: str, record: object | None = None, field: str | None = None
    ) -> list[Correction]:
        """The declined requests of *subject* with a statement of correction, oldest first:
        what must be read with their information, narrowed to *record* and/or *field*.

        Raises:
            InvalidCorrection: *record* is not a record instance about *subject*, or *field*
                is not one of its fields.
        """
        self._check_open()
        subject = _text(subject, "subject", "the person's identifier")
        if field is not None:
            field = _text(field, "field", "the name of a field")
        policy = None if record is None else _policy(record, "statements")
        if policy is not None:
            _check_subject(policy, record, subject)
            if field is not None:
                _check_field(policy, field)
        return [
            c
            for c in self._select(subject, CorrectionStatus.DECLINED)
            if c.statement is not None
            and (field is None or c.field == field)
            and (policy is None or c.applies_to(policy.name, policy.key_of(record)))
        ]

    def pending(self) -> list[Correction]:
        """Every request not yet decided, oldest first: the agency's queue."""
        self._check_open()
        return self._select(None, CorrectionStatus.REQUESTED)

    def close(self) -> None:
        """Close the store; closing twice is harmless."""
        self._check_not_updating()
        super().close()

    # --- helpers ---

    def _check_open(self) -> None:
        super()._check_open()
        self._check_not_updating()

    def _check_not_updating(self) -> None:
        if getattr(self._updating, "active", False):
            raise CorrectionStoreError(
                f"an apply() update callback used the {type(self).__name__} that called it; "
                f"the store is locked until the callback returns, so the callback may only "
                f"change the application's own data (it is given the Correction)"
            )

    def _decide(self, correction_id: str, change: Callable[[Correction], Correction]) -> Correction:
        found = self._change(correction_id, change) if isinstance(correction_id, str) else None
        if found is None:
            raise _unknown(correction_id)
        return found


def _check_decidable(current: Correction, when: datetime) -> None:
    if current.status is not CorrectionStatus.REQUESTED:
        raise InvalidCorrection(
            f"correction {current.id} was already {current.status.value} on "
            f"{_day(current.decided_at)}; a decision is final: record a new request if the "
            f"person asks again"
        )
    if when < current.requested_at:
        raise InvalidCorrection(
            f"correction {current.id} was requested on {_day(current.requested_at)}; a "
            f"decision cannot come before it: pass at= on or after the request"
        )


def _policy(record: object, method: str) -> RecordPolicy:
    if isinstance(record, type):
        raise InvalidCorrection(
            f"{method}() takes a record instance, not the class {record.__qualname__}; pass "
            f"the record the person asks about"
        )
    try:
        return record_policy(type(record))
    except AnnotationError:
        raise InvalidCorrection(
            f"{method}() takes an instance of a @purposeful.record class, not "
            f"{type(record).__qualname__}; pass a record instance"
        ) from None


def _check_subject(policy: RecordPolicy, record: object, subject: str) -> None:
    if policy.subject_of(record) != subject:
        raise InvalidCorrection(
            f"the {policy.name} record is about someone else than the subject "
            f"given; pass the person's own record, or the subject it is about"
        )


def _check_field(policy: RecordPolicy, field: object) -> None:
    names = [a.name for a in attrs.fields(policy.cls)]
    if not isinstance(field, str) or field not in names:  # not echoed: it may be a value
        raise InvalidCorrection(
            f"{policy.name} has no field by that name; pass the name of one of "
            f"its fields: {', '.join(names)}"
        )


def _text(value: object, name: str, meaning: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCorrection(f"{name}= takes {meaning}, as a non-empty string")
    return value


def _actor(by: object) -> str:
    if isinstance(by, Actor):
        return by.id
    return _text(by, "by", "the Actor who decided, or their id")


def _when(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidCorrection(
            "at= takes an aware datetime; pass one with a timezone, e.g. datetime.now(UTC)"
        )
    return at.astimezone(UTC)


def _day(when: datetime | None) -> str:
    return "an unknown date" if when is None else f"{when:%Y-%m-%d}"


def _unknown(correction_id: object) -> UnknownCorrection:
    # A correction id is a uuid: not personal. Anything else may be (a subject id passed by
    # mistake), so it is not echoed.
    shown = (
        f"the id {correction_id!r}"
        if isinstance(correction_id, str) and _ID.fullmatch(correction_id)
        else "the id given (correction ids are 32 hexadecimal digits)"
    )
    return UnknownCorrection(
        f"no correction request has {shown}; use Correction.id from request_correction(), "
        f"for_subject() or pending()"
    )


class MemoryCorrectionStore(BaseCorrectionStore):
    """A correction store held in a dict, for tests and short-lived tools.

    Nothing survives the process. Safe to share between threads: every operation holds one
    lock, so a check, the update callback and the write are one step.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._by_id: dict[str, Correction] = {}

    def _insert(self, correction: Correction) -> None:
        with self._lock:
            self._by_id[correction.id] = correction

    def _load(self, correction_id: str) -> Correction | None:
        with self._lock:
            return self._by_id.get(correction_id)

    def _change(
        self, correction_id: str, change: Callable[[Correction], Correction]
    ) -> Correction | None:
        with self._lock:
            current = self._by_id.get(correction_id)
            if current is None:
                return None
            self._by_id[correction_id] = changed = change(current)
            return changed

    def _select(self, subject: str | None, status: CorrectionStatus | None) -> list[Correction]:
        with self._lock:
            everything = list(self._by_id.values())  # in the order recorded
        found = [
            c
            for c in everything
            if (subject is None or c.subject == subject) and (status is None or c.status is status)
        ]
        return sorted(found, key=lambda c: c.requested_at)  # stable: ties keep their order

    def _close(self) -> None:
        with self._lock:
            self._by_id = {}


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


class SQLiteCorrectionStore(BaseCorrectionStore):
    """A correction store in one SQLite file, safe to share between threads and processes.

    The file handling (WAL, one transaction per write, processes, threads, versions, errors)
    is `purposeful._shared.sqlite.SQLiteFile`'s. A decision takes the write lock first (``BEGIN
    IMMEDIATE``), reads the request, calls the `apply` callback, then changes the row with
    one ``UPDATE … WHERE id = ? AND status = ?`` and commits: of two processes deciding the
    same request, the second finds it decided and gets `InvalidCorrection`.

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

    @property
    def path(self) -> Path:
        """The database file (absolute)."""
        return self._file.path

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

    def _close(self) -> None:
        self._file.close()

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
