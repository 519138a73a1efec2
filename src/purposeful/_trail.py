"""The audit trail's timing and shape: what reaches the sinks, when, and in what form.

A scope decides and notes what it read (`scope`); this module turns that into reports and
sends them:

- `emit` hands a report to the configuration's sinks and to every tap (`add_tap`: the
  testing captures), and raises `AuditSinkError` after if a sink failed;
- `summarise` turns a part's people into what a report may carry: counts, keyed
  pseudonyms and, per pseudonym, the fields read. Raw subject ids stop here, and a
  pseudonymiser that fails costs the part its pseudonyms, never the part;
- the flusher, one daemon thread per process started when a report first has somewhere to
  go, sends what long scopes have read so far within ``flush_seconds`` of each read
  (``flush_reads`` is enforced by the reading thread itself, see `Scope`), and closes the
  windows of reads outside any scope;
- `read_unscoped` answers a read outside any open scope: refused and reported at once, or,
  in monitor mode, let through and counted by `note_unscoped` per thread or task, call site
  and window, into one report with counts, instead of one report per read.

Why a thread: a batch that reads and then blocks, or dies, must still have its reads on
record within the bound, and nothing on the read path can promise that. The thread wakes
four times per ``flush_seconds`` while anything is open and sleeps otherwise; it never
reads a record, and it runs each scope's sends in the context the scope was opened in, so
a span it sends has the scope's parent.

What this module must not do: keep a raw subject id past a send (the people of a part are
cleared once summarised), put one in a log line or an exception message, or let a failing
sink or pseudonymiser stop a read or the flusher.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import itertools
import logging
import os
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from ._config import Configuration, get_configuration, is_subject
from .decisions import CallSite, Decision, Mode, Outcome, Reason, ScopeReport
from .errors import AuditSinkError, NoPurposeScope
from .typing import AuditSink

if TYPE_CHECKING:
    from .records import FieldPolicy

__all__ = [
    "add_tap",
    "emit",
    "flush",
    "flusher",
    "new_id",
    "note_unscoped",
    "pseudonym_error",
    "pseudonym_of",
    "read_unscoped",
    "remove_tap",
    "summarise",
]

_log = logging.getLogger("purposeful")


# --- ids ------------------------------------------------------------------------------------

_prefix = secrets.token_hex(8)
_counter = itertools.count()


def new_id() -> str:
    """A scope id unique across processes: a random prefix per process and a counter."""
    return f"{_prefix}{next(_counter):08x}"


# --- sending --------------------------------------------------------------------------------

#: Sinks that take every report whatever the configuration says: `purposeful.testing`'s
#: captures, which must see decisions even when the code under test configures its own sinks.
_taps: list[AuditSink] = []


def add_tap(sink: AuditSink) -> None:
    """Send every report to *sink* too, until `remove_tap`."""
    _taps.append(sink)


def remove_tap(sink: AuditSink) -> None:
    """Stop sending reports to *sink*; a sink not tapped is ignored."""
    if sink in _taps:
        _taps.remove(sink)


def has_receivers(config: Configuration) -> bool:
    """True if a report made under *config* would go anywhere."""
    return bool(config.sinks or _taps)


def emit(report: ScopeReport, config: Configuration | None = None) -> None:
    """Hand *report* to every sink of *config* (default: the one in force) and every tap;
    raise `AuditSinkError` after if any failed."""
    failures: list[BaseException] = []
    sinks = (config if config is not None else get_configuration()).sinks
    for sink in (*sinks, *_taps):
        try:
            sink.emit(report)
        except Exception as exc:
            failures.append(exc)
    if failures:
        names = ", ".join(type(f).__name__ for f in failures)
        raise AuditSinkError(
            f"{len(failures)} audit sink(s) failed to take a scope report ({names}); the "
            f"others received it. Fix the sink; the cause is attached."
        ) from failures[0]


#: What `handed_back`'s error tells code to do, before the audit failure's own message.
HAND_OVER = "hand over error.result rather than making it again, which would log it twice. "


@contextlib.contextmanager
def handed_back(what: str, logged: Sequence[str], made: Sequence[object]) -> Iterator[None]:
    """Around a call that logs what it makes (a disclosure, a copy for the person) in a
    scope of its own, then hands it over: *logged* holds the log entries' ids once the log
    took them, *made* what to hand over once it is made.

    If the audit of the scope fails as it closes (a sink, or the pseudonymiser) after the
    log took it, the `AuditSinkError` raised says it was made and logged, names the
    entries (ids only), keeps the failure's notes and holds what was made as ``result``,
    so that nobody makes it again and logs it twice. It is raised from the sink's own
    exception, which the public entry points strip of its frames. Anything else raised
    once the log took it (an interrupt) carries a note naming the entries."""
    try:
        yield
    except AuditSinkError as error:
        if not made or not logged:
            raise
        handed = AuditSinkError(
            f"the {what} was made and logged (disclosure log entries {', '.join(logged)}) "
            f"before its audit failed: {HAND_OVER}{error}"
        )
        for note in getattr(error, "__notes__", ()):
            handed.add_note(note)
        handed.result = made[0]
        raise handed from error.__cause__
    except BaseException as exc:
        if logged:
            exc.add_note(
                f"purposeful: the {what} was logged (disclosure log entries "
                f"{', '.join(logged)}) before this, and was not handed over"
            )
        raise


def pseudonym_error(failure: str) -> AuditSinkError:
    return AuditSinkError(
        f"the configured pseudonymiser failed ({failure}); the scope's report was sent "
        f"with its subject counts and the fields read, but without pseudonyms, so it "
        f"cannot say whose records were read. Fix the pseudonymiser"
    )


# --- a part's people --------------------------------------------------------------------------


class _LeakingPseudonymiser(Exception):
    """The pseudonymiser handed back a subject id, or text containing one."""


def summarise(
    people: Collection[tuple[str, AbstractSet[FieldPolicy]]], config: Configuration
) -> dict[str, Any]:
    """The people fields of a report part: per record type how many people, how many in
    all, their pseudonyms and the fields read from each one's records (with a
    pseudonymiser), and every field read. *people* is (subject id, fields read) pairs, one
    per person.

    A pseudonymiser that fails costs the part its pseudonyms and per-person reads, never
    the part: the failure is named in ``pseudonym_failure`` for the caller to raise after
    sending. Raw subject ids stop here: none is in the result (the caller clears *people*).
    """
    merged: dict[str, AbstractSet[FieldPolicy]] = {}
    everyone: list[tuple[str, AbstractSet[FieldPolicy]]] = []
    subject = ""
    try:
        merged.update(people)  # in C: most people come once
        if len(merged) != len(people):  # one person may come once per record class
            merged.clear()
            for subject, policies in people:
                earlier = merged.get(subject)
                merged[subject] = policies if earlier is None else earlier | policies
        fields: set[FieldPolicy] = set().union(*merged.values())
        nobody = "" in merged  # a subject with no text form: counted, never listed
        # a person only asked about (`Scope.note_person`) had nothing of theirs read
        read = sum(map(bool, merged.values()))
        everyone.extend(merged.items())
        merged.clear()
        records = {policy.record.name for policy in fields}
        if len(records) == 1:  # the usual case: everyone was read through one record type
            by_type = dict.fromkeys(records, read)
        else:
            by_type = {}
            for _, policies in everyone:
                for record in {policy.record.name for policy in policies}:
                    by_type[record] = by_type.get(record, 0) + 1
        subject_count = len(everyone) - nobody
        labels = {policy: policy.label for policy in fields}  # once each, not per person
        pseudonyms: dict[str, frozenset[str]] = {}
        failure = None
        if config.pseudonymise is not None:
            failure = _pseudonymise(everyone, config.pseudonymise, labels, pseudonyms)
    finally:  # raw ids leave no trace in this frame, even if an interrupt unwinds it
        subject = ""
        merged.clear()
        everyone.clear()
    summary: dict[str, Any] = {
        "subject_counts": by_type,
        "subject_count": subject_count,
        "subjects": frozenset(pseudonyms),
        "reads": pseudonyms,
        "fields_read": frozenset(labels.values()),
    }
    if failure is not None:
        summary["pseudonym_failure"] = failure
    return summary


def _pseudonymise(
    people: Sequence[tuple[str, AbstractSet[FieldPolicy]]],
    pseudonymise: Callable[[str], str],
    labels: Mapping[FieldPolicy, str],
    into: dict[str, frozenset[str]],
) -> str | None:
    """Fill *into* with each person's pseudonym → the fields read from their records (as
    *labels* names them); on a failure, leave it empty and say what failed. *people* is a
    sequence: `_all_keyed` may look at it first. No raw id is
    left in this frame, nor, after an interrupt, in the frames below it.

    Per person: the pseudonymiser (~0.1 us for a `PseudonymKey` that made it lately), the
    check that it is no subject id (~0.8 us; skipped for a `PseudonymKey`'s own method,
    `keyed`, whose pseudonyms are made for everyone at once, `_all_keyed`) and the names of
    the fields (once per distinct set of fields)."""
    subject = ""
    name_of = labels.__getitem__
    direct = keyed(pseudonymise)
    check = direct is None
    named: dict[frozenset[FieldPolicy], frozenset[str]] = {}
    try:
        if direct is not None and _all_keyed(people, direct, labels, into):
            return None
        for subject, policies in people:
            if not subject:
                continue
            if direct is not None and type(subject) is str:
                pseudonym = direct(subject)  # the key's own cache: one call a person
            else:
                pseudonym = pseudonymise(subject)
            if not isinstance(pseudonym, str) or (check and is_subject(subject, pseudonym)):
                raise _LeakingPseudonymiser
            fields = frozenset(policies)
            names = named.get(fields)
            if names is None:
                names = named[fields] = frozenset(map(name_of, fields))
            earlier = into.get(pseudonym)  # two ids with one pseudonym: a pseudonymiser's own
            into[pseudonym] = names if earlier is None else earlier | names
    except _LeakingPseudonymiser:
        into.clear()
        return "it returned a subject id, or text holding one"
    except Exception as exc:
        into.clear()
        return type(exc).__name__
    except BaseException as exc:  # an interrupt: the frames it came through (the key's
        into.clear()  # HMAC, a pseudonymiser of the user's) keep no raw id for its traceback
        traceback.clear_frames(exc.__traceback__)
        raise
    finally:
        subject = ""
    return None


def _all_keyed(
    people: Sequence[tuple[str, AbstractSet[FieldPolicy]]],
    direct: Callable[[str], str],
    labels: Mapping[FieldPolicy, str],
    into: dict[str, frozenset[str]],
) -> bool:
    """`_pseudonymise` for a `PseudonymKey`'s pseudonyms, a step at a time for everyone,
    each step one call into C; False, with *into* left empty, where it cannot say: a
    subject id that is empty or not exactly a str, or two ids with one pseudonym (the loop
    merges their reads). *labels* names every field read in the part, so a person with as
    many fields read read them all: in a list view, everyone.

    Measured for 50 people (Python 3.11, a shared 2-core machine): ~7 us where everyone
    read every field, ~14 us person by person."""
    subjects: tuple[str, ...] = ()
    try:
        subjects, fields = zip(*people, strict=True) if people else ((), ())
        if "" in subjects or set(map(type, subjects)) - {str}:
            return False
        pseudonyms = list(map(direct, subjects))
        if set(map(len, fields)) <= {len(labels)}:  # everyone read every field read
            into.update(dict.fromkeys(pseudonyms, frozenset(labels.values())))
        else:
            sets = list(map(frozenset, fields))
            named = {each: frozenset(map(labels.__getitem__, each)) for each in set(sets)}
            into.update(zip(pseudonyms, map(named.__getitem__, sets), strict=True))
        if len(into) == len(pseudonyms):
            return True
        into.clear()
        return False
    finally:
        subjects = ()


def pseudonym_of(subject: str, config: Configuration) -> str | None:
    """The pseudonym of one person, for what names a single person in a report (the record
    handed over in a disclosure); None without a pseudonymiser or a subject id.

    The same check as `summarise`: a pseudonymiser that fails, or gives back the subject id
    (or text holding it), costs this one pseudonym, never the caller; the failure is logged
    and nothing of the id is kept or returned.
    """
    pseudonymise = config.pseudonymise
    if pseudonymise is None or not subject:
        return None
    into: dict[str, frozenset[str]] = {}
    person = [(subject, frozenset[Any]())]
    subject = ""
    try:
        failure = _pseudonymise(person, pseudonymise, {}, into)
    finally:
        person.clear()  # no raw id outlives the pseudonym, in this frame or a traceback's
    if failure is not None:
        _log.error(
            "purposeful: %s",
            AuditSinkError(
                f"the configured pseudonymiser failed ({failure}); a disclosure was recorded "
                f"without the pseudonym of the person whose record it was, so the audit "
                f"report cannot answer for them who it went to. Fix the pseudonymiser"
            ),
        )
        return None
    return next(iter(into), None)


def keyed(pseudonymise: Callable[[str], str]) -> Callable[[str], str] | None:
    """If *pseudonymise* is the method of a `PseudonymKey` (not a subclass's own), the
    key's cached HMAC of a str id, else None. Its pseudonyms, ``"<key id>:"`` and 32 hex
    digits of an HMAC of the id, hold no subject id unless the HMAC of an id were that id,
    so they need no check person by person."""
    keys = sys.modules.get("purposeful._shared.keys")  # not loaded: no key made one
    method = getattr(pseudonymise, "__func__", None)
    if keys is None or method is None or method is not keys.PseudonymKey.pseudonym:
        return None
    return pseudonymise.__self__._cache.lookup  # type: ignore[attr-defined,no-any-return]


# --- the flusher ------------------------------------------------------------------------------


class Flushable(Protocol):
    """Something the flusher looks at: an open scope, or a window of unscoped reads."""

    flush_seconds: float

    def tick(self, now: float, *, exiting: bool = False) -> bool:
        """Send what is due at monotonic time *now*; False once there is nothing more to
        look after. *exiting*: the interpreter is exiting, send everything."""
        ...

    def after_fork(self) -> None:
        """In a forked child: renew any lock another thread of the parent may have held."""
        ...


class _Flusher:
    """The daemon thread that keeps every open `Flushable` within its time bound.

    An item whose unsent reads it saw on one wake-up is sent once ``flush_seconds / 2``
    has passed since: with four wake-ups per ``flush_seconds``, no read waits longer than
    ``flush_seconds``.
    """

    def __init__(self) -> None:
        self.items: dict[int, Flushable] = {}
        self.wake = threading.Event()
        self.idle = False
        #: how long the thread sleeps between looks: a quarter of the shortest bound
        self.interval = float("inf")
        self.thread: threading.Thread | None = None
        self.starting = threading.Lock()
        #: the interpreter is exiting and the trail has sent what it held: anything read
        #: after (in a later exit handler) is sent at once
        self.exited = False

    def add(self, item: Flushable) -> None:
        self.items[id(item)] = item
        if self.thread is None:
            self._start()
        elif self.idle or item.flush_seconds / 4 < self.interval:
            self.wake.set()  # asleep for longer than this item may wait: look again

    def discard(self, item: Flushable) -> None:
        self.items.pop(id(item), None)

    def _start(self) -> None:
        with self.starting:
            if self.thread is not None:
                return
            thread = threading.Thread(target=self._run, name="purposeful-flusher", daemon=True)
            thread.start()
            self.thread = thread
            # At exit, send what is held before the sinks shut down: exit handlers run last
            # registered first, and a tracer provider or a ledger set up before the first
            # report registered theirs already.
            atexit.unregister(_at_exit)
            atexit.register(_at_exit)

    def _run(self) -> None:
        while True:
            items = list(self.items.values())
            if not items:
                self.idle = True
                if not self.items:
                    self.wake.wait()
                self.wake.clear()
                self.idle = False
                continue
            self.interval = min(item.flush_seconds for item in items) / 4
            if self.wake.wait(self.interval):  # an item with a shorter bound came
                self.wake.clear()
                continue
            self.tick(time.monotonic())

    def tick(self, now: float, *, exiting: bool = False, windows_only: bool = False) -> None:
        for item in list(self.items.values()):
            if windows_only and not isinstance(item, _Window):
                continue
            try:
                alive = item.tick(now, exiting=exiting)
            except Exception as exc:  # the flusher must outlive any one item
                _log.error("purposeful: sending a report part failed (%s)", type(exc).__name__)
                alive = True
            if not alive:
                self.discard(item)

    def exit(self) -> None:
        """Send now what every open item holds (at interpreter exit, or when asked)."""
        self.tick(time.monotonic(), exiting=True)


def _at_exit() -> None:
    flusher.exit()
    flusher.exited = True


flusher = _Flusher()
# Registered now, so that an exit handler registered before purposeful was imported, which
# runs after this one, finds `flusher.exited` set; and again when the flusher starts.
atexit.register(_at_exit)


def flush() -> None:
    """Send now every read not yet sent: the unsent reads of every open scope, as parts,
    and every open window of reads outside any scope. Sinks get the reports in this thread.

    The flusher thread does this within ``flush_seconds``, and at interpreter exit; call it
    when something must see the reads at once (a test asserting on a sink, a process about
    to be stopped with SIGKILL).
    """
    flusher.exit()


def send_windows() -> None:
    """Send every open window of reads outside any scope now (the testing captures)."""
    flusher.tick(time.monotonic(), exiting=True, windows_only=True)


# --- reads outside any scope ------------------------------------------------------------------

#: Open windows of unscoped reads: (thread, task, call site, configuration) → window.
_windows: dict[tuple[int, int, int, int, int], _Window] = {}
_windows_lock = threading.Lock()


class _Window:
    """Monitor mode's reads outside any scope, from one thread or task and one call site,
    for up to ``flush_seconds``: one report (in parts if it holds more than ``flush_reads``
    new reads) whose counts say how many reads each decision stands for."""

    def __init__(self, key: tuple[int, int, int, int, int], site: CallSite, config: Configuration):
        self.key = key
        self.site = site
        self.config = config
        self.flush_seconds = config.flush_seconds
        self.id = new_id()
        self.part = 0
        self.opened_at = datetime.now(UTC)
        self.started = time.monotonic()
        self.context = contextvars.copy_context()
        #: per field: the decision and the reads not yet sent
        self.decisions: dict[FieldPolicy, list[Any]] = {}
        #: subject id → fields read and not yet sent
        self.people: dict[str, set[FieldPolicy]] = {}
        self.new = 0  # new (person, field) pairs since the last part
        self.closed = False

    def note(self, policy: FieldPolicy, decision: Decision, subject: str) -> None:
        entry = self.decisions.get(policy)
        if entry is None:
            self.decisions[policy] = [decision, 1]
        else:
            entry[1] += 1
        fields = self.people.get(subject)
        if fields is None:
            fields = self.people[subject] = set()
        if policy not in fields:
            fields.add(policy)
            self.new += 1

    def take(self, final: bool) -> _Unsent | None:
        """What is unsent, as the next part (called under `_windows_lock`), or None if
        nothing is and the window goes on."""
        if not self.decisions and not final:
            return None
        unsent = _Unsent(
            [(decision, count) for decision, count in self.decisions.values() if count],
            list(self.people.items()),
            self.part,
            final,
        )
        self.decisions.clear()
        self.people.clear()
        self.new = 0
        self.part += 1
        return unsent

    def send(self, unsent: _Unsent) -> None:
        """Make the part's report and send it: outside `_windows_lock`, since a
        pseudonymiser or a sink may read a managed field, which counts in a window."""
        try:
            summary = summarise(unsent.people, self.config)
        finally:
            unsent.people.clear()  # no raw id outlives the summary
        failure = summary.pop("pseudonym_failure", None)
        report = ScopeReport(
            None,
            None,
            self.opened_at,
            datetime.now(UTC),
            tuple(decision for decision, _ in unsent.decisions),
            scope_id=self.id,
            part=unsent.part,
            final=unsent.final,
            counts=tuple(count for _, count in unsent.decisions),
            site=self.site,
            **summary,
        )
        if failure is not None:
            _log.error("purposeful: %s", pseudonym_error(failure))
        try:
            call_in(self.context, lambda: emit(report, self.config))
        except AuditSinkError as sink_error:  # monitor mode must not break the legacy path
            _log.error("purposeful: %s", sink_error)

    def after_fork(self) -> None:
        """Windows stay with the parent, which sends them (`_after_fork`)."""

    def tick(self, now: float, *, exiting: bool = False) -> bool:
        if not exiting and now - self.started < self.flush_seconds / 2:
            return True
        with _windows_lock:
            if self.closed:  # another thread ended it first
                return False
            self.closed = True
            if _windows.get(self.key) is self:
                del _windows[self.key]
            unsent = self.take(final=True)
        if unsent is not None:
            self.send(unsent)
        return False


@attrs.define
class _Unsent:
    """A window's part, taken under the lock, to be summarised and sent outside it."""

    decisions: list[tuple[Decision, int]]
    people: list[tuple[str, set[FieldPolicy]]]
    part: int
    final: bool


def read_unscoped(
    policy: FieldPolicy, obj: object, caller: FrameType, *, closed: bool = False
) -> Any:
    """A read with no scope covering it, or only a *closed* one (carried, or closed under
    it), made by the code in *caller*: refused, or let through and counted as a would-deny
    in monitor mode (aggregated per thread or task, call site and window: `note_unscoped`)."""
    reason = Reason.SCOPE_CLOSED if closed else Reason.NO_SCOPE
    config = get_configuration()
    mode = config.mode_for(None, policy.record.cls)
    if mode is Mode.MONITOR and reason is Reason.NO_SCOPE:
        decision = policy.decision(Outcome.WOULD_DENY, None, None, None, (reason,))
        note_unscoped(policy, decision, policy.record.subject_of(obj), caller, config)
        return policy._raw(obj)
    refusal = NoPurposeScope(policy.decision(Outcome.DENIED, None, None, None, (reason,)))
    now = datetime.now(UTC)
    report = ScopeReport(None, None, now, now, (refusal.decision,), scope_id=new_id())
    try:
        emit(report, config)
    except AuditSinkError as sink_error:
        refusal.add_note(f"purposeful: {sink_error}")
    raise refusal


def note_unscoped(
    policy: FieldPolicy,
    decision: Decision,
    subject: str,
    caller: FrameType,
    config: Configuration,
) -> None:
    """Count a would-deny read outside any scope in its window (opened here if need be);
    send a part at once if the window holds ``flush_reads`` new reads."""
    if not has_receivers(config):
        return
    code = caller.f_code
    key = (threading.get_ident(), _task_id(), id(code), caller.f_lineno, id(config))
    unsent = None
    with _windows_lock:
        window = _windows.get(key)
        fresh = window is None
        if window is None:
            site = CallSite(code.co_filename, _function_name(code), caller.f_lineno)
            window = _windows[key] = _Window(key, site, config)
        window.note(policy, decision, subject)
        if window.new >= config.flush_reads:
            unsent = window.take(final=False)
    subject = ""
    if flusher.exited:  # read by an exit handler after the trail's own: send it now
        window.tick(0.0, exiting=True)
    elif fresh:
        flusher.add(window)
    if unsent is not None:
        window.send(unsent)


#: Comprehensions run as functions of their own before Python 3.12 (PEP 709 inlines them):
#: named as their enclosing function, a call site is the same on every version.
_COMPREHENSIONS = (".<locals>.<listcomp>", ".<locals>.<dictcomp>", ".<locals>.<setcomp>")


def _function_name(code: Any) -> str:
    name: str = code.co_qualname
    for suffix in _COMPREHENSIONS:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def end_windows_here() -> None:
    """Send the open windows of this thread or task: a scope is opening, and what was read
    before it is reported before it."""
    here = (threading.get_ident(), _task_id())
    with _windows_lock:
        mine = [window for key, window in _windows.items() if key[:2] == here]
    for window in mine:
        flusher.discard(window)
        window.tick(0.0, exiting=True)


def _task_id() -> int:
    """The running asyncio task's id, or 0 (without importing asyncio)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return 0
    loop = asyncio._get_running_loop()  # None outside a loop: no exception to raise and catch
    return 0 if loop is None else id(asyncio.current_task(loop))


# --- processes ------------------------------------------------------------------------------


def _after_fork() -> None:
    """In a forked child: new ids and locks, and a flusher thread of its own (started when
    needed) for the scopes it goes on with; the parent's windows stay the parent's."""
    global _prefix, _counter, _windows_lock
    _prefix = secrets.token_hex(8)
    _counter = itertools.count()
    scopes = [item for item in flusher.items.values() if not isinstance(item, _Window)]
    flusher.__init__()  # type: ignore[misc]
    _windows.clear()
    _windows_lock = threading.Lock()
    for scope in scopes:
        scope.after_fork()
        flusher.items[id(scope)] = scope


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def call_in(context: contextvars.Context | None, fn: Callable[[], None]) -> None:
    """Run *fn* in a copy of *context*: the flusher sends a scope's parts from the scope's
    own context, and a copy can be entered by two threads at once."""
    if context is None:
        fn()
    else:
        context.copy().run(fn)
