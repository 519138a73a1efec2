"""Consent stores wired into enforcement: a field that needs consent, read through scopes.

Each test runs on every backend (`store`) and, where the wiring matters, both with the store
configured globally and with it given to one scope (``use(..., consent=store)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, Case, Household, NeverConsent, RecordingSink
from purposeful import (
    ConsentState,
    ConsentStatus,
    Mode,
    Outcome,
    Purpose,
    PurposefulError,
    PurposeViolation,
    Reason,
    use,
)
from purposeful.consent import Agency, BaseConsentStore, Relationship, Representative

SUBJECT = "client-5K2W-private"
OTHER = "client-6L3X-private"
VALUE = "disclosed at home visit 7Z"
REFERRAL = "service-delivery.referral"
MICROSECOND = timedelta(microseconds=1)
GUARDIAN = Representative(
    Relationship.WELFARE_GUARDIAN,
    evidence="FAM-2023-485-000777",
    verified_by="staff-0311",
    verified_at=datetime(2024, 1, 2, tzinfo=UTC),
)
GIVEN_AT = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
ENDED_AT = datetime(
    2025, 3, 5, 14, 0, tzinfo=UTC
)  # 6 March in New Zealand, where explanations are dated

Opener = Callable[[str], use]


@pytest.fixture(params=["configured", "per-scope"])
def under(request: pytest.FixtureRequest, store: BaseConsentStore) -> Opener:
    """Opens a scope whose consent checker is *store*, wired one way or the other."""
    if request.param == "configured":
        purposeful.configure(consent=store)
        return lambda purpose: use(purpose, actor=CASEWORKER)
    purposeful.configure(consent=NeverConsent())  # the scope's own store must win
    return lambda purpose: use(purpose, actor=CASEWORKER, consent=store)


def notes(subject: str | None = SUBJECT) -> Case:
    """A case whose ``case_notes`` needs consent for case management."""
    return Case(subject, "generalised anxiety", "12 Cuba Street", VALUE)


def refusal_of(read: Callable[[], object]) -> PurposeViolation:
    with pytest.raises(PurposeViolation) as raised:
        read()
    return raised.value


def assert_safe(refusal: PurposeViolation) -> None:
    """Neither the subject nor the value appears anywhere a refusal is shown or logged."""
    decision = refusal.decision
    for text in (str(refusal), decision.explain(), decision.message(), repr(decision)):
        assert SUBJECT not in text
        assert VALUE not in text


# --- readable only while consent is in force ---


def test_a_field_needing_consent_is_readable_while_consent_for_its_purpose_is_in_force(
    store: BaseConsentStore, under: Opener
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    with under(CASE_MANAGEMENT) as scope:
        assert notes().case_notes == VALUE
    (decision,) = scope.decisions
    assert decision.outcome is Outcome.ALLOWED
    assert decision.consent == ConsentStatus(True, ConsentState.GIVEN, CASE_MANAGEMENT, GIVEN_AT)


def test_consent_to_an_ancestor_purpose_makes_the_field_readable(
    store: BaseConsentStore, under: Opener
) -> None:
    store.give(SUBJECT, "service-delivery", at=GIVEN_AT)
    with under(CASE_MANAGEMENT) as scope:
        assert notes().case_notes == VALUE
    assert scope.decisions[0].consent is not None
    assert scope.decisions[0].consent.purpose == "service-delivery"


def test_with_nothing_recorded_the_field_is_refused_and_the_refusal_says_so(
    store: BaseConsentStore, under: Opener
) -> None:
    with under(CASE_MANAGEMENT):
        refusal = refusal_of(lambda: notes().case_notes)
    assert refusal.decision.reasons == (Reason.CONSENT_NOT_HELD,)
    assert "no consent has been recorded" in refusal.decision.explain()
    assert_safe(refusal)


def test_consent_to_a_sibling_purpose_does_not_make_the_field_readable(
    store: BaseConsentStore, under: Opener
) -> None:
    store.give(SUBJECT, REFERRAL, at=GIVEN_AT)
    with under(CASE_MANAGEMENT):
        refusal = refusal_of(lambda: notes().case_notes)
    assert "no consent has been recorded" in refusal.decision.explain()


def test_one_subjects_consent_does_not_make_anothers_record_readable(
    store: BaseConsentStore, under: Opener
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    with under(CASE_MANAGEMENT):
        assert notes(SUBJECT).case_notes == VALUE
        refusal = refusal_of(lambda: notes(OTHER).case_notes)
        assert notes(SUBJECT).case_notes == VALUE
    assert OTHER not in str(refusal)


def test_a_representatives_consent_makes_the_field_readable(
    store: BaseConsentStore, under: Opener
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT, by=GUARDIAN)
    with under(CASE_MANAGEMENT):
        assert notes().case_notes == VALUE
    store.withdraw(SUBJECT, CASE_MANAGEMENT, at=ENDED_AT, by=GUARDIAN)
    with under(CASE_MANAGEMENT):
        refusal = refusal_of(lambda: notes().case_notes)
    assert "consent was withdrawn" in refusal.decision.explain()


def test_a_childs_withdrawal_refuses_the_child_purpose_but_not_the_parent(
    store: BaseConsentStore, under: Opener
) -> None:
    store.give(SUBJECT, "service-delivery", at=GIVEN_AT)
    store.withdraw(SUBJECT, REFERRAL, at=ENDED_AT)
    household = Household(SUBJECT, "two adults, three tamariki")
    with under("service-delivery"):
        assert household.members == "two adults, three tamariki"
    with under(REFERRAL):
        refusal = refusal_of(lambda: household.members)
    assert f"consent was withdrawn (for {REFERRAL})" in refusal.decision.explain()


# --- withdrawal and expiry take effect for the next scope ---


def test_after_a_withdrawal_the_next_scope_is_refused_while_an_open_scope_keeps_reading(
    store: BaseConsentStore, under: Opener
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    with under(CASE_MANAGEMENT) as open_scope:
        record = notes()
        assert record.case_notes == VALUE
        store.withdraw(SUBJECT, CASE_MANAGEMENT, at=open_scope.opened_at + MICROSECOND)
        assert record.case_notes == VALUE
        assert notes().case_notes == VALUE  # another record of the same person
    assert all(d.outcome is Outcome.ALLOWED for d in open_scope.decisions)
    with under(CASE_MANAGEMENT) as next_scope:
        refusal = refusal_of(lambda: record.case_notes)
    assert next_scope.opened_at > open_scope.opened_at
    assert refusal.decision.consent is not None
    assert refusal.decision.consent.state is ConsentState.WITHDRAWN
    assert "consent was withdrawn" in refusal.decision.explain()
    assert_safe(refusal)


def test_a_scope_opened_before_a_withdrawal_allows_even_its_first_read_after_it(
    store: BaseConsentStore, under: Opener
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    with under(CASE_MANAGEMENT) as scope:
        store.withdraw(SUBJECT, CASE_MANAGEMENT, at=scope.opened_at + MICROSECOND)
        assert notes().case_notes == VALUE


def test_a_withdrawal_recorded_with_the_current_time_refuses_the_next_scope(
    store: BaseConsentStore, under: Opener
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    store.withdraw(SUBJECT, CASE_MANAGEMENT)
    with under(CASE_MANAGEMENT):
        refusal = refusal_of(lambda: notes().case_notes)
    assert "consent was withdrawn" in refusal.decision.explain()


def test_expiry_refuses_scopes_opened_from_its_instant_and_not_before(
    store: BaseConsentStore,
) -> None:
    purposeful.configure(consent=store)
    expires = datetime.now(UTC) + timedelta(seconds=1)
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT, expires_at=expires)
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as before:
        time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.01)
        assert notes().case_notes == VALUE  # asked as of the opening, before the expiry
    assert before.opened_at < expires
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as after:
        refusal = refusal_of(lambda: notes().case_notes)
    assert after.opened_at >= expires
    assert refusal.decision.consent == ConsentStatus(
        False, ConsentState.EXPIRED, CASE_MANAGEMENT, expires
    )
    assert "consent expired" in refusal.decision.explain()


# --- the refusal says which consent is missing, or when it ended ---

ENDINGS: dict[str, tuple[Callable[[BaseConsentStore], object], str]] = {
    "withdrawn": (
        lambda s: s.withdraw(SUBJECT, CASE_MANAGEMENT, at=ENDED_AT),
        f"consent was withdrawn (for {CASE_MANAGEMENT}) on 6 March 2025",
    ),
    "refused": (
        lambda s: s.refuse(SUBJECT, CASE_MANAGEMENT, at=ENDED_AT),
        f"consent was refused (for {CASE_MANAGEMENT}) on 6 March 2025",
    ),
    "revoked": (
        lambda s: s.revoke(
            SUBJECT, CASE_MANAGEMENT, at=ENDED_AT, by=Agency("staff-0007", "no current notice")
        ),
        f"consent was revoked (for {CASE_MANAGEMENT}) on 6 March 2025",
    ),
    "expired": (
        lambda s: s.renew(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT, expires_at=ENDED_AT),
        f"consent expired (for {CASE_MANAGEMENT}) on 6 March 2025",
    ),
    "withdrawn for the parent": (
        lambda s: s.withdraw(SUBJECT, "service-delivery", at=ENDED_AT),
        "consent was withdrawn (for service-delivery) on 6 March 2025",
    ),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_the_refusal_says_which_consent_ended_and_when_without_the_subject_or_value(
    store: BaseConsentStore, under: Opener, ending: str
) -> None:
    end, words = ENDINGS[ending]
    if ending == "withdrawn for the parent":
        store.give(SUBJECT, "service-delivery", at=GIVEN_AT)
    else:
        store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    end(store)
    with under(CASE_MANAGEMENT):
        refusal = refusal_of(lambda: notes().case_notes)
    assert refusal.decision.reasons == (Reason.CONSENT_NOT_HELD,)
    assert words in refusal.decision.explain()
    assert words in str(refusal)
    assert_safe(refusal)


def test_refusals_reach_the_audit_sink_without_the_subject_or_value(
    store: BaseConsentStore, under: Opener, sink: RecordingSink
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    store.withdraw(SUBJECT, CASE_MANAGEMENT, at=ENDED_AT)
    with under(CASE_MANAGEMENT):
        refusal_of(lambda: notes().case_notes)
    (report,) = sink.reports
    (decision,) = report.violations
    assert decision.consent is not None
    assert decision.consent.state is ConsentState.WITHDRAWN
    assert SUBJECT not in repr(report)
    assert VALUE not in repr(report)


# --- the store is asked once per subject per scope ---


class CountingStore:
    """Passes questions to a store and counts them."""

    def __init__(self, store: BaseConsentStore) -> None:
        self.store = store
        self.asked: list[tuple[str, str, datetime]] = []
        self.asked_yes_no = 0

    def consent_status(self, subject: str, purpose: Purpose, at: datetime) -> ConsentStatus:
        self.asked.append((subject, purpose.id, at))
        return self.store.consent_status(subject, purpose, at)

    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        self.asked_yes_no += 1
        return self.store.consent_in_force(subject, purpose, at)


@pytest.fixture(params=["configured", "per-scope"])
def counted(request: pytest.FixtureRequest, store: BaseConsentStore) -> CountingStore:
    """*store* behind a counter, configured globally or left for `open_counted` to give to
    the scope."""
    counting = CountingStore(store)
    if request.param == "configured":
        purposeful.configure(consent=counting)
    return counting


def open_counted(counting: CountingStore) -> use:
    if purposeful.get_configuration().consent is counting:
        return use(CASE_MANAGEMENT, actor=CASEWORKER)
    return use(CASE_MANAGEMENT, actor=CASEWORKER, consent=counting)


def test_the_store_is_asked_once_per_subject_per_scope_not_per_read(
    store: BaseConsentStore, counted: CountingStore
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    records = [notes(SUBJECT) for _ in range(3)]
    refused = [notes(OTHER) for _ in range(3)]
    with open_counted(counted) as scope:
        for _ in range(20):
            for record in records:
                assert record.case_notes == VALUE
            for record in refused:
                with pytest.raises(PurposeViolation):
                    _ = record.case_notes
    assert counted.asked == [
        (SUBJECT, CASE_MANAGEMENT, scope.opened_at),
        (OTHER, CASE_MANAGEMENT, scope.opened_at),
    ]
    assert counted.asked_yes_no == 0
    with open_counted(counted) as again:
        assert records[0].case_notes == VALUE
    assert counted.asked[-1] == (SUBJECT, CASE_MANAGEMENT, again.opened_at)
    assert len(counted.asked) == 3


def test_fields_that_need_no_consent_never_ask_the_store(
    store: BaseConsentStore, counted: CountingStore
) -> None:
    with open_counted(counted):
        assert notes().diagnosis == "generalised anxiety"
    assert counted.asked == []
    assert counted.asked_yes_no == 0


# --- monitor mode ---


def test_monitor_mode_lets_a_read_without_consent_through_as_would_deny(
    store: BaseConsentStore, under: Opener
) -> None:
    purposeful.configure(mode=Mode.MONITOR)
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    store.withdraw(SUBJECT, CASE_MANAGEMENT, at=ENDED_AT)
    with under(CASE_MANAGEMENT) as scope:
        assert notes().case_notes == VALUE
        assert notes().case_notes == VALUE
    (decision,) = scope.decisions
    assert decision.outcome is Outcome.WOULD_DENY
    assert decision.reasons == (Reason.CONSENT_NOT_HELD,)
    assert decision.consent is not None
    assert decision.consent.state is ConsentState.WITHDRAWN
    assert "consent was withdrawn" in decision.explain()


def test_monitor_mode_still_allows_a_read_with_consent(
    store: BaseConsentStore, under: Opener
) -> None:
    purposeful.configure(mode=Mode.MONITOR)
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    with under(CASE_MANAGEMENT) as scope:
        assert notes().case_notes == VALUE
    assert scope.decisions[0].outcome is Outcome.ALLOWED


# --- a store that cannot answer ---


def test_a_closed_store_never_hands_the_value_back(store: BaseConsentStore, under: Opener) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    store.close()
    with under(CASE_MANAGEMENT), pytest.raises(PurposefulError) as raised:
        _ = notes().case_notes
    assert SUBJECT not in str(raised.value)
    assert VALUE not in str(raised.value)


# --- when consent cannot be asked, the read is refused and recorded, never a raw error ---


def test_a_closed_store_refuses_the_read_with_a_recorded_decision(
    memory_store: BaseConsentStore, sink: RecordingSink
) -> None:
    memory_store.give(SUBJECT, CASE_MANAGEMENT, at=GIVEN_AT)
    memory_store.close()
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=memory_store):
        refusal = refusal_of(lambda: notes().case_notes)
    assert refusal.decision.reasons == (Reason.CONSENT_CHECK_FAILED,)
    assert "could not be asked" in refusal.decision.explain()
    (report,) = sink.reports
    assert report.violations == (refusal.decision,)
    assert_safe(refusal)


def test_a_closed_store_in_monitor_mode_lets_the_legacy_read_through(
    memory_store: BaseConsentStore, sink: RecordingSink
) -> None:
    memory_store.close()
    purposeful.configure(mode=Mode.MONITOR)
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=memory_store):
        assert notes().case_notes == VALUE
    (decision,) = sink.reports[0].decisions
    assert decision.outcome is Outcome.WOULD_DENY
    assert decision.reasons == (Reason.CONSENT_CHECK_FAILED,)


@pytest.mark.parametrize("missing", [None, ""])
def test_a_record_without_a_subject_id_has_no_consent(
    memory_store: BaseConsentStore, missing: str | None
) -> None:
    memory_store.give("None", CASE_MANAGEMENT, at=GIVEN_AT)  # must not be found for None
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=memory_store):
        refusal = refusal_of(lambda: notes(missing).case_notes)
    assert refusal.decision.reasons == (Reason.CONSENT_NOT_HELD,)
