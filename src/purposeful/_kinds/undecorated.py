"""Classes that declare managed fields but were never decorated with ``@purposeful.record``.

An attrs class, a dataclass or a pydantic model keeps a ``purposeful.field(...)`` or
``Managed(...)`` declaration as plain metadata when the decorator is forgotten: its fields
are plain attributes, read with no decision, and nothing at run time can tell (the
decorator would have run after the class was made). SQLAlchemy and Django models fail
closed on their own (`sqlalchemy_kind`, `django_kind`); these three are found here, by
looking at every class alive, for a test to assert there are none.

What this module must not do: decorate, change or instantiate a class it looks at.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .. import _policies
from . import METADATA_KEY

__all__ = ["undecorated_declarations"]


def undecorated_declarations(modules: Iterable[str] = ()) -> list[tuple[type, tuple[str, ...]]]:
    """(class, its managed fields) for each attrs class, dataclass or pydantic model alive
    that declares managed fields while no class of its MRO is decorated; only classes of
    *modules* (and their submodules), if any are named. In the order of their names."""
    from ..records import FieldTag

    prefixes = tuple(modules)
    found = []
    for cls in _every_class():
        module = getattr(cls, "__module__", None)
        if prefixes and not (isinstance(module, str) and any(_within(module, p) for p in prefixes)):
            continue
        names = tuple(_declared(cls, FieldTag))
        if names and not any(_policies.POLICY_ATTR in vars(k) for k in cls.__mro__):
            found.append((cls, names))
    return sorted(found, key=lambda entry: f"{entry[0].__module__}.{entry[0].__qualname__}")


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _every_class() -> Iterator[type]:
    """Every class reachable from ``object`` through ``__subclasses__``, once each."""
    seen: set[int] = set()
    stack: list[type] = [object]
    while stack:
        cls = stack.pop()
        if id(cls) in seen:
            continue
        seen.add(id(cls))
        yield cls
        try:
            stack.extend(type.__subclasses__(cls) if cls is type else cls.__subclasses__())
        except TypeError:  # a class whose __subclasses__ is not type's
            continue


def _declared(cls: type, tag: type) -> Iterator[str]:
    """The names of the fields *cls* itself declares managed, as its kind keeps them."""
    namespace = vars(cls)
    attributes: Any = namespace.get("__attrs_attrs__")
    if attributes is not None:
        for attribute in attributes:
            if isinstance((attribute.metadata or {}).get(METADATA_KEY), tag):
                yield attribute.name
        return
    fields: Any = namespace.get("__dataclass_fields__")
    if isinstance(fields, dict):
        for name, field in fields.items():
            if isinstance((getattr(field, "metadata", None) or {}).get(METADATA_KEY), tag):
                yield name
        return
    model_fields: Any = namespace.get("__pydantic_fields__")
    if isinstance(model_fields, dict):
        for name, info in model_fields.items():
            metadata = getattr(info, "metadata", None) or ()
            assigned = getattr(info, "_original_assignment", None)
            if any(isinstance(m, tag) for m in metadata) or METADATA_KEY in (
                getattr(assigned, "metadata", None) or {}
            ):
                yield name
