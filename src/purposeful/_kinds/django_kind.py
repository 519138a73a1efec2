"""The Django record kind: concrete Django models.

A model instance keeps its field values in its ``__dict__`` (the second tier of 'What is a
read'), under each field's ``attname``. Django puts a non-data descriptor on the class for
each field (``DeferredAttribute``, which loads a deferred field); a guard per managed field,
a data descriptor, wins over the instance dictionary, so every attribute read is checked:
``getattr`` by application code, ``Field.value_from_object`` (``model_to_dict``, ModelForm
initial data, the serialisers, ``dumpdata``), the admin's ``lookup_field``, validation
(``full_clean``), ``get_FOO_display``. A deferred managed field is decided first, then
loaded (a refused read makes no query).

The ORM's own reads are exempt: they hand a value to the database or to the same instance,
never to the caller. They are, by code object: ``Field.pre_save`` and the raw path of
``Model._save_table`` (``save()``), ``SQLInsertCompiler.pre_save_val`` and
``QuerySet._prepare_for_bulk_create`` (inserts, ``bulk_create``), ``QuerySet.bulk_update``,
and ``Model.refresh_from_db`` (moving values from a fresh row into the instance, which is
also how a deferred field is loaded). ``Model.__init__`` and ``from_db`` only assign.

A model inheriting from a record without being decorated has its own managed fields fail
closed (`AnnotationError` on read) until it is; ``save()`` raises a `ManagedValueError`
instead of an error quoting a managed value. Pickling and copying read every managed field
first; ``repr`` masks managed fields and the subject. The declaration sits on the field
itself (`purposeful.django.managed`), as an attribute that ``Field.deconstruct`` does not
return, so migrations see no change.

This module never imports Django at import time: it is reached only for a class whose MRO
holds ``django.db.models.base.Model``, and imports Django's internals when it installs.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .. import _guard, _policies
from ..errors import AnnotationError, ManagedValueError
from . import (
    METADATA_KEY,
    DeclaredField,
    PrettyRepr,
    RecordKind,
    database_errors,
    masked_repr,
    scrub,
)

if TYPE_CHECKING:
    from ..records import FieldPolicy, RecordPolicy

__all__ = ["DJANGO", "DjangoKind"]


def _is_model(klass: type) -> bool:
    return klass.__module__ == "django.db.models.base" and klass.__qualname__ == "Model"


class DjangoKind(RecordKind):
    """Concrete subclasses of ``django.db.models.Model``."""

    name = "django"

    def recognises(self, cls: type) -> bool:
        return any(_is_model(k) for k in cls.__mro__) and not _is_model(cls)

    def fields(self, cls: type) -> list[DeclaredField]:
        opts: Any = cls._meta  # type: ignore[attr-defined]
        where = cls.__qualname__
        if opts.abstract:
            raise AnnotationError(
                f"@purposeful.record cannot guard {where}: it is an abstract Django model, which "
                f"has no instances; decorate each concrete model that inherits from it"
            )
        concrete = {id(f) for f in opts.concrete_fields}
        found = []
        # forward fields only: reverse relations need the app registry, which is not ready
        # while Django imports an app's models.py (where this decorator runs)
        for field in [*opts.fields, *opts.many_to_many, *opts.private_fields]:
            declaration = getattr(field, METADATA_KEY, None)
            if declaration is not None and (id(field) not in concrete or field.is_relation):
                raise AnnotationError(
                    f"{where}.{field.name}: purposeful.django.managed(...) declares a column "
                    f"that holds a person's data (a CharField, a TextField, a DateField, ...); "
                    f"a relation or a field with no column of its own cannot be managed. "
                    f"Manage the fields of the related model instead"
                )
            if declaration is not None and field.primary_key:
                raise AnnotationError(
                    f"{where}.{field.name}: the primary key cannot be managed: Django reads it "
                    f"for ==, hash(), URLs and relations. Manage the other fields"
                )
        for field in opts.concrete_fields:
            found.append(DeclaredField(field.attname, getattr(field, METADATA_KEY, None)))
        return found

    def slotted(self, cls: type) -> bool:
        return False

    def reader(self, cls: type, name: str, *, managed: bool = False) -> Callable[[Any], Any]:
        return _loading_reader(name)

    def install(self, cls: type, policy: RecordPolicy) -> None:
        _exempt_the_orms_own_reads()
        refuse_undecorated()
        from .django_checks import register

        register()  # the admin settings that would show managed values: a system check
        for field_policy in policy.fields.values():
            raw = _install_getter(cls, field_policy)
            object.__setattr__(field_policy, "_raw", raw)
        _guard.protect(cls, policy.subject, slotted=False, names_of=lambda c: [])
        for name in ("__getstate__", "__setstate__"):  # Django's own, read first below
            type.__delattr__(cls, name)
        subject = cls.__dict__[policy.subject]
        if _guard.guarded_field(subject) is None:  # a deferred subject loads, as Django's
            loaded = property(_loading_reader(policy.subject), subject.fset, subject.fdel)
            # not a `property` itself: Django's check models.E025 refuses a property named
            # like a foreign key's attname (``client_id`` of ``client``), a usual subject
            type.__setattr__(cls, policy.subject, _SubjectAttribute(loaded, policy.subject))
        managed = tuple(policy.fields)

        def decide(obj: Any) -> None:
            for name in managed:
                getattr(obj, name)

        type.__setattr__(cls, "__getstate__", _reading_first(getattr(cls, "__getstate__"), decide))  # noqa: B009
        type.__setattr__(
            cls, "__repr__", masked_repr(cls, (policy.subject,), policy.fields, self.fields(cls))
        )
        type.__setattr__(cls, "_repr_pretty_", PrettyRepr())
        type.__setattr__(cls, "save_base", _scrubbing(cls, frozenset(managed), policy.subject))
        # the subject too: its error would quote the raw id
        quoted = frozenset(managed) | {policy.subject}
        type.__setattr__(cls, "clean_fields", _scrubbing_clean(cls, quoted))
        _guard.validates_on_init(cls)  # the slow path looks for the exempt code below
        # rows loaded in a scope: their people's consent is asked in one batch (`_consent`)
        from django.db.models import signals

        from .._consent import expect_loaded

        try:
            attname = cls._meta.get_field(policy.subject).attname  # type: ignore[attr-defined]
        except Exception:  # not a model field: kept under its own name
            attname = policy.subject
        signals.post_init.connect(
            lambda sender, instance, **_: expect_loaded(instance, instance.__dict__.get(attname)),
            sender=cls,
            weak=False,
        )
        database_errors.scrub_django()


DJANGO = DjangoKind()


class _SubjectAttribute:
    """The subject's guard (a property: loads a deferred subject, refuses a change once
    set) under a class Django's system checks do not count as a property.

    A new instance not saved yet whose subject still holds the field's default (Django's
    ``__init__`` sets every field, ``''`` for a ``CharField``) takes a subject: a ModelForm,
    a ``CreateView`` and the admin's add view build the instance first and set the subject
    from the form after."""

    __slots__ = ("_guard", "_name")

    def __init__(self, guard: property, name: str) -> None:
        self._guard = guard
        self._name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else self._guard.__get__(obj, owner)

    def __set__(self, obj: Any, value: Any) -> None:
        state = obj.__dict__.get("_state")
        if state is not None and not state.adding and self._name not in obj.__dict__:
            # a loaded row whose subject was deferred (defer(), only()): load it, so that a
            # change is compared with it (and refused), never taken for a construction
            rows = type(obj)._base_manager.db_manager(state.db).filter(pk=obj.pk)
            obj.__dict__[self._name] = rows.values_list(self._name, flat=True).get()
        if state is not None and state.adding and self._name in obj.__dict__:
            field = obj._meta.get_field(self._name)
            current, blank = obj.__dict__[self._name], field.get_default()
            if current is blank or (type(current) is type(blank) and current == blank):
                del current
                obj.__dict__[self._name] = value
                return
            del current
        self._guard.__set__(obj, value)

    def __delete__(self, obj: Any) -> None:
        self._guard.__delete__(obj)


def _load(name: str) -> Callable[[Any], Any]:
    """Load a deferred field from the database into the instance, as Django's own
    ``DeferredAttribute`` does, and return it; called only after the read was decided."""

    def load(obj: Any) -> Any:
        obj.refresh_from_db(fields=[name])
        return obj.__dict__[name]

    return load


def _loading_reader(name: str) -> Callable[[Any], Any]:
    load = _load(name)

    def read(obj: Any) -> Any:
        try:
            return obj.__dict__[name]
        except KeyError:
            return load(obj)

    return read


def _install_getter(cls: type, policy: FieldPolicy) -> Callable[[Any], Any]:
    """`_guard.install_getter` for a model field: a deferred value is loaded after the
    decision. Returns the undecided reader, which loads too."""
    _guard.install_getter(cls, policy, missing=_load(policy.name))
    return _loading_reader(policy.name)


def _scrubbing(cls: type, managed: frozenset[str], subject: str) -> Callable[..., None]:
    """``save_base`` (under ``save()``), raising a `ManagedValueError` instead of Django's
    error when that quotes a managed value (or the subject) it could not convert for the
    database. (A database's own error is scrubbed apart: `database_errors.scrub_django`.)"""
    save_base = getattr(cls, "save_base")  # noqa: B009
    quoted = managed | {subject}

    @functools.wraps(save_base)
    def scrubbing_save_base(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            save_base(self, *args, **kwargs)
            return
        except (ValueError, TypeError) as exc:
            error: Exception = exc
            held = self.__dict__
            message = scrub.scrubbed(exc, cls, quoted, {n: held[n] for n in quoted if n in held})
            del held
        if message is None:
            raise error
        del error
        raise ManagedValueError(message)

    return scrubbing_save_base


def _scrubbing_clean(cls: type, managed: frozenset[str]) -> Callable[..., None]:
    """``clean_fields`` (under ``full_clean()`` and model forms): a managed field's (or the
    subject's) validation message that quotes its value ("Value '…' is not a valid choice.") is
    replaced by one that names the field and Django's error code, never the value; the
    other messages are Django's own."""
    from django.core.exceptions import ValidationError

    clean_fields = getattr(cls, "clean_fields")  # noqa: B009

    @functools.wraps(clean_fields)
    def scrubbing_clean_fields(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            clean_fields(self, *args, **kwargs)
            return
        except ValidationError as exc:
            errors = dict(exc.error_dict) if hasattr(exc, "error_dict") else None
            if errors is None:
                raise
        held = self.__dict__
        values = {n: held[n] for n in managed if n in held}
        del held
        for name in managed & errors.keys():
            errors[name] = [_unquoted(cls, name, e, values.get(name)) for e in errors[name]]
        del values
        raise ValidationError(errors)

    return scrubbing_clean_fields


def _unquoted(cls: type, name: str, error: Any, value: Any) -> Any:
    """*error* (one of a field's), or an error naming the field and the code instead of a
    message that quotes *value*."""
    from django.core.exceptions import ValidationError

    text = str(error.message % error.params) if error.params else str(error.message)
    quotes = [q for q in scrub.quotes(value) if q] if value is not None else []
    if not any(scrub.quoted(q, text) for q in quotes):
        return error
    return ValidationError(
        f"{cls.__qualname__}.{name} is not valid ({error.code or 'invalid'}); the message is "
        f"not shown because it quotes the value",
        code=error.code,
    )


def _reading_first(method: Callable[..., Any], decide: Callable[[Any], None]) -> Any:
    @functools.wraps(method)
    def reading_first(self: Any, *args: Any) -> Any:
        decide(self)
        return method(self, *args)

    return reading_first


@functools.cache
def _exempt_the_orms_own_reads() -> None:
    """Register the code of Django's own reads that hand a value to the database or to the
    same instance (see the module docstring) as exempt."""
    from django.db.models import Field, Model, QuerySet
    from django.db.models.sql.compiler import SQLInsertCompiler

    for function in (
        Field.pre_save,
        Model._save_table,
        Model.refresh_from_db,
        SQLInsertCompiler.pre_save_val,
        QuerySet._prepare_for_bulk_create,
        QuerySet.bulk_update,
    ):
        for code in _codes(function.__code__):
            _guard.exempt(code)
    QuerySet.bulk_update = _scrubbing_bulk_update(QuerySet.bulk_update)


def _scrubbing_bulk_update(bulk_update: Callable[..., Any]) -> Callable[..., Any]:
    """``QuerySet.bulk_update``, raising a `ManagedValueError` instead of Django's error when
    that quotes a managed value of a record it could not convert for the database (as
    `_scrubbing` does for ``save()``); other models' errors pass unchanged."""

    @functools.wraps(bulk_update)
    def scrubbing_bulk_update(self: Any, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> Any:
        objs = list(objs)  # Django takes any iterable; the values are looked up below
        try:
            return bulk_update(self, objs, fields, *args, **kwargs)
        except (ValueError, TypeError) as exc:
            error: Exception = exc
            message = _bulk_message(exc, self.model, objs)
        if message is None:
            raise error
        del error
        raise ManagedValueError(message)

    return scrubbing_bulk_update


def _bulk_message(exc: Exception, model: type, objs: list[Any]) -> str | None:
    """`scrub.scrubbed` over every managed value (and subject id) the rows of a bulk update
    hold."""
    record = _policies.nearest_policy(model)
    if record is None:
        return None
    managed = frozenset(record.fields) | {record.subject}
    for obj in objs:
        held = getattr(obj, "__dict__", {})
        message = scrub.scrubbed(exc, model, managed, {n: held[n] for n in managed if n in held})
        if message is not None:
            return message
    return None


@functools.cache
def refuse_undecorated() -> None:
    """Make the managed fields of a model that is not (yet) decorated fail closed: reading
    one (its ``save()`` too) raises `AnnotationError`. Connected by the first
    `purposeful.django.managed` call, before any model declaring one is built.

    Django builds a model (``class_prepared``) before ``@purposeful.record`` can decorate
    it, so the refusal is at the read, and the decoration replaces it with the guard. A
    model that declares ``managed(...)`` fields and is never decorated (a forgotten
    decorator, a child of a record) never hands their values out undecided."""
    from django.db.models.signals import class_prepared

    class_prepared.connect(_fail_closed, weak=False, dispatch_uid="purposeful-undecorated")


def _fail_closed(sender: type, **kwargs: Any) -> None:
    from .django_checks import model_problems

    # a relation keyed by a record's managed field, refused as soon as it can be seen (a
    # model named by a string resolves later: the system check, purposeful.E003, finds it)
    for problem in model_problems([sender]):
        raise AnnotationError(f"{problem.msg}: {problem.hint}")
    if _policies.POLICY_ATTR in sender.__dict__:  # decorated already (never, as Django builds it)
        return
    opts: Any = sender._meta  # type: ignore[attr-defined]
    for field in opts.local_concrete_fields:
        if getattr(field, METADATA_KEY, None) is not None:
            type.__setattr__(sender, field.attname, _undecorated(sender, field.attname))


def _undecorated(cls: type, name: str) -> property:
    def refuse(obj: Any) -> Any:
        raise AnnotationError(
            f"{cls.__qualname__}.{name} is declared with purposeful.django.managed(...), but "
            f"{cls.__qualname__} is not decorated, so nothing decides its reads: decorate the "
            f"model with @purposeful.record(subject=...)"
        )

    def setter(obj: Any, value: Any) -> None:
        obj.__dict__[name] = value

    def deleter(obj: Any) -> None:
        del obj.__dict__[name]

    return property(refuse, setter, deleter, doc=f"Managed field {name!r}, undecorated.")


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """*code* and the code of the comprehensions and functions nested in it."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _codes(constant)
