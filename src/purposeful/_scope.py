"""The scope object: one open purpose scope's decisions, what it read per person, and its
report's parts.

`Scope.read` is the slow path of a managed read inside a scope (`_guard` calls it): it
decides the field once (`Scope.decide`), notes that the field was read for the record's
person, and makes the record the hot path's last. Each scope notes, per person, which fields
of that person's records it read, and hands a `ScopeReport` to the configured sinks when it
closes; a long scope sends parts of it on the way (``flush_reads``, ``flush_seconds``), so a
crash loses little (`_trail` sends them). Opening, entering and closing scopes is
`purposeful.scope`'s; this module decides and notes; it never formats spans or writes files.
"""

from __future__ import annotations

import _thread
import contextvars
import logging
import sys
import traceback
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from time import time_ns
from types import FrameType
from typing import TYPE_CHECKING, Any

from . import _guard, _trail
from ._config import Configuration, get_configuration
from ._consent import ConsentAnswers
from ._guard import orphans as _orphans
from ._plans import plan_for
from ._shared.checks import EPOCH
from ._trail import emit
from .actors import Actor
from .bases import LawfulBasis
from .decisions import (
    ConsentStatus,
    Decision,
    Mode,
    Outcome,
    Reason,
    ScopeReport,
    Upstream,
    basis_reasons,
)
from .errors import AuditSinkError, PurposefulError, PurposeViolation
from .purposes import Purpose
from .typing import ConsentChecker

if TYPE_CHECKING:
    from .records import FieldPolicy

__all__ = ["Scope"]

_log = logging.getLogger("purposeful")

_scope_var = _guard.scope_var
_fast_var = _guard.fast_var
_READ_IT = _guard.READ_IT
# Enum members as module globals: an attribute lookup on the enum class costs ~60 ns on
# Python 3.11, on the path every new record of a list view takes.
_ALLOWED = Outcome.ALLOWED
_WOULD_DENY = Outcome.WOULD_DENY
#: The inline set of a record the hot path may note no field of (see `Scope.read`).
_NOTHING: frozenset[object] = frozenset()
#: A scope that sends parts keeps at most about this many people's sets of fields read
#: (`Scope._forget`); one that sends nothing, this many sets of the records it read on the
#: slow path, until it reaches it and starts again (`Scope._forget_loose`).
_PEOPLE_KEPT = 10_000
#: In a person's set of what was sent: they were listed in a part with no field read
#: (`Scope.note_person`), so later parts need not list them again for that.
_LOOKED_AT = object()

#: The failure of a scope that noted a record whose subject id has no text form.
_NO_TEXT_FORM = (
    "a record read in this scope has a subject id that str() cannot turn into text, so the "
    "report cannot say whose record it was: its reads are on record without the person. Give "
    "the record class a subject id with a text form (a str or an int)"
)


def _subject_text(subject: object) -> str | None:
    """A record's raw subject as the text reports group people by ("" for none), or None
    if it has no text form (its ``str()`` fails)."""
    if type(subject) is str:
        return subject
    if subject is None:
        return ""
    try:
        return str(subject)
    except Exception:
        return None


class Scope:
    """One open purpose scope: its purpose, actor, and the decisions made so far.

    Get it from ``with use(...) as scope``. Its state is private to the library; read it
    through `purpose`, `actor`, `justification`, `opened_at` and `decisions`.

    What it read, per person: each record read is noted once, as its raw subject and the
    set of its fields read (`_guard.Notes`), by the getter itself when the field is decided
    for the record's class without consent (its *inline* set), else by `read` on the slow
    path; the notes are grouped by person (``_seen``) when a part is sent (`_gather`), or
    merged with them for the report at the close. A scope whose report goes nowhere notes
    nothing (`_guard.FREE`).

    Parts: ``_count`` counts the reads grouped and not yet sent; the notes' room bounds the
    rest (each note may come to hold every managed field of its class), so that fewer than
    ``flush_reads`` reads ever wait: a getter that finds no room takes the slow path, which
    groups the notes and sends a part if the next record could reach the bound
    (`_make_room`). Until the first part before the close, every person grouped is waiting;
    from it on (`_list_people`), ``_dirty`` lists the sets of the people grouped since the
    last part, and a part sends what each such set gained since it was last sent. Grouping
    swaps the inline sets for fresh ones (`_renew_inline`) and empties the notes, so a
    record the getter is still noting for goes through the slow path once more and is
    noted again.
    """

    __slots__ = (
        "_allowed",
        "_answered",
        "_checker",
        "_checks",
        "_closed",
        "_config",
        "_consents",
        "_context",
        "_count",
        "_decided",
        "_dirty",
        "_disclosures",
        "_failed",
        "_failures",
        "_flush_reads",
        "_frame",
        "_generators",
        "_id",
        "_listed",
        "_lock",
        "_log",
        "_loose",
        "_marked",
        "_notes",
        "_opened_at",
        "_opened_ns",
        "_opener",
        "_outer",
        "_part",
        "_people",
        "_people_count",
        "_plan",
        "_refused",
        "_seen",
        "_sending",
        "_sent_decisions",
        "_sent_disclosures",
        "_width",
        "_within",
        "actor",
        "flush_seconds",
        "justification",
        "purpose",
        "upstream",
    )

    def __init__(
        self,
        purpose: Purpose,
        actor: Actor,
        consent: ConsentChecker | None,
        opener: object = None,
        outer: Scope | None = None,
        frame: FrameType | None = None,
        config: Configuration | None = None,
        within: Scope | None = None,
        upstream: Upstream | None = None,
        justification: str | None = None,
    ) -> None:
        self.purpose = purpose
        self.actor = actor
        #: the scope in another service this one works for, from a verified purpose claim
        self.upstream = upstream
        #: the reference to the recorded justification for uses that need one, or None
        self.justification = justification
        self._opener = opener
        self._outer = outer
        #: the frame of the iterated generator that opened the scope, else None
        self._frame = frame
        #: the scope that covered the code that opened this one (`_guard.within`)
        self._within = within
        #: whether this scope or one it is nested in was opened in an iterated generator
        self._generators: bool = frame is not None or (outer is not None and outer._generators)
        self._config = config if config is not None else get_configuration()
        #: when it opened (ns since the epoch); the datetime once asked (`opened_at`)
        self._opened_ns = time_ns()
        self._opened_at: datetime | None = None
        #: per record class, the fields allowed (or would-deny) in this scope without consent
        self._allowed: dict[type, set[object]] = {}
        self._decided: dict[object, Decision] = {}
        #: (field, id of a consent answer) → (the answer, the decision it gives): people
        #: whose consent stands alike share one (`_consent` interns equal answers)
        self._answered: dict[tuple[object, int], tuple[object, Decision]] = {}
        #: per field, what its decision depends on besides consent (`FieldPolicy.check`)
        self._checks: dict[object, tuple[tuple[Reason, ...], LawfulBasis | None, bool]] = {}
        #: the decisions shared with every scope of this purpose and actor (`_plans`)
        self._plan = plan_for(self._config, purpose, actor, justification is not None)
        self._checker = consent if consent is not None else self._config.consent
        #: the checker's answers, asked once per person; made when first asked (`_consent_answers`)
        self._consents: ConsentAnswers | None = None
        # without a sink nothing is sent in parts, so nothing is counted or listed
        self._sending = _trail.has_receivers(self._config)
        self._flush_reads = self._config.flush_reads if self._sending else sys.maxsize
        #: subject id → the fields read from that person's records, grouped from the notes
        #: when a part is sent (`_gather`); a scope whose report goes nowhere keeps none
        self._seen: dict[str, set[object]] = {}
        self._people_count = 0
        #: the records read since the notes were last grouped, each (raw subject, the set of
        #: its fields read), which the getter adds to (see `_guard`); `_guard.FREE` when the
        #: report goes nowhere
        self._notes = _guard.Notes() if self._sending else _guard.FREE
        #: the most managed fields of a record class noted: what one note may come to hold
        self._width = 0
        #: without a sink, the sets of fields read of the records read on the slow path,
        #: emptied at the close (a context's hot path may hold one)
        self._loose: list[set[object]] = []
        #: id of a person's set → (subject id, the set, the fields already sent in a part),
        #: kept once a scope sends a part before its close (`_list_people`); a scope
        #: reported at its close alone, as most are, never needs it
        self._people: dict[int, tuple[str, set[object], set[object]]] = {}
        self._listed = False
        #: once listed, the sets of the people read since the last part; the reads that may
        #: be waiting, counted whenever parts are sent
        self._dirty: list[set[object]] = []
        self._count = 0
        self._log: list[Decision] = []
        self._disclosures: list[Mapping[str, Any]] = []
        self._closed = False
        self._failed = False
        self._failures: list[AuditSinkError] = []
        #: the refusal raised last by a read in this scope, in any context (a thread pool's
        #: copy of the context too): the scope's exit finds it behind a framework's error
        self._refused: PurposefulError | None = None
        self.flush_seconds = self._config.flush_seconds
        self._id = ""
        self._part = 0
        self._sent_decisions = 0
        self._sent_disclosures = 0
        self._marked: float | None = None
        self._lock = _thread.RLock()  # a sink may call purposeful.audit.flush()
        self._context: contextvars.Context | None = None

    @property
    def opened_at(self) -> datetime:
        """When the scope opened (timezone-aware UTC, to the microsecond)."""
        at = self._opened_at
        if at is None:
            at = self._opened_at = EPOCH + timedelta(microseconds=self._opened_ns // 1000)
        return at

    def _consent_answers(self) -> ConsentAnswers:
        """The scope's consent answers, made at the first question; once the scope has
        closed, new ones hold no answer (they keep no subject id)."""
        answers = self._consents
        if answers is None:
            with self._lock:
                answers = self._consents
                if answers is None:
                    answers = ConsentAnswers(
                        self._checker, self.purpose, self.opened_at, self._config
                    )
                    if self._closed:
                        answers.clear()
                    self._consents = answers
        return answers

    @property
    def decisions(self) -> tuple[Decision, ...]:
        """The distinct decisions made so far, in order."""
        return tuple(self._log)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def id(self) -> str:
        """The scope's id, shared by its reports' parts; unique across processes. A purpose
        claim sent to another service names it, so both services' reports join up."""
        if not self._id:
            self._id = _trail.new_id()
        return self._id

    def read(self, policy: FieldPolicy, obj: object) -> object:
        """Decide a read of *policy*'s field on *obj* (the slow path), note that it was
        handed out, and make *obj* the hot path's last record; return `_guard.READ_IT`, for
        the caller to read the value itself, or raise `PurposeViolation`.

        The note is the record's: its subject and a new set of its fields read, in the
        scope's `_guard.Notes`, which the getter adds to as well, and which are grouped by
        person when a part is sent (`_gather`). A scope whose report goes nowhere notes no
        subject (`_guard.FREE`)."""
        # every first read of a field in a scope comes here: calls and lookups are kept few
        cls = type(obj)
        decision = self._decided.get(policy)
        if decision is None:
            planned = self._plan.get(policy)
            if planned is not None:  # decided alike in an earlier scope: every list view's
                decision = self._made(policy, obj, planned, policy)
            else:
                decision = self._decide(policy, obj, None)
        outcome = decision.outcome
        if outcome is not _ALLOWED and outcome is not _WOULD_DENY:
            raise PurposeViolation(decision)
        fast = not (self._generators or _orphans) and _scope_var.get() is self
        if fast:
            seen, last, inline, book = _fast_var.get()
            if last is obj and type(seen) is set:
                # this record's note: its reservation covers every field of its class (a
                # first read of a field, one that needs consent), unless grouped already,
                # which renews the class's inline set first and empties the note (both under
                # the lock; a getter racing the grouping may have added to it since)
                if self._sending:
                    with self._lock:
                        live = bool(seen) and inline is self._allowed.get(cls, _NOTHING)
                        if live:
                            seen.add(policy)
                else:  # no grouping: `_forget_loose` empties the sets, renews the inline ones
                    live = bool(seen) and inline is self._allowed.get(cls, _NOTHING)
                    if live:
                        seen.add(policy)
                if live:
                    fresh = self._allowed.get(cls, _NOTHING)
                    if fresh is not inline:
                        _fast_var.set((seen, obj, fresh, book))
                    return _READ_IT
        seen = {policy}
        book = _guard.FREE
        inline_too = True  # may the getter note this record's other inline fields itself
        if self._sending:
            notes = book = self._notes
            width = len(policy.record.fields)
            if width > self._width:
                self._width = width
                self._make_room()
            elif len(notes.held) >= notes.room:
                self._make_room()
            # the raw subject goes straight into the note: no local of this frame holds it
            notes.held.append((policy.record._subject_raw(obj), seen))
            if not notes.room:  # flush_reads leaves no room for a record's reads: this one
                book, inline_too = None, False
            elif _guard._validates.get(id(cls)):  # its __init__ reads fields back
                book = None  # so its other records are noted here, never by the getter
        else:
            loose = self._loose
            if len(loose) >= _PEOPLE_KEPT:
                self._forget_loose()
            loose.append(seen)
        if fast:
            inline = self._allowed.get(cls, _NOTHING) if inline_too else _NOTHING
            _fast_var.set((seen, obj, inline, book))
        if not inline_too:
            self._make_room()  # the read just noted may be due in a part now
        return _READ_IT

    def _make_room(self) -> None:
        """Group the notes by person (`_gather`); send a part if the reads of one more
        record might reach ``flush_reads``; give the notes room for as many records as fit
        below it (each may hold every managed field of its class)."""
        with self._lock:
            if self._closed:
                return
            self._gather()
            width = self._width
            if self._count and self._count + width >= self._flush_reads:
                self.flush()
            self._notes.room = max(0, (self._flush_reads - 1 - self._count) // width)

    def _gather(self) -> None:
        """Under the scope's lock: group the notes by person into ``_seen``, counting the
        reads each adds and listing the person for the next part.

        The inline sets are renewed and each note emptied once grouped, so no getter adds
        to a note after this: a context still on a noted record takes the slow path for its
        next read, which notes it again."""
        notes = self._notes.held
        if not notes:
            return
        self._renew_inline()
        taken = notes[:]  # getters on other threads append at the end meanwhile
        del notes[: len(taken)]
        people = self._seen
        listed = self._listed
        count = 0
        subject: object = ""
        text = ""
        try:
            for subject, fields in taken:
                text = self._text_of(subject)
                person = people.get(text)
                if person is None:
                    person = people.setdefault(text, set())
                    self._people_count += 1
                    if listed:
                        self._people.setdefault(id(person), (text, person, set()))
                before = len(person)
                person |= fields
                fields.clear()  # a hot path holding it must not outlive the close
                if len(person) != before:
                    count += len(person) - before
                    if listed:
                        self._dirty.append(person)
                elif listed and not person:  # looked at, nothing read: the next part lists them
                    self._dirty.append(person)
        except BaseException as exc:  # an interrupt: the frames below keep no raw id
            traceback.clear_frames(exc.__traceback__)
            raise
        finally:
            subject = text = ""  # no raw id in this frame while a part is sent
            taken.clear()
        self._count += count

    def _text_of(self, subject: object) -> str:
        """The text of a noted subject; for one with no text form, "" (nobody's), and the
        scope's close raises `AuditSinkError` saying so (its reads stay on record, without
        the person)."""
        text = _subject_text(subject)
        if text is not None:
            return text
        if not any(str(error) == _NO_TEXT_FORM for error in self._failures):
            self._failures.append(AuditSinkError(_NO_TEXT_FORM))
            _log.error("purposeful: %s", _NO_TEXT_FORM)
        return ""

    def _forget_loose(self) -> None:
        """Without a sink: empty the sets of fields read of the records read on the slow
        path, and renew the inline sets, so that a context still on such a record takes
        the slow path for its next read (which starts a new set)."""
        loose = self._loose
        self._renew_inline()
        for seen in loose:
            seen.clear()
        del loose[:]

    def _list_people(self) -> None:
        """Before the first part that is not the last (under the scope's lock): list every
        person in ``_people``, and have `_gather` list new people and note changed ones in
        ``_dirty`` from now on."""
        self._listed = True
        for subject, seen in list(self._seen.items()):
            self._people.setdefault(id(seen), (subject, seen, set()))

    def note_person(self, subject: object) -> None:
        """Note that *subject*'s information was looked at with no field read (a question
        about their consent, `purposeful.may_use`): the report lists them, under their
        pseudonym, with no field read, so a review of who looked at one person finds it."""
        if not self._sending:
            return
        with self._lock:
            if self._closed:
                return
            self._notes.held.append((subject, set()))
            # grouped now (a note with no field takes no room), with the reads noted before
            # it: so a part is sent here if they reach flush_reads, as a read would send it
            # (grouping empties the notes, and reads only look once the notes fill up)
            if self._width:
                self._make_room()
            else:
                self._gather()

    def note_disclosure(self, attributes: Mapping[str, Any]) -> None:
        """Note a disclosure made in this scope (`purposeful.disclose`): ids, names and
        codes only, never values; it goes out with the scope's report."""
        self._disclosures.append(dict(attributes))

    def decide(
        self, policy: FieldPolicy, obj: object, *, refusal: Outcome | None = None
    ) -> Decision:
        """The decision for *policy*'s field on *obj*, made once and cached in this scope.

        A decision that does not depend on the subject is cached per field, and an allowed
        or would-deny one joins the class's set the hot path notes from. One that needs
        consent is cached per field and subject; consent is asked once per subject per
        scope, and the person's set of fields read makes the next read of it fast.

        Args:
            refusal: the outcome of a refusal; default: denied or would-deny, by mode. A
                `Outcome.WITHHELD` refusal (a projection) is cached apart, so a later direct
                read of the field is still decided as a read.
        """
        cached = self._decided.get(policy)
        if cached is not None:
            return cached
        if refusal is None:
            planned = self._plan.get(policy)
            if planned is not None:  # every scope's first read of a field, but the first's
                return self._made(policy, obj, planned, policy)
        return self._decide(policy, obj, refusal)

    def _decide(self, policy: FieldPolicy, obj: object, refusal: Outcome | None) -> Decision:
        """`decide` for a field not decided in this scope nor, for this purpose and actor,
        found in the plan (a first decision, one that needs consent, a refusal)."""
        checked = self._checks.get(policy)
        if checked is None:  # what depends on the field alone, once per scope
            reasons, basis, needs_consent = policy.check(self.purpose, self.actor)
            if basis is not None:  # who may rely on it, and whether it needs a justification
                reasons += basis_reasons(
                    basis, self.actor, self._config.agency_kinds, self.justification is not None
                )
            checked = self._checks[policy] = (reasons, basis, needs_consent)
        reasons, basis, needs_consent = checked
        key: object = policy
        consent: ConsentStatus | None = None
        if needs_consent:
            subject = policy.record.subject_of(obj)
            key = (policy, subject)
            cached = self._decided.get(key)
            if cached is not None:
                return cached
            answer = self._consent_answers().of(subject)
            if refusal is None:
                shared = self._answered.get((policy, id(answer)))
                if shared is not None and shared[0] is answer:
                    decision = shared[1]
                    self._log.append(decision)
                    self._decided[key] = decision
                    return decision
            consent_reasons, consent = answer
            reasons = reasons + consent_reasons
        outcome = Outcome.ALLOWED
        if reasons and refusal is not None:
            outcome = refusal
            key = (refusal, key)
            cached = self._decided.get(key)
            if cached is not None:
                return cached
        elif reasons:
            # the mode of the field's own record class: the cache below is keyed by its policy
            mode = self._config.mode_for(self.purpose, policy.record.cls)
            outcome = Outcome.WOULD_DENY if mode is Mode.MONITOR else Outcome.DENIED
        decision = policy.decision(outcome, self.purpose, self.actor, basis, reasons, consent)
        if key is policy:  # not a consent decision, nor a projection's refusal
            self._plan[policy] = decision
        elif needs_consent and refusal is None:
            self._answered[policy, id(answer)] = (answer, decision)
        return self._made(policy, obj, decision, key)

    def _made(self, policy: FieldPolicy, obj: object, decision: Decision, key: object) -> Decision:
        """Log and cache *decision* under *key*; an allowed (or would-deny) field that needs
        no consent joins the inline set of *obj*'s class."""
        self._log.append(decision)
        self._decided[key] = decision
        outcome = decision.outcome
        if key is policy and (outcome is _ALLOWED or outcome is _WOULD_DENY):
            allowed = self._allowed.get(type(obj))
            if allowed is None:
                allowed = self._allowed[type(obj)] = set()
            allowed.add(policy)
        return decision

    # --- parts ------------------------------------------------------------------------------

    def opened(self) -> None:
        """Start looking after the time bound, if the scope's reports go anywhere. Called
        before the scope is in force: the flusher sends its parts in the context it was
        opened in (the caller's current span), outside the scope itself, so a sink that
        reads a record is not counted as the scope reading it."""
        if self._sending:
            self._context = contextvars.copy_context()
            _trail.flusher.add(self)

    def flush(self) -> None:
        """Send what the scope read and decided since its last part, as a part now, in the
        context the scope was opened in (outside the scope: a sink's reads are not its).

        A sink or pseudonymiser that fails never stops the read that called this: the
        failure is logged, and raised when the scope closes.
        """
        _trail.call_in(self._context, self._flush_here)

    def _flush_here(self) -> None:
        with self._lock:
            if self._closed:
                return
            report = self._take(final=False)
            if report is not None:
                self._send(report)

    def tick(self, now: float, *, exiting: bool = False) -> bool:
        """The flusher's look (`_trail.Flushable`): send a part once unsent reads seen on an
        earlier look are ``flush_seconds / 2`` old; False once the scope has closed."""
        if self._closed:
            return False
        if exiting:
            self.flush()
        elif not (self._notes.held or (self._dirty if self._listed else self._seen)):  # nothing new
            self._marked = None
        elif self._marked is None:
            self._marked = now
        elif now - self._marked >= self.flush_seconds / 2:
            self._marked = None
            self.flush()
        return True

    def _send(self, report: ScopeReport) -> None:
        try:
            emit(report, self._config)
        except AuditSinkError as sink_error:
            _log.error("purposeful: %s", sink_error)
            self._failures.append(sink_error)

    def _take(self, final: bool) -> ScopeReport | None:
        """The next part (under the scope's lock): what is new since the last one, or None
        if nothing is. Raw subject ids stop here."""
        people: list[tuple[str, set[object]]] = []
        try:
            if final and self._part == 0:  # the common case: the whole scope is one report
                people += self._seen.items()
                people += [  # the notes not grouped yet: `summarise` merges a person's
                    (subject if type(subject) is str else self._text_of(subject), fields)
                    for subject, fields in self._notes.held
                ]
            else:
                self._gather()
                people = self._new_reads(final)
        except BaseException as exc:  # an interrupt: no frame it came through keeps an id
            people.clear()
            traceback.clear_frames(exc.__traceback__)
            raise
        decisions = self._log[self._sent_decisions :]
        disclosures = self._disclosures[self._sent_disclosures :]
        if not (final or people or decisions or disclosures):
            return None
        self._sent_decisions += len(decisions)
        self._sent_disclosures += len(disclosures)
        try:
            summary = _trail.summarise(people, self._config)  # type: ignore[arg-type]
        finally:
            people.clear()  # no raw id outlives the summary, in this frame or a traceback's
        failure = summary.pop("pseudonym_failure", None)
        if failure is not None:
            error = _trail.pseudonym_error(failure)
            _log.error("purposeful: %s", error)
            self._failures.append(error)
        report = ScopeReport(
            purpose=self.purpose,
            actor=self.actor,
            opened_at=self.opened_at,
            closed_at=datetime.now(UTC),
            decisions=tuple(decisions),
            failed=self._failed if final else False,
            mode=self._config.mode_for(self.purpose, object),
            disclosures=tuple(disclosures),
            scope_id=self.id,
            part=self._part,
            final=final,
            upstream=self.upstream,
            justification=self.justification,
            **summary,
        )
        self._part += 1
        return report

    def _new_reads(self, final: bool) -> list[tuple[str, set[object]]]:
        """(subject id, fields read since the last part) for each person with any: on the
        final part every person, else those listed in ``_dirty``, which is emptied."""
        everyone = final or not self._listed  # the first part: everyone read so far is new
        if not self._listed:
            self._list_people()
        dirty = self._dirty
        taken = len(dirty)
        if everyone:
            changed: list[int] = list(self._people)
        else:
            changed = list({id(seen): None for seen in dirty[:taken]})
        if not final:
            self._renew_inline()
        del dirty[:taken]
        self._count = 0
        found = []
        for key in changed:
            entry = self._people.get(key)
            if entry is None:  # forgotten by an earlier part: all it held was sent
                continue
            subject, seen, sent = entry
            new = seen - sent
            if new:
                sent |= new
                found.append((subject, new))
            elif not seen and _LOOKED_AT not in sent:  # looked at, nothing read (`note_person`)
                sent.add(_LOOKED_AT)
                found.append((subject, set()))
        if not final and self._people_count > _PEOPLE_KEPT:
            self._forget_sent()
        return found

    def _forget_sent(self) -> None:
        """Keep a long scope's memory bounded: forget the people whose reads were all sent.
        A person read again is listed again (no hot path holds a person's set: the getter
        notes into the sets of records, `_gather`)."""
        people = self._seen
        for subject, seen in list(people.items()):
            entry = self._people.get(id(seen))
            if entry is None:
                continue
            sent = entry[2]
            if not sent or len(sent) - (_LOOKED_AT in sent) != len(seen):
                continue  # something not sent yet (a question about them, when nothing is read)
            del self._people[id(seen)]
            del people[subject]
            self._people_count -= 1

    def _renew_inline(self) -> None:
        """Give each class a fresh inline set and empty the old one, which the hot path of
        any context may hold: its next new field takes the slow path, which lists its
        record's person for the next part again."""
        for cls in list(self._allowed):
            old = self._allowed[cls]
            self._allowed[cls] = set(old)
            old.clear()

    def _close(self, failed: bool) -> ScopeReport | None:
        """Close the scope, take its last part (None if it would go nowhere) and forget
        every raw subject id and record it held."""
        with self._lock:
            self._closed = True
            self._failed = failed
            if self._sending:
                _trail.flusher.discard(self)
            for allowed in self._allowed.values():
                allowed.clear()  # first: a getter noting from here on takes the slow path
            try:
                report = self._take(final=True) if _trail.has_receivers(self._config) else None
            finally:  # whatever the report met: no set a hot path holds outlives the close
                self.raced_close()
                del self._dirty[:]
        return report

    def after_fork(self) -> None:
        """In a forked child: a lock the parent's flusher held at the fork is held forever
        here (`_trail.Flushable`)."""
        self._lock = _thread.RLock()

    def raced_close(self) -> None:
        """Forget every raw subject id the scope holds: its notes (`_forget_all`), its
        consent answers, and the keys of its consent decisions. The close does it; so does a
        read or a question (`may_use`) on another thread that noted something while the
        scope closed (a read so raced is refused)."""
        with self._lock:
            self._forget_all()
            if self._consents is not None:
                self._consents.clear()
            self._decided.clear()  # keys of consent decisions hold subject ids
            self._answered.clear()

    def _forget_all(self) -> None:
        """Empty every set another context's hot path may hold, the inline sets first (the
        getter notes into a record's set only while its inline set is not empty), and
        forget every raw subject id. Again after a read raced the close."""
        for allowed in self._allowed.values():
            allowed.clear()
        self._allowed.clear()
        notes = self._notes.held
        for _, seen in notes:
            seen.clear()
        del notes[:]
        for seen in self._loose:
            seen.clear()
        del self._loose[:]
        self._seen.clear()
        self._people.clear()
        self._people_count = 0

    def prefetch_consent(self, records: Iterable[object]) -> None:
        """Ask the consent checker now, in one batch, about the people of *records* whose
        fields need consent in this scope, so the reads that follow find the answers (and
        the people of rows an ORM loaded in the scope with them). Answers are as of the
        scope's opening, as every consent answer of a scope; a checker that fails refuses
        those reads (``consent-check-failed``)."""
        if not self._closed:
            answers = self._consent_answers()
            answers.prefetch_records(records, self.actor)

    async def aprefetch_consent(self, records: Iterable[object]) -> None:
        """`prefetch_consent` in a worker thread: a slow consent store never blocks the
        event loop."""
        if not self._closed:
            answers = self._consent_answers()
            await answers.aprefetch_records(records, self.actor)
            if self._closed:  # closed meanwhile: hold no subject id
                answers.clear()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"<Scope {self.purpose.id!r} actor={self.actor.id!r} role={self.actor.role!r} "
            f"{state}, {len(self._log)} decisions>"
        )
