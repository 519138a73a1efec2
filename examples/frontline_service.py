"""A small NGO's case-management flow, end to end, on purposeful's embedded defaults.

Run it with ``python examples/frontline_service.py``. It shows:

1. a caseworker reading what case management may use;
2. a funder report refused, with the explanation a caseworker would see;
3. a legacy export run in monitor mode: let through, and recorded as would-deny;
4. a projection that minimises a record to what a referral partner may see;
5. consent for research given by a parent, used, withdrawn, and the next scope refused,
   with consent kept in the embedded SQLite store (a local file);
6. the audit reports every scope produced: decisions, never values.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import purposeful
from purposeful import (
    CONSENT,
    IN_CONFIDENCE,
    ORANGA_TAMARIKI_ACT_S66C,
    SENSITIVE,
    Actor,
    Mode,
    ScopeReport,
    ServiceAgreement,
)
from purposeful.consent import ConsentMethod, Relationship, Representative
from purposeful.consent.sqlite import SQLiteConsentStore

DELIVERY = ServiceAgreement("Service delivery agreement")
FUNDING = ServiceAgreement("Funding agreement")


@purposeful.record(subject="client_id")
class Client:
    """A client of Te Whare Āwhina, a community support service."""

    client_id: str
    name: str = purposeful.field(
        purposes={"service-delivery": DELIVERY, "service-delivery.referral": CONSENT},
        category="identity",
    )
    iwi: str = purposeful.field(
        purposes={"service-delivery": DELIVERY, "funder-reporting": FUNDING},
        category="ethnicity.iwi-affiliation",
    )
    diagnosis: str = purposeful.field(
        purposes={
            "service-delivery.case-management": DELIVERY,
            "care-and-protection": ORANGA_TAMARIKI_ACT_S66C,
        },
        sensitivity=SENSITIVE,
        category="health.mental-health",
    )
    wellbeing_score: int = purposeful.field(
        purposes={"service-delivery": DELIVERY, "research": CONSENT},
        category="health",
        default=0,
    )
    region: str = "Waikato"


class CollectingSink:
    """An audit sink that keeps each scope's report; real deployments export spans."""

    def __init__(self) -> None:
        self.reports: list[ScopeReport] = []

    def emit(self, report: ScopeReport) -> None:
        self.reports.append(report)


def heading(text: str) -> None:
    print(f"\n== {text} ==")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        consent = SQLiteConsentStore(Path(folder, "consent.sqlite3"))
        try:
            run(consent)
        finally:
            consent.close()
            purposeful.reset_configuration()


def run(consent: SQLiteConsentStore) -> None:
    sink = CollectingSink()
    purposeful.configure(sinks=[sink], consent=consent)
    aroha = Client("C-1001", "Aroha Ngata", "Ngāti Maniapoto", "generalised anxiety", 6)
    consent.give("C-1001", "service-delivery.referral", notice_version="referral-2026-02")
    caseworker = Actor("staff-17", "caseworker", SENSITIVE)
    reporting_job = Actor("job-funder-q3", "funder-reporting-job", IN_CONFIDENCE)

    heading("1. A caseworker reads what case management may use")
    with purposeful.use("service-delivery.case-management", actor=caseworker):
        print(f"Working with {aroha.name} ({aroha.iwi}); current focus: {aroha.diagnosis}.")
    print("In a log line the record shows no managed values:", repr(aroha))

    heading("2. The quarterly funder report asks for diagnoses")
    try:
        with purposeful.use("funder-reporting", actor=reporting_job):
            print("iwi affiliation is agreed with the funder:", aroha.iwi)
            print(aroha.diagnosis)
    except purposeful.PurposeViolation as refusal:
        print("Refused:", refusal.decision.explain())
        print("Reason codes:", ", ".join(refusal.decision.reason_codes))

    heading("3. A legacy export, run in monitor mode while the team adopts purposeful")
    purposeful.configure(record_modes={Client: Mode.MONITOR})
    legacy_row = [aroha.client_id, aroha.name, aroha.diagnosis]  # no scope: a legacy path
    print(f"The export still works ({len(legacy_row)} columns); the reads were recorded.")
    purposeful.configure(record_modes={})

    heading("4. A referral to a partner service, minimised")
    with purposeful.use("service-delivery.referral", actor=caseworker):
        referral = purposeful.project(aroha)
    print("Sent:", sorted(referral))
    for field, decision in referral.withheld.items():
        print(f"Withheld {field}: {decision.explain()}")

    heading("5. Research consent, given by a parent, then withdrawn")
    manaia = Client("C-1002", "Manaia Ngata", "Ngāti Maniapoto", "none recorded", 8)
    mother = Representative(Relationship.PARENT, authority="parent of a child under 16")
    researcher = Actor("staff-31", "researcher", IN_CONFIDENCE)
    consent.give(
        "C-1002",
        "research",
        by=mother,
        method=ConsentMethod.WRITTEN,
        notice_version="research-2026-01",
        expires_at=datetime.now(UTC) + timedelta(days=365),
    )
    with purposeful.use("research", actor=researcher):
        print("Wellbeing score for the outcomes study:", manaia.wellbeing_score)
    consent.withdraw("C-1002", "research", by=mother)
    print("The parent withdrew consent; the next research scope is refused:")
    try:
        with purposeful.use("research", actor=researcher):
            print(manaia.wellbeing_score)
    except purposeful.PurposeViolation as refusal:
        print("Refused:", refusal.decision.explain())
    print("Consent history:", [event.state.value for event in consent.history("C-1002")])

    heading("6. What the audit trail holds: decisions, never values")
    for report in sink.reports:
        purpose = report.purpose.id if report.purpose else "(no scope)"
        actor = report.actor.role if report.actor else "-"
        print(f"- {purpose} by {actor}:")
        for decision in report.decisions:
            codes = f" [{', '.join(decision.reason_codes)}]" if decision.reasons else ""
            where = f"{decision.record_type}.{decision.field}"
            print(f"    {decision.outcome.value:>10}  {where}{codes}")


if __name__ == "__main__":
    main()
