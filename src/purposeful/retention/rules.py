"""The rule of IPP 9, as arithmetic: how long a record is kept, and when it falls due.

A record is held for the purposes its managed fields declare. Each purpose keeps it for its
retention period (`purposeful.purposes.Retention`), its own or, where it declares none, the
nearest ancestor's (a grant of ``service-delivery`` covers
``service-delivery.case-management``, and so does its period). A record is **kept** while
some purpose still needs it: it falls **due** only once every purpose it is held for is past
its period. A purpose with no period, its own or inherited, keeps the record until a
privacy team decides one.

Days are New Zealand days (`purposeful._shared.nztime`). A period runs from the New
Zealand day of the event it names; the record is kept through the day the period ends
(the start day plus the years, months and days; 29 February plus a year is 28 February)
and is due from the day after. A record collected on 1 March 2020 and kept 7 years is
kept through 1 March 2027 and due on 2 March 2027.

What this module must not do: read a managed field (the subject and key are read as the
guard reads them, with no decision); read the clock (callers pass the day).
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Mapping
from datetime import date, datetime, timedelta

import attrs

from .._hierarchy import lineage
from .._shared.checks import is_aware
from .._shared.nztime import nz_date
from ..errors import ConfigurationError
from ..purposes import PurposeRegistry, Retention
from ..records import RecordPolicy

__all__ = [
    "RetentionRule",
    "RetentionStatus",
    "kept_until",
    "nz_day",
    "purposes_of",
    "rule_for",
]


class RetentionStatus(enum.Enum):
    """Where a record stands."""

    KEPT = "kept"
    """Some purpose it is held for still needs it (or has no period decided)."""
    DUE = "due"
    """Every purpose it is held for is past its period, and no hold applies."""
    HELD = "held"
    """Past every period, but a hold stops its disposal."""


@attrs.frozen
class RetentionRule:
    """The period one purpose keeps a record for.

    Attributes:
        purpose: the purpose the record is held for.
        retention: its period, or None when neither it nor an ancestor declares one.
        declared_by: the purpose that declares the period (the purpose itself or the
            ancestor it inherits from); None with no period.
    """

    purpose: str
    retention: Retention | None
    declared_by: str | None = None

    def describe(self) -> str:
        """``service-delivery.case-management: 7 years after your last contact with the
        service (from service-delivery)``."""
        if self.retention is None:
            return f"{self.purpose}: no retention period decided"
        text = f"{self.purpose}: {self.retention.describe()}"
        if self.declared_by is not None and self.declared_by != self.purpose:
            text += f" (from {self.declared_by})"
        return text


def rule_for(purpose: str, registry: PurposeRegistry) -> RetentionRule:
    """The period *purpose* keeps records for: its own, else its nearest ancestor's.

    Raises:
        UnknownPurpose: the registry does not declare *purpose*.
    """
    registry.get(purpose)
    known = registry.as_mapping()
    for ident in lineage(purpose):
        found = known.get(ident)
        if found is not None and found.retention is not None:
            return RetentionRule(purpose, found.retention, ident)
    return RetentionRule(purpose, None)


def purposes_of(policy: RecordPolicy) -> tuple[str, ...]:
    """The purposes a record of *policy*'s class is held for: every purpose any of its
    managed fields declares, sorted."""
    return tuple(sorted({ident for field in policy.fields.values() for ident in field.purposes}))


def nz_day(when: object, what: str) -> date:
    """*when* as a New Zealand day: a `date` as it is, an aware `datetime` converted.

    Raises:
        ConfigurationError: *when* is neither (a naive datetime included).
    """
    if isinstance(when, datetime):
        if not is_aware(when):
            raise ConfigurationError(
                f"{what} is a naive datetime; give a date (a New Zealand day) or a "
                f"timezone-aware datetime"
            )
        return nz_date(when)
    if isinstance(when, date):
        return when
    raise ConfigurationError(
        f"{what} must be a date or a timezone-aware datetime, not {type(when).__name__}"
    )


def kept_until(start: date | datetime, retention: Retention) -> date:
    """The last New Zealand day a record is kept for *retention* running from *start* (a
    date, as a New Zealand day, or an aware datetime, taken on its New Zealand day);
    `date.max` when the period ends beyond the calendar (a start such as 9999-12-31, which
    legacy systems write for "not known"): such a record is kept, never disposed of.

    Raises:
        ConfigurationError: *start* is neither (a naive datetime included), or *retention*
            is not a `Retention`.
    """
    start = nz_day(start, "kept_until(start=...)")
    if not isinstance(retention, Retention):
        raise ConfigurationError(
            f"kept_until(retention=...) takes a purposeful.Retention (a purpose's "
            f"retention), not {type(retention).__name__}"
        )
    months = start.month - 1 + retention.months + 12 * retention.years
    year, month = start.year + months // 12, months % 12 + 1
    if year > date.max.year:
        return date.max
    day = min(start.day, calendar.monthrange(year, month)[1])
    try:
        return date(year, month, day) + timedelta(days=retention.days)
    except OverflowError:
        return date.max


def start_for(purpose: str, since: date, since_for: Mapping[str, date]) -> date:
    """The day *purpose*'s period runs from: the start given for it or its nearest
    ancestor, else *since*."""
    for ident in lineage(purpose):
        found = since_for.get(ident)
        if found is not None:
            return found
    return since
