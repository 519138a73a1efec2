"""An in-memory hold register, for tests and short-lived tools.

Nothing survives the process. Safe to share between the threads of one process: every
operation holds one lock.

What this module must not do: hold the rules (they are `store`'s, shared by every backend).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .store import BaseHoldStore
from .values import Hold

__all__ = ["MemoryHoldStore"]


class MemoryHoldStore(BaseHoldStore):
    """A hold register held in a dict, for tests and short-lived tools."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._by_id: dict[str, Hold] = {}

    def _insert(self, hold: Hold) -> None:
        with self._lock:
            self._by_id[hold.id] = hold

    def _load(self, hold_id: str) -> Hold | None:
        with self._lock:
            return self._by_id.get(hold_id)

    def _change(self, hold_id: str, change: Callable[[Hold], Hold]) -> Hold | None:
        with self._lock:
            current = self._by_id.get(hold_id)
            if current is None:
                return None
            self._by_id[hold_id] = changed = change(current)
            return changed

    def _select(self) -> list[Hold]:
        with self._lock:
            everything = list(self._by_id.values())
        return sorted(everything, key=lambda hold: hold.placed_at)

    def _close(self) -> None:
        with self._lock:
            self._by_id = {}
