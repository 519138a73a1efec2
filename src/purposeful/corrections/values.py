"""The correction store's values: a `Correction` (one request and its decision), its
`CorrectionStatus`, and the `CorrectionDecision` read from it.

A value holds what a store recorded; the rules that make one (what may be asked, who
decides, when a statement may be attached) are the store's (`store`). The Privacy Act's
clock for a correction request (transfer within 10 working days, s 62; decision within 20,
s 63; extensions, s 65) counts from `Correction.received_on`:
``purposeful.access.ResponseClock.for_correction(correction)``.

What this module must not do: show a subject id, a requested value, a reason or a statement
in a repr; they are personal.
"""

from __future__ import annotations

import enum
import re
import uuid
from datetime import date, datetime

import attrs
from typing_extensions import TypeIs

from .._shared.checks import repr_pretty
from .._shared.nztime import nz_date

__all__ = [
    "MAX_STATEMENT_LENGTH",
    "Correction",
    "CorrectionDecision",
    "CorrectionStatus",
    "is_id",
    "new_id",
]

#: The longest statement of correction, in characters: a statement goes with every later
#: disclosure of its field (IPP 7), and a partner's payload carries statements up to this
#: long (`purposeful.sharing.schema`), so a store takes none longer.
MAX_STATEMENT_LENGTH = 10_000

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
class CorrectionDecision:
    """What the agency decided on a correction request (s 63) and, when it declined, on
    attaching the person's statement of correction (s 64): read from a decided
    `Correction` (`Correction.decision`), never stored on its own.

    Attributes:
        corrected: whether the agency made the correction (`CorrectionStatus.APPLIED`).
        decided_on: the New Zealand day of the decision, to compare with the clock's due
            date (``ResponseClock.for_correction(correction).due``).
        statement_attached: when the agency declined, whether the person's statement of
            correction is attached to the information (False until they give one and it is
            attached with `BaseCorrectionStore.attach_statement`); None when it corrected.
        statement_attached_on: the New Zealand day the statement was attached, if it was.
    """

    corrected: bool
    decided_on: date
    statement_attached: bool | None = None
    statement_attached_on: date | None = None


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

    @property
    def received_on(self) -> date:
        """The New Zealand day the request was received: the day the Act's clock counts
        from (ss 62, 63, 65)."""
        return nz_date(self.requested_at)

    @property
    def decision(self) -> CorrectionDecision | None:
        """What the agency decided, or None while the request is pending."""
        if self.status is CorrectionStatus.REQUESTED or self.decided_at is None:
            return None
        if self.status is CorrectionStatus.APPLIED:
            return CorrectionDecision(corrected=True, decided_on=nz_date(self.decided_at))
        attached = self.statement is not None
        return CorrectionDecision(
            corrected=False,
            decided_on=nz_date(self.decided_at),
            statement_attached=attached,
            statement_attached_on=(
                nz_date(self.statement_at) if attached and self.statement_at is not None else None
            ),
        )

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
