"""An in-memory correction store, for tests and short-lived tools.

Nothing survives the process. Safe to share between the threads of one process: every
operation holds one lock, so a check, the update callback and the write are one step.

What this module must not do: hold the rules (they are `store`'s, shared by every backend).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .store import BaseCorrectionStore
from .values import Correction, CorrectionStatus

__all__ = ["MemoryCorrectionStore"]


class MemoryCorrectionStore(BaseCorrectionStore):
    """A correction store held in a dict, for tests and short-lived tools.

    Nothing survives the process. Safe to share between threads: every operation holds one
    lock, so a check, the update callback and the write are one step.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._by_id: dict[str, Correction] = {}

    def _insert(self, correction: Correction) -> None:
        with self._lock:
            self._by_id[correction.id] = correction

    def _load(self, correction_id: str) -> Correction | None:
        with self._lock:
            return self._by_id.get(correction_id)

    def _change(
        self, correction_id: str, change: Callable[[Correction], Correction]
    ) -> Correction | None:
        with self._lock:
            current = self._by_id.get(correction_id)
            if current is None:
                return None
            self._by_id[correction_id] = changed = change(current)
            return changed

    def _select(self, subject: str | None, status: CorrectionStatus | None) -> list[Correction]:
        with self._lock:
            everything = list(self._by_id.values())  # in the order recorded
        found = [
            c
            for c in everything
            if (subject is None or c.subject == subject) and (status is None or c.status is status)
        ]
        return sorted(found, key=lambda c: c.requested_at)  # stable: ties keep their order

    def _close(self) -> None:
        with self._lock:
            self._by_id = {}
