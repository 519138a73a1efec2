"""The Privacy Act 2020 working-day calendar and the clock of access and correction
requests, with their extensions.

Examples pin the facts in the domain notes (the worked example, Matariki, Easter,
Mondayisation, the Christmas–New Year period, regional anniversaries, extensions under
s 48 and s 65); properties check the counting functions against a plain day-by-day count,
the number of working days in every year against a count derived from s 7 rather than from
the implementation, and extended limits against the working-day addition of their periods.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from purposeful.access import AccessRequest
from purposeful.access.clock import (
    ACCESS_RESPONSE_DAYS,
    EXTENSION_NOTICE_DAYS,
    FIRST_YEAR,
    LAST_YEAR,
    MATARIKI,
    TRANSFER_DAYS,
    Extension,
    ExtensionGround,
    RequestKind,
    ResponseClock,
    TimeLimit,
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


def test_the_clock_is_immutable() -> None:
    clock = ResponseClock(date(2026, 12, 10))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        clock.extensions = ()  # type: ignore[misc]
    assert clock == ResponseClock(date(2026, 12, 10), extensions=[])
    assert clock.kind is RequestKind.ACCESS


@given(
    st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR - 1, 6, 30)),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=200),
)
def test_working_days_left_is_the_limit_less_the_working_days_elapsed(
    received: date, extended_by: int, elapsed: int
) -> None:
    extensions = (
        [Extension(TimeLimit.DECISION, ExtensionGround.COMPLEXITY, extended_by, received)]
        if extended_by
        else []
    )
    clock = ResponseClock(received, extensions=extensions)
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


# --- extensions (s 48; for correction requests, s 65) ---------------------------------------

RECEIVED = date(2026, 12, 10)  # the worked example: Thursday 10 December 2026
NOTICE = date(2026, 12, 17)


def extension(
    limit: TimeLimit = TimeLimit.DECISION,
    days: int = 10,
    notice_sent: date = NOTICE,
    ground: ExtensionGround = ExtensionGround.COMPLEXITY,
) -> Extension:
    return Extension(limit, ground, days, notice_sent)


def test_an_extension_of_the_answer_runs_past_the_break_and_waitangi_day() -> None:
    clock = ResponseClock(RECEIVED, extensions=[extension(days=10)])
    # 20th working day 29 January 2027; then 1–5 February, Monday 8 February is Waitangi Day
    # (Mondayised: 6 February 2027 is a Saturday), 9–12 and 15 February
    assert clock.due == date(2027, 2, 15)
    assert clock.transfer_due == date(2026, 12, 24)
    assert clock.extended(TimeLimit.DECISION) == 10
    assert clock.extended(TimeLimit.TRANSFER) == 0
    assert clock.working_days_left(date(2027, 1, 29)) == 10


def test_the_transfer_date_moves_when_the_transfer_limit_is_extended() -> None:
    # s 48(1) lets an agency extend "the time limit set out in section 43 or 44"
    clock = ResponseClock(RECEIVED, extensions=[extension(TimeLimit.TRANSFER, days=5)])
    # nothing counts from 25 December to 15 January: 11th to 15th working days are 18–22 January
    assert clock.transfer_due == date(2027, 1, 22)
    assert clock.due == date(2027, 1, 29)
    assert clock.due_for(TimeLimit.TRANSFER) == clock.transfer_due


def test_extensions_of_one_limit_add_up_and_the_other_limit_keeps_its_own() -> None:
    clock = ResponseClock(
        RECEIVED,
        extensions=[
            extension(days=4),
            extension(TimeLimit.TRANSFER, days=1, ground=ExtensionGround.CONSULTATIONS),
            extension(days=6, notice_sent=date(2027, 1, 22)),
        ],
    )
    assert clock.due == ResponseClock(RECEIVED, extensions=[extension(days=10)]).due
    assert clock.transfer_due == date(2027, 1, 18)  # Wellington Anniversary Day counts
    assert len(clock.extensions) == 3


def test_notice_may_be_given_from_the_day_received_to_the_20th_working_day() -> None:
    clock = ResponseClock(RECEIVED)
    assert clock.extension_notice_due == date(2027, 1, 29)
    assert EXTENSION_NOTICE_DAYS == 20
    for sent in (RECEIVED, date(2026, 12, 24), date(2027, 1, 5), date(2027, 1, 29)):
        ResponseClock(RECEIVED, extensions=[extension(notice_sent=sent)])


@pytest.mark.parametrize(
    ("sent", "problem"),
    [
        (date(2027, 1, 30), "sent 20 working days after"),  # Saturday after the 20th day
        (date(2027, 2, 1), "sent 21 working days after"),
        (date(2027, 3, 1), "working days after"),
        (date(2026, 12, 9), "before the request was received"),
    ],
)
def test_an_extension_noticed_outside_the_window_is_refused(sent: date, problem: str) -> None:
    for limit in TimeLimit:
        with pytest.raises(ConfigurationError) as raised:
            ResponseClock(RECEIVED, extensions=[extension(limit, notice_sent=sent)])
        message = str(raised.value)
        assert problem in message
        assert f"{limit.value} limit" in message
        assert sent.isoformat() not in message
        assert RECEIVED.isoformat() not in message
        if "after" in problem:
            assert "s 48(3)" in message


def test_a_correction_request_counts_under_sections_62_63_and_65() -> None:
    clock = ResponseClock(RECEIVED, kind=RequestKind.CORRECTION)
    assert (clock.transfer_due, clock.due) == (date(2026, 12, 24), date(2027, 1, 29))
    assert RequestKind.CORRECTION.section(TimeLimit.TRANSFER) == "s 62"
    assert RequestKind.CORRECTION.section(TimeLimit.DECISION) == "s 63"
    assert RequestKind.CORRECTION.extension_section == "s 65"
    assert RequestKind.ACCESS.section(TimeLimit.TRANSFER) == "s 43"
    assert RequestKind.ACCESS.section(TimeLimit.DECISION) == "s 44"
    assert RequestKind.ACCESS.extension_section == "s 48"
    extended = ResponseClock(
        RECEIVED,
        kind=RequestKind.CORRECTION,
        extensions=[extension(days=10), extension(TimeLimit.TRANSFER, days=5)],
    )
    assert (extended.transfer_due, extended.due) == (date(2027, 1, 22), date(2027, 2, 15))
    with pytest.raises(ConfigurationError, match=r"s 65 extension.*\(s 65\(3\)\)"):
        ResponseClock(
            RECEIVED,
            kind=RequestKind.CORRECTION,
            extensions=[extension(notice_sent=date(2027, 2, 1))],
        )


def test_the_notice_says_the_period_the_new_limit_the_reason_and_the_right_to_complain() -> None:
    first, second = extension(days=4), extension(days=6, ground=ExtensionGround.LARGE_QUANTITY)
    clock = ResponseClock(RECEIVED, extensions=[first, second])
    notice = clock.notice(first)
    assert "your request for your personal information on 10 December 2026" in notice
    assert "section 48 of the Privacy Act 2020" in notice
    assert "for our decision on it by 4 working days, to 4 February 2027." in notice
    assert "complexity" in notice
    assert "(section 48(1)(c))" in notice
    assert "right to make a complaint to the Privacy Commissioner" in notice
    # the second notice counts both extensions
    later = clock.notice(second)
    assert "by 6 working days, to 15 February 2027." in later
    assert "large quantity of information" in later
    assert "(section 48(1)(a))" in later
    one = ResponseClock(RECEIVED, extensions=[extension(days=1)])
    assert "by 1 working day, to 1 February 2027." in one.notice(one.extensions[0])


def test_the_notice_of_a_correction_requests_transfer_extension() -> None:
    moved = extension(TimeLimit.TRANSFER, days=5, ground=ExtensionGround.CONSULTATIONS)
    clock = ResponseClock(RECEIVED, kind=RequestKind.CORRECTION, extensions=[moved])
    notice = clock.notice(moved)
    assert "your request to correct your personal information" in notice
    assert "section 65 of the Privacy Act 2020" in notice
    assert "transferring it to another agency by 5 working days, to 22 January 2027." in notice
    assert "(section 65(1)(b))" in notice


def test_the_notice_is_only_for_the_clocks_own_extensions() -> None:
    clock = ResponseClock(RECEIVED, extensions=[extension(days=4)])
    for other in (extension(days=5), "decision", None):
        with pytest.raises(ConfigurationError, match="one of the clock's own extensions"):
            clock.notice(other)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        (("decision", ExtensionGround.COMPLEXITY, 5, NOTICE), ConfigurationError, "limit"),
        ((TimeLimit.DECISION, "complexity", 5, NOTICE), ConfigurationError, "ground"),
        ((TimeLimit.DECISION, ExtensionGround.COMPLEXITY, 0, NOTICE), ConfigurationError, "1"),
        ((TimeLimit.DECISION, ExtensionGround.COMPLEXITY, -3, NOTICE), ConfigurationError, "1"),
        ((TimeLimit.DECISION, ExtensionGround.COMPLEXITY, True, NOTICE), ConfigurationError, "int"),
        ((TimeLimit.DECISION, ExtensionGround.COMPLEXITY, 2.5, NOTICE), ConfigurationError, "int"),
        (
            (TimeLimit.DECISION, ExtensionGround.COMPLEXITY, 5, "2026-12-17"),
            UnsupportedDate,
            "date",
        ),
        (
            (TimeLimit.DECISION, ExtensionGround.COMPLEXITY, 5, datetime(2026, 12, 17, 9)),
            UnsupportedDate,
            "not a datetime",
        ),
        (
            (TimeLimit.DECISION, ExtensionGround.COMPLEXITY, 5, date(2053, 1, 20)),
            UnsupportedDate,
            "2052",
        ),
    ],
)
def test_a_malformed_extension_is_refused(
    arguments: tuple[object, ...], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Extension(*arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [extension(), "decision", 10, None, [extension(), 10]])
def test_extensions_must_be_a_list_of_extensions(value: object) -> None:
    with pytest.raises(ConfigurationError, match="extensions= takes"):
        ResponseClock(RECEIVED, extensions=value)  # type: ignore[arg-type]


def test_the_kind_and_the_limit_must_be_the_enums() -> None:
    with pytest.raises(ConfigurationError, match=r"RequestKind\.ACCESS"):
        ResponseClock(RECEIVED, kind="correction")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"TimeLimit\.TRANSFER or TimeLimit\.DECISION"):
        ResponseClock(RECEIVED).due_for("decision")  # type: ignore[arg-type]


def test_an_extension_past_2052_is_refused_when_the_date_is_asked_for() -> None:
    clock = ResponseClock(
        date(2052, 11, 1), extensions=[extension(days=60, notice_sent=date(2052, 11, 2))]
    )
    with pytest.raises(UnsupportedDate, match="2052"):
        _ = clock.due
    assert clock.transfer_due == add_working_days(date(2052, 11, 1), 10)


def test_a_correction_clock_counts_from_the_new_zealand_day_of_the_request() -> None:
    from purposeful.corrections import Correction, CorrectionStatus

    correction = Correction(
        id="0" * 32,
        subject="C-2044",
        record_type="CaseNote",
        record_key="N-1",
        field="text",
        requested="",
        reason="not mine",
        # 10 December 2026, 11:30 pm in UTC: already 11 December in New Zealand
        requested_at=datetime(2026, 12, 10, 23, 30, tzinfo=UTC),
        status=CorrectionStatus.REQUESTED,
    )
    clock = ResponseClock.for_correction(correction, extensions=[extension(days=1)])
    assert clock.received == date(2026, 12, 11)
    assert clock.kind is RequestKind.CORRECTION
    assert clock.transfer_due == date(2027, 1, 18)
    assert clock.due == date(2027, 2, 2)  # 20th: 1 February; one working day more
    with pytest.raises(ConfigurationError, match="takes a Correction"):
        ResponseClock.for_correction(RECEIVED)  # type: ignore[arg-type]


# --- the deprecated extended_by= ------------------------------------------------------------


def test_extended_by_still_extends_the_answer_and_warns_at_the_caller() -> None:
    with pytest.warns(DeprecationWarning, match="extended_by= is deprecated") as caught:
        clock = ResponseClock(RECEIVED, extended_by=6)
    assert caught[0].filename == __file__
    # 1–5 Feb 2027, then Monday 8 Feb is the Mondayised Waitangi Day
    assert clock.due == date(2027, 2, 9)
    assert clock.transfer_due == date(2026, 12, 24)
    assert clock.extended(TimeLimit.DECISION) == 6
    with pytest.warns(DeprecationWarning, match="extended_by= is deprecated") as caught:
        request = AccessRequest("SAR-2026-0042", "C-2044", RECEIVED, 6)
    assert caught[0].filename == __file__
    assert request.due == date(2027, 2, 9)


def test_extended_by_does_not_mix_with_extensions_or_corrections() -> None:
    with pytest.raises(ConfigurationError, match="give every extension in extensions="):
        ResponseClock(RECEIVED, 5, extensions=[extension()])
    with pytest.raises(ConfigurationError, match="give every extension in extensions="):
        ResponseClock(RECEIVED, 5, kind=RequestKind.CORRECTION)


@pytest.mark.parametrize("extended_by", [-1, True, 2.5, "5", None])
def test_a_bad_extended_by_is_a_configuration_error(extended_by: object) -> None:
    with pytest.raises(ConfigurationError, match="extended_by"):
        ResponseClock(date(2026, 12, 10), extended_by=extended_by)  # type: ignore[arg-type]


def test_an_access_request_takes_its_extensions() -> None:
    request = AccessRequest(
        "SAR-2026-0042",
        "C-2044",
        RECEIVED,
        extensions=[extension(days=10), extension(TimeLimit.TRANSFER, days=5)],
    )
    assert isinstance(request.extensions, tuple)
    assert request.clock.extensions == request.extensions
    assert (request.transfer_due, request.due) == (date(2027, 1, 22), date(2027, 2, 15))
    with pytest.raises(ConfigurationError, match="extensions= takes"):
        AccessRequest("SAR-2026-0042", "C-2044", RECEIVED, extensions=extension())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="s 48\\(3\\)"):
        AccessRequest(
            "SAR-2026-0042",
            "C-2044",
            RECEIVED,
            extensions=[extension(notice_sent=date(2027, 2, 1))],
        )


# --- properties of extended limits -----------------------------------------------------------

received_days = st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR - 1, 6, 30))
periods = st.lists(st.integers(min_value=1, max_value=40), max_size=4)


@st.composite
def extended_clocks(draw: st.DrawFn) -> tuple[date, list[int], list[int], ResponseClock]:
    received = draw(received_days)
    decision, transfer = draw(periods), draw(periods)

    def noticed(limit: TimeLimit, days: int) -> Extension:
        after = draw(st.integers(min_value=0, max_value=EXTENSION_NOTICE_DAYS))
        sent = received if after == 0 else add_working_days(received, after)
        ground = draw(st.sampled_from(ExtensionGround))
        return Extension(limit, ground, days, sent)

    extensions = [noticed(TimeLimit.DECISION, d) for d in decision]
    extensions += [noticed(TimeLimit.TRANSFER, d) for d in transfer]
    kind = draw(st.sampled_from(RequestKind))
    order = draw(st.permutations(extensions))
    return received, decision, transfer, ResponseClock(received, kind=kind, extensions=order)


@given(extended_clocks())
def test_an_extended_limit_is_the_working_day_addition_of_its_periods(
    drawn: tuple[date, list[int], list[int], ResponseClock],
) -> None:
    received, decision, transfer, clock = drawn
    assert clock.due == add_working_days(received, ACCESS_RESPONSE_DAYS + sum(decision))
    assert clock.transfer_due == add_working_days(received, TRANSFER_DAYS + sum(transfer))
    assert is_working_day(clock.due)
    assert is_working_day(clock.transfer_due)
    assert working_days_between(received, clock.due) == ACCESS_RESPONSE_DAYS + sum(decision)
    assert clock.working_days_left(received) == ACCESS_RESPONSE_DAYS + sum(decision)
    assert clock.extension_notice_due == add_working_days(received, EXTENSION_NOTICE_DAYS)


@given(extended_clocks(), st.data())
def test_a_longer_period_never_brings_a_limit_earlier(
    drawn: tuple[date, list[int], list[int], ResponseClock], data: st.DataObject
) -> None:
    _, _, _, clock = drawn
    if not clock.extensions:
        return
    index = data.draw(st.integers(min_value=0, max_value=len(clock.extensions) - 1))
    more = data.draw(st.integers(min_value=1, max_value=20))
    changed = list(clock.extensions)
    changed[index] = attrs.evolve(changed[index], working_days=changed[index].working_days + more)
    longer = attrs.evolve(clock, extensions=changed)
    limit = changed[index].limit
    other = TimeLimit.TRANSFER if limit is TimeLimit.DECISION else TimeLimit.DECISION
    assert longer.due_for(limit) > clock.due_for(limit)
    assert longer.due_for(other) == clock.due_for(other)


@given(received_days, st.sampled_from(TimeLimit), st.integers(min_value=1, max_value=30))
def test_the_last_day_for_notice_is_the_20th_working_day(
    received: date, limit: TimeLimit, after: int
) -> None:
    last = add_working_days(received, EXTENSION_NOTICE_DAYS)
    on_time = ResponseClock(received, extensions=[extension(limit, notice_sent=last)])
    assert on_time.extension_notice_due == last
    late = last + timedelta(days=after)
    with pytest.raises(ConfigurationError, match="working days after"):
        ResponseClock(received, extensions=[extension(limit, notice_sent=late)])
    early = received - timedelta(days=after)
    if early.year >= FIRST_YEAR:
        with pytest.raises(ConfigurationError, match="before the request was received"):
            ResponseClock(received, extensions=[extension(limit, notice_sent=early)])
