"""Red team: a disclosure on a statute borrows the justification of whatever scope it is made
in, whatever that scope's purpose and actor."""

from __future__ import annotations

from datetime import date

import pytest

import purposeful
from purposeful import ORANGA_TAMARIKI_ACT_S66C, SENSITIVE, Actor, ServiceAgreement
from purposeful.errors import DisclosureRefused
from purposeful.sharing import MemorySharingStore, SharingAgreement


@purposeful.record(subject="client_id")
class RedChildConcern:
    client_id: str
    concern: str = purposeful.field(
        purposes={
            "care-and-protection": ORANGA_TAMARIKI_ACT_S66C,
            "service-delivery": ServiceAgreement("Service agreement"),
        },
        sensitivity=SENSITIVE,
    )


def test_red_disclosure_does_not_borrow_another_purposes_and_actors_justification() -> None:
    agreement = SharingAgreement(
        id="child-safety",
        name="Child safety",
        parties=["Te Whare Awhina", "Oranga Tamariki"],
        purposes=["care-and-protection"],
        fields=["RedChildConcern.concern"],
        basis=ORANGA_TAMARIKI_ACT_S66C,
        starts=date(2026, 1, 1),
        expires=date(2030, 12, 31),
        review=date(2028, 1, 1),
    )
    purposeful.configure(
        disclosure_log=MemorySharingStore(), agency_kinds=["child-welfare-and-protection"]
    )
    caseworker = Actor("staff-17", "caseworker", SENSITIVE)
    receptionist = Actor("staff-99", "receptionist", SENSITIVE)
    # staff-17 recorded a justification for a service-delivery scope; inside it, staff-99
    # discloses for care and protection under s 66C and records none of their own
    with (
        purposeful.use("service-delivery", actor=caseworker, justification="SD-REF-1"),
        pytest.raises(DisclosureRefused) as refused,
    ):
        purposeful.disclose(
            RedChildConcern("C-1", "(concern)"),
            to="Oranga Tamariki",
            under=agreement,
            purpose="care-and-protection",
            actor=receptionist,
        )
    assert "justification-missing" in refused.value.reasons
