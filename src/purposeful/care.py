"""People who need more care: the flags a person can carry, and what purposes and agreements
require for people who carry them.

DPUP asks agencies to give staff guidance about "specific responsibilities for vulnerable
groups (for example people with dementia or children)". Here that guidance is data:

- a `CareFlag` says why a person's information calls for more care: a child or young
  person, an adult with a supported decision-maker or a welfare guardian, a family-violence
  safety concern; an agency adds its own kinds as ids (``"agency-kaumatua-support"``);
- a `CareNeed` is what must happen first for such a person: consent given by a
  representative, a second, different person approving, or a safety review;
- a `CareRequirement` joins them: for people with any of these flags, these needs. A
  `purposeful.Purpose` (``care=``, or ``care = [...]`` in a TOML pack) and a sharing
  agreement carry requirements; a purpose's requirements apply to its descendants too.

No age rule is built in: the Privacy Act 2020 has none for representatives (whether a parent
may act for a person is decided case by case; the under-16 figure belongs to s 49(1)(c)
only). Which people carry `CareFlag.CHILD_OR_YOUNG_PERSON` is the agency's rule, applied
where the flags are kept (`purposeful.typing.CareFlagSource`).

`flags_of` is how enforcement asks a flag source about people: it checks the answer's
shape and never hands the flags to anyone but the rule that decides.

What this module must not do: put a subject id or a person's flags in a message, a repr or
a log line; import the enforcement machinery or a store.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from .errors import ConfigurationError

__all__ = [
    "CareFlag",
    "CareNeed",
    "CareRequirement",
    "check_flag",
    "flags_needing",
    "flags_of",
    "needs_for",
    "parse_requirement",
    "requirements",
]

_log = logging.getLogger("purposeful")

#: A flag id: lower-case words joined by hyphens, as agency-defined flags are named.
_FLAG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")


class CareFlag(enum.StrEnum):
    """The kinds of flag purposeful knows; an agency adds its own as ids (strings of
    lower-case words joined by hyphens), which compare equal to these where they match."""

    CHILD_OR_YOUNG_PERSON = "child-or-young-person"
    """A child or young person, by the agency's own rule (no age is built in)."""
    SUPPORTED_DECISION_MAKER = "supported-decision-maker"
    """An adult who makes decisions with a supporter (supported decision-making)."""
    WELFARE_GUARDIAN = "welfare-guardian"
    """An adult for whom a welfare guardian is appointed under the Protection of Personal
    and Property Rights Act 1988."""
    FAMILY_VIOLENCE_SAFETY = "family-violence-safety"
    """A family-violence safety concern: sharing the person's information could put them
    or someone else at risk."""


class CareNeed(enum.Enum):
    """What must happen first, for a flagged person; the value is the stable reason code."""

    REPRESENTATIVE_CONSENT = "representative-consent"
    """Consent in force must be given by a `purposeful.consent.Representative` whose
    authority the agency verified; the person's own consent does not count."""
    SECOND_REVIEWER = "second-reviewer"
    """A second person, other than whoever acts, approves before a disclosure or a
    release."""
    SAFETY_REVIEW = "safety-review"
    """A safety review is recorded before a disclosure or a release."""

    def describe(self) -> str:
        """Plain words for an explanation."""
        return _WORDS[self]


_WORDS = {
    CareNeed.REPRESENTATIVE_CONSENT: "consent given by a representative whose authority was "
    "verified (the person's own consent does not count here)",
    CareNeed.SECOND_REVIEWER: "approval by a second staff member, other than whoever acts",
    CareNeed.SAFETY_REVIEW: "a safety review recorded before anything goes out",
}


def check_flag(value: object) -> str:
    """*value* as a flag id: a `CareFlag` or an agency's own id.

    Raises:
        ConfigurationError: not lower-case words joined by hyphens.
    """
    if isinstance(value, CareFlag):
        return value.value
    if isinstance(value, str) and _FLAG.match(value):
        return value
    raise ConfigurationError(
        "a care flag is a CareFlag (CareFlag.CHILD_OR_YOUNG_PERSON, ...) or an agency's own "
        "id of lower-case words joined by hyphens, such as 'kaumatua-support', not "
        f"{type(value).__name__ if not isinstance(value, str) else 'that text'}"
    )


def _flags(values: Iterable[object]) -> frozenset[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Iterable):
        raise ConfigurationError("CareRequirement(flags=...) takes a list of care flags")
    found = frozenset(check_flag(v) for v in values)
    if not found:
        raise ConfigurationError(
            "a care requirement names at least one flag: the people it applies to"
        )
    return found


def _needs(values: Iterable[object]) -> frozenset[CareNeed]:
    if isinstance(values, str | CareNeed):
        values = [values]
    if not isinstance(values, Iterable):
        raise ConfigurationError("CareRequirement(needs=...) takes a list of CareNeed values")
    found = set()
    for value in values:
        try:
            found.add(value if isinstance(value, CareNeed) else CareNeed(value))
        except ValueError:
            known = ", ".join(repr(n.value) for n in CareNeed)
            raise ConfigurationError(
                f"a care requirement's need is one of {known}, not {value!r}"
            ) from None
    if not found:
        raise ConfigurationError(
            "a care requirement names at least one need: what must happen first"
        )
    return frozenset(found)


@attrs.frozen
class CareRequirement:
    """For people who carry any of *flags*: *needs* before their information is used,
    disclosed or released.

    Args:
        flags: the flags (`CareFlag` values or an agency's own ids) it applies to.
        needs: what must happen first (`CareNeed` values or their codes).

    Raises:
        ConfigurationError: no flag or no need, or one that is malformed.
    """

    flags: frozenset[str] = attrs.field(converter=_flags)
    needs: frozenset[CareNeed] = attrs.field(converter=_needs)


def needs_for(requirements: Iterable[CareRequirement], flags: Iterable[str]) -> frozenset[CareNeed]:
    """What *requirements* need for a person carrying *flags*; empty for nobody flagged."""
    held = frozenset(flags)
    if not held:
        return frozenset()
    return frozenset(n for r in requirements if r.flags & held for n in r.needs)


def flags_needing(requirements: Iterable[CareRequirement], need: CareNeed) -> frozenset[str]:
    """The flags for which *requirements* ask *need*."""
    return frozenset(f for r in requirements if need in r.needs for f in r.flags)


def parse_requirement(entry: object, where: str) -> CareRequirement:
    """A requirement from a TOML table ``{ flags = [...], needs = [...] }``.

    Raises:
        ConfigurationError: another shape; the message names *where*.
    """
    if not isinstance(entry, Mapping) or set(entry) != {"flags", "needs"}:
        raise ConfigurationError(
            f"{where}: a care requirement is a table with flags and needs, e.g. "
            '{ flags = ["child-or-young-person"], needs = ["representative-consent"] }'
        )
    try:
        return CareRequirement(flags=entry["flags"], needs=entry["needs"])
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None


def requirements(values: Iterable[object] | None) -> tuple[CareRequirement, ...]:
    """*values* as a tuple of requirements (the converter of ``care=``)."""
    if values is None:
        return ()
    if isinstance(values, CareRequirement | str) or not isinstance(values, Iterable):
        raise ConfigurationError(
            f"care= takes a list of CareRequirement values, not {type(values).__name__}"
        )
    found = []
    for value in values:
        if not isinstance(value, CareRequirement):
            raise ConfigurationError(
                f"care= takes CareRequirement values, not {type(value).__name__}"
            )
        found.append(value)
    return tuple(found)


def _source_failed(source: object, exc: BaseException) -> None:
    """Log that *source* failed (its type and the exception's, never a subject): the
    caller refuses what needed it."""
    _log.error(
        "purposeful: the care flag source %s failed (%s); what needed it is refused",
        type(source).__name__,
        type(exc).__name__,
    )


def flags_of(source: Any, subjects: Sequence[str]) -> dict[str, frozenset[str]] | None:
    """Each of *subjects*' flags (a subject the source leaves out carries none), asked of
    *source* (a `purposeful.typing.CareFlagSource`) in one call.

    None when there is no source or it failed (logged without the subjects): the caller
    refuses what needed to know.

    Raises:
        ConfigurationError: the source answered with something that is not a mapping of
            subject ids (as text, the ids it was given) to flags.
    """
    if source is None:
        return None
    try:
        found = source.care_flags(list(subjects))
    except ConfigurationError:
        raise
    except Exception as exc:
        _source_failed(source, exc)
        return None
    if not isinstance(found, Mapping):
        raise ConfigurationError(
            f"{type(source).__name__}.care_flags must return a mapping of subject ids to "
            f"their flags, not {type(found).__name__}"
        )
    try:  # a lazy answer (a mapping over a cursor, a generator) can fail while it is read
        keys = [key for key in found if not isinstance(key, str)]
        given = {subject: found.get(subject, ()) for subject in subjects}
        held: dict[str, list[object]] = {}
        for subject, flags in given.items():
            if isinstance(flags, str) or not isinstance(flags, Iterable):
                raise ConfigurationError(
                    f"{type(source).__name__}.care_flags must give each person's flags as a "
                    f"collection of flag ids, not {type(flags).__name__}"
                )
            held[subject] = list(flags)
    except ConfigurationError:
        raise
    except Exception as exc:
        _source_failed(source, exc)
        return None
    # Keys of another type (the integer ids a database hands back) match none of the text
    # ids asked about, so every flagged person would silently carry none: refused.
    if keys:
        raise ConfigurationError(
            f"{type(source).__name__}.care_flags must key its answer by the subject ids it "
            f"was given, as text (the record's subject id, str()-ed), not by "
            f"{type(keys[0]).__name__} values: convert the ids your query returns with str()"
        )
    answer = {}
    for subject, flags in held.items():
        answer[subject] = frozenset(check_flag(f) for f in flags)
    return answer
