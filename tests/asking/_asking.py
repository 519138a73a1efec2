"""What the asking tests share: a record type with a field for every kind of rule, the roles
the law names, and a yes/no consent checker.

Not a test module: the tests in this folder import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import purposeful
from purposeful import (
    CONSENT,
    DIRECTLY_RELATED_PURPOSE,
    IN_CONFIDENCE,
    NON_IDENTIFYING,
    ORANGA_TAMARIKI_ACT_S66C,
    RESTRICTED,
    SENSITIVE,
    SERIOUS_THREAT,
    Actor,
    Purpose,
    ServiceAgreement,
)

SERVICE = ServiceAgreement("Service delivery agreement")
FUNDING = ServiceAgreement("Funding agreement")
CASE_MANAGEMENT = "service-delivery.case-management"
REFERRAL = "service-delivery.referral"

#: The default strategies' roles, and the roles the law names for s 66C and s 20.
ROLES = (
    "caseworker",
    "team-leader",
    "intake-worker",
    "analyst",
    "reporting-job",
    "independent-person",
    "social-services-practitioner",
)
CASEWORKER = Actor("staff-0042", "caseworker", SENSITIVE)
ANALYST = Actor("staff-0101", "analyst", IN_CONFIDENCE)


@purposeful.record(subject="client_id", key="visit_id", name="AskVisit")
class AskVisit:
    """One field per kind of rule: a service agreement; consent; a statute only some may
    rely on, with a justification; the serious-threat exception; a directly related purpose
    that also needs consent; and one too sensitive for most."""

    client_id: str
    visit_id: str
    name: str = purposeful.field(
        purposes={"service-delivery": SERVICE, "funder-reporting": FUNDING}, category="identity"
    )
    health_notes: str = purposeful.field(
        purposes={CASE_MANAGEMENT: CONSENT, "research": NON_IDENTIFYING},
        sensitivity=SENSITIVE,
        category="health",
    )
    concern: str = purposeful.field(
        purposes={"care-and-protection": ORANGA_TAMARIKI_ACT_S66C},
        sensitivity=SENSITIVE,
        category="family-violence",
    )
    threat: str = purposeful.field(
        purposes={"care-and-protection": SERIOUS_THREAT}, sensitivity=IN_CONFIDENCE
    )
    referral_reason: str = purposeful.field(
        purposes={REFERRAL: DIRECTLY_RELATED_PURPOSE}, consent=True, category="case-notes"
    )
    address: str = purposeful.field(
        purposes={"service-delivery": SERVICE}, sensitivity=RESTRICTED, category="contact"
    )


FIELDS = tuple(purposeful.record_policy(AskVisit).fields)


def visits() -> Any:
    """Generated visits (`purposeful.testing.strategies.records`), with ids like C-1234 so
    that a test can tell that none reached a report."""
    from hypothesis import strategies as st

    from purposeful.testing.strategies import records

    return records(
        AskVisit,
        client_id=st.from_regex(r"C-[0-9]{4,6}", fullmatch=True),
        visit_id=st.from_regex(r"V-[0-9]{1,4}", fullmatch=True),
    )


def visit(client_id: str = "C-1001", **values: str) -> AskVisit:
    fields = {name: f"{name} of {client_id}" for name in FIELDS}
    fields.update(values)
    return AskVisit(client_id=client_id, visit_id=f"V-{client_id}", **fields)


class YesFor:
    """A consent checker: consent is in force for these subjects, for every purpose."""

    def __init__(self, subjects: Iterable[str] = ()) -> None:
        self.subjects = frozenset(subjects)
        self.asked: list[str] = []

    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        self.asked.append(purpose.id)
        return subject in self.subjects
