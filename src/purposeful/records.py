"""Annotated records: attrs classes whose fields carry purposes, sensitivity and consent.

``@purposeful.record(subject="client_id")`` marks a class whose instances are about one
person; ``purposeful.field(...)`` declares a managed field. The decorator validates every
declaration against the registries, then replaces each managed field's class attribute with
a guard (a `property` whose getter is generated per field) so that reading it inside a purpose
scope is checked.

The guard itself (the generated getters, the fast path, the slow path) lives in `_guard`;
this module declares, resolves and installs. What is a read, and the two tiers of guarantee
(slotted records; records with an instance ``__dict__``), are in ``docs/what-is-a-read.md``:
in short every operation that hands a managed value to other code is a read, including
equality, hashing, pickling, copying and ``attrs.evolve``; construction is not; writes are
not checked, except that a record's subject cannot be changed once set.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, overload

import attr
import attrs
from typing_extensions import dataclass_transform

from . import _config, _guard, _kinds, _policies
from ._hierarchy import covers
from ._policies import POLICY_ATTR
from .bases import BASIS_TYPES, BasisKind, LawfulBasis
from .categories import CategoryRegistry, DataCategory
from .decisions import ConsentStatus, Decision, Outcome, Reason
from .errors import (
    AnnotationError,
    ConfigurationError,
    DictStorageWarning,
    UnknownCategory,
    UnknownPurpose,
)
from .purposes import Purpose, PurposeRegistry
from .sensitivity import IN_CONFIDENCE, Level
from .supply import Supply
from .withholding import WithholdingGround

__all__ = [
    "FieldPolicy",
    "FieldTag",
    "Managed",
    "RecordPolicy",
    "field",
    "record",
    "record_policy",
]

C = TypeVar("C", bound=type)

_MEMO_LIMIT = 4096  # decisions remembered per field; one per actor, purpose and outcome


@attrs.frozen(unsafe_hash=False)
class FieldTag:
    """The declaration of a managed field, as written; resolved by `record`."""

    purposes: Mapping[Purpose | str, LawfulBasis]
    sensitivity: Level = IN_CONFIDENCE
    category: DataCategory | str | None = None
    consent: bool | tuple[Purpose | str, ...] = False
    withhold: WithholdingGround | None = None
    supply: Supply | None = None

    def __hash__(self) -> int:
        # hashable although `purposes` is a dict: SQLAlchemy hashes the Annotated[...] type
        # that carries it (``Mapped[Annotated[str, Managed(...)]]``)
        return hash((tuple(self.purposes.items()), self.sensitivity, self.category, self.consent))


def Managed(
    *,
    purposes: Mapping[Purpose | str, LawfulBasis],
    sensitivity: Level = IN_CONFIDENCE,
    category: DataCategory | str | None = None,
    consent: bool | Iterable[Purpose | str] = False,
    withhold: WithholdingGround | None = None,
    supply: Supply | None = None,
) -> FieldTag:
    """The declaration of a managed field, where a record kind takes it as metadata.

    A pydantic model's field: ``notes: Annotated[str, purposeful.Managed(purposes=...)]``;
    a dataclass's field: ``dataclasses.field(metadata={"purposeful": Managed(...)})``.
    The arguments are those of `field`; the declaration is checked when `record`
    decorates the class.

    Raises:
        AnnotationError: an argument of the wrong type.
    """
    consent_value: bool | tuple[Purpose | str, ...]
    if isinstance(consent, bool):
        consent_value = consent
    elif isinstance(consent, str | Purpose):
        consent_value = (consent,)
    elif isinstance(consent, Iterable):
        consent_value = tuple(consent)
    else:
        raise AnnotationError(
            "purposeful.field(consent=...) takes True, False, or the purposes whose use needs "
            f"consent, not {type(consent).__name__}"
        )
    if not isinstance(purposes, Mapping):
        raise AnnotationError(
            "purposeful.field(purposes=...) takes a mapping of purpose to lawful basis, e.g. "
            "{'service-delivery.case-management': CONSENT}"
        )
    if withhold is not None and not isinstance(withhold, WithholdingGround):
        raise AnnotationError(
            "purposeful.field(withhold=...) takes a WithholdingGround, such as "
            "purposeful.withholding.ANOTHER_PERSONS_AFFAIRS, not "
            f"{type(withhold).__name__}"
        )
    if supply is not None and not isinstance(supply, Supply):
        raise AnnotationError(
            "purposeful.field(supply=...) takes purposeful.supply.Voluntary('...') or "
            f"Mandatory('...') with the consequence of not supplying it, not "
            f"{type(supply).__name__}"
        )
    _kinds.watch_mapped_classes()  # put the import hook back, if something removed it
    return FieldTag(dict(purposes), sensitivity, category, consent_value, withhold, supply)


def field(
    *,
    purposes: Mapping[Purpose | str, LawfulBasis],
    sensitivity: Level = IN_CONFIDENCE,
    category: DataCategory | str | None = None,
    consent: bool | Iterable[Purpose | str] = False,
    withhold: WithholdingGround | None = None,
    supply: Supply | None = None,
    **attrs_field: Any,
) -> Any:
    """Declare a managed field of a `record` class (an attrs class or a dataclass).

    Args:
        purposes: each purpose the field may be used for, with the lawful basis for that use.
            A purpose covers its descendants.
        sensitivity: the field's level; an actor needs at least this clearance.
        category: the data category id (or value), from the configured category registry.
        consent: True if every declared use needs the person's consent, or the purposes whose
            use does. A purpose whose basis is `CONSENT` needs consent anyway.
        withhold: the ground on which the field's value is withheld from the person it is
            about when they ask for their information (`purposeful.withholding`), e.g. the
            identity of someone who reported a concern. The person is told that it was
            withheld and why, never what it was.
        supply: whether supplying it is voluntary or mandatory, and the consequence of not
            supplying it, as notices tell the person (IPP 3(1)): ``purposeful.supply.
            Voluntary("...")`` or ``Mandatory("...")``. A field without one is reported by
            the notices' drift check.
        attrs_field: passed to `attrs.field` (default, factory, validator, converter, …);
            in a dataclass, default, factory, init, repr, eq, hash and kw_only become the
            `dataclasses.field` arguments of the same meaning.

    The declaration is checked when `record` decorates the class. In a pydantic model,
    declare the field with ``Annotated[..., purposeful.Managed(...)]`` instead.
    """
    metadata = dict(attrs_field.pop("metadata")) if "metadata" in attrs_field else {}
    metadata[_kinds.METADATA_KEY] = Managed(
        purposes=purposes,
        sensitivity=sensitivity,
        category=category,
        consent=consent,
        withhold=withhold,
        supply=supply,
    )
    return _kinds.both_kinds(attrs.field(metadata=metadata, **attrs_field))


@attrs.frozen(eq=False)
class FieldPolicy:
    """The resolved declaration of one managed field, and how to reach its storage.

    Compared by identity: it is the key of its field in a scope's decision cache.

    Attributes:
        record: the `RecordPolicy` of the class that declares the field.
        name: the field's name.
        purposes: purpose id → (purpose, basis), as declared.
        sensitivity: the field's level.
        category: the data category, if declared.
        consent_for: ids of the purposes whose use needs consent (covering descendants).
        withhold: the ground its values are withheld on in subject-access bundles, if any.
        supply: whether supplying it is voluntary or mandatory (IPP 3(1)), if declared.
        label: the field as reports name it, ``RecordType.field``.
    """

    record: RecordPolicy
    name: str
    purposes: Mapping[str, tuple[Purpose, LawfulBasis]]
    sensitivity: Level
    category: DataCategory | None
    consent_for: frozenset[str]
    withhold: WithholdingGround | None = None
    supply: Supply | None = None
    #: Reads the stored value with no decision: for the library's own use only (a decided
    #: projection, a bundle for the person). Set when the guard is installed.
    _raw: Callable[[Any], Any] = attrs.field(default=getattr, init=False, repr=False)
    #: record class → the policy its instances are decided under (`_policies.own_policy`)
    _by_class: dict[type, FieldPolicy] = attrs.field(factory=dict, init=False, repr=False)
    # Memos for the slow path: both are pure functions of hashable values, so a scope's first
    # read of a field usually costs two dict lookups instead of a walk and a new Decision.
    _checks: dict[Any, Any] = attrs.field(factory=dict, init=False, repr=False)
    _decisions: dict[Any, Decision] = attrs.field(factory=dict, init=False, repr=False)
    #: spelled once, not per report
    label: str = attrs.field(init=False, repr=False)

    @label.default
    def _label(self) -> str:
        return f"{self.record.name}.{self.name}"

    @property
    def may_need_consent(self) -> bool:
        """True if a read under some purpose needs consent."""
        return bool(self.consent_for) or any(
            basis.kind is BasisKind.CONSENT for _, basis in self.purposes.values()
        )

    def check(
        self, purpose: Purpose, actor: Any
    ) -> tuple[tuple[Reason, ...], LawfulBasis | None, bool]:
        """The reasons to refuse a read under *purpose* by *actor*, the basis, and whether
        consent must be checked. Consent itself is asked by the scope."""
        key = (purpose, actor.clearance)
        found = self._checks.get(key)
        if found is None:
            found = self._checks[key] = self._check(purpose, actor)
        return found

    def _check(
        self, purpose: Purpose, actor: Any
    ) -> tuple[tuple[Reason, ...], LawfulBasis | None, bool]:
        reasons: list[Reason] = []
        basis: LawfulBasis | None = None
        for ident in purpose.lineage:
            if ident in self.purposes:
                basis = self.purposes[ident][1]
                break
        else:
            reasons.append(Reason.PURPOSE_NOT_DECLARED)
        if not actor.clearance >= self.sensitivity:
            reasons.append(Reason.CLEARANCE_TOO_LOW)
        needs_consent = basis is not None and (
            basis.kind is BasisKind.CONSENT
            or any(covers(granted, purpose.id) for granted in self.consent_for)
        )
        return tuple(reasons), basis, needs_consent

    def decision(
        self,
        outcome: Outcome,
        purpose: Purpose | None,
        actor: Any,
        basis: LawfulBasis | None,
        reasons: tuple[Reason, ...],
        consent: ConsentStatus | None = None,
    ) -> Decision:
        """The decision with these particulars; equal ones are shared (decisions are values)."""
        key = (outcome, purpose, actor, basis, reasons, consent)
        found = self._decisions.get(key)
        if found is not None:
            return found
        if len(self._decisions) >= _MEMO_LIMIT:
            self._decisions.clear()
        found = self._decisions[key] = Decision(
            outcome=outcome,
            record_type=self.record.name,
            field=self.name,
            purpose=purpose,
            actor=actor,
            sensitivity=self.sensitivity,
            category=self.category,
            basis=basis,
            reasons=reasons,
            declared=tuple(p for p, _ in self.purposes.values()),
            consent=consent,
        )
        return found


@attrs.frozen(eq=False)
class RecordPolicy:
    """The resolved declarations of a record class.

    Attributes:
        cls: the record class.
        subject: the name of the field that identifies the person.
        fields: field name → `FieldPolicy`, for managed fields only.
        name: the record type's name in decisions, the audit trail, agreements and bundles:
            ``name=`` of `record`, or the class's qualified name.
        key: the name of the field that tells the person's records of this type apart
            (corrections and bundles name a record by it); the subject field when a person
            has one record of the type.
    """

    cls: type
    subject: str
    fields: Mapping[str, FieldPolicy] = attrs.field(factory=dict)
    #: the record type's name in decisions, spans, the ledger, agreements and bundles
    name: str = attrs.field(default="", kw_only=True)
    _subject_raw: Callable[[Any], Any] = attrs.field(repr=False, default=getattr)
    key: str = attrs.field(default="")
    _key_raw: Callable[[Any], Any] = attrs.field(repr=False, default=getattr)
    #: every field's name, managed or not, in declaration order
    names: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    #: the record kind: ``"attrs"``, ``"dataclass"`` or ``"pydantic"``
    kind: str = attrs.field(default="attrs", kw_only=True)
    #: True if every field is kept in a slot (see 'What is a read': the two tiers)
    slotted: bool = attrs.field(default=True, kw_only=True)

    def subject_of(self, obj: object) -> str:
        """The subject identifier of *obj*, read without a decision, as a string ("" when the
        record has none, so that nobody's consent is found for it)."""
        subject = self._subject_raw(obj)
        if subject is None:
            return ""
        if type(subject) is str:
            return subject
        try:
            return str(subject)
        except Exception:
            pass
        subject = None  # no raw id in this frame when it raises
        raise ConfigurationError(
            f"a {self.name} record has a subject id that str() cannot turn into text, so its "
            f"person cannot be told (nor their consent asked): give the record class a "
            f"subject id with a text form (a str or an int)"
        )

    def key_of(self, obj: object) -> str:
        """The key of *obj* among its subject's records of this type, as a string, read
        without a decision ("" when it has none)."""
        key = self._key_raw(obj)
        return "" if key is None else str(key)


def record_policy(cls: type) -> RecordPolicy:
    """The `RecordPolicy` of a class decorated with `record`.

    Raises:
        AnnotationError: *cls* is not a purposeful record.
    """
    policy = cls.__dict__.get(POLICY_ATTR) if isinstance(cls, type) else None
    if policy is None and not isinstance(cls, type):  # never its repr: it may read values
        raise AnnotationError(
            f"an instance of {type(cls).__qualname__} is not a record class; pass its class"
        )
    if policy is None:
        raise AnnotationError(
            f"{cls.__qualname__!r} is not a purposeful record; "
            f"decorate it with @purposeful.record(subject=...)"
        )
    return policy  # type: ignore[no-any-return]


@overload
def record(
    cls: None = None,
    *,
    subject: str,
    key: str | None = None,
    registry: PurposeRegistry | None = None,
    frozen: bool = False,
    slots: bool = True,
    name: str | None = None,
) -> Callable[[C], C]: ...
@overload
def record(
    cls: C,
    *,
    subject: str,
    key: str | None = None,
    registry: PurposeRegistry | None = None,
    frozen: bool = False,
    slots: bool = True,
    name: str | None = None,
) -> C: ...
@dataclass_transform(field_specifiers=(attrs.field, attr.ib, field))
def record(
    cls: C | None = None,
    *,
    subject: str,
    key: str | None = None,
    registry: PurposeRegistry | None = None,
    frozen: bool = False,
    slots: bool = True,
    name: str | None = None,
) -> C | Callable[[C], C]:
    """Mark a class whose instances are about one person, and guard its managed fields.

    Use it alone (it applies ``attrs.define`` with *frozen* and *slots*, and type checkers
    understand `field` through it), or on top of an existing attrs class, dataclass or
    pydantic v2 model, slotted or not, frozen or not: the class keeps its kind.

    Args:
        subject: the name of the field that identifies the person (a client id).
        key: the name of the field that tells one of the person's records of this type from
            another (a case note id), used to name a record in correction requests and
            subject-access bundles. Default: the subject field, for types with one record
            per person.
        registry: the purposes to validate against; default: the configured registry.
        frozen, slots: passed to ``attrs.define`` when the class is a plain class.
        name: the record type's name in decisions, spans, the ledger, agreements, notices
            and bundles; default: the class's qualified name (``Client``). Two record types
            that modules loaded at the same time declare may not share a name.

    Raises:
        AnnotationError: an unknown purpose or category, consent required for a purpose
            the field does not allow, a basis the purpose may not rest on, a subject field
            that does not exist, a class that is already a record, a name another
            loaded module's record type has, or a class no record kind keeps (a NamedTuple,
            an Enum, a TypedDict, a model of a framework not supported).
    """

    def wrap(cls: C) -> C:
        if not isinstance(cls, type):
            raise AnnotationError(f"@purposeful.record decorates a class, not {type(cls).__name__}")
        if _kinds.sqlalchemy_unwatched and "sqlalchemy.orm" in sys.modules:
            _kinds.watch_mapped_classes()  # SQLAlchemy came in unseen by the import hook
        kind = _kinds.kind_of(cls)
        if kind is None:  # a plain class: it becomes an attrs class
            cls = attrs.define(cls, frozen=frozen, slots=slots)
            kind = _kinds.kind_of(cls)
            assert kind is not None
        return _make_record(cls, kind, subject, key, registry, name)

    return wrap if cls is None else wrap(cls)


def _make_record(
    cls: C,
    kind: _kinds.RecordKind,
    subject: str,
    key: str | None,
    registry: PurposeRegistry | None,
    type_name: str | None = None,
) -> C:
    name = cls.__qualname__
    if POLICY_ATTR in cls.__dict__:
        raise AnnotationError(f"{name} is already a purposeful record; decorate it once")
    config = _config.get_configuration()
    registry = registry if registry is not None else config.registry
    fields = {f.name: f for f in kind.fields(cls)}
    if subject not in fields:
        raise AnnotationError(
            f"{name} has no field {subject!r} to use as its subject; "
            f"choose one of: {', '.join(fields)}"
        )
    key = subject if key is None else key
    if key not in fields:
        raise AnnotationError(
            f"{name} has no field {key!r} to use as its key; choose one of: {', '.join(fields)}"
        )
    if type_name is not None and not (isinstance(type_name, str) and type_name.strip()):
        raise AnnotationError(f"@purposeful.record(name=...) for {name} must be non-empty text")
    type_name = name if type_name is None else type_name
    _check_name(cls, type_name)
    slotted = kind.slotted(cls)
    policy = RecordPolicy(
        cls,
        subject,
        {},
        kind.reader(cls, subject),
        key,
        kind.reader(cls, key),
        name=type_name,
        names=tuple(fields),
        kind=kind.name,
        slotted=slotted,
    )
    resolved: dict[str, FieldPolicy] = {}
    for declared in fields.values():
        tag = declared.declaration
        inherited = _guard.guarded_field(getattr(cls, declared.name, None))
        if tag is None and inherited is not None:
            raise AnnotationError(
                f"{name}.{declared.name} is declared again as a plain field, but "
                f"{inherited.record.cls.__qualname__} manages it; a subclass cannot stop "
                f"managing a field: declare it with purposeful.field(...), or leave it out"
            )
        if tag is not None:
            if not isinstance(tag, FieldTag):
                raise AnnotationError(
                    f"{name}.{declared.name}: the {_kinds.METADATA_KEY!r} metadata must be "
                    f"purposeful.Managed(purposes=...), not {type(tag).__name__}"
                )
            resolved[declared.name] = _resolve(policy, declared.name, tag, registry, config)
    if key != subject and key in resolved:
        raise AnnotationError(
            f"{name}.{key} is a managed field and cannot be the record's key: the key names "
            f"the record in the disclosure log and the correction store, where no managed "
            f"value may go. Use an unmanaged id field (a case note id)"
        )
    if not slotted and resolved:
        advice = (
            "Declare it slotted for the full guarantee"
            if kind.can_slot
            else f"A {kind.name} model always keeps them there: there is nothing to change in "
            f"the class. Once you have read the page, silence this with warnings."
            f"filterwarnings('ignore', category=purposeful.errors.DictStorageWarning)"
        )
        warnings.warn(
            f"{name} keeps its values in an instance __dict__ ({kind.name}, not slotted): "
            f"reads by attribute, serialisers and pickling are checked, but vars(record), "
            f"record.__dict__ and the C serialisers that read it (orjson, msgspec) hand values "
            f"out undecided; see 'What is a read' in the docs. {advice}",
            DictStorageWarning,
            stacklevel=4,
        )
    if resolved:
        _kinds.refuse_cached(cls)
    object.__setattr__(policy, "fields", resolved)
    if subject in resolved:  # a managed subject: a slot keeps it sealed
        object.__setattr__(policy, "_subject_raw", kind.reader(cls, subject, managed=True))
    kind.install(cls, policy)
    _policies.set_policy(cls, policy)
    _config.register_record_check(cls, _recheck)
    return cls


def _check_name(cls: type, name: str) -> None:
    """Refuse a record type name that another loaded module's record class has: decisions,
    spans, the ledger, agreements and reports name a record type by it, so the two would be
    indistinguishable. A class whose module is gone (a finished script, a discarded test
    module) or was replaced (a reload) does not count."""
    for other in _config.declared_records():
        if (
            other is not cls
            and (other.__module__, other.__qualname__) != (cls.__module__, cls.__qualname__)
            and record_policy(other).name == name
            and _importable(other)
        ):
            raise AnnotationError(
                f"{cls.__module__}.{cls.__qualname__} would be named {name!r}, like the record "
                f"class {other.__module__}.{other.__qualname__}; the audit trail, agreements "
                f"and reports name record types, so the two could not be told apart. Give one "
                f"a name of its own: @purposeful.record(..., name='...'), or rename the class"
            )


def _importable(cls: type) -> bool:
    """True if *cls* is what its module's name and its qualified name lead to now."""
    found: Any = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is cls


#: What an unknown purpose at a declaration may mean: the registry came too late.
_REGISTRY_FIRST = (
    ". A record resolves its purposes when its class is declared: if the purpose is in your "
    "own registry (PurposeRegistry.from_toml), call purposeful.configure(registry=...) before "
    "the module that declares this record is imported"
)


def _resolve(
    record: RecordPolicy,
    name: str,
    tag: FieldTag,
    registry: PurposeRegistry,
    config: _config.Configuration,
) -> FieldPolicy:
    where = f"{record.cls.__qualname__}.{name}"
    purposes: dict[str, tuple[Purpose, LawfulBasis]] = {}
    if not tag.purposes:
        raise AnnotationError(
            f"{where} declares no purposes; name at least one, or make it a plain attrs field"
        )
    for key, basis in tag.purposes.items():
        try:
            purpose = registry.resolve(key)
        except UnknownPurpose as exc:
            raise AnnotationError(f"{where}: {exc}{_REGISTRY_FIRST}") from None
        if not isinstance(basis, BASIS_TYPES):
            raise AnnotationError(
                f"{where}: the basis for {purpose.id!r} must be a lawful basis from "
                f"purposeful.bases (CONSENT, Statute(...), ...), not {type(basis).__name__}"
            )
        if not purpose.allows_basis(basis):
            kinds = ", ".join(sorted({b.kind.value for b in purpose.bases}))
            raise AnnotationError(
                f"{where}: purpose {purpose.id!r} may rest on {kinds}, not on "
                f"{basis.kind.value}; change the basis or the purpose's declaration"
            )
        purposes[purpose.id] = (purpose, basis)
    if not isinstance(tag.sensitivity, Level):
        raise AnnotationError(
            f"{where}: sensitivity must be a Level such as purposeful.SENSITIVE, "
            f"not {type(tag.sensitivity).__name__}"
        )
    category = None
    if tag.category is not None:
        try:
            category = config.categories.resolve(tag.category)
        except UnknownCategory as exc:
            raise AnnotationError(f"{where}: {exc}") from None
    if tag.consent is True:
        consent_for = frozenset(purposes)
    elif tag.consent is False:
        consent_for = frozenset()
    else:
        consent_for = frozenset(_consent_purpose(where, p, purposes, registry) for p in tag.consent)
    return FieldPolicy(
        record,
        name,
        purposes,
        tag.sensitivity,
        category,
        consent_for,
        tag.withhold,
        tag.supply,
    )


def _consent_purpose(
    where: str, key: Purpose | str, declared: Mapping[str, Any], registry: PurposeRegistry
) -> str:
    try:
        ident = registry.resolve(key).id
    except UnknownPurpose as exc:
        raise AnnotationError(f"{where}: consent names {exc}{_REGISTRY_FIRST}") from None
    if not any(covers(d, ident) for d in declared):
        raise AnnotationError(
            f"{where} requires consent for {ident!r}, which the field is not declared for; "
            f"add {ident!r} to its purposes or remove it from consent="
        )
    return ident


def _recheck(
    cls: type, registry: PurposeRegistry | None, categories: CategoryRegistry | None
) -> None:
    """Raise `ConfigurationError` if a new registry (None: unchanged) lacks what *cls* uses."""
    record = record_policy(cls)
    for field_policy in record.fields.values():
        category = field_policy.category
        if categories is not None and category is not None and category.id not in categories:
            raise ConfigurationError(
                f"the new category registry has no data category {category.id!r}, which "
                f"{record.cls.__qualname__}.{field_policy.name} is declared with; add it to the "
                f"registry or change the field"
            )
        for ident in field_policy.purposes:
            if registry is not None and ident not in registry:
                raise ConfigurationError(
                    f"the new registry has no purpose {ident!r}, which "
                    f"{record.cls.__qualname__}.{field_policy.name} is declared for; add it to "
                    f"the registry (e.g. registry.extend(...)) or change the field"
                )
