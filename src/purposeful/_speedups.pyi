"""The guard's hot path, compiled (``_speedups.c``); see `purposeful._guard`."""

from collections.abc import Callable
from contextvars import ContextVar
from types import MemberDescriptorType
from typing import Any

class Guard:
    """The compiled getter of one managed field."""

    __purposeful_field__: Any
    __purposeful_storage__: MemberDescriptorType | None
    __qualname__: str
    def __init__(
        self,
        policy: object,
        fast_var: ContextVar[Any],
        slow: Callable[[Any], Any],
        read_it: object,
        storage: MemberDescriptorType | None,
        name: str,
        missing: Callable[[Any], Any] | None,
        cls: type,
        free: object,
        subject: MemberDescriptorType | Callable[[Any], Any],
        kept: MemberDescriptorType | None,
    ) -> None: ...
    def __call__(self, obj: Any, /) -> Any: ...

class Sealer:
    """The compiled writer of a managed field kept in a slot (see `purposeful._seal`)."""

    def __init__(self, storage: MemberDescriptorType, kept: MemberDescriptorType) -> None: ...
    def __call__(self, obj: Any, value: Any, /) -> None: ...
