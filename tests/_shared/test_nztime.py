"""New Zealand time: every date is New Zealand's, written the same under any locale."""

from __future__ import annotations

import locale
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from purposeful._shared import nztime
from purposeful._shared.nztime import long_date, nz_date, nz_time
from purposeful.errors import ConfigurationError

NZ = ZoneInfo("Pacific/Auckland")
MONTHS = [datetime(2026, month, 1).strftime("%B") for month in range(1, 13)]  # C locale

#: Aware moments: in UTC, at any fixed offset, or in any IANA zone.
MOMENTS = st.datetimes(
    min_value=datetime(1900, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.one_of(
        st.just(UTC),
        st.builds(
            timezone,
            st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)),
        ),
        st.timezones(),
    ),
)


@given(MOMENTS)
def test_the_new_zealand_date_of_any_moment_is_zoneinfos(moment: datetime) -> None:
    assert nz_date(moment) == moment.astimezone(NZ).date()


@given(MOMENTS)
def test_the_time_of_day_is_converted_and_names_its_zone(moment: datetime) -> None:
    local = moment.astimezone(NZ)
    found = re.fullmatch(r"(.+), (\d{1,2}):(\d\d) (am|pm) (\S+)", nz_time(moment))
    assert found is not None
    day, hour, minute, half, zone = found.groups()
    assert day == long_date(local.date())
    assert (int(hour) % 12 + (12 if half == "pm" else 0), int(minute)) == (
        local.hour,
        local.minute,
    )
    assert zone == local.tzname()


def test_summer_and_winter_times_say_their_zone() -> None:
    assert nz_time(datetime(2026, 1, 10, 1, 5, tzinfo=UTC)) == "10 January 2026, 2:05 pm NZDT"
    assert nz_time(datetime(2026, 7, 10, 1, 5, tzinfo=UTC)) == "10 July 2026, 1:05 pm NZST"
    assert nz_time(datetime(2026, 7, 9, 12, 0, tzinfo=UTC)) == "10 July 2026, 12:00 am NZST"


def test_the_hour_repeated_when_daylight_time_ends_is_told_apart() -> None:
    # 5 April 2026: at 3:00 am NZDT the clocks go back to 2:00 am NZST
    assert nz_time(datetime(2026, 4, 4, 13, 30, tzinfo=UTC)) == "5 April 2026, 2:30 am NZDT"
    assert nz_time(datetime(2026, 4, 4, 14, 30, tzinfo=UTC)) == "5 April 2026, 2:30 am NZST"


def test_the_day_turns_at_new_zealand_midnight() -> None:
    assert nz_date(datetime(2026, 4, 30, 11, 59, tzinfo=UTC)) == date(2026, 4, 30)
    assert nz_date(datetime(2026, 4, 30, 12, 0, tzinfo=UTC)) == date(2026, 5, 1)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        nz_date(datetime(2026, 5, 1, 12, 0))
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        nz_time(datetime(2026, 5, 1, 12, 0))


def test_without_time_zone_data_times_are_converted_to_utc_and_say_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(key: str) -> ZoneInfo:
        raise ZoneInfoNotFoundError(key)

    monkeypatch.setattr(nztime, "ZoneInfo", missing)
    nztime._zone.cache_clear()
    try:
        moment = datetime(2026, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=12)))
        assert nz_time(moment) == "30 April 2026, 9:30 pm UTC"
        assert nz_date(moment) == date(2026, 4, 30)
    finally:
        monkeypatch.undo()
        nztime._zone.cache_clear()


def _other_locale() -> str | None:
    """A locale whose month names are not English, if this system has one."""
    for name in ("mi_NZ.UTF-8", "de_DE.UTF-8", "fr_FR.UTF-8", "es_ES.UTF-8", "nl_NL.UTF-8"):
        before = locale.setlocale(locale.LC_TIME)
        try:
            locale.setlocale(locale.LC_TIME, name)
            if datetime(2026, 5, 1).strftime("%B") != "May":
                return name
        except locale.Error:
            continue
        finally:
            locale.setlocale(locale.LC_TIME, before)
    return None


OTHER_LOCALE = _other_locale()


@contextmanager
def time_locale(name: str) -> Iterator[None]:
    """LC_TIME set to *name* inside the block, and put back after it."""
    before = locale.setlocale(locale.LC_TIME)
    locale.setlocale(locale.LC_TIME, name)
    try:
        yield
    finally:
        locale.setlocale(locale.LC_TIME, before)


@pytest.mark.skipif(
    OTHER_LOCALE is None,
    reason="no non-English locale on this system (e.g. localedef -i de_DE -f UTF-8 de_DE.UTF-8)",
)
@given(st.dates(), MOMENTS)
def test_dates_and_times_are_the_same_under_a_non_english_locale(
    day: date, moment: datetime
) -> None:
    assert OTHER_LOCALE is not None
    english = long_date(day), nz_time(moment)
    with time_locale(OTHER_LOCALE):
        assert datetime(2026, 5, 1).strftime("%B") != "May"  # the locale is in force
        assert (long_date(day), nz_time(moment)) == english
    assert english[0] == f"{day.day} {MONTHS[day.month - 1]} {day.year}"
