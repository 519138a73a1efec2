"""The dataclass record kind: standard-library dataclasses, slotted or not, frozen or not.

A record stays a dataclass: ``dataclasses.is_dataclass``, ``fields``, ``asdict``,
``astuple`` and ``replace`` work, and read through the guards (they get every value with
``getattr``), as do the generated ``==``, ``hash`` and ordering. Construction reads nothing
(the generated ``__init__`` only assigns); a ``__post_init__`` that reads a managed field
makes a checked read. The repr is replaced by a masked one.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .. import _guard
from . import METADATA_KEY, DeclaredField, PrettyRepr, RecordKind, masked_repr

if TYPE_CHECKING:
    from ..records import RecordPolicy

__all__ = ["DATACLASSES", "DataclassKind"]


class DataclassKind(RecordKind):
    """Classes decorated with ``@dataclasses.dataclass`` themselves."""

    name = "dataclass"

    def recognises(self, cls: type) -> bool:
        return "__dataclass_fields__" in cls.__dict__

    def fields(self, cls: type) -> list[DeclaredField]:
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
            cls, "__repr__", masked_repr(cls, policy.subject, policy.fields, self.fields(cls))
        )
        type.__setattr__(cls, "_repr_pretty_", PrettyRepr())


DATACLASSES = DataclassKind()


def _names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]
