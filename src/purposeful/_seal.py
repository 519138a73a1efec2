"""The seal a slotted record's slot keeps each managed value in.

Serialisers written in C read a slotted class's slots straight from memory, past every
descriptor (msgspec encodes attrs classes so). Such a reader meets a `ManagedValue`, which
it cannot encode, and stops with its own "unsupported type" error: never the value. If it
hands the seal on to a fallback of the application's (msgspec's ``enc_hook``, orjson's
``default``), the generic ways such code opens an object find nothing: the seal's one slot
has a name made for this process, which neither ``dir()`` nor ``__slots__`` lists; it has
no state to get and no text form, only a masked ``repr``.

The guards (`_guard`, and the compiled one, which opens it through `KEPT`) and the
library's own undecided readers open it; the writers a record's guards install seal what
is assigned.
"""

from __future__ import annotations

import secrets
import types
from collections.abc import Callable
from typing import Any, NoReturn

from .errors import ManagedValueError

__all__ = ["KEPT", "SEALED", "ManagedValue", "sealed_access"]

#: The name of the seal's slot, made per process: no code can know it in advance.
SEALED = f"_pf{secrets.token_hex(4)}_sealed"

_ALONE = (
    "a managed value cannot be {} on its own: read the record's field inside a purpose "
    "scope, or serialise the record's own conversion (attrs.asdict, dataclasses.asdict, "
    "model_dump) made in the scope, which reads each field through its guard"
)


class ManagedValue:
    """A managed value as its record's slot holds it: shown as ``<managed>``, never turned
    into text, state or a pickle on its own. ``ManagedValue(value)`` seals *value*."""

    __slots__ = (SEALED,)

    def __init__(self, value: object, /) -> None:
        _put(self, value)

    def __repr__(self) -> str:
        return "<managed>"

    def __str__(self) -> NoReturn:
        raise ManagedValueError(_ALONE.format("turned into text"))

    def __format__(self, spec: str) -> NoReturn:
        raise ManagedValueError(_ALONE.format("turned into text"))

    def __getstate__(self) -> NoReturn:
        raise ManagedValueError(_ALONE.format("serialised"))

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise ManagedValueError(_ALONE.format("serialised"))

    def __dir__(self) -> list[str]:
        return [n for n in object.__dir__(self) if n != SEALED]


#: The member of `ManagedValue` that holds the value: the compiled guard reads it.
KEPT: types.MemberDescriptorType = ManagedValue.__dict__[SEALED]
del ManagedValue.__slots__  # a walk of __slots__ finds nothing to read
_open, _put = KEPT.__get__, KEPT.__set__


def sealed_access(
    member: types.MemberDescriptorType,
) -> tuple[Callable[[Any], Any], Callable[[Any, Any], None]]:
    """The undecided reader and the writer of a managed field kept in *member*'s slot, which
    holds the value sealed."""
    get, put = member.__get__, member.__set__

    def raw(obj: Any) -> Any:
        return _open(get(obj))

    def store(obj: Any, value: Any) -> None:
        put(obj, ManagedValue(value))

    return raw, store
