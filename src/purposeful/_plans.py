"""The decisions every scope of one purpose and actor shares.

A decision that depends on nothing but the field, the purpose, the actor and the
configuration (no consent: `FieldPolicy.check`) is the same in every scope with the same
three, so a scope's first read of a field is one dict lookup in its *plan*, not a decision
made afresh (`Scope.read`). A scope finds its plan when it opens (`plan_for`).

Plans are keyed by (purpose, actor, whether the scope records a justification: a basis may
need one); each remembers the configuration it was made under (the agency's kinds among
it) and is made again when another is in force. At most `PLANS_KEPT` plans are kept, and
none outlives a change of registry. A plan names fields and decisions, never a person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._config import Configuration, on_new_registry
from .actors import Actor
from .decisions import Decision
from .purposes import Purpose

if TYPE_CHECKING:
    from .records import FieldPolicy

__all__ = ["PLANS_KEPT", "Plan", "plan_for"]

Plan = dict["FieldPolicy", Decision]
_plans: dict[tuple[Purpose, Actor, bool], tuple[Configuration, Plan]] = {}
PLANS_KEPT = 256
on_new_registry(_plans.clear)  # plans of the old configuration are never used again


def plan_for(config: Configuration, purpose: Purpose, actor: Actor, justified: bool) -> Plan:
    """The plan of the scopes of *purpose* and *actor* (*justified*: recording a
    justification) under *config*, empty when new."""
    key = (purpose, actor, justified)
    found = _plans.get(key)
    if found is not None and found[0] is config:
        return found[1]
    if len(_plans) >= PLANS_KEPT:
        _plans.clear()
    plan: Plan = {}
    _plans[key] = (config, plan)
    return plan
