"""A SQLite store's new file (and SQLite's ``-wal`` and ``-shm`` beside it) is its owner's
alone: it holds raw subject ids, as the ledger and the keys do, which are written 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from purposeful.consent import SQLiteConsentStore
from purposeful.corrections import SQLiteCorrectionStore
from purposeful.holds import SQLiteHoldStore
from purposeful.sharing.sqlite import SQLiteSharingStore

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _hold(store: Any) -> None:
    store.place(reason="Inquiry", by="staff-1", subject="C-MODE-1", at=AT)


def _consent(store: Any) -> None:
    store.give("C-MODE-1", "research", at=AT)


STORES: dict[str, tuple[Callable[[Path], Any], Callable[[Any], None] | None]] = {
    "consent": (SQLiteConsentStore, _consent),
    "corrections": (SQLiteCorrectionStore, None),
    "sharing": (SQLiteSharingStore, None),
    "holds": (SQLiteHoldStore, _hold),
}


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("loose_umask")
@pytest.mark.parametrize("kind", sorted(STORES))
def test_a_new_store_file_is_the_owners_alone(tmp_path: Path, kind: str) -> None:
    """Fixed: a store made under the usual umask was readable by every user (0644)."""
    make, write = STORES[kind]
    path = tmp_path / f"{kind}.sqlite3"
    store = make(path)
    try:
        if write is not None:
            write(store)
        made = [p for p in tmp_path.iterdir() if p.name.startswith(path.name)]
        assert path in made
        for file in made:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    finally:
        store.close()


@pytest.mark.usefixtures("loose_umask")
def test_an_existing_file_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    SQLiteHoldStore(path).close()
    path.chmod(0o640)  # the owner shares it with a group on purpose
    SQLiteHoldStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
