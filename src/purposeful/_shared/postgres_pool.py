"""A small pool of PostgreSQL connections whose waits on the server end by a deadline, for
`purposeful._shared.postgres` (imported only from there, once psycopg is known to be
installed).

Each connection is lent to one call at a time; the pool's lock guards its lists and is never
held across a query or a connect, so a call that hangs holds its own connection only. Every
wait on the server (each statement, each BEGIN and COMMIT: psycopg's ``Connection.wait``)
is watched: a watchdog thread (one per pool, started by the first wait and ended after a
while without any) shuts down the socket of a wait still under way past its deadline. The
thread waiting on it wakes at once with the connection lost, which no server-side timeout
can do for a server that is stopped or cut off by the network. Time a call spends in the
application's own code (a correction's ``apply`` callback) is not counted. A forked child
forgets the connections it inherited without ending their sessions (they are the parent's)
and opens its own.

What this module must not do: hold its lock across I/O, close a connection a call is using,
or touch a socket other than its connections' own (it shuts them down through descriptors
of its own, never through a number libpq may have closed and the system reused).
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from ..errors import StoreClosed, StoreUnavailable

__all__ = ["Pool", "Session", "WatchedConnection"]


class WatchedConnection(psycopg.Connection[tuple[Any, ...]]):
    """A psycopg connection whose every wait on the server its pool's watchdog bounds."""

    session: Session | None = None

    def wait(self, *args: Any, **kwargs: Any) -> Any:
        session = self.session
        if session is None:  # not lent by a pool (yet)
            return super().wait(*args, **kwargs)
        session.pool.arm(session)
        try:
            return super().wait(*args, **kwargs)
        finally:
            session.pool.disarm(session)


class Session:
    """One connection of a pool, and the deadline of the wait under way on it."""

    __slots__ = (
        "__weakref__",
        "_socket",
        "busy",
        "connection",
        "deadline",
        "expired",
        "fresh",
        "pool",
        "ready",
        "spent",
        "waits",
    )

    def __init__(self, pool: Pool, connection: WatchedConnection) -> None:
        self.pool = pool
        self.connection = connection
        # A descriptor of its own for the connection's socket: the watchdog shuts the socket
        # down through it, so never through a number libpq has closed and the system reused.
        # It is closed with the session, or when the session is collected unclosed.
        self._socket = weakref.finalize(self, os.close, os.dup(connection.fileno()))
        self.deadline = math.inf
        self.waits = 0  # psycopg's waits under way (one, but for its own cancel on Ctrl-C)
        self.busy = False  # lent to a call
        self.expired = False  # the watchdog ended a wait: the connection is lost
        self.spent = False  # to be closed when its call ends
        self.fresh = True  # opened for the call under way
        self.ready = False  # its session is set up
        connection.session = self

    def shut_down(self) -> None:
        """Shut the connection's socket down: a thread waiting on it wakes at once, with
        the connection lost (the watchdog's one act)."""
        descriptor = self._socket.peek()
        if descriptor is None:  # closed already
            return
        handle = socket.socket(fileno=descriptor[2][0])
        try:
            handle.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            handle.detach()  # the descriptor stays ours, to close with the session

    def close(self) -> None:
        with contextlib.suppress(psycopg.Error):  # it is gone either way
            self.connection.close()
        self._socket()

    def forget(self) -> None:
        """Close this process's copies of the socket, not the session: in a forked child,
        the session is the parent's."""
        with contextlib.suppress(OSError, psycopg.Error):
            os.close(self.connection.pgconn.socket)
        self._socket()


class Pool:
    """At most *size* connections made by *connect*, each lent to one call at a time, and a
    watchdog that shuts down the socket of a wait on the server still under way *bound*
    seconds after it began.

    *closed* makes the error for a call after `close`; *exhausted* the one for a call that
    found every connection busy until its deadline, from its action and the pool's size.
    """

    #: Seconds the watchdog stays without a wait to watch before it ends (the next wait
    #: starts it again).
    IDLE = 30.0

    def __init__(
        self,
        connect: Callable[[], WatchedConnection],
        size: int,
        bound: float,
        *,
        closed: Callable[[], StoreClosed],
        exhausted: Callable[[str, int], StoreUnavailable],
    ) -> None:
        self._connect = connect
        self._size = size
        self._bound = bound
        self._closed_error = closed
        self._exhausted = exhausted
        self._idle: list[Session] = []  # the most recently used last
        self._busy: list[Session] = []
        self._waiting: list[Session] = []  # in the order of their deadlines (one bound)
        self._opening = 0
        self._watching = False
        self._asleep_until = math.inf
        self.closed = False
        self.last: Session | None = None
        self._reset_locks()
        _POOLS.add(self)

    def _reset_locks(self) -> None:
        self._lock = threading.Lock()
        self._returned = threading.Condition(self._lock)
        self._wake = threading.Condition(self._lock)

    # --- lending ---

    def checkout(self, action: str, deadline: float) -> Session:
        """A connection for one call, waiting for one to come back until *deadline*
        (`time.monotonic`) if all *size* are busy."""
        stale: list[Session] = []
        try:
            with self._lock:
                while True:
                    if self.closed:
                        raise self._closed_error()
                    if self._idle:
                        session = self._idle.pop()
                        if not _reusable(session.connection):
                            stale.append(session)
                            continue
                        session.fresh = False
                        return self._lend(session)
                    if len(self._busy) + self._opening < self._size:
                        self._opening += 1
                        break
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise self._exhausted(action, self._size)
                    self._returned.wait(left)
        finally:
            for session in stale:
                session.close()
        try:
            connection = self._connect()
            try:
                session = Session(self, connection)
            except BaseException:  # out of descriptors, say
                connection.close()
                raise
        finally:
            with self._lock:
                self._opening -= 1
                self._returned.notify()
        with self._lock:
            if not self.closed:
                return self._lend(session)
        session.close()
        raise self._closed_error()

    def _lend(self, session: Session) -> Session:
        session.busy = True
        self._busy.append(session)
        self.last = session
        return session

    def checkin(self, session: Session) -> None:
        """Take *session* back from its call: kept for the next if it is fit, else closed.
        Taking one back twice is harmless."""
        with self._lock:
            if not session.busy:
                return
            session.busy = False
            self._busy.remove(session)
            keep = not (self.closed or session.expired or session.spent) and _reusable(
                session.connection
            )
            if keep:
                self._idle.append(session)
            self._returned.notify()
        if not keep:
            session.close()

    def discard(self, connection: object) -> None:
        """Close *connection* when its call ends, rather than keep it."""
        with self._lock:
            for session in self._busy:
                if session.connection is connection:
                    session.spent = True

    def drop_idle(self) -> None:
        """Close the idle connections (the server dropped one: the others are as stale)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for session in idle:
            session.close()

    def close(self) -> None:
        """Close the idle connections now and the busy ones as their calls end."""
        with self._lock:
            self.closed = True
        self.drop_idle()

    # --- watching ---

    def arm(self, session: Session) -> None:
        """A wait on *session*'s server begins: the watchdog ends it after the bound."""
        with self._lock:
            session.waits += 1
            if session.waits > 1:
                return
            session.deadline = deadline = time.monotonic() + self._bound
            self._waiting.append(session)
            if not self._watching:
                self._watching = True
                threading.Thread(
                    target=self._watch, name="purposeful PostgreSQL watchdog", daemon=True
                ).start()
            elif deadline < self._asleep_until:
                self._wake.notify()

    def disarm(self, session: Session) -> None:
        """The wait on *session*'s server has ended."""
        with self._lock:
            session.waits -= 1
            if session.waits == 0:
                session.deadline = math.inf
                self._waiting.remove(session)

    def _watch(self) -> None:
        """The watchdog: shut down the socket of each wait past its deadline, so the thread
        in it wakes with the connection lost; end after a while with nothing to watch."""
        with self._lock:
            while True:
                now = time.monotonic()
                until = math.inf
                for session in self._waiting:
                    if session.expired:
                        continue
                    if session.deadline <= now:
                        session.expired = True
                        session.shut_down()
                    else:
                        until = min(until, session.deadline)
                self._asleep_until = until
                if until < math.inf:
                    self._wake.wait(until - now)
                elif not self._wake.wait(self.IDLE) and not self._waiting:
                    break
            self._asleep_until = math.inf
            self._watching = False

    def after_fork(self) -> None:
        """In a forked child: forget every inherited connection (their sessions are the
        parent's) and the parent's watchdog; the child opens its own."""
        self._reset_locks()
        inherited = [*self._idle, *self._busy]
        self._idle, self._busy, self._waiting = [], [], []
        self._opening, self._watching, self._asleep_until, self.last = 0, False, math.inf, None
        for session in inherited:
            session.forget()


def _reusable(connection: WatchedConnection) -> bool:
    return not connection.broken and connection.info.transaction_status == TransactionStatus.IDLE


#: Every pool of this process, for `_after_fork`.
_POOLS: weakref.WeakSet[Pool] = weakref.WeakSet()


def _after_fork() -> None:
    for pool in list(_POOLS):
        pool.after_fork()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_after_fork)
