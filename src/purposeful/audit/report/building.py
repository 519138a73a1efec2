"""The report's fold: scope records into a `Report` of tables a privacy team reads.

`ReportBuilder` folds the `ScopeRecord`s the readers yield (`purposeful.audit.report.reading`)
into a `Report`, one at a time, joining the parts of a scope: its memory grows with the
number of distinct purposes, fields, actors, call sites and people, and of scopes written
in parts whose parts have not all been seen, not with the number of scopes (but for 8
bytes a ledger part, to count a part also in a trace file once). With a subject
asked about, it answers about that person too, through a `SubjectHistory`.
`build_report` runs the readers and the builder over files.

What this module must not do: read a file itself (the readers do) or print anything (the
renderers in `purposeful.audit.report.rendering` do); hold a subject identifier or a
field's value (the inputs have neither); keep every scope in memory.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Final, Literal, TypeAlias

import attrs

from ..history import SubjectAnswer, SubjectHistory, SubjectQuery
from .reading import ALSO_IN_A_LEDGER, LEDGER_INPUT, input_size, report_inputs
from .records import Entry, Ignored, LedgerParts, RefusalOutcome, ScopeRecord, ScopesInParts

__all__ = [
    "BUSIEST_ACTORS",
    "BUSIEST_SITES",
    "HOURLY_UP_TO",
    "AccessRow",
    "ActorRow",
    "DisclosureRow",
    "Progress",
    "RefusalRow",
    "Report",
    "ReportBuilder",
    "SiteRow",
    "SourceSummary",
    "TimeBucket",
    "build_report",
]

Progress: TypeAlias = Callable[[int, int], None]
"""Told ``(bytes read, bytes in all)`` as the input is read."""

#: How many actors the "busiest actors" table shows.
BUSIEST_ACTORS: Final = 10
#: How many call sites the "reads outside any scope" table shows.
BUSIEST_SITES: Final = 10
#: A report covering at most this long is charted per hour; a longer one per day.
HOURLY_UP_TO: Final = timedelta(hours=48)

_HOUR: Final = timedelta(hours=1)
_DAY: Final = timedelta(days=1)


@attrs.frozen
class SourceSummary:
    """One input file: what it was, how many scopes it held and what it ignored.

    Attributes:
        path: the file.
        format: ``"OTLP JSON"`` or ``"ledger"``.
        scopes: the purpose scopes first seen in it (a scope written in parts counts in the
            file its first part seen came from).
        ignored: what was not counted from it, as (what, how many), e.g.
            ``("other spans", 4)``, or ``("parts also in a ledger", 9)``: a trace file's
            scope parts a ledger read also holds, counted from the ledger.
    """

    path: str
    format: str
    scopes: int
    ignored: tuple[tuple[str, int], ...]


@attrs.frozen
class AccessRow:
    """The scopes of one purpose, record type and actor, and the fields they read.

    Attributes:
        purpose: the purpose id; None for reads outside any scope.
        record_type: the record type.
        actor_id, actor_role: who; None outside any scope.
        scopes: how many scopes decided something about the record type.
        fields_read: the fields of the record type whose values were handed back.
    """

    purpose: str | None
    record_type: str
    actor_id: str | None
    actor_role: str | None
    scopes: int
    fields_read: tuple[str, ...]


@attrs.frozen
class RefusalRow:
    """Refused or monitored reads of one field under one purpose, for the same reasons.

    Attributes:
        outcome: ``"denied"`` or ``"would-deny"``.
        purpose: the purpose id; None for reads outside any scope.
        record_type, field: the field.
        reasons: the reason codes.
        count: how many such reads.
    """

    outcome: RefusalOutcome
    purpose: str | None
    record_type: str
    field: str
    reasons: tuple[str, ...]
    count: int


@attrs.frozen
class ActorRow:
    """One actor's scopes and how many distinct people they read: a browsing signal.

    Attributes:
        actor_id: the actor.
        roles: the roles the actor acted in.
        scopes: how many scopes.
        people_at_least, people_at_most: how many distinct people the actor's scopes read.
            They differ when some scopes read more people than they list.
        scopes_without_subjects: scopes that do not say whom they read (older inputs).
    """

    actor_id: str
    roles: tuple[str, ...]
    scopes: int
    people_at_least: int
    people_at_most: int
    scopes_without_subjects: int


@attrs.frozen
class DisclosureRow:
    """Disclosures to one recipient under one agreement, of one record type, for a purpose.

    Attributes:
        recipient: the party the information went to.
        agreement: the sharing agreement it went under.
        purpose: the purpose of the scope the disclosures were made in; None outside any.
        record_type: the record type disclosed.
        disclosures: how many disclosures.
        statements: how many statements (dispute notes) went with them.
        fields: the fields disclosed, in any of them.
    """

    recipient: str
    agreement: str
    purpose: str | None
    record_type: str
    disclosures: int
    statements: int
    fields: tuple[str, ...]


@attrs.frozen
class SiteRow:
    """Reads outside any scope that came from one place in the code.

    Attributes:
        site: the call site, as (file, function, line); None for reads whose input does
            not say (older inputs, which write each read alone).
        fields_read: the fields read there, as ``RecordType.field``: handed back (monitor
            mode) or refused.
        reads: how many reads: each one refused, or let through by monitor mode.
    """

    site: tuple[str, str, int] | None
    fields_read: tuple[str, ...]
    reads: int


@attrs.frozen
class TimeBucket:
    """One hour or day of the timeline, by the time scopes opened.

    Attributes:
        start: the start of the hour or day (UTC).
        scopes: scopes opened in it.
        denied, would_deny: reads in those scopes that were refused, or let through by
            monitor mode.
    """

    start: datetime
    scopes: int
    denied: int
    would_deny: int


@attrs.frozen
class Report:
    """What the inputs say: accesses, refusals, busy actors, a timeline, one person's reads.

    A scope written in parts counts once everywhere: in `scopes`, in the accesses and
    actors tables and in the timeline (by its opening); its reads and refusals are those
    of all its parts. A part in a ledger and in a trace file counts once, from the ledger.

    Attributes:
        sources: each input file, in the order read: the ledgers, then the trace files.
        first, last: the earliest opening and latest closing of a scope; None if none.
        scopes: how many scopes, reads outside any scope included.
        unscoped_reads: how many of them were reads outside any scope (each a read, or a
            group of reads from one call site; `unscoped_sites` counts the reads).
        denied, would_deny: how many reads were refused, or let through by monitor mode,
            counted from the scopes' totals.
        unitemised_denied, unitemised_would_deny: how many of those have no event to say
            which field and why (span events cut short by the SDK's limits).
        accesses: by purpose, record type and actor.
        refusals: by outcome, purpose, field and reasons; the most frequent first.
        busiest_actors: the actors who read the most distinct people, most first.
        bucket: ``"hour"`` or ``"day"``, the step of `timeline`.
        timeline: every hour or day from the first scope to the last, empty ones included.
        subject: the answer about one person, when one was asked about.
        incomplete_scopes: scopes written in parts of which some are missing (no last part,
            or a gap in the part numbers): they may have read more than is recorded.
        unscoped_sites: reads outside any scope by call site, the most reads first, at
            most `BUSIEST_SITES` of them.
        unscoped_site_count: how many call sites there are in all.
        disclosures: disclosures to other agencies, by recipient, agreement, purpose and
            record type.
        ledgers_verified: whether the ledger files read were verified before the report
            (``purposeful audit report --public-key``); None when the caller does not say.
    """

    sources: tuple[SourceSummary, ...]
    first: datetime | None
    last: datetime | None
    scopes: int
    unscoped_reads: int
    denied: int
    would_deny: int
    unitemised_denied: int
    unitemised_would_deny: int
    accesses: tuple[AccessRow, ...]
    refusals: tuple[RefusalRow, ...]
    busiest_actors: tuple[ActorRow, ...]
    bucket: Literal["hour", "day"]
    timeline: tuple[TimeBucket, ...]
    subject: SubjectAnswer | None = None
    incomplete_scopes: int = 0
    unscoped_sites: tuple[SiteRow, ...] = ()
    unscoped_site_count: int = 0
    disclosures: tuple[DisclosureRow, ...] = ()
    ledgers_verified: bool | None = None

    @property
    def would_deny_rows(self) -> tuple[RefusalRow, ...]:
        """The monitor-mode reads enforce mode would refuse, most frequent first."""
        return tuple(row for row in self.refusals if row.outcome == "would-deny")


#: What refusals are counted by: outcome, purpose, record type, field and reasons.
_RefusalKey: TypeAlias = tuple[RefusalOutcome, str | None, str, str, tuple[str, ...]]


@attrs.define
class _AccessTally:
    scopes: int = 0
    fields: set[str] = attrs.Factory(set)


@attrs.define
class _ActorTally:
    roles: set[str] = attrs.Factory(set)
    scopes: int = 0
    people: set[str] = attrs.Factory(set)
    largest_scope: int = 0
    overflow: int = 0
    without_subjects: int = 0


@attrs.define
class _DisclosureTally:
    disclosures: int = 0
    statements: int = 0
    fields: set[str] = attrs.Factory(set)


@attrs.define
class _SiteTally:
    fields: set[str] = attrs.Factory(set)
    reads: int = 0


class ReportBuilder:
    """Folds scope records into a `Report`, one at a time, joining the parts of a scope.

    A scope written whole (older inputs, or a scope that needed one part) is counted as it
    comes and not kept. A scope written in parts is kept, small, until its parts from 0 to
    the last have all been seen; one still missing some when the report is built is
    counted as it is, and noted as incomplete. Parts are joined by scope id within each
    kind of file.

    A service with both a `SpanSink` and a `Ledger` writes every part twice. Add the
    ledgers first (`build_report` does): the (scope id, part) of each of their parts is
    noted (`LedgerParts`, 8 bytes a part), and a trace file's part found there is skipped,
    counted among the file's ignored things as ``"parts also in a ledger"``: the ledger is
    complete and verifiable, traces may be sampled. A trace part no ledger holds (another
    service's, or a span with no scope id) is counted; one of a scope a ledger holds only
    some parts of (a ledger file of another day missing) is joined to the ledger's parts,
    so that the scope counts once. Trace parts added before any ledger are counted as
    they are, and a file given twice counts twice, as before.

    Args:
        subject: the person to answer about, if any (see `SubjectHistory`).
    """

    def __init__(self, subject: SubjectQuery | None = None) -> None:
        self._history = SubjectHistory(subject) if subject is not None else None
        self._sources: list[SourceSummary] = []
        self._format = ""
        self._scopes = self._unscoped = self._denied = self._would_deny = 0
        self._itemised: Counter[RefusalOutcome] = Counter()
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._accesses: dict[tuple[str | None, str, str | None, str | None], _AccessTally] = {}
        self._refusals: Counter[_RefusalKey] = Counter()
        self._actors: dict[str, _ActorTally] = {}
        self._sites: dict[tuple[str, str, int] | None, _SiteTally] = {}
        self._hours: dict[datetime, list[int]] = {}
        self._disclosures: dict[tuple[str, str, str | None, str], _DisclosureTally] = {}
        # of each scope in parts, the record types its parts read so far
        self._open: ScopesInParts[set[str]] = ScopesInParts(lambda scope: set())
        self._ledger_parts = LedgerParts()

    def add_source(
        self, path: str | os.PathLike[str], format: str, entries: Iterable[Entry]
    ) -> None:
        """Read every entry of one input file, and note the file among the sources.

        The file's scopes are those first seen in it: the later parts of a scope begun in
        an earlier file count there.
        """
        scopes = 0
        ignored: Counter[str] = Counter()
        self._format = format
        try:
            for entry in entries:
                if isinstance(entry, Ignored):
                    ignored[entry.what] += 1
                elif format == LEDGER_INPUT:
                    self._ledger_parts.add(entry)
                    scopes += self._add(entry)
                elif self._ledger_parts.holds(entry.scope_id, entry.part):
                    ignored[ALSO_IN_A_LEDGER] += 1
                else:
                    scopes += self._add(entry)
        finally:
            self._format = ""
        self._sources.append(SourceSummary(str(path), format, scopes, tuple(ignored.items())))

    def add(self, scope: ScopeRecord) -> None:
        """Count one scope, or one part of a scope."""
        self._add(scope)

    def _kind(self, scope: ScopeRecord) -> str:
        """The kind of file *scope*'s parts are joined under: its own, but a trace part of
        a scope a ledger holds only some parts of joins the ledger's."""
        if (
            self._format != LEDGER_INPUT
            and scope.scope_id is not None
            and self._open.is_open(LEDGER_INPUT, scope.scope_id)
        ):
            return LEDGER_INPUT
        return self._format

    def _add(self, scope: ScopeRecord) -> bool:
        """Count *scope*; True if it is a scope not seen before (not a later part)."""
        kind = self._kind(scope)
        parts, new = self._open.add(scope, kind)
        if new:
            self._scopes += 1
            self._unscoped += scope.purpose is None
        self._denied += scope.denied
        self._would_deny += scope.would_deny
        if self._first is None or scope.opened < self._first:
            self._first = scope.opened
        if self._last is None or scope.closed > self._last:
            self._last = scope.closed
        hour = self._hours.setdefault(
            scope.opened.replace(minute=0, second=0, microsecond=0), [0, 0, 0]
        )
        hour[0] += new
        hour[1] += scope.denied
        hour[2] += scope.would_deny
        self._count_accesses(scope, parts.kept if parts is not None else None)
        for refusal in scope.refusals:
            self._itemised[refusal.outcome] += refusal.count
            self._refusals[
                (
                    refusal.outcome,
                    scope.purpose,
                    refusal.record_type,
                    refusal.field,
                    refusal.reasons,
                )
            ] += refusal.count
        if scope.actor_id is not None:
            self._count_actor(scope.actor_id, scope, new)
        if scope.purpose is None:
            self._count_site(scope)
        for disclosure in scope.disclosures:
            key = (
                disclosure.recipient,
                disclosure.agreement,
                scope.purpose,
                disclosure.record_type,
            )
            shared = self._disclosures.get(key)
            if shared is None:
                shared = self._disclosures[key] = _DisclosureTally()
            shared.disclosures += 1
            shared.statements += disclosure.statements
            shared.fields.update(disclosure.fields)
        if self._history is not None:
            self._history.add(scope, kind)
        return new

    def _count_accesses(self, scope: ScopeRecord, counted: set[str] | None) -> None:
        """Count the scope's reads by record type; *counted*: the types its earlier parts
        counted, so that a scope counts once per record type."""
        fields: dict[str, set[str]] = {}
        for name in scope.fields_read:
            record_type, _, field = name.rpartition(".")
            fields.setdefault(record_type, set()).add(field)
        # an access is a read: a record type the scope only refused or withheld is counted in
        # the refusals table, not here
        for record_type, read in fields.items():
            key = (scope.purpose, record_type, scope.actor_id, scope.actor_role)
            tally = self._accesses.get(key)
            if tally is None:
                tally = self._accesses[key] = _AccessTally()
            if counted is None or record_type not in counted:
                tally.scopes += 1
                if counted is not None:
                    counted.add(record_type)
            tally.fields.update(read)

    def _count_actor(self, actor_id: str, scope: ScopeRecord, new: bool) -> None:
        tally = self._actors.get(actor_id)
        if tally is None:
            tally = self._actors[actor_id] = _ActorTally()
        tally.scopes += new
        if scope.actor_role is not None:
            tally.roles.add(scope.actor_role)
        if scope.subjects is None and scope.subjects_count is None:
            tally.without_subjects += new
            return
        if scope.subjects is not None:
            if scope.reads is None:  # an older input: who was read, not what
                tally.people.update(scope.subjects)
            else:  # a person listed with no field read (only asked about) is not one read
                tally.people.update(
                    s for s, fields in zip(scope.subjects, scope.reads, strict=False) if fields
                )
        # a part's count is a lower bound of its scope's where it lists fewer than it read,
        # or says nothing per person; the sum of the parts' overflows an upper bound of the
        # people it does not list
        if scope.subjects_overflow or scope.reads is None:
            tally.largest_scope = max(tally.largest_scope, scope.subjects_count or 0)
        tally.overflow += scope.subjects_overflow

    def _count_site(self, scope: ScopeRecord) -> None:
        tally = self._sites.get(scope.site)
        if tally is None:
            tally = self._sites[scope.site] = _SiteTally()
        tally.fields.update(scope.fields_read)
        tally.fields.update(f"{r.record_type}.{r.field}" for r in scope.refusals)
        tally.reads += scope.denied + scope.would_deny

    def build(self, *, ledgers_verified: bool | None = None) -> Report:
        """The report of everything added so far.

        Scopes whose parts have not all been seen are counted as they are, as incomplete.

        Args:
            ledgers_verified: whether the ledger files were verified first, for the report
                to say; None to say nothing.
        """
        bucket: Literal["hour", "day"] = "hour"
        if self._first is not None and self._last is not None:
            bucket = "hour" if self._last - self._first <= HOURLY_UP_TO else "day"
        sites = sorted(
            self._sites.items(),
            key=lambda item: (-item[1].reads, item[0] is None, item[0] or ("", "", 0)),
        )
        return Report(
            sources=tuple(self._sources),
            first=self._first,
            last=self._last,
            scopes=self._scopes,
            unscoped_reads=self._unscoped,
            denied=self._denied,
            would_deny=self._would_deny,
            unitemised_denied=max(0, self._denied - self._itemised["denied"]),
            unitemised_would_deny=max(0, self._would_deny - self._itemised["would-deny"]),
            accesses=self._access_rows(),
            refusals=tuple(
                RefusalRow(*key, count=count)
                for key, count in sorted(self._refusals.items(), key=_refusal_order)
            ),
            busiest_actors=self._busiest_actors(),
            bucket=bucket,
            timeline=self._timeline(bucket),
            subject=self._history.answer() if self._history is not None else None,
            incomplete_scopes=len(self._open),
            unscoped_sites=tuple(
                SiteRow(site, tuple(sorted(tally.fields)), tally.reads)
                for site, tally in sites[:BUSIEST_SITES]
            ),
            unscoped_site_count=len(sites),
            disclosures=self._disclosure_rows(),
            ledgers_verified=ledgers_verified,
        )

    def _disclosure_rows(self) -> tuple[DisclosureRow, ...]:
        keys = sorted(self._disclosures, key=disclosure_order)
        return tuple(
            DisclosureRow(
                *key,
                self._disclosures[key].disclosures,
                self._disclosures[key].statements,
                tuple(sorted(self._disclosures[key].fields)),
            )
            for key in keys
        )

    def _access_rows(self) -> tuple[AccessRow, ...]:
        rows = [
            AccessRow(
                purpose, record_type, actor_id, role, tally.scopes, tuple(sorted(tally.fields))
            )
            for (purpose, record_type, actor_id, role), tally in self._accesses.items()
        ]
        return tuple(
            sorted(
                rows,
                key=lambda row: (
                    row.purpose is None,
                    row.purpose or "",
                    row.record_type,
                    row.actor_id or "",
                    row.actor_role or "",
                    row.actor_id is None,
                    row.actor_role is None,
                ),
            )
        )

    def _busiest_actors(self) -> tuple[ActorRow, ...]:
        rows = []
        for actor_id, tally in self._actors.items():
            at_least = max(len(tally.people), tally.largest_scope)
            rows.append(
                ActorRow(
                    actor_id,
                    tuple(sorted(tally.roles)),
                    tally.scopes,
                    at_least,
                    max(at_least, len(tally.people) + tally.overflow),
                    tally.without_subjects,
                )
            )
        rows.sort(
            key=lambda row: (-row.people_at_least, -row.people_at_most, -row.scopes, row.actor_id)
        )
        return tuple(rows[:BUSIEST_ACTORS])

    def _timeline(self, bucket: Literal["hour", "day"]) -> tuple[TimeBucket, ...]:
        if not self._hours:
            return ()
        step = _HOUR if bucket == "hour" else _DAY
        totals: dict[datetime, list[int]] = {}
        for hour, counts in self._hours.items():
            start = hour if bucket == "hour" else hour.replace(hour=0)
            total = totals.setdefault(start, [0, 0, 0])
            for i, count in enumerate(counts):
                total[i] += count
        buckets = []
        start, end = min(totals), max(totals)
        while start <= end:
            scopes, denied, would_deny = totals.get(start, (0, 0, 0))
            buckets.append(TimeBucket(start, scopes, denied, would_deny))
            start += step
        return tuple(buckets)


def _refusal_order(item: tuple[_RefusalKey, int]) -> tuple[object, ...]:
    (outcome, purpose, record_type, field, reasons), count = item
    return (-count, outcome, purpose or "", record_type, field, reasons, purpose is None)


def disclosure_order(key: tuple[str, str, str | None, str]) -> tuple[object, ...]:
    """The order of the disclosures table: recipient, agreement, purpose, record type."""
    recipient, agreement, purpose, record_type = key
    return (recipient, agreement, purpose is None, purpose or "", record_type)


def build_report(
    traces: Iterable[str | os.PathLike[str]] = (),
    ledgers: Iterable[str | os.PathLike[str]] = (),
    *,
    subject: SubjectQuery | None = None,
    progress: Progress | None = None,
    ledgers_verified: bool | None = None,
) -> Report:
    """Read the ledger files, then the trace files, and report on every scope in them.

    A scope sent to both a `SpanSink` and a `Ledger` is in both kinds of file: each of its
    parts is counted once, from the ledger, and the trace file's copies are listed among
    what it ignored (see `ReportBuilder`, and `report_inputs` for why ledgers come first).

    Args:
        traces: OTLP JSON trace files (see `read_otlp_json`).
        ledgers: ledger files (see `read_ledger`).
        subject: the person to answer about, if any.
        progress: told ``(bytes read, bytes in all)`` as the files are read, for a
            progress bar; last told the total when everything has been read.
        ledgers_verified: whether the caller verified the ledger files first, for the
            report to say (see `Report.ledgers_verified`).

    Raises:
        ReportInputError: a file is missing or unreadable (found before anything is read),
            or holds something that cannot be read; names the file and line.
    """
    inputs = report_inputs(traces, ledgers)
    total = sum(input_size(path) for path, _, _ in inputs)
    done = 0

    def advance(size: int) -> None:
        nonlocal done
        done += size
        if progress is not None:
            progress(done, total)

    builder = ReportBuilder(subject)
    for path, format, reader in inputs:
        builder.add_source(path, format, reader(path, on_bytes=advance))
    if progress is not None:
        progress(max(done, total), max(done, total))
    return builder.build(ledgers_verified=ledgers_verified)
