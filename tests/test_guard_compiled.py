"""The compiled guard (`purposeful._speedups`) against the Python getter it stands for.

The generated Python getter is the reference: the compiled one must answer every read the
same way (the value, or the same refusal), leave the same audit trail, and leak nothing. CI
runs the suite with the compiled guard, and the guard's suites again with
``PURPOSEFUL_PURE_PYTHON=1``; a CI run that is not using the compiled guard fails here.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
import traceback
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import purposeful
from _records import (
    CASE_MANAGEMENT,
    CASEWORKER,
    FUNDER_JOB,
    FUNDING_AGREEMENT,
    SERVICE_AGREEMENT,
    Case,
    DictCase,
    RecordingSink,
    case,
)
from purposeful import _guard
from purposeful._seal import KEPT, ManagedValue
from purposeful.audit import PseudonymKey
from purposeful.errors import DictStorageWarning

requires_compiled = pytest.mark.skipif(
    not _guard.COMPILED,
    reason="the compiled guard is not in use (PURPOSEFUL_PURE_PYTHON or no build)",
)
KEY = PseudonymKey.generate()


# --- which guard is in use ------------------------------------------------------------------


def _pure_requested() -> bool:
    return os.environ.get("PURPOSEFUL_PURE_PYTHON", "") not in ("", "0")


def test_ci_runs_the_compiled_guard_unless_pure_python_is_asked_for() -> None:
    """CI builds the extension (a compiler is there): if it did not, or the guard fell back
    to Python silently, half of what CI claims to test would not be tested."""
    if os.environ.get("CI") != "true" or _pure_requested():
        pytest.skip("only CI, without PURPOSEFUL_PURE_PYTHON, requires the compiled guard")
    assert _guard.COMPILED, "CI is not using the compiled guard: did the extension build?"


def test_pure_python_asked_for_is_what_runs() -> None:
    getter = vars(Case)["diagnosis"].fget
    if _pure_requested():
        assert not _guard.COMPILED
    compiled = type(getter).__module__ == "purposeful._speedups"
    assert compiled is _guard.COMPILED
    assert compiled is not (type(getter).__name__ == "function")


@pytest.mark.parametrize("cls", [Case, DictCase], ids=lambda cls: cls.__qualname__)
def test_the_guard_carries_its_field_and_storage(cls: type) -> None:
    guard = vars(cls)["diagnosis"]
    assert isinstance(guard, property)
    assert guard.fget.__purposeful_field__ is cls.__purposeful_record__.fields["diagnosis"]
    storage = guard.fget.__purposeful_storage__
    if cls is Case:
        assert storage is _guard.slot_of(cls, "diagnosis")
        assert storage is vars(cls)[f"{_guard.STORAGE_PREFIX}diagnosis"]
    else:
        assert storage is None
    assert guard.fget.__qualname__ == f"{cls.__qualname__}.diagnosis"


@requires_compiled
def test_the_compiled_guard_takes_the_record_alone() -> None:
    guard = vars(Case)["diagnosis"].fget
    record = case()
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert guard(record) == "generalised anxiety"
        with pytest.raises(TypeError, match="one argument"):
            guard(record, record)
        with pytest.raises(TypeError, match="one argument"):
            guard(obj=record)
        with pytest.raises(TypeError, match="one argument"):
            guard()


@requires_compiled
def test_the_compiled_guard_checks_what_it_is_built_from() -> None:
    from purposeful._speedups import Guard

    policy = Case.__purposeful_record__.fields["diagnosis"]  # type: ignore[attr-defined]
    slow = vars(Case)["diagnosis"].fget
    rest = (Case, _guard.FREE, _guard.slot_of(Case, "client_id"), None)
    with pytest.raises(TypeError, match="ContextVar"):
        Guard(policy, object(), slow, _guard.READ_IT, None, "diagnosis", None, *rest)
    with pytest.raises(TypeError, match="callable"):
        Guard(policy, _guard.fast_var, 1, _guard.READ_IT, None, "diagnosis", None, *rest)
    with pytest.raises(TypeError, match="member descriptor"):
        Guard(policy, _guard.fast_var, slow, _guard.READ_IT, object(), "diagnosis", None, *rest)
    with pytest.raises(TypeError, match="a class"):
        Guard(policy, _guard.fast_var, slow, _guard.READ_IT, None, "diagnosis", None, 1, *rest[1:])
    with pytest.raises(TypeError, match="subject must be"):
        Guard(policy, _guard.fast_var, slow, _guard.READ_IT, None, "diagnosis", None,
              *rest[:2], 1, None)  # fmt: skip
    member = _guard.slot_of(Case, "diagnosis")
    for kept, storage in ((object(), member), (KEPT, None)):
        with pytest.raises(TypeError, match="kept must be"):
            Guard(policy, _guard.fast_var, slow, _guard.READ_IT, storage, "diagnosis", None,
                  *rest[:3], kept)  # fmt: skip


@requires_compiled
def test_the_compiled_sealer_writes_a_seal_and_checks_what_it_is_given() -> None:
    from purposeful._speedups import Sealer

    member = _guard.slot_of(Case, "diagnosis")
    assert member is not None
    assert type(vars(Case)["diagnosis"].fset) is Sealer  # construction seals in C
    for storage, kept in ((object(), KEPT), (member, object())):
        with pytest.raises(TypeError, match="member descriptors"):
            Sealer(storage, kept)
    sealer = Sealer(member, KEPT)
    record = case()
    sealer(record, "panic disorder")
    assert type(member.__get__(record)) is ManagedValue
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        assert record.diagnosis == "panic disorder"
    with pytest.raises(TypeError, match="descriptor"):
        sealer(object(), "panic disorder")
    with pytest.raises(TypeError, match="the record and the value"):
        sealer(record)  # type: ignore[call-arg]


def test_a_slot_that_holds_no_seal_is_refused_not_read() -> None:
    """A managed slot holds its value sealed; a raw value put there past the guard (through
    the storage descriptor) is not read as if it were a seal, by either getter."""
    record = case()
    policy = Case.__purposeful_record__.fields["diagnosis"]  # type: ignore[attr-defined]
    member = _guard.slot_of(Case, "diagnosis")
    assert member is not None
    member.__set__(record, "raw, unsealed")
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        with pytest.raises((TypeError, AttributeError)) as raised:
            record.diagnosis  # noqa: B018
        with pytest.raises((TypeError, AttributeError)):
            policy._raw(record)
    assert "raw, unsealed" not in str(raised.value)


@requires_compiled
def test_a_slot_read_through_another_class_is_the_descriptors_type_error() -> None:
    """The compiled guard reads the slot at its offset only for an instance of the slot's
    class; anything else gets the member descriptor's own refusal, as the Python getter's
    ``obj.<storage>`` would."""
    from purposeful._speedups import Guard

    policy = Case.__purposeful_record__.fields["diagnosis"]  # type: ignore[attr-defined]
    member = _guard.slot_of(Case, "diagnosis")
    guard = Guard(
        policy,
        _guard.fast_var,
        lambda obj: _guard.READ_IT,
        _guard.READ_IT,
        member,
        "diagnosis",
        None,
        Case,
        _guard.FREE,
        _guard.slot_of(Case, "client_id"),
        KEPT,
    )
    assert guard(case()) == "generalised anxiety"
    with pytest.raises(TypeError, match="descriptor"):
        guard(object())


# --- the refused read's frames: as the Python getter's ----------------------------------------


@pytest.mark.parametrize("cls", [Case, DictCase], ids=lambda cls: cls.__qualname__)
def test_a_refusal_shows_the_guards_line_and_no_raw_id_in_its_frames(cls: type) -> None:
    record = case(cls, "C-SECRET-7")
    with pytest.raises(purposeful.NoPurposeScope) as refused:
        _ = record.diagnosis
    text = "".join(traceback.format_exception(refused.value))
    assert f"<purposeful guard _records.{cls.__qualname__}.diagnosis>" in text
    assert "C-SECRET-7" not in text
    tb = refused.value.__traceback__
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if isinstance(value, str):
                assert "C-SECRET-7" not in value
        tb = tb.tb_next


def test_the_slow_path_sees_the_reader_two_frames_up() -> None:
    """`_guard.read_slow` looks at ``sys._getframe(2)``: the code that read the field, with
    the compiled guard as with the Python one (its trampoline stands where the getter was)."""
    seen: list[str] = []
    real = _guard.read_slow

    def spy(policy: Any, obj: object) -> Any:
        seen.append(sys._getframe(2).f_code.co_name)
        return real(policy, obj)

    cls = _agreeing_classes()[0]
    _guard.read_slow = spy
    try:
        _guard.install_getter(cls, cls.__purposeful_record__.fields["diagnosis"])
        _guard.install_getter(cls, cls.__purposeful_record__.fields["address"], compiled=False)
        with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):

            def the_reader() -> None:
                record = cls("C-1", "d", "a", "n")
                _ = record.diagnosis
                _ = record.address

            the_reader()
    finally:
        _guard.read_slow = real
        _reinstall(cls, compiled=True)
    assert seen == ["the_reader", "the_reader"]


# --- reference counts and memory: flat over many reads ---------------------------------------


def _flat(read: Callable[[], object], times: int, *watched: object) -> None:
    """*read* run *times* times leaves the reference counts of *watched* (one reference
    leaked a read would show as *times* more) and the traced memory flat."""
    read()
    gc.collect()
    before = [sys.getrefcount(w) for w in watched]
    tracemalloc.start()
    try:
        read()
        start, _ = tracemalloc.get_traced_memory()
        for _ in range(times):
            read()
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    after = [sys.getrefcount(w) for w in watched]
    # one reference leaked a read would add *times*; other threads of the process (a scope's
    # flusher, an earlier test's) may drop a few of theirs to shared objects meanwhile
    assert [a - b < 16 for a, b in zip(after, before, strict=True)] == [True] * len(watched), (
        before,
        after,
    )
    assert end - start < 64 * 1024, f"{end - start} bytes more after {times} reads"


def _raising(read: Callable[[], object], error: type[BaseException]) -> Callable[[], object]:
    def attempt() -> object:
        try:
            return read()
        except error:
            return None

    return attempt


@pytest.mark.parametrize("cls", [Case, DictCase], ids=lambda cls: cls.__qualname__)
def test_reads_on_every_path_leak_nothing(cls: type) -> None:
    value = "generalised anxiety, " + cls.__qualname__  # not interned: a count of its own
    record = case(cls, "C-1", diagnosis=value)
    other = case(cls, "C-2", diagnosis=value)
    policy = cls.__purposeful_record__.fields["diagnosis"]
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = record.diagnosis
        state = _guard.fast_var.get()
        # the hot path proper, a million times
        _flat(lambda: record.diagnosis, 1_000_000, record, value, policy, state)
        _ = other.address
        # the inline note, then the slow path for the other record, in turn
        _flat(lambda: (record.address, other.address), 20_000, record, other, value, policy)
    refused = _raising(lambda: record.diagnosis, purposeful.NoPurposeScope)
    _flat(refused, 2_000, record, value, policy)
    with purposeful.use("service-delivery", actor=CASEWORKER):
        violation = _raising(lambda: record.diagnosis, purposeful.PurposeViolation)
        _flat(violation, 2_000, record, value, policy)
        del record.address  # the slot or key is gone: AttributeError after the decision
        _flat(_raising(lambda: record.address, AttributeError), 20_000, record)


# --- agreement: the compiled and Python getters on generated sequences ----------------------

_AGREEING: list[type] = []


def _agreeing_classes() -> list[type]:
    """A slotted and a ``__dict__`` record class, twice: compiled (if built) and Python."""
    if not _AGREEING:
        for slots in (True, False):
            for suffix in ("C", "P"):
                name = f"Agreeing{'Slotted' if slots else 'Dict'}{suffix}"
                namespace: dict[str, Any] = {
                    "__module__": __name__,
                    "__annotations__": {
                        "client_id": str,
                        "diagnosis": str,
                        "address": str,
                        "case_notes": str,
                    },
                    "diagnosis": purposeful.field(
                        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT},
                        sensitivity=purposeful.SENSITIVE,
                    ),
                    "address": purposeful.field(
                        purposes={
                            "service-delivery": SERVICE_AGREEMENT,
                            "funder-reporting": FUNDING_AGREEMENT,
                        }
                    ),
                    "case_notes": purposeful.field(purposes={CASE_MANAGEMENT: purposeful.CONSENT}),
                }
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DictStorageWarning)
                    cls = purposeful.record(subject="client_id", slots=slots)(
                        type(name, (), namespace)
                    )
                _reinstall(cls, compiled=suffix == "C")
                _AGREEING.append(cls)
    return _AGREEING


def _reinstall(cls: type, *, compiled: bool) -> None:
    for field in ("diagnosis", "address", "case_notes"):
        _guard.install_getter(cls, cls.__purposeful_record__.fields[field], compiled=compiled)


PURPOSES = [
    (CASE_MANAGEMENT, CASEWORKER),
    ("service-delivery", CASEWORKER),
    ("funder-reporting", FUNDER_JOB),
]
FIELDS = ["diagnosis", "address", "case_notes"]
PEOPLE = ["C-1", "C-1", "C-2", "C-3"]  # two records of C-1

#: (what, which record, which field, which purpose): mostly reads in the same context, so
#: that records meet the hot path, its inline note and the slow path in turn.
KINDS = ["read"] * 10 + ["thread", "task", "open", "close", "delete", "flush"]
steps = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, 2 * len(PEOPLE) - 1),
        st.sampled_from(FIELDS),
        st.integers(0, len(PURPOSES) - 1),
    ),
    max_size=50,
).map(lambda plan: [("open", 0, "diagnosis", 0), *plan])


def _run(
    classes: tuple[type, type], plan: list[tuple[str, int, str, int]]
) -> tuple[list[Any], list[Any]]:
    """Run *plan* on records of *classes* (slotted, dict); what every step gave, and the
    reports, with the class names made the same."""
    sink = RecordingSink()
    purposeful.configure(sinks=[sink], pseudonymise=KEY.pseudonym, consent=_ConsentFor("C-2"))
    records = [case(cls, person) for cls in classes for person in PEOPLE]
    results: list[Any] = []
    with contextlib.ExitStack() as outer:
        scopes: list[contextlib.ExitStack] = []
        for kind, which, field, purpose_index in plan:
            if kind == "open" and len(scopes) < 3:
                purpose, actor = PURPOSES[purpose_index]
                stack = contextlib.ExitStack()
                stack.enter_context(purposeful.use(purpose, actor=actor))
                scopes.append(stack)
                outer.callback(stack.close)
            elif kind == "close" and scopes:
                scopes.pop().close()
            elif kind == "delete":
                with contextlib.suppress(AttributeError, KeyError):  # a dict record's: KeyError
                    delattr(records[which], field)
            elif kind == "flush":
                purposeful.audit.flush()
            elif kind in ("read", "thread", "task"):
                results.append(_read(kind, records[which], field))
            # the hot path's state after each step: what the next read will be answered by
            results.append(_fast_state(records))
    purposeful.audit.flush()
    names = {cls.__name__: cls.__name__[:-1] for cls in classes}
    # sorted: reads outside any scope are reported per thread, in no set order
    return results, sorted(repr(_summary(report, names)) for report in sink.reports)


def _fast_state(records: list[object]) -> Any:
    """This context's hot-path state, by field name and record index: (fields read of the
    last record, which record that is, fields the getter may note for it, and the notes:
    free, none, or how many records are noted and the room for more)."""
    seen, last, inline, notes = _guard.fast_var.get()
    which = next((n for n, record in enumerate(records) if record is last), None)
    book = (
        "free"
        if notes is _guard.FREE
        else None
        if notes is None
        else (len(notes.held), notes.room, [sorted(p.name for p in f) for _, f in notes.held])  # type: ignore[attr-defined]
    )
    return sorted(p.name for p in seen), which, sorted(p.name for p in inline), book  # type: ignore[attr-defined]


def _read(kind: str, record: object, field: str) -> Any:
    def read() -> Any:
        try:
            return getattr(record, field)
        except (purposeful.PurposefulError, AttributeError) as error:
            return type(error).__name__

    if kind == "read":
        return read()
    if kind == "task":
        import contextvars

        return contextvars.copy_context().run(read)
    got: list[Any] = []
    thread = threading.Thread(target=purposeful.carry_scope(lambda: got.append(read())))
    thread.start()
    thread.join(10)
    return got


class _ConsentFor:
    def __init__(self, *subjects: str) -> None:
        self.subjects = set(subjects)

    def consent_in_force(self, subject: str, purpose: object, at: object) -> bool:
        return subject in self.subjects


def _rename(text: str, names: dict[str, str]) -> str:
    for old, new in names.items():
        text = text.replace(old, new)
    return text


def _summary(report: purposeful.ScopeReport, names: dict[str, str]) -> Any:
    return (
        report.purpose.id if report.purpose else None,
        report.final,
        report.failed,
        sorted((_rename(d.record_type, names), d.field, d.outcome.name) for d in report.decisions),
        sorted((p, sorted(_rename(f, names) for f in fs)) for p, fs in report.reads.items()),
        sorted(_rename(f, names) for f in report.fields_read),
        report.subject_count,
    )


@requires_compiled
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps)
def test_the_compiled_and_python_getters_agree(plan: list[tuple[str, int, str, int]]) -> None:
    slotted_c, slotted_p, dict_c, dict_p = _agreeing_classes()
    compiled = _run((slotted_c, dict_c), plan)
    python = _run((slotted_p, dict_p), plan)
    assert compiled == python
