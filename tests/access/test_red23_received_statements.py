"""A statement of correction that came with information from a partner (IPP 7, kept by
`prefill` on `Provenance.statements`) is read with that information in the person's
bundle, beside the field, as the agency's own statements are: it was kept, and shown
nowhere."""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from _bundles import SUBJECT, build_bundle, members, records_source, subject_access

import purposeful
from purposeful import AUTHORISED_BY_PERSON, CONSENT
from purposeful.consent import MemoryConsentStore
from purposeful.sharing import STATEMENTS, MemorySharingStore, Party, SharingAgreement, prefill

REFERRAL = "service-delivery.referral"
PHONE = "PHONE-021-000-private"
SAID = "My number is 027 555 0123, not the one they hold."


@purposeful.record(subject="client_id", key="contact_id")
class ReceivedContact:
    client_id: str
    contact_id: str
    phone: str | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="contact", default=None
    )


def _referred(store: MemorySharingStore, payload: dict[str, object]) -> ReceivedContact:
    consent = MemoryConsentStore()
    consent.give(SUBJECT, REFERRAL, at=datetime(2026, 1, 5, tzinfo=UTC))
    purposeful.configure(disclosure_log=store, consent=consent)
    agreement = SharingAgreement(
        id="received-statements",
        name="Housing referrals",
        parties=[Party("Te Whare Āwhina"), Party("Kāinga Ora")],
        purposes=[REFERRAL],
        categories=["contact"],
        basis=AUTHORISED_BY_PERSON,
        starts=date(2026, 1, 1),
        expires=date(2027, 12, 31),
        review=date(2027, 6, 30),
    )
    record = ReceivedContact(SUBJECT, "K-1")
    prefill(
        record,
        payload,
        source="Te Whare Āwhina",
        under=agreement,
        at=datetime(2026, 3, 4, tzinfo=UTC),
    )
    return record


def _records(contents: dict[str, bytes]) -> list[dict[str, Any]]:
    """The records.json entries of ReceivedContact."""
    [found] = [
        t
        for t in json.loads(contents["records.json"])["record_types"]
        if t["type"] == "ReceivedContact"
    ]
    entries: list[dict[str, Any]] = found["records"]
    return entries


def test_a_statement_received_with_a_field_is_in_the_bundle_beside_it(tmp_path: Path) -> None:
    store = MemorySharingStore()
    record = _referred(store, {"phone": PHONE, STATEMENTS: {"phone": [SAID]}})
    access = subject_access(records_source(record), disclosures=store)
    contents = members(build_bundle(tmp_path / "b.zip", access).path)
    [entry] = _records(contents)
    [item] = entry["statements_of_correction"]["phone"]
    assert item["statement"] == SAID
    assert item["from"] == "Te Whare Āwhina"
    csv = next(data for name, data in contents.items() if name.endswith(".csv"))
    assert SAID in csv.decode("utf-8")
    assert SAID in html.unescape(contents["index.html"].decode("utf-8"))


def test_without_statements_the_record_has_none(tmp_path: Path) -> None:
    store = MemorySharingStore()
    record = _referred(store, {"phone": PHONE})
    access = subject_access(records_source(record), disclosures=store)
    contents = members(build_bundle(tmp_path / "b.zip", access).path)
    [entry] = _records(contents)
    assert "statements_of_correction" not in entry
