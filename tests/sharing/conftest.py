"""Fixtures for the sharing stores: one of each backend, and `store` parametrised over all.

PostgreSQL: set PURPOSEFUL_TEST_POSTGRES_DSN (``.ci/run`` starts a server on loopback and
sets it). Without it the PostgreSQL tests skip with the reason shown, except under CI
(``CI=true``), where a missing server is a failure: CI must run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from purposeful.sharing.log import BaseSharingStore, MemorySharingStore
from purposeful.sharing.sqlite import SQLiteSharingStore

POSTGRES_DSN_VARIABLE = "PURPOSEFUL_TEST_POSTGRES_DSN"


def postgres_dsn() -> str:
    """The test server's DSN, or skip (locally) / fail (in CI) with the reason."""
    dsn = os.environ.get(POSTGRES_DSN_VARIABLE)
    if dsn:
        return dsn
    reason = f"no PostgreSQL server: set {POSTGRES_DSN_VARIABLE} (bash .ci/run starts one)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the PostgreSQL sharing-store tests, but there is {reason}")
    pytest.skip(reason)


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
def postgres_schema() -> Iterator[tuple[str, str]]:
    """A DSN and a fresh schema name, dropped afterwards, so tests never see each other."""
    dsn = postgres_dsn()
    psycopg: Any = pytest.importorskip("psycopg")
    schema = f"purposeful_test_{uuid.uuid4().hex[:12]}"
    yield dsn, schema
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


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
