"""Where retention reads records from, and how it disposes of them: the agency's sources.

A retention source is two callables the agency writes over its own storage:

- **every**: yields every record of the source with its dates (`Dated`), across people, so
  the agency can ask "what is due?" without naming anyone. Make it a generator: records
  stream through `purposeful.retention.assess` one at a time.
- **dispose**: deletes or de-identifies one record (`DisposalMethod`), in the agency's
  storage. It must be idempotent (disposing of a record already gone does nothing): a
  disposal a crash interrupted is run again at the next run.

A source may also list one person's records (**of_subject**, taking a subject id), for a
question about one person; without it, ``every`` is filtered. `RetentionSources` keeps them
by name, as `purposeful.access.SubjectAccess` keeps a bundle's sources. Anything with the
same methods (`purposeful.typing.RetentionSource`) can stand in for a `RetentionSource`.

What this module must not do: call a source (`assess` and `dispose_due` do), or keep what
one yielded.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from ..typing import RetentionSource as RetentionSourceProtocol

__all__ = ["Dated", "DisposalMethod", "RetentionSource", "RetentionSources"]

_NAME = re.compile(r"[a-z0-9]+([-_.][a-z0-9]+)*\Z")


class DisposalMethod(enum.Enum):
    """How a source disposes of a record."""

    DELETE = "delete"
    """The record is removed."""
    DE_IDENTIFY = "de-identify"
    """What identifies the person is removed; the rest may be kept for statistics
    (IPP 10(1)(b), IPP 11(1)(h))."""


def _dates(value: Mapping[str, date | datetime]) -> Mapping[str, date | datetime]:
    return MappingProxyType(dict(value))


@attrs.frozen(repr=False)
class Dated:
    """A record, and the dates its retention runs from.

    Attributes:
        record: a purposeful record (an instance of a `purposeful.record` class).
        since: when retention runs from (a date, as a New Zealand day, or an aware
            datetime): the event its purposes' periods name ("the case closes", "your
            last contact with the service").
        since_for: purpose id → when that purpose's period runs from, where it differs
            (funder reporting runs from the report's delivery); it covers the purpose's
            descendants too.
    """

    record: object
    since: date | datetime
    since_for: Mapping[str, date | datetime] = attrs.field(factory=dict, converter=_dates)

    def __repr__(self) -> str:
        return f"Dated(<{type(self.record).__name__}>)"


class RetentionSource:
    """One source of records: the callables over the agency's storage.

    Args:
        every: a callable taking nothing and yielding every record as `Dated`.
        dispose: a callable taking a record and a `DisposalMethod`; idempotent.
        method: how this source's records are disposed of.
        of_subject: optionally, a callable taking a subject id and yielding that person's
            records as `Dated`.

    Raises:
        ConfigurationError: a callable is not callable, or *method* is not a
            `DisposalMethod`.
    """

    def __init__(
        self,
        every: Callable[[], Iterable[Dated]],
        dispose: Callable[[object, DisposalMethod], None],
        *,
        method: DisposalMethod = DisposalMethod.DELETE,
        of_subject: Callable[[str], Iterable[Dated]] | None = None,
    ) -> None:
        for name, value in (("every", every), ("dispose", dispose)):
            if not callable(value):
                raise ConfigurationError(
                    f"RetentionSource({name}=...) takes a callable, not {type(value).__name__}"
                )
        if of_subject is not None and not callable(of_subject):
            raise ConfigurationError("RetentionSource(of_subject=...) takes a callable or None")
        if not isinstance(method, DisposalMethod):
            raise ConfigurationError(
                "RetentionSource(method=...) takes DisposalMethod.DELETE or DE_IDENTIFY"
            )
        self._every = every
        self._dispose = dispose
        self._of_subject = of_subject
        self.method = method

    def dated(self, subject: str | None = None) -> Iterator[Dated]:
        """Every record with its dates; only *subject*'s if given."""
        if subject is not None and self._of_subject is not None:
            yield from self._of_subject(subject)
        else:
            yield from self._every()

    def dispose(self, record: object, method: DisposalMethod) -> None:
        """Dispose of *record* by *method*, through the agency's hook."""
        self._dispose(record, method)

    def __repr__(self) -> str:
        return f"RetentionSource(method={self.method})"


class RetentionSources:
    """The named retention sources of an application, in the order of their names."""

    def __init__(self) -> None:
        self._sources: dict[str, RetentionSourceProtocol] = {}

    def register(self, name: str, source: RetentionSourceProtocol) -> None:
        """Register *source* (a `RetentionSource`, or anything with ``dated``, ``dispose``
        and ``method``) as *name*.

        Raises:
            ConfigurationError: the name is not lower-case words (``case-notes``), is
                taken, or *source* lacks the methods.
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigurationError(
                f"a retention source's name must be lower-case words joined by '-', '_' or "
                f"'.', e.g. 'case-notes', not {name!r}"
            )
        if name in self._sources:
            raise ConfigurationError(
                f"a retention source named {name!r} is registered already; give each its own"
            )
        if not all(callable(getattr(source, m, None)) for m in ("dated", "dispose")) or (
            not isinstance(getattr(source, "method", None), DisposalMethod)
        ):
            raise ConfigurationError(
                f"retention source {name!r} must have dated(), dispose() and a method; wrap "
                f"your callables in RetentionSource(every, dispose)"
            )
        self._sources[name] = source

    def items(self) -> list[tuple[str, RetentionSourceProtocol]]:
        """(name, source) pairs, by name: the order records are read in."""
        return sorted(self._sources.items())

    def get(self, name: str) -> RetentionSourceProtocol:
        """The source registered as *name*.

        Raises:
            ConfigurationError: none is.
        """
        try:
            return self._sources[name]
        except KeyError:
            raise ConfigurationError(f"no retention source is named {name!r}") from None

    def __len__(self) -> int:
        return len(self._sources)
