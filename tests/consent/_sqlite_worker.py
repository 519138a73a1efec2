"""A separate process for the SQLite consent store tests: it records events and says which.

Not a test module. ``test_sqlite`` runs it with ``sys.executable``::

    python _sqlite_worker.py race PATH NAME COUNT
    python _sqlite_worker.py loop PATH NAME COUNT

``race``: open the store, print ``ready``, wait for a line on stdin (so that two workers
start writing at the same moment), then record COUNT events about three subjects it shares
with the other worker: every third a withdrawal, the others a renewal, or a grant when the
renewal does not fit the history. Print each recorded event's id.

``loop``: record up to COUNT events as fast as possible, printing each event's id (and
flushing) only after `record` has returned, that is after its transaction committed; the
test kills the process at some moment in between.

Event ids are ``NAME-<number>``. The worker must not print anything else on stdout.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from purposeful.consent import ConsentEvent, ConsentState
from purposeful.consent.sqlite import SQLiteConsentStore
from purposeful.errors import InvalidConsentEvent

SHARED_SUBJECTS = ("subject-0", "subject-1", "subject-2")


def race(store: SQLiteConsentStore, name: str, count: int) -> None:
    print("ready", flush=True)
    sys.stdin.readline()
    for number in range(count):
        subject = SHARED_SUBJECTS[number % len(SHARED_SUBJECTS)]
        event_id = f"{name}-{number}"
        if number % 3 == 0:
            states = [ConsentState.WITHDRAWN]
        else:
            states = [ConsentState.RENEWED, ConsentState.GIVEN]
        for state in states:
            event = ConsentEvent(
                subject, "research", state, datetime.now(UTC), event_id=f"{event_id}-{state.value}"
            )
            try:
                store.record(event)
            except InvalidConsentEvent:
                continue
            print(event.event_id, flush=True)
            break


def loop(store: SQLiteConsentStore, name: str, count: int) -> None:
    for number in range(count):
        event = ConsentEvent(
            f"subject-{number % 7}",
            "research",
            ConsentState.GIVEN if number % 2 else ConsentState.WITHDRAWN,
            datetime.now(UTC),
            # Large, varying evidence spreads a row over several pages, so a kill can land
            # in the middle of writing one.
            evidence="e" * (number % 5 * 3000) or None,
            event_id=f"{name}-{number}",
        )
        store.record(event)
        print(event.event_id, flush=True)


def main() -> None:
    mode, path, name, count = sys.argv[1:]
    with SQLiteConsentStore(path, timeout=10.0) as store:
        {"race": race, "loop": loop}[mode](store, name, int(count))


if __name__ == "__main__":
    main()
