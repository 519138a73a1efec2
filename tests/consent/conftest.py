"""Fixtures for the consent stores: one of each backend, and `store` parametrised over all.

PostgreSQL: `postgres_schema` (tests/conftest.py) gives the server and a fresh schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from purposeful.consent import BaseConsentStore, MemoryConsentStore

#: The fixtures' stores take events dated up to two centuries ahead: these tests record
#: histories made up over the years to 2040, not as they happen. (A store's own refusal of
#: an event dated ahead, `future_skew`, is tested with stores made in the test.)
FAR_AHEAD = timedelta(days=365 * 200)


@pytest.fixture
def memory_store() -> Iterator[MemoryConsentStore]:
    store = MemoryConsentStore(future_skew=FAR_AHEAD)
    yield store
    store.close()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "consent.sqlite3"


@pytest.fixture
def sqlite_store(sqlite_path: Path) -> Iterator[BaseConsentStore]:
    from purposeful.consent.sqlite import SQLiteConsentStore

    store = SQLiteConsentStore(sqlite_path, future_skew=FAR_AHEAD)
    yield store
    store.close()


@pytest.fixture
def postgres_store(postgres_schema: tuple[str, str]) -> Iterator[BaseConsentStore]:
    from purposeful.consent.postgres import PostgresConsentStore

    dsn, schema = postgres_schema
    store = PostgresConsentStore(dsn, schema=schema, future_skew=FAR_AHEAD)
    yield store
    store.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> BaseConsentStore:
    """Each backend in turn: the same behaviour is asked of all of them."""
    found: BaseConsentStore = request.getfixturevalue(f"{request.param}_store")
    return found
