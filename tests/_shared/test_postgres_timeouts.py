"""A hung, stopped or partitioned PostgreSQL server never holds a thread beyond the store's
timeout, nor one thread another's: `purposeful._shared.postgres` and its pool.

The server comes from PURPOSEFUL_TEST_POSTGRES_DSN (``bash .ci/run`` starts one); without
it these tests skip, except under CI, where they fail. The server is shared with the other
tests, so it is never paused: a partition is a `PausableProxy` on loopback between the store
and the server, which stops passing bytes on while it is paused.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, Case
from purposeful._consent import CACHE
from purposeful.errors import ConfigurationError, StoreUnavailable
from purposeful.testing import capture_decisions

try:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from purposeful._shared.postgres import GRACE, lock_key
    from purposeful.consent.postgres import PostgresConsentStore
    from purposeful.corrections.postgres import PostgresCorrectionStore
    from purposeful.sharing.postgres import PostgresSharingStore
except ImportError:  # pragma: no cover - depends on the environment
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("psycopg is not installed: pip install -e '.[test]'", allow_module_level=True)

T = TypeVar("T")

#: The stores' timeout in these tests, in seconds: each wait on a hung server ends after
#: it and `GRACE`.
TIMEOUT = 1.0
#: How late a call may come back, for a loaded machine.
SLACK = 1.5
MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SUBJECT = "C-TIMEOUT-1"


class PausableProxy:
    """A TCP proxy on 127.0.0.1 to *upstream*, in one thread: `pause` stops it passing
    bytes on (a partition, or a stopped server, as the client sees it), `resume` lets them
    through again, `stop` closes every socket (then connecting is refused)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._peers: dict[socket.socket, socket.socket] = {}
        self._paused = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test proxy", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        try:
            while not self._stopped.is_set():
                readable, _, _ = select.select([self._listener, *self._peers], [], [], 0.02)
                if self._paused.is_set():
                    continue  # bytes wait in the kernel's buffers; nothing is answered
                for sock in readable:
                    if sock is self._listener:
                        self._accept()
                    elif sock in self._peers:
                        self._pass_on(sock)
        finally:
            for sock in [self._listener, *self._peers]:
                sock.close()

    def _accept(self) -> None:
        with contextlib.suppress(BlockingIOError):
            client, _ = self._listener.accept()
            server = socket.create_connection(self._upstream, timeout=5)
            self._peers[client], self._peers[server] = server, client

    def _pass_on(self, sock: socket.socket) -> None:
        other = self._peers[sock]
        try:
            data = sock.recv(65536)
            if data:
                other.sendall(data)
                return
        except OSError:
            pass
        for end in (sock, other):  # one side closed: close both
            self._peers.pop(end, None)
            end.close()


@pytest.fixture
def proxy(postgres_schema: tuple[str, str]) -> Iterator[PausableProxy]:
    params = conninfo_to_dict(postgres_schema[0])
    running = PausableProxy((str(params.get("host", "127.0.0.1")), int(params.get("port", 5432))))
    yield running
    running.stop()


@pytest.fixture
def proxied(postgres_schema: tuple[str, str], proxy: PausableProxy) -> str:
    """The test server's DSN, through the proxy."""
    return make_conninfo(postgres_schema[0], host="127.0.0.1", port=proxy.port)


@pytest.fixture
def store(proxied: str, postgres_schema: tuple[str, str]) -> Iterator[PostgresConsentStore]:
    opened = PostgresConsentStore(proxied, schema=postgres_schema[1], timeout=TIMEOUT)
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def _no_cached_answers() -> Iterator[None]:
    CACHE.clear()
    yield
    CACHE.clear()


def timed(call: Callable[[], T]) -> tuple[T | BaseException, float]:
    """What *call* returned or raised, and how many seconds it took."""
    started = time.monotonic()
    try:
        outcome: T | BaseException = call()
    except Exception as exc:
        outcome = exc
    return outcome, time.monotonic() - started


def in_thread(call: Callable[[], T]) -> Callable[[], tuple[T | BaseException, float]]:
    """Start *call* in a thread; the function returned waits for its `timed` outcome."""
    box: list[tuple[T | BaseException, float]] = []
    thread = threading.Thread(target=lambda: box.append(timed(call)), daemon=True)
    thread.start()

    def result() -> tuple[T | BaseException, float]:
        thread.join(timeout=30)
        assert box, "the call never returned"
        return box[0]

    return result


def read_notes(store: PostgresConsentStore) -> str:
    with purposeful.use(CASE_MANAGEMENT, actor=CASEWORKER, consent=store):
        notes: str = Case(SUBJECT, "flu", "1 Queen St", "private notes").case_notes
        return notes


# --- a server that does not answer ---


def test_a_partitioned_server_refuses_the_read_in_a_scope_and_recovers_when_it_answers(
    store: PostgresConsentStore, proxy: PausableProxy
) -> None:
    store.give(SUBJECT, CASE_MANAGEMENT, at=MARCH)
    assert read_notes(store) == "private notes"
    CACHE.clear()
    proxy.pause()
    with capture_decisions() as captured:
        refused, took = timed(lambda: read_notes(store))
    assert isinstance(refused, purposeful.PurposeViolation)
    assert refused.decision.reason_codes == ("consent-check-failed",)
    assert [d.reason_codes for d in captured.decisions] == [("consent-check-failed",)]
    # One wait: the stamp is StoreUnavailable, and the scope does not ask for the answers.
    assert took < TIMEOUT + GRACE + SLACK
    proxy.resume()
    assert read_notes(store) == "private notes"  # the same store, not reopened
    assert not store.closed


def test_a_hung_call_says_what_timed_out_and_what_to_check(
    store: PostgresConsentStore, proxy: PausableProxy
) -> None:
    store.history(SUBJECT)
    proxy.pause()
    failed, took = timed(lambda: store.history(SUBJECT))
    assert isinstance(failed, StoreUnavailable)
    assert TIMEOUT <= took < TIMEOUT + GRACE + SLACK
    message = str(failed)
    assert "got no answer" in message
    assert "timeout of 1 s" in message
    assert "host 127.0.0.1" in message
    assert "reachable" in message
    assert "timeout=" in message
    assert SUBJECT not in message
    proxy.resume()
    assert store.history(SUBJECT) == []


def test_a_second_thread_is_not_held_by_the_first_ones_hung_call(
    store: PostgresConsentStore, proxy: PausableProxy
) -> None:
    store.history(SUBJECT)
    proxy.pause()
    first = in_thread(lambda: store.history(SUBJECT))
    time.sleep(TIMEOUT / 2)
    second, second_took = timed(lambda: store.history("C-TIMEOUT-2"))
    first_outcome, first_took = first()
    assert isinstance(first_outcome, StoreUnavailable)
    assert isinstance(second, StoreUnavailable)
    # Each came back within its own timeout, the second not after the first's.
    assert first_took < TIMEOUT + GRACE + SLACK
    assert second_took < TIMEOUT + GRACE + SLACK
    proxy.resume()
    assert store.history(SUBJECT) == []


def test_a_call_that_finds_every_connection_busy_waits_no_longer_than_its_timeout(
    store: PostgresConsentStore, proxy: PausableProxy
) -> None:
    store.history(SUBJECT)
    store._database._pool._size = 1  # the one connection is held by a hung call
    proxy.pause()
    first = in_thread(lambda: store.history(SUBJECT))
    time.sleep(0.1)
    second, took = timed(lambda: store.history("C-TIMEOUT-2"))
    assert isinstance(second, StoreUnavailable)
    assert "every one stayed busy" in str(second)
    assert TIMEOUT <= took < TIMEOUT + SLACK
    assert isinstance(first()[0], StoreUnavailable)
    proxy.resume()
    assert store.history(SUBJECT) == []


def test_a_call_waiting_on_a_lock_holds_no_other_thread_and_is_cancelled_by_the_server(
    postgres_schema: tuple[str, str],
) -> None:
    """Without the proxy: a write waits on another session's advisory lock; reads in other
    threads go on meanwhile, and the server cancels the write at the timeout."""
    dsn, schema = postgres_schema
    with (
        PostgresConsentStore(dsn, schema=schema, timeout=TIMEOUT) as store,
        psycopg.connect(dsn, autocommit=True) as other,
    ):
        other.execute("SELECT pg_advisory_lock(%s)", [lock_key(f"subject\n{schema}\n{SUBJECT}")])
        writing = in_thread(lambda: store.give(SUBJECT, CASE_MANAGEMENT, at=MARCH))
        time.sleep(TIMEOUT / 4)
        for _ in range(3):
            read, took = timed(lambda: store.history("C-TIMEOUT-2"))
            assert read == []
            assert took < TIMEOUT / 2
        cancelled, took = writing()
        assert isinstance(cancelled, StoreUnavailable)
        assert "statement_timeout" in str(cancelled)
        assert "nothing was written" in str(cancelled)
        assert TIMEOUT <= took < TIMEOUT + SLACK
        other.execute("SELECT pg_advisory_unlock_all()")
        assert store.give(SUBJECT, CASE_MANAGEMENT, at=MARCH).subject == SUBJECT


# --- a server that is gone ---


def test_a_stopped_proxy_is_unavailable_at_once(
    store: PostgresConsentStore, proxy: PausableProxy
) -> None:
    store.history(SUBJECT)
    proxy.stop()
    failed, took = timed(lambda: store.history(SUBJECT))
    assert isinstance(failed, StoreUnavailable)
    assert "cannot reach" in str(failed)
    assert took < 1.0


def test_opening_a_store_on_a_paused_server_gives_up_after_the_connect_timeout(
    proxied: str, postgres_schema: tuple[str, str], proxy: PausableProxy
) -> None:
    proxy.pause()
    failed, took = timed(
        lambda: PostgresSharingStore(proxied, schema=postgres_schema[1], timeout=TIMEOUT)
    )
    assert isinstance(failed, StoreUnavailable)
    assert "got no answer within 2 s" in str(failed)  # libpq's least connect_timeout
    assert took < 2 + SLACK


# --- processes ---


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_opens_its_own_connections_and_leaves_the_parents_alone(
    postgres_schema: tuple[str, str],
) -> None:
    dsn, schema = postgres_schema
    with PostgresConsentStore(dsn, schema=schema, timeout=TIMEOUT) as store:
        store.give(SUBJECT, CASE_MANAGEMENT, at=MARCH)
        parents = store._database._connection
        assert parents is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads, 3.12+
            child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                fine = len(store.history(SUBJECT)) == 1
                mine = store._database._connection
                code = 0 if fine and mine is not None and mine is not parents else 3
            finally:
                os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert len(store.history(SUBJECT)) == 1
        assert store._database._connection is parents  # still open, still this session


# --- settings ---

STORES: list[Any] = [PostgresConsentStore, PostgresSharingStore, PostgresCorrectionStore]


@pytest.mark.parametrize("store_class", STORES)
@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("timeout", 0),
        ("timeout", -1.5),
        ("timeout", float("nan")),
        ("timeout", float("inf")),
        ("timeout", 86_401),
        ("timeout", True),
        ("timeout", "5"),
        ("timeout", None),
        ("connect_timeout", 0),
        ("connect_timeout", "2"),
    ],
)
def test_a_bad_timeout_is_a_configuration_error_before_connecting(
    store_class: Any, setting: str, value: object
) -> None:
    with pytest.raises(ConfigurationError, match=f"{setting} must be a positive number"):
        store_class("postgresql://consent:s3cret@127.0.0.1:1/agency", **{setting: value})


def test_the_session_has_the_timeouts_and_keepalives(
    postgres_schema: tuple[str, str],
) -> None:
    dsn, schema = postgres_schema
    with PostgresCorrectionStore(dsn, schema=schema, timeout=2.5) as store:
        store.for_subject(SUBJECT)
        connection = store._database._connection
        assert connection is not None
        settings = dict(
            connection.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                [["statement_timeout", "lock_timeout", "TimeZone"]],
            ).fetchall()
        )
        used = conninfo_to_dict(connection.info.dsn)
    assert settings == {"statement_timeout": "2500", "lock_timeout": "30000", "TimeZone": "UTC"}
    assert (used["keepalives"], used["keepalives_idle"], used["keepalives_count"]) == (
        "1",
        "3",
        "3",
    )
    assert used["connect_timeout"] == "3"
