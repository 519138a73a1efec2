"""Red-team findings against consent at speed: the cache across scopes and prefetch.

Each pins a finding that was fixed, or what held under attack.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

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


class _UnhashableStamp(VersionedChecker):
    def consent_version(self) -> list[int]:  # type: ignore[override]
        return [self.version]


def test_an_unhashable_stamp_is_a_configuration_error() -> None:
    record = BreakConsentCase("C-BRK-9", "private notes", "Waikato")
    with (
        purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER, consent=_UnhashableStamp(True)),
        pytest.raises((purposeful.errors.ConfigurationError, purposeful.PurposeViolation)),
    ):
        _ = record.case_notes


class _FailingSnapshot(VersionedChecker):
    def consent_statuses_steady(
        self, subjects: Collection[str], purpose: Purpose, at: datetime
    ) -> Mapping[str, tuple[ConsentStatus, datetime | None, datetime | None]]:
        raise RuntimeError("the consent service is down")


def test_a_failing_checker_is_never_answered_from_another_checkers_cache() -> None:
    record = BreakConsentCase("C-BRK-10", "private notes", "Waikato")
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER, consent=VersionedChecker(True)):
        assert record.case_notes == "private notes"
    with (
        purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER, consent=_FailingSnapshot(True)),
        pytest.raises(purposeful.PurposeViolation) as refusal,
    ):
        _ = record.case_notes
    assert refusal.value.decision.reason_codes == ("consent-check-failed",)


def test_prefetch_of_hostile_input_changes_no_decision_and_logs_no_subject(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Held: non-records are skipped, a failing checker refuses (logged without subjects),
    and an iterable that raises mid-way raises its own error, nothing cached from it."""
    records = [BreakConsentCase(f"C-BRK-SECRET-{n}", "private notes", "Waikato") for n in range(3)]

    def raising() -> Any:
        yield records[0]
        raise ValueError("the caller's own error")

    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER, consent=_FailingSnapshot(True)) as scope:
        scope.prefetch_consent([1, "C-BRK-SECRET-x", None, object(), BreakConsentCase, {}])
        with pytest.raises(ValueError, match="the caller's own error"):
            scope.prefetch_consent(raising())
        scope.prefetch_consent(records * 2_000)
        with pytest.raises(purposeful.PurposeViolation) as refusal:
            _ = records[1].case_notes
    assert refusal.value.decision.reason_codes == ("consent-check-failed",)
    assert "C-BRK-SECRET" not in caplog.text
    assert "C-BRK-SECRET" not in str(refusal.value)
    assert len(CACHE) == 0


class _UnreachableStore(VersionedChecker):
    """A store whose server does not answer: its stamp is `StoreUnavailable` after its
    timeout, and so would its answers be."""

    def consent_version(self) -> int:
        raise purposeful.errors.StoreUnavailable("the consent store's server did not answer")


def test_a_store_that_cannot_be_reached_is_waited_on_once_per_scope_not_twice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    records = [BreakConsentCase(f"C-BRK-{n}", "private notes", "Waikato") for n in range(3)]
    checker = _UnreachableStore(True)
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER, consent=checker) as scope:
        scope.prefetch_consent(records)
        for record in records:
            with pytest.raises(purposeful.PurposeViolation) as refusal:
                _ = record.case_notes
            assert refusal.value.decision.reason_codes == ("consent-check-failed",)
        assert record.region == "Waikato"  # a field that needs no consent is read
    assert checker.asked == 0  # the answers were not asked for: a second wait
    assert "StoreUnavailable" in caplog.text
    assert "C-BRK" not in caplog.text
