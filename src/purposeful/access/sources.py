"""Where a subject-access bundle's contents come from.

- **Data sources**: named callables the application registers, each taking a subject id and
  yielding that person's annotated records (instances of `purposeful.record` classes).
  Make them generators, so a person with many records streams through the bundle.
- **Consent**: a consent store (`purposeful.consent`), for the person's consent history.
- **Corrections**: a correction store (`purposeful.access.corrections`), for IPP 7 requests
  and the statements of correction that travel with fields.
- **Disclosures**: anything with ``for_subject(subject)`` yielding `DisclosureEntry` values:
  who received the person's information, when, for what purpose and on what basis. The
  sharing agreements' disclosure log will be one; an application can adapt its own log.
- **Access history**: audit ledgers (`purposeful.audit.Ledger` files), read with the
  pseudonym keys they were written with.

The protocols here are what the bundle needs of each, so that a test, or an agency with
its own store, can supply a small object instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol, TypeAlias, runtime_checkable

import attrs

from ..errors import ConfigurationError

__all__ = [
    "ConsentSource",
    "CorrectionSource",
    "DisclosureEntry",
    "DisclosureLog",
    "Fetch",
    "Sources",
]

Fetch: TypeAlias = Callable[[str], Iterable[object]]
"""A data source: given a subject id, the person's records."""

_NAME = re.compile(r"[a-z0-9]+([-_.][a-z0-9]+)*\Z")


@runtime_checkable
class ConsentSource(Protocol):
    """What a bundle needs of a consent store (every `purposeful.consent` store has it)."""

    def history(self, subject: str) -> list[Any]: ...
    def export(self, subject: str) -> list[dict[str, Any]]: ...


@runtime_checkable
class CorrectionSource(Protocol):
    """What a bundle needs of a correction store."""

    def for_subject(self, subject: str) -> list[Any]: ...


def _text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"DisclosureEntry.{attribute.name} must be non-empty text")


def _aware(instance: object, attribute: attrs.Attribute[datetime], value: object) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ConfigurationError(
            "DisclosureEntry.at must be a timezone-aware datetime, e.g. datetime.now(UTC)"
        )


@attrs.frozen
class DisclosureEntry:
    """One disclosure of the person's information to another party.

    Attributes:
        at: when it was disclosed (timezone-aware).
        recipient: who received it (an agency's name).
        purpose: the purpose id it was disclosed for.
        basis: the lawful basis, in words (`LawfulBasis.describe()`).
        fields: what was disclosed, as ``"RecordType.field"``.
        agreement: the sharing agreement it was made under, if any.
    """

    at: datetime = attrs.field(validator=_aware)
    recipient: str = attrs.field(validator=_text)
    purpose: str = attrs.field(validator=_text)
    basis: str = attrs.field(validator=_text)
    fields: tuple[str, ...] = attrs.field(converter=tuple)
    agreement: str | None = None


@runtime_checkable
class DisclosureLog(Protocol):
    """What a bundle needs of a disclosure log."""

    def for_subject(self, subject: str) -> Iterable[DisclosureEntry]: ...


class Sources:
    """The named data sources of an application, in the order of their names."""

    def __init__(self) -> None:
        self._sources: dict[str, Fetch] = {}

    def register(self, name: str, fetch: Fetch) -> None:
        """Register *fetch* as data source *name*.

        Raises:
            ConfigurationError: the name is not lower-case words (``case-management``), is
                taken, or *fetch* is not callable.
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigurationError(
                f"a data source's name must be lower-case words joined by '-', '_' or '.', "
                f"e.g. 'case-management', not {name!r}"
            )
        if name in self._sources:
            raise ConfigurationError(
                f"a data source named {name!r} is registered already; give each one its own name"
            )
        if not callable(fetch):
            raise ConfigurationError(
                f"data source {name!r} must be a callable taking a subject id and yielding "
                f"records, not {type(fetch).__name__}"
            )
        self._sources[name] = fetch

    def items(self) -> list[tuple[str, Fetch]]:
        """(name, source) pairs, by name: the order records are read in."""
        return sorted(self._sources.items())

    def __len__(self) -> int:
        return len(self._sources)
