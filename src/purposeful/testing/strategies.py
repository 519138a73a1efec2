"""Hypothesis strategies for annotated records, purposes and actors.

Importing this module registers every module-level purposeful record class, declared before
or after, with ``hypothesis.strategies.register_type_strategy``, so ``st.from_type(Client)``
and ``st.builds(...)`` inference use `records` too.

Needs hypothesis (``pip install purposeful[test]``). Building a record is not a read, so
strategies work outside any purpose scope.
"""

from __future__ import annotations

import contextlib
from typing import Any, TypeVar

import attrs

try:
    from hypothesis import strategies as st
    from hypothesis.errors import HypothesisException
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "purposeful.testing.strategies needs hypothesis: pip install 'purposeful[test]'"
    ) from exc

from .._config import declared_records, get_configuration, on_record_declared
from ..actors import Actor
from ..errors import ConfigurationError
from ..purposes import Purpose, PurposeRegistry
from ..records import record_policy
from ..sensitivity import NZ_CLASSIFICATION, Level, Scale

__all__ = ["actors", "purposes", "records"]

T = TypeVar("T")

DEFAULT_ROLES = ("caseworker", "team-leader", "intake-worker", "analyst", "reporting-job")


def records(cls: type[T], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[T]:
    """Valid instances of the record class *cls*.

    Every ``__init__`` field with a type gets a value of that type (fields with a default
    and a validator keep the default, so validators are respected); pass a strategy per
    field name to choose values yourself.

    Raises:
        AnnotationError: *cls* is not a purposeful record.
    """
    klass = record_policy(cls).cls
    attrs.resolve_types(klass)
    kwargs: dict[str, st.SearchStrategy[Any]] = {}
    for attribute in attrs.fields(klass):
        if not attribute.init:
            continue
        name = attribute.alias or attribute.name
        if name in fields:
            continue
        has_default = attribute.default is not attrs.NOTHING
        if has_default and (attribute.validator is not None or attribute.type is None):
            continue
        if attribute.type is not None:
            kwargs[name] = st.from_type(attribute.type)
    unknown = set(fields) - {a.alias or a.name for a in attrs.fields(klass)}
    if unknown:
        raise ConfigurationError(
            f"records({cls.__qualname__}) got strategies for unknown fields: "
            f"{', '.join(sorted(unknown))}"
        )
    kwargs.update(fields)
    return st.builds(cls, **kwargs)


def purposes(
    registry: PurposeRegistry | None = None, *, within: Purpose | str | None = None
) -> st.SearchStrategy[Purpose]:
    """Purposes of *registry* (default: the configured one), optionally only *within* one
    purpose (itself and its descendants).

    Raises:
        UnknownPurpose: *within* is not in the registry.
    """
    registry = registry if registry is not None else get_configuration().registry
    choices = list(registry)
    if within is not None:
        root = registry.resolve(within)
        choices = [p for p in choices if root.covers(p)]
    return st.sampled_from(choices)


def actors(
    *,
    roles: st.SearchStrategy[str] | None = None,
    clearance: Level | st.SearchStrategy[Level] | None = None,
    scale: Scale = NZ_CLASSIFICATION,
) -> st.SearchStrategy[Actor]:
    """Actors with a staff-like id, a role and a clearance.

    Args:
        roles: a strategy for roles; default: a few common social-service roles.
        clearance: a fixed level or a strategy; default: any level of *scale*.
        scale: the scale clearances come from when *clearance* is not given.
    """
    clearances: st.SearchStrategy[Level]
    if clearance is None:
        clearances = st.sampled_from(list(scale))
    elif isinstance(clearance, Level):
        clearances = st.just(clearance)
    else:
        clearances = clearance
    return st.builds(
        Actor,
        id=st.from_regex(r"staff-[0-9]{1,6}", fullmatch=True),
        role=roles if roles is not None else st.sampled_from(DEFAULT_ROLES),
        clearance=clearances,
    )


def _register(cls: type) -> None:
    # Hypothesis keeps registered types alive, so only module-level classes (which live as
    # long as their module anyway) are registered; a class defined inside a function still
    # works with st.from_type through hypothesis's own inference from its __init__.
    if "<locals>" in cls.__qualname__:
        return
    # Hypothesis checks the strategy as it registers it; a class it cannot build yet (untyped
    # fields, say) is left to hypothesis's own inference, and `records(cls)` says what is
    # wrong when a test asks for it.
    with contextlib.suppress(HypothesisException):
        st.register_type_strategy(cls, st.deferred(lambda: records(cls)))


for _cls in declared_records():
    _register(_cls)
on_record_declared(_register)
