"""Red team 10: `folder_lock.one_writer` (a per-folder ``threading.Lock``, a ``flock`` on
the folder, a registry of turns; a write re-entered by the thread holding the turn is
deferred to ``turn.later``) and `replace_together`'s running of the deferred writes."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from purposeful._shared import files, folder_lock
from purposeful.errors import NoticeError
from test_notices import notice

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="flock and fork are POSIX")

_TESTS = Path(__file__).resolve().parents[1]
_SRC = _TESTS.parent / "src"


def _published(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def _version(tmp_path: Path, name: str, made: Any) -> dict[str, bytes]:
    made.write(tmp_path / name)
    return _published(tmp_path / name)


def test_a_deferred_write_is_not_lost_when_the_write_it_interrupted_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: a reload signal (SIGHUP: publish the notice again) arrives while the main
    thread writes the notice into the same folder, and that outer write then fails (a
    full disk at its second temporary file, a transient EIO). The handler's write is
    appended to ``turn.later`` and `Notice.write` returns its paths to the handler: a
    success. The outer write raises out of `replace_together` before the
    ``while turn.later`` loop, so the deferred write is dropped, silently.
    Harm: the handler was told its notice is published; the folder still holds the old
    version, for good, and nothing says so (a notice that says what is done with people's
    data, out of date with no error anywhere). The deferred writes could run in a
    ``finally`` (their own errors reported to whoever waits), or a re-entered write could
    be refused at once."""
    folder = tmp_path / "published"
    old, new = notice(agreements=()), notice()
    wanted = _version(tmp_path, "wanted", new)
    old.write(folder)
    assert _published(folder) != wanted
    handler_said: list[object] = []

    def republish(signum: int, frame: Any) -> None:
        try:
            handler_said.append(new.write(folder))
        except BaseException as exc:  # what the handler was told
            handler_said.append(exc)

    real = files.write_temporary
    calls: list[int] = []

    def failing_second(folder_: Path, name: str, data: bytes, mode: int) -> Path:
        calls.append(1)
        if len(calls) == 2:  # the outer write's second file
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.05)  # the handler runs here, in this thread
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(folder_, name, data, mode)

    previous = signal.signal(signal.SIGUSR1, republish)
    try:
        monkeypatch.setattr(files, "write_temporary", failing_second)
        with pytest.raises(NoticeError):
            old.write(folder)  # the outer write's own failure: reported, rightly
    finally:
        monkeypatch.undo()
        signal.signal(signal.SIGUSR1, previous)
    assert handler_said, "the handler never ran"
    if isinstance(handler_said[0], BaseException):
        return  # the handler was told: acceptable
    assert _published(folder) == wanted, (
        "the handler's write returned success, but it was never made: "
        "the folder still holds the old notice"
    )


def test_a_deferred_writes_failure_is_not_raised_to_the_write_it_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: a signal handler publishes a second notice while the main thread's write
    of the first is under way; the handler's write is deferred (``turn.later``) and
    `Notice.write` returns success to it. The deferred write then fails (a full disk),
    inside the outer `replace_together`'s ``while turn.later`` loop.
    Harm: the error surfaces in the wrong caller. The main thread, whose own notice was
    written whole, gets `NoticeError` (and retries, or reports its notice unpublished),
    while the handler, whose notice was not written, was told it was. Any other write
    queued after the failing one is dropped too."""
    folder = tmp_path / "published"
    first, second = notice(agreements=()), notice()
    wanted = _version(tmp_path, "wanted", first)
    second_md = _version(tmp_path, "second", second)["notice.md"]
    handler_said: list[object] = []

    def republish(signum: int, frame: Any) -> None:
        try:
            handler_said.append(second.write(folder))
        except BaseException as exc:
            handler_said.append(exc)

    real = files.write_temporary
    sent: list[bool] = []

    def write_temporary(folder_: Path, name: str, data: bytes, mode: int) -> Path:
        if data == second_md:
            raise OSError(errno.ENOSPC, "No space left on device")  # the handler's write
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.05)
        return real(folder_, name, data, mode)

    previous = signal.signal(signal.SIGUSR1, republish)
    outer_error: list[BaseException] = []
    try:
        monkeypatch.setattr(files, "write_temporary", write_temporary)
        try:
            first.write(folder)
        except NoticeError as exc:
            outer_error.append(exc)
    finally:
        monkeypatch.undo()
        signal.signal(signal.SIGUSR1, previous)
    assert handler_said, "the handler never ran"
    assert _published(folder) == wanted  # the outer write was made, whole
    assert not outer_error, (
        f"the outer write was made but its caller got the deferred write's error "
        f"({outer_error[0]}); the handler, whose write failed, got {handler_said[0]!r}"
    )


def _run(script: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(_SRC), str(_TESTS)]))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=str(_TESTS),
    )


def test_a_signal_arriving_while_the_folders_lock_is_held_does_not_hang_for_ever(
    tmp_path: Path,
) -> None:
    """Attack: `one_writer` takes the module's ``_guard`` (a plain ``threading.Lock``,
    "held briefly, never while waiting") three times per write. A signal handler that
    publishes the notice (SIGHUP: reload and publish) runs in the main thread between any
    two bytecodes, so it can run while the main thread holds ``_guard`` (inside
    ``with _guard:``); the handler's `one_writer` then takes ``_guard`` itself: a
    non-reentrant lock held by its own thread, taken with no timeout.
    Harm: the process hangs for ever, with no `folder_lock.WAIT` bound and no error, in
    every thread that then writes a notice (each waits on ``_guard`` too). The signal's
    arrival is placed here by a wrapper around ``_guard`` (what a signal arriving at that
    bytecode does). ``_guard`` could be an ``RLock`` (the bookkeeping made safe to
    re-enter), or taken with a timeout, or signals blocked for the bookkeeping.
    (Since fixed: the registries take no lock, and the folder's lock is re-entrant; the
    signal is placed here just after the outer write takes the folder's lock, before its
    turn is registered: the handler's write is then simply the first.)"""
    script = f"""
        import os, signal, sys, threading, time
        from pathlib import Path
        from purposeful._shared import folder_lock
        from test_notices import notice

        folder = Path({str(tmp_path / "published")!r})
        notice(agreements=()).write(folder)
        folder_lock.WAIT = 2.0

        class Lock:
            # the folder's real lock; a signal arrives once the outer write holds it,
            # before its turn is registered
            def __init__(self):
                self.lock = threading.RLock()
                self.armed = False
            def acquire(self, timeout=-1):
                taken = self.lock.acquire(timeout=timeout)
                if self.armed:
                    self.armed = False
                    os.kill(os.getpid(), signal.SIGUSR1)
                    time.sleep(0.05)  # the handler runs here, the lock held
                return taken
            def release(self):
                self.lock.release()

        guard = Lock()
        folder_lock._locks[folder.resolve()] = guard
        signal.signal(signal.SIGUSR1, lambda *a: notice().write(folder))
        guard.armed = True
        try:
            notice(agreements=()).write(folder)
        except Exception as exc:
            print("error:", type(exc).__name__, exc)
        print("done")
        """
    try:
        result = _run(script, timeout=8)
    except subprocess.TimeoutExpired:
        pytest.fail("the write hung for ever: the handler waits on a lock its own thread holds")
    assert "done" in result.stdout, result.stderr[-2000:]


def test_a_signal_arriving_while_the_writer_waits_for_another_process_does_not_wait_for_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: the main thread writes the notice while another process (a second release
    publishing at start-up) holds the folder's ``flock``: it holds the folder's
    ``threading.Lock`` and sleeps in `_locked`'s polling loop, but is not yet in
    ``_turns``. A reload signal arrives then (the loop's sleeps make the window as long as
    the other process's write); the handler's `Notice.write` finds no turn of its own
    thread, so is not deferred, and waits on the folder's lock, which its own thread
    holds and cannot release until the handler returns.
    Harm: although the other process lets go within 0.3 s, the handler waits the whole
    `folder_lock.WAIT` (60 s in production; 3 s here) for itself, then raises
    `NoticeError` ('another thread has been writing'), and that error, raised in the
    main thread at the point it was interrupted, also aborts the outer write: neither
    notice is written, after a full minute's stall. The window after ``_turns`` is
    emptied and before the lock is released is the same. The turn could be registered as
    the thread's before waiting (a handler then defers), or the re-entry detected by the
    lock's owner."""
    import fcntl

    monkeypatch.setattr(folder_lock, "WAIT", 3.0)
    folder = tmp_path / "published"
    notice(agreements=()).write(folder)
    other = os.open(folder, os.O_RDONLY)
    fcntl.flock(other, fcntl.LOCK_EX)  # another open file description: another process
    handler_said: list[object] = []

    def republish(signum: int, frame: Any) -> None:
        try:
            handler_said.append(notice().write(folder))
        except BaseException as exc:
            handler_said.append(exc)

    def the_other_process() -> None:
        time.sleep(0.15)
        os.kill(os.getpid(), signal.SIGUSR1)  # a reload, while the main thread waits
        time.sleep(0.15)
        os.close(other)  # the other process's write is done

    previous = signal.signal(signal.SIGUSR1, republish)
    thread = threading.Thread(target=the_other_process)
    outer: list[BaseException] = []
    started = time.monotonic()
    try:
        thread.start()
        try:
            notice(agreements=()).write(folder)
        except NoticeError as exc:
            outer.append(exc)
    finally:
        thread.join(timeout=10)
        signal.signal(signal.SIGUSR1, previous)
    took = time.monotonic() - started
    assert handler_said, "the handler never ran"
    said = (
        f"after {took:.1f} s: the handler got {handler_said[0]!r}, the outer write "
        f"{outer[0] if outer else 'nothing'}; the other process let go after 0.3 s"
    )
    # the handler is told at once that its thread's write is under way (it may write
    # again once that returns); the write it interrupted goes on and is made
    assert isinstance(handler_said[0], NoticeError), said
    assert "writing into the folder already" in str(handler_said[0]), said
    assert not outer, said
    assert took < 2.5, said


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads, 3.12+
def test_a_fork_just_after_the_flock_is_taken_does_not_keep_the_folder_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: `_forget_in_child` closes the child's copies of the descriptors in
    ``_held``, but a descriptor enters ``_held`` only after `_locked` returned it, and
    ``_guard`` was taken again. Another thread forking in between (a ``multiprocessing``
    worker or a pre-forked server worker started while a background thread publishes
    the notice) gives the child a copy of a descriptor holding the ``flock`` that nothing
    in the child closes.
    Harm: the parent's write ends and closes its copy, but the lock stays held for as
    long as the child lives: every later write into the folder, by this process or
    another release, waits `folder_lock.WAIT` (60 s) and fails with `NoticeError`, for
    the worker's whole life. The fork lands in the window here through a wrapper of
    ``fcntl.flock`` that lets the forking thread run at that moment. The descriptor could
    be registered before it is locked (under ``_guard``), or the child could close every
    descriptor opened by `_locked` (a set kept before ``flock``)."""
    folder = tmp_path / "published"
    notice(agreements=()).write(folder)
    real_fcntl = folder_lock.fcntl
    locked, forked = threading.Event(), threading.Event()
    child: list[int] = []

    class Fcntl:
        LOCK_EX, LOCK_NB, LOCK_UN = real_fcntl.LOCK_EX, real_fcntl.LOCK_NB, real_fcntl.LOCK_UN

        @staticmethod
        def flock(descriptor: int, operation: int) -> None:
            real_fcntl.flock(descriptor, operation)
            if not locked.is_set():
                locked.set()
                forked.wait(timeout=10)  # the other thread forks here

    def fork_a_worker() -> None:
        locked.wait(timeout=10)
        pid = os.fork()
        if pid == 0:  # a long-lived worker that never writes notices
            try:
                time.sleep(8)
            finally:
                os._exit(0)
        child.append(pid)
        forked.set()

    forker = threading.Thread(target=fork_a_worker)
    monkeypatch.setattr(folder_lock, "fcntl", Fcntl)
    try:
        forker.start()
        notice(agreements=()).write(folder)
        forker.join(timeout=10)
        assert child, "no worker was forked"
        monkeypatch.setattr(folder_lock, "WAIT", 0.5)
        try:
            notice().write(folder)  # the worker holds nothing of its own
        except NoticeError as exc:
            pytest.fail(f"the forked worker keeps the folder locked: {exc}")
    finally:
        forked.set()
        for pid in child:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def test_an_exception_from_a_signal_handler_after_the_flock_does_not_leak_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: in `one_writer`, the descriptor `_locked` returns (holding the ``flock``)
    is closed only by the ``finally`` of the inner ``try``, entered after ``Turn(...)``
    and the ``with _guard:`` registration. An exception raised between (a signal handler
    that raises: ``KeyboardInterrupt`` at Ctrl-C in a notebook or a REPL, ``signal.alarm``
    bounding an operation with a raised ``TimeoutError``) skips it: the descriptor is never
    closed. Harm: the folder stays locked for the life of the process: every later
    write into it, by this process or any other (every release sharing the volume), waits
    `folder_lock.WAIT` and fails. The exception's arrival is placed here by a wrapper of
    `_locked` (what a signal arriving at the next bytecode does)."""
    folder = tmp_path / "published"
    notice(agreements=()).write(folder)
    real = folder_lock._locked
    raised: list[bool] = []

    def locked_then_interrupted(*args: Any) -> object:
        descriptor = real(*args)
        if not raised:
            raised.append(True)
            raise KeyboardInterrupt  # a signal handler's exception, at the next bytecode
        return descriptor

    monkeypatch.setattr(folder_lock, "_locked", locked_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        notice(agreements=()).write(folder)
    monkeypatch.setattr(folder_lock, "_locked", real)
    monkeypatch.setattr(folder_lock, "WAIT", 0.5)
    try:
        notice().write(folder)
    except NoticeError as exc:
        pytest.fail(f"the interrupted write left the folder locked: {exc}")
