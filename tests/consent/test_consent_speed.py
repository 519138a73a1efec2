"""Consent at the speed of a list view: one batch per scope, answers reused across scopes
under the store's stamp, prefetch (sync and async), and failures that refuse and cache
nothing.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, Case
from purposeful import ConsentStatus, Purpose, PurposeViolation, Reason, use
from purposeful._consent import CACHE
from purposeful.consent import BaseConsentStore, ConsentEvent, MemoryConsentStore
from purposeful.consent.sqlite import SQLiteConsentStore
from purposeful.errors import StoreUnavailable
from purposeful.typing import ConsentBatchSource, ConsentSnapshotSource

PEOPLE = [f"client-{n:03d}-private" for n in range(50)]
GIVEN_AT = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)


def cases(people: Sequence[str] = PEOPLE) -> list[Case]:
    return [Case(p, "anxiety", "12 Cuba Street", f"notes of {p}") for p in people]


class CountingStore(MemoryConsentStore):
    """A memory store that counts the questions it is asked, and can fail or be slow."""

    def __init__(self) -> None:
        super().__init__()
        self.snapshots: list[int] = []  # the number of people in each batch
        self.failing = False
        self.delay = 0.0

    def _events_of(
        self, subjects: Sequence[str], purposes: Sequence[str]
    ) -> dict[str, list[ConsentEvent]]:
        if self.delay:
            time.sleep(self.delay)  # a slow store: blocks whichever thread asks
        if self.failing:
            raise StoreUnavailable("the consent store is down (test)")
        self.snapshots.append(len(subjects))
        return super()._events_of(subjects, purposes)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Each test starts with the process's cache of answers empty, and leaves it so."""
    CACHE.clear()
    yield
    CACHE.clear()


@pytest.fixture
def counting() -> Iterator[CountingStore]:
    store = CountingStore()
    for person in PEOPLE[::2]:  # every other person consented
        store.give(person, CASE_MANAGEMENT, at=GIVEN_AT)
    purposeful.configure(consent=store)
    yield store
    store.close()


def read_all(records: list[Case]) -> dict[str, str]:
    """Each record's case notes, or "refused"."""
    found = {}
    refusals = []
    for record in records:
        try:
            found[record.client_id] = record.case_notes
        except PurposeViolation as refusal:
            found[record.client_id] = "refused"
            refusals.append((record.client_id, str(refusal)))
    assert not [person for person, message in refusals if person in message]
    return found


def expected() -> dict[str, str]:
    return {p: (f"notes of {p}" if n % 2 == 0 else "refused") for n, p in enumerate(PEOPLE)}


# --- prefetch ---


def test_a_prefetched_list_view_asks_the_store_once(counting: CountingStore) -> None:
    records = cases()
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        scope.prefetch_consent(records)
        assert counting.snapshots == [50]
        assert read_all(records) == expected()
    assert counting.snapshots == [50]


def test_prefetch_changes_no_decision(counting: CountingStore) -> None:
    records = cases()
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as plain:
        read_all(records)
    CACHE.clear()
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as prefetched:
        prefetched.prefetch_consent(records)
        read_all(records)
    assert plain.decisions == prefetched.decisions


def test_prefetch_asks_nothing_for_records_that_need_no_consent_here(
    counting: CountingStore,
) -> None:
    with use("funder-reporting", actor=CASEWORKER) as scope:
        scope.prefetch_consent(cases())
    assert counting.snapshots == []


def test_a_closed_scope_prefetches_nothing_and_holds_no_subject(counting: CountingStore) -> None:
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        pass
    scope.prefetch_consent(cases())
    assert counting.snapshots == []
    assert len(scope._consent_answers()) == 0  # made after the close: holds nobody


# --- across scopes ---


def test_the_next_scope_reuses_the_answers_while_nothing_is_recorded(
    counting: CountingStore,
) -> None:
    records = cases()
    for _ in range(3):
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            assert read_all(records) == expected()
    assert sum(counting.snapshots) == 50  # the first scope asked about each person once


def test_a_withdrawal_applies_to_the_next_scope(counting: CountingStore) -> None:
    records = cases()
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        scope.prefetch_consent(records)
        assert records[0].case_notes == f"notes of {PEOPLE[0]}"
        counting.withdraw(PEOPLE[0], CASE_MANAGEMENT)
        # the open scope answers as of its opening
        assert records[0].case_notes == f"notes of {PEOPLE[0]}"
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope, pytest.raises(PurposeViolation):
        records[0].case_notes  # noqa: B018
    (decision,) = scope.decisions
    assert decision.consent is not None
    assert decision.consent.state is purposeful.ConsentState.WITHDRAWN


def test_an_expiry_between_two_scopes_applies_with_nothing_recorded() -> None:
    store = CountingStore()
    now = datetime.now(UTC)
    store.give(
        PEOPLE[0],
        CASE_MANAGEMENT,
        at=now - timedelta(days=1),
        expires_at=now + timedelta(seconds=0.3),
    )
    purposeful.configure(consent=store)
    record = cases()[0]
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert record.case_notes == f"notes of {PEOPLE[0]}"
    stamp = store.consent_version()
    time.sleep(0.4)
    assert store.consent_version() == stamp  # nothing recorded: the stamp cannot tell
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope, pytest.raises(PurposeViolation):
        record.case_notes  # noqa: B018
    assert scope.decisions[0].consent is not None
    assert scope.decisions[0].consent.state is purposeful.ConsentState.EXPIRED


def test_a_grant_dated_ahead_applies_when_its_moment_comes() -> None:
    store = CountingStore()
    store.give(PEOPLE[0], CASE_MANAGEMENT, at=datetime.now(UTC) + timedelta(seconds=0.3))
    purposeful.configure(consent=store)
    record = cases()[0]
    with use(CASE_MANAGEMENT, actor=CASEWORKER), pytest.raises(PurposeViolation):
        record.case_notes  # noqa: B018
    time.sleep(0.4)
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert record.case_notes == f"notes of {PEOPLE[0]}"


def test_the_cache_is_bounded(counting: CountingStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CACHE, "size", 10)
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        scope.prefetch_consent(cases())
    assert len(CACHE) == 10


def test_the_cache_is_safe_from_many_threads(counting: CountingStore) -> None:
    records = cases()
    found: list[dict[str, str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(20):
                with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
                    scope.prefetch_consent(records)
                    found.append(read_all(records))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert found == [expected()] * 80


def test_no_subject_id_is_logged(counting: CountingStore, caplog: pytest.LogCaptureFixture) -> None:
    counting.failing = True
    with caplog.at_level(logging.DEBUG), use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        scope.prefetch_consent(cases())
        read_all(cases())
    assert caplog.records
    assert not any(p in caplog.text for p in PEOPLE)


# --- failures ---


def test_a_failed_batch_refuses_every_read_that_needed_it_and_caches_nothing(
    counting: CountingStore,
) -> None:
    records = cases()
    counting.failing = True
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        scope.prefetch_consent(records)
        assert set(read_all(records).values()) == {"refused"}
    assert {d.reasons for d in scope.decisions} == {(Reason.CONSENT_CHECK_FAILED,)}
    assert len(CACHE) == 0
    counting.failing = False
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert read_all(records) == expected()  # asked again, not the failure remembered


def test_a_failed_stamp_read_still_answers_uncached(
    counting: CountingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> object:
        raise RuntimeError("the stamp cannot be read (test)")

    monkeypatch.setattr(counting, "consent_version", broken)
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert read_all(cases()) == expected()


def test_a_store_unavailable_for_its_stamp_is_not_asked_again_in_the_scope(
    counting: CountingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the store said it cannot be reached within its timeout: asking for the answers would
    # wait as long again, to the same refusal
    def down() -> object:
        raise StoreUnavailable("down (test)")

    monkeypatch.setattr(counting, "consent_version", down)
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        scope.prefetch_consent(cases())
        assert set(read_all(cases()).values()) == {"refused"}
    assert {d.reasons for d in scope.decisions} == {(Reason.CONSENT_CHECK_FAILED,)}
    assert counting.snapshots == []  # the answers were never asked for


class SlowChecker:
    """A checker that takes its time on purpose (a store over a slow network)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        time.sleep(self.delay)
        return True


class OneAtATime:
    """A custom checker without the batch method: still asked, once per person."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        self.asked.append(subject)
        return subject in PEOPLE[::2]


class Batching(OneAtATime):
    """A custom checker with the batch method only (no stamp: nothing reused)."""

    def __init__(self, answer: object = None) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.answer = answer

    def consent_statuses(self, subjects: Collection[str], purpose: Purpose, at: datetime) -> object:
        self.batches.append(list(subjects))
        if self.answer is not None:
            return self.answer
        return {s: ConsentStatus(in_force=s in PEOPLE[::2]) for s in subjects}


def test_a_checker_without_batches_is_asked_once_per_person() -> None:
    checker = OneAtATime()
    assert not isinstance(checker, ConsentBatchSource)
    records = cases()
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=checker) as scope:
        scope.prefetch_consent(records)
        assert read_all(records) == expected()
    assert sorted(checker.asked) == sorted(PEOPLE)


def test_a_checker_with_batches_is_asked_once_per_scope() -> None:
    checker = Batching()
    assert isinstance(checker, ConsentBatchSource)
    assert not isinstance(checker, ConsentSnapshotSource)
    records = cases()
    for _ in range(2):
        with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=checker) as scope:
            scope.prefetch_consent(records)
            assert read_all(records) == expected()
    assert [sorted(b) for b in checker.batches] == [sorted(PEOPLE)] * 2
    assert checker.asked == []


def test_a_batch_that_leaves_a_person_out_refuses_them() -> None:
    checker = Batching(answer={PEOPLE[0]: ConsentStatus(in_force=True)})
    records = cases(PEOPLE[:3])
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=checker) as scope:
        scope.prefetch_consent(records)
        assert read_all(records) == {
            PEOPLE[0]: f"notes of {PEOPLE[0]}",
            PEOPLE[1]: "refused",
            PEOPLE[2]: "refused",
        }
    assert (Reason.CONSENT_CHECK_FAILED,) in {d.reasons for d in scope.decisions}


def test_a_batch_that_answers_the_wrong_type_is_a_configuration_error() -> None:
    checker = Batching(answer=[True, True])
    raises = pytest.raises(purposeful.ConfigurationError, match="must return a mapping")
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=checker) as scope, raises:
        scope.prefetch_consent(cases(PEOPLE[:2]))


def test_every_store_is_a_batch_and_snapshot_source(store: BaseConsentStore) -> None:
    assert isinstance(store, ConsentBatchSource)
    assert isinstance(store, ConsentSnapshotSource)


# --- async ---


def _slow_callbacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Executing" in r.getMessage()]


async def _list_view(records: list[Case], prefetch: str) -> dict[str, str]:
    loop = asyncio.get_running_loop()
    loop.slow_callback_duration = 0.1
    async with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        if prefetch == "async":
            await scope.aprefetch_consent(records)
        else:
            scope.prefetch_consent(records)
        await asyncio.sleep(0)
        return read_all(records)


@pytest.mark.parametrize("prefetch", ["async", "sync"])
def test_an_async_prefetch_never_blocks_the_event_loop(
    counting: CountingStore, caplog: pytest.LogCaptureFixture, prefetch: str
) -> None:
    counting.delay = 0.3  # far beyond the loop's slow-callback threshold
    with caplog.at_level(logging.WARNING, logger="asyncio"):
        found = asyncio.run(_list_view(cases(), prefetch), debug=True)
    assert found == expected()
    if prefetch == "async":
        assert _slow_callbacks(caplog) == []
        assert counting.snapshots == [50]
    else:  # the control: the same store asked on the loop's thread is caught
        assert _slow_callbacks(caplog) != []


# --- two processes ---

WITHDRAW = """
import sys
from purposeful.consent.sqlite import SQLiteConsentStore
with SQLiteConsentStore(sys.argv[1]) as store:
    store.withdraw(sys.argv[2], "service-delivery.case-management")
"""


def test_a_withdrawal_by_another_process_applies_to_the_next_scope(tmp_path: Path) -> None:
    path = tmp_path / "consent.sqlite3"
    with SQLiteConsentStore(path) as store:
        for person in PEOPLE:
            store.give(person, CASE_MANAGEMENT, at=GIVEN_AT)
        purposeful.configure(consent=store)
        records = cases()
        for _ in range(2):  # the second scope is answered from the cache
            with use(CASE_MANAGEMENT, actor=CASEWORKER):
                assert "refused" not in read_all(records).values()
        subprocess.run(
            [sys.executable, "-c", WITHDRAW, str(path), PEOPLE[7]],
            check=True,
            timeout=60,
            capture_output=True,
        )
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            found = read_all(records)
        assert found[PEOPLE[7]] == "refused"
        assert [p for p, v in found.items() if v == "refused"] == [PEOPLE[7]]


def test_a_withdrawal_by_another_process_applies_on_postgresql(
    postgres_schema: tuple[str, str],
) -> None:
    from purposeful.consent.postgres import PostgresConsentStore

    dsn, schema = postgres_schema
    withdraw = (
        "import sys\n"
        "from purposeful.consent.postgres import PostgresConsentStore\n"
        "with PostgresConsentStore(sys.argv[1], schema=sys.argv[2]) as store:\n"
        "    store.withdraw(sys.argv[3], 'service-delivery.case-management')\n"
    )
    with PostgresConsentStore(dsn, schema=schema) as store:
        for person in PEOPLE[:10]:
            store.give(person, CASE_MANAGEMENT, at=GIVEN_AT)
        purposeful.configure(consent=store)
        records = cases(PEOPLE[:10])
        for _ in range(2):
            with use(CASE_MANAGEMENT, actor=CASEWORKER):
                assert "refused" not in read_all(records).values()
        subprocess.run(
            [sys.executable, "-c", withdraw, dsn, schema, PEOPLE[3]],
            check=True,
            timeout=60,
            capture_output=True,
        )
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            found = read_all(records)
        assert [p for p, v in found.items() if v == "refused"] == [PEOPLE[3]]


def test_a_postgresql_stamp_is_withheld_while_a_writer_is_in_flight(
    postgres_schema: tuple[str, str],
) -> None:
    import psycopg

    from purposeful.consent.postgres import PostgresConsentStore

    dsn, schema = postgres_schema
    with PostgresConsentStore(dsn, schema=schema) as store:
        assert store.consent_version() is not None
        with psycopg.connect(dsn, autocommit=False) as writer:  # a writer mid-transaction
            writer.execute("SELECT pg_advisory_xact_lock_shared(%s::bigint)", [store._writers])
            assert store.consent_version() is None
            answers = store.consent_statuses_steady(
                [PEOPLE[0]], store.registry.get(CASE_MANAGEMENT), datetime.now(UTC)
            )
            assert not answers[PEOPLE[0]][0].in_force  # answered all the same
        assert store.consent_version() is not None


# --- people whose consent stands alike share one decision ---

_STATES = ("given", "given-later", "refused", "withdrawn", "never")


def _store_with(states: Sequence[str]) -> MemoryConsentStore:
    store = MemoryConsentStore()
    for person, state in zip(PEOPLE, states, strict=False):
        if state == "never":
            continue
        if state == "refused":
            store.refuse(person, CASE_MANAGEMENT, at=GIVEN_AT)
            continue
        given = GIVEN_AT + (timedelta(days=3) if state == "given-later" else timedelta(0))
        store.give(person, CASE_MANAGEMENT, at=given)
        if state == "withdrawn":
            store.withdraw(person, CASE_MANAGEMENT, at=given + timedelta(days=1))
    return store


@settings(max_examples=60, deadline=None)
@given(
    states=st.lists(st.sampled_from(_STATES), min_size=1, max_size=12),
    order=st.randoms(use_true_random=False),
    scopes=st.integers(min_value=1, max_value=3),
)
def test_each_read_is_decided_on_its_own_persons_consent(
    states: list[str], order: Any, scopes: int
) -> None:
    """Whatever the mix of people and the order of reads, in a first scope (asked) or a
    later one (answers from the cache, shared): each read is allowed exactly when that
    person's consent is in force, and its decision carries that person's status."""
    CACHE.clear()
    store = _store_with(states)
    people = PEOPLE[: len(states)]
    records = cases(people)
    with purposeful.configured(consent=store):
        for _ in range(scopes):
            reads = list(zip(records, states, strict=True))
            order.shuffle(reads)
            with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
                for record, state in reads:
                    status = store.consent_status(record.client_id, scope.purpose, scope.opened_at)
                    if state in ("given", "given-later"):
                        assert record.case_notes == f"notes of {record.client_id}"
                        continue
                    with pytest.raises(PurposeViolation) as refused:
                        record.case_notes  # noqa: B018
                    assert refused.value.decision.consent == status
                    assert Reason.CONSENT_NOT_HELD in refused.value.decision.reasons
                allowed = [
                    d for d in scope.decisions if d.field == "case_notes" and d.consent is not None
                ]
                for decision in allowed:
                    assert decision.consent in {
                        store.consent_status(p, scope.purpose, scope.opened_at) for p in people
                    }
    CACHE.clear()


def test_people_whose_consent_stands_alike_share_one_decision(counting: CountingStore) -> None:
    records = cases()
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        read_all(records)  # asks, and caches
    with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
        assert read_all(records) == expected()
    consent = [d for d in scope.decisions if d.field == "case_notes"]
    assert len(consent) == 50  # one per person read, as before
    assert len({id(d) for d in consent}) == 2  # given alike; never asked alike
