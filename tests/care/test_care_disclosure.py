"""People who need more care at the door out: `disclose` needs what the purpose and the
agreement require for a flagged person (a second reviewer, a safety review, a
representative's consent), over every combination; unflagged people are unaffected."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import CONSENT, DIRECTLY_RELATED_PURPOSE, SENSITIVE, Actor
from purposeful.care import CareFlag, CareNeed, CareRequirement, needs_for
from purposeful.consent import MemoryConsentStore, Relationship, Representative
from purposeful.decisions import ScopeReport
from purposeful.errors import (
    AgreementError,
    ConfigurationError,
    DisclosureRefused,
    RegistryFileError,
)
from purposeful.purposes import PurposeRegistry
from purposeful.sharing import MemorySharingStore
from purposeful.sharing.agreements import Party, SharingAgreement, load_agreements
from purposeful.sharing.exchange import disclose

REFERRAL = "service-delivery.referral"
CASEWORKER = Actor("staff-17", "caseworker", SENSITIVE)
MANAGER = Actor("staff-02", "team-leader", SENSITIVE)
FLAGS = [*CareFlag, "kaumatua-support"]
US = Party("Te Whare Āwhina")
PARTNER = Party("Kāinga Ora")


@purposeful.record(subject="client_id", key="referral_id")
class CareReferral:
    client_id: str
    referral_id: str
    name: str = purposeful.field(purposes={REFERRAL: DIRECTLY_RELATED_PURPOSE})
    phone: str = purposeful.field(purposes={REFERRAL: CONSENT})


class Flags:
    def __init__(self, flags: Mapping[str, Collection[str]]) -> None:
        self.flags = dict(flags)

    def care_flags(self, subjects: Sequence[str]) -> Mapping[str, Collection[str]]:
        return {s: self.flags[s] for s in subjects if s in self.flags}


class Reports:
    def __init__(self) -> None:
        self.reports: list[ScopeReport] = []

    def emit(self, report: ScopeReport) -> None:
        self.reports.append(report)


def agreement(
    *care: CareRequirement, fields: tuple[str, ...] = ("CareReferral.name",)
) -> SharingAgreement:
    return SharingAgreement(
        id="care-referrals",
        name="Care referrals",
        parties=(US, PARTNER),
        purposes=(REFERRAL,),
        basis=DIRECTLY_RELATED_PURPOSE,
        starts=date(2026, 1, 1),
        expires=date(2030, 12, 31),
        review=date(2028, 6, 30),
        fields=fields,
        care=care,
    )


def setup(purpose_care: Sequence[CareRequirement], flags: Collection[str]) -> MemorySharingStore:
    default = PurposeRegistry.default()
    registry = default.extend([attrs.evolve(default.get(REFERRAL), care=tuple(purpose_care))])
    log = MemorySharingStore()
    purposeful.configure(registry=registry, disclosure_log=log, care_flags=Flags({"C-1": flags}))
    return log


requirements = st.lists(
    st.builds(
        CareRequirement,
        flags=st.sets(st.sampled_from(FLAGS), min_size=1, max_size=3),
        needs=st.sets(
            st.sampled_from([CareNeed.SECOND_REVIEWER, CareNeed.SAFETY_REVIEW]), min_size=1
        ),
    ),
    max_size=2,
)


@settings(max_examples=80, deadline=None)
@given(
    purpose_care=requirements,
    agreement_care=requirements,
    flags=st.sets(st.sampled_from(FLAGS), max_size=3),
    reviewer=st.sampled_from([None, CASEWORKER, MANAGER, "staff-02"]),
    review=st.sampled_from([None, "SR-2026-0042"]),
)
def test_a_disclosure_about_a_flagged_person_needs_what_purpose_and_agreement_require(
    purpose_care: list[CareRequirement],
    agreement_care: list[CareRequirement],
    flags: set[str],
    reviewer: Actor | str | None,
    review: str | None,
) -> None:
    log = setup(purpose_care, flags)
    reports = Reports()
    purposeful.configure(sinks=[reports])
    under = agreement(*agreement_care)
    needs = needs_for([*purpose_care, *agreement_care], flags)
    reviewer_id = reviewer.id if isinstance(reviewer, Actor) else reviewer
    expected = []
    if CareNeed.SECOND_REVIEWER in needs and reviewer_id in (None, CASEWORKER.id):
        expected.append("second-reviewer-needed")
    if CareNeed.SAFETY_REVIEW in needs and review is None:
        expected.append("safety-review-needed")
    record = CareReferral("C-1", "R-1", "Mere Tipene", "021 555 0199")
    if expected:
        with pytest.raises(DisclosureRefused) as refused:
            disclose(record, to=PARTNER, under=under, actor=CASEWORKER,
                     second_reviewer=reviewer, safety_review=review)  # fmt: skip
        assert refused.value.reasons == tuple(expected)
        message = str(refused.value)
        assert "needs more care" in message
        assert "C-1" not in message
        assert "Mere" not in message
        assert not any(str(flag) in message for flag in FLAGS)
        assert log.for_subject("C-1") == []
        return
    sent = disclose(record, to=PARTNER, under=under, actor=CASEWORKER,
                    second_reviewer=reviewer, safety_review=review)  # fmt: skip
    assert dict(sent) == {"name": "Mere Tipene"}
    (audited,) = [d for r in reports.reports for d in r.disclosures]
    if needs:
        assert audited["purposeful.disclosure.care.needs"] == sorted(n.value for n in needs)
    else:
        assert not any(key.startswith("purposeful.disclosure.care") for key in audited)
    if CareNeed.SECOND_REVIEWER in needs:
        assert audited["purposeful.disclosure.care.second_reviewer"] == reviewer_id
    if CareNeed.SAFETY_REVIEW in needs:
        assert audited["purposeful.disclosure.care.safety_review"] == review
    assert not any(str(flag) in repr(audited) for flag in FLAGS)


def test_a_representatives_consent_required_by_an_agreement_is_checked_at_disclosure() -> None:
    setup((), {CareFlag.CHILD_OR_YOUNG_PERSON})
    consent = MemoryConsentStore()
    purposeful.configure(consent=consent)
    under = agreement(CareRequirement(["child-or-young-person"], ["representative-consent"]))
    record = CareReferral("C-1", "R-1", "Manaia", "021 555 0100")
    consent.give("C-1", REFERRAL)  # by himself
    with pytest.raises(DisclosureRefused) as refused:
        disclose(record, to=PARTNER, under=under, actor=CASEWORKER)
    assert refused.value.reasons == ("representative-consent-needed",)
    consent.give(
        "C-1", REFERRAL,
        by=Representative(Relationship.PARENT, evidence="intake/1", verified_by="staff-07",
                          verified_at=datetime(2026, 1, 1, tzinfo=UTC)),
    )  # fmt: skip
    assert dict(disclose(record, to=PARTNER, under=under, actor=CASEWORKER)) == {"name": "Manaia"}


def test_a_failing_flag_source_refuses_the_disclosure() -> None:
    class Broken:
        def care_flags(self, subjects: Sequence[str]) -> Mapping[str, Collection[str]]:
            raise TimeoutError

    setup((), ())
    purposeful.configure(care_flags=Broken())
    under = agreement(CareRequirement(["family-violence-safety"], ["safety-review"]))
    with pytest.raises(DisclosureRefused) as refused:
        disclose(CareReferral("C-1", "R-1", "x", "y"), to=PARTNER, under=under, actor=CASEWORKER)
    assert refused.value.reasons == ("care-flags-unavailable",)


def test_an_unflagged_person_needs_nothing_more() -> None:
    setup([CareRequirement(list(FLAGS), list(CareNeed))], ())
    under = agreement(CareRequirement(list(FLAGS), list(CareNeed)))
    sent = disclose(
        CareReferral("C-1", "R-1", "Aroha", "021"), to=PARTNER, under=under, actor=CASEWORKER
    )
    assert dict(sent) == {"name": "Aroha"}


@pytest.mark.parametrize("review", ["a free text review", "", 42])
def test_a_safety_review_that_is_not_a_reference_is_refused(review: object) -> None:
    setup((), ())
    with pytest.raises(ConfigurationError, match="reference to the recorded review"):
        disclose(CareReferral("C-1", "R-1", "x", "y"), to=PARTNER, under=agreement(),
                 actor=CASEWORKER, safety_review=review)  # type: ignore[arg-type]  # fmt: skip


def test_agreements_load_their_care_requirements_from_toml(tmp_path: object) -> None:
    from pathlib import Path

    text = """
[[agreement]]
id = "fv-referrals"
name = "Family violence referrals"
parties = ["Te Whare Āwhina", "Kāinga Ora"]
purposes = ["service-delivery.referral"]
basis = "directly-related-purpose"
starts = 2026-01-01
expires = 2030-12-31
review = 2028-01-01
fields = ["CareReferral.name"]
care = [{ flags = ["family-violence-safety"], needs = ["safety-review", "second-reviewer"] }]
"""
    path = Path(str(tmp_path)) / "agreements.toml"
    path.write_text(text, encoding="utf-8")
    (loaded,) = load_agreements(path)
    assert loaded.care == (
        CareRequirement(["family-violence-safety"], ["safety-review", "second-reviewer"]),
    )
    path.write_text(
        text.replace('needs = ["safety-review", "second-reviewer"]', 'needs = ["x"]'),
        encoding="utf-8",
    )
    with pytest.raises(RegistryFileError, match=r"agreements\.toml"):
        load_agreements(path)
    with pytest.raises(ConfigurationError, match="CareRequirement"):
        agreement("not a requirement")  # type: ignore[arg-type]
    assert AgreementError


def test_asking_before_sharing_says_what_a_flagged_person_would_also_need() -> None:
    from purposeful import may_share

    setup((), {"family-violence-safety"})
    under = agreement(CareRequirement(["family-violence-safety"], ["safety-review"]))
    for_anyone = may_share(CareReferral, "name", agreement=under, party=PARTNER, actor=CASEWORKER)
    assert "for people flagged family-violence-safety: a safety review" in for_anyone.explanation
    about = may_share(
        CareReferral, "name", agreement=under, party=PARTNER, actor=CASEWORKER, subject="C-1"
    )
    assert "This person needs more care: a disclosure also needs a safety review" in (
        about.explanation
    )
    assert "family-violence" not in about.explanation
    assert "C-1" not in about.explanation
    purposeful.configure(care_flags=Flags({}))
    unflagged = may_share(
        CareReferral, "name", agreement=under, party=PARTNER, actor=CASEWORKER, subject="C-1"
    )
    assert "needs more care" not in unflagged.explanation


def test_a_purposes_representative_requirement_holds_on_the_fields_that_need_consent() -> None:
    setup(
        [CareRequirement(["child-or-young-person"], ["representative-consent"])],
        {"child-or-young-person"},
    )
    consent = MemoryConsentStore()
    purposeful.configure(consent=consent)
    consent.give("C-1", REFERRAL)  # by the child: not enough for the consent-based field
    under = agreement(fields=("CareReferral.name", "CareReferral.phone"))
    sent = disclose(
        CareReferral("C-1", "R-1", "Manaia", "021"), to=PARTNER, under=under, actor=CASEWORKER
    )
    assert dict(sent) == {"name": "Manaia"}  # name rests on a directly related purpose
    assert "phone" in sent.left_out


def test_the_needs_met_reach_the_span_and_the_ledger_which_verifies_and_reports(
    tmp_path: Path,
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from purposeful.audit import Ledger, PseudonymKey, SpanSink, verify_ledger
    from purposeful.audit.report import build_report

    setup((), {"family-violence-safety"})
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    signing_key = Ed25519PrivateKey.generate()
    under = agreement(
        CareRequirement(["family-violence-safety"], ["safety-review", "second-reviewer"])
    )
    with Ledger(tmp_path / "audit.jsonl", signing_key=signing_key) as ledger:
        key = PseudonymKey.generate()
        purposeful.configure(pseudonymise=key.pseudonym, sinks=[SpanSink(provider), ledger])
        disclose(
            CareReferral("C-1", "R-1", "Mere", "021"), to=PARTNER, under=under,
            actor=CASEWORKER, second_reviewer=MANAGER, safety_review="SR-2026-0042",
        )  # fmt: skip
        purposeful.configure(sinks=[])
    [event] = [
        e
        for s in exporter.get_finished_spans()
        for e in s.events
        if e.name == "purposeful.disclosure"
    ]
    attributes = dict(event.attributes or {})
    assert attributes["purposeful.disclosure.care.needs"] == ("safety-review", "second-reviewer")
    assert attributes["purposeful.disclosure.care.second_reviewer"] == "staff-02"
    assert attributes["purposeful.disclosure.care.safety_review"] == "SR-2026-0042"
    text = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert '"purposeful.disclosure.care.second_reviewer": "staff-02"' in text or (
        '"purposeful.disclosure.care.second_reviewer":"staff-02"' in text
    )
    assert "family-violence" not in text
    assert "C-1" not in text
    assert verify_ledger(tmp_path / "audit.jsonl", signing_key.public_key()).ok
    report = build_report(ledgers=[tmp_path / "audit.jsonl"])
    assert [row.disclosures for row in report.disclosures] == [1]
    provider.shutdown()
