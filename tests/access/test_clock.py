"""The Privacy Act 2020 working-day calendar and the access-request response clock.

Examples pin the facts in the domain notes (the worked example, Matariki, Easter,
Mondayisation, the Christmas–New Year period, regional anniversaries); properties check
the counting functions against a plain day-by-day count, and the number of working days in
every year against a count derived from s 7 rather than from the implementation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from purposeful.access.clock import (
    ACCESS_RESPONSE_DAYS,
    FIRST_YEAR,
    LAST_YEAR,
    MATARIKI,
    TRANSFER_DAYS,
    ResponseClock,
    add_working_days,
    is_working_day,
    non_working_reason,
    working_days_between,
)
from purposeful.errors import ConfigurationError, UnsupportedDate

CHRISTMAS_PERIOD = "Christmas–New Year period (25 December–15 January)"
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)

in_range = st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR, 12, 31))
# a year has 238 or 239 working days, so 250 from any of these starts fits before 2053
starts = st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR - 1, 6, 30))
counts = st.integers(min_value=1, max_value=250)


def days_after(start: date, end: date) -> list[date]:
    """Every day d with start < d <= end."""
    return [start + timedelta(days=n) for n in range(1, (end - start).days + 1)]


def count_working(start: date, end: date) -> int:
    """Working days in (start, end], counted one day at a time."""
    return sum(1 for day in days_after(start, end) if is_working_day(day))


# --- the worked example ----------------------------------------------------------------


def test_worked_example_from_the_domain_notes() -> None:
    received = date(2026, 12, 10)
    assert received.weekday() == 3  # Thursday
    clock = ResponseClock(received)
    assert clock.transfer_due == date(2026, 12, 24)
    assert clock.due == date(2027, 1, 29)
    assert add_working_days(received, TRANSFER_DAYS) == date(2026, 12, 24)
    assert add_working_days(received, ACCESS_RESPONSE_DAYS) == date(2027, 1, 29)


def test_time_limits_are_those_of_sections_43_and_44() -> None:
    assert ACCESS_RESPONSE_DAYS == 20
    assert TRANSFER_DAYS == 10


def test_counting_starts_the_day_after_even_when_received_on_a_non_working_day() -> None:
    # Saturday 7 March 2026 and the Friday before both count forward from Monday 9 March
    assert add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)
    assert add_working_days(date(2026, 3, 9), 1) == date(2026, 3, 10)


# --- Matariki -------------------------------------------------------------------------


def test_matariki_schedule_covers_exactly_the_calendar_years() -> None:
    assert sorted(MATARIKI) == list(YEARS)
    assert (FIRST_YEAR, LAST_YEAR) == (2022, 2052)
    assert MATARIKI[2022] == date(2022, 6, 24)
    assert MATARIKI[2041] == date(2041, 7, 19)
    assert MATARIKI[2052] == date(2052, 6, 21)
    assert all(day.year == year for year, day in MATARIKI.items())


def test_matariki_schedule_is_read_only() -> None:
    with pytest.raises(TypeError):
        MATARIKI[2053] = date(2053, 7, 11)  # type: ignore[index]


@pytest.mark.parametrize("year", YEARS)
def test_matariki_is_not_a_working_day_but_the_days_around_it_are(year: int) -> None:
    matariki = MATARIKI[year]
    assert matariki.weekday() == 4  # every scheduled Matariki is a Friday
    assert not is_working_day(matariki)
    assert non_working_reason(matariki) == "Matariki"
    assert is_working_day(matariki - timedelta(days=1))  # Thursday
    assert non_working_reason(matariki + timedelta(days=1)) == "Saturday"
    assert is_working_day(matariki + timedelta(days=3))  # Monday


# --- Easter ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "easter_sunday",
    [
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
        date(2035, 3, 25),
        date(2038, 4, 25),
    ],
)
def test_good_friday_and_easter_monday_are_not_working_days(easter_sunday: date) -> None:
    assert easter_sunday.weekday() == 6
    good_friday = easter_sunday - timedelta(days=2)
    easter_monday = easter_sunday + timedelta(days=1)
    assert non_working_reason(good_friday) == "Good Friday"
    assert "Easter Monday" in (non_working_reason(easter_monday) or "")
    assert is_working_day(good_friday - timedelta(days=1))  # Thursday before
    assert non_working_reason(easter_sunday - timedelta(days=1)) == "Saturday"
    assert non_working_reason(easter_sunday) == "Sunday"


def test_known_good_fridays() -> None:
    assert non_working_reason(date(2025, 4, 18)) == "Good Friday"
    assert non_working_reason(date(2026, 4, 3)) == "Good Friday"
    assert non_working_reason(date(2027, 3, 26)) == "Good Friday"
    assert non_working_reason(date(2025, 4, 21)) == "Easter Monday"
    assert non_working_reason(date(2026, 4, 6)) == "Easter Monday"
    assert non_working_reason(date(2027, 3, 29)) == "Easter Monday"
    # the Tuesday after is a working day
    assert is_working_day(date(2026, 4, 7))


# --- Waitangi Day and Anzac Day, and Mondayisation ------------------------------------


def test_waitangi_day_on_a_saturday_moves_to_the_monday() -> None:
    assert date(2027, 2, 6).weekday() == 5
    assert non_working_reason(date(2027, 2, 6)) == "Saturday"
    assert non_working_reason(date(2027, 2, 8)) == "Waitangi Day (Mondayised)"
    assert is_working_day(date(2027, 2, 9))


def test_waitangi_day_on_a_sunday_moves_to_the_monday() -> None:
    assert date(2028, 2, 6).weekday() == 6
    assert non_working_reason(date(2028, 2, 7)) == "Waitangi Day (Mondayised)"


def test_waitangi_day_on_a_weekday_is_not_mondayised() -> None:
    assert date(2026, 2, 6).weekday() == 4
    assert non_working_reason(date(2026, 2, 6)) == "Waitangi Day"
    assert date(2026, 2, 9).weekday() == 0
    assert is_working_day(date(2026, 2, 9))


def test_anzac_day_on_a_saturday_moves_to_the_monday() -> None:
    assert date(2026, 4, 25).weekday() == 5
    assert not is_working_day(date(2026, 4, 25))
    assert non_working_reason(date(2026, 4, 27)) == "Anzac Day (Mondayised)"
    assert is_working_day(date(2026, 4, 28))


def test_anzac_day_on_a_weekday_is_not_mondayised() -> None:
    assert date(2025, 4, 25).weekday() == 4
    assert non_working_reason(date(2025, 4, 25)) == "Anzac Day"
    assert is_working_day(date(2025, 4, 28))


def test_anzac_day_on_easter_sunday_moves_onto_easter_monday_only() -> None:
    # 2038: Easter Sunday is 25 April; s 7 moves Anzac Day to "the following Monday" only
    reason = non_working_reason(date(2038, 4, 26))
    assert reason is not None
    assert "Easter Monday" in reason
    assert "Anzac Day (Mondayised)" in reason
    assert is_working_day(date(2038, 4, 27))


# --- the Sovereign's birthday and Labour Day ------------------------------------------


def test_sovereigns_birthday_is_the_first_monday_in_june() -> None:
    assert date(2026, 6, 1).weekday() == 0
    assert non_working_reason(date(2026, 6, 1)) == "Sovereign's birthday"
    assert date(2025, 6, 2).weekday() == 0
    assert non_working_reason(date(2025, 6, 2)) == "Sovereign's birthday"
    assert is_working_day(date(2026, 6, 8))


def test_labour_day_is_the_fourth_monday_in_october() -> None:
    assert date(2026, 10, 26).weekday() == 0
    assert non_working_reason(date(2026, 10, 26)) == "Labour Day"
    assert date(2025, 10, 27).weekday() == 0
    assert non_working_reason(date(2025, 10, 27)) == "Labour Day"
    assert is_working_day(date(2026, 10, 19))  # third Monday


# --- regional anniversaries and the Christmas–New Year period ---------------------------


@pytest.mark.parametrize(
    "anniversary",
    [date(2026, 1, 19), date(2026, 1, 26)],
    ids=["wellington-2026", "auckland-2026"],
)
def test_regional_anniversary_days_are_working_days(anniversary: date) -> None:
    assert anniversary.weekday() == 0
    assert is_working_day(anniversary)
    assert non_working_reason(anniversary) is None


@pytest.mark.parametrize("year", YEARS)
def test_christmas_new_year_period_is_never_working(year: int) -> None:
    period = days_after(date(year, 12, 24), date(year, 12, 31))
    period += [date(year, 1, day) for day in range(1, 16)]
    assert len(period) == 22
    for day in period:
        assert non_working_reason(day) == CHRISTMAS_PERIOD
        assert not is_working_day(day)
    for edge in (date(year, 12, 24), date(year, 1, 16)):
        assert is_working_day(edge) == (edge.weekday() < 5)


def test_christmas_on_a_weekend_is_reported_as_the_period_not_the_weekend() -> None:
    assert date(2027, 12, 25).weekday() == 5
    assert non_working_reason(date(2027, 12, 25)) == CHRISTMAS_PERIOD
    # and nothing is Mondayised after it: the period already runs to 15 January
    assert date(2027, 1, 18).weekday() == 0
    assert is_working_day(date(2027, 1, 18))


def test_weekends_are_not_working_days() -> None:
    assert non_working_reason(date(2026, 3, 14)) == "Saturday"
    assert non_working_reason(date(2026, 3, 15)) == "Sunday"
    assert non_working_reason(date(2026, 3, 16)) is None


# --- how many working days a year has ---------------------------------------------------


@pytest.mark.parametrize("year", YEARS)
def test_each_year_loses_seven_weekdays_to_holidays_besides_the_christmas_period(
    year: int,
) -> None:
    # s 7 names Good Friday, Easter Monday, the Sovereign's birthday, Matariki and Labour
    # Day, which always fall on weekdays, and Waitangi and Anzac Day, which each take
    # exactly one weekday (themselves or the Monday after). Only in 2038 do two coincide.
    year_days = days_after(date(year - 1, 12, 31), date(year, 12, 31))
    weekdays = [d for d in year_days if d.weekday() < 5]
    outside_period = [d for d in weekdays if non_working_reason(d) != CHRISTMAS_PERIOD]
    working = [d for d in year_days if is_working_day(d)]
    expected_holidays = 6 if year == 2038 else 7
    assert len(working) == len(outside_period) - expected_holidays
    assert 238 <= len(working) <= 239
    # 1 January is never a working day, so counting from it misses nothing
    assert working_days_between(date(year, 1, 1), date(year, 12, 31)) == len(working)


# --- out of range and wrong types ---------------------------------------------------------


@pytest.mark.parametrize("day", [date(2021, 12, 31), date(2053, 1, 1)])
def test_dates_outside_the_matariki_schedule_are_refused(day: date) -> None:
    with pytest.raises(UnsupportedDate) as raised:
        is_working_day(day)
    message = str(raised.value)
    assert "2022" in message
    assert "2052" in message
    assert "Matariki" in message
    assert day.isoformat() not in message
    with pytest.raises(UnsupportedDate):
        non_working_reason(day)
    with pytest.raises(UnsupportedDate):
        add_working_days(day, 1)
    with pytest.raises(UnsupportedDate):
        working_days_between(date(2030, 1, 1), day)
    with pytest.raises(UnsupportedDate):
        ResponseClock(day)


def test_first_and_last_days_of_the_calendar_are_covered() -> None:
    assert non_working_reason(date(2022, 1, 1)) == CHRISTMAS_PERIOD
    assert non_working_reason(date(2052, 12, 31)) == CHRISTMAS_PERIOD


def test_a_count_that_runs_past_2052_is_refused() -> None:
    last = date(2052, 12, 24)
    assert last.weekday() == 1
    assert add_working_days(date(2052, 12, 23), 1) == last
    with pytest.raises(UnsupportedDate, match="2052") as raised:
        add_working_days(last, 1)
    assert "2022" in str(raised.value)
    clock = ResponseClock(date(2052, 12, 1))
    with pytest.raises(UnsupportedDate):
        _ = clock.due
    with pytest.raises(UnsupportedDate):
        clock.working_days_left(date(2052, 12, 2))


def test_datetimes_are_refused_so_time_zones_are_never_silent() -> None:
    moment = datetime(2026, 3, 10, 9, 30)
    for call in (
        lambda: is_working_day(moment),
        lambda: non_working_reason(moment),
        lambda: add_working_days(moment, 1),
        lambda: working_days_between(date(2026, 3, 1), moment),
        lambda: ResponseClock(moment),
        lambda: ResponseClock(date(2026, 3, 1)).working_days_left(moment),
        lambda: ResponseClock(date(2026, 3, 1)).is_overdue(moment),
    ):
        with pytest.raises(UnsupportedDate, match=r"not a datetime.*New Zealand"):
            call()


@pytest.mark.parametrize("value", ["2026-03-10", None, 20260310])
def test_non_dates_are_refused(value: object) -> None:
    with pytest.raises(UnsupportedDate, match=r"must be a datetime\.date"):
        is_working_day(value)  # type: ignore[arg-type]
    with pytest.raises(UnsupportedDate, match="received"):
        ResponseClock(value)  # type: ignore[arg-type]


def test_unsupported_date_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="2052"):
        is_working_day(date(2060, 1, 1))


@pytest.mark.parametrize("count", [0, -1, True, 1.0, "3", None])
def test_a_bad_count_is_a_configuration_error(count: object) -> None:
    with pytest.raises(ConfigurationError, match="number of working days"):
        add_working_days(date(2026, 3, 10), count)  # type: ignore[arg-type]


def test_working_days_between_is_zero_when_end_is_not_after_start() -> None:
    assert working_days_between(date(2026, 3, 10), date(2026, 3, 10)) == 0
    assert working_days_between(date(2026, 3, 10), date(2026, 3, 2)) == 0
    assert working_days_between(date(2026, 3, 10), date(2026, 3, 11)) == 1


# --- properties -----------------------------------------------------------------------------


@given(in_range)
def test_working_days_are_weekdays_with_no_reason(day: date) -> None:
    reason = non_working_reason(day)
    assert is_working_day(day) == (reason is None)
    if day.weekday() >= 5:
        assert reason is not None


@given(starts, counts)
def test_add_working_days_lands_on_the_nth_working_day_after_start(start: date, n: int) -> None:
    result = add_working_days(start, n)
    assert result > start
    assert is_working_day(result)
    assert count_working(start, result) == n
    assert working_days_between(start, result) == n


@given(in_range, st.integers(min_value=0, max_value=400))
def test_working_days_between_matches_a_day_by_day_count(start: date, span: int) -> None:
    end = min(start + timedelta(days=span), date(LAST_YEAR, 12, 31))
    assert working_days_between(start, end) == count_working(start, end)


@given(starts, starts, counts)
def test_add_working_days_is_monotonic_in_start(first: date, second: date, n: int) -> None:
    first, second = sorted((first, second))
    assert add_working_days(first, n) <= add_working_days(second, n)


@given(starts, counts, counts)
def test_add_working_days_is_strictly_increasing_in_count(start: date, n: int, m: int) -> None:
    if n == m:
        assert add_working_days(start, n) == add_working_days(start, m)
    else:
        low, high = sorted((n, m))
        assert add_working_days(start, low) < add_working_days(start, high)


@given(st.dates(min_value=date(2052, 1, 1), max_value=date(2052, 12, 31)), counts)
def test_near_the_end_a_count_either_fits_or_is_refused(start: date, n: int) -> None:
    left = working_days_between(start, date(2052, 12, 31))
    if n <= left:
        assert add_working_days(start, n).year == 2052
    else:
        with pytest.raises(UnsupportedDate):
            add_working_days(start, n)


# --- the response clock -------------------------------------------------------------------


def test_working_days_left_counts_down_to_zero_on_the_due_date() -> None:
    clock = ResponseClock(date(2026, 12, 10))
    assert clock.working_days_left(date(2026, 12, 10)) == 20
    assert clock.working_days_left(date(2026, 12, 11)) == 19
    assert clock.working_days_left(date(2026, 12, 25)) == 10  # nothing counts in the period
    assert clock.working_days_left(date(2027, 1, 15)) == 10
    assert clock.working_days_left(date(2027, 1, 29)) == 0
    assert not clock.is_overdue(date(2027, 1, 29))


def test_after_the_due_date_the_clock_is_overdue_and_counts_negative() -> None:
    clock = ResponseClock(date(2026, 12, 10))
    saturday = date(2027, 1, 30)
    assert saturday.weekday() == 5
    assert clock.is_overdue(saturday)
    assert clock.working_days_left(saturday) == 0
    monday = date(2027, 2, 1)
    assert clock.is_overdue(monday)
    assert clock.working_days_left(monday) == -1
    assert clock.working_days_left(date(2027, 2, 5)) == -5
    assert clock.working_days_left(date(2027, 2, 8)) == -5  # Waitangi Day (Mondayised)


def test_an_extension_moves_the_answer_but_not_the_transfer() -> None:
    clock = ResponseClock(date(2026, 12, 10), extended_by=6)
    # 1–5 Feb 2027, then Monday 8 Feb is the Mondayised Waitangi Day
    assert clock.due == date(2027, 2, 9)
    assert clock.transfer_due == date(2026, 12, 24)
    assert clock.working_days_left(date(2026, 12, 10)) == 26
    assert clock.working_days_left(date(2027, 1, 29)) == 6
    assert not clock.is_overdue(date(2027, 2, 8))
    assert clock.is_overdue(date(2027, 2, 10))


def test_the_clock_is_immutable() -> None:
    clock = ResponseClock(date(2026, 12, 10))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        clock.extended_by = 5  # type: ignore[misc]
    assert clock == ResponseClock(date(2026, 12, 10), extended_by=0)


@pytest.mark.parametrize("extended_by", [-1, True, 2.5, "5", None])
def test_a_bad_extension_is_a_configuration_error(extended_by: object) -> None:
    with pytest.raises(ConfigurationError, match="extended_by"):
        ResponseClock(date(2026, 12, 10), extended_by=extended_by)  # type: ignore[arg-type]


@given(
    st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR - 1, 6, 30)),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=200),
)
def test_working_days_left_is_the_limit_less_the_working_days_elapsed(
    received: date, extended_by: int, elapsed: int
) -> None:
    clock = ResponseClock(received, extended_by=extended_by)
    today = received + timedelta(days=elapsed)
    limit = ACCESS_RESPONSE_DAYS + extended_by
    assert clock.working_days_left(today) == limit - working_days_between(received, today)
    assert clock.is_overdue(today) == (today > clock.due)
    assert clock.working_days_left(clock.due) == 0
    assert is_working_day(clock.due)
    assert is_working_day(clock.transfer_due)
    assert clock.transfer_due < clock.due
    if clock.working_days_left(today) < 0:
        assert clock.is_overdue(today)
