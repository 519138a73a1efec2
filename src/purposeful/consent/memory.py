"""An in-memory consent store, for tests and short-lived tools.

Nothing survives the process. Safe to share between the threads of one process: every
operation holds one lock, so a check and an append are one atomic step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from ..purposes import PurposeRegistry
from .events import ConsentEvent
from .rules import duplicate_id
from .store import DEFAULT_FUTURE_SKEW, BaseConsentStore

__all__ = ["MemoryConsentStore"]


class MemoryConsentStore(BaseConsentStore):
    """A consent store held in a dict of per-subject lists.

    Args:
        registry: the purposes events may name; default: the configured registry.
        future_skew: how far ahead of this machine's clock an event's time may be; one
            dated further ahead is refused (default 5 minutes).
    """

    def __init__(
        self,
        *,
        registry: PurposeRegistry | None = None,
        future_skew: timedelta = DEFAULT_FUTURE_SKEW,
    ) -> None:
        super().__init__(registry=registry, future_skew=future_skew)
        self._lock = threading.Lock()
        self._by_subject: dict[str, list[ConsentEvent]] = {}
        self._ids: set[str] = set()
        self._appended = 0

    def _append(self, event: ConsentEvent, fits: Callable[[Sequence[ConsentEvent]], None]) -> None:
        with self._lock:
            history = self._by_subject.get(event.subject, [])
            fits(history)
            if event.event_id in self._ids:
                raise duplicate_id(event.event_id)
            self._by_subject[event.subject] = [*history, event]
            self._ids.add(event.event_id)
            self._appended += 1

    def _events(self, subject: str, purposes: Sequence[str] | None = None) -> list[ConsentEvent]:
        with self._lock:
            events = self._by_subject.get(subject, [])
        if purposes is None:
            return list(events)
        wanted = set(purposes)
        return [e for e in events if e.purpose in wanted]

    def _version(self) -> object:
        return self._appended

    def _expiring_candidates(self, start: datetime, end: datetime) -> Iterable[tuple[str, str]]:
        with self._lock:
            everything = [e for events in self._by_subject.values() for e in events]
        return [
            (e.subject, e.purpose)
            for e in everything
            if e.expires_at is not None and start <= e.expires_at < end
        ]

    def _close(self) -> None:
        with self._lock:
            self._by_subject = {}
            self._ids = set()
