"""Red team 2: a bundle that holds information marked for safety review without a review
that covers it, or a review recorded without the reviewer's audited read."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "access"))

import attrs
import pytest
from _bundles import CHECKED, RECEIVED, SUBJECT, build_bundle, subject_access

import purposeful
from purposeful import FAMILY_VIOLENCE_ACT_S20, RESTRICTED, Actor, Statute
from purposeful.access import AccessRequest, NeedsReview, SafetyReview
from purposeful.access.release import review_digest
from purposeful.errors import ConfigurationError, ReviewPending

REVIEW = "access.safety-review"
REVIEW_BASIS = Statute("Privacy Act 2020", "57")
REQUEST = AccessRequest("SAR-2026-0042", SUBJECT, RECEIVED, **CHECKED)


@purposeful.record(subject="client_id", key="assessment_id")
class Red2Assessment:
    client_id: str
    assessment_id: str
    risk_flag: str | None = purposeful.field(
        purposes={"care-and-protection": FAMILY_VIOLENCE_ACT_S20, REVIEW: REVIEW_BASIS},
        sensitivity=RESTRICTED,
        category="family-violence",
        default=None,
    )


def test_red2_a_review_needs_the_reviewers_audited_read(tmp_path: Path) -> None:
    # nobody read anything: the digest a review must match is public and keyless, so a
    # "review" can be made from the records themselves, by anyone, with any name on it
    flagged = Red2Assessment(SUBJECT, "A-1", "RISK-high-former-partner")
    access = subject_access(
        ("assessments", lambda subject: iter([flagged])),
        safety_review=[NeedsReview(Red2Assessment)],
    )
    forged = SafetyReview(
        by="staff-0009",
        covers=review_digest(
            b"a guess at the secret",
            REQUEST.request_id,
            "staff-0009",
            [
                (
                    "Red2Assessment",
                    "A-1",
                    {
                        "client_id": SUBJECT,
                        "assessment_id": "A-1",
                        "risk_flag": "RISK-high-former-partner",
                    },
                )
            ],
        ),
    )
    with pytest.raises(ReviewPending):
        build_bundle(tmp_path / "b.zip", access, request=attrs.evolve(REQUEST, review=forged))


def test_red2_a_review_is_decided_by_the_reviewer_who_read_it(tmp_path: Path) -> None:
    flagged = Red2Assessment(SUBJECT, "A-1", "RISK-high-former-partner")
    access = subject_access(
        ("assessments", lambda subject: iter([flagged])),
        safety_review=[NeedsReview(Red2Assessment)],
    )
    reviewer = Actor("staff-0009", "privacy-officer", RESTRICTED)
    sheet = access.review(REQUEST, reviewer=reviewer)
    # the decision names someone other than the audited reader (a junior, say)
    try:
        decision = sheet.decide(by="staff-0500")
    except ConfigurationError:
        return  # held: only the reader can decide
    with pytest.raises(ReviewPending):
        build_bundle(tmp_path / "b.zip", access, request=attrs.evolve(REQUEST, review=decision))
