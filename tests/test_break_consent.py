"""Red-team findings against consent at speed: the cache across scopes and prefetch.

A test marked ``xfail(strict=True)`` records a finding not fixed yet (its reason says what
breaks); the others pin what held under attack.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

import pytest

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, SERVICE_AGREEMENT
from purposeful import CONSENT, ConsentStatus, Purpose
from purposeful._consent import CACHE


@purposeful.record(subject="client_id")
class BreakConsentCase:
    client_id: str
    case_notes: str = purposeful.field(purposes={CASE_MANAGEMENT: CONSENT}, category="case-notes")
    region: str = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})


class VersionedChecker:
    """A checker implementing the documented `ConsentSnapshotSource`: its stamp is a counter
    of its own (a consent service's version number), as the protocol allows: "equal stamps
    of one checker mean nothing was recorded in between"."""

    def __init__(self, in_force: bool) -> None:
        self.in_force = in_force
        self.version = 1
        self.asked = 0

    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        return self.consent_status(subject, purpose, at).in_force

    def consent_status(self, subject: str, purpose: Purpose, at: datetime) -> ConsentStatus:
        self.asked += 1
        return ConsentStatus(self.in_force)

    def consent_version(self) -> int:
        return self.version

    def consent_statuses_steady(
        self, subjects: Collection[str], purpose: Purpose, at: datetime
    ) -> Mapping[str, tuple[ConsentStatus, datetime | None, datetime | None]]:
        self.asked += 1
        return {s: (ConsentStatus(self.in_force), None, None) for s in subjects}


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    CACHE.clear()


@pytest.mark.xfail(
    strict=True,
    reason="FINDING: the cache across scopes is keyed by (stamp, purpose, subject), not by "
    "checker: a second checker whose stamp equals the first's (two agencies' consent "
    "services, a per-scope `use(consent=...)`) is answered with the first checker's answers, "
    "so a person who never consented in the second is read as consented",
)
def test_the_cache_never_answers_for_another_checker_with_an_equal_stamp() -> None:
    record = BreakConsentCase("C-BRK-7", "private notes", "Waikato")
    consented, refused = VersionedChecker(True), VersionedChecker(False)
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER, consent=consented):
        assert record.case_notes == "private notes"
    with (
        purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER, consent=refused),
        pytest.raises(purposeful.PurposeViolation) as refusal,
    ):
        _ = record.case_notes
    assert refusal.value.decision.reason_codes == ("consent-not-held",)
    assert refused.asked == 1


def test_the_cache_under_one_checker_honours_its_new_stamp() -> None:
    """The same checker, its stamp moved on (a withdrawal recorded): the next scope asks."""
    record = BreakConsentCase("C-BRK-8", "private notes", "Waikato")
    checker = VersionedChecker(True)
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER, consent=checker):
        assert record.case_notes == "private notes"
    checker.in_force, checker.version = False, 2
    with (
        purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER, consent=checker),
        pytest.raises(purposeful.PurposeViolation),
    ):
        _ = record.case_notes
