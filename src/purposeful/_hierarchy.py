"""Dotted, hierarchical identifiers shared by purposes and data categories.

An id is lower-case words joined by hyphens, and levels joined by dots:
``service-delivery.case-management``. The parent of ``a.b`` is ``a``. A declaration of a
parent covers all its descendants, never the other way round.

This module knows nothing of what the ids name; `purposes` and `categories` build on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Generic, Protocol, Self, TypeVar

from .errors import ConfigurationError, DuplicateIdentifier, InvalidIdentifier, UnknownParent

_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*")


def check_id(kind: str, value: object) -> str:
    """Return *value* if it is a well-formed dotted id, else raise `InvalidIdentifier`."""
    if not isinstance(value, str) or _ID.fullmatch(value) is None:
        raise InvalidIdentifier(
            f"{kind} id {value!r} is malformed: use lower-case words joined by hyphens, "
            f"with dots between levels, for example 'service-delivery.case-management'"
        )
    return value


def lineage(ident: str) -> tuple[str, ...]:
    """The id itself, then each ancestor up to the root: ``a.b.c`` → ``(a.b.c, a.b, a)``."""
    parts = ident.split(".")
    return tuple(".".join(parts[:n]) for n in range(len(parts), 0, -1))


def covers(granted: str, requested: str) -> bool:
    """True when a grant of *granted* covers *requested* (itself or a descendant)."""
    return requested == granted or requested.startswith(granted + ".")


class Identified(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=Identified)


class Hierarchy(Generic[T]):
    """An immutable, validated collection of identified items, keyed by dotted id.

    Subclasses set `kind` (used in messages) and `unknown` (the error raised by `get`).
    """

    kind = "item"
    unknown: type[LookupError] = LookupError
    item_type: type = object

    def __init__(self, items: Iterable[T] = ()) -> None:
        table = self._table(items)
        for ident in table:
            parent = ident.rpartition(".")[0]
            if parent and parent not in table:
                raise UnknownParent(
                    f"{self.kind} {ident!r} has no parent {parent!r} in the registry; "
                    f"declare {parent!r} first, or rename {ident!r}"
                )
        self._items = table

    def _table(self, items: Iterable[T]) -> dict[str, T]:
        """Items by id, checking their type, id form and uniqueness (not their parents)."""
        if isinstance(items, str | bytes) or not isinstance(items, Iterable):
            raise ConfigurationError(
                f"{type(self).__name__} takes an iterable of {self.item_type.__name__} values"
            )
        table: dict[str, T] = {}
        for item in items:
            if not isinstance(item, self.item_type):
                raise ConfigurationError(
                    f"{type(self).__name__} holds {self.item_type.__name__} values, "
                    f"not {type(item).__name__}"
                )
            ident = check_id(self.kind, item.id)
            if ident in table:
                raise DuplicateIdentifier(
                    f"{self.kind} {ident!r} is declared twice; keep one declaration "
                    f"(use extend() to replace a {self.kind} of a base registry)"
                )
            table[ident] = item
        return table

    def get(self, ident: str) -> T:
        """The item with this id.

        Raises:
            UnknownPurpose or UnknownCategory: no such id; the message lists close matches.
        """
        try:
            return self._items[ident]
        except KeyError:
            raise self.unknown(self._unknown_message(ident)) from None

    def _unknown_message(self, ident: object) -> str:
        known = ", ".join(sorted(self._items)) or "(none)"
        return f"unknown {self.kind} {ident!r}; declare it in the registry or use one of: {known}"

    def children(self, ident: str) -> tuple[T, ...]:
        """The direct children of *ident*, in declaration order."""
        return tuple(i for k, i in self._items.items() if k.rpartition(".")[0] == ident)

    def ancestors(self, ident: str) -> tuple[T, ...]:
        """The declared ancestors of *ident*, nearest first."""
        self.get(ident)
        return tuple(self._items[a] for a in lineage(ident)[1:])

    def extend(self, items: Iterable[T] | Hierarchy[T]) -> Self:
        """A new registry with *items* added; an item with an existing id replaces it."""
        merged = dict(self._items)
        merged.update(self._table(items))
        return type(self)(merged.values())

    def as_mapping(self) -> Mapping[str, T]:
        return dict(self._items)

    def __contains__(self, ident: object) -> bool:
        return ident in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._items == other._items

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({sorted(self._items)!r})"
