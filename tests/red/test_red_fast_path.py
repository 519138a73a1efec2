"""Red team: the guard's fast path for another record of a class (issue 24).

A field decided for a record's class (no consent needed) is answered by the getter for any
record of exactly that class: with no sink without a note, with a sink by appending (raw
subject, set of fields) to the scope's bounded notes, grouped by person when a part is sent
or at the close. Each test here is an attempt to break that, through the public API:

- findings, each kept as the test that found it (all three fixed: the getter's frame holds
  an opaque `Notes`, never a list of subject ids; a subject with no text form is grouped as
  nobody's, the close raising `AuditSinkError` and always forgetting);
- the properties that held, as passing tests: no managed value after a close, to a
  generator's consumer, in a nested scope of another purpose or for a subclass; the report
  per person equals the truth over record kinds, purposes, read sequences and both getters,
  with fewer than ``flush_reads`` new reads ever waiting; threads racing a part lose nothing.

Every test runs with whichever guard the process installs (CI runs the suite with the
compiled guard and again with ``PURPOSEFUL_PURE_PYTHON=1``); the attrs records here are
built twice, with the Python getter and (when built) the compiled one, so both getters are
attacked in every run.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import itertools
import os
import threading
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from types import TracebackType
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
    SUPERVISOR,
    FakeConsent,
    RecordingSink,
)
from purposeful import Mode, PurposefulError, PurposeViolation, ScopeReport, _guard, use
from purposeful.audit import PseudonymKey
from purposeful.errors import DictStorageWarning

try:
    import sqlalchemy as _sqlalchemy
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
except ImportError:  # the SQLAlchemy record and its cases are left out
    _sqlalchemy = None  # type: ignore[assignment]

KEY = PseudonymKey.generate()
GETTERS = ["python", "compiled"]
FIELDS = ("note", "plan", "story")


#: ``note``: service delivery and funder reporting; ``plan``: case management only;
#: ``story``: service delivery on the person's consent
PURPOSES_OF: dict[str, dict[str, Any]] = {
    "note": {"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
    "plan": {CASE_MANAGEMENT: SERVICE_AGREEMENT},
    "story": {"service-delivery": purposeful.CONSENT},
}


def _declarations() -> dict[str, Any]:
    return {name: purposeful.field(purposes=purposes) for name, purposes in PURPOSES_OF.items()}


def _attrs_record(name: str, *, slots: bool, getter: str) -> type:
    namespace: dict[str, Any] = {"__annotations__": {"client_id": Any}, **_declarations()}
    namespace["__annotations__"].update(dict.fromkeys(FIELDS, str))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        cls = purposeful.record(subject="client_id", slots=slots)(type(name, (), namespace))
    policy = purposeful.record_policy(cls)
    for field in FIELDS:
        _guard.install_getter(cls, policy.fields[field], compiled=getter == "compiled")
    return cls


def _dataclass_record(name: str) -> type:
    namespace: dict[str, Any] = {"__annotations__": {"client_id": Any}, **_declarations()}
    namespace["__annotations__"].update(dict.fromkeys(FIELDS, str))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        return purposeful.record(subject="client_id")(
            dataclasses.dataclass(type(name, (), namespace))
        )


#: kind id → record class, made once; the compiled ones only when the extension is built
RECORDS: dict[str, type] = {}
for _getter in GETTERS:
    if _getter == "compiled" and not _guard.COMPILED:
        continue
    _suffix = "Py" if _getter == "python" else "C"
    RECORDS[f"slotted-{_getter}"] = _attrs_record(
        f"Red3Slotted{_suffix}", slots=True, getter=_getter
    )
    RECORDS[f"dict-{_getter}"] = _attrs_record(f"Red3Dict{_suffix}", slots=False, getter=_getter)
RECORDS["dataclass"] = _dataclass_record("Red3Dataclass")


if _sqlalchemy is not None:

    class Red3Base(DeclarativeBase):
        pass

    def _column(name: str) -> Any:
        return mapped_column(info={"purposeful": purposeful.Managed(purposes=PURPOSES_OF[name])})

    class Red3Row(Red3Base):
        """A SQLAlchemy model: its getter is a generated Python one in every build."""

        __tablename__ = "red3_row"
        id: Mapped[int] = mapped_column(primary_key=True)
        client_id: Mapped[str]
        note: Mapped[str] = _column("note")
        plan: Mapped[str] = _column("plan")
        story: Mapped[str] = _column("story")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DictStorageWarning)
        RECORDS["sqlalchemy"] = purposeful.record(subject="client_id", key="id")(Red3Row)
_ROW_IDS = itertools.count()


def make(kind: str, subject: object) -> Any:
    if kind == "sqlalchemy":
        return RECORDS[kind](id=next(_ROW_IDS), client_id=subject, note="n", plan="p", story="s")
    return RECORDS[kind](subject, "n", "p", "s")


def getter_kinds() -> list[Any]:
    """The slotted records' kinds, one per getter (the compiled one skipped if not built)."""
    return [
        pytest.param(
            f"slotted-{getter}",
            marks=pytest.mark.skipif(
                getter == "compiled" and not _guard.COMPILED,
                reason="the compiled guard is not built (or PURPOSEFUL_PURE_PYTHON is set)",
            ),
            id=getter,
        )
        for getter in GETTERS
    ]


def per_person(reports: list[ScopeReport]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for report in reports:
        for pseudonym, fields in report.reads.items():
            found[pseudonym] |= fields
    return dict(found)


def leaked_in(tb: TracebackType | None, secret: str) -> list[str]:
    """The library's frames of *tb* (its modules and its generated guards) with *secret* in
    the repr of a local (the caller's own frames hold its records, which is its business)."""
    found = []
    while tb is not None:
        code = tb.tb_frame.f_code
        ours = f"{os.sep}purposeful{os.sep}" in code.co_filename
        if not (ours or code.co_filename.startswith("<purposeful")):
            tb = tb.tb_next
            continue
        for name, value in dict(tb.tb_frame.f_locals).items():
            try:
                text = repr(value)
            except Exception:
                continue
            if secret in text:
                found.append(
                    f"{tb.tb_frame.f_code.co_filename}:{tb.tb_frame.f_code.co_name}.{name}"
                )
        tb = tb.tb_next
    return found


@pytest.fixture
def recording() -> RecordingSink:
    sink = RecordingSink()
    purposeful.configure(sinks=[sink], pseudonymise=KEY.pseudonym)
    return sink


def _refused(read: Callable[[], object]) -> bool:
    try:
        read()
    except PurposefulError:
        return True
    return False


# --- findings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("slotted-python", id="python"),
        *[p for p in getter_kinds() if p.id == "compiled"],
        pytest.param(
            "sqlalchemy",
            marks=pytest.mark.skipif(_sqlalchemy is None, reason="SQLAlchemy is not installed"),
            id="sqlalchemy",
        ),
    ],
)
def test_a_refusal_after_noted_reads_leaves_no_subject_id_in_any_frame(
    kind: str, recording: RecordingSink
) -> None:
    """What: a refusal raised right after other people's records were read (and noted) must
    leave no raw subject id among the locals of any frame of its traceback.

    How: in a scope with a sink, read ``note`` of two people's records (the second is noted
    by the getter itself), then read ``plan``, which the purpose refuses; walk
    ``tb.tb_frame.f_locals`` of every frame of the refusal.

    Why it matters: error trackers (Sentry and the like) record every frame's locals. The
    Python getter's frame holds ``notes``, the scope's list of (raw subject, fields) tuples:
    the ids of everyone read in the scope so far go to the tracker with one refusal.
    """
    first, second = make(kind, "SUBJ-RED3-A"), make(kind, "SUBJ-RED3-B")
    with use("service-delivery", actor=CASEWORKER):
        _ = first.note, second.note
        with pytest.raises(PurposeViolation) as refused:
            _ = second.plan
        leaks = leaked_in(refused.value.__traceback__, "SUBJ-RED3")
    assert leaks == []


class Red3Untextable(str):
    """A subject id (a str subclass, as an ORM's or a typed-id library's may be) whose text
    form fails: ``str(subject)`` raises."""

    __slots__ = ()

    def __str__(self) -> str:
        raise ValueError("this id has no text form")


@pytest.mark.parametrize("kind", getter_kinds())
def test_a_subject_that_cannot_be_text_does_not_keep_the_scope_readable_after_close(
    kind: str, recording: RecordingSink
) -> None:
    """What: after a scope closes, no context that inherited its fast state reads a managed
    value, whatever the subject ids of the records read.

    How: a record whose subject is a str subclass with a failing ``__str__``; read its
    ``note`` in a scope with a sink, copy the context, close the scope (the close raises the
    bare ``ValueError``), then read ``note`` again in the copied context.

    Why it matters: the read after the close returns the value with no scope and no
    decision: the close failed half-way, after emptying the inline sets but before emptying
    the record's set of fields read, which the copied context's hot path still holds.
    """
    record = make(kind, Red3Untextable("C-1"))
    with (
        contextlib.suppress(ValueError, PurposefulError),
        use("service-delivery", actor=CASEWORKER),
    ):
        _ = record.note
        copied = contextvars.copy_context()
    assert _refused(lambda: copied.run(lambda: record.note))


@pytest.mark.parametrize("kind", getter_kinds())
def test_one_subject_that_cannot_be_text_loses_no_other_persons_reads(
    kind: str, recording: RecordingSink
) -> None:
    """What: the reads of every other person reach the audit trail even when one record's
    subject id has no text form, and the scope's exit raises a typed purposeful error (or
    the read itself is refused), never a bare ``ValueError`` from inside the library.

    How: read ``note`` of a normal record (C-2) and of one whose subject's ``__str__``
    raises, in a scope with a sink; close it.

    Why it matters: the subject is now turned into text when the notes are grouped, at a
    part or at the close, not at the read: one such record costs the scope its whole report
    (C-2's read is in no report, span or ledger line), and the caller gets an error the
    library's documented tree does not have.
    """
    plain, odd = make(kind, "C-2"), make(kind, Red3Untextable("C-1"))
    try:
        with use("service-delivery", actor=CASEWORKER):
            _ = plain.note
            _ = odd.note
    except PurposefulError:
        pass
    assert per_person(recording.reports).get(KEY.pseudonym("C-2")) == {
        f"{type(plain).__qualname__}.note"
    }


# --- what held: no managed value without a decision ------------------------------------------


def _after_close_by_copied_context(record: Any, other: Any) -> Callable[[], object]:
    with use("service-delivery", actor=CASEWORKER):
        _ = record.note, other.note
        copied = contextvars.copy_context()
    return lambda: copied.run(lambda: other.note)


def _after_close_by_carried_worker(record: Any, other: Any) -> Callable[[], object]:
    with use("service-delivery", actor=CASEWORKER):
        _ = record.note
        carried = purposeful.carry_scope(lambda: other.note)
        _ = carried()  # read once inside: the worker's context holds the fast state then
    return carried


WAYS_AFTER_CLOSE = {
    "copied-context": _after_close_by_copied_context,
    "carry-scope": _after_close_by_carried_worker,
}


@pytest.mark.parametrize("sending", [False, True], ids=["no-sink", "sink"])
@pytest.mark.parametrize("way", sorted(WAYS_AFTER_CLOSE))
@pytest.mark.parametrize("kind", getter_kinds())
def test_no_context_reads_another_record_of_the_class_after_the_scope_closed(
    kind: str, way: str, sending: bool
) -> None:
    """A copied context or a carried worker holding the scope's fast state (the class's
    inline set and notes) reads nothing once the scope closed, with or without a sink."""
    if sending:
        purposeful.configure(sinks=[RecordingSink()])
    record, other = make(kind, "C-1"), make(kind, "C-2")
    read = WAYS_AFTER_CLOSE[way](record, other)
    assert _refused(read)
    assert _refused(lambda: make(kind, "C-3").note)


@pytest.mark.parametrize("sending", [False, True], ids=["no-sink", "sink"])
@pytest.mark.parametrize("kind", getter_kinds())
def test_a_thread_started_by_to_thread_reads_nothing_after_its_scope_closed(
    kind: str, sending: bool
) -> None:
    if sending:
        purposeful.configure(sinks=[RecordingSink()])
    record, other = make(kind, "C-1"), make(kind, "C-2")
    go, outcome = threading.Event(), []

    def worker() -> None:
        _ = record.note
        go.wait(5)
        outcome.append(_refused(lambda: other.note))

    async def main() -> None:
        with use("service-delivery", actor=CASEWORKER):
            _ = record.note, other.note
            task = asyncio.ensure_future(asyncio.to_thread(worker))
            await asyncio.sleep(0.05)
        go.set()
        await task

    asyncio.run(main())
    assert outcome == [True]


@pytest.mark.parametrize("sending", [False, True], ids=["no-sink", "sink"])
@pytest.mark.parametrize("kind", getter_kinds())
def test_a_generators_scope_answers_nothing_for_its_consumer(kind: str, sending: bool) -> None:
    """The consumer of a generator whose scope read records of the class fast reads no
    record of it between iterations, outside any scope or inside its own other purpose."""
    if sending:
        purposeful.configure(sinks=[RecordingSink()])
    first, second, third = make(kind, "C-1"), make(kind, "C-2"), make(kind, "C-3")

    def plans(records: list[Any]) -> Iterator[str]:
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            for record in records:
                yield record.plan

    outside = plans([first, second])
    next(outside)
    assert _refused(lambda: third.plan)
    assert _refused(lambda: first.plan)
    with use("service-delivery", actor=CASEWORKER):
        _ = third.note
        inside = plans([second, third])
        next(inside)
        assert _refused(lambda: third.plan)
        assert _refused(lambda: first.plan)
        inside.close()
    outside.close()


@pytest.mark.parametrize("sending", [False, True], ids=["no-sink", "sink"])
@pytest.mark.parametrize("kind", getter_kinds())
def test_an_outer_scopes_class_state_never_answers_in_a_nested_scope(
    kind: str, sending: bool
) -> None:
    """A nested scope of another purpose decides afresh: the outer scope's inline set
    (``plan`` decided for the class under case management) answers no record in it, nor
    in a context copied inside it once it closed."""
    if sending:
        purposeful.configure(sinks=[RecordingSink()])
    first, second, third = make(kind, "C-1"), make(kind, "C-2"), make(kind, "C-3")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = first.plan, second.plan
        with use("service-delivery", actor=CASEWORKER):
            assert _refused(lambda: third.plan)
            assert _refused(lambda: second.plan)
            _ = third.note
            copied = contextvars.copy_context()
        assert _refused(lambda: copied.run(lambda: first.note))
        assert third.plan == "p"


@pytest.mark.parametrize("getter", [p.values[0] for p in getter_kinds()], ids=GETTERS)
def test_a_subclass_record_is_decided_as_its_own_class(getter: str) -> None:
    """A decorated subclass that needs consent for ``note`` is never answered by its base's
    inline set (directly, through ``super().note`` or the base's guard), and an undecorated
    subclass's record is decided on the slow path, as its own class."""
    if getter == "slotted-compiled" and not _guard.COMPILED:
        pytest.skip("the compiled guard is not built")
    purposeful.configure(sinks=[RecordingSink()], consent=FakeConsent(set()))
    base = RECORDS[getter]

    @purposeful.record(subject="client_id", name=f"Red3Stricter-{getter}")
    class Red3Stricter(base):  # type: ignore[valid-type,misc]
        note: str = purposeful.field(purposes={"service-delivery": purposeful.CONSENT})

        def base_note(self) -> str:
            return super().note  # type: ignore[no-any-return]

    class Red3Plain(base):  # type: ignore[valid-type,misc]
        __slots__ = ()

    strict, plain = Red3Stricter("S-1", "n", "p", "s"), Red3Plain("P-1", "n", "p", "s")
    with use("service-delivery", actor=CASEWORKER) as scope:
        _ = make(getter, "C-1").note, make(getter, "C-2").note
        assert _refused(lambda: strict.note)
        assert _refused(strict.base_note)
        assert _refused(lambda: base.note.fget(strict))
        assert plain.note == "n"
        _ = make(getter, "C-3").note
        assert _refused(strict.base_note)
    assert {(d.record_type, d.field, d.outcome.name) for d in scope.decisions} >= {
        (f"Red3Stricter-{getter}", "note", "DENIED")
    }


# --- what held: the audit trail tells the truth -----------------------------------------------

reads_strategy = st.lists(
    st.tuples(
        st.integers(0, 4),  # which person
        st.sampled_from(sorted(RECORDS)),
        st.integers(0, 1),  # which of the person's two records of the kind
        st.sampled_from(FIELDS),
    ),
    max_size=50,
)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    reads=reads_strategy,
    purpose=st.sampled_from(["service-delivery", CASE_MANAGEMENT, "funder-reporting"]),
    actor=st.sampled_from([CASEWORKER, SUPERVISOR, FUNDER_JOB]),
    mode=st.sampled_from([Mode.ENFORCE, Mode.MONITOR]),
    flush_reads=st.integers(1, 12),
    int_subjects=st.booleans(),
)
def test_each_persons_history_is_the_truth_over_several_records_kinds_and_getters(
    reads: list[tuple[int, str, int, str]],
    purpose: str,
    actor: purposeful.Actor,
    mode: Mode,
    flush_reads: int,
    int_subjects: bool,
) -> None:
    """Random reads of each person's two records of every kind (attrs slotted and
    ``__dict__``, each with the Python and the compiled getter, and a dataclass), under
    every purpose and mode: the reports say, per person, exactly the fields read from that
    person's records, and after every read fewer than ``flush_reads`` new reads wait."""
    recording = RecordingSink()
    records: dict[tuple[int, str, int], Any] = {}
    truth: dict[str, set[str]] = defaultdict(set)
    with (
        purposeful.configured(
            sinks=[recording],
            pseudonymise=KEY.pseudonym,
            consent=FakeConsent({("1", purpose), ("P-1", purpose)}),
            mode=mode,
            flush_reads=flush_reads,
        ),
        use(purpose, actor=actor),
    ):
        for person, kind, copy, field in reads:
            subject: object = person if int_subjects else f"P-{person}"
            record = records.setdefault((person, kind, copy), make(kind, subject))
            try:
                getattr(record, field)
            except PurposeViolation:
                continue
            truth[KEY.pseudonym(str(subject))].add(f"{type(record).__qualname__}.{field}")
            sent = per_person(recording.reports)
            waiting = sum(len(fields - sent.get(p, set())) for p, fields in truth.items())
            assert waiting < flush_reads
    assert per_person(recording.reports) == truth
    assert [r.part for r in recording.reports] == list(range(len(recording.reports)))


def test_threads_racing_parts_lose_no_read(recording: RecordingSink) -> None:
    """Four carried workers read the same people's records (fast, each in its own context,
    noting into the shared notes) while another flushes parts as fast as it can: the
    reports hold every person's every field."""
    purposeful.configure(flush_reads=5)
    kinds = sorted(RECORDS)
    people = [make(kinds[n % len(kinds)], f"P-{n % 23}") for n in range(120)]
    truth: dict[str, set[str]] = defaultdict(set)
    lock, stop = threading.Lock(), threading.Event()

    def work(seed: int) -> None:
        for n in range(300):
            record = people[(seed * 7919 + n * 31) % len(people)]
            field = ("note", "story")[n % 2]
            try:
                getattr(record, field)
            except PurposeViolation:
                continue
            with lock:
                truth[KEY.pseudonym(record.client_id)].add(f"{type(record).__qualname__}.{field}")

    def flush() -> None:
        while not stop.is_set():
            purposeful.audit.flush()

    purposeful.configure(consent=FakeConsent({(f"P-{n}", "service-delivery") for n in range(9)}))
    with use("service-delivery", actor=CASEWORKER):
        workers = [
            threading.Thread(target=purposeful.carry_scope(work), args=(k,)) for k in range(4)
        ]
        flusher = threading.Thread(target=purposeful.carry_scope(flush))
        flusher.start()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        stop.set()
        flusher.join()
    assert per_person(recording.reports) == truth
