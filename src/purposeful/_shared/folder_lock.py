"""Writers of one folder taking turns: this process's threads, and other processes (in
other containers sharing the volume too).

`replace_together` writes a set of files (a notice and its register) that must agree; two
writers at once could leave one's files beside the other's. So a writer holds the folder's
turn for the whole set: a re-entrant lock per folder in the process, and a ``flock`` on the
folder's own descriptor across processes (nothing is left in a published folder; the kernel
lets go when a writer dies). Both waits are bounded (`WAIT`).

A signal handler runs in the main thread between two of its bytecodes, so a handler that
publishes the notice can interrupt the main thread's own write of that folder. It cannot
wait for its own thread, and run there and then it would part the set: while the thread's
turn is under way, such a write is refused at once (`Reentered`, an ``OSError`` the notice
reports as `NoticeError`), and the interrupted write goes on untouched. Before the turn
begins or once it has ended, the handler's write is simply the next one. The registries
hold no lock of their own: each change is one dictionary operation.

After ``fork`` the child forgets every turn (the threads holding them do not exist there),
and closes its copies of the folder descriptors opened for a ``flock``, so the parent's
lock ends with the parent's write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl
    fcntl = None  # type: ignore[assignment]

__all__ = ["WAIT", "Reentered", "one_writer"]

#: How long a writer waits for another writing into the same folder, in seconds.
WAIT: Final = 60.0


class Reentered(OSError):
    """A write of a folder by the thread whose write of it is under way (a signal handler)."""


_locks: dict[Path, threading.RLock] = {}  # one per folder written by this process
_owners: dict[Path, int] = {}  # folder → the thread whose turn is under way
_opened: set[int] = set()  # the folder descriptors opened for a flock, for a forked child


@contextlib.contextmanager
def one_writer(folder: Path) -> Iterator[bool]:
    """Hold *folder*'s turn for the block; yields whether no other process can be writing
    there (so what crashed writers left may be removed): False where the folder cannot be
    locked (no ``fcntl``, a file system that refuses ``flock`` on a directory), where the
    write goes on unlocked.

    Raises:
        Reentered: this thread's own write of *folder* is under way (a signal handler).
        TimeoutError: another thread or process held the folder for `WAIT` seconds.
    """
    key = folder.resolve()
    me = threading.get_ident()
    if _owners.get(key) == me:
        raise Reentered(
            errno.EDEADLK,
            "this thread is writing into the folder already (a signal handler interrupted "
            "that write); write again once it has returned",
        )
    lock = _locks.setdefault(key, threading.RLock())
    deadline = time.monotonic() + WAIT
    if not lock.acquire(timeout=WAIT):
        raise _timed_out("another thread")
    opened: list[int] = []  # this turn's descriptor, once opened
    try:
        _owners[key] = me
        yield _locked(folder, opened, deadline)
    finally:
        try:
            for descriptor in opened:
                _opened.discard(descriptor)
                with contextlib.suppress(OSError):
                    os.close(descriptor)
        finally:
            _owners.pop(key, None)
            lock.release()


def _locked(folder: Path, opened: list[int], deadline: float) -> bool:
    """Take *folder*'s exclusive ``flock`` through a descriptor put in *opened* the moment
    it is open (closed by `one_writer`, or by a forked child); False where it cannot be
    locked."""
    if fcntl is None:  # pragma: no cover - Windows
        return False
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    opened.append(descriptor)
    _opened.add(descriptor)
    pause = 0.005
    while True:  # bounded by the deadline
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise _timed_out("another process") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
        except OSError:  # a file system that cannot lock a directory
            return False


def _timed_out(who: str) -> TimeoutError:
    return TimeoutError(
        errno.ETIMEDOUT,
        f"{who} has been writing into the folder for too long; try again once it is done",
    )


def _forget_in_child() -> None:
    """After ``fork``, in the child: no thread of its own holds a turn."""
    for descriptor in _opened:
        with contextlib.suppress(OSError):
            os.close(descriptor)
    _locks.clear()
    _owners.clear()
    _opened.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
