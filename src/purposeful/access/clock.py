"""The Privacy Act 2020 working-day calendar, and the response clock for access requests.

An agency must answer an access request "as soon as reasonably practicable, and in any case
not later than 20 working days after the day on which the request is received" (s 44), and
must transfer a request it cannot answer to an agency that can within 10 working days
(s 43). Counting starts the day after the request arrived: the answer is due on the 20th
working day after that day, and the transfer on the 10th. A request received on Thursday
10 December 2026 is due for transfer on 24 December 2026 and for an answer on 29 January
2027.

A working day is what s 7 of the Act says it is, and nothing else: any day except a
Saturday, a Sunday, Waitangi Day (6 February), Good Friday, Easter Monday, Anzac Day
(25 April), the Sovereign's birthday (the first Monday in June), Matariki, Labour Day (the
fourth Monday in October), the following Monday when Waitangi Day or Anzac Day falls on a
Saturday or Sunday, and every day from 25 December to 15 January inclusive.

Where the Act and public-holiday calculators disagree, the Act wins. Regional anniversary
days (Wellington, Auckland and the rest) are working days, though many calculators treat
them as holidays. Christmas Day, Boxing Day and the New Year holidays are never
Mondayised here: the 25 December–15 January period already covers every day they could
move to.

Matariki has no rule: its dates are fixed year by year in the Schedule of Te Kāhui o
Matariki Public Holiday Act 2022, which runs from 2022 to 2052. So the calendar covers
those years only, and raises `UnsupportedDate` for any other date rather than guess.

This module is pure date arithmetic. It must not read the clock (callers pass today's date,
as a New Zealand calendar date) and must not know anything about requests beyond the dates
it is given.

Sources:
    Privacy Act 2020, s 7 (definition of working day), s 43 (transfer of requests) and
    s 44 (decision on request); Te Kāhui o Matariki Public Holiday Act 2022, Schedule.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final

import attrs

from ..errors import ConfigurationError, UnsupportedDate

__all__ = [
    "ACCESS_RESPONSE_DAYS",
    "FIRST_YEAR",
    "LAST_YEAR",
    "MATARIKI",
    "TRANSFER_DAYS",
    "ResponseClock",
    "add_working_days",
    "is_working_day",
    "non_working_reason",
    "working_days_between",
]

MATARIKI: Final[Mapping[int, date]] = MappingProxyType(
    {
        2022: date(2022, 6, 24),
        2023: date(2023, 7, 14),
        2024: date(2024, 6, 28),
        2025: date(2025, 6, 20),
        2026: date(2026, 7, 10),
        2027: date(2027, 6, 25),
        2028: date(2028, 7, 14),
        2029: date(2029, 7, 6),
        2030: date(2030, 6, 21),
        2031: date(2031, 7, 11),
        2032: date(2032, 7, 2),
        2033: date(2033, 6, 24),
        2034: date(2034, 7, 7),
        2035: date(2035, 6, 29),
        2036: date(2036, 7, 18),
        2037: date(2037, 7, 10),
        2038: date(2038, 6, 25),
        2039: date(2039, 7, 15),
        2040: date(2040, 7, 6),
        2041: date(2041, 7, 19),
        2042: date(2042, 7, 11),
        2043: date(2043, 7, 3),
        2044: date(2044, 6, 24),
        2045: date(2045, 7, 7),
        2046: date(2046, 6, 29),
        2047: date(2047, 7, 19),
        2048: date(2048, 7, 3),
        2049: date(2049, 6, 25),
        2050: date(2050, 7, 15),
        2051: date(2051, 6, 30),
        2052: date(2052, 6, 21),
    }
)
"""Matariki Observance Day by year, from the Schedule of Te Kāhui o Matariki Public Holiday
Act 2022. Read-only."""

FIRST_YEAR: Final = 2022
"""The first year the calendar covers (the first year in the Matariki schedule)."""

LAST_YEAR: Final = 2052
"""The last year the calendar covers (the last year in the Matariki schedule)."""

ACCESS_RESPONSE_DAYS: Final = 20
"""Working days an agency has to decide on an access request (s 44)."""

TRANSFER_DAYS: Final = 10
"""Working days an agency has to transfer a request to an agency that holds the information
(s 43)."""

_CHRISTMAS_PERIOD: Final = "Christmas–New Year period (25 December–15 January)"

_WEEKEND: Final = {5: "Saturday", 6: "Sunday"}


def _check_date(day: object, what: str) -> date:
    """Return *day* if the calendar covers it, else raise `UnsupportedDate`.

    The message names the argument (*what*) and at most the year, never the full date.
    """
    if isinstance(day, datetime):
        raise UnsupportedDate(
            f"{what} must be a date, not a datetime: a datetime's calendar day depends on its "
            f"time zone; pass the calendar date in New Zealand time, for example "
            f"dt.astimezone(ZoneInfo('Pacific/Auckland')).date()"
        )
    if not isinstance(day, date):
        raise UnsupportedDate(
            f"{what} must be a datetime.date, not {type(day).__name__}; parse it into a date first"
        )
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise UnsupportedDate(
            f"{what} is in {day.year}, outside the working-day calendar, which covers "
            f"{FIRST_YEAR} to {LAST_YEAR}: Matariki dates are only scheduled in law (Te Kāhui "
            f"o Matariki Public Holiday Act 2022) for those years, and the calendar does not "
            f"guess them; count working days for other years by hand"
        )
    return day


def _check_count(count: object, what: str, *, minimum: int) -> int:
    """Return *count* if it is an int (not a bool) of at least *minimum*, else raise
    `ConfigurationError`."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise ConfigurationError(
            f"{what} must be a whole number of working days (an int), not {type(count).__name__}"
        )
    if count < minimum:
        raise ConfigurationError(f"{what} must be at least {minimum}, not {count}")
    return count


def _easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm, also
    known as Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_monday(year: int, month: int, n: int) -> date:
    """The *n*th Monday (1-based) of *month* in *year*."""
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))


def _following_monday(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


@functools.cache
def _named_days(year: int) -> Mapping[date, str]:
    """The named non-working days of *year* (s 7), outside the Christmas–New Year period.

    Weekend days are included when a holiday falls on one; `non_working_reason` reports
    those as the weekend day.
    """
    easter = _easter_sunday(year)
    waitangi = date(year, 2, 6)
    anzac = date(year, 4, 25)
    named: list[tuple[date, str]] = [
        (waitangi, "Waitangi Day"),
        (easter - timedelta(days=2), "Good Friday"),
        (easter + timedelta(days=1), "Easter Monday"),
        (anzac, "Anzac Day"),
        (_nth_monday(year, 6, 1), "Sovereign's birthday"),
        (MATARIKI[year], "Matariki"),
        (_nth_monday(year, 10, 4), "Labour Day"),
    ]
    for holiday, name in [(waitangi, "Waitangi Day"), (anzac, "Anzac Day")]:
        if holiday.weekday() in _WEEKEND:
            named.append((_following_monday(holiday), f"{name} (Mondayised)"))
    days: dict[date, str] = {}
    for day, name in named:
        # In 2038 Anzac Day falls on Easter Sunday, so its following Monday is Easter Monday.
        days[day] = f"{days[day]} and {name}" if day in days else name
    return MappingProxyType(days)


def _in_christmas_period(day: date) -> bool:
    return (day.month == 12 and day.day >= 25) or (day.month == 1 and day.day <= 15)


def _reason(day: date) -> str | None:
    """`non_working_reason` for a date already checked."""
    if _in_christmas_period(day):
        return _CHRISTMAS_PERIOD
    weekend = _WEEKEND.get(day.weekday())
    if weekend is not None:
        return weekend
    return _named_days(day.year).get(day)


def non_working_reason(day: date) -> str | None:
    """Why *day* is not a working day under s 7 of the Privacy Act 2020, or None if it is.

    The reason is short plain English: ``"Saturday"``, ``"Waitangi Day"``, ``"Waitangi Day
    (Mondayised)"``, ``"Good Friday"``, ``"Easter Monday"``, ``"Anzac Day"``, ``"Anzac Day
    (Mondayised)"``, ``"Sovereign's birthday"``, ``"Matariki"``, ``"Labour Day"`` or
    ``"Christmas–New Year period (25 December–15 January)"``.

    When more than one reason applies, the Christmas–New Year period wins over everything,
    then a Saturday or Sunday wins over a holiday falling on it: Waitangi Day on a Saturday
    is reported as ``"Saturday"``, and the Monday after it as ``"Waitangi Day
    (Mondayised)"``. Two holidays on one weekday are joined with "and" (Easter Monday and
    the Mondayised Anzac Day coincide in 2038).

    Raises:
        UnsupportedDate: *day* is not a `datetime.date`, is a `datetime.datetime` (pass its
            New Zealand calendar date instead), or falls outside `FIRST_YEAR` to
            `LAST_YEAR`.
    """
    return _reason(_check_date(day, "the day"))


def is_working_day(day: date) -> bool:
    """Whether *day* is a working day as defined in s 7 of the Privacy Act 2020.

    Regional anniversary days are working days.

    Raises:
        UnsupportedDate: as for `non_working_reason`.
    """
    return non_working_reason(day) is None


@functools.cache
def _working_ordinals() -> tuple[int, ...]:
    """Every working day from `FIRST_YEAR` to `LAST_YEAR`, as sorted proleptic ordinals."""
    first = date(FIRST_YEAR, 1, 1).toordinal()
    last = date(LAST_YEAR, 12, 31).toordinal()
    return tuple(n for n in range(first, last + 1) if _reason(date.fromordinal(n)) is None)


def _ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def add_working_days(start: date, count: int) -> date:
    """The *count*-th working day after *start*.

    Counting starts the day after *start*, whether or not *start* is itself a working day,
    so ``add_working_days(received, 20)`` is the s 44 due date.

    Raises:
        UnsupportedDate: *start* is not a date the calendar covers (see
            `non_working_reason`), or the result would fall after `LAST_YEAR`.
        ConfigurationError: *count* is not an int, or is less than 1.
    """
    _check_date(start, "the start date")
    _check_count(count, "the number of working days to add", minimum=1)
    days = _working_ordinals()
    index = bisect.bisect_right(days, start.toordinal()) + count - 1
    if index >= len(days):
        raise UnsupportedDate(
            f"the {count}{_ordinal_suffix(count)} working day after the start date falls "
            f"after {LAST_YEAR}, outside the working-day calendar, which covers {FIRST_YEAR} "
            f"to {LAST_YEAR}: Matariki dates are only scheduled in law for those years, and "
            f"the calendar does not guess them; count the rest by hand"
        )
    return date.fromordinal(days[index])


def working_days_between(start: date, end: date) -> int:
    """The number of working days after *start*, up to and including *end*.

    Zero when *end* is on or before *start*. The inverse of `add_working_days`:
    ``working_days_between(start, add_working_days(start, n)) == n``.

    Raises:
        UnsupportedDate: *start* or *end* is not a date the calendar covers (see
            `non_working_reason`).
    """
    _check_date(start, "the start date")
    _check_date(end, "the end date")
    if end <= start:
        return 0
    days = _working_ordinals()
    return bisect.bisect_right(days, end.toordinal()) - bisect.bisect_right(days, start.toordinal())


def _check_received(instance: object, attribute: attrs.Attribute[date], value: date) -> None:
    _check_date(value, "the date the request was received")


def _check_extension(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    _check_count(value, "extended_by", minimum=0)


@attrs.frozen
class ResponseClock:
    """The time limits for one access request, counted from the day it was received.

    The answer is due on the 20th working day after the day the request was received
    (s 44), and a transfer to an agency that holds the information on the 10th (s 43).

    The Act lets an agency extend the time limit in some cases, for a reasonable period;
    record the extension here, in working days, and the answer is due that many working
    days later. The requester must be told of the extension within the original 20
    working days. The extension does not move `transfer_due`.

    Attributes:
        received: the day the request was received, as a New Zealand calendar date.
        extended_by: working days the time limit for the answer was extended by.

    Raises:
        UnsupportedDate: *received* is not a date the calendar covers (see
            `non_working_reason`).
        ConfigurationError: *extended_by* is not an int, or is negative.
    """

    received: date = attrs.field(validator=_check_received)
    extended_by: int = attrs.field(default=0, validator=_check_extension)

    @property
    def due(self) -> date:
        """The last day to answer: the 20th working day after `received`, plus any extension.

        Raises:
            UnsupportedDate: the due date would fall after `LAST_YEAR`.
        """
        return add_working_days(self.received, ACCESS_RESPONSE_DAYS + self.extended_by)

    @property
    def transfer_due(self) -> date:
        """The last day to transfer the request: the 10th working day after `received`.

        Raises:
            UnsupportedDate: the date would fall after `LAST_YEAR`.
        """
        return add_working_days(self.received, TRANSFER_DAYS)

    def working_days_left(self, today: date) -> int:
        """Working days after *today* up to and including `due`.

        20 on the day the request was received (with no extension) and 0 on the due date.
        After `due` it is minus the number of working days after `due` up to and including
        *today*: -1 on the first working day after `due`, and still 0 on a weekend or
        holiday between `due` and that day, when the request is already overdue (see
        `is_overdue`). Before `received` it is more than the limit.

        Raises:
            UnsupportedDate: *today* is not a date the calendar covers, or `due` would fall
                after `LAST_YEAR`.
        """
        _check_date(today, "today")
        due = self.due
        if today <= due:
            return working_days_between(today, due)
        return -working_days_between(due, today)

    def is_overdue(self, today: date) -> bool:
        """Whether *today* is after `due`.

        Raises:
            UnsupportedDate: as for `working_days_left`.
        """
        return _check_date(today, "today") > self.due
