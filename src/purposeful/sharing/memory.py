"""An in-memory sharing store, for tests and short-lived tools.

Nothing survives the process. Safe to share between the threads of one process: every
operation holds one lock, so a check and a write are one atomic step.

What this module must not do: hold the rules (they are `store`'s, shared by every backend).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from .store import BaseSharingStore, refuse_another
from .values import Collection, CollectionStatus, CorrectionNotice, Disclosure, Provenance

__all__ = ["MemorySharingStore"]


class MemorySharingStore(BaseSharingStore):
    """A sharing store held in lists and dicts, for tests and short-lived tools.

    Nothing survives the process. Safe to share between threads: every operation holds one
    lock, so a check and a write are one step.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._disclosed: dict[str, Disclosure] = {}  # in the order logged
        self._told: dict[tuple[str, str], CorrectionNotice] = {}  # in the order recorded
        self._collected: dict[str, Collection] = {}  # in the order recorded
        self._provenance_list: list[Provenance] = []  # in the order recorded

    def _append_disclosures(self, disclosures: Sequence[Disclosure]) -> None:
        with self._lock:
            new: dict[str, Disclosure] = {}
            for disclosure in disclosures:  # every check first: then all are written
                logged = self._disclosed.get(disclosure.id) or new.get(disclosure.id)
                if logged is None:
                    new[disclosure.id] = disclosure
                else:
                    refuse_another(logged, disclosure)
            self._disclosed.update(new)

    def _disclosures(
        self, subject: str, record_type: str | None = None, record_key: str | None = None
    ) -> list[Disclosure]:
        with self._lock:
            everything = list(self._disclosed.values())
        found = [
            d
            for d in everything
            if d.subject == subject
            and (record_type is None or d.record_type == record_type)
            and (record_key is None or d.record_key == record_key)
        ]
        return sorted(found, key=lambda d: d.at)  # stable: ties keep their order

    def _append_notice(
        self,
        disclosure_id: str,
        correction_id: str,
        make: Callable[[Disclosure, CorrectionNotice | None], CorrectionNotice],
    ) -> CorrectionNotice | None:
        with self._lock:
            disclosure = self._disclosed.get(disclosure_id)
            if disclosure is None:
                return None
            key = (disclosure_id, correction_id)
            self._told[key] = notice = make(disclosure, self._told.get(key))
            return notice

    def _notices(self, correction_id: str) -> list[CorrectionNotice]:
        with self._lock:
            everything = list(self._told.values())
        found = [n for n in everything if n.correction_id == correction_id]
        return sorted(found, key=lambda n: n.told_at)

    def _append_collection(self, collection: Collection) -> None:
        with self._lock:
            self._collected[collection.id] = collection

    def _resolve(
        self, collection_id: str, change: Callable[[Collection], Collection]
    ) -> Collection | None:
        with self._lock:
            current = self._collected.get(collection_id)
            if current is None:
                return None
            self._collected[collection_id] = changed = change(current)
            return changed

    def _collections(
        self, subject: str | None, status: CollectionStatus | None
    ) -> list[Collection]:
        with self._lock:
            everything = list(self._collected.values())
        found = [
            c
            for c in everything
            if (subject is None or c.subject == subject) and (status is None or c.status is status)
        ]
        return sorted(found, key=lambda c: c.collected_at)

    def _append_provenance(self, provenance: Provenance, collection: Collection | None) -> None:
        with self._lock:
            if collection is not None:
                self._collected[collection.id] = collection
            self._provenance_list.append(provenance)

    def _provenance(
        self, subject: str, record_type: str | None, record_key: str | None
    ) -> list[Provenance]:
        with self._lock:
            everything = list(self._provenance_list)
        found = [
            p
            for p in everything
            if p.subject == subject
            and (record_type is None or (p.record_type, p.record_key) == (record_type, record_key))
        ]
        return sorted(found, key=lambda p: p.received_at)

    def _close(self) -> None:
        with self._lock:
            self._provenance_list = []
            self._disclosed = {}
            self._told = {}
            self._collected = {}
