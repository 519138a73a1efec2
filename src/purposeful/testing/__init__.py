"""Test helpers that ship with purposeful, for proving "no purpose violations".

- `capture_decisions()`: collect every decision made in a block, without pytest;
- `expect_violation(...)`: assert a refusal happens (and mark it as expected);
- the pytest plugin (`purposeful.testing.pytest_plugin`, loaded automatically): the
  ``purposeful_audit`` fixture, strict mode and the purpose-coverage report;
- `purposeful.testing.strategies`: hypothesis strategies for records, purposes and actors.

Nothing here imports pytest or hypothesis, except the two modules that need them.
"""

from ._capture import DecisionCapture, capture_decisions, expect_violation, format_decisions

__all__ = ["DecisionCapture", "capture_decisions", "expect_violation", "format_decisions"]
