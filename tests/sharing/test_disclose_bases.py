"""``purposeful.disclose`` under an agreement's basis: the everyday bases of IPP 11 need
nothing more; a statute only the agencies and roles it names may rely on refuses anyone
else; a basis that needs a belief on reasonable grounds refuses a disclosure without a
recorded justification. A refusal logs nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

import purposeful
from purposeful import (
    AUTHORISED_BY_PERSON,
    DIRECTLY_RELATED_PURPOSE,
    FAMILY_VIOLENCE_ACT_S20,
    NON_IDENTIFYING,
    ORANGA_TAMARIKI_ACT_S66C,
    SENSITIVE,
    SERIOUS_THREAT,
    Actor,
    ConfigurationError,
    DisclosureRefused,
    LawfulBasis,
    Statute,
    use,
)
from purposeful.errors import AgreementError
from purposeful.sharing import MemorySharingStore
from purposeful.sharing.agreements import Party, SharingAgreement, load_agreements
from purposeful.sharing.exchange import disclose

CARE = "care-and-protection"
REFERRAL = "service-delivery.referral"
CHILD_WELFARE = "child-welfare-and-protection"
FAMILY_VIOLENCE = "family-violence"


@purposeful.record(subject="client_id")
class ChildSafetyReport:
    client_id: str
    concern: str = purposeful.field(
        purposes={CARE: ORANGA_TAMARIKI_ACT_S66C, REFERRAL: DIRECTLY_RELATED_PURPOSE},
        sensitivity=SENSITIVE,
    )
    risk: str = purposeful.field(purposes={CARE: FAMILY_VIOLENCE_ACT_S20}, sensitivity=SENSITIVE)


US = Party("Te Whare Āwhina", address="12 Rata Street, Hamilton")
PARTNER = Party("Oranga Tamariki", address="56 The Terrace, Wellington")
CASEWORKER = Actor("staff-17", "caseworker", SENSITIVE)
PRACTITIONER = Actor("staff-18", "social-services-practitioner", SENSITIVE)
INDEPENDENT_PERSON = Actor("ext-01", "independent-person", SENSITIVE)
TODAY = date.today()
REPORT = ChildSafetyReport("C-4410", "concern text", "risk text")


def agreement(basis: LawfulBasis, *, purposes: tuple[str, ...] = (CARE,)) -> SharingAgreement:
    fields = ("ChildSafetyReport.concern", "ChildSafetyReport.risk")
    return SharingAgreement(
        id="child-safety",
        name="Child safety",
        parties=(US, PARTNER),
        purposes=purposes,
        basis=basis,
        # in force now, whenever the tests run: disclose discloses now
        starts=TODAY - timedelta(days=365),
        expires=TODAY + timedelta(days=3 * 365),
        review=TODAY + timedelta(days=365),
        fields=fields if CARE in purposes else fields[:1],
    )


@pytest.fixture
def log() -> Iterator[MemorySharingStore]:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    yield store
    store.close()


def send(basis: LawfulBasis, actor: Actor, **kwargs: Any) -> purposeful.sharing.Disclosed:
    return disclose(REPORT, to=PARTNER, under=agreement(basis), actor=actor, **kwargs)


def _id(value: object) -> str:
    """A test id the same in every process: a set's order is not."""
    return repr(sorted(value)) if isinstance(value, set) else repr(value)


@pytest.mark.parametrize(
    ("basis", "kinds", "actor", "shared"),
    [
        (ORANGA_TAMARIKI_ACT_S66C, [CHILD_WELFARE], CASEWORKER, {"concern"}),
        (ORANGA_TAMARIKI_ACT_S66C, [], INDEPENDENT_PERSON, {"concern"}),
        (FAMILY_VIOLENCE_ACT_S20, [FAMILY_VIOLENCE], CASEWORKER, {"risk"}),
        (FAMILY_VIOLENCE_ACT_S20, [], PRACTITIONER, {"risk"}),
        (
            FAMILY_VIOLENCE_ACT_S20,
            [FAMILY_VIOLENCE, CHILD_WELFARE],
            CASEWORKER,
            {"concern", "risk"},
        ),
    ],
    ids=_id,
)
def test_an_entitled_agency_or_role_discloses_under_the_statute_with_a_justification(
    log: MemorySharingStore,
    basis: Statute,
    kinds: list[str],
    actor: Actor,
    shared: set[str],
) -> None:
    purposeful.configure(agency_kinds=kinds)
    sent = send(basis, actor, justification="OT-2026-17")
    # each field is decided under its own basis too: only those this agency may rely on go
    assert set(sent) == shared
    [logged] = log.disclosures("C-4410")
    assert logged.basis == basis.describe()


@pytest.mark.parametrize(
    ("basis", "kinds", "actor"),
    [
        (ORANGA_TAMARIKI_ACT_S66C, [], CASEWORKER),
        (ORANGA_TAMARIKI_ACT_S66C, [FAMILY_VIOLENCE], PRACTITIONER),
        (FAMILY_VIOLENCE_ACT_S20, [], CASEWORKER),
        (FAMILY_VIOLENCE_ACT_S20, [CHILD_WELFARE], INDEPENDENT_PERSON),
    ],
    ids=repr,
)
def test_an_agency_and_role_the_statute_does_not_name_may_not_disclose_under_it(
    log: MemorySharingStore, basis: Statute, kinds: list[str], actor: Actor
) -> None:
    purposeful.configure(agency_kinds=kinds)
    with pytest.raises(DisclosureRefused) as info:
        send(basis, actor, justification="OT-2026-17")
    assert info.value.reasons == ("not-entitled-to-basis",)
    message = str(info.value)
    assert basis.describe() in message
    assert basis.who_may_rely() in message
    assert f"the {actor.role} role" in message
    assert "text" not in message
    assert "C-4410" not in message
    assert log.disclosures("C-4410") == []


@pytest.mark.parametrize(
    ("basis", "kinds"),
    [
        (ORANGA_TAMARIKI_ACT_S66C, [CHILD_WELFARE]),
        (FAMILY_VIOLENCE_ACT_S20, [FAMILY_VIOLENCE]),
        (SERIOUS_THREAT, []),
    ],
    ids=repr,
)
def test_a_basis_that_needs_a_belief_on_reasonable_grounds_refuses_a_disclosure_without_one(
    log: MemorySharingStore, basis: LawfulBasis, kinds: list[str]
) -> None:
    purposeful.configure(agency_kinds=kinds)
    with pytest.raises(DisclosureRefused) as info:
        send(basis, CASEWORKER)
    assert info.value.reasons == ("justification-missing",)
    assert "belief on reasonable grounds" in str(info.value)
    assert log.disclosures("C-4410") == []


def test_the_open_scopes_justification_is_the_disclosures(log: MemorySharingStore) -> None:
    purposeful.configure(agency_kinds=[CHILD_WELFARE])
    with use(CARE, actor=CASEWORKER, justification="OT-2026-18"):
        sent = send(ORANGA_TAMARIKI_ACT_S66C, CASEWORKER)
    assert set(sent) == {"concern"}


def test_a_malformed_justification_is_a_configuration_error_and_nothing_is_logged(
    log: MemorySharingStore,
) -> None:
    purposeful.configure(agency_kinds=[CHILD_WELFARE])
    with pytest.raises(ConfigurationError, match="a reference to where the justification"):
        send(ORANGA_TAMARIKI_ACT_S66C, CASEWORKER, justification="because I was worried")
    assert log.disclosures("C-4410") == []


@pytest.mark.parametrize(
    "basis", [DIRECTLY_RELATED_PURPOSE, AUTHORISED_BY_PERSON, NON_IDENTIFYING], ids=repr
)
def test_an_everyday_basis_needs_no_agency_kind_or_justification(
    log: MemorySharingStore, basis: LawfulBasis
) -> None:
    sent = disclose(
        REPORT,
        to=PARTNER,
        under=agreement(basis, purposes=(REFERRAL,)),
        actor=CASEWORKER,
    )
    assert dict(sent) == {"concern": "concern text"}
    [logged] = log.disclosures("C-4410")
    assert "IPP 11(1)" in logged.basis


@pytest.mark.parametrize(
    "basis",
    [purposeful.CONSENT, purposeful.ServiceAgreement("Funding agreement")],
    ids=repr,
)
def test_consent_and_a_service_agreement_are_not_bases_for_a_disclosure(
    basis: LawfulBasis,
) -> None:
    with pytest.raises(AgreementError, match=r"DIRECTLY_RELATED_PURPOSE .* not "):
        agreement(basis)


def test_an_agreement_file_names_the_everyday_and_ready_made_bases(tmp_path: Any) -> None:
    text = """
[[agreement]]
id = "referrals"
name = "Referrals"
parties = ["Te Whare Āwhina", "Oranga Tamariki"]
purposes = ["service-delivery.referral"]
fields = ["ChildSafetyReport.concern"]
basis = "authorised-by-person"
starts = 2026-01-01
expires = 2027-12-31
review = 2027-06-30

[[agreement]]
id = "child-safety"
name = "Child safety"
parties = ["Te Whare Āwhina", "Oranga Tamariki"]
purposes = ["care-and-protection"]
fields = ["ChildSafetyReport.concern"]
basis = "oranga-tamariki-act-s66c"
starts = 2026-01-01
expires = 2030-12-31
review = 2028-01-01
"""
    path = tmp_path / "agreements.toml"
    path.write_text(text, encoding="utf-8")
    referrals, safety = load_agreements(path)
    assert referrals.basis == AUTHORISED_BY_PERSON
    assert safety.basis == ORANGA_TAMARIKI_ACT_S66C
