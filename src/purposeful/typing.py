"""The extension points of purposeful, as small protocols: the one place they are defined.

The core meets the capabilities built on it, and the capabilities meet each other, only
through these:

- `ConsentChecker`: answers whether a person's consent for a purpose is in force. The
  consent stores implement it; until one is configured, a field that needs consent is denied.
  One that is also a `ConsentStatusSource` lets refusals say which consent is missing; one
  that is also a `ConsentBatchSource` is asked about many people at once (a list view, a
  prefetch), and one that is also a `ConsentSnapshotSource` has its answers reused across
  scopes until any event is recorded. Each extension is optional: a checker without it is
  asked once per person per scope.
- `AuditSink`: takes one `ScopeReport` when a purpose scope closes. The report aggregates the
  scope's decisions, so a sink costs once per scope, not once per read.
- `ConsentSource`: a person's consent history, as a subject-access bundle reads it; the
  consent stores implement it.
- `CorrectionSource`: a person's correction requests (IPP 7), and the statements of
  correction that travel with a field. Bundles read the requests, `purposeful.disclose` the
  statements (``configure(corrections=...)``); the correction stores implement it.
- `DisclosureSource`: who received a person's information, as `DisclosureEntry` values: what
  a bundle needs of a disclosure log. The sharing stores implement it; so can an
  application's own log, adapted.
- `CareFlagSource`: which people need more care (a child, an adult with a supported
  decision-maker or a welfare guardian, a family-violence safety concern), as enforcement
  asks it (``configure(care_flags=...)``); the agency's own records supply it.
- `RepresentedConsentSource`: consent counting only what representatives gave, for purposes
  that require it of flagged people (`purposeful.care`); the consent stores implement it.
- `DisclosureLog`: a `DisclosureSource` that `purposeful.disclose` also appends to
  (``configure(disclosure_log=...)``); the sharing stores implement it.
- `ProvenanceSource`: where a person's information came from (fields filled from a
  partner's referral, `purposeful.sharing.prefill`), as `Provenance` values; the sharing
  stores implement it, and a bundle whose disclosure source is one shows a "where this came
  from" line per item.
- `RetentionSource`: every record of an agency's store with the dates its retention runs
  from, and the hook that disposes of one (IPP 9); `purposeful.retention.RetentionSource`
  wraps two callables into one.
- `DisposalLedger`: where disposal writes its evidence; `purposeful.audit.Ledger`
  implements it, so retention and the audit trail meet without importing each other.

The values these protocols hand over are the library's own: `ScopeReport`, `ConsentStatus`
and `Purpose` from the core, and the stores' values (`purposeful.consent.ConsentEvent`,
`purposeful.corrections.Correction`, `purposeful.sharing.Disclosure`,
`purposeful.sharing.DisclosureEntry` and `purposeful.sharing.Provenance`), named for the type
checker only.

This module defines protocols only: it holds no state, does no work, and imports nothing at
run time beyond the standard library (``import purposeful.typing`` loads no store).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .consent.events import ConsentEvent
    from .corrections.values import Correction
    from .decisions import ConsentStatus, ScopeReport
    from .purposes import Purpose
    from .retention.sources import Dated, DisposalMethod
    from .sharing.values import Disclosure, DisclosureEntry, Provenance

__all__ = [
    "AuditSink",
    "CareFlagSource",
    "ConsentBatchSource",
    "ConsentChecker",
    "ConsentSnapshotSource",
    "ConsentSource",
    "ConsentStatusSource",
    "CorrectionSource",
    "DisclosureLog",
    "DisclosureSource",
    "DisposalLedger",
    "ProvenanceSource",
    "RepresentedConsentSource",
    "RetentionSource",
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
class ConsentBatchSource(Protocol):
    """A consent checker that answers for many people in one call (one query).

    The consent stores implement it; a scope uses it for the people of rows loaded or
    prefetched together. It must give the same answer per person as ``consent_status``.
    """

    def consent_statuses(
        self, subjects: Collection[str], purpose: Purpose, at: datetime
    ) -> Mapping[str, ConsentStatus]:
        """Each of *subjects* (distinct, non-empty) → their status covering *purpose* at
        *at*. A subject left out is refused as a failed check."""
        ...


@runtime_checkable
class ConsentSnapshotSource(Protocol):
    """A consent checker whose answers may be reused across scopes until anything changes.

    The consent stores implement it. A scope reads the stamp once, when it first needs
    consent, and reuses a cached answer only under an equal stamp and within the interval
    the answer holds for; so an event recorded by any process applies to the next scope.
    """

    def consent_version(self) -> Hashable | None:
        """A cheap stamp that changes whenever any event is recorded, by any process; equal
        stamps of one checker mean nothing was recorded in between. ``None``: cannot tell
        now (nothing is reused)."""
        ...

    def consent_statuses_steady(
        self, subjects: Collection[str], purpose: Purpose, at: datetime
    ) -> Mapping[str, tuple[ConsentStatus, datetime | None, datetime | None]]:
        """Each subject → (status at *at*, since, until): the answer holds for every
        moment in ``[since, until)`` while no event is recorded (``None``: unbounded). The
        answers must be at least as new as a stamp read before the call."""
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
class ConsentSource(Protocol):
    """What a subject-access bundle needs of a consent store (every `purposeful.consent`
    store has it)."""

    def history(self, subject: str) -> Sequence[ConsentEvent]:
        """Every consent event about *subject*, in the order recorded."""
        ...

    def export(self, subject: str) -> Sequence[Mapping[str, object]]:
        """*subject*'s history as ISO/IEC TS 27560 consent records (JSON objects)."""
        ...


@runtime_checkable
class CorrectionSource(Protocol):
    """Something that knows a person's correction requests and the statements of correction
    attached to their fields (every `purposeful.corrections` store)."""

    def for_subject(self, subject: str) -> Sequence[Correction]:
        """Every request *subject* made, oldest first (for a subject-access bundle)."""
        ...

    def statements(
        self, subject: str, record: object | None = None, field: str | None = None
    ) -> Sequence[Correction]:
        """The declined requests of *subject* with a statement of correction, oldest first,
        narrowed to *record* (a record instance) and *field*: what must be read with the
        information, and goes with it when it is disclosed."""
        ...


@runtime_checkable
class DisclosureSource(Protocol):
    """Something that knows who received a person's information: what a subject-access
    bundle needs of a disclosure log."""

    def for_subject(self, subject: str) -> Iterable[DisclosureEntry]:
        """Every disclosure about *subject*, oldest first."""
        ...


@runtime_checkable
class DisclosureLog(DisclosureSource, Protocol):
    """The durable log of disclosures that `purposeful.disclose` appends to (the
    `purposeful.sharing` stores); bundles read it as a `DisclosureSource`."""

    def log(self, disclosure: Disclosure) -> Disclosure:
        """Append *disclosure* in one transaction and return it; logging the same
        disclosure again (a retry) writes nothing."""
        ...


@runtime_checkable
class ProvenanceSource(Protocol):
    """Something that knows where a person's information came from: fields of their records
    filled from a partner's referral (the `purposeful.sharing` stores)."""

    def provenance(self, subject: str) -> Sequence[Provenance]:
        """Every `Provenance` about *subject*, oldest first."""
        ...


@runtime_checkable
class RetentionSource(Protocol):
    """Every record of one of an agency's stores, with its dates, and how to dispose of one
    (IPP 9): what `purposeful.retention` needs of a store."""

    method: DisposalMethod
    """How this source's records are disposed of: deleted or de-identified."""

    def dated(self, subject: str | None = None) -> Iterable[Dated]:
        """Every record with the dates its retention runs from (only *subject*'s, if
        given), streamed."""
        ...

    def dispose(self, record: object, method: DisposalMethod) -> None:
        """Delete or de-identify *record* in the agency's storage. Idempotent: disposing
        of a record already disposed of does nothing."""
        ...


@runtime_checkable
class CareFlagSource(Protocol):
    """Which people need more care: each person's flags (`purposeful.care.CareFlag` values
    or the agency's own ids), as the agency keeps them.

    Enforcement asks it, for the people a use, a disclosure or a release is about, when a
    purpose or an agreement has a care requirement; never otherwise. It reads the agency's
    own records directly (a query, not a read of managed fields: it answers inside scopes of
    any purpose), and it applies the agency's own rules, an age rule among them.
    """

    def care_flags(self, subjects: Sequence[str]) -> Mapping[str, Collection[str]]:
        """Each of *subjects*' flags; a person left out carries none."""
        ...


@runtime_checkable
class RepresentedConsentSource(Protocol):
    """Consent counting only grants a verified representative gave (the person's own
    withdrawal still ends it): what a purpose that requires a representative's consent for
    flagged people asks (`purposeful.care.CareNeed.REPRESENTATIVE_CONSENT`)."""

    def consent_statuses_represented(
        self, subjects: Iterable[str], purpose: Purpose, at: datetime
    ) -> Mapping[str, ConsentStatus]:
        """Each of *subjects*' status covering *purpose* at *at*, counting only
        representatives' grants."""
        ...


@runtime_checkable
class DisposalLedger(Protocol):
    """Where disposal writes its evidence (`purposeful.audit.Ledger`): names, rules,
    dates and pseudonyms, never values."""

    def record_disposal(
        self,
        *,
        stage: str,
        disposal: str,
        source: str,
        record_type: str,
        subject: str,
        rule: str,
        kept_until: date,
        method: str,
        authority: str | None,
        actor: str,
        time: datetime,
    ) -> None:
        """Append one line of evidence: *stage* is ``"begun"`` before the source's hook
        runs, ``"done"`` after it returned, ``"failed"`` if it raised; *disposal* is the
        record's pseudonym (the same at every attempt), *subject* the person's.

        A ledger that can also list the disposals it holds as begun and never done offers
        ``unfinished_disposals()`` (`purposeful.audit.Ledger` does): `dispose_due` then
        finishes them. Without it, nothing interrupted is finished by a run."""
        ...
