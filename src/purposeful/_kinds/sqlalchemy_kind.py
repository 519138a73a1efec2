"""The SQLAlchemy record kind: classes mapped by the SQLAlchemy 2 ORM (declarative models).

A mapped class keeps its values in the instance ``__dict__`` (the second tier of 'What is
a read') and reaches them through the ``InstrumentedAttribute`` SQLAlchemy puts on the class
for each mapped attribute. That attribute is both the query-building expression
(``Model.column == x``, read on the class) and the instance descriptor (``row.column``). The
guard keeps the attribute object itself, which the mapper and every query hold, and changes
its class to a subclass whose ``__get__`` is the generated guard (`_guard`) for an instance
and the attribute itself for the class. So:

- a read of a managed column on an instance is decided *before* SQLAlchemy loads anything:
  a lazy load of a deferred column, the load of an expired attribute (after a commit, an
  ``expire``), ``session.get`` and ``session.refresh`` all end in the same decided read,
  and a column deferred with ``raiseload`` by `purposeful.sqlalchemy.minimised` is refused
  as usual rather than raising SQLAlchemy's error;
- ``Model.column`` on the class is untouched: ``select``, ``where``, ``order_by``,
  ``load_only`` and the rest build queries as before;
- writes go through SQLAlchemy's own ``__set__`` (change tracking, events) unchecked; the
  subject column refuses a change once set;
- the unit of work (flush, commit, merge, refresh, loading rows) reads and writes
  ``__dict__`` and the instance state directly: the documented framework internals of the
  ``__dict__`` tier;
- pickling and copying read every managed column held; ``repr`` masks managed columns and
  the subject, and never loads anything; ``==`` and ``hash`` are the ORM's (identity) and
  read nothing.

Mapped subclasses (single- and joined-table inheritance) get their own attributes from
SQLAlchemy; a listener guards them under the base's declarations as each is mapped, and
another, when the mappers are configured, gives an undecorated one the base's policy and
masked repr, or refuses it if it declares managed columns of its own. The primary key and
foreign keys cannot be managed: SQLAlchemy hands them out as identities; nor can a managed
column be the discriminator, inside a composite, the key of a keyed collection or the target
of a foreign key (SQLAlchemy reads its value from the instance state for each). The subject's
``set`` event refuses a change made around the descriptor (``merge``, ``set_attribute``).
Those refusals of mappings are `sqlalchemy_checks`'.

This module is reached only for a class SQLAlchemy has instrumented (``_sa_class_manager``
in its own ``__dict__``); the core never imports it, or SQLAlchemy, otherwise.
"""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import _guard, _policies
from ..errors import AnnotationError, SubjectChangeRefused
from . import (
    METADATA_KEY,
    PLACEHOLDER,
    SUBJECT_PLACEHOLDER,
    DeclaredField,
    PrettyRepr,
    RecordKind,
    database_errors,
    refuse_cached,
)

if TYPE_CHECKING:
    from ..records import FieldPolicy, RecordPolicy

__all__ = ["SQLALCHEMY", "SqlalchemyKind"]

#: The attribute SQLAlchemy's instrumentation sets on every class it maps.
MANAGER_ATTRIBUTE = "_sa_class_manager"
_MISSING = object()


class SqlalchemyKind(RecordKind):
    """Classes mapped by the SQLAlchemy 2 ORM."""

    name = "sqlalchemy"

    def recognises(self, cls: type) -> bool:
        return MANAGER_ATTRIBUTE in cls.__dict__

    def fields(self, cls: type) -> list[DeclaredField]:
        from . import sqlalchemy_checks as checks

        checks.refuse_field_markers(cls)
        found = []
        for prop in _properties(cls):
            columns = getattr(prop, "columns", None)
            if columns is None:  # a relationship, a composite, a synonym
                if METADATA_KEY in getattr(prop, "info", {}):
                    raise AnnotationError(
                        f"{cls.__qualname__}.{prop.key}: only columns can be managed fields; "
                        f"a relationship leads to records of their own: declare the managed "
                        f"columns on the related class and decorate it with @purposeful.record"
                    )
                continue
            declared = declared_in_info(prop)
            annotated = declared_in_annotation(cls, prop.key)
            if declared is not None and annotated is not None and declared != annotated:
                raise AnnotationError(
                    f"{cls.__qualname__}.{prop.key} is declared twice, in "
                    f"mapped_column(info=...) and in its Annotated[...] type, differently; "
                    f"keep one declaration"
                )
            tag = declared if declared is not None else annotated
            if tag is not None:
                checks.refuse_a_key(cls, prop)
            found.append(DeclaredField(prop.key, tag))
        managed = {f.name for f in found if f.declaration is not None}
        checks.refuse_what_tells_managed_values(cls, managed)
        return found

    def slotted(self, cls: type) -> bool:
        return False

    def reader(self, cls: type, name: str, *, managed: bool = False) -> Callable[[Any], Any]:
        return _raw_reader(name)

    def install(self, cls: type, policy: RecordPolicy) -> None:
        from sqlalchemy import event

        from . import sqlalchemy_checks as checks

        for field_policy in policy.fields.values():
            object.__setattr__(field_policy, "_raw", _raw_reader(field_policy.name))
        guards = {n: _guard_class(cls, p, policy.subject) for n, p in policy.fields.items()}
        if policy.subject not in guards:
            guards[policy.subject] = _subject_class()
        mapper = mapper_of(cls)
        for klass in [m.class_ for m in mapper.self_and_descendants]:
            _swap(klass, guards)
        checks.mark_managed_columns(cls, mapper, policy)
        database_errors.scrub_sqlalchemy()

        def guard_subclass(sub_mapper: Any, sub_cls: type) -> None:
            if sub_cls is not cls and _policies.POLICY_ATTR not in sub_cls.__dict__:
                _swap(sub_cls, guards)

        event.listen(mapper, "after_mapper_constructed", guard_subclass, propagate=True)
        event.listen(
            mapper,
            "mapper_configured",
            checks.failing_closed(_under_the_base(cls, policy)),
            propagate=True,
        )
        event.listen(
            getattr(cls, policy.subject),
            "set",
            _refuse_a_subject_change,
            active_history=True,
            propagate=True,
        )
        managed = tuple(policy.fields)
        keep_deferred = _keep_deferred_through_expiry(cls, managed)
        note_subject = _refuse_a_reloaded_subject_change(cls, policy.subject)
        from .._consent import expect_loaded

        def loaded(state: Any, _context: Any) -> None:
            """Every row loaded: one listener, given the instance state (``raw=True``), for
            what three need (SQLAlchemy's dispatch costs more than their bodies). Rows
            loaded in a scope note their people, whose consent is asked in one batch."""
            target = state.obj()
            subject = note_subject(state, target)
            keep_deferred(state, target)
            expect_loaded(target, subject)

        event.listen(cls, "load", loaded, raw=True, propagate=True)
        getstate = getattr(cls, "__getstate__", object.__getstate__)

        def __getstate__(self: Any) -> Any:
            """Pickling and copying read every managed column the instance holds (no
            local holds its values while a guard decides: a refusal's traceback shows none),
            in its ``__dict__`` or in the instance state's ``committed_state``, which
            SQLAlchemy pickles too (the value before ``del row.column``)."""
            for name in [name for name in managed if _held(self, name)]:
                getattr(self, name)
            return getstate(self)

        type.__setattr__(cls, "__getstate__", __getstate__)
        type.__setattr__(cls, "__repr__", _masked_repr(cls, policy.subject, frozenset(managed)))
        type.__setattr__(cls, "_repr_pretty_", PrettyRepr())


SQLALCHEMY = SqlalchemyKind()


def _held(obj: Any, name: str) -> bool:
    """Whether *obj* holds a value of the column *name*: in its ``__dict__``, or as the
    committed value SQLAlchemy keeps for the flush after a change or a ``del``."""
    if name in obj.__dict__:
        return True
    from sqlalchemy.orm.base import NO_VALUE

    state = obj.__dict__.get("_sa_instance_state")
    committed = state.committed_state if state is not None else {}
    return name in committed and committed[name] is not NO_VALUE


_DEFERRED = "purposeful.deferred"


def _keep_deferred_through_expiry(
    cls: type, managed: tuple[str, ...]
) -> Callable[[Any, Any], None]:
    """A managed column a query deferred (``minimised``, ``defer``) stays deferred when the
    instance expires: SQLAlchemy would otherwise reload it with the next read of any column.
    Returns what a row's ``load`` does (state, instance), for the kind's one load listener."""
    from sqlalchemy import event

    def loaded(state: Any, target: Any) -> None:
        # every loaded row comes here: the common case (nothing deferred) costs one lookup
        callables = state.callables
        deferred = {n: callables[n] for n in managed if n in callables} if callables else {}
        if deferred:
            if decorated(type(target)) is cls:
                state.info[_DEFERRED] = deferred
        elif _DEFERRED in vars(state).get("info", {}):  # a refresh loaded them: forget
            del state.info[_DEFERRED]

    def expired(target: Any, attrs: Any) -> None:
        if attrs is not None or decorated(type(target)) is not cls:
            return
        state = target._sa_instance_state
        for name, loader in state.info.get(_DEFERRED, {}).items():
            state.expired_attributes.discard(name)
            state.callables[name] = loader

    def refreshed(target: Any, *_: Any) -> None:
        loaded(target._sa_instance_state, target)

    event.listen(cls, "refresh", refreshed, propagate=True)
    event.listen(cls, "expire", expired, propagate=True)
    return loaded


def decorated(klass: type) -> type | None:
    for base in klass.__mro__:
        if _policies.POLICY_ATTR in base.__dict__:
            return base
    return None


def _under_the_base(cls: type, policy: RecordPolicy) -> Callable[[Any, type], None]:
    """A ``mapper_configured`` listener for the mapped subclasses of *cls*: a subclass not
    decorated itself is guarded under *cls*'s declarations, so it must declare no managed
    column of its own, and it takes *cls*'s policy (for `project`) and masked repr (over a
    ``MappedAsDataclass`` repr that would read every column)."""

    def configured(sub_mapper: Any, sub_cls: type) -> None:
        if sub_cls is cls or _policies.POLICY_ATTR in sub_cls.__dict__:
            return
        refuse_cached(sub_cls)
        own = [f.name for f in SQLALCHEMY.fields(sub_cls) if f.declaration is not None]
        if any(name not in policy.fields for name in own):
            raise AnnotationError(
                f"{sub_cls.__qualname__} declares managed columns "
                f"({', '.join(n for n in own if n not in policy.fields)}) but is not "
                f"decorated, so they would be read undecided: decorate it with "
                f"@purposeful.record(subject={policy.subject!r})"
            )
        _policies.set_policy(sub_cls, policy)
        masked = _masked_repr(sub_cls, policy.subject, frozenset(policy.fields))
        type.__setattr__(sub_cls, "__repr__", masked)

    return configured


_SUBJECT = "purposeful.subject"


def _refuse_a_reloaded_subject_change(cls: type, subject: str) -> Callable[[Any, Any], Any]:
    """A row whose subject column another connection changed (a merge of duplicate clients)
    is refused when it reloads (``expire_on_commit``, ``session.refresh``,
    ``populate_existing``), as a change through the attribute is: SQLAlchemy writes what it
    loads into the instance ``__dict__``, past the subject's guard, and the hot path would
    go on answering for the person the row was loaded for. Returns what a row's ``load``
    does (state, instance → the subject id as loaded), for the kind's one load listener.

    A subject that is the primary key needs none of this: a row is reloaded by its identity,
    so a row whose key another connection changed is gone for the session
    (``ObjectDeletedError``), and a query that finds it under its new key gives a new
    instance."""
    from sqlalchemy import event

    prop = mapper_of(cls).get_property(subject)
    if any(column.primary_key for column in getattr(prop, "columns", ())):

        def as_loaded(state: Any, target: Any) -> Any:
            return target.__dict__.get(subject)

        return as_loaded

    def loaded(state: Any, target: Any) -> Any:
        found = state.info[_SUBJECT] = target.__dict__.get(subject)
        return found

    def refreshed(target: Any, context: Any, attrs: Any) -> None:
        state = target._sa_instance_state
        held = vars(state).get("info", {})
        now = target.__dict__.get(subject)
        if _SUBJECT in held and now is not None and held[_SUBJECT] is not None:
            same = _guard._equal(held[_SUBJECT], now)
            del now
            if not same:
                raise SubjectChangeRefused(
                    f"{type(target).__qualname__}.{subject} identifies the person the record "
                    f"is about, and the row now names another person in the database: load "
                    f"it again in a new session (or after session.expunge) to read it as "
                    f"that person's record"
                )
            return
        state.info[_SUBJECT] = now

    event.listen(cls, "refresh", refreshed, propagate=True)
    return loaded


def _refuse_a_subject_change(target: Any, value: Any, old: Any, initiator: Any) -> None:
    """The subject attribute's ``set`` event: ``session.merge``, ``attributes.set_attribute``
    and every other write through SQLAlchemy's attribute machinery reach it."""
    from sqlalchemy.orm.base import NO_VALUE

    same = old is NO_VALUE or old is None or _guard._equal(old, value)
    del old
    if not same:
        del value  # no subject id in this frame when it raises
        raise SubjectChangeRefused(
            f"{type(target).__qualname__}.{initiator.key} identifies the person the record is "
            f"about and cannot be changed once set (by assignment, by a relationship that "
            f"sets it, such as moving the record to another parent row, by session.merge of "
            f"another row with the same primary key, or by attributes.set_attribute): build "
            f"a new record for the other person instead"
        )


def mapper_of(cls: type) -> Any:
    mapper = cls.__dict__[MANAGER_ATTRIBUTE].mapper
    if mapper is None:  # pragma: no cover - instrumented but not (yet) mapped
        raise AnnotationError(
            f"{cls.__qualname__} is instrumented by SQLAlchemy but not mapped; decorate the "
            f"mapped class with @purposeful.record"
        )
    return mapper


def _properties(cls: type) -> list[Any]:
    """The mapper's properties in order, without configuring the mappers (``Mapper.attrs``
    would, and fail on a relationship to a class not defined yet)."""
    return list(mapper_of(cls)._props.values())


def declared_in_info(prop: Any) -> object | None:
    """The declaration in ``mapped_column(info=...)`` (the column's) or the property's info."""
    infos: list[dict[str, object]] = [getattr(c, "info", None) or {} for c in prop.columns]
    for info in [*infos, prop.info or {}]:
        if METADATA_KEY in info:
            return info[METADATA_KEY]
    return None


def declared_in_annotation(cls: type, name: str) -> object | None:
    """The `FieldTag` in the column's ``Mapped[Annotated[..., Managed(...)]]`` annotation."""
    for klass in cls.__mro__:
        annotation = inspect.get_annotations(klass).get(name)
        if annotation is None:
            continue
        if isinstance(annotation, str):
            module = sys.modules.get(klass.__module__)
            try:
                scope = dict(vars(module)) if module else {}
                annotation = eval(annotation, scope, dict(vars(klass)))
            except Exception:
                if "Managed" not in annotation:
                    return None
                raise AnnotationError(
                    f"{cls.__qualname__}.{name}: its annotation {annotation!r} cannot be "
                    f"resolved where the class is defined, so its purposeful.Managed(...) "
                    f"cannot be read; import what it names at module level, or declare it in "
                    f"mapped_column(info={{'purposeful': purposeful.Managed(...)}})"
                ) from None
        return _tag_in(annotation)
    return None


def _tag_in(annotation: Any, aliases: frozenset[int] = frozenset()) -> object | None:
    """The `FieldTag` in *annotation*, looking through ``Annotated``, type arguments and
    type aliases (``type Secret = Annotated[...]``; each alias once: one may name itself)."""
    if type(annotation).__name__ == "TypeAliasType":
        if id(annotation) in aliases:
            return None
        return _tag_in(annotation.__value__, aliases | {id(annotation)})
    origin = typing.get_origin(annotation)
    if type(origin).__name__ == "TypeAliasType":  # a generic alias used: Secret[str]
        found = _tag_in(origin, aliases)
        if found is not None:
            return found
    if origin is typing.Annotated:
        for extra in annotation.__metadata__:
            if type(extra).__name__ == "FieldTag":
                return extra  # type: ignore[no-any-return]
        return _tag_in(annotation.__origin__, aliases)
    for argument in typing.get_args(annotation):
        found = _tag_in(argument, aliases)
        if found is not None:
            return found
    return None


def _raw_reader(name: str) -> Callable[[Any], Any]:
    """Read *name* as SQLAlchemy would, loading it if needed, with no decision."""
    from sqlalchemy.orm.attributes import InstrumentedAttribute

    get = InstrumentedAttribute.__get__

    def raw(obj: Any) -> Any:
        try:
            return obj.__dict__[name]
        except KeyError:
            return get(getattr(type(obj), name), obj, None)

    return raw


def _subject_class() -> type:
    """An ``InstrumentedAttribute`` whose value cannot change once set."""
    from sqlalchemy.orm.attributes import InstrumentedAttribute, instance_state

    class SubjectAttribute(InstrumentedAttribute):  # type: ignore[type-arg]
        __slots__ = ()

        def __set__(self, instance: object, value: Any) -> None:
            current = instance.__dict__.get(self.key, _MISSING)
            if current is _MISSING and instance_state(instance).has_identity:
                current = InstrumentedAttribute.__get__(self, instance, None)  # expired
            same = current is _MISSING or current is None or _guard._equal(current, value)
            del current
            if not same:
                del value  # no subject id in this frame when it raises
                raise SubjectChangeRefused(
                    f"{type(instance).__qualname__}.{self.key} identifies the person the "
                    f"record is about and cannot be changed once set: consent and the audit "
                    f"trail follow it. Build a new record for the other person instead"
                )
            super().__set__(instance, value)

        def __delete__(self, instance: object) -> None:
            raise SubjectChangeRefused(
                f"{type(instance).__qualname__}.{self.key} identifies the person the record "
                f"is about and cannot be deleted"
            )

    return SubjectAttribute


def _guard_class(cls: type, policy: FieldPolicy, subject: str) -> type:
    """A subclass of ``InstrumentedAttribute`` whose ``__get__`` is the field's guard."""
    from sqlalchemy.orm.attributes import InstrumentedAttribute

    name = policy.name
    base = _subject_class() if name == subject else InstrumentedAttribute
    read = [
        "try:",
        f"    return obj.__dict__[{name!r}]",
        "except KeyError:",  # deferred, expired, never loaded: SQLAlchemy loads it
        "    return _load(self, obj, None)",
    ]
    source = _guard._getter_source("__get__", read)
    head = "def __get__(obj, /):"
    assert source.startswith(head)
    # the guard as the descriptor's own __get__: one call, and read_slow's caller frame
    # (two up) is the code that read the attribute, as for every other kind
    source = source.replace(head, "def __get__(self, obj, owner=None, /):", 1).replace(
        ":\n", ":\n    if obj is None:\n        return self\n", 1
    )
    namespace = _guard.getter_namespace(policy) | {"_load": InstrumentedAttribute.__get__}
    filename = f"<purposeful guard {cls.__module__}.{cls.__qualname__}.{name}>"
    _guard._compile(source, filename, namespace)
    getter = namespace["__get__"]
    getter.__qualname__ = f"{cls.__qualname__}.{name}.__get__"
    return type(
        f"Guarded{base.__name__}",
        (base,),
        {"__slots__": (), "__get__": getter, "__purposeful_field__": policy},
    )


def _swap(klass: type, guards: dict[str, type]) -> None:
    """Give *klass*'s own attribute for each guarded name its guard class."""
    for name, guard in guards.items():
        attribute = klass.__dict__.get(name)
        if attribute is not None:
            attribute.__class__ = guard


def _masked_repr(cls: type, subject: str, managed: frozenset[str]) -> Callable[[Any], str]:
    """A repr with placeholders for managed columns and the subject, reading the plain
    columns already loaded only: a repr never runs a query."""
    names = [p.key for p in _properties(cls) if hasattr(p, "columns")]

    def __repr__(self: Any) -> str:
        held = self.__dict__
        parts = []
        for name in names:
            if name in managed:
                parts.append(f"{name}={PLACEHOLDER}")
            elif name == subject:
                parts.append(f"{name}={SUBJECT_PLACEHOLDER}")
            elif name in held:
                parts.append(f"{name}={held[name]!r}")
        return f"{type(self).__qualname__}({', '.join(parts)})"

    __repr__.__qualname__ = f"{cls.__qualname__}.__repr__"
    return __repr__
