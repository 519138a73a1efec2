"""The funder report counts what the funding agreement allows, and nothing else.

Shows the `purposeful_audit` fixture, strict mode, `expect_violation`, and a hypothesis
property over generated clients: under funder reporting, no health field is ever read.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kowhai_support import REPORTING_JOB, Client, quarterly_funder_report

import purposeful
from purposeful import IN_CONFIDENCE, NZ_CLASSIFICATION, UNCLASSIFIED, Actor, Mode
from purposeful.testing import DecisionCapture, capture_decisions, expect_violation
from purposeful.testing.strategies import actors, records

REGIONS = ("Te Tai Tokerau", "Tāmaki Makaurau", "Waikato", "Te Whanganui-a-Tara", "Waitaha")
IWI = ("", "Ngāpuhi", "Ngāti Porou", "Waikato-Tainui", "Ngāi Tahu", "Te Arawa")

# Any client, with a region and an iwi the report can group by; every other field is
# generated from its type.
clients = records(Client, region=st.sampled_from(REGIONS), iwi=st.sampled_from(IWI))
# Anyone allowed to run the report: cleared to IN-CONFIDENCE or above.
reporting_actors = actors(
    roles=st.just("reporting-job"),
    clearance=st.sampled_from([level for level in NZ_CLASSIFICATION if level >= IN_CONFIDENCE]),
)


def make_client(client_id: str, region: str, iwi: str = "", *, active: bool = True) -> Client:
    return Client(
        client_id,
        name="Test Person",
        phone="021 000 0000",
        region=region,
        iwi=iwi,
        health_conditions="asthma",
        mental_health_notes="seeing a counsellor",
        active=active,
    )


def is_health(decision: purposeful.Decision) -> bool:
    return decision.category is not None and decision.category.within("health")


def test_report_counts_active_clients_by_region_and_iwi(purposeful_audit: DecisionCapture) -> None:
    report = quarterly_funder_report(
        [
            make_client("C-1", "Waikato", "Waikato-Tainui"),
            make_client("C-2", "Waikato"),
            make_client("C-3", "Waitaha", "Ngāi Tahu"),
            make_client("C-4", "Waitaha", "Ngāi Tahu", active=False),
        ],
        "2025-Q3",
    )

    assert report.active_clients == 3
    assert report.by_region == {"Waikato": 2, "Waitaha": 1}
    assert report.by_iwi == {"Waikato-Tainui": 1, "(not stated)": 1, "Ngāi Tahu": 1}
    purposeful_audit.assert_no_violations()
    assert {d.field for d in purposeful_audit.decisions} == {"region", "iwi"}


@pytest.mark.purposeful_strict
def test_report_stays_clean_in_monitor_mode() -> None:
    # In monitor mode a forbidden read would be let through; strict mode fails the test
    # on the would-deny decision all the same.
    with purposeful.configured(mode=Mode.MONITOR):
        report = quarterly_funder_report([make_client("C-1", "Waikato")], "2025-Q3")
    assert report.active_clients == 1


@pytest.mark.purposeful_strict
def test_reporting_job_is_refused_health_information() -> None:
    client = make_client("C-1", "Waikato")
    with (
        purposeful.use("funder-reporting", actor=REPORTING_JOB),
        expect_violation(field="mental_health_notes", reason="purpose-not-declared") as refusal,
    ):
        _ = client.mental_health_notes
    assert refusal.decision is not None
    assert "not for funder reporting" in refusal.decision.explain()


def test_report_needs_an_actor_cleared_to_in_confidence(purposeful_audit: DecisionCapture) -> None:
    volunteer = Actor("vol-7", role="volunteer", clearance=UNCLASSIFIED)
    with expect_violation(purpose="funder-reporting", field="region", reason="clearance-too-low"):
        quarterly_funder_report([make_client("C-1", "Waikato")], "2025-Q3", actor=volunteer)
    # An expected refusal does not count as a violation.
    assert purposeful_audit.violations == []


@pytest.mark.parametrize("mode", [Mode.ENFORCE, Mode.MONITOR])
@given(clients=st.lists(clients, max_size=20), actor=reporting_actors)
def test_funder_reporting_never_reads_health_information(
    mode: Mode, clients: list[Client], actor: Actor
) -> None:
    # Hypothesis runs the body many times per test, so capture inside it rather than with
    # the function-scoped purposeful_audit fixture.
    with purposeful.configured(mode=mode), capture_decisions() as captured:
        quarterly_funder_report(clients, "2025-Q3", actor=actor)

    assert [d for d in captured.decisions if is_health(d)] == []
    captured.assert_no_violations()


@given(clients=st.lists(clients, max_size=20))
def test_report_counts_every_active_client_once(clients: list[Client]) -> None:
    report = quarterly_funder_report(clients, "2025-Q3")
    active = sum(client.active for client in clients)  # a plain field: no scope needed
    assert report.active_clients == active
    assert sum(report.by_region.values()) == active
    assert sum(report.by_iwi.values()) == active
