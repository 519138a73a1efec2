"""FastAPI's ``jsonable_encoder`` reads a record through its guards.

``jsonable_encoder`` (what FastAPI serialises an endpoint's return value with when the
route has no response model, and what code calls to make a row JSON-ready) turns an object
it does not know into ``dict(obj)``, and failing that into ``vars(obj)``: the stored values
of a record kept in its ``__dict__`` (SQLAlchemy rows, Django models, attrs classes with
``slots=False``), with no decision and nothing in the audit trail. `shield` puts an encoder
for every purposeful record ahead of that: it reads each field the record holds by
attribute, so a managed field is decided in the request's scope (a refusal is the request's
403) and audited like any read. pydantic models and dataclasses never got that far
(``model_dump``, ``dataclasses.asdict`` read through the guards).

`shield` runs when the web integrations are set up (`purposeful.web.fastapi` is imported, a
`purposeful.web.asgi.PurposeMiddleware` is made, an endpoint is marked with
`purposeful.web.purpose`) and FastAPI is there; it registers once, in FastAPI's own table of
encoders by class.

What this module must not do: import FastAPI unless it is installed and the application
uses it; hold a record's values in a frame of its own while a guard decides (a refusal's
traceback is captured by error trackers).
"""

from __future__ import annotations

import abc
import sys
from typing import Any

from .._policies import nearest_policy

__all__ = ["shield"]


class _AnyRecord(abc.ABC):  # noqa: B024 - an ABC for its subclass hook alone
    """``isinstance(obj, _AnyRecord)``: *obj*'s class is a purposeful record, or inherits
    from one."""

    @classmethod
    def __subclasshook__(cls, klass: type) -> bool:
        return nearest_policy(klass) is not None


#: ``jsonable_encoder``'s options, read from its frame and passed on as its ``dict(obj)``
#: path passes them (what an encoder by class is not given)
_OPTIONS = (
    "include",
    "exclude",
    "by_alias",
    "exclude_unset",
    "exclude_defaults",
    "exclude_none",
    "custom_encoder",
    "sqlalchemy_safe",
)


def _options(encode: Any) -> dict[str, Any]:
    """The options of the ``jsonable_encoder`` call that asked for this record (the
    caller's frame, when it is that function's), else none."""
    frame = sys._getframe(2)
    if frame.f_code is not getattr(encode, "__code__", None):
        return {}
    held = frame.f_locals
    return {name: held[name] for name in _OPTIONS if name in held}


def _names(obj: Any) -> list[str]:
    """The fields *obj* holds, as ``vars(obj)`` would list them (without the private ones
    and the ORM's own state: no column that is not loaded, so no query), and every field of
    a record kept in slots."""
    policy = nearest_policy(type(obj))
    held = getattr(obj, "__dict__", None)
    names = list(policy.names) if policy is not None and policy.slotted else []
    if held is not None:
        names += [name for name in held if not name.startswith("_") and name not in names]
    return names


def _record_as_dict(obj: Any) -> Any:
    """*obj* as ``jsonable_encoder``'s ``dict(obj)`` path would encode it, with each field
    read by attribute (decided, audited, refused like any read) and a refusal raised, never
    answered from ``vars(obj)``. A record with a mapping protocol of its own (``keys()``
    and ``__getitem__``) is read through it. ``include`` and ``exclude`` are applied before
    any field is read (a record that only iterates its pairs is read whole first)."""
    encoders = sys.modules["fastapi.encoders"]
    options = _options(encoders.jsonable_encoder)
    mapping = callable(getattr(obj, "keys", None))
    if not mapping and callable(getattr(obj, "__iter__", None)):
        return encoders.jsonable_encoder(dict(obj), **options)  # pairs: read as they come
    names = list(obj.keys()) if mapping else _names(obj)
    include, exclude = options.get("include"), options.get("exclude")
    if include is not None:
        names = [name for name in names if name in include]
    if exclude is not None:
        names = [name for name in names if name not in exclude]
    # no local holds the values: a refusal further down shows none in this frame
    if mapping:
        return encoders.jsonable_encoder({name: obj[name] for name in names}, **options)
    return encoders.jsonable_encoder({name: getattr(obj, name) for name in names}, **options)


def shield() -> None:
    """Register `_record_as_dict` with FastAPI's ``jsonable_encoder``, once, if FastAPI is
    imported already (the web integrations call it; it never imports FastAPI itself)."""
    encoders = sys.modules.get("fastapi.encoders")
    if encoders is None:
        return
    table = getattr(encoders, "encoders_by_class_tuples", None)
    if isinstance(table, dict) and _record_as_dict not in table:
        table[_record_as_dict] = (_AnyRecord,)
