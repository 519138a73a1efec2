"""Kōwhai Support's client record: what each field may be used for, and on what basis.

The declarations are the promises the agency made when it collected the information. Code
elsewhere in the package reads fields only inside a purpose scope; this module must not read
any.
"""

from __future__ import annotations

import purposeful
from purposeful import (
    CONSENT,
    ORANGA_TAMARIKI_ACT_S66C,
    SENSITIVE,
    ServiceAgreement,
)

SERVICE_AGREEMENT = ServiceAgreement("Service delivery agreement")
FUNDING_AGREEMENT = ServiceAgreement("Funding agreement")


@purposeful.record(subject="client_id")
class Client:
    """A person Kōwhai Support works with."""

    client_id: str
    name: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT, "service-delivery.referral": CONSENT},
        category="identity",
    )
    phone: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT},
        category="contact",
    )
    region: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
    )
    iwi: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
        category="ethnicity.iwi-affiliation",
    )
    health_conditions: str = purposeful.field(
        purposes={"service-delivery.case-management": SERVICE_AGREEMENT},
        sensitivity=SENSITIVE,
        category="health",
    )
    mental_health_notes: str = purposeful.field(
        purposes={
            "service-delivery.case-management": SERVICE_AGREEMENT,
            "care-and-protection": ORANGA_TAMARIKI_ACT_S66C,
        },
        sensitivity=SENSITIVE,
        category="health.mental-health",
    )
    # Plain attrs fields: purposeful makes no claim about them.
    referral_source: str = "self-referred"
    active: bool = True
