"""A consent prefetch cancelled while its worker thread asks the store (`asyncio.wait_for`,
a client gone): the reads that follow on the event loop are refused at once
(``consent-check-failed``) rather than wait, on the loop, for the answer the caller gave up
on; what the thread hears later is not kept in that scope, and the next scope asks afresh."""

from __future__ import annotations

import asyncio
import logging
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
class HeldConsentClient:
    client_id: str
    born: date
    wellbeing: int = purposeful.field(purposes={"service-delivery": DELIVERY, "research": CONSENT})


class _HeldStore(MemoryConsentStore):
    """A consent store whose batch answer waits until the test lets it go on."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = threading.Event()
        self.go_on = threading.Event()
        self.answered = threading.Event()

    def consent_statuses_steady(self, subjects: Sequence[str], purpose: Any, at: datetime) -> Any:
        self.asked.set()
        self.go_on.wait(10)
        try:
            return super().consent_statuses_steady(subjects, purpose, at)
        finally:
            self.answered.set()


def _read(record: HeldConsentClient) -> object:
    try:
        return record.wellbeing
    except purposeful.PurposeViolation as refused:
        return refused.decision.reason_codes


def test_reads_after_a_cancelled_prefetch_are_refused_without_waiting_on_the_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _HeldStore()
    purposeful.configure(consent=store)
    store.give("W-1", "research")
    store.give("W-2", "research")
    people = [
        HeldConsentClient("W-1", date(1980, 1, 1), 6),
        HeldConsentClient("W-2", date(1981, 1, 1), 8),
    ]
    seen: dict[str, object] = {}

    async def view() -> None:
        async with purposeful.use("research", actor=RESEARCHER) as scope:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(scope.aprefetch_consent(people), 0.05)
            assert store.asked.is_set()
            started = time.monotonic()
            seen["first"] = _read(people[0])
            seen["waited"] = time.monotonic() - started
            store.go_on.set()  # the thread now hears that both consented
            await asyncio.to_thread(store.answered.wait, 10)
            await asyncio.sleep(0.05)  # the thread keeps what it heard, or not
            seen["after"] = [_read(person) for person in people]

    with caplog.at_level(logging.WARNING, logger="purposeful"):
        asyncio.run(view())
    assert seen["first"] == ("consent-check-failed",)
    assert seen["waited"] < 1  # the store held its answer for up to 10 s
    assert seen["after"] == [("consent-check-failed",), ("consent-check-failed",)]
    assert "prefetch under 'research' was cancelled" in caplog.text
    assert "W-1" not in caplog.text
    assert "W-2" not in caplog.text

    # the next scope asks afresh, and hears that both consented
    with purposeful.use("research", actor=RESEARCHER):
        assert [person.wellbeing for person in people] == [6, 8]


def test_a_prefetch_that_ends_normally_gives_every_answer() -> None:
    store = _HeldStore()
    store.go_on.set()
    purposeful.configure(consent=store)
    store.give("W-1", "research")
    people = [
        HeldConsentClient("W-1", date(1980, 1, 1), 6),
        HeldConsentClient("W-2", date(1981, 1, 1), 8),
    ]

    async def view() -> list[object]:
        async with purposeful.use("research", actor=RESEARCHER) as scope:
            await asyncio.wait_for(scope.aprefetch_consent(people), 10)
            return [_read(person) for person in people]

    assert asyncio.run(view()) == [6, ("consent-not-held",)]


def test_a_read_of_someone_else_after_a_cancelled_prefetch_does_not_wait_for_its_thread() -> None:
    """While the cancelled prefetch's thread still asks the store, a read of someone it was
    not asking about is refused in that scope too, rather than wait on the loop behind it."""
    store = _HeldStore()
    purposeful.configure(consent=store)
    for who in ("W-1", "W-3"):
        store.give(who, "research")
    asked = [HeldConsentClient("W-1", date(1980, 1, 1), 6)]
    other = HeldConsentClient("W-3", date(1982, 1, 1), 9)
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
