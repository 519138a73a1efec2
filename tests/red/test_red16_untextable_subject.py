"""Red team 16: a record whose subject id has no text form, on the paths that turn it into
text one record at a time (`RecordPolicy.subject_of`): a read that needs consent, and a read
outside any scope in monitor mode.

The notes path already copes (red team 3: such a person is grouped as nobody's and the close
raises `AuditSinkError`); these two paths let the subject's own ``ValueError`` out of the
library, untyped, with the raw subject id among the locals of ``subject_of``'s frame, which
an error tracker that records locals sends on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import purposeful
from _frames import library_frames_holding
from _records import CASE_MANAGEMENT, CASEWORKER, Case
from purposeful import Mode, PurposefulError
from purposeful.consent import ConsentEvent, MemoryConsentStore
from purposeful.decisions import ConsentState

SECRET = "SUBJ-RED16-UNTEXT"


class Untextable(str):
    """A subject id (a str subclass, as a typed-id library's may be) whose text form fails."""

    __slots__ = ()

    def __str__(self) -> str:
        raise ValueError("this id has no text form")


def _raised(read: object) -> BaseException:
    try:
        read()  # type: ignore[operator]
    except BaseException as error:  # what the caller (and an error tracker) sees
        return error
    raise AssertionError("the read was let through")


def test_a_read_that_needs_consent_of_an_untextable_subject_is_typed_and_keeps_no_id() -> None:
    """What: reading ``case_notes`` (case management needs the person's consent) of a record
    whose subject's ``str()`` raises, in a scope with a consent store.

    Found: the subject's bare ``ValueError`` leaves the read (not a purposeful error), and
    ``RecordPolicy.subject_of``'s frame in its traceback holds the raw subject id."""
    store = MemoryConsentStore()
    store.record(
        ConsentEvent(SECRET, CASE_MANAGEMENT, ConsentState.GIVEN, datetime.now(UTC) - timedelta(1))
    )
    purposeful.configure(consent=store)
    record = Case(Untextable(SECRET), "dx", "addr", "notes")

    def read() -> None:
        with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = record.case_notes

    error = _raised(read)
    assert isinstance(error, PurposefulError), type(error)
    assert library_frames_holding(error.__traceback__, SECRET) == []


def test_a_monitored_read_outside_any_scope_of_an_untextable_subject_keeps_no_id() -> None:
    """What: in monitor mode a read outside any scope is let through and counted; the count
    takes the record's subject (`note_unscoped`) as text.

    Found: a bare ``ValueError`` with the raw subject id in ``subject_of``'s frame."""
    purposeful.configure(mode=Mode.MONITOR)
    record = Case(Untextable(SECRET), "dx", "addr", "notes")

    def read() -> None:
        _ = record.address

    error = _raised(read)
    assert isinstance(error, PurposefulError), type(error)
    assert library_frames_holding(error.__traceback__, SECRET) == []
