"""What the correction store tests share: people, times, two record classes, and a request
to make.

Not a test module: the test_correction_*.py modules import it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import purposeful
from purposeful import SENSITIVE, Actor
from purposeful.corrections import BaseCorrectionStore, Correction

SUBJECT = "client-7Q4X-private"
OTHER = "client-8R5Y-private"
T0 = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
DAY = timedelta(days=1)
NZ = timezone(timedelta(hours=13), "NZDT")
OFFICER = Actor("staff-0042", "privacy-officer", SENSITIVE)


@purposeful.record(subject="client_id", key="note_id")
class Note:
    client_id: str
    note_id: str
    address: str = purposeful.field(
        purposes={"service-delivery.case-management": purposeful.CONSENT}
    )


@purposeful.record(subject="client_id")
class CorrectionProfile:
    """One per person: its key is the subject field."""

    client_id: str
    preferred_name: str = "unknown"


class NotARecord:
    client_id = SUBJECT


def note(subject: str = SUBJECT, note_id: str = "N-1") -> Note:
    return Note(subject, note_id, "12 Cuba Street")


def ask(
    store: BaseCorrectionStore,
    record: object | None = None,
    field: str = "address",
    at: datetime | None = T0,
    subject: str = SUBJECT,
) -> Correction:
    """A request about *record* (default: note N-1 of SUBJECT)."""
    record = note(subject) if record is None else record
    return store.request_correction(
        subject, record, field, "14 Cuba Street", "I moved in May", at=at
    )


def nothing(correction: Correction) -> None:
    """An update callback that changes nothing."""


def messages(error: BaseException) -> str:
    """The text of an exception and of everything chained to it."""
    texts = []
    seen: BaseException | None = error
    while seen is not None:
        texts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    return "\n".join(texts)
