"""A SQLite sharing store's row whose JSON columns (statements of correction, field names)
were changed outside purposeful to nest deeper than Python decodes is a damaged row
(`StoreCorrupt`, restore from a backup), not a RecursionError out of `provenance`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from _tell_us_once import NAME, RECEIVED, SENDER, SUBJECT, TUOApplication, agreement, consent_for

import purposeful
from purposeful.errors import StoreCorrupt
from purposeful.sharing import STATEMENTS, SQLiteSharingStore, prefill

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "damaged",
    [
        ("statements", DEEP),
        ("statements", '[["full_name", [' + DEEP + "]]]"),
        ("fields", DEEP),
    ],
)
def test_json_nested_too_deeply_in_a_row_is_store_corrupt(
    tmp_path: Path, damaged: tuple[str, str]
) -> None:
    path = tmp_path / "sharing.sqlite3"
    purposeful.configure(consent=consent_for(SUBJECT))
    with SQLiteSharingStore(path) as store:
        purposeful.configure(disclosure_log=store)
        prefill(
            TUOApplication(SUBJECT, "A-1"),
            {"name": NAME, STATEMENTS: {"name": ["said"]}},
            source=SENDER,
            under=agreement(),
            fields={"name": "full_name"},
            at=RECEIVED,
        )
    column, text = damaged
    with sqlite3.connect(path) as connection:
        connection.execute(f"UPDATE provenance SET {column} = ?", (text,))
    connection.close()
    with SQLiteSharingStore(path) as store, pytest.raises(StoreCorrupt):
        store.provenance(SUBJECT)
