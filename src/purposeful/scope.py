"""Purpose scopes: ``with use(purpose, actor=...)`` says why the code inside reads data.

A scope lives in two context variables, so asyncio tasks inherit it and threads do not
(`carry_scope` carries it into an executor on purpose). Inside a scope each managed field is
decided once, on its first read; the decision is cached in the scope, and later reads of the
same field are one context-variable get and one set membership test (see `records`).

Nested scopes: the inner scope replaces the outer one until it closes, then the outer one
is back, with its own cached decisions. The inner scope does not inherit the outer purpose:
code that asks for a narrower or different purpose gets exactly that.

Each scope hands one `ScopeReport` to the configured sinks when it closes. This module
decides and records; it never formats spans or writes files.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
import warnings
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

from . import _guard
from ._config import Configuration, get_configuration, is_subject
from ._guard import NO_FAST, NO_HIT
from ._guard import orphans as _orphans
from .actors import Actor
from .decisions import ConsentStatus, Decision, Mode, Outcome, Reason, ScopeReport
from .errors import (
    AuditSinkError,
    ConfigurationError,
    NoPurposeScope,
    PurposeViolation,
    ScopeOrderWarning,
)
from .purposes import Purpose
from .typing import AuditSink, ConsentChecker

if TYPE_CHECKING:
    from .records import FieldPolicy, RecordPolicy

__all__ = ["Scope", "carry_scope", "current_scope", "use"]

_log = logging.getLogger("purposeful")

P = ParamSpec("P")
R = TypeVar("R")

_scope_var = _guard.scope_var
_fast_var = _guard.fast_var


def current_scope() -> Scope | None:
    """The scope that covers the code running here, or None.

    A scope opened inside a generator that is being iterated covers the generator's own
    code, not its consumer's between iterations.
    """
    return _guard.effective_scope()


class Scope:
    """One open purpose scope: its purpose, actor, and the decisions made so far.

    Get it from ``with use(...) as scope``. Its state is private to the library; read it
    through `purpose`, `actor`, `opened_at` and `decisions`.
    """

    __slots__ = (
        "_allowed",
        "_closed",
        "_config",
        "_consent",
        "_consents",
        "_decided",
        "_disclosures",
        "_frame",
        "_generators",
        "_hits",
        "_log",
        "_opener",
        "_outer",
        "_pseudonym_failure",
        "_subjects",
        "_within",
        "actor",
        "opened_at",
        "purpose",
    )

    def __init__(
        self,
        purpose: Purpose,
        actor: Actor,
        consent: ConsentChecker | None,
        *,
        opener: object = None,
        outer: Scope | None = None,
        frame: FrameType | None = None,
        config: Configuration | None = None,
        within: Scope | None = None,
    ) -> None:
        self.purpose = purpose
        self.actor = actor
        self._opener = opener
        self._outer = outer
        #: the frame of the iterated generator that opened the scope, else None
        self._frame = frame
        #: the scope that covered the code that opened this one (`_guard.within`)
        self._within = within
        #: whether this scope or one it is nested in was opened in an iterated generator
        self._generators: bool = frame is not None or (outer is not None and outer._generators)
        self._config = config if config is not None else get_configuration()
        self.opened_at = datetime.now(UTC)
        self._consent = consent
        #: per record class, the fields allowed (or would-deny) in this scope: the hot path
        #: reads the set of the class of the record it last decided
        self._allowed: dict[type, set[object]] = {}
        self._decided: dict[object, Decision] = {}
        self._consents: dict[str, tuple[tuple[Reason, ...], ConsentStatus | None]] = {}
        self._hits: set[FieldPolicy] = set()
        self._subjects: dict[str, set[str]] = {}
        self._log: list[Decision] = []
        self._disclosures: list[Mapping[str, Any]] = []
        self._closed = False
        self._pseudonym_failure: str | None = None

    @property
    def decisions(self) -> tuple[Decision, ...]:
        """The distinct decisions made so far, in order."""
        return tuple(self._log)

    @property
    def closed(self) -> bool:
        return self._closed

    def read(self, policy: FieldPolicy, obj: object) -> Any:
        """Decide a read of *policy*'s field on *obj* (the slow path) and return the value."""
        decision = self.decide(policy, obj)
        if decision.outcome is Outcome.ALLOWED or decision.outcome is Outcome.WOULD_DENY:
            self.note_subject(policy.record, obj)
            if not (self._generators or _orphans) and _scope_var.get() is self:
                allowed = self._allowed.get(type(obj))
                _fast_var.set((self._allowed_for(obj) if allowed is None else allowed, obj))
            return policy._raw(obj)
        raise PurposeViolation(decision)

    def note_subject(self, record: RecordPolicy, obj: object) -> None:
        """Note whose record *obj* is: its data was handed out in this scope."""
        subjects = self._subjects.get(record.name)
        if subjects is None:
            subjects = self._subjects[record.name] = set()
        subjects.add(record.subject_of(obj))

    def note_disclosure(self, attributes: Mapping[str, Any]) -> None:
        """Note a disclosure made in this scope (`purposeful.disclose`): ids, names and
        codes only, never values; it goes out with the scope's report."""
        self._disclosures.append(dict(attributes))

    def decide(
        self, policy: FieldPolicy, obj: object, *, refusal: Outcome | None = None
    ) -> Decision:
        """The decision for *policy*'s field on *obj*, made once and cached in this scope.

        A decision that does not depend on the subject is cached per field, and an allowed
        or would-deny one joins the hot path's set. One that needs consent is cached per
        field and subject; consent is asked once per subject per scope, and the record just
        decided becomes the field's hit, so reading it again stays on the fast path.

        Args:
            refusal: the outcome of a refusal; default: denied or would-deny, by mode. A
                `Outcome.WITHHELD` refusal (a projection) is cached apart, so a later direct
                read of the field is still decided as a read.
        """
        cached = self._decided.get(policy)
        if cached is not None:
            return cached
        reasons, basis, needs_consent = policy.check(self.purpose, self.actor)
        key: object = policy
        consent: ConsentStatus | None = None
        if needs_consent:
            subject = policy.record.subject_of(obj)
            key = (policy, subject)
            cached = self._decided.get(key)
            if cached is not None:
                self._hit(policy, obj, cached)
                return cached
            consent_reasons, consent = self._consent_of(subject)
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
        self._log.append(decision)
        self._decided[key] = decision
        if needs_consent:
            self._hit(policy, obj, decision)
        elif outcome is Outcome.ALLOWED or outcome is Outcome.WOULD_DENY:
            self._allowed_for(obj).add(policy)
        return decision

    def _allowed_for(self, obj: object) -> set[object]:
        allowed = self._allowed.get(type(obj))
        if allowed is None:
            allowed = self._allowed[type(obj)] = set()
        return allowed

    def _hit(self, policy: FieldPolicy, obj: object, decision: Decision) -> None:
        """Make *obj* the field's last consented instance for this scope's fast path (never
        for a scope a generator's consumer shares: see `read`)."""
        if self._generators or _orphans:
            return
        if decision.outcome is Outcome.ALLOWED or decision.outcome is Outcome.WOULD_DENY:
            policy.hit[0] = (self._allowed_for(obj), obj)
            self._hits.add(policy)

    def _consent_of(self, subject: str) -> tuple[tuple[Reason, ...], ConsentStatus | None]:
        """Ask the consent checker about *subject* once per scope, as of the scope's opening."""
        found = self._consents.get(subject)
        if found is not None:
            return found
        checker = self._consent if self._consent is not None else self._config.consent
        if checker is None:
            found = ((Reason.NO_CONSENT_CHECKER,), None)
        elif not subject:  # a record without a subject id has no one to have consented
            found = ((Reason.CONSENT_NOT_HELD,), None)
        else:
            found = self._ask(checker, subject)
        self._consents[subject] = found
        return found

    def _ask(
        self, checker: ConsentChecker, subject: str
    ) -> tuple[tuple[Reason, ...], ConsentStatus | None]:
        """The checker's answer; a checker that fails is a refusal, logged without the subject."""
        try:
            status_of = getattr(checker, "consent_status", None)
            if status_of is not None:
                status = status_of(subject, self.purpose, self.opened_at)
                if not isinstance(status, ConsentStatus):
                    raise ConfigurationError(
                        f"{type(checker).__name__}.consent_status must return a "
                        f"purposeful.ConsentStatus, not {type(status).__name__}"
                    )
                return ((() if status.in_force else (Reason.CONSENT_NOT_HELD,)), status)
            # a yes/no checker: anything but True (a truthy string, None) fails closed
            in_force = checker.consent_in_force(subject, self.purpose, self.opened_at)
            return ((() if in_force is True else (Reason.CONSENT_NOT_HELD,)), None)
        except ConfigurationError:
            raise
        except Exception as exc:
            _log.error(
                "purposeful: the consent checker %s failed (%s) under %r; the read is refused",
                type(checker).__name__,
                type(exc).__name__,
                self.purpose.id,
            )
            return ((Reason.CONSENT_CHECK_FAILED,), None)

    def _close(self, failed: bool) -> ScopeReport:
        """Close the scope and forget every raw subject id and record it held."""
        self._closed = True
        for policy in self._hits:
            if any(policy.hit[0][0] is allowed for allowed in self._allowed.values()):
                policy.hit[0] = NO_HIT
        for allowed in self._allowed.values():
            allowed.clear()
        self._allowed.clear()
        self._hits.clear()
        self._consents.clear()
        self._decided.clear()  # keys of consent decisions hold subject ids
        subjects = _subject_summary(self._subjects, self._config)
        self._subjects.clear()
        self._pseudonym_failure = subjects.pop("pseudonym_failure", None)
        return ScopeReport(
            purpose=self.purpose,
            actor=self.actor,
            opened_at=self.opened_at,
            closed_at=datetime.now(UTC),
            decisions=tuple(self._log),
            failed=failed,
            mode=self._config.mode_for(self.purpose, object),
            disclosures=tuple(self._disclosures),
            **subjects,
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"<Scope {self.purpose.id!r} actor={self.actor.id!r} role={self.actor.role!r} "
            f"{state}, {len(self._log)} decisions>"
        )


#: Sinks that take every report whatever the configuration says: `purposeful.testing`'s
#: captures, which must see decisions even when the code under test configures its own sinks.
_taps: list[AuditSink] = []


def add_tap(sink: AuditSink) -> None:
    """Send every scope report to *sink* too, until `remove_tap`."""
    _taps.append(sink)


def remove_tap(sink: AuditSink) -> None:
    """Stop sending reports to *sink*; a sink not tapped is ignored."""
    if sink in _taps:
        _taps.remove(sink)


def _subject_summary(subjects: dict[str, set[str]], config: Configuration) -> dict[str, Any]:
    """The report's subject fields: per record type how many people, how many in all, and
    their pseudonyms if a pseudonymiser is configured. Raw subject ids stop here.

    A pseudonymiser that fails costs the report its pseudonyms, never the report: the
    failure is named in ``pseudonym_failure`` for the caller to raise after emitting.
    """
    everyone: set[str] = set().union(*subjects.values()) if subjects else set()
    everyone.discard("")
    pseudonymise = config.pseudonymise
    pseudonyms: frozenset[str] = frozenset()
    failure = None
    if pseudonymise is not None:
        try:
            pseudonyms = frozenset(_pseudonyms(pseudonymise, everyone))
        except _LeakingPseudonymiser:
            failure = "it returned a subject id, or text holding one"
        except Exception as exc:
            failure = type(exc).__name__
        except BaseException:
            everyone.clear()  # an interrupt: no raw id stays in this frame
            for ids in subjects.values():
                ids.clear()
            raise
    summary = {
        "subject_counts": {record_type: len(ids) for record_type, ids in subjects.items()},
        "subject_count": len(everyone),
        "subjects": pseudonyms,
    }
    everyone.clear()  # no raw id outlives the summary, in this frame or a traceback's
    if failure is not None:
        summary["pseudonym_failure"] = failure
    return summary


class _LeakingPseudonymiser(Exception):
    """The pseudonymiser handed back a subject id, or text containing one."""


def _pseudonyms(pseudonymise: Any, subjects: set[str]) -> list[str]:
    """Each subject's pseudonym; refuses any result that is not text or that holds the id."""
    found = []
    subject = ""
    try:
        for subject in subjects:
            pseudonym = pseudonymise(subject)
            if not isinstance(pseudonym, str) or is_subject(subject, pseudonym):
                raise _LeakingPseudonymiser
            found.append(pseudonym)
    finally:
        subject = ""  # no raw id in this frame if the pseudonymiser raised
    return found


def _pseudonym_error(failure: str) -> AuditSinkError:
    return AuditSinkError(
        f"the configured pseudonymiser failed ({failure}); the scope's report was sent "
        f"with its subject counts but without pseudonyms. Fix the pseudonymiser"
    )


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


def read_unscoped(policy: FieldPolicy, obj: object, *, closed: bool = False) -> Any:
    """A read with no scope covering it, or only a *closed* one (carried, or closed under
    it): refused, or let through and recorded as a would-deny in monitor mode."""
    reason = Reason.SCOPE_CLOSED if closed else Reason.NO_SCOPE
    config = get_configuration()
    mode = config.mode_for(None, policy.record.cls)
    if mode is Mode.MONITOR and reason is Reason.NO_SCOPE:
        decision = policy.decision(Outcome.WOULD_DENY, None, None, None, (reason,))
        subjects = {policy.record.name: {policy.record.subject_of(obj)}}
        try:
            _emit_alone(decision, subjects)
        except AuditSinkError as sink_error:  # monitor mode must not break the legacy path
            _log.error("purposeful: %s", sink_error)
        del subjects
        return policy._raw(obj)
    refusal = NoPurposeScope(policy.decision(Outcome.DENIED, None, None, None, (reason,)))
    try:
        _emit_alone(refusal.decision)
    except AuditSinkError as sink_error:
        refusal.add_note(f"purposeful: {sink_error}")
    raise refusal


def _emit_alone(decision: Decision, subjects: dict[str, set[str]] | None = None) -> None:
    """Report a decision made outside any open scope, as a report of its own."""
    now = datetime.now(UTC)
    config = get_configuration()
    summary = _subject_summary(subjects or {}, config)
    failure = summary.pop("pseudonym_failure", None)
    emit(ScopeReport(None, None, now, now, (decision,), **summary), config)
    if failure is not None:
        raise _pseudonym_error(failure)


class use:
    """Open a purpose scope: a context manager, an async context manager and a decorator.

    Args:
        purpose: a `Purpose` or its id, resolved against the configured registry when the
            scope opens.
        actor: who is acting.
        consent: a consent checker for this scope only, overriding the configured one.

    Raises:
        UnknownPurpose: the purpose is not in the configured registry, when `use` is called
            (so a misspelt purpose in a decorator fails at import) and again on entering, in
            case the registry changed since.
        ConfigurationError: *actor* is not an `Actor`.
        AuditSinkError: a sink failed when the scope closed. If the block itself raised, its
            exception propagates instead, with a note about the sink failure.

    As a decorator it opens a fresh scope for each call of the function (sync or async).
    One instance may be entered by several tasks or threads at once (each gets its own
    scope), and again once exited; each task exits the scopes it entered, innermost first.
    """

    __slots__ = ("_actor", "_consent", "_open", "_purpose")

    def __init__(
        self,
        purpose: Purpose | str,
        *,
        actor: Actor,
        consent: ConsentChecker | None = None,
    ) -> None:
        if not isinstance(actor, Actor):
            raise ConfigurationError(
                f"use(..., actor=) takes a purposeful.Actor, not {type(actor).__name__}"
            )
        get_configuration().registry.resolve(purpose)
        if consent is not None and not isinstance(consent, ConsentChecker):
            raise ConfigurationError(
                f"use(..., consent=) takes a consent checker with a "
                f"consent_in_force(subject, purpose, at) method, not {type(consent).__name__}"
            )
        self._purpose = purpose
        self._actor = actor
        self._consent = consent
        self._open: list[Scope] = []  # scopes entered and not yet exited, in any context

    def __enter__(self) -> Scope:
        return self._enter(sys._getframe(1))

    def _enter(self, frame: FrameType) -> Scope:
        config = get_configuration()
        purpose = config.registry.resolve(self._purpose)
        generator = _guard.iterated_generator_frame(frame)
        scope = Scope(
            purpose,
            self._actor,
            self._consent,
            opener=self,
            outer=_scope_var.get(),
            frame=generator,
            config=config,
            within=_guard.effective_scope(),
        )
        _scope_var.set(scope)
        # a generator's scope is never read fast: its consumer shares the context
        _fast_var.set(NO_FAST)
        self._open.append(scope)
        return scope

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        closed = self._close_mine(failed=exc_type is not None)
        try:
            for scope, report in closed:
                try:
                    emit(report, scope._config)
                    if scope._pseudonym_failure is not None:
                        raise _pseudonym_error(scope._pseudonym_failure)
                except AuditSinkError as sink_error:
                    if exc is None:
                        raise
                    exc.add_note(f"purposeful: {sink_error}")
        finally:
            if len(closed) > 1:
                warnings.warn(
                    f"purposeful: {len(closed) - 1} scope(s) opened inside "
                    f"use({closed[-1][0].purpose.id!r}) were still open when it exited (an "
                    f"abandoned generator?); they were closed and reported as failed",
                    ScopeOrderWarning,
                    stacklevel=2,
                )

    def _close_mine(self, failed: bool) -> list[tuple[Scope, ScopeReport]]:
        """Close the scope this `use` opened here, whatever order things unwind in.

        The scope to close is this context's innermost one of this `use`, not state kept on
        the `use` object: one module-level `use` may be entered by several tasks or threads
        at once. Scopes opened inside it and never exited (an abandoned generator's) are
        closed with it, as failed. A scope exited in another context than it was entered in
        (a generator finalised elsewhere) is closed there and leaves this context alone.
        """
        chain: list[Scope] = []
        scope = _scope_var.get()
        while scope is not None and not (scope._opener is self and not scope._closed):
            chain.append(scope)
            scope = scope._outer
        closing: list[tuple[Scope, bool]]
        if scope is not None:
            # Scopes above this one were opened inside it and left open (an abandoned
            # generator's), or, when this is a generator's scope, by its consumer, who
            # resumed the generator from inside them: those stay open, linked past it.
            consumers = [
                inner for inner in chain if not inner._closed and not _guard.within(inner, scope)
            ]
            closing = [(inner, True) for inner in chain if not inner._closed]
            closing = [(inner, f) for inner, f in closing if inner not in consumers]
            closing.append((scope, failed))
            if consumers:
                for inner, outer_of in zip(consumers, [*consumers[1:], None], strict=True):
                    inner._outer = outer_of if outer_of is not None else scope._outer
                _scope_var.set(consumers[0])
            else:
                _scope_var.set(scope._outer)
            _fast_var.set(NO_FAST)
        else:
            for key, orphan in list(_guard.orphans.items()):
                if orphan._opener is self and orphan._frame is _guard.owner_frame(sys._getframe(2)):
                    del _guard.orphans[key]  # its generator's block is over at last
                    return []
            mine = [s for s in self._open if not s._closed]
            frame = sys._getframe(2)
            scope = next((s for s in reversed(mine) if s._frame is frame), None)
            if scope is None and not mine:
                return []
            closing = [(scope if scope is not None else mine[-1], failed)]
        reports = []
        for inner, inner_failed in closing:
            if inner in self._open:
                self._open.remove(inner)
            if inner is not scope and inner._frame is not None:
                _guard.orphans[id(inner._frame)] = inner  # its generator may yet resume
            reports.append((inner, inner._close(failed=inner_failed)))
        return reports

    async def __aenter__(self) -> Scope:
        return self._enter(sys._getframe(1))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    @overload
    def __call__(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]: ...
    @overload
    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]: ...
    def __call__(self, fn: Callable[P, Any]) -> Callable[P, Any]:
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            raise ConfigurationError(
                f"use(...) cannot decorate the generator {fn.__qualname__}: its body runs after "
                f"the call returns, outside the scope. Open the scope inside the generator, "
                f"or around the loop that consumes it"
            )
        purpose, actor, consent = self._purpose, self._actor, self._consent
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                async with use(purpose, actor=actor, consent=consent):
                    return await fn(*args, **kwargs)

            return run_async

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> Any:
            with use(purpose, actor=actor, consent=consent):
                return fn(*args, **kwargs)

        return run


def carry_scope(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap *fn* so it runs in the scope that is current now, on whatever thread calls it.

    Threads do not inherit a scope silently. Hand work to an executor like this::

        with purposeful.use("service-delivery.case-management", actor=me):
            future = pool.submit(purposeful.carry_scope(summarise), client)

    The worker shares the scope: its decisions join the scope's report. A read after the
    scope has closed is refused with `NoPurposeScope` (reason ``scope-closed``).
    ``asyncio.to_thread`` already copies the context, so it needs no wrapper.
    """
    scope = _guard.effective_scope()
    fast = NO_FAST

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        scope_token = _scope_var.set(scope)
        fast_token = _fast_var.set(fast)
        try:
            return fn(*args, **kwargs)
        finally:
            _fast_var.reset(fast_token)
            _scope_var.reset(scope_token)

    return run
