"""Red team 16: a refusal raised in the middle of a bulk read of several records:
``copy.deepcopy`` of a list (or a dict) of them, and FastAPI's ``jsonable_encoder`` (the path
of an endpoint that returns records without a response model; `purposeful.web` registers an
encoder for records there, which reads each field through its guard).

When a refusal leaves a scope, the scope's exit clears the frames of attrs' and
dataclasses' own functions it came through (``asdict``, ``evolve``, ``__getstate__``...),
because they hold what was read before the refused field. These two read in bulk too, in
frames that were left as they were: ``copy``'s hold ``memo``, where deepcopy keeps the state
of every record it copied before the refused one; ``jsonable_encoder``'s hold
``encoded_list`` (or ``encoded_dict``), the records encoded before it. Either way: the raw
subject id and every managed value, consent-bound ones included, which an error tracker
that records locals (the web layer's, answering the 403) sends on.

How: person A consented to case management's use of ``case_notes``, person B did not; the
bulk read takes A's record whole, then is refused on B's ``case_notes``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import purposeful
from _frames import frames_holding
from _records import CASE_MANAGEMENT, CASEWORKER, Case
from purposeful.consent import ConsentEvent, MemoryConsentStore
from purposeful.decisions import ConsentState

SUBJECT = "SUBJ-RED16-BULK-A"
NOTES = "NOTES-RED16-BULK-A"


def _jsonable_encoder(value: object) -> object:
    pytest.importorskip("fastapi")
    from fastapi.encoders import jsonable_encoder

    import purposeful.web.fastapi  # noqa: F401  (registers the records' encoder)

    return jsonable_encoder(value)


@pytest.mark.parametrize("bulk", [copy.deepcopy, _jsonable_encoder], ids=["deepcopy", "jsonable"])
@pytest.mark.parametrize(
    "container", [list, lambda records: dict(enumerate(records))], ids=["list", "dict"]
)
def test_a_refusal_in_a_bulk_read_leaves_no_earlier_record_in_its_frames(
    bulk: Callable[[object], object], container: Callable[[list[Any]], object]
) -> None:
    store = MemoryConsentStore()
    store.record(
        ConsentEvent(SUBJECT, CASE_MANAGEMENT, ConsentState.GIVEN, datetime.now(UTC) - timedelta(1))
    )
    purposeful.configure(consent=store)
    consented = Case(SUBJECT, "dx", "addr", NOTES)
    refused = Case("SUBJ-RED16-BULK-B", "dx", "addr", "notes")
    with (
        pytest.raises(purposeful.PurposeViolation) as raised,
        purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        bulk(container([consented, refused]))
    assert frames_holding(raised.value.__traceback__, SUBJECT, NOTES, but=__file__) == []
