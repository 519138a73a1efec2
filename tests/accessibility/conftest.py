"""The accessibility tests' summary: the moderate and minor violations axe-core found (they
do not fail a test, but a person should look at them), listed at the end of the run."""

from __future__ import annotations

import pytest
from _axe import NOTED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not NOTED:
        return
    terminalreporter.section("accessibility: moderate and minor violations (not failed)")
    for name, violation in NOTED:
        terminalreporter.write_line(f"{name}: {violation.describe()}")
