"""Times at the edges: a zone without an offset, the ends of ``datetime``'s range, "never
expires", and events dated ahead of the clock. Every such time is refused with a typed error
when it is given, never accepted and failing later (a bundle, a report)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import purposeful
from purposeful.consent import NEVER, ConsentEvent, MemoryConsentStore, SQLiteConsentStore
from purposeful.decisions import ConsentState
from purposeful.errors import ConfigurationError, InvalidConsentEvent, InvalidCorrection
from purposeful.sharing import MemorySharingStore

RESEARCH = "research"
NZ = timezone(timedelta(hours=13))


class NoOffset(tzinfo):
    """A zone that cannot say its offset: such a time is naive, not local time."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def dst(self, dt: datetime | None) -> None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return "nowhere"


UNRECORDABLE = [
    datetime(1, 1, 1, tzinfo=NZ),  # converting it to UTC overflows
    datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
    datetime(2200, 1, 1, tzinfo=UTC),
    datetime.max.replace(tzinfo=UTC),
    datetime(9999, 12, 31, 20, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("at", [datetime(2026, 5, 1, 9, 0, tzinfo=NoOffset()), *UNRECORDABLE])
def test_a_consent_event_at_a_time_that_is_naive_or_out_of_range_is_refused(at: datetime) -> None:
    store = MemoryConsentStore(future_skew=timedelta.max)
    with pytest.raises(InvalidConsentEvent):
        store.give("C-EDGE-1", RESEARCH, at=at)
    assert store.history("C-EDGE-1") == []


def test_never_expires_has_a_spelling_and_datetime_max_says_to_use_it() -> None:
    store = MemoryConsentStore()
    given_ = store.give("C-EDGE-2", RESEARCH, expires_at=NEVER)
    assert given_.expires_at is None
    with pytest.raises(InvalidConsentEvent, match=r"purposeful\.consent\.NEVER"):
        store.give("C-EDGE-3", RESEARCH, expires_at=datetime.max.replace(tzinfo=UTC))


def test_an_expiry_written_as_datetime_max_by_an_older_version_reads_back_as_never(
    tmp_path: pytest.TempPathFactory,
) -> None:
    path = tmp_path / "consent.sqlite3"  # type: ignore[operator]
    at = datetime(2026, 3, 2, tzinfo=UTC)
    with attrs.validators.disabled():  # as an older version let it be made
        old = ConsentEvent(
            "C-EDGE-4",
            RESEARCH,
            ConsentState.GIVEN,
            at,
            expires_at=datetime.max.replace(tzinfo=UTC),
        )
    with SQLiteConsentStore(path) as store:
        store.record(old)
    with SQLiteConsentStore(path) as again:
        (event,) = again.history("C-EDGE-4")
        assert event.expires_at is None
        assert again.consent_in_force("C-EDGE-4", RESEARCH, datetime(2100, 1, 1, tzinfo=UTC))


def test_a_withdrawal_dated_ahead_of_the_clock_is_refused_and_consent_stays_as_it_was() -> None:
    store = MemoryConsentStore()
    store.give("C-EDGE-5", RESEARCH)
    ahead = datetime.now(UTC) + timedelta(days=30)
    with pytest.raises(InvalidConsentEvent, match="ahead of this machine's clock") as refused:
        store.withdraw("C-EDGE-5", RESEARCH, at=ahead)
    assert "C-EDGE-5" not in str(refused.value)
    assert store.consent_in_force("C-EDGE-5", RESEARCH, datetime.now(UTC))
    assert [e.state for e in store.history("C-EDGE-5")] == [ConsentState.GIVEN]


def test_a_little_clock_drift_is_allowed_and_the_allowance_can_be_set() -> None:
    store = MemoryConsentStore()
    store.give("C-EDGE-6", RESEARCH, at=datetime.now(UTC) + timedelta(minutes=2))
    strict = MemoryConsentStore(future_skew=timedelta(0))
    with pytest.raises(InvalidConsentEvent):
        strict.give("C-EDGE-6", RESEARCH, at=datetime.now(UTC) + timedelta(seconds=5))
    lenient = MemoryConsentStore(future_skew=timedelta(days=1))
    lenient.withdraw("C-EDGE-6", RESEARCH, at=datetime.now(UTC) + timedelta(hours=20))


@pytest.mark.parametrize("skew", [timedelta(seconds=-1), 300, None, "5m"])
def test_a_future_skew_that_is_not_a_timedelta_of_zero_or_more_is_refused(skew: object) -> None:
    with pytest.raises(ConfigurationError, match="future_skew"):
        MemoryConsentStore(future_skew=skew)  # type: ignore[arg-type]


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, NZ, timezone(timedelta(hours=-11))]),
    )
)
def test_any_aware_time_is_recorded_or_refused_typed_never_overflowing(at: datetime) -> None:
    store = MemoryConsentStore(future_skew=timedelta.max)
    try:
        event = store.give("C-EDGE-7", RESEARCH, at=at)
    except InvalidConsentEvent:
        assert not datetime(1970, 1, 1, tzinfo=UTC) <= at < datetime(2200, 1, 1, tzinfo=UTC)
    else:
        assert event.at == at
        assert event.at.tzinfo is UTC


@purposeful.record(subject="client_id")
class EdgeReferral:
    client_id: str
    name: str = purposeful.field(
        purposes={"service-delivery.referral": purposeful.CONSENT}, category="identity"
    )


@pytest.mark.parametrize("at", [datetime(2026, 5, 1, 9, 0, tzinfo=NoOffset()), *UNRECORDABLE])
def test_a_collection_or_a_correction_at_such_a_time_is_refused(at: datetime) -> None:
    from purposeful.corrections import MemoryCorrectionStore
    from purposeful.sharing.exchange import receive

    purposeful.configure(disclosure_log=MemorySharingStore())
    with pytest.raises(ConfigurationError, match="at="):
        receive(
            EdgeReferral("C-EDGE-8", "Mere"),
            source="Kāinga Ora",
            purpose="service-delivery.referral",
            at=at,
        )
    corrections = MemoryCorrectionStore()
    with pytest.raises(InvalidCorrection, match="at="):
        corrections.request_correction(
            "C-EDGE-9", EdgeReferral("C-EDGE-9", "Mere"), "name", "Mere T", "misspelt", at=at
        )
