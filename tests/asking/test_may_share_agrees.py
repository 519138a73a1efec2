"""`may_share` agrees with `disclose`: for generated agreements (parties, purposes, fields and
categories covered, every basis a disclosure may rest on, dates around the day asked), any
party, purpose, role and clearance, agency kinds, justification and consent, a field is
handed over by `disclose` exactly when the answer is yes, or a condition it names is met.
Asked about the record's person, the answer is what `disclose` then does with the field.
"""

from __future__ import annotations

from datetime import date, timedelta

from _asking import FIELDS, REFERRAL, ROLES, AskVisit, YesFor, visits
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import (
    AUTHORISED_BY_PERSON,
    DIRECTLY_RELATED_PURPOSE,
    FAMILY_VIOLENCE_ACT_S20,
    IN_CONFIDENCE,
    NON_IDENTIFYING,
    ORANGA_TAMARIKI_ACT_S66C,
    RESTRICTED,
    SENSITIVE,
    SERIOUS_THREAT,
    DisclosureRefused,
)
from purposeful.asking import Verdict
from purposeful.errors import AgreementError
from purposeful.sharing import MemorySharingStore, SharingAgreement
from purposeful.testing.strategies import actors

KINDS = ["child-welfare-and-protection", "family-violence"]
#: Agreements are dated around today: disclose discloses now, and may_share is asked now.
TODAY = date.today()
PURPOSES = (REFERRAL, "service-delivery", "care-and-protection", "research", "funder-reporting")
BASES = (
    DIRECTLY_RELATED_PURPOSE,
    AUTHORISED_BY_PERSON,
    NON_IDENTIFYING,
    ORANGA_TAMARIKI_ACT_S66C,
    FAMILY_VIOLENCE_ACT_S20,
    SERIOUS_THREAT,
)


def _declared_for(purposes: list[str]) -> list[str]:
    """The fields an agreement for *purposes* may name: declared for one of them."""
    fields = purposeful.record_policy(AskVisit).fields
    return [
        name
        for name, policy in fields.items()
        if any(
            d == p or d.startswith(p + ".") or p.startswith(d + ".")
            for d in policy.purposes
            for p in purposes
        )
    ]


@st.composite
def agreements(draw: st.DrawFn) -> SharingAgreement:
    """Mostly in force on the day, for fields declared for its purposes."""
    in_force = draw(st.integers(0, 4)) > 0
    starts = TODAY + timedelta(days=-30 if in_force else draw(st.sampled_from([10, -400])))
    length = timedelta(days=365)
    purposes = draw(st.lists(st.sampled_from(PURPOSES), min_size=1, max_size=2, unique=True))
    choices = _declared_for(purposes)
    fields = draw(st.lists(st.sampled_from(choices), max_size=4, unique=True)) if choices else []
    try:
        return SharingAgreement(
            id="ask-agreement",
            name="Asked-about agreement",
            parties=["Us", "Te Whare Āwhina"],
            purposes=purposes,
            basis=draw(st.sampled_from(BASES)),
            starts=starts,
            expires=starts + length,
            review=starts,
            fields=[f"AskVisit.{f}" for f in fields],
            categories=draw(st.lists(st.sampled_from(["contact", "health"]), max_size=1)),
        )
    except AgreementError:
        assume(False)
        raise


@st.composite
def questions(draw: st.DrawFn) -> tuple[SharingAgreement, str, str]:
    """An agreement, a purpose (mostly one it allows) and a field (mostly one it names)."""
    agreement = draw(agreements())
    purpose = draw(st.sampled_from([*agreement.purposes * 4, *PURPOSES]))
    named = [name.rpartition(".")[2] for name in agreement.fields]
    field = draw(st.sampled_from([*named * 4, *FIELDS]))
    return agreement, purpose, field


@settings(max_examples=300)
@given(
    question=questions(),
    party=st.sampled_from(["Te Whare Āwhina"] * 4 + ["Somebody Else"]),
    actor=actors(
        roles=st.sampled_from(ROLES),
        clearance=st.sampled_from([IN_CONFIDENCE, SENSITIVE, RESTRICTED, RESTRICTED]),
    ),
    kinds=st.sampled_from(
        [[], ["child-welfare-and-protection"], ["family-violence"], KINDS, KINDS, KINDS]
    ),
    justification=st.sampled_from([None, "REF-123"]),
    consented=st.booleans(),
    record=visits(),
)
def test_may_share_agrees_with_disclose(
    question: tuple[SharingAgreement, str, str],
    party: str,
    actor: purposeful.Actor,
    kinds: list[str],
    justification: str | None,
    consented: bool,
    record: AskVisit,
) -> None:
    agreement, purpose, field = question
    subject = purposeful.record_policy(AskVisit).subject_of(record)  # no read: no scope
    checker = YesFor([subject] if consented else [])
    log = MemorySharingStore()
    with purposeful.configured(disclosure_log=log, agency_kinds=kinds, consent=checker):
        asked = {"agreement": agreement, "party": party, "purpose": purpose}
        answer = purposeful.may_share(
            AskVisit,
            field,
            **asked,  # type: ignore[arg-type]
            role=actor.role,
            clearance=actor.clearance,
            justification=justification,
        )
        about = purposeful.may_share(
            AskVisit,
            field,
            **asked,  # type: ignore[arg-type]
            actor=actor,
            justification=justification,
            subject=subject,
        )
        try:
            disclosed = purposeful.disclose(
                record,
                to=party,
                under=agreement,
                purpose=purpose,
                actor=actor,
                justification=justification,
            )
            shared = field in disclosed
        except DisclosureRefused:
            shared = False
    event(f"type: {answer.verdict.value}")
    assert answer.verdict is not Verdict.WOULD_DENY
    if answer.verdict is Verdict.YES:
        assert shared
    elif answer.verdict is Verdict.WITH_CONSENT:
        assert shared == consented
    else:
        # a missing justification is a condition only when none was given
        assert (answer.verdict is Verdict.WITH_JUSTIFICATION) <= (justification is None)
        assert not shared
    assert (about.verdict is Verdict.YES) == shared
    assert answer.agreement == agreement.id
    assert answer.party == party
    log.close()
