from __future__ import annotations

from collections.abc import Iterator

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
    """Every test ends on the default configuration."""
    yield
    purposeful.reset_configuration()


@pytest.fixture
def sink() -> RecordingSink:
    """A recording audit sink, configured as the only sink."""
    recording = RecordingSink()
    purposeful.configure(sinks=[recording])
    return recording
