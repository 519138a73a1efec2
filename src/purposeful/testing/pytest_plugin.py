"""The pytest plugin: prove in CI that no code path uses data for an undeclared purpose.

Registered through the ``pytest11`` entry point. It does nothing until asked:

- the ``purposeful_audit`` fixture captures every decision made during a test, and restores
  the global configuration afterwards;
- strict mode (the ``purposeful_strict`` marker, or ``purposeful_strict = true`` in the ini
  file) fails a test on any violation, including a caught `PurposeViolation` and a
  monitor-mode would-deny, unless an `expect_violation` block expected it;
  ``@pytest.mark.purposeful_strict(False)`` turns it off for one test (or a module's or a
  class's, with ``pytestmark``) where the ini file turns it on;
- ``--purposeful-coverage`` prints, at the end of the session, which managed fields were
  read under which purposes and which declared purposes were never exercised. It works
  under pytest-xdist: workers send their counts to the controller.

The plugin only adds taps to the audit path; it never changes the global configuration.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from .._config import configured, declared_records
from .._guard import add_context_driver
from .._hierarchy import covers
from ..decisions import Outcome, ScopeReport
from ..errors import ConfigurationError
from ..records import record_policy
from ..scope import add_tap, current_scope, remove_tap
from ._capture import DecisionCapture, _start, _stop, format_decisions

STRICT_MARKER = "purposeful_strict"
_COVERAGE_KEY = "purposeful_coverage"
_coverage_key = pytest.StashKey["PurposeCoverage"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("purposeful", "purposeful: purpose limitation in tests")
    group.addoption(
        "--purposeful-coverage",
        action="store_true",
        default=False,
        help="report which managed fields were read under which purposes",
    )
    parser.addini(
        "purposeful_strict",
        type="bool",
        default=False,
        help="fail every test that makes a purpose violation, caught or monitored",
    )


def _register_fixture_driver() -> None:
    """A generator fixture that opens a scope holds it open for the test (pytest drives the
    generator as a context manager), not only for its own code."""
    from _pytest import fixtures

    driver = getattr(fixtures, "call_fixture_func", None)
    if driver is not None:
        add_context_driver(driver.__code__)


_register_fixture_driver()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{STRICT_MARKER}(on=True): fail this test on any purpose violation, including a "
        f"caught PurposeViolation and a monitor-mode would-deny; {STRICT_MARKER}(False) "
        f"turns the ini file's purposeful_strict off for it",
    )
    if config.getoption("purposeful_coverage"):
        coverage = PurposeCoverage()
        config.stash[_coverage_key] = coverage
        add_tap(coverage)


def pytest_unconfigure(config: pytest.Config) -> None:
    coverage = config.stash.get(_coverage_key, None)
    if coverage is not None:
        remove_tap(coverage)


@pytest.fixture
def purposeful_audit() -> Iterator[DecisionCapture]:
    """Every decision made during the test; `.violations`, `.assert_no_violations()`.

    The global configuration is restored after the test, whatever the test configured.
    """
    with configured():
        capture = _start()
        try:
            yield capture
        finally:
            _stop(capture)


def _strict(item: pytest.Item) -> bool:
    """Whether *item* runs in strict mode: its closest marker says, else the ini file.

    Raises:
        ConfigurationError: a marker with anything but one True or False (or nothing).
    """
    marker = item.get_closest_marker(STRICT_MARKER)
    if marker is None:
        return bool(item.config.getini("purposeful_strict"))
    given = [*marker.args, *marker.kwargs.values()]
    if set(marker.kwargs) - {"on"} or len(given) > 1 or any(type(g) is not bool for g in given):
        raise ConfigurationError(
            f"@pytest.mark.{STRICT_MARKER} takes True or False (or nothing, for True), "
            f"not {marker.args!r} {marker.kwargs!r}"
        )
    return given[0] if given else True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    if not _strict(item):
        return (yield)
    capture = _start()
    held = current_scope()  # a scope a fixture holds open reports only when it closes
    held_from = len(held.decisions) if held is not None else 0
    try:
        result = yield
    finally:
        _stop(capture)
    violations = capture.violations
    if held is not None and not held.closed:
        held_since = capture.not_expected(held.decisions[held_from:])
        violations += [d for d in held_since if d.violation]
    if violations:
        pytest.fail(
            f"purposeful strict mode: {len(violations)} purpose violation(s) in this test "
            f"(caught or monitored ones count too; wrap intended ones in expect_violation):\n"
            f"{format_decisions(violations)}",
            pytrace=False,
        )
    return result


class PurposeCoverage:
    """An audit tap counting decisions by record type, field, purpose and outcome."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str, str]] = Counter()
        self.declared: dict[str, list[str]] = {}

    def emit(self, report: ScopeReport) -> None:
        for decision in report.decisions:
            purpose = decision.purpose.id if decision.purpose else "(no scope)"
            self.counts[
                (decision.record_type, decision.field, purpose, decision.outcome.value)
            ] += 1

    def collect_declarations(self) -> None:
        """Note the declared purposes of every module-level record class alive now."""
        for cls in declared_records():
            if "<locals>" in cls.__qualname__:
                continue
            for name, field in record_policy(cls).fields.items():
                key = f"{record_policy(cls).name}.{name}"
                self.declared[key] = sorted(set(self.declared.get(key, [])) | set(field.purposes))

    def to_json(self) -> str:
        return json.dumps(
            {"counts": [[*k, n] for k, n in self.counts.items()], "declared": self.declared}
        )

    def merge_json(self, data: str) -> None:
        loaded = json.loads(data)
        for record_type, field, purpose, outcome, n in loaded["counts"]:
            self.counts[(record_type, field, purpose, outcome)] += n
        for key, purposes in loaded["declared"].items():
            self.declared[key] = sorted(set(self.declared.get(key, [])) | set(purposes))

    def lines(self) -> list[str]:
        """The report, as lines of text. Counts and names only, never values."""
        uses: dict[str, Counter[tuple[str, str]]] = {}
        for (record_type, field, purpose, outcome), n in self.counts.items():
            uses.setdefault(f"{record_type}.{field}", Counter())[(purpose, outcome)] += n
        rows: list[tuple[str, str, str, str, str]] = []
        exercised_total = 0
        declared_total = 0
        unexercised: set[str] = set()
        exercised_purposes: set[str] = set()
        refusals = {Outcome.DENIED.value, Outcome.WOULD_DENY.value}
        for key in sorted(set(self.declared) | set(uses)):
            counts = uses.get(key, Counter())
            declared = self.declared.get(key, [])
            # each read counts toward the nearest declared purpose that covers it: the one
            # its basis came from
            by_declared: dict[str, Counter[str]] = {d: Counter() for d in declared}
            for (p, o), n in counts.items():
                nearest = max((d for d in declared if covers(d, p)), key=len, default=None)
                if nearest is not None:
                    by_declared[nearest][o] += n
            for purpose in declared:
                allowed = by_declared[purpose][Outcome.ALLOWED.value]
                refused = sum(by_declared[purpose][o] for o in refusals)
                declared_total += 1
                if allowed:
                    exercised_total += 1
                    exercised_purposes.add(purpose)
                else:
                    unexercised.add(purpose)
                note = "" if allowed else "never exercised"
                rows.append((key, purpose, str(allowed), str(refused), note))
            for (purpose, outcome), n in sorted(counts.items()):
                if outcome not in refusals or any(covers(d, purpose) for d in declared):
                    continue
                rows.append((key, purpose, "0", str(n), f"undeclared ({outcome})"))
        header = ("field", "purpose", "allowed", "refused", "")
        table = [header, *rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        out = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table
        ]
        never = sorted(unexercised - exercised_purposes)
        out.append("")
        out.append(f"{exercised_total} of {declared_total} declared field uses exercised.")
        out.append("Declared purposes never exercised by any read: " + (", ".join(never) or "none"))
        return out


def pytest_sessionfinish(session: pytest.Session) -> None:
    coverage = session.config.stash.get(_coverage_key, None)
    if coverage is None:
        return
    coverage.collect_declarations()
    workeroutput: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_COVERAGE_KEY] = coverage.to_json()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Under pytest-xdist, merge a worker's coverage into the controller's."""
    coverage = node.config.stash.get(_coverage_key, None)
    data = getattr(node, "workeroutput", {}).get(_COVERAGE_KEY)
    if coverage is not None and data:
        coverage.merge_json(data)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    coverage = config.stash.get(_coverage_key, None)
    if coverage is None or hasattr(config, "workerinput"):
        return
    terminalreporter.write_sep("=", "purposeful: purpose coverage")
    for line in coverage.lines():
        terminalreporter.write_line(line)
