"""Writers of one folder taking turns: this process's threads, and other processes (in
other containers sharing the volume too).

`replace_together` writes a set of files (a notice and its register) that must agree; two
writers at once could leave one's files beside the other's. So a writer holds the folder's
turn for the whole set: a lock per folder in the process, and a ``flock`` on the folder's
own descriptor across processes (nothing is left in a published folder; the kernel lets go
when a writer dies). Both waits are bounded (`WAIT`). A write re-entered by the thread
that holds the turn (a signal handler publishing while the main thread writes) cannot wait
for itself: it is run when the write it interrupted is done, in the same turn
(`one_writer`'s ``later``).

After ``fork`` the child forgets every turn: the threads holding them do not exist there,
and its copies of the locked descriptors are closed, so the parent's lock ends with the
parent's write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl
    fcntl = None  # type: ignore[assignment]

__all__ = ["WAIT", "Turn", "one_writer"]

#: How long a writer waits for another writing into the same folder, in seconds.
WAIT: Final = 60.0


class Turn:
    """A folder's turn, held by one thread: whether no other process can be writing there
    (so what crashed writers left may be removed), and the writes re-entered meanwhile."""

    def __init__(self, alone: bool) -> None:
        self.alone = alone
        self.later: list[Callable[[], None]] = []


_guard = threading.Lock()  # held briefly, never while waiting
_locks: dict[Path, threading.Lock] = {}  # one per folder written by this process
_turns: dict[Path, tuple[int, Turn]] = {}  # folder → (the thread holding it, its turn)
_held: dict[Path, int] = {}  # folder → the descriptor holding its flock


@contextlib.contextmanager
def one_writer(folder: Path, *, wait: float | None = None) -> Iterator[tuple[Turn, bool]]:
    """Hold *folder*'s turn for the block; yields the `Turn` and True, or, when this thread
    holds it already, that turn and False (the caller adds its write to its ``later``).

    Raises:
        TimeoutError: another thread or process held the folder for *wait* (`WAIT`)
            seconds.
    """
    key = folder.resolve()
    me = threading.get_ident()
    with _guard:
        holder = _turns.get(key)
        lock = _locks.setdefault(key, threading.Lock())
    if holder is not None and holder[0] == me:
        yield holder[1], False
        return
    deadline = time.monotonic() + (WAIT if wait is None else wait)
    if not lock.acquire(timeout=max(deadline - time.monotonic(), 0)):
        raise _timed_out("another thread")
    try:
        descriptor = _locked(folder, deadline)
        turn = Turn(alone=descriptor is not None)
        with _guard:
            _turns[key] = (me, turn)
            if descriptor is not None:
                _held[key] = descriptor
        try:
            yield turn, True
        finally:
            with _guard:
                _turns.pop(key, None)
                _held.pop(key, None)
            if descriptor is not None:
                os.close(descriptor)
    finally:
        lock.release()


def _locked(folder: Path, deadline: float) -> int | None:
    """A descriptor of *folder* holding its exclusive ``flock``, or None where it cannot be
    locked (no ``fcntl``, a file system that refuses ``flock`` on a directory): the write
    goes on unlocked then, and removes nothing."""
    if fcntl is None:  # pragma: no cover - Windows
        return None
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return None
    pause = 0.005
    try:
        while True:  # bounded by the deadline
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return descriptor
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise _timed_out("another process") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
            except OSError:  # a file system that cannot lock a directory
                os.close(descriptor)
                return None
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(descriptor)
        raise


def _timed_out(who: str) -> TimeoutError:
    return TimeoutError(
        errno.ETIMEDOUT,
        f"{who} has been writing into the folder for too long; try again once it is done",
    )


def _forget_in_child() -> None:
    """After ``fork``, in the child: no thread of its own holds a turn."""
    global _guard
    for descriptor in _held.values():
        with contextlib.suppress(OSError):
            os.close(descriptor)
    _guard = threading.Lock()
    _locks.clear()
    _turns.clear()
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
