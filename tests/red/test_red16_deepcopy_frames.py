"""Red team 16: a refusal raised in the middle of ``copy.deepcopy`` of several records.

When a refusal leaves a scope, the scope's exit clears the frames of attrs' and
dataclasses' own functions it came through (``asdict``, ``evolve``, ``__getstate__``...),
because they hold what was read before the refused field. ``copy.deepcopy`` of a list (or a
dict) of records is the same kind of bulk read, but its frames are the standard library's
``copy`` module's, which are left as they are: each of them holds ``memo``, in which deepcopy
keeps the state of every record it copied before the refused one (the raw subject id and
every managed value, consent-bound ones included). An error tracker that records locals
(the web layer's, answering the 403) sends them on.

How: person A consented to case management's use of ``case_notes``, person B did not;
``copy.deepcopy([a, b])`` in a case-management scope reads A's record whole, then is refused
on B's ``case_notes``.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

import purposeful
from _frames import frames_holding
from _records import CASE_MANAGEMENT, CASEWORKER, Case
from purposeful.consent import ConsentEvent, MemoryConsentStore
from purposeful.decisions import ConsentState

SUBJECT = "SUBJ-RED16-DEEPCOPY-A"
NOTES = "NOTES-RED16-DEEPCOPY-A"


@pytest.mark.parametrize("container", [list, lambda records: dict(enumerate(records))])
def test_a_refused_deepcopy_leaves_no_earlier_records_state_in_its_frames(
    container: object,
) -> None:
    store = MemoryConsentStore()
    store.record(
        ConsentEvent(SUBJECT, CASE_MANAGEMENT, ConsentState.GIVEN, datetime.now(UTC) - timedelta(1))
    )
    purposeful.configure(consent=store)
    consented = Case(SUBJECT, "dx", "addr", NOTES)
    refused = Case("SUBJ-RED16-DEEPCOPY-B", "dx", "addr", "notes")
    with (
        pytest.raises(purposeful.PurposeViolation) as raised,
        purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        copy.deepcopy(container([consented, refused]))  # type: ignore[operator]
    assert frames_holding(raised.value.__traceback__, SUBJECT, NOTES, but=__file__) == []
