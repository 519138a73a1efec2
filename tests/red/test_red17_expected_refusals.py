"""An expect_violation block around another counts only the refusals the inner block did
not expect, in an open scope as in the scopes that closed in it; strict mode lets an
expected refusal be in a scope a fixture holds open around the test.

A consent refusal is one decision object shared by everyone whose consent answer is the
same, so a refusal counted twice (by the inner block and again by the outer) excused a
later, unexpected refusal of another person."""

from __future__ import annotations

from contextlib import suppress

import pytest

import purposeful
from _records import CASE_MANAGEMENT, CASEWORKER, Case, case
from purposeful import PurposeViolation, use
from purposeful.consent.memory import MemoryConsentStore
from purposeful.testing import capture_decisions, expect_violation

pytest_plugins = ["pytester"]


def inner_and_own_refusal(first: Case, second: Case) -> None:
    """Two refusals expected by a block of count 2: the first by an inner block too."""
    with expect_violation(field="case_notes", count=2):
        with expect_violation(field="case_notes"):
            _ = first.case_notes
        with suppress(PurposeViolation):
            _ = second.case_notes


def test_an_outer_block_does_not_count_the_refusal_an_inner_block_expected() -> None:
    records = [case(client_id=f"C-100{n}") for n in (1, 2, 3)]
    with (
        capture_decisions() as captured,
        purposeful.configured(consent=MemoryConsentStore()),
        use(CASE_MANAGEMENT, actor=CASEWORKER),
    ):
        with pytest.raises(AssertionError, match="but 1 happened"):
            inner_and_own_refusal(records[0], records[1])
        with suppress(PurposeViolation):
            _ = records[2].case_notes  # expected by no block
    # records[1]'s (its block failed: it excuses nothing) and records[2]'s
    assert len(captured.violations) == 2


def test_an_outer_block_around_only_an_inner_ones_refusal_sees_none() -> None:
    with (
        use("funder-reporting", actor=CASEWORKER),
        pytest.raises(AssertionError, match="but none happened"),
        expect_violation(field="diagnosis"),
        expect_violation(field="diagnosis"),
    ):
        _ = case().diagnosis


def test_strict_mode_lets_an_expected_refusal_in_a_held_scope_be(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from _records import CASEWORKER, case
        from purposeful import use
        from purposeful.testing import expect_violation


        @pytest.fixture
        def held():
            with use("funder-reporting", actor=CASEWORKER):
                yield


        @pytest.mark.purposeful_strict
        def test_expected(held):
            with expect_violation(field="diagnosis"):
                _ = case().diagnosis


        @pytest.mark.purposeful_strict
        def test_unexpected_still_fails(held):
            with expect_violation(field="diagnosis"):
                _ = case().diagnosis
            try:
                _ = case().case_notes
            except Exception:
                pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
