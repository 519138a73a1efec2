"""Purpose scopes: ``with use(purpose, actor=...)`` says why the code inside reads data.

A scope lives in two context variables, so asyncio tasks inherit it and threads do not
(`carry_scope` carries it into an executor on purpose). Inside a scope each managed field is
decided once, on its first read; the decision is cached in the scope, and later reads of the
same field are one context-variable get and one set membership test (see `_guard`).

Nested scopes: the inner scope replaces the outer one until it closes, then the outer one
is back, with its own cached decisions. The inner scope does not inherit the outer purpose:
code that asks for a narrower or different purpose gets exactly that.

This module opens and closes scopes (`use`, whatever order a framework, a generator or an
exit stack unwinds them in) and carries one into a thread (`carry_scope`); the scope object
itself, its decisions, notes and report parts, is `purposeful._scope.Scope`.
"""

from __future__ import annotations

import functools
import inspect
import sys
import warnings
from collections.abc import Awaitable, Callable
from inspect import CO_ASYNC_GENERATOR, CO_GENERATOR
from types import FrameType, TracebackType
from typing import Any, ParamSpec, TypeVar, overload

from . import _guard, _kinds, _refusals, _trail
from ._config import get_configuration
from ._guard import NO_FAST
from ._scope import Scope
from ._trail import add_tap, emit, remove_tap
from .actors import Actor
from .decisions import ScopeReport, Upstream, check_justification
from .errors import AuditSinkError, ConfigurationError, ScopeOrderWarning
from .purposes import Purpose
from .typing import ConsentChecker

__all__ = ["Scope", "add_tap", "carry_scope", "current_scope", "remove_tap", "use"]

P = ParamSpec("P")
R = TypeVar("R")

_scope_var = _guard.scope_var
_fast_var = _guard.fast_var
_GENERATOR_FLAGS = CO_GENERATOR | CO_ASYNC_GENERATOR


def current_scope() -> Scope | None:
    """The scope that covers the code running here, or None.

    A scope opened inside a generator that is being iterated covers the generator's own
    code, not its consumer's between iterations.
    """
    return _guard.effective_scope()


class use:
    """Open a purpose scope: a context manager, an async context manager and a decorator.

    Args:
        purpose: a `Purpose` or its id, resolved against the configured registry when the
            scope opens.
        actor: who is acting.
        consent: a consent checker for this scope only, overriding the configured one.
        upstream: the scope in another service that this one works for (`Upstream`), as a
            verified purpose claim names it; the web middleware sets it for you. It reaches
            the scope's report, span and ledger line.
        justification: a reference to where the agency recorded why it believes, on
            reasonable grounds, that the use is needed (``"REF-123"``): the uses that rest on
            the serious-threat exception or on a statute that needs such a belief (Oranga
            Tamariki Act 1989 s 66C, Family Violence Act 2018 s 20) are refused without
            one. It reaches the scope's report and span (``purposeful.justification``); a
            reference, never the reasons themselves.

    Raises:
        UnknownPurpose: the purpose is not in the configured registry, when `use` is called
            (so a misspelt purpose in a decorator fails at import) and again on entering, in
            case the registry changed since.
        ConfigurationError: *actor* is not an `Actor`, or *justification* is not a short
            reference (free text, spaces, over 64 characters).
        AuditSinkError: a sink failed when the scope closed. If the block itself raised, its
            exception propagates instead, with a note about the sink failure.

    As a decorator it opens a fresh scope for each call of the function (sync or async).
    One instance may be entered by several tasks or threads at once (each gets its own
    scope), and again once exited; each task exits the scopes it entered, innermost first.
    """

    __slots__ = (
        "_actor",
        "_consent",
        "_justification",
        "_open",
        "_purpose",
        "_resolved",
        "_upstream",
    )

    def __init__(
        self,
        purpose: Purpose | str,
        *,
        actor: Actor,
        consent: ConsentChecker | None = None,
        upstream: Upstream | None = None,
        justification: str | None = None,
    ) -> None:
        if not isinstance(actor, Actor):
            raise ConfigurationError(
                f"use(..., actor=) takes a purposeful.Actor, not {type(actor).__name__}"
            )
        registry = get_configuration().registry
        #: (registry, the purpose resolved against it): registries are immutable, so entering
        #: under the same one needs no new resolution
        self._resolved = (registry, registry.resolve(purpose))
        if consent is not None and not isinstance(consent, ConsentChecker):
            raise ConfigurationError(
                f"use(..., consent=) takes a consent checker with a "
                f"consent_in_force(subject, purpose, at) method, not {type(consent).__name__}"
            )
        if upstream is not None and not isinstance(upstream, Upstream):
            raise ConfigurationError(
                f"use(..., upstream=) takes a purposeful.Upstream, not {type(upstream).__name__}"
            )
        self._purpose = purpose
        self._actor = actor
        self._consent = consent
        self._upstream = upstream
        self._justification = None if justification is None else check_justification(justification)
        self._open: list[Scope] = []  # scopes entered and not yet exited, in any context

    def __enter__(self) -> Scope:
        return self._enter(sys._getframe(1))

    def _enter(self, frame: FrameType) -> Scope:
        if _trail._windows:
            _trail.end_windows_here()
        if _kinds.sqlalchemy_unwatched and "sqlalchemy.orm" in sys.modules:
            _kinds.watch_mapped_classes()  # SQLAlchemy came in unseen by the import hook
        config = get_configuration()
        registry, purpose = self._resolved
        if registry is not config.registry:
            purpose = config.registry.resolve(self._purpose)
            self._resolved = (config.registry, purpose)
        code = frame.f_code
        if code.co_flags & _GENERATOR_FLAGS or id(code) in _guard.passthrough:
            generator = _guard.iterated_generator_frame(frame)
        else:  # the usual case, answered without a call
            generator = None
        outer = _scope_var.get()
        if _guard.orphans or (outer is not None and outer._generators):
            within = _guard.effective_scope()
        else:  # `effective_scope`'s own first answer
            within = outer
        scope = Scope(  # by position: keywords cost a request about 0.2 µs here
            purpose,
            self._actor,
            self._consent,
            self,  # opener
            outer,
            generator,  # frame
            config,
            within,
            self._upstream,
            self._justification,
        )
        if scope._sending:
            scope.opened()
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
        if exc is None and len(closed) == 1:  # the usual exit: one scope, nothing raised
            scope, report = closed[0]
            if report is None and scope._refused is None and not scope._failures:
                if _scope_var.get() is None:  # see below
                    _refusals.refusal_var.set(None)
                return
        # a refusal that pydantic-core wrapped (a serialiser's, a from_attributes read's),
        # found before a failing sink can end this method early
        mine = [scope for scope, _ in closed]
        refusal = _refusals.refusal_behind(exc, mine) if exc is not None else None
        # attrs' asdict (and the like) holds what it read: in the refusals that leave, those
        # behind another error, and those the scopes noted (whatever error leaves instead)
        noted = [scope._refused for scope in mine if scope._refused is not None]
        if exc is not None or noted:  # not on every exit: a scope that read freely skips it
            _refusals.clear_refusals_frames(exc, refusal, *noted)
        for scope in mine:
            scope._refused = None  # its traceback holds the frames that read: let it go
        if _scope_var.get() is None:
            # past the outermost scope nothing unwraps it: its traceback holds the frames
            # that read, records and values among their locals, which must not outlive it
            _refusals.refusal_var.set(None)
        try:
            for scope, report in closed:
                try:
                    if report is not None:
                        emit(report, scope._config)
                except AuditSinkError as sink_error:
                    scope._failures.append(sink_error)
                if not scope._failures:
                    continue
                first = scope._failures[0]
                if len(scope._failures) > 1:
                    first.add_note(
                        f"purposeful: {len(scope._failures) - 1} more part(s) of the scope's "
                        f"report also failed to reach every sink or to be pseudonymised"
                    )
                if exc is None:
                    raise first
                (refusal if refusal is not None else exc).add_note(f"purposeful: {first}")
        finally:
            if len(closed) > 1:
                warnings.warn(
                    f"purposeful: {len(closed) - 1} scope(s) opened inside "
                    f"use({closed[-1][0].purpose.id!r}) were still open when it exited (an "
                    f"abandoned generator?); they were closed and reported as failed",
                    ScopeOrderWarning,
                    stacklevel=2,
                )
        if refusal is not None:
            raise refusal from None

    def _close_mine(self, failed: bool) -> list[tuple[Scope, ScopeReport | None]]:
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
            if chain:
                consumers = [
                    inner
                    for inner in chain
                    if not inner._closed and not _guard.within(inner, scope)
                ]
                closing = [(inner, True) for inner in chain if not inner._closed]
                closing = [(inner, f) for inner, f in closing if inner not in consumers]
                closing.append((scope, failed))
            else:  # the usual case: this context's innermost scope is this `use`'s
                consumers = []
                closing = [(scope, failed)]
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
        fresh = functools.partial(
            use,
            self._purpose,
            actor=self._actor,
            consent=self._consent,
            upstream=self._upstream,
            justification=self._justification,
        )
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                async with fresh():
                    return await fn(*args, **kwargs)

            return run_async

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> Any:
            with fresh():
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
