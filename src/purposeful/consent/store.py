"""The consent store protocol, and the base every backend builds on.

`ConsentStore` is what the library and applications use: record events, read a subject's
history, derive the status at a moment, list consents about to expire, export. A store is
also a `ConsentChecker`, so ``purposeful.configure(consent=store)`` wires it into
enforcement.

`BaseConsentStore` holds everything that is the same for every backend: validation against
the purpose registry, the effect-time rules (`rules`), the convenience methods (`give`,
`withdraw`, …) and the export. A backend implements four small methods: `_append`,
`_events`, `_expiring_candidates` and `_close`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import attrs

from .._config import get_configuration
from .._hierarchy import lineage
from .._shared.checks import RECORDABLE, is_aware, is_text, recordable, repr_pretty
from .._shared.store import ClosableStore
from ..decisions import ConsentState, ConsentStatus
from ..errors import ConfigurationError, InvalidConsentEvent
from ..purposes import Purpose, PurposeRegistry
from .events import (
    Agency,
    ConsentEvent,
    ConsentMethod,
    Expresser,
    LegacyRepresentative,
    Person,
)
from .rules import check_fits, represented, status_at, steady_between

__all__ = ["DEFAULT_FUTURE_SKEW", "BaseConsentStore", "ConsentStore", "ExpiringConsent"]

#: How far ahead of the store's clock an event's time may be: the clocks of the machines
#: that record consent drift a little, and no more should be let through.
DEFAULT_FUTURE_SKEW = timedelta(minutes=5)


@attrs.frozen
class ExpiringConsent:
    """A consent in force that expires soon: ask the person again before `expires_at`.

    Holds the subject identifier, because its use is to contact the person: keep lists of
    these out of logs.
    """

    subject: str = attrs.field(repr=False)
    purpose: str
    expires_at: datetime

    _repr_pretty_ = repr_pretty


@runtime_checkable
class ConsentStore(Protocol):
    """What every consent store offers (see `BaseConsentStore` for the details)."""

    def record(self, event: ConsentEvent) -> ConsentEvent: ...
    def history(self, subject: str) -> list[ConsentEvent]: ...
    def consent_status(self, subject: str, purpose: Purpose, at: datetime) -> ConsentStatus: ...
    def consent_in_force(self, subject: str, purpose: Purpose, at: datetime) -> bool: ...
    def expiring(
        self, within: timedelta, *, at: datetime | None = None
    ) -> list[ExpiringConsent]: ...
    def close(self) -> None: ...


class BaseConsentStore(ClosableStore):
    """Shared behaviour of the consent stores. Use a concrete store, e.g. `MemoryConsentStore`.

    Args:
        registry: the purposes events may name; default: the configured registry when an
            event is recorded.
        future_skew: how far ahead of this machine's clock an event's time may be (clocks
            drift); an event dated further ahead is refused (`DEFAULT_FUTURE_SKEW`, 5
            minutes).

    Every method raises `StoreClosed` after `close()`. A store can be used as a context
    manager, which closes it.
    """

    def __init__(
        self,
        *,
        registry: PurposeRegistry | None = None,
        future_skew: timedelta = DEFAULT_FUTURE_SKEW,
    ) -> None:
        super().__init__()
        if not isinstance(future_skew, timedelta) or future_skew < timedelta(0):
            raise ConfigurationError(
                f"{type(self).__name__}(future_skew=) takes a timedelta of 0 or more (how far "
                f"ahead of this machine's clock an event's time may be), not {future_skew!r}"
            )
        self._future_skew = future_skew
        self._registry = registry
        #: part of every stamp (`consent_version`): two stores' stamps are never equal
        self._token = object()

    # --- what a backend implements ---

    @abstractmethod
    def _append(self, event: ConsentEvent, fits: Callable[[Sequence[ConsentEvent]], None]) -> None:
        """Atomically: load the subject's history, call *fits* with it (which raises if the
        event does not fit), and append the event. Nothing is written if anything raises."""

    @abstractmethod
    def _events(self, subject: str, purposes: Sequence[str] | None = None) -> list[ConsentEvent]:
        """The subject's events in recorded order, optionally only about *purposes*."""

    def _events_of(
        self, subjects: Sequence[str], purposes: Sequence[str]
    ) -> dict[str, list[ConsentEvent]]:
        """Each of *subjects*' events about *purposes*, in recorded order (a subject with
        none may be left out). A backend that can read many people at once overrides it."""
        return {subject: self._events(subject, purposes) for subject in subjects}

    def _version(self) -> object:
        """A stamp that changes whenever an event is recorded (by any process); ``None``
        when the backend cannot tell, and then nothing is cached across scopes."""
        return None

    @abstractmethod
    def _expiring_candidates(self, start: datetime, end: datetime) -> Iterable[tuple[str, str]]:
        """(subject, purpose) pairs with a grant or renewal expiring in [start, end)."""

    # --- the store's interface ---

    def record(self, event: ConsentEvent) -> ConsentEvent:
        """Append *event* to the history and return it.

        Raises:
            InvalidConsentEvent: not a `ConsentEvent`; by a `LegacyRepresentative` (which
                only older events read back with); or it does not fit the history (a
                renewal with nothing to renew, a repeated event id).
            UnknownPurpose: its purpose is not in the registry.
            StoreClosed: the store is closed.
            ConsentStoreError: the backend failed; nothing was written.
        """
        self._check_open()
        if not isinstance(event, ConsentEvent):
            raise InvalidConsentEvent(
                f"record() takes a ConsentEvent, not {type(event).__name__}; or use give(), "
                f"withdraw() and the other helpers"
            )
        if isinstance(event.by, LegacyRepresentative):
            raise InvalidConsentEvent(
                "a LegacyRepresentative is how events recorded before representatives "
                "carried their authority read back; record a new event by a "
                "Representative(relationship, evidence=..., verified_by=..., verified_at=...)"
            )
        self.registry.get(event.purpose)
        ahead = event.at - datetime.now(UTC)
        if ahead > self._future_skew:
            raise InvalidConsentEvent(
                f"the event's time is {_rounded(ahead)} ahead of this machine's clock (more "
                f"than the {_rounded(self._future_skew)} the store allows): a consent event "
                f"records what has happened, and one dated ahead would take effect only then "
                f"(a withdrawal dated ahead leaves consent in force until it). Record it when "
                f"it happens, with its real time, or check this machine's clock"
            )
        self._append(event, lambda history: check_fits(event, history))
        return event

    def give(
        self,
        subject: str,
        purpose: Purpose | str,
        *,
        at: datetime | None = None,
        by: Expresser | None = None,
        method: ConsentMethod = ConsentMethod.NOT_RECORDED,
        notice_version: str = "unversioned",
        expires_at: datetime | None = None,
        evidence: str | None = None,
    ) -> ConsentEvent:
        """Record that consent was given (by the person unless *by* says otherwise).

        Raises:
            InvalidConsentEvent, UnknownPurpose, StoreClosed: see `record`.
        """
        return self._record(
            ConsentState.GIVEN, subject, purpose, at, by, method, notice_version, expires_at,
            evidence,
        )  # fmt: skip

    def renew(
        self,
        subject: str,
        purpose: Purpose | str,
        *,
        at: datetime | None = None,
        by: Expresser | None = None,
        method: ConsentMethod = ConsentMethod.NOT_RECORDED,
        notice_version: str = "unversioned",
        expires_at: datetime | None = None,
        evidence: str | None = None,
    ) -> ConsentEvent:
        """Record that a grant was renewed, usually with a new expiry.

        Raises:
            InvalidConsentEvent: there is no grant to renew; and see `record`.
        """
        return self._record(
            ConsentState.RENEWED, subject, purpose, at, by, method, notice_version, expires_at,
            evidence,
        )  # fmt: skip

    def refuse(
        self,
        subject: str,
        purpose: Purpose | str,
        *,
        at: datetime | None = None,
        by: Expresser | None = None,
        method: ConsentMethod = ConsentMethod.NOT_RECORDED,
        notice_version: str = "unversioned",
        evidence: str | None = None,
    ) -> ConsentEvent:
        """Record that the person (or their representative) refused consent."""
        return self._record(
            ConsentState.REFUSED, subject, purpose, at, by, method, notice_version, None, evidence
        )

    def withdraw(
        self,
        subject: str,
        purpose: Purpose | str,
        *,
        at: datetime | None = None,
        by: Expresser | None = None,
        method: ConsentMethod = ConsentMethod.NOT_RECORDED,
        notice_version: str = "unversioned",
        evidence: str | None = None,
    ) -> ConsentEvent:
        """Record that the person (or their representative) withdrew consent.

        It takes effect for every scope opened after *at*.
        """
        return self._record(
            ConsentState.WITHDRAWN, subject, purpose, at, by, method, notice_version, None,
            evidence,
        )  # fmt: skip

    def revoke(
        self,
        subject: str,
        purpose: Purpose | str,
        *,
        by: Agency,
        at: datetime | None = None,
        method: ConsentMethod = ConsentMethod.NOT_RECORDED,
        notice_version: str = "unversioned",
        evidence: str | None = None,
    ) -> ConsentEvent:
        """Record that the agency ended a consent (for example, it was not validly given)."""
        return self._record(
            ConsentState.REVOKED, subject, purpose, at, by, method, notice_version, None, evidence
        )

    def history(self, subject: str) -> list[ConsentEvent]:
        """Every event about *subject*, in the order recorded.

        Raises:
            InvalidConsentEvent: an empty subject id.
            StoreClosed: the store is closed.
        """
        self._check_open()
        return self._events(_subject(subject))

    def consent_status(
        self, subject: str, purpose: Purpose | str, at: datetime | None = None
    ) -> ConsentStatus:
        """The status of *subject*'s consent covering *purpose* at *at* (default: now).

        See `purposeful.consent.rules` for the effect-time rules.
        """
        self._check_open()
        ident = self.registry.resolve(purpose).id
        when = _aware(at) if at is not None else datetime.now(UTC)
        return status_at(self._events(_subject(subject), lineage(ident)), ident, when)

    def consent_statuses(
        self, subjects: Iterable[str], purpose: Purpose | str, at: datetime | None = None
    ) -> dict[str, ConsentStatus]:
        """`consent_status` for many people at once, in one query where the backend can:
        each distinct subject in *subjects* → its status covering *purpose* at *at*.

        Raises:
            InvalidConsentEvent: an empty subject id, or a naive *at*.
            StoreClosed: the store is closed.
        """
        self._check_open()
        ident = self.registry.resolve(purpose).id
        when = _aware(at) if at is not None else datetime.now(UTC)
        wanted = _subjects(subjects)
        histories = self._events_of(wanted, lineage(ident))
        return {s: status_at(histories.get(s, ()), ident, when) for s in wanted}

    def consent_statuses_represented(
        self, subjects: Iterable[str], purpose: Purpose | str, at: datetime | None = None
    ) -> dict[str, ConsentStatus]:
        """`consent_statuses` counting only the grants a verified `Representative` gave (a
        withdrawal by anyone still ends them): what a purpose that requires a
        representative's consent for a flagged person asks (`purposeful.care`).

        Raises:
            InvalidConsentEvent: an empty subject id, or a naive *at*.
            StoreClosed: the store is closed.
        """
        self._check_open()
        ident = self.registry.resolve(purpose).id
        when = _aware(at) if at is not None else datetime.now(UTC)
        wanted = _subjects(subjects)
        histories = self._events_of(wanted, lineage(ident))
        return {s: status_at(represented(histories.get(s, ())), ident, when) for s in wanted}

    def consent_version(self) -> Hashable | None:
        """A cheap stamp that changes whenever an event is recorded, by this process or
        another on the same file or database (``None``: the backend cannot tell now).
        Equal stamps mean no event was recorded in between; scopes reuse consent answers
        across scopes only under the same stamp."""
        self._check_open()
        version = self._version()
        return None if version is None else (self._token, version)

    def consent_statuses_steady(
        self, subjects: Iterable[str], purpose: Purpose, at: datetime
    ) -> dict[str, tuple[ConsentStatus, datetime | None, datetime | None]]:
        """`consent_statuses` with what a cache across scopes needs: for each person, the
        moments ``[since, until)`` between which the answer stays the same while no event
        is recorded (events dated ahead and expiries end it; ``None``: unbounded). Read
        the stamp (`consent_version`) first: the answers are at least as new as it."""
        self._check_open()
        ident = self.registry.resolve(purpose).id
        when = _aware(at)
        wanted = _subjects(subjects)
        histories = self._events_of(wanted, lineage(ident))
        answers = {}
        for subject in wanted:
            events = histories.get(subject, ())
            since, until = steady_between(events, ident, when)
            answers[subject] = (status_at(events, ident, when), since, until)
        return answers

    def consent_in_force(
        self, subject: str, purpose: Purpose | str, at: datetime | None = None
    ) -> bool:
        """True if *subject*'s consent covering *purpose* is in force at *at* (default: now)."""
        return self.consent_status(subject, purpose, at).in_force

    def expiring(self, within: timedelta, *, at: datetime | None = None) -> list[ExpiringConsent]:
        """Consents in force at *at* (default: now) that expire within *within* of it,
        soonest first (then by purpose and subject), so staff can ask for renewal in time.

        Raises:
            InvalidConsentEvent: *within* is not a positive timedelta.
        """
        self._check_open()
        if not isinstance(within, timedelta) or within <= timedelta(0):
            raise InvalidConsentEvent("expiring(within=...) takes a positive timedelta")
        start = _aware(at) if at is not None else datetime.now(UTC)
        try:
            end = start + within
        except OverflowError:
            raise InvalidConsentEvent(
                "expiring(within=...) reaches past the last representable date; use a "
                "shorter window"
            ) from None
        found = []
        for subject, purpose in set(self._expiring_candidates(start, end)):
            status = status_at(self._events(subject, [purpose]), purpose, start)
            if status.in_force and status.expires_at is not None and status.expires_at < end:
                found.append(ExpiringConsent(subject, purpose, status.expires_at))
        return sorted(found, key=lambda c: (c.expires_at, c.purpose, c.subject))

    def export(self, subject: str) -> list[dict[str, Any]]:
        """*subject*'s history as ISO/IEC TS 27560 consent records (see `export_records`)."""
        from .export import export_records

        return export_records(self.history(subject), self.registry)

    @property
    def registry(self) -> PurposeRegistry:
        """The purposes events are checked against."""
        return self._registry if self._registry is not None else get_configuration().registry

    # --- helpers ---

    def _record(
        self,
        state: ConsentState,
        subject: str,
        purpose: Purpose | str,
        at: datetime | None,
        by: Expresser | None,
        method: ConsentMethod,
        notice_version: str,
        expires_at: datetime | None,
        evidence: str | None,
    ) -> ConsentEvent:
        self._check_open()
        ident = self.registry.resolve(purpose).id
        event = ConsentEvent(
            subject=subject,
            purpose=ident,
            state=state,
            at=at if at is not None else datetime.now(UTC),
            by=by if by is not None else Person(),
            method=method,
            notice_version=notice_version,
            expires_at=expires_at,
            evidence=evidence,
        )
        return self.record(event)


def _subject(subject: object) -> str:
    if not is_text(subject):
        raise InvalidConsentEvent("a subject id must be a non-empty string")
    return subject


def _subjects(subjects: Iterable[str]) -> list[str]:
    if isinstance(subjects, str):
        raise InvalidConsentEvent("consent_statuses() takes a collection of subject ids, not one")
    return list(dict.fromkeys(_subject(subject) for subject in subjects))


def _aware(at: datetime) -> datetime:
    if not is_aware(at):
        raise InvalidConsentEvent("times must be timezone-aware datetimes (e.g. in UTC)")
    utc = recordable(at)
    if utc is None:
        raise InvalidConsentEvent(
            f"times must fall within the times purposeful records, {RECORDABLE}"
        )
    return utc


def _rounded(span: timedelta) -> str:
    """*span* in whole seconds, as ``H:MM:SS`` (or with days)."""
    return str(timedelta(seconds=round(span.total_seconds())))
