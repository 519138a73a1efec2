"""A bundle says where information came from: a "where this came from" line per item filled
from a partner's referral (`purposeful.sharing.prefill`), and the same in disclosures.json."""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime
from pathlib import Path

from _bundles import SUBJECT, build_bundle, members, records_source, subject_access

import purposeful
from purposeful import AUTHORISED_BY_PERSON, CONSENT
from purposeful.access import NeitherConfirmNorDeny
from purposeful.consent import MemoryConsentStore
from purposeful.sharing import (
    STATEMENTS,
    MemorySharingStore,
    Party,
    SharingAgreement,
    prefill,
)
from purposeful.withholding import ANOTHER_PERSONS_AFFAIRS

REFERRAL = "service-delivery.referral"
PHONE = "PHONE-021-000-private"
ODD_PARTY = 'Te Whare <b>Āwhina</b> & "Co"'


@purposeful.record(subject="client_id")
class ProvenanceContact:
    client_id: str
    phone: str | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="contact", default=None
    )


def referred(
    store: MemorySharingStore, party: str = "Te Whare Āwhina", statements: object = None
) -> ProvenanceContact:
    consent = MemoryConsentStore()
    consent.give(SUBJECT, REFERRAL, at=datetime(2026, 1, 5, tzinfo=UTC))
    purposeful.configure(disclosure_log=store, consent=consent)
    agreement = SharingAgreement(
        id="provenance-referrals",
        name="Housing referrals",
        parties=[Party(party), Party("Kāinga Ora")],
        purposes=[REFERRAL],
        categories=["contact"],
        basis=AUTHORISED_BY_PERSON,
        starts=date(2026, 1, 1),
        expires=date(2027, 12, 31),
        review=date(2027, 6, 30),
    )
    record = ProvenanceContact(SUBJECT)
    referral: dict[str, object] = {"phone": PHONE}
    if statements is not None:
        referral[STATEMENTS] = statements
    prefill(
        record,
        referral,
        source=party,
        under=agreement,
        referred=date(2026, 3, 3),
        at=datetime(2026, 3, 4, tzinfo=UTC),
    )
    return record


def test_the_page_and_disclosures_json_say_where_it_came_from(tmp_path: Path) -> None:
    store = MemorySharingStore()
    record = referred(store)
    access = subject_access(records_source(record), disclosures=store)
    contents = members(build_bundle(tmp_path / "b.zip", access).path)
    page = contents["index.html"].decode("utf-8")
    assert "Where this came from" in page
    assert "From Te Whare Āwhina's referral of 3 March 2026" in html.unescape(page)
    [received] = json.loads(contents["disclosures.json"])["received"]
    assert received["from"] == "Te Whare Āwhina"
    assert received["referral_date"] == "2026-03-03"
    assert received["fields"] == ["ProvenanceContact.phone"]
    assert received["said"] == "from Te Whare Āwhina's referral of 3 March 2026"
    assert PHONE.encode() not in contents["disclosures.json"]


def test_a_party_name_is_escaped_on_the_page(tmp_path: Path) -> None:
    store = MemorySharingStore()
    record = referred(store, ODD_PARTY)
    access = subject_access(records_source(record), disclosures=store)
    page = members(build_bundle(tmp_path / "b.zip", access).path)["index.html"].decode("utf-8")
    assert "<b>Āwhina</b>" not in page
    assert f"From {ODD_PARTY}'s referral" in html.unescape(page)


def test_a_type_neither_confirmed_nor_denied_has_no_line(tmp_path: Path) -> None:
    store = MemorySharingStore()
    record = referred(store)
    access = subject_access(records_source(record), disclosures=store)
    answers = [NeitherConfirmNorDeny(ProvenanceContact, ANOTHER_PERSONS_AFFAIRS, "contacts")]
    info = build_bundle(tmp_path / "b.zip", access, answers=answers)
    contents = members(info.path)
    assert json.loads(contents["disclosures.json"])["received"] == []
    assert "Where this came from" not in contents["index.html"].decode("utf-8")


def test_a_bundle_without_referrals_in_has_no_section(tmp_path: Path) -> None:
    store = MemorySharingStore()
    access = subject_access(disclosures=store)
    contents = members(build_bundle(tmp_path / "b.zip", access).path)
    assert json.loads(contents["disclosures.json"])["received"] == []
    assert "Where this came from" not in contents["index.html"].decode("utf-8")


class OddLog:
    """A disclosure log whose provenance() gives something else."""

    def for_subject(self, subject: str) -> list[object]:
        return []

    def provenance(self, subject: str) -> list[object]:
        return ["from somewhere"]


def test_a_log_giving_something_else_is_a_subject_access_error(tmp_path: Path) -> None:
    import pytest

    from purposeful.errors import SubjectAccessError

    with pytest.raises(SubjectAccessError, match="where a Provenance"):
        build_bundle(tmp_path / "b.zip", subject_access(disclosures=OddLog()))
    assert not (tmp_path / "b.zip").exists()
