"""A field handed over holding nothing (null in the payload) carries no statement of
correction: the partner keeps none for it (`prefill` drops it, `receive` refuses the
whole collection for it), so the payload leaves it out and the log does not record that
the partner was sent it (which took the partner off `parties_to_tell`)."""

from __future__ import annotations

import json

import jsonschema
from _tell_us_once import (
    CASEWORKER,
    NAME,
    PHONE,
    RECEIVER,
    REFERRAL,
    SENDER,
    SUBJECT,
    TUOReferral,
    agreement,
    consent_for,
)

import purposeful
from purposeful.corrections import MemoryCorrectionStore
from purposeful.sharing import STATEMENTS, MemorySharingStore

SAID = "STATEMENT-about-my-phone-private"


def _declined_on_phone(
    record: TUOReferral,
) -> tuple[MemorySharingStore, MemoryCorrectionStore, str]:
    log, corrections = MemorySharingStore(), MemoryCorrectionStore()
    purposeful.configure(consent=consent_for(SUBJECT), disclosure_log=log, corrections=corrections)
    asked = corrections.request_correction(SUBJECT, record, "phone", "021 000 0000", "old")
    corrections.decline(asked.id, by="staff-02", reason="verified", statement=SAID)
    return log, corrections, asked.id


def test_a_field_handed_over_as_null_carries_no_statement() -> None:
    record = TUOReferral(SUBJECT, "R-1", NAME, None)
    log, corrections, asked = _declined_on_phone(record)
    sent = purposeful.disclose(record, to=RECEIVER, under=agreement(), actor=CASEWORKER)
    assert sent["phone"] is None
    assert sent.statements == {}
    assert STATEMENTS not in sent.to_json()
    assert sent.disclosure.statements == ()
    # the partner was not sent the statement: it is still among the parties to tell
    assert [d.recipient for d in log.parties_to_tell(corrections.get(asked))] == [RECEIVER.name]


def test_the_partner_receives_our_payload_for_a_record_with_a_null_field() -> None:
    record = TUOReferral(SUBJECT, "R-1", NAME, None)
    _declined_on_phone(record)
    sent = purposeful.disclose(record, to=RECEIVER, under=agreement(), actor=CASEWORKER)
    payload = json.loads(json.dumps(sent.to_json()))
    jsonschema.validate(payload, agreement().json_schema(TUOReferral))
    purposeful.configure(disclosure_log=MemorySharingStore())
    theirs = TUOReferral(SUBJECT, "R-1", payload["name"], payload["phone"])
    kept = purposeful.receive(
        theirs, source=SENDER, purpose=REFERRAL, statements=payload.get(STATEMENTS)
    )
    assert kept.statements == ()


def test_a_field_handed_over_with_a_value_still_carries_its_statement() -> None:
    record = TUOReferral(SUBJECT, "R-1", NAME, PHONE)
    log, corrections, asked = _declined_on_phone(record)
    sent = purposeful.disclose(record, to=RECEIVER, under=agreement(), actor=CASEWORKER)
    assert sent.to_json()[STATEMENTS] == {"phone": [SAID]}
    assert sent.disclosure.statements == (asked,)
    assert log.parties_to_tell(corrections.get(asked)) == []
