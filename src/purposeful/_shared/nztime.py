"""New Zealand time: the one place every New Zealand date and time of day is made.

Agreements start and expire on New Zealand days, IPP 3A took effect on a New Zealand day,
and the people a page or notice is written for read dates the New Zealand way. So every
date the library shows or compares goes through here:

- `nz_date`: the date in New Zealand of an aware moment;
- `long_date`: a date as words, ``"1 May 2026"``, whatever the process's locale;
- `nz_time`: a moment as New Zealand reads it, ``"10 December 2026, 2:05 pm NZDT"``, with
  the zone's abbreviation (NZST in winter, NZDT in summer).

On a system without time zone data (``zoneinfo`` finds no ``Pacific/Auckland``), moments
are converted to UTC instead and `nz_time` says "UTC": a time is never labelled with a zone
it was not converted to.

This module must not read the locale (``strftime``'s ``%B`` and ``%p`` follow ``LC_TIME``),
the system's local time zone, or a naive datetime as if it had one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigurationError
from .checks import is_aware

__all__ = ["NZ_ZONE", "long_date", "nz_date", "nz_time"]

#: The IANA name of New Zealand's time zone (the Chatham Islands keep their own).
NZ_ZONE = "Pacific/Auckland"

_MONTHS = (
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
)


@cache
def _zone() -> tzinfo:
    """New Zealand's time zone, or UTC where the system has no time zone data."""
    try:
        return ZoneInfo(NZ_ZONE)
    except ZoneInfoNotFoundError:
        return UTC


def _local(moment: datetime) -> datetime:
    if not is_aware(moment):
        raise ConfigurationError(
            "a New Zealand date or time needs a timezone-aware datetime, not "
            f"{'a naive datetime' if isinstance(moment, datetime) else type(moment).__name__}; "
            "pass one with a timezone, e.g. datetime.now(UTC)"
        )
    return moment.astimezone(_zone())


def nz_date(moment: datetime) -> date:
    """The date in New Zealand at *moment* (in UTC where the system has no time zone data).

    Raises:
        ConfigurationError: *moment* is naive (has no timezone).
    """
    return _local(moment).date()


def long_date(day: date) -> str:
    """``"10 December 2026"``: the New Zealand way, unambiguous, whatever the locale.

    A `datetime` is read as its own date: pass ``nz_date(moment)`` for the date in New
    Zealand of an aware moment.
    """
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def nz_time(moment: datetime) -> str:
    """``"10 December 2026, 2:05 pm NZDT"``: *moment* converted to New Zealand time, with
    the zone's abbreviation (NZST or NZDT; UTC where the system has no time zone data).

    Raises:
        ConfigurationError: *moment* is naive (has no timezone).
    """
    local = _local(moment)
    hour = local.hour % 12 or 12
    half = "am" if local.hour < 12 else "pm"
    return f"{long_date(local.date())}, {hour}:{local.minute:02d} {half} {local.tzname()}"
