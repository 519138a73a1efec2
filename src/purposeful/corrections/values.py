"""The correction store's values: a `Correction` (one request and its decision) and its
`CorrectionStatus`.

A value holds what a store recorded; the rules that make one (what may be asked, who
decides, when a statement may be attached) are the store's (`store`).

What this module must not do: show a subject id, a requested value, a reason or a statement
in a repr; they are personal.
"""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime

import attrs
from typing_extensions import TypeIs

from .._shared.checks import repr_pretty

__all__ = ["Correction", "CorrectionStatus", "is_id", "new_id"]

_ID = re.compile(r"[0-9a-f]{32}\Z")


def new_id() -> str:
    """A new id for a `Correction`: 32 lower-case hexadecimal digits (a random uuid4)."""
    return uuid.uuid4().hex


def is_id(value: object) -> TypeIs[str]:
    """True if *value* has the form of a correction id (and so is not personal, and may be
    shown in a message)."""
    return isinstance(value, str) and _ID.match(value) is not None


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

    _repr_pretty_ = repr_pretty
