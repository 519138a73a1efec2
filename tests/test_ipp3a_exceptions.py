"""IPP 3A exceptions as values: recorded for a collection, read back, and free text refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import purposeful
from purposeful import ServiceAgreement
from purposeful.errors import ConfigurationError, SharingStoreError, UnknownIPP3AException
from purposeful.notices import (
    ExceptionReliedOn,
    IPP3AException,
    exception_relied_on,
    record_exception,
)
from purposeful.sharing import CollectionStatus, MemorySharingStore

SERVICE = ServiceAgreement("Service delivery agreement")
AFTER = datetime(2026, 6, 2, 22, 30, tzinfo=UTC)
BEFORE = datetime(2026, 4, 1, tzinfo=UTC)
REFERENCES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/#-]{0,99}", fullmatch=True)
FREE_TEXT = "Aroha Ngata rang on 3 May and already knows"  # what a caseworker might type


@purposeful.record(subject="client_id")
class ReferralIn:
    client_id: str
    phone: str = purposeful.field(purposes={"service-delivery": SERVICE})


@pytest.fixture
def log() -> Iterator[MemorySharingStore]:
    store = MemorySharingStore()
    purposeful.configure(disclosure_log=store)
    yield store
    store.close()


def collected(log: MemorySharingStore, at: datetime = AFTER) -> str:
    return log.record_collection(
        "C-9001",
        record_type="ReferralIn",
        record_key="C-9001",
        source="Kāinga Ora",
        purpose="service-delivery.referral",
        at=at,
    ).id


def test_the_exceptions_are_those_the_principle_sets_out_with_stable_values() -> None:
    assert [e.value for e in IPP3AException] == [
        "already-aware",
        "publicly-available",
        "no-prejudice",
        "maintenance-of-law",
        "prejudices-purpose",
        "not-practicable",
        "agent",
        "before-in-force",
    ]
    assert IPP3AException.AGENT.cite() == "Privacy Act 2020 s 11"
    assert IPP3AException.ALREADY_AWARE.cite() == "Privacy Act 2020 s 22, IPP 3A"
    assert all(e.describe() for e in IPP3AException)


def test_an_exception_is_recorded_as_a_value_and_read_back(log: MemorySharingStore) -> None:
    ident = collected(log)
    resolved = record_exception(
        log, ident, IPP3AException.ALREADY_AWARE, reference="FN-2291", at=AFTER
    )
    assert resolved.status is CollectionStatus.EXCEPTION
    assert resolved.how == "ipp3a:already-aware;ref=FN-2291"
    assert log.still_to_be_told() == []
    relied = exception_relied_on(log.collections("C-9001")[0])
    assert relied == ExceptionReliedOn(IPP3AException.ALREADY_AWARE, reference="FN-2291")
    assert relied is not None
    assert relied.describe() == (
        "the person is already aware of the collection (Privacy Act 2020 s 22, IPP 3A); "
        "reasons: FN-2291"
    )


def test_an_exception_may_be_given_by_its_value(log: MemorySharingStore) -> None:
    resolved = record_exception(log, collected(log), "not-practicable")
    assert exception_relied_on(resolved) == ExceptionReliedOn(IPP3AException.NOT_PRACTICABLE)


def test_free_text_is_refused_with_the_values_and_never_echoed(log: MemorySharingStore) -> None:
    ident = collected(log)
    with pytest.raises(UnknownIPP3AException) as raised:
        record_exception(log, ident, FREE_TEXT)
    message = str(raised.value)
    assert "already-aware, publicly-available, no-prejudice, maintenance-of-law" in message
    assert "reference=" in message
    assert "Aroha" not in message
    assert isinstance(raised.value, ConfigurationError)
    assert [c.id for c in log.still_to_be_told()] == [ident]  # nothing was recorded


@pytest.mark.parametrize("reference", ["file note of 3 May", "", "FN;ref=x", "x" * 101, 7])
def test_a_reference_that_is_not_an_identifier_is_refused(
    log: MemorySharingStore, reference: object
) -> None:
    ident = collected(log)
    with pytest.raises(UnknownIPP3AException, match="identifier") as raised:
        record_exception(log, ident, IPP3AException.ALREADY_AWARE, reference=reference)  # type: ignore[arg-type]
    assert "3 May" not in str(raised.value)
    assert [c.id for c in log.still_to_be_told()] == [ident]


def test_a_collection_not_resolved_under_an_exception_has_none(log: MemorySharingStore) -> None:
    ident = collected(log)
    assert exception_relied_on(log.collections("C-9001")[0]) is None
    told = log.mark_told(ident, how="letter of 3 June 2026", at=AFTER)
    assert exception_relied_on(told) is None


def test_what_receive_records_before_1_may_2026_reads_as_before_in_force(
    log: MemorySharingStore,
) -> None:
    received = purposeful.receive(
        ReferralIn("C-9002", "021 000 000"),
        source="Kāinga Ora",
        purpose="service-delivery.referral",
        at=BEFORE,
    )
    assert exception_relied_on(received) == ExceptionReliedOn(IPP3AException.BEFORE_IN_FORCE)


def test_before_in_force_is_refused_for_a_collection_after_1_may_2026(
    log: MemorySharingStore,
) -> None:
    ident = collected(log)
    with pytest.raises(UnknownIPP3AException, match="on or after 1 May 2026"):
        record_exception(log, ident, IPP3AException.BEFORE_IN_FORCE)
    earlier = collected(log, at=BEFORE)
    resolved = record_exception(log, earlier, IPP3AException.BEFORE_IN_FORCE, at=AFTER)
    assert exception_relied_on(resolved) == ExceptionReliedOn(IPP3AException.BEFORE_IN_FORCE)


def test_an_exception_recorded_as_free_text_is_refused_when_read(log: MemorySharingStore) -> None:
    ident = collected(log)
    with pytest.raises(UnknownIPP3AException, match="not free text"):  # the store refuses it
        log.mark_exception(ident, exception=FREE_TEXT, at=AFTER)
    # as an older version stored it
    [pending] = [c for c in log.still_to_be_told() if c.id == ident]
    legacy = attrs.evolve(
        pending, status=CollectionStatus.EXCEPTION, resolved_at=AFTER, how=FREE_TEXT
    )
    with pytest.raises(UnknownIPP3AException, match="free text") as raised:
        exception_relied_on(legacy)
    assert "Aroha" not in str(raised.value)
    assert "Collection.how" in str(raised.value)


def test_a_collection_resolves_once(log: MemorySharingStore) -> None:
    ident = collected(log)
    record_exception(log, ident, IPP3AException.PUBLICLY_AVAILABLE)
    with pytest.raises(SharingStoreError, match="resolved already"):
        record_exception(log, ident, IPP3AException.ALREADY_AWARE)


@given(exception=st.sampled_from(IPP3AException), reference=st.none() | REFERENCES)
def test_the_stored_text_reads_back_as_the_same_value(
    exception: IPP3AException, reference: str | None
) -> None:
    relied = ExceptionReliedOn(exception, reference=reference)
    assert ExceptionReliedOn.parse(relied.text) == relied


def _refusal(text: str) -> str | None:
    try:
        ExceptionReliedOn.parse(text)
    except UnknownIPP3AException as error:
        return str(error)
    return None


@given(text=st.text())
@example(text="ipp3a:no-such-exception")
@example(text="ipp3a:already-aware;ref=a note")
@example(text="ipp3a:already-aware;ref=")
@example(text="collected before IPP 3A came into force (1 May 2026)")
def test_any_stored_text_reads_as_a_value_or_a_typed_error_that_never_quotes_it(
    text: str,
) -> None:
    refusal = _refusal(text)
    if refusal is None:
        relied = ExceptionReliedOn.parse(text)
        assert relied.text == text or relied.exception is IPP3AException.BEFORE_IN_FORCE
    else:  # the same words whatever the text: nothing of it is quoted
        assert refusal == _refusal("free text")
