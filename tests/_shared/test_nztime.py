"""New Zealand time: every date is New Zealand's, written the same under any locale."""

from __future__ import annotations

import ast
import locale
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import given
from hypothesis import strategies as st

import purposeful
from purposeful._shared import nztime
from purposeful._shared.nztime import long_date, nz_date, nz_time
from purposeful.errors import ConfigurationError, TimeZoneDataMissing

NZ = ZoneInfo("Pacific/Auckland")
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

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


@pytest.fixture
def no_time_zone_data(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """`ZoneInfo` finds no zone, as on a system without tzdata; yields the keys asked for."""
    asked: list[str] = []

    def missing(key: str) -> ZoneInfo:
        asked.append(key)
        raise ZoneInfoNotFoundError(f"No time zone found with key {key}")

    monkeypatch.setattr(nztime, "ZoneInfo", missing)
    nztime._zone.cache_clear()
    try:
        yield asked
    finally:
        monkeypatch.undo()
        nztime._zone.cache_clear()


MOMENT = datetime(2026, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=12)))


@pytest.mark.parametrize("convert", [nz_date, nz_time], ids=["nz_date", "nz_time"])
def test_without_time_zone_data_a_conversion_fails_and_says_to_install_tzdata(
    no_time_zone_data: list[str], convert: object
) -> None:
    assert callable(convert)
    with pytest.raises(TimeZoneDataMissing) as raised:
        convert(MOMENT)
    message = str(raised.value)
    assert "Pacific/Auckland" in message
    assert "pip install tzdata" in message
    assert "does not fall back to UTC" in message
    assert no_time_zone_data == ["Pacific/Auckland"]


def test_the_missing_zone_error_is_a_configuration_error_and_a_value_error(
    no_time_zone_data: list[str],
) -> None:
    with pytest.raises(ConfigurationError):
        nz_date(MOMENT)
    with pytest.raises(ValueError, match="tzdata"):
        nz_time(MOMENT)


@pytest.mark.parametrize(
    "failure",
    [ValueError("Invalid TZif file: magic not found"), IsADirectoryError(21, "Is a directory")],
    ids=["corrupt", "unreadable"],
)
def test_unusable_time_zone_data_fails_the_same_way(
    monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    def broken(key: str) -> ZoneInfo:
        raise failure

    monkeypatch.setattr(nztime, "ZoneInfo", broken)
    nztime._zone.cache_clear()
    try:
        with pytest.raises(TimeZoneDataMissing, match=type(failure).__name__):
            nz_date(MOMENT)
    finally:
        monkeypatch.undo()
        nztime._zone.cache_clear()


def test_a_failure_is_not_remembered_once_the_data_is_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(key: str) -> ZoneInfo:
        raise ZoneInfoNotFoundError(key)

    monkeypatch.setattr(nztime, "ZoneInfo", missing)
    nztime._zone.cache_clear()
    try:
        with pytest.raises(TimeZoneDataMissing):
            nz_date(MOMENT)
        monkeypatch.undo()  # tzdata installed while the process runs
        assert nz_date(MOMENT) == date(2026, 5, 1)
        assert nz_time(MOMENT) == "1 May 2026, 9:30 am NZST"
    finally:
        monkeypatch.undo()
        nztime._zone.cache_clear()


def test_dates_as_words_need_no_time_zone_data(no_time_zone_data: list[str]) -> None:
    assert long_date(date(2026, 12, 10)) == "10 December 2026"
    assert no_time_zone_data == []


def test_the_module_has_no_utc_fallback_left() -> None:
    tree = ast.parse(Path(nztime.__file__).read_text(encoding="utf-8"))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert "UTC" not in names | imported
    assert "timezone" not in imported


SOURCE = Path(purposeful.__file__).parent


def test_no_source_file_formats_with_a_locale_dependent_directive() -> None:
    # strftime's month and weekday names and am/pm follow LC_TIME: an explanation written
    # with them changes with the machine's locale.
    directives = re.compile(r"%[-#]?[aAbBcpPxX]")
    found = [
        f"{path.relative_to(SOURCE)}:{number}"
        for path in sorted(SOURCE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if directives.search(line)
    ]
    assert found == []


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


def test_a_new_zealand_wall_time_is_the_moment_its_clock_showed() -> None:
    assert nztime.in_nz(datetime(2026, 12, 2)).utcoffset() == timedelta(hours=13)
    assert nztime.in_nz(datetime(2026, 6, 2, 9, 30)).utcoffset() == timedelta(hours=12)
    # the hour the clocks skip (27 September 2026, 2 am) becomes the hour after it
    assert nztime.in_nz(datetime(2026, 9, 27, 2, 30)).hour == 3
    # the hour the clocks repeat (5 April 2026, 2 am): the earlier of the two
    assert nztime.in_nz(datetime(2026, 4, 5, 2, 30)).utcoffset() == timedelta(hours=13)
    with pytest.raises(ConfigurationError, match="this one has a timezone"):
        nztime.in_nz(datetime.now(nztime._zone()))
