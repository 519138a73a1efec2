"""The hold register's rules, shared by every backend: `BaseHoldStore`.

A backend keeps holds and hands them back (`_insert`, `_load`, `_change`, `_select`);
what may be placed, released and when a hold applies is decided here, once.

What this module must not do: put a subject id or a hold's reason in an error message; or
delete a hold (a released hold stays, with who released it and when: it is the record of
why disposal waited).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import attrs

from .._shared.checks import encodable, is_text, utc_moment
from .._shared.nztime import nz_date
from .._shared.store import ClosableStore
from ..errors import ConfigurationError, UnknownHold
from .values import Hold, HoldKind, is_hold_id, new_hold_id

__all__ = ["BaseHoldStore"]


class BaseHoldStore(ClosableStore):
    """A register of holds on disposal. Subclasses keep the holds; the rules are here.

    Every method raises `StoreClosed` once the store is closed, and the backend's
    `HoldStoreError` (or `StoreUnavailable`, `StoreCorrupt`) when it cannot do its part.
    """

    #: False for a backend whose text cannot hold a NUL character (PostgreSQL).
    _keeps_nul = True

    # --- the backend's hooks ---------------------------------------------------------------

    @abstractmethod
    def _insert(self, hold: Hold) -> None:
        """Keep a new hold, in one transaction."""

    @abstractmethod
    def _load(self, hold_id: str) -> Hold | None:
        """The hold with *hold_id*, or None."""

    @abstractmethod
    def _change(self, hold_id: str, change: Callable[[Hold], Hold]) -> Hold | None:
        """Replace the hold with ``change(current)`` in one transaction (None: no such
        hold); *change* may raise to leave it as it was."""

    @abstractmethod
    def _select(self) -> list[Hold]:
        """Every hold, oldest first."""

    # --- what callers use ------------------------------------------------------------------

    def place(
        self,
        *,
        reason: str,
        by: str,
        subject: str | None = None,
        record_type: str | None = None,
        until: date | None = None,
        at: datetime | None = None,
    ) -> Hold:
        """Place a legal hold: the records it covers are not disposed of while it is in
        force.

        Args:
            reason: why, in words (litigation, an inquiry, a complaint); kept in the
                register, never shown in a retention report.
            by: who placed it (an actor id).
            subject: whose records; None holds every person's.
            record_type: which record type (its name in the audit trail); None: every type.
            until: the last New Zealand day it holds, not before the day it is placed;
                None: until released.
            at: when it was placed (aware); default now.

        Raises:
            ConfigurationError: an argument is missing or of the wrong kind, or *until* is
                before the New Zealand day of *at* (such a hold would hold nothing).
        """
        self._check_open()
        return self._new(HoldKind.LEGAL, subject, record_type, reason, by, until, at)

    def hold_request(self, request: object, *, by: str, at: datetime | None = None) -> Hold:
        """Hold a person's records while their access or correction request is pending.

        Args:
            request: a `purposeful.access.AccessRequest` (its ``request_id`` and
                ``subject``), or a `purposeful.corrections.Correction` (its ``id`` and
                ``subject``). Release the hold (`release`) once the request is answered.
            by: who placed it.
            at: when (aware); default now.

        Raises:
            ConfigurationError: *request* is neither.
        """
        self._check_open()
        kind = HoldKind.ACCESS_REQUEST
        reference = getattr(request, "request_id", None)
        if reference is None and hasattr(request, "received_on"):
            kind, reference = HoldKind.CORRECTION_REQUEST, getattr(request, "id", None)
        subject = getattr(request, "subject", None)
        if not is_text(reference) or not is_text(subject):
            raise ConfigurationError(
                f"hold_request() takes an AccessRequest or a Correction, not "
                f"{type(request).__name__}"
            )
        return self._new(kind, subject, None, reference, by, None, at)

    def release(self, hold_id: str, *, by: str, at: datetime | None = None) -> Hold:
        """Release a hold: disposal may go ahead at the next run. Releasing twice changes
        nothing.

        Raises:
            UnknownHold: no hold has that id.
        """
        self._check_open()
        by = _text(by, "by", "who releases it (an actor id)")
        when = _when(at)
        if when > datetime.now(UTC) + _SKEW:
            # a release dated ahead would end the hold now, before it was released
            raise ConfigurationError(
                "a hold is released when it is released: at= must not be in the future; "
                "release it on the day instead"
            )

        def change(current: Hold) -> Hold:
            if current.released_at is not None:
                return current
            return attrs.evolve(current, released_at=when, released_by=by)

        changed = self._change(hold_id, change) if is_hold_id(hold_id) else None
        if changed is None:
            raise _unknown(hold_id)
        return changed

    def get(self, hold_id: str) -> Hold:
        """The hold with *hold_id*.

        Raises:
            UnknownHold: no hold has that id.
        """
        self._check_open()
        found = self._load(hold_id) if is_hold_id(hold_id) else None
        if found is None:
            raise _unknown(hold_id)
        return found

    def holds(self) -> list[Hold]:
        """Every hold, released or not, oldest first."""
        self._check_open()
        return self._select()

    def in_force(self, today: date | None = None) -> list[Hold]:
        """The holds in force on the New Zealand day *today* (default: today), oldest
        first."""
        self._check_open()
        day = today if today is not None else nz_date(datetime.now(UTC))
        return [hold for hold in self._select() if hold.in_force(day)]

    def _new(
        self,
        kind: HoldKind,
        subject: str | None,
        record_type: str | None,
        reason: str,
        by: str,
        until: date | None,
        at: datetime | None,
    ) -> Hold:
        if subject is not None and (not is_text(subject) or subject != subject.strip()):
            # a padded id is a slip: refused, so the register holds ids as the records do
            raise ConfigurationError(
                "a hold's subject must be a non-empty string without spaces at either end: "
                "the person's id as the records hold it (its case, width and dashes may "
                "differ), or None"
            )
        if record_type is not None and (
            not is_text(record_type) or record_type != record_type.strip()
        ):
            raise ConfigurationError(
                "a hold's record_type must be a record type's name (e.g. 'CaseNote'), or None"
            )
        if until is not None and (not isinstance(until, date) or isinstance(until, datetime)):
            raise ConfigurationError("a hold's until must be a date (a New Zealand day), or None")
        placed_at = _when(at)
        if until is not None and until < nz_date(placed_at):
            # a mistyped year would hold nothing, and nobody would be told
            raise ConfigurationError(
                f"a hold's last day ({until.isoformat()}) is before the New Zealand day it is "
                f"placed ({nz_date(placed_at).isoformat()}), so it would hold nothing; give a "
                f"later day, or none to hold until released"
            )
        texts = [t for t in (subject, record_type, reason, by) if isinstance(t, str)]
        if not all(encodable(t) for t in texts):
            raise ConfigurationError(
                "a hold's text holds a character no file or database can keep (an unpaired "
                "surrogate); fix the text"
            )
        if not self._keeps_nul and any("\0" in t for t in texts):
            raise ConfigurationError(
                f"{type(self).__name__} cannot keep a NUL character in a hold's text; remove it"
            )
        hold = Hold(
            id=new_hold_id(),
            kind=kind,
            subject=subject,
            record_type=record_type,
            reason=_text(reason, "reason", "why the records are held, in words"),
            placed_by=_text(by, "by", "who places it (an actor id)"),
            placed_at=placed_at,
            until=until,
        )
        self._insert(hold)
        return hold


#: how far ahead of this machine's clock a release time may be (another machine's clock)
_SKEW = timedelta(minutes=5)


def _text(value: object, name: str, meaning: str) -> str:
    if not is_text(value):
        raise ConfigurationError(f"a hold needs {name}: {meaning}")
    if not encodable(value):
        raise ConfigurationError(
            f"a hold's {name} holds a character no file or database can keep (an unpaired "
            f"surrogate); fix the text"
        )
    return value


def _when(at: datetime | None) -> datetime:
    """*at* in UTC (now, if None), within the times a register keeps (`utc_moment`)."""
    if at is None:
        return datetime.now(UTC)
    return utc_moment(at, "a hold's at=", ConfigurationError)


def _unknown(hold_id: object) -> UnknownHold:
    shown = f"id {hold_id}" if is_hold_id(hold_id) else "that id"
    return UnknownHold(
        f"no hold has {shown}; list them with holds() or `purposeful retention holds`"
    )
