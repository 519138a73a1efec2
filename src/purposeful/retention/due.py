"""What is past retention: every record of every source assessed against its purposes'
periods and the holds in force, on one New Zealand day.

`assess` streams one `Assessment` per record; `retention_due` gathers those past
retention (due, or held) into a `DueReport`, with counts of what is kept. Holds come from a
hold register (`purposeful.holds`) and, where a correction store is given, from the
correction requests still pending: a pending request holds its person's records.

What this module must not do: dispose of anything (`disposal` does); read a managed field
(records are named by their type, the subject and key read as the guard reads them); put a
subject id in a repr or a message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import attrs

from .._config import get_configuration
from .._shared.checks import repr_pretty
from .._shared.nztime import nz_date
from ..errors import AnnotationError, ConfigurationError
from ..holds.store import BaseHoldStore
from ..holds.values import Hold, HoldKind, hold_id_for
from ..purposes import PurposeRegistry
from ..records import record_policy
from .rules import (
    RetentionRule,
    RetentionStatus,
    kept_until,
    nz_day,
    purposes_of,
    rule_for,
    start_for,
)
from .sources import Dated, RetentionSources

if TYPE_CHECKING:
    from ..typing import CorrectionSource

__all__ = ["Assessment", "DueReport", "Interrupted", "assess", "retention_due"]


@attrs.frozen(repr=False)
class Assessment:
    """One record, assessed.

    Attributes:
        source: the source's name.
        record_type: the record's type (its name in the audit trail).
        status: kept, due or held.
        rule: the rule that decides: for a due or held record, the purpose whose period
            ends last (the last to stop needing it); for a kept one, a purpose that still
            needs it.
        kept_until: the last day the deciding rule keeps the record (None: no period).
        rules: the rule of every purpose the record is held for.
        holds: the holds that stop its disposal (held records only).
        record: the record itself (never shown).
        subject: the person's identifier (never shown).
        key: the record's key among its person's records of its type (never shown).
    """

    source: str
    record_type: str
    status: RetentionStatus
    rule: RetentionRule | None
    kept_until: date | None
    rules: tuple[RetentionRule, ...]
    holds: tuple[Hold, ...]
    record: object = attrs.field(eq=False)
    subject: str = attrs.field(eq=False)
    key: str = attrs.field(eq=False)

    def __repr__(self) -> str:
        return (
            f"Assessment(source={self.source!r}, record_type={self.record_type!r}, "
            f"status={self.status}, kept_until={self.kept_until!r})"
        )

    _repr_pretty_ = repr_pretty


@attrs.frozen
class Interrupted:
    """A disposal the ledger holds as begun (or failed) and never done: a crash in the
    hook, or a ``done`` line that could not be written. The next `dispose_due` finishes it:
    it disposes of the record again if it is still there and due (hooks are idempotent), or
    writes ``done`` if it is gone. Names and pseudonyms only.

    Attributes:
        disposal: the record's pseudonym, as the evidence gives it.
        stage: the latest stage: ``"begun"`` or ``"failed"``.
        source, record_type: where the record was, and its type.
        subject: the person's pseudonym.
        rule: the rule that made it due, in words.
        kept_until: the last day it was kept.
        method: ``"delete"`` or ``"de-identify"``.
        authority: the disposal authority cited, or None.
        time: when the latest line was written (UTC).
    """

    disposal: str
    stage: str
    source: str
    record_type: str
    subject: str
    rule: str
    kept_until: date
    method: str
    authority: str | None
    time: datetime

    @classmethod
    def of(cls, evidence: object) -> Interrupted:
        """From a line of disposal evidence (`purposeful.audit.ledger.DisposalEvidence`).

        Raises:
            ConfigurationError: *evidence* lacks a part.
        """
        try:
            return cls(**{name: getattr(evidence, name) for name in attrs.fields_dict(cls)})
        except AttributeError:
            raise ConfigurationError(
                f"interrupted= takes the disposal evidence of a ledger "
                f"(purposeful.audit.ledger.unfinished_disposals), not {type(evidence).__name__}"
            ) from None


def _today(today: date | datetime | None) -> date:
    if today is None:
        return nz_date(datetime.now(UTC))
    return nz_day(today, "today")


def _pending_holds(corrections: CorrectionSource | None) -> list[Hold]:
    """A hold for each pending correction request (IPP 7)."""
    if corrections is None:
        return []
    pending = getattr(corrections, "pending", None)
    if not callable(pending):
        raise ConfigurationError(
            "corrections= takes a correction store (purposeful.corrections), which lists "
            "its pending requests"
        )
    return [
        Hold(
            id=hold_id_for(request.id),
            kind=HoldKind.CORRECTION_REQUEST,
            subject=request.subject,
            record_type=None,
            reason=request.id,
            placed_by="correction-store",
            placed_at=request.requested_at,
        )
        for request in pending()
    ]


def assess(
    sources: RetentionSources,
    *,
    today: date | datetime | None = None,
    registry: PurposeRegistry | None = None,
    holds: BaseHoldStore | Iterable[Hold] | None = None,
    corrections: CorrectionSource | None = None,
    subject: str | None = None,
) -> Iterator[Assessment]:
    """Assess every record of every source, one at a time.

    Args:
        sources: the application's retention sources.
        today: the New Zealand day to assess on (a date, or an aware datetime); default
            today.
        registry: the purposes; default the configured registry.
        holds: a hold register, or holds; default none.
        corrections: a correction store whose pending requests hold their person's records.
        subject: only this person's records.

    Raises:
        ConfigurationError: a source yielded something that is not `Dated` holding a
            purposeful record, or a date that is not a date.
        UnknownPurpose: a record declares a purpose the registry lacks.
    """
    if not isinstance(sources, RetentionSources):
        raise ConfigurationError(f"assess() takes RetentionSources, not {type(sources).__name__}")
    day = _today(today)
    purposes = registry if registry is not None else get_configuration().registry
    if isinstance(holds, BaseHoldStore):
        in_force = holds.in_force(day)
    else:
        given = list(holds or ())
        if not all(isinstance(hold, Hold) for hold in given):
            raise ConfigurationError(
                "holds= takes a hold register (purposeful.holds) or Hold values"
            )
        in_force = [hold for hold in given if hold.in_force(day)]
    in_force += _pending_holds(corrections)
    rules: dict[str, RetentionRule] = {}
    for name, source in sources.items():
        for dated in source.dated(subject):
            found = _assess(name, dated, day, purposes, rules, in_force)
            if subject is None or found.subject == subject:
                yield found


def _assess(
    name: str,
    dated: object,
    day: date,
    registry: PurposeRegistry,
    rules: dict[str, RetentionRule],
    holds: list[Hold],
) -> Assessment:
    if not isinstance(dated, Dated):
        raise ConfigurationError(
            f"retention source {name!r} yielded a {type(dated).__name__}; yield "
            f"Dated(record, since) for each record"
        )
    try:
        policy = record_policy(type(dated.record))
    except AnnotationError:
        raise ConfigurationError(
            f"retention source {name!r} yielded a {type(dated.record).__name__}, which is not "
            f"a purposeful record; yield Dated(record, since) for records of @purposeful.record "
            f"classes"
        ) from None
    since = nz_day(dated.since, f"the date retention runs from, in source {name!r}")
    since_for = {
        registry.get(ident).id: nz_day(when, f"since_for[{ident!r}], in source {name!r}")
        for ident, when in dated.since_for.items()
    }  # a purpose the registry lacks is an error (UnknownPurpose), never silently ignored
    found: list[tuple[date | None, RetentionRule]] = []
    for purpose in purposes_of(policy):
        rule = rules.get(purpose)
        if rule is None:
            rules[purpose] = rule = rule_for(purpose, registry)
        end = None
        if rule.retention is not None:
            end = kept_until(start_for(purpose, since, since_for), rule.retention)
        found.append((end, rule))
    subject = policy.subject_of(dated.record)
    status, rule, end = _decide(found, day)
    covering: tuple[Hold, ...] = ()
    if status is RetentionStatus.DUE:
        covering = covering_holds(holds, subject, policy.name, name, day)
        if covering:
            status = RetentionStatus.HELD
    return Assessment(
        source=name,
        record_type=policy.name,
        status=status,
        rule=rule,
        kept_until=end,
        rules=tuple(r for _, r in found),
        holds=covering,
        record=dated.record,
        subject=subject,
        key=policy.key_of(dated.record),
    )


def covering_holds(
    holds: Iterable[Hold], subject: str, record_type: str, source: str, day: date
) -> tuple[Hold, ...]:
    """The holds in *holds* that keep *subject*'s record of *record_type* from *source*: a
    hold names the record type, or the source it is read from (``case-notes``, as the
    report shows it): a hold typed with either holds the record rather than nothing."""
    return tuple(
        hold
        for hold in holds
        if hold.covers(subject, record_type, day) or hold.covers(subject, source, day)
    )


def unmatched_holds(holds: Iterable[Hold], names: set[str]) -> tuple[Hold, ...]:
    """The holds in *holds* that name a record type matching none of *names* (the record
    types and source names the sources hold): a hold that holds nothing, most likely a
    slip in typing it."""
    return tuple(
        hold
        for hold in holds
        if hold.record_type is not None and not any(hold.names(name) for name in names)
    )


def _decide(
    found: list[tuple[date | None, RetentionRule]], day: date
) -> tuple[RetentionStatus, RetentionRule | None, date | None]:
    """Kept while some purpose still needs the record; due once every period is past."""
    if not found:
        return RetentionStatus.KEPT, None, None
    for end, rule in found:
        if end is None:
            return RetentionStatus.KEPT, rule, None
    last_end, last_rule = max(found, key=lambda pair: (pair[0], pair[1].purpose))
    assert last_end is not None
    if day <= last_end:
        return RetentionStatus.KEPT, last_rule, last_end
    return RetentionStatus.DUE, last_rule, last_end


@attrs.frozen(repr=False)
class DueReport:
    """What is past retention on one day.

    Attributes:
        today: the New Zealand day assessed.
        items: the records past retention, due or held, in the order read.
        kept: (source, record type) → how many records are still kept.
        interrupted: the disposals the ledger holds as begun and never done (given as
            ``retention_due(interrupted=...)``); the next disposal run finishes them.
    """

    today: date
    items: tuple[Assessment, ...]
    kept: Counter[tuple[str, str]]
    interrupted: tuple[Interrupted, ...] = ()

    @property
    def due(self) -> tuple[Assessment, ...]:
        """The records to dispose of."""
        return tuple(i for i in self.items if i.status is RetentionStatus.DUE)

    @property
    def held(self) -> tuple[Assessment, ...]:
        """The records past retention that a hold keeps."""
        return tuple(i for i in self.items if i.status is RetentionStatus.HELD)

    def __repr__(self) -> str:
        return (
            f"DueReport(today={self.today!r}, due={len(self.due)}, held={len(self.held)}, "
            f"kept={sum(self.kept.values())}, interrupted={len(self.interrupted)})"
        )

    _repr_pretty_ = repr_pretty


def retention_due(
    sources: RetentionSources,
    *,
    today: date | datetime | None = None,
    registry: PurposeRegistry | None = None,
    holds: BaseHoldStore | Iterable[Hold] | None = None,
    corrections: CorrectionSource | None = None,
    subject: str | None = None,
    interrupted: Iterable[object] = (),
) -> DueReport:
    """What is past retention for every purpose it is held for, on *today* (New Zealand).

    Takes the arguments of `assess`, and *interrupted*: the disposal ledger's unfinished
    disposals (`purposeful.audit.ledger.unfinished_disposals(path)`, or
    ``Ledger.unfinished_disposals()``), reported as interrupted (all of them: the ledger
    names people by pseudonym only, so *subject* does not narrow them). The report keeps
    the records past retention (to dispose of them) and counts the rest.
    """
    day = _today(today)
    stopped = tuple(found for found in map(Interrupted.of, interrupted) if found.stage != "done")
    items: list[Assessment] = []
    kept: Counter[tuple[str, str]] = Counter()
    for found in assess(
        sources,
        today=day,
        registry=registry,
        holds=holds,
        corrections=corrections,
        subject=subject,
    ):
        if found.status is RetentionStatus.KEPT:
            kept[found.source, found.record_type] += 1
        else:
            items.append(found)
    return DueReport(day, tuple(items), kept, stopped)
