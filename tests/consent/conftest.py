"""Fixtures for the consent stores: one of each backend, and `store` parametrised over all.

PostgreSQL: `postgres_schema` (tests/conftest.py) gives the server and a fresh schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from purposeful.consent import BaseConsentStore, MemoryConsentStore


@pytest.fixture
def memory_store() -> Iterator[MemoryConsentStore]:
    store = MemoryConsentStore()
    yield store
    store.close()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "consent.sqlite3"


@pytest.fixture
def sqlite_store(sqlite_path: Path) -> Iterator[BaseConsentStore]:
    from purposeful.consent.sqlite import SQLiteConsentStore

    store = SQLiteConsentStore(sqlite_path)
    yield store
    store.close()


@pytest.fixture
def postgres_store(postgres_schema: tuple[str, str]) -> Iterator[BaseConsentStore]:
    from purposeful.consent.postgres import PostgresConsentStore

    dsn, schema = postgres_schema
    store = PostgresConsentStore(dsn, schema=schema)
    yield store
    store.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> BaseConsentStore:
    """Each backend in turn: the same behaviour is asked of all of them."""
    found: BaseConsentStore = request.getfixturevalue(f"{request.param}_store")
    return found
