"""Disposal (IPP 9): each record past retention deleted or de-identified through its
source, with evidence in the audit ledger.

For each record due, in order:

1. a ``disposal`` line, stage ``begun``, goes to the ledger: the record type, the source,
   the rule that made it due and the day it was kept until, the method, the disposal
   authority if given, who and when; the person as a pseudonym and the record as a
   pseudonym of its identity (the same at every attempt); never a value;
2. the source's hook disposes of the record;
3. a line, stage ``done``, goes to the ledger (``failed`` if the hook raised: nothing
   further is disposed of, and `DisposalFailed` is raised).

The evidence is written before the record goes, so no record is ever disposed of without
evidence. A crash between the two (or a ``done`` line that could not be written) leaves a
``begun`` line with no ``done``: an interrupted disposal, which is never left open. The
next run reads the ledger's unfinished disposals (``Ledger.unfinished_disposals()``) and
finishes each: a record still there and due is disposed of again (hooks are idempotent by
contract) and ``done`` written under the same record pseudonym; a record its source no
longer lists is gone, and ``done`` is written for it (by this run, at this time). One still
there but held or kept now stays open, and `retention due` reports it as interrupted.
Evidence under another pseudonym key, or from a source no longer registered, cannot be
matched to a record and stays open too.

A public office disposes of public records only under a disposal authority the Chief
Archivist issues under the Public Records Act 2005: with ``"public-office"`` among the
configured agency kinds, or ``public_office=True``, the authority's reference is
required. An NGO is not under that Act; the reference is optional.

Holds are asked again just before each record goes (the hold register and the pending
correction requests are read once a record): a hold placed while a run goes on stops the
records it covers that are not disposed of yet. Hold values given as a list are the same
throughout.

What this module must not do: dispose of a record that is kept or held; write a value, a
subject id or a record's key anywhere; dispose of anything before its evidence is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import attrs

from .._config import declared_records, get_configuration, hides_subjects
from .._shared.checks import is_aware, is_text
from ..errors import ConfigurationError, DisposalFailed
from ..holds.store import BaseHoldStore
from ..holds.values import Hold
from ..purposes import PurposeRegistry
from ..records import record_policy
from .due import (
    Assessment,
    Interrupted,
    _pending_holds,
    _today,
    assess,
    covering_holds,
    unmatched_holds,
)
from .rules import RetentionStatus
from .sources import RetentionSources

if TYPE_CHECKING:
    from ..typing import CorrectionSource, DisposalLedger

__all__ = ["DisposalSummary", "dispose_due"]

#: The agency kind (``configure(agency_kinds=[...])``) of a public office under the Public
#: Records Act 2005: its disposals need a disposal authority.
PUBLIC_OFFICE = "public-office"


@attrs.frozen
class DisposalSummary:
    """What one run disposed of.

    Attributes:
        today: the New Zealand day assessed.
        disposed: (source, record type) → how many records were disposed of.
        held: (source, record type) → how many past retention were held.
        authority: the disposal authority cited, if any.
        finished: (source, record type) → how many interrupted disposals were finished
            (their record disposed of again, or found gone and recorded ``done``).
        interrupted: how many interrupted disposals are still open (the record is held
            or kept now, or cannot be matched): `retention due` lists them.
    """

    today: date
    disposed: Counter[tuple[str, str]]
    held: Counter[tuple[str, str]]
    authority: str | None
    finished: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    interrupted: int = 0


def disposal_day(today: date | datetime | None) -> date:
    """The New Zealand day a disposal runs on: *today* (default: today), never a day ahead.

    Raises:
        ConfigurationError: *today* is after today in New Zealand: disposal is done, not
            forecast (a day ahead would destroy records still within retention, and judge
            holds as if they had ended).
    """
    day = _today(today)
    now = _today(None)
    if day > now:
        raise ConfigurationError(
            f"dispose_due(today=...) is {day.isoformat()}, after today in New Zealand "
            f"({now.isoformat()}): records are disposed of on the day they are due, not "
            f"before. To see what will be due then, use retention_due(today=...) (purposeful "
            f"retention due --today); nothing was disposed of"
        )
    return day


def dispose_due(
    sources: RetentionSources,
    *,
    ledger: DisposalLedger,
    by: str,
    today: date | datetime | None = None,
    authority: str | None = None,
    public_office: bool | None = None,
    registry: PurposeRegistry | None = None,
    holds: BaseHoldStore | Iterable[Hold] | None = None,
    corrections: CorrectionSource | None = None,
    pseudonymise: Callable[[str], str] | None = None,
    at: datetime | None = None,
    other_record_types: Iterable[str] = (),
) -> DisposalSummary:
    """Dispose of every record past retention that no hold keeps, with evidence.

    Args:
        sources: the application's retention sources.
        ledger: where the evidence goes (a `purposeful.audit.Ledger`).
        by: who runs the disposal (an actor id), recorded in the evidence.
        today: the New Zealand day to assess on; default today, and never after it.
        authority: the disposal authority's reference (e.g. ``"DA 123"``); required for a
            public office.
        public_office: whether the agency is a public office under the Public Records Act
            2005; default: whether ``"public-office"`` is a configured agency kind.
        registry, holds, corrections: as for `purposeful.retention.assess`.
        pseudonymise: the keyed pseudonym of a subject id; default the configured one.
        at: the time recorded in the evidence (aware); default now.
        other_record_types: the record types other services keep holds on, in a hold
            register several services share: a hold naming one is theirs, not a slip.

    Raises:
        ConfigurationError: no pseudonym key, no authority for a public office, a *today*
            after today, a hold in force that names nothing this run or *other_record_types*
            knows (most likely mistyped: it would hold nothing), or an argument of the wrong
            kind.
        DisposalFailed: a source's hook raised; the ledger holds the disposal as failed,
            and nothing after it was disposed of.
        LedgerError: the evidence could not be written; the record was not disposed of.
    """
    configuration = get_configuration()
    hashing = pseudonymise if pseudonymise is not None else configuration.pseudonymise
    if hashing is None:
        raise ConfigurationError(
            "disposal writes its evidence under pseudonyms: configure(pseudonymise=key."
            "pseudonym) or pass pseudonymise= (a purposeful.audit pseudonym key)"
        )
    if not hides_subjects(hashing):
        # the evidence names people by what it returns: the id itself would be in the ledger
        raise ConfigurationError(
            "dispose_due(pseudonymise=...) takes a pseudonym function, such as "
            "PseudonymKey.pseudonym, whose result never holds the subject id; nothing was "
            "disposed of"
        )
    if not callable(getattr(ledger, "record_disposal", None)):
        raise ConfigurationError(
            "dispose_due(ledger=...) takes a purposeful.audit.Ledger, where the evidence goes"
        )
    if not is_text(by):
        raise ConfigurationError("dispose_due(by=...) takes who runs it: an actor id")
    office = PUBLIC_OFFICE in configuration.agency_kinds if public_office is None else public_office
    if authority is not None and not is_text(authority):
        raise ConfigurationError("authority= takes the disposal authority's reference, as text")
    if office and authority is None:
        raise ConfigurationError(
            "a public office disposes of public records only under a disposal authority of "
            "the Chief Archivist (Public Records Act 2005): give authority= its reference, "
            "e.g. authority='DA 123'"
        )
    if at is not None and not is_aware(at):
        raise ConfigurationError("dispose_due(at=...) takes a timezone-aware datetime")
    disposed: Counter[tuple[str, str]] = Counter()
    held: Counter[tuple[str, str]] = Counter()
    if holds is not None and not isinstance(holds, BaseHoldStore):
        holds = list(holds)  # read twice: by the assessment and before each record
    day = disposal_day(today)
    others = _names(other_record_types)
    unfinished = _unfinished(ledger, hashing)
    listed: set[str] = set()  # the interrupted disposals whose records are still listed
    # assessed in full first, so a source is not read while it is being changed; only what
    # is past retention is kept meanwhile
    found: list[Assessment] = []
    names = {name for name, _ in sources.items()}  # the sources, and the types they hold
    for item in assess(sources, today=day, registry=registry, holds=holds, corrections=corrections):
        names.add(item.record_type)
        if unfinished:  # one HMAC a record, only when a disposal was interrupted
            pseudonym = _pseudonym_of(item, hashing)
            if pseudonym in unfinished:
                listed.add(pseudonym)
        if item.status is not RetentionStatus.KEPT:
            found.append(item)
    if any(item.status is RetentionStatus.DUE for item in found):
        _refuse_unmatched(holds, day, names, others)
    finished: Counter[tuple[str, str]] = Counter()
    for item in found:
        where = (item.source, item.record_type)
        # a hold placed since the assessment (or a correction requested) stops the record:
        # asked again just before it goes, not trusted from the start of a long run
        if item.status is RetentionStatus.HELD or _held_now(item, holds, corrections, day):
            held[where] += 1
        elif item.status is RetentionStatus.DUE:
            _dispose(sources, item, ledger, hashing, authority=authority, by=by, at=at)
            disposed[where] += 1
            if unfinished and unfinished.pop(_pseudonym_of(item, hashing), None) is not None:
                finished[where] += 1
    registered = dict(sources.items())
    for disposal, evidence in list(unfinished.items()):
        if disposal in listed or evidence.source not in registered:
            continue  # still there (held or kept now), or nothing to match it against
        _finish(evidence, ledger, by=by, at=at)
        finished[evidence.source, evidence.record_type] += 1
        del unfinished[disposal]
    return DisposalSummary(day, disposed, held, authority, finished, len(unfinished))


def _pseudonym_of(item: Assessment, hashing: Callable[[str], str]) -> str:
    """The record's pseudonym in the evidence: the same at every attempt."""
    return hashing("\0".join(("record", item.source, item.record_type, item.key, item.subject)))


def _unfinished(ledger: DisposalLedger, hashing: Callable[[str], str]) -> dict[str, Interrupted]:
    """The ledger's interrupted disposals made under the current pseudonym key, by record
    pseudonym (none from a ledger that cannot list them)."""
    reader = getattr(ledger, "unfinished_disposals", None)
    if not callable(reader):
        return {}
    key = hashing("key").partition(":")[0]
    found = {}
    for evidence in reader():
        interrupted = Interrupted.of(evidence)
        if interrupted.stage != "done" and interrupted.disposal.partition(":")[0] == key:
            found[interrupted.disposal] = interrupted
    return found


def _finish(evidence: Interrupted, ledger: DisposalLedger, *, by: str, at: datetime | None) -> None:
    """Write ``done`` for an interrupted disposal whose record its source no longer lists."""
    ledger.record_disposal(
        stage="done",
        disposal=evidence.disposal,
        source=evidence.source,
        record_type=evidence.record_type,
        subject=evidence.subject,
        rule=evidence.rule,
        kept_until=evidence.kept_until,
        method=evidence.method,
        authority=evidence.authority,
        actor=by,
        time=at if at is not None else datetime.now(UTC),
    )


def _held_now(
    item: Assessment,
    holds: BaseHoldStore | list[Hold] | None,
    corrections: CorrectionSource | None,
    day: date,
) -> bool:
    """True if a hold in force now (the register and the pending correction requests, read
    again) covers *item*'s record."""
    if isinstance(holds, BaseHoldStore):
        in_force = holds.in_force(day)
    else:
        in_force = [hold for hold in holds or () if hold.in_force(day)]
    in_force += _pending_holds(corrections)
    return bool(covering_holds(in_force, item.subject, item.record_type, item.source, day))


def _names(other_record_types: Iterable[str]) -> set[str]:
    if (
        isinstance(other_record_types, str)
        or not isinstance(other_record_types, Iterable)
        or not all(is_text(name) for name in other_record_types)
    ):
        raise ConfigurationError(
            "dispose_due(other_record_types=...) takes a list of record type names, "
            "e.g. ['BenefitApplication']"
        )
    return set(other_record_types)


def _refuse_unmatched(
    holds: BaseHoldStore | list[Hold] | None, day: date, names: set[str], others: set[str]
) -> None:
    """Refuse the run when a hold in force names neither a source, nor a record type its
    sources hold, nor one declared in this process: it holds nothing, and the records it
    was placed for (its record type mistyped) would go. A hold on a declared type none of
    whose records a source holds today is a hold all the same. *names* are the sources and
    the record types they hold, which the message lists."""
    if isinstance(holds, BaseHoldStore):
        in_force = holds.in_force(day)
    else:
        in_force = [hold for hold in holds or () if hold.in_force(day)]
    declared = {record_policy(cls).name for cls in declared_records()}
    unmatched = unmatched_holds(in_force, names | declared | others)
    if unmatched:
        ids = ", ".join(hold.id for hold in unmatched)
        raise ConfigurationError(
            f"hold {ids} names a record type that no retention source holds and no record "
            f"class here declares, so here it would hold nothing; nothing was disposed of. "
            f"If it was mistyped, release it and place it again with a record type or source "
            f"name such as these: {', '.join(sorted(names))}. If it holds another service's "
            f"records (a hold register several services share), do not release it: name "
            f"that service's record types in other_record_types= (purposeful retention "
            f"dispose --other-record-type NAME)"
        )


def _dispose(
    sources: RetentionSources,
    item: Assessment,
    ledger: DisposalLedger,
    hashing: Callable[[str], str],
    *,
    authority: str | None,
    by: str,
    at: datetime | None,
) -> None:
    """Evidence, the hook, evidence: see the module's docstring."""
    source = sources.get(item.source)
    method = source.method
    disposal, subject = _pseudonym_of(item, hashing), hashing(item.subject)
    rule = item.rule.describe() if item.rule is not None else ""
    kept = item.kept_until
    assert kept is not None  # a due record has a period

    def write(stage: str) -> None:
        ledger.record_disposal(
            stage=stage,
            disposal=disposal,
            source=item.source,
            record_type=item.record_type,
            subject=subject,
            rule=rule,
            kept_until=kept,
            method=method.value,
            authority=authority,
            actor=by,
            time=at if at is not None else datetime.now(UTC),
        )

    write("begun")
    try:
        source.dispose(item.record, method)
    except Exception as exc:
        write("failed")
        raise DisposalFailed(
            f"retention source {item.source!r} could not dispose of a {item.record_type} "
            f"({type(exc).__name__}); the ledger records it as failed and it stays due: "
            f"fix the hook and run the disposal again"
        ) from None
    write("done")
