from __future__ import annotations

from collections.abc import Iterator

import pytest

import purposeful
from _records import RecordingSink


@pytest.fixture(autouse=True)
def _reset_purposeful() -> Iterator[None]:
    """Every test ends on the default configuration."""
    yield
    purposeful.reset_configuration()


@pytest.fixture
def sink() -> RecordingSink:
    """A recording audit sink, configured as the only sink."""
    recording = RecordingSink()
    purposeful.configure(sinks=[recording])
    return recording
