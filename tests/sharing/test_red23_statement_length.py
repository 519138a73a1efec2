"""A statement of correction the correction store takes travels in the payload: the store
refuses one longer than a partner's payload carries (`MAX_STATEMENT_LENGTH`), rather than
every later disclosure of the field making a payload that the agreement's schema and the
partner's `prefill` refuse, while the log says the partner was sent the statement.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from _tell_us_once import (
    CASEWORKER,
    NAME,
    PHONE,
    RECEIVED,
    RECEIVER,
    SENDER,
    SUBJECT,
    TUOApplication,
    TUOReferral,
    agreement,
    consent_for,
)

import purposeful
from purposeful.corrections import (
    BaseCorrectionStore,
    MemoryCorrectionStore,
    SQLiteCorrectionStore,
)
from purposeful.errors import InvalidCorrection
from purposeful.sharing import STATEMENTS, MemorySharingStore, prefill
from purposeful.sharing.schema import MAX_STATEMENT_LENGTH


@pytest.fixture(params=["memory", "sqlite"])
def corrections(request: pytest.FixtureRequest, tmp_path: Path) -> BaseCorrectionStore:
    if request.param == "memory":
        return MemoryCorrectionStore()
    return SQLiteCorrectionStore(tmp_path / "corrections.sqlite3")


def _declined(corrections: BaseCorrectionStore, record: TUOReferral) -> str:
    asked = corrections.request_correction(SUBJECT, record, "phone", "021 000 0000", "old")
    corrections.decline(asked.id, by="staff-02", reason="verified")
    return asked.id


def test_a_statement_longer_than_a_payload_carries_is_refused(
    corrections: BaseCorrectionStore,
) -> None:
    record = TUOReferral(SUBJECT, "R-1", NAME, PHONE)
    too_long = "S" * (MAX_STATEMENT_LENGTH + 1)
    asked = corrections.request_correction(SUBJECT, record, "phone", "021 000 0000", "old")
    with pytest.raises(InvalidCorrection, match="at most 10,000") as declining:
        corrections.decline(asked.id, by="staff-02", reason="verified", statement=too_long)
    assert corrections.get(asked.id).statement is None  # nothing was decided
    declined = _declined(corrections, record)
    with pytest.raises(InvalidCorrection, match="at most 10,000") as attaching:
        corrections.attach_statement(declined, too_long)
    assert corrections.get(declined).statement is None
    for error in (declining.value, attaching.value):
        assert "SSSS" not in str(error)
    corrections.close()


def test_a_statement_the_store_takes_is_one_the_partner_can_fill_from(
    corrections: BaseCorrectionStore,
) -> None:
    log = MemorySharingStore()
    purposeful.configure(consent=consent_for(SUBJECT), disclosure_log=log, corrections=corrections)
    record = TUOReferral(SUBJECT, "R-1", NAME, PHONE)
    longest = "S" * MAX_STATEMENT_LENGTH
    corrections.attach_statement(_declined(corrections, record), longest)
    sent = purposeful.disclose(record, to=RECEIVER, under=agreement(), actor=CASEWORKER)
    payload = json.loads(json.dumps(sent.to_json()))
    assert payload[STATEMENTS] == {"phone": [longest]}
    jsonschema.validate(payload, agreement().json_schema(TUOReferral))
    kept = prefill(
        TUOApplication(SUBJECT, "A-1"),
        payload,
        source=SENDER,
        under=agreement(),
        fields={"name": "full_name"},
        at=RECEIVED,
    )
    assert kept.statements_for("phone") == (longest,)
    corrections.close()
