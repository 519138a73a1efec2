"""A small NGO's case-management flow, end to end, on purposeful's embedded defaults.

Run it with ``python examples/frontline_service.py``. It shows:

1. a caseworker reading what case management may use;
2. a funder report refused, with the explanation a caseworker would see;
3. a legacy export run in monitor mode: let through, and recorded as would-deny;
4. a projection that minimises a record to what a referral partner may see;
5. the audit reports every scope produced: decisions, never values.
"""

from __future__ import annotations

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
    region: str = "Waikato"


class PrintingSink:
    """An audit sink that prints each scope's report; real deployments export spans."""

    def __init__(self) -> None:
        self.reports: list[ScopeReport] = []

    def emit(self, report: ScopeReport) -> None:
        self.reports.append(report)


class ConsentRegister:
    """A tiny consent checker: the subjects who consented to referral."""

    def __init__(self, consented: set[str]) -> None:
        self.consented = consented

    def consent_in_force(self, subject: str, purpose: purposeful.Purpose, at: object) -> bool:
        return subject in self.consented and purpose.id.startswith("service-delivery.referral")


def heading(text: str) -> None:
    print(f"\n== {text} ==")


def main() -> None:
    sink = PrintingSink()
    purposeful.configure(sinks=[sink], consent=ConsentRegister({"C-1001"}))

    aroha = Client("C-1001", "Aroha Ngata", "Ngāti Maniapoto", "generalised anxiety")
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

    heading("5. What the audit trail holds: decisions, never values")
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
