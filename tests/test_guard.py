"""The guard: every way of getting at a managed value is a decided read.

Equality, hashing, pickling, copying, ``attrs.evolve`` and the serialisers read every managed
field through the guard; ``dir()`` reaches nothing undecided on a slotted record; a scope
opened in a generator covers the generator only, and always closes; decisions are cached per
record class; a record's subject cannot be rewritten; errors never quote a managed value;
and the attrs behaviour the guard relies on is pinned here, so an attrs upgrade fails loudly.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import inspect
import os
import pickle
import sys
import threading
import traceback
import warnings
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from types import SimpleNamespace, TracebackType
from typing import Any
from unittest.mock import MagicMock

import attr
import attr._make
import attrs
import pytest
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st

import purposeful
from _records import (
    CASE_CLASSES,
    CASE_MANAGEMENT,
    CASEWORKER,
    FROZEN_CASE_CLASSES,
    FUNDER_JOB,
    FUNDING_AGREEMENT,
    MUTABLE_CASE_CLASSES,
    SERVICE_AGREEMENT,
    AlwaysConsent,
    Case,
    Dossier,
    FrozenCase,
    NeverConsent,
    RecordingSink,
    StackedCase,
    case,
)
from purposeful import (
    ConfigurationError,
    Decision,
    Mode,
    NoPurposeScope,
    Outcome,
    PurposeViolation,
    Reason,
    current_scope,
    record_policy,
    use,
)
from purposeful._guard import STORAGE_PREFIX
from purposeful._kinds.attrs_kind import _attrs_setattr_hooks, _generated_by_attrs
from purposeful._seal import KEPT, ManagedValue
from purposeful.errors import (
    AnnotationError,
    DictStorageWarning,
    ManagedValueError,
    ScopeOrderWarning,
    SubjectChangeRefused,
)

MANAGED = ("diagnosis", "address", "case_notes")
VALUES = {
    "diagnosis": "generalised anxiety",
    "address": "12 Cuba Street",
    "case_notes": "met at home",
}
SLOTTED_CASE_CLASSES = (Case, FrozenCase, StackedCase)
PACKAGE_DIR = os.path.dirname(purposeful.__file__)


def class_id(cls: type) -> str:
    return cls.__name__


def allowing() -> use:
    """A scope in which every managed field of the `Case` variants may be read."""
    return use(CASE_MANAGEMENT, actor=CASEWORKER, consent=AlwaysConsent())


def denying() -> use:
    """A scope whose purpose (research) no managed field of the `Case` variants allows."""
    return use("research", actor=FUNDER_JOB)


def read_in_scope(record: Any) -> dict[str, Any]:
    """The managed values of *record*, read in an allowing scope."""
    with allowing():
        return {name: getattr(record, name) for name in MANAGED}


def all_allowed(decisions: Iterable[Decision]) -> bool:
    decided = list(decisions)
    return {d.field for d in decided} == set(MANAGED) and all(
        d.outcome is Outcome.ALLOWED for d in decided
    )


class Recorder:
    """A value that remembers everything it is compared with."""

    def __init__(self) -> None:
        self.seen: list[object] = []

    def __eq__(self, other: object) -> bool:
        self.seen.append(other)
        return True

    def __hash__(self) -> int:
        return 0


def spied(cls: type) -> tuple[Any, Recorder, MagicMock]:
    """A record whose diagnosis and address are objects that record comparisons."""
    recorder, mock = Recorder(), MagicMock()
    return case(cls, diagnosis=recorder, address=mock), recorder, mock  # type: ignore[arg-type]


def untouched(recorder: Recorder, mock: MagicMock) -> bool:
    return recorder.seen == [] and mock.mock_calls == []


# --- 1. equality, membership, hashing and look-ups are reads -------------------------------


def _index(items: list[Any], item: Any) -> int:
    try:
        return items.index(item)
    except ValueError:
        return -1


#: name → fn(record, other, prebuilt containers holding *other*) → True when they are equal.
COMPARISONS: dict[str, Callable[[Any, Any, Any], bool]] = {
    "==": lambda a, b, built: a == b,
    "!=": lambda a, b, built: (a != b) is False,
    "in": lambda a, b, built: a in [b],
    "list.index": lambda a, b, built: _index([b], a) == 0,
    "hash": lambda a, b, built: hash(a) == built.hash,
    "dict look-up": lambda a, b, built: built.table.get(a, False),
    "set look-up": lambda a, b, built: a in built.members,
}
HASHED = {"hash", "dict look-up", "set look-up"}
COMPARISON_CASES = [
    pytest.param(cls, name, id=f"{cls.__name__}-{name}")
    for cls in CASE_CLASSES
    for name in COMPARISONS
    if name not in HASHED or cls in FROZEN_CASE_CLASSES
]
#: The same, by class name: hypothesis prints its arguments, and cannot print a record class
#: (its ``_repr_pretty_`` is a plain function, unbound on the class).
BY_NAME = {cls.__name__: cls for cls in CASE_CLASSES}
COMPARISON_CASES_BY_NAME = [
    pytest.param(cls.__name__, name, id=f"{cls.__name__}-{name}")
    for cls in CASE_CLASSES
    for name in COMPARISONS
    if name not in HASHED or cls in FROZEN_CASE_CLASSES
]


def prebuilt(cls: type, other: Any) -> SimpleNamespace:
    """Containers holding *other*, built in an allowing scope (hashing it is a read)."""
    if cls not in FROZEN_CASE_CLASSES:
        return SimpleNamespace(hash=None, table={}, members=set())
    with allowing():
        return SimpleNamespace(hash=hash(other), table={other: True}, members={other})


def comparison(cls: type, name: str) -> tuple[Any, Any, Any, Any, Any, Any, Any]:
    """The comparison *name*, a plain record, a spied one with its recorder and mock, and
    containers holding each (built in an allowing scope, the mock reset afterwards)."""
    plain = case(cls)
    other, recorder, mock = spied(cls)
    built, built_plain = prebuilt(cls, other), prebuilt(cls, plain)
    mock.reset_mock()  # building the containers hashed it, in an allowing scope
    return COMPARISONS[name], plain, other, recorder, mock, built, built_plain


@pytest.mark.parametrize(("cls", "name"), COMPARISON_CASES)
def test_comparing_outside_any_scope_is_refused_before_the_other_operand_sees_a_value(
    cls: type, name: str
) -> None:
    compare, plain, other, recorder, mock, built, built_plain = comparison(cls, name)
    with pytest.raises(NoPurposeScope):
        compare(plain, other, built)
    with pytest.raises(NoPurposeScope):
        compare(other, plain, built_plain)
    assert untouched(recorder, mock), "a managed value reached the other operand undecided"


@pytest.mark.parametrize(("cls", "name"), COMPARISON_CASES)
def test_comparing_in_a_denying_scope_is_a_purpose_violation_before_a_value_is_compared(
    cls: type, name: str
) -> None:
    compare, plain, other, recorder, mock, built, built_plain = comparison(cls, name)
    with denying() as scope:
        with pytest.raises(PurposeViolation) as refused:
            compare(plain, other, built)
        assert type(refused.value) is PurposeViolation
        with pytest.raises(PurposeViolation):
            compare(other, plain, built_plain)
    assert untouched(recorder, mock)
    assert scope.decisions
    assert all(d.outcome is Outcome.DENIED for d in scope.decisions)


texts = st.text(max_size=12)
#: For properties where the values only vary the data: a failure is about the operation, so
#: shrinking (thousands of runs per parametrised case) would only slow a regression down.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
case_values = st.fixed_dictionaries(dict.fromkeys(MANAGED, texts))


@pytest.mark.parametrize(("class_name", "name"), COMPARISON_CASES_BY_NAME)
@settings(max_examples=8, deadline=None, phases=NO_SHRINK)
@given(mine=case_values, theirs=case_values, same=st.booleans())
def test_comparing_in_an_allowing_scope_compares_the_values_and_records_the_decisions(
    class_name: str, name: str, mine: dict[str, str], theirs: dict[str, str], same: bool
) -> None:
    cls = BY_NAME[class_name]
    theirs = dict(mine) if same else theirs
    equal = mine == theirs
    assume(equal or name != "hash")  # unequal values may still collide
    a, b = case(cls, **mine), case(cls, **theirs)
    built = prebuilt(cls, b)
    with allowing() as scope:
        assert COMPARISONS[name](a, b, built) is equal
    # attrs compares field by field and stops at the first difference
    assert scope.decisions
    assert all(d.outcome is Outcome.ALLOWED for d in scope.decisions)
    if equal:
        assert all_allowed(scope.decisions)


# --- 2. pickling, copying, evolve and the serialisers are reads ---------------------------


def _state(reduced: Any) -> dict[str, Any]:
    state = reduced[2]
    assert isinstance(state, dict)
    return state


def _from_record(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in MANAGED}


def _positional(cls: type, values: tuple[Any, ...]) -> dict[str, Any]:
    names = [a.name for a in attrs.fields(cls)]
    return {name: values[names.index(name)] for name in MANAGED}


#: name → (fn(record) → result, fn(cls, result) → the managed values the result carries),
#: the second called inside an allowing scope.
READS: dict[str, tuple[Callable[[Any], Any], Callable[[type, Any], dict[str, Any]]]] = {
    **{
        f"pickle.dumps(protocol={p})": (
            lambda r, p=p: pickle.dumps(r, protocol=p),
            lambda cls, result: _from_record(pickle.loads(result)),
        )
        for p in range(pickle.HIGHEST_PROTOCOL + 1)
    },
    "copy.copy": (copy.copy, lambda cls, result: _from_record(result)),
    "copy.deepcopy": (copy.deepcopy, lambda cls, result: _from_record(result)),
    **{
        f"__reduce_ex__({p})": (
            lambda r, p=p: r.__reduce_ex__(p),
            lambda cls, result: {n: _state(result)[n] for n in MANAGED},
        )
        for p in range(2, 6)
    },
    "__getstate__": (
        lambda r: r.__getstate__(),
        lambda cls, result: {n: result[n] for n in MANAGED},
    ),
    "attrs.evolve": (attrs.evolve, lambda cls, result: _from_record(result)),
    "attrs.asdict": (attrs.asdict, lambda cls, result: {n: result[n] for n in MANAGED}),
    "attrs.astuple": (attrs.astuple, _positional),
}
READ_CASES = [
    pytest.param(cls, name, id=f"{cls.__name__}-{name}") for cls in CASE_CLASSES for name in READS
]
READ_CASES_BY_NAME = [
    pytest.param(cls.__name__, name, id=f"{cls.__name__}-{name}")
    for cls in CASE_CLASSES
    for name in READS
]


@pytest.mark.parametrize(("cls", "name"), READ_CASES)
def test_serialising_or_copying_outside_any_scope_is_refused(cls: type, name: str) -> None:
    read, _ = READS[name]
    with pytest.raises(NoPurposeScope):
        read(case(cls))


@pytest.mark.parametrize(("cls", "name"), READ_CASES)
def test_serialising_or_copying_in_a_denying_scope_is_a_purpose_violation(
    cls: type, name: str
) -> None:
    read, _ = READS[name]
    with denying() as scope, pytest.raises(PurposeViolation) as refused:
        read(case(cls))
    assert type(refused.value) is PurposeViolation
    assert refused.value.decision.outcome is Outcome.DENIED
    assert scope.decisions == (refused.value.decision,)


@pytest.mark.parametrize(("class_name", "name"), READ_CASES_BY_NAME)
@settings(max_examples=5, deadline=None, phases=NO_SHRINK)
@given(values=case_values)
def test_serialising_or_copying_in_an_allowing_scope_carries_the_values_and_records_decisions(
    class_name: str, name: str, values: dict[str, str]
) -> None:
    cls = BY_NAME[class_name]
    read, carried = READS[name]
    record = case(cls, **values)
    with allowing() as scope:
        result = read(record)
    assert all_allowed(scope.decisions)
    with allowing():
        assert carried(cls, result) == values


# --- 3. what dir() reaches on a slotted record ---------------------------------------------


def reveals(found: object, values: Iterable[object]) -> bool:
    """True if *found* is one of *values* (by identity or as equal text), quotes one, or is a
    container or mapping that holds one."""
    values = list(values)

    def direct(item: object) -> bool:
        if any(item is v for v in values):
            return True
        if type(item) is str:
            return any(item == v or (v and v in item) for v in values if isinstance(v, str))
        return False

    if direct(found):
        return True
    if isinstance(found, tuple | list | set | frozenset):
        return any(direct(item) for item in found)
    if isinstance(found, dict):
        return any(direct(k) or direct(v) for k, v in found.items())
    return False


def reachable_by_name(record: object, skip: Iterable[str] = ()) -> dict[str, object]:
    """getattr(record, name) for each name dir() lists, except the managed fields (which must
    refuse) and *skip*."""
    managed = set(record_policy(type(record)).fields)
    found = {}
    for name in dir(record):
        if name in skip:
            continue
        try:
            found[name] = getattr(record, name)
        except NoPurposeScope:
            assert name in managed, f"{name} refused a read but is not a managed field"
            continue
        assert name not in managed, f"{name} is managed but was read outside any scope"
    return found


@pytest.mark.parametrize("cls", SLOTTED_CASE_CLASSES, ids=class_id)
def test_no_attribute_dir_lists_on_a_slotted_record_returns_a_managed_value(cls: type) -> None:
    record = case(cls)
    assert set(MANAGED) <= set(dir(record))
    for name, found in reachable_by_name(record).items():
        assert not reveals(found, VALUES.values()), f"{cls.__name__}.{name} reveals a value"


@pytest.mark.parametrize("cls", SLOTTED_CASE_CLASSES, ids=class_id)
def test_every_property_of_a_record_class_reads_through_the_guard(cls: type) -> None:
    record = case(cls)
    properties = [
        (name, attribute)
        for klass in type(record).__mro__
        for name, attribute in vars(klass).items()
        if isinstance(attribute, property)
    ]
    assert {name for name, _ in properties} >= {*MANAGED, "client_id"}
    for name, attribute in properties:
        if name in MANAGED:
            with pytest.raises(NoPurposeScope):
                attribute.__get__(record, type(record))
        else:
            assert not reveals(attribute.__get__(record, type(record)), VALUES.values())


@pytest.mark.parametrize("cls", SLOTTED_CASE_CLASSES, ids=class_id)
def test_a_record_or_field_policy_has_no_public_attribute_that_returns_the_value(
    cls: type,
) -> None:
    record = case(cls)
    policies = {"record": record_policy(cls), **record_policy(cls).fields}
    for field_name, policy in policies.items():
        public = [n for n in dir(policy) if not n.startswith("_")]
        assert "raw" not in public
        assert "read" not in public
        for name in public:
            found = getattr(policy, name)
            assert not reveals(found, VALUES.values()), f"{field_name}.{name}"
            if callable(found):
                try:
                    result = found(record)
                except Exception:
                    continue
                assert not reveals(result, VALUES.values()), f"{field_name}.{name}(record)"


@pytest.mark.parametrize("cls", SLOTTED_CASE_CLASSES, ids=class_id)
def test_vars_of_a_slotted_record_is_a_type_error(cls: type) -> None:
    with pytest.raises(TypeError):
        vars(case(cls))


@pytest.mark.parametrize("cls", SLOTTED_CASE_CLASSES, ids=class_id)
def test_known_limit_interpreter_introspection_reaches_the_storage(cls: type) -> None:
    """Documented limit, not a failure: the storage descriptors under the per-process
    `STORAGE_PREFIX` names (which dir() does not list) and ``gc.get_referents`` reach values,
    each sealed in the `ManagedValue` its slot keeps it in; so does the member descriptor a
    guard keeps on its getter. Only code that goes looking for the interpreter's internals
    finds them."""
    record = case(cls)
    storage = {n for n in vars(cls) if n.startswith(STORAGE_PREFIX)}
    # the subject's slot too: the getter reads it to note a record it meets
    assert storage == {f"{STORAGE_PREFIX}{name}" for name in (*MANAGED, "client_id")}
    assert not storage & set(dir(record))
    for name in MANAGED:
        descriptor = vars(cls)[f"{STORAGE_PREFIX}{name}"]
        assert KEPT.__get__(descriptor.__get__(record, cls)) == VALUES[name]
        assert KEPT.__get__(getattr(record, f"{STORAGE_PREFIX}{name}")) == VALUES[name]
        assert vars(cls)[name].fget.__purposeful_storage__ is descriptor
    sealed = [o for o in gc.get_referents(record) if isinstance(o, ManagedValue)]
    opened = {v for o in sealed for v in gc.get_referents(o) if isinstance(v, str)}
    assert opened == {VALUES[name] for name in MANAGED}
    assert set(VALUES.values()) <= opened | set(gc.get_referents(record))


# generated record classes: frozen or not, slotted or not, one class or a decorated subclass


Shape = tuple[bool, list[tuple[bool, int, int]], list[str]]


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    """(frozen, [(slots, managed fields, plain fields) for the class and each subclass],
    a text for each field)."""
    frozen = draw(st.booleans())
    levels = draw(st.integers(1, 2))
    classes = [
        (draw(st.booleans()), draw(st.integers(1 if level == 0 else 0, 3)), draw(st.integers(0, 2)))
        for level in range(levels)
    ]
    return frozen, classes, draw(st.lists(texts, min_size=11, max_size=11))


#: Generated record classes, kept by name while a test uses them so that pickle finds them.
GENERATED = SimpleNamespace()


@contextlib.contextmanager
def generated(
    frozen: bool, classes: list[tuple[bool, int, int]]
) -> Iterator[tuple[type, set[str], bool]]:
    """The record class *classes* describe (the last one), the names of the fields it keeps
    in an instance ``__dict__`` (those declared by a ``slots=False`` class), and whether its
    instances have a ``__dict__`` at all. Asserts `DictStorageWarning` is given exactly when
    some field is kept in a ``__dict__``."""
    base: type = object
    in_dict: set[str] = set()
    names: list[str] = []
    try:
        for level, (slots, managed, plain) in enumerate(classes):
            annotations: dict[str, str] = {}
            name = f"Shape{len(vars(GENERATED))}"
            namespace: dict[str, Any] = {
                "__annotations__": annotations,
                "__module__": __name__,
                "__qualname__": f"GENERATED.{name}",
            }
            if level == 0:
                annotations["client_id"] = "str"
            for i in range(managed):
                annotations[f"m{level}_{i}"] = "str"
                namespace[f"m{level}_{i}"] = purposeful.field(
                    purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}
                )
            for i in range(plain):
                annotations[f"p{level}_{i}"] = "str"
            if not slots:
                in_dict |= set(annotations)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                base = purposeful.record(
                    type(name, (base,), namespace), subject="client_id", frozen=frozen, slots=slots
                )
            setattr(GENERATED, name, base)
            names.append(name)
            assert [w.category for w in caught] == ([DictStorageWarning] if in_dict else [])
        yield base, in_dict, not all(slots for slots, _, _ in classes)
    finally:
        for name in names:
            delattr(GENERATED, name)


def assert_reads_are_checked(record: Any) -> None:
    """__getstate__, pickling and copying *record* are refused outside any scope, and keep
    every field inside one."""
    for read in (lambda r: r.__getstate__(), pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(NoPurposeScope):
            read(record)
    names = [a.name for a in attrs.fields(type(record))]
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        for again in (pickle.loads(pickle.dumps(record)), copy.copy(record)):
            assert [getattr(again, n) for n in names] == [getattr(record, n) for n in names]


@contextlib.contextmanager
def shaped_record(shape: Shape) -> Iterator[tuple[Any, list[str], set[str], bool]]:
    """A record of the class *shape* describes, its managed values (fresh, distinct objects,
    so identity tells them from any other text), the names it keeps in a ``__dict__``, and
    whether it has one."""
    frozen, classes, drawn = shape
    with generated(frozen, classes) as (cls, in_dict, has_dict):
        managed = list(record_policy(cls).fields)
        values = {
            a.name: (f"managed-{i}:{drawn[i]}" if a.name in managed else drawn[i])
            for i, a in enumerate(attrs.fields(cls))
        }
        yield cls(**values), [values[name] for name in managed], in_dict, has_dict


@settings(max_examples=40, deadline=None, report_multiple_bugs=False)
@given(shape=shapes())
def test_nothing_reachable_from_dir_of_any_record_shape_returns_a_managed_value(
    shape: Shape,
) -> None:
    with shaped_record(shape) as (record, secrets, in_dict, has_dict):
        cls = type(record)
        managed = list(record_policy(cls).fields)
        skip = ("__dict__",) if has_dict else ()
        for name, found in reachable_by_name(record, skip=skip).items():
            assert not reveals(found, secrets), f"{name} reveals a managed value"
        for klass in cls.__mro__:
            for name, attribute in vars(klass).items():
                if isinstance(attribute, property) and name in managed:
                    with pytest.raises(NoPurposeScope):
                        attribute.__get__(record, cls)
        if not has_dict:
            with pytest.raises(TypeError):
                vars(record)
        else:  # the documented second tier: the instance __dict__ hands values out undecided
            held = vars(record)
            assert set(held) == in_dict
            assert all(held[n] is v for n, v in zip(managed, secrets, strict=True) if n in in_dict)


@settings(max_examples=40, deadline=None, report_multiple_bugs=False)
@given(shape=shapes())
def test_pickling_and_copying_any_record_shape_are_checked_reads_that_keep_every_field(
    shape: Shape,
) -> None:
    with shaped_record(shape) as (record, _, _, _):
        assert_reads_are_checked(record)


@pytest.mark.parametrize(
    "classes",
    [[(True, 1, 0), (False, 0, 1)], [(False, 1, 0), (True, 1, 0)]],
    ids=["slotted-base-dict-subclass", "dict-base-slotted-subclass"],
)
def test_pickling_and_copying_a_record_stored_partly_in_slots_are_checked_reads(
    classes: list[tuple[bool, int, int]],
) -> None:
    with generated(False, classes) as (cls, _, _):
        record = cls(*(f"value-{a.name}" for a in attrs.fields(cls)))
        assert_reads_are_checked(record)


# --- 4. scopes opened in generators ("zombie" scopes) ---------------------------------------


def reading(records: Iterable[Any], name: str = "diagnosis") -> Iterator[Any]:
    """Yield *name* of each record, read inside the generator's own case-management scope."""
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        for record in records:
            yield getattr(record, name)


async def reading_async(records: Iterable[Any]) -> AsyncIterator[Any]:
    async with use(CASE_MANAGEMENT, actor=CASEWORKER):
        for record in records:
            yield record.diagnosis


@pytest.fixture
def unraisable() -> Iterator[list[BaseException | None]]:
    """Exceptions raised where nobody can catch them (a generator's finaliser)."""
    caught: list[BaseException | None] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda info: caught.append(info.exc_value)
    yield caught
    sys.unraisablehook = previous


def scoped_reports(sink: RecordingSink) -> list[tuple[str, bool]]:
    """(purpose, failed) of each report of a scope (not of a read outside any scope)."""
    return [(r.purpose.id, r.failed) for r in sink.reports if r.purpose is not None]


def test_a_generators_scope_does_not_cover_its_consumer_between_iterations() -> None:
    record = case()
    values = reading([record, record])
    assert next(values) == VALUES["diagnosis"]
    with pytest.raises(NoPurposeScope) as refused:
        _ = record.diagnosis
    assert refused.value.decision.reasons == (Reason.NO_SCOPE,)
    assert next(values) == VALUES["diagnosis"]  # the generator's own code stays covered
    values.close()


def test_a_consumer_reading_between_iterations_is_decided_under_its_own_purpose(
    sink: RecordingSink,
) -> None:
    record = case()
    with use("funder-reporting", actor=FUNDER_JOB) as mine:
        values = reading([record, record])
        assert next(values) == VALUES["diagnosis"]
        with pytest.raises(PurposeViolation) as refused:
            _ = record.diagnosis
        assert refused.value.decision.purpose is not None
        assert refused.value.decision.purpose.id == "funder-reporting"
        assert refused.value.decision.actor == FUNDER_JOB
        assert record.address == VALUES["address"]
        assert list(values) == [VALUES["diagnosis"]]
    assert [(d.field, d.purpose.id, d.outcome) for d in mine.decisions if d.purpose] == [
        ("diagnosis", "funder-reporting", Outcome.DENIED),
        ("address", "funder-reporting", Outcome.ALLOWED),
    ]
    generator_report = next(
        r for r in sink.reports if r.purpose and r.purpose.id == CASE_MANAGEMENT
    )
    assert [(d.field, d.outcome) for d in generator_report.decisions] == [
        ("diagnosis", Outcome.ALLOWED)
    ]


def finish_by_closing(generators: list[Any]) -> None:
    generators.pop().close()


def finish_by_collecting(generators: list[Any]) -> None:
    generators.pop()
    gc.collect()


FINISHES = pytest.mark.parametrize(
    "finish", [finish_by_closing, finish_by_collecting], ids=["close", "garbage-collect"]
)


@FINISHES
def test_an_abandoned_generator_finished_outside_any_scope_closes_and_reports_its_scope(
    finish: Callable[[list[Any]], None], sink: RecordingSink, unraisable: list[Any]
) -> None:
    record = case()
    generators = [reading([record, record])]
    assert next(generators[0]) == VALUES["diagnosis"]
    finish(generators)
    assert unraisable == []
    assert scoped_reports(sink) == [(CASE_MANAGEMENT, True)]
    assert current_scope() is None
    with pytest.raises(NoPurposeScope):
        _ = record.diagnosis


@FINISHES
def test_an_abandoned_generator_finished_inside_another_scope_closes_only_its_own_scope(
    finish: Callable[[list[Any]], None], sink: RecordingSink, unraisable: list[Any]
) -> None:
    record = case()
    generators = [reading([record, record])]
    assert next(generators[0]) == VALUES["diagnosis"]
    with use("funder-reporting", actor=FUNDER_JOB) as other:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            finish(generators)
        assert not other.closed, "finishing the generator closed a scope it did not open"
        assert current_scope() is other
        assert record.address == VALUES["address"]
    assert [str(w.message) for w in caught] == []
    assert unraisable == []
    assert [purpose for purpose, _ in scoped_reports(sink)] == [CASE_MANAGEMENT, "funder-reporting"]
    assert scoped_reports(sink)[1] == ("funder-reporting", False)
    with pytest.raises(NoPurposeScope):
        _ = record.diagnosis


@pytest.mark.parametrize("inside_another_scope", [False, True], ids=["alone", "in-another-scope"])
@pytest.mark.parametrize("finish", ["aclose", "garbage-collect"])
def test_an_abandoned_async_generator_closes_its_scope_and_covers_no_consumer(
    finish: str, inside_another_scope: bool, sink: RecordingSink
) -> None:
    record = case()

    async def main() -> tuple[list[str], list[dict[str, Any]], bool]:
        loop = asyncio.get_running_loop()
        errors: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _, context: errors.append(context))
        generators = [reading_async([record, record])]
        assert await anext(generators[0]) == VALUES["diagnosis"]
        with pytest.raises(NoPurposeScope):  # the consumer is not covered between iterations
            _ = record.diagnosis
        async with contextlib.AsyncExitStack() as stack:
            other = None
            if inside_another_scope:
                other = await stack.enter_async_context(use("funder-reporting", actor=FUNDER_JOB))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if finish == "aclose":
                    await generators.pop().aclose()
                else:
                    generators.pop()
                    gc.collect()
                for _ in range(5):
                    await asyncio.sleep(0)
            still_open = other is None or (not other.closed and current_scope() is other)
        return [str(w.message) for w in caught], errors, still_open

    messages, errors, still_open = asyncio.run(main())
    assert still_open, "finishing the async generator closed a scope it did not open"
    assert messages == []
    assert errors == []
    expected = [CASE_MANAGEMENT] + (["funder-reporting"] if inside_another_scope else [])
    assert [purpose for purpose, _ in scoped_reports(sink)] == expected
    if inside_another_scope:
        assert scoped_reports(sink)[-1] == ("funder-reporting", False)
    assert current_scope() is None
    with pytest.raises(NoPurposeScope):
        _ = record.diagnosis


def test_a_context_manager_that_opens_a_scope_covers_the_callers_block(
    sink: RecordingSink,
) -> None:
    @contextlib.contextmanager
    def case_management() -> Iterator[purposeful.Scope]:
        with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
            yield scope

    record = case()
    with case_management() as scope:
        assert current_scope() is scope
        assert record.diagnosis == VALUES["diagnosis"]
    assert [(d.field, d.outcome) for d in scope.decisions] == [("diagnosis", Outcome.ALLOWED)]
    assert scoped_reports(sink) == [(CASE_MANAGEMENT, False)]
    with pytest.raises(NoPurposeScope):
        _ = record.diagnosis


def test_an_async_context_manager_that_opens_a_scope_covers_the_callers_block() -> None:
    @contextlib.asynccontextmanager
    async def case_management() -> AsyncIterator[purposeful.Scope]:
        async with use(CASE_MANAGEMENT, actor=CASEWORKER) as scope:
            yield scope

    record = case()

    async def main() -> tuple[bool, str]:
        async with case_management() as scope:
            return current_scope() is scope, record.diagnosis

    assert asyncio.run(main()) == (True, VALUES["diagnosis"])


def test_closing_an_outer_scope_closes_an_inner_one_left_open_by_an_abandoned_generator(
    sink: RecordingSink,
) -> None:
    record = case()
    values = reading([record, record])
    with (
        pytest.warns(ScopeOrderWarning, match="still open"),
        use("funder-reporting", actor=FUNDER_JOB) as outer,
    ):
        assert next(values) == VALUES["diagnosis"]
    assert outer.closed
    assert scoped_reports(sink) == [(CASE_MANAGEMENT, True), ("funder-reporting", False)]
    assert current_scope() is None
    with pytest.raises(NoPurposeScope):
        _ = record.diagnosis
    values.close()  # nothing escapes and nothing is reported twice
    assert scoped_reports(sink) == [(CASE_MANAGEMENT, True), ("funder-reporting", False)]


def test_exiting_an_outer_use_before_an_inner_one_does_not_raise(sink: RecordingSink) -> None:
    outer_use, inner_use = use("service-delivery", actor=CASEWORKER), allowing()
    outer, inner = outer_use.__enter__(), inner_use.__enter__()
    with pytest.warns(ScopeOrderWarning):
        outer_use.__exit__(None, None, None)
    inner_use.__exit__(None, None, None)
    assert outer.closed
    assert inner.closed
    assert scoped_reports(sink) == [(CASE_MANAGEMENT, True), ("service-delivery", False)]
    assert current_scope() is None


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.booleans(), st.integers(0, 2), st.integers(0, 11)), max_size=12))
def test_exiting_scopes_in_any_order_never_raises_and_closes_and_reports_each_once(
    steps: list[tuple[bool, int, int]],
) -> None:
    recording = RecordingSink()
    with purposeful.configured(sinks=[recording]):
        uses = [allowing(), use("service-delivery", actor=CASEWORKER), denying()]
        entered: list[use] = []
        opened: list[purposeful.Scope] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for enter, which, pick in steps:
                if enter or not entered:
                    opened.append(uses[which].__enter__())
                    entered.append(uses[which])
                else:
                    entered.pop(pick % len(entered)).__exit__(None, None, None)
            while entered:  # oldest first: the most out of order
                entered.pop(0).__exit__(None, None, None)
        assert current_scope() is None
    assert {w.category for w in caught} <= {ScopeOrderWarning}
    assert all(scope.closed for scope in opened)
    assert len(recording.reports) == len(opened)


# --- 5. decisions are cached per record class ----------------------------------------------


@purposeful.record(subject="client_id")
class GuardNote:
    client_id: str
    text: str = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})


@purposeful.record(subject="client_id")
class PilotNote(GuardNote):
    site: str = "Porirua"


@pytest.mark.parametrize("monitored_first", [True, False], ids=["monitored-first", "base-first"])
def test_a_would_deny_for_a_monitored_subclass_does_not_let_the_base_class_through(
    monitored_first: bool,
) -> None:
    purposeful.configure(record_modes={PilotNote: Mode.MONITOR})
    base, monitored = GuardNote("C-1", "base text"), PilotNote("C-2", "pilot text")
    with use("funder-reporting", actor=FUNDER_JOB) as scope:
        if monitored_first:
            assert monitored.text == "pilot text"
        with pytest.raises(PurposeViolation) as refused:
            _ = base.text
        if not monitored_first:
            assert monitored.text == "pilot text"
        with pytest.raises(PurposeViolation):  # and again, from the scope's cache
            _ = base.text
    assert refused.value.decision.outcome is Outcome.DENIED
    assert refused.value.decision.record_type == "GuardNote"
    assert {(d.record_type, d.outcome) for d in scope.decisions} == {
        ("GuardNote", Outcome.DENIED),
        ("PilotNote", Outcome.WOULD_DENY),
    }


# --- 6. a record's subject cannot be rewritten ---------------------------------------------


@pytest.mark.parametrize("cls", MUTABLE_CASE_CLASSES, ids=class_id)
def test_assigning_another_subject_is_refused(cls: type) -> None:
    record = case(cls)
    with pytest.raises(SubjectChangeRefused) as refused:
        record.client_id = "C-2002"
    assert isinstance(refused.value, AttributeError)
    assert record.client_id == "C-1001"


@pytest.mark.parametrize("cls", CASE_CLASSES, ids=class_id)
def test_rewriting_the_subject_under_the_class_is_refused(cls: type) -> None:
    record = case(cls)
    with pytest.raises(SubjectChangeRefused):
        object.__setattr__(record, "client_id", "C-2002")
    with pytest.raises(SubjectChangeRefused):
        object.__delattr__(record, "client_id")
    assert record.client_id == "C-1001"


@pytest.mark.parametrize("cls", MUTABLE_CASE_CLASSES, ids=class_id)
def test_deleting_the_subject_is_refused(cls: type) -> None:
    record = case(cls)
    with pytest.raises(SubjectChangeRefused):
        del record.client_id
    assert record.client_id == "C-1001"


def test_a_managed_subject_cannot_be_rewritten_either() -> None:
    dossier = Dossier("C-1", "d", "a", "s", "p", "i", "f")
    with pytest.raises(SubjectChangeRefused):
        dossier.client_id = "C-2"
    with pytest.raises(SubjectChangeRefused):
        del dossier.client_id
    with use("service-delivery", actor=CASEWORKER):
        assert dossier.client_id == "C-1"


@pytest.mark.parametrize("cls", CASE_CLASSES, ids=class_id)
def test_assigning_the_same_subject_again_is_allowed(cls: type) -> None:
    record = case(cls)
    same = "".join(["C-", "1001"])  # equal, not identical
    object.__setattr__(record, "client_id", same)
    if cls in MUTABLE_CASE_CLASSES:
        record.client_id = same
    assert record.client_id == "C-1001"


@pytest.mark.parametrize("cls", CASE_CLASSES, ids=class_id)
def test_construction_unpickling_and_copying_still_set_the_subject(cls: type) -> None:
    record = case(cls, client_id="C-3003")
    assert record.client_id == "C-3003"
    with allowing():
        pickled = [pickle.dumps(record, p) for p in range(pickle.HIGHEST_PROTOCOL + 1)]
        copies = [copy.copy(record), copy.deepcopy(record), attrs.evolve(record)]
    unpickled = [pickle.loads(p) for p in pickled]  # unpickling is not a read
    for made in [*unpickled, *copies]:
        assert made.client_id == "C-3003"
        assert read_in_scope(made) == VALUES
    assert attrs.evolve(record, client_id="C-4004", **VALUES).client_id == "C-4004"


# --- 7. configured() is per thread ---------------------------------------------------------


@pytest.mark.parametrize("own_configuration", [False, True], ids=["process-wide", "configured"])
def test_configured_monitor_mode_in_one_thread_leaves_another_thread_enforcing(
    own_configuration: bool, sink: RecordingSink
) -> None:
    record = case()
    inside, release = threading.Event(), threading.Event()
    monitored: list[object] = []
    enforced: list[object] = []
    own_sink = RecordingSink()

    def monitoring() -> None:
        with purposeful.configured(mode=Mode.MONITOR, sinks=[]):
            monitored.append(record.diagnosis)
            inside.set()
            release.wait(timeout=10)

    def enforcing() -> None:
        context = (
            purposeful.configured(sinks=[own_sink])
            if own_configuration
            else contextlib.nullcontext()
        )
        with context:
            try:
                enforced.append(record.diagnosis)
            except NoPurposeScope as exc:
                enforced.append(exc.decision)

    thread_a = threading.Thread(target=monitoring, daemon=True)
    thread_a.start()
    try:
        assert inside.wait(timeout=10), "thread A never entered configured()"
        thread_b = threading.Thread(target=enforcing, daemon=True)
        thread_b.start()
        thread_b.join(timeout=10)
        assert not thread_b.is_alive()
    finally:
        release.set()
        thread_a.join(timeout=10)
    assert not thread_a.is_alive()
    assert monitored == [VALUES["diagnosis"]]
    assert len(enforced) == 1
    decision = enforced[0]
    assert isinstance(decision, Decision), "thread B read a value outside any scope"
    assert decision.reasons == (Reason.NO_SCOPE,)
    assert decision.outcome is Outcome.DENIED
    expected_sink, other_sink = (own_sink, sink) if own_configuration else (sink, own_sink)
    assert expected_sink.decisions == [decision]
    assert other_sink.decisions == []
    assert purposeful.get_configuration().mode is Mode.ENFORCE


# --- 8. declarations -----------------------------------------------------------------------


def test_a_subclass_redeclaring_a_managed_field_applies_its_own_purposes() -> None:
    @purposeful.record(subject="client_id")
    class Funded(GuardNote):
        text: str = purposeful.field(purposes={"funder-reporting": FUNDING_AGREEMENT})

    base, funded = GuardNote("C-1", "base text"), Funded("C-2", "funded text")
    with use("funder-reporting", actor=FUNDER_JOB):
        assert funded.text == "funded text"
        with pytest.raises(PurposeViolation):
            _ = base.text
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert base.text == "base text"
        with pytest.raises(PurposeViolation):
            _ = funded.text
    assert set(record_policy(GuardNote).fields["text"].purposes) == {CASE_MANAGEMENT}
    assert set(record_policy(Funded).fields["text"].purposes) == {"funder-reporting"}


def redeclare_as_annotation() -> type:
    @purposeful.record(subject="client_id")
    class Unmanaged(GuardNote):
        text: str = ""

    return Unmanaged


def redeclare_as_attrs_field() -> type:
    @purposeful.record(subject="client_id")
    @attrs.define
    class Unmanaged(GuardNote):
        text: str = attrs.field(default="")

    return Unmanaged


@pytest.mark.parametrize(
    "redeclare", [redeclare_as_annotation, redeclare_as_attrs_field], ids=["annotation", "field"]
)
def test_a_subclass_redeclaring_a_managed_field_as_plain_is_an_annotation_error(
    redeclare: Callable[[], type],
) -> None:
    with pytest.raises(AnnotationError, match=r"text is declared again as a plain field"):
        redeclare()


def test_a_key_naming_a_managed_field_is_an_annotation_error() -> None:
    with pytest.raises(AnnotationError, match=r"text is a managed field and cannot be"):

        @purposeful.record(subject="client_id", key="text")
        class Keyed:
            client_id: str
            text: str = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})


def test_a_managed_subject_may_be_its_own_key() -> None:
    @purposeful.record(subject="client_id", key="client_id")
    class Keyed:
        client_id: str = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})

    assert record_policy(Keyed).key == "client_id"


@pytest.mark.parametrize(
    "pseudonymise",
    [str, lambda s: s, lambda s: "p-" + s, lambda s: s + "-p", lambda s: s.upper()],
    ids=["str", "identity", "prefix", "suffix", "upper"],
)
def test_a_pseudonymiser_that_lets_the_subject_id_through_is_a_configuration_error(
    pseudonymise: Callable[[str], str],
) -> None:
    before = purposeful.get_configuration()
    with pytest.raises(ConfigurationError):
        purposeful.configure(pseudonymise=pseudonymise)
    assert purposeful.get_configuration() is before


# --- 9. errors never hold a managed value --------------------------------------------------

SECRET = "SECRET-VALUE-123"


@purposeful.record(subject="client_id")
class Coded:
    client_id: str
    code: str = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, validator=attrs.validators.in_(["a", "b"])
    )


@purposeful.record(subject="client_id", frozen=True)
class FrozenCoded:
    client_id: str
    code: str = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, validator=attrs.validators.in_(["a", "b"])
    )


def holds_secret(value: object) -> bool:
    try:
        return value is SECRET or value == SECRET or SECRET in repr(value)
    except Exception:
        return False


def assert_no_secret(error: BaseException) -> None:
    """*error* is a ValueError that quotes no value and whose purposeful frames hold none."""
    assert isinstance(error, ValueError)
    assert isinstance(error, ManagedValueError)
    assert SECRET not in str(error)
    assert not any(holds_secret(arg) for arg in error.args)
    assert error.__context__ is None
    assert error.__cause__ is None
    assert SECRET not in "".join(traceback.format_exception(error))
    tb: TracebackType | None = error.__traceback__
    seen = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.startswith((PACKAGE_DIR, "<purposeful")):
            seen.append(code.co_name)
            leaking = [n for n, v in tb.tb_frame.f_locals.items() if holds_secret(v)]
            assert leaking == [], f"{code.co_name} holds the value in {leaking}"
        tb = tb.tb_next
    assert seen, "no frame of purposeful raised the error"


@pytest.mark.parametrize("cls", [Coded, FrozenCoded], ids=class_id)
def test_a_validator_refusing_a_value_on_construction_does_not_quote_it(cls: type) -> None:
    with pytest.raises(
        ValueError, match="a value given for code \\(a managed field or the subject\\)"
    ) as refused:
        cls("C-1", SECRET)
    assert_no_secret(refused.value)


def test_a_validator_refusing_an_assigned_value_does_not_quote_it() -> None:
    record = Coded("C-1", "a")
    with pytest.raises(
        ValueError, match="a value given for code \\(a managed field or the subject\\)"
    ) as refused:
        record.code = SECRET
    assert_no_secret(refused.value)
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert record.code == "a"


@pytest.mark.parametrize("cls", [Coded, FrozenCoded], ids=class_id)
def test_a_validator_refusing_an_evolved_value_does_not_quote_it(cls: type) -> None:
    record = cls("C-1", "a")
    with (
        use(CASE_MANAGEMENT, actor=CASEWORKER),
        pytest.raises(
            ValueError, match="a value given for code \\(a managed field or the subject\\)"
        ) as refused,
    ):
        attrs.evolve(record, code=SECRET)
    assert_no_secret(refused.value)


# --- 10. a closed scope holds no raw subject id --------------------------------------------


@pytest.mark.parametrize("consent", [AlwaysConsent(), NeverConsent()], ids=["given", "refused"])
def test_a_closed_scope_holds_no_subject_id(consent: Any) -> None:
    record = case(Case, client_id="C-SUBJECT-0042")
    with use(CASE_MANAGEMENT, actor=CASEWORKER, consent=consent) as scope:
        with contextlib.suppress(PurposeViolation):
            _ = record.case_notes
        _ = record.diagnosis
        assert len(scope._consents)  # the consent question was asked: the test can fail
    assert scope._decided == {}
    assert len(scope._consents) == 0
    for name in type(scope).__slots__:
        assert "C-SUBJECT-0042" not in repr(getattr(scope, name)), name
    assert scope._seen == {}
    assert scope._people == {}


# --- 11. the attrs behaviour the guard relies on -------------------------------------------


@attrs.define
class PlainValidated:
    value: int = attrs.field(validator=attrs.validators.instance_of(int))


@attrs.frozen
class PlainFrozen:
    value: int


def test_attrs_generated_init_is_recognisable_by_its_file_name() -> None:
    init = PlainValidated.__init__
    assert init.__code__.co_filename.startswith("<attrs generated")
    assert _generated_by_attrs(init)
    records_init = Case.__init__.__wrapped__  # type: ignore[attr-defined]
    assert _generated_by_attrs(records_init)
    assert id(records_init.__code__) in purposeful._guard._exempt_ids


def test_attrs_init_reads_the_field_back_to_run_its_validator() -> None:
    source = inspect.getsource(PlainValidated.__init__)
    assert "__attr_validator_value(self, __attr_value, self.value)" in source


def test_a_validator_on_a_managed_field_runs_at_construction_outside_any_scope(
    sink: RecordingSink,
) -> None:
    given: list[object] = []

    @purposeful.record(subject="client_id")
    class Checked:
        client_id: str
        text: str = purposeful.field(
            purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT},
            validator=lambda _, __, value: given.append(value),
        )

    Checked("C-1", "checked text")
    assert given == ["checked text"]
    assert sink.reports == []


def test_the_construction_exemption_does_not_cover_a_validator_reading_another_field() -> None:
    @purposeful.record(subject="client_id")
    class CrossChecked:
        client_id: str
        first: str = purposeful.field(purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT})
        second: str = purposeful.field(
            purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT},
            validator=lambda instance, _, __: instance.first,
        )

    with pytest.raises(NoPurposeScope):
        CrossChecked("C-1", "one", "two")


def test_attrs_on_setattr_hook_is_attrs_own_setattr() -> None:
    hook = PlainValidated.__setattr__
    assert hook.__name__ == "__setattr__"
    assert hook.__code__.co_filename == attr._make.__file__
    assert _attrs_setattr_hooks(hook)


def test_attrs_frozen_classes_use_attrs_frozen_setattrs() -> None:
    assert PlainFrozen.__setattr__ is attr._make._frozen_setattrs
    assert FrozenCase.__setattr__ is attr._make._frozen_setattrs
    assert attr._make._frozen_setattrs.__name__ != "__setattr__"
    assert not _attrs_setattr_hooks(attr._make._frozen_setattrs)


# --- 12. the guard's source in tracebacks --------------------------------------------------


def test_a_refused_reads_traceback_shows_the_guards_source_line() -> None:
    with pytest.raises(NoPurposeScope) as refused:
        _ = case().diagnosis
    text = "".join(traceback.format_exception(refused.value))
    assert "<purposeful guard _records.Case.diagnosis>" in text
    assert "_slow(_policy, obj)" in text


def test_a_generator_resumed_inside_a_later_scope_of_its_consumer_reads_under_its_own(
    sink: RecordingSink,
) -> None:
    record = case()
    generator = reading([record, record])
    assert next(generator) == VALUES["diagnosis"]
    with use("funder-reporting", actor=FUNDER_JOB) as consumer:
        assert next(generator) == VALUES["diagnosis"]  # decided under case management
        assert record.address  # the consumer's own read, under funder reporting
        with pytest.raises(PurposeViolation):
            _ = record.diagnosis  # funder reporting may not read it
        generator.close()
        assert current_scope() is consumer
        assert not consumer.closed
    assert [d.purpose.id for d in consumer.decisions if d.purpose] == ["funder-reporting"] * 2
    assert [purpose for purpose, _ in scoped_reports(sink)] == [CASE_MANAGEMENT, "funder-reporting"]


def test_a_task_started_inside_configured_falls_back_once_the_block_ends() -> None:
    record = case()

    async def main() -> None:
        started = asyncio.Event()
        proceed = asyncio.Event()

        async def late_reader() -> Any:
            started.set()
            await asyncio.wait_for(proceed.wait(), timeout=5)
            assert purposeful.get_configuration().mode is purposeful.Mode.ENFORCE
            return record.diagnosis

        with purposeful.configured(mode=purposeful.Mode.MONITOR):
            task = asyncio.create_task(late_reader())
            await asyncio.wait_for(started.wait(), timeout=5)
        proceed.set()
        with pytest.raises(NoPurposeScope):
            await asyncio.wait_for(task, timeout=5)

    asyncio.run(main())


@purposeful.record(subject="client_id")
class Rated:
    client_id: str
    risk: int = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, validator=attrs.validators.lt(5)
    )
    note: str = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT},
        default="",
        validator=lambda _inst, _attr, value: _too_long(value),
    )


def _too_long(value: str) -> None:
    if len(value) > 8:
        raise ValueError("too long")


def _purposeful_locals(error: BaseException) -> list[str]:
    texts: list[str] = []
    tb = error.__traceback__
    while tb is not None:
        if "purposeful" in tb.tb_frame.f_code.co_filename:
            texts += [repr(v) for v in tb.tb_frame.f_locals.values()]
        tb = tb.tb_next
    return texts


def test_a_short_managed_value_quoted_by_a_validator_is_not_shown() -> None:
    with pytest.raises(ValueError, match="not shown") as refused:
        Rated("C-RATED-1", 9)
    assert ": 9" not in str(refused.value)
    assert not [t for t in _purposeful_locals(refused.value) if "C-RATED-1" in t]


def test_an_error_that_quotes_nothing_keeps_its_message_and_leaves_no_value_in_library_frames() -> (
    None
):
    with pytest.raises(ValueError, match="too long") as refused:
        Rated("C-RATED-2", 1, note="SECRET-LONG-NOTE")
    texts = _purposeful_locals(refused.value)
    assert not [t for t in texts if "SECRET-LONG-NOTE" in t or "C-RATED-2" in t]


def test_a_generators_configured_block_ending_leaves_the_consumers_block_in_force() -> None:
    def quiet() -> Iterator[None]:
        with purposeful.configured(sinks=[]):
            yield
            yield

    purposeful.configure(mode=purposeful.Mode.MONITOR)
    generator = quiet()
    next(generator)
    with purposeful.configured(mode=purposeful.Mode.ENFORCE):
        for _ in generator:
            pass
        assert purposeful.get_configuration().mode is purposeful.Mode.ENFORCE
        with pytest.raises(NoPurposeScope):
            _ = case().diagnosis


def test_a_second_class_of_one_module_may_not_take_anothers_name() -> None:
    with pytest.raises(AnnotationError, match="name="):

        @purposeful.record(subject="client_id", name="Rated")
        class Rerated:
            client_id: str


@contextlib.contextmanager
def _funder_scope() -> Iterator[purposeful.Scope]:
    with use("funder-reporting", actor=FUNDER_JOB) as scope:
        yield scope


def test_a_scope_a_generator_opens_through_a_helper_or_an_exit_stack_covers_no_consumer() -> None:
    record = case()

    def through_helper() -> Iterator[str]:
        with _funder_scope():
            yield record.address

    def through_stack() -> Iterator[str]:
        with contextlib.ExitStack() as stack:
            stack.enter_context(use("funder-reporting", actor=FUNDER_JOB))
            yield record.address

    for generator in (through_helper(), through_stack()):
        for address in generator:
            assert address == VALUES["address"]
            with pytest.raises(NoPurposeScope):
                _ = record.address  # the consumer is not in the generator's scope
    assert current_scope() is None


def test_a_generator_running_in_another_thread_covers_nothing_in_this_one() -> None:
    record = case()
    started, release = threading.Event(), threading.Event()

    def slow() -> Iterator[None]:
        with use("funder-reporting", actor=FUNDER_JOB):
            yield
            started.set()
            release.wait(5)
            yield

    generator = slow()
    next(generator)
    worker = threading.Thread(target=lambda: next(generator))
    worker.start()
    try:
        assert started.wait(5)
        with pytest.raises(NoPurposeScope):
            _ = record.address
    finally:
        release.set()
        worker.join(5)
    generator.close()


def test_a_generator_resumed_after_its_scope_was_closed_under_it_reads_nothing(
    sink: RecordingSink,
) -> None:
    record = case()

    def reader() -> Iterator[str]:
        with use("funder-reporting", actor=FUNDER_JOB):
            yield ""
            yield record.address

    generator = reader()
    with pytest.warns(ScopeOrderWarning), use(CASE_MANAGEMENT, actor=CASEWORKER):
        next(generator)
    with use("service-delivery", actor=CASEWORKER):  # would allow address
        with pytest.raises(NoPurposeScope) as refused:
            next(generator)
        assert refused.value.decision.reasons == (purposeful.Reason.SCOPE_CLOSED,)
        generator.close()
        assert current_scope() is not None
    assert not purposeful._guard.orphans


@pytest.mark.parametrize(
    ("operation", "said"),
    [
        (lambda a, b: a == b, "=="),
        (lambda a, b: {a}, "hashing"),
        (lambda a, b: pickle.dumps(a), "pickling"),
        (lambda a, b: copy.deepcopy(a), "copying"),
        (lambda a, b: attrs.evolve(a), "evolve"),
    ],
    ids=["eq", "hash", "pickle", "deepcopy", "evolve"],
)
def test_a_refusal_made_by_a_protocol_says_which_and_what_to_do(operation: Any, said: str) -> None:
    a, b = case(FrozenCase), case(FrozenCase)
    with pytest.raises(NoPurposeScope) as refused:
        operation(a, b)
    notes = " ".join(getattr(refused.value, "__notes__", []))
    assert said in notes
    assert "ids" in notes


def test_a_plain_attribute_refusal_carries_no_protocol_note() -> None:
    with pytest.raises(NoPurposeScope) as refused:
        _ = case(FrozenCase).diagnosis
    assert not getattr(refused.value, "__notes__", [])
