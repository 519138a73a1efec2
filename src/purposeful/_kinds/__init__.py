"""Record kinds: the ways of keeping records that `purposeful.record` can guard.

A kind says, for the classes it keeps, how to recognise them, which fields they have and
what each declares, whether they keep values in slots or in an instance ``__dict__`` (the
two tiers of 'What is a read'), and how to install the guards: the getters of `_guard`,
plus whatever closes the kind's own ways around them (its serialisers, its equality, its
validators' errors) and exempts its own construction. Every kind yields the same
`RecordPolicy`, so decisions, the audit trail, projections, bundles and the features work
unchanged whichever kind a record is.

The kinds: attrs classes (and plain annotated classes, which become attrs classes),
standard-library dataclasses, pydantic v2 models, SQLAlchemy 2 mapped classes and Django
models. `watch_mapped_classes` sets up the SQLAlchemy kind's check of every mapper, at once
or, through an import hook (`after_import`), once SQLAlchemy is imported. This module must
not import pydantic: a pydantic model is recognised by the names in its class's MRO.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import inspect
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attr._make
import attrs

from ..errors import AnnotationError

if TYPE_CHECKING:
    from ..records import RecordPolicy

__all__ = [
    "METADATA_KEY",
    "DeclaredField",
    "RecordKind",
    "both_kinds",
    "kind_of",
    "masked_repr",
    "refuse_shadows",
    "watch_mapped_classes",
    "watch_subclasses",
]

#: Set on a subclass of a record class once its first instance found it sound.
_SOUND = "__purposeful_sound__"

#: The key of a field's declaration in attrs' and dataclasses' field metadata.
METADATA_KEY = "purposeful"
PLACEHOLDER = "<managed>"
SUBJECT_PLACEHOLDER = "<subject>"
SUPPORTED = (
    "an attrs class, a dataclass, a pydantic v2 BaseModel, a SQLAlchemy 2 mapped class, a "
    "concrete Django model, or a plain class with annotated fields (which becomes an attrs "
    "class)"
)


@attrs.frozen
class DeclaredField:
    """One field of a record class, as its kind keeps it.

    Attributes:
        name: the field's attribute name.
        declaration: what the field declares under `METADATA_KEY` (a `FieldTag` for a
            managed field), or None for a plain field.
        shown: whether the class's repr shows it, or a callable formatting its value.
    """

    name: str
    declaration: object | None
    shown: bool | Callable[[Any], str] = True


class RecordKind:
    """A way of keeping records: the hooks `purposeful.record` calls."""

    #: The kind's name in messages and in `RecordPolicy.kind`.
    name: ClassVar[str] = ""
    #: Whether a class of the kind can be declared to keep its values in slots (the
    #: others always keep them in an instance ``__dict__``).
    can_slot: ClassVar[bool] = False

    def recognises(self, cls: type) -> bool:
        """True if *cls* itself (not only a base) is of this kind."""
        raise NotImplementedError

    def fields(self, cls: type) -> list[DeclaredField]:
        """Every field of *cls*, in declaration order."""
        raise NotImplementedError

    def slotted(self, cls: type) -> bool:
        """True if *cls* keeps every field in a slot (the full tier of 'What is a read')."""
        raise NotImplementedError

    def install(self, cls: type, policy: RecordPolicy) -> None:
        """Guard every managed field of *policy* on *cls* (setting each `FieldPolicy._raw`)
        and close the kind's own ways around the guards."""
        raise NotImplementedError

    def reader(self, cls: type, name: str, *, managed: bool = False) -> Callable[[Any], Any]:
        """Read the subject's or the key's stored value without a guard; *managed*: the
        field is managed too, so a slot keeps it sealed."""
        from .. import _guard

        return _guard.raw_access(cls, name, sealed=managed)[0]


#: True while a `purposeful.Managed` was made and SQLAlchemy's mappers are not checked yet:
#: a scope's opening and each decoration look whether SQLAlchemy came in by a way the import
#: hook did not see (a finder put ahead of it, a ``sys.meta_path`` put back) and catch up.
sqlalchemy_unwatched = False
_finder: Any = None  # the `after_import.AfterImport` watching for sqlalchemy.orm
_listening = False  # SQLAlchemy's mappers are checked as each is configured


def watch_mapped_classes() -> None:
    """Once SQLAlchemy's ORM is imported, check every mapper configured from then on, and
    those configured already (`sqlalchemy_checks.listen_for_mappers`), so that a model
    declaring managed columns fails closed even when no class was decorated. Called when
    purposeful is imported, by each `purposeful.Managed`, and by a scope's opening and each
    decoration while `sqlalchemy_unwatched`; once listening, it does nothing. Before
    SQLAlchemy is imported, the check is set up the moment ``sqlalchemy.orm`` has been
    imported, by a finder on ``sys.meta_path`` (`after_import`; put back by the next call if
    it was removed), whether or not SQLAlchemy can be imported yet (a directory added to
    ``sys.path`` later may bring it; until then the finder costs one comparison per
    import). SQLAlchemy is not imported here.

    Raises:
        AnnotationError: a mapper configured before the check was set up is refused.
    """
    global sqlalchemy_unwatched, _finder, _listening
    if _listening:  # every mapper configured from then on is checked by the event
        return
    if "sqlalchemy.orm" in sys.modules:
        from .sqlalchemy_checks import check_configured, listen_for_mappers

        listen_for_mappers()
        sqlalchemy_unwatched = False
        _listening = True
        # once: a check that reads a model's annotations makes a `Managed` again, which
        # must not check the mappers anew from inside the check (its refusal, raised in the
        # annotation's evaluation, made the tag look unreadable, and the model pass)
        check_configured()
        return
    sqlalchemy_unwatched = True
    if _finder is None:
        from .after_import import AfterImport

        _finder = AfterImport("sqlalchemy.orm", watch_mapped_classes)
    if not any(finder is _finder for finder in sys.meta_path):
        sys.meta_path.insert(0, _finder)


def kind_of(cls: type) -> RecordKind | None:
    """The kind of *cls*, or None for a plain class (which `record` makes an attrs class).

    Raises:
        AnnotationError: *cls* is a kind of class no guard can be installed on (a
            NamedTuple, an Enum, a TypedDict) or a model of a framework not supported.
    """
    from .attrs_kind import ATTRS
    from .dataclass_kind import DATACLASSES
    from .django_kind import DJANGO
    from .pydantic_kind import PYDANTIC
    from .sqlalchemy_kind import SQLALCHEMY

    for kind in (SQLALCHEMY, ATTRS, DATACLASSES, PYDANTIC, DJANGO):
        if kind.recognises(cls):
            return kind
    refused = _unsupported(cls)
    if refused:
        raise AnnotationError(
            f"@purposeful.record cannot guard {cls.__qualname__}: it is {refused}. "
            f"purposeful guards {SUPPORTED}; keep the person's data in one of those"
        )
    return None


#: Top-level packages of model frameworks whose classes are not (yet) a record kind.
_FRAMEWORKS = {
    "pydantic": "a pydantic model that is not a v2 BaseModel (pydantic.v1, a RootModel)",
    "sqlalchemy": "a SQLAlchemy class that is not mapped (a declarative base, an abstract model)",
    "django": "a Django model",
    "msgspec": "a msgspec Struct",
    "marshmallow": "a marshmallow schema",
    "peewee": "a peewee model",
    "sqlmodel": "a SQLModel model",
    "mongoengine": "a mongoengine document",
}


def _unsupported(cls: type) -> str:
    """What *cls* is, if no record kind can keep it, else ""."""
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return "a NamedTuple, whose values are tuple items that no attribute guard covers"
    if issubclass(cls, tuple):
        return "a tuple subclass, whose values are items that no attribute guard covers"
    if issubclass(cls, enum.Enum):
        return "an Enum, whose members are constants, not a person's data"
    if "__dataclass_fields__" not in cls.__dict__ and hasattr(cls, "__dataclass_fields__"):
        return (
            "a subclass of a dataclass that is not a dataclass itself; decorate it with "
            "@dataclasses.dataclass too (under @purposeful.record)"
        )
    if issubclass(cls, dict) or hasattr(cls, "__required_keys__"):
        return "a TypedDict or dict subclass, whose values are items that no guard covers"
    for klass in cls.__mro__:
        package = klass.__module__.partition(".")[0]
        if package in _FRAMEWORKS:
            return _FRAMEWORKS[package]
    return ""


def both_kinds(counting: Any) -> Any:
    """*counting* (what ``attrs.field`` returned), made to read as a `dataclasses.Field` in a
    dataclass's body too: `purposeful.field` does not know which decorator will read it.

    attrs reads a class body's ``__dict__`` and takes an object whose ``__class__`` is its
    counting attribute; ``@dataclass`` reads the class attribute with ``getattr``, where
    this descriptor answers with the equivalent `dataclasses.Field`.
    """
    counting.__class__ = _field_class(type(counting))  # type: ignore[arg-type]
    return counting


@functools.cache
def _field_class(counting: type) -> type:
    def __get__(self: Any, obj: object, owner: type | None = None) -> Any:
        return _as_dataclass_field(self)

    # attrs recognises its own by ``__class__``; the descriptor protocol looks at type()
    return type(
        "Declared",
        (counting,),
        {"__slots__": (), "__get__": __get__, "__class__": property(lambda self: counting)},
    )


def _as_dataclass_field(counting: Any) -> Any:
    import dataclasses

    given = counting._default
    if counting._validator is not None or counting.converter is not None:
        raise AnnotationError(
            "purposeful.field(validator=..., converter=...) is for attrs classes; a dataclass "
            "validates in __post_init__"
        )
    options: dict[str, Any] = {
        "metadata": dict(counting.metadata),
        "init": counting.init,
        "repr": bool(counting.repr),
        "compare": bool(counting.eq),
        "hash": counting.hash,
        "kw_only": counting.kw_only,
    }
    if isinstance(given, attr._make.Factory):
        options["default_factory"] = given.factory
    elif given is not attrs.NOTHING:
        options["default"] = given
    return dataclasses.field(**options)


def masked_repr(
    cls: type,
    subjects: frozenset[str] | tuple[str, ...],
    managed: Mapping[str, object],
    shown: list[DeclaredField],
) -> Callable[[Any], str]:
    """A repr with placeholders for managed fields and the subject identifiers (a class
    inheriting two records has two)."""
    listed = [f for f in shown if f.shown is not False]

    def __repr__(self: Any) -> str:
        parts = []
        for declared in listed:
            name = declared.name
            if name in managed:
                parts.append(f"{name}={PLACEHOLDER}")
            elif name in subjects:
                parts.append(f"{name}={SUBJECT_PLACEHOLDER}")
            else:
                value = getattr(self, name, attrs.NOTHING)
                text = declared.shown(value) if callable(declared.shown) else repr(value)
                parts.append(f"{name}={text}")
        return f"{type(self).__qualname__}({', '.join(parts)})"

    __repr__.__qualname__ = f"{cls.__qualname__}.__repr__"
    return __repr__


class PrettyRepr:
    """``_repr_pretty_`` for instances only: a pretty printer that looks it up on the class
    itself (hypothesis printing a record class) finds nothing and prints the class."""

    def __get__(self, obj: Any, cls: type | None = None) -> Callable[[Any, bool], None]:
        if obj is None:
            raise AttributeError("_repr_pretty_")

        def _repr_pretty_(printer: Any, cycle: bool) -> None:
            printer.text(repr(obj))

        return _repr_pretty_


def watch_subclasses(cls: type, check: Callable[[type], None]) -> None:
    """Run *check* on every subclass of *cls*: as it is made (from its ``__init_subclass__``,
    before the hook *cls* had), and again when its first instance is made (from ``__new__``),
    which no subclass skips by overriding ``__init_subclass__`` and which sees what a class
    decorator (``@dataclass``) or an assignment put on the class after it was made. *check*
    raises to refuse the subclass."""
    own = cls.__dict__.get("__init_subclass__")

    def __init_subclass__(sub: type, /, **kwargs: Any) -> None:
        check(sub)
        if own is not None:
            own.__func__(sub, **kwargs)
        else:
            super(cls, sub).__init_subclass__(**kwargs)  # type: ignore[arg-type]

    type.__setattr__(cls, "__init_subclass__", classmethod(__init_subclass__))
    own_new = cls.__dict__.get("__new__")
    made = object.__new__
    # the record's own instances, the usual case: nothing to check, object's __new__ next
    direct = own_new is None and super(cls, cls).__new__ is made  # type: ignore[arg-type]

    def __new__(sub: type, /, *args: Any, **kwargs: Any) -> Any:
        if sub is cls:
            if direct:
                return made(sub)
        elif _SOUND not in sub.__dict__:
            check(sub)
            type.__setattr__(sub, _SOUND, True)
        if own_new is not None:
            return own_new.__func__(sub, *args, **kwargs)
        following = super(cls, sub).__new__  # type: ignore[arg-type]
        return made(sub) if following is made else following(sub, *args, **kwargs)

    # inspect.signature(cls) reads a __new__ kept beside __init__ before __init__ itself:
    # give it __init__'s, so that the class still shows (and hypothesis, FastAPI, ... still
    # find) the fields it takes
    init = cls.__dict__.get("__init__")
    if init is not None:
        with contextlib.suppress(TypeError, ValueError):
            __new__.__signature__ = inspect.signature(init)  # type: ignore[attr-defined]
    type.__setattr__(cls, "__new__", staticmethod(__new__))


def refuse_shadows(sub: type, record: type, managed: Iterable[str]) -> None:
    """Refuse *sub*, a subclass of the record class *record*, if its own namespace, or a
    base it lists before *record* (a mixin), would stand in front of the guard of a managed
    field: a plain value (an ordinary dataclass or attrs default, which ``@dataclass`` keeps
    on the class, so the value would go to the instance ``__dict__`` past the guard), a
    slot, or a property. A managed declaration (`purposeful.field`, or metadata under
    `METADATA_KEY`) is the subclass's to guard."""
    from .. import _guard

    shadowing = []
    for name in managed:
        # what attribute lookup finds first: a base listed before the record (a mixin)
        # stands in front of the guard as the subclass's own namespace would
        owner = next((klass for klass in sub.__mro__ if name in klass.__dict__), record)
        if owner is record:
            continue
        value = owner.__dict__[name]
        metadata = getattr(value, "metadata", None)
        declared = isinstance(metadata, Mapping) and METADATA_KEY in metadata
        if not declared and _guard.guarded_field(value) is None:
            shadowing.append(name)
    if shadowing:
        names = ", ".join(sorted(shadowing))
        raise AnnotationError(
            f"{sub.__qualname__}: {names} is declared again as a plain field (a default, a "
            f"slot or a property, by it or a base listed before {record.__qualname__}), but "
            f"{record.__qualname__} manages it: it would stand in front of the guard, and "
            f"the value would be kept and read undecided. Leave {names} out of "
            f"{sub.__qualname__}, or declare it with purposeful.field(...) and decorate "
            f"{sub.__qualname__} with @purposeful.record"
        )
    refuse_cached(sub)


#: The packages of the record kinds' own base classes: a cached property of theirs is the
#: framework's, never one the application can change, so it is not the application's to fix.
_KIND_PACKAGES = frozenset({"attr", "attrs", "builtins", "django", "pydantic", "sqlalchemy"})


#: The names of the caching descriptors of other libraries (Django's, werkzeug's and the
#: ``cached_property`` package's ``cached_property``, Pyramid's ``reify``): known by name,
#: never imported.
_CACHING_DESCRIPTORS = frozenset(
    {"cached_property", "threaded_cached_property", "cached_property_with_ttl", "reify"}
)


def cached_properties(cls: type) -> list[str]:
    """The cached properties *cls* and its bases keep on their instances: ``functools``' and
    other libraries' (`_CACHING_DESCRIPTORS`, kept in the instance ``__dict__``), and those
    a slotted attrs class turned into slots (attrs' generated ``__getattr__`` fills them),
    in name order; the frameworks' own base classes are not looked at (`_KIND_PACKAGES`)."""
    found: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.partition(".")[0] in _KIND_PACKAGES:
            continue
        namespace = klass.__dict__
        for name, value in namespace.items():
            if isinstance(value, functools.cached_property) or (
                type(value).__name__ in _CACHING_DESCRIPTORS
            ):
                found.add(name)
        filler = namespace.get("__getattr__")
        code = getattr(filler, "__code__", None)
        if code is not None and code.co_varnames[2:3] == ("cached_properties",):
            defaults = filler.__defaults__ or ()  # type: ignore[union-attr]
            if defaults and isinstance(defaults[0], Mapping):
                found.update(defaults[0])
    return sorted(found)


def refuse_cached(cls: type) -> None:
    """Refuse a record class (or a subclass of one) with a cached property: what it computes
    from managed fields, read once in a scope that allows them, would stay on the record and
    be handed out later with no decision, outside any scope or under another purpose."""
    names = cached_properties(cls)
    if names:
        listed = ", ".join(names)
        raise AnnotationError(
            f"{cls.__qualname__}: {listed} is a cached property, which keeps what it computed "
            f"on the record: computed from a managed field in one scope, it would be read "
            f"later with no decision, outside any scope or under another purpose. Make it a "
            f"@property, which reads the managed fields through their guards each time"
        )
