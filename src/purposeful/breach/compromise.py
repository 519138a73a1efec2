"""What was compromised, and when: the question a breach assessment answers from the trail.

A `Compromise` is a window (two aware moments; `nz_window` reads New Zealand dates and
times) and the names of what was compromised: actors (a credential), roles, services (a
service that carried the purpose to this one), record types (a table or an export). The
principals (actors, roles, services) are joined with "or": a scope run by any of them is in
question. Record types narrow: with them, only reads and disclosures of those record types
count; alone, every read of them in the window does.

What this module must not do: read the trail, or hold a subject identifier.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone

import attrs

from .._shared.checks import is_aware, is_text
from .._shared.nztime import in_nz, nz_time
from ..errors import BreachAssessmentError, BreachWindowError

__all__ = ["Compromise", "nz_moment", "nz_window"]


def _names(values: object, what: str) -> frozenset[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise BreachAssessmentError(
            f"the compromised {what} are a list of names, not {type(values).__name__}"
        )
    found = frozenset(values)
    for name in found:
        if not is_text(name) or not name.strip():
            kind = "an empty one" if is_text(name) else type(name).__name__
            raise BreachAssessmentError(f"each compromised {what} is a non-empty name; got {kind}")
    return found


def _actors(values: object) -> frozenset[str]:
    return _names(values, "actors")


def _roles(values: object) -> frozenset[str]:
    return _names(values, "roles")


def _services(values: object) -> frozenset[str]:
    return _names(values, "services")


def _record_types(values: object) -> frozenset[str]:
    return _names(values, "record types")


def _moment(_: object, attribute: attrs.Attribute[datetime], value: object) -> None:
    if not is_aware(value):
        raise BreachWindowError(
            f"the window's {attribute.name} must be a timezone-aware datetime, not "
            f"{'a naive one' if isinstance(value, datetime) else type(value).__name__}; "
            "use nz_window() to read New Zealand dates and times"
        )


@attrs.frozen
class Compromise:
    """A window and what was compromised in it.

    Attributes:
        start: when the compromise may have begun (aware).
        end: when it was contained (aware, after *start*).
        actors: actor ids whose credential was compromised.
        roles: roles whose scopes are in question (a shared role account, say).
        services: services whose purpose claims are in question (``upstream.service``).
        record_types: record types in question; with no principal, every read of them.

    Raises:
        BreachWindowError: a naive moment, or *end* not after *start*.
        BreachAssessmentError: nothing was named as compromised, or a name is empty.
    """

    start: datetime = attrs.field(validator=_moment)
    end: datetime = attrs.field(validator=_moment)
    actors: frozenset[str] = attrs.field(default=frozenset(), converter=_actors)
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_roles)
    services: frozenset[str] = attrs.field(default=frozenset(), converter=_services)
    record_types: frozenset[str] = attrs.field(default=frozenset(), converter=_record_types)

    def __attrs_post_init__(self) -> None:
        if not self.end > self.start:
            raise BreachWindowError(
                f"the window must end after it starts; it starts {nz_time(self.start)} and "
                f"ends {nz_time(self.end)}"
            )
        if not (self.actors or self.roles or self.services or self.record_types):
            raise BreachAssessmentError(
                "name what was compromised: at least one actor, role, service or record type"
            )

    @property
    def principals(self) -> bool:
        """True if an actor, role or service is named (scopes are then narrowed to theirs)."""
        return bool(self.actors or self.roles or self.services)

    def describe(self) -> list[str]:
        """One line per thing named, for the assessment's first section."""
        lines = [f"From {nz_time(self.start)} to {nz_time(self.end)}"]
        for what, names in (
            ("Actors", self.actors),
            ("Roles", self.roles),
            ("Services", self.services),
            ("Record types", self.record_types),
        ):
            if names:
                lines.append(f"{what}: {', '.join(sorted(names))}")
        return lines


def nz_moment(text: str, *, end: bool = False) -> datetime:
    """*text* as a moment: a date (``2026-12-02``: the start of that New Zealand day, or with
    *end* the start of the next, so that a date ends a window inclusively), a date and time
    read in New Zealand (``2026-12-02T09:30``), or one with its offset
    (``2026-12-02T09:30+13:00``).

    Raises:
        BreachWindowError: *text* is none of these.
    """
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            found = in_nz(datetime.combine(day + timedelta(days=1 if end else 0), time()))
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            found = moment if is_aware(moment) else in_nz(moment)
            if end and not is_aware(moment):
                # in the hour the clocks go back, a window ends at the later of the two
                # moments the clock showed: a wider window never misses a read
                later = _later(moment)
                if later.timestamp() > found.timestamp():
                    # as a fixed offset: comparing within one zone ignores which of the two
                    found = later.astimezone(timezone(later.utcoffset() or timedelta()))
        # a moment so near year 1 or 9999 that New Zealand's or UTC's date of it overflows
        found.astimezone(UTC) + timedelta(days=1)
        found.astimezone(UTC) - timedelta(days=1)
    except (ValueError, OverflowError):
        raise BreachWindowError(
            f"{text!r} is not a date (2026-12-02), a New Zealand time (2026-12-02T09:30) or a "
            "time with its offset (2026-12-02T09:30+13:00) between the years 1 and 9999"
        ) from None
    return found


def _later(wall: datetime) -> datetime:
    """The later moment a New Zealand clock showed *wall* (the same as `in_nz` outside the
    hour the clocks go back)."""
    zone = in_nz(wall).tzinfo
    return datetime.fromtimestamp(wall.replace(tzinfo=zone, fold=1).timestamp(), zone)


def nz_window(start: str, end: str) -> tuple[datetime, datetime]:
    """The window from *start* to *end*, each as `nz_moment` reads it (a date as *end*
    includes that whole day)."""
    return nz_moment(start), nz_moment(end, end=True)
