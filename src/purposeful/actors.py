"""Actors: who is using information inside a purpose scope.

An `Actor` is a member of staff, a service account or a batch job. Its `role` appears in
explanations ("the caseworker role"); its `clearance` is a sensitivity level on the same
scale as the fields it reads. An actor id is a staff or system identifier: it reaches the
audit trail, but never a plain-language explanation.
"""

from __future__ import annotations

import attrs

from ._shared.checks import is_text
from .errors import ConfigurationError
from .sensitivity import Level

__all__ = ["Actor"]


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value):
        raise ConfigurationError(f"Actor.{attribute.name} must be a non-empty string")


def _level(instance: object, attribute: attrs.Attribute[Level], value: object) -> None:
    if not isinstance(value, Level):
        raise ConfigurationError(
            f"Actor.clearance must be a sensitivity Level such as purposeful.SENSITIVE, "
            f"not {type(value).__name__}"
        )


@attrs.frozen(cache_hash=True)
class Actor:
    """Who reads: an id, a role and a clearance.

    Args:
        id: a stable staff or system identifier (e.g. ``"staff-0042"``).
        role: what they do, in words a caseworker uses ("caseworker", "funder-reporting-job").
            A statute that names the roles that may rely on it (`Statute.roles`, such as
            ``"social-services-practitioner"`` under the Family Violence Act 2018 s 20)
            matches this exactly.
        clearance: the highest sensitivity level they may read.
    """

    id: str = attrs.field(validator=_non_empty)
    role: str = attrs.field(validator=_non_empty)
    clearance: Level = attrs.field(validator=_level)
