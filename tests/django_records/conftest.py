"""Django configured once for the run (`_django_settings`, shared with tests/web), the
record tests' tables, and the databases each test runs on: SQLite always, the real
PostgreSQL server when PURPOSEFUL_TEST_POSTGRES_DSN is set (`postgres_schema`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import _django_settings

_django_settings.configure()

import _family_models  # noqa: E402
from django.db import connections, transaction  # noqa: E402

MODELS = [_family_models.DjangoCase]


def _create_tables(alias: str) -> None:
    with connections[alias].schema_editor() as editor:
        for model in MODELS:
            editor.create_model(model)


@pytest.fixture(scope="session")
def sqlite_tables() -> str:
    """The in-memory SQLite database with the record tests' tables (once per process)."""
    _create_tables("default")
    return "default"


@pytest.fixture(scope="session")
def contrib_tables(sqlite_tables: str) -> str:
    """The auth, session and admin tables on the in-memory SQLite database (once)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, database=sqlite_tables)
    return sqlite_tables


@pytest.fixture
def postgres_database(postgres_schema: tuple[str, str]) -> Iterator[str]:
    """A Django database alias on the real PostgreSQL server, in a fresh schema."""
    import psycopg

    dsn, schema = postgres_schema
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    alias = f"pg_{schema}"
    settings: dict[str, Any] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": info.get("dbname", ""),
        "USER": info.get("user", ""),
        "PASSWORD": info.get("password", ""),
        "HOST": info.get("host", ""),
        "PORT": info.get("port", ""),
        "OPTIONS": {"options": f"-c search_path={schema}"},
    }
    filled = connections.configure_settings(
        {"default": {**connections.settings["default"]}, alias: settings}
    )
    connections.settings[alias] = filled[alias]
    try:
        _create_tables(alias)
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test on SQLite, and on PostgreSQL; the rows it writes are rolled back."""
    name = "sqlite_tables" if request.param == "sqlite" else "postgres_database"
    alias: str = request.getfixturevalue(name)
    with transaction.atomic(using=alias):
        yield alias
        transaction.set_rollback(True, using=alias)
