"""The pydantic record kind: pydantic v2 ``BaseModel`` subclasses.

A model keeps its values in its instance ``__dict__`` (the second tier of 'What is a
read'). A data descriptor on the class wins over the instance dictionary, so a guard per
managed field makes attribute reads checked; pydantic writes ``__dict__`` itself on
construction and assignment, and calls a property's setter for assignment (which keeps
pydantic's ``validate_assignment`` and its set of fields set). What pydantic reads from
``__dict__`` without an attribute read is made a read here:

- serialisation (``model_dump``, ``model_dump_json``, a ``TypeAdapter``'s dumps, the model
  nested in another model, FastAPI's responses): a wrap serialiser on the core schema of
  the model and of every subclass pydantic makes of it (undecorated subclasses,
  parametrised generics) reads every managed field it will emit through its guard first,
  then runs the model's own ``model_serializer`` if it has one; a managed field that a
  plain pydantic base declares is refused, since pydantic would serialise the record by
  that base's schema;
- ``dict(model)`` and iteration, ``==``, ``hash`` of a frozen model, ``copy.copy``,
  ``copy.deepcopy``, ``model_copy``, pickling and pydantic 1's ``copy()`` and ``_iter()``
  read the managed fields first;
- ``repr``, ``str``, rich and devtools printing mask managed fields and the subject;
- validation errors never quote an input (``hide_input_in_errors``), and the record's
  own dumps replace pydantic's serialisation warnings, which quote values.

pydantic-core wraps an exception raised inside it (a serialiser's in a
``PydanticSerializationError``, an attribute read's for ``from_attributes`` in a
``ValidationError``); the record's own ``model_dump``, ``model_dump_json`` and
``model_validate`` raise the refusal itself, and a scope's exit surfaces a wrapped
refusal (`_refusals.refusal_behind`). This module never imports pydantic itself: it is
reached only for a class whose MRO holds pydantic's ``BaseModel``.
"""

from __future__ import annotations

import functools
import re
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from .. import _guard, _policies, _refusals
from ..errors import AnnotationError
from . import (
    METADATA_KEY,
    PLACEHOLDER,
    SUBJECT_PLACEHOLDER,
    DeclaredField,
    PrettyRepr,
    RecordKind,
    refuse_cached,
)

if TYPE_CHECKING:
    from ..records import RecordPolicy

__all__ = ["PYDANTIC", "PydanticKind"]


def _refuse_plain_bases(cls: type, managed: list[str]) -> None:
    """Refuse a managed field that a pydantic base of *cls* declares unmanaged: pydantic
    serialises an instance by the schema of the type declared where it is found (a field
    typed as the base, ``TypeAdapter(Base)``, ``list[Base]``) and would emit the value from
    ``__dict__`` through the base's serialiser, undecided."""
    for name in managed:
        for klass in cls.__mro__[1:]:
            fields = klass.__dict__.get("__pydantic_fields__")
            if not fields or name not in fields:
                continue
            if any(_guard.guarded_field(k.__dict__.get(name)) is not None for k in klass.__mro__):
                continue
            raise AnnotationError(
                f"{cls.__qualname__}.{name} is managed, but its base {klass.__qualname__} "
                f"declares {name} as a plain field: pydantic serialises a "
                f"{cls.__qualname__} wherever a {klass.__qualname__} is expected (a field, a "
                f"TypeAdapter, a list) by {klass.__qualname__}'s schema, which would emit "
                f"{name} undecided. Manage {name} in {klass.__qualname__} too (make it a "
                f"record), or leave {name} out of {klass.__qualname__}"
            )


def _is_base_model(klass: type) -> bool:
    return klass.__module__ == "pydantic.main" and klass.__qualname__ == "BaseModel"


class PydanticKind(RecordKind):
    """Subclasses of pydantic v2's ``BaseModel`` (not ``RootModel``)."""

    name = "pydantic"

    def recognises(self, cls: type) -> bool:
        mro = cls.__mro__
        return any(_is_base_model(k) for k in mro) and not any(
            k.__module__ == "pydantic.root_model" for k in mro
        )

    def fields(self, cls: type) -> list[DeclaredField]:
        found = []
        for name, info in cls.__pydantic_fields__.items():  # type: ignore[attr-defined]
            declaration = next((m for m in info.metadata if type(m).__name__ == "FieldTag"), None)
            # pydantic reads `purposeful.field(...)` as a dataclasses.Field (its descriptor)
            assigned = getattr(info, "_original_assignment", None)
            if METADATA_KEY in getattr(assigned, "metadata", {}):
                raise AnnotationError(
                    f"{cls.__qualname__}.{name}: purposeful.field(...) declares attrs and "
                    f"dataclass fields; in a pydantic model write "
                    f"{name}: Annotated[<type>, purposeful.Managed(purposes=...)]"
                )
            found.append(DeclaredField(name, declaration, bool(info.repr)))
        _refuse_plain_bases(cls, [f.name for f in found if f.declaration is not None])
        return found

    def slotted(self, cls: type) -> bool:
        return False

    def install(self, cls: type, policy: RecordPolicy) -> None:
        for field_policy in policy.fields.values():
            store = _store(cls, field_policy.name)
            raw = _guard.install_getter(cls, field_policy, store=store)
            object.__setattr__(field_policy, "_raw", raw)
        state = {n: cls.__dict__.get(n) for n in ("__getstate__", "__setstate__")}
        _guard.protect(cls, policy.subject, slotted=False, names_of=lambda c: [])
        for name, original in state.items():  # pydantic's own, read first below
            if original is None:
                type.__delattr__(cls, name)
            else:
                type.__setattr__(cls, name, original)

        # copy and _iter: pydantic 1's API, still shipped, walks __dict__ like model_copy
        for name in ("__getstate__", "__copy__", "__deepcopy__", "__eq__", "copy", "_iter"):
            type.__setattr__(cls, name, _reading_first(getattr(cls, name)))
        if getattr(cls, "__hash__", None) is not None:
            type.__setattr__(cls, "__hash__", _reading_first(cls.__hash__))
        iterate = getattr(cls, "__iter__")  # noqa: B009 - BaseModel's, unknown to the type checker
        type.__setattr__(cls, "__iter__", _iterate(iterate))
        type.__setattr__(cls, "__setattr__", _assigning(cls.__setattr__))
        post_init = getattr(cls, "model_post_init")  # noqa: B009 - BaseModel's, unknown to mypy
        type.__setattr__(cls, "model_post_init", _post_initialising(post_init))
        type.__setattr__(cls, "__repr_args__", _repr_args)
        type.__setattr__(cls, "_repr_pretty_", PrettyRepr())
        for name in ("model_dump", "model_dump_json"):
            type.__setattr__(cls, name, _unwrapping(_scrubbing_warnings(getattr(cls, name))))
        for name in ("model_validate", "model_validate_json"):
            method = getattr(cls, name).__func__
            type.__setattr__(cls, name, classmethod(_unwrapping(method)))
        _decide_on_serialisation(cls)
        _refuse_revalidation(cls)
        _watch_subclasses(cls)


PYDANTIC = PydanticKind()


def _watch_subclasses(cls: Any) -> None:
    """Hold every subclass pydantic makes of *cls* (an undecorated request or response
    model, a parametrised generic), once it is built, to the record's rules: its validation
    errors hide their inputs even where its own ``model_config`` says otherwise (it keeps
    the managed fields, whose values an error would quote), and it has no cached property
    (`refuse_cached`). The record's own ``__pydantic_init_subclass__``, if any, runs first."""
    own = cls.__dict__.get("__pydantic_init_subclass__")

    def __pydantic_init_subclass__(sub: Any, /, **kwargs: Any) -> None:
        if own is not None:
            own.__func__(sub, **kwargs)
        else:
            super(cls, sub).__pydantic_init_subclass__(**kwargs)
        refuse_cached(sub)
        _refuse_revalidation(sub)
        own_post_init = sub.__dict__.get("model_post_init")
        if own_post_init is not None and not getattr(own_post_init, _POST_INIT, False):
            type.__setattr__(sub, "model_post_init", _post_initialising(own_post_init))
        # a frozen subclass of a record that is not: pydantic gave it a hash of the values
        hashing = sub.__dict__.get("__hash__")
        if hashing is not None and not getattr(hashing, _READS_FIRST, False):
            type.__setattr__(sub, "__hash__", _reading_first(hashing))
        if not sub.model_config.get("hide_input_in_errors"):
            sub.model_config = {**sub.model_config, "hide_input_in_errors": True}
            sub.model_rebuild(force=True)

    cls.__pydantic_init_subclass__ = classmethod(__pydantic_init_subclass__)


def _store(cls: type, name: str) -> Callable[[Any, Any], None]:
    """Assignment to a managed field, as pydantic's own would do it."""

    def store(obj: Any, value: Any) -> None:
        if cls.model_config.get("validate_assignment"):  # type: ignore[attr-defined]
            if _validators_see_values(type(obj)) and _post_init.get() is not obj:
                _decide(obj)
            obj.__pydantic_validator__.validate_assignment(obj, name, value)
        else:
            obj.__dict__[name] = value
            obj.__pydantic_fields_set__.add(name)

    return store


def _validators_see_values(cls: Any) -> bool:
    """True if assigning to an instance of *cls* hands its stored values to its validators:
    with ``validate_assignment``, pydantic validates the whole model again, giving a
    ``before`` or ``wrap`` model validator every stored value and a field validator the
    others in ``info.data``."""
    return bool(cls.model_config.get("validate_assignment")) and _runs_validators(cls)


#: class → (its core schema, whether validating it runs a validator): `_runs_validators`
_walked: weakref.WeakKeyDictionary[type, tuple[object, bool]] = weakref.WeakKeyDictionary()


def _runs_validators(cls: Any) -> bool:
    """True if validating *cls* runs a validator that may be given the other fields'
    values: one that takes ``info`` (a ``field_validator``, one given in ``Annotated``, a
    nested model's: ``info.data``), or a ``before``, ``wrap`` or ``plain`` validator of a
    whole model (its data). pydantic's own validators of types (``IPv4Address``, ``Path``)
    see their value alone. Found in the core schema, once per schema."""
    schema = cls.__dict__.get("__pydantic_core_schema__")
    found = _walked.get(cls)
    if found is not None and found[0] is schema:
        return found[1]
    runs = not isinstance(schema, dict)  # not built yet: assume it does
    stack: list[Any] = [] if runs else [schema]
    while stack and not runs:
        node = stack.pop()
        if isinstance(node, dict):
            kind = node.get("type")
            runs = isinstance(kind, str) and kind.startswith("function-") and _sees_others(node)
            # a serialiser is not validation (the deciding one is purposeful's own)
            stack.extend(v for k, v in node.items() if k != "serialization")
        elif isinstance(node, list | tuple):
            stack.extend(node)
    _walked[cls] = (schema, runs)
    return runs


def _sees_others(node: dict[str, Any]) -> bool:
    """True if the validator function of core schema *node* may see other fields' values."""
    function = node.get("function")
    if isinstance(function, dict) and function.get("type") == "with-info":
        return True
    inner = node.get("schema")
    whole = isinstance(inner, dict) and inner.get("type") in ("model-fields", "dataclass-args")
    return whole and node.get("type") != "function-after"


#: The instance whose ``model_post_init`` runs in this context: its assignments there are
#: part of its construction, not reads (`_post_initialising`).
_post_init: ContextVar[object] = ContextVar("purposeful.pydantic.post_init", default=None)


def _post_initialising(method: Callable[..., None]) -> Any:
    """``model_post_init``, during which the instance's own assignments are construction."""

    @functools.wraps(method)
    def model_post_init(self: Any, context: Any, /) -> None:
        token = _post_init.set(self)
        try:
            method(self, context)
        finally:
            _post_init.reset(token)

    setattr(model_post_init, _POST_INIT, True)
    return model_post_init


#: Marks a ``model_post_init`` wrapped by `_post_initialising`.
_POST_INIT = "__purposeful_post_init__"


def _refuse_revalidation(cls: Any) -> None:
    """Refuse a record (or a subclass) that pydantic validates again from its stored values
    (``revalidate_instances``) through validators: they would be given the managed values
    undecided, wherever an instance is passed to a model or to ``model_validate``."""
    if cls.model_config.get("revalidate_instances", "never") == "never":
        return
    if _runs_validators(cls):
        raise AnnotationError(
            f"{cls.__qualname__} has revalidate_instances="
            f"{cls.model_config['revalidate_instances']!r} and validators that may see the "
            f"other fields: pydantic would validate an instance again from its stored values, "
            f"handing the managed ones to those validators undecided. Leave "
            f"revalidate_instances at 'never' (the default) for such a record"
        )


def _assigning(method: Callable[..., None]) -> Any:
    """``__setattr__``: where the model's validators see its stored values on assignment
    (`_validators_see_values`), its managed fields are read through their guards first, so
    the assignment is decided as a read of them (outside a scope it is refused)."""

    @functools.wraps(method)
    def __setattr__(self: Any, name: str, value: Any) -> None:
        cls = type(self)
        # a private attribute or an extra is not validated; construction is not a read
        if (
            name in cls.__pydantic_fields__
            and _post_init.get() is not self
            and _validators_see_values(cls)
        ):
            _decide(self)
        method(self, name, value)

    return __setattr__


#: Marks a method wrapped by `_reading_first`.
_READS_FIRST = "__purposeful_reads_first__"


def _decide(obj: Any) -> None:
    """Read every managed field of *obj* through its guard: of every record its class
    inherits (an undecorated model joining two records holds both's)."""
    for name in _policies.managed_names(type(obj))[0]:
        getattr(obj, name)


def _reading_first(method: Callable[..., Any]) -> Any:
    """*method*, after every managed field of the instance (and of a record given as the
    other side of ``==``, a parametrised generic's origin too) is read through its guard."""

    @functools.wraps(method)
    def reading_first(self: Any, *args: Any, **kwargs: Any) -> Any:
        _decide(self)
        if args and PYDANTIC.recognises(type(args[0])):
            _decide(args[0])  # the other side of ==
        return method(self, *args, **kwargs)

    setattr(reading_first, _READS_FIRST, True)
    return reading_first


def _iterate(method: Callable[[Any], Iterator[tuple[str, Any]]]) -> Any:
    """``__iter__`` (``dict(model)``): pydantic's own pairs, each managed field's value read
    through its guard. No value is held in this frame while a guard decides: a refusal's
    traceback shows none (an error tracker reads its frames' locals)."""

    def __iter__(self: Any) -> Iterator[tuple[str, Any]]:
        managed = _policies.managed_names(type(self))[0]
        for name, value in method(self):
            if name in managed:
                del value  # the stored value, undecided
                yield name, getattr(self, name)
            else:
                yield name, value

    return __iter__


class _Mask:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _repr_args(self: Any) -> Iterator[tuple[str | None, Any]]:
    """pydantic's ``__repr_args__``, the managed fields and subjects of every record the
    class inherits masked."""
    managed, subjects = _policies.managed_names(type(self))
    for name, info in type(self).__pydantic_fields__.items():
        if not info.repr:
            continue
        if name in managed:
            yield name, _Mask(PLACEHOLDER)
        elif name in subjects:
            yield name, _Mask(SUBJECT_PLACEHOLDER)
        else:
            yield name, self.__dict__.get(name)


def _unwrapping(method: Callable[..., Any]) -> Callable[..., Any]:
    """*method*, raising a refusal that pydantic-core wrapped as the refusal itself."""

    @functools.wraps(method)
    def unwrapping(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception as error:
            refusal = _refusals.refusal_behind(error)
            if refusal is None:
                raise
        raise refusal from None

    return unwrapping


_WARNINGS = "Pydantic serializer warnings"


def _scrubbing_warnings(method: Callable[..., Any]) -> Callable[..., Any]:
    """*method* (``model_dump`` or ``model_dump_json``), with pydantic's serialisation
    warnings, which quote the unexpected value (a managed value assigned unvalidated, a
    subject id of the wrong type), replaced by one naming only the fields.

    The dump runs with ``warnings="error"``; only if pydantic has something to say does it
    run again with warnings off, after the scrubbed warning (or error) is raised."""

    @functools.wraps(method)
    def dumping(self: Any, *args: Any, **kwargs: Any) -> Any:
        asked = kwargs.get("warnings", True)
        if asked is False or asked == "none":
            return method(self, *args, **kwargs)
        try:
            return method(self, *args, **{**kwargs, "warnings": "error"})
        except Exception as error:
            text = str(error)
            if _WARNINGS not in text or _refusals.refusal_behind(error) is not None:
                raise
            fields = sorted(set(re.findall(r"field_name='(\w+)'", text)))
        del text
        where = f"in {', '.join(fields)} " if fields else ""
        message = (
            f"{_WARNINGS}: {type(self).__qualname__} held a value of an unexpected type "
            f"{where}and pydantic serialised it as it is; its own warning quotes the value, "
            f"so purposeful does not show it. Check what is assigned to these fields "
            f"(assignment is validated only with validate_assignment=True)"
        )
        if asked == "error":
            from pydantic_core import PydanticSerializationError

            raise PydanticSerializationError(message) from None
        warnings.warn(message, UserWarning, stacklevel=3)  # the caller of _unwrapping
        return method(self, *args, **{**kwargs, "warnings": False})

    return dumping


def _decide_on_serialisation(cls: Any) -> None:
    """Wrap the serialiser of the model, and of every subclass pydantic makes of it (an
    undecorated subclass, a parametrised generic), so that every managed field it emits is
    read through its guard first, keeping the model's own ``model_serializer``; hide
    inputs in its validation errors; rebuild the model."""

    def decide(value: Any, info: Any) -> None:
        if isinstance(value, cls):
            include, exclude = _every_field_if_all(info.include), info.exclude
            for name in _policies.managed_names(type(value))[0]:
                if include is not None and name not in include:
                    continue
                if _left_out(exclude, name):
                    continue
                getattr(value, name)

    def __get_pydantic_core_schema__(klass: Any, source: Any, handler: Any) -> Any:
        schema = handler(source)
        if (
            isinstance(klass, type)
            and issubclass(klass, cls)
            and schema.get("type") == "model"
            and schema.get("cls") is klass
        ):
            serialization = _deciding(decide, schema.get("serialization"))
            schema = {**schema, "serialization": serialization}
        return schema

    cls.__get_pydantic_core_schema__ = classmethod(__get_pydantic_core_schema__)
    cls.model_config = {**cls.model_config, "hide_input_in_errors": True}
    cls.model_rebuild(force=True)


def _deciding(decide: Callable[[Any, Any], None], own: Any) -> Any:
    """A wrap serialiser that calls *decide*, then the model's own serialiser *own* (its
    ``model_serializer``, if it has one) or pydantic's."""
    from pydantic_core import core_schema

    if own is None:

        def serialise(value: Any, handler: Any, info: Any) -> Any:
            decide(value, info)
            return handler(value)

        return core_schema.wrap_serializer_function_ser_schema(serialise, info_arg=True)
    function = own["function"]
    takes_info = bool(own.get("info_arg"))
    wraps = own["type"] == "function-wrap"
    json_only = own.get("when_used", "always") in ("json", "json-unless-none")

    def serialise_own(value: Any, handler: Any, info: Any) -> Any:
        decide(value, info)
        if json_only and not info.mode_is_json():
            return handler(value)
        given = (value, handler) if wraps else (value,)
        return function(*given, info) if takes_info else function(*given)

    # a json-only serialiser's return type is not what pydantic's own returns in Python
    returns = None if json_only else own.get("return_schema")
    return core_schema.wrap_serializer_function_ser_schema(
        serialise_own, info_arg=True, return_schema=returns
    )


def _every_field_if_all(include: Any) -> Any:
    """*include* (a serialiser's), or None (every field) where it holds ``"__all__"``."""
    if include is not None and "__all__" in include:
        return None
    return include


def _left_out(exclude: Any, name: str) -> bool:
    """True if *exclude* (a serialiser's) leaves the whole field out, not a part of it."""
    if exclude is None or name not in exclude:
        return False
    if isinstance(exclude, set | frozenset):
        return True
    return exclude[name] is True or exclude[name] is Ellipsis
