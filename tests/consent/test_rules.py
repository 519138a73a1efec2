"""The effect-time rules: how a consent history becomes a state at a moment.

A property checks `status_at` and every store's ``consent_status`` against a reference model
written here from the rules as documented (not from the implementation); examples then name
each rule, through the stores' public interface.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from purposeful import Purpose, PurposeRegistry
from purposeful.consent import (
    Agency,
    BaseConsentStore,
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    Person,
    Relationship,
    Representative,
    status_at,
)
from purposeful.errors import ConfigurationError, UnknownPurpose
from purposeful.testing.strategies import DEFAULT_SUBJECTS, consent_histories

# A registry three levels deep, so that "the nearest purpose with any event" has room to
# be the purpose itself, its parent or its grandparent.
DEEP = PurposeRegistry.default().extend(
    [
        Purpose(
            "research.outcomes",
            "Outcomes research",
            "Studying whether services help, from records.",
            "Better services for people like you.",
        ),
        Purpose(
            "research.outcomes.kaupapa-maori",
            "Kaupapa Maori outcomes research",
            "Outcomes research led by and for Maori.",
            "Services that work for whanau.",
        ),
    ]
)
DEEP_IDS = sorted(p.id for p in DEEP)
IN_FORCE = {ConsentState.GIVEN, ConsentState.RENEWED}
NZ = timezone(timedelta(hours=13), "NZDT")
MICROSECOND = timedelta(microseconds=1)
NEVER_SEEN = "C-never-recorded"


def reference_status(
    history: Sequence[ConsentEvent], subject: str, purpose: str, at: datetime
) -> ConsentStatus:
    """The rules, replayed: walk the subject's events about the purpose or anything above it
    (found by climbing parents) up to *at*, in the order they took effect (by instant, then
    by the order recorded). A refusal, withdrawal or revocation wipes the slate; a grant
    takes its purpose's place on the slate. Then a grant on the slate that has not expired
    means consent, the newest such grant answering."""
    covering: set[str] = set()
    node: str | None = purpose
    while node is not None:
        covering.add(node)
        node = DEEP.get(node).parent_id
    took_effect = sorted(
        (
            position
            for position, e in enumerate(history)
            if e.subject == subject and e.at <= at and e.purpose in covering
        ),
        key=lambda position: (history[position].at, position),
    )
    slate: dict[str, ConsentEvent] = {}
    wiped_by: ConsentEvent | None = None
    for position in took_effect:
        event = history[position]
        if event.state in IN_FORCE:
            slate.pop(event.purpose, None)
            slate[event.purpose] = event
        else:
            slate.clear()
            wiped_by = event
    alive = [g for g in slate.values() if g.expires_at is None or at < g.expires_at]
    if alive:
        newest = alive[-1]
        return ConsentStatus(True, newest.state, newest.purpose, newest.at, newest.expires_at)
    if slate:
        lapsed = max(slate.values(), key=lambda g: g.expires_at or g.at)
        return ConsentStatus(False, ConsentState.EXPIRED, lapsed.purpose, lapsed.expires_at)
    if wiped_by is not None:
        return ConsentStatus(False, wiped_by.state, wiped_by.purpose, wiped_by.at)
    return ConsentStatus(in_force=False)


def interesting_instants(history: Sequence[ConsentEvent]) -> list[datetime]:
    """Instants where the answer may change: each event and expiry, and just either side."""
    instants = []
    for event in history:
        for edge in (event.at, event.expires_at):
            if edge is not None:
                instants += [edge - MICROSECOND, edge, edge + MICROSECOND]
    return instants


@st.composite
def queries(draw: st.DrawFn, history: Sequence[ConsentEvent]) -> list[tuple[str, str, datetime]]:
    """(subject, purpose, instant) questions: mostly about a subject and a purpose (or a
    descendant of it) the history speaks of, at an instant where an answer may change; some
    about anyone and anything; some asked in New Zealand time rather than UTC."""
    anywhere = st.tuples(
        st.sampled_from(sorted({e.subject for e in history} | {NEVER_SEEN})),
        st.sampled_from(DEEP_IDS),
        st.datetimes(datetime(2014, 1, 1), datetime(2040, 1, 1), timezones=st.just(UTC)),
    )
    question = anywhere
    if history:
        # A subject and purpose (or a descendant) the history speaks of, at an instant
        # where one of its events, or that event's expiry, takes effect (or just before or
        # after).
        focused = st.sampled_from(history).flatmap(
            lambda e: st.tuples(
                st.just(e.subject),
                st.sampled_from([p for p in DEEP_IDS if DEEP.get(e.purpose).covers(p)]),
                st.sampled_from(interesting_instants([e])),
            )
        )
        edges = st.sampled_from(interesting_instants(history))
        elsewhere = st.sampled_from(history).flatmap(
            lambda e: st.tuples(st.just(e.subject), st.sampled_from(DEEP_IDS), edges)
        )
        question = st.one_of(focused, focused, focused, elsewhere, anywhere)
    local = st.booleans()
    return [
        (subject, purpose, at.astimezone(NZ) if draw(local) else at)
        for subject, purpose, at in draw(st.lists(question, min_size=1, max_size=40))
    ]


def of(history: Sequence[ConsentEvent], subject: str) -> list[ConsentEvent]:
    return [e for e in history if e.subject == subject]


# --- the property: implementation and stores agree with the reference model ---


@settings(max_examples=150, deadline=None, database=None)
@given(history=consent_histories(registry=DEEP, min_size=1, max_size=25), data=st.data())
def test_status_at_agrees_with_the_reference_model(
    history: list[ConsentEvent], data: st.DataObject
) -> None:
    for subject, purpose, at in data.draw(queries(history)):
        expected = reference_status(history, subject, purpose, at)
        assert status_at(of(history, subject), purpose, at) == expected


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    # One store serves every example; each example uses subject ids of its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(history=consent_histories(registry=DEEP, min_size=1), data=st.data())
def test_every_store_agrees_with_the_reference_model(
    store: BaseConsentStore, history: list[ConsentEvent], data: st.DataObject
) -> None:
    purposeful.configure(registry=DEEP)
    example = uuid.uuid4().hex[:8]
    history = [attrs.evolve(e, subject=f"{e.subject}-{example}") for e in history]
    for event in history:
        assert store.record(event) == event
    for subject in {e.subject for e in history}:
        assert store.history(subject) == of(history, subject)
    for subject, purpose, at in data.draw(queries(history)):
        expected = reference_status(history, subject, purpose, at)
        assert store.consent_status(subject, purpose, at) == expected
        assert store.consent_in_force(subject, purpose, at) is expected.in_force


# --- the strategy makes what it promises ---


@settings(max_examples=100, deadline=None, database=None)
@given(consent_histories(registry=DEEP))
def test_generated_histories_are_valid_time_ordered_and_in_utc(
    history: list[ConsentEvent],
) -> None:
    assert len({e.event_id for e in history}) == len(history)
    for earlier, later in itertools.pairwise(history):
        assert earlier.at <= later.at
    for position, event in enumerate(history):
        assert event.subject in DEFAULT_SUBJECTS
        assert event.purpose in DEEP
        assert event.at.utcoffset() == timedelta(0)
        if event.expires_at is not None:
            assert event.state in IN_FORCE
            assert event.expires_at > event.at
        if event.state is ConsentState.REVOKED:
            assert isinstance(event.by, Agency)
        else:
            assert isinstance(event.by, Person | Representative)
        if isinstance(event.by, Representative):
            assert isinstance(event.by.relationship, Relationship)
            assert event.by.relationship is not Relationship.PROPERTY_ATTORNEY
            assert event.by.evidence.strip()
            if event.by.relationship is Relationship.PERSONAL_CARE_ATTORNEY:
                assert event.by.incapacity is not None
                assert event.by.incapacity.at <= event.at
        if event.state is ConsentState.RENEWED:
            before = [
                e
                for e in history[:position]
                if e.subject == event.subject and e.purpose == event.purpose
            ]
            assert before, "a renewal with nothing before it"
            assert before[-1].state in IN_FORCE, "a renewal of something not granted"


@settings(max_examples=40, deadline=None, database=None)
@given(
    consent_histories(
        subjects=["A-1", "A-2"], purposes=["research", "research.outcomes"], registry=DEEP
    )
)
def test_generated_histories_keep_to_the_subjects_and_purposes_asked_for(
    history: list[ConsentEvent],
) -> None:
    assert {e.subject for e in history} <= {"A-1", "A-2"}
    assert {e.purpose for e in history} <= {"research", "research.outcomes"}


@settings(max_examples=40, deadline=None, database=None)
@given(consent_histories(within="service-delivery", min_size=3, max_size=5))
def test_generated_histories_within_a_purpose_keep_to_it_and_its_descendants(
    history: list[ConsentEvent],
) -> None:
    assert 3 <= len(history) <= 5
    assert all(e.purpose.split(".")[0] == "service-delivery" for e in history)


FEATURES: dict[str, Callable[[list[ConsentEvent]], bool]] = {
    "a renewal": lambda h: any(e.state is ConsentState.RENEWED for e in h),
    "a renewal after the grant expired": lambda h: any(
        e.state is ConsentState.RENEWED
        and any(
            g.subject == e.subject
            and g.purpose == e.purpose
            and g.expires_at
            and g.expires_at <= e.at
            for g in h
        )
        for e in h
    ),
    "a refusal": lambda h: any(e.state is ConsentState.REFUSED for e in h),
    "a revocation": lambda h: any(e.state is ConsentState.REVOKED for e in h),
    "a withdrawal by a representative": lambda h: any(
        e.state is ConsentState.WITHDRAWN and isinstance(e.by, Representative) for e in h
    ),
    "a grant with an expiry": lambda h: any(e.expires_at for e in h),
    "two events at one instant": lambda h: len({e.at for e in h}) < len(h),
    "subjects interleaved": lambda h: any(a.subject != b.subject for a, b in itertools.pairwise(h)),
    "a parent and its child both decided": lambda h: any(
        a.subject == b.subject and b.purpose.startswith(a.purpose + ".") for a in h for b in h
    ),
}


def test_generated_histories_include_every_kind_of_event_and_overlap() -> None:
    seen: set[str] = set()

    @settings(max_examples=100, deadline=None, database=None, derandomize=True)
    @given(consent_histories())
    def look(history: list[ConsentEvent]) -> None:
        seen.update(name for name, found in FEATURES.items() if found(history))

    look()
    assert sorted(set(FEATURES) - seen) == []


def test_consent_histories_refuses_what_it_cannot_draw_from() -> None:
    with pytest.raises(UnknownPurpose):
        consent_histories(purposes=["not-declared"])
    with pytest.raises(ConfigurationError):
        consent_histories(subjects=[])
    with pytest.raises(ConfigurationError):
        consent_histories(start=datetime(2025, 1, 1))  # naive
    with pytest.raises(ConfigurationError):
        consent_histories(min_size=5, max_size=2)


# --- each rule, by example, through every store ---

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CASE_MANAGEMENT = "service-delivery.case-management"
REFERRAL = "service-delivery.referral"
SUBJECT = "C-2001"
AGENCY = Agency("staff-0007", "consent was obtained without a current notice")


def status(store: BaseConsentStore, purpose: str, at: datetime) -> ConsentStatus:
    return store.consent_status(SUBJECT, purpose, at)


def test_nothing_recorded_means_no_consent(store: BaseConsentStore) -> None:
    found = status(store, CASE_MANAGEMENT, T0)
    assert found == ConsentStatus(in_force=False)
    assert found.describe() == "no consent has been recorded"


def test_an_event_counts_from_its_own_instant_not_before(store: BaseConsentStore) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    assert not store.consent_in_force(SUBJECT, CASE_MANAGEMENT, T0 - MICROSECOND)
    assert status(store, CASE_MANAGEMENT, T0 - MICROSECOND).state is None
    assert status(store, CASE_MANAGEMENT, T0) == ConsentStatus(
        True, ConsentState.GIVEN, CASE_MANAGEMENT, T0
    )


def test_withdrawal_takes_effect_for_the_next_scope_opened_after_it(
    store: BaseConsentStore,
) -> None:
    withdrawn_at = T0 + timedelta(days=10)
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    store.withdraw(SUBJECT, CASE_MANAGEMENT, at=withdrawn_at)
    # A scope asks as of its opening instant.
    assert store.consent_in_force(SUBJECT, CASE_MANAGEMENT, withdrawn_at - MICROSECOND)
    for opened in (withdrawn_at, withdrawn_at + MICROSECOND, withdrawn_at + timedelta(days=99)):
        assert status(store, CASE_MANAGEMENT, opened) == ConsentStatus(
            False, ConsentState.WITHDRAWN, CASE_MANAGEMENT, withdrawn_at
        )


def test_within_an_open_scope_reads_stay_consistent_after_a_withdrawal_is_recorded(
    store: BaseConsentStore,
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    opened = T0 + timedelta(hours=1)
    before = status(store, CASE_MANAGEMENT, opened)
    store.withdraw(SUBJECT, CASE_MANAGEMENT, at=opened + timedelta(minutes=5))
    assert before.in_force
    assert status(store, CASE_MANAGEMENT, opened) == before


def test_expiry_takes_effect_at_its_instant_with_nothing_recorded(
    store: BaseConsentStore,
) -> None:
    expires = T0 + timedelta(days=365)
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0, expires_at=expires)
    just_before = status(store, CASE_MANAGEMENT, expires - MICROSECOND)
    assert just_before == ConsentStatus(True, ConsentState.GIVEN, CASE_MANAGEMENT, T0, expires)
    for opened in (expires, expires + MICROSECOND, expires + timedelta(days=30)):
        assert status(store, CASE_MANAGEMENT, opened) == ConsentStatus(
            False, ConsentState.EXPIRED, CASE_MANAGEMENT, expires
        )
    assert len(store.history(SUBJECT)) == 1


def test_ancestor_consent_covers_a_child_purpose(store: BaseConsentStore) -> None:
    store.give(SUBJECT, "service-delivery", at=T0)
    for child in (CASE_MANAGEMENT, REFERRAL):
        found = status(store, child, T0)
        assert found.in_force
        assert found.purpose == "service-delivery"


def test_consent_to_a_child_covers_neither_its_parent_nor_its_siblings(
    store: BaseConsentStore,
) -> None:
    store.give(SUBJECT, REFERRAL, at=T0)
    assert store.consent_in_force(SUBJECT, REFERRAL, T0)
    assert not store.consent_in_force(SUBJECT, "service-delivery", T0)
    assert not store.consent_in_force(SUBJECT, CASE_MANAGEMENT, T0)


def test_a_childs_withdrawal_does_not_withdraw_the_parent(store: BaseConsentStore) -> None:
    store.give(SUBJECT, "service-delivery", at=T0)
    store.withdraw(SUBJECT, REFERRAL, at=T0 + timedelta(days=1))
    later = T0 + timedelta(days=2)
    assert status(store, REFERRAL, later) == ConsentStatus(
        False, ConsentState.WITHDRAWN, REFERRAL, T0 + timedelta(days=1)
    )
    assert store.consent_in_force(SUBJECT, "service-delivery", later)
    assert store.consent_in_force(SUBJECT, CASE_MANAGEMENT, later)


def test_withdrawing_a_parent_purpose_ends_an_earlier_grant_for_a_child(
    store: BaseConsentStore,
) -> None:
    store.give(SUBJECT, REFERRAL, at=T0)
    store.give(SUBJECT, "service-delivery", at=T0 + timedelta(days=1))
    withdrawn = T0 + timedelta(days=2)
    store.withdraw(SUBJECT, "service-delivery", at=withdrawn)
    later = T0 + timedelta(days=3)
    assert status(store, REFERRAL, later) == ConsentStatus(
        False, ConsentState.WITHDRAWN, "service-delivery", withdrawn
    )
    assert not store.consent_in_force(SUBJECT, CASE_MANAGEMENT, later)


def test_a_grant_after_a_withdrawal_restores_consent(store: BaseConsentStore) -> None:
    store.give(SUBJECT, "service-delivery", at=T0)
    store.withdraw(SUBJECT, REFERRAL, at=T0 + timedelta(days=1))
    store.give(SUBJECT, REFERRAL, at=T0 + timedelta(days=2))
    assert not store.consent_in_force(SUBJECT, REFERRAL, T0 + timedelta(days=1))
    assert store.consent_in_force(SUBJECT, REFERRAL, T0 + timedelta(days=2))


def test_an_expired_child_grant_does_not_hide_a_live_parent_grant(
    store: BaseConsentStore,
) -> None:
    expires = T0 + timedelta(days=30)
    store.give(SUBJECT, "service-delivery", at=T0)
    store.give(SUBJECT, REFERRAL, at=T0, expires_at=expires)
    assert status(store, REFERRAL, expires) == ConsentStatus(
        True, ConsentState.GIVEN, "service-delivery", T0
    )
    assert store.consent_in_force(SUBJECT, CASE_MANAGEMENT, expires)


def test_a_renewal_replaces_the_grant_it_renews(store: BaseConsentStore) -> None:
    ends = T0 + timedelta(days=30)
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    store.renew(SUBJECT, CASE_MANAGEMENT, at=T0 + timedelta(days=1), expires_at=ends)
    assert status(store, CASE_MANAGEMENT, ends) == ConsentStatus(
        False, ConsentState.EXPIRED, CASE_MANAGEMENT, ends
    )


def test_renewal_extends_an_expiry(store: BaseConsentStore) -> None:
    first, second = T0 + timedelta(days=365), T0 + timedelta(days=730)
    renewed_at = T0 + timedelta(days=300)
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0, expires_at=first)
    store.renew(SUBJECT, CASE_MANAGEMENT, at=renewed_at, expires_at=second)
    assert status(store, CASE_MANAGEMENT, first) == ConsentStatus(
        True, ConsentState.RENEWED, CASE_MANAGEMENT, renewed_at, second
    )
    assert store.consent_in_force(SUBJECT, CASE_MANAGEMENT, second - MICROSECOND)
    assert status(store, CASE_MANAGEMENT, second).state is ConsentState.EXPIRED


def test_renewing_an_expired_grant_restores_consent_from_the_renewal(
    store: BaseConsentStore,
) -> None:
    expires = T0 + timedelta(days=30)
    renewed_at = expires + timedelta(days=5)
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0, expires_at=expires)
    store.renew(SUBJECT, CASE_MANAGEMENT, at=renewed_at)
    assert status(store, CASE_MANAGEMENT, renewed_at - MICROSECOND).state is ConsentState.EXPIRED
    assert status(store, CASE_MANAGEMENT, renewed_at) == ConsentStatus(
        True, ConsentState.RENEWED, CASE_MANAGEMENT, renewed_at
    )


def test_events_at_the_same_instant_are_decided_by_the_one_recorded_last(
    store: BaseConsentStore,
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    store.withdraw(SUBJECT, CASE_MANAGEMENT, at=T0)
    assert status(store, CASE_MANAGEMENT, T0).state is ConsentState.WITHDRAWN
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    assert status(store, CASE_MANAGEMENT, T0).state is ConsentState.GIVEN


def test_the_latest_instant_decides_not_the_last_recorded(store: BaseConsentStore) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    # Recorded afterwards, but expressed the day before the grant.
    store.withdraw(SUBJECT, CASE_MANAGEMENT, at=T0 - timedelta(days=1))
    assert status(store, CASE_MANAGEMENT, T0 + timedelta(days=1)).state is ConsentState.GIVEN
    assert status(store, CASE_MANAGEMENT, T0 - MICROSECOND).state is ConsentState.WITHDRAWN


@pytest.mark.parametrize("state", [ConsentState.REFUSED, ConsentState.REVOKED])
def test_refused_and_revoked_consent_is_not_in_force(
    store: BaseConsentStore, state: ConsentState
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    ended = T0 + timedelta(days=1)
    if state is ConsentState.REFUSED:
        store.refuse(SUBJECT, CASE_MANAGEMENT, at=ended)
    else:
        store.revoke(SUBJECT, CASE_MANAGEMENT, at=ended, by=AGENCY)
    assert status(store, CASE_MANAGEMENT, ended) == ConsentStatus(
        False, state, CASE_MANAGEMENT, ended
    )


def test_a_grant_dated_in_the_future_does_not_count_until_then(
    store: BaseConsentStore,
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0 + timedelta(days=7))
    assert not store.consent_in_force(SUBJECT, CASE_MANAGEMENT, T0)
    assert store.consent_in_force(SUBJECT, CASE_MANAGEMENT, T0 + timedelta(days=7))


def test_a_question_in_another_timezone_means_the_same_instant(
    store: BaseConsentStore,
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0)
    assert store.consent_in_force(SUBJECT, CASE_MANAGEMENT, T0.astimezone(NZ))
    assert not store.consent_in_force(SUBJECT, CASE_MANAGEMENT, (T0 - MICROSECOND).astimezone(NZ))


def test_a_representatives_consent_counts_as_the_persons(store: BaseConsentStore) -> None:
    guardian = Representative(
        Relationship.WELFARE_GUARDIAN, "FAM-2023-485-0001", "staff-0311", T0 - timedelta(days=3)
    )
    store.give(SUBJECT, CASE_MANAGEMENT, at=T0, by=guardian)
    assert store.consent_in_force(SUBJECT, CASE_MANAGEMENT, T0)
    store.withdraw(SUBJECT, CASE_MANAGEMENT, at=T0 + timedelta(days=1), by=guardian)
    assert not store.consent_in_force(SUBJECT, CASE_MANAGEMENT, T0 + timedelta(days=1))


def test_status_at_ignores_events_about_other_purposes_and_later_events() -> None:
    events = [
        ConsentEvent(SUBJECT, "research", ConsentState.GIVEN, T0),
        ConsentEvent(SUBJECT, CASE_MANAGEMENT, ConsentState.REFUSED, T0),
        ConsentEvent(SUBJECT, REFERRAL, ConsentState.GIVEN, T0 + timedelta(days=1)),
    ]
    assert status_at(events, REFERRAL, T0) == ConsentStatus(in_force=False)
    assert status_at(events, CASE_MANAGEMENT, T0 + timedelta(days=1)).state is ConsentState.REFUSED
