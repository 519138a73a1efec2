"""The Privacy Act 2020 working-day calendar, and the clock of access and correction
requests: their time limits, and the extensions of them.

An agency must answer an access request "as soon as reasonably practicable, and in any case
not later than 20 working days after the day on which the request is received" (s 44), and
must transfer a request it cannot answer to an agency that can within 10 working days
(s 43). Counting starts the day after the request arrived: the answer is due on the 20th
working day after that day, and the transfer on the 10th. A request received on Thursday
10 December 2026 is due for transfer on 24 December 2026 and for an answer on 29 January
2027. A correction request runs the same clock under its own sections: transfer within 10
working days (s 62), decision within 20 (s 63).

Either limit, the transfer or the decision, may be extended by a reasonable period on one
of three grounds (s 48(1) for access, s 65(1) for correction): (a) a large quantity of
information, where meeting the limit would unreasonably interfere with the agency's
operations; (b) consultations that cannot be made in time; (c) complexity. An extension
takes effect by notice to the requester within 20 working days after the day the request
was received, giving the period, the reasons and the right to complain to the Privacy
Commissioner (s 48(3) and (4); s 65). An `Extension` records one; a `ResponseClock` takes
any number, and `ResponseClock.notice` words the notice.

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

This module is date arithmetic and the words of the Act. It must not read the clock
(callers pass today's date, as a New Zealand calendar date), and must not know anything
about a request beyond its kind, the day it was received and its extensions (of a
`purposeful.corrections.Correction` it reads the day it was received, and nothing else).

Sources:
    Privacy Act 2020, s 7 (definition of working day), s 43 (transfer of requests), s 44
    (decision on request), s 48 (extension of time limits), s 62 (transfer of correction
    requests), s 63 (decision on correction request) and s 65 (extension of time limits);
    Te Kāhui o Matariki Public Holiday Act 2022, Schedule.
"""

from __future__ import annotations

import bisect
import enum
import functools
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from types import FrameType, MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from .._shared.nztime import long_date, nz_date
from ..errors import ConfigurationError, UnsupportedDate

if TYPE_CHECKING:
    from ..corrections.values import Correction

__all__ = [
    "ACCESS_RESPONSE_DAYS",
    "EXTENSION_NOTICE_DAYS",
    "FIRST_YEAR",
    "LAST_YEAR",
    "MATARIKI",
    "TRANSFER_DAYS",
    "Extension",
    "ExtensionGround",
    "RequestKind",
    "ResponseClock",
    "TimeLimit",
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
"""Working days an agency has to decide on an access request (s 44), or on a correction
request (s 63)."""

TRANSFER_DAYS: Final = 10
"""Working days an agency has to transfer a request to an agency that holds the information
(s 43), or a correction request to one more closely connected with it (s 62)."""

EXTENSION_NOTICE_DAYS: Final = 20
"""Working days after the day a request was received within which notice of an extension
must be given (s 48(3); s 65)."""

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


class RequestKind(enum.Enum):
    """The kind of request a clock counts for: the Act gives each its own sections, with the
    same time limits and the same grounds for extending them."""

    ACCESS = "access"
    """A request for access to personal information (IPP 6): ss 43, 44 and 48."""
    CORRECTION = "correction"
    """A request to correct personal information (IPP 7): ss 62, 63 and 65."""

    def section(self, limit: TimeLimit) -> str:
        """The section that sets *limit* for this kind of request: ``"s 43"``, ``"s 44"``,
        ``"s 62"`` or ``"s 63"``."""
        return _SECTIONS[self][_check_limit(limit)]

    @property
    def extension_section(self) -> str:
        """The section that lets the agency extend the limits: ``"s 48"`` or ``"s 65"``."""
        return "s 48" if self is RequestKind.ACCESS else "s 65"


class TimeLimit(enum.Enum):
    """The two time limits of a request; an `Extension` extends one of them."""

    TRANSFER = "transfer"
    """Transfer to another agency: 10 working days (s 43; s 62)."""
    DECISION = "decision"
    """Decision on the request (for access, the answer): 20 working days (s 44; s 63)."""


_SECTIONS: Final = {
    RequestKind.ACCESS: {TimeLimit.TRANSFER: "s 43", TimeLimit.DECISION: "s 44"},
    RequestKind.CORRECTION: {TimeLimit.TRANSFER: "s 62", TimeLimit.DECISION: "s 63"},
}

_ORIGINAL_DAYS: Final = {
    TimeLimit.TRANSFER: TRANSFER_DAYS,
    TimeLimit.DECISION: ACCESS_RESPONSE_DAYS,
}


class ExtensionGround(enum.Enum):
    """A ground on which the Act lets an agency extend a time limit (s 48(1); s 65(1)).

    The values are stable machine names, as the command line takes them.
    """

    LARGE_QUANTITY = "large-quantity"
    """(a) The request is for, or needs a search through, a large quantity of information,
    and meeting the original limit would unreasonably interfere with the agency's
    operations."""
    CONSULTATIONS = "consultations"
    """(b) Consultations needed to decide on the request cannot reasonably be made within
    the original limit."""
    COMPLEXITY = "complexity"
    """(c) The complexity of the issues the request raises means it cannot reasonably be
    answered within the original limit."""

    @property
    def paragraph(self) -> str:
        """The paragraph of s 48(1) and s 65(1): ``"a"``, ``"b"`` or ``"c"``."""
        return _GROUNDS[self][0]

    @property
    def reason(self) -> str:
        """The reason in plain words, as a notice gives it."""
        return _GROUNDS[self][1]


_GROUNDS: Final = {
    ExtensionGround.LARGE_QUANTITY: (
        "a",
        "your request is for a large quantity of information, or needs a search through "
        "a large quantity of information, and meeting the original time limit would "
        "unreasonably interfere with our operations",
    ),
    ExtensionGround.CONSULTATIONS: (
        "b",
        "we need to consult others before we can decide on your request, and those "
        "consultations cannot reasonably be finished within the original time limit",
    ),
    ExtensionGround.COMPLEXITY: (
        "c",
        "your request raises issues of such complexity that we cannot reasonably respond "
        "to it properly within the original time limit",
    ),
}


def _check_limit(limit: object) -> TimeLimit:
    if not isinstance(limit, TimeLimit):
        raise ConfigurationError(
            f"a time limit is TimeLimit.TRANSFER or TimeLimit.DECISION, not {type(limit).__name__}"
        )
    return limit


_Member = TypeVar("_Member", bound=enum.Enum)


def _enum_field(kind: type[_Member], what: str) -> Callable[[object, Any, _Member], None]:
    def check(instance: object, attribute: Any, value: _Member) -> None:
        if not isinstance(value, kind):
            choices = ", ".join(f"{kind.__name__}.{member.name}" for member in kind)
            raise ConfigurationError(f"{what} must be one of {choices}, not {type(value).__name__}")

    return check


def _check_period(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    _check_count(value, "Extension.working_days (the period of the extension)", minimum=1)


def _check_notice_sent(instance: object, attribute: attrs.Attribute[date], value: date) -> None:
    _check_date(value, "Extension.notice_sent (the day the notice of the extension was sent)")


@attrs.frozen
class Extension:
    """One extension of a time limit (s 48; for a correction request, s 65).

    The agency may extend the transfer limit or the decision limit by a reasonable period
    on one of the grounds of `ExtensionGround`. The extension takes effect by notice to the
    requester within 20 working days after the day the request was received, saying the
    period, the reasons and the right to complain to the Privacy Commissioner:
    `ResponseClock.notice` words it, and a `ResponseClock` refuses an extension whose
    notice was sent before the request arrived or after those 20 working days.

    Attributes:
        limit: the limit extended: `TimeLimit.TRANSFER` (s 43; s 62) or
            `TimeLimit.DECISION` (s 44; s 63).
        ground: why (s 48(1)(a)-(c); s 65(1)(a)-(c)).
        working_days: the period of the extension, in working days (at least 1).
        notice_sent: the day the notice was sent, as a New Zealand calendar date.

    Raises:
        ConfigurationError: an attribute is not of its type, or *working_days* is below 1.
        UnsupportedDate: *notice_sent* is not a date the calendar covers.
    """

    limit: TimeLimit = attrs.field(validator=_enum_field(TimeLimit, "Extension.limit"))
    ground: ExtensionGround = attrs.field(
        validator=_enum_field(ExtensionGround, "Extension.ground")
    )
    working_days: int = attrs.field(validator=_check_period)
    notice_sent: date = attrs.field(validator=_check_notice_sent)


def _extensions(value: Iterable[Extension]) -> tuple[Extension, ...]:
    """*value* as a tuple of `Extension` values (the converter of ``extensions=``)."""
    if isinstance(value, Extension | str | bytes) or not isinstance(value, Iterable):
        raise ConfigurationError(
            f"extensions= takes a list of Extension values (empty for none), not "
            f"{type(value).__name__}"
        )
    found = tuple(value)
    for item in found:
        if not isinstance(item, Extension):
            raise ConfigurationError(
                f"extensions= takes Extension values, not {type(item).__name__}: "
                f"Extension(limit=, ground=, working_days=, notice_sent=)"
            )
    return found


def _check_received(instance: object, attribute: attrs.Attribute[date], value: date) -> None:
    _check_date(value, "the date the request was received")


def _check_extended_by(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    _check_count(value, "extended_by", minimum=0)


def _ours(frame: FrameType) -> bool:
    """Whether *frame* runs purposeful's code, or code attrs generated for it."""
    module = str(frame.f_globals.get("__name__", ""))
    return (
        module == "purposeful"
        or module.startswith("purposeful.")
        or frame.f_code.co_filename.startswith("<attrs generated")
    )


def _warn_extended_by() -> None:
    """Warn that ``extended_by=`` is deprecated, at the first caller outside purposeful."""
    level, frame = 1, sys._getframe(0)
    while frame.f_back is not None and _ours(frame):
        level, frame = level + 1, frame.f_back
    warnings.warn(
        "extended_by= is deprecated and goes in the next release: record each extension as "
        "an Extension, with its limit, ground (s 48(1)) and the day its notice was sent: "
        "extensions=[Extension(TimeLimit.DECISION, ExtensionGround.COMPLEXITY, 10, "
        "notice_sent)]",
        DeprecationWarning,
        stacklevel=level,
    )


@attrs.frozen
class ResponseClock:
    """The time limits of one access or correction request, counted from the day it was
    received, with any extensions.

    The decision is due on the 20th working day after the day the request was received
    (s 44; for a correction request, s 63), and a transfer to another agency on the 10th
    (s 43; s 62). Each `Extension` moves the limit it extends, the transfer's as well as
    the decision's, by its period in working days.

    Attributes:
        received: the day the request was received, as a New Zealand calendar date.
        extended_by: deprecated: working days the decision limit was extended by, without
            its ground or notice. Give *extensions* instead; it goes in the next release.
        kind: `RequestKind.ACCESS` (the default) or `RequestKind.CORRECTION`.
        extensions: the extensions of either limit, in the order they were made.

    Raises:
        UnsupportedDate: *received* is not a date the calendar covers (see
            `non_working_reason`), or an extension was given and the last day for its
            notice falls after `LAST_YEAR`.
        ConfigurationError: *extended_by* is not an int, or is negative; *kind* or an
            extension is not of its type; an extension's notice was sent before the request
            was received, or later than 20 working days after (s 48(3)); *extended_by* is
            given with *extensions*, or for a correction request.
    """

    received: date = attrs.field(validator=_check_received)
    extended_by: int = attrs.field(default=0, validator=_check_extended_by)
    kind: RequestKind = attrs.field(
        default=RequestKind.ACCESS,
        kw_only=True,
        validator=_enum_field(RequestKind, "ResponseClock.kind"),
    )
    extensions: tuple[Extension, ...] = attrs.field(default=(), kw_only=True, converter=_extensions)

    def __attrs_post_init__(self) -> None:
        if self.extended_by:
            if self.extensions or self.kind is not RequestKind.ACCESS:
                raise ConfigurationError(
                    "extended_by= is the deprecated shorthand of an access request's "
                    "extension; give every extension in extensions= instead"
                )
            _warn_extended_by()
        if self.extensions:
            last = self.extension_notice_due
            for extension in self.extensions:
                self._check_notice(extension, last)

    def _check_notice(self, extension: Extension, last: date) -> None:
        section = self.kind.extension_section
        what = (
            f"the notice of the {section} extension of the {extension.limit.value} limit "
            f"by {extension.working_days} working days"
        )
        if extension.notice_sent < self.received:
            raise ConfigurationError(
                f"{what} is dated before the request was received; give the day the notice "
                f"was sent (notice_sent=)"
            )
        if extension.notice_sent > last:
            late = working_days_between(self.received, extension.notice_sent)
            raise ConfigurationError(
                f"{what} was sent {late} working days after the day the request was "
                f"received; an extension takes effect only by notice within "
                f"{EXTENSION_NOTICE_DAYS} working days after that day ({section}(3)), so "
                f"this one does not extend the limit: leave it out"
            )

    @classmethod
    def for_correction(
        cls, correction: Correction, *, extensions: Iterable[Extension] = ()
    ) -> ResponseClock:
        """The clock of a correction request a correction store recorded: counted from the
        New Zealand day of its `Correction.requested_at` (ss 62, 63, 65).

        Raises:
            ConfigurationError: *correction* is not a `purposeful.corrections.Correction`,
                or an extension is refused (see the class).
            UnsupportedDate: the request was received outside the calendar's years.
        """
        from ..corrections.values import Correction

        if not isinstance(correction, Correction):
            raise ConfigurationError(
                f"for_correction() takes a Correction from a correction store, not "
                f"{type(correction).__name__}"
            )
        return cls(
            nz_date(correction.requested_at),
            kind=RequestKind.CORRECTION,
            extensions=_extensions(extensions),
        )

    def extended(self, limit: TimeLimit) -> int:
        """The working days *limit* is extended by, over every extension of it."""
        _check_limit(limit)
        days = sum(e.working_days for e in self.extensions if e.limit is limit)
        return days + (self.extended_by if limit is TimeLimit.DECISION else 0)

    def due_for(self, limit: TimeLimit) -> date:
        """The last day for *limit*: its working days after `received`, plus its extensions.

        Raises:
            UnsupportedDate: the date would fall after `LAST_YEAR`.
        """
        return add_working_days(
            self.received, _ORIGINAL_DAYS[_check_limit(limit)] + self.extended(limit)
        )

    @property
    def due(self) -> date:
        """The last day to decide (for access, to answer): the 20th working day after
        `received` (s 44; s 63), plus any extensions of the decision limit.

        Raises:
            UnsupportedDate: the due date would fall after `LAST_YEAR`.
        """
        return self.due_for(TimeLimit.DECISION)

    @property
    def transfer_due(self) -> date:
        """The last day to transfer the request: the 10th working day after `received`
        (s 43; s 62), plus any extensions of the transfer limit.

        Raises:
            UnsupportedDate: the date would fall after `LAST_YEAR`.
        """
        return self.due_for(TimeLimit.TRANSFER)

    @property
    def extension_notice_due(self) -> date:
        """The last day to send notice of an extension: the 20th working day after
        `received` (s 48(3); s 65), whatever either limit has become.

        Raises:
            UnsupportedDate: the date would fall after `LAST_YEAR`.
        """
        return add_working_days(self.received, EXTENSION_NOTICE_DAYS)

    def notice(self, extension: Extension) -> str:
        """The notice of *extension* to the requester, in plain text: the period, the new
        last day, the reason and the right to complain to the Privacy Commissioner, as
        s 48(4) (s 65 for a correction request) asks. Add anything else the requester
        needs to know before sending it.

        The new last day counts this extension and those before it in `extensions`.

        Raises:
            ConfigurationError: *extension* is not one of this clock's `extensions`.
            UnsupportedDate: the new last day would fall after `LAST_YEAR`.
        """
        if not isinstance(extension, Extension) or extension not in self.extensions:
            raise ConfigurationError(
                "notice() words the notice of one of the clock's own extensions; pass one "
                "of clock.extensions, or make the clock with it"
            )
        position = self.extensions.index(extension)
        earlier = attrs.evolve(self, extensions=self.extensions[: position + 1])
        section = self.kind.extension_section
        what = (
            "your request for your personal information"
            if self.kind is RequestKind.ACCESS
            else "your request to correct your personal information"
        )
        step = (
            "our decision on it"
            if extension.limit is TimeLimit.DECISION
            else "transferring it to another agency"
        )
        days = extension.working_days
        return (
            f"We received {what} on {long_date(self.received)}. Under section {section[2:]} "
            f"of the Privacy Act 2020, we have extended the time limit for {step} by {days} "
            f"working day{'' if days == 1 else 's'}, to "
            f"{long_date(earlier.due_for(extension.limit))}.\n\n"
            f"We have extended it because {extension.ground.reason} (section {section[2:]}"
            f"(1)({extension.ground.paragraph})).\n\n"
            f"You have the right to make a complaint to the Privacy Commissioner about this "
            f"extension: www.privacy.org.nz."
        )

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
