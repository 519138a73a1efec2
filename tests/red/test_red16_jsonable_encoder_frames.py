"""Red team 16: a refusal raised in the middle of FastAPI's ``jsonable_encoder``, the path a
FastAPI endpoint that returns records without a response model takes (`purposeful.web`
registers an encoder for records there, which reads each field through its guard).

``jsonable_encoder`` of a list (or a dict) of records builds ``encoded_list`` (or
``encoded_dict``) item by item: a refusal on the second record leaves, in its frame, the
first record encoded whole (the raw subject id, every managed value, consent-bound ones
included). The scope's exit clears the frames of attrs' and dataclasses' functions a
refusal came through, not FastAPI's, so the request's 403, as an error tracker records it
with its frames' locals, carries them.

How: person A consented to case management's use of ``case_notes``, person B did not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from _frames import frames_holding
from _records import CASE_MANAGEMENT, CASEWORKER, Case
from purposeful.consent import ConsentEvent, MemoryConsentStore
from purposeful.decisions import ConsentState

pytest.importorskip("fastapi")

SUBJECT = "SUBJ-RED16-JSONABLE-A"
NOTES = "NOTES-RED16-JSONABLE-A"


@pytest.mark.parametrize("container", [list, lambda records: dict(enumerate(records))])
def test_a_refusal_in_jsonable_encoder_leaves_no_earlier_record_in_its_frames(
    container: object,
) -> None:
    from fastapi.encoders import jsonable_encoder

    import purposeful.web.fastapi

    store = MemoryConsentStore()
    store.record(
        ConsentEvent(SUBJECT, CASE_MANAGEMENT, ConsentState.GIVEN, datetime.now(UTC) - timedelta(1))
    )
    purposeful.configure(consent=store)
    consented = Case(SUBJECT, "dx", "addr", NOTES)
    refused = Case("SUBJ-RED16-JSONABLE-B", "dx", "addr", "notes")
    with (
        pytest.raises(purposeful.PurposeViolation) as raised,
        purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        jsonable_encoder(container([consented, refused]))  # type: ignore[operator]
    assert frames_holding(raised.value.__traceback__, SUBJECT, NOTES, but=__file__) == []
