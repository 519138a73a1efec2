"""The sharing stores: every behaviour runs against each backend (`store` fixture: memory,
SQLite, PostgreSQL). The SQLite file and several processes are in test_sharing_sqlite.py,
what only PostgreSQL must do in test_sharing_postgres.py.

Personal text in the property test is wrapped in a marker character (a snowman) that appears
nowhere in purposeful's messages, so a marker found in any output can only have leaked.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from _sharing import (
    DAY,
    HOUSING,
    KEY,
    NZ,
    OTHER,
    POLICE,
    SUBJECT,
    T0,
    collect,
    disclosure,
    messages,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.vendor.pretty import pretty

from purposeful.errors import (
    ConfigurationError,
    PurposefulError,
    SharingStoreError,
    StoreClosed,
)
from purposeful.sharing import (
    BaseSharingStore,
    Collection,
    CollectionStatus,
    CorrectionNotice,
    Disclosure,
    DisclosureEntry,
    MemorySharingStore,
)
from purposeful.sharing.ipp3a import ExceptionReliedOn, IPP3AException
from purposeful.sharing.sqlite import SQLiteSharingStore
from purposeful.sharing.values import new_id
from purposeful.typing import DisclosureLog, DisclosureSource

# --- disclosures ---


def test_a_disclosure_reads_back_equal_and_in_utc(store: BaseSharingStore) -> None:
    given_in_nz = disclosure(
        at=T0.astimezone(NZ), statements=(new_id(), new_id()), fields=("address",)
    )
    assert store.log(given_in_nz) == given_in_nz
    [again] = store.disclosures(SUBJECT)
    assert again == given_in_nz
    assert again.at == T0
    assert again.at.tzinfo is UTC
    assert given_in_nz.at.tzinfo is UTC  # the value holds UTC from the start


def test_for_subject_gives_the_bundle_entries_oldest_first(store: BaseSharingStore) -> None:
    later = store.log(disclosure(at=T0 + DAY, recipient=POLICE, fields="phone"))
    earlier = store.log(disclosure())
    assert isinstance(store, DisclosureSource)
    assert isinstance(store, DisclosureLog)
    assert store.for_subject(SUBJECT) == [
        DisclosureEntry(
            at=T0,
            recipient=HOUSING,
            purpose="service-delivery.referral",
            basis=earlier.basis,
            fields=("Note.address", "Note.phone"),
            agreement="Housing referrals",
        ),
        later.entry(),
    ]
    assert later.entry().fields == ("Note.phone",)


def test_disclosures_are_oldest_first_then_in_the_order_logged(store: BaseSharingStore) -> None:
    third = store.log(disclosure(at=T0 + DAY))
    first = store.log(disclosure(at=T0, recipient=POLICE))
    second = store.log(disclosure(at=T0))
    theirs = store.log(disclosure(subject=OTHER))
    assert store.disclosures(SUBJECT) == [first, second, third]
    assert store.disclosures(OTHER) == [theirs]
    assert store.disclosures("nobody") == []


def test_logging_the_same_disclosure_again_writes_nothing(store: BaseSharingStore) -> None:
    made = disclosure()
    assert store.log(made) == made
    assert store.log(attrs.evolve(made, at=made.at.astimezone(NZ))) == made
    assert store.disclosures(SUBJECT) == [made]


def test_another_disclosure_with_a_logged_id_is_refused(store: BaseSharingStore) -> None:
    made = store.log(disclosure())
    copy = disclosure(id=made.id, subject=OTHER, recipient=POLICE)
    with pytest.raises(SharingStoreError, match=f"disclosure {made.id} is logged already") as no:
        store.log(copy)
    assert OTHER not in str(no.value)
    assert store.disclosures(SUBJECT) == [made]
    assert store.disclosures(OTHER) == []


def test_threads_logging_at_once_lose_nothing(store: BaseSharingStore) -> None:
    threads, each = 6, 10
    start = threading.Barrier(threads)
    failures: list[BaseException] = []
    logged: list[Disclosure] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(each):
                made = store.log(disclosure(at=T0 + timedelta(seconds=i), recipient=f"party {n}"))
                with lock:
                    logged.append(made)
        except BaseException as exc:  # reported below
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert failures == []
    found = store.disclosures(SUBJECT)
    assert sorted(d.id for d in found) == sorted(d.id for d in logged)
    assert [d.at for d in found] == sorted(d.at for d in found)


# --- who must be told of a correction (IPP 7) ---


def test_recipients_of_lists_every_disclosure_of_the_field(store: BaseSharingStore) -> None:
    housing = store.log(disclosure())
    police = store.log(disclosure(recipient=POLICE, fields=("phone",), at=T0 + DAY))
    housing_again = store.log(disclosure(fields=("address",), at=T0 + 2 * DAY))
    store.log(disclosure(record_key="N-2"))  # another record
    store.log(disclosure(record_type="Profile"))  # another record type
    store.log(disclosure(subject=OTHER))  # someone else's
    assert store.recipients_of(SUBJECT, "Note", KEY, "address") == [housing, housing_again]
    assert store.recipients_of(SUBJECT, "Note", KEY, "phone") == [housing, police]
    assert store.recipients_of(SUBJECT, "Note", KEY, "history") == []
    assert store.recipients_of(SUBJECT, "Note", "N-9", "phone") == []


def test_still_to_tell_leaves_out_parties_told_of_that_correction(
    store: BaseSharingStore,
) -> None:
    housing = store.log(disclosure())
    police = store.log(disclosure(recipient=POLICE, at=T0 + DAY))
    correction, another = new_id(), new_id()
    assert store.still_to_tell(correction, SUBJECT, "Note", KEY, "phone") == [housing, police]
    told = store.record_told(housing.id, correction, how="email to their privacy officer")
    assert told == CorrectionNotice(
        housing.id, correction, HOUSING, told.told_at, "email to their privacy officer"
    )
    assert store.still_to_tell(correction, SUBJECT, "Note", KEY, "phone") == [police]
    assert store.still_to_tell(another, SUBJECT, "Note", KEY, "phone") == [housing, police]
    store.record_told(police.id, correction, how="letter", at=T0 + 2 * DAY)
    assert store.still_to_tell(correction, SUBJECT, "Note", KEY, "phone") == []


def test_a_party_that_received_the_statement_with_the_field_is_not_to_tell(
    store: BaseSharingStore,
) -> None:
    correction = new_id()
    before = store.log(disclosure())
    after = store.log(disclosure(recipient=POLICE, at=T0 + DAY, statements=(correction,)))
    assert store.recipients_of(SUBJECT, "Note", KEY, "address") == [before, after]
    assert store.still_to_tell(correction, SUBJECT, "Note", KEY, "address") == [before]
    assert store.still_to_tell(new_id(), SUBJECT, "Note", KEY, "address") == [before, after]


def test_notices_read_back_equal_oldest_first(store: BaseSharingStore) -> None:
    housing = store.log(disclosure())
    police = store.log(disclosure(recipient=POLICE))
    correction = new_id()
    later = store.record_told(housing.id, correction, how="letter", at=T0 + 2 * DAY)
    earlier = store.record_told(
        police.id, correction, how="phone call", at=(T0 + DAY).astimezone(NZ)
    )
    assert earlier.told_at.tzinfo is UTC
    assert store.notices(correction) == [earlier, later]
    assert store.notices(new_id()) == []


def test_a_party_is_told_of_a_correction_once(store: BaseSharingStore) -> None:
    made = store.log(disclosure())
    correction = new_id()
    first = store.record_told(made.id, correction, how="email", at=T0 + DAY)
    with pytest.raises(SharingStoreError, match="told once") as refused:
        store.record_told(made.id, correction, how="again", at=T0 + 2 * DAY)
    assert f"{HOUSING!r} was recorded as told of correction {correction}" in str(refused.value)
    assert "on 2026-05-05" in str(refused.value)
    assert store.notices(correction) == [first]


def test_telling_of_an_unknown_disclosure_is_refused_without_echoing_it(
    store: BaseSharingStore,
) -> None:
    unknown = new_id()
    with pytest.raises(SharingStoreError, match=f"no disclosure has the id '{unknown}'"):
        store.record_told(unknown, new_id(), how="email")
    with pytest.raises(SharingStoreError, match="no disclosure has the id given") as refused:
        store.record_told(SUBJECT, new_id(), how="email")
    assert SUBJECT not in str(refused.value)
    assert store.notices(unknown) == []


def test_a_party_cannot_be_told_before_the_disclosure(store: BaseSharingStore) -> None:
    made = store.log(disclosure())
    correction = new_id()
    with pytest.raises(ConfigurationError, match="on or after"):
        store.record_told(made.id, correction, how="email", at=T0 - timedelta(microseconds=1))
    assert store.notices(correction) == []
    assert store.record_told(made.id, correction, how="email", at=T0).told_at == T0


def test_threads_telling_one_party_at_once_record_it_once(store: BaseSharingStore) -> None:
    made = store.log(disclosure())
    correction = new_id()
    outcomes = race(6, lambda n: store.record_told(made.id, correction, how=f"email {n}"))
    assert sorted(outcomes) == ["refused"] * 5 + ["won"]
    assert len(store.notices(correction)) == 1


@pytest.mark.parametrize(
    "correction",
    [None, "0" * 32, {"id": "0" * 32, "status": "applied"}],
    ids=["none", "an-id", "a-dict"],
)
def test_parties_to_tell_takes_a_correction_only(
    store: BaseSharingStore, correction: object
) -> None:
    with pytest.raises(ConfigurationError, match=r"takes a purposeful\.corrections\.Correction"):
        store.parties_to_tell(correction)  # type: ignore[arg-type]


def test_the_sharing_and_correction_stores_load_no_feature() -> None:
    """Stores sit below the features built on them: importing one loads none of access,
    audit, notices, insights, testing or the command line."""
    features = ("access", "audit", "notices", "insights", "testing", "cli")
    script = (
        "import sys, purposeful.sharing, purposeful.corrections, purposeful.consent\n"
        "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('purposeful.')}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert not [name for name in features if f"'{name}'" in loaded], loaded


# --- collections (IPP 3A) ---


def test_a_collection_is_to_tell_until_told(store: BaseSharingStore) -> None:
    collected = collect(store, at=T0.astimezone(NZ))
    assert collected.status is CollectionStatus.TO_TELL
    assert collected.collected_at.tzinfo is UTC
    assert (collected.resolved_at, collected.how) == (None, None)
    assert store.still_to_be_told() == [collected]
    assert store.still_to_be_told(SUBJECT) == [collected]
    assert store.still_to_be_told(OTHER) == []
    told = store.mark_told(collected.id, how="letter of 5 May", at=T0 + DAY)
    assert told == attrs.evolve(
        collected, status=CollectionStatus.TOLD, resolved_at=T0 + DAY, how="letter of 5 May"
    )
    assert store.still_to_be_told() == []
    assert store.collections(SUBJECT) == [told]


def test_a_collection_can_be_resolved_by_an_exception(store: BaseSharingStore) -> None:
    collected = collect(store, law=None)
    excepted = store.mark_exception(
        collected.id, exception=IPP3AException.ALREADY_AWARE, at=T0 + DAY
    )
    assert excepted.status is CollectionStatus.EXCEPTION
    assert excepted.how == "ipp3a:already-aware"
    assert excepted.law is None
    assert store.collections(SUBJECT) == [excepted]
    assert store.still_to_be_told() == []


def test_collections_are_listed_oldest_first_for_one_subject_or_all(
    store: BaseSharingStore,
) -> None:
    late = collect(store, at=T0 + DAY)
    theirs = collect(store, OTHER, at=T0)
    early = collect(store, at=T0 - DAY)
    tie = collect(store, at=T0)
    assert store.still_to_be_told() == [early, theirs, tie, late]
    assert store.still_to_be_told(SUBJECT) == [early, tie, late]
    told = store.mark_told(tie.id, how="phone call", at=T0 + DAY)
    assert store.still_to_be_told() == [early, theirs, late]
    assert store.collections(SUBJECT) == [early, told, late]
    assert store.collections(OTHER) == [theirs]
    assert store.collections("nobody") == []


@pytest.mark.parametrize("first", ["told", "exception"])
def test_a_collection_is_resolved_once(store: BaseSharingStore, first: str) -> None:
    collected = collect(store)
    if first == "told":
        resolved = store.mark_told(collected.id, how="letter", at=T0 + DAY)
    else:
        resolved = store.mark_exception(
            collected.id, exception=IPP3AException.ALREADY_AWARE, at=T0 + DAY
        )
    for again in (
        lambda: store.mark_told(collected.id, how="email", at=T0 + 2 * DAY),
        lambda: store.mark_exception(
            collected.id, exception=IPP3AException.PREJUDICES_PURPOSE, at=T0 + 2 * DAY
        ),
    ):
        with pytest.raises(
            SharingStoreError,
            match=f"collection {collected.id} is resolved already: {first} on 2026-05-05",
        ):
            again()
    assert store.collections(SUBJECT) == [resolved]


def test_an_unknown_collection_is_refused_without_echoing_the_id(
    store: BaseSharingStore,
) -> None:
    unknown = new_id()
    with pytest.raises(SharingStoreError, match=f"no collection has the id '{unknown}'"):
        store.mark_told(unknown, how="letter")
    with pytest.raises(SharingStoreError, match="no collection has the id given") as refused:
        store.mark_exception(SUBJECT, exception=IPP3AException.ALREADY_AWARE)
    assert SUBJECT not in str(refused.value)


def test_a_collection_cannot_be_resolved_before_it_was_made(store: BaseSharingStore) -> None:
    collected = collect(store)
    with pytest.raises(ConfigurationError, match="on or after"):
        store.mark_told(collected.id, how="letter", at=T0 - DAY)
    assert store.still_to_be_told() == [collected]


def test_threads_resolving_one_collection_at_once_leave_one_winner(
    store: BaseSharingStore,
) -> None:
    collections = [collect(store, record_key=f"R-{n}") for n in range(3)]
    for collected in collections:

        def resolve(n: int, ident: str = collected.id) -> Collection:
            if n % 2:
                return store.mark_told(ident, how=f"letter {n}")
            return store.mark_exception(
                ident,
                exception=ExceptionReliedOn(IPP3AException.ALREADY_AWARE, reference=f"FN-{n}"),
            )

        assert sorted(race(6, resolve)) == ["refused"] * 5 + ["won"]
    assert store.still_to_be_told() == []
    assert all(c.status is not CollectionStatus.TO_TELL for c in store.collections(SUBJECT))


def race(threads: int, attempt: Callable[[int], object]) -> list[str]:
    """Run *attempt* on *threads* threads at once: "won" or "refused" (SharingStoreError)
    for each."""
    start = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        start.wait()
        try:
            attempt(n)
            outcome = "won"
        except SharingStoreError:
            outcome = "refused"
        except BaseException as exc:
            outcome = f"unexpected {type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return outcomes


# --- refusing what cannot be right ---


def test_times_default_to_now_in_utc(store: BaseSharingStore) -> None:
    before = datetime.now(UTC)
    collected = collect(store, at=None)
    made = store.log(disclosure(at=before))
    told = store.record_told(made.id, new_id(), how="email")
    resolved = store.mark_told(collected.id, how="letter")
    after = datetime.now(UTC)
    for moment in (collected.collected_at, told.told_at, resolved.resolved_at):
        assert moment is not None
        assert before <= moment <= after
        assert moment.tzinfo is UTC


def test_naive_datetimes_are_refused_everywhere(store: BaseSharingStore) -> None:
    naive = datetime(2026, 5, 4, 9, 30)
    made = store.log(disclosure())
    collected = collect(store)
    calls: list[Callable[[], object]] = [
        lambda: disclosure(at=naive),
        lambda: CorrectionNotice(made.id, new_id(), HOUSING, naive, "email"),
        lambda: attrs.evolve(collected, collected_at=naive),
        lambda: attrs.evolve(
            collected, status=CollectionStatus.TOLD, resolved_at=naive, how="letter"
        ),
        lambda: store.record_told(made.id, new_id(), how="email", at=naive),
        lambda: collect(store, at=naive),
        lambda: store.mark_told(collected.id, how="letter", at=naive),
        lambda: store.mark_exception(
            collected.id, exception=IPP3AException.ALREADY_AWARE, at=naive
        ),
    ]
    for call in calls:
        with pytest.raises(ConfigurationError, match="pass an aware datetime"):
            call()
    assert store.collections(SUBJECT) == [collected]
    assert store.disclosures(SUBJECT) == [made]


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"id": "D-1"}, r"Disclosure.id must be 32 lower-case hexadecimal digits"),
        ({"id": new_id().upper()}, r"Disclosure.id must be 32"),
        ({"subject": " "}, r"Disclosure.subject must be non-empty text"),
        ({"recipient": 7}, r"Disclosure.recipient must be non-empty text"),
        ({"basis": "s 66C\x00"}, r"Disclosure.basis holds a NUL character"),
        ({"record_key": "N-\ud800"}, r"Disclosure.record_key holds .* unpaired surrogate"),
        ({"record_type": "Note.address value"}, r"Disclosure.record_type must be a record"),
        ({"record_type": ""}, r"Disclosure.record_type must be a record"),
        ({"fields": ()}, r"Disclosure.fields must name at least one field"),
        ({"fields": ("Note.address",)}, r"not 'Type.field'"),
        ({"fields": ("address", "address")}, r"names a field twice"),
        ({"fields": 3}, r"take a tuple of names"),
        ({"statements": ("C-1",)}, r"Disclosure.statements takes correction ids"),
        ({"statements": ("0" * 32, "0" * 32)}, r"names a correction twice"),
    ],
)
def test_a_malformed_disclosure_is_refused_when_made(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        disclosure(**changes)


def test_record_types_may_be_nested_or_local_and_a_field_may_be_given_alone() -> None:
    made = disclosure(record_type="test_x.<locals>.Note", fields="address")
    assert made.fields == ("address",)
    assert disclosure(record_type="Outer.Inner").entry().fields == (
        "Outer.Inner.address",
        "Outer.Inner.phone",
    )


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"status": CollectionStatus.TOLD}, "told must have both resolved_at and how"),
        ({"resolved_at": T0}, "to-tell must have neither resolved_at nor how"),
        ({"how": "letter"}, "must have neither resolved_at nor how"),
        ({"status": "to-tell"}, "Collection.status must be a CollectionStatus"),
        ({"law": ""}, "Collection.law must be non-empty text"),
    ],
)
def test_a_collection_whose_status_does_not_fit_is_refused(
    changes: dict[str, Any], match: str
) -> None:
    values: dict[str, Any] = {
        "id": new_id(),
        "subject": SUBJECT,
        "record_type": "Referral",
        "record_key": KEY,
        "source": POLICE,
        "purpose": "service-delivery.referral",
        "collected_at": T0,
        "law": None,
        "status": CollectionStatus.TO_TELL,
    }
    values.update(changes)
    with pytest.raises(ConfigurationError, match=match):
        Collection(**values)


def test_malformed_arguments_are_refused_and_change_nothing(store: BaseSharingStore) -> None:
    made = store.log(disclosure())
    collected = collect(store)
    correction = new_id()
    calls: list[tuple[Callable[[], object], str]] = [
        (lambda: store.log({"id": made.id}), "log\\(\\) takes a Disclosure, not dict"),  # type: ignore[arg-type]
        (lambda: store.disclosures(""), "subject= takes the person's identifier"),
        (lambda: store.disclosures(7), "subject= takes"),  # type: ignore[arg-type]
        (lambda: store.recipients_of(SUBJECT, "Note", KEY, "Note.address"), "not 'Type.field'"),
        (lambda: store.recipients_of(SUBJECT, "a note", KEY, "address"), "record_type= takes"),
        (lambda: store.recipients_of(SUBJECT, "Note", "", "address"), "record_key= takes"),
        (lambda: store.still_to_tell("C-1", SUBJECT, "Note", KEY, "address"), "correction_id="),
        (lambda: store.notices(SUBJECT), "correction_id= takes a Correction.id"),
        (lambda: store.record_told(made.id, "C-1", how="email"), "correction_id="),
        (lambda: store.record_told(made.id, correction, how=" "), "how= takes how the party"),
        (lambda: store.record_told(made.id, correction, how="a\x00b"), "how= holds a NUL"),
        (lambda: store.mark_told(collected.id, how=""), "how= takes how the person was told"),
        (lambda: store.mark_exception(collected.id, exception=""), "not free text"),
        (lambda: store.mark_exception(collected.id, exception="she knows"), "not free text"),
        (lambda: collect(store, source=""), "Collection.source must be non-empty text"),
        (lambda: collect(store, record_type="Referral of"), "Collection.record_type must be"),
        (lambda: store.still_to_be_told(""), "subject= takes"),
        (lambda: store.collections(""), "subject= takes"),
    ]
    for call, match in calls:
        with pytest.raises(ConfigurationError, match=match):
            call()
    assert store.disclosures(SUBJECT) == [made]
    assert store.notices(correction) == []
    assert store.collections(SUBJECT) == [collected]


def test_text_no_store_can_hold_finds_nothing(store: BaseSharingStore) -> None:
    store.log(disclosure())
    for subject in ("client-\x00", "client-\ud800"):
        assert store.disclosures(subject) == []
        assert store.for_subject(subject) == []
        assert store.recipients_of(subject, "Note", KEY, "address") == []
        assert store.collections(subject) == []
        assert store.still_to_be_told(subject) == []
    assert store.recipients_of(SUBJECT, "Note", "N-\x00", "address") == []


# --- closing ---


def test_a_closed_store_raises_store_closed_for_everything(store: BaseSharingStore) -> None:
    made = store.log(disclosure())
    collected = collect(store)
    with store as entered:
        assert entered is store
    assert store.closed
    store.close()  # harmless
    correction = new_id()
    calls: list[Callable[[], object]] = [
        lambda: store.log(disclosure()),
        lambda: store.for_subject(SUBJECT),
        lambda: store.disclosures(SUBJECT),
        lambda: store.recipients_of(SUBJECT, "Note", KEY, "address"),
        lambda: store.still_to_tell(correction, SUBJECT, "Note", KEY, "address"),
        lambda: store.record_told(made.id, correction, how="email"),
        lambda: store.notices(correction),
        lambda: collect(store),
        lambda: store.still_to_be_told(),
        lambda: store.still_to_be_told(SUBJECT),
        lambda: store.collections(SUBJECT),
        lambda: store.mark_told(collected.id, how="letter"),
        lambda: store.mark_exception(collected.id, exception=IPP3AException.ALREADY_AWARE),
        store.__enter__,
    ]
    for call in calls:
        with pytest.raises(StoreClosed, match="is closed; open the store again") as closed:
            call()
        assert SUBJECT not in messages(closed.value)


# --- what is shown ---


def test_reprs_show_ids_types_parties_and_statuses_only(store: BaseSharingStore) -> None:
    made = store.log(disclosure())
    correction = new_id()
    told = store.record_told(made.id, correction, how="email to the privacy officer")
    collected = store.mark_told(collect(store).id, how="letter to 12 Cuba Street")
    expected = {
        made: (
            f"Disclosure(id={made.id!r}, recipient='Kāinga Ora', agreement='housing-referrals', "
            f"purpose='service-delivery.referral', record_type='Note', "
            f"fields=('address', 'phone'))"
        ),
        told: (
            f"CorrectionNotice(disclosure_id={made.id!r}, correction_id={correction!r}, "
            f"recipient='Kāinga Ora')"
        ),
        collected: (
            f"Collection(id={collected.id!r}, record_type='Referral', source='NZ Police', "
            f"purpose='service-delivery.referral', status=CollectionStatus.TOLD)"
        ),
    }
    for value, shown in expected.items():
        assert repr(value) == str(value) == pretty(value) == shown
        assert repr([value]) == f"[{shown}]"


# --- nothing personal leaks ---

MARK = "\u2603"
personal = st.text(st.characters(categories=["L"]), min_size=3, max_size=12).map(
    lambda s: f"{MARK}{s}{MARK}"
)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    subject=personal,
    other=personal,
    key=personal,
    how=personal,
    exception=personal,
    law=personal,
    words=personal,
)
def test_no_message_or_repr_holds_a_subject_key_or_stored_text(
    kind: str,
    tmp_path: Path,
    subject: str,
    other: str,
    key: str,
    how: str,
    exception: str,
    law: str,
    words: str,
) -> None:
    assume(subject != other)
    store: BaseSharingStore = (
        MemorySharingStore()
        if kind == "memory"
        else SQLiteSharingStore(tmp_path / f"{uuid.uuid4().hex}.sqlite3")
    )
    texts: list[str] = []

    def refused(call: Callable[[], object]) -> None:
        with pytest.raises(PurposefulError) as caught:
            call()
        texts.append(messages(caught.value))

    with store:
        made = store.log(
            disclosure(subject=subject, record_key=key, agreement_name=words, basis=words)
        )
        texts.append(repr(made))
        texts.append(pretty(store.disclosures(subject)))
        refused(lambda: store.log(attrs.evolve(made, subject=other, record_key=other)))
        for bad in (
            {"record_type": key},
            {"fields": (key,)},
            {"statements": (key,)},
            {"id": subject},
            {"subject": subject + "\x00"},
            {"at": datetime(2026, 5, 4)},
        ):
            refused(functools.partial(disclosure, **{"subject": subject, "record_key": key, **bad}))
        refused(lambda: store.recipients_of(subject, key, key, "address"))
        refused(lambda: store.recipients_of(subject, "Note", key, key))
        refused(lambda: store.still_to_tell(key, subject, "Note", key, "address"))
        for ident in (subject, key, how):
            refused(functools.partial(store.record_told, ident, new_id(), how=how))
            refused(functools.partial(store.mark_told, ident, how=how))
            refused(functools.partial(store.mark_exception, ident, exception=exception))
            refused(functools.partial(store.notices, ident))
        correction = new_id()
        refused(lambda: store.record_told(made.id, correction, how=how, at=T0 - DAY))
        told = store.record_told(made.id, correction, how=how, at=T0)
        texts.append(repr(told))
        refused(lambda: store.record_told(made.id, correction, how=how, at=T0))
        collected = store.record_collection(
            subject,
            record_type="Referral",
            record_key=key,
            source=POLICE,
            purpose="service-delivery.referral",
            law=law,
            at=T0,
        )
        texts.append(repr(collected))
        refused(lambda: store.mark_told(collected.id, how=how, at=T0 - DAY))
        refused(lambda: store.mark_told(collected.id, how=how + "\x00", at=T0))
        refused(lambda: store.mark_exception(collected.id, exception=exception, at=T0))
        excepted = store.mark_exception(collected.id, exception=IPP3AException.NO_PREJUDICE, at=T0)
        texts.append(repr(excepted))
        texts.append(pretty(store.collections(subject)))
        refused(lambda: store.mark_told(collected.id, how=how))
        refused(lambda: store.mark_exception(collected.id, exception=exception))
        refused(lambda: attrs.evolve(excepted, how=None))
        refused(
            lambda: store.record_collection(
                subject, record_type=key, record_key=key, source=POLICE, purpose="p", law=law
            )
        )
    for call in (
        lambda: store.disclosures(subject),
        lambda: store.record_told(made.id, new_id(), how=how),
        lambda: store.mark_told(collected.id, how=how),
    ):
        refused(call)
    assert len(texts) > 30
    for text in texts:
        assert MARK not in text, text


def test_log_all_logs_several_disclosures_in_order(store: BaseSharingStore) -> None:
    made = [disclosure(at=T0 + n * DAY, record_key=f"N-{n}") for n in range(3)]
    assert store.log_all(made) == made
    assert store.disclosures(SUBJECT) == made
    assert store.log_all(made) == made  # a retry of the whole batch writes nothing
    assert store.log_all([]) == []
    assert store.disclosures(SUBJECT) == made


@pytest.mark.parametrize("where", [0, 1, 2])
def test_log_all_with_one_refused_writes_none(store: BaseSharingStore, where: int) -> None:
    """One hand-over is logged whole or not at all: a disclosure whose id is logged with
    other details, anywhere in the batch, leaves the log as it was."""
    earlier = store.log(disclosure(subject=OTHER))
    batch = [disclosure(at=T0 + n * DAY, record_key=f"N-{n}") for n in range(3)]
    batch[where] = disclosure(id=earlier.id)  # the same id, another person's details
    with pytest.raises(SharingStoreError, match="is logged already"):
        store.log_all(batch)
    assert store.disclosures(SUBJECT) == []
    assert store.disclosures(OTHER) == [earlier]


def test_log_all_takes_disclosures_only(store: BaseSharingStore) -> None:
    with pytest.raises(ConfigurationError, match="takes a Disclosure"):
        store.log_all([disclosure(), "not a disclosure"])  # type: ignore[list-item]
    assert store.disclosures(SUBJECT) == []
