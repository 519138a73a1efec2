"""Every record kind, as a factory that builds an equivalent record class from one declaration.

A `Declaration` is what a record type declares, independent of any kind: the subject field
``client_id``, the managed fields (``field_0``, ``field_1``, ...) with their purposes,
lawful bases, sensitivity, category and consent requirement, and one plain field
``region``. A `Kind` turns it into a record class of its kind, through that kind's public
declaration form (``purposeful.field`` in an attrs class, ``purposeful.field`` or
``dataclasses.field(metadata=...)`` in a dataclass, ``Annotated[..., purposeful.Managed(...)]``
in a pydantic model, ``mapped_column(info=...)`` or ``Mapped[Annotated[...]]`` in a SQLAlchemy
model, ``purposeful.django.managed(...)`` in a Django model), and lists the kind's own ways a
value can leave a record: its serialisers, copies and comparisons. The ORM kinds compare rows
by identity (or primary key): ``==`` and ``hash`` read nothing there, and are checked as
operations that are not reads. A documented limit of a kind (SQLAlchemy's
``inspect(row).dict``, Django's ``values()``, ``vars()`` of either) is not a way out to check.

Every class a factory builds is named `RECORD_TYPE` (``@purposeful.record(name=...)``), so
decisions about equivalent fields of different kinds are equal values and can be compared
directly. A new kind (SQLAlchemy, Django) joins the property suite by adding one `Kind` to
`KINDS`: a ``build`` function and its ``ways_out``.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import itertools
import pickle
import warnings
import weakref
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import attrs
from hypothesis import strategies as st

import purposeful
from purposeful import LawfulBasis, Level, Managed, PurposeRegistry, ServiceAgreement
from purposeful.errors import DictStorageWarning
from purposeful.sensitivity import NZ_CLASSIFICATION

REGISTRY = PurposeRegistry.default()
PURPOSE_IDS = tuple(p.id for p in REGISTRY)
CATEGORY_IDS = tuple(c.id for c in purposeful.get_configuration().categories)
LEVELS = tuple(NZ_CLASSIFICATION)
#: The name every built class is given as a record type, whatever its kind.
RECORD_TYPE = "KindProbe"
SUBJECT = "client_id"
PLAIN = "region"
PLAIN_VALUE = "Wellington"
#: the basis of an open purpose (one that names no bases of its own)
OPEN_BASIS = ServiceAgreement("Property suite agreement")


@attrs.frozen
class FieldSpec:
    """One managed field of a declaration, as `purposeful.Managed` takes it."""

    name: str
    purposes: tuple[tuple[str, LawfulBasis], ...]
    sensitivity: Level
    category: str | None
    consent: bool | tuple[str, ...]

    def managed(self) -> Any:
        """The field's declaration as a pydantic model or dataclass metadata takes it."""
        return Managed(
            purposes=dict(self.purposes),
            sensitivity=self.sensitivity,
            category=self.category,
            consent=self.consent,
        )

    def field(self, **options: Any) -> Any:
        """The field's declaration as ``purposeful.field`` (attrs classes, dataclasses)."""
        return purposeful.field(
            purposes=dict(self.purposes),
            sensitivity=self.sensitivity,
            category=self.category,
            consent=self.consent,
            **options,
        )


@attrs.frozen
class Declaration:
    """A record type: ``client_id`` (the subject), the managed `fields`, then ``region``."""

    fields: tuple[FieldSpec, ...]

    @property
    def managed(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        return (SUBJECT, *self.managed, PLAIN)


def _bases(purpose_id: str) -> tuple[LawfulBasis, ...]:
    bases = REGISTRY.get(purpose_id).bases
    return tuple(bases) if bases else (OPEN_BASIS,)


@st.composite
def field_specs(draw: st.DrawFn, name: str) -> FieldSpec:
    """A managed field declared for some purposes of the default registry, each on a basis
    it may rest on, with a sensitivity, maybe a category and maybe a consent requirement."""
    declared = draw(st.lists(st.sampled_from(PURPOSE_IDS), min_size=1, max_size=3, unique=True))
    purposes = tuple((p, draw(st.sampled_from(_bases(p)))) for p in declared)
    below = [p for p in PURPOSE_IDS if any(p == d or p.startswith(d + ".") for d in declared)]
    consent: bool | tuple[str, ...] = draw(
        st.one_of(
            st.booleans(),
            # consent for some declared purposes, or for a purpose below one
            st.lists(
                st.sampled_from(below),
                min_size=1,
                max_size=2,
                unique=True,
            ).map(tuple),
        )
    )
    return FieldSpec(
        name=name,
        purposes=purposes,
        sensitivity=draw(st.sampled_from(LEVELS)),
        category=draw(st.none() | st.sampled_from(CATEGORY_IDS)),
        consent=consent,
    )


@st.composite
def declarations(draw: st.DrawFn, max_fields: int = 3) -> Declaration:
    """Record types of 1 to *max_fields* managed fields."""
    count = draw(st.integers(1, max_fields))
    return Declaration(tuple(draw(field_specs(f"field_{n}")) for n in range(count)))


#: every class the factories built
_BUILT: weakref.WeakSet[type] = weakref.WeakSet()


def _as_record(cls: type) -> type:
    """*cls* decorated with ``@purposeful.record``, named `RECORD_TYPE`, its tier's warning
    filtered (the dict tier is what some of these kinds are)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        made = purposeful.record(cls, subject=SUBJECT, name=RECORD_TYPE)
    _BUILT.add(made)
    return made


# --- attrs ---


def _attrs_class(declaration: Declaration, *, slots: bool) -> type:
    body: dict[str, Any] = {SUBJECT: attrs.field(type=str)}
    body.update({f.name: f.field(type=str) for f in declaration.fields})
    body[PLAIN] = attrs.field(type=str, default=PLAIN_VALUE)
    return _as_record(attrs.make_class("AttrsProbe", body, slots=slots))


ATTRS_WAYS_OUT: dict[str, Callable[[Any], Any]] = {
    "attrs.asdict": attrs.asdict,
    "attrs.astuple": attrs.astuple,
    "attrs.evolve": lambda r: attrs.evolve(r, region="Otago"),
}


# --- dataclasses ---


def _dataclass(declaration: Declaration, **options: Any) -> type:
    fields: list[Any] = [(SUBJECT, str)]
    for n, spec in enumerate(declaration.fields):
        # both public declaration forms: purposeful.field, and dataclasses' own metadata
        if n % 2 == 0:
            fields.append((spec.name, str, spec.field()))
        else:
            metadata = {"purposeful": spec.managed()}
            fields.append((spec.name, str, dataclasses.field(metadata=metadata)))
    fields.append((PLAIN, str, dataclasses.field(default=PLAIN_VALUE)))
    return _as_record(dataclasses.make_dataclass("DataclassProbe", fields, **options))


DATACLASS_WAYS_OUT: dict[str, Callable[[Any], Any]] = {
    "dataclasses.asdict": dataclasses.asdict,
    "dataclasses.astuple": dataclasses.astuple,
    "dataclasses.replace": lambda r: dataclasses.replace(r, region="Otago"),
}


# --- pydantic ---


def _pydantic_model(declaration: Declaration) -> type:
    import pydantic

    fields: dict[str, Any] = {SUBJECT: (str, ...)}
    for spec in declaration.fields:
        fields[spec.name] = (Annotated[str, spec.managed()], ...)
    fields[PLAIN] = (str, PLAIN_VALUE)
    model = pydantic.create_model("PydanticProbe", **fields)
    return _as_record(model)


def _type_adapter_python(record: Any) -> Any:
    import pydantic

    return pydantic.TypeAdapter(type(record)).dump_python(record)


def _type_adapter_json(record: Any) -> Any:
    import pydantic

    return pydantic.TypeAdapter(list[type(record)]).dump_json([record])  # type: ignore[misc]


PYDANTIC_WAYS_OUT: dict[str, Callable[[Any], Any]] = {
    "model_dump": lambda r: r.model_dump(),
    "model_dump(mode=json)": lambda r: r.model_dump(mode="json"),
    "model_dump_json": lambda r: r.model_dump_json(),
    "dict()": dict,
    "iteration": list,
    "model_copy": lambda r: r.model_copy(),
    "model_copy(deep=True)": lambda r: r.model_copy(deep=True),
    "TypeAdapter.dump_python": _type_adapter_python,
    "TypeAdapter.dump_json": _type_adapter_json,
}

#: pydantic's entry points that wrap a refusal raised inside pydantic-core (documented in
#: the pydantic kind's module): outside a scope the error names the refusal; inside one,
#: the scope's exit raises the refusal itself.
PYDANTIC_WRAPPED = frozenset({"TypeAdapter.dump_python", "TypeAdapter.dump_json"})


# --- SQLAlchemy ---


def _sqlalchemy_model(declaration: Declaration) -> type:
    """A declarative model on a base of its own (its own metadata: no table name clashes),
    the subject its primary key, the managed columns declared in ``mapped_column(info=...)``
    and in ``Mapped[Annotated[str, Managed(...)]]`` in turn."""
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    annotations: dict[str, Any] = {SUBJECT: Mapped[str]}
    body: dict[str, Any] = {"__tablename__": "kind_probe", SUBJECT: mapped_column(primary_key=True)}
    for n, spec in enumerate(declaration.fields):
        if n % 2 == 0:
            annotations[spec.name] = Mapped[str]
            body[spec.name] = mapped_column(info={"purposeful": spec.managed()})
        else:
            annotations[spec.name] = Mapped[Annotated[str, spec.managed()]]
    annotations[PLAIN] = Mapped[str]
    body[PLAIN] = mapped_column(default=PLAIN_VALUE)
    body["__annotations__"] = annotations
    return _as_record(type("SqlalchemyProbe", (Base,), body))


def _sqlalchemy_loaded_model(declaration: Declaration) -> type:
    """`_sqlalchemy_model`, whose instances are rows loaded back from a database."""
    cls = _sqlalchemy_model(declaration)
    _MAKERS[cls] = _loaded_row
    return cls


def _loaded_row(cls: type, fields: Mapping[str, str]) -> Any:
    """A row of *cls* written to an in-memory SQLite database of its own (an equal twin has
    the same primary key), then loaded back by ``session.get`` in a new identity map: every
    column loaded by SQLAlchemy's unit of work, the session closed."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.orm import Session

    engine = create_engine("sqlite://")
    try:
        cls.metadata.create_all(engine)  # type: ignore[attr-defined]
        written = cls(**fields)
        with Session(engine) as session:
            session.add(written)
            session.commit()
            session.expunge_all()
            row = session.get(cls, fields[SUBJECT])
        state = inspect(row)
        assert row is not written  # a new instance, built by loading the row
        assert state.detached
        assert not state.unloaded
        return row
    finally:
        engine.dispose()


# pickling and copying are the common ways out; repr is checked as a showing, as for all
SQLALCHEMY_WAYS_OUT: dict[str, Callable[[Any], Any]] = {}


# --- Django ---

_DJANGO_MODEL_NUMBERS = itertools.count()


def _django_model(declaration: Declaration) -> type:
    """A model of the test settings' app, under a name no other build has (Django's app
    registry keeps every model by name), its managed fields declared with
    ``purposeful.django.managed``; the automatic primary key ``id`` is a plain field."""
    from django.db import models

    from _django_settings import RECORDS_APP
    from purposeful.django import managed

    body: dict[str, Any] = {
        "__module__": __name__,
        "Meta": type("Meta", (), {"app_label": RECORDS_APP}),
        SUBJECT: models.CharField(max_length=64),
    }
    for spec in declaration.fields:
        body[spec.name] = managed(
            models.TextField(),
            purposes=dict(spec.purposes),
            sensitivity=spec.sensitivity,
            category=spec.category,
            consent=spec.consent,
        )
    body[PLAIN] = models.CharField(max_length=40, default=PLAIN_VALUE)
    name = f"DjangoProbe{next(_DJANGO_MODEL_NUMBERS)}"
    return _as_record(type(name, (models.Model,), body))


def _model_to_dict(record: Any) -> Any:
    from django.forms.models import model_to_dict

    return model_to_dict(record)


def _serialized(form: str) -> Callable[[Any], Any]:
    def serialize(record: Any) -> Any:
        from django.core import serializers

        return serializers.serialize(form, [record])

    return serialize


def _values_from_objects(record: Any) -> Any:
    return [f.value_from_object(record) for f in record._meta.concrete_fields]


def _serializable_values(record: Any) -> Any:
    return [record.serializable_value(f.name) for f in record._meta.concrete_fields]


DJANGO_WAYS_OUT: dict[str, Callable[[Any], Any]] = {
    "model_to_dict": _model_to_dict,
    'serializers.serialize("python")': _serialized("python"),
    'serializers.serialize("json")': _serialized("json"),
    "Field.value_from_object": _values_from_objects,
    "serializable_value": _serializable_values,
}


# --- the registry ---


class _Pickler(pickle.Pickler):
    """A pickler that saves a record class built here by reference to an id: the classes a
    factory builds live in no module pickle could find them in by name."""

    def persistent_id(self, obj: Any) -> str | None:
        if isinstance(obj, type) and obj in _BUILT:
            return f"record-class-{id(obj)}"
        return None


def pickled(record: Any) -> bytes:
    """*record* pickled: its state as ``pickle.dumps`` would save it."""
    buffer = io.BytesIO()
    _Pickler(buffer).dump(record)
    return buffer.getvalue()


#: Every kind: the ways out common to all of them; each kind adds its own.
COMMON_WAYS_OUT: dict[str, Callable[[Any], Any]] = {
    "pickle": pickled,
    "copy.copy": copy.copy,
    "copy.deepcopy": copy.deepcopy,
}


@attrs.frozen
class Kind:
    """A record kind in the property suite.

    Attributes:
        name: the test id.
        build: a declaration → an equivalent record class of this kind.
        ways_out: the kind's own serialisers, copies and conversions, each a callable of a
            record; every one hands out managed values, so each is a read.
        hashable: instances hash by their values (frozen kinds), so ``hash()`` is a way out
            too.
        compares_values: ``==`` compares field values, so it is a way out; otherwise (the
            ORMs: identity, or the primary key) ``==`` and ``hash()`` are not reads.
        extra: plain fields the kind adds to every record (a Django model's ``id``).
        wrapped: the ways out whose refusal the kind's framework wraps in its own error.
        policy_kind: what `purposeful.record_policy(cls).kind` says.
        slotted: whether the kind keeps values in slots (the full tier).
        requires: a module the kind needs; the kind is skipped without it.
    """

    name: str
    build: Callable[[Declaration], type]
    ways_out: Mapping[str, Callable[[Any], Any]]
    policy_kind: str
    slotted: bool
    hashable: bool = False
    compares_values: bool = True
    extra: tuple[str, ...] = ()
    wrapped: frozenset[str] = frozenset()
    requires: str | None = None

    def all_ways_out(self, twin: Any) -> dict[str, Callable[[Any], Any]]:
        """Every way a value leaves a record of this kind; *twin* is an equal record."""
        found = {**COMMON_WAYS_OUT, **self.ways_out}
        found.update(self._comparisons(twin) if self.compares_values else {})
        return found

    def not_reads(self, twin: Any) -> dict[str, Callable[[Any], Any]]:
        """The operations on a record of this kind that hand out no value: they decide
        nothing and raise no refusal, in a scope or outside one."""
        return {} if self.compares_values else self._comparisons(twin)

    def _comparisons(self, twin: Any) -> dict[str, Callable[[Any], Any]]:
        found: dict[str, Callable[[Any], Any]] = {"==": lambda r: r == twin}
        if self.hashable:
            found["hash"] = hash
        return found

    def available(self) -> bool:
        if self.requires is None:
            return True
        try:
            __import__(self.requires)
        except ImportError:
            return False
        return True


KINDS: tuple[Kind, ...] = (
    Kind(
        "attrs-slotted",
        lambda d: _attrs_class(d, slots=True),
        ATTRS_WAYS_OUT,
        "attrs",
        slotted=True,
    ),
    Kind(
        "attrs-dict",
        lambda d: _attrs_class(d, slots=False),
        ATTRS_WAYS_OUT,
        "attrs",
        slotted=False,
    ),
    Kind("dataclass", _dataclass, DATACLASS_WAYS_OUT, "dataclass", slotted=False),
    Kind(
        "dataclass-slots",
        lambda d: _dataclass(d, slots=True),
        DATACLASS_WAYS_OUT,
        "dataclass",
        slotted=True,
    ),
    Kind(
        "dataclass-frozen",
        lambda d: _dataclass(d, frozen=True),
        DATACLASS_WAYS_OUT,
        "dataclass",
        slotted=False,
        hashable=True,
    ),
    Kind(
        "pydantic",
        _pydantic_model,
        PYDANTIC_WAYS_OUT,
        "pydantic",
        slotted=False,
        wrapped=PYDANTIC_WRAPPED,
        requires="pydantic",
    ),
    Kind(
        "sqlalchemy",
        _sqlalchemy_model,
        SQLALCHEMY_WAYS_OUT,
        "sqlalchemy",
        slotted=False,
        hashable=True,
        compares_values=False,
        requires="sqlalchemy",
    ),
    Kind(
        "sqlalchemy-loaded",
        _sqlalchemy_loaded_model,
        SQLALCHEMY_WAYS_OUT,
        "sqlalchemy",
        slotted=False,
        hashable=True,
        compares_values=False,
        requires="sqlalchemy",
    ),
    Kind(
        "django",
        _django_model,
        DJANGO_WAYS_OUT,
        "django",
        slotted=False,
        # an unsaved model instance (no primary key) is unhashable, and equal only to itself
        compares_values=False,
        extra=("id",),
        requires="django",
    ),
)


def available_kinds() -> tuple[Kind, ...]:
    """The kinds whose framework is installed."""
    return tuple(k for k in KINDS if k.available())


def build(kind: Kind, declaration: Declaration) -> type:
    """The record class of *kind* for *declaration*."""
    return kind.build(declaration)


#: how the instances of a built class are made, when not in memory by keyword
_MAKERS: weakref.WeakKeyDictionary[type, Callable[[type, Mapping[str, str]], Any]] = (
    weakref.WeakKeyDictionary()
)


def instance(cls: type, subject: str, values: Mapping[str, str]) -> Any:
    """A record of *cls* about *subject*, every field given by keyword (then, for a kind
    that loads its rows back from a database, loaded back)."""
    fields = {SUBJECT: subject, **values, PLAIN: PLAIN_VALUE}
    make = _MAKERS.get(cls)
    return cls(**fields) if make is None else make(cls, fields)
