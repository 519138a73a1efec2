"""Case reviews and referrals read what case management and referral may use, and no more.

Shows `st.from_type(Client)` (purposeful registers its records with hypothesis), the
`purposes()` and `actors()` strategies, strict mode on a property, and a consent checker
configured for one test (the `purposeful_audit` fixture restores the configuration).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kowhai_support import Client, case_review, referral_details

import purposeful
from purposeful import (
    IN_CONFIDENCE,
    NZ_CLASSIFICATION,
    SENSITIVE,
    UNCLASSIFIED,
    Actor,
    Outcome,
    Purpose,
)
from purposeful.testing import DecisionCapture, capture_decisions, expect_violation
from purposeful.testing.strategies import actors, purposes

CASE_MANAGEMENT = "service-delivery.case-management"
caseworkers = actors(
    roles=st.just("caseworker"),
    clearance=st.sampled_from([level for level in NZ_CLASSIFICATION if level >= SENSITIVE]),
)
navigator = Actor("staff-0107", role="navigator", clearance=IN_CONFIDENCE)

# The purposes mental-health notes are declared for; every other purpose must be refused.
MENTAL_HEALTH_PURPOSES = {CASE_MANAGEMENT, "care-and-protection"}
other_purposes = purposes().filter(lambda p: not MENTAL_HEALTH_PURPOSES & set(p.lineage))


class ConsentedTo:
    """A consent checker that knows one person's consent for one purpose (and its children)."""

    def __init__(self, subject: str, purpose: str) -> None:
        self.subject, self.purpose = subject, purpose

    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        return subject == self.subject and self.purpose in purpose.lineage


def make_client(client_id: str = "C-2001") -> Client:
    return Client(
        client_id,
        name="Mere Parata",
        phone="027 555 0101",
        region="Waikato",
        iwi="Waikato-Tainui",
        health_conditions="type 2 diabetes",
        mental_health_notes="low mood since job loss",
    )


def test_case_review_reads_only_under_case_management(purposeful_audit: DecisionCapture) -> None:
    caseworker = Actor("staff-0042", role="caseworker", clearance=SENSITIVE)
    review = case_review(make_client(), caseworker=caseworker)

    assert review.health_conditions == "type 2 diabetes"
    purposeful_audit.assert_no_violations()
    assert {d.purpose.id for d in purposeful_audit.decisions if d.purpose} == {CASE_MANAGEMENT}


@pytest.mark.purposeful_strict
def test_navigator_is_refused_health_information() -> None:
    with expect_violation(field="health_conditions", reason="clearance-too-low") as refusal:
        case_review(make_client(), caseworker=navigator)
    assert refusal.decision is not None
    assert "above the IN-CONFIDENCE clearance of the navigator role" in refusal.decision.explain()


@pytest.mark.purposeful_strict
def test_referral_passes_on_the_name_only_with_consent(purposeful_audit: DecisionCapture) -> None:
    client = make_client()
    without = referral_details(client, navigator=navigator)
    purposeful.configure(consent=ConsentedTo(client.client_id, "service-delivery.referral"))
    with_consent = referral_details(client, navigator=navigator)

    assert "name" not in without
    assert with_consent["name"] == "Mere Parata"
    assert "health_conditions" not in with_consent
    assert "mental_health_notes" not in with_consent
    # Left out of a projection is "withheld", which is not a violation: strict mode passes.
    withheld = {d.field for d in purposeful_audit.decisions if d.outcome is Outcome.WITHHELD}
    assert withheld == {"name", "health_conditions", "mental_health_notes"}


@given(client=st.from_type(Client), caseworker=caseworkers)
def test_a_cleared_caseworker_can_always_prepare_a_review(
    client: Client, caseworker: Actor
) -> None:
    with capture_decisions() as captured:
        review = case_review(client, caseworker=caseworker)
    captured.assert_no_violations()
    assert review.client_id == client.client_id


@pytest.mark.purposeful_strict
@given(
    client=st.from_type(Client),
    actor=actors(clearance=st.sampled_from([UNCLASSIFIED, IN_CONFIDENCE])),
)
def test_anyone_below_sensitive_is_refused_a_review(client: Client, actor: Actor) -> None:
    with expect_violation(purpose=CASE_MANAGEMENT, reason="clearance-too-low"):
        case_review(client, caseworker=actor)


@pytest.mark.purposeful_strict
@given(client=st.from_type(Client), purpose=other_purposes, actor=actors())
def test_mental_health_notes_are_refused_for_every_other_purpose(
    client: Client, purpose: Purpose, actor: Actor
) -> None:
    with (
        purposeful.use(purpose, actor=actor),
        expect_violation(field="mental_health_notes", reason="purpose-not-declared"),
    ):
        _ = client.mental_health_notes
