"""New Zealand time: the one place every New Zealand date and time of day is made.

Agreements start and expire on New Zealand days, IPP 3A took effect on a New Zealand day,
and the people a page or notice is written for read dates the New Zealand way. So every
date the library shows or compares goes through here:

- `nz_date`: the date in New Zealand of an aware moment;
- `long_date`: a date as words, ``"1 May 2026"``, whatever the process's locale;
- `in_nz`: a wall-clock time read in New Zealand, as an aware moment;
- `nz_time`: a moment as New Zealand reads it, ``"10 December 2026, 2:05 pm NZDT"``, with
  the zone's abbreviation (NZST in winter, NZDT in summer).

The zone comes from the ``tzdata`` package (a dependency) or the system's time zone data.
Where neither has ``Pacific/Auckland``, every conversion raises `TimeZoneDataMissing`: a
date is never quietly taken in another zone, where it can be a day off New Zealand's (a
request received on a New Zealand morning is still the day before in UTC).

This module must not read the locale (``strftime``'s month, weekday and am/pm directives
follow ``LC_TIME``), the system's local time zone, or a naive datetime as if it had one; nor
fall back to another zone.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigurationError, TimeZoneDataMissing
from .checks import is_aware

__all__ = ["NZ_ZONE", "in_nz", "long_date", "nz_date", "nz_time"]

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
    """New Zealand's time zone (loaded once; a failure is not cached, so installing the data
    mends a long-running process).

    Raises:
        TimeZoneDataMissing: no time zone data for ``Pacific/Auckland`` can be loaded.
    """
    try:
        return ZoneInfo(NZ_ZONE)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # missing, or not a TZif file
        raise TimeZoneDataMissing(
            f"New Zealand time ({NZ_ZONE}) cannot be loaded: this Python finds no usable time "
            f"zone data for it ({type(exc).__name__}); install the tzdata package "
            f"(pip install tzdata, a dependency of purposeful) or the system's time zone data. "
            f"purposeful does not fall back to UTC, where a New Zealand date can be a day off"
        ) from None


def _local(moment: datetime) -> datetime:
    if not is_aware(moment):
        raise ConfigurationError(
            "a New Zealand date or time needs a timezone-aware datetime, not "
            f"{'a naive datetime' if isinstance(moment, datetime) else type(moment).__name__}; "
            "pass one with a timezone, e.g. datetime.now(UTC)"
        )
    return moment.astimezone(_zone())


def nz_date(moment: datetime) -> date:
    """The date in New Zealand at *moment*.

    Raises:
        ConfigurationError: *moment* is naive (has no timezone).
        TimeZoneDataMissing: no time zone data for New Zealand can be loaded.
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
    the zone's abbreviation (NZST or NZDT).

    Raises:
        ConfigurationError: *moment* is naive (has no timezone).
        TimeZoneDataMissing: no time zone data for New Zealand can be loaded.
    """
    local = _local(moment)
    hour = local.hour % 12 or 12
    half = "am" if local.hour < 12 else "pm"
    return f"{long_date(local.date())}, {hour}:{local.minute:02d} {half} {local.tzname()}"


def in_nz(wall: datetime) -> datetime:
    """The moment a New Zealand clock showed *wall*, a naive date and time of day.

    In the hour the clocks go back, the earlier of the two moments; in the hour they skip,
    the moment an hour later (the clock never showed it).

    Raises:
        ConfigurationError: *wall* already has a timezone.
        TimeZoneDataMissing: no time zone data for New Zealand can be loaded.
    """
    if is_aware(wall):
        raise ConfigurationError(
            "in_nz reads a naive date and time as New Zealand's; this one has a timezone"
        )
    zone = _zone()
    # through the moment itself: a skipped wall time comes back as the time it became
    return datetime.fromtimestamp(wall.replace(tzinfo=zone, fold=0).timestamp(), zone)
