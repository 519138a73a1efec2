"""The effect-time rules: how a consent history becomes a state at a moment.

These are pure functions over events, shared by every store, so that every backend answers
the same question the same way:

1. Only events expressed at or before the moment count. A scope asks as of the moment it
   opened, so a withdrawal takes effect for the next scope opened after it, and reads
   within a scope that is already open stay consistent.
2. The purpose asked about, then each ancestor in turn: the nearest purpose with any event
   decides. Consent to ``research`` covers ``research.outcomes``; a refusal or withdrawal
   recorded for ``research.outcomes`` itself overrides it for that purpose only.
3. For that purpose, the latest event decides (events at the same instant: the one recorded
   last). Given or renewed consent is in force until its expiry, which takes effect at its
   instant with nobody recording it; refused, withdrawn and revoked consent is not.
4. A renewal needs a grant (given or renewed, expired or not) as the latest earlier event
   for the same subject and purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from .._hierarchy import lineage
from ..decisions import ConsentState, ConsentStatus
from ..errors import InvalidConsentEvent
from .events import ConsentEvent

__all__ = ["check_fits", "duplicate_id", "latest", "status_at"]

NOTHING_RECORDED = ConsentStatus(in_force=False)


def latest(events: Iterable[ConsentEvent], purpose: str, at: datetime) -> ConsentEvent | None:
    """The deciding event for exactly *purpose* as of *at*, from events in recorded order."""
    found: ConsentEvent | None = None
    for event in events:
        if event.purpose == purpose and event.at <= at and (found is None or event.at >= found.at):
            found = event
    return found


def status_at(events: Sequence[ConsentEvent], purpose: str, at: datetime) -> ConsentStatus:
    """The state of consent covering *purpose* at *at*, from one subject's events in
    recorded order (events about other purposes are ignored)."""
    for ident in lineage(purpose):
        event = latest(events, ident, at)
        if event is None:
            continue
        if event.state.in_force:
            if event.expires_at is not None and at >= event.expires_at:
                return ConsentStatus(False, ConsentState.EXPIRED, ident, event.expires_at)
            return ConsentStatus(True, event.state, ident, event.at, event.expires_at)
        return ConsentStatus(False, event.state, ident, event.at)
    return NOTHING_RECORDED


def duplicate_id(event_id: str) -> InvalidConsentEvent:
    """The error for an event id that is already recorded, in any subject's history."""
    return InvalidConsentEvent(
        f"a consent event with id {event_id!r} is already recorded; events are never "
        f"edited: record a new event instead"
    )


def check_fits(event: ConsentEvent, history: Sequence[ConsentEvent]) -> None:
    """Raise `InvalidConsentEvent` if *event* does not fit the subject's *history*.

    Raises:
        InvalidConsentEvent: a renewal with no earlier grant to renew, or an event id that
            is already recorded for this subject (stores also keep ids unique across
            subjects; see `duplicate_id`).
    """
    if any(e.event_id == event.event_id for e in history):
        raise duplicate_id(event.event_id)
    if event.state is ConsentState.RENEWED:
        before = latest(history, event.purpose, event.at)
        if before is None or not before.state.in_force:
            raise InvalidConsentEvent(
                f"there is no consent for {event.purpose!r} to renew at that time; record "
                f"it as given instead"
            )
