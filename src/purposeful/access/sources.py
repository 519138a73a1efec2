"""Where a subject-access bundle's contents come from.

- **Data sources**: named callables the application registers, each taking a subject id and
  yielding that person's annotated records (instances of `purposeful.record` classes).
  Make them generators, so a person with many records streams through the bundle. They are
  kept here, in `Sources`.
- **Consent**: a consent store (`purposeful.consent`), for the person's consent history.
- **Corrections**: a correction store (`purposeful.corrections`), for IPP 7 requests and the
  statements of correction that travel with fields.
- **Disclosures**: a sharing store (`purposeful.sharing`), or anything with
  ``for_subject(subject)`` yielding `purposeful.sharing.DisclosureEntry` values: who received
  the person's information, when, for what purpose and on what basis.
- **Access history**: audit ledgers (`purposeful.audit.Ledger` files), read with the
  pseudonym keys they were written with.

What the bundle needs of the stores is said by protocols in `purposeful.typing`
(`ConsentSource`, `CorrectionSource`, `DisclosureSource`), so that a test, or an agency with
its own store, can supply a small object instead.

What this module must not do: call a data source (the bundle does, and checks what it
yields), or keep what one yielded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeAlias

from ..errors import ConfigurationError

__all__ = ["Fetch", "Sources"]

Fetch: TypeAlias = Callable[[str], Iterable[object]]
"""A data source: given a subject id, the person's records."""

_NAME = re.compile(r"[a-z0-9]+([-_.][a-z0-9]+)*\Z")


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
