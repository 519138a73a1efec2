"""Fixtures for the sharing stores: one of each backend, and `store` parametrised over all.

PostgreSQL: `postgres_schema` (tests/conftest.py) gives the server and a fresh schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from purposeful.sharing import BaseSharingStore, MemorySharingStore
from purposeful.sharing.sqlite import SQLiteSharingStore


@pytest.fixture
def memory_store() -> Iterator[MemorySharingStore]:
    store = MemorySharingStore()
    yield store
    store.close()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "sharing.sqlite3"


@pytest.fixture
def sqlite_store(sqlite_path: Path) -> Iterator[SQLiteSharingStore]:
    store = SQLiteSharingStore(sqlite_path)
    yield store
    store.close()


@pytest.fixture
def postgres_store(postgres_schema: tuple[str, str]) -> Iterator[BaseSharingStore]:
    from purposeful.sharing.postgres import PostgresSharingStore

    dsn, schema = postgres_schema
    store = PostgresSharingStore(dsn, schema=schema)
    yield store
    store.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> BaseSharingStore:
    """Each backend in turn: the same behaviour is asked of all of them."""
    found: BaseSharingStore = request.getfixturevalue(f"{request.param}_store")
    return found
