"""A hold register refuses, typed, what it could not keep: a time outside the times
purposeful records, and text no file or database can hold. One such value must never make
the whole register unreadable (every retention run reads it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from purposeful.errors import ConfigurationError
from purposeful.holds import MemoryHoldStore
from purposeful.holds.sqlite import SQLiteHoldStore


@pytest.fixture(params=["memory", "sqlite"])
def holds(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryHoldStore | SQLiteHoldStore:
    if request.param == "memory":
        return MemoryHoldStore()
    return SQLiteHoldStore(tmp_path / "holds.sqlite3")


def test_a_time_at_the_calendars_edge_is_refused_and_the_register_stays_readable(
    holds: MemoryHoldStore | SQLiteHoldStore,
) -> None:
    edge = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=13)))
    with pytest.raises(ConfigurationError, match="at="):
        holds.place(reason="Complaint", by="privacy-officer", subject="C-1", at=edge)
    placed = holds.place(reason="Complaint", by="privacy-officer", subject="C-1")
    assert [h.id for h in holds.holds()] == [placed.id]


@pytest.mark.parametrize("field", ["reason", "by", "subject", "record_type"])
def test_text_no_file_can_keep_is_refused(
    holds: MemoryHoldStore | SQLiteHoldStore, field: str
) -> None:
    given = {"reason": "Complaint", "by": "privacy-officer", "subject": "C-1"}
    given[field] = "x\udcff"
    with pytest.raises(ConfigurationError, match="unpaired surrogate"):
        holds.place(**given)
    assert holds.holds() == []


def test_a_release_by_text_no_file_can_keep_is_refused(
    holds: MemoryHoldStore | SQLiteHoldStore,
) -> None:
    placed = holds.place(reason="Complaint", by="privacy-officer", subject="C-1")
    with pytest.raises(ConfigurationError, match="unpaired surrogate"):
        holds.release(placed.id, by="x\udcff", at=datetime.now(UTC))
    assert holds.holds()[0].released_at is None
