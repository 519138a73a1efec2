"""The effect-time rules: how a consent history becomes a state at a moment.

These are pure functions over events, shared by every store, so that every backend answers
the same question the same way:

1. Only events expressed at or before the moment count. A scope asks as of the moment it
   opened, so a withdrawal takes effect for the next scope opened after it, and reads
   within a scope that is already open stay consistent.
2. Events about the purpose asked and about every purpose covering it count: consent to
   ``research`` covers ``research.outcomes``.
3. Consent is in force when a grant (given or renewed) among them has not expired, no
   later grant for the same purpose replaced it, and no refusal, withdrawal or revocation
   among them came after it (events at the same instant: the one recorded last is later).
   So withdrawing ``research`` ends an earlier grant for ``research.outcomes`` too;
   withdrawing ``research.outcomes`` ends ``research``'s grant for ``research.outcomes``
   only; and a lapsed grant for ``research.outcomes`` does not hide a grant for
   ``research`` that is still in force. Expiry takes effect at its instant with nobody
   recording it.
4. Where a purpose counts only a representative's consent for a flagged person
   (`purposeful.care.CareNeed.REPRESENTATIVE_CONSENT`), `represented` drops the grants and
   renewals anyone but a verified `Representative` expressed before rule 3 applies; every
   refusal, withdrawal and revocation still counts (the person saying stop is heard).
5. A renewal needs a grant (given or renewed, expired or not) as the latest earlier event
   for the same subject and purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from .._hierarchy import lineage
from ..decisions import ConsentState, ConsentStatus
from ..errors import InvalidConsentEvent
from .events import ConsentEvent, Representative

__all__ = [
    "check_fits",
    "duplicate_id",
    "latest",
    "represented",
    "status_at",
    "steady_between",
]

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
    recorded order (events about purposes that do not cover *purpose* are ignored).

    In force: the latest live grant's state, purpose, time and expiry. Not in force: the
    latest refusal, withdrawal or revocation if nothing was granted after it, else the
    latest expiry among the grants after it.
    """
    covering = set(lineage(purpose))
    relevant = [e for e in events if e.purpose in covering and e.at <= at]
    if not relevant:
        return NOTHING_RECORDED
    # Effect order: by time, and at the same instant by recorded order (a stable sort).
    relevant.sort(key=lambda e: e.at)
    last_ending = max((n for n, e in enumerate(relevant) if not e.state.in_force), default=-1)
    # the latest grant per purpose since the last ending: a renewal replaces its grant
    latest_grants = {e.purpose: e for e in relevant[last_ending + 1 :] if e.state.in_force}
    grants = sorted(latest_grants.values(), key=lambda e: e.at)
    live = [e for e in grants if e.expires_at is None or at < e.expires_at]
    if live:
        grant = live[-1]
        return ConsentStatus(True, grant.state, grant.purpose, grant.at, grant.expires_at)
    if grants:
        lapsed = max(grants, key=lambda e: e.expires_at or e.at)
        return ConsentStatus(False, ConsentState.EXPIRED, lapsed.purpose, lapsed.expires_at)
    ending = relevant[last_ending]
    return ConsentStatus(False, ending.state, ending.purpose, ending.at)


def represented(events: Iterable[ConsentEvent]) -> list[ConsentEvent]:
    """*events* without the grants and renewals that a verified `Representative` did not
    express (rule 4): what counts where only a representative's consent does. A
    `LegacyRepresentative`'s authority was never recorded as verified, so it does not count.
    """
    return [e for e in events if not e.state.in_force or isinstance(e.by, Representative)]


def steady_between(
    events: Sequence[ConsentEvent], purpose: str, at: datetime
) -> tuple[datetime | None, datetime | None]:
    """The moments between which `status_at` over *events* stays what it is at *at*, as
    long as no event is recorded: ``[since, until)``, either end ``None`` for unbounded.

    What changes a status without a new event is time reaching an event's own moment (an
    event recorded ahead of time) or a grant's expiry; so *since* is the latest of those at
    or before *at*, and *until* the earliest after it.
    """
    covering = set(lineage(purpose))
    since: datetime | None = None
    until: datetime | None = None
    for event in events:
        if event.purpose not in covering:
            continue
        for moment in (event.at, event.expires_at):
            if moment is None:
                continue
            if moment <= at:
                since = moment if since is None or moment > since else since
            elif until is None or moment < until:
                until = moment
    return since, until


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
