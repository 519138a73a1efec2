"""Red team: consent recorded through a representative whose authority was verified only
after the event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from purposeful.consent import MemoryConsentStore, Relationship, Representative
from purposeful.errors import InvalidConsentEvent

MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_red_representative_verified_after_the_event_is_refused() -> None:
    store = MemoryConsentStore()
    later = Representative(
        Relationship.PARENT,
        evidence="FAM-2024-485-000321",
        verified_by="staff-0311",
        verified_at=MARCH + timedelta(days=400),  # checked a year after they "consented"
    )
    # like an attorney's incapacity, the authority must be established by the event's time
    with pytest.raises(InvalidConsentEvent):
        store.give("C-2044", "research", at=MARCH, by=later)
    assert not store.consent_in_force("C-2044", "research", MARCH + timedelta(days=1))
