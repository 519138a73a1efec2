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

__all__ = ["shield"]


class _AnyRecord(abc.ABC):  # noqa: B024 - an ABC for its subclass hook alone
    """``isinstance(obj, _AnyRecord)``: *obj*'s class is a purposeful record, or inherits
    from one."""

    @classmethod
    def __subclasshook__(cls, klass: type) -> bool:
        return any("__purposeful_record__" in k.__dict__ for k in klass.__mro__)


def _names(obj: Any) -> list[str]:
    """The fields *obj* holds, as ``vars(obj)`` would list them (without the private and
    the ORM's own state), or every field of a record kept in slots."""
    held = getattr(obj, "__dict__", None)
    if held is None:
        policy = next(
            k.__dict__["__purposeful_record__"]
            for k in type(obj).__mro__
            if "__purposeful_record__" in k.__dict__
        )
        return list(policy.names)
    return [name for name in held if not name.startswith("_")]


def _record_as_dict(obj: Any) -> dict[str, Any]:
    """*obj*'s fields, each read by attribute: decided, audited, refused like any read."""
    return {name: getattr(obj, name) for name in _names(obj)}


def shield() -> None:
    """Register `_record_as_dict` with FastAPI's ``jsonable_encoder``, once, if FastAPI is
    imported already (the web integrations call it; it never imports FastAPI itself)."""
    encoders = sys.modules.get("fastapi.encoders")
    if encoders is None:
        return
    table = getattr(encoders, "encoders_by_class_tuples", None)
    if isinstance(table, dict) and _record_as_dict not in table:
        table[_record_as_dict] = (_AnyRecord,)
