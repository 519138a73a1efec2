from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

import purposeful
from _records import RecordingSink

# CI shares a 2-core machine: judge properties by what they find, not by how long one
# example took on a busy core (hypothesis's default deadline is 200 ms per example).
settings.register_profile("purposeful", deadline=None)
settings.load_profile("purposeful")


@pytest.fixture(autouse=True)
def _reset_purposeful() -> Iterator[None]:
    """Every test ends on the default configuration, with nothing left unsent."""
    yield
    purposeful.audit.flush()
    purposeful.reset_configuration()


@pytest.fixture
def sink() -> RecordingSink:
    """A recording audit sink, configured as the only sink."""
    recording = RecordingSink()
    purposeful.configure(sinks=[recording])
    return recording


POSTGRES_DSN_VARIABLE = "PURPOSEFUL_TEST_POSTGRES_DSN"


@pytest.fixture
def postgres_schema() -> Iterator[tuple[str, str]]:
    """A PostgreSQL DSN and a fresh schema name, dropped afterwards, so tests never see each
    other. The server comes from PURPOSEFUL_TEST_POSTGRES_DSN (``.ci/run`` starts one on
    loopback and sets it); without it the test skips with the reason, except under CI
    (``CI=true``), where a missing server is a failure: CI must run the PostgreSQL tests."""
    dsn = os.environ.get(POSTGRES_DSN_VARIABLE)
    if not dsn:
        reason = f"no PostgreSQL server: set {POSTGRES_DSN_VARIABLE} (bash .ci/run starts one)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the PostgreSQL store tests, but there is {reason}")
        pytest.skip(reason)
    psycopg: Any = pytest.importorskip("psycopg")
    schema = f"purposeful_test_{uuid.uuid4().hex[:12]}"
    yield dsn, schema
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
