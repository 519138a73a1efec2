"""`disclose(at=...)` within `DISCLOSURE_SKEW` of this machine's clock but on another New
Zealand day: the agreement must be in force now, when the record is handed over, as well
as on at='s day; a time a few minutes back does not disclose under an agreement that
expired at midnight, nor one a few minutes ahead under one that starts at midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from _tell_us_once import (
    CASEWORKER,
    NAME,
    PHONE,
    RECEIVER,
    SUBJECT,
    TUOReferral,
    agreement,
    consent_for,
)

import purposeful
from purposeful.errors import DisclosureRefused
from purposeful.sharing import MemorySharingStore, exchange

NZ = ZoneInfo("Pacific/Auckland")


def _clock(monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
    """This machine's clock, as `disclose` reads it, stopped at *now*."""

    class Stopped(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return now.astimezone(tz)

    monkeypatch.setattr(exchange, "datetime", Stopped)


@pytest.fixture
def log() -> MemorySharingStore:
    store = MemorySharingStore()
    purposeful.configure(consent=consent_for(SUBJECT), disclosure_log=store)
    return store


def _disclose(at: datetime, **changes: object) -> object:
    return purposeful.disclose(
        TUOReferral(SUBJECT, "R-1", NAME, PHONE),
        to=RECEIVER,
        under=agreement(**changes),
        actor=CASEWORKER,
        at=at,
    )


def test_minutes_back_does_not_disclose_under_an_agreement_expired_at_midnight(
    monkeypatch: pytest.MonkeyPatch, log: MemorySharingStore
) -> None:
    # the agreement's last day is 31 December 2027; it is two minutes into 2028 in NZ
    now = datetime(2028, 1, 1, 0, 2, tzinfo=NZ)
    _clock(monkeypatch, now)
    with pytest.raises(DisclosureRefused) as refused:
        _disclose(now - timedelta(minutes=4), expires=date(2027, 12, 31))
    assert refused.value.reasons == ("agreement-expired",)
    assert log.for_subject(SUBJECT) == []


def test_minutes_ahead_does_not_disclose_under_an_agreement_that_starts_at_midnight(
    monkeypatch: pytest.MonkeyPatch, log: MemorySharingStore
) -> None:
    now = datetime(2026, 2, 28, 23, 58, tzinfo=NZ)
    _clock(monkeypatch, now)
    with pytest.raises(DisclosureRefused) as refused:
        _disclose(now + timedelta(minutes=4), starts=date(2026, 3, 1))
    assert refused.value.reasons == ("agreement-not-started",)
    assert log.for_subject(SUBJECT) == []


def test_minutes_back_on_the_same_day_still_discloses(
    monkeypatch: pytest.MonkeyPatch, log: MemorySharingStore
) -> None:
    now = datetime(2027, 12, 31, 23, 55, tzinfo=NZ)
    _clock(monkeypatch, now)
    at = now - timedelta(minutes=4)
    _disclose(at, expires=date(2027, 12, 31))
    [logged] = log.for_subject(SUBJECT)
    assert logged.at == at.astimezone(UTC)
