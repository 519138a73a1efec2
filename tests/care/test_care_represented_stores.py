"""Every consent store answers `consent_statuses_represented` by the same rule: only a
verified representative's grants count, and anyone's withdrawal ends them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from purposeful.consent import (
    BaseConsentStore,
    ConsentState,
    MemoryConsentStore,
    Relationship,
    Representative,
)
from purposeful.consent.sqlite import SQLiteConsentStore
from purposeful.errors import InvalidConsentEvent, StoreClosed

START = datetime.now(UTC) - timedelta(hours=1)
GUARDIAN = Representative(
    Relationship.WELFARE_GUARDIAN, evidence="FAM-2021-485", verified_by="staff-07",
    verified_at=START - timedelta(days=1),
)  # fmt: skip


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseConsentStore]:
    found: BaseConsentStore = (
        MemoryConsentStore() if request.param == "memory" else SQLiteConsentStore(tmp_path / "c.db")
    )
    yield found
    found.close()


def test_only_representatives_grants_count(store: BaseConsentStore) -> None:
    store.give("own", "research", at=START)
    store.give("represented", "research", at=START, by=GUARDIAN)
    store.give("both", "research", at=START, by=GUARDIAN)
    store.give("both", "research", at=START + timedelta(minutes=1))
    found = store.consent_statuses_represented(["own", "represented", "both", "nobody"], "research")
    assert not found["own"].in_force
    assert found["own"].state is None
    assert found["represented"].in_force
    assert found["both"].in_force  # the representative's grant stands
    assert found["nobody"].state is None
    # the plain status still counts the person's own grant
    assert store.consent_status("own", "research").in_force


def test_the_persons_withdrawal_ends_the_representatives_grant(store: BaseConsentStore) -> None:
    store.give("C-1", "research", at=START, by=GUARDIAN)
    store.withdraw("C-1", "research", at=START + timedelta(minutes=1))
    (status,) = store.consent_statuses_represented(["C-1"], "research").values()
    assert not status.in_force
    assert status.state is ConsentState.WITHDRAWN


def test_a_renewal_by_the_person_does_not_extend_a_representatives_grant(
    store: BaseConsentStore,
) -> None:
    store.give("C-1", "research", at=START, by=GUARDIAN, expires_at=START + timedelta(minutes=30))
    store.renew("C-1", "research", at=START + timedelta(minutes=5))
    (status,) = store.consent_statuses_represented(["C-1"], "research").values()
    assert not status.in_force
    assert status.state is ConsentState.EXPIRED


def test_bad_questions_are_refused(store: BaseConsentStore) -> None:
    with pytest.raises(InvalidConsentEvent):
        store.consent_statuses_represented("C-1", "research")
    with pytest.raises(InvalidConsentEvent):
        store.consent_statuses_represented([""], "research")
    store.close()
    with pytest.raises(StoreClosed):
        store.consent_statuses_represented(["C-1"], "research")
