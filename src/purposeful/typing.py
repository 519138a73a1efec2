"""The extension points of purposeful, as small protocols.

Capabilities meet the core only through these:

- `ConsentChecker`: answers whether a person's consent for a purpose is in force. The
  consent stores implement it; until one is configured, a field that needs consent is denied.
  One that is also a `ConsentStatusSource` lets refusals say which consent is missing.
- `AuditSink`: takes one `ScopeReport` when a purpose scope closes. The report aggregates the
  scope's decisions, so a sink costs once per scope, not once per read.
- `DisclosureRecorder`: keeps the durable log of disclosures (`purposeful.disclose` appends
  to it); the sharing stores implement it.
- `StatementSource`: the statements of correction that travel with a field (IPP 7); the
  correction stores implement it.

This module defines protocols only: it holds no state and does no work.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .decisions import ConsentStatus, ScopeReport
    from .purposes import Purpose

__all__ = [
    "AuditSink",
    "ConsentChecker",
    "ConsentStatusSource",
    "DisclosureRecorder",
    "StatementSource",
]


@runtime_checkable
class ConsentChecker(Protocol):
    """Something that knows whether consent is in force."""

    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool:
        """True if *subject*'s consent covering *purpose* is in force at *at*.

        Args:
            subject: the record's subject identifier, as a string.
            purpose: the purpose of the scope; consent to an ancestor purpose covers it.
            at: when the scope opened (so reads within one scope stay consistent).
        """
        ...


@runtime_checkable
class ConsentStatusSource(Protocol):
    """A consent checker that can also say which consent is missing or when it ended.

    The consent stores implement it; the explanation of a refusal then names the state
    ("consent was withdrawn on 3 March 2026") instead of only "none is in force".
    """

    def consent_status(self, subject: str, purpose: Purpose, at: datetime) -> ConsentStatus:
        """The status of *subject*'s consent covering *purpose* as of *at*."""
        ...


@runtime_checkable
class AuditSink(Protocol):
    """Something that takes the report of each closed purpose scope."""

    def emit(self, report: ScopeReport) -> None:
        """Take *report*. Called once per scope, on the thread that closes it.

        A sink must not keep the records themselves; the report holds none.
        """
        ...


@runtime_checkable
class DisclosureRecorder(Protocol):
    """Something that keeps a durable log of disclosures (`purposeful.sharing` stores)."""

    def log(self, disclosure: Any) -> Any:
        """Append *disclosure* (a `purposeful.sharing.Disclosure`) in one transaction."""
        ...


@runtime_checkable
class StatementSource(Protocol):
    """Something that knows the statements of correction attached to a person's fields."""

    def statements(
        self, subject: str, record: object | None = None, field: str | None = None
    ) -> list[Any]:
        """The declined corrections with a statement, for *subject*, narrowed to *record*
        and *field* (`purposeful.access.Correction` values)."""
        ...
