"""Red team 16: `purposeful.project` detaches its own refusals from the frames below it
("which hold values and raw subject ids") but lets any other error through with them.

A record with a plain field that is not set yet (``attrs.field(init=False)``, filled in
later) makes ``getattr`` raise ``AttributeError`` in the middle of the projection: by then
the library's ``_project`` frame holds, in ``values``, the subject id and every managed
value the purpose allowed, which an error tracker that records locals sends on. The same
shape of entry point (a `PurposefulError` detached, anything else not) is in
``copy_for_person`` and the referral prefill, fixed alike.
"""

from __future__ import annotations

import attrs
import pytest

import purposeful
from _frames import library_frames_holding
from _records import CASEWORKER, SERVICE_AGREEMENT

SECRET = "SUBJ-RED16-PROJECT"
PHONE = "021-RED16-PROJECT"


@purposeful.record(subject="client_id")
class Late:
    client_id: str
    phone: str = purposeful.field(purposes={"service-delivery": SERVICE_AGREEMENT})
    summary: str = attrs.field(init=False)  # filled in later


@pytest.mark.parametrize("in_scope", [True, False], ids=["in-a-scope", "own-scope"])
def test_an_error_in_the_middle_of_a_projection_leaves_no_value_in_library_frames(
    in_scope: bool,
) -> None:
    record = Late(SECRET, PHONE)

    def projected() -> None:
        if in_scope:
            with purposeful.use("service-delivery", actor=CASEWORKER):
                purposeful.project(record)
        else:
            purposeful.project(record, "service-delivery", actor=CASEWORKER)

    with pytest.raises(AttributeError) as raised:
        projected()
    assert library_frames_holding(raised.value.__traceback__, SECRET, PHONE) == []
