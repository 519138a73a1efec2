"""Purposes: why information is used, declared once, in code or in a reviewed TOML file.

A `Purpose` has a dotted id (``service-delivery.case-management``), a short title, a
plain-language description for the person the data is about, a benefit statement (how the
use helps them: DPUP's He Tāngata principle), the lawful bases it may rest on and an optional
retention period.

Purposes live in a `PurposeRegistry`. A grant of a parent covers its children, never the
other way round. Every mistake (malformed id, duplicate, unknown parent, unknown key) is an
error when the registry is built or loaded, never a silent deny at read time.

`PurposeRegistry.default()` is the pack shipped for NZ social services (see
``data/nz_social_services.toml``); extend it with `extend()` or replace it.

This module must not import the enforcement machinery (`scope`, `records`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import attrs

from . import _toml
from ._hierarchy import Hierarchy, check_id, covers, lineage
from ._shared.checks import is_text
from .bases import BASIS_TYPES, BasisKind, LawfulBasis, parse_basis
from .care import CareNeed, CareRequirement, flags_needing, parse_requirement, requirements
from .errors import ConfigurationError, UnknownPurpose

#: The packs shipped with the library (read as files, not through importlib.resources,
#: whose readers would load zipfile into every process that imports purposeful).
_DATA = Path(__file__).parent / "data"

__all__ = ["Purpose", "PurposeRegistry", "Retention"]


@attrs.frozen
class Retention:
    """How long information used for a purpose is kept (IPP 9).

    Args:
        years, months, days: the period; at least one must be positive.
        after: the event the period runs from, in plain words ("the case closes").
    """

    years: int = 0
    months: int = 0
    days: int = 0
    after: str = "collection"

    def __attrs_post_init__(self) -> None:
        parts = (self.years, self.months, self.days)
        if any(not isinstance(p, int) or isinstance(p, bool) or p < 0 for p in parts) or not any(
            parts
        ):
            raise ConfigurationError(
                "a retention period needs non-negative whole years, months or days, "
                "and at least one of them above zero"
            )
        if not isinstance(self.after, str) or not self.after.strip():
            raise ConfigurationError(
                "a retention period needs 'after': the event it runs from, in words, "
                'e.g. after = "the case closes"'
            )

    def describe(self) -> str:
        units = [(self.years, "year"), (self.months, "month"), (self.days, "day")]
        text = ", ".join(f"{n} {u}{'s' if n != 1 else ''}" for n, u in units if n)
        return f"{text} after {self.after}"


def _bases(value: Iterable[LawfulBasis]) -> tuple[LawfulBasis, ...]:
    bases = tuple(value)
    for basis in bases:
        if not isinstance(basis, BASIS_TYPES):
            raise ConfigurationError(
                f"{basis!r} is not a lawful basis; use a value from purposeful.bases "
                f"such as CONSENT or Statute(act=..., section=...)"
            )
    return bases


def _text(instance: Purpose, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value):
        raise ConfigurationError(
            f"purpose {instance.id!r} needs a non-empty {attribute.name}; "
            f"write it for the person the information is about"
        )


@attrs.frozen(cache_hash=True)
class Purpose:
    """A declared purpose of use.

    Args:
        id: dotted id; its parent (the part before the last dot) must be declared too.
        title: a short name, e.g. "Case management".
        description: what the use is, in plain language for the person.
        benefit: how the use helps the person or their community.
        bases: the lawful bases this purpose may rest on. A field declaring this purpose
            must use a basis of one of these kinds. Empty means any basis.
        retention: how long information used for it is kept, if decided.
        care: what it needs first for people who need more care (`CareRequirement`
            values): a representative's consent, a second reviewer, a safety review. It
            applies to the purpose's descendants too (`PurposeRegistry.care_for`).
    """

    id: str = attrs.field(validator=lambda _i, _a, v: check_id("purpose", v))
    title: str = attrs.field(validator=_text)
    description: str = attrs.field(validator=_text)
    benefit: str = attrs.field(validator=_text)
    bases: tuple[LawfulBasis, ...] = attrs.field(default=(), converter=_bases)
    retention: Retention | None = None
    care: tuple[CareRequirement, ...] = attrs.field(default=(), converter=requirements)

    @property
    def parent_id(self) -> str | None:
        """The parent's id, or None for a top-level purpose."""
        return self.id.rpartition(".")[0] or None

    @property
    def lineage(self) -> tuple[str, ...]:
        """This id, then each ancestor's id up to the root."""
        return lineage(self.id)

    def covers(self, other: Purpose | str) -> bool:
        """True if a grant of this purpose covers *other* (itself or a descendant)."""
        return covers(self.id, other.id if isinstance(other, Purpose) else other)

    def allows_basis(self, basis: LawfulBasis) -> bool:
        """True if *basis* is of a kind this purpose may rest on."""
        return not self.bases or basis.kind in {b.kind for b in self.bases}

    def __str__(self) -> str:
        return self.id


_PURPOSE_KEYS = {"id", "title", "description", "benefit"}
_PURPOSE_OPTIONAL = {"bases", "retention", "care"}


def _purpose_from_entry(entry: Mapping[str, Any]) -> Purpose:
    _toml.expect_keys(entry, "purpose", _PURPOSE_KEYS, _PURPOSE_OPTIONAL)
    for key in ("title", "description", "benefit"):
        _toml.expect_str(entry, key, "purpose")
    bases = entry.get("bases", [])
    if not isinstance(bases, list):
        raise ConfigurationError(f"purpose {entry['id']!r}: 'bases' must be a list")
    retention = entry.get("retention")
    if retention is not None:
        if not isinstance(retention, dict) or not retention.keys() <= {
            "years",
            "months",
            "days",
            "after",
        }:
            raise ConfigurationError(
                f"purpose {entry['id']!r}: 'retention' must be a table with years, months, "
                f'days and after, e.g. {{ years = 7, after = "the case closes" }}'
            )
        retention = Retention(**retention)
    care = entry.get("care", [])
    if not isinstance(care, list):
        raise ConfigurationError(f"purpose {entry['id']!r}: 'care' must be a list of tables")
    return Purpose(
        id=check_id("purpose", entry["id"]),
        title=entry["title"],
        description=entry["description"],
        benefit=entry["benefit"],
        bases=[parse_basis(b) for b in bases],
        retention=retention,
        care=[parse_requirement(c, f"purpose {entry['id']!r}") for c in care],
    )


class PurposeRegistry(Hierarchy[Purpose]):
    """An immutable, validated set of purposes.

    Raises (on construction):
        InvalidIdentifier, DuplicateIdentifier, UnknownParent: see `purposeful.errors`.
    """

    kind = "purpose"
    unknown = UnknownPurpose
    item_type = Purpose

    def resolve(self, purpose: Purpose | str) -> Purpose:
        """The registry's purpose for an id or a `Purpose`.

        Raises:
            UnknownPurpose: the id is not declared, or the `Purpose` differs from the
                registry's declaration of the same id.
        """
        if isinstance(purpose, Purpose):
            found = self.get(purpose.id)
            if found != purpose:
                raise UnknownPurpose(
                    f"purpose {purpose.id!r} differs from the registry's declaration of that id; "
                    f"use the registry's purpose (registry.get({purpose.id!r}))"
                )
            return found
        if not isinstance(purpose, str):
            raise UnknownPurpose(self._unknown_message(purpose))
        return self.get(purpose)

    def care_for(self, purpose: Purpose | str) -> tuple[CareRequirement, ...]:
        """The care requirements of *purpose* and of every purpose above it: a requirement
        of ``research`` holds for ``research.outcomes``.

        Raises:
            UnknownPurpose: the purpose is not declared.
        """
        ident = self.resolve(purpose).id
        return tuple(r for i in lineage(ident) for r in self.get(i).care)

    def representative_flags(self, purpose: Purpose | str) -> frozenset[str]:
        """The flags for which a use under *purpose* counts only a representative's
        consent (empty for most purposes: a cheap check on the consent path)."""
        return flags_needing(self.care_for(purpose), CareNeed.REPRESENTATIVE_CONSENT)

    def ids_with_basis_kind(self, kind: BasisKind) -> frozenset[str]:
        """The ids of purposes that may rest on a basis of *kind*."""
        return frozenset(p.id for p in self if not p.bases or kind in {b.kind for b in p.bases})

    @classmethod
    def from_toml(
        cls, source: Path | str | Traversable, *, extends: PurposeRegistry | None = None
    ) -> PurposeRegistry:
        """Load purposes from the ``[[purpose]]`` tables of a TOML file.

        Args:
            source: the file.
            extends: a registry whose purposes the file adds to (and may replace by id),
                e.g. ``PurposeRegistry.default()``.

        Raises:
            RegistryFileError: the file is unreadable or malformed, or an entry is wrong;
                the message names the file and the entry's line.
        """
        return _toml.load_registry(source, "purpose", _purpose_from_entry, cls, extends)

    @classmethod
    def default(cls) -> PurposeRegistry:
        """The purpose pack for NZ social services shipped with purposeful."""
        return _default_registry()


@cache
def _default_registry() -> PurposeRegistry:
    return PurposeRegistry.from_toml(_DATA / "nz_social_services.toml")
