"""Attacks on the audit trail (per-person reads, parts, the flusher, windows), kept as tests.

Each test states a promise of the docs and fails while the promise is broken. Races are
forced, not waited for: a trace function pauses one thread at the line where the race is
lost (``sys.settrace`` is per thread), and every wait has a timeout. Whatever could hang
the test process (a deadlock on a lock the flusher holds, a fork) runs in a child process
with a timeout.
"""

from __future__ import annotations

import contextvars
import json
import linecache
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import purposeful
from _records import (
    CASE_MANAGEMENT,
    CASEWORKER,
    FUNDING_AGREEMENT,
    Case,
    RecordingSink,
    case,
)
from purposeful import Outcome, PurposeViolation, cli, use
from purposeful._guard import COMPILED
from purposeful.audit import PseudonymKey

KEY = PseudonymKey.generate()
TESTS = Path(__file__).parent
WAIT = 5.0  # seconds any one thread waits for another
#: The races forced inside the Python getter, between its ``_policy in inline`` and its
#: ``seen.add``: the compiled getter runs both in C under the GIL, so no thread runs between
#: them there; CI runs this module again with PURPOSEFUL_PURE_PYTHON=1, where they are forced.
python_getter_only = pytest.mark.skipif(
    COMPILED, reason="forces a race inside the Python getter (PURPOSEFUL_PURE_PYTHON=1 runs it)"
)


def per_person(reports: list[Any]) -> dict[str, set[str]]:
    joined: dict[str, set[str]] = {}
    for report in reports:
        for pseudonym, fields in report.reads.items():
            joined.setdefault(pseudonym, set()).update(fields)
    return joined


def pause_at(where: Callable[[FrameType], bool], marker: str, then: Callable[[], None]) -> Any:
    """A trace function that calls *then* once, just before this thread runs a line whose
    source holds *marker*, in a frame *where* accepts."""
    fired: list[bool] = []

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        if event == "call":
            return trace if where(frame) else None
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
        if event == "line" and not fired and marker in line:
            fired.append(True)
            then()
        return trace

    return trace


def in_scope_module(frame: FrameType) -> bool:
    return frame.f_code.co_filename.endswith(os.path.join("purposeful", "_scope.py"))


def in_a_guard(frame: FrameType) -> bool:
    return frame.f_code.co_filename.startswith("<purposeful guard")


def run_child(source: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run *source* in a fresh interpreter that sees the library and tests/_records.py."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(source)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired as expired:
        err = expired.stderr.decode() if isinstance(expired.stderr, bytes) else expired.stderr
        pytest.fail(f"the child process hung for {timeout}s:\n{err or ''}")


# --- 1. the per-person "already read" set answers for another class's field ----------------


def test_super_field_of_a_subclass_is_decided_even_after_the_persons_base_record_was_read(
    sink: RecordingSink,
) -> None:
    """`_policies.own_policy` says ``super().field`` on a subclass's instance is decided under
    the subclass's declaration. The hot path's per-person set holds the *base* field's
    policy once the person's base record was read, and the base guard's ``_policy in seen``
    then hands out the subclass's value with no decision at all (before 1423f05 the fast set
    was per class, and this was refused). Cold, the same read is refused."""

    @purposeful.record(subject="client_id")
    class FunderOnlyCase(Case):
        """The diagnosis of this kind of case is for funder reporting only."""

        diagnosis: str = purposeful.field(
            default="", purposes={"funder-reporting": FUNDING_AGREEMENT}, category="health"
        )

        def base_diagnosis(self) -> str:
            return super().diagnosis  # type: ignore[no-any-return]

    adult = case(Case, "C-1")
    restricted = FunderOnlyCase("C-1", diagnosis="restricted", address="1 Main St", case_notes="n")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = restricted.address
        with pytest.raises(PurposeViolation):
            restricted.base_diagnosis()  # cold: refused, as own_policy says
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = adult.diagnosis  # the same person's base-class record: allowed here
        _ = restricted.address  # makes the restricted record the last one read
        with pytest.raises(PurposeViolation):
            restricted.base_diagnosis()  # warm: handed out undecided
    assert not [
        d
        for d in sink.decisions
        if d.record_type == "FunderOnlyCase" and d.field == "diagnosis" and d.allowed
    ]


# --- 2. two threads meeting a new person at once ------------------------------------------


def _two_threads_meet_a_new_person() -> tuple[list[Any], list[object]]:
    """Threads A and B share a scope (carry_scope). A is paused just before it notes its
    record of person C-1 (once: before it made the person's set, which B's could replace);
    B reads another record of C-1 meanwhile; then A goes on. After the scope closes, B reads
    its record again."""
    sink = RecordingSink()
    purposeful.configure(sinks=[sink], pseudonymise=KEY.pseudonym)
    a_paused, b_done, closed = threading.Event(), threading.Event(), threading.Event()
    first, second = case(Case, "C-1"), case(Case, "C-1")
    after_close: list[object] = []

    def thread_a() -> None:
        sys.settrace(
            pause_at(
                in_scope_module,
                "notes.held.append((policy.record._subject_raw(obj), seen))",
                lambda: (a_paused.set(), b_done.wait(WAIT)),
            )
        )
        try:
            _ = first.address
        finally:
            sys.settrace(None)

    def thread_b() -> None:
        a_paused.wait(WAIT)
        _ = second.diagnosis
        b_done.set()
        closed.wait(WAIT)
        try:
            after_close.append(second.diagnosis)
        except purposeful.NoPurposeScope:
            after_close.append("refused")

    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        a = threading.Thread(target=purposeful.carry_scope(thread_a))
        b = threading.Thread(target=purposeful.carry_scope(thread_b))
        a.start()
        b.start()
        a.join(WAIT * 2)
        b_done.wait(WAIT)
    closed.set()
    b.join(WAIT * 2)
    assert a_paused.is_set(), "the race was not forced: has the line making a set moved?"
    return sink.reports, after_close


def test_two_threads_meeting_a_new_person_at_once_keep_both_reads_on_record() -> None:
    """`Scope.read` makes a person's set with an unlocked get-then-set on ``_seen``; two
    carried threads reading the same new person at once each make one, and the later
    replaces the earlier: the earlier thread's reads go into a set nothing sends. The
    person's history then says nothing of Case.diagnosis, which B read (seen unforced too:
    about 1 person in 20,000 under a short switch interval)."""
    reports, _ = _two_threads_meet_a_new_person()
    assert per_person(reports).get(KEY.pseudonym("C-1")) == {"Case.address", "Case.diagnosis"}


def test_two_threads_meeting_a_new_person_at_once_cannot_read_after_the_close() -> None:
    """The replaced set is never emptied at close, so the thread whose hot path holds it
    keeps reading its record after the scope closed, undecided and unaudited (docs: "A read
    after the scope has closed is refused with NoPurposeScope")."""
    _, after_close = _two_threads_meet_a_new_person()
    assert after_close == ["refused"]


# --- 3. reads racing the close --------------------------------------------------------------


@python_getter_only
def test_an_inline_note_racing_the_close_does_not_reopen_the_record(sink: RecordingSink) -> None:
    """The getter's inline path tests ``_policy in inline`` and then ``seen.add(_policy)``.
    If the scope closes between the two (close empties both sets), the add puts the field
    back into the person's emptied set, and every later read of it on that record, after the
    close, is answered by ``_policy in seen``: handed out with no scope."""
    at_note, closed = threading.Event(), threading.Event()
    record = case(Case, "C-1")
    results: list[object] = []

    def read_address() -> object:
        try:
            return record.address
        except purposeful.NoPurposeScope:
            return "refused"

    def worker() -> None:
        _ = record.diagnosis  # slow path: the worker's last record is this one
        sys.settrace(
            pause_at(in_a_guard, "seen.add(_policy)", lambda: (at_note.set(), closed.wait(WAIT)))
        )
        try:
            results.append(read_address())  # inline: address is decided for Case already
        finally:
            sys.settrace(None)
        results.append(read_address())

    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case(Case, "C-9").address  # decides address for Case: it joins the inline set
        thread = threading.Thread(target=purposeful.carry_scope(worker))
        thread.start()
        assert at_note.wait(WAIT)
    closed.set()
    thread.join(WAIT * 2)
    assert results[-1] == "refused"


def test_a_slow_read_racing_the_close_is_refused_or_on_record(sink: RecordingSink) -> None:
    """`_guard.read_slow` checks ``scope._closed`` and then calls `Scope.read` without the
    scope's lock. A close in between sends the final report first; the read then decides
    (into the closed scope's log, which nothing sends any more), hands out the value, and
    re-creates inline and per-person sets that no close will empty: the value was read with
    no decision on record, and the record stays readable after the close."""
    at_read, closed = threading.Event(), threading.Event()
    record = case(Case, "C-1")
    results: list[object] = []

    def read(name: str) -> object:
        try:
            return getattr(record, name)
        except purposeful.NoPurposeScope:
            return "refused"

    def worker() -> None:
        sys.settrace(
            pause_at(
                lambda f: f.f_code.co_name == "read_slow",
                "scope.read(policy, obj)",
                lambda: (at_read.set(), closed.wait(WAIT)),
            )
        )
        try:
            results.append(read("diagnosis"))
        finally:
            sys.settrace(None)
        results.append(read("diagnosis"))

    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        thread = threading.Thread(target=purposeful.carry_scope(worker))
        thread.start()
        assert at_read.wait(WAIT)
    closed.set()
    thread.join(WAIT * 2)
    racing, after = results
    if racing != "refused":  # handed out: then a sink must have its decision
        assert [
            d for d in sink.decisions if d.field == "diagnosis" and d.outcome is Outcome.ALLOWED
        ]
    assert after == "refused"


# --- 4. a part racing an inline note ---------------------------------------------------------


@python_getter_only
def test_an_inline_note_racing_a_part_is_sent_by_the_next_flush(sink: RecordingSink) -> None:
    """A part sent between the getter's ``_policy in inline`` and its ``seen.add`` (the
    flusher thread's tick, here forced at that instant) empties ``_dirty``; the field then
    added is in no dirty list, so neither ``purposeful.audit.flush()`` ("send now every read
    not yet sent") nor the time bound sends it: it waits for the close, and a crash before
    the close loses it."""
    purposeful.configure(pseudonymise=KEY.pseudonym, flush_seconds=3600.0)
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case(Case, "C-9").address  # address joins Case's inline set
        record = case(Case, "C-1")
        _ = record.diagnosis  # the last record
        paused: list[bool] = []
        sys.settrace(
            pause_at(
                in_a_guard,
                "seen.add(_policy)",
                lambda: (paused.append(True), purposeful.audit.flush()),
            )
        )
        try:
            _ = record.address
        finally:
            sys.settrace(None)
        assert paused, "the race was not forced: has the getter's note moved?"
        purposeful.audit.flush()
        while_open = per_person(sink.reports).get(KEY.pseudonym("C-1"))
    assert while_open == {"Case.diagnosis", "Case.address"}


# --- 5. forgetting people without a sink --------------------------------------------------------


def test_a_forgotten_persons_record_stays_closed_for_fields_noted_after_forgetting() -> None:
    """Without a sink, a scope past 10,000 people empties and drops every person's set, but
    keeps the inline sets. A context still on a forgotten person's record notes its next
    field into the dropped set, which the close never empties: after the close that field is
    handed out on the fast path (tests/test_trail.py only re-reads the field read before the
    forgetting, which is refused)."""
    record = case(Case, "C-X")
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = case(Case, "C-0").address  # address joins Case's inline set
        elsewhere = contextvars.copy_context()  # a task's context, sharing the scope
        elsewhere.run(lambda: record.diagnosis)  # its hot path: C-X's set
        for n in range(10_050):
            _ = case(Case, f"P-{n}").diagnosis  # C-X is forgotten along the way
        elsewhere.run(lambda: record.address)  # noted inline, into the dropped set
    with pytest.raises(purposeful.NoPurposeScope):
        elsewhere.run(lambda: record.address)


# --- 6. hangs: fork, and a pseudonymiser on the windows' lock -----------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_while_the_flusher_sends_a_part_can_close_its_scope() -> None:
    """`_trail._after_fork` renews the windows' lock and the flusher, but not the open
    scopes' locks. Forked while the flusher thread is sending a part of a scope (holding its
    lock), the child inherits the lock held by a thread that does not exist there, and
    hangs forever when it closes the scope, or reaches the count bound."""
    result = run_child(
        """
        import os, sys, threading, time
        import purposeful
        from _records import CASE_MANAGEMENT, CASEWORKER, Case, case

        sending = threading.Event()

        class SlowSink:
            def emit(self, report):
                if threading.current_thread().name == "purposeful-flusher":
                    sending.set()
                    time.sleep(1.0)

        purposeful.configure(sinks=[SlowSink()], flush_seconds=0.05)
        pid = None
        with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case(Case, "C-1").diagnosis
            assert sending.wait(5)
            pid = os.fork()
            if pid == 0:
                _ = case(Case, "C-2").diagnosis
        if pid == 0:
            os._exit(0)
        for _ in range(100):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                print("child exited", status)
                sys.exit(0)
            time.sleep(0.05)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        print("child hung closing its scope")
        sys.exit(3)
        """
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "child exited 0" in result.stdout


def test_a_pseudonymiser_reading_a_record_in_monitor_mode_does_not_deadlock() -> None:
    """`_Window.tick` calls the pseudonymiser (in `summarise`) while holding
    ``_trail._windows_lock``, a plain Lock. A pseudonymiser that reads a managed field
    outside any scope in monitor mode (keys the person on a field of their record: the
    adoption phase, nothing has scopes yet) re-enters `note_unscoped`, which takes the same
    lock: the flusher thread deadlocks, and with it every later read outside a scope in the
    process. (Scopes' locks were made re-entrant for the same reason in f4f9b61.)"""
    result = run_child(
        """
        import hashlib, time
        import purposeful
        from purposeful import Mode
        from _records import Case, Contact, RecordingSink, case

        directory = {"C-1": Contact("C-1", "021 555 0101", "aroha@example.org")}

        def pseudonymise(subject):
            found = directory.get(subject)
            basis = found.email if found is not None else subject
            return "k1:" + hashlib.sha256(basis.encode()).hexdigest()[:32]

        sink = RecordingSink()
        purposeful.configure(
            sinks=[sink], pseudonymise=pseudonymise, mode=Mode.MONITOR, flush_seconds=0.05
        )
        record = case(Case, "C-1")
        _ = record.diagnosis  # a legacy read outside any scope
        time.sleep(0.5)  # its window is sent by the flusher
        _ = record.address  # the next legacy read
        purposeful.audit.flush()
        print("done", len(sink.reports))
        """,
        timeout=10.0,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "done" in result.stdout


# --- 7. the time bound ---------------------------------------------------------------------------


def test_a_scopes_time_bound_holds_while_another_configuration_has_a_longer_one() -> None:
    """The flusher sleeps ``min(flush_seconds) / 4`` of the items open when it last looked,
    and `_Flusher.add` wakes it only when idle. Once a scope configured with
    ``flush_seconds=60`` is open (a batch job's `configured()` block), a scope opened later
    with ``flush_seconds=0.05`` gets no part for up to 15 s: its reads wait 300 times their
    bound ("when its oldest unsent read is flush_seconds old")."""
    result = run_child(
        """
        import sys, threading, time
        import purposeful
        from _records import CASE_MANAGEMENT, CASEWORKER, Case, RecordingSink, case

        sink = RecordingSink()
        started, done = threading.Event(), threading.Event()

        def batch():
            with purposeful.configured(sinks=[RecordingSink()], flush_seconds=60.0):
                with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
                    _ = case(Case, "C-1").diagnosis
                    started.set()
                    done.wait(20)

        thread = threading.Thread(target=batch)
        thread.start()
        assert started.wait(5)
        time.sleep(0.2)  # the flusher has looked, and sleeps 15 s
        purposeful.configure(sinks=[sink], flush_seconds=0.05)
        with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = case(Case, "C-2").diagnosis
            deadline = time.monotonic() + 1.5
            while not sink.reports and time.monotonic() < deadline:
                time.sleep(0.02)
            parts = len(sink.reports)
        done.set()
        thread.join()
        print("parts while open", parts)
        sys.exit(0 if parts else 4)
        """
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- 8. bad input -----------------------------------------------------------------------------


def _span(attributes: list[dict[str, Any]]) -> str:
    def attribute(key: str, value: object) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"key": key, "value": {"boolValue": value}}
        if isinstance(value, int):
            return {"key": key, "value": {"intValue": str(value)}}
        if isinstance(value, list):
            items = [{"stringValue": item} for item in value]
            return {"key": key, "value": {"arrayValue": {"values": items}}}
        return {"key": key, "value": {"stringValue": value}}

    common = {
        "purposeful.purpose": "service-delivery",
        "purposeful.record_types": ["Case"],
        "purposeful.fields_read": ["Case.address"],
        "purposeful.subjects": ["k1:00"],
        "purposeful.denied.count": 0,
        "purposeful.would_deny.count": 0,
    }
    span = {
        "name": "purposeful.use",
        "startTimeUnixNano": "1000",
        "endTimeUnixNano": "2000",
        "attributes": [attribute(k, v) for k, v in common.items()] + attributes,
    }
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}) + "\n"


HUGE = "9" * 5000  # past Python's 4,300-digit limit for int()


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (
            "OTLP purposeful.subjects.fields",
            _span(
                [
                    {
                        "key": "purposeful.subjects.fields",
                        "value": {"arrayValue": {"values": [{"stringValue": HUGE}]}},
                    }
                ]
            ),
        ),
        (
            "OTLP purposeful.scope.part",
            _span(
                [
                    {
                        "key": "purposeful.subjects.fields",
                        "value": {"arrayValue": {"values": [{"stringValue": "0"}]}},
                    },
                    {"key": "purposeful.scope.id", "value": {"stringValue": "abc"}},
                    {"key": "purposeful.scope.part", "value": {"intValue": HUGE}},
                    {"key": "purposeful.scope.final", "value": {"boolValue": True}},
                ]
            ),
        ),
        (
            "ledger part",
            '{"type":"scope","actor":"a","role":"r","purpose":"p","decisions":[],'
            '"opened":"2026-03-02T09:00:00Z","time":"2026-03-02T09:01:00Z",'
            f'"scope":"abc","final":true,"part":{HUGE}}}\n',
        ),
    ],
)
def test_the_report_refuses_a_huge_number_as_bad_input(
    kind: str, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/audit.md, "Bad input": the report stops at what it cannot read, names the file
    and line, and exits 2. A number past Python's int() digit limit in the new keys raises
    a bare ValueError out of `purposeful audit report` (and out of bundle building, which
    reads ledgers the same way) instead."""
    path = tmp_path / "input.jsonl"
    path.write_text(text)
    arguments = (
        ["audit", "report", "--ledger", str(path)]
        if kind.startswith("ledger")
        else [
            "audit",
            "report",
            str(path),
        ]
    )
    assert cli.main(arguments) == 2
    assert str(path) in capsys.readouterr().err


# --- 9. exits and interrupts --------------------------------------------------------------------


def test_a_read_outside_any_scope_at_exit_reaches_the_sinks() -> None:
    """docs: a window of reads outside any scope is sent "at exit". The flusher's atexit
    handler runs once, in atexit's order: a handler registered before purposeful was
    imported runs after it, and what it reads in monitor mode goes into a window nothing
    sends (the flusher is a daemon thread, asleep)."""
    result = run_child(
        """
        import atexit

        def shutdown_hook():  # an application's, registered at start-up
            print("read", record.region, record.diagnosis, flush=True)

        atexit.register(shutdown_hook)

        import purposeful
        from purposeful import Mode
        from _records import Case, case

        class PrintSink:
            def emit(self, report):
                print("report", sorted(report.fields_read), flush=True)

        purposeful.configure(sinks=[PrintSink()], record_modes={Case: Mode.MONITOR})
        record = case(Case, "C-1")
        """
    )
    assert "read Wellington generalised anxiety" in result.stdout, result.stderr
    assert "report ['Case.diagnosis']" in result.stdout


def test_an_interrupted_part_leaves_no_subject_id_in_the_traceback() -> None:
    """`read_slow` re-raises PurposefulErrors detached, "not in the frames below, which hold
    raw subject ids". A part sent by the reading thread (the count bound) to a sink that is
    interrupted (Ctrl-C during a ledger's fsync, a SystemExit) unwinds through `Scope.read`,
    whose frame holds the raw subject id: error reporters that capture frame locals get it."""
    calls: list[object] = []

    class InterruptedSink:
        def emit(self, report: object) -> None:
            calls.append(report)
            if len(calls) == 1:
                raise KeyboardInterrupt

    purposeful.configure(sinks=[InterruptedSink()], flush_reads=1)
    leaked: list[str] = []
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        try:
            _ = case(Case, "C-SECRET-0042").diagnosis
        except KeyboardInterrupt as interrupt:
            tb = interrupt.__traceback__
            while tb is not None:
                for name, value in tb.tb_frame.f_locals.items():
                    if isinstance(value, str) and "C-SECRET-0042" in value:
                        leaked.append(f"{tb.tb_frame.f_code.co_name}.{name}")
                tb = tb.tb_next
            del interrupt, tb
    assert calls, "the count bound sent no part: the interruption was not exercised"
    assert leaked == []
