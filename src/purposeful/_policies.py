"""Which record policy a class's instances are decided under.

A class decorated with `purposeful.record` holds its `RecordPolicy` in its own ``__dict__``
(`POLICY_ATTR`); an undecorated subclass takes the nearest decorated base's (`nearest_policy`),
and a field read on it is decided under that base's declaration of the field (`own_policy`).
`managed_names` answers, for any class, the managed fields and subjects of every record in
its MRO, for what masks or decides all of them.

What this module must not do: decide, read a field's value, or import a record kind.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .records import FieldPolicy, RecordPolicy

__all__ = ["POLICY_ATTR", "managed_names", "nearest_policy", "own_policy", "set_policy"]

#: The attribute of a class decorated with `purposeful.record` that holds its `RecordPolicy`,
#: in the class's own ``__dict__`` (an undecorated subclass has none: `nearest_policy`).
POLICY_ATTR = "__purposeful_record__"


def nearest_policy(cls: type) -> RecordPolicy | None:
    """The `RecordPolicy` *cls*'s instances are decided under: that of the nearest class in
    its MRO decorated with `purposeful.record` (an undecorated subclass takes its base's),
    or None."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(POLICY_ATTR)
        if found is not None:
            return found  # type: ignore[no-any-return]
    return None


#: class → `managed_names`' answer; emptied whenever a class is given a policy
#: (`set_policy`), which may change the answer for its subclasses.
_names: weakref.WeakKeyDictionary[type, tuple[tuple[str, ...], frozenset[str]]] = (
    weakref.WeakKeyDictionary()
)


def set_policy(cls: type, policy: RecordPolicy) -> None:
    """Make *policy* the `RecordPolicy` of *cls* (`POLICY_ATTR` in its own ``__dict__``)."""
    type.__setattr__(cls, POLICY_ATTR, policy)
    _names.clear()


def managed_names(cls: type) -> tuple[tuple[str, ...], frozenset[str]]:
    """The managed fields (nearest record first, each in declaration order) and the
    subjects of every class in *cls*'s MRO decorated with `purposeful.record`: an
    undecorated class that inherits two records (a response model joining them) holds the
    managed fields of both, and what masks or decides its fields must cover both, not only
    its nearest record's. Kept per class (a dump asks once per instance)."""
    found = _names.get(cls)
    if found is None:
        found = _names[cls] = _managed_names(cls)
    return found


def _managed_names(cls: type) -> tuple[tuple[str, ...], frozenset[str]]:
    managed: dict[str, None] = {}
    subjects: set[str] = set()
    for klass in cls.__mro__:
        found = klass.__dict__.get(POLICY_ATTR)
        if found is not None:
            managed.update(dict.fromkeys(found.fields))
            subjects.add(found.subject)
    return tuple(managed), frozenset(subjects.difference(managed))


def own_policy(policy: FieldPolicy, cls: type) -> FieldPolicy:
    """The policy of *policy*'s field on instances of *cls*: the declaration of the nearest
    decorated class in its MRO, whichever class's guard was called (``super().field``
    calls the base's)."""
    found = policy._by_class.get(cls)
    if found is None:
        record = nearest_policy(cls)
        found = policy if record is None else record.fields.get(policy.name, policy)
        policy._by_class[cls] = found
    return found
