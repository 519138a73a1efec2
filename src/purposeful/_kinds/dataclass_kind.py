"""The dataclass record kind: standard-library dataclasses, slotted or not, frozen or not.

A record stays a dataclass: ``dataclasses.is_dataclass``, ``fields``, ``asdict``,
``astuple`` and ``replace`` work, and read through the guards (they get every value with
``getattr``), as do the generated ``==``, ``hash`` and ordering. Construction reads nothing
(the generated ``__init__`` only assigns); a ``__post_init__`` that reads a managed field
makes a checked read, and an error it raises quoting a managed value given is replaced by
a `ManagedValueError`. The repr, and devtools' ``__pretty__``, are replaced by a masked one.
A slotted dataclass subclass of a record that keeps its values in ``__dict__`` is refused
as it is made: its new slots would stand in front of the base's guards.

A pydantic dataclass is refused: pydantic validates it (quoting inputs in its errors) and
serialises it from its own schema, which this kind does not guard.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .. import _guard, _policies
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

__all__ = ["DATACLASSES", "DataclassKind"]


class DataclassKind(RecordKind):
    """Classes decorated with ``@dataclasses.dataclass`` themselves."""

    name = "dataclass"
    can_slot = True

    def recognises(self, cls: type) -> bool:
        return "__dataclass_fields__" in cls.__dict__

    def fields(self, cls: type) -> list[DeclaredField]:
        if "__pydantic_validator__" in cls.__dict__ or "__pydantic_fields__" in cls.__dict__:
            raise AnnotationError(
                f"@purposeful.record cannot guard {cls.__qualname__}: it is a pydantic "
                f"dataclass, which pydantic validates and serialises from its own schema. "
                f"Make it a pydantic BaseModel (fields declared with Annotated[<type>, "
                f"purposeful.Managed(...)]) or a standard-library @dataclasses.dataclass"
            )
        return [
            DeclaredField(f.name, f.metadata.get(METADATA_KEY), f.repr)
            for f in dataclasses.fields(cls)
        ]

    def slotted(self, cls: type) -> bool:
        return all(_guard.slot_of(cls, f.name) is not None for f in dataclasses.fields(cls))

    def install(self, cls: type, policy: RecordPolicy) -> None:
        for field_policy in policy.fields.values():
            object.__setattr__(field_policy, "_raw", _guard.install_getter(cls, field_policy))
        _guard.protect(cls, policy.subject, slotted=policy.slotted, names_of=_names)
        type.__setattr__(
            cls, "__repr__", masked_repr(cls, (policy.subject,), policy.fields, self.fields(cls))
        )
        type.__setattr__(cls, "_repr_pretty_", PrettyRepr())
        type.__setattr__(cls, "__pretty__", _pretty)
        managed = frozenset(policy.fields)
        if hasattr(cls, "__post_init__"):  # the subject too: its error would quote the id
            _scrub_post_init_errors(cls, managed | {policy.subject})
        _watch_subclasses(cls, managed, refuse_slots=not policy.slotted)


DATACLASSES = DataclassKind()


def _names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _pretty(self: Any, fmt: Any = None, **kwargs: Any) -> Iterator[str]:
    """devtools' pretty-printing protocol: the masked repr (devtools would otherwise format
    the fields from ``__dict__``)."""
    yield repr(self)


def _scrub_post_init_errors(cls: type, managed: frozenset[str]) -> None:
    """Wrap ``__init__`` so that an error of ``__post_init__`` quoting a managed value given
    is replaced by a `ManagedValueError` raised from a frame that holds no value."""
    init = cls.__dict__.get("__init__")
    if not isinstance(init, types.FunctionType):
        return
    taken = [f for f in dataclasses.fields(cls) if f.init]

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
            return
        except Exception as exc:
            error: Exception = exc
            given = {f.name: v for f, v in zip(taken, args, strict=False)}
            given.update({f.name: kwargs[f.name] for f in taken if f.name in kwargs})
            message = scrub.scrubbed(exc, cls, managed, given)
            del given
        del args, kwargs  # no value in this frame; none below it in the traceback
        if message is None:
            raise detached(error)
        del error
        raise ManagedValueError(message)

    type.__setattr__(cls, "__init__", __init__)


def _watch_subclasses(cls: type, managed: frozenset[str], *, refuse_slots: bool) -> None:
    """Give every subclass of *cls* a masked repr (``@dataclass`` keeps a ``__repr__`` the
    class already has, instead of generating one that shows the values), and refuse one
    whose own namespace would stand in front of a managed field's guard (`refuse_shadows`;
    if *refuse_slots*, its own slots first: ``@dataclass(slots=True)`` makes a slot for every
    field, inherited ones too)."""

    def __repr__(self: Any) -> str:
        # every record it inherits masked: a subclass of two records holds both's fields
        fields, subjects = _policies.managed_names(type(self))
        shown = DATACLASSES.fields(type(self))
        return masked_repr(type(self), subjects, dict.fromkeys(fields), shown)(self)

    def check(sub: type) -> None:
        if "__repr__" not in sub.__dict__:
            type.__setattr__(sub, "__repr__", __repr__)
        hidden = refuse_slots and sorted(
            n for n in managed if isinstance(sub.__dict__.get(n), types.MemberDescriptorType)
        )
        if hidden:
            raise AnnotationError(
                f"{sub.__qualname__} makes slots for {', '.join(hidden)}, managed fields of "
                f"{cls.__qualname__}, which keeps its values in an instance __dict__: the "
                f"slots would stand in front of the guards. Leave slots=True off "
                f"{sub.__qualname__} (its instances keep a __dict__ anyway), or declare "
                f"{cls.__qualname__} with @dataclasses.dataclass(slots=True) too"
            )
        refuse_shadows(sub, cls, managed)

    watch_subclasses(cls, check)
