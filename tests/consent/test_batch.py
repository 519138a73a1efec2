"""Many people at once: `consent_statuses` and `consent_statuses_steady` answer as `consent_status`
does, person by person, on every backend; a snapshot's interval really is steady; a stamp
changes with every event recorded.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from purposeful.consent import (
    Agency,
    BaseConsentStore,
    ConsentState,
    Relationship,
    Representative,
)
from purposeful.errors import InvalidConsentEvent, StoreClosed

BASE = datetime(2025, 1, 1, tzinfo=UTC)
PURPOSES = ("research", "service-delivery", "service-delivery.case-management")
ASKED = (
    "research",
    "service-delivery",
    "service-delivery.case-management",
    "service-delivery.referral",
)
GUARDIAN = Representative(
    Relationship.WELFARE_GUARDIAN,
    evidence="FAM-2023-485-000777",
    verified_by="staff-0311",
    verified_at=datetime(2025, 2, 1, tzinfo=UTC),
)
AGENCY = Agency("staff-0042", "not validly given")

# one event: (subject number, purpose, state, day, expiry in days or None, by a representative)
event_strategy = st.tuples(
    st.integers(0, 4),
    st.sampled_from(PURPOSES),
    st.sampled_from(list(ConsentState)),
    st.integers(0, 60),
    st.one_of(st.none(), st.integers(1, 40)),
    st.booleans(),
)


def record_all(store: BaseConsentStore, prefix: str, events: list[tuple]) -> None:  # type: ignore[type-arg]
    for number, purpose, state, day, expiry, represented in events:
        at = BASE + timedelta(days=day)
        subject = f"{prefix}-{number}"
        expires_at = None if expiry is None else at + timedelta(days=expiry)
        by = GUARDIAN if represented else None
        try:
            if state is ConsentState.GIVEN:
                store.give(subject, purpose, at=at, by=by, expires_at=expires_at)
            elif state is ConsentState.RENEWED:
                store.renew(subject, purpose, at=at, by=by, expires_at=expires_at)
            elif state is ConsentState.REFUSED:
                store.refuse(subject, purpose, at=at, by=by)
            elif state is ConsentState.WITHDRAWN:
                store.withdraw(subject, purpose, at=at, by=by)
            elif state is ConsentState.REVOKED:
                store.revoke(subject, purpose, at=at, by=AGENCY)
        except InvalidConsentEvent:
            pass  # a renewal with nothing to renew: not part of the history
        # EXPIRED is never recorded: expiry happens by itself


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    events=st.lists(event_strategy, max_size=25),
    asked=st.sampled_from(ASKED),
    day=st.integers(-1, 110),
    later=st.integers(-30, 30),
)
def test_many_at_once_answer_as_one_at_a_time(
    store: BaseConsentStore,
    events: list[tuple],
    asked: str,
    day: int,
    later: int,  # type: ignore[type-arg]
) -> None:
    prefix = uuid.uuid4().hex[:8]  # the store outlives the example: each its own people
    record_all(store, prefix, events)
    subjects = [f"{prefix}-{n}" for n in range(6)]  # the sixth has no events at all
    at = BASE + timedelta(days=day, hours=7)
    single = {s: store.consent_status(s, asked, at) for s in subjects}
    assert store.consent_statuses(subjects, asked, at) == single
    purpose = store.registry.get(asked)
    snapshot = store.consent_statuses_steady(subjects, purpose, at)
    assert {s: status for s, (status, _, _) in snapshot.items()} == single
    # the answer holds at any moment of its interval: probe one, and the ends
    other = at + timedelta(days=later, hours=later)
    for subject, (status, since, until) in snapshot.items():
        assert since is None or since <= at
        assert until is None or at < until
        for moment in (other, since):
            if moment is None:
                continue
            if (since is None or since <= moment) and (until is None or moment < until):
                assert store.consent_status(subject, asked, moment) == status


def test_a_batch_of_more_people_than_sqlite_takes_parameters_for(store: BaseConsentStore) -> None:
    subjects = [f"batch-{n}" for n in range(1_234)]
    for subject in subjects[::7]:
        store.give(subject, "research", at=BASE)
    found = store.consent_statuses(subjects, "research", BASE + timedelta(days=1))
    assert len(found) == len(subjects)
    assert {s for s, status in found.items() if status.in_force} == set(subjects[::7])


def test_a_batch_repeats_and_order_do_not_matter(store: BaseConsentStore) -> None:
    store.give("a-1", "research", at=BASE)
    found = store.consent_statuses(["a-2", "a-1", "a-2"], "research", BASE + timedelta(1))
    assert list(found) == ["a-2", "a-1"]
    assert found["a-1"].in_force
    assert not found["a-2"].in_force


@pytest.mark.parametrize("subjects", [["ok", ""], ["ok", None], "one-subject"])
def test_a_batch_with_a_bad_subject_is_refused_without_naming_it(
    store: BaseConsentStore, subjects: object
) -> None:
    with pytest.raises(InvalidConsentEvent) as caught:
        store.consent_statuses(subjects, "research", BASE)  # type: ignore[arg-type]
    assert "one-subject" not in str(caught.value)


def test_a_naive_moment_is_refused(store: BaseConsentStore) -> None:
    with pytest.raises(InvalidConsentEvent, match="timezone-aware"):
        store.consent_statuses(["a"], "research", datetime(2025, 1, 1))


def test_the_stamp_changes_with_every_event_and_only_then(store: BaseConsentStore) -> None:
    first = store.consent_version()
    assert first is not None
    assert store.consent_version() == first
    store.consent_statuses(["s-1"], "research", BASE)  # a read changes nothing
    assert store.consent_version() == first
    store.give("s-1", "research", at=BASE)
    second = store.consent_version()
    assert second != first
    store.withdraw("s-1", "research", at=BASE + timedelta(days=1))
    assert store.consent_version() not in (first, second)


def test_a_refused_event_leaves_the_stamp_as_it_was(store: BaseConsentStore) -> None:
    before = store.consent_version()
    with pytest.raises(InvalidConsentEvent):
        store.renew("s-1", "research", at=BASE)  # nothing to renew
    assert store.consent_version() == before


def test_two_stores_never_share_a_stamp(store: BaseConsentStore) -> None:
    from purposeful.consent import MemoryConsentStore

    with MemoryConsentStore() as other:
        assert store.consent_version() != other.consent_version()


def test_a_closed_store_refuses_batches_and_stamps(store: BaseConsentStore) -> None:
    store.close()
    with pytest.raises(StoreClosed):
        store.consent_statuses(["a"], "research", BASE)
    with pytest.raises(StoreClosed):
        store.consent_version()
