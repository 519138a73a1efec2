"""Sensitivity: an ordered scale of levels, and the NZ government classification by default.

A field has a sensitivity level; an actor has a clearance, which is a level on the same
scale. A read is allowed only when ``clearance >= sensitivity``. Levels from different scales
cannot be compared: that raises `IncomparableLevels` rather than guessing.

The default scale follows the New Zealand government classification, lowest first:
UNCLASSIFIED, IN-CONFIDENCE, SENSITIVE, RESTRICTED, CONFIDENTIAL, SECRET, TOP SECRET.
Social-service records mostly sit at IN-CONFIDENCE and SENSITIVE (the "policy and privacy"
classes).

This module holds values only; the decision that compares them lives in `decisions`.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from .errors import ConfigurationError, IncomparableLevels

__all__ = [
    "CONFIDENTIAL",
    "IN_CONFIDENCE",
    "NZ_CLASSIFICATION",
    "RESTRICTED",
    "SECRET",
    "SENSITIVE",
    "TOP_SECRET",
    "UNCLASSIFIED",
    "Level",
    "Scale",
]


@attrs.frozen(order=False, cache_hash=True)
class Level:
    """One level of a `Scale`. Compare levels of the same scale with ``<``, ``>=`` and so on."""

    scale: str
    rank: int
    name: str

    def _rank_against(self, other: object) -> int | None:
        if not isinstance(other, Level):
            return None
        if other.scale != self.scale:
            raise IncomparableLevels(
                f"cannot compare {self.name} ({self.scale}) with {other.name} ({other.scale}); "
                f"give fields and actors levels from the same scale"
            )
        return other.rank

    def __lt__(self, other: object) -> bool:
        rank = self._rank_against(other)
        return NotImplemented if rank is None else self.rank < rank

    def __le__(self, other: object) -> bool:
        rank = self._rank_against(other)
        return NotImplemented if rank is None else self.rank <= rank

    def __gt__(self, other: object) -> bool:
        rank = self._rank_against(other)
        return NotImplemented if rank is None else self.rank > rank

    def __ge__(self, other: object) -> bool:
        rank = self._rank_against(other)
        return NotImplemented if rank is None else self.rank >= rank

    def __str__(self) -> str:
        return self.name


class Scale:
    """An ordered scale of sensitivity levels, lowest first.

    Example:
        >>> tiers = Scale("tiers", ["public", "internal", "private"])
        >>> tiers["internal"] < tiers["private"]
        True

    Raises:
        ConfigurationError: fewer than one level, or a repeated or empty level name.
    """

    def __init__(self, name: str, levels: list[str] | tuple[str, ...]) -> None:
        if not name or not levels:
            raise ConfigurationError("a sensitivity scale needs a name and at least one level")
        if len(set(levels)) != len(levels) or not all(isinstance(x, str) and x for x in levels):
            raise ConfigurationError(
                f"sensitivity scale {name!r} has an empty or repeated level name; "
                f"give each level a distinct non-empty name"
            )
        self.name = name
        self._levels = tuple(Level(name, rank, level) for rank, level in enumerate(levels))
        self._by_name = {level.name: level for level in self._levels}

    def __getitem__(self, name: str) -> Level:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name)
            raise ConfigurationError(
                f"sensitivity scale {self.name!r} has no level {name!r}; use one of: {known}"
            ) from None

    def __iter__(self) -> Iterator[Level]:
        return iter(self._levels)

    def __len__(self) -> int:
        return len(self._levels)

    def __contains__(self, level: object) -> bool:
        return isinstance(level, Level) and level.scale == self.name and level in self._levels

    @property
    def lowest(self) -> Level:
        return self._levels[0]

    @property
    def highest(self) -> Level:
        return self._levels[-1]

    def __repr__(self) -> str:
        return f"Scale({self.name!r}, {[level.name for level in self._levels]!r})"


NZ_CLASSIFICATION = Scale(
    "nz-government",
    [
        "UNCLASSIFIED",
        "IN-CONFIDENCE",
        "SENSITIVE",
        "RESTRICTED",
        "CONFIDENTIAL",
        "SECRET",
        "TOP SECRET",
    ],
)
UNCLASSIFIED = NZ_CLASSIFICATION["UNCLASSIFIED"]
IN_CONFIDENCE = NZ_CLASSIFICATION["IN-CONFIDENCE"]
SENSITIVE = NZ_CLASSIFICATION["SENSITIVE"]
RESTRICTED = NZ_CLASSIFICATION["RESTRICTED"]
CONFIDENTIAL = NZ_CLASSIFICATION["CONFIDENTIAL"]
SECRET = NZ_CLASSIFICATION["SECRET"]
TOP_SECRET = NZ_CLASSIFICATION["TOP SECRET"]
