"""Capturing decisions: the plain-Python core of purposeful's test toolkit.

`capture_decisions()` collects every scope report made while it is active, from any thread,
whatever sinks the code under test configures. `expect_violation()` asserts that a refusal
happens, and marks it as expected so that strict mode and `assert_no_violations` let it be.

Neither holds a record or a value: only decisions, which never contain one.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType

from .._trail import send_windows
from ..decisions import Decision, Reason, ScopeReport
from ..errors import ConfigurationError, PurposeViolation
from ..purposes import Purpose
from ..scope import add_tap, current_scope, remove_tap

__all__ = ["DecisionCapture", "capture_decisions", "expect_violation", "format_decisions"]

_lock = threading.Lock()
_active: list[DecisionCapture] = []


class DecisionCapture:
    """The decisions made while a `capture_decisions()` block (or the pytest fixture) runs.

    Attributes:
        reports: every `ScopeReport` received, in the order sent (a long scope's parts
            one by one).
    """

    def __init__(self) -> None:
        self.reports: list[ScopeReport] = []
        self._expected: Counter[int] = Counter()

    def emit(self, report: ScopeReport) -> None:
        """Take a report (the `AuditSink` protocol)."""
        with _lock:
            self.reports.append(report)

    @property
    def decisions(self) -> list[Decision]:
        """Every decision, in order: each scope's distinct decisions, scope by scope, and
        each read outside any scope."""
        send_windows()
        return [
            decision
            for report in list(self.reports)
            for index, decision in enumerate(report.decisions)
            for _ in range(report.count_of(index))
        ]

    @property
    def violations(self) -> list[Decision]:
        """The denied and would-deny decisions that no `expect_violation` block expected."""
        expected = Counter(self._expected)
        unexpected = []
        for decision in self.decisions:
            if not decision.violation:
                continue
            if expected[id(decision)] > 0:
                expected[id(decision)] -= 1
                continue
            unexpected.append(decision)
        return unexpected

    def not_expected(self, held: Sequence[Decision]) -> list[Decision]:
        """*held*, decisions of a scope still open (it has not reported), less the refusals
        among them that an `expect_violation` block expected: the expectations the reports
        received have not used up."""
        expected = Counter(self._expected)
        for decision in self.decisions:
            if decision.violation and expected[id(decision)] > 0:
                expected[id(decision)] -= 1
        left = []
        for decision in held:
            if decision.violation and expected[id(decision)] > 0:
                expected[id(decision)] -= 1
                continue
            left.append(decision)
        return left

    def expect(self, decision: Decision) -> None:
        """Mark one occurrence of *decision* as expected."""
        with _lock:
            self._expected[id(decision)] += 1

    def assert_no_violations(self) -> None:
        """Raise `AssertionError` with a table of the violations, if there are any."""
        violations = self.violations
        if violations:
            raise AssertionError(
                f"{len(violations)} purpose violation(s):\n{format_decisions(violations)}"
            )

    def clear(self) -> None:
        with _lock:
            self.reports.clear()
            self._expected.clear()

    def __repr__(self) -> str:
        return (
            f"<DecisionCapture {len(self.reports)} scopes, {len(self.decisions)} decisions, "
            f"{len(self.violations)} violations>"
        )


def format_decisions(decisions: list[Decision]) -> str:
    """A plain-text table of decisions: outcome, purpose, record type, field and reasons."""
    header = ("outcome", "purpose", "record type", "field", "reasons")
    rows = [header] + [
        (
            d.outcome.value,
            d.purpose.id if d.purpose else "(no scope)",
            d.record_type,
            d.field,
            ", ".join(d.reason_codes) or "-",
        )
        for d in decisions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


@contextmanager
def capture_decisions() -> Iterator[DecisionCapture]:
    """Collect every scope report made inside the block, from any thread.

    Works without pytest, like structlog's ``capture_logs``::

        with capture_decisions() as captured:
            run_the_report()
        captured.assert_no_violations()

    Reports arrive when scopes close, so a scope still open when the block ends is not in it.
    """
    capture = _start()
    try:
        yield capture
    finally:
        _stop(capture)


def _start() -> DecisionCapture:
    capture = DecisionCapture()
    add_tap(capture)
    with _lock:
        _active.append(capture)
    return capture


def _stop(capture: DecisionCapture) -> None:
    send_windows()  # reads outside any scope made in the block, still in their windows
    with _lock:
        _active.remove(capture)
    remove_tap(capture)


class expect_violation:
    """Assert that the block makes a matching refusal (denied or monitor-mode would-deny).

    A matching `PurposeViolation` raised in the block is caught, like ``pytest.raises``; one
    that does not match propagates. The matching decision is marked as expected in every
    active capture, so strict mode does not fail the test because of it.

    Args:
        purpose: the purpose id the refusal was under; None matches any.
        field: the field name; None matches any.
        record_type: the record class or its qualified name; None matches any.
        reason: a `Reason` (or its code) the refusal must carry; None matches any.
        count: how many matching refusals the block makes, exactly, every one marked as
            expected (a response model validating a list goes on after the first refusal:
            one person in three without consent is a refusal each); None (the default):
            at least one, the first marked as expected.

    Attributes:
        decision: the first matching decision, once the block has run.
        decisions: every matching decision, once the block has run.

    Raises:
        AssertionError: no matching refusal happened, or not *count* of them; the message
            lists what was decided.
        ConfigurationError: *count* is not a whole number of 1 or more.
    """

    def __init__(
        self,
        *,
        purpose: Purpose | str | None = None,
        field: str | None = None,
        record_type: type | str | None = None,
        reason: Reason | str | None = None,
        count: int | None = None,
    ) -> None:
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 1
        ):
            raise ConfigurationError(
                f"expect_violation(count=) takes a whole number of 1 or more, or None, not "
                f"{count!r}"
            )
        self.count = count
        self.purpose = purpose.id if isinstance(purpose, Purpose) else purpose
        self.field = field
        self.record_type = (
            record_type.__qualname__ if isinstance(record_type, type) else record_type
        )
        try:
            self.reason = Reason(reason) if isinstance(reason, str) else reason
        except ValueError:
            codes = ", ".join(r.value for r in Reason)
            raise ConfigurationError(
                f"expect_violation(reason={reason!r}) is not a reason code; use one of: {codes}"
            ) from None
        self.decision: Decision | None = None
        self.decisions: list[Decision] = []
        self._capture: DecisionCapture | None = None
        self._scope_start = 0

    def matches(self, decision: Decision) -> bool:
        """True if *decision* is a refusal this expectation describes."""
        purpose_id = decision.purpose.id if decision.purpose is not None else None
        return (
            decision.violation
            and (self.purpose is None or purpose_id == self.purpose)
            and (self.field is None or decision.field == self.field)
            and (self.record_type is None or decision.record_type == self.record_type)
            and (self.reason is None or self.reason in decision.reasons)
        )

    def __enter__(self) -> expect_violation:
        scope = current_scope()
        self._scope_start = len(scope.decisions) if scope is not None else 0
        self._capture = _start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if self._capture is None:
            raise RuntimeError("expect_violation exited without being entered")
        _stop(self._capture)
        if exc is not None and not (
            isinstance(exc, PurposeViolation) and self.matches(exc.decision)
        ):
            return False  # an unrelated error, or a refusal this block did not expect
        # each decision made in the block once: the open scope's since the block began,
        # and the reports of the scopes that closed in it; less, in both, the refusals an
        # inner expect_violation already expected: they cannot satisfy this one too
        scope = current_scope()
        opened = scope.decisions[self._scope_start :] if scope is not None else ()
        candidates = self._capture.not_expected(opened)
        candidates.extend(self._capture.violations)
        if isinstance(exc, PurposeViolation) and not any(d is exc.decision for d in candidates):
            candidates.insert(0, exc.decision)  # decided before the block, raised again in it
        found = [d for d in candidates if self.matches(d)]
        if isinstance(exc, PurposeViolation):  # the refusal raised is `decision`
            found.sort(key=lambda d: d is not exc.decision)
        wanted = 1 if self.count is None else self.count
        if not found or (self.count is not None and len(found) != self.count):
            seen = format_decisions(candidates) if candidates else "(no decisions)"
            happened = "none" if not found else f"{len(found)}"
            raise AssertionError(
                f"expected {self._describe()}, but {happened} happened. Decided:\n{seen}"
            )
        self.decision = found[0]
        self.decisions = found
        with _lock:
            active = list(_active)
        for capture in active:
            for decision in found[:wanted]:
                capture.expect(decision)
        return isinstance(exc, PurposeViolation)

    def _describe(self) -> str:
        parts = [
            f"purpose {self.purpose!r}" if self.purpose else "",
            f"field {self.field!r}" if self.field else "",
            f"record type {self.record_type!r}" if self.record_type else "",
            f"reason {self.reason.value!r}" if self.reason else "",
        ]
        detail = ", ".join(p for p in parts if p)
        what = "a purpose violation" if self.count is None else f"{self.count} purpose violation"
        what += "s" if self.count not in (None, 1) else ""
        return f"{what} ({detail})" if detail else what
