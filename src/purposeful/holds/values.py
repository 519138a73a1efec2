"""The hold register's values: a `Hold` (what stops records being disposed of) and its
`HoldKind`.

A hold stops disposal (IPP 9) of the records it covers while it is in force: a legal hold a
person enters (who, why, until when), or a pending access or correction request (IPP 6,
IPP 7), whose information must not be destroyed while the request is open.

What this module must not do: show a subject id or a hold's reason in a repr; both may be
personal.
"""

from __future__ import annotations

import enum
import re
import uuid
from datetime import date, datetime

import attrs
from typing_extensions import TypeIs

from .._shared.checks import plain_id, repr_pretty, same_person
from .._shared.nztime import long_date

__all__ = ["Hold", "HoldKind", "hold_id_for", "is_hold_id", "new_hold_id"]

_ID = re.compile(r"[0-9a-f]{32}\Z")


def new_hold_id() -> str:
    """A new id for a `Hold`: 32 lower-case hexadecimal digits (a random uuid4)."""
    return uuid.uuid4().hex


#: The namespace of the hold ids made for pending correction requests (`hold_id_for`).
_PENDING_CORRECTION = uuid.UUID("6f3c1c52-8d0e-4b7a-9a43-2f1e8c5b7d10")


def hold_id_for(correction_id: str) -> str:
    """The id of the hold a pending correction request places: a uuid5 of the request's
    id, in a hold id's form, so the same request holds under the same id in every report."""
    return uuid.uuid5(_PENDING_CORRECTION, correction_id).hex


def is_hold_id(value: object) -> TypeIs[str]:
    """True if *value* has the form of a hold id (and so may be shown in a message)."""
    return isinstance(value, str) and _ID.match(value) is not None


class HoldKind(enum.Enum):
    """Why records are held."""

    LEGAL = "legal"
    """Entered by a person: litigation, an investigation, an inquiry, a complaint."""
    ACCESS_REQUEST = "access-request"
    """A pending access request (IPP 6): its answer needs the records."""
    CORRECTION_REQUEST = "correction-request"
    """A pending correction request (IPP 7): its decision needs the records."""

    @property
    def words(self) -> str:
        return {
            HoldKind.LEGAL: "legal hold",
            HoldKind.ACCESS_REQUEST: "pending access request",
            HoldKind.CORRECTION_REQUEST: "pending correction request",
        }[self]


@attrs.frozen(repr=False)
class Hold:
    """One hold on disposal.

    Attributes:
        id: the hold's id (32 hex digits).
        kind: a legal hold, or a pending request.
        subject: whose records it holds; None: every person's.
        record_type: which record type it holds (the record's name in the audit trail);
            None: every type.
        reason: why, in words (a legal hold), or the request's reference (a request).
        placed_by: who placed it (an actor id).
        placed_at: when it was placed.
        until: the last New Zealand day it holds (a legal hold may end on a day); None:
            until released.
        released_at, released_by: when and by whom it was released, if it was.
    """

    id: str
    kind: HoldKind
    subject: str | None
    record_type: str | None
    reason: str
    placed_by: str
    placed_at: datetime
    until: date | None = None
    released_at: datetime | None = None
    released_by: str | None = None

    def in_force(self, today: date) -> bool:
        """True if the hold applies on the New Zealand day *today*."""
        if self.released_at is not None:
            return False
        return self.until is None or today <= self.until

    def covers(self, subject: str, record_type: str, today: date) -> bool:
        """True if the hold is in force on *today* and holds *subject*'s records of
        *record_type*. A hold errs towards keeping: the subject matches the person's id
        typed otherwise (case, width, dashes, invisible characters: a hold typed
        ``c–1001`` or ``Ｃ-1001`` holds ``C-1001``'s records, as `same_person` compares),
        and the record type matches the same way and whatever its separators (a hold typed
        ``case_note`` or ``Case Note`` holds ``CaseNote`` records rather than nothing)."""
        return (
            self.in_force(today)
            and (self.subject is None or same_person(self.subject, subject))
            and self.names(record_type)
        )

    def names(self, record_type: str) -> bool:
        """True if the hold holds records of *record_type* (as `covers` compares it,
        whatever the case or separators), or every type; whoever they are about."""
        return (
            self.record_type is None
            or self.record_type == record_type
            or _type_key(self.record_type) == _type_key(record_type)
        )

    def describe(self) -> str:
        """The hold in words, without its subject or reason: ``legal hold 3f…, placed by
        staff-02, until 1 May 2027``."""
        text = f"{self.kind.words} {self.id}, placed by {self.placed_by}"
        if self.until is not None:
            text += f", until {long_date(self.until)}"
        if self.released_at is not None:
            text += f", released by {self.released_by}"
        return text

    def __repr__(self) -> str:
        return (
            f"Hold(id={self.id!r}, kind={self.kind}, record_type={self.record_type!r}, "
            f"until={self.until!r}, released={self.released_at is not None})"
        )

    _repr_pretty_ = repr_pretty


def _type_key(record_type: str) -> str:
    """A record type's name as a hold compares it: `plain_id`, without separators."""
    return plain_id(record_type).replace("_", "").replace("-", "").replace(" ", "")
