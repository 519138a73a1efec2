"""The accessibility tests' summary: the moderate and minor violations axe-core found (they
do not fail a test, but a person should look at them), listed at the end of the run.

Each test's findings travel with its report (``user_properties``), so the summary is whole
under pytest-xdist too, where the tests run in other processes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _axe import NOTED

_KEY = "accessibility: not failed"


@pytest.fixture(autouse=True)
def _report_what_was_noted(request: pytest.FixtureRequest) -> Iterator[None]:
    before = len(NOTED)
    yield
    for name, violation in NOTED[before:]:
        request.node.user_properties.append((_KEY, f"{name}: {violation.describe()}"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines: dict[str, None] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for key, value in getattr(report, "user_properties", ()):
                if key == _KEY:
                    lines[value] = None
    if not lines:
        return
    terminalreporter.section("accessibility: moderate and minor violations (not failed)")
    for line in lines:
        terminalreporter.write_line(line)
