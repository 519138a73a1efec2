"""The correction store's rules (IPP 7): the base every backend builds on,
`BaseCorrectionStore`.

IPP 7 of the Privacy Act 2020 gives a person the right to ask an agency to correct
information about them. The agency either corrects it, or declines; when it declines, the
person may give a statement of the correction they sought, and the agency must attach it so
that it is read with the information whenever the information is used. Where reasonably
practicable, the agency also tells the parties it disclosed the information to; that is the
disclosure log's job (`purposeful.sharing`), not the correction store's.

A correction store keeps one `Correction` per request: who asked (the subject), which
field of which record (the record class's name, its key and the field's name), the value
they asked for and why, and then the decision: applied or declined, when, by which member
of staff, with the agency's note; and, for a declined request, the person's statement.
`BaseCorrectionStore.statements` gives the statements that must be shown with a record's
fields, for subject-access bundles and disclosures.

The store does not hold the application's data. `BaseCorrectionStore.apply` calls the
application's *update* callback, which changes its own data source, while the store holds
its write lock (``BEGIN IMMEDIATE`` in SQLite, the request's row in PostgreSQL), and records
the request as applied only after the callback returned: a request is decided once, even by
two processes at once. If the callback raises, nothing is recorded; if recording fails after
the callback succeeded, the request stays pending with the application's change made, so the
callback must be idempotent: retrying `apply` calls it again.

A backend (`memory`, `sqlite`, `postgres`) implements four small atomic steps and `_close`.

What this module must not do: put a subject id, a record key, a requested value, a reason or
a statement in an error message or a repr. Messages name record types, fields, correction
ids, statuses and dates only.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

import attrs

from .._shared.checks import encodable, is_text, utc_moment
from .._shared.store import ClosableStore
from ..actors import Actor
from ..errors import (
    AnnotationError,
    CorrectionStoreError,
    InvalidCorrection,
    UnknownCorrection,
)
from ..records import RecordPolicy, record_policy
from .values import MAX_STATEMENT_LENGTH, Correction, CorrectionStatus, is_id, new_id

__all__ = ["BaseCorrectionStore"]


class _UpdateFailed(Exception):
    """Carries the application's exception out of a backend, so that nothing on the way
    (`SQLiteFile` turns any `sqlite3.Error` into a store error) mistakes it for its own."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


class BaseCorrectionStore(ClosableStore):
    """Shared behaviour of the correction stores: use `MemoryCorrectionStore`,
    `SQLiteCorrectionStore` or `PostgresCorrectionStore`.

    Every method raises `StoreClosed` after `close()`, and `CorrectionStoreError` when
    called from inside an `apply` callback (the store is locked until the callback returns).
    Text the store cannot keep is refused with `InvalidCorrection` before anything is
    written: an unpaired surrogate by every store, a NUL character by the PostgreSQL store
    (its text cannot hold one); looking up such a subject finds nothing. A store can be used
    as a context manager, which closes it.
    """

    #: Whether the backend can keep a NUL character in text (PostgreSQL's text cannot).
    _keeps_nul: ClassVar[bool] = True

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
        returns in its place, only if it is still as loaded. Nothing is written if anything
        raises."""

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
        subject = self._words(subject, "subject", "the person's identifier")
        policy = _policy(record, "request_correction")
        _check_subject(policy, record, subject)
        _check_field(policy, field)
        if not isinstance(requested, str):
            raise InvalidCorrection(
                f"requested= takes the value asked for as a string ('' asks for it to be "
                f"removed), not {type(requested).__name__}"
            )
        record_key = policy.key_of(record)
        if not self._keeps(record_key):
            raise InvalidCorrection(
                f"the {policy.name} record's key holds {_unkept(record_key)}, which a "
                f"{type(self).__name__} cannot keep"
            )
        correction = Correction(
            id=new_id(),
            subject=subject,
            record_type=policy.name,
            record_key=record_key,
            field=field,
            requested=self._kept(requested, "requested"),
            reason=self._words(reason, "reason", "why the person asks for the correction"),
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
        decided_by, when = self._actor(by), _when(at)
        note = None if note is None else self._words(note, "note", "what the agency changed")

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
        decided_by, when = self._actor(by), _when(at)
        reason = self._words(reason, "reason", "why the agency declined")
        if statement is not None:
            statement = self._statement(statement)

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
        statement = self._statement(statement)
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
        found = self._load(correction_id) if is_id(correction_id) else None
        if found is None:
            raise _unknown(correction_id)
        return found

    def for_subject(self, subject: str) -> list[Correction]:
        """Every request *subject* made, oldest first."""
        self._check_open()
        subject = _text(subject, "subject", "the person's identifier")
        return self._select(subject, None) if self._keeps(subject) else []

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
        if not self._keeps(subject):
            return []  # this store holds no such subject id
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

    def _keeps(self, text: str) -> bool:
        """True if this store can keep *text*."""
        return encodable(text) and (self._keeps_nul or "\x00" not in text)

    def _kept(self, value: str, name: str) -> str:
        """*value*, if this store can keep it."""
        if not self._keeps(value):
            raise InvalidCorrection(
                f"{name}= holds {_unkept(value)}, which a {type(self).__name__} cannot keep; "
                f"remove it"
            )
        return value

    def _words(self, value: object, name: str, meaning: str) -> str:
        """*value*, if it is non-empty text this store can keep."""
        return self._kept(_text(value, name, meaning), name)

    def _statement(self, value: object) -> str:
        """*value*, if it is a statement of correction this store can keep and a partner's
        payload can carry (`MAX_STATEMENT_LENGTH`)."""
        statement = self._words(value, "statement", "the person's statement of correction")
        if len(statement) > MAX_STATEMENT_LENGTH:
            raise InvalidCorrection(
                f"statement= is {len(statement):,} characters long, and a statement of "
                f"correction is at most {MAX_STATEMENT_LENGTH:,}: it goes with every later "
                f"disclosure of the field, and a partner's payload carries none longer; "
                f"ask the person for a shorter statement"
            )
        return statement

    def _actor(self, by: object) -> str:
        if isinstance(by, Actor):
            return self._kept(by.id, "by")
        return self._words(by, "by", "the Actor who decided, or their id")

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
        found = self._change(correction_id, change) if is_id(correction_id) else None
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
    names = list(policy.names)
    if not isinstance(field, str) or field not in names:  # not echoed: it may be a value
        raise InvalidCorrection(
            f"{policy.name} has no field by that name; pass the name of one of "
            f"its fields: {', '.join(names)}"
        )


def _text(value: object, name: str, meaning: str) -> str:
    if not is_text(value):
        raise InvalidCorrection(f"{name}= takes {meaning}, as a non-empty string")
    return value


def _unkept(text: str) -> str:
    """What in *text* a store may not keep, in words (never the text itself)."""
    return "an unpaired surrogate" if not encodable(text) else "a NUL character"


def _when(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return utc_moment(at, "at=", InvalidCorrection)


def _day(when: datetime | None) -> str:
    return "an unknown date" if when is None else f"{when:%Y-%m-%d}"


def _unknown(correction_id: object) -> UnknownCorrection:
    # A correction id is a uuid: not personal. Anything else may be (a subject id passed by
    # mistake), so it is not echoed.
    shown = (
        f"the id {correction_id!r}"
        if is_id(correction_id)
        else "the id given (correction ids are 32 hexadecimal digits)"
    )
    return UnknownCorrection(
        f"no correction request has {shown}; use Correction.id from request_correction(), "
        f"for_subject() or pending()"
    )
