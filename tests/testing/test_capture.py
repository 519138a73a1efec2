"""`capture_decisions` and `expect_violation`: the plain-Python core of the test toolkit."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from contextlib import suppress

import pytest

import purposeful
from _records import (
    ADMINISTRATOR,
    CASE_MANAGEMENT,
    CASEWORKER,
    FUNDER_JOB,
    Case,
    Contact,
    DictCase,
    RecordingSink,
    case,
)
from purposeful import Mode, NoPurposeScope, Outcome, PurposeViolation, Reason, use
from purposeful.consent.memory import MemoryConsentStore
from purposeful.errors import ConfigurationError
from purposeful.testing import (
    DecisionCapture,
    capture_decisions,
    expect_violation,
    format_decisions,
)

# The values `case()` puts in a record's fields and subject: none may reach a message.
VALUES = ("C-1001", "generalised anxiety", "12 Cuba Street", "met at home")


def refused_diagnosis_read(record: object, actor: purposeful.Actor = CASEWORKER) -> None:
    """Read Case.diagnosis under funder reporting (not declared) and swallow the refusal."""
    with use("funder-reporting", actor=actor), suppress(PurposeViolation):
        _ = record.diagnosis


# --- capture_decisions -------------------------------------------------------------------


def test_capture_collects_allowed_and_refused_decisions_in_order() -> None:
    client = case()
    with capture_decisions() as captured:
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = client.address
        refused_diagnosis_read(client)

    assert isinstance(captured, DecisionCapture)
    assert len(captured.reports) == 2
    assert [(d.field, d.outcome) for d in captured.decisions] == [
        ("address", Outcome.ALLOWED),
        ("diagnosis", Outcome.DENIED),
    ]
    assert [d.purpose.id for d in captured.decisions if d.purpose] == [
        CASE_MANAGEMENT,
        "funder-reporting",
    ]


def test_capture_ignores_decisions_made_before_and_after_the_block() -> None:
    client = case()
    refused_diagnosis_read(client)
    with capture_decisions() as captured:
        pass
    refused_diagnosis_read(client)

    assert captured.reports == []
    assert captured.decisions == []
    assert captured.violations == []


def test_capture_misses_a_scope_still_open_when_the_block_ends() -> None:
    client = case()
    with use(CASE_MANAGEMENT, actor=CASEWORKER):
        with capture_decisions() as captured:
            _ = client.address
        assert captured.decisions == []


def test_capture_stops_listening_when_the_block_raises() -> None:
    client = case()
    with pytest.raises(RuntimeError, match="boom"), capture_decisions() as captured:
        raise RuntimeError("boom")
    refused_diagnosis_read(client)

    assert captured.decisions == []


def test_capture_sees_decisions_even_when_the_code_configures_its_own_sinks() -> None:
    client = case()
    own_sink = RecordingSink()
    with capture_decisions() as captured:
        purposeful.configure(sinks=[own_sink])
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = client.diagnosis
        purposeful.configure(sinks=[])

    assert [d.field for d in captured.decisions] == ["diagnosis"]
    assert [d.field for d in own_sink.decisions] == ["diagnosis"]


def test_capture_collects_decisions_made_on_other_threads() -> None:
    client = case()

    def work() -> None:
        refused_diagnosis_read(client)

    with capture_decisions() as captured:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(captured.reports) == 4
    assert len(captured.violations) == 4


def test_nested_captures_both_receive_the_inner_decisions() -> None:
    client = case()
    with capture_decisions() as outer:
        refused_diagnosis_read(client)
        with capture_decisions() as inner:
            refused_diagnosis_read(client)

    assert len(inner.decisions) == 1
    assert len(outer.decisions) == 2


def test_capture_records_an_unscoped_read_refused_in_enforce_mode() -> None:
    client = case()
    with capture_decisions() as captured, pytest.raises(NoPurposeScope):
        _ = client.diagnosis

    [decision] = captured.violations
    assert decision.purpose is None
    assert decision.outcome is Outcome.DENIED
    assert decision.reasons == (Reason.NO_SCOPE,)


def test_violations_include_monitor_mode_would_denies_and_exclude_allowed_reads() -> None:
    client = case()
    purposeful.configure(mode=Mode.MONITOR)
    with capture_decisions() as captured:
        with use("funder-reporting", actor=CASEWORKER):
            assert client.diagnosis == "generalised anxiety"
            _ = client.address
        _ = client.case_notes  # outside any scope: monitored too

    assert len(captured.decisions) == 3
    assert [(d.field, d.outcome) for d in captured.violations] == [
        ("diagnosis", Outcome.WOULD_DENY),
        ("case_notes", Outcome.WOULD_DENY),
    ]


def test_assert_no_violations_passes_when_every_read_was_allowed() -> None:
    client = case()
    with capture_decisions() as captured, use(CASE_MANAGEMENT, actor=CASEWORKER):
        _ = client.diagnosis
        _ = client.address

    captured.assert_no_violations()
    assert len(captured.decisions) == 2


def test_assert_no_violations_passes_when_nothing_was_decided() -> None:
    with capture_decisions() as captured:
        pass
    captured.assert_no_violations()


def test_assert_no_violations_failure_is_a_table_of_names_and_never_values() -> None:
    client = case()
    with capture_decisions() as captured:
        refused_diagnosis_read(client, actor=FUNDER_JOB)
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = client.address

    with pytest.raises(AssertionError) as info:
        captured.assert_no_violations()

    message = str(info.value)
    lines = message.splitlines()
    assert lines[0] == "1 purpose violation(s):"
    assert lines[1].split() == ["outcome", "purpose", "record", "type", "field", "reasons"]
    assert set(lines[2]) <= {"-", " "}
    assert lines[3].split() == [
        "denied",
        "funder-reporting",
        "Case",
        "diagnosis",
        "purpose-not-declared,",
        "clearance-too-low",
    ]
    assert len(lines) == 4  # the allowed read is not listed
    for value in VALUES:
        assert value not in message


def test_format_decisions_aligns_columns_and_marks_unscoped_and_reasonless_rows() -> None:
    client = case()
    purposeful.configure(mode=Mode.MONITOR)
    with capture_decisions() as captured:
        _ = client.diagnosis
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = client.address

    table = format_decisions(captured.decisions)
    header, rule, unscoped, allowed = table.splitlines()
    assert header.startswith("outcome     purpose")
    assert re.split(r"\s{2,}", unscoped) == [
        "would-deny",
        "(no scope)",
        "Case",
        "diagnosis",
        "no-scope",
    ]
    assert allowed.split() == ["allowed", CASE_MANAGEMENT, "Case", "address", "-"]
    # Each column starts at the same offset on every line.
    for title in ("purpose", "record type", "field", "reasons"):
        column = header.index(title)
        assert rule[column - 2 : column] == "  "
        assert rule[column] == "-"
    assert allowed.index(CASE_MANAGEMENT) == header.index("purpose")
    assert unscoped.index("no-scope") == header.index("reasons")


def test_clear_forgets_reports_and_expectations() -> None:
    client = case()
    with capture_decisions() as captured:
        with expect_violation(field="diagnosis"):
            refused_diagnosis_read(client)
        captured.clear()
        refused_diagnosis_read(client)

    assert len(captured.reports) == 1
    assert len(captured.violations) == 1


def test_capture_repr_counts_scopes_decisions_and_violations() -> None:
    client = case()
    with capture_decisions() as captured:
        refused_diagnosis_read(client)
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = client.address

    assert repr(captured) == "<DecisionCapture 2 scopes, 2 decisions, 1 violations>"


def test_capture_decisions_works_without_pytest_or_hypothesis_installed() -> None:
    script = """
import sys
sys.modules["pytest"] = None
sys.modules["hypothesis"] = None
import purposeful
from purposeful.testing import capture_decisions

@purposeful.record(subject="client_id")
class Client:
    client_id: str
    address: str = purposeful.field(
        purposes={"service-delivery": purposeful.ServiceAgreement("Service delivery agreement")}
    )

worker = purposeful.Actor("staff-1", "caseworker", purposeful.SENSITIVE)
with capture_decisions() as captured:
    with purposeful.use("funder-reporting", actor=worker):
        try:
            Client("C-1", "1 Main Street").address
        except purposeful.PurposeViolation:
            pass
try:
    captured.assert_no_violations()
except AssertionError as error:
    print(error)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert "1 purpose violation(s):" in result.stdout
    assert "funder-reporting" in result.stdout
    assert "1 Main Street" not in result.stdout


# --- expect_violation --------------------------------------------------------------------


def test_expect_violation_catches_a_matching_refusal_like_pytest_raises() -> None:
    client = case()
    reached = []
    with use("funder-reporting", actor=CASEWORKER):
        with expect_violation(purpose="funder-reporting", field="diagnosis") as expected:
            _ = client.diagnosis
            reached.append(True)
        _ = client.address  # the scope is still usable

    assert reached == []
    assert expected.decision is not None
    assert expected.decision.field == "diagnosis"
    assert expected.decision.outcome is Outcome.DENIED


def test_expect_violation_lets_a_refusal_of_another_field_propagate() -> None:
    client = case()
    with (
        use(CASE_MANAGEMENT, actor=ADMINISTRATOR),
        pytest.raises(PurposeViolation) as info,
        expect_violation(field="address"),
    ):
        _ = client.diagnosis

    assert info.value.decision.field == "diagnosis"


def test_expect_violation_lets_a_refusal_under_another_purpose_propagate() -> None:
    client = case()
    with (
        use("funder-reporting", actor=CASEWORKER),
        pytest.raises(PurposeViolation),
        expect_violation(purpose="research", field="diagnosis"),
    ):
        _ = client.diagnosis


def test_expect_violation_lets_other_exceptions_propagate_unchanged() -> None:
    with pytest.raises(KeyError, match="unrelated"), expect_violation():
        raise KeyError("unrelated")


def test_expect_violation_fails_when_nothing_was_refused() -> None:
    client = case()
    with (
        use(CASE_MANAGEMENT, actor=CASEWORKER),
        pytest.raises(AssertionError) as info,
        expect_violation(purpose=CASE_MANAGEMENT, field="diagnosis"),
    ):
        _ = client.diagnosis

    message = str(info.value)
    assert message.startswith(
        f"expected a purpose violation (purpose {CASE_MANAGEMENT!r}, field 'diagnosis'), "
        f"but none happened."
    )
    assert "allowed" in message  # what was decided instead is listed
    assert "generalised anxiety" not in message


def test_expect_violation_fails_with_no_decisions_at_all() -> None:
    with (
        pytest.raises(AssertionError, match=r"expected a purpose violation, but none happened"),
        expect_violation(),
    ):
        pass


def test_expect_violation_fails_when_the_refusal_does_not_match_in_monitor_mode() -> None:
    client = case()
    purposeful.configure(mode=Mode.MONITOR)
    with (
        use("funder-reporting", actor=CASEWORKER),
        pytest.raises(AssertionError, match="field 'address'"),
        expect_violation(field="address"),
    ):
        _ = client.diagnosis


def test_expect_violation_matches_a_would_deny_in_the_current_scope() -> None:
    client = case()
    purposeful.configure(mode=Mode.MONITOR)
    with (
        use("funder-reporting", actor=CASEWORKER),
        expect_violation(purpose="funder-reporting", field="diagnosis") as expected,
    ):
        value = client.diagnosis

    assert value == "generalised anxiety"  # monitor mode hands the value back
    assert expected.decision is not None
    assert expected.decision.outcome is Outcome.WOULD_DENY


def test_expect_violation_matches_a_would_deny_in_a_scope_opened_within_the_block() -> None:
    client = case()
    purposeful.configure(mode=Mode.MONITOR)
    with (
        expect_violation(purpose="funder-reporting", field="diagnosis") as expected,
        use("funder-reporting", actor=CASEWORKER),
    ):
        _ = client.diagnosis

    assert expected.decision is not None
    assert expected.decision.outcome is Outcome.WOULD_DENY


def test_expect_violation_matches_a_refusal_caught_in_a_scope_opened_within_the_block() -> None:
    client = case()
    with expect_violation(field="diagnosis") as expected:
        refused_diagnosis_read(client)

    assert expected.decision is not None
    assert expected.decision.outcome is Outcome.DENIED


def test_expect_violation_ignores_a_would_deny_made_before_the_block() -> None:
    client = case()
    purposeful.configure(mode=Mode.MONITOR)
    with use("funder-reporting", actor=CASEWORKER):
        _ = client.diagnosis
        with pytest.raises(AssertionError), expect_violation(field="diagnosis"):
            _ = client.address


def test_expect_violation_matches_an_unscoped_read() -> None:
    client = case()
    with expect_violation(reason="no-scope") as expected:
        _ = client.diagnosis

    assert expected.decision is not None
    assert expected.decision.purpose is None


@pytest.mark.parametrize("record_type", [Case, "Case"])
def test_expect_violation_matches_the_record_type_by_class_or_name(
    record_type: type | str,
) -> None:
    client = case()
    with expect_violation(record_type=record_type) as expected:
        refused_diagnosis_read(client)

    assert expected.decision is not None
    assert expected.decision.record_type == "Case"


def test_expect_violation_lets_a_refusal_of_another_record_type_propagate() -> None:
    client = case(DictCase)
    with (
        pytest.raises(PurposeViolation),
        use("funder-reporting", actor=CASEWORKER),
        expect_violation(record_type=Case),
    ):
        _ = client.diagnosis


@pytest.mark.parametrize("reason", [Reason.CLEARANCE_TOO_LOW, "clearance-too-low"])
def test_expect_violation_matches_a_reason_by_enum_or_code(reason: Reason | str) -> None:
    client = case()
    with use(CASE_MANAGEMENT, actor=ADMINISTRATOR), expect_violation(reason=reason) as expected:
        _ = client.diagnosis

    assert expected.decision is not None
    assert Reason.CLEARANCE_TOO_LOW in expected.decision.reasons


def test_expect_violation_lets_a_refusal_for_another_reason_propagate() -> None:
    client = case()
    with (
        use(CASE_MANAGEMENT, actor=ADMINISTRATOR),
        pytest.raises(PurposeViolation),
        expect_violation(reason=Reason.PURPOSE_NOT_DECLARED),
    ):
        _ = client.diagnosis


def test_expect_violation_does_not_swallow_a_non_matching_refusal_after_a_matching_one() -> None:
    # Case is monitored, DictCase enforced: the block makes a matching would-deny on Case,
    # then a DictCase refusal it does not describe. That refusal must still propagate.
    client, other = case(Case), case(DictCase)
    purposeful.configure(record_modes={Case: Mode.MONITOR})
    reached = []

    def read_both() -> None:
        _ = client.diagnosis
        _ = other.diagnosis
        reached.append(True)

    with (
        use("funder-reporting", actor=CASEWORKER),
        pytest.raises(PurposeViolation) as info,
        expect_violation(record_type=Case),
    ):
        read_both()

    assert reached == []
    assert info.value.decision.record_type == "DictCase"


def test_expected_refusal_is_not_a_violation_of_the_enclosing_capture() -> None:
    client = case()
    with capture_decisions() as captured:
        with expect_violation(field="diagnosis"):
            refused_diagnosis_read(client)
        with use(CASE_MANAGEMENT, actor=CASEWORKER):
            _ = client.address

    assert len(captured.decisions) == 2
    assert captured.violations == []
    captured.assert_no_violations()


def test_expected_refusal_in_the_current_scope_is_not_a_violation_once_it_closes() -> None:
    client = case()
    with (
        capture_decisions() as captured,
        use("funder-reporting", actor=CASEWORKER),
        expect_violation(field="diagnosis"),
    ):
        _ = client.diagnosis

    assert [d.outcome for d in captured.decisions] == [Outcome.DENIED]
    assert captured.violations == []


def test_only_the_expected_refusal_is_excused_not_a_similar_unexpected_one() -> None:
    client = case()
    with capture_decisions() as captured:
        with expect_violation(field="diagnosis"):
            refused_diagnosis_read(client)
        refused_diagnosis_read(client)  # same field, another scope: not expected

    assert len(captured.violations) == 1
    with pytest.raises(AssertionError, match=r"^1 purpose violation\(s\)"):
        captured.assert_no_violations()


def test_expect_violation_excuses_the_refusal_in_every_active_capture() -> None:
    contact = Contact("C-1", "021 000 000", "a@example.org")
    with (
        capture_decisions() as outer,
        capture_decisions() as inner,
        expect_violation(field="phone"),
        use("funder-reporting", actor=CASEWORKER),
    ):
        _ = contact.phone

    assert len(outer.decisions) == len(inner.decisions) == 1
    assert outer.violations == inner.violations == []


def test_expect_violation_exited_without_being_entered_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="without being entered"):
        expect_violation().__exit__(None, None, None)


# --- expect_violation(count=) -------------------------------------------------------------


def test_count_expects_every_refusal_of_a_list_each_person_without_consent_one() -> None:
    """A response model validating a list reads on after the first refusal: one refusal
    per person without consent, all in one scope, each expected by one block."""
    store = MemoryConsentStore()
    store.give("C-1001", CASE_MANAGEMENT)
    records = [case(client_id=f"C-100{n}") for n in (1, 2, 3)]
    with (
        capture_decisions() as captured,
        purposeful.configured(consent=store),
        use(CASE_MANAGEMENT, actor=CASEWORKER),
        expect_violation(field="case_notes", reason="consent-not-held", count=2) as refusals,
    ):
        for record in records:
            with suppress(PurposeViolation):
                _ = record.case_notes
    assert len(refusals.decisions) == 2
    assert refusals.decision is refusals.decisions[0]
    assert [d.outcome for d in captured.decisions].count(Outcome.DENIED) == 2
    assert captured.violations == []
    captured.assert_no_violations()


def test_count_expects_refusals_in_scopes_that_closed_in_the_block() -> None:
    records = [case(client_id=f"C-100{n}") for n in (1, 2, 3)]
    with capture_decisions() as captured, expect_violation(field="diagnosis", count=3) as refusals:
        for record in records:
            refused_diagnosis_read(record)
    assert len(refusals.decisions) == 3
    assert captured.violations == []


@pytest.mark.parametrize(("count", "happened"), [(2, "3"), (4, "3")])
def test_count_is_exact_and_the_message_says_how_many_happened(count: int, happened: str) -> None:
    records = [case(client_id=f"C-100{n}") for n in (1, 2, 3)]

    def three_refusals() -> None:
        with expect_violation(field="diagnosis", count=count):
            for record in records:
                refused_diagnosis_read(record)

    with capture_decisions() as captured, pytest.raises(AssertionError) as raised:
        three_refusals()
    message = str(raised.value)
    assert message.startswith(
        f"expected {count} purpose violations (field 'diagnosis'), but {happened} happened"
    )
    assert not any(value in message for value in VALUES)
    assert len(captured.violations) == 3  # a failed expectation excuses nothing


@pytest.mark.parametrize("count", [0, -1, True, 1.5, "2"])
def test_count_must_be_a_whole_number_of_one_or_more(count: object) -> None:
    with pytest.raises(ConfigurationError, match=r"expect_violation\(count=\) takes a whole"):
        expect_violation(count=count)  # type: ignore[arg-type]


def test_a_raised_refusal_is_the_decision_even_after_a_caught_one() -> None:
    client = case()
    contact = Contact("C-1", "021 000 000", "a@example.org")
    with (
        use("funder-reporting", actor=CASEWORKER),
        expect_violation(purpose="funder-reporting") as refusal,
    ):
        with suppress(PurposeViolation):
            _ = client.diagnosis
        _ = contact.phone
    assert refusal.decision is not None
    assert refusal.decision.field == "phone"
    assert [d.field for d in refusal.decisions] == ["phone", "diagnosis"]
