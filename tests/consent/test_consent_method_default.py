"""Consent recorded without saying how it was expressed: the record says so
(``not-recorded``), and the evidence a person is given never claims a method (``written``)
that nobody recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from purposeful.consent import ConsentMethod, MemoryConsentStore
from purposeful.consent.events import ConsentEvent
from purposeful.consent.export import export_records
from purposeful.consent.sqlite import SQLiteConsentStore
from purposeful.decisions import ConsentState
from purposeful.purposes import PurposeRegistry

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_an_event_made_without_a_method_says_none_was_recorded() -> None:
    event = ConsentEvent("C-1", "research", ConsentState.GIVEN, AT)
    assert event.method is ConsentMethod.NOT_RECORDED
    assert ConsentMethod.NOT_RECORDED.value == "not-recorded"


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_every_convenience_method_defaults_to_not_recorded(tmp_path: Path, kind: str) -> None:
    store = MemoryConsentStore() if kind == "memory" else SQLiteConsentStore(tmp_path / "c.sqlite3")
    try:
        store.give("C-1", "research", at=AT)
        store.renew("C-1", "research", at=AT + timedelta(days=1))
        store.withdraw("C-1", "research", at=AT + timedelta(days=2))
        store.refuse("C-2", "research", at=AT)
        events = list(store.history("C-1")) + list(store.history("C-2"))
        assert [e.method for e in events] == [ConsentMethod.NOT_RECORDED] * 4
        exported = export_records(events, PurposeRegistry.default())
        assert {record["hasIndicationMethod"] for record in exported} == {"not-recorded"}
    finally:
        store.close()


def test_a_method_given_is_kept() -> None:
    store = MemoryConsentStore()
    event = store.give("C-1", "research", at=AT, method=ConsentMethod.ONLINE)
    assert event.method is ConsentMethod.ONLINE
    assert [e.method for e in store.history("C-1")] == [ConsentMethod.ONLINE]
