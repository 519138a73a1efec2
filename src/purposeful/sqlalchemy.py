"""SQLAlchemy: query-time minimisation for records mapped by the SQLAlchemy 2 ORM.

``select(Client).options(minimised(Client, "funder-reporting"))`` builds a loader option
that defers, with ``raiseload``, every managed column the purpose may not read (and, given
an actor, every column above the actor's clearance), so the database never sends them.
Reading one of them afterwards is the usual decision (a `PurposeViolation` in enforce mode),
made before SQLAlchemy would load anything; in monitor mode the columns are deferred without
``raiseload``, so a would-deny read still loads its value, as monitor mode promises.

Consent is a property of each person, unknown when the query is built: a column the purpose
may read with consent is fetched, and each read of it is decided as usual.

Needs SQLAlchemy (``purposeful[sqlalchemy]``). The guards themselves are installed by
``@purposeful.record`` (the record kind in ``purposeful._kinds.sqlalchemy_kind``); this
module only builds options. It must not decide or note a read.
"""

from __future__ import annotations

from typing import Any

from ._config import get_configuration
from .actors import Actor
from .decisions import Mode
from .errors import AnnotationError, ConfigurationError, MissingExtra
from .purposes import Purpose
from .records import record_policy
from .scope import current_scope

try:
    from sqlalchemy.orm import Load
except ImportError as error:  # pragma: no cover - exercised in a subprocess
    raise MissingExtra(
        "purposeful.sqlalchemy needs SQLAlchemy 2: pip install 'purposeful[sqlalchemy]'",
        extra="sqlalchemy",
    ) from error

__all__ = ["minimised", "withheld_columns"]


def withheld_columns(
    model: type, purpose: Purpose | str | None = None, *, actor: Actor | None = None
) -> tuple[str, ...]:
    """The managed columns of *model* that *purpose* may not read, in declaration order.

    Args:
        model: a class mapped by SQLAlchemy and decorated with `purposeful.record`.
        purpose: the purpose; default: the current scope's purpose.
        actor: who will read; default: the current scope's actor. Without one, only the
            purposes are compared (a column above the reader's clearance is fetched, and
            refused when read).

    Raises:
        AnnotationError: *model* is not a SQLAlchemy record.
        ConfigurationError: no purpose was given and no scope is open.
        UnknownPurpose: the purpose is not in the configured registry.
    """
    resolved, actor = _purpose_and_actor(purpose, actor)
    policy = record_policy(model)
    if policy.kind != "sqlalchemy":
        raise AnnotationError(
            f"{model.__qualname__} is a {policy.kind} record, not a SQLAlchemy mapped class; "
            f"purposeful.sqlalchemy minimises SQLAlchemy queries only (use "
            f"purposeful.project(record, purpose) for other records)"
        )
    withheld = []
    for name in policy.names:
        field_policy = policy.fields.get(name)
        if field_policy is None:
            continue
        if actor is None:
            allowed = any(i in field_policy.purposes for i in resolved.lineage)
        else:
            allowed = not field_policy.check(resolved, actor)[0]
        if not allowed:
            withheld.append(name)
    return tuple(withheld)


def minimised(
    model: type, purpose: Purpose | str | None = None, *, actor: Actor | None = None
) -> Any:
    """A loader option for *model* that leaves out the columns *purpose* may not read.

    Use it in the query: ``select(Client).options(minimised(Client, purpose))``. The
    arguments and errors are those of `withheld_columns`; in enforce mode (for this purpose
    and record type) the columns are deferred with ``raiseload``, in monitor mode without.
    """
    withheld = withheld_columns(model, purpose, actor=actor)
    resolved, _ = _purpose_and_actor(purpose, actor)
    raiseload = get_configuration().mode_for(resolved, model) is Mode.ENFORCE
    option = Load(model)
    for name in withheld:
        option = option.defer(getattr(model, name), raiseload=raiseload)
    return option


def _purpose_and_actor(
    purpose: Purpose | str | None, actor: Actor | None
) -> tuple[Purpose, Actor | None]:
    if actor is not None and not isinstance(actor, Actor):
        raise ConfigurationError(
            f"minimised() and withheld_columns() take actor= as a purposeful.Actor, not "
            f"{type(actor).__name__}: pass Actor(id, role=..., clearance=...)"
        )
    scope = current_scope()
    if scope is not None and scope.closed:
        scope = None
    if purpose is None:
        if scope is None:
            raise ConfigurationError(
                "minimised() needs a purpose: pass it, or build the query inside "
                "`with purposeful.use(purpose, actor=...)`"
            )
        purpose = scope.purpose
        actor = actor if actor is not None else scope.actor
    elif actor is None and scope is not None and _same(scope.purpose, purpose):
        actor = scope.actor
    if isinstance(purpose, Purpose):
        return purpose, actor
    return get_configuration().registry.resolve(purpose), actor


def _same(current: Purpose, purpose: Purpose | str) -> bool:
    return (purpose.id if isinstance(purpose, Purpose) else purpose) == current.id
