"""Engines for the SQLAlchemy record tests: SQLite always, the real PostgreSQL server when
PURPOSEFUL_TEST_POSTGRES_DSN names one (CI starts it; locally those tests skip)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

sqlalchemy = pytest.importorskip("sqlalchemy")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An engine on an empty database (a fresh PostgreSQL schema), disposed afterwards."""
    if request.param == "sqlite":
        made = sqlalchemy.create_engine("sqlite://")
    else:
        dsn, schema = request.getfixturevalue("postgres_schema")
        psycopg: Any = pytest.importorskip("psycopg")
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')

        def connect() -> Any:
            return psycopg.connect(dsn, options=f"-c search_path={schema}")

        made = sqlalchemy.create_engine("postgresql+psycopg://", creator=connect)
    yield made
    made.dispose()


class StatementLog:
    """The SQL statements an engine ran, for asserting what was (not) fetched."""

    def __init__(self, engine: Any) -> None:
        self.statements: list[str] = []
        sqlalchemy.event.listen(engine, "before_cursor_execute", self._note)

    def _note(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def clear(self) -> None:
        self.statements.clear()


@pytest.fixture
def statements(engine: Any) -> StatementLog:
    return StatementLog(engine)
