"""Fixtures for the correction stores: one of each backend, and `store` parametrised over all.

PostgreSQL: `postgres_schema` (tests/conftest.py) gives the server and a fresh schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from purposeful.corrections import (
    BaseCorrectionStore,
    MemoryCorrectionStore,
    SQLiteCorrectionStore,
)


@pytest.fixture
def memory_store() -> Iterator[MemoryCorrectionStore]:
    store = MemoryCorrectionStore()
    yield store
    store.close()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "corrections.sqlite3"


@pytest.fixture
def sqlite_store(sqlite_path: Path) -> Iterator[SQLiteCorrectionStore]:
    store = SQLiteCorrectionStore(sqlite_path)
    yield store
    store.close()


@pytest.fixture
def postgres_store(postgres_schema: tuple[str, str]) -> Iterator[BaseCorrectionStore]:
    from purposeful.corrections.postgres import PostgresCorrectionStore

    dsn, schema = postgres_schema
    store = PostgresCorrectionStore(dsn, schema=schema)
    yield store
    store.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> BaseCorrectionStore:
    """Each backend in turn: the same behaviour is asked of all of them."""
    found: BaseCorrectionStore = request.getfixturevalue(f"{request.param}_store")
    return found
