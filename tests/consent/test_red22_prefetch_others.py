"""After a cancelled consent prefetch, a read of someone it was not asking about does not
wait on the event loop either, behind the worker thread still asking the store."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pytest

import purposeful
from purposeful import CONSENT, SENSITIVE, Actor, ServiceAgreement
from purposeful.consent import MemoryConsentStore

DELIVERY = ServiceAgreement("Service delivery agreement")
RESEARCHER = Actor("staff-31", "researcher", SENSITIVE)


@purposeful.record(subject="client_id")
class Tangata:
    client_id: str
    born: date
    wellbeing: int = purposeful.field(purposes={"service-delivery": DELIVERY, "research": CONSENT})


class _HeldStore(MemoryConsentStore):
    """A consent store whose first batch answer waits until the test lets it go on."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = threading.Event()
        self.go_on = threading.Event()
        self.answered = threading.Event()

    def consent_statuses_steady(self, subjects: Sequence[str], purpose: Any, at: datetime) -> Any:
        if not self.asked.is_set():
            self.asked.set()
            self.go_on.wait(10)
        try:
            return super().consent_statuses_steady(subjects, purpose, at)
        finally:
            self.answered.set()


def _read(record: Tangata) -> object:
    try:
        return record.wellbeing
    except purposeful.PurposeViolation as refused:
        return refused.decision.reason_codes


def test_a_read_of_someone_else_after_a_cancelled_prefetch_does_not_wait_for_its_thread() -> None:
    store = _HeldStore()
    purposeful.configure(consent=store)
    for who in ("T-1", "T-3"):
        store.give(who, "research")
    asked = [Tangata("T-1", date(1980, 1, 1), 6)]
    other = Tangata("T-3", date(1982, 1, 1), 9)
    seen: dict[str, object] = {}

    async def view() -> None:
        async with purposeful.use("research", actor=RESEARCHER) as scope:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(scope.aprefetch_consent(asked), 0.05)
            assert store.asked.is_set()
            started = time.monotonic()
            seen["other"] = _read(other)
            seen["waited"] = time.monotonic() - started
            store.go_on.set()
            await asyncio.to_thread(store.answered.wait, 10)

    asyncio.run(view())
    assert seen["waited"] < 1  # the store held its answer for up to 10 s
    assert seen["other"] == ("consent-check-failed",)
    with purposeful.use("research", actor=RESEARCHER):  # the next scope asks afresh
        assert other.wellbeing == 9
