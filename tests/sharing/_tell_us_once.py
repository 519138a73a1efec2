"""What the tell-us-once tests share: a referring agency's record, a receiving agency's
record, and the agreement between them.

Not a test module: test_referral_schema.py and test_prefill.py import it. Personal values
are recognisable markers, so finding one in a message, a repr or a store means it leaked.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Literal

import attrs

import purposeful
from purposeful import AUTHORISED_BY_PERSON, CONSENT, SENSITIVE, Actor
from purposeful.consent import MemoryConsentStore
from purposeful.sharing import Party, SharingAgreement

SUBJECT = "client-TUO-7Q4X-private"
NAME = "NAME-Mere-Tipene-private"
PHONE = "PHONE-021-555-0199-private"
REFERRAL = "service-delivery.referral"
SENDER = Party("Te Whare Āwhina", address="12 Rata Street, Hamilton")
RECEIVER = Party("Kāinga Ora", address="PO Box 2628, Wellington")
RECEIVED = datetime(2026, 5, 12, 22, 0, tzinfo=UTC)  # 13 May 2026 in New Zealand
CASEWORKER = Actor("staff-17", "caseworker", SENSITIVE)


class Tenure(enum.Enum):
    """How a person holds their home."""

    RENTING = "renting"
    OWNED = "owned"
    NONE = "none"


@purposeful.record(subject="client_id", key="referral_id")
class TUOReferral:
    """The referring agency's record."""

    client_id: str
    referral_id: str
    name: str = purposeful.field(purposes={REFERRAL: CONSENT}, category="identity")
    phone: str | None = purposeful.field(purposes={REFERRAL: CONSENT}, category="contact")
    born: date | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="identity", default=None
    )
    tenure: Tenure | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="household", default=None
    )
    people: int | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="household", default=None
    )
    urgent: bool = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="household", default=False
    )
    history: str = purposeful.field(
        purposes={"service-delivery.case-management": CONSENT},
        sensitivity=SENSITIVE,
        category="case-notes",
        default="",
    )


@purposeful.record(subject="client_id", key="application_id")
class TUOApplication:
    """The receiving agency's own record, filled from the referral."""

    client_id: str
    application_id: str
    full_name: str | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="identity", default=None
    )
    phone: str | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="contact", default=None
    )
    born: date | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="identity", default=None
    )
    tenure: Tenure | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="household", default=None
    )
    people: int | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="household", default=None
    )
    urgent: bool = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="household", default=False
    )
    priority: Literal["low", "high"] | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="household", default=None
    )
    notes: str = purposeful.field(
        purposes={"service-delivery.case-management": CONSENT},
        category="case-notes",
        default="",
    )


@purposeful.record(subject="client_id")
@attrs.frozen
class TUOFrozen:
    """A record that cannot be filled in place."""

    client_id: str
    phone: str | None = purposeful.field(
        purposes={REFERRAL: CONSENT}, category="contact", default=None
    )


def agreement(**changes: object) -> SharingAgreement:
    """Housing referrals between the two agencies: identity, contact and household."""
    values: dict[str, object] = {
        "id": "tuo-housing-referrals",
        "name": "Housing referrals",
        "parties": [SENDER, RECEIVER],
        "purposes": [REFERRAL],
        "categories": ["identity", "contact", "household"],
        "basis": AUTHORISED_BY_PERSON,
        "starts": date(2026, 1, 1),
        "expires": date(2027, 12, 31),
        "review": date(2027, 6, 30),
        "description": "Referring people who need housing support.",
    }
    values.update(changes)
    return SharingAgreement(**values)  # type: ignore[arg-type]


def consent_for(*subjects: str) -> MemoryConsentStore:
    """A consent store where each of *subjects* consented to referral on 5 January 2026."""
    store = MemoryConsentStore()
    for subject in subjects:
        store.give(subject, REFERRAL, at=datetime(2026, 1, 5, tzinfo=UTC))
    return store
