"""Minimisation: a projection of a record to only what one purpose may see.

``project(record, purpose, actor=...)`` decides every managed field under *purpose* and
returns a read-only mapping of the fields that may be used, with each withheld field listed
with its `Decision`. Withheld fields are not violations: the caller asked for less, which is
the point, so the mode does not matter. Inside a scope with the same purpose and actor, the
projection's decisions join that scope's report; otherwise it is audited as a scope of its
own.

Unmanaged (plain attrs) fields are included: the library makes no claim about them.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator, Mapping
from typing import Any

from .actors import Actor
from .decisions import Decision, Outcome, Reason
from .errors import ConfigurationError, NoPurposeScope, PurposefulError, detached
from .purposes import Purpose
from .records import RecordPolicy, record_policy
from .scope import Scope, current_scope, use

__all__ = ["Projection", "project"]


class Projection(Mapping[str, Any]):
    """The fields of one record that a purpose may see.

    It is a read-only mapping of field name to value. `withheld` maps each left-out managed
    field to the `Decision` that left it out. Its ``repr()`` lists names only, never values.
    """

    __slots__ = ("_values", "purpose", "record_type", "withheld")

    def __init__(
        self,
        record_type: str,
        purpose: Purpose,
        values: dict[str, Any],
        withheld: dict[str, Decision],
    ) -> None:
        self.record_type = record_type
        self.purpose = purpose
        self._values = values
        self.withheld: Mapping[str, Decision] = withheld

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return (
            f"<Projection of {self.record_type} for {self.purpose.id!r}: "
            f"fields={list(self._values)!r} withheld={list(self.withheld)!r}>"
        )


def project(
    record: object, purpose: Purpose | str | None = None, *, actor: Actor | None = None
) -> Projection:
    """Return only what *purpose* may see of *record*, listing what was withheld and why.

    Args:
        record: an instance of a `purposeful.record` class.
        purpose: the purpose; default: the current scope's purpose.
        actor: who will see it; default: the current scope's actor.

    Raises:
        AnnotationError: *record* is not an instance of a purposeful record.
        NoPurposeScope: called through `carry_scope` after the carried scope closed.
        ConfigurationError: no purpose or actor was given and no scope is open.
        UnknownPurpose: the purpose is not in the configured registry.
    """
    policy = record_policy(type(record))
    scope = current_scope()
    if scope is not None and scope.closed and policy.fields:
        # a carried scope that has closed: refuse like a read would, never open a new one
        first = next(iter(policy.fields.values()))
        closed = (Reason.SCOPE_CLOSED,)
        raise NoPurposeScope(first.decision(Outcome.DENIED, None, None, None, closed))
    try:
        return _project_in(policy, record, scope, purpose, actor)
    except PurposefulError as error:
        # raised here, not in the frames below, which hold values and raw subject ids
        raise detached(error) from error.__cause__
    except BaseException as error:  # an error of another's (a record's, a store's), an
        # interrupt: the frames below keep their lines, never their locals
        traceback.clear_frames(error.__traceback__)
        raise


def _project_in(
    policy: RecordPolicy,
    record: object,
    scope: Scope | None,
    purpose: Purpose | str | None,
    actor: Actor | None,
) -> Projection:
    if scope is not None and not scope.closed and _same(scope, purpose, actor):
        return _project(policy, record, scope)
    if scope is not None and scope.closed:
        scope = None
    purpose = purpose if purpose is not None else (scope.purpose if scope else None)
    actor = actor if actor is not None else (scope.actor if scope else None)
    if purpose is None or actor is None:
        raise ConfigurationError(
            "project() needs a purpose and an actor: pass them, or call it inside "
            "`with purposeful.use(purpose, actor=...)`"
        )
    with use(purpose, actor=actor) as own_scope:
        return _project(policy, record, own_scope)


def _same(scope: Scope, purpose: Purpose | str | None, actor: Actor | None) -> bool:
    """True when a projection asks for the open scope's own purpose and actor."""
    ident = purpose.id if isinstance(purpose, Purpose) else purpose
    return ident in (None, scope.purpose.id) and actor in (None, scope.actor)


def _project(policy: RecordPolicy, record: object, scope: Scope) -> Projection:
    values: dict[str, Any] = {}
    withheld: dict[str, Decision] = {}
    for name in policy.names:
        field_policy = policy.fields.get(name)
        if field_policy is None:
            values[name] = getattr(record, name)
            continue
        decision = scope.decide(field_policy, record, refusal=Outcome.WITHHELD)
        if decision.allowed:
            scope.read(field_policy, record)  # noted: handed out for the record's person
            values[name] = field_policy._raw(record)
        else:  # possibly a cached denial or would-deny from an earlier read in the scope
            withheld[name] = field_policy.decision(
                Outcome.WITHHELD, decision.purpose, decision.actor, decision.basis, decision.reasons
            )
    return Projection(policy.name, scope.purpose, values, withheld)
