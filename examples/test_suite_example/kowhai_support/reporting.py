"""The quarterly report to Kōwhai Support's funder.

The funding agreement allows counts of active clients by region and by iwi affiliation, and
nothing else: no names, no contact details, never health information. This module must not
read any field outside `quarterly_funder_report`'s purpose scope.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import attrs

import purposeful
from purposeful import IN_CONFIDENCE, Actor

from .records import Client

REPORTING_JOB = Actor("svc-funder-report", role="funder reporting job", clearance=IN_CONFIDENCE)

NO_IWI_STATED = "(not stated)"


@attrs.frozen
class QuarterlyReport:
    """What the funder receives: counts only."""

    quarter: str
    active_clients: int
    by_region: Mapping[str, int]
    by_iwi: Mapping[str, int]


def quarterly_funder_report(
    clients: Iterable[Client], quarter: str, *, actor: Actor = REPORTING_JOB
) -> QuarterlyReport:
    """Count active clients by region and by iwi affiliation, under funder reporting."""
    by_region: Counter[str] = Counter()
    by_iwi: Counter[str] = Counter()
    active = 0
    with purposeful.use("funder-reporting", actor=actor):
        for client in clients:
            if not client.active:  # a plain field
                continue
            active += 1
            by_region[client.region] += 1
            by_iwi[client.iwi.strip() or NO_IWI_STATED] += 1
    return QuarterlyReport(quarter, active, dict(by_region), dict(by_iwi))
