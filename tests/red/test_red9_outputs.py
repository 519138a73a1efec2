"""Red team 9: `replace_together` since writers of one folder take turns (an in-process
``RLock`` and a ``flock`` on the folder, a re-entrant write skipping both)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from purposeful._shared import files, folder_lock
from purposeful.errors import NoticeError
from purposeful.notices import Notice
from test_notices import notice

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="flock and fork are POSIX")


def _versions(tmp_path: Path, *notices: Notice) -> list[dict[str, bytes]]:
    """Each notice's four files as `Notice.write` writes them, name → bytes."""
    found = []
    for number, each in enumerate(notices):
        written = each.write(tmp_path / f"version-{number}")
        found.append({path.name: path.read_bytes() for path in written.values()})
    return found


def _which(folder: Path, versions: list[dict[str, bytes]]) -> dict[str, int | None]:
    """For each published file, the version it is (None: neither)."""
    said: dict[str, int | None] = {}
    for name in versions[0]:
        data = (folder / name).read_bytes()
        said[name] = next((n for n, v in enumerate(versions) if v[name] == data), None)
    return said


def _paused_write(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[threading.Thread, threading.Event, threading.Event, list[BaseException]]:
    """A thread writing a notice into *folder*, paused inside `replace_together` (its lock
    held) until the second event is set."""
    inside, go = threading.Event(), threading.Event()
    failed: list[BaseException] = []
    real = files.write_temporary
    writer: list[threading.Thread] = []

    def paused(*args: Any, **kwargs: Any) -> Path:
        if threading.current_thread() is writer[0] and not inside.is_set():
            inside.set()
            go.wait(timeout=20)
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "write_temporary", paused)

    def run() -> None:
        try:
            notice().write(folder)
        except BaseException as exc:  # reported by the caller
            failed.append(exc)

    writer.append(threading.Thread(target=run, daemon=True))
    writer[0].start()
    assert inside.wait(timeout=20), "the writer never got there"
    return writer[0], inside, go, failed


def _end(pid: int) -> int | None:
    """Kill the child *pid* if it still runs; its exit status if it ended by itself."""
    for _ in range(50):  # bounded: 5 s
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads, 3.12+
def test_a_process_forked_during_a_write_does_not_keep_the_folder_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`_locked` takes the ``flock`` on a descriptor of the folder, and a ``flock`` belongs
    to the open file description, which a fork shares with the child. A process that
    forks while one of its threads writes the notice (a ``multiprocessing`` pool or a
    server's worker forked with the default 'fork' start method while a background
    thread publishes) gives every child that descriptor: the writer closes its copy, but
    the lock stays held as long as any child lives. Every later write into the folder,
    by this process, its children or another release, waits `folder_lock.WAIT` (60 s) and
    fails with `NoticeError` 'another process has been writing into the folder', for as
    long as the worker runs (for good, for a pool). The descriptor could be closed in the
    child (``os.register_at_fork``), or the lock taken with ``fcntl.lockf``/OFD locks
    not shared that way."""
    folder = tmp_path / "published"
    notice(agreements=()).write(folder)
    writer, _, go, failed = _paused_write(folder, monkeypatch)
    pid = os.fork()
    if pid == 0:  # the child: a long-lived worker that never writes notices
        try:
            time.sleep(8)
        finally:
            os._exit(0)
    try:
        go.set()
        writer.join(timeout=20)
        assert not writer.is_alive(), "the paused writer never ended"
        assert not failed, failed
        monkeypatch.setattr(folder_lock, "WAIT", 0.5)
        notice().write(folder)  # the child writes nothing, holds nothing of its own
    finally:
        go.set()
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads, 3.12+
def test_a_process_forked_during_a_write_can_write_notices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`_IN_PROCESS` is an ``RLock`` held for the whole of a write, by whichever thread
    writes. A child forked while another thread of the parent writes (a ``multiprocessing``
    worker forked while a background thread publishes the notice) starts with the lock
    held by a thread that does not exist in it, and nothing resets it at the fork: its
    first `Notice.write`, into any folder, waits on that lock for ever, with no
    `folder_lock.WAIT` bound and no error (a worker that publishes its own notice, or
    regenerates one, hangs at start-up). ``os.register_at_fork(after_in_child=...)`` could
    give the child a new lock and forget the parent's folders."""
    folder = tmp_path / "published"
    elsewhere = tmp_path / "the-childs-own"
    notice(agreements=()).write(folder)
    writer, _, go, failed = _paused_write(folder, monkeypatch)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.alarm(15)  # a last bound: the child never outlives the test
            folder_lock.WAIT = 0.5
            notice().write(elsewhere)
            code = 0
        finally:
            os._exit(code)
    try:
        go.set()
        writer.join(timeout=20)
        assert not writer.is_alive(), "the paused writer never ended"
        assert not failed, failed
        status = _end(pid)
    finally:
        go.set()
    assert status == 0, f"the child's write never ended (status {status})"


def test_a_signal_handler_publishing_during_a_write_does_not_part_the_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write re-entered by the same thread (`_one_writer` finds the folder in
    `_WRITING`) goes on with no lock and no wait. A signal handler runs in the main thread
    between any two of its bytecodes, so one that publishes the notice (``SIGHUP``: reload
    the configuration and write the notice again, the usual reload pattern) and arrives
    while the main thread is between two renames of its own write, writes its whole set
    there; the interrupted write then renames its remaining files over it. Both return
    without error and the folder holds notice.md of one version and the other files of
    the other, for good. A re-entered write could fail at once (it cannot take its turn),
    or be deferred until the outer write ends."""
    folder = tmp_path / "published"
    first, second = notice(agreements=()), notice()
    versions = _versions(tmp_path, first, second)
    assert versions[0]["notice.md"] != versions[1]["notice.md"]
    assert versions[0]["notice.html"] != versions[1]["notice.html"]
    first.write(folder)

    told: list[BaseException] = []

    def republish(signum: int, frame: Any) -> None:
        try:
            second.write(folder)
        except NoticeError as exc:  # refused at once: its thread's write is under way
            told.append(exc)

    previous = signal.signal(signal.SIGUSR1, republish)
    real_replace = os.replace
    sent: list[bool] = []

    def replace(source: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        real_replace(source, target, *args, **kwargs)
        if not sent and Path(target).parent == folder and Path(source).name.endswith(".tmp"):
            sent.append(True)  # a reload signal arrives just after the first rename
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.05)  # the handler runs here, in this (the main) thread

    try:
        monkeypatch.setattr(files.os, "replace", replace)
        first.write(folder)
    finally:
        monkeypatch.undo()
        signal.signal(signal.SIGUSR1, previous)
    assert sent
    said = _which(folder, versions)
    assert len(set(said.values())) == 1, f"the published set is parted: {said}"
    assert told, "the handler's write was neither made nor refused"


def test_a_write_into_one_folder_does_not_wait_for_writes_into_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`_one_writer` holds the process-wide `_IN_PROCESS` lock while `_locked` waits (up to
    `folder_lock.WAIT`, 60 s) for another process's ``flock`` on a folder. Every other thread's
    write, into any folder, waits on that lock meanwhile, with no bound of its own: a
    service publishing notices for several tenants, one of whose folders another process
    holds (or a shared volume that hangs), stops publishing every tenant's notice, and
    with N threads queued on the held folder a write into a free one waits N x 60 s,
    not the documented bounded wait. Here three threads wait on a held folder while a
    fourth writes a free one."""
    import fcntl

    monkeypatch.setattr(folder_lock, "WAIT", 1.0)
    held_folder, free_folder = tmp_path / "held", tmp_path / "free"
    notice().write(held_folder)
    held = os.open(held_folder, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)  # another open file description: another process

    def wait_on_the_held_folder() -> None:
        with contextlib.suppress(NoticeError):  # it times out: the other's turn never ends
            notice().write(held_folder)

    waiting = [threading.Thread(target=wait_on_the_held_folder) for _ in range(3)]
    try:
        for thread in waiting:
            thread.start()
        time.sleep(0.2)
        started = time.monotonic()
        notice().write(free_folder)
        took = time.monotonic() - started
    finally:
        for thread in waiting:
            thread.join(timeout=30)
        os.close(held)
    assert took < 0.75, f"a write into a free folder waited {took:.1f} s for another folder"
