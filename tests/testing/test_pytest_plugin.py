"""The pytest plugin: the ``purposeful_audit`` fixture, strict mode and purpose coverage.

Each test writes a small project with `pytester` and runs pytest on it: in-process where it
can, in a subprocess for the coverage report (it must see only this project's records) and
for pytest-xdist.
"""

from __future__ import annotations

import re

import pytest

import purposeful
from purposeful._trail import _taps

pytest_plugins = ["pytester"]

RECORDS = """
import purposeful
from purposeful import SENSITIVE, Actor, ServiceAgreement

SERVICE = ServiceAgreement("Service delivery agreement")
FUNDING = ServiceAgreement("Funding agreement")
CASEWORKER = Actor("staff-0042", "caseworker", SENSITIVE)


@purposeful.record(subject="client_id")
class Person:
    client_id: str
    diagnosis: str = purposeful.field(
        purposes={"service-delivery.case-management": SERVICE}, sensitivity=SENSITIVE
    )
    address: str = purposeful.field(
        purposes={"service-delivery": SERVICE, "funder-reporting": FUNDING}
    )


def client():
    return Person("C-1", "generalised anxiety", "12 Cuba Street")


def read_address(purpose="service-delivery.case-management"):
    with purposeful.use(purpose, actor=CASEWORKER):
        return client().address


def read_diagnosis(purpose="service-delivery.case-management"):
    with purposeful.use(purpose, actor=CASEWORKER):
        return client().diagnosis


def refused_read():
    "Read the diagnosis for funder reporting, where it is not declared; catch the refusal."
    try:
        read_diagnosis("funder-reporting")
    except purposeful.PurposeViolation:
        return True
    return False
"""

#: Options for every run: no cache directory, and no hypothesis plugin (it imports hypothesis
#: afresh in each in-process run, which is slow and irrelevant here).
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")

CAUGHT_VIOLATION = """
from plugin_records import refused_read

def test_caught():
    assert refused_read()
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester directory holding the ``plugin_records`` module."""
    pytester.makepyfile(plugin_records=RECORDS)
    return pytester


# --- the plugin is inactive unless asked -------------------------------------------------


def test_plain_test_with_a_caught_violation_passes_without_marker_or_ini(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run is in-process: the outer session may have taps of its own (coverage, say).
    monkeypatch.setenv("OUTER_TAPS", str(len(_taps)))
    project.makepyfile(
        """
        import os

        from purposeful._trail import _taps
        from plugin_records import refused_read

        def test_caught():
            assert refused_read()
            assert len(_taps) == int(os.environ["OUTER_TAPS"])  # the plugin added none
        """
    )
    result = project.runpytest(*QUIET)

    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*purpose coverage*")


def test_plugin_leaves_the_global_configuration_and_audit_path_as_it_found_them(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        import purposeful
        import pytest
        from plugin_records import refused_read

        def test_configures(purposeful_audit):
            purposeful.configure(mode=purposeful.Mode.MONITOR)
            assert not refused_read()

        @pytest.mark.purposeful_strict
        def test_strict():
            assert refused_read()
        """
    )
    before, taps_before = purposeful.get_configuration(), list(_taps)

    result = project.runpytest(*QUIET, "--purposeful-coverage")

    result.assert_outcomes(passed=1, failed=1)
    assert purposeful.get_configuration() is before
    assert _taps == taps_before


# --- the purposeful_audit fixture --------------------------------------------------------


def test_audit_fixture_exposes_the_decisions_and_violations_of_the_test(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        from purposeful import Outcome
        from purposeful.testing import expect_violation
        from plugin_records import read_address, read_diagnosis, refused_read

        def test_audit(purposeful_audit):
            read_address()
            read_diagnosis()
            assert refused_read()
            with expect_violation(field="diagnosis"):
                refused_read()

            outcomes = [(d.field, d.outcome) for d in purposeful_audit.decisions]
            assert outcomes == [
                ("address", Outcome.ALLOWED),
                ("diagnosis", Outcome.ALLOWED),
                ("diagnosis", Outcome.DENIED),
                ("diagnosis", Outcome.DENIED),
            ]
            [violation] = purposeful_audit.violations
            assert violation is purposeful_audit.decisions[2]

        def test_fresh_capture_per_test(purposeful_audit):
            assert purposeful_audit.decisions == []
        """
    )
    result = project.runpytest(*QUIET)

    result.assert_outcomes(passed=2)


def test_assert_no_violations_passes_when_the_test_only_made_allowed_or_expected_reads(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        from purposeful.testing import expect_violation
        from plugin_records import read_address, read_diagnosis, refused_read

        def test_clean(purposeful_audit):
            read_address()
            read_diagnosis()
            with expect_violation(purpose="funder-reporting", field="diagnosis"):
                refused_read()
            purposeful_audit.assert_no_violations()
        """
    )
    result = project.runpytest(*QUIET)

    result.assert_outcomes(passed=1)


def test_assert_no_violations_failure_shows_a_table_of_names_and_never_the_values(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        import pathlib
        import uuid

        import purposeful
        from plugin_records import CASEWORKER, Person

        def test_leaky(purposeful_audit):
            value = "v" + uuid.uuid4().hex
            pathlib.Path("generated_value.txt").write_text(value)
            client = Person("C-" + value, diagnosis=value, address=value)
            with purposeful.use("funder-reporting", actor=CASEWORKER):
                try:
                    client.diagnosis
                except purposeful.PurposeViolation:
                    pass
                client.address
            purposeful_audit.assert_no_violations()
        """
    )
    result = project.runpytest(*QUIET)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * 1 purpose violation(s):",
            "E * outcome  purpose           record type  field      reasons",
            "E * -------  ----------------  -----------  ---------  --------------------",
            "E * denied   funder-reporting  Person       diagnosis  purpose-not-declared",
        ]
    )
    result.stdout.no_fnmatch_line("*address*purpose-not-declared*")
    generated = (project.path / "generated_value.txt").read_text()
    assert generated not in result.stdout.str()
    assert generated not in result.stderr.str()


def test_audit_fixture_restores_whatever_the_test_configured_even_when_it_fails(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        import purposeful

        DEFAULT = purposeful.get_configuration()

        class Sink:
            def emit(self, report):
                pass

        def test_1_configures_and_passes(purposeful_audit):
            purposeful.configure(mode=purposeful.Mode.MONITOR, sinks=[Sink()])

        def test_2_sees_the_default(purposeful_audit):
            assert purposeful.get_configuration() == DEFAULT
            purposeful.configure(mode=purposeful.Mode.MONITOR)
            raise RuntimeError("the test fails after configuring")

        def test_3_sees_the_default():
            config = purposeful.get_configuration()
            assert config is DEFAULT
            assert config.mode is purposeful.Mode.ENFORCE
            assert config.sinks == ()
        """
    )
    result = project.runpytest(*QUIET)

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*RuntimeError: the test fails after configuring"])


# --- strict mode -------------------------------------------------------------------------

STRICT_TESTS = """
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import purposeful
from purposeful.testing import expect_violation
from plugin_records import client, read_address, read_diagnosis, refused_read

def test_caught_violation():
    assert refused_read()

def test_monitored_would_deny():
    with purposeful.configured(mode=purposeful.Mode.MONITOR):
        assert read_diagnosis("funder-reporting") == "generalised anxiety"

def test_monitored_read_outside_any_scope():
    with purposeful.configured(mode=purposeful.Mode.MONITOR):
        assert client().diagnosis == "generalised anxiety"

@settings(max_examples=5, database=None)
@given(st.integers(0, 10))
@example(7)
def test_refusal_in_one_hypothesis_example(n):
    if n == 7:
        refused_read()

def test_expected_violation():
    with expect_violation(purpose="funder-reporting", field="diagnosis"):
        refused_read()

def test_allowed_reads_only():
    read_address()
    read_diagnosis()

@pytest.fixture
def refusal_in_setup():
    assert refused_read()

def test_refusal_in_fixture_setup_is_not_the_tests(refusal_in_setup):
    read_address()
"""

#: The tests of STRICT_TESTS that strict mode fails.
STRICT_FAILURES = {
    "test_caught_violation",
    "test_monitored_would_deny",
    "test_monitored_read_outside_any_scope",
    "test_refusal_in_one_hypothesis_example",
}


def failed_tests(result: pytest.RunResult) -> set[str]:
    """The names of the tests that failed in an in-process run."""
    _, _, failed = result.reprec.listoutcomes()  # type: ignore[attr-defined]
    return {report.nodeid.rpartition("::")[2] for report in failed}


def test_strict_marker_fails_a_test_with_a_caught_monitored_or_unscoped_violation(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(STRICT_TESTS + "\npytestmark = pytest.mark.purposeful_strict\n")
    result = project.runpytest(*QUIET, "--strict-markers")

    result.assert_outcomes(passed=3, failed=4)
    assert failed_tests(result) == STRICT_FAILURES
    result.stdout.fnmatch_lines(
        [
            "*_ test_caught_violation _*",
            "purposeful strict mode: 1 purpose violation(s) in this test (caught or monitored*",
            "outcome  purpose           record type  field      reasons",
            "denied   funder-reporting  Person       diagnosis  purpose-not-declared",
            "*_ test_monitored_would_deny _*",
            "purposeful strict mode: 1 purpose violation(s) in this test*",
            "would-deny  funder-reporting  Person       diagnosis  purpose-not-declared",
            "*_ test_monitored_read_outside_any_scope _*",
            "would-deny  (no scope)  Person       diagnosis  no-scope",
        ]
    )
    result.stdout.no_fnmatch_line("*generalised anxiety*")


def test_strict_marker_applies_only_to_the_marked_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import pytest
        from plugin_records import refused_read

        @pytest.mark.purposeful_strict
        def test_strict():
            assert refused_read()

        def test_not_strict():
            assert refused_read()
        """
    )
    result = project.runpytest(*QUIET, "--strict-markers")

    result.assert_outcomes(passed=1, failed=1)
    assert failed_tests(result) == {"test_strict"}


def test_strict_mode_reports_the_tests_own_failure_unchanged(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import pytest
        from plugin_records import refused_read

        @pytest.mark.purposeful_strict
        def test_fails_on_its_own():
            refused_read()
            assert 1 == 2, "own failure"
        """
    )
    result = project.runpytest(*QUIET)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: own failure*"])


def test_strict_ini_option_fails_every_test_with_an_unexpected_violation(
    project: pytest.Pytester,
) -> None:
    project.makeini("[pytest]\npurposeful_strict = true\n")
    project.makepyfile(STRICT_TESTS)
    result = project.runpytest(*QUIET, "--strict-config")

    result.assert_outcomes(passed=3, failed=4)
    assert failed_tests(result) == STRICT_FAILURES


def test_a_false_marker_turns_the_ini_strict_mode_off_for_a_test_a_class_or_a_module(
    project: pytest.Pytester,
) -> None:
    project.makeini("[pytest]\npurposeful_strict = true\n")
    project.makepyfile(
        test_one="""
        import pytest
        from plugin_records import refused_read

        @pytest.mark.purposeful_strict(False)
        def test_lenient():
            assert refused_read()

        @pytest.mark.purposeful_strict(on=False)
        def test_lenient_by_name():
            assert refused_read()

        def test_strict_by_the_ini():
            assert refused_read()

        @pytest.mark.purposeful_strict(False)
        class TestLenient:
            def test_in_class(self):
                assert refused_read()

            @pytest.mark.purposeful_strict(True)
            def test_strict_again(self):
                assert refused_read()
        """,
        test_two="""
        import pytest
        from plugin_records import refused_read

        pytestmark = pytest.mark.purposeful_strict(False)

        def test_lenient_module():
            assert refused_read()
        """,
    )
    result = project.runpytest(*QUIET, "--strict-config", "--strict-markers")

    result.assert_outcomes(passed=4, failed=2)
    assert failed_tests(result) == {"test_strict_by_the_ini", "test_strict_again"}


@pytest.mark.parametrize("arguments", ["'yes'", "1", "True, False", "strict=True"])
def test_a_strict_marker_with_anything_but_a_bool_is_a_configuration_error(
    project: pytest.Pytester, arguments: str
) -> None:
    project.makepyfile(
        f"""
        import pytest
        from plugin_records import refused_read

        @pytest.mark.purposeful_strict({arguments})
        def test_marked():
            assert refused_read()
        """
    )
    result = project.runpytest(*QUIET)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*ConfigurationError: @pytest.mark.purposeful_strict takes True or False*"]
    )


def test_strict_ini_option_can_be_set_on_the_command_line(project: pytest.Pytester) -> None:
    project.makepyfile(CAUGHT_VIOLATION)

    strict = project.runpytest(*QUIET, "-o", "purposeful_strict=true")
    lenient = project.runpytest(*QUIET, "-o", "purposeful_strict=false")

    strict.assert_outcomes(failed=1)
    strict.stdout.fnmatch_lines(["purposeful strict mode: 1 purpose violation(s)*"])
    lenient.assert_outcomes(passed=1)


def test_strict_mode_counts_violations_alongside_the_audit_fixture(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        import pytest
        from plugin_records import refused_read

        @pytest.mark.purposeful_strict
        def test_both(purposeful_audit):
            assert refused_read()
            assert refused_read()
            assert len(purposeful_audit.violations) == 2
        """
    )
    result = project.runpytest(*QUIET)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["purposeful strict mode: 2 purpose violation(s) in this test*"])


# --- purpose coverage --------------------------------------------------------------------

COVERAGE_TESTS = """
import purposeful
from plugin_records import CASEWORKER, SERVICE, client, read_address, read_diagnosis, refused_read


@purposeful.record(subject="client_id")
class Plan:
    client_id: str
    goals: str = purposeful.field(
        purposes={"service-delivery": SERVICE, "service-delivery.case-management": SERVICE}
    )


def test_reads_address_under_a_child_purpose():
    read_address("service-delivery.case-management")

def test_reads_address_for_eligibility():
    read_address("service-delivery.eligibility-assessment")

def test_reads_diagnosis():
    read_diagnosis()

def test_refused():
    assert refused_read()

def test_reads_goals_under_the_narrower_declared_purpose():
    with purposeful.use("service-delivery.case-management", actor=CASEWORKER):
        assert Plan("C-1", "walk daily").goals == "walk daily"

def test_projection_withholds_the_diagnosis():
    projection = purposeful.project(client(), "service-delivery.referral", actor=CASEWORKER)
    assert set(projection.withheld) == {"diagnosis"}
"""


def coverage_report(result: pytest.RunResult) -> list[str]:
    """The lines of the purpose-coverage section, from its header to its last line."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "purposeful: purpose coverage" in line)
    end = next(
        i
        for i, line in enumerate(lines)
        if i > start and line.startswith("Declared purposes never exercised")
    )
    return lines[start + 1 : end + 1]


def test_coverage_report_counts_decisions_per_field_under_the_nearest_declared_purpose(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_coverage=COVERAGE_TESTS)
    result = project.runpytest_subprocess(*QUIET, "--purposeful-coverage")

    result.assert_outcomes(passed=6)
    assert coverage_report(result) == [
        "field             purpose                           allowed  refused",
        "Person.address    funder-reporting                  0        0        never exercised",
        # case management, eligibility assessment and the referral projection
        "Person.address    service-delivery                  3        0",
        "Person.diagnosis  service-delivery.case-management  1        0",
        # the refused read; the diagnosis the projection withheld is not counted
        "Person.diagnosis  funder-reporting                  0        1        undeclared (denied)",
        # a case-management read counts for the narrower declared purpose only
        "Plan.goals        service-delivery                  0        0        never exercised",
        "Plan.goals        service-delivery.case-management  1        0",
        "",
        "3 of 5 declared field uses exercised.",
        "Declared purposes never exercised by any read: funder-reporting",
    ]
    output = result.stdout.str()
    assert "generalised anxiety" not in output
    assert "12 Cuba Street" not in output
    assert "walk daily" not in output


def test_coverage_report_is_off_unless_asked_for(project: pytest.Pytester) -> None:
    project.makepyfile(test_coverage=COVERAGE_TESTS)
    result = project.runpytest(*QUIET)

    result.assert_outcomes(passed=6)
    result.stdout.no_fnmatch_line("*purpose coverage*")
    result.stdout.no_fnmatch_line("*never exercised*")


# --- pytest-xdist ------------------------------------------------------------------------


def test_under_xdist_coverage_is_merged_and_strict_mode_and_isolation_hold(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_left="""
        import purposeful
        from plugin_records import read_address

        DEFAULT = purposeful.get_configuration()

        def test_configures(purposeful_audit):
            purposeful.configure(mode=purposeful.Mode.MONITOR)
            read_address()

        def test_sees_the_default():
            assert purposeful.get_configuration() is DEFAULT
            read_address()

        def test_reads_address_again():
            read_address()
        """,
        test_right="""
        import pytest
        from plugin_records import read_diagnosis, refused_read

        def test_reads_diagnosis():
            read_diagnosis()

        def test_caught_without_strict():
            assert refused_read()

        @pytest.mark.purposeful_strict
        def test_caught_with_strict():
            assert refused_read()
        """,
    )
    result = project.runpytest_subprocess(
        *QUIET,
        "-n",
        "2",
        "--dist",
        "loadfile",
        "-v",
        "--purposeful-coverage",
    )

    result.assert_outcomes(passed=5, failed=1)
    runs = re.findall(
        r"^\[(gw\d)\].* (PASSED|FAILED) (test_\w+)\.py::(\w+)", result.stdout.str(), re.M
    )
    workers = {file: worker for worker, _, file, _ in runs}
    assert workers.keys() == {"test_left", "test_right"}
    assert workers["test_left"] != workers["test_right"]  # so the counts come from both
    assert [test for _, outcome, _, test in runs if outcome == "FAILED"] == [
        "test_caught_with_strict"
    ]
    result.stdout.fnmatch_lines(["purposeful strict mode: 1 purpose violation(s) in this test*"])
    assert coverage_report(result) == [
        "field             purpose                           allowed  refused",
        "Person.address    funder-reporting                  0        0        never exercised",
        "Person.address    service-delivery                  3        0",
        "Person.diagnosis  service-delivery.case-management  1        0",
        "Person.diagnosis  funder-reporting                  0        2        undeclared (denied)",
        "",
        "2 of 3 declared field uses exercised.",
        "Declared purposes never exercised by any read: funder-reporting",
    ]


def test_strict_mode_sees_violations_in_a_scope_a_fixture_holds_open(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        import pytest
        import purposeful
        from plugin_records import CASEWORKER, client

        @pytest.fixture(autouse=True)
        def funder_scope():
            with purposeful.use("funder-reporting", actor=CASEWORKER):
                yield

        @pytest.mark.purposeful_strict
        def test_swallowed_refusal():
            try:
                client().diagnosis
            except purposeful.PurposeViolation:
                pass

        @pytest.mark.purposeful_strict
        def test_allowed_read_only():
            assert client().address == "12 Cuba Street"
        """
    )
    result = project.runpytest(*QUIET)

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_swallowed_refusal*", "*denied*funder-reporting*"])
