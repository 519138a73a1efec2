"""Before release: who asked and the s 57 checks are recorded, or the bundle is a draft; and
information marked for safety review stops every build until a named reviewer, reading it
under the review purpose (audited), has decided. What the reviewer withholds is in no byte
of the bundle.

Markers: every value of a reviewed field carries ``RISK-`` or ``PLAN-``, so finding one in a
member means it went out.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from _bundles import (
    CASE_MANAGEMENT,
    CHECKED,
    RECEIVED,
    SERVICE_AGREEMENT,
    SUBJECT,
    build_bundle,
    members,
    note,
    records_source,
    subject_access,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import FAMILY_VIOLENCE_ACT_S20, IN_CONFIDENCE, RESTRICTED, Actor, Statute
from purposeful.access import (
    AccessRequest,
    Authorisation,
    Check,
    NeedsReview,
    Requester,
    SafetyReview,
    Withhold,
)
from purposeful.decisions import ScopeReport
from purposeful.errors import (
    ConfigurationError,
    PurposeViolation,
    ReleaseChecksMissing,
    ReviewPending,
    SubjectAccessError,
)
from purposeful.withholding import (
    AGAINST_INTERESTS_OF_CHILD,
    ANOTHER_PERSONS_AFFAIRS,
    EVALUATIVE_MATERIAL,
    PROTECTION_OF_INDIVIDUAL,
    SERIOUS_HARM_TO_HEALTH,
    WithholdingGround,
)

REVIEW = "access.safety-review"
REVIEW_BASIS = Statute("Privacy Act 2020", "57")
REVIEWER = Actor("staff-0009", "privacy-officer", RESTRICTED)


@purposeful.record(subject="client_id", key="assessment_id")
class RiskAssessment:
    """A family-violence risk assessment: its flag and plan are for review before release."""

    client_id: str
    assessment_id: str
    risk_flag: str | None = purposeful.field(
        purposes={"care-and-protection": FAMILY_VIOLENCE_ACT_S20, REVIEW: REVIEW_BASIS},
        sensitivity=RESTRICTED,
        category="family-violence",
        default=None,
    )
    safety_plan: str | None = purposeful.field(
        purposes={"care-and-protection": FAMILY_VIOLENCE_ACT_S20, REVIEW: REVIEW_BASIS},
        sensitivity=RESTRICTED,
        default=None,
    )
    summary: str = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT, REVIEW: REVIEW_BASIS}, default=""
    )


@purposeful.record(subject="client_id", key="plan_id")
class UndeclaredPlan:
    """A record whose field does not declare the review purpose."""

    client_id: str
    plan_id: str
    steps: str = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, default="")


def assessment(number: int, *, flag: bool = True) -> RiskAssessment:
    return RiskAssessment(
        SUBJECT,
        f"A-{number}",
        f"RISK-high-{number}" if flag else None,
        f"PLAN-stay-with-sister-{number}",
        f"Assessment {number} completed.",
    )


def assessments(*numbers: int, **options: Any) -> tuple[str, Any]:
    found = [assessment(number, **options) for number in numbers]
    return ("assessments", lambda subject: iter(found))


class Reports:
    """An audit sink keeping each scope report."""

    def __init__(self) -> None:
        self.reports: list[ScopeReport] = []

    def emit(self, report: ScopeReport) -> None:
        self.reports.append(report)


@pytest.fixture
def reports() -> Iterator[Reports]:
    sink = Reports()
    purposeful.configure(sinks=[sink])
    yield sink
    purposeful.reset_configuration()


def test_a_bundle_for_release_names_each_missing_s57_check_and_writes_nothing(
    tmp_path: Path,
) -> None:
    request = AccessRequest("SAR-1", SUBJECT, RECEIVED, requester=Requester.person())
    with pytest.raises(ReleaseChecksMissing) as raised:
        build_bundle(tmp_path / "bundle.zip", request=request)
    assert raised.value.missing == ("identity", "no_threat", "delivery")
    message = str(raised.value)
    assert "s 57" in message
    assert "draft=True" in message
    assert SUBJECT not in message
    assert not (tmp_path / "bundle.zip").exists()
    assert isinstance(raised.value, SubjectAccessError)


@pytest.mark.parametrize("name", ["requester", "identity", "no_threat", "delivery"])
def test_each_s57_record_is_needed_on_its_own(tmp_path: Path, name: str) -> None:
    request = AccessRequest("SAR-1", SUBJECT, RECEIVED, **{**CHECKED, name: None})
    with pytest.raises(ReleaseChecksMissing) as raised:
        build_bundle(tmp_path / "bundle.zip", request=request)
    assert raised.value.missing == (name,)
    assert f"{name}:" in str(raised.value)
    assert not (tmp_path / "bundle.zip").exists()


def test_a_draft_needs_no_checks_and_says_so_in_the_manifest_and_on_the_page(
    tmp_path: Path,
) -> None:
    request = AccessRequest("SAR-1", SUBJECT, RECEIVED)
    info = build_bundle(tmp_path / "draft.zip", request=request, draft=True)
    assert info.draft
    contents = members(info.path)
    manifest = contents["manifest.json"].decode()
    assert '"draft": true' in manifest
    assert '"requester": null' in manifest
    page = contents["index.html"].decode()
    assert "DRAFT: this is a draft for our own review" in page
    assert "<h1>Draft: Your information held by" in page


def test_the_manifest_and_page_say_who_asked_and_which_checks_without_references(
    tmp_path: Path,
) -> None:
    agent = Requester.agent_for(Authorisation.WRITTEN_AUTHORITY, authority="AUTH-2026-77")
    request = AccessRequest("SAR-1", SUBJECT, RECEIVED, **{**CHECKED, "requester": agent})
    contents = members(build_bundle(tmp_path / "bundle.zip", request=request).path)
    manifest = contents["manifest.json"].decode()
    assert '"kind": "agent"' in manifest
    assert '"authorisation": "written-authority"' in manifest
    assert '"identity",' in manifest
    everything = b"".join(contents.values())
    for reference in (b"AUTH-2026-77", b"staff-7", b"IDV-0042", b"photo-id-sighted"):
        assert reference not in everything
    assert "<dd>Someone acting for you</dd>" in contents["index.html"].decode()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Requester(agent=True),
        lambda: Requester.agent_for(Authorisation.OTHER, authority="has spaces"),
        lambda: Requester.agent_for("written-authority", authority="A-1"),  # type: ignore[arg-type]
        lambda: Requester(authority="A-1"),
        lambda: Check(by="Aroha Smith", how="photo-id"),
        lambda: Check(by="staff-7", how=""),
        lambda: Check(by="staff-7", how="x", evidence="x" * 101),
        lambda: Check.parse("staff-7"),
        lambda: Requester.parse("agent:unknown:REF"),
        lambda: AccessRequest("R", SUBJECT, RECEIVED, identity="staff-7"),  # type: ignore[arg-type]
    ],
)
def test_who_asked_and_the_checks_take_references_only(make: Any) -> None:
    with pytest.raises(ConfigurationError):
        make()


@given(st.text(max_size=40))
def test_parsing_a_check_or_a_requester_raises_only_typed_errors(text: str) -> None:
    for parse in (Check.parse, Requester.parse):
        with contextlib.suppress(ConfigurationError):
            parse(text)


def test_marking_a_field_that_does_not_declare_the_review_purpose_is_an_error_at_setup() -> None:
    with pytest.raises(ConfigurationError) as raised:
        subject_access(safety_review=[NeedsReview(UndeclaredPlan)])
    assert "UndeclaredPlan.steps" in str(raised.value)
    assert "'access.safety-review'" in str(raised.value)
    with pytest.raises(ConfigurationError):
        NeedsReview(RiskAssessment, "no_such_field")
    with pytest.raises(ConfigurationError):
        NeedsReview(dict)
    with pytest.raises(ConfigurationError):
        subject_access(safety_review=[RiskAssessment])  # type: ignore[list-item]


def test_a_bundle_waits_for_review_naming_types_and_fields_never_values(tmp_path: Path) -> None:
    access = subject_access(
        assessments(1, 2), safety_review=[NeedsReview(RiskAssessment, "risk_flag")]
    )
    for draft in (False, True):
        with pytest.raises(ReviewPending) as raised:
            build_bundle(tmp_path / "bundle.zip", access, draft=draft)
        assert raised.value.marked == ("RiskAssessment.risk_flag",)
        assert "RISK-" not in str(raised.value)
        assert SUBJECT not in str(raised.value)
        assert not (tmp_path / "bundle.zip").exists()


def test_a_person_with_nothing_marked_needs_no_review(tmp_path: Path) -> None:
    access = subject_access(
        assessments(1, 2, flag=False), safety_review=[NeedsReview(RiskAssessment, "risk_flag")]
    )
    info = build_bundle(tmp_path / "bundle.zip", access)
    assert info.records == {"RiskAssessment": 2}


def test_the_reviewers_read_is_audited_under_the_review_purpose(
    tmp_path: Path, reports: Reports
) -> None:
    access = subject_access(
        assessments(1, 2), safety_review=[NeedsReview(RiskAssessment, "risk_flag")]
    )
    sheet = access.review(REQUEST_CHECKED, reviewer=REVIEWER)
    assert [item.values["risk_flag"] for item in sheet.items] == ["RISK-high-1", "RISK-high-2"]
    assert "RISK" not in repr(sheet)
    assert SUBJECT not in repr(sheet.items)
    (report,) = reports.reports
    assert report.purpose.id == REVIEW
    assert report.actor == REVIEWER
    assert [(d.field, d.outcome.value) for d in report.decisions] == [("risk_flag", "allowed")]
    assert report.subject_count == 1


def test_a_reviewer_without_clearance_is_refused_as_any_reader_is() -> None:
    access = subject_access(assessments(1), safety_review=[NeedsReview(RiskAssessment)])
    with pytest.raises(PurposeViolation):
        access.review(REQUEST_CHECKED, reviewer=Actor("staff-1", "caseworker", IN_CONFIDENCE))
    with pytest.raises(ConfigurationError):
        access.review(REQUEST_CHECKED, reviewer="staff-0009")  # type: ignore[arg-type]


def test_a_recorded_review_releases_what_it_does_not_withhold(tmp_path: Path) -> None:
    access = subject_access(
        assessments(1, 2), safety_review=[NeedsReview(RiskAssessment, "risk_flag")]
    )
    sheet = access.review(REQUEST_CHECKED, reviewer=REVIEWER)
    decision = sheet.decide(
        by="staff-0009",
        withhold=[Withhold(RiskAssessment, PROTECTION_OF_INDIVIDUAL, key="A-2", field="risk_flag")],
    )
    request = attrs.evolve(REQUEST_CHECKED, review=decision)
    info = build_bundle(tmp_path / "b.zip", access, request=request)
    everything = b"".join(members(info.path).values())
    assert b"RISK-high-1" in everything
    assert b"RISK-high-2" not in everything
    assert b"Privacy Act 2020 s 49(1)(a)" in everything
    assert decision.covers.encode() not in everything


def test_information_added_after_the_review_waits_for_a_new_one(tmp_path: Path) -> None:
    found = [assessment(1)]
    access = subject_access(
        ("assessments", lambda subject: iter(found)),
        safety_review=[NeedsReview(RiskAssessment, "risk_flag")],
    )
    decision = access.review(REQUEST_CHECKED, reviewer=REVIEWER).decide(by="staff-0009")
    request = attrs.evolve(REQUEST_CHECKED, review=decision)
    found.append(assessment(2))
    with pytest.raises(ReviewPending, match="changed since it was reviewed"):
        build_bundle(tmp_path / "b.zip", access, request=request)
    found[:] = [RiskAssessment(SUBJECT, "A-1", "RISK-edited", "PLAN-stay-with-sister-1")]
    with pytest.raises(ReviewPending, match="changed since it was reviewed"):
        build_bundle(tmp_path / "b.zip", access, request=request)
    assert not (tmp_path / "b.zip").exists()
    found[:] = [assessment(1)]
    assert build_bundle(tmp_path / "b.zip", access, request=request).records


@pytest.mark.parametrize(
    "ground",
    [
        PROTECTION_OF_INDIVIDUAL,
        SERIOUS_HARM_TO_HEALTH,
        AGAINST_INTERESTS_OF_CHILD,
        ANOTHER_PERSONS_AFFAIRS,
        WithholdingGround("harassment", "s 49(1)(a)(ii)", "Someone could be harassed."),
    ],
)
def test_a_review_withholds_on_the_safety_grounds(ground: WithholdingGround) -> None:
    SafetyReview("staff-9", "digest", [Withhold(RiskAssessment, ground, field="risk_flag")])


@pytest.mark.parametrize(
    "ground",
    [
        EVALUATIVE_MATERIAL,
        WithholdingGround("other-act", "s 49(1)(a)", "x", act="Another Act 1990"),
        WithholdingGround("near-miss", "s 49(1)(ab)", "x"),
    ],
)
def test_a_review_refuses_other_grounds(ground: WithholdingGround) -> None:
    with pytest.raises(ConfigurationError, match="safety review"):
        SafetyReview("staff-9", "digest", [Withhold(RiskAssessment, ground, field="risk_flag")])
    with pytest.raises(ConfigurationError):
        SafetyReview("staff-9", "digest", ["withhold it"])


REQUEST_CHECKED = AccessRequest("SAR-2026-0042", SUBJECT, RECEIVED, **CHECKED)

MARKS = {
    "risk_flag": NeedsReview(RiskAssessment, "risk_flag"),
    "safety_plan": NeedsReview(RiskAssessment, "safety_plan"),
    "whole": NeedsReview(RiskAssessment),
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    marked=st.sets(st.sampled_from(sorted(MARKS)), min_size=1),
    numbers=st.lists(st.integers(1, 9), min_size=1, max_size=4, unique=True),
    withhold_plan=st.booleans(),
)
def test_what_a_review_withholds_is_in_no_byte_of_the_bundle(
    marked: set[str], numbers: list[int], withhold_plan: bool
) -> None:
    access = subject_access(
        ("case-management", lambda subject: iter([note(1)])),
        assessments(*numbers),
        safety_review=[MARKS[name] for name in sorted(marked)],
    )
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "bundle.zip"
        with pytest.raises(ReviewPending) as raised:
            build_bundle(target, access)
        expected = (
            {"RiskAssessment"}
            if "whole" in marked
            else {f"RiskAssessment.{name}" for name in marked}
        )
        assert set(raised.value.marked) == expected
        assert not target.exists()
        sheet = access.review(REQUEST_CHECKED, reviewer=REVIEWER)
        if "whole" in marked:
            withheld = [
                Withhold(RiskAssessment, PROTECTION_OF_INDIVIDUAL, key=f"A-{n}") for n in numbers
            ]
        else:
            withheld = [
                Withhold(RiskAssessment, PROTECTION_OF_INDIVIDUAL, field=name)
                for name in sorted(marked)
                if name == "risk_flag" or withhold_plan
            ]
        request = attrs.evolve(
            REQUEST_CHECKED, review=sheet.decide(by="staff-0009", withhold=withheld)
        )
        everything = b"".join(members(build_bundle(target, access, request=request).path).values())
    released_risk = "whole" not in marked and "risk_flag" not in marked
    released_plan = "whole" not in marked and ("safety_plan" not in marked or not withhold_plan)
    for n in numbers:
        assert (f"RISK-high-{n}".encode() in everything) is released_risk
        assert (f"PLAN-stay-with-sister-{n}".encode() in everything) is released_plan
    assert b"Met at home, visit 1." in everything  # what was not marked went out


def test_records_of_another_person_stop_the_review_too() -> None:
    access = subject_access(
        records_source(RiskAssessment("someone-else", "A-1", "RISK-high-1")),
        safety_review=[NeedsReview(RiskAssessment)],
    )
    with pytest.raises(SubjectAccessError, match="someone other than the person"):
        access.review(REQUEST_CHECKED, reviewer=REVIEWER)
