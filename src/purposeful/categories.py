"""Data categories: what kind of information a field holds (health, contact, identity, …).

Categories are hierarchical like purposes: ``health.mental-health`` is a kind of ``health``,
so a question about health information includes it. They drive reports and notices ("who
read this person's health information?") and test properties ("no health field is read for
funder reporting"); enforcement itself is by purpose, sensitivity and consent.

`CategoryRegistry.default()` is the set shipped for NZ social services; extend or replace it.
This module must not import the enforcement machinery.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import attrs

from . import _toml
from ._hierarchy import Hierarchy, check_id, covers
from ._shared.checks import is_text
from .errors import ConfigurationError, UnknownCategory

#: The packs shipped with the library (read as files, not through importlib.resources,
#: whose readers would load zipfile into every process that imports purposeful).
_DATA = Path(__file__).parent / "data"

__all__ = ["CategoryRegistry", "DataCategory"]


def _title(instance: DataCategory, attribute: attrs.Attribute[str], value: object) -> None:
    if not is_text(value):
        raise ConfigurationError(f"data category {instance.id!r} needs a non-empty title")


def _description(instance: DataCategory, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise ConfigurationError(f"data category {instance.id!r}: 'description' must be text")


@attrs.frozen
class DataCategory:
    """A category of information.

    Args:
        id: dotted id; its parent must be declared too.
        title: a short plain-language name, e.g. "Health".
        description: optional longer text for notices.
    """

    id: str = attrs.field(validator=lambda _i, _a, v: check_id("data category", v))
    title: str = attrs.field(validator=_title)
    description: str = attrs.field(default="", validator=_description)

    def within(self, other: DataCategory | str) -> bool:
        """True if this category is *other* or one of its descendants."""
        return covers(other.id if isinstance(other, DataCategory) else other, self.id)

    def __str__(self) -> str:
        return self.id


def _category_from_entry(entry: Mapping[str, Any]) -> DataCategory:
    _toml.expect_keys(entry, "data category", {"id", "title"}, {"description"})
    _toml.expect_str(entry, "title", "data category")
    description = entry.get("description", "")
    return DataCategory(check_id("data category", entry["id"]), entry["title"], description)


class CategoryRegistry(Hierarchy[DataCategory]):
    """An immutable, validated set of data categories."""

    kind = "data category"
    unknown = UnknownCategory
    item_type = DataCategory

    def resolve(self, category: DataCategory | str) -> DataCategory:
        """The registry's category for an id or a `DataCategory`.

        Raises:
            UnknownCategory: not declared in this registry.
        """
        ident = category.id if isinstance(category, DataCategory) else category
        if not isinstance(ident, str):
            raise UnknownCategory(self._unknown_message(ident))
        return self.get(ident)

    @classmethod
    def from_toml(
        cls, source: Path | str | Traversable, *, extends: CategoryRegistry | None = None
    ) -> CategoryRegistry:
        """Load categories from the ``[[category]]`` tables of a TOML file.

        Raises:
            RegistryFileError: the file is unreadable or malformed, or an entry is wrong.
        """
        return _toml.load_registry(source, "category", _category_from_entry, cls, extends)

    @classmethod
    def default(cls) -> CategoryRegistry:
        """The data categories for NZ social services shipped with purposeful."""
        return _default_categories()


@cache
def _default_categories() -> CategoryRegistry:
    return CategoryRegistry.from_toml(_DATA / "nz_social_services.toml")
