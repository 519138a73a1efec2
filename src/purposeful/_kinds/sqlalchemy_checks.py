"""The SQLAlchemy mappings refused because they would hand a managed column's value out
past the guard, through SQLAlchemy's own state.

At decoration (`refuse_field_markers`, `refuse_a_key`, `refuse_what_tells_managed_values`):
``purposeful.field`` in a mapped class, a managed primary or foreign key, a managed
discriminator, a composite over a managed column, a foreign key of a table already in the
metadata to one. When each mapper is configured (`listen_for_mappers`, set up when
purposeful is imported, or once SQLAlchemy is): what was mapped later (a relationship joined
on a managed column, a collection keyed by one, a column computed from one, a foreign key to
one), a model with managed columns that no decorated class covers, a record of another kind
mapped by SQLAlchemy, and a subject that is a foreign key to another record by another
column than its subject. A refusal at configuration stays refused (`failing_closed`).

What this module must not do: read a managed value or a subject id (it looks at
declarations and mappings only); be imported where SQLAlchemy is not (the record kind
imports it when a mapped class is decorated, `watch_mapped_classes` once SQLAlchemy is).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .. import _policies
from ..errors import AnnotationError
from . import METADATA_KEY
from .sqlalchemy_kind import (
    SQLALCHEMY,
    declared_in_annotation,
    declared_in_info,
    decorated,
    mapper_of,
)

if TYPE_CHECKING:
    from ..records import RecordPolicy

__all__ = [
    "check_configured",
    "failing_closed",
    "listen_for_mappers",
    "mark_managed_columns",
    "refuse_a_key",
    "refuse_field_markers",
    "refuse_what_tells_managed_values",
]


def refuse_a_key(cls: type, prop: Any) -> None:
    """Refuse a managed primary key or foreign key: SQLAlchemy hands their values out
    undecided (the identity key, the identity map, the related row's primary key)."""
    where = f"{cls.__qualname__}.{prop.key}"
    if any(c.primary_key for c in prop.columns):
        raise AnnotationError(
            f"{where}: the primary key cannot be managed: SQLAlchemy hands it out as the "
            f"row's identity (inspect(row).identity, the session's identity map, relations). "
            f"Use a surrogate key and manage the other columns"
        )
    if any(c.foreign_keys for c in prop.columns):
        raise AnnotationError(
            f"{where}: a foreign key column cannot be managed: its value is the related "
            f"row's key, handed out undecided through the relationship. Manage the columns "
            f"of the related class (decorated with @purposeful.record) instead"
        )


#: Set on each managed ``Column`` (its ``Class.field``, for messages); an annotated copy of
#: the column (``Model.column`` in an expression) shares the column's ``__dict__``.
_MANAGED_MARK = "_purposeful_managed"


def mark_managed_columns(cls: type, mapper: Any, policy: RecordPolicy) -> None:
    """Mark *cls*'s managed columns, and check every mapper configured from now on for what
    would hand their values out (`_refuse_at_configuration`)."""
    for name in policy.fields:
        for column in getattr(mapper._props.get(name), "columns", ()):
            column.__dict__.setdefault(_MANAGED_MARK, f"{cls.__qualname__}.{name}")
    listen_for_mappers()


def refuse_field_markers(cls: type) -> None:
    """Refuse ``purposeful.field(...)`` in a mapped class's body: SQLAlchemy maps no column
    for it, so its values would be kept nowhere and guarded by nothing."""
    from ..records import FieldTag

    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            metadata = getattr(value, "metadata", None)  # a MetaData of tables is no dict
            if isinstance(metadata, Mapping) and isinstance(metadata.get(METADATA_KEY), FieldTag):
                raise AnnotationError(
                    f"{cls.__qualname__}.{name}: purposeful.field(...) declares attrs and "
                    f"dataclass fields, and SQLAlchemy maps no column for it (its values would "
                    f"be stored nowhere); in a SQLAlchemy model write {name}: Mapped[<type>] = "
                    f"mapped_column(info={{'purposeful': purposeful.Managed(purposes=...)}})"
                )


@functools.cache
def listen_for_mappers() -> None:
    """Check every mapper configured from now on (`_refuse_at_configuration`); once."""
    from sqlalchemy import event
    from sqlalchemy.orm import Mapper

    event.listen(Mapper, "mapper_configured", _CHECKED)


def check_configured() -> None:
    """Check the mappers configured before `listen_for_mappers` was called (SQLAlchemy came
    in by a way the import hook did not see), in every registry; each one refused stays
    refused (`failing_closed`), and the first refusal is raised.

    Raises:
        AnnotationError: one of them hands a managed value out.
    """
    from sqlalchemy.orm import mapperlib

    registries = getattr(mapperlib, "_all_registries", None)  # SQLAlchemy 2's own list
    first: AnnotationError | None = None
    for registry in list(registries() if registries is not None else ()):
        for mapper in list(registry.mappers):
            if not mapper.configured:
                continue  # checked when it is
            try:
                _CHECKED(mapper, mapper.class_)
            except AnnotationError as refused:
                # as SQLAlchemy keeps a mapper that failed its configuration: every later
                # use of its registry raises this refusal again
                mapper._configure_failed = refused
                flag = getattr(registry, "_flag_new_mapper", None)
                if flag is not None:
                    flag(mapper)
                first = first or refused
    if first is not None:  # every one refused is marked; the first is raised
        raise first


def failing_closed(listener: Callable[[Any, type], None]) -> Callable[[Any, type], None]:
    """*listener*, a ``mapper_configured`` check, made to keep a mapper it refuses refused.
    SQLAlchemy marks a mapper configured before that event, so after one failure the next
    use of the class went on with it (the refusal held once). Marked unconfigured again, the
    mapper is configured at every later use, and SQLAlchemy raises its failure again each
    time (``InvalidRequestError`` quoting this refusal)."""

    @functools.wraps(listener)
    def checked(mapper: Any, cls: type) -> None:
        try:
            listener(mapper, cls)
        except AnnotationError:
            mapper.configured = False
            raise

    return checked


def _marked(column: Any) -> str | None:
    return getattr(column, "__dict__", {}).get(_MANAGED_MARK)


def _managed_among(elements: Any, lookup: Callable[[Any], str | None]) -> str | None:
    """The first managed column (as ``Class.field``) in *elements*: columns or SQL
    expressions, whose every column and the columns they proxy are looked at."""
    from sqlalchemy.sql import visitors
    from sqlalchemy.sql.elements import ClauseElement

    for element in elements:
        if hasattr(element, "__clause_element__"):
            element = element.__clause_element__()
        if not isinstance(element, ClauseElement):
            continue
        for node in visitors.iterate(element):
            for column in getattr(node, "proxy_set", (node,)):
                found = lookup(column)
                if found is not None:
                    return found
    return None


def refuse_what_tells_managed_values(cls: type, managed: set[str]) -> None:
    """At decoration: refuse a managed column that SQLAlchemy would hand out undecided, as
    the row's class (``polymorphic_on``), inside a ``composite()``, or copied into a plain
    column by a foreign key of a table already in the metadata. What is mapped later is
    checked when the mappers are configured (`_refuse_at_configuration`)."""
    from sqlalchemy.orm import Composite

    mapper = mapper_of(cls)
    props = mapper._props
    ids = {id(c): f"{cls.__qualname__}.{n}" for n in managed for c in props[n].columns}

    def lookup(column: Any) -> str | None:
        return ids.get(id(column))

    if ids and mapper.polymorphic_on is not None:
        _refuse_a_discriminator(cls, _managed_among([mapper.polymorphic_on], lookup))
    for prop in props.values():
        if isinstance(prop, Composite):
            names = [a if isinstance(a, str) else getattr(a, "key", None) for a in prop.attrs]
            named = [f"{cls.__qualname__}.{n}" for n in names if n in managed]
            found = named[0] if named else _managed_among(prop.attrs, lookup)
            _refuse_a_composite(f"{cls.__qualname__}.{prop.key}", found)
    metadata = getattr(mapper.local_table, "metadata", None)
    if ids and metadata is not None:
        for table in list(metadata.tables.values()):
            _refuse_a_foreign_key_to(table, lookup)


def _refuse_at_configuration(mapper: Any, cls: type) -> None:
    """``mapper_configured`` of every mapper, once a SQLAlchemy record is declared: refuse
    what hands a managed column's value out undecided (through SQLAlchemy's own state, past
    the guard): a composite over it, a relationship joined on it or a collection keyed by
    it, a foreign key to it, a discriminator on it. Raised as the existing subclass check
    is (the mapper's configuration fails, and stays failed until its registry is disposed
    or the model fixed)."""
    from sqlalchemy import Column
    from sqlalchemy.orm import ColumnProperty, Composite, Relationship

    if mapper.polymorphic_on is not None:
        _refuse_a_discriminator(cls, _managed_among([mapper.polymorphic_on], _marked))
    for table in mapper.tables:
        _refuse_a_foreign_key_to(table, _marked)
    policy = _policies.nearest_policy(cls)
    managed = policy.fields if policy is not None else {}
    _refuse_undecorated(cls, mapper)
    if policy is not None:
        _refuse_a_subject_of_another_key(cls, mapper, policy)
    for prop in list(mapper._props.values()):
        where = f"{prop.parent.class_.__qualname__}.{prop.key}"
        if isinstance(prop, Composite):
            columns = [c for p in prop.props for c in getattr(p, "columns", ())]
            _refuse_a_composite(where, _managed_among(columns, _marked))
        elif isinstance(prop, Relationship):
            _refuse_a_relationship(where, prop)
        elif isinstance(prop, ColumnProperty) and prop.key not in managed:
            # a column computed in SQL (column_property(func.upper(...)), a correlated
            # subquery) from a managed column, not managed itself: its value is loaded into
            # a plain attribute
            computed = [c for c in prop.columns if not isinstance(c, Column)]
            _refuse_a_computed_column(where, _managed_among(computed, _marked))


def _refuse_a_subject_of_another_key(cls: type, mapper: Any, policy: RecordPolicy) -> None:
    """Refuse a record whose subject column is a foreign key to another record's table by
    another column than that record's subject (its primary key, when its subject is
    ``nhi``): one person would be known by two ids, so consent would be asked of the wrong
    person and access histories and reports would split or join people."""
    prop = mapper._props.get(policy.subject)
    for column in getattr(prop, "columns", ()):
        for foreign in getattr(column, "foreign_keys", ()):
            try:
                target = foreign.column
            except Exception:  # a table not declared yet: SQLAlchemy says so itself
                continue
            for other in list(mapper.registry.mappers):
                related = _policies.nearest_policy(other.class_)
                if related is None or target.table is not other.local_table:
                    continue
                subject = other._props.get(related.subject)
                if subject is None or _refers_to(target, subject.columns):
                    continue
                name = other.class_.__qualname__
                raise AnnotationError(
                    f"{cls.__qualname__}'s subject {policy.subject} is a foreign key to "
                    f"{name}.{target.key}, not to {name}'s subject {related.subject}: one "
                    f"person would be known by two ids, so consent would be asked of the "
                    f"wrong person and access histories and reports would split or join "
                    f"people. Make the foreign key refer to {subject.columns[0].table.name}."
                    f"{subject.columns[0].name}, or give {cls.__qualname__} a subject "
                    f"column of its own holding the person's {related.subject}"
                )


def _refers_to(column: Any, subjects: Any) -> bool:
    """True if *column* is one of *subjects* (a subject property's columns), or a foreign
    key to one of them, however many links on (a joined child's primary key is its link to
    the parent's)."""
    seen = 0
    while column is not None and seen < 16:
        if any(column is subject for subject in subjects):
            return True
        links = list(getattr(column, "foreign_keys", ()))
        try:
            column = links[0].column if len(links) == 1 else None
        except Exception:  # a table not declared yet
            return False
        seen += 1
    return False


def _refuse_undecorated(cls: type, mapper: Any) -> None:
    """Refuse a model whose columns are declared managed (``info=`` or ``Annotated``) while
    no class of its MRO is decorated: without ``@purposeful.record`` they would be plain
    attributes, handed out with no decision. Fails closed, as a Django model does. (An
    undecorated subclass of a record is `_under_the_base`'s to check.)"""
    from sqlalchemy.orm import ColumnProperty

    base = decorated(cls)
    if base is not None and _policies.POLICY_ATTR in vars(base):
        policy = vars(base)[_policies.POLICY_ATTR]
        if policy.kind == SQLALCHEMY.name:
            return  # the model, or a mapped record it extends (`_under_the_base`)
        _refuse_remapped(cls, mapper, policy)
    # no decorated class, or only a plain record used as a mixin: it guards none of the
    # model's columns (SQLAlchemy's attributes come first in the MRO)
    for prop in list(mapper._props.values()):
        if not isinstance(prop, ColumnProperty):
            continue
        if declared_in_info(prop) is not None or _annotated_managed(cls, prop.key):
            raise AnnotationError(
                f"{cls.__qualname__}.{prop.key} is declared a managed column, but "
                f"{cls.__qualname__} is not decorated with @purposeful.record(subject=...), "
                f"so nothing would guard it; decorate the class"
            )


def _refuse_remapped(cls: type, mapper: Any, policy: RecordPolicy) -> None:
    """Refuse mapping a record decorated as another kind, or a class extending one (a
    dataclass record mapped with ``registry.map_imperatively``): SQLAlchemy loads every row
    into attributes of its own, which replace the guards installed for the managed fields
    or go round them (under a ``column_prefix``, a column's ``key``, a label, any SQL
    expression over the column), so the values would be read with no decision. Refused
    whatever the properties are called: no name test can follow every way of mapping a
    column."""
    if policy.fields:
        raise AnnotationError(
            f"{cls.__qualname__} is mapped by SQLAlchemy, and {policy.cls.__qualname__} is a "
            f"{policy.kind} record: SQLAlchemy's attributes would replace or go round the "
            f"guards of its managed fields ({', '.join(sorted(policy.fields))}), which would "
            f"be read with no decision; map the class first (a declarative model, or "
            f"map_imperatively on an undecorated class), then decorate it with "
            f"@purposeful.record"
        )


def _annotated_managed(cls: type, name: str) -> bool:
    """Whether the column's annotation declares it managed; False when the annotation cannot
    be resolved (a name imported only for type checkers): a model of an application that
    does not use purposeful must never be refused for a name that merely says Managed."""
    try:
        return declared_in_annotation(cls, name) is not None
    except AnnotationError:
        return False


def _refuse_a_discriminator(cls: type, found: str | None) -> None:
    if found is not None:
        raise AnnotationError(
            f"{cls.__qualname__}: its polymorphic_on discriminates on the managed column "
            f"{found}, so the class SQLAlchemy gives each row (type(row), isinstance, its "
            f"polymorphic_identity) tells its value undecided: discriminate on an unmanaged "
            f"column"
        )


def _refuse_a_composite(where: str, found: str | None) -> None:
    if found is not None:
        raise AnnotationError(
            f"{where}: a composite() over the managed column {found} builds its value from "
            f"the stored column, undecided, and keeps it in the instance __dict__: select "
            f"the managed columns themselves (read each on the row), or leave them out of "
            f"the composite"
        )


def _refuse_a_computed_column(where: str, found: str | None) -> None:
    if found is not None:
        raise AnnotationError(
            f"{where}: a column_property computed from the managed column {found} loads its "
            f"value, or one derived from it, into a plain attribute, undecided: declare it "
            f"managed too (a column of the record with info={{'purposeful': ...}}), or "
            f"compute it in Python from the guarded column"
        )


def _refuse_a_relationship(where: str, prop: Any) -> None:
    pairs = [*prop.synchronize_pairs, *(prop.secondary_synchronize_pairs or ())]
    joined = [*prop.local_columns, *prop.remote_side, *(c for pair in pairs for c in pair)]
    found = _managed_among(joined, _marked)
    if found is not None:
        raise AnnotationError(
            f"{where}: the relationship joins on the managed column {found}: SQLAlchemy "
            f"copies its value into the other side's column at a flush and binds it in the "
            f"lazy load, undecided: point the foreign key at an unmanaged key column (the "
            f"primary key)"
        )
    columns: Any = ()
    keyfunc: Any = None
    if prop.collection_class is not None:
        try:  # column_keyed_dict's class keeps its key function in a closure: make one
            keyfunc = getattr(prop.collection_class(), "keyfunc", None)
            columns = keyfunc._cols(prop.mapper) if hasattr(keyfunc, "_cols") else ()
        except Exception:  # pragma: no cover - a factory that needs arguments keys nothing
            columns = ()
    found = _managed_among(columns, _marked)
    named = getattr(keyfunc, "attr_name", None)  # attribute_keyed_dict("nhi")
    if found is None and isinstance(named, str):
        related = _policies.nearest_policy(prop.mapper.class_)
        if related is not None and named in related.fields:
            found = f"{related.cls.__qualname__}.{named}"
    if found is not None:
        raise AnnotationError(
            f"{where}: the collection is keyed by the managed column {found} "
            f"(column_keyed_dict), so every related row's value is handed out as a key, "
            f"undecided: key the collection by an unmanaged column"
        )


def _refuse_a_foreign_key_to(table: Any, lookup: Callable[[Any], str | None]) -> None:
    for key in list(getattr(table, "foreign_keys", ())):
        try:
            target = key.column
        except Exception:  # a table not defined yet: checked when its mapper is configured
            continue
        found = _managed_among([target], lookup)
        if found is not None:
            raise AnnotationError(
                f"{table.fullname}.{key.parent.name}: a foreign key to the managed column "
                f"{found} keeps its value in a plain column (SQLAlchemy copies it from the "
                f"related row at a flush), undecided: point the foreign key at an unmanaged "
                f"key column (the primary key)"
            )


#: The listener of every mapper's configuration.
_CHECKED = failing_closed(_refuse_at_configuration)
