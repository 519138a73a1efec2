"""Red-team findings against the guard: the compiled one and the Python one it stands for.

Each test states the behaviour the docs promise: a finding that was fixed, or what held.
"""

from __future__ import annotations

from typing import Any

import pytest

import purposeful
from _records import CASE_MANAGEMENT, FUNDER_JOB, FUNDING_AGREEMENT, SERVICE_AGREEMENT
from purposeful import SENSITIVE, _guard


@purposeful.record(subject="client_id")
class BreakGuardCase:
    client_id: str
    diagnosis: str = purposeful.field(
        purposes={CASE_MANAGEMENT: SERVICE_AGREEMENT}, sensitivity=SENSITIVE, category="health"
    )
    address: str = purposeful.field(
        purposes={"service-delivery": SERVICE_AGREEMENT, "funder-reporting": FUNDING_AGREEMENT},
        category="contact",
    )


def _python_getter(compiled: bool) -> Any:
    """The getter of BreakGuardCase.diagnosis, installed as the Python one or the compiled one."""
    policy = BreakGuardCase.__purposeful_record__.fields["diagnosis"]  # type: ignore[attr-defined]
    _guard.install_getter(BreakGuardCase, policy, compiled=compiled)
    return BreakGuardCase.__dict__["diagnosis"].fget


def _keyword_calls(record: BreakGuardCase) -> dict[str, dict[str, Any]]:
    """Keyword arguments a caller can pass to a guard's fget: the Python getter's defaults
    are its own state (the hot path's state, the policy, the slow path, the sentinel)."""
    lenient = BreakGuardCase.__purposeful_record__.fields["address"]  # type: ignore[attr-defined]
    return {
        "_read_it": {"_slow": lambda policy, obj: None, "_read_it": None},
        "_policy": {"_policy": lenient},
        "_fast": {
            "_fast": lambda: ({lenient}, record, frozenset()),
            "_policy": lenient,
        },
    }


_KINDS = [
    pytest.param(False, id="python"),
    pytest.param(
        True,
        id="compiled",
        marks=pytest.mark.skipif(not _guard.COMPILED, reason="the compiled guard is not in use"),
    ),
]


@pytest.mark.parametrize("compiled", _KINDS)
@pytest.mark.parametrize("how", ["_read_it", "_policy", "_fast"])
def test_a_guard_called_directly_with_keywords_still_decides(compiled: bool, how: str) -> None:
    """``type(record).__dict__[field].fget(record, ...)`` is a read like any other: it is
    refused where ``record.field`` is, whatever else is passed."""
    getter = _python_getter(compiled)
    record = BreakGuardCase("C-BRK-1", "secret diagnosis", "1 Road")
    try:
        with purposeful.use("funder-reporting", actor=FUNDER_JOB):
            with pytest.raises(purposeful.PurposeViolation):
                _ = record.diagnosis
            _ = record.address  # allowed: the record is the last one read
            try:
                value = getter(record, **_keyword_calls(record)[how])
            except (purposeful.PurposeViolation, TypeError):
                return
    finally:
        _python_getter(_guard.COMPILED)
    pytest.fail(f"a refused field read undecided through fget: {value!r}")
