"""`may_share`: the agreement's refusal in `disclose`'s own words, a field it does not cover,
the law of the disclosure and of the use, conditions, and nothing disclosed or logged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from _asking import CASEWORKER, REFERRAL, AskVisit, YesFor, visit

import purposeful
from _records import RecordingSink
from purposeful import DIRECTLY_RELATED_PURPOSE, SERIOUS_THREAT, DisclosureRefused
from purposeful.asking import Verdict
from purposeful.errors import ConfigurationError
from purposeful.sharing import MemorySharingStore, SharingAgreement

SUBJECT = "C-8R5Y-private"
AT = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
PARTNER = "Te Whare Āwhina"


def _agreement(**changes: object) -> SharingAgreement:
    values: dict[str, object] = {
        "id": "ask-referrals",
        "name": "Referrals to Te Whare Āwhina",
        "parties": ["Us", PARTNER],
        "purposes": [REFERRAL],
        "basis": DIRECTLY_RELATED_PURPOSE,
        "starts": date(2026, 1, 1),
        "expires": date(2026, 12, 31),
        "review": date(2026, 6, 30),
        "fields": ["AskVisit.referral_reason", "AskVisit.name"],
    }
    values.update(changes)
    return SharingAgreement(**values)  # type: ignore[arg-type]


@pytest.fixture
def log() -> Iterator[MemorySharingStore]:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store, consent=YesFor([SUBJECT]))
    yield store
    store.close()


def _ask(field: str = "referral_reason", **changes: object) -> purposeful.asking.Answer:
    asked: dict[str, object] = {
        "agreement": _agreement(),
        "party": PARTNER,
        "actor": CASEWORKER,
        "at": AT,
    }
    asked.update(changes)
    return purposeful.may_share(AskVisit, field, **asked)  # type: ignore[arg-type]


def test_a_yes_names_the_agreement_its_basis_and_the_law_of_disclosure_and_use(
    log: MemorySharingStore,
) -> None:
    name = _ask("name")  # declared for service delivery, which covers referral
    assert name.verdict is Verdict.YES
    assert name.law == ("Privacy Act 2020, IPP 11(1)(a)", "Privacy Act 2020, IPP 10")
    answer = _ask("referral_reason")
    assert answer.verdict is Verdict.WITH_CONSENT
    assert answer.agreement == "ask-referrals"
    assert answer.party == PARTNER
    assert answer.basis == DIRECTLY_RELATED_PURPOSE
    assert answer.law == ("Privacy Act 2020, IPP 11(1)(a)", "Privacy Act 2020, IPP 10(1)(a)")
    assert answer.explanation.startswith(
        "referral reason may be shared with Te Whare Āwhina under 'Referrals to Te Whare "
        "Āwhina', on the basis of the purpose the information was collected for"
    )


def test_a_refused_agreement_is_explained_in_disclose_own_words(log: MemorySharingStore) -> None:
    expired = _agreement(
        starts=date(2025, 1, 1), expires=date(2025, 12, 31), review=date(2025, 6, 1)
    )
    answer = _ask(agreement=expired, party="Somebody Else", at=None)  # now, as disclose
    with pytest.raises(DisclosureRefused) as caught:
        purposeful.disclose(visit(SUBJECT), to="Somebody Else", under=expired, actor=CASEWORKER)
    assert answer.verdict is Verdict.NO
    assert answer.explanation.startswith(str(caught.value))
    assert answer.reasons[:2] == caught.value.reasons
    assert log.disclosures(SUBJECT) == []


def test_a_field_the_agreement_does_not_cover_is_left_out(log: MemorySharingStore) -> None:
    answer = _ask("health_notes")
    assert answer.verdict is Verdict.NO
    assert "not-covered" in answer.reasons
    assert "does not cover AskVisit.health_notes" in answer.explanation


def test_a_basis_that_needs_a_justification_is_a_condition_until_one_is_given(
    log: MemorySharingStore,
) -> None:
    threat = _agreement(
        purposes=["care-and-protection"], basis=SERIOUS_THREAT, fields=["AskVisit.threat"]
    )
    answer = _ask("threat", agreement=threat)
    assert answer.verdict is Verdict.WITH_JUSTIFICATION
    assert answer.needs_justification
    assert answer.law == ("Privacy Act 2020, IPP 11(1)(f)", "Privacy Act 2020, IPP 10(1)(f)")
    justified = _ask("threat", agreement=threat, justification="REF-123")
    assert justified.verdict is Verdict.YES
    # within a scope that records one, as disclose takes it from the scope
    with purposeful.use("care-and-protection", actor=CASEWORKER, justification="FV/2026/1"):
        in_scope = purposeful.may_share(AskVisit, "threat", agreement=threat, party=PARTNER, at=AT)
    assert in_scope.verdict is Verdict.YES


def test_asking_discloses_nothing_logs_nothing_and_reports_nothing_for_a_type(
    log: MemorySharingStore,
) -> None:
    sink = RecordingSink()
    purposeful.configure(sinks=[sink])
    _ask()
    purposeful.audit.flush()
    assert sink.reports == []
    assert log.disclosures(SUBJECT) == []


def test_asking_about_a_person_is_audited_in_the_disclosure_scope_without_the_id(
    log: MemorySharingStore,
) -> None:
    sink = RecordingSink()
    purposeful.configure(sinks=[sink])
    consented = _ask(subject=SUBJECT)
    refused = _ask(subject="C-nobody")
    assert consented.verdict is Verdict.YES
    assert refused.verdict is Verdict.NO
    assert "none is in force" in refused.explanation
    assert [r.purpose.id for r in sink.reports if r.purpose] == [REFERRAL, REFERRAL]
    assert SUBJECT not in repr(sink.reports)
    assert log.disclosures(SUBJECT) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"agreement": "ask-referrals"}, "takes a SharingAgreement"),
        ({"actor": None, "role": "caseworker"}, "pass role= and clearance="),
        ({"actor": None, "subject": SUBJECT}, "audited use"),
        ({"justification": "free text reasons"}, "not the reasons themselves"),
    ],
)
def test_every_mistake_is_a_configuration_error(
    log: MemorySharingStore, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        _ask(**changes)
    assert SUBJECT not in str(caught.value)
