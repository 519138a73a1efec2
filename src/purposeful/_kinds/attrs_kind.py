"""The attrs record kind: attrs classes, slotted or not, frozen or not.

attrs' generated ``__init__`` is the one exempt reader (it reads a value back to run the
field's validator: construction, not use), and its validators' and converters' errors are
scrubbed of managed values. Everything else attrs generates (``==``, ``hash``, pickling,
``evolve``, ``asdict``) reads through the guards.
"""

from __future__ import annotations

import functools
import types
from typing import TYPE_CHECKING, Any

import attr._make
import attrs

from .. import _guard
from ..errors import AnnotationError, ManagedValueError, detached
from . import (
    METADATA_KEY,
    DeclaredField,
    PrettyRepr,
    RecordKind,
    masked_repr,
    refuse_shadows,
    scrub,
    watch_subclasses,
)

if TYPE_CHECKING:
    from ..records import RecordPolicy

__all__ = ["ATTRS", "AttrsKind"]


class AttrsKind(RecordKind):
    """attrs classes (and plain classes, which `record` makes attrs classes first)."""

    name = "attrs"
    can_slot = True

    def recognises(self, cls: type) -> bool:
        return "__attrs_attrs__" in cls.__dict__

    def fields(self, cls: type) -> list[DeclaredField]:
        return [
            DeclaredField(a.name, a.metadata.get(METADATA_KEY), a.repr) for a in attrs.fields(cls)
        ]

    def slotted(self, cls: type) -> bool:
        return all(_guard.slot_of(cls, a.name) is not None for a in attrs.fields(cls))

    def install(self, cls: type, policy: RecordPolicy) -> None:
        managed = frozenset(policy.fields)
        hashes = getattr(getattr(cls.__dict__.get("__hash__"), "__code__", None), "co_names", ())
        if managed and attr._make._HASH_CACHE_FIELD in hashes:  # attrs' cache_hash=True
            raise AnnotationError(
                f"{cls.__qualname__} caches its hash (cache_hash=True): hashing a record is a "
                f"read of every managed field, and a cached hash would answer later hashes "
                f"undecided, outside any scope too. Drop cache_hash=True"
            )
        for field_policy in policy.fields.values():
            object.__setattr__(field_policy, "_raw", _guard.install_getter(cls, field_policy))
        _guard.protect(cls, policy.subject, slotted=policy.slotted, names_of=_names)
        # the subject too: its validator's error would quote the raw id
        _scrub_errors(cls, managed | {policy.subject})
        init = cls.__dict__.get("__init__")
        init = getattr(init, "__wrapped__", init)
        if isinstance(init, types.FunctionType) and _generated_by_attrs(init):
            _guard.exempt(init.__code__)
            # attrs' __init__ reads a field back only to pass it to the field's validator
            if any(a.validator is not None for a in attrs.fields(cls) if a.name in managed):
                _guard.validates_on_init(cls)
        type.__setattr__(
            cls, "__repr__", masked_repr(cls, (policy.subject,), policy.fields, self.fields(cls))
        )
        # hypothesis (falsifying examples) and IPython print through _repr_pretty_ when
        # present, and otherwise read every attrs field: route them to the safe repr.
        type.__setattr__(cls, "_repr_pretty_", PrettyRepr())
        watch_subclasses(cls, functools.partial(refuse_shadows, record=cls, managed=managed))


ATTRS = AttrsKind()


def _names(cls: type) -> list[str]:
    return [a.name for a in attrs.fields(cls)]


def _scrub_errors(cls: type, managed: frozenset[str]) -> None:
    """Wrap ``__init__`` and ``__setattr__`` so that an error quoting a managed value (an
    attrs validator's "must be in [...] (got '…')", a converter's message) is replaced by
    a `ManagedValueError` raised from a frame that holds no value."""
    init = cls.__dict__.get("__init__")
    if isinstance(init, types.FunctionType):

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            try:
                init(self, *args, **kwargs)
                return
            except Exception as exc:
                error: Exception = exc
                message = scrub.scrubbed(exc, cls, managed, _given(cls, args, kwargs))
            del args, kwargs  # no value in this frame; none below it in the traceback
            if message is None:
                raise detached(error)
            del error
            raise ManagedValueError(message)

        type.__setattr__(cls, "__init__", __init__)
    setattr_ = cls.__dict__.get("__setattr__")
    # only attrs' generated hooks (validators on assignment); a frozen class's own
    # __setattr__ must stay as it is, since attrs recognises frozen bases by it
    if isinstance(setattr_, types.FunctionType) and _attrs_setattr_hooks(setattr_):

        @functools.wraps(setattr_)
        def __setattr__(self: Any, name: str, value: Any) -> None:
            if name not in managed:
                setattr_(self, name, value)
                return
            try:
                setattr_(self, name, value)
                return
            except Exception as exc:
                error: Exception = exc
                message = scrub.scrubbed(exc, cls, managed, {name: value})
            del value
            if message is None:
                raise detached(error)
            del error
            raise ManagedValueError(message)

        type.__setattr__(cls, "__setattr__", __setattr__)


def _given(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Field name → value given to ``__init__``."""
    taken = [a for a in attrs.fields(cls) if a.init]
    given = {a.name: v for a, v in zip(taken, args, strict=False)}
    given.update({a.name: kwargs[a.alias] for a in taken if a.alias in kwargs})
    return given


def _attrs_setattr_hooks(fn: types.FunctionType) -> bool:
    """True for attrs' ``__setattr__`` that runs on_setattr hooks (validators, converters);
    False for its frozen one (pinned by tests/test_guard.py)."""
    return fn.__name__ == "__setattr__" and fn.__code__.co_filename == attr._make.__file__


def _generated_by_attrs(fn: types.FunctionType) -> bool:
    """True for a method attrs generated (pinned by tests/test_guard.py)."""
    return fn.__code__.co_filename.startswith("<attrs generated")
