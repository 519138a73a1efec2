"""Fixtures shared by the red-team tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def postgres_engine(postgres_schema: tuple[str, str]) -> Iterator[Any]:
    """A SQLAlchemy engine on a fresh PostgreSQL schema, as the docs advise making one
    (``hide_parameters=True``); skipped without a server (`postgres_schema`)."""
    sqlalchemy: Any = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    dsn, schema = postgres_schema
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sqlalchemy.create_engine(
        url, hide_parameters=True, connect_args={"options": f"-c search_path={schema}"}
    )
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield engine
    finally:
        engine.dispose()
